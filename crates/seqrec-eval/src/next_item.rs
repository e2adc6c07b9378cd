//! Leave-one-out next-item evaluation: one held-out target per user.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{EvalError, ndcg_at_k, recall_at_k, reciprocal_rank};

/// Accumulates the target rank of every evaluated user and reports mean
/// NDCG@k, Recall@k (= HR@k) for each cutoff, and MRR.
///
/// Per-user ranks are kept (see [`ranks`](Self::ranks)), so per-user metric
/// values are available for significance tests, not only the means.
///
/// ```
/// use seqrec_eval::NextItemEvaluator;
///
/// let mut ev = NextItemEvaluator::new(&[1, 10]).unwrap();
/// ev.add_rank(1);
/// ev.add_ranked_list(&[7, 3, 9], 9); // rank 3
/// ev.add_ranked_list(&[7, 3, 9], 4); // not found: all metrics 0
/// let report = ev.report();
/// assert_eq!(report.users, 3);
/// assert!((report.recall[&10] - 2.0 / 3.0).abs() < 1e-12);
/// assert!((report.mrr - (1.0 + 1.0 / 3.0) / 3.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextItemEvaluator {
    ks: Vec<usize>,
    ranks: Vec<usize>,
}

impl NextItemEvaluator {
    /// Creates an evaluator for the cutoffs `ks` (sorted and de-duplicated).
    ///
    /// Errors: [`EvalError::NoCutoffs`] for an empty slice,
    /// [`EvalError::ZeroCutoff`] if any cutoff is 0.
    pub fn new(ks: &[usize]) -> Result<Self, EvalError> {
        if ks.is_empty() {
            return Err(EvalError::NoCutoffs);
        }
        if ks.contains(&0) {
            return Err(EvalError::ZeroCutoff);
        }
        let mut ks = ks.to_vec();
        ks.sort_unstable();
        ks.dedup();
        Ok(Self {
            ks,
            ranks: Vec::new(),
        })
    }

    /// The cutoffs, ascending.
    pub fn ks(&self) -> &[usize] {
        &self.ks
    }

    /// Records one user whose target has 1-based rank `rank`
    /// (`0` = not ranked: every metric is 0 for this user).
    pub fn add_rank(&mut self, rank: usize) {
        self.ranks.push(rank);
    }

    /// Records one user from a ranked list of recommended ids (best first).
    ///
    /// The rank is the 1-based position of the first occurrence of `target`; if
    /// `target` is absent (or is the padding id 0) the user counts with rank 0,
    /// i.e. every metric, including the reciprocal rank, is 0.
    pub fn add_ranked_list(&mut self, list: &[u32], target: u32) {
        let rank = if target == 0 {
            0
        } else {
            list.iter()
                .position(|&id| id == target)
                .map_or(0, |p| p + 1)
        };
        self.add_rank(rank);
    }

    /// Number of users recorded so far.
    pub fn len(&self) -> usize {
        self.ranks.len()
    }

    /// Whether no user has been recorded.
    pub fn is_empty(&self) -> bool {
        self.ranks.is_empty()
    }

    /// The recorded ranks, in insertion order (0 = not ranked).
    pub fn ranks(&self) -> &[usize] {
        &self.ranks
    }

    /// Per-user NDCG@k values, in insertion order (`k` need not be one of [`ks`](Self::ks)).
    pub fn per_user_ndcg(&self, k: usize) -> Vec<f64> {
        self.ranks.iter().map(|&r| ndcg_at_k(r, k)).collect()
    }

    /// Per-user Recall@k (hit) values, in insertion order.
    pub fn per_user_recall(&self, k: usize) -> Vec<f64> {
        self.ranks.iter().map(|&r| recall_at_k(r, k)).collect()
    }

    /// Per-user reciprocal ranks, in insertion order.
    pub fn per_user_reciprocal_rank(&self) -> Vec<f64> {
        self.ranks.iter().map(|&r| reciprocal_rank(r)).collect()
    }

