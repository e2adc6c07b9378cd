//! Training objectives: which positions score which targets, without leakage.

use seqrec_model::AttentionMode;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// What the model learns to predict.
///
/// A bidirectional model trained with next-item teacher forcing sees each target in its own
/// input and learns to copy it, so [`Objective::NextItem`] is reserved for causal models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Objective {
    /// SASRec's teacher forcing: every position predicts the item that follows it
    /// (causal attention only).
    NextItem,
    /// The model reads a prefix of the history; the representation at its last position
    /// scores each of the following `len` items (the history as a profile predicting what
    /// comes next). Valid for every attention mode.
    FutureWindow {
        /// How many of the items after the cut are targets.
        len: usize,
    },
    /// BERT4Rec-style: a fraction `prob` of the input items is replaced by the mask token
    /// and each masked position predicts its own item (bidirectional attention only: a causal
    /// model would see nothing of the future).
    Cloze {
        /// Probability that an item is masked.
        prob: f64,
    },
}

impl Objective {
    /// The default objective for an attention mode: next-item prediction for a causal model,
    /// a future window of 10 items for a bidirectional one.
    pub fn default_for(attention: AttentionMode) -> Self {
        match attention {
            AttentionMode::Causal => Objective::NextItem,
            AttentionMode::Bidirectional => Objective::FutureWindow { len: 10 },
        }
    }

    /// Rejects combinations that leak the target into the input, and out-of-range parameters.
    pub fn validate(&self, attention: AttentionMode) -> Result<(), TrainError> {
        match (*self, attention) {
            (Objective::NextItem, AttentionMode::Bidirectional) => Err(TrainError::setting(
                "objective",
                "the next-item objective needs causal attention: a bidirectional model would see \
                 each target in its input (use FutureWindow or Cloze)",
            )),
            (Objective::FutureWindow { len: 0 }, _) => Err(TrainError::setting(
                "objective",
                "the future window needs at least one target",
            )),
            (Objective::Cloze { prob }, _) if !(prob > 0.0 && prob < 1.0) => {
                Err(TrainError::setting(
                    "objective",
                    format!("cloze probability must be in (0, 1), got {prob}"),
                ))
            }
            (Objective::Cloze { .. }, AttentionMode::Causal) => Err(TrainError::setting(
                "objective",
                "the cloze objective needs bidirectional attention",
            )),
            _ => Ok(()),
        }
    }

    /// Whether targets are scored from the last position only (one query per sequence).
    pub fn scores_from_last_position(&self) -> bool {
        matches!(self, Objective::FutureWindow { .. })
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Objective::NextItem => write!(f, "next-item"),
            Objective::FutureWindow { len } => write!(f, "future-window:{len}"),
            Objective::Cloze { prob } => write!(f, "cloze:{prob}"),
        }
    }
}

impl std::str::FromStr for Objective {
    type Err = TrainError;

    /// Parses `next-item`, `future-window[:LEN]` (default 10) or `cloze[:PROB]` (default 0.2).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = s.split_once(':').map_or((s, None), |(n, a)| (n, Some(a)));
        let bad = || {
            TrainError::setting(
                "objective",
                format!("unknown objective `{s}` (next-item, future-window[:LEN], cloze[:PROB])"),
            )
        };
        match name {
            "next-item" if arg.is_none() => Ok(Objective::NextItem),
            "future-window" => Ok(Objective::FutureWindow {
                len: arg.map_or(Ok(10), str::parse).map_err(|_| bad())?,
            }),
            "cloze" => Ok(Objective::Cloze {
                prob: arg.map_or(Ok(0.2), str::parse).map_err(|_| bad())?,
            }),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaking_combinations_are_rejected() {
        assert!(
            Objective::NextItem
                .validate(AttentionMode::Bidirectional)
                .is_err()
        );
        assert!(Objective::NextItem.validate(AttentionMode::Causal).is_ok());
        assert!(
            Objective::Cloze { prob: 0.2 }
                .validate(AttentionMode::Causal)
                .is_err()
        );
        assert!(
            Objective::FutureWindow { len: 5 }
                .validate(AttentionMode::Causal)
                .is_ok()
        );
        assert!(
            Objective::FutureWindow { len: 0 }
                .validate(AttentionMode::Bidirectional)
                .is_err()
        );
    }

    #[test]
    fn parses_and_prints() {
        for s in ["next-item", "future-window:7", "cloze:0.3"] {
            assert_eq!(s.parse::<Objective>().unwrap().to_string(), s);
        }
        assert_eq!(
            "future-window".parse::<Objective>().unwrap(),
            Objective::FutureWindow { len: 10 }
        );
        assert!("next-item:3".parse::<Objective>().is_err());
        assert!("future-window:x".parse::<Objective>().is_err());
    }
}
