//! Seeded percentile-bootstrap confidence intervals of means and of paired
//! mean differences.
//!
//! Users are resampled with replacement (`n` draws from `n` users). Resample
//! `r` draws its indices from a ChaCha8 generator keyed by
//! `(seed, stream, r)`, so the result depends only on the configuration — not
//! on the number of threads — and several columns resampled together (e.g. the
//! metrics of two models over the same users) share their resamples, which is
//! what makes the bootstrap *paired*.
//!
//! The interval is the percentile interval: the `α/2` and `1 − α/2` quantiles
//! (linear interpolation between order statistics) of the resampled means,
//! `α = 1 − confidence`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::EvalError;

/// Settings of the bootstrap. [`Default`]: 1 000 resamples, 95 %, seed 0,
/// all available threads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapConfig {
    /// Number of resamples (>= 1).
    pub resamples: usize,
    /// Confidence level in `(0, 1)`.
    pub confidence: f64,
    /// Seed of the resampling generator.
    pub seed: u64,
    /// Worker threads (0 = `std::thread::available_parallelism`). Results do
    /// not depend on it.
    pub threads: usize,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: 1000,
            confidence: 0.95,
            seed: 0,
            threads: 0,
        }
    }
}

impl BootstrapConfig {
    /// Checks `resamples >= 1` and `0 < confidence < 1`.
    pub fn validate(&self) -> Result<(), EvalError> {
        if self.resamples == 0 {
            return Err(EvalError::InvalidParameter {
                name: "resamples",
                reason: "at least one resample is required".into(),
            });
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(EvalError::InvalidParameter {
                name: "confidence",
                reason: format!("must be in (0, 1), got {}", self.confidence),
            });
        }
        Ok(())
    }

    fn worker_threads(&self) -> usize {
        let t = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        };
        t.clamp(1, self.resamples.max(1))
    }
}

/// A point estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// The estimate on the full sample (the mean, or the mean difference).
    pub estimate: f64,
    /// Lower bound of the interval.
    pub lower: f64,
    /// Upper bound of the interval.
    pub upper: f64,
}

impl ConfidenceInterval {
    /// Whether `x` lies in `[lower, upper]`.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    /// Whether the two closed intervals share at least one point.
    pub fn overlaps(&self, other: &ConfidenceInterval) -> bool {
        self.lower <= other.upper && other.lower <= self.upper
    }

    /// `upper - lower`.
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }
}

/// Percentile-bootstrap interval of the mean of `values`.
///
/// Errors: [`EvalError::EmptySample`], [`EvalError::NonFiniteValue`], or an
/// invalid `config`.
///
/// ```
/// use seqrec_eval::{bootstrap_mean_ci, BootstrapConfig};
///
/// let values: Vec<f64> = (0..100).map(|i| (i % 10) as f64).collect();
/// let ci = bootstrap_mean_ci(&values, &BootstrapConfig::default()).unwrap();
/// assert_eq!(ci.estimate, 4.5);
/// assert!(ci.lower < 4.5 && 4.5 < ci.upper);
/// // Same seed, same interval.
/// assert_eq!(ci, bootstrap_mean_ci(&values, &BootstrapConfig::default()).unwrap());
/// ```
pub fn bootstrap_mean_ci(
    values: &[f64],
    config: &BootstrapConfig,
) -> Result<ConfidenceInterval, EvalError> {
    Ok(bootstrap_mean_cis(&[values], config)?.remove(0))
}

/// Percentile-bootstrap intervals of the means of several equally long
/// columns, resampled together (row `i` of every column is drawn together).
///
/// Errors: [`EvalError::LengthMismatch`] for columns of different lengths,
/// [`EvalError::EmptySample`] for no columns or empty columns,
/// [`EvalError::NonFiniteValue`], or an invalid `config`.
pub fn bootstrap_mean_cis(
    columns: &[&[f64]],
    config: &BootstrapConfig,
) -> Result<Vec<ConfidenceInterval>, EvalError> {
    let rows = RowMajor::from_columns(columns)?;
    let resampled = resample_means(&rows, config, 0)?;
    Ok((0..rows.cols)
        .map(|c| resampled.interval(rows.mean(c), |m| m[c], config.confidence))
        .collect())
}

/// Paired percentile-bootstrap interval of `mean(a) − mean(b)`: the same users
/// are drawn for both samples in every resample.
///
/// Errors as [`bootstrap_mean_cis`].
///
/// ```
/// use seqrec_eval::{paired_bootstrap_diff_ci, BootstrapConfig};
///
/// let b: Vec<f64> = (0..50).map(|i| (i % 7) as f64 / 7.0).collect();
/// let a: Vec<f64> = b.iter().map(|v| v + 0.1).collect();
/// let ci = paired_bootstrap_diff_ci(&a, &b, &BootstrapConfig::default()).unwrap();
/// // A constant per-user shift is recovered exactly: no sampling noise is left.
/// assert!((ci.lower - 0.1).abs() < 1e-9 && (ci.upper - 0.1).abs() < 1e-9);
/// ```
pub fn paired_bootstrap_diff_ci(
    a: &[f64],
    b: &[f64],
    config: &BootstrapConfig,
) -> Result<ConfidenceInterval, EvalError> {
    if a.len() != b.len() {
        return Err(EvalError::LengthMismatch {
            what: "paired samples",
            left: a.len(),
            right: b.len(),
        });
    }
    let rows = RowMajor::from_columns(&[a, b])?;
    let resampled = resample_means(&rows, config, 0)?;
    let estimate = rows.mean(0) - rows.mean(1);
    Ok(resampled.interval(estimate, |m| m[0] - m[1], config.confidence))
}

