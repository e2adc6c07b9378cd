//! Streaming top-k: merge scores that arrive in chunks of items (and blocks
//! of users) with memory bounded by `k` per user, so that a large catalogue
//! never needs a users × items score matrix.
//!
//! The order is the one of [`top_k_indices`](crate::top_k_indices): descending
//! score, ties broken by the lower id, NaN scores never kept. The result does
//! not depend on how the items are split into chunks nor on their order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::EvalError;
use crate::top_k::Candidate;

/// The best `k` `(id, score)` pairs seen so far, kept in a min-heap of size
/// at most `k` (O(log k) per accepted candidate, O(1) per rejected one).
///
/// ```
/// use seqrec_eval::TopKAccumulator;
///
/// let mut acc = TopKAccumulator::new(2);
/// acc.push_range(100, &[0.1, 0.9, 0.5]).unwrap(); // items 100..=102
/// acc.push_chunk(&[7, 8], &[0.7, f32::NAN]).unwrap();
/// assert_eq!(acc.into_ids(), vec![101, 7]);
/// ```
#[derive(Debug, Clone)]
pub struct TopKAccumulator {
    k: usize,
    heap: BinaryHeap<Reverse<Candidate>>,
}

impl TopKAccumulator {
    /// An empty accumulator keeping the best `k` (`k = 0` keeps nothing).
    pub fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k.min(4096)),
        }
    }

    /// The cutoff `k`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of kept candidates (`<= k`).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The worst kept `(id, score)` once `k` candidates are kept: a new
    /// candidate must beat it to enter (useful to skip whole item blocks
    /// whose upper score bound is lower).
    pub fn threshold(&self) -> Option<(u32, f32)> {
        if self.heap.len() < self.k {
            return None;
        }
        self.heap.peek().map(|Reverse(c)| (c.id, c.score))
    }

    /// Offers one candidate; returns whether it is (for now) kept. NaN scores
    /// are never kept.
    pub fn offer(&mut self, id: u32, score: f32) -> bool {
        if score.is_nan() {
            return false;
        }
        self.offer_candidate(Candidate { score, id })
    }

    /// Offers a non-NaN candidate.
    pub(crate) fn offer_candidate(&mut self, c: Candidate) -> bool {
        if self.heap.len() < self.k {
            self.heap.push(Reverse(c));
            return true;
        }
        match self.heap.peek_mut() {
            Some(mut worst) if c > worst.0 => {
                *worst = Reverse(c);
                true
            }
            _ => false,
        }
    }

    /// Offers the items `ids[i]` with scores `scores[i]`.
    ///
    /// Errors: [`EvalError::LengthMismatch`] if the slices differ in length
    /// (nothing is offered then).
    pub fn push_chunk(&mut self, ids: &[u32], scores: &[f32]) -> Result<(), EvalError> {
        if ids.len() != scores.len() {
            return Err(EvalError::LengthMismatch {
                what: "item ids and scores",
                left: ids.len(),
                right: scores.len(),
            });
        }
        for (&id, &score) in ids.iter().zip(scores) {
            self.offer(id, score);
        }
        Ok(())
    }

    /// Offers the contiguous items `first_id, first_id + 1, …` with `scores`.
    ///
    /// Errors: [`EvalError::InvalidParameter`] if the ids would exceed `u32::MAX`.
    pub fn push_range(&mut self, first_id: u32, scores: &[f32]) -> Result<(), EvalError> {
        self.push_range_filtered(first_id, scores, |_| false)
    }

    /// As [`push_range`](Self::push_range), skipping ids for which `exclude`
    /// returns `true` (e.g. the padding id or already-seen items).
    pub fn push_range_filtered(
        &mut self,
        first_id: u32,
        scores: &[f32],
        exclude: impl Fn(u32) -> bool,
    ) -> Result<(), EvalError> {
        check_range(first_id, scores.len())?;
        if self.k == 0 || scores.is_empty() {
            return Ok(());
        }
        // Cannot overflow: checked above.
        let mut ids = first_id..=first_id + (scores.len() - 1) as u32;
        let mut scores = scores.iter().copied();
        // Fill phase.
        while self.heap.len() < self.k {
            let (Some(id), Some(score)) = (ids.next(), scores.next()) else {
                return Ok(());
            };
            if !score.is_nan() && !exclude(id) {
                self.heap.push(Reverse(Candidate { score, id }));
            }
        }
        // Steady state: compare against a cached copy of the worst kept candidate.
        let mut worst = self.heap.peek().map_or(
            Candidate {
                score: f32::NEG_INFINITY,
                id: 0,
            },
            |r| r.0,
        );
        for (id, score) in ids.zip(scores) {
            // False for NaN, so NaN never enters.
            let beats = score > worst.score || (score == worst.score && id < worst.id);
            if beats && !exclude(id) {
                if let Some(mut top) = self.heap.peek_mut() {
                    *top = Reverse(Candidate { score, id });
                }
                if let Some(r) = self.heap.peek() {
                    worst = r.0;
                }
            }
        }
        Ok(())
    }

    /// Merges another accumulator (e.g. of another item shard) into this one;
    /// the result keeps this accumulator's `k`.
    pub fn merge(&mut self, other: TopKAccumulator) {
        for Reverse(c) in other.heap {
            self.offer_candidate(c);
        }
    }

    /// Bytes held by the heap (its allocated capacity).
    pub fn bytes_held(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<Reverse<Candidate>>()
    }

    /// The kept `(id, score)` pairs, best first.
    pub fn into_sorted_vec(self) -> Vec<(u32, f32)> {
        // Ascending `Reverse` order is descending candidate order: best first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(c)| (c.id, c.score))
            .collect()
    }

    /// The kept ids, best first: a ranked list for
    /// [`ProfileEvaluator::evaluate`](crate::ProfileEvaluator::evaluate).
    pub fn into_ids(self) -> Vec<u32> {
        self.into_sorted_vec()
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }
}