    /// Appends the users of `other` (e.g. from another worker).
    ///
    /// Returns [`EvalError::CutoffMismatch`] if the cutoffs differ.
    pub fn merge(&mut self, other: &NextItemEvaluator) -> Result<(), EvalError> {
        if self.ks != other.ks {
            return Err(EvalError::CutoffMismatch {
                left: self.ks.clone(),
                right: other.ks.clone(),
            });
        }
        self.ranks.extend_from_slice(&other.ranks);
        Ok(())
    }

    /// Mean metrics over all recorded users. With no users every mean is 0.0
    /// (check [`NextItemReport::users`]).
    pub fn report(&self) -> NextItemReport {
        let ndcg = self
            .ks
            .iter()
            .map(|&k| (k, mean(self.ranks.iter().map(|&r| ndcg_at_k(r, k)))))
            .collect();
        let recall = self
            .ks
            .iter()
            .map(|&k| (k, mean(self.ranks.iter().map(|&r| recall_at_k(r, k)))))
            .collect();
        NextItemReport {
            users: self.ranks.len(),
            ndcg,
            recall,
            mrr: mean(self.ranks.iter().map(|&r| reciprocal_rank(r))),
        }
    }
}

/// Mean of an iterator of values; 0.0 for an empty iterator.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0f64, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Mean next-item metrics over the evaluated users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextItemReport {
    /// Number of evaluated users.
    pub users: usize,
    /// Mean NDCG@k per cutoff k.
    pub ndcg: BTreeMap<usize, f64>,
    /// Mean Recall@k (= HR@k with one target) per cutoff k.
    pub recall: BTreeMap<usize, f64>,
    /// Mean reciprocal rank.
    pub mrr: f64,
}

impl NextItemReport {
    /// Flat `name → value` map for JSON output:
    /// `{"mrr": .., "ndcg@10": .., "recall@1": .., "recall@10": ..}`.
    /// The user count is not included.
    pub fn to_flat_map(&self) -> BTreeMap<String, f64> {
        let mut map = BTreeMap::new();
        for (k, v) in &self.ndcg {
            map.insert(format!("ndcg@{k}"), *v);
        }
        for (k, v) in &self.recall {
            map.insert(format!("recall@{k}"), *v);
        }
        map.insert("mrr".to_string(), self.mrr);
        map
    }

    /// Rows `(name, value)` in display order: NDCG by k, Recall by k, then MRR.
    fn rows(&self) -> Vec<(String, f64)> {
        let mut rows: Vec<(String, f64)> = self
            .ndcg
            .iter()
            .map(|(k, v)| (format!("ndcg@{k}"), *v))
            .collect();
        rows.extend(self.recall.iter().map(|(k, v)| (format!("recall@{k}"), *v)));
        rows.push(("mrr".to_string(), self.mrr));
        rows
    }
}

