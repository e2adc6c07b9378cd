//! Skip-gram training pairs: (item, context) drawn from the training histories with their
//! negatives, planned in a seeded background thread like gSASRec's batches.

use std::sync::Arc;

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use seqrec_sampling::{Exclusion, NegativeSampler};

use crate::batch::ShareWeight;
use crate::error::TrainError;
use crate::prefetch::{BatchShare, PlannedBatch, PrefetchLoader};

/// The skip-gram pairs of a set of histories: every `(sequence[i], sequence[j])` with
/// `0 < |i − j| ≤ window` and two different items (a replay next to itself teaches nothing
/// about similar tracks). [`SkipGramPairs::draw`] samples them uniformly, with replacement.
#[derive(Debug, Clone)]
pub struct SkipGramPairs {
    sequences: Arc<Vec<Vec<u32>>>,
    /// End (exclusive) of each sequence's positions in the concatenation of all of them.
    ends: Vec<u64>,
    window: usize,
    pairs: u64,
}

impl SkipGramPairs {
    /// The pairs of `sequences` within `window` positions; an error when there are none.
    pub fn new(sequences: Arc<Vec<Vec<u32>>>, window: usize) -> Result<Self, TrainError> {
        if window == 0 {
            return Err(TrainError::setting(
                "context_window",
                "the context window must be at least 1",
            ));
        }
        let mut ends = Vec::with_capacity(sequences.len());
        let mut end = 0u64;
        let mut pairs = 0u64;
        for sequence in sequences.iter() {
            end += sequence.len() as u64;
            ends.push(end);
            for (i, &item) in sequence.iter().enumerate() {
                let lo = i.saturating_sub(window);
                let hi = (i + window + 1).min(sequence.len());
                pairs += sequence[lo..hi].iter().filter(|&&c| c != item).count() as u64;
            }
        }
        if pairs == 0 {
            return Err(TrainError::NotEnoughData(format!(
                "no training history has two different items within {window} positions"
            )));
        }
        Ok(Self {
            sequences,
            ends,
            window,
            pairs,
        })
    }

    /// Number of pairs (one pass over them is an epoch).
    pub fn len(&self) -> u64 {
        self.pairs
    }

    /// One pair `(item, context)`, uniform over all pairs: a position and an offset in
    /// `±1..=±window` are drawn uniformly and redrawn while they do not make a pair.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> (u32, u32) {
        let positions = *self.ends.last().unwrap_or(&0);
        let w = self.window;
        loop {
            let position = rng.random_range(0..positions);
            let s = self.ends.partition_point(|&e| e <= position);
            let sequence = &self.sequences[s];
            let i = (position - (self.ends[s] - sequence.len() as u64)) as usize;
            let offset = rng.random_range(0..2 * w);
            let j = if offset < w {
                i.checked_sub(offset + 1)
            } else {
                Some(i + offset - w + 1).filter(|&j| j < sequence.len())
            };
            if let Some(j) = j
                && sequence[j] != sequence[i]
            {
                return (sequence[i], sequence[j]);
            }
        }
    }
}

/// One batch of pairs as plain ids: `batch` centers and, per center, its context followed by
/// `negatives` sampled ids (`[batch, 1 + negatives]`, row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct PairPlan {
    /// Centers `[batch]`.
    pub centers: Vec<u32>,
    /// Context then negatives per center `[batch, 1 + negatives]`.
    pub contexts: Vec<u32>,
    /// Negatives per center.
    pub negatives: usize,
}

/// One batch of pairs on a device.
#[derive(Debug, Clone)]
pub struct PairBatch {
    /// Center items `[batch]`.
    pub centers: Tensor<1, Int>,
    /// Candidates `[batch, 1 + negatives]`: column 0 is the true context, the others are
    /// sampled negatives (never the true context).
    pub contexts: Tensor<2, Int>,
    /// This batch's part of the step (every pair weighs the same).
    pub weight: ShareWeight,
}

impl PairBatch {
    /// Uploads the pairs of `plan` that `share` names to `device`.
    pub fn from_share(plan: &PairPlan, share: &BatchShare, device: &Device) -> Self {
        let all = plan.centers.len();
        let rows = share.rows.start.min(all)..share.rows.end.min(all);
        let batch = rows.len();
        let width = 1 + plan.negatives;
        let ints = |ids: &[u32]| ids.iter().map(|&i| i64::from(i)).collect::<Vec<_>>();
        let centers = &plan.centers[rows.clone()];
        let contexts = &plan.contexts[rows.start * width..rows.end * width];
        Self {
            centers: Tensor::from_data(TensorData::new(ints(centers), [batch]), device),
            contexts: Tensor::from_data(TensorData::new(ints(contexts), [batch, width]), device),
            weight: ShareWeight::of(batch, all, share.workers),
        }
    }
}

