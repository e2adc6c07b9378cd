//! Training batches as plain id arrays, built on the CPU (off the training thread), with the
//! provenance of every input and target so that leakage can be checked.

use rand::Rng;
use seqrec_sampling::{BatchNegatives, NegativeSampler, NegativeSharing, sample_batch_negatives};

use crate::error::TrainError;
use crate::objective::Objective;

/// Marks a padding or masked input slot, and a missing target, in the provenance arrays.
pub const NO_EVENT: i32 = -1;

/// One training batch before it becomes tensors. All arrays are row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchPlan {
    /// Number of sequences.
    pub batch: usize,
    /// Input columns (the longest input of the batch; shorter ones are left-padded with 0).
    pub len: usize,
    /// Input ids `[batch, len]`.
    pub input: Vec<u32>,
    /// Targets per row: `len` when every position scores a target, the window length when
    /// only the last position does.
    pub target_len: usize,
    /// Target ids `[batch, target_len]`; 0 where there is no target.
    pub targets: Vec<u32>,
    /// Whether all targets of a row are scored from its last position.
    pub last_position_only: bool,
    /// Index in the source sequence of each input slot ([`NO_EVENT`] for padding and masks).
    pub input_events: Vec<i32>,
    /// Index in the source sequence of each target ([`NO_EVENT`] where there is none).
    pub target_events: Vec<i32>,
    /// Sampled negatives.
    pub negatives: BatchNegatives,
    /// For negatives shared by a batch: 1.0 where negative `j` may be used for target
    /// `(b, t)`, 0.0 where it is that target itself; `[batch, target_len, k]`. `None` when the
    /// sampler already excluded the targets.
    pub negative_mask: Option<Vec<f32>>,
    /// With sparse item updates: the catalogue ids of the rows the batch touches, ascending
    /// (see [`crate::item_rows::localise`]); every id above is then a position in this list.
    /// `None`: the ids above are catalogue ids.
    pub item_rows: Option<Vec<u32>>,
}

/// Everything needed to turn sequences into [`BatchPlan`]s.
#[derive(Debug, Clone)]
pub struct BatchPlanner {
    /// What the model learns.
    pub objective: Objective,
    /// Longest input read by the model.
    pub max_len: usize,
    /// The mask token id (`num_items + 1`), for the Cloze objective.
    pub mask_token: u32,
    /// Negatives per target.
    pub negatives: usize,
    /// How negatives are shared.
    pub sharing: NegativeSharing,
    /// Whether negatives also avoid every item of the user's sequence.
    pub exclude_history: bool,
}

struct Row {
    input: Vec<(u32, i32)>,
    targets: Vec<(u32, i32)>,
}

impl BatchPlanner {
    /// Builds the plan for `sequences` (each a full training sequence in time order, at
    /// least two items long), drawing cut points, masks and negatives from `rng`.
    pub fn plan<R: Rng + ?Sized>(
        &self,
        sequences: &[&[u32]],
        sampler: &NegativeSampler,
        rng: &mut R,
    ) -> Result<BatchPlan, TrainError> {
        if sequences.is_empty() {
            return Err(TrainError::NotEnoughData(
                "a training batch needs at least one sequence".into(),
            ));
        }
        let rows: Vec<Row> = sequences
            .iter()
            .map(|s| self.row(s, rng))
            .collect::<Result<_, _>>()?;
        let batch = rows.len();
        let len = rows.iter().map(|r| r.input.len()).max().unwrap_or(1).max(1);
        let last_position_only = self.objective.scores_from_last_position();
        let target_len = match self.objective {
            Objective::FutureTargets { len: window } => window,
            _ => len,
        };

        let mut input = vec![0u32; batch * len];
        let mut input_events = vec![NO_EVENT; batch * len];
        let mut targets = vec![0u32; batch * target_len];
        let mut target_events = vec![NO_EVENT; batch * target_len];
        for (b, row) in rows.iter().enumerate() {
            let offset = len - row.input.len();
            for (i, &(id, event)) in row.input.iter().enumerate() {
                input[b * len + offset + i] = id;
                input_events[b * len + offset + i] = event;
            }
            // Per-position targets align with the (left-padded) input; window targets start
            // at column 0.
            let target_offset = if last_position_only { 0 } else { offset };
            for (i, &(id, event)) in row.targets.iter().enumerate() {
                targets[b * target_len + target_offset + i] = id;
                target_events[b * target_len + target_offset + i] = event;
            }
        }

        let target_rows: Vec<&[u32]> = targets.chunks(target_len).collect();
        let history = self.exclude_history.then_some(sequences);
        // The full softmax scores the whole catalogue and ignores these. They are drawn all the
        // same: the cut points of the next batch come from the same `rng`, so skipping them
        // would change every full-softmax run, the committed tables and ML-1M figures with it,
        // to save 16 384 draws of a 1.6 s step. Drop them together with a re-run of those tables.
        let negatives = sample_batch_negatives(
            sampler,
            rng,
            self.sharing,
            self.negatives,
            &target_rows,
            history,
        )?;
        let negative_mask = (self.sharing == NegativeSharing::PerBatch).then(|| {
            let mut mask = Vec::with_capacity(batch * target_len * self.negatives);
            for &target in &targets {
                mask.extend(
                    negatives
                        .ids
                        .iter()
                        .map(|&n| if n == target { 0.0 } else { 1.0 }),
                );
            }
            mask
        });
        Ok(BatchPlan {
            batch,
            len,
            input,
            target_len,
            targets,
            last_position_only,
            input_events,
            target_events,
            negatives,
            negative_mask,
            item_rows: None,
        })
    }

