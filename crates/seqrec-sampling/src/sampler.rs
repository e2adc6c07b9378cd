//! The negative sampler: uniform or popularity-based draws of item ids.

use rand::Rng;

use crate::alias::AliasTable;
use crate::exclusion::ExcludeView;
use crate::{Exclusion, NegativeDistribution, SamplingError};

/// Below this accepted probability mass, rejection sampling is skipped and the
/// sampler draws exactly from the explicitly enumerated remaining items.
const MIN_ACCEPT_MASS: f64 = 0.05;

/// Maximum rejection attempts for one draw before switching to the exact
/// (enumerating) fallback. With accepted mass >= 5 % the chance of ever hitting
/// this bound is below 2e-6 per draw, and the fallback keeps the result exact.
const MAX_ATTEMPTS: usize = 256;

#[derive(Debug, Clone)]
enum Kind {
    Uniform,
    Weighted {
        table: AliasTable,
        /// Normalised probability of item `id` at index `id - 1`.
        pmf: Vec<f64>,
        /// Number of items with positive probability.
        support: u32,
    },
}

/// Draws negative item ids in `1..=num_items`; the padding id 0 is never returned.
///
/// Draws are with replacement: a call for `k` negatives may contain duplicates.
/// All randomness comes from the caller's RNG, so the same seed yields the same ids.
///
/// ```
/// use rand::SeedableRng;
/// use rand_chacha::ChaCha8Rng;
/// use seqrec_sampling::{Exclusion, NegativeSampler};
///
/// let sampler = NegativeSampler::popularity(&[0, 10, 0, 5], 1.0).unwrap();
/// let mut rng = ChaCha8Rng::seed_from_u64(7);
/// let mut out = Vec::new();
/// sampler
///     .sample_excluding(&mut rng, 8, &Exclusion::from_ids([1]), &mut out)
///     .unwrap();
/// // Item 1 is excluded and item 2 has count 0: only item 3 is left.
/// assert_eq!(out, vec![3; 8]);
/// ```
#[derive(Debug, Clone)]
pub struct NegativeSampler {
    num_items: u32,
    distribution: NegativeDistribution,
    kind: Kind,
}

impl NegativeSampler {
    /// A sampler that draws uniformly from `1..=num_items`.
    ///
    /// Returns [`SamplingError::EmptyCatalogue`] when `num_items == 0`.
    pub fn uniform(num_items: u32) -> Result<Self, SamplingError> {
        if num_items == 0 {
            return Err(SamplingError::EmptyCatalogue);
        }
        Ok(Self {
            num_items,
            distribution: NegativeDistribution::Uniform,
            kind: Kind::Uniform,
        })
    }

    /// A sampler with `P(i) ∝ counts[i]^gamma`.
    ///
    /// `counts[i]` is the number of occurrences of item `i`; `counts[0]` (padding)
    /// is ignored and `num_items = counts.len() - 1`.
    ///
    /// * `gamma = 0` is **uniform over the whole catalogue**, including items whose
    ///   count is 0 (identical to [`NegativeSampler::uniform`]).
    /// * `gamma > 0`: items with count 0 get no mass and are never drawn;
    ///   `gamma = 1` is proportional to the counts.
    ///
    /// Weights are computed as `(count / max_count)^gamma`, so large counts and
    /// large exponents cannot overflow.
    ///
    /// Errors: [`SamplingError::EmptyCatalogue`] for fewer than 2 entries,
    /// [`SamplingError::InvalidGamma`] for a negative or non-finite `gamma`,
    /// [`SamplingError::NoMass`] when every count is 0 (and `gamma > 0`),
    /// [`SamplingError::CatalogueTooLarge`] when the ids do not fit `u32`.
    pub fn popularity(counts: &[u64], gamma: f64) -> Result<Self, SamplingError> {
        let distribution = NegativeDistribution::Popularity { gamma };
        distribution.validate()?;
        if counts.len() < 2 {
            return Err(SamplingError::EmptyCatalogue);
        }
        let num_items =
            u32::try_from(counts.len() - 1).map_err(|_| SamplingError::CatalogueTooLarge {
                len: counts.len() - 1,
            })?;
        if gamma == 0.0 {
            return Ok(Self {
                num_items,
                distribution,
                kind: Kind::Uniform,
            });
        }
        let item_counts = &counts[1..];
        let max = item_counts.iter().copied().max().unwrap_or(0);
        if max == 0 {
            return Err(SamplingError::NoMass);
        }
        let max = max as f64;
        let weights: Vec<f64> = item_counts
            .iter()
            .map(|&c| {
                if c == 0 {
                    0.0
                } else {
                    (c as f64 / max).powf(gamma)
                }
            })
            .collect();
        let table = AliasTable::new(&weights)?;
        let total: f64 = weights.iter().sum();
        let pmf: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let support = weights.iter().filter(|&&w| w > 0.0).count() as u32;
        Ok(Self {
            num_items,
            distribution,
            kind: Kind::Weighted {
                table,
                pmf,
                support,
            },
        })
    }

