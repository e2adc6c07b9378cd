//! The training and validation steps that burn-train's `Learner` runs.

use burn::module::Module;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Gradients;
use burn::tensor::{IndexingUpdateOp, Int, Tensor};
use burn::train::metric::{Adaptor, LossInput};
use burn::train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};

use crate::guard::LossGuard;
use seqrec_loss::{
    LossKind, bce_loss, explore_softmax_loss, full_softmax_loss, full_softmax_loss_per_row,
    gbce_loss, sampled_softmax_loss,
};
use seqrec_model::{GsasRec, SequenceScorer};

use crate::batch::{EvalBatch, NegativeIds, ShareWeight, TrainBatch};
use crate::item_rows::{ItemRows, pack_row_gradients};
use crate::item_tables::ItemTables;

/// How a [`GsasRecTraining`] turns a batch into a loss; not a parameter.
#[derive(Debug, Clone)]
pub struct StepSetup {
    /// The loss.
    pub loss: LossKind,
    /// β of gBCE (resolved from the configuration).
    pub beta: f64,
    /// Watches the loss: a non-finite one never updates the model (`None`: no watch).
    pub guard: Option<LossGuard>,
    /// Weight of the explore loss added to the full softmax of future targets
    /// ([`seqrec_loss::explore_softmax_loss`], [`crate::TrainConfig::explore_weight`]);
    /// 0 adds nothing.
    pub explore_weight: f64,
}

/// A [`GsasRec`] with its loss, as burn-train's learner trains it.
#[derive(Module, Debug)]
pub struct GsasRecTraining {
    /// The model being trained (with sparse item updates, its item tables are 2-row
    /// placeholders: the tables are `item_tables`).
    pub model: GsasRec,
    /// How the loss is computed.
    #[module(skip)]
    pub setup: StepSetup,
    /// With sparse item updates, the item tables and their optimizer state, updated in place
    /// by [`TrainStep::optimize`] ([`crate::item_tables`]); `None`: the model's own tables.
    #[module(skip)]
    pub item_tables: Option<ItemTables>,
}

/// What a training step reports: its loss.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The mean loss of the batch `[1]`.
    pub loss: Tensor<1>,
}

impl ItemLazy for StepOutput {
    fn sync(self) -> Result<Self, burn::tensor::ExecutionError> {
        self.loss.device().flush()?;
        Ok(Self {
            loss: self.loss.without_autodiff(),
        })
    }
}

impl Adaptor<LossInput> for StepOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}

/// What a validation step reports: the 1-based rank of each user's target over the catalogue.
#[derive(Debug, Clone)]
pub struct RankOutput {
    /// Ranks `[batch]`.
    pub ranks: Tensor<1, Int>,
    /// Discovery ranks `[batch]` when the batch asks for them ([`EvalBatch::new_target`]):
    /// the rank of a new target among the items outside the input window, 0 for a replay.
    pub discovery_ranks: Option<Tensor<1, Int>>,
}

impl ItemLazy for RankOutput {
    fn sync(self) -> Result<Self, burn::tensor::ExecutionError> {
        self.ranks.device().flush()?;
        Ok(self)
    }
}

impl RankOutput {
    /// The ranks of a validation batch of `model`.
    pub fn of(model: &impl SequenceScorer, batch: EvalBatch) -> Self {
        let (ranks, discovery_ranks) = target_and_discovery_ranks(model, batch);
        Self {
            ranks,
            discovery_ranks,
        }
    }
}

/// How per-position negatives are scored (see [`GsasRec::score_per_position`]); the values
/// are the same either way, up to float rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
// Training always uses `Auto`; the benchmarks choose the other two (feature `internals`).
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub enum PerPositionScoring {
    /// Full-catalogue logits when the catalogue is small next to the number of negatives
    /// ([`GsasRec::full_logits_pay_off`]), gathered embeddings otherwise.
    #[default]
    Auto,
    /// One `[positions, catalogue]` matrix product, then a gather of the negatives' columns.
    Logits,
    /// A gathered `[positions · k, dim]` tensor of the negatives' embeddings.
    Gather,
}

impl GsasRecTraining {
    /// The module paths of the item tables (the input table and the separate output table),
    /// as burn's optimizer and learning-rate schedule name parameters.
    pub const ITEM_TABLE_PATHS: [&'static str; 2] = [
        "model.item_embedding.weight",
        "model.output_embedding.weight",
    ];

