//! Full-catalogue top-k ranking for any [`SequenceScorer`], batched by history length.

use burn::tensor::Device;
use seqrec_model::SequenceScorer;

use crate::batch::EvalBatch;
use crate::error::TrainError;

/// The most scores (`histories × (num_items + 2)`) [`rank_top_k`] computes at once: 2^25, 128 MB
/// of `f32` (with the exclusion mask and top-k, about three times that at the peak). ML-1M's
/// 3 416 items fit 9 800 histories in one block; 10 million items, three.
pub const MAX_SCORES_PER_BLOCK: usize = 1 << 25;

/// Top `k` `(model id, score)` per history of model ids, best first, over the whole
/// catalogue of `model`.
///
/// Histories are in time order, oldest first; the model reads the last
/// [`SequenceScorer::max_len`] items of each. They are ranked `batch_size` at a time, sorted
/// by (truncated) length so that short histories are not padded to the longest one, and the
/// results come back in the order of `histories`. One path serves every catalogue size: a
/// block never holds more than [`MAX_SCORES_PER_BLOCK`] scores, so on a large catalogue
/// fewer histories are scored at a time (at least one) and memory stays bounded; a user's
/// list does not depend on the others of its block. With `exclude_history` the items of a
/// history are never returned for it; padding and the reserved id never are. Fewer than `k`
/// items come back when the catalogue (less the history) is smaller.
///
/// Errors: [`TrainError::EmptyHistory`] for an empty history and [`TrainError::UnknownItem`]
/// for an id outside `1..=num_items`, before anything is scored.
///
/// ```
/// use burn::tensor::Device;
/// use seqrec_model::Popularity;
/// use seqrec_train::rank_top_k;
///
/// let device = Device::ndarray();
/// let popular = Popularity::new(&[0, 5, 40, 7, 1], &device).unwrap();
/// let top = rank_top_k(&popular, &[vec![2], vec![1, 3]], 2, true, 64, &device).unwrap();
/// assert_eq!(top[0], vec![(3, 7.0), (1, 5.0)]);
/// assert_eq!(top[1], vec![(2, 40.0), (4, 1.0)]);
/// ```
pub fn rank_top_k<M: SequenceScorer + ?Sized>(
    model: &M,
    histories: &[Vec<u32>],
    k: usize,
    exclude_history: bool,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Vec<(u32, f32)>>, TrainError> {
    let exclusions = exclude_history.then_some(histories);
    rank_top_k_excluding(model, histories, exclusions, k, batch_size, device)
}

/// [`rank_top_k`] with the items never returned for each history given apart from it:
/// `exclusions[u]` for `histories[u]` (for instance every play of a listener, where the model
/// reads the positive ones); `None` excludes nothing.
///
/// Errors: those of [`rank_top_k`], and [`TrainError::SizeMismatch`] when `exclusions` and
/// `histories` differ in length.
pub fn rank_top_k_excluding<M: SequenceScorer + ?Sized>(
    model: &M,
    histories: &[Vec<u32>],
    exclusions: Option<&[Vec<u32>]>,
    k: usize,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Vec<(u32, f32)>>, TrainError> {
    rank_in_blocks(
        model,
        histories,
        exclusions,
        k,
        batch_size,
        MAX_SCORES_PER_BLOCK,
        device,
    )
}

/// [`rank_top_k_excluding`] with at most `max_scores` scores per block (at least one history).
fn rank_in_blocks<M: SequenceScorer + ?Sized>(
    model: &M,
    histories: &[Vec<u32>],
    exclusions: Option<&[Vec<u32>]>,
    k: usize,
    batch_size: usize,
    max_scores: usize,
    device: &Device,
) -> Result<Vec<Vec<(u32, f32)>>, TrainError> {
    validate_histories(histories, model.num_items())?;
    if let Some(exclusions) = exclusions
        && exclusions.len() != histories.len()
    {
        return Err(TrainError::SizeMismatch {
            what: "exclusion lists (one per history)",
            expected: histories.len(),
            found: exclusions.len(),
        });
    }
    let mut ranked = vec![Vec::new(); histories.len()];
    let k = k.min(model.num_items());
    if k == 0 {
        return Ok(ranked);
    }
    let max_len = model.max_len();
    let (order, per_block) = scoring_blocks(histories, model, batch_size, max_scores);
    for chunk in order.chunks(per_block) {
        let batch: Vec<&[u32]> = chunk.iter().map(|&u| histories[u].as_slice()).collect();
        let excluded: Option<Vec<&[u32]>> =
            exclusions.map(|e| chunk.iter().map(|&u| e[u].as_slice()).collect());
        // No target: 0 is never in a history, so nothing is spared from exclusion.
        let targets = vec![0u32; chunk.len()];
        let batch = EvalBatch::excluding(
            &batch,
            excluded.as_deref(),
            &targets,
            max_len,
            model.num_items(),
            device,
        );
        let mut scores = model.score_histories(batch.input);
        if let Some(exclusion) = batch.exclusion {
            scores = scores + exclusion;
        }
        let (values, indices) = scores.topk_with_indices(k, 1);
        let values = values
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        let indices = indices
            .try_into_vec_as::<i64>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        for ((&u, v), i) in chunk.iter().zip(values.chunks(k)).zip(indices.chunks(k)) {
            ranked[u] = v
                .iter()
                .zip(i)
                .filter(|(s, _)| s.is_finite())
                .map(|(&s, &id)| (id as u32, s))
                .collect();
        }
    }
    Ok(ranked)
}

/// How histories are scored, for ranking and for validation ranks alike: the order (by
/// length truncated to the model's `max_len`, stable, so that a block is padded to about its
/// own length) and how many a block holds (`batch_size`, fewer when that would exceed
/// `max_scores` scores of `num_items + 2` columns each, at least one). Chunk the order by it.
pub(crate) fn scoring_blocks<M: SequenceScorer + ?Sized>(
    histories: &[Vec<u32>],
    model: &M,
    batch_size: usize,
    max_scores: usize,
) -> (Vec<usize>, usize) {
    let max_len = model.max_len();
    let mut order: Vec<usize> = (0..histories.len()).collect();
    // Stable: histories of equal length keep their order.
    order.sort_by_key(|&u| histories[u].len().min(max_len));
    let per_block = batch_size.min(max_scores / (model.num_items() + 2)).max(1);
    (order, per_block)
}

/// Checks histories of model ids: none empty, every id in `1..=num_items`.
pub(crate) fn validate_histories(
    histories: &[Vec<u32>],
    num_items: usize,
) -> Result<(), TrainError> {
    for history in histories {
        if history.is_empty() {
            return Err(TrainError::EmptyHistory);
        }
        if let Some((position, &id)) = history
            .iter()
            .enumerate()
            .find(|&(_, &id)| id == 0 || id as usize > num_items)
        {
            return Err(TrainError::UnknownItem {
                item: id.to_string(),
                position,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use seqrec_model::{GsasRecConfig, ItemItemConfig, Popularity};

    /// Ranks one history at a time by sorting every score (ties: lower id first).
    fn brute_force<M: SequenceScorer>(
        model: &M,
        history: &[u32],
        k: usize,
        exclude_history: bool,
        device: &Device,
    ) -> Vec<(u32, f32)> {
        let batch = EvalBatch::new(
            &[history],
            &[0],
            model.max_len(),
            model.num_items(),
            false,
            device,
        );
        let scores: Vec<f32> = model
            .score_histories(batch.input)
            .into_data()
            .to_vec()
            .unwrap();
        let mut all: Vec<(u32, f32)> = (1..=model.num_items() as u32)
            .filter(|id| !(exclude_history && history.contains(id)))
            .map(|id| (id, scores[id as usize]))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    fn histories(num_items: u32, n: usize, seed: u64) -> Vec<Vec<u32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let len = rng.random_range(1..=12);
                (0..len).map(|_| rng.random_range(1..=num_items)).collect()
            })
            .collect()
    }

    /// Same scores, and the same ids wherever the score is not tied with a neighbour.
    fn assert_same_ranking(got: &[(u32, f32)], expected: &[(u32, f32)]) {
        assert_eq!(got.len(), expected.len());
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!(
                (g.1 - e.1).abs() <= 1e-5 * e.1.abs().max(1.0),
                "{got:?} vs {expected:?}"
            );
            let tied = expected
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && (o.1 - e.1).abs() <= 1e-5 * e.1.abs().max(1.0));
            if !tied {
                assert_eq!(g.0, e.0, "{got:?} vs {expected:?}");
            }
        }
    }

    /// `rank_top_k` against the brute force, and on the reversed input.
    fn check<M: SequenceScorer>(
        model: &M,
        histories: &[Vec<u32>],
        k: usize,
        exclude: bool,
        batch_size: usize,
        device: &Device,
    ) {
        let ranked = rank_top_k(model, histories, k, exclude, batch_size, device).unwrap();
        for (history, got) in histories.iter().zip(&ranked) {
            assert_same_ranking(got, &brute_force(model, history, k, exclude, device));
        }
        // Reversed input: reversed output, the same lists.
        let reversed: Vec<Vec<u32>> = histories.iter().rev().cloned().collect();
        let mut back = rank_top_k(model, &reversed, k, exclude, batch_size, device).unwrap();
        back.reverse();
        for (b, r) in back.iter().zip(&ranked) {
            assert_same_ranking(b, r);
        }
    }

    #[test]
    fn equals_brute_force_and_ignores_input_order() {
        let device = Device::ndarray();
        device.seed(3);
        let gsasrec = GsasRecConfig::new(40)
            .with_dim(8)
            .with_max_len(6)
            .with_blocks(1)
            .init(&device)
            .unwrap();
        let item_item = ItemItemConfig::new(40)
            .with_dim(8)
            .with_max_len(6)
            .init(&device)
            .unwrap();
        let histories = histories(40, 23, 1);
        for exclude in [false, true] {
            for k in [1, 7, 40, 100] {
                check(&gsasrec, &histories, k, exclude, 5, &device);
                check(&item_item, &histories, k, exclude, 4, &device);
            }
        }
        // Excluding the history leaves fewer than k items for a history of distinct items.
        let small = ItemItemConfig::new(5).with_dim(4).init(&device).unwrap();
        let top = rank_top_k(&small, &[vec![1, 2, 3]], 5, true, 8, &device).unwrap();
        let mut ids: Vec<u32> = top[0].iter().map(|r| r.0).collect();
        ids.sort();
        assert_eq!(ids, vec![4, 5]);
    }

    #[test]
    fn a_score_budget_smaller_than_a_batch_gives_the_same_lists() {
        let device = Device::ndarray();
        device.seed(5);
        let model = ItemItemConfig::new(30)
            .with_dim(8)
            .with_max_len(6)
            .init(&device)
            .unwrap();
        let histories = histories(30, 11, 2);
        let whole = rank_top_k(&model, &histories, 7, true, 64, &device).unwrap();
        // 32 columns per history: a budget of 70 scores ranks two histories at a time, and one
        // below a single row still ranks one.
        for budget in [70, 1] {
            let blocks =
                rank_in_blocks(&model, &histories, Some(&histories), 7, 64, budget, &device)
                    .unwrap();
            assert_eq!(blocks.len(), whole.len());
            for (b, w) in blocks.iter().zip(&whole) {
                assert_same_ranking(b, w);
            }
        }
    }

    #[test]
    fn popularity_ranks_by_count() {
        let device = Device::ndarray();
        let model = Popularity::new(&[0, 2, 9, 4, 7], &device).unwrap();
        let top = rank_top_k(&model, &[vec![4], vec![1]], 3, true, 1, &device).unwrap();
        assert_eq!(top[0], vec![(2, 9.0), (3, 4.0), (1, 2.0)]);
        assert_eq!(top[1], vec![(2, 9.0), (4, 7.0), (3, 4.0)]);
        let all = rank_top_k(&model, &[vec![4]], 10, false, 1, &device).unwrap();
        assert_eq!(all[0].len(), 4);
    }

    #[test]
    fn exclusions_given_apart_from_the_histories_are_never_returned() {
        let device = Device::ndarray();
        let model = Popularity::new(&[0, 2, 9, 4, 7], &device).unwrap();
        let histories = [vec![4], vec![1]];
        let exclusions = [vec![4, 2], vec![]];
        let top =
            rank_top_k_excluding(&model, &histories, Some(&exclusions), 2, 1, &device).unwrap();
        assert_eq!(top[0], vec![(3, 4.0), (1, 2.0)]);
        assert_eq!(top[1], vec![(2, 9.0), (4, 7.0)]);
        assert!(matches!(
            rank_top_k_excluding(&model, &histories, Some(&exclusions[..1]), 2, 1, &device),
            Err(TrainError::SizeMismatch {
                expected: 2,
                found: 1,
                ..
            })
        ));
    }

    #[test]
    fn bad_histories_are_typed_errors() {
        let device = Device::ndarray();
        let model = Popularity::new(&[0, 1, 1, 1], &device).unwrap();
        assert!(matches!(
            rank_top_k(&model, &[vec![1], vec![]], 3, false, 8, &device),
            Err(TrainError::EmptyHistory)
        ));
        assert!(matches!(
            rank_top_k(&model, &[vec![1, 4]], 3, false, 8, &device),
            Err(TrainError::UnknownItem { position: 1, .. })
        ));
        assert!(matches!(
            rank_top_k(&model, &[vec![0]], 3, false, 8, &device),
            Err(TrainError::UnknownItem { position: 0, .. })
        ));
        assert_eq!(
            rank_top_k(&model, &[vec![1], vec![2]], 0, false, 8, &device).unwrap(),
            vec![Vec::new(), Vec::new()]
        );
        assert!(
            rank_top_k(&model, &[], 3, false, 8, &device)
                .unwrap()
                .is_empty()
        );
    }
}