    fn row<R: Rng + ?Sized>(&self, seq: &[u32], rng: &mut R) -> Result<Row, TrainError> {
        let n = seq.len();
        if n < 2 {
            return Err(TrainError::NotEnoughData(format!(
                "a training sequence needs at least two items, got {n}"
            )));
        }
        let tagged = |range: std::ops::Range<usize>| -> Vec<(u32, i32)> {
            range.map(|i| (seq[i], i as i32)).collect()
        };
        Ok(match self.objective {
            Objective::NextItem => {
                // The last max_len + 1 items: inputs are all but the last, targets all but the first.
                let start = n.saturating_sub(self.max_len + 1);
                Row {
                    input: tagged(start..n - 1),
                    targets: tagged(start + 1..n),
                }
            }
            Objective::FutureTargets { len: window } => {
                let cut = rng.random_range(1..n);
                Row {
                    input: tagged(cut.saturating_sub(self.max_len)..cut),
                    targets: tagged(cut..(cut + window).min(n)),
                }
            }
            Objective::Cloze { prob } => {
                let start = n.saturating_sub(self.max_len);
                let mut input = tagged(start..n);
                let mut targets = vec![(0u32, NO_EVENT); input.len()];
                let mut any = false;
                for (slot, target) in input.iter_mut().zip(targets.iter_mut()) {
                    if rng.random_bool(prob) {
                        *target = *slot;
                        *slot = (self.mask_token, NO_EVENT);
                        any = true;
                    }
                }
                if !any {
                    let last = input.len() - 1;
                    targets[last] = input[last];
                    input[last] = (self.mask_token, NO_EVENT);
                }
                Row { input, targets }
            }
        })
    }
}

