//! Walker/Vose alias table for O(1) draws from a discrete distribution.

use rand::Rng;

use crate::SamplingError;

/// A Vose alias table over indices `0..len`.
///
/// Construction is O(n); every draw costs one uniform index and one uniform
/// float. Indices with weight 0 are never returned.
#[derive(Debug, Clone)]
pub(crate) struct AliasTable {
    /// Probability of keeping the slot's own index.
    prob: Vec<f64>,
    /// Index returned when the slot's own index is rejected.
    alias: Vec<u32>,
}

impl AliasTable {
    /// Builds a table from non-negative, finite weights (not necessarily normalised).
    pub(crate) fn new(weights: &[f64]) -> Result<Self, SamplingError> {
        let n = weights.len();
        if n == 0 {
            return Err(SamplingError::EmptyCatalogue);
        }
        if u32::try_from(n).is_err() {
            return Err(SamplingError::CatalogueTooLarge { len: n });
        }
        let mut total = 0.0f64;
        for (index, &weight) in weights.iter().enumerate() {
            if !weight.is_finite() || weight < 0.0 {
                return Err(SamplingError::InvalidWeight { index, weight });
            }
            total += weight;
        }
        if total <= 0.0 {
            return Err(SamplingError::NoMass);
        }
        if !total.is_finite() {
            // Only reachable with absurdly large raw weights.
            return Err(SamplingError::InvalidWeight {
                index: 0,
                weight: total,
            });
        }

        let scale = n as f64 / total;
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * scale).collect();
        let mut prob = vec![0.0f64; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let mut small: Vec<u32> = Vec::new();
        let mut large: Vec<u32> = Vec::new();
        for (i, &p) in scaled.iter().enumerate() {
            if p < 1.0 {
                small.push(i as u32);
            } else {
                large.push(i as u32);
            }
        }
        // Any index with positive weight; used as a safe alias for leftovers.
        let fallback = weights
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i as u32)
            .unwrap_or(0);

        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            large.pop();
            let (su, lu) = (s as usize, l as usize);
            prob[su] = scaled[su];
            alias[su] = l;
            scaled[lu] = (scaled[lu] + scaled[su]) - 1.0;
            if scaled[lu] < 1.0 {
                small.push(l);
            } else {
                large.push(l);
            }
        }
        for l in large {
            prob[l as usize] = 1.0;
        }
        // Leftover "small" entries only exist because of rounding; they should be
        // ~1. A zero-weight index must still never be returned.
        for s in small {
            let su = s as usize;
            if weights[su] > 0.0 {
                prob[su] = 1.0;
            } else {
                prob[su] = 0.0;
                alias[su] = fallback;
            }
        }
        Ok(Self { prob, alias })
    }

    /// Draws one index in `0..len()`.
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let i = rng.random_range(0..self.prob.len());
        let u: f64 = rng.random();
        if u < self.prob[i] {
            i
        } else {
            self.alias[i] as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn rejects_bad_weights() {
        assert_eq!(
            AliasTable::new(&[]).unwrap_err(),
            SamplingError::EmptyCatalogue
        );
        assert_eq!(
            AliasTable::new(&[0.0, 0.0]).unwrap_err(),
            SamplingError::NoMass
        );
        assert!(matches!(
            AliasTable::new(&[1.0, -1.0]).unwrap_err(),
            SamplingError::InvalidWeight { index: 1, .. }
        ));
        assert!(matches!(
            AliasTable::new(&[1.0, f64::NAN]).unwrap_err(),
            SamplingError::InvalidWeight { index: 1, .. }
        ));
    }

    #[test]
    fn zero_weights_never_drawn() {
        let t = AliasTable::new(&[0.0, 3.0, 0.0, 1.0, 0.0]).unwrap();
        assert_eq!(t.prob.len(), 5);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut hist = [0usize; 5];
        for _ in 0..40_000 {
            hist[t.sample(&mut rng)] += 1;
        }
        assert_eq!(hist[0] + hist[2] + hist[4], 0);
        // Expect 30000 / 10000; 5 sigma of a binomial(40000, 0.75) is ~433.
        assert!((hist[1] as i64 - 30_000).abs() < 433, "{hist:?}");
    }

    #[test]
    fn single_item() {
        let t = AliasTable::new(&[2.5]).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!((0..100).all(|_| t.sample(&mut rng) == 0));
    }
}
