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
    /// comes next). Valid for every attention mode. (Formerly `FutureWindow`; files and
    /// command lines that say `future_window` / `future-window` still read.)
    #[serde(alias = "future_window")]
    FutureTargets {
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
    /// 10 future targets for a bidirectional one.
    pub fn default_for(attention: AttentionMode) -> Self {
        match attention {
            AttentionMode::Causal => Objective::NextItem,
            AttentionMode::Bidirectional => Objective::FutureTargets { len: 10 },
        }
    }

    /// Rejects combinations that leak the target into the input, and out-of-range parameters.
    pub fn validate(&self, attention: AttentionMode) -> Result<(), TrainError> {
        match (*self, attention) {
            (Objective::NextItem, AttentionMode::Bidirectional) => Err(TrainError::setting(
                "objective",
                "the next-item objective needs causal attention: a bidirectional model would see \
                 each target in its input (use FutureTargets or Cloze)",
            )),
            (Objective::FutureTargets { len: 0 }, _) => Err(TrainError::setting(
                "objective",
                "the future-targets objective needs at least one target",
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
        matches!(self, Objective::FutureTargets { .. })
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Objective::NextItem => write!(f, "next-item"),
            Objective::FutureTargets { len } => write!(f, "future-targets:{len}"),
            Objective::Cloze { prob } => write!(f, "cloze:{prob}"),
        }
    }
}

impl std::str::FromStr for Objective {
    type Err = TrainError;

    /// Parses `next-item`, `future-targets[:LEN]` (default 10; `future-window`, its earlier
    /// name, too) or `cloze[:PROB]` (default 0.2).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = s.split_once(':').map_or((s, None), |(n, a)| (n, Some(a)));
        let bad = || {
            TrainError::setting(
                "objective",
                format!("unknown objective `{s}` (next-item, future-targets[:LEN], cloze[:PROB])"),
            )
        };
        match name {
            "next-item" if arg.is_none() => Ok(Objective::NextItem),
            "future-targets" | "future-window" => Ok(Objective::FutureTargets {
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
            Objective::FutureTargets { len: 5 }
                .validate(AttentionMode::Causal)
                .is_ok()
        );
        assert!(
            Objective::FutureTargets { len: 0 }
                .validate(AttentionMode::Bidirectional)
                .is_err()
        );
    }

    #[test]
    fn parses_and_prints() {
        for s in ["next-item", "future-targets:7", "cloze:0.3"] {
            assert_eq!(s.parse::<Objective>().unwrap().to_string(), s);
        }
        for earlier in ["future-window", "future-targets"] {
            assert_eq!(
                earlier.parse::<Objective>().unwrap(),
                Objective::FutureTargets { len: 10 }
            );
        }
        assert_eq!(
            "future-window:4".parse::<Objective>().unwrap(),
            Objective::FutureTargets { len: 4 }
        );
        assert!("next-item:3".parse::<Objective>().is_err());
        assert!("future-targets:x".parse::<Objective>().is_err());
    }

    /// The serde form says `future_targets`; files written before the rename still read.
    #[test]
    fn serde_reads_the_earlier_name() {
        let objective = Objective::FutureTargets { len: 7 };
        let written = serde_json::to_value(objective).unwrap();
        assert_eq!(
            written,
            serde_json::json!({ "kind": "future_targets", "len": 7 })
        );
        for kind in ["future_targets", "future_window"] {
            let read: Objective =
                serde_json::from_value(serde_json::json!({ "kind": kind, "len": 7 })).unwrap();
            assert_eq!(read, objective);
        }
    }
}
