//! Training configuration.

use seqrec_loss::{GBceBeta, LossKind};
use seqrec_model::GsasRecConfig;
use seqrec_sampling::{NegativeDistribution, NegativeSharing};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::objective::Objective;
use crate::run::RunSettings;

/// Everything that defines a training run. Defaults follow gSASRec and the paper: Adam with
/// learning rate 1e-3, batches of 128, 256 negatives per target, gBCE with β = 0.9.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The model.
    pub model: GsasRecConfig,
    /// What the model learns. Default: [`Objective::default_for`] the attention mode.
    pub objective: Objective,
    /// The loss. Default: gBCE with β = 0.9 (the paper's).
    pub loss: LossKind,
    /// Negatives per target. Default: 256.
    pub negatives: usize,
    /// How negatives are shared between targets. Default: per sequence (each position still
    /// gets `negatives` uniform draws, shared with the other positions of its sequence and
    /// scored with one matrix product; [`NegativeSharing::PerPosition`] is the reference
    /// code's choice and about seven times slower at the ML-1M configuration).
    pub sharing: NegativeSharing,
    /// Where negatives come from. Default: uniform over the catalogue.
    pub negative_distribution: NegativeDistribution,
    /// Whether negatives avoid every item of the user's sequence. Default: false.
    pub exclude_history_from_negatives: bool,
    /// Batches, Adam, the limit, validation, early stopping and the seed (flattened in the
    /// JSON form). Defaults: batches of 128 sequences, learning rate 1e-3, validation every
    /// 100 steps, patience 20, seed 42.
    #[serde(flatten)]
    pub run: RunSettings,
    /// Whether validation ranks the user's history items too. Default: false, the
    /// next-item protocol of SASRec and gSASRec (history items are not ranked); true for
    /// listening logs, where the next played track is often one played before.
    #[serde(default)]
    pub validation_ranks_history: bool,
    /// Whether validation also ranks each new target (one the user has not played) among the
    /// items they have not played, and the best checkpoint by that discovery NDCG@10 is
    /// saved as well, in [`crate::DISCOVERY_DIR`] of the output directory: the model for
    /// lists without the history. Needs `validation_ranks_history`. Default: false.
    #[serde(default)]
    pub discovery_checkpoint: bool,
    /// With `discovery_checkpoint`: whether training goes on while the discovery metric
    /// still improves (it stops when neither metric has improved for `patience`
    /// validations) instead of stopping on the main metric alone. Default: false.
    #[serde(default)]
    pub discovery_keeps_training: bool,
    /// Weight of the explore loss: a full softmax over the items outside the input window,
    /// for the targets the user has not played ([`seqrec_loss::explore_softmax_loss`]),
    /// added to the main loss. It trains the scores of new tracks apart from the
    /// repeat-aware term, which otherwise takes most of a replay-heavy log's gradient (a
    /// repeat/explore split as in RepeatNet). Needs the full-softmax loss and a
    /// future-targets objective. Default: 0 (off).
    #[serde(default)]
    pub explore_weight: f64,
    /// How the item tables are updated: densely, or only the rows each batch touches.
    /// Default: [`ItemUpdates::Auto`].
    #[serde(default)]
    pub item_updates: ItemUpdates,
}

/// How a step updates the item embedding tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemUpdates {
    /// [`ItemUpdates::Sparse`] for catalogues of at least [`ItemUpdates::SPARSE_FROM`] items
    /// trained with sampled negatives, [`ItemUpdates::Dense`] otherwise.
    #[default]
    Auto,
    /// Every row of the tables gets a gradient and burn's Adam update at every step: the
    /// step's cost grows with the catalogue (gradients and both Adam moments are tables).
    Dense,
    /// Only the rows a batch touches (its inputs, targets and negatives) get gradients and
    /// updates, by [`crate::SparseAdam`] (lazy Adam with a row-wise second moment): the step's
    /// cost grows with the rows it touches, and the optimizer state is one table and one
    /// column per item table. Needs a loss with sampled negatives.
    Sparse,
}

impl ItemUpdates {
    /// The catalogue size from which [`ItemUpdates::Auto`] updates sparsely: below it a dense
    /// step costs about the same (docs/scale.md).
    pub const SPARSE_FROM: usize = 1 << 18;

    /// Whether a run of `config` updates its tables sparsely.
    pub fn sparse(self, config: &TrainConfig) -> bool {
        match self {
            Self::Dense => false,
            Self::Sparse => true,
            Self::Auto => {
                config.loss.needs_negatives() && config.model.num_items >= Self::SPARSE_FROM
            }
        }
    }
}

impl seqrec_model::Named for ItemUpdates {
    const ALL: &'static [Self] = &[Self::Auto, Self::Dense, Self::Sparse];

    fn name(&self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Dense => "dense",
            Self::Sparse => "sparse",
        }
    }
}

/// The most memory the full-softmax loss may take for its logits (the logits, their softmax
/// and their gradient): larger catalogues need sampled negatives.
pub const FULL_SOFTMAX_MAX_BYTES: usize = 8 << 30;