/// Checks that ids `first_id .. first_id + len` fit in `u32`.
fn check_range(first_id: u32, len: usize) -> Result<(), EvalError> {
    if len > 0 && (first_id as u64 + len as u64 - 1) > u64::from(u32::MAX) {
        return Err(EvalError::InvalidParameter {
            name: "first_id",
            reason: format!("ids {first_id} + {len} exceed u32::MAX"),
        });
    }
    Ok(())
}

/// One [`TopKAccumulator`] per user of a block of users, fed with row-major
/// `users × items` score blocks of contiguous item ids.
///
/// Memory is `users × k` candidates plus whatever block the caller scores,
/// independent of the catalogue size.
///
/// ```
/// use seqrec_eval::TopKBatch;
///
/// // 2 users, a catalogue of 5 items scored in blocks of 3 and 2 items.
/// let mut batch = TopKBatch::new(2, 2);
/// batch.push_block(0, 3, &[0.1, 0.5, 0.2, /* user 1: */ 0.9, 0.0, 0.3]).unwrap();
/// batch.push_block(3, 2, &[0.4, 0.0, /* user 1: */ 0.1, 0.8]).unwrap();
/// assert_eq!(batch.into_ranked_lists(), vec![vec![1, 3], vec![0, 4]]);
/// ```
#[derive(Debug, Clone)]
pub struct TopKBatch {
    accs: Vec<TopKAccumulator>,
}

impl TopKBatch {
    /// `users` empty accumulators with cutoff `k`.
    pub fn new(users: usize, k: usize) -> Self {
        Self {
            accs: (0..users).map(|_| TopKAccumulator::new(k)).collect(),
        }
    }

    /// Number of users (rows).
    pub fn users(&self) -> usize {
        self.accs.len()
    }

    /// The accumulator of row `user`.
    pub fn accumulator(&self, user: usize) -> Option<&TopKAccumulator> {
        self.accs.get(user)
    }

    /// Offers a row-major `users × items` block of scores for the item ids
    /// `first_item .. first_item + items`.
    ///
    /// Errors: [`EvalError::LengthMismatch`] if `scores.len() != users × items`,
    /// [`EvalError::InvalidParameter`] if the ids exceed `u32::MAX`.
    pub fn push_block(
        &mut self,
        first_item: u32,
        items: usize,
        scores: &[f32],
    ) -> Result<(), EvalError> {
        self.push_block_filtered(first_item, items, scores, |_, _| false)
    }

    /// As [`push_block`](Self::push_block), skipping `(row, item)` pairs for
    /// which `exclude` returns `true`.
    pub fn push_block_filtered(
        &mut self,
        first_item: u32,
        items: usize,
        scores: &[f32],
        exclude: impl Fn(usize, u32) -> bool,
    ) -> Result<(), EvalError> {
        let expected = self.accs.len().checked_mul(items);
        if expected != Some(scores.len()) {
            return Err(EvalError::LengthMismatch {
                what: "score block (users × items)",
                left: scores.len(),
                right: expected.unwrap_or(usize::MAX),
            });
        }
        check_range(first_item, items)?;
        if items == 0 {
            return Ok(());
        }
        for (row, (acc, chunk)) in self
            .accs
            .iter_mut()
            .zip(scores.chunks_exact(items))
            .enumerate()
        {
            acc.push_range_filtered(first_item, chunk, |id| exclude(row, id))?;
        }
        Ok(())
    }

    /// Bytes held by all heaps.
    pub fn bytes_held(&self) -> usize {
        self.accs
            .iter()
            .map(TopKAccumulator::bytes_held)
            .sum::<usize>()
            + self.accs.capacity() * std::mem::size_of::<TopKAccumulator>()
    }

    /// Every row's ids, best first.
    pub fn into_ranked_lists(self) -> Vec<Vec<u32>> {
        self.accs
            .into_iter()
            .map(TopKAccumulator::into_ids)
            .collect()
    }