    /// The batch's loss (training steps compute it with their gradients in
    /// [`TrainStep::step`]; this is for benchmarks and tests).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn loss(&self, batch: TrainBatch) -> Tensor<1> {
        self.loss_with(batch, PerPositionScoring::Auto)
    }

    /// The batch's loss, scoring per-position negatives as `scoring` says (the other sharing
    /// modes ignore it). [`GsasRecTraining::loss`] uses [`PerPositionScoring::Auto`]. A batch
    /// of sparse item updates ([`TrainBatch::item_rows`]) is scored by the model's view over
    /// its rows.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn loss_with(&self, mut batch: TrainBatch, scoring: PerPositionScoring) -> Tensor<1> {
        match batch.item_rows.take() {
            Some(rows) => {
                let (input, output) = self.gather_rows(&rows);
                let view = self.model.with_item_tables(input, output);
                self.loss_of(&view, batch, scoring)
            }
            None => {
                let model = self.scoring_model();
                self.loss_of(&model, batch, scoring)
            }
        }
    }

    /// The item rows `rows` of the input table and of the separate output table, as leaves
    /// on the training device: from [`GsasRecTraining::item_tables`], or from the model's
    /// own tables.
    fn gather_rows(&self, rows: &ItemRows) -> (Tensor<2>, Option<Tensor<2>>) {
        let device = rows.ids.device();
        if let Some(tables) = &self.item_tables {
            return tables.gather(&rows.ids, &device);
        }
        let leaf = |table: &burn::nn::Embedding| {
            let rows = rows.ids.clone().inner();
            let gathered = table.weight.val().inner().select(0, rows);
            if device.is_autodiff() {
                gathered.autodiff().require_grad()
            } else {
                gathered
            }
        };
        let output = self.model.output_embedding.as_ref().map(leaf);
        (leaf(&self.model.item_embedding), output)
    }

    /// The model that scores: [`GsasRecTraining::model`] with the whole item tables (shared
    /// with [`GsasRecTraining::item_tables`], not copied, when it has them).
    pub fn scoring_model(&self) -> GsasRec {
        match &self.item_tables {
            Some(tables) => {
                let (input, output) = tables.full();
                self.model.with_item_tables(input, output)
            }
            None => self.model.clone(),
        }
    }

    /// The loss of `batch` through `model` (the trained model, or its view over the batch's
    /// item rows).
    fn loss_of(
        &self,
        model: &GsasRec,
        batch: TrainBatch,
        scoring: PerPositionScoring,
    ) -> Tensor<1> {
        // The repeat term reads the window the last position represents; objectives that
        // score from every position are refused with it (`TrainConfig::validate`).
        let window =
            (batch.last_position_only && model.repeat.is_some()).then(|| batch.input.clone());
        // The explore loss reads the whole input window as the user's history.
        let explore = (batch.last_position_only && self.setup.explore_weight > 0.0)
            .then(|| batch.input.clone());
        let hidden = model.forward_with_dropout(batch.input, Some(batch.dropout));
        let [b, _, d] = hidden.dims();
        let [_, t] = batch.targets.dims();
        // The rows that score targets: every position, or the last one for all of them.
        let queries = if batch.last_position_only {
            GsasRec::last_state(hidden).reshape([b, 1, d])
        } else {
            hidden
        };
        let per_target = queries.clone().expand([b, t, d]);
        let mask = batch.target_mask;
        if let LossKind::FullSoftmax = self.setup.loss {
            if batch.last_position_only {
                // Every target of a row is scored from one state: one row of logits each.
                let plain = model.score_all(queries.reshape([b, d]));
                let explore = explore.map(|history| {
                    explore_softmax_loss(
                        plain.clone(),
                        batch.targets.clone(),
                        mask.clone(),
                        history,
                    )
                });
                let logits = match window {
                    Some(window) => model.add_repeat_bias(plain, window),
                    None => plain,
                };
                let loss = full_softmax_loss_per_row(logits, batch.targets, mask);
                return match explore {
                    Some(explore) => loss + explore.mul_scalar(self.setup.explore_weight),
                    None => loss,
                };
            }
            // Only the rows of real targets are scored: the loss is their mean either way.
            let Some(real) = batch.target_rows else {
                let logits = model.score_all(per_target.reshape([b * t, d]));
                let rows = logits.dims()[1];
                return full_softmax_loss(logits.reshape([b, t, rows]), batch.targets, mask);
            };
            let [n] = real.dims();
            let states = per_target.reshape([b * t, d]).select(0, real.clone());
            let targets = batch.targets.reshape([b * t]).select(0, real);
            let logits = model.score_all(states);
            let rows = logits.dims()[1];
            let all = Tensor::<2>::ones([1, n], &targets.device());
            return full_softmax_loss(logits.reshape([1, n, rows]), targets.reshape([1, n]), all);
        }
        let repeat = |ids: Tensor<2, Int>| {
            window
                .as_ref()
                .and_then(|w| model.repeat_bias(w.clone(), ids))
        };
        let mut positives = model.score_targets(per_target.clone(), batch.targets.clone());
        if let Some(bias) = repeat(batch.targets) {
            positives = positives + bias;
        }
        let negatives = match batch.negatives {
            NegativeIds::PerPosition(ids) => {
                let k = ids.dims()[2];
                let bias = repeat(ids.clone().reshape([b, t * k]));
                let scores = match scoring {
                    PerPositionScoring::Auto => model.score_per_position(per_target, ids),
                    PerPositionScoring::Logits => {
                        model.score_per_position_via_logits(per_target, ids)
                    }
                    PerPositionScoring::Gather => {
                        model.score_per_position_via_gather(per_target, ids)
                    }
                };
                match bias {
                    Some(bias) => scores + bias.reshape([b, t, k]),
                    None => scores,
                }
            }
            NegativeIds::PerSequence(ids) => {
                let k = ids.dims()[1];
                let bias = repeat(ids.clone());
                let mut scores = model.score_per_sequence(queries, ids);
                if let Some(bias) = bias {
                    scores = scores + bias.reshape([b, 1, k]);
                }
                scores.expand([b, t, k])
            }
            NegativeIds::PerBatch(ids) => {
                let k = ids.dims()[0];
                let bias = repeat(ids.clone().reshape([1, k]).expand([b, k]));
                let mut scores = model.score_shared(queries, ids);
                if let Some(bias) = bias {
                    scores = scores + bias.reshape([b, 1, k]);
                }
                scores.expand([b, t, k])
            }
        };
        let valid = batch.negative_mask;
        match self.setup.loss {
            LossKind::GBce { .. } => gbce_loss(positives, negatives, mask, valid, self.setup.beta),
            LossKind::Bce => bce_loss(positives, negatives, mask, valid),
            LossKind::SampledSoftmax => sampled_softmax_loss(positives, negatives, mask, valid),
            LossKind::FullSoftmax => unreachable!("handled above"),
        }
    }
}