/// A row-major `n × cols` matrix of finite sample values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowMajor {
    pub(crate) values: Vec<f64>,
    pub(crate) cols: usize,
}

impl RowMajor {
    /// Transposes equally long columns into rows, checking lengths and finiteness.
    pub(crate) fn from_columns(columns: &[&[f64]]) -> Result<Self, EvalError> {
        let n = columns.first().ok_or(EvalError::EmptySample)?.len();
        if let Some(bad) = columns.iter().find(|c| c.len() != n) {
            return Err(EvalError::LengthMismatch {
                what: "bootstrap columns",
                left: n,
                right: bad.len(),
            });
        }
        let cols = columns.len();
        let mut values = vec![0.0; n * cols];
        for (c, col) in columns.iter().enumerate() {
            for (i, &v) in col.iter().enumerate() {
                if !v.is_finite() {
                    return Err(EvalError::NonFiniteValue { index: i });
                }
                values[i * cols + c] = v;
            }
        }
        Self::new(values, cols)
    }

    /// Wraps row-major values (`values.len()` must be a multiple of `cols`).
    pub(crate) fn new(values: Vec<f64>, cols: usize) -> Result<Self, EvalError> {
        if cols == 0 || values.is_empty() {
            return Err(EvalError::EmptySample);
        }
        if !values.len().is_multiple_of(cols) {
            return Err(EvalError::LengthMismatch {
                what: "row-major values",
                left: values.len(),
                right: cols,
            });
        }
        Ok(Self { values, cols })
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.values.len() / self.cols
    }

    /// Mean of column `c`.
    pub(crate) fn mean(&self, c: usize) -> f64 {
        let n = self.rows();
        let sum: f64 = (0..n).map(|i| self.values[i * self.cols + c]).sum();
        sum / n as f64
    }
}

/// Column means of every resample: `means[r * cols + c]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResampledMeans {
    means: Vec<f64>,
    cols: usize,
}

impl ResampledMeans {
    /// The percentile interval of a statistic `f(column means)` of each resample.
    pub(crate) fn interval(
        &self,
        estimate: f64,
        f: impl Fn(&[f64]) -> f64,
        confidence: f64,
    ) -> ConfidenceInterval {
        let mut stats: Vec<f64> = self.means.chunks_exact(self.cols).map(f).collect();
        stats.sort_by(f64::total_cmp);
        let alpha = 1.0 - confidence;
        ConfidenceInterval {
            estimate,
            lower: quantile_sorted(&stats, alpha / 2.0),
            upper: quantile_sorted(&stats, 1.0 - alpha / 2.0),
        }
    }
}