    /// Every row's `(id, score)` pairs, best first.
    pub fn into_sorted_vecs(self) -> Vec<Vec<(u32, f32)>> {
        self.accs
            .into_iter()
            .map(TopKAccumulator::into_sorted_vec)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top_k_indices;

    /// Deterministic scores with many ties and a few NaNs.
    fn scores(n: usize, salt: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| {
                let h = i
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(salt.wrapping_mul(40_503));
                if h % 97 == 0 {
                    f32::NAN
                } else {
                    (h % 53) as f32
                }
            })
            .collect()
    }

    #[test]
    fn chunked_equals_full_top_k() {
        let s = scores(5000, 1);
        for k in [1, 7, 100, 6000] {
            let full = top_k_indices(&s, k, |i| i % 11 == 0);
            for chunk in [1, 13, 256, 5000] {
                let mut acc = TopKAccumulator::new(k);
                for (c, block) in s.chunks(chunk).enumerate() {
                    acc.push_range_filtered((c * chunk) as u32, block, |id| id % 11 == 0)
                        .unwrap();
                }
                assert_eq!(acc.into_sorted_vec(), full, "k {k} chunk {chunk}");
            }
            // Chunks in reverse order, through the id/score interface.
            let mut acc = TopKAccumulator::new(k);
            let ids: Vec<u32> = (0..s.len() as u32).collect();
            for (id_chunk, s_chunk) in ids.chunks(333).rev().zip(s.chunks(333).rev()) {
                let (i, sc): (Vec<u32>, Vec<f32>) = id_chunk
                    .iter()
                    .zip(s_chunk)
                    .filter(|(id, _)| *id % 11 != 0)
                    .map(|(a, b)| (*a, *b))
                    .unzip();
                acc.push_chunk(&i, &sc).unwrap();
            }
            assert_eq!(acc.into_sorted_vec(), full, "k {k} reversed");
        }
    }

    #[test]
    fn merge_of_shards_equals_whole() {
        let s = scores(2000, 2);
        let whole = top_k_indices(&s, 50, |_| false);
        let mut a = TopKAccumulator::new(50);
        let mut b = TopKAccumulator::new(50);
        a.push_range(0, &s[..1200]).unwrap();
        b.push_range(1200, &s[1200..]).unwrap();
        a.merge(b);
        assert_eq!(a.into_sorted_vec(), whole);
    }

    #[test]
    fn batch_blocks_equal_per_user_top_k() {
        let (users, items, k) = (5usize, 1000usize, 20usize);
        let rows: Vec<Vec<f32>> = (0..users).map(|u| scores(items, u as u32)).collect();
        let mut batch = TopKBatch::new(users, k);
        for start in (0..items).step_by(300) {
            let end = (start + 300).min(items);
            let block: Vec<f32> = rows.iter().flat_map(|r| r[start..end].to_vec()).collect();
            batch
                .push_block_filtered(start as u32, end - start, &block, |u, id| id as usize == u)
                .unwrap();
        }
        assert!(batch.bytes_held() >= users * k * 8);
        let got = batch.into_sorted_vecs();
        for (u, row) in rows.iter().enumerate() {
            assert_eq!(got[u], top_k_indices(row, k, |i| i == u));
        }
    }

    #[test]
    fn thresholds_edges_and_errors() {
        let mut acc = TopKAccumulator::new(2);
        assert_eq!(acc.threshold(), None);
        assert!(acc.offer(5, 1.0));
        assert!(!acc.offer(6, f32::NAN));
        assert!(acc.offer(7, 1.0));
        assert_eq!(acc.threshold(), Some((7, 1.0)));
        assert!(acc.offer(3, 1.0)); // tie, lower id wins
        assert!(!acc.offer(9, 1.0));
        assert_eq!(acc.clone().into_ids(), vec![3, 5]);
        assert!(matches!(
            acc.push_chunk(&[1], &[]).unwrap_err(),
            EvalError::LengthMismatch { .. }
        ));
        assert!(acc.push_range(u32::MAX, &[1.0]).is_ok());
        assert!(matches!(
            acc.push_range(u32::MAX, &[1.0, 2.0]).unwrap_err(),
            EvalError::InvalidParameter {
                name: "first_id",
                ..
            }
        ));
        let mut zero = TopKAccumulator::new(0);
        zero.push_range(0, &[1.0, 2.0]).unwrap();
        assert!(!zero.offer(1, 5.0));
        assert!(zero.is_empty());
        let mut batch = TopKBatch::new(2, 3);
        assert!(matches!(
            batch.push_block(0, 3, &[0.0; 5]).unwrap_err(),
            EvalError::LengthMismatch { .. }
        ));
        batch.push_block(0, 0, &[]).unwrap();
        assert_eq!(batch.users(), 2);
        assert!(batch.accumulator(1).unwrap().is_empty());
    }
}