/// 1-based rank of each target among all items: 1 + the number of items scored strictly
/// higher (ties count in the target's favour). Padding, the mask token and excluded items
/// score `-inf` and never outrank a target.
pub fn target_ranks(model: &impl SequenceScorer, batch: EvalBatch) -> Tensor<1, Int> {
    let batch = EvalBatch {
        new_target: None,
        ..batch
    };
    target_and_discovery_ranks(model, batch).0
}

/// [`target_ranks`], and when the batch asks for them ([`EvalBatch::new_target`]) the
/// discovery ranks from the same scores: for a user whose target is new, its rank among
/// the items outside the input window (the window's items score `-inf`, as the discovery
/// view removes the history from the lists); 0 for a replay.
fn target_and_discovery_ranks(
    model: &impl SequenceScorer,
    batch: EvalBatch,
) -> (Tensor<1, Int>, Option<Tensor<1, Int>>) {
    let scores = model.score_histories(batch.input.clone());
    let discovery = batch.new_target.map(|new| {
        let window = batch.input;
        let hidden = Tensor::<2>::full(window.dims(), f32::NEG_INFINITY, &window.device());
        let scores = scores
            .clone()
            .scatter(1, window, hidden, IndexingUpdateOp::Add);
        rank_of_targets(scores, batch.targets.clone()) * new
    });
    let scores = match batch.exclusion {
        Some(exclusion) => scores + exclusion,
        None => scores,
    };
    (rank_of_targets(scores, batch.targets), discovery)
}

/// 1 + the number of items scored strictly higher than each row's target.
fn rank_of_targets(scores: Tensor<2>, targets: Tensor<2, Int>) -> Tensor<1, Int> {
    let [b, _] = scores.dims();
    let target = scores.clone().gather(1, targets);
    scores
        .greater(target)
        .int()
        .sum_dim(1)
        .reshape([b])
        .add_scalar(1)
}

impl TrainStep for GsasRecTraining {
    type Input = TrainBatch;
    type Output = StepOutput;

