//! CPU-side top-k selection and target ranking over a score vector.
//!
//! Index `i` of `scores` is treated as item id `i`. The padding slot is not
//! special here: pass an `exclude` closure such as `|i| i == 0 || seen(i)` to
//! drop it. Ordering is by descending score, ties broken by the lower id; NaN
//! scores are never returned and never outrank anything.

use std::cmp::Ordering;

use crate::TopKAccumulator;

/// A candidate; `a > b` means `a` ranks before `b`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub(crate) score: f32,
    pub(crate) id: u32,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        // Scores are never NaN here; -0.0 and 0.0 compare equal.
        self.score
            .partial_cmp(&other.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| other.id.cmp(&self.id))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// Enumerates the candidate scores as `(id, score)`: indices past `u32::MAX`,
/// NaN scores and excluded indices are skipped.
fn candidates(scores: &[f32], exclude: impl Fn(usize) -> bool) -> impl Iterator<Item = Candidate> {
    scores
        .iter()
        .take(u32::MAX as usize + 1)
        .enumerate()
        .filter(move |&(i, s)| !s.is_nan() && !exclude(i))
        .map(|(i, &score)| Candidate {
            score,
            id: i as u32,
        })
}

/// The `k` best `(id, score)` pairs, best first, in O(n log k) with a bounded heap.
///
/// Ties are broken by the lower id; NaN scores and indices for which `exclude`
/// returns `true` are skipped. If fewer than `k` candidates remain, all of them
/// are returned; `k = 0` returns an empty vector.
///
/// ```
/// use seqrec_eval::top_k_indices;
///
/// let scores = [9.0, 0.5, 2.0, f32::NAN, 2.0, 1.0];
/// // Exclude the padding slot 0.
/// let top = top_k_indices(&scores, 3, |i| i == 0);
/// assert_eq!(top, vec![(2, 2.0), (4, 2.0), (5, 1.0)]);
/// ```
pub fn top_k_indices(scores: &[f32], k: usize, exclude: impl Fn(usize) -> bool) -> Vec<(u32, f32)> {
    let mut acc = TopKAccumulator::new(k);
    for c in candidates(scores, exclude) {
        acc.offer_candidate(c);
    }
    acc.into_sorted_vec()
}

/// The 1-based rank of `target` among the non-excluded, non-NaN scores, using
/// the same order as [`top_k_indices`] (so `rank == position + 1` in its output).
///
/// Returns `None` if `target` is out of range, excluded, or has a NaN score.
///
/// ```
/// use seqrec_eval::target_rank;
///
/// let scores = [0.0, 0.3, 0.9, 0.3, 0.1];
/// assert_eq!(target_rank(&scores, 3, |i| i == 0), Some(3)); // after 2, then 1 (tie, lower id)
/// assert_eq!(target_rank(&scores, 0, |i| i == 0), None);
/// ```
pub fn target_rank(
    scores: &[f32],
    target: usize,
    exclude: impl Fn(usize) -> bool,
) -> Option<usize> {
    let score = *scores.get(target)?;
    if score.is_nan() || exclude(target) || target > u32::MAX as usize {
        return None;
    }
    let t = Candidate {
        score,
        id: target as u32,
    };
    Some(1 + candidates(scores, exclude).filter(|c| *c > t).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_broken_by_lower_id() {
        let scores = [1.0, 3.0, 3.0, 2.0, 3.0];
        assert_eq!(
            top_k_indices(&scores, 4, |_| false),
            vec![(1, 3.0), (2, 3.0), (4, 3.0), (3, 2.0)]
        );
        // The heap must evict the higher id among equal scores.
        assert_eq!(
            top_k_indices(&scores, 2, |_| false),
            vec![(1, 3.0), (2, 3.0)]
        );
        let zeros = [0.0, -0.0, 0.0];
        assert_eq!(
            top_k_indices(&zeros, 2, |_| false)
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>(),
            vec![0, 1]
        );
    }

    #[test]
    fn exclusion_and_nan() {
        let scores = [5.0, f32::NAN, 4.0, 3.0, f32::NAN, 1.0];
        let top = top_k_indices(&scores, 10, |i| i == 0 || i == 3);
        assert_eq!(top, vec![(2, 4.0), (5, 1.0)]);
        assert!(top_k_indices(&[f32::NAN; 4], 2, |_| false).is_empty());
    }

    #[test]
    fn k_larger_than_n_and_zero() {
        let scores = [0.1, 0.7, 0.4];
        assert_eq!(
            top_k_indices(&scores, 100, |_| false),
            vec![(1, 0.7), (2, 0.4), (0, 0.1)]
        );
        assert!(top_k_indices(&scores, 0, |_| false).is_empty());
        assert!(top_k_indices(&[], 3, |_| false).is_empty());
    }

    #[test]
    fn infinities_are_ordered() {
        let scores = [f32::NEG_INFINITY, 1.0, f32::INFINITY];
        assert_eq!(
            top_k_indices(&scores, 3, |_| false),
            vec![(2, f32::INFINITY), (1, 1.0), (0, f32::NEG_INFINITY)]
        );
    }

    #[test]
    fn matches_full_sort() {
        // Pseudo-random scores with many ties, compared against a full sort.
        let scores: Vec<f32> = (0..1000u32).map(|i| ((i * 7919) % 101) as f32).collect();
        let exclude = |i: usize| i.is_multiple_of(13);
        let mut all: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .filter(|(i, _)| !exclude(*i))
            .map(|(i, &s)| (i as u32, s))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for k in [1, 10, 57, 2000] {
            let top = top_k_indices(&scores, k, exclude);
            assert_eq!(top, all[..k.min(all.len())].to_vec());
        }
        for (pos, &(id, _)) in all.iter().enumerate().take(100) {
            assert_eq!(target_rank(&scores, id as usize, exclude), Some(pos + 1));
        }
    }

    #[test]
    fn target_rank_edge_cases() {
        let scores = [0.5, f32::NAN, 0.2];
        assert_eq!(target_rank(&scores, 1, |_| false), None);
        assert_eq!(target_rank(&scores, 3, |_| false), None);
        assert_eq!(target_rank(&scores, 2, |_| false), Some(2));
        assert_eq!(target_rank(&scores, 2, |i| i == 0), Some(1));
        assert_eq!(target_rank(&scores, 0, |i| i == 0), None);
    }
}
