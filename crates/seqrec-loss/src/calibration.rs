//! gSASRec's calibration of the gBCE exponent β from the parameter `t`.

use crate::LossError;

/// Computes the gBCE exponent β from gSASRec's calibration parameter `t`.
///
/// With `k` negatives sampled uniformly from the `|I| - 1` items that are not the positive,
/// the sampling rate is `α = k / (|I| - 1)` and
///
/// ```text
/// β = α · (t · (1 − 1/α) + 1/α)  =  1 − t · (1 − α)
/// ```
///
/// so `t = 0` gives `β = 1` (plain BCE) and `t = 1` gives `β = α` (the fully calibrated
/// value, under which the model's sigmoid output estimates the probability of the
/// positive in the whole catalogue). `t` interpolates linearly in between.
///
/// `num_items` is the catalogue size `|I|`, **without** the padding id.
///
/// # Errors
///
/// * [`LossError::InvalidCalibration`] if `t` is not in `[0, 1]` (NaN included);
/// * [`LossError::TooFewItems`] if `num_items < 2`;
/// * [`LossError::InvalidNegatives`] unless `1 <= num_negatives <= num_items - 1`.
///
/// # Example
///
/// ```
/// use seqrec_loss::gbce_beta_from_t;
///
/// assert_eq!(gbce_beta_from_t(0.0, 256, 3416).unwrap(), 1.0);
/// let beta = gbce_beta_from_t(1.0, 256, 3416).unwrap();
/// assert!((beta - 256.0 / 3415.0).abs() < 1e-12);
/// ```
pub fn gbce_beta_from_t(t: f64, num_negatives: usize, num_items: usize) -> Result<f64, LossError> {
    if !(0.0..=1.0).contains(&t) {
        return Err(LossError::InvalidCalibration { t });
    }
    if num_items < 2 {
        return Err(LossError::TooFewItems { num_items });
    }
    let max = num_items - 1;
    if num_negatives == 0 || num_negatives > max {
        return Err(LossError::InvalidNegatives { num_negatives, max });
    }
    let alpha = num_negatives as f64 / max as f64;
    // Algebraically equal to α·(t·(1 − 1/α) + 1/α) but without dividing by α.
    Ok(1.0 - t * (1.0 - alpha))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper's formula, written literally.
    fn paper_beta(t: f64, k: usize, n: usize) -> f64 {
        let alpha = k as f64 / (n as f64 - 1.0);
        alpha * (t * (1.0 - 1.0 / alpha) + 1.0 / alpha)
    }

    #[test]
    fn t_zero_is_plain_bce() {
        for (k, n) in [(1, 2), (3, 10), (256, 3416), (128, 1_000_000)] {
            assert_eq!(gbce_beta_from_t(0.0, k, n).unwrap(), 1.0);
        }
    }

    #[test]
    fn t_one_is_the_sampling_rate() {
        for (k, n) in [(1, 2), (3, 10), (256, 3416), (128, 1_000_000)] {
            let alpha = k as f64 / (n - 1) as f64;
            let beta = gbce_beta_from_t(1.0, k, n).unwrap();
            assert!(
                (beta - alpha).abs() <= 1e-15,
                "k={k} n={n}: {beta} vs {alpha}"
            );
        }
    }

    #[test]
    fn ml1m_value_matches_hand_computation() {
        // MovieLens-1M as in the gSASRec paper: |I| = 3416 items, k = 256, t = 0.75.
        // α = 256 / 3415 = 0.0749633967789165...
        // β = 1 − 0.75 · (1 − α) = 0.3062225475841874...
        let beta = gbce_beta_from_t(0.75, 256, 3416).unwrap();
        assert!((beta - 0.306_222_547_584_187_4).abs() < 1e-12, "{beta}");
        assert!((beta - paper_beta(0.75, 256, 3416)).abs() < 1e-12);
    }

    #[test]
    fn matches_literal_paper_formula_on_a_grid() {
        for &t in &[0.0, 0.1, 0.5, 0.9, 1.0] {
            for &(k, n) in &[(1, 5), (4, 5), (50, 101), (256, 3416)] {
                let got = gbce_beta_from_t(t, k, n).unwrap();
                let want = paper_beta(t, k, n);
                assert!((got - want).abs() < 1e-12, "t={t} k={k} n={n}");
            }
        }
    }

    #[test]
    fn beta_decreases_with_t() {
        let a = gbce_beta_from_t(0.2, 16, 100).unwrap();
        let b = gbce_beta_from_t(0.8, 16, 100).unwrap();
        assert!(a > b);
    }

    #[test]
    fn rejects_bad_inputs() {
        assert_eq!(
            gbce_beta_from_t(-0.1, 1, 10),
            Err(LossError::InvalidCalibration { t: -0.1 })
        );
        assert_eq!(
            gbce_beta_from_t(1.01, 1, 10),
            Err(LossError::InvalidCalibration { t: 1.01 })
        );
        assert!(matches!(
            gbce_beta_from_t(f64::NAN, 1, 10),
            Err(LossError::InvalidCalibration { .. })
        ));
        assert_eq!(
            gbce_beta_from_t(0.5, 1, 1),
            Err(LossError::TooFewItems { num_items: 1 })
        );
        assert_eq!(
            gbce_beta_from_t(0.5, 1, 0),
            Err(LossError::TooFewItems { num_items: 0 })
        );
        assert_eq!(
            gbce_beta_from_t(0.5, 0, 10),
            Err(LossError::InvalidNegatives {
                num_negatives: 0,
                max: 9
            })
        );
        assert_eq!(
            gbce_beta_from_t(0.5, 10, 10),
            Err(LossError::InvalidNegatives {
                num_negatives: 10,
                max: 9
            })
        );
        // k = |I| − 1 is the largest valid value (α = 1 → β = 1 for every t).
        assert_eq!(gbce_beta_from_t(0.5, 9, 10), Ok(1.0));
    }
}
