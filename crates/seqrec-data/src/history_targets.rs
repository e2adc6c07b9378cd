//! Histories with one target each: the validation and test splits of the gSASRec layout.

use crate::error::DataError;

/// A validation or test split: `inputs[i]` is a history and `targets[i]` the item
/// that followed it.
///
/// The two vectors always have the same length when built through
/// [`HistoryTargets::new`] or loaded from disk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryTargets {
    /// Input histories, item ids in time order (each non-empty).
    pub inputs: Vec<Vec<u32>>,
    /// The next item after each history.
    pub targets: Vec<u32>,
}

impl HistoryTargets {
    /// Pairs histories with targets.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidDataset`] if the lengths differ.
    ///
    /// ```
    /// use seqrec_data::HistoryTargets;
    ///
    /// let held_out = HistoryTargets::new(vec![vec![1, 2], vec![3]], vec![3, 1])?;
    /// assert_eq!(held_out.len(), 2);
    /// assert!(HistoryTargets::new(vec![vec![1]], vec![]).is_err());
    /// # Ok::<(), seqrec_data::DataError>(())
    /// ```
    pub fn new(inputs: Vec<Vec<u32>>, targets: Vec<u32>) -> Result<Self, DataError> {
        if inputs.len() != targets.len() {
            return Err(DataError::InvalidDataset {
                reason: format!(
                    "the split has {} inputs but {} targets",
                    inputs.len(),
                    targets.len()
                ),
            });
        }
        Ok(Self { inputs, targets })
    }

    /// Number of (history, target) pairs.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Iterates over `(history, target)` pairs.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u32], u32)> + '_ {
        self.inputs
            .iter()
            .zip(&self.targets)
            .map(|(input, &target)| (input.as_slice(), target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_lengths() {
        let err = HistoryTargets::new(vec![vec![1], vec![2]], vec![3]).unwrap_err();
        assert!(matches!(err, DataError::InvalidDataset { .. }), "{err:?}");
        assert!(err.to_string().contains("2 inputs but 1 targets"), "{err}");
    }

    #[test]
    fn iter_pairs_inputs_with_targets() {
        let held_out = HistoryTargets::new(vec![vec![1, 2], vec![3]], vec![4, 5]).unwrap();
        let pairs: Vec<_> = held_out.iter().collect();
        assert_eq!(pairs, vec![(&[1, 2][..], 4), (&[3][..], 5)]);
        assert_eq!(held_out.iter().len(), 2);
        assert!(!held_out.is_empty());
        assert!(HistoryTargets::default().is_empty());
    }
}
