//! Negatives for one training batch, under a [`NegativeSharing`] mode.

use rand::Rng;

use crate::exclusion::ExcludeView;
use crate::{NegativeSampler, NegativeSharing, SamplingError};

/// Negatives for one training batch, stored flat in row-major order.
///
/// | sharing        | `ids.len()`       | shape            |
/// |----------------|-------------------|------------------|
/// | `PerPosition`  | `batch * len * k` | `[batch, len, k]`|
/// | `PerSequence`  | `batch * k`       | `[batch, k]`     |
/// | `PerBatch`     | `k`               | `[k]`            |
///
/// Every id is a real item in `1..=num_items` with positive probability; the
/// padding id 0 never appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchNegatives {
    /// How the negatives are shared.
    pub sharing: NegativeSharing,
    /// Number of negatives per set.
    pub k: usize,
    /// The sampled ids, flat row-major (see the table above).
    pub ids: Vec<u32>,
    batch: usize,
    seq_len: usize,
}

impl BatchNegatives {
    /// Number of sequences in the batch.
    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Length of every sequence (number of positions) in the batch.
    pub fn seq_len(&self) -> usize {
        self.seq_len
    }

    /// The logical shape of [`ids`](Self::ids): `[batch, len, k]`, `[batch, k]` or `[k]`.
    pub fn shape(&self) -> Vec<usize> {
        match self.sharing {
            NegativeSharing::PerPosition => vec![self.batch, self.seq_len, self.k],
            NegativeSharing::PerSequence => vec![self.batch, self.k],
            NegativeSharing::PerBatch => vec![self.k],
        }
    }

    /// The `k` negatives that apply to position `position` of sequence `sequence`,
    /// whatever the sharing mode; `None` if the indices are out of range.
    pub fn negatives_for(&self, sequence: usize, position: usize) -> Option<&[u32]> {
        if sequence >= self.batch || position >= self.seq_len {
            return None;
        }
        let start = match self.sharing {
            NegativeSharing::PerPosition => sequence
                .checked_mul(self.seq_len)
                .and_then(|row| row.checked_add(position))
                .and_then(|cell| cell.checked_mul(self.k))?,
            NegativeSharing::PerSequence => sequence.checked_mul(self.k)?,
            NegativeSharing::PerBatch => 0,
        };
        self.ids.get(start..start.checked_add(self.k)?)
    }
}

/// Samples the negatives for one training batch.
///
/// * `targets[b][t]` is the positive (target) id at position `t` of sequence `b`;
///   0 marks a padding position. All sequences must have the same length
///   ([`SamplingError::RaggedBatch`] otherwise) and every id must be `<= num_items`
///   ([`SamplingError::InvalidItem`]).
/// * `history`, if given, holds one slice per sequence with further ids to exclude
///   (e.g. the user's whole interaction history); 0 entries are ignored.
///
/// Exclusion rules:
///
/// * [`NegativeSharing::PerPosition`]: each position's `k` negatives exclude that
///   position's target (+ the sequence's history). **Padding positions** (target 0)
///   still receive `k` valid sampled ids (excluding only the history), so every id
///   in the output is a real item; the trainer masks these positions anyway.
/// * [`NegativeSharing::PerSequence`]: the sequence's `k` negatives exclude *all*
///   targets of that sequence (+ its history).
/// * [`NegativeSharing::PerBatch`]: **nothing is excluded at sampling time**, not
///   even `history`: a shared negative may equal some position's positive, and the
///   trainer must mask such collisions in the loss.
///
/// Negatives are drawn with replacement, so a set may contain duplicates.
/// Sequences and positions are processed in order, so the output depends only on
/// the inputs and the RNG state.
///
/// ```
/// use rand::SeedableRng;
/// use rand_chacha::ChaCha8Rng;
/// use seqrec_sampling::{sample_batch_negatives, NegativeSampler, NegativeSharing};
///
/// let sampler = NegativeSampler::uniform(100).unwrap();
/// let mut rng = ChaCha8Rng::seed_from_u64(0);
/// let targets: [&[u32]; 2] = [&[0, 5, 6], &[7, 8, 9]];
/// let negs = sample_batch_negatives(
///     &sampler, &mut rng, NegativeSharing::PerSequence, 4, &targets, None,
/// ).unwrap();
/// assert_eq!(negs.shape(), vec![2, 4]);
/// assert!(negs.negatives_for(1, 0).unwrap().iter().all(|id| ![7, 8, 9].contains(id)));
/// ```
pub fn sample_batch_negatives<R: Rng + ?Sized>(
    sampler: &NegativeSampler,
    rng: &mut R,
    sharing: NegativeSharing,
    k: usize,
    targets: &[&[u32]],
    history: Option<&[&[u32]]>,
) -> Result<BatchNegatives, SamplingError> {
    let batch = targets.len();
    let seq_len = targets.first().map_or(0, |t| t.len());
    let num_items = sampler.num_items();
    for (index, seq) in targets.iter().enumerate() {
        if seq.len() != seq_len {
            return Err(SamplingError::RaggedBatch {
                index,
                expected: seq_len,
                got: seq.len(),
            });
        }
        check_ids(seq, num_items)?;
    }
    if let Some(h) = history {
        if h.len() != batch {
            return Err(SamplingError::HistoryLengthMismatch {
                expected: batch,
                got: h.len(),
            });
        }
        for seq in h {
            check_ids(seq, num_items)?;
        }
    }

    let total = match sharing {
        NegativeSharing::PerPosition => batch.checked_mul(seq_len).and_then(|n| n.checked_mul(k)),
        NegativeSharing::PerSequence => batch.checked_mul(k),
        NegativeSharing::PerBatch => Some(k),
    }
    .ok_or(SamplingError::SizeOverflow)?;
    let mut ids = Vec::with_capacity(total);

    match sharing {
        NegativeSharing::PerPosition => {
            let mut excl = Vec::new();
            for (b, seq) in targets.iter().enumerate() {
                excl.clear();
                if let Some(h) = history {
                    collect_sorted(&mut excl, &[h[b]]);
                }
                for &target in seq.iter() {
                    let view = ExcludeView {
                        sorted: &excl,
                        extra: (target != 0).then_some(target),
                    };
                    sampler.sample_view(rng, k, view, &mut ids)?;
                }
            }
        }
        NegativeSharing::PerSequence => {
            let mut excl = Vec::new();
            for (b, seq) in targets.iter().enumerate() {
                excl.clear();
                match history {
                    Some(h) => collect_sorted(&mut excl, &[seq, h[b]]),
                    None => collect_sorted(&mut excl, &[seq]),
                }
                let view = ExcludeView {
                    sorted: &excl,
                    extra: None,
                };
                sampler.sample_view(rng, k, view, &mut ids)?;
            }
        }
        NegativeSharing::PerBatch => {
            let view = ExcludeView {
                sorted: &[],
                extra: None,
            };
            sampler.sample_view(rng, k, view, &mut ids)?;
        }
    }

    Ok(BatchNegatives {
        sharing,
        k,
        ids,
        batch,
        seq_len,
    })
}