    /// Builds the sampler described by `distribution`.
    ///
    /// `counts` is only used by [`NegativeDistribution::Popularity`] and must then
    /// have exactly `num_items + 1` entries
    /// ([`SamplingError::CountLengthMismatch`] otherwise).
    pub fn from_distribution(
        distribution: &NegativeDistribution,
        num_items: u32,
        counts: &[u64],
    ) -> Result<Self, SamplingError> {
        match *distribution {
            NegativeDistribution::Uniform => Self::uniform(num_items),
            NegativeDistribution::Popularity { gamma } => {
                let expected = num_items as usize + 1;
                if counts.len() != expected {
                    return Err(SamplingError::CountLengthMismatch {
                        expected,
                        got: counts.len(),
                    });
                }
                Self::popularity(counts, gamma)
            }
        }
    }

    /// Catalogue size: ids are drawn from `1..=num_items`.
    pub fn num_items(&self) -> u32 {
        self.num_items
    }

    /// The distribution this sampler was built from.
    pub fn distribution(&self) -> &NegativeDistribution {
        &self.distribution
    }

    /// Number of items that can be drawn (items with positive probability).
    pub fn support_size(&self) -> u32 {
        match &self.kind {
            Kind::Uniform => self.num_items,
            Kind::Weighted { support, .. } => *support,
        }
    }

    /// Probability of drawing `id` without exclusions (0 for `id = 0` or out of range).
    pub fn probability(&self, id: u32) -> f64 {
        if id == 0 || id > self.num_items {
            return 0.0;
        }
        match &self.kind {
            Kind::Uniform => 1.0 / f64::from(self.num_items),
            Kind::Weighted { pmf, .. } => pmf[(id - 1) as usize],
        }
    }

