//! The training and validation steps of the item-item model.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use seqrec_loss::bce_loss;
use seqrec_model::ItemItem;

use crate::batch::EvalBatch;
use crate::guard::LossGuard;
use crate::item_item::pairs::PairBatch;
use crate::step::{RankOutput, StepOutput, guarded_output};

/// An [`ItemItem`] as burn-train's learner trains it: skip-gram with negative sampling,
/// validated by full-catalogue ranks of held-out items.
#[derive(Module, Debug)]
pub struct ItemItemTraining {
    /// The model being trained.
    pub model: ItemItem,
    /// Watches the loss: a non-finite one never updates the model (`None`: no watch).
    #[module(skip)]
    pub guard: Option<LossGuard>,
}

impl ItemItemTraining {
    /// The batch's loss: BCE of the true context against the sampled negatives
    /// (word2vec's negative-sampling objective, averaged over pairs).
    pub fn loss(&self, batch: PairBatch) -> Tensor<1> {
        let [b, c] = batch.contexts.dims();
        let logits = self.model.pair_logits(batch.centers, batch.contexts);
        let device = logits.device();
        let positives = logits.clone().slice([0..b, 0..1]);
        let negatives = logits.slice([0..b, 1..c]).reshape([b, 1, c - 1]);
        bce_loss(positives, negatives, Tensor::ones([b, 1], &device), None)
    }
}

impl TrainStep for ItemItemTraining {
    type Input = PairBatch;
    type Output = StepOutput;

    fn step(&self, batch: PairBatch) -> TrainOutput<StepOutput> {
        let weight = batch.weight;
        let loss = self.loss(batch);
        guarded_output(self, self.guard.as_ref(), loss, weight, |_, _| {})
    }
}

impl InferenceStep for ItemItemTraining {
    type Input = EvalBatch;
    type Output = RankOutput;

    fn step(&self, batch: EvalBatch) -> RankOutput {
        RankOutput::of(&self.model, batch)
    }
}
