//! Typed errors for loss configuration.

/// Why a loss configuration was rejected.
///
/// Returned by [`gbce_beta_from_t`](crate::gbce_beta_from_t) and
/// [`GBceBeta::resolve`](crate::GBceBeta::resolve) so that a bad configuration is caught
/// before training starts instead of silently producing NaN losses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LossError {
    /// The gBCE exponent β must be a finite, strictly positive number.
    #[error("gBCE beta must be finite and > 0, got {beta}")]
    InvalidBeta {
        /// The rejected value.
        beta: f64,
    },
    /// The gBCE calibration parameter `t` must lie in `[0, 1]`.
    #[error("gBCE calibration parameter t must be in [0, 1], got {t}")]
    InvalidCalibration {
        /// The rejected value.
        t: f64,
    },
    /// The catalogue must contain at least two items for negatives to exist.
    #[error("number of items must be > 1, got {num_items}")]
    TooFewItems {
        /// The rejected catalogue size.
        num_items: usize,
    },
    /// The number of sampled negatives per positive must be in `1..=num_items - 1`.
    #[error("number of negatives must be in 1..={max} (num_items - 1), got {num_negatives}")]
    InvalidNegatives {
        /// The rejected number of negatives.
        num_negatives: usize,
        /// The largest admissible number of negatives (`num_items - 1`).
        max: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_offending_value() {
        assert_eq!(
            LossError::InvalidBeta { beta: -1.0 }.to_string(),
            "gBCE beta must be finite and > 0, got -1"
        );
        assert_eq!(
            LossError::InvalidCalibration { t: 1.5 }.to_string(),
            "gBCE calibration parameter t must be in [0, 1], got 1.5"
        );
        assert_eq!(
            LossError::TooFewItems { num_items: 1 }.to_string(),
            "number of items must be > 1, got 1"
        );
        assert_eq!(
            LossError::InvalidNegatives {
                num_negatives: 10,
                max: 4
            }
            .to_string(),
            "number of negatives must be in 1..=4 (num_items - 1), got 10"
        );
    }
}
