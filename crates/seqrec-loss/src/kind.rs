//! Serializable choice of the training loss.

use serde::{Deserialize, Serialize};

use crate::{LossError, gbce_beta_from_t};

/// Which loss the trainer optimises.
///
/// The sampled losses ([`GBce`](LossKind::GBce), [`Bce`](LossKind::Bce),
/// [`SampledSoftmax`](LossKind::SampledSoftmax)) score each positive against `k` sampled
/// negatives; [`FullSoftmax`](LossKind::FullSoftmax) scores every item of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LossKind {
    /// Generalised binary cross-entropy (gSASRec), see [`gbce_loss`](crate::gbce_loss).
    GBce {
        /// How the exponent β applied to the positive's probability is chosen.
        beta: GBceBeta,
    },
    /// Binary cross-entropy over one positive and `k` negatives, see
    /// [`bce_loss`](crate::bce_loss) (gBCE with β = 1).
    Bce,
    /// Cross-entropy of the positive against the sampled negatives, see
    /// [`sampled_softmax_loss`](crate::sampled_softmax_loss).
    SampledSoftmax,
    /// Cross-entropy over the whole catalogue, see
    /// [`full_softmax_loss`](crate::full_softmax_loss).
    FullSoftmax,
}

impl LossKind {
    /// Whether this loss needs sampled negatives (all but [`LossKind::FullSoftmax`]).
    pub fn needs_negatives(&self) -> bool {
        !matches!(self, LossKind::FullSoftmax)
    }
}

/// How the gBCE exponent β is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GBceBeta {
    /// Use this β directly (must be finite and > 0; β = 1 is plain BCE).
    Fixed(f64),
    /// Derive β from gSASRec's calibration parameter `t ∈ [0, 1]`, the number of negatives
    /// and the catalogue size, see [`gbce_beta_from_t`].
    Calibrated {
        /// Calibration parameter: 0 → β = 1 (BCE), 1 → β = α = k / (|I| − 1).
        t: f64,
    },
}

impl GBceBeta {
    /// Returns the β to pass to [`gbce_loss`](crate::gbce_loss).
    ///
    /// `num_negatives` is `k`, the number of negatives sampled per positive, and `num_items`
    /// is the catalogue size `|I|` (without the padding id). Both are only used by
    /// [`GBceBeta::Calibrated`]; a [`GBceBeta::Fixed`] value is only checked for being finite
    /// and positive.
    ///
    /// # Errors
    ///
    /// [`LossError::InvalidBeta`] for a fixed β that is not finite and > 0, otherwise the
    /// errors of [`gbce_beta_from_t`].
    pub fn resolve(&self, num_negatives: usize, num_items: usize) -> Result<f64, LossError> {
        match *self {
            GBceBeta::Fixed(beta) => validate_beta(beta),
            GBceBeta::Calibrated { t } => gbce_beta_from_t(t, num_negatives, num_items),
        }
    }
}

/// Checks that β is usable as the gBCE exponent.
pub(crate) fn validate_beta(beta: f64) -> Result<f64, LossError> {
    if beta.is_finite() && beta > 0.0 {
        Ok(beta)
    } else {
        Err(LossError::InvalidBeta { beta })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_beta_is_validated() {
        assert_eq!(GBceBeta::Fixed(0.5).resolve(4, 10), Ok(0.5));
        assert_eq!(GBceBeta::Fixed(2.0).resolve(4, 10), Ok(2.0));
        assert_eq!(
            GBceBeta::Fixed(0.0).resolve(4, 10),
            Err(LossError::InvalidBeta { beta: 0.0 })
        );
        assert_eq!(
            GBceBeta::Fixed(-0.3).resolve(4, 10),
            Err(LossError::InvalidBeta { beta: -0.3 })
        );
        assert!(GBceBeta::Fixed(f64::INFINITY).resolve(4, 10).is_err());
        assert!(GBceBeta::Fixed(f64::NAN).resolve(4, 10).is_err());
    }

    #[test]
    fn calibrated_beta_delegates_to_the_formula() {
        let beta = GBceBeta::Calibrated { t: 0.75 }.resolve(256, 3416).unwrap();
        assert_eq!(beta, gbce_beta_from_t(0.75, 256, 3416).unwrap());
        assert_eq!(
            GBceBeta::Calibrated { t: 0.5 }.resolve(0, 3416),
            Err(LossError::InvalidNegatives {
                num_negatives: 0,
                max: 3415
            })
        );
        assert_eq!(
            GBceBeta::Calibrated { t: 2.0 }.resolve(1, 3416),
            Err(LossError::InvalidCalibration { t: 2.0 })
        );
    }

    #[test]
    fn needs_negatives() {
        assert!(
            LossKind::GBce {
                beta: GBceBeta::Fixed(1.0)
            }
            .needs_negatives()
        );
        assert!(LossKind::Bce.needs_negatives());
        assert!(LossKind::SampledSoftmax.needs_negatives());
        assert!(!LossKind::FullSoftmax.needs_negatives());
    }

    #[test]
    fn serde_round_trip() {
        let kinds = [
            LossKind::GBce {
                beta: GBceBeta::Calibrated { t: 0.75 },
            },
            LossKind::GBce {
                beta: GBceBeta::Fixed(0.25),
            },
            LossKind::Bce,
            LossKind::SampledSoftmax,
            LossKind::FullSoftmax,
        ];
        for kind in kinds {
            let json = serde_json::to_string(&kind).unwrap();
            let back: LossKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, kind, "{json}");
        }
        let parsed: LossKind =
            serde_json::from_str(r#"{"GBce":{"beta":{"Calibrated":{"t":0.5}}}}"#).unwrap();
        assert_eq!(
            parsed,
            LossKind::GBce {
                beta: GBceBeta::Calibrated { t: 0.5 }
            }
        );
        assert_eq!(
            serde_json::to_string(&LossKind::Bce).unwrap(),
            r#""Bce""#.to_string()
        );
    }
}