impl fmt::Display for NextItemReport {
    /// A small aligned table, e.g.
    ///
    /// ```text
    /// metric     value
    /// users      3
    /// ndcg@10    0.543771
    /// recall@10  0.666667
    /// mrr        0.444444
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = self.rows();
        let width = rows
            .iter()
            .map(|(name, _)| name.len())
            .chain(["metric".len(), "users".len()])
            .max()
            .unwrap_or(0);
        writeln!(f, "{:<width$}  value", "metric")?;
        writeln!(f, "{:<width$}  {}", "users", self.users)?;
        for (i, (name, value)) in rows.iter().enumerate() {
            write!(f, "{name:<width$}  {value:.6}")?;
            if i + 1 < rows.len() {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    #[test]
    fn new_validates_cutoffs() {
        assert_eq!(
            NextItemEvaluator::new(&[]).unwrap_err(),
            EvalError::NoCutoffs
        );
        assert_eq!(
            NextItemEvaluator::new(&[10, 0]).unwrap_err(),
            EvalError::ZeroCutoff
        );
        let ev = NextItemEvaluator::new(&[10, 1, 10, 5]).unwrap();
        assert_eq!(ev.ks(), &[1, 5, 10]);
        assert!(ev.is_empty());
    }

    #[test]
    fn means_hand_computed() {
        let mut ev = NextItemEvaluator::new(&[1, 10]).unwrap();
        for r in [1, 2, 10, 11] {
            ev.add_rank(r);
        }
        let rep = ev.report();
        assert_eq!(rep.users, 4);
        let ndcg10 = (1.0 + 1.0 / 3f64.log2() + 1.0 / 11f64.log2()) / 4.0;
        assert!((rep.ndcg[&10] - ndcg10).abs() < EPS);
        assert!((rep.ndcg[&1] - 0.25).abs() < EPS);
        assert!((rep.recall[&10] - 0.75).abs() < EPS);
        assert!((rep.recall[&1] - 0.25).abs() < EPS);
        let mrr = (1.0 + 0.5 + 0.1 + 1.0 / 11.0) / 4.0;
        assert!((rep.mrr - mrr).abs() < EPS);
        assert_eq!(ev.per_user_recall(10), vec![1.0, 1.0, 1.0, 0.0]);
        assert_eq!(ev.per_user_reciprocal_rank()[1], 0.5);
        assert_eq!(ev.per_user_ndcg(10)[3], 0.0);
    }

    #[test]
    fn ranked_list_found_and_missing() {
        let mut ev = NextItemEvaluator::new(&[2]).unwrap();
        ev.add_ranked_list(&[5, 6, 7], 6);
        ev.add_ranked_list(&[5, 6, 7], 8);
        ev.add_ranked_list(&[0, 6], 0);
        ev.add_ranked_list(&[], 1);
        assert_eq!(ev.ranks(), &[2, 0, 0, 0]);
        let rep = ev.report();
        assert!((rep.recall[&2] - 0.25).abs() < EPS);
        assert!((rep.mrr - 0.125).abs() < EPS);
        assert!((rep.ndcg[&2] - 0.25 / 3f64.log2()).abs() < EPS);
    }

    #[test]
    fn empty_report_is_zero() {
        let rep = NextItemEvaluator::new(&[10]).unwrap().report();
        assert_eq!(rep.users, 0);
        assert_eq!(rep.ndcg[&10], 0.0);
        assert_eq!(rep.mrr, 0.0);
    }

    #[test]
    fn merge_appends_and_checks_cutoffs() {
        let mut a = NextItemEvaluator::new(&[10]).unwrap();
        a.add_rank(1);
        let mut b = NextItemEvaluator::new(&[10]).unwrap();
        b.add_rank(3);
        a.merge(&b).unwrap();
        assert_eq!(a.ranks(), &[1, 3]);
        let c = NextItemEvaluator::new(&[5]).unwrap();
        assert!(matches!(
            a.merge(&c).unwrap_err(),
            EvalError::CutoffMismatch { .. }
        ));
    }

    #[test]
    fn flat_map_keys_and_json() {
        let mut ev = NextItemEvaluator::new(&[1, 10]).unwrap();
        ev.add_rank(2);
        let rep = ev.report();
        let flat = rep.to_flat_map();
        let keys: Vec<&str> = flat.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            vec!["mrr", "ndcg@1", "ndcg@10", "recall@1", "recall@10"]
        );
        assert_eq!(flat["recall@10"], 1.0);
        assert_eq!(flat["recall@1"], 0.0);
        assert_eq!(flat["mrr"], 0.5);
        let json = serde_json::to_string(&rep).unwrap();
        let back: NextItemReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rep);
        assert!(json.contains("\"users\":1"));
    }

    #[test]
    fn display_is_aligned() {
        let mut ev = NextItemEvaluator::new(&[10]).unwrap();
        ev.add_rank(1);
        let text = ev.report().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                "metric     value",
                "users      1",
                "ndcg@10    1.000000",
                "recall@10  1.000000",
                "mrr        1.000000",
            ]
        );
    }
}
