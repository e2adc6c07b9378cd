//! Cohorts of users by history length (the paper's Table 2).
//!
//! Edges `e0 < e1 < … < em` define the half-open-on-the-left bins
//! `(e0, e1], (e1, e2], …, (em-1, em]` and the open-ended `> em`. The default
//! edges `[0, 50, 100, 150]` give the paper's `(0, 50]`, `(50, 100]`,
//! `(100, 150]` and `>150`. A length `<= e0` (with the default: a user without
//! history) belongs to no cohort.

use serde::{Deserialize, Serialize};

use crate::EvalError;

/// Validated cohort edges.
///
/// ```
/// use seqrec_eval::Cohorts;
///
/// let c = Cohorts::default();
/// assert_eq!(c.labels(), vec!["(0, 50]", "(50, 100]", "(100, 150]", ">150"]);
/// assert_eq!(c.assign(50), Some(0));
/// assert_eq!(c.assign(51), Some(1));
/// assert_eq!(c.assign(151), Some(3));
/// assert_eq!(c.assign(0), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u64>", into = "Vec<u64>")]
pub struct Cohorts {
    edges: Vec<u64>,
}

impl Default for Cohorts {
    fn default() -> Self {
        Self {
            edges: vec![0, 50, 100, 150],
        }
    }
}

impl TryFrom<Vec<u64>> for Cohorts {
    type Error = EvalError;

    /// Validates the edges as [`Cohorts::new`] (also used when deserializing).
    fn try_from(edges: Vec<u64>) -> Result<Self, EvalError> {
        Self::new(&edges)
    }
}

impl From<Cohorts> for Vec<u64> {
    fn from(c: Cohorts) -> Self {
        c.edges
    }
}

impl Cohorts {
    /// Cohorts from strictly increasing edges (at least one).
    ///
    /// Errors: [`EvalError::InvalidParameter`] for empty or non-increasing edges.
    pub fn new(edges: &[u64]) -> Result<Self, EvalError> {
        if edges.is_empty() {
            return Err(EvalError::InvalidParameter {
                name: "cohort_edges",
                reason: "at least one edge is required".into(),
            });
        }
        if edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(EvalError::InvalidParameter {
                name: "cohort_edges",
                reason: format!("edges must be strictly increasing, got {edges:?}"),
            });
        }
        Ok(Self {
            edges: edges.to_vec(),
        })
    }

    /// The edges.
    pub fn edges(&self) -> &[u64] {
        &self.edges
    }

    /// Number of cohorts (`edges.len()`).
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Always `false`: there is at least the open-ended cohort.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Index of the cohort of a user with `history_len` plays, or `None` if
    /// `history_len <= edges[0]`.
    pub fn assign(&self, history_len: u64) -> Option<usize> {
        if history_len <= self.edges[0] {
            return None;
        }
        // Number of edges strictly below the length, minus the first one.
        Some(self.edges.partition_point(|&e| e < history_len) - 1)
    }

    /// Human-readable labels, e.g. `"(0, 50]"` … `">150"`.
    pub fn labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self
            .edges
            .windows(2)
            .map(|w| format!("({}, {}]", w[0], w[1]))
            .collect();
        labels.push(format!(">{}", self.edges[self.edges.len() - 1]));
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_boundaries() {
        let c = Cohorts::default();
        let expect = [
            (0, None),
            (1, Some(0)),
            (50, Some(0)),
            (51, Some(1)),
            (100, Some(1)),
            (101, Some(2)),
            (150, Some(2)),
            (151, Some(3)),
            (u64::MAX, Some(3)),
        ];
        for (len, cohort) in expect {
            assert_eq!(c.assign(len), cohort, "length {len}");
        }
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn custom_edges_and_validation() {
        let c = Cohorts::new(&[10]).unwrap();
        assert_eq!(c.labels(), vec![">10"]);
        assert_eq!((c.assign(10), c.assign(11)), (None, Some(0)));
        let c = Cohorts::new(&[5, 7]).unwrap();
        assert_eq!(c.labels(), vec!["(5, 7]", ">7"]);
        assert_eq!(
            (c.assign(6), c.assign(7), c.assign(8)),
            (Some(0), Some(0), Some(1))
        );
        for bad in [&[][..], &[3, 3], &[5, 1]] {
            assert!(matches!(
                Cohorts::new(bad).unwrap_err(),
                EvalError::InvalidParameter {
                    name: "cohort_edges",
                    ..
                }
            ));
        }
    }
}