impl TrainConfig {
    /// The defaults for a model configuration.
    pub fn new(model: GsasRecConfig) -> Self {
        Self {
            objective: Objective::default_for(model.attention),
            model,
            loss: LossKind::GBce {
                beta: GBceBeta::Fixed(0.9),
            },
            negatives: 256,
            sharing: NegativeSharing::PerSequence,
            negative_distribution: NegativeDistribution::Uniform,
            exclude_history_from_negatives: false,
            run: RunSettings::new(128, 1e-3, 20),
            validation_ranks_history: false,
            discovery_checkpoint: false,
            discovery_keeps_training: false,
            explore_weight: 0.0,
            item_updates: ItemUpdates::Auto,
        }
    }

    /// Checks that the run can start.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.model.validate()?;
        self.objective.validate(self.model.attention)?;
        self.run.validate()?;
        let fail = |setting, reason: &str| Err(TrainError::setting(setting, reason));
        self.negative_distribution.validate()?;
        if self.discovery_keeps_training && !self.discovery_checkpoint {
            return fail("discovery_keeps_training", "needs discovery_checkpoint");
        }
        if self.discovery_checkpoint && !self.validation_ranks_history {
            return fail(
                "discovery_checkpoint",
                "the discovery checkpoint needs validation_ranks_history: with the history \
                 excluded, the validation is already a discovery validation",
            );
        }
        if self.model.repeat_half_life.is_some() && !self.objective.scores_from_last_position() {
            return fail(
                "model.repeat_half_life",
                "the repeat-aware score needs an objective that scores from the last position \
                 (future-targets): next-item and cloze score every position",
            );
        }
        if !(self.explore_weight.is_finite() && self.explore_weight >= 0.0) {
            return fail("explore_weight", "must be finite and at least 0");
        }
        if self.explore_weight > 0.0
            && !(matches!(self.loss, LossKind::FullSoftmax)
                && self.objective.scores_from_last_position())
        {
            return fail(
                "explore_weight",
                "the explore loss needs the full-softmax loss and a future-targets objective \
                 (it ranks the whole catalogue from the history's representation)",
            );
        }
        let sampled = self.loss.needs_negatives();
        if !sampled && self.item_updates == ItemUpdates::Sparse {
            return fail(
                "item_updates",
                "sparse item updates need a loss with sampled negatives: the full softmax \
                 gives every row of the output table a gradient at every step",
            );
        }
        if !sampled {
            let bytes = self.full_softmax_bytes();
            if bytes > FULL_SOFTMAX_MAX_BYTES {
                return Err(TrainError::setting(
                    "loss",
                    format!(
                        "the full softmax over {} items would take about {:.1} GB per step for \
                         its logits ({} scored positions × {} ids × 4 bytes × 3: logits, \
                         softmax and gradient), more than the {} GB it may use: choose a loss \
                         with sampled negatives (gbce, bce or sampled-softmax)",
                        self.model.num_items,
                        bytes as f64 / 1e9,
                        self.scored_positions(),
                        self.model.num_items + 2,
                        FULL_SOFTMAX_MAX_BYTES >> 30
                    ),
                ));
            }
        }
        if sampled && (self.negatives == 0 || self.negatives >= self.model.num_items) {
            return Err(TrainError::setting(
                "negatives",
                format!(
                    "negatives per target must be in 1..{} (the catalogue size), got {}",
                    self.model.num_items, self.negatives
                ),
            ));
        }
        Ok(())
    }

    /// Positions scored against the catalogue per step at most: one per sequence when every
    /// target is scored from the last position, one per input position otherwise.
    fn scored_positions(&self) -> usize {
        let per_sequence = if self.objective.scores_from_last_position() {
            1
        } else {
            self.model.input_len()
        };
        self.run.batch_size.saturating_mul(per_sequence)
    }

    /// Bytes of the full softmax's logits, their softmax and their gradient at most.
    fn full_softmax_bytes(&self) -> usize {
        self.scored_positions()
            .saturating_mul(self.model.num_items + 2)
            .saturating_mul(4 * 3)
    }

    /// Whether this run updates its item tables sparsely ([`ItemUpdates`]).
    pub fn sparse_item_updates(&self) -> bool {
        self.item_updates.sparse(self)
    }

    /// β of the gBCE loss for this run (1 for plain BCE, unused by the softmax losses).
    pub fn beta(&self) -> Result<f64, TrainError> {
        Ok(match &self.loss {
            LossKind::GBce { beta } => beta.resolve(self.negatives, self.model.num_items)?,
            _ => 1.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_negative_distribution_fails_validation_before_training() {
        let mut config = TrainConfig::new(GsasRecConfig::new(1000));
        config.run.limit.steps = Some(1);
        assert!(config.validate().is_ok());
        config.negative_distribution = NegativeDistribution::Popularity { gamma: f64::NAN };
        assert!(matches!(
            config.validate(),
            Err(TrainError::Sampling(
                seqrec_sampling::SamplingError::InvalidGamma { .. }
            ))
        ));
    }
}
