//! Full-catalogue next-item evaluation of a model on held-out targets.

use burn::tensor::Device;
use seqrec_data::HistoryTargets;
use seqrec_eval::{NextItemEvaluator, NextItemReport};
use seqrec_model::SequenceScorer;

use crate::batch::EvalBatch;
use crate::error::TrainError;
use crate::serving::ranking::{MAX_SCORES_PER_BLOCK, scoring_blocks};
use crate::step::target_ranks;

/// Cutoffs reported by [`evaluate_next_item`]: recall@1, and NDCG and recall at 10.
pub const REPORTED_CUTOFFS: [usize; 2] = [1, 10];

/// Ranks every user's held-out item among all items (with `exclude_history`, the items of
/// the user's history other than the target are removed first), `batch_size` users at a time,
/// and reports NDCG@k, recall@k and MRR.
///
/// Users are batched by history length (shortest first), so that a batch is padded to about
/// its users' own length instead of the longest history of the split: on ML-1M (mean history
/// 107 of at most 200) this halves the transformer's work. Ranks are reported in the order of
/// `held_out`, as if users were ranked one by one.
pub fn evaluate_next_item(
    model: &impl SequenceScorer,
    held_out: &HistoryTargets,
    batch_size: usize,
    exclude_history: bool,
    device: &Device,
) -> Result<NextItemReport, TrainError> {
    let mut evaluator = NextItemEvaluator::new(&REPORTED_CUTOFFS)?;
    for rank in next_item_ranks(model, held_out, batch_size, exclude_history, device)? {
        evaluator.add_rank(rank);
    }
    Ok(evaluator.report())
}

/// The 1-based full-catalogue rank of every user's held-out item, in the order of `held_out`
/// (see [`evaluate_next_item`], which reports metrics over them). Users are processed
/// `batch_size` at a time in order of history length, fewer when a block would hold more than
/// [`MAX_SCORES_PER_BLOCK`] scores (as in [`rank_top_k`](crate::rank_top_k)).
pub fn next_item_ranks(
    model: &impl SequenceScorer,
    held_out: &HistoryTargets,
    batch_size: usize,
    exclude_history: bool,
    device: &Device,
) -> Result<Vec<usize>, TrainError> {
    let users = held_out.inputs.len().min(held_out.targets.len());
    let (order, per_block) = scoring_blocks(
        &held_out.inputs[..users],
        model,
        batch_size,
        MAX_SCORES_PER_BLOCK,
    );
    let mut ranks = vec![0usize; users];
    for chunk in order.chunks(per_block) {
        let histories: Vec<&[u32]> = chunk
            .iter()
            .map(|&u| held_out.inputs[u].as_slice())
            .collect();
        let targets: Vec<u32> = chunk.iter().map(|&u| held_out.targets[u]).collect();
        let batch = EvalBatch::new(
            &histories,
            &targets,
            model.max_len(),
            model.num_items(),
            exclude_history,
            device,
        );
        let batch_ranks = target_ranks(model, batch)
            .try_into_vec_as::<i64>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        for (&u, rank) in chunk.iter().zip(batch_ranks) {
            ranks[u] = rank.max(1) as usize;
        }
    }
    Ok(ranks)
}
