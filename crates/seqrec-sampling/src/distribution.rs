//! Configuration of the distribution negatives are drawn from.

use serde::{Deserialize, Serialize};

use crate::SamplingError;

/// The distribution negatives are drawn from.
///
/// Serialised with an internal `kind` tag, e.g. `{"kind":"uniform"}` or
/// `{"kind":"popularity","gamma":0.75}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NegativeDistribution {
    /// Every item in `1..=num_items` is equally likely.
    #[default]
    Uniform,
    /// Item `i` is drawn with probability proportional to `count[i]^gamma`.
    ///
    /// `gamma = 1` is proportional to popularity. `gamma = 0` is defined as
    /// *uniform over the whole catalogue* (including items with count 0), see
    /// [`NegativeSampler::popularity`](crate::NegativeSampler::popularity).
    Popularity {
        /// Exponent applied to the item counts; must be finite and `>= 0`.
        gamma: f64,
    },
}

impl NegativeDistribution {
    /// Checks the settings without building a sampler: [`SamplingError::InvalidGamma`] for a
    /// negative or non-finite exponent.
    ///
    /// ```
    /// use seqrec_sampling::NegativeDistribution;
    /// assert!(NegativeDistribution::Popularity { gamma: 0.75 }.validate().is_ok());
    /// assert!(NegativeDistribution::Popularity { gamma: -1.0 }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), SamplingError> {
        match *self {
            NegativeDistribution::Popularity { gamma } if !gamma.is_finite() || gamma < 0.0 => {
                Err(SamplingError::InvalidGamma { gamma })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip() {
        let d = NegativeDistribution::Popularity { gamma: 0.5 };
        let s = serde_json::to_string(&d).unwrap();
        assert_eq!(s, r#"{"kind":"popularity","gamma":0.5}"#);
        let back: NegativeDistribution = serde_json::from_str(&s).unwrap();
        assert_eq!(back, d);
        let u: NegativeDistribution = serde_json::from_str(r#"{"kind":"uniform"}"#).unwrap();
        assert_eq!(u, NegativeDistribution::Uniform);
    }

    #[test]
    fn default_is_uniform() {
        assert_eq!(
            NegativeDistribution::default(),
            NegativeDistribution::Uniform
        );
    }
}
