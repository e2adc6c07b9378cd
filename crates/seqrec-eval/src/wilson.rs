//! Wilson score interval of a binomial proportion (the paper's "Wilson scores
//! for track playthrough probabilities").
//!
//! For `x` successes in `n` trials, `p̂ = x / n` and a normal quantile `z`, the
//! Wilson interval is
//!
//! ```text
//!            p̂ + z²/(2n) ± z · sqrt( p̂(1 − p̂)/n + z²/(4n²) )
//! bounds  =  ─────────────────────────────────────────────────
//!                              1 + z²/n
//! ```
//!
//! Unlike the raw rate it shrinks small samples towards 1/2: one complete play
//! out of one (`1/1`) scores a lower bound of ≈ 0.21, while `100/100` scores ≈ 0.96.

use crate::EvalError;

/// The two-sided 95 % normal quantile used by the paper's protocol (`z = 1.96`).
pub const WILSON_Z_95: f64 = 1.96;

/// Lower and upper bound of the Wilson score interval for `positives` successes
/// out of `trials` trials at normal quantile `z`.
///
/// `trials = 0` carries no information and yields `(0.0, 1.0)`. The bounds are
/// clamped to `[0, 1]` against rounding.
///
/// Errors: [`EvalError::InvalidCounts`] if `positives > trials`,
/// [`EvalError::InvalidParameter`] if `z` is not finite and positive.
///
/// ```
/// use seqrec_eval::{wilson_interval, WILSON_Z_95};
///
/// let (lo, hi) = wilson_interval(5, 10, WILSON_Z_95).unwrap();
/// assert!((lo - 0.2366).abs() < 1e-4 && (hi - 0.7634).abs() < 1e-4);
/// ```
pub fn wilson_interval(positives: u64, trials: u64, z: f64) -> Result<(f64, f64), EvalError> {
    validate_z(z)?;
    if positives > trials {
        return Err(EvalError::InvalidCounts { positives, trials });
    }
    if trials == 0 {
        return Ok((0.0, 1.0));
    }
    let n = trials as f64;
    let p = positives as f64 / n;
    let z2 = z * z;
    let center = p + z2 / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denom = 1.0 + z2 / n;
    let lower = ((center - half) / denom).clamp(0.0, 1.0);
    let upper = ((center + half) / denom).clamp(0.0, 1.0);
    Ok((lower, upper))
}

/// Lower bound of the Wilson score interval (see [`wilson_interval`]): the
/// score by which the protocol ranks a user's tracks.
///
/// ```
/// use seqrec_eval::{wilson_lower_bound, WILSON_Z_95};
///
/// assert_eq!(wilson_lower_bound(0, 3, WILSON_Z_95).unwrap(), 0.0);
/// assert!(wilson_lower_bound(1, 1, WILSON_Z_95).unwrap() < 0.21);
/// assert!(wilson_lower_bound(4, 2, WILSON_Z_95).is_err());
/// ```
pub fn wilson_lower_bound(positives: u64, trials: u64, z: f64) -> Result<f64, EvalError> {
    wilson_interval(positives, trials, z).map(|(lower, _)| lower)
}

/// Checks that a normal quantile is finite and strictly positive.
pub(crate) fn validate_z(z: f64) -> Result<(), EvalError> {
    if z.is_finite() && z > 0.0 {
        Ok(())
    } else {
        Err(EvalError::InvalidParameter {
            name: "wilson_z",
            reason: format!("must be finite and > 0, got {z}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent computation: the Wilson bounds are the roots in `p` of
    /// `(p̂ − p)² = z² p (1 − p) / n`, i.e. of
    /// `(n + z²) p² − (2x + z²) p + x²/n = 0`.
    fn roots(x: f64, n: f64, z: f64) -> (f64, f64) {
        let a = n + z * z;
        let b = -(2.0 * x + z * z);
        let c = x * x / n;
        let d = (b * b - 4.0 * a * c).max(0.0).sqrt();
        ((-b - d) / (2.0 * a), ((-b + d) / (2.0 * a)).min(1.0))
    }

    #[test]
    fn lower_bounds_match_quadratic_roots_and_literals() {
        // (x, n, literal lower bound at z = 1.96, computed separately)
        let cases = [
            (1u64, 1u64, 0.206_543_291_473_892_9),
            (5, 10, 0.236_589_593_615_487_3),
            (0, 3, 0.0),
            (100, 100, 0.963_005_192_523_996_7),
            (3, 4, 0.300_636_052_442_636_7),
        ];
        for (x, n, literal) in cases {
            let lb = wilson_lower_bound(x, n, WILSON_Z_95).unwrap();
            let (root_lo, root_hi) = roots(x as f64, n as f64, WILSON_Z_95);
            assert!((lb - root_lo).abs() < 1e-12, "{x}/{n}: {lb} vs {root_lo}");
            assert!((lb - literal).abs() < 1e-12, "{x}/{n}: {lb} vs {literal}");
            let (_, hi) = wilson_interval(x, n, WILSON_Z_95).unwrap();
            assert!((hi - root_hi).abs() < 1e-12, "{x}/{n}: {hi} vs {root_hi}");
        }
    }

    #[test]
    fn other_z_and_monotonicity() {
        for z in [1.0, 1.645, 2.576] {
            for (x, n) in [(2u64, 7u64), (7, 7), (0, 1), (13, 40)] {
                let lb = wilson_lower_bound(x, n, z).unwrap();
                assert!((lb - roots(x as f64, n as f64, z).0).abs() < 1e-12);
            }
        }
        // More evidence at the same rate raises the lower bound.
        let a = wilson_lower_bound(1, 2, WILSON_Z_95).unwrap();
        let b = wilson_lower_bound(10, 20, WILSON_Z_95).unwrap();
        let c = wilson_lower_bound(100, 200, WILSON_Z_95).unwrap();
        assert!(a < b && b < c && c < 0.5);
        // A larger z is more conservative.
        assert!(
            wilson_lower_bound(5, 10, 2.576).unwrap() < wilson_lower_bound(5, 10, 1.0).unwrap()
        );
    }

    #[test]
    fn degenerate_and_invalid_inputs() {
        assert_eq!(wilson_interval(0, 0, WILSON_Z_95).unwrap(), (0.0, 1.0));
        assert_eq!(
            wilson_lower_bound(4, 3, WILSON_Z_95).unwrap_err(),
            EvalError::InvalidCounts {
                positives: 4,
                trials: 3
            }
        );
        for z in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                wilson_lower_bound(1, 2, z).unwrap_err(),
                EvalError::InvalidParameter {
                    name: "wilson_z",
                    ..
                }
            ));
        }
        let (lo, hi) = wilson_interval(u64::MAX / 2, u64::MAX / 2, WILSON_Z_95).unwrap();
        assert!((0.0..=1.0).contains(&lo) && hi == 1.0);
    }
}
