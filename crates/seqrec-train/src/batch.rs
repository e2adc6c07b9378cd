//! Batches as tensors on the training or validation device.

use std::ops::Range;

use burn::tensor::{Device, Int, Tensor, TensorData};
use seqrec_model::DropoutKey;
use seqrec_sampling::NegativeSharing;

use crate::item_rows::ItemRows;
use crate::plan::BatchPlan;
use crate::prefetch::BatchShare;

/// Negative ids in the layout of their sharing mode.
#[derive(Debug, Clone)]
// The variants are named after the sharing modes of `NegativeSharing`.
#[allow(clippy::enum_variant_names)]
pub enum NegativeIds {
    /// `[batch, targets, k]`: fresh negatives for every target.
    PerPosition(Tensor<3, Int>),
    /// `[batch, k]`: shared by all targets of a sequence.
    PerSequence(Tensor<2, Int>),
    /// `[k]`: shared by the whole batch.
    PerBatch(Tensor<1, Int>),
}

/// One training batch on a device.
#[derive(Debug, Clone)]
pub struct TrainBatch {
    /// Input ids `[batch, len]`, left-padded with 0.
    pub input: Tensor<2, Int>,
    /// Target ids `[batch, targets]`; 0 where there is no target.
    pub targets: Tensor<2, Int>,
    /// 1.0 where there is a target, 0.0 elsewhere `[batch, targets]`.
    pub target_mask: Tensor<2>,
    /// Whether all targets of a row are scored from its last position (else target `t` is
    /// scored from position `t`).
    pub last_position_only: bool,
    /// Sampled negatives.
    pub negatives: NegativeIds,
    /// Valid negatives `[batch, targets, k]` (batch-shared negatives that hit the target are 0).
    pub negative_mask: Option<Tensor<3>>,
    /// Flat indices (`row · targets + column`) of the real targets `[n]`, when some targets
    /// are padding and at least one is real: losses over the whole catalogue score only these
    /// rows (left-padded windows are about half padding on ML-1M).
    pub target_rows: Option<Tensor<1, Int>>,
    /// Where the dropout masks come from (see [`BatchShare::dropout_key`]).
    pub dropout: DropoutKey,
    /// This batch's part of the step: its weight in the step's loss and the workers that
    /// share the step.
    pub weight: ShareWeight,
    /// With sparse item updates, the item rows the step touches: the ids above are positions
    /// in them ([`crate::item_rows`]).
    pub item_rows: Option<ItemRows>,
}

/// The weight of one worker's batch in its step's loss. Each worker's loss is a mean over its
/// own targets; scaled by `fraction` (its part of the step's targets) the workers' gradients
/// add up to those of the whole batch on one device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareWeight {
    /// The batch's part of the targets of its step (1 on one device).
    pub fraction: f64,
    /// Workers sharing the step (1 on one device).
    pub workers: usize,
}

impl ShareWeight {
    /// The weight of a whole step's batch.
    pub const WHOLE: Self = Self {
        fraction: 1.0,
        workers: 1,
    };

    /// The weight of `part` counted items out of the step's `total` (`workers` sharing it);
    /// an equal part each when the step has none.
    pub fn of(part: usize, total: usize, workers: usize) -> Self {
        let fraction = if total == 0 {
            1.0 / workers.max(1) as f64
        } else {
            part as f64 / total as f64
        };
        Self { fraction, workers }
    }
}

/// The elements of rows `rows` of a row-major `[_, row_len]` array.
fn row_slice<T: Clone>(data: &[T], rows: &Range<usize>, row_len: usize) -> Vec<T> {
    data[rows.start * row_len..rows.end * row_len].to_vec()
}

fn ints<const D: usize>(ids: &[u32], shape: [usize; D], device: &Device) -> Tensor<D, Int> {
    let data: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
    Tensor::from_data(TensorData::new(data, shape), device)
}

