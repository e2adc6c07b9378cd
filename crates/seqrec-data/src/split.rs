//! The three splits of a sequence dataset: train, val and test.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// One split of a dataset.
///
/// Parses from and displays as `"train"`, `"val"` and `"test"`, which are also
/// the directory names of the gSASRec layout.
///
/// ```
/// use seqrec_data::Split;
///
/// let split: Split = "val".parse()?;
/// assert_eq!(split, Split::Val);
/// assert_eq!(split.to_string(), "val");
/// assert!("validation".parse::<Split>().is_err());
/// # Ok::<(), seqrec_data::DataError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training histories (no targets).
    Train,
    /// Validation histories with one held-out target each.
    Val,
    /// Test histories with one held-out target each.
    Test,
}

impl Split {
    /// All splits, in layout order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// The lowercase name, which is also the split's directory name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Split::ALL
            .into_iter()
            .find(|split| split.as_str() == s)
            .ok_or_else(|| DataError::UnknownSplit { text: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        for split in Split::ALL {
            assert_eq!(split.to_string().parse::<Split>().unwrap(), split);
        }
        assert_eq!(Split::Train.to_string(), "train");
        assert_eq!(Split::Val.to_string(), "val");
        assert_eq!(Split::Test.to_string(), "test");
    }

    #[test]
    fn unknown_names_are_rejected_with_the_text() {
        for bad in ["", "Train", "valid", "test ", "eval"] {
            let err = bad.parse::<Split>().unwrap_err();
            assert!(matches!(err, DataError::UnknownSplit { .. }), "{bad:?}");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn serde_uses_lowercase_names() {
        assert_eq!(serde_json::to_string(&Split::Val).unwrap(), "\"val\"");
        let split: Split = serde_json::from_str("\"test\"").unwrap();
        assert_eq!(split, Split::Test);
    }
}