/// Plans one batch: `batch` pairs, each with `negatives` draws of `sampler` other than its
/// context.
pub fn plan_pairs<R: Rng + ?Sized>(
    pairs: &SkipGramPairs,
    sampler: &NegativeSampler,
    batch: usize,
    negatives: usize,
    rng: &mut R,
) -> Result<PairPlan, TrainError> {
    let mut centers = Vec::with_capacity(batch);
    let mut contexts = Vec::with_capacity(batch * (1 + negatives));
    for _ in 0..batch {
        let (center, context) = pairs.draw(rng);
        centers.push(center);
        contexts.push(context);
        let exclude = Exclusion::from_sorted(std::slice::from_ref(&context))?;
        sampler.sample_excluding(rng, negatives, &exclude, &mut contexts)?;
    }
    Ok(PairPlan {
        centers,
        contexts,
        negatives,
    })
}

/// Endless batches of skip-gram pairs for burn-train, `steps_per_epoch` per loader epoch
/// (one validation period), `total_steps` in all; the item-item counterpart of
/// [`TrainLoader`](crate::TrainLoader), on the same [`PrefetchLoader`].
///
/// One producer thread draws every pair and negative from one seeded random stream: the same
/// seed gives the same batches, and a resumed run replays the stream up to its checkpoint.
pub type PairLoader = PrefetchLoader<PairBatch>;

impl PlannedBatch for PairBatch {
    type Plan = PairPlan;
    const UNIT: &'static str = "pairs";
    const THREAD: &'static str = "seqrec-pairs";

    fn upload(plan: &PairPlan, share: &BatchShare, device: &Device) -> Self {
        PairBatch::from_share(plan, share, device)
    }
}

impl PrefetchLoader<PairBatch> {
    /// A loader of batches of `batch_size` pairs with `negatives` negatives each, skipping the
    /// first `skip_steps` batches (when resuming).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pairs: SkipGramPairs,
        sampler: NegativeSampler,
        batch_size: usize,
        negatives: usize,
        steps_per_epoch: usize,
        total_steps: usize,
        skip_steps: usize,
        seed: u64,
        device: Device,
    ) -> Self {
        let plan =
            move |rng: &mut ChaCha8Rng| plan_pairs(&pairs, &sampler, batch_size, negatives, rng);
        Self::from_planner(
            Box::new(plan),
            batch_size,
            steps_per_epoch,
            total_steps,
            skip_steps,
            seed,
            device,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn pairs(sequences: Vec<Vec<u32>>, window: usize) -> Result<SkipGramPairs, TrainError> {
        SkipGramPairs::new(Arc::new(sequences), window)
    }

    #[test]
    fn counts_and_draws_only_real_pairs_uniformly() {
        // [1 2 3 2] with window 1: (1,2) (2,1) (2,3) (3,2) (3,2) (2,3); [4 4]: none.
        let p = pairs(vec![vec![1, 2, 3, 2], vec![4, 4], vec![5]], 1).unwrap();
        assert_eq!(p.len(), 6);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts = std::collections::BTreeMap::new();
        let n = 60_000;
        for _ in 0..n {
            *counts.entry(p.draw(&mut rng)).or_insert(0usize) += 1;
        }
        let expected: std::collections::BTreeMap<(u32, u32), f64> =
            [((1, 2), 1.0), ((2, 1), 1.0), ((2, 3), 2.0), ((3, 2), 2.0)]
                .into_iter()
                .collect();
        assert_eq!(
            counts.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        for (pair, share) in expected {
            let want = share / 6.0 * n as f64;
            let got = counts[&pair] as f64;
            assert!(
                (got - want).abs() < 5.0 * want.sqrt(),
                "{pair:?}: {got} vs {want}"
            );
        }
        // Window 2 adds (1,3) and (3,1); (2,2) is a replay, not a pair.
        assert_eq!(pairs(vec![vec![1, 2, 3, 2]], 2).unwrap().len(), 8);
        assert!(pairs(vec![vec![4, 4, 4], vec![1]], 3).is_err());
        assert!(pairs(vec![vec![1, 2]], 0).is_err());
    }

    #[test]
    fn plans_are_seeded_and_negatives_avoid_the_context() {
        let p = pairs(vec![vec![1, 2, 3, 4, 5, 1, 2], vec![6, 7, 6, 8]], 2).unwrap();
        let sampler = NegativeSampler::popularity(&[0, 5, 5, 1, 1, 1, 3, 1, 1], 0.75).unwrap();
        let plan =
            |seed| plan_pairs(&p, &sampler, 50, 6, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        let a = plan(3);
        assert_eq!(a, plan(3));
        assert_ne!(a, plan(4));
        assert_eq!((a.centers.len(), a.contexts.len()), (50, 50 * 7));
        for (b, row) in a.contexts.chunks(7).enumerate() {
            assert_ne!(row[0], a.centers[b]);
            assert!(
                row[1..]
                    .iter()
                    .all(|&n| n != row[0] && (1..=8).contains(&n))
            );
        }
    }
}
