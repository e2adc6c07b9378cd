//! The simulated music catalogue: genres, artists, albums and tracks, with long-tailed
//! popularity and release dates.

use std::ops::Range;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::SimulatorConfig;
use crate::random::{cumulative, mix, normal, sample_cumulative};
use seqrec_events::DAY_MS;

/// Release time of the back catalogue (before the simulated period).
pub const CATALOGUE_RELEASE: i64 = i64::MIN;

/// One artist: a genre, a contiguous range of tracks (album after album).
#[derive(Debug, Clone, PartialEq)]
pub struct Artist {
    /// Genre index.
    pub genre: usize,
    /// Track indices of the artist.
    pub tracks: Range<u32>,
    /// Position of the artist in its genre's artist list (neighbours are similar).
    pub rank_in_genre: usize,
    /// Popularity of the artist (log-normal).
    pub popularity: f64,
}

/// One album: a contiguous range of an artist's tracks, released at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Album {
    /// Artist index.
    pub artist: u32,
    /// Track indices, in album order.
    pub tracks: Range<u32>,
    /// Release time in milliseconds since the epoch, [`CATALOGUE_RELEASE`] for the back
    /// catalogue.
    pub release_ms: i64,
}

/// The catalogue. Track `i` (0-based) has the string id [`Catalog::track_name`]`(i)` and, in
/// a simulated log, the dense id `i + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Number of genres.
    pub genres: usize,
    /// Artists.
    pub artists: Vec<Artist>,
    /// Albums.
    pub albums: Vec<Album>,
    /// Album of each track.
    pub album_of: Vec<u32>,
    /// Track lengths in milliseconds.
    pub length_ms: Vec<u32>,
    /// Track popularity weights (long-tailed).
    pub popularity: Vec<f64>,
    /// General appeal of each track (standard-normal-like), part of every affinity.
    pub appeal: Vec<f32>,
    /// Relative sizes of the genres.
    pub genre_weights: Vec<f64>,
    /// Artists of each genre.
    pub genre_artists: Vec<Vec<u32>>,
    /// Tracks of each genre, and their cumulative popularity.
    pub(crate) genre_tracks: Vec<Vec<u32>>,
    pub(crate) genre_cumulative: Vec<Vec<f64>>,
    /// Cumulative popularity of each artist's tracks.
    pub(crate) artist_cumulative: Vec<Vec<f64>>,
    /// Cumulative `popularity^0.7` of each genre's artists (in `genre_artists` order): what
    /// favourite artists are drawn from, computed once rather than for every listener.
    pub(crate) genre_artist_cumulative: Vec<Vec<f64>>,
    /// Albums released during the simulated period, by genre, ordered by release.
    pub(crate) new_albums: Vec<Vec<u32>>,
    width: usize,
}

impl Catalog {
    /// The catalogue that [`Simulation::run`](crate::Simulation::run) generates for `config`
    /// (the same for every listener count): what [`simulate_users`](crate::simulate_users)
    /// takes.
    pub fn of_config(config: &SimulatorConfig) -> Self {
        Self::generate(config, &mut ChaCha8Rng::seed_from_u64(mix(config.seed, 0)))
    }

