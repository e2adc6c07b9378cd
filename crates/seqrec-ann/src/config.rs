//! The index settings.

use serde::{Deserialize, Serialize};

use crate::error::AnnError;

/// How the maximum-inner-product search (MIPS) is put to the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnMetric {
    /// The library's inner-product distance, `1 - q · x`, on the vectors as they are: a
    /// non-metric graph (ip-NSW, Morozov and Babenko, 2018), which on recommender-shaped data
    /// recalls far more at a given `expansion_search` than the reduction below
    /// (docs/scale-ann.md).
    #[default]
    InnerProduct,
    /// The standard MIPS-to-nearest-neighbour reduction (Bachrach et al., 2014): every item
    /// `x` becomes `[x, sqrt(R² - |x|²)]` with `R` the largest item norm, every query `q`
    /// becomes `[q, 0]`, and the index searches squared Euclidean distance, for which
    /// `|q' - x'|² = |q|² + R² - 2 q · x`: the nearest items are exactly those of the largest
    /// inner product. One more dimension per vector. Exact in principle, but the queries lie
    /// far from every item, where greedy graph search does poorly: measured at 100 000
    /// clustered items, recall@10 0.38 against 0.96 for [`AnnMetric::InnerProduct`].
    Augmented,
}

/// How the index stores the vectors it compares (its copy, not the caller's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnScalar {
    /// 32-bit floats: 4 bytes per value.
    #[default]
    F32,
    /// IEEE half floats: 2 bytes per value, about three significant digits. Candidates are
    /// rescored exactly by the caller, so this only moves which items are candidates.
    F16,
    /// bfloat16: 2 bytes per value, the range of `f32` with about two significant digits.
    Bf16,
}

/// The settings of an [`AnnIndex`](crate::AnnIndex): the HNSW graph (`M`,
/// `ef_construction`, `ef_search` in the paper's names) and how it stores vectors.
///
/// The defaults (`M` 16, `ef_construction` 128, `ef_search` 128, inner product, `f32`) are
/// the usual starting point; `docs/scale-ann.md` has recall and speed at 1 M and 10 M items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnnConfig {
    /// `M`: the links each node keeps per upper layer (twice as many on the bottom layer).
    /// More links: better recall, more memory (`8 · M` bytes per item on the bottom layer),
    /// slower build. Default 16.
    pub connectivity: usize,
    /// `ef_construction`: the candidate list while inserting. Larger builds a better graph,
    /// more slowly. Default 128.
    pub expansion_add: usize,
    /// `ef_search`: the candidate list while searching (the library uses at least the number
    /// of results asked for). Larger: better recall, slower queries. Can be changed on a
    /// built or loaded index. Default 128 (recall@10 0.96 at a million clustered items,
    /// docs/scale-ann.md).
    pub expansion_search: usize,
    /// How inner product is searched. Default [`AnnMetric::InnerProduct`].
    pub metric: AnnMetric,
    /// How the index stores its vectors. Default [`AnnScalar::F32`].
    pub scalar: AnnScalar,
    /// Threads that build the index and search batches of queries; 0 takes every core
    /// (`std::thread::available_parallelism`). Default 0.
    pub threads: usize,
}

impl Default for AnnConfig {
    fn default() -> Self {
        Self {
            connectivity: 16,
            expansion_add: 128,
            expansion_search: 128,
            metric: AnnMetric::default(),
            scalar: AnnScalar::default(),
            threads: 0,
        }
    }
}

impl AnnConfig {
    /// Settings under which the graph search visits every node it can reach with a candidate
    /// list of `items` (for tiny tables in tests: the result is the exact top-k).
    pub fn exhaustive(items: usize) -> Self {
        let ef = items.max(1);
        Self {
            connectivity: items.clamp(2, 64),
            expansion_add: ef,
            expansion_search: ef,
            ..Self::default()
        }
    }

    /// The same settings with another `expansion_search`.
    pub fn with_expansion_search(mut self, expansion_search: usize) -> Self {
        self.expansion_search = expansion_search;
        self
    }

    /// Refuses settings the library cannot use: a connectivity below 2, a zero expansion.
    pub fn validate(&self) -> Result<(), AnnError> {
        if self.connectivity < 2 {
            return Err(AnnError::Invalid(format!(
                "connectivity (M) must be at least 2, not {}",
                self.connectivity
            )));
        }
        for (name, value) in [
            ("expansion_add", self.expansion_add),
            ("expansion_search", self.expansion_search),
        ] {
            if value == 0 {
                return Err(AnnError::Invalid(format!("{name} must be at least 1")));
            }
        }
        Ok(())
    }

    /// The threads to use: `threads`, or every core for 0.
    pub fn resolved_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, usize::from)
        }
    }
}
