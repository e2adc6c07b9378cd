//! Full-catalogue next-item evaluation of a model on held-out targets.

use burn::tensor::{Device, Tensor};
use seqrec_data::HeldOut;
use seqrec_eval::{NextItemEvaluator, NextItemReport, TopKBatch};
use seqrec_model::SequenceScorer;

use crate::batch::EvalBatch;
use crate::error::TrainError;
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
    held_out: &HeldOut,
    batch_size: usize,
    exclude_history: bool,
    device: &Device,
) -> Result<NextItemReport, TrainError> {
    let mut evaluator = NextItemEvaluator::new(&REPORTED_CUTOFFS)?;
    for rank in held_out_ranks(model, held_out, batch_size, exclude_history, device)? {
        evaluator.add_rank(rank);
    }
    Ok(evaluator.report())
}

/// The 1-based full-catalogue rank of every user's held-out item, in the order of `held_out`
/// (see [`evaluate_next_item`], which reports metrics over them). Users are processed
/// `batch_size` at a time in order of history length.
pub fn held_out_ranks(
    model: &impl SequenceScorer,
    held_out: &HeldOut,
    batch_size: usize,
    exclude_history: bool,
    device: &Device,
) -> Result<Vec<usize>, TrainError> {
    let users = held_out.inputs.len().min(held_out.targets.len());
    let mut order: Vec<usize> = (0..users).collect();
    // Stable: users of equal length keep their order.
    order.sort_by_key(|&u| held_out.inputs[u].len().min(model.max_len()));
    let mut ranks = vec![0usize; users];
    for chunk in order.chunks(batch_size.max(1)) {
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

/// The `k` best items of every user over a catalogue scored `chunk` items at a time, best
/// first: users `[users, dim]` against the rows `first_id..` of `table` `[items, dim]` (for a
/// model, [`GsasRec::output_table`](seqrec_model::GsasRec::output_table) with `first_id = 0`,
/// where ids 0 and `num_items + 1` are not items and should be excluded). `exclude(user, id)`
/// removes pairs (a user's history).
///
/// Only one `[users, chunk]` block of scores exists at a time, so memory beyond the table is
/// `users × (chunk + k)` scores whatever the catalogue size.
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn top_k_chunked(
    users: Tensor<2>,
    table: Tensor<2>,
    first_id: u32,
    k: usize,
    chunk: usize,
    exclude: impl Fn(usize, u32) -> bool,
) -> Result<Vec<Vec<(u32, f32)>>, TrainError> {
    let [n_users, _] = users.dims();
    let [items, dim] = table.dims();
    let chunk = chunk.max(1);
    let mut best = TopKBatch::new(n_users, k);
    for start in (0..items).step_by(chunk) {
        let end = (start + chunk).min(items);
        let block = users
            .clone()
            .matmul(table.clone().slice([start..end, 0..dim]).transpose());
        let scores = block
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        best.push_block_filtered(first_id + start as u32, end - start, &scores, &exclude)?;
    }
    Ok(best.into_sorted_vecs())
}
