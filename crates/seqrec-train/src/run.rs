//! How a run is driven, whatever the model: batches, Adam's learning rate, the limit,
//! validation, early stopping and the seed. [`crate::TrainConfig`] and
//! [`crate::ItemItemTrainConfig`] nest one [`RunSettings`] each (flattened in their JSON, so
//! `config.json` reads as before) and validate it in one place.

use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::guard::NonFiniteLoss;

/// The seed of every default configuration (defined with the data splits, which use it too).
pub use seqrec_data::DEFAULT_SEED;

/// When training stops (whichever comes first; early stopping may stop it sooner).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainLimit {
    /// Optimiser steps.
    pub steps: Option<usize>,
    /// Passes over the training sequences.
    pub epochs: Option<usize>,
    /// Wall-clock seconds.
    pub seconds: Option<f64>,
}

/// The settings of a run that do not depend on the model. Each model's configuration sets
/// its own defaults (see [`crate::TrainConfig::new`] and [`crate::ItemItemTrainConfig::new`]).
///
/// ```
/// use seqrec_train::{RunSettings, TrainLimit};
/// let mut run = RunSettings::new(128, 1e-3, 20);
/// assert!(run.validate().is_err(), "no limit yet");
/// run.limit = TrainLimit { steps: Some(300), ..TrainLimit::default() };
/// assert!(run.validate().is_ok());
/// assert_eq!((run.eval_every, run.eval_batch_size, run.seed), (100, 256, 42));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Examples per step: sequences for gSASRec (default 128), (item, context) pairs for
    /// item-item (default 4096).
    pub batch_size: usize,
    /// Adam learning rate. Default: 1e-3 for gSASRec, 1e-2 for item-item.
    pub learning_rate: f64,
    /// When to stop. Default: no limit; a run needs one.
    pub limit: TrainLimit,
    /// Validate every this many steps. Default: 100 (gSASRec's epoch).
    pub eval_every: usize,
    /// Stop after this many validations without a better NDCG@10. Default: 20 for gSASRec,
    /// 10 for item-item.
    pub patience: usize,
    /// Users per validation batch. Default: 256.
    pub eval_batch_size: usize,
    /// Seed of every random choice (weights, batches, negatives, dropout). Default: 42
    /// ([`DEFAULT_SEED`]).
    pub seed: u64,
    /// What a NaN or infinite training loss does: stop with an error naming the step
    /// (default) or skip the batch and count it.
    #[serde(default)]
    pub non_finite_loss: NonFiniteLoss,
}

impl RunSettings {
    /// Settings with these batch size, learning rate and patience, and the shared defaults
    /// of the other fields: validation every 100 steps in batches of 256 users, seed 42, no
    /// limit, a non-finite loss stops the run.
    pub fn new(batch_size: usize, learning_rate: f64, patience: usize) -> Self {
        Self {
            batch_size,
            learning_rate,
            limit: TrainLimit::default(),
            eval_every: 100,
            patience,
            eval_batch_size: 256,
            seed: DEFAULT_SEED,
            non_finite_loss: NonFiniteLoss::Stop,
        }
    }

    /// Checks that a run with these settings can start.
    pub fn validate(&self) -> Result<(), TrainError> {
        let fail = |setting, reason: &str| Err(TrainError::setting(setting, reason));
        if self.batch_size == 0 {
            return fail("run.batch_size", "must be positive");
        }
        if self.eval_batch_size == 0 {
            return fail("run.eval_batch_size", "must be positive");
        }
        if self.eval_every == 0 {
            return fail("run.eval_every", "must be at least 1 step");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return fail("run.learning_rate", "must be positive");
        }
        if let Some(s) = self.limit.seconds
            && !(s.is_finite() && s > 0.0)
        {
            return fail("run.limit.seconds", "the time limit must be positive");
        }
        if self.limit.steps.is_none() && self.limit.epochs.is_none() && self.limit.seconds.is_none()
        {
            return fail("run.limit", "set a limit: steps, epochs or a time limit");
        }
        Ok(())
    }

    /// The steps a run may take: the smaller of the step limit and the epoch limit (in
    /// passes of `steps_per_pass`), unbounded when only time limits it.
    pub(crate) fn total_steps(&self, steps_per_pass: usize) -> usize {
        [
            self.limit.steps,
            self.limit.epochs.map(|e| e * steps_per_pass),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(usize::MAX / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> RunSettings {
        let mut run = RunSettings::new(8, 1e-3, 2);
        run.limit.steps = Some(10);
        run
    }

    #[test]
    fn validation_names_each_bad_field() {
        assert!(good().validate().is_ok());
        let cases: Vec<(RunSettings, &str)> = vec![
            (
                RunSettings {
                    batch_size: 0,
                    ..good()
                },
                "`run.batch_size`",
            ),
            (
                RunSettings {
                    eval_batch_size: 0,
                    ..good()
                },
                "`run.eval_batch_size`",
            ),
            (
                RunSettings {
                    eval_every: 0,
                    ..good()
                },
                "`run.eval_every`",
            ),
            (
                RunSettings {
                    learning_rate: f64::NAN,
                    ..good()
                },
                "`run.learning_rate`",
            ),
            (
                RunSettings {
                    limit: TrainLimit {
                        seconds: Some(-1.0),
                        ..TrainLimit::default()
                    },
                    ..good()
                },
                "time limit",
            ),
            (
                RunSettings {
                    limit: TrainLimit::default(),
                    ..good()
                },
                "set a limit",
            ),
        ];
        for (run, word) in cases {
            let message = run.validate().unwrap_err().to_string();
            assert!(message.contains(word), "{message} should mention {word}");
        }
    }

    #[test]
    fn total_steps_is_the_tighter_limit() {
        let mut run = good();
        run.limit = TrainLimit {
            steps: Some(50),
            epochs: Some(3),
            seconds: None,
        };
        assert_eq!(run.total_steps(20), 50);
        assert_eq!(run.total_steps(10), 30);
        run.limit = TrainLimit {
            seconds: Some(5.0),
            ..TrainLimit::default()
        };
        assert_eq!(run.total_steps(10), usize::MAX / 2);
    }
}