impl BatchPlan {
    /// Input slots visible to the position that scores target `(row, t)` under causal or
    /// bidirectional attention: the leakage check of the tests.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn visible_inputs(&self, row: usize, t: usize, causal: bool) -> std::ops::Range<usize> {
        let query = if self.last_position_only {
            self.len - 1
        } else {
            t
        };
        let first = row * self.len;
        if causal {
            first..first + query + 1
        } else {
            first..first + self.len
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)]
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn planner(objective: Objective, sharing: NegativeSharing) -> BatchPlanner {
        BatchPlanner {
            objective,
            max_len: 6,
            mask_token: 51,
            negatives: 4,
            sharing,
            exclude_history: false,
        }
    }

    fn sequences() -> Vec<Vec<u32>> {
        // Repeated items, as in music: leakage must be checked by event, not by id.
        vec![
            vec![1, 2, 3, 2, 4, 5, 2, 6, 7, 8],
            vec![9, 9, 10],
            vec![11, 12],
            (1..=30).collect(),
        ]
    }

    /// For every target, no input slot visible to the scoring position holds that target's
    /// event (or a later one, for objectives that predict the future).
    fn assert_no_leak(plan: &BatchPlan, causal: bool, future_only: bool) {
        let mut checked = 0;
        for b in 0..plan.batch {
            for t in 0..plan.target_len {
                let event = plan.target_events[b * plan.target_len + t];
                if event == NO_EVENT {
                    assert_eq!(plan.targets[b * plan.target_len + t], 0);
                    continue;
                }
                for slot in plan.visible_inputs(b, t, causal) {
                    let seen = plan.input_events[slot];
                    assert_ne!(seen, event, "row {b} target {t} sees its own event");
                    if future_only {
                        assert!(seen < event, "row {b} target {t} sees a later event");
                    }
                }
                checked += 1;
            }
        }
        assert!(checked > 0);
    }

    #[test]
    fn no_target_is_visible_to_the_position_that_scores_it() {
        let seqs = sequences();
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let sampler = NegativeSampler::uniform(50).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for step in 0..50 {
            for sharing in [
                NegativeSharing::PerPosition,
                NegativeSharing::PerSequence,
                NegativeSharing::PerBatch,
            ] {
                let plan = planner(Objective::NextItem, sharing)
                    .plan(&refs, &sampler, &mut rng)
                    .unwrap();
                assert_no_leak(&plan, true, true);
                let plan = planner(Objective::FutureTargets { len: 3 }, sharing)
                    .plan(&refs, &sampler, &mut rng)
                    .unwrap();
                assert_no_leak(&plan, true, true);
                assert_no_leak(&plan, false, true);
                let plan = planner(Objective::Cloze { prob: 0.3 }, sharing)
                    .plan(&refs, &sampler, &mut rng)
                    .unwrap();
                assert_no_leak(&plan, false, false);
            }
            let _ = step;
        }
    }

    #[test]
    fn a_bidirectional_next_item_batch_would_leak() {
        // The check above can fail: next-item targets are visible to a bidirectional model.
        let seqs = sequences();
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let sampler = NegativeSampler::uniform(50).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let plan = planner(Objective::NextItem, NegativeSharing::PerSequence)
            .plan(&refs, &sampler, &mut rng)
            .unwrap();
        let result = std::panic::catch_unwind(|| assert_no_leak(&plan, false, true));
        assert!(result.is_err());
    }

    #[test]
    fn next_item_rows_are_shifted_and_left_padded() {
        let seqs = [vec![11u32, 12, 13]];
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let long = [(1..=10).collect::<Vec<u32>>()];
        let sampler = NegativeSampler::uniform(50).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let p = planner(Objective::NextItem, NegativeSharing::PerSequence);
        let plan = p.plan(&refs, &sampler, &mut rng).unwrap();
        assert_eq!(
            (plan.input.clone(), plan.targets.clone()),
            (vec![11, 12], vec![12, 13])
        );
        let plan = p
            .plan(&[&long[0][..], refs[0]], &sampler, &mut rng)
            .unwrap();
        assert_eq!(plan.len, 6);
        assert_eq!(&plan.input[..6], &[4, 5, 6, 7, 8, 9]);
        assert_eq!(&plan.targets[..6], &[5, 6, 7, 8, 9, 10]);
        assert_eq!(&plan.input[6..], &[0, 0, 0, 0, 11, 12]);
        assert_eq!(&plan.targets[6..], &[0, 0, 0, 0, 12, 13]);
        assert_eq!(plan.negatives.ids.len(), 2 * 4);
    }

    #[test]
    fn batch_shared_negatives_mask_their_collisions() {
        let seqs = [(1..=5).collect::<Vec<u32>>()];
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let sampler = NegativeSampler::uniform(5).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let p = BatchPlanner {
            negatives: 20,
            ..planner(Objective::NextItem, NegativeSharing::PerBatch)
        };
        let plan = p.plan(&refs, &sampler, &mut rng).unwrap();
        let mask = plan.negative_mask.unwrap();
        for t in 0..plan.target_len {
            for (j, &neg) in plan.negatives.ids.iter().enumerate() {
                let m = mask[t * 20 + j];
                assert_eq!(m == 0.0, neg == plan.targets[t]);
            }
        }
        assert!(
            mask.contains(&0.0),
            "with 5 items and 20 draws some collide"
        );
    }

    #[test]
    fn short_sequences_are_an_error() {
        let sampler = NegativeSampler::uniform(50).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let p = planner(Objective::NextItem, NegativeSharing::PerPosition);
        assert!(p.plan(&[&[3u32][..]], &sampler, &mut rng).is_err());
        assert!(p.plan(&[], &sampler, &mut rng).is_err());
    }
}
