//! Set-based metrics of a ranked list against a set of relevant items.
//!
//! Conventions shared by every function here:
//!
//! * Only the first `k` entries of `ranked` count. If fewer than `k` items are
//!   recommended, **precision still divides by `k`** (missing slots count as misses).
//! * Recall divides by `|relevant|`, so with `k < |relevant|` it cannot reach 1.
//! * A relevant id repeated in `ranked` counts once (its first occurrence).
//! * The functions return `None` when the relevant set is empty (the metric is
//!   undefined; callers can skip and count such users) or when `k == 0`.

use std::collections::HashSet;
use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};

/// All set-based metrics of one ranked list at one cutoff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SetMetrics {
    /// Hits in the top `k`, divided by `k`.
    pub precision: f64,
    /// Hits in the top `k`, divided by `|relevant|`.
    pub recall: f64,
    /// Harmonic mean `2PR / (P + R)`, 0 when both are 0.
    pub f1: f64,
    /// Binary-gain NDCG@k with the ideal DCG over `min(k, |relevant|)` hits.
    pub ndcg: f64,
    /// 1 if at least one relevant item is in the top `k`, else 0.
    pub hit_rate: f64,
}

/// Computes every [`SetMetrics`] field in one pass over the top `k`.
///
/// Returns `None` if `relevant` is empty or `k == 0`.
///
/// ```
/// use std::collections::HashSet;
/// use seqrec_eval::set_metrics_at_k;
///
/// let relevant: HashSet<u32> = [2, 9].into_iter().collect();
/// let m = set_metrics_at_k(&[2, 5, 7], &relevant, 4).unwrap();
/// assert_eq!(m.precision, 0.25); // 1 hit / k = 4, although only 3 were recommended
/// assert_eq!(m.recall, 0.5);
/// assert_eq!(m.hit_rate, 1.0);
/// ```
pub fn set_metrics_at_k<S: BuildHasher>(
    ranked: &[u32],
    relevant: &HashSet<u32, S>,
    k: usize,
) -> Option<SetMetrics> {
    if relevant.is_empty() || k == 0 {
        return None;
    }
    let mut seen: HashSet<u32> = HashSet::new();
    let mut hits = 0usize;
    let mut dcg = 0.0f64;
    for (pos, &id) in ranked.iter().take(k).enumerate() {
        if relevant.contains(&id) && seen.insert(id) {
            hits += 1;
            dcg += discount(pos);
        }
    }
    let ideal: f64 = (0..k.min(relevant.len())).map(discount).sum();
    let precision = hits as f64 / k as f64;
    let recall = hits as f64 / relevant.len() as f64;
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Some(SetMetrics {
        precision,
        recall,
        f1,
        ndcg: dcg / ideal,
        hit_rate: if hits > 0 { 1.0 } else { 0.0 },
    })
}

/// `1 / log2(pos + 2)` for a 0-based position.
fn discount(pos: usize) -> f64 {
    1.0 / ((pos + 2) as f64).log2()
}

/// Precision@k: relevant items in the top `k` divided by `k` (even if fewer than
/// `k` items are recommended). `None` if `relevant` is empty or `k == 0`.
pub fn precision_at_k<S: BuildHasher>(
    ranked: &[u32],
    relevant: &HashSet<u32, S>,
    k: usize,
) -> Option<f64> {
    set_metrics_at_k(ranked, relevant, k).map(|m| m.precision)
}

/// Recall@k: relevant items in the top `k` divided by `|relevant|`.
/// `None` if `relevant` is empty or `k == 0`.
pub fn recall_at_k_set<S: BuildHasher>(
    ranked: &[u32],
    relevant: &HashSet<u32, S>,
    k: usize,
) -> Option<f64> {
    set_metrics_at_k(ranked, relevant, k).map(|m| m.recall)
}

/// F1@k = `2PR / (P + R)` of [`precision_at_k`] and [`recall_at_k_set`]; 0 when
/// both are 0. `None` if `relevant` is empty or `k == 0`.
pub fn f1_at_k<S: BuildHasher>(
    ranked: &[u32],
    relevant: &HashSet<u32, S>,
    k: usize,
) -> Option<f64> {
    set_metrics_at_k(ranked, relevant, k).map(|m| m.f1)
}

/// NDCG@k with binary gains: DCG over the top `k` divided by the ideal DCG of
/// `min(k, |relevant|)` hits at the top. `None` if `relevant` is empty or `k == 0`.
pub fn ndcg_at_k_set<S: BuildHasher>(
    ranked: &[u32],
    relevant: &HashSet<u32, S>,
    k: usize,
) -> Option<f64> {
    set_metrics_at_k(ranked, relevant, k).map(|m| m.ndcg)
}