    /// Builds the catalogue of `config` (about `config.tracks` tracks).
    pub(crate) fn generate(config: &SimulatorConfig, rng: &mut impl Rng) -> Self {
        let genres = config.genres;
        let genre_weights: Vec<f64> = (0..genres)
            .map(|g| 1.0 / (g as f64 + 1.0).powf(0.7))
            .collect();
        let genre_table = cumulative(genre_weights.iter().copied());
        let mut artists: Vec<Artist> = Vec::new();
        let mut albums: Vec<Album> = Vec::new();
        let mut album_of = Vec::with_capacity(config.tracks);
        let mut length_ms = Vec::with_capacity(config.tracks);
        let mut popularity = Vec::with_capacity(config.tracks);
        let mut genre_artists = vec![Vec::new(); genres];
        let period_end = config.start_ms + i64::from(config.days) * DAY_MS;
        while album_of.len() < config.tracks {
            let a = artists.len() as u32;
            let genre = sample_cumulative(&genre_table, rng).unwrap_or(0);
            let artist_popularity = (1.6 * normal(rng)).exp();
            let first = album_of.len() as u32;
            let n_albums = (1 + (0.7 * normal(rng)).exp() as usize).min(8);
            for k in 0..n_albums {
                if album_of.len() >= config.tracks {
                    break;
                }
                let kind: f64 = rng.random();
                let size = if kind < 0.25 {
                    1
                } else if kind < 0.4 {
                    rng.random_range(3..=5)
                } else {
                    rng.random_range(8..=14)
                };
                let size = size.min(config.tracks - album_of.len());
                // The first album is back catalogue, so every artist has released tracks.
                let release_ms = if k > 0 && rng.random::<f64>() < config.new_release_share {
                    config.start_ms + rng.random_range(1..config.days.max(2)) as i64 * DAY_MS
                } else {
                    CATALOGUE_RELEASE
                };
                let start = album_of.len() as u32;
                let album_factor = (0.5 * normal(rng)).exp();
                // New releases get a launch boost.
                let boost = if release_ms == CATALOGUE_RELEASE {
                    1.0
                } else {
                    3.0
                };
                for position in 0..size {
                    album_of.push(albums.len() as u32);
                    let seconds = (215.0 * (0.25 * normal(rng)).exp()).clamp(60.0, 720.0);
                    length_ms.push((seconds * 1000.0) as u32);
                    let position_factor = 1.0 / (1.0 + 0.25 * position as f64);
                    popularity.push(
                        artist_popularity
                            * album_factor
                            * position_factor
                            * boost
                            * (0.5 * normal(rng)).exp(),
                    );
                }
                albums.push(Album {
                    artist: a,
                    tracks: start..album_of.len() as u32,
                    release_ms: release_ms.min(period_end),
                });
            }
            genre_artists[genre].push(a);
            artists.push(Artist {
                genre,
                tracks: first..album_of.len() as u32,
                rank_in_genre: genre_artists[genre].len() - 1,
                popularity: artist_popularity,
            });
        }
        let n = album_of.len();
        // Appeal: partly popularity (well-made hits), partly independent.
        let logs: Vec<f64> = popularity.iter().map(|p: &f64| p.ln()).collect();
        let mean = logs.iter().sum::<f64>() / n.max(1) as f64;
        let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n.max(1) as f64)
            .sqrt()
            .max(1e-9);
        let appeal = logs
            .iter()
            .map(|l| (0.4 * (l - mean) / sd + 0.9 * normal(rng)) as f32)
            .collect();
        let mut genre_tracks = vec![Vec::new(); genres];
        for artist in &artists {
            genre_tracks[artist.genre].extend(artist.tracks.clone());
        }
        let genre_cumulative = genre_tracks
            .iter()
            .map(|ts| cumulative(ts.iter().map(|&t| popularity[t as usize])))
            .collect();
        let artist_cumulative = artists
            .iter()
            .map(|a| cumulative(a.tracks.clone().map(|t| popularity[t as usize])))
            .collect();
        let genre_artist_cumulative = genre_artists
            .iter()
            .map(|list| {
                cumulative(
                    list.iter()
                        .map(|&a| artists[a as usize].popularity.powf(0.7)),
                )
            })
            .collect();
        let mut new_albums = vec![Vec::new(); genres];
        for (index, album) in albums.iter().enumerate() {
            if album.release_ms != CATALOGUE_RELEASE {
                new_albums[artists[album.artist as usize].genre].push(index as u32);
            }
        }
        for list in &mut new_albums {
            list.sort_by_key(|&a| albums[a as usize].release_ms);
        }
        Self {
            genres,
            artists,
            albums,
            album_of,
            length_ms,
            popularity,
            appeal,
            genre_weights,
            genre_artists,
            genre_tracks,
            genre_cumulative,
            artist_cumulative,
            genre_artist_cumulative,
            new_albums,
            width: n.to_string().len().max(5),
        }
    }

    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.album_of.len()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.album_of.is_empty()
    }

    /// The artist of track `t`.
    pub fn artist_of(&self, t: u32) -> u32 {
        self.albums[self.album_of[t as usize] as usize].artist
    }

    /// The genre of track `t`.
    pub fn genre_of(&self, t: u32) -> usize {
        self.artists[self.artist_of(t) as usize].genre
    }

    /// The release time of track `t` ([`CATALOGUE_RELEASE`] for the back catalogue).
    pub fn release_ms(&self, t: u32) -> i64 {
        self.albums[self.album_of[t as usize] as usize].release_ms
    }

    /// The string id of track `t`: `t` followed by the 1-based index, zero-padded.
    pub fn track_name(&self, t: u32) -> String {
        format!("t{:0width$}", t + 1, width = self.width)
    }

    /// A track of genre `g` drawn by popularity, or uniformly when `uniform`.
    pub(crate) fn genre_track(&self, g: usize, uniform: bool, rng: &mut impl Rng) -> Option<u32> {
        let tracks = &self.genre_tracks[g];
        if tracks.is_empty() {
            return None;
        }
        let i = if uniform {
            rng.random_range(0..tracks.len())
        } else {
            sample_cumulative(&self.genre_cumulative[g], rng)?
        };
        Some(tracks[i])
    }

    /// A track of artist `a` drawn by popularity.
    pub(crate) fn artist_track(&self, a: u32, rng: &mut impl Rng) -> Option<u32> {
        let artist = &self.artists[a as usize];
        let i = sample_cumulative(&self.artist_cumulative[a as usize], rng)?;
        Some(artist.tracks.start + i as u32)
    }

    /// An artist similar to `a`: a near neighbour in its genre's list.
    pub(crate) fn similar_artist(&self, a: u32, rng: &mut impl Rng) -> u32 {
        let artist = &self.artists[a as usize];
        let list = &self.genre_artists[artist.genre];
        let offset = rng.random_range(1..=3_usize);
        let rank = if rng.random::<bool>() {
            artist.rank_in_genre + offset
        } else {
            artist.rank_in_genre.wrapping_sub(offset)
        };
        list.get(rank).copied().unwrap_or(a)
    }

    /// The first track of artist `a`'s first (back-catalogue) album.
    pub(crate) fn back_catalogue_track(&self, a: u32) -> u32 {
        self.artists[a as usize].tracks.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn catalog() -> Catalog {
        let config = SimulatorConfig {
            tracks: 3000,
            ..Default::default()
        };
        Catalog::generate(&config, &mut ChaCha8Rng::seed_from_u64(5))
    }

    #[test]
    fn structure_is_consistent() {
        let c = catalog();
        assert_eq!(c.len(), 3000);
        for (a, artist) in c.artists.iter().enumerate() {
            assert!(!artist.tracks.is_empty());
            assert_eq!(c.release_ms(artist.tracks.start), CATALOGUE_RELEASE);
            for t in artist.tracks.clone() {
                assert_eq!(c.artist_of(t) as usize, a);
                assert_eq!(c.genre_of(t), artist.genre);
            }
        }
        assert!(c.length_ms.iter().all(|&l| (60_000..=720_000).contains(&l)));
        assert!(c.albums.iter().any(|a| a.release_ms != CATALOGUE_RELEASE));
        assert_eq!(c.track_name(0), "t00001");
        let total: usize = c.genre_tracks.iter().map(Vec::len).sum();
        assert_eq!(total, 3000);
    }

    #[test]
    fn popularity_is_long_tailed() {
        let c = catalog();
        let mut p = c.popularity.clone();
        p.sort_by(|a, b| b.total_cmp(a));
        let total: f64 = p.iter().sum();
        let top: f64 = p[..p.len() / 10].iter().sum();
        assert!(top / total > 0.4, "top 10 % hold {}", top / total);
    }
}
