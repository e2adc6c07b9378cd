//! Listening sessions: when they happen, which tracks they play (session context, genre
//! drift, album and artist runs, similar artists, repeats of liked and favourite tracks,
//! new releases) and how long each track is played (depending on the listener's
//! affinity).

use rand::Rng;

use crate::SimulatorConfig;
use crate::catalog::Catalog;
use crate::listeners::Listener;
use crate::random::normal;
use seqrec_events::DAY_MS;

/// Probabilities of the ways the next track of a session is chosen.
pub(crate) mod choice {
    /// Next track of the album, after a play that was not skipped.
    pub const ALBUM_NEXT: f64 = 0.25;
    /// Next track of the album, after a skip.
    pub const ALBUM_NEXT_AFTER_SKIP: f64 = 0.05;
    /// Another track of the same artist.
    pub const SAME_ARTIST: f64 = 0.10;
    /// A track of a similar artist.
    pub const SIMILAR_ARTIST: f64 = 0.07;
    /// A track the listener liked before (recent ones).
    pub const REPEAT_LIKED: f64 = 0.16;
    /// A favourite track.
    pub const FAVOURITE_TRACK: f64 = 0.05;
    /// A recent new release of the session's genre.
    pub const NEW_RELEASE: f64 = 0.03;
    /// A track of a favourite artist.
    pub const FAVOURITE_ARTIST: f64 = 0.10;
    /// Otherwise: a track of the session's genre. Per track, the session's genre drifts
    /// with this probability.
    pub const GENRE_DRIFT: f64 = 0.06;
}

/// How many of the latest liked plays a repeat is drawn from.
const RECENT_LIKED: usize = 300;
/// New releases count as new for this long.
const NEW_RELEASE_WINDOW_MS: i64 = 21 * DAY_MS;

/// One generated play (track index, start time, milliseconds played, skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Play {
    pub track: u32,
    pub timestamp_ms: i64,
    pub ms_played: u32,
    pub skipped: bool,
}

/// Generates all plays of listener `user`, in time order, within the simulated period.
pub(crate) fn listen(
    config: &SimulatorConfig,
    catalog: &Catalog,
    listener: &Listener,
    user: usize,
    rng: &mut impl Rng,
) -> Vec<Play> {
    let period_end = config.start_ms + i64::from(config.days) * DAY_MS;
    // Session lengths until the target is reached, then their start times.
    let mut lengths = Vec::new();
    let mut planned = 0;
    while planned < listener.target_plays {
        let geometric = (-rng.random::<f64>().max(1e-12).ln()
            * (config.mean_session_plays - 1.0).max(0.0)) as usize;
        let length = (1 + geometric)
            .min(listener.target_plays - planned)
            .min(100);
        lengths.push(length);
        planned += length;
    }
    let mut starts: Vec<i64> = lengths
        .iter()
        .map(|_| {
            let day = rng.random_range(0..config.days.max(1)) as i64;
            let hour = (listener.peak_hour + 3.5 * normal(rng)).rem_euclid(24.0);
            config.start_ms + day * DAY_MS + (hour * 3_600_000.0) as i64
        })
        .collect();
    starts.sort_unstable();

    let mut plays = Vec::with_capacity(planned);
    let mut liked: Vec<u32> = Vec::new();
    let mut clock = i64::MIN;
    for (&length, &start) in lengths.iter().zip(&starts) {
        // Sessions never overlap: a late one starts after a short break.
        let mut now = start.max(clock.saturating_add(rng.random_range(5..60) * 60_000));
        if now >= period_end {
            break;
        }
        let mut genre = if rng.random::<f64>() < listener.explore {
            rng.random_range(0..catalog.genres)
        } else {
            listener.taste_genre(rng)
        };
        let mut previous: Option<(u32, bool)> = None;
        for _ in 0..length {
            if now >= period_end {
                break;
            }
            if rng.random::<f64>() < choice::GENRE_DRIFT {
                genre = listener.taste_genre(rng);
            }
            let track = next_track(catalog, listener, genre, previous, &liked, now, rng);
            let affinity = listener.affinity(config.seed, user, catalog, track);
            let length_ms = catalog.length_ms[track as usize];
            let (ms_played, skipped) = play_time(affinity, length_ms, rng);
            plays.push(Play {
                track,
                timestamp_ms: now,
                ms_played,
                skipped,
            });
            let positive = ms_played >= 30_000;
            if positive {
                liked.push(track);
            }
            previous = Some((track, positive));
            now += i64::from(ms_played) + rng.random_range(200..3000);
        }
        clock = now;
    }
    plays
}