/// Rejects ids above `num_items` (0 = padding is allowed).
fn check_ids(ids: &[u32], num_items: u32) -> Result<(), SamplingError> {
    match ids.iter().find(|&&id| id > num_items) {
        Some(&id) => Err(SamplingError::InvalidItem { id, num_items }),
        None => Ok(()),
    }
}

/// Fills `out` with the sorted, distinct non-zero ids of all `parts`.
fn collect_sorted(out: &mut Vec<u32>, parts: &[&[u32]]) {
    for part in parts {
        out.extend(part.iter().copied().filter(|&id| id != 0));
    }
    out.sort_unstable();
    out.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn run(
        sampler: &NegativeSampler,
        seed: u64,
        sharing: NegativeSharing,
        k: usize,
        targets: &[&[u32]],
        history: Option<&[&[u32]]>,
    ) -> Result<BatchNegatives, SamplingError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        sample_batch_negatives(sampler, &mut rng, sharing, k, targets, history)
    }

    #[test]
    fn shapes_of_each_mode() {
        let s = NegativeSampler::uniform(50).unwrap();
        let targets: [&[u32]; 3] = [&[1, 2, 3, 4], &[0, 0, 5, 6], &[7, 8, 9, 10]];
        let p = run(&s, 0, NegativeSharing::PerPosition, 5, &targets, None).unwrap();
        assert_eq!(p.shape(), vec![3, 4, 5]);
        assert_eq!(p.ids.len(), 60);
        assert_eq!((p.batch_size(), p.seq_len(), p.k), (3, 4, 5));
        let q = run(&s, 0, NegativeSharing::PerSequence, 5, &targets, None).unwrap();
        assert_eq!(q.shape(), vec![3, 5]);
        assert_eq!(q.ids.len(), 15);
        let r = run(&s, 0, NegativeSharing::PerBatch, 5, &targets, None).unwrap();
        assert_eq!(r.shape(), vec![5]);
        assert_eq!(r.ids.len(), 5);
        for negs in [&p, &q, &r] {
            assert!(negs.ids.iter().all(|&id| (1..=50).contains(&id)));
            assert_eq!(negs.negatives_for(2, 3).unwrap().len(), 5);
            assert!(negs.negatives_for(3, 0).is_none());
            assert!(negs.negatives_for(0, 4).is_none());
        }
        assert_eq!(r.negatives_for(0, 0), r.negatives_for(2, 3));
        assert_eq!(q.negatives_for(1, 0), q.negatives_for(1, 3));
    }

    #[test]
    fn per_position_excludes_its_target_and_history() {
        let s = NegativeSampler::uniform(6).unwrap();
        let targets: [&[u32]; 2] = [&[1, 2, 3, 0], &[4, 5, 6, 1]];
        let history: [&[u32]; 2] = [&[4, 5, 0], &[2]];
        for seed in 0..50 {
            let negs = run(
                &s,
                seed,
                NegativeSharing::PerPosition,
                20,
                &targets,
                Some(&history),
            )
            .unwrap();
            for (b, seq) in targets.iter().enumerate() {
                for (t, &target) in seq.iter().enumerate() {
                    for &id in negs.negatives_for(b, t).unwrap() {
                        assert_ne!(id, 0);
                        assert_ne!(id, target);
                        assert!(!history[b].contains(&id));
                    }
                }
            }
        }
    }

    #[test]
    fn per_sequence_excludes_all_targets_of_its_sequence() {
        let s = NegativeSampler::uniform(10).unwrap();
        let targets: [&[u32]; 2] = [&[1, 2, 3, 4, 0], &[5, 6, 7, 8, 9]];
        for seed in 0..50 {
            let negs = run(&s, seed, NegativeSharing::PerSequence, 30, &targets, None).unwrap();
            let first = negs.negatives_for(0, 0).unwrap();
            assert!(first.iter().all(|id| (5..=10).contains(id)));
            let second = negs.negatives_for(1, 0).unwrap();
            assert!(second.iter().all(|id| [1, 2, 3, 4, 10].contains(id)));
        }
        // With history, the second sequence can only get item 10.
        let history: [&[u32]; 2] = [&[], &[1, 2, 3, 4]];
        let negs = run(
            &s,
            1,
            NegativeSharing::PerSequence,
            8,
            &targets,
            Some(&history),
        )
        .unwrap();
        assert_eq!(negs.negatives_for(1, 2).unwrap(), &[10; 8]);
    }

    #[test]
    fn per_batch_excludes_nothing() {
        // Catalogue {1, 2}: both are targets, yet per-batch sampling succeeds and
        // may return them (the trainer masks collisions).
        let s = NegativeSampler::uniform(2).unwrap();
        let targets: [&[u32]; 1] = [&[1, 2]];
        let history: [&[u32]; 1] = [&[1, 2]];
        let negs = run(
            &s,
            0,
            NegativeSharing::PerBatch,
            64,
            &targets,
            Some(&history),
        )
        .unwrap();
        assert!(negs.ids.contains(&1) && negs.ids.contains(&2));
        // The same request per sequence has no candidate left.
        assert_eq!(
            run(&s, 0, NegativeSharing::PerSequence, 1, &targets, None).unwrap_err(),
            SamplingError::NoCandidates
        );
    }

    #[test]
    fn deterministic_by_seed() {
        let counts: Vec<u64> = (0..31).map(|i| 1 + i as u64).collect();
        let s = NegativeSampler::popularity(&counts, 1.0).unwrap();
        let targets: [&[u32]; 2] = [&[1, 2, 3], &[4, 5, 0]];
        for mode in NegativeSharing::ALL {
            let a = run(&s, 11, mode, 7, &targets, None).unwrap();
            let b = run(&s, 11, mode, 7, &targets, None).unwrap();
            let c = run(&s, 12, mode, 7, &targets, None).unwrap();
            assert_eq!(a, b);
            assert_ne!(a.ids, c.ids);
        }
    }

    #[test]
    fn input_errors() {
        let s = NegativeSampler::uniform(5).unwrap();
        let ragged: [&[u32]; 2] = [&[1, 2], &[3]];
        assert_eq!(
            run(&s, 0, NegativeSharing::PerPosition, 1, &ragged, None).unwrap_err(),
            SamplingError::RaggedBatch {
                index: 1,
                expected: 2,
                got: 1
            }
        );
        let bad: [&[u32]; 1] = [&[6]];
        assert_eq!(
            run(&s, 0, NegativeSharing::PerBatch, 1, &bad, None).unwrap_err(),
            SamplingError::InvalidItem {
                id: 6,
                num_items: 5
            }
        );
        let ok: [&[u32]; 1] = [&[1]];
        let hist: [&[u32]; 2] = [&[], &[]];
        assert_eq!(
            run(&s, 0, NegativeSharing::PerPosition, 1, &ok, Some(&hist)).unwrap_err(),
            SamplingError::HistoryLengthMismatch {
                expected: 1,
                got: 2
            }
        );
    }

    #[test]
    fn empty_batch_and_zero_k() {
        let s = NegativeSampler::uniform(5).unwrap();
        let negs = run(&s, 0, NegativeSharing::PerPosition, 3, &[], None).unwrap();
        assert_eq!(negs.shape(), vec![0, 0, 3]);
        assert!(negs.ids.is_empty());
        let t: [&[u32]; 1] = [&[1, 2]];
        let negs = run(&s, 0, NegativeSharing::PerPosition, 0, &t, None).unwrap();
        assert_eq!(negs.shape(), vec![1, 2, 0]);
        assert_eq!(negs.negatives_for(0, 1), Some(&[][..]));
    }

    #[test]
    fn padding_positions_get_valid_ids() {
        let s = NegativeSampler::uniform(3).unwrap();
        let t: [&[u32]; 1] = [&[0, 0, 0]];
        let negs = run(&s, 0, NegativeSharing::PerPosition, 10, &t, None).unwrap();
        assert!(negs.ids.iter().all(|&id| (1..=3).contains(&id)));
    }
}