/// Linear-interpolation quantile (type 7) of sorted, non-empty data.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = q * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The generator of resample `r` in stream `stream`.
fn resample_rng(seed: u64, stream: u64, r: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&stream.to_le_bytes());
    key[16..24].copy_from_slice(&r.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// Resamples the rows of `data` `config.resamples` times and returns every
/// resample's column means. Streams let independent analyses (e.g. cohorts)
/// use independent resamples under one seed.
pub(crate) fn resample_means(
    data: &RowMajor,
    config: &BootstrapConfig,
    stream: u64,
) -> Result<ResampledMeans, EvalError> {
    config.validate()?;
    let n = data.rows();
    let cols = data.cols;
    let resamples = config.resamples;
    let threads = config.worker_threads();
    let per_thread = resamples.div_ceil(threads);
    let run = |range: std::ops::Range<usize>| -> Vec<f64> {
        let mut out = vec![0.0; range.len() * cols];
        for (slot, r) in range.enumerate() {
            let mut rng = resample_rng(config.seed, stream, r as u64);
            let sums = &mut out[slot * cols..(slot + 1) * cols];
            for _ in 0..n {
                let i = rng.random_range(0..n);
                let row = &data.values[i * cols..(i + 1) * cols];
                for (s, v) in sums.iter_mut().zip(row) {
                    *s += v;
                }
            }
            for s in sums.iter_mut() {
                *s /= n as f64;
            }
        }
        out
    };
    let means = if threads == 1 {
        run(0..resamples)
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let start = (t * per_thread).min(resamples);
                    let end = ((t + 1) * per_thread).min(resamples);
                    scope.spawn(move || run(start..end))
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    Ok(ResampledMeans { means, cols })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(resamples: usize, seed: u64) -> BootstrapConfig {
        BootstrapConfig {
            resamples,
            seed,
            ..BootstrapConfig::default()
        }
    }

    #[test]
    fn deterministic_by_seed_and_independent_of_threads() {
        let values: Vec<f64> = (0..300).map(|i| ((i * 37) % 11) as f64).collect();
        let a = bootstrap_mean_ci(&values, &cfg(500, 7)).unwrap();
        let b = bootstrap_mean_ci(&values, &cfg(500, 7)).unwrap();
        assert_eq!(a, b);
        for threads in [1, 2, 3, 8] {
            let c = BootstrapConfig {
                threads,
                ..cfg(500, 7)
            };
            assert_eq!(bootstrap_mean_ci(&values, &c).unwrap(), a);
        }
        let other = bootstrap_mean_ci(&values, &cfg(500, 8)).unwrap();
        assert_ne!((a.lower, a.upper), (other.lower, other.upper));
        assert_eq!(a.estimate, other.estimate);
    }

    /// Coverage of the true mean by the 95 % percentile interval, over 200
    /// independent samples of n = 200, must be close to 95 %.
    #[test]
    fn coverage_close_to_nominal() {
        let mut data_rng = ChaCha8Rng::seed_from_u64(2024);
        let reps = 200;
        let n = 200;
        let mut covered_bernoulli = 0;
        let mut covered_uniform = 0;
        for rep in 0..reps {
            let bern: Vec<f64> = (0..n)
                .map(|_| f64::from(u8::from(data_rng.random_bool(0.3))))
                .collect();
            let unif: Vec<f64> = (0..n).map(|_| data_rng.random::<f64>()).collect();
            let c = BootstrapConfig {
                threads: 1,
                ..cfg(300, rep)
            };
            let cis = bootstrap_mean_cis(&[&bern, &unif], &c).unwrap();
            covered_bernoulli += usize::from(cis[0].contains(0.3));
            covered_uniform += usize::from(cis[1].contains(0.5));
        }
        for covered in [covered_bernoulli, covered_uniform] {
            let rate = covered as f64 / reps as f64;
            assert!((0.90..=0.99).contains(&rate), "coverage {rate}");
        }
    }

    #[test]
    fn paired_interval_is_narrower_than_unpaired_difference() {
        // b is a noisy, strongly correlated copy of a.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let a: Vec<f64> = (0..400).map(|_| rng.random::<f64>()).collect();
        let b: Vec<f64> = a
            .iter()
            .map(|v| v - 0.02 + 0.01 * rng.random::<f64>())
            .collect();
        let c = cfg(400, 3);
        let diff = paired_bootstrap_diff_ci(&a, &b, &c).unwrap();
        let ca = bootstrap_mean_ci(&a, &c).unwrap();
        let cb = bootstrap_mean_ci(&b, &c).unwrap();
        // The marginal intervals overlap, yet the paired difference excludes 0.
        assert!(ca.overlaps(&cb));
        assert!(!diff.contains(0.0));
        assert!(diff.width() < ca.width());
        assert!((diff.estimate - (ca.estimate - cb.estimate)).abs() < 1e-12);
    }

    #[test]
    fn constant_sample_and_interval_helpers() {
        let ci = bootstrap_mean_ci(&[2.5; 10], &cfg(50, 0)).unwrap();
        assert_eq!((ci.estimate, ci.lower, ci.upper), (2.5, 2.5, 2.5));
        let x = ConfidenceInterval {
            estimate: 1.0,
            lower: 0.5,
            upper: 1.5,
        };
        let y = ConfidenceInterval {
            estimate: 2.0,
            lower: 1.5,
            upper: 2.5,
        };
        let z = ConfidenceInterval {
            estimate: 3.0,
            lower: 2.6,
            upper: 3.5,
        };
        assert!(x.overlaps(&y) && y.overlaps(&x) && !x.overlaps(&z) && !z.overlaps(&x));
        assert_eq!(x.width(), 1.0);
        assert_eq!(quantile_sorted(&[0.0, 10.0], 0.25), 2.5);
        assert_eq!(quantile_sorted(&[4.0], 0.975), 4.0);
    }

    #[test]
    fn invalid_inputs() {
        let c = BootstrapConfig::default();
        assert_eq!(
            bootstrap_mean_ci(&[], &c).unwrap_err(),
            EvalError::EmptySample
        );
        assert_eq!(
            bootstrap_mean_cis(&[], &c).unwrap_err(),
            EvalError::EmptySample
        );
        assert_eq!(
            bootstrap_mean_ci(&[1.0, f64::NAN], &c).unwrap_err(),
            EvalError::NonFiniteValue { index: 1 }
        );
        assert!(matches!(
            paired_bootstrap_diff_ci(&[1.0], &[1.0, 2.0], &c).unwrap_err(),
            EvalError::LengthMismatch { .. }
        ));
        assert!(matches!(
            bootstrap_mean_ci(&[1.0], &cfg(0, 0)).unwrap_err(),
            EvalError::InvalidParameter {
                name: "resamples",
                ..
            }
        ));
        for confidence in [0.0, 1.0, f64::NAN] {
            let bad = BootstrapConfig { confidence, ..c };
            assert!(matches!(
                bootstrap_mean_ci(&[1.0], &bad).unwrap_err(),
                EvalError::InvalidParameter {
                    name: "confidence",
                    ..
                }
            ));
        }
    }
}