/// Hit rate@k: 1 if any relevant item is in the top `k`, else 0.
/// `None` if `relevant` is empty or `k == 0`.
pub fn hit_rate_at_k<S: BuildHasher>(
    ranked: &[u32],
    relevant: &HashSet<u32, S>,
    k: usize,
) -> Option<f64> {
    set_metrics_at_k(ranked, relevant, k).map(|m| m.hit_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    fn set(ids: &[u32]) -> HashSet<u32> {
        ids.iter().copied().collect()
    }

    #[test]
    fn full_list_hand_computed() {
        // ranked 1..=5, relevant {1, 3, 6}, k = 5: hits at positions 1 and 3.
        let r = set(&[1, 3, 6]);
        let ranked = [1, 2, 3, 4, 5];
        let m = set_metrics_at_k(&ranked, &r, 5).unwrap();
        assert!((m.precision - 0.4).abs() < EPS);
        assert!((m.recall - 2.0 / 3.0).abs() < EPS);
        let f1 = 2.0 * 0.4 * (2.0 / 3.0) / (0.4 + 2.0 / 3.0);
        assert!((m.f1 - 0.5).abs() < EPS && (m.f1 - f1).abs() < EPS);
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert!((m.ndcg - dcg / idcg).abs() < EPS);
        assert_eq!(m.hit_rate, 1.0);
        assert_eq!(precision_at_k(&ranked, &r, 5), Some(m.precision));
        assert_eq!(recall_at_k_set(&ranked, &r, 5), Some(m.recall));
        assert_eq!(f1_at_k(&ranked, &r, 5), Some(m.f1));
        assert_eq!(ndcg_at_k_set(&ranked, &r, 5), Some(m.ndcg));
        assert_eq!(hit_rate_at_k(&ranked, &r, 5), Some(1.0));
    }

    #[test]
    fn fewer_than_k_recommended() {
        // 2 recommended, k = 10, both relevant, |relevant| = 4.
        let r = set(&[1, 2, 3, 4]);
        let p = precision_at_k(&[1, 2], &r, 10).unwrap();
        let rec = recall_at_k_set(&[1, 2], &r, 10).unwrap();
        assert!((p - 0.2).abs() < EPS);
        assert!((rec - 0.5).abs() < EPS);
        let f1 = f1_at_k(&[1, 2], &r, 10).unwrap();
        assert!((f1 - 2.0 * 0.2 * 0.5 / 0.7).abs() < EPS);
        // Ideal DCG uses min(k, |R|) = 4 positions.
        let idcg: f64 = (0..4).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
        let dcg = 1.0 + 1.0 / 3f64.log2();
        assert!((ndcg_at_k_set(&[1, 2], &r, 10).unwrap() - dcg / idcg).abs() < EPS);
    }

    #[test]
    fn fewer_than_k_relevant() {
        // k = 4, one relevant item found at rank 2.
        let r = set(&[7]);
        let ranked = [3, 7, 8, 9];
        assert!((precision_at_k(&ranked, &r, 4).unwrap() - 0.25).abs() < EPS);
        assert!((recall_at_k_set(&ranked, &r, 4).unwrap() - 1.0).abs() < EPS);
        assert!((f1_at_k(&ranked, &r, 4).unwrap() - 0.4).abs() < EPS);
        // Ideal DCG = 1 (one relevant item), so NDCG = 1/log2(3).
        assert!((ndcg_at_k_set(&ranked, &r, 4).unwrap() - 1.0 / 3f64.log2()).abs() < EPS);
    }

    #[test]
    fn no_hits_give_zero_f1() {
        let r = set(&[100]);
        let m = set_metrics_at_k(&[1, 2, 3], &r, 3).unwrap();
        assert_eq!(
            (m.precision, m.recall, m.f1, m.ndcg, m.hit_rate),
            (0.0, 0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn empty_relevant_or_zero_k_is_none() {
        let empty = set(&[]);
        assert_eq!(precision_at_k(&[1, 2], &empty, 2), None);
        assert_eq!(recall_at_k_set(&[1, 2], &empty, 2), None);
        assert_eq!(f1_at_k(&[1, 2], &empty, 2), None);
        assert_eq!(ndcg_at_k_set(&[1, 2], &empty, 2), None);
        assert_eq!(hit_rate_at_k(&[1, 2], &empty, 2), None);
        assert_eq!(precision_at_k(&[1, 2], &set(&[1]), 0), None);
    }

    #[test]
    fn duplicates_count_once_and_cutoff_applies() {
        let r = set(&[1, 2]);
        let m = set_metrics_at_k(&[1, 1, 1, 2], &r, 3).unwrap();
        assert!((m.precision - 1.0 / 3.0).abs() < EPS);
        assert!((m.recall - 0.5).abs() < EPS);
        assert!(m.ndcg <= 1.0);
        // Item 2 is beyond k = 3.
        assert_eq!(hit_rate_at_k(&[5, 6, 7, 2], &r, 3), Some(0.0));
    }
}
