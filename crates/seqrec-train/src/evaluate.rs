//! Full-catalogue next-item evaluation of a model on held-out targets.

use burn::tensor::Device;
use seqrec_data::HeldOut;
use seqrec_eval::{NextItemEvaluator, NextItemReport};
use seqrec_model::GsasRec;

use crate::batch::EvalBatch;
use crate::error::TrainError;
use crate::step::target_ranks;

/// Cutoffs reported by [`evaluate_next_item`]: recall@1, and NDCG and recall at 10.
pub const REPORTED_CUTOFFS: [usize; 2] = [1, 10];

/// Ranks every user's held-out item among all items (with `exclude_history`, the items of
/// the user's history other than the target are removed first), `batch_size` users at a time,
/// and reports NDCG@k, recall@k and MRR.
pub fn evaluate_next_item(
    model: &GsasRec,
    held_out: &HeldOut,
    batch_size: usize,
    exclude_history: bool,
    device: &Device,
) -> Result<NextItemReport, TrainError> {
    let mut evaluator =
        NextItemEvaluator::new(&REPORTED_CUTOFFS).map_err(|e| TrainError::Config(e.to_string()))?;
    let batch = batch_size.max(1);
    for (inputs, targets) in held_out
        .inputs
        .chunks(batch)
        .zip(held_out.targets.chunks(batch))
    {
        let histories: Vec<&[u32]> = inputs.iter().map(Vec::as_slice).collect();
        let batch = EvalBatch::new(
            &histories,
            targets,
            model.max_len,
            model.num_items,
            exclude_history,
            device,
        );
        let ranks = target_ranks(model, batch)
            .try_into_vec_as::<i64>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        for rank in ranks {
            evaluator.add_rank(rank.max(1) as usize);
        }
    }
    Ok(evaluator.report())
}
