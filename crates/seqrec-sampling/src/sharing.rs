//! How negatives are shared across the positions of a batch.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SamplingError;

/// How many negative sets are drawn for one training batch.
///
/// The string form (for `Display`, `FromStr` and serde) is kebab-case:
/// `per-position`, `per-sequence`, `per-batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NegativeSharing {
    /// A fresh set of `k` negatives for every position of every sequence
    /// (shape `[batch, len, k]`).
    #[default]
    PerPosition,
    /// One set of `k` negatives per sequence, shared by all its positions
    /// (shape `[batch, k]`).
    PerSequence,
    /// One set of `k` negatives for the whole batch (shape `[k]`).
    PerBatch,
}

impl NegativeSharing {
    /// All modes, in declaration order.
    pub const ALL: [NegativeSharing; 3] = [
        NegativeSharing::PerPosition,
        NegativeSharing::PerSequence,
        NegativeSharing::PerBatch,
    ];

    /// The canonical kebab-case name, e.g. `"per-position"`.
    pub fn as_str(self) -> &'static str {
        match self {
            NegativeSharing::PerPosition => "per-position",
            NegativeSharing::PerSequence => "per-sequence",
            NegativeSharing::PerBatch => "per-batch",
        }
    }
}

impl fmt::Display for NegativeSharing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NegativeSharing {
    type Err = SamplingError;

    /// Parses the kebab-case name; ASCII case and `_` instead of `-` are accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        match norm.as_str() {
            "per-position" => Ok(NegativeSharing::PerPosition),
            "per-sequence" => Ok(NegativeSharing::PerSequence),
            "per-batch" => Ok(NegativeSharing::PerBatch),
            _ => Err(SamplingError::UnknownSharing {
                value: s.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_from_str_round_trip() {
        for mode in NegativeSharing::ALL {
            let s = mode.to_string();
            assert_eq!(s.parse::<NegativeSharing>().unwrap(), mode);
        }
        assert_eq!(
            "PER_SEQUENCE".parse::<NegativeSharing>().unwrap(),
            NegativeSharing::PerSequence
        );
    }

    #[test]
    fn unknown_is_error() {
        let err = "per-user".parse::<NegativeSharing>().unwrap_err();
        assert!(matches!(err, SamplingError::UnknownSharing { .. }));
    }

    #[test]
    fn default_and_serde() {
        assert_eq!(NegativeSharing::default(), NegativeSharing::PerPosition);
        let s = serde_json::to_string(&NegativeSharing::PerBatch).unwrap();
        assert_eq!(s, "\"per-batch\"");
        let back: NegativeSharing = serde_json::from_str("\"per-sequence\"").unwrap();
        assert_eq!(back, NegativeSharing::PerSequence);
    }
}
