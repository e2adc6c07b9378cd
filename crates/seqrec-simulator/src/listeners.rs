//! Simulated listeners: stable tastes (a mixture over genres, favourite artists and
//! tracks), activity levels, and the ground-truth affinity for every track.

use rand::Rng;

use crate::SimulatorConfig;
use crate::catalog::{CATALOGUE_RELEASE, Catalog};
use crate::random::{cumulative, normal, pair_normal, sample_cumulative};

/// Weights of the affinity model (a logistic model of the listener–track pair).
pub(crate) mod weights {
    /// Intercept.
    pub const BIAS: f64 = -1.7;
    /// Times the listener's relative liking of the track's genre (0 to 1).
    pub const GENRE: f64 = 2.4;
    /// When the artist is a favourite.
    pub const FAVOURITE_ARTIST: f64 = 1.3;
    /// When the track is a favourite.
    pub const FAVOURITE_TRACK: f64 = 1.5;
    /// Times the track's general appeal.
    pub const APPEAL: f64 = 0.45;
    /// Times the listener–track idiosyncratic noise.
    pub const NOISE: f64 = 0.9;
}

/// One simulated listener.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    /// Genres liked, with weights summing to 1, strongest first.
    pub genres: Vec<(usize, f64)>,
    /// Favourite artists.
    pub favourite_artists: Vec<u32>,
    /// Favourite tracks (heavy rotation).
    pub favourite_tracks: Vec<u32>,
    /// Probability of drawing by popularity (rather than uniformly) within a genre.
    pub mainstream: f64,
    /// Probability that a session explores a genre outside the listener's tastes.
    pub explore: f64,
    /// Plays the listener aims at over the whole period.
    pub target_plays: usize,
    /// Preferred hour of the day for sessions (UTC).
    pub peak_hour: f64,
    pub(crate) genre_table: Vec<f64>,
    /// Taste weight relative to the strongest genre, per genre.
    pub(crate) relative_taste: Vec<f64>,
}

impl Listener {
    /// Draws a listener.
    pub(crate) fn generate(
        config: &SimulatorConfig,
        catalog: &Catalog,
        rng: &mut impl Rng,
    ) -> Self {
        let populated: Vec<f64> = (0..catalog.genres)
            .map(|g| {
                if catalog.genre_tracks[g].is_empty() {
                    0.0
                } else {
                    catalog.genre_weights[g]
                }
            })
            .collect();
        let genre_pick = cumulative(populated.iter().copied());
        let k = (1 + (0.9 * rng.random::<f64>() * 4.0) as usize).min(catalog.genres);
        let mut genres: Vec<(usize, f64)> = Vec::with_capacity(k);
        for _ in 0..k {
            let g = sample_cumulative(&genre_pick, rng).unwrap_or(0);
            let w = -rng.random::<f64>().max(1e-12).ln(); // Exp(1): a Dirichlet(1) draw
            match genres.iter_mut().find(|(h, _)| *h == g) {
                Some((_, v)) => *v += w,
                None => genres.push((g, w)),
            }
        }
        let total: f64 = genres.iter().map(|(_, w)| w).sum();
        for (_, w) in &mut genres {
            *w /= total;
        }
        genres.sort_by(|a, b| b.1.total_cmp(&a.1));
        let max = genres[0].1;
        let mut relative_taste = vec![0.0; catalog.genres];
        for &(g, w) in &genres {
            relative_taste[g] = w / max;
        }
        let genre_table = cumulative(genres.iter().map(|&(_, w)| w));

        // Favourite artists from the liked genres, by popularity^0.7 (a bit of the tail).
        let n_artists = rng.random_range(3..=15);
        let mut favourite_artists = Vec::with_capacity(n_artists);
        for _ in 0..n_artists {
            let Some(i) = sample_cumulative(&genre_table, rng) else {
                break;
            };
            let list = &catalog.genre_artists[genres[i].0];
            let table = &catalog.genre_artist_cumulative[genres[i].0];
            if let Some(j) = sample_cumulative(table, rng)
                && !favourite_artists.contains(&list[j])
            {
                favourite_artists.push(list[j]);
            }
        }
        let n_tracks = rng.random_range(5..=25);
        let mut favourite_tracks = Vec::with_capacity(n_tracks);
        for _ in 0..n_tracks {
            if favourite_artists.is_empty() {
                break;
            }
            let a = favourite_artists[rng.random_range(0..favourite_artists.len())];
            if let Some(t) = catalog.artist_track(a, rng)
                && catalog.release_ms(t) == CATALOGUE_RELEASE
                && !favourite_tracks.contains(&t)
            {
                favourite_tracks.push(t);
            }
        }
        let target_plays = ((config.median_plays.ln() + config.plays_sigma * normal(rng)).exp()
            as usize)
            .clamp(1, config.max_plays.max(1));
        Self {
            genres,
            favourite_artists,
            favourite_tracks,
            mainstream: rng.random_range(0.4..0.95),
            explore: rng.random_range(0.02..0.15),
            target_plays,
            peak_hour: (20.0 + 4.0 * normal(rng)).rem_euclid(24.0),
            genre_table,
            relative_taste,
        }
    }

    /// A genre drawn from the listener's taste mixture.
    pub(crate) fn taste_genre(&self, rng: &mut impl Rng) -> usize {
        let i = sample_cumulative(&self.genre_table, rng).unwrap_or(0);
        self.genres[i].0
    }

    /// The ground-truth affinity (0 to 1) of this listener (index `user`) for track `t`:
    /// the logistic function of genre taste, favourite artist and track, the track's appeal
    /// and a fixed idiosyncratic term per pair.
    pub fn affinity(&self, seed: u64, user: usize, catalog: &Catalog, t: u32) -> f64 {
        use weights::*;
        let artist = catalog.artist_of(t);
        let z = BIAS
            + GENRE * self.relative_taste[catalog.genre_of(t)]
            + if self.favourite_artists.contains(&artist) {
                FAVOURITE_ARTIST
            } else {
                0.0
            }
            + if self.favourite_tracks.contains(&t) {
                FAVOURITE_TRACK
            } else {
                0.0
            }
            + APPEAL * f64::from(catalog.appeal[t as usize])
            + NOISE * pair_normal(seed, user as u64, u64::from(t));
        1.0 / (1.0 + (-z).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn tastes_are_normalised_and_drive_affinity() {
        let config = SimulatorConfig {
            tracks: 2000,
            ..Default::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let catalog = Catalog::generate(&config, &mut rng);
        let mut in_taste = Vec::new();
        let mut off_taste = Vec::new();
        for u in 0..200 {
            let l = Listener::generate(&config, &catalog, &mut rng);
            let total: f64 = l.genres.iter().map(|(_, w)| w).sum();
            assert!((total - 1.0).abs() < 1e-9);
            assert!(l.target_plays >= 1 && l.target_plays <= config.max_plays);
            let main = l.genres[0].0;
            for t in (0..catalog.len() as u32).step_by(7) {
                let a = l.affinity(1, u, &catalog, t);
                assert!((0.0..=1.0).contains(&a));
                if catalog.genre_of(t) == main {
                    in_taste.push(a);
                } else if l.relative_taste[catalog.genre_of(t)] == 0.0 {
                    off_taste.push(a);
                }
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&in_taste) > mean(&off_taste) + 0.3,
            "{} vs {}",
            mean(&in_taste),
            mean(&off_taste)
        );
    }
}