impl TrainBatch {
    /// Uploads a whole plan to `device`, as step 0 of a run seeded with 0
    /// ([`BatchShare::whole`]).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn from_plan(plan: &BatchPlan, device: &Device) -> Self {
        Self::from_share(plan, &BatchShare::whole(plan.batch), device)
    }

    /// Uploads the rows of `plan` that `share` names to `device`.
    pub fn from_share(plan: &BatchPlan, share: &BatchShare, device: &Device) -> Self {
        let rows = share.rows.start.min(plan.batch)..share.rows.end.min(plan.batch);
        let (b, l, t, k) = (rows.len(), plan.len, plan.target_len, plan.negatives.k);
        let targets = row_slice(&plan.targets, &rows, t);
        let mask: Vec<f32> = targets
            .iter()
            .map(|&id| if id == 0 { 0.0 } else { 1.0 })
            .collect();
        let ids = &plan.negatives.ids;
        let negatives = match plan.negatives.sharing {
            NegativeSharing::PerPosition => {
                NegativeIds::PerPosition(ints(&row_slice(ids, &rows, t * k), [b, t, k], device))
            }
            NegativeSharing::PerSequence => {
                NegativeIds::PerSequence(ints(&row_slice(ids, &rows, k), [b, k], device))
            }
            NegativeSharing::PerBatch => NegativeIds::PerBatch(ints(ids, [k], device)),
        };
        let real: Vec<u32> = (0..targets.len() as u32)
            .filter(|&i| targets[i as usize] != 0)
            .collect();
        let target_rows = (!real.is_empty() && real.len() < targets.len())
            .then(|| ints(&real, [real.len()], device));
        let all_real = plan.targets.iter().filter(|&&id| id != 0).count();
        Self {
            target_rows,
            input: ints(&row_slice(&plan.input, &rows, l), [b, l], device),
            targets: ints(&targets, [b, t], device),
            target_mask: Tensor::from_data(TensorData::new(mask, [b, t]), device),
            last_position_only: plan.last_position_only,
            negatives,
            negative_mask: plan.negative_mask.as_ref().map(|m| {
                let m = row_slice(m, &rows, t * k);
                Tensor::from_data(TensorData::new(m, [b, t, k]), device)
            }),
            dropout: share.dropout_key(),
            weight: ShareWeight::of(real.len(), all_real, share.workers),
            item_rows: plan
                .item_rows
                .as_ref()
                .map(|rows| ItemRows::new(rows, share.rows.start == 0, device)),
        }
    }
}

/// One validation batch: histories, their held-out targets and the items not to rank.
#[derive(Debug, Clone)]
pub struct EvalBatch {
    /// Histories `[batch, len]`, left-padded with 0 (the last `max_len` items).
    pub input: Tensor<2, Int>,
    /// Held-out item per user `[batch, 1]`.
    pub targets: Tensor<2, Int>,
    /// Added to the scores `[batch, num_items + 2]`: `-inf` for items that must not be ranked
    /// (the user's history, except the target itself), 0 elsewhere. `None`: rank everything.
    pub exclusion: Option<Tensor<2>>,
    /// For the discovery ranks (see [`EvalBatch::with_discovery`]): 1 for a user whose target
    /// is not in their history, 0 for a replay. `None`: no discovery ranks.
    pub new_target: Option<Tensor<1, Int>>,
}

impl EvalBatch {
    /// Builds a batch from histories (full, untruncated) and targets; with `exclude_history`
    /// the items of each history (but its target) are not ranked.
    pub fn new(
        histories: &[&[u32]],
        targets: &[u32],
        max_len: usize,
        num_items: usize,
        exclude_history: bool,
        device: &Device,
    ) -> Self {
        let exclusions = exclude_history.then_some(histories);
        Self::excluding(histories, exclusions, targets, max_len, num_items, device)
    }

    /// Builds a batch from histories (full, untruncated) and targets where the items of
    /// `exclusions[b]` (but target `b`) are not ranked for history `b`; `None` ranks everything.
    pub fn excluding(
        histories: &[&[u32]],
        exclusions: Option<&[&[u32]]>,
        targets: &[u32],
        max_len: usize,
        num_items: usize,
        device: &Device,
    ) -> Self {
        let batch = histories.len();
        let len = histories
            .iter()
            .map(|h| h.len().min(max_len))
            .max()
            .unwrap_or(1)
            .max(1);
        let mut input = vec![0u32; batch * len];
        for (b, h) in histories.iter().enumerate() {
            let tail = &h[h.len().saturating_sub(max_len)..];
            input[b * len + len - tail.len()..(b + 1) * len].copy_from_slice(tail);
        }
        let exclusion = exclusions.map(|exclusions| {
            let rows = num_items + 2;
            let mut bias = vec![0f32; batch * rows];
            for (b, h) in exclusions.iter().enumerate() {
                for &item in h.iter() {
                    if item != targets[b] && (item as usize) < rows {
                        bias[b * rows + item as usize] = f32::NEG_INFINITY;
                    }
                }
            }
            Tensor::from_data(TensorData::new(bias, [batch, rows]), device)
        });
        Self {
            input: ints(&input, [batch, len], device),
            targets: ints(targets, [batch, 1], device),
            exclusion,
            new_target: None,
        }
    }

    /// Also asks for the discovery ranks of the batch built from `histories` and `targets`:
    /// for a user whose target is not in their history, its rank among the items outside
    /// the model's input window (see [`RankOutput::discovery_ranks`](crate::step::RankOutput::discovery_ranks)). Users whose target is a
    /// replay get no discovery rank.
    pub fn with_discovery(mut self, histories: &[&[u32]], targets: &[u32]) -> Self {
        let new: Vec<u32> = histories
            .iter()
            .zip(targets)
            .map(|(h, t)| u32::from(!h.contains(t)))
            .collect();
        let device = self.targets.device();
        self.new_target = Some(ints(&new, [new.len()], &device));
        self
    }
}
