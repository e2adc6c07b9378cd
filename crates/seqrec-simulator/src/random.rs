//! Small random helpers: seed mixing, normal draws, deterministic per-pair noise and
//! sampling from cumulative weights.

use rand::Rng;

/// SplitMix64: a well-mixed 64-bit hash, used to derive independent seeds.
pub(crate) fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A deterministic standard normal value for the pair `(a, b)` under `seed`.
pub(crate) fn pair_normal(seed: u64, a: u64, b: u64) -> f64 {
    let h1 = mix(seed, (a << 32) ^ b);
    let h2 = mix(h1, 0x5555);
    let u1 = ((h1 >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = (h2 >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Running sums of `weights` (for [`sample_cumulative`]).
pub(crate) fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .into_iter()
        .map(|w| {
            total += w.max(0.0);
            total
        })
        .collect()
}

/// An index drawn with probability proportional to its weight; `None` if the weights
/// are empty or all zero.
pub(crate) fn sample_cumulative(cumulative: &[f64], rng: &mut impl Rng) -> Option<usize> {
    let total = *cumulative.last()?;
    if total <= 0.0 {
        return None;
    }
    let x = rng.random::<f64>() * total;
    Some(
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len() - 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn normal_draws_have_unit_moments() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let xs: Vec<f64> = (0..20_000).map(|_| normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        let ys: Vec<f64> = (0..20_000).map(|i| pair_normal(7, i, 3)).collect();
        let mean = ys.iter().sum::<f64>() / ys.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert_eq!(pair_normal(7, 1, 2), pair_normal(7, 1, 2));
        assert_ne!(pair_normal(7, 1, 2), pair_normal(7, 2, 1));
    }

    #[test]
    fn cumulative_sampling_follows_weights() {
        let c = cumulative([1.0, 0.0, 3.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut counts = [0; 3];
        for _ in 0..8000 {
            counts[sample_cumulative(&c, &mut rng).unwrap()] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(
            (counts[2] as f64 / counts[0] as f64 - 3.0).abs() < 0.3,
            "{counts:?}"
        );
        assert_eq!(sample_cumulative(&[], &mut rng), None);
        assert_eq!(sample_cumulative(&[0.0], &mut rng), None);
    }
}