    /// Draws one id without any exclusion.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        match &self.kind {
            Kind::Uniform => rng.random_range(1..=self.num_items),
            Kind::Weighted { table, .. } => table.sample(rng) as u32 + 1,
        }
    }

    /// Draws `k` ids (with replacement) that are not in `exclude`, appending them to `out`.
    ///
    /// The result follows the sampler's distribution conditioned on not being
    /// excluded. Rejection sampling is used while the remaining mass is large; a
    /// bounded number of attempts per draw guarantees termination, after which
    /// (or when little mass remains) the remaining items are enumerated and drawn
    /// from exactly.
    ///
    /// Returns [`SamplingError::NoCandidates`] (leaving `out` unchanged) when the
    /// exclusion removes every item with positive probability. `k = 0` is a no-op.
    pub fn sample_excluding<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        k: usize,
        exclude: &Exclusion<'_>,
        out: &mut Vec<u32>,
    ) -> Result<(), SamplingError> {
        let view = ExcludeView {
            sorted: exclude.as_slice(),
            extra: None,
        };
        self.sample_view(rng, k, view, out)
    }

    /// Core routine shared by the public API and the batch sampler.
    pub(crate) fn sample_view<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        k: usize,
        view: ExcludeView<'_>,
        out: &mut Vec<u32>,
    ) -> Result<(), SamplingError> {
        if k == 0 {
            return Ok(());
        }
        let (excluded_support, excluded_mass) = self.excluded_stats(view);
        if excluded_support >= u64::from(self.support_size()) {
            return Err(SamplingError::NoCandidates);
        }
        let accept_mass = match &self.kind {
            Kind::Uniform => {
                (f64::from(self.num_items) - excluded_support as f64) / f64::from(self.num_items)
            }
            Kind::Weighted { .. } => 1.0 - excluded_mass,
        };
        out.reserve(k);
        if excluded_support == 0 {
            out.extend((0..k).map(|_| self.sample(rng)));
            return Ok(());
        }
        let mut drawn = 0;
        if accept_mass >= MIN_ACCEPT_MASS {
            'draws: while drawn < k {
                for _ in 0..MAX_ATTEMPTS {
                    let id = self.sample(rng);
                    if !view.contains(id) {
                        out.push(id);
                        drawn += 1;
                        continue 'draws;
                    }
                }
                break;
            }
        }
        if drawn < k {
            self.sample_enumerated(rng, k - drawn, view, out);
        }
        Ok(())
    }

    /// Number and total probability of the distinct excluded ids that have mass.
    fn excluded_stats(&self, view: ExcludeView<'_>) -> (u64, f64) {
        let mut count = 0u64;
        let mut mass = 0.0f64;
        for id in view.distinct() {
            let p = self.probability(id);
            if p > 0.0 {
                count += 1;
                mass += p;
            }
        }
        (count, mass)
    }

    /// Exact fallback: enumerates the allowed items and draws from them directly.
    /// The caller guarantees at least one allowed item with positive mass.
    fn sample_enumerated<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        k: usize,
        view: ExcludeView<'_>,
        out: &mut Vec<u32>,
    ) {
        match &self.kind {
            Kind::Uniform => {
                let allowed: Vec<u32> = (1..=self.num_items)
                    .filter(|&i| !view.contains(i))
                    .collect();
                if allowed.is_empty() {
                    return;
                }
                out.extend((0..k).map(|_| allowed[rng.random_range(0..allowed.len())]));
            }
            Kind::Weighted { pmf, .. } => {
                let mut ids = Vec::new();
                let mut cumulative = Vec::new();
                let mut total = 0.0f64;
                for (idx, &p) in pmf.iter().enumerate() {
                    let id = idx as u32 + 1;
                    if p > 0.0 && !view.contains(id) {
                        total += p;
                        ids.push(id);
                        cumulative.push(total);
                    }
                }
                if ids.is_empty() {
                    return;
                }
                let last = ids.len() - 1;
                for _ in 0..k {
                    let u = rng.random::<f64>() * total;
                    let pos = cumulative.partition_point(|&c| c <= u).min(last);
                    out.push(ids[pos]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn draw(s: &NegativeSampler, seed: u64, k: usize, ex: &Exclusion<'_>) -> Vec<u32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::new();
        s.sample_excluding(&mut rng, k, ex, &mut out).unwrap();
        out
    }

    #[test]
    fn constructor_errors() {
        assert_eq!(
            NegativeSampler::uniform(0).unwrap_err(),
            SamplingError::EmptyCatalogue
        );
        assert_eq!(
            NegativeSampler::popularity(&[0], 1.0).unwrap_err(),
            SamplingError::EmptyCatalogue
        );
        assert_eq!(
            NegativeSampler::popularity(&[0, 0, 0], 1.0).unwrap_err(),
            SamplingError::NoMass
        );
        for g in [-0.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                NegativeSampler::popularity(&[0, 1], g).unwrap_err(),
                SamplingError::InvalidGamma { .. }
            ));
        }
        assert_eq!(
            NegativeSampler::from_distribution(
                &NegativeDistribution::Popularity { gamma: 1.0 },
                3,
                &[0, 1]
            )
            .unwrap_err(),
            SamplingError::CountLengthMismatch {
                expected: 4,
                got: 2
            }
        );
    }

    #[test]
    fn from_distribution_builds_both() {
        let u = NegativeSampler::from_distribution(&NegativeDistribution::Uniform, 5, &[]).unwrap();
        assert_eq!(u.num_items(), 5);
        assert_eq!(u.distribution(), &NegativeDistribution::Uniform);
        let p = NegativeSampler::from_distribution(
            &NegativeDistribution::Popularity { gamma: 1.0 },
            2,
            &[0, 1, 3],
        )
        .unwrap();
        assert!((p.probability(2) - 0.75).abs() < 1e-12);
        assert_eq!(p.probability(0), 0.0);
        assert_eq!(p.probability(3), 0.0);
    }

    #[test]
    fn same_seed_same_output() {
        let counts: Vec<u64> = (0..200).map(|i| (i % 7) as u64).collect();
        for s in [
            NegativeSampler::uniform(199).unwrap(),
            NegativeSampler::popularity(&counts, 0.75).unwrap(),
        ] {
            let ex = Exclusion::from_ids([3, 4, 5]);
            assert_eq!(draw(&s, 42, 500, &ex), draw(&s, 42, 500, &ex));
            assert_ne!(draw(&s, 42, 500, &ex), draw(&s, 43, 500, &ex));
        }
    }

    #[test]
    fn ids_in_range_and_never_padding() {
        let counts: Vec<u64> = (0..51).map(|i| i as u64).collect();
        for s in [
            NegativeSampler::uniform(50).unwrap(),
            NegativeSampler::popularity(&counts, 1.0).unwrap(),
        ] {
            let out = draw(&s, 1, 50_000, &Exclusion::none());
            assert!(out.iter().all(|&id| (1..=50).contains(&id)));
            // Every item with mass appears at least once in 50k draws.
            let mut seen = [false; 51];
            for &id in &out {
                seen[id as usize] = true;
            }
            assert!(seen[1..].iter().all(|&b| b));
        }
    }

    #[test]
    fn excluded_never_drawn() {
        let counts: Vec<u64> = (0..101).map(|i| 1 + (i * i) as u64).collect();
        let ex = Exclusion::from_ids((1..=100).filter(|i| i % 3 != 0));
        for s in [
            NegativeSampler::uniform(100).unwrap(),
            NegativeSampler::popularity(&counts, 1.0).unwrap(),
        ] {
            let out = draw(&s, 9, 20_000, &ex);
            assert_eq!(out.len(), 20_000);
            assert!(out.iter().all(|&id| !ex.contains(id) && id % 3 == 0));
        }
    }

    #[test]
    fn heavy_exclusion_uses_exact_fallback() {
        // Only item 1000 remains; rejection alone would need ~1000 attempts/draw.
        let s = NegativeSampler::uniform(1000).unwrap();
        let ex = Exclusion::from_ids(1..1000);
        assert_eq!(draw(&s, 3, 100, &ex), vec![1000; 100]);
        // Popularity: the remaining item has tiny mass.
        let mut counts = vec![1_000_000u64; 11];
        counts[0] = 0;
        counts[7] = 1;
        let p = NegativeSampler::popularity(&counts, 1.0).unwrap();
        let ex = Exclusion::from_ids((1..=10).filter(|&i| i != 7));
        assert_eq!(draw(&p, 3, 50, &ex), vec![7; 50]);
    }

    #[test]
    fn all_excluded_is_error_not_hang() {
        let s = NegativeSampler::uniform(5).unwrap();
        let ex = Exclusion::from_ids(0..=5);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut out = vec![42];
        assert_eq!(
            s.sample_excluding(&mut rng, 3, &ex, &mut out).unwrap_err(),
            SamplingError::NoCandidates
        );
        assert_eq!(out, vec![42]);
        // Popularity: excluding every item with positive count is enough.
        let p = NegativeSampler::popularity(&[0, 4, 0, 2, 0], 1.0).unwrap();
        let ex = Exclusion::from_ids([1, 3]);
        assert_eq!(
            p.sample_excluding(&mut rng, 1, &ex, &mut out).unwrap_err(),
            SamplingError::NoCandidates
        );
        // k = 0 is always fine.
        p.sample_excluding(&mut rng, 0, &ex, &mut out).unwrap();
    }

    #[test]
    fn popularity_gamma_one_matches_counts() {
        // Counts 0..=20 for items 1..=20 (item 1 has count 1, ..., item 20 count 20);
        // item 0 is padding; add an item with count 0 at the end.
        let mut counts: Vec<u64> = (0..=20).collect();
        counts.push(0);
        let s = NegativeSampler::popularity(&counts, 1.0).unwrap();
        let n = 400_000usize;
        let out = draw(&s, 2024, n, &Exclusion::none());
        let total: u64 = counts.iter().sum();
        let mut hist = vec![0u64; counts.len()];
        for &id in &out {
            hist[id as usize] += 1;
        }
        assert_eq!(hist[0], 0);
        assert_eq!(hist[21], 0, "count-0 item must never be drawn");
        let mut chi2 = 0.0;
        for i in 1..=20 {
            let p = counts[i] as f64 / total as f64;
            let expected = p * n as f64;
            let sigma = (n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (hist[i] as f64 - expected).abs() < 5.0 * sigma,
                "item {i}: {} vs {expected}",
                hist[i]
            );
            chi2 += (hist[i] as f64 - expected).powi(2) / expected;
        }
        // 19 degrees of freedom: P(chi2 > 50) < 1e-4.
        assert!(chi2 < 50.0, "chi2 = {chi2}");
    }

    #[test]
    fn popularity_with_exclusion_is_conditional() {
        let counts = [0u64, 1, 2, 3, 4];
        let s = NegativeSampler::popularity(&counts, 1.0).unwrap();
        let n = 200_000usize;
        let out = draw(&s, 5, n, &Exclusion::from_ids([4]));
        let mut hist = [0u64; 5];
        for &id in &out {
            hist[id as usize] += 1;
        }
        assert_eq!(hist[4], 0);
        for (i, c) in [(1usize, 1.0f64), (2, 2.0), (3, 3.0)] {
            let p = c / 6.0;
            let sigma = (n as f64 * p * (1.0 - p)).sqrt();
            assert!((hist[i] as f64 - p * n as f64).abs() < 5.0 * sigma);
        }
    }

    #[test]
    fn gamma_zero_is_uniform_over_all_items() {
        // Items 2 and 4 have count 0 but still get uniform mass with gamma = 0.
        let counts = [0u64, 10, 0, 1000, 0];
        let s = NegativeSampler::popularity(&counts, 0.0).unwrap();
        assert_eq!(s.support_size(), 4);
        for id in 1..=4 {
            assert!((s.probability(id) - 0.25).abs() < 1e-12);
        }
        let n = 100_000usize;
        let out = draw(&s, 77, n, &Exclusion::none());
        let mut hist = [0u64; 5];
        for &id in &out {
            hist[id as usize] += 1;
        }
        let sigma = (n as f64 * 0.25 * 0.75).sqrt();
        for &h in &hist[1..] {
            assert!((h as f64 - 0.25 * n as f64).abs() < 5.0 * sigma, "{hist:?}");
        }
        // Same stream as the uniform sampler.
        let u = NegativeSampler::uniform(4).unwrap();
        assert_eq!(out, draw(&u, 77, n, &Exclusion::none()));
    }

    #[test]
    fn fractional_gamma_flattens() {
        let s = NegativeSampler::popularity(&[0, 1, 4], 0.5).unwrap();
        assert!((s.probability(1) - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.probability(2) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let s = NegativeSampler::popularity(&[0, u64::MAX, u64::MAX / 2, 1], 50.0).unwrap();
        assert!(s.probability(1) > 0.99);
        let out = draw(&s, 0, 100, &Exclusion::from_ids([1]));
        assert!(out.iter().all(|&id| id == 2 || id == 3));
    }
}