    fn step(&self, mut batch: TrainBatch) -> TrainOutput<StepOutput> {
        let weight = batch.weight;
        let guard = self.setup.guard.as_ref();
        let Some(rows) = batch.item_rows.take() else {
            let loss = self.loss_of(&self.model, batch, PerPositionScoring::Auto);
            return guarded_output(self, guard, loss, weight, |_, _| {});
        };
        let leaves = self.gather_rows(&rows);
        let view = self
            .model
            .with_item_tables(leaves.0.clone(), leaves.1.clone());
        let loss = self.loss_of(&view, batch, PerPositionScoring::Auto);
        guarded_output(self, guard, loss, weight, |grads, params| {
            register_row_gradients(&self.model, leaves, &rows, grads, params)
        })
    }

    /// With [`GsasRecTraining::item_tables`], first applies the step's row gradients to the
    /// tables in place ([`ItemTables::update`], at the item tables' learning rate), then
    /// burn's optimizer to the other parameters.
    fn optimize(
        self,
        optim: &mut ModuleOptimizer,
        lr: ModuleLearningRate,
        mut grads: GradientsParams,
    ) -> Self {
        if let Some(tables) = &self.item_tables {
            let input = &self.model.item_embedding.weight;
            let rate = lr.lr_from_param(input.id, Some(Self::ITEM_TABLE_PATHS[0]));
            let output = self.model.output_embedding.as_ref();
            let output = output.and_then(|t| grads.remove::<2>(t.weight.id));
            tables.update(grads.remove::<2>(input.id), output, rate);
        }
        optim.step(lr, self, grads)
    }
}

impl InferenceStep for GsasRecTraining {
    type Input = EvalBatch;
    type Output = RankOutput;

    fn step(&self, batch: EvalBatch) -> RankOutput {
        RankOutput::of(&self.scoring_model(), batch)
    }
}

/// The training output of `loss`: its gradients, or none when `guard` finds the loss NaN or
/// infinite (then the batch does not update the model; reading the loss syncs the device once
/// a step, as the loss metric does anyway). `more` adds gradients that are not the module's
/// own parameters' (the row gradients of sparse item updates) from the backward pass.
///
/// A worker's batch in data-parallel training ([`ShareWeight`]) backpropagates its loss scaled
/// by its part of the step's targets, so that burn-train's sum of the workers' gradients is
/// the gradient of the whole batch; it reports that part times the number of workers, so
/// that the loss metric's mean over the workers' reports is the whole batch's loss.
pub(crate) fn guarded_output<M: Module>(
    module: &M,
    guard: Option<&LossGuard>,
    loss: Tensor<1>,
    weight: ShareWeight,
    more: impl FnOnce(&mut Gradients, &mut GradientsParams),
) -> TrainOutput<StepOutput> {
    if let Some(guard) = guard {
        let value: f32 = loss.clone().into_scalar();
        if !guard.admit(f64::from(value)) {
            return TrainOutput {
                grads: GradientsParams::new(),
                item: StepOutput { loss },
            };
        }
    }
    let (part, report) = if weight == ShareWeight::WHOLE {
        (loss.clone(), loss)
    } else {
        let part = loss.mul_scalar(weight.fraction);
        let report = part.clone().mul_scalar(weight.workers as f64);
        (part, report)
    };
    let mut grads = part.backward();
    let mut params = GradientsParams::from_module(&mut grads, module);
    more(&mut grads, &mut params);
    TrainOutput {
        grads: params,
        item: StepOutput { loss: report },
    }
}

/// Registers the row gradients of a sparse step's item tables (`leaves`: the input rows and
/// the separate output rows) under the tables' parameters in `model`, packed with the rows'
/// ids ([`crate::item_rows`]), for [`GsasRecTraining`]'s `optimize`.
fn register_row_gradients(
    model: &GsasRec,
    leaves: (Tensor<2>, Option<Tensor<2>>),
    rows: &ItemRows,
    grads: &mut Gradients,
    params: &mut GradientsParams,
) {
    let tables = [
        (Some(&model.item_embedding), Some(leaves.0)),
        (model.output_embedding.as_ref(), leaves.1),
    ];
    for (table, leaf) in tables {
        let (Some(table), Some(leaf)) = (table, leaf) else {
            continue;
        };
        if let Some(grad) = leaf.grad_remove(grads) {
            let ids = rows.id_columns.clone().inner();
            params.register(table.weight.id, pack_row_gradients(grad, ids));
        }
    }
}
