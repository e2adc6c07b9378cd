//! Next-item metrics by name, as users of other libraries write them: `ndcg@k`, `recall@k`,
//! `hit@k` and `mrr`.
//!
//! With one held-out target per user the names of RecBole, RecTools and ir-measures meet:
//!
//! | seqrec | RecBole | value for a target at 1-based rank `r` |
//! | --- | --- | --- |
//! | `recall@k` | `recall@k`, `hit@k` | 1 if `r ≤ k`, else 0 |
//! | `hit@k` (alias of `recall@k`) | `hit@k` | the same |
//! | `ndcg@k` | `ndcg@k` | `1 / log2(r + 1)` if `r ≤ k`, else 0 |
//! | `mrr` | `mrr@k` with `k` the catalogue size | `1 / r` (no cutoff) |
//!
//! A target that was not ranked (rank 0) scores 0 on every metric.

use std::fmt;
use std::str::FromStr;

use crate::{EvalError, ndcg_at_k, recall_at_k, reciprocal_rank};

/// What a [`NextItemMetric`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NextItemMeasure {
    /// NDCG@k with one relevant item.
    Ndcg,
    /// Recall@k: whether the target is in the top k.
    Recall,
    /// Hit@k, RecBole's name for Recall@k with one target: the same value.
    Hit,
    /// Reciprocal rank (no cutoff).
    Mrr,
}

/// A next-item metric with its cutoff, parsed from `ndcg@10`, `recall@20`, `hit@5`, `mrr`
/// (any case; spaces around the parts allowed).
///
/// ```
/// use seqrec_eval::NextItemMetric;
///
/// let hit: NextItemMetric = "HIT@10".parse().unwrap();
/// assert_eq!(hit.to_string(), "hit@10");
/// assert_eq!(hit.value(3), 1.0);
/// assert_eq!(hit.value(11), 0.0);
/// let ndcg: NextItemMetric = "ndcg@10".parse().unwrap();
/// assert!((ndcg.value(3) - 0.5).abs() < 1e-12);
/// assert!("mrr@10".parse::<NextItemMetric>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NextItemMetric {
    /// What is measured.
    pub measure: NextItemMeasure,
    /// The cutoff; `None` for [`NextItemMeasure::Mrr`].
    pub k: Option<usize>,
}

impl NextItemMetric {
    /// The four metrics `seqrec evaluate` prints by default: `ndcg@10`, `recall@10`,
    /// `recall@1`, `mrr`.
    pub fn defaults() -> Vec<Self> {
        ["ndcg@10", "recall@10", "recall@1", "mrr"]
            .into_iter()
            .map(|name| name.parse().expect("a valid metric name"))
            .collect()
    }

    /// The metric's value for a target at 1-based rank `rank` (0: not ranked).
    pub fn value(&self, rank: usize) -> f64 {
        let k = self.k.unwrap_or(0);
        match self.measure {
            NextItemMeasure::Ndcg => ndcg_at_k(rank, k),
            NextItemMeasure::Recall | NextItemMeasure::Hit => recall_at_k(rank, k),
            NextItemMeasure::Mrr => reciprocal_rank(rank),
        }
    }

    /// The mean value over `ranks` (0.0 for none).
    pub fn mean(&self, ranks: &[usize]) -> f64 {
        if ranks.is_empty() {
            return 0.0;
        }
        ranks.iter().map(|&r| self.value(r)).sum::<f64>() / ranks.len() as f64
    }
}

impl fmt::Display for NextItemMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.measure {
            NextItemMeasure::Ndcg => "ndcg",
            NextItemMeasure::Recall => "recall",
            NextItemMeasure::Hit => "hit",
            NextItemMeasure::Mrr => "mrr",
        };
        match self.k {
            Some(k) => write!(f, "{name}@{k}"),
            None => f.write_str(name),
        }
    }
}

impl FromStr for NextItemMetric {
    type Err = EvalError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: String| EvalError::InvalidParameter {
            name: "metric",
            reason,
        };
        let lower = text.trim().to_ascii_lowercase();
        let (name, k) = match lower.split_once('@') {
            Some((name, k)) => (name.trim(), Some(k.trim())),
            None => (lower.as_str(), None),
        };
        let measure = match name {
            "ndcg" => NextItemMeasure::Ndcg,
            "recall" | "hr" => NextItemMeasure::Recall,
            "hit" => NextItemMeasure::Hit,
            "mrr" => NextItemMeasure::Mrr,
            _ => {
                return Err(invalid(format!(
                    "unknown metric {text:?}: expected ndcg@K, recall@K, hit@K or mrr"
                )));
            }
        };
        let k = match (measure, k) {
            (NextItemMeasure::Mrr, None) => None,
            (NextItemMeasure::Mrr, Some(_)) => {
                return Err(invalid(format!(
                    "{text:?}: mrr has no cutoff (it ranks the whole catalogue); write mrr"
                )));
            }
            (_, None) => {
                return Err(invalid(format!("{text:?} needs a cutoff, e.g. {name}@10")));
            }
            (_, Some(k)) => match k.parse::<usize>() {
                Ok(0) => return Err(EvalError::ZeroCutoff),
                Ok(k) => Some(k),
                Err(_) => {
                    return Err(invalid(format!(
                        "{text:?}: the cutoff {k:?} is not a positive integer"
                    )));
                }
            },
        };
        Ok(Self { measure, k })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_back() {
        for (text, printed) in [
            ("ndcg@10", "ndcg@10"),
            (" NDCG @ 20 ", "ndcg@20"),
            ("recall@1", "recall@1"),
            ("hr@5", "recall@5"),
            ("hit@50", "hit@50"),
            ("MRR", "mrr"),
        ] {
            assert_eq!(text.parse::<NextItemMetric>().unwrap().to_string(), printed);
        }
        for bad in ["mrr@10", "ndcg", "recall@0", "hit@x", "map@10", ""] {
            assert!(bad.parse::<NextItemMetric>().is_err(), "{bad}");
        }
        assert_eq!(
            "recall@0".parse::<NextItemMetric>().unwrap_err(),
            EvalError::ZeroCutoff
        );
    }

    #[test]
    fn values_by_hand() {
        let m = |s: &str| s.parse::<NextItemMetric>().unwrap();
        // Ranks 1, 2, 10, 11 and an unranked target.
        let ranks = [1, 2, 10, 11, 0];
        let ndcg10 = (1.0 + 1.0 / 3f64.log2() + 1.0 / 11f64.log2()) / 5.0;
        assert!((m("ndcg@10").mean(&ranks) - ndcg10).abs() < 1e-12);
        assert_eq!(m("recall@10").mean(&ranks), 0.6);
        assert_eq!(m("hit@10").mean(&ranks), 0.6);
        assert_eq!(m("hit@1").mean(&ranks), 0.2);
        let mrr = (1.0 + 0.5 + 0.1 + 1.0 / 11.0) / 5.0;
        assert!((m("mrr").mean(&ranks) - mrr).abs() < 1e-12);
        assert_eq!(m("mrr").mean(&[]), 0.0);
    }

    #[test]
    fn defaults_are_the_four_printed_metrics() {
        let names: Vec<String> = NextItemMetric::defaults()
            .iter()
            .map(|m| m.to_string())
            .collect();
        assert_eq!(names, ["ndcg@10", "recall@10", "recall@1", "mrr"]);
    }
}
