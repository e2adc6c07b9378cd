//! Full-catalogue next-item evaluation of a model on held-out targets.

use std::sync::Arc;

use burn::tensor::Device;
use seqrec_data::HeldOut;
use seqrec_eval::{NextItemEvaluator, NextItemReport};
use seqrec_model::GsasRec;

use crate::error::TrainError;
use crate::loader::EvalLoader;
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
    let loader = EvalLoader::new(
        Arc::new(held_out.inputs.clone()),
        Arc::new(held_out.targets.clone()),
        batch_size.max(1),
        model.max_len,
        model.num_items,
        exclude_history,
        device.clone(),
    );
    let mut evaluator =
        NextItemEvaluator::new(&REPORTED_CUTOFFS).map_err(|e| TrainError::Config(e.to_string()))?;
    let users = held_out.inputs.len().min(held_out.targets.len());
    let mut start = 0;
    while start < users {
        let end = (start + batch_size.max(1)).min(users);
        let ranks = target_ranks(model, loader.batch(start, end))
            .try_into_vec_as::<i64>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        for rank in ranks {
            evaluator.add_rank(rank.max(1) as usize);
        }
        start = end;
    }
    Ok(evaluator.report())
}
