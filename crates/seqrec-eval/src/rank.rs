//! Metrics from the 1-based rank of a single held-out target.
//!
//! By convention `rank = 0` means "the target was not ranked" (e.g. missing
//! from a truncated list); every metric is then 0.

/// NDCG@k for one relevant target: `1 / log2(rank + 1)` if `1 <= rank <= k`, else 0.
///
/// With a single relevant item the ideal DCG is 1, so this is also DCG@k.
///
/// ```
/// use seqrec_eval::ndcg_at_k;
/// assert_eq!(ndcg_at_k(1, 10), 1.0);
/// assert_eq!(ndcg_at_k(11, 10), 0.0);
/// ```
pub fn ndcg_at_k(rank: usize, k: usize) -> f64 {
    if rank == 0 || rank > k {
        0.0
    } else {
        1.0 / ((rank + 1) as f64).log2()
    }
}

/// Recall@k (= hit rate@k) for one relevant target: 1 if `1 <= rank <= k`, else 0.
pub fn recall_at_k(rank: usize, k: usize) -> f64 {
    if rank == 0 || rank > k { 0.0 } else { 1.0 }
}

/// Reciprocal rank `1 / rank` (0 for `rank = 0`, i.e. not ranked).
pub fn reciprocal_rank(rank: usize) -> f64 {
    if rank == 0 { 0.0 } else { 1.0 / rank as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    #[test]
    fn ndcg_hand_computed() {
        assert!((ndcg_at_k(1, 10) - 1.0).abs() < EPS);
        assert!((ndcg_at_k(2, 10) - 1.0 / 3f64.log2()).abs() < EPS);
        assert!((ndcg_at_k(2, 10) - 0.630_929_753_571_457_4).abs() < EPS);
        assert!((ndcg_at_k(10, 10) - 1.0 / 11f64.log2()).abs() < EPS);
        assert!((ndcg_at_k(10, 10) - 0.289_064_826_317_888).abs() < 1e-12);
        assert_eq!(ndcg_at_k(11, 10), 0.0);
        assert_eq!(ndcg_at_k(0, 10), 0.0);
        assert_eq!(ndcg_at_k(1, 0), 0.0);
    }

    #[test]
    fn recall_and_rr() {
        assert_eq!(recall_at_k(1, 1), 1.0);
        assert_eq!(recall_at_k(2, 1), 0.0);
        assert_eq!(recall_at_k(10, 10), 1.0);
        assert_eq!(recall_at_k(0, 10), 0.0);
        assert_eq!(reciprocal_rank(1), 1.0);
        assert_eq!(reciprocal_rank(4), 0.25);
        assert_eq!(reciprocal_rank(0), 0.0);
    }
}