/// How long a track is played: with probability rising with the affinity the listener
/// keeps it past 30 s (usually to the end), otherwise skips it within the first seconds.
pub(crate) fn play_time(affinity: f64, length_ms: u32, rng: &mut impl Rng) -> (u32, bool) {
    let keep = 0.04 + 0.92 * affinity.powf(0.9);
    if rng.random::<f64>() < keep {
        if rng.random::<f64>() < 0.8 {
            (length_ms, false)
        } else {
            let played = rng.random_range(30_000..=length_ms.max(30_000));
            (played, played < length_ms)
        }
    } else {
        let seconds = (1.0 - 8.0 * rng.random::<f64>().max(1e-12).ln()).min(29.5);
        (((seconds * 1000.0) as u32).min(length_ms), true)
    }
}

fn next_track(
    catalog: &Catalog,
    listener: &Listener,
    genre: usize,
    previous: Option<(u32, bool)>,
    liked: &[u32],
    now: i64,
    rng: &mut impl Rng,
) -> u32 {
    use choice::*;
    let released = |t: u32| catalog.release_ms(t) <= now;
    let mut r: f64 = rng.random();
    let mut take = |p: f64| {
        r -= p;
        r < 0.0
    };
    let candidate = if let Some((prev, positive)) = previous {
        let album = &catalog.albums[catalog.album_of[prev as usize] as usize];
        let artist = catalog.artist_of(prev);
        if take(if positive {
            ALBUM_NEXT
        } else {
            ALBUM_NEXT_AFTER_SKIP
        }) {
            (prev + 1 < album.tracks.end).then_some(prev + 1)
        } else if take(SAME_ARTIST) {
            catalog.artist_track(artist, rng)
        } else if take(SIMILAR_ARTIST) {
            catalog.artist_track(catalog.similar_artist(artist, rng), rng)
        } else {
            None
        }
    } else {
        None
    };
    let candidate = candidate.or_else(|| {
        if take(REPEAT_LIKED) && !liked.is_empty() {
            let from = liked.len().saturating_sub(RECENT_LIKED);
            Some(liked[rng.random_range(from..liked.len())])
        } else if take(FAVOURITE_TRACK) && !listener.favourite_tracks.is_empty() {
            Some(listener.favourite_tracks[rng.random_range(0..listener.favourite_tracks.len())])
        } else if take(NEW_RELEASE) {
            let recent: Vec<u32> = catalog.new_albums[genre]
                .iter()
                .copied()
                .filter(|&a| {
                    let release = catalog.albums[a as usize].release_ms;
                    release <= now && now - release < NEW_RELEASE_WINDOW_MS
                })
                .collect();
            (!recent.is_empty()).then(|| {
                let album = &catalog.albums[recent[rng.random_range(0..recent.len())] as usize];
                rng.random_range(album.tracks.clone())
            })
        } else if take(FAVOURITE_ARTIST) && !listener.favourite_artists.is_empty() {
            let a =
                listener.favourite_artists[rng.random_range(0..listener.favourite_artists.len())];
            catalog.artist_track(a, rng)
        } else {
            None
        }
    });
    if let Some(t) = candidate.filter(|&t| released(t)) {
        return t;
    }
    for _ in 0..8 {
        let uniform = rng.random::<f64>() >= listener.mainstream;
        if let Some(t) = catalog
            .genre_track(genre, uniform, rng)
            .filter(|&t| released(t))
        {
            return t;
        }
    }
    // A genre without released tracks (only possible in tiny catalogues): fall back to
    // the back catalogue of a favourite or the first artist.
    let artist = listener.favourite_artists.first().copied().unwrap_or(0);
    catalog.back_catalogue_track(artist)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn play_time_follows_affinity() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let positive_rate = |a: f64, rng: &mut ChaCha8Rng| {
            (0..4000)
                .filter(|_| play_time(a, 200_000, rng).0 >= 30_000)
                .count() as f64
                / 4000.0
        };
        let low = positive_rate(0.1, &mut rng);
        let high = positive_rate(0.9, &mut rng);
        assert!(low < 0.2 && high > 0.8, "{low} {high}");
        for _ in 0..1000 {
            let (ms, skipped) = play_time(rng.random(), 90_000, &mut rng);
            assert!(ms <= 90_000);
            assert_eq!(skipped, ms < 90_000);
        }
    }
}
