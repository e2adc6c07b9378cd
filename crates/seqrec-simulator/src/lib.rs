//! A music-listening simulator for seqrec: realistic listening logs (a
//! [`seqrec_events::EventLog`]), deterministic by seed, for running everything without data
//! (`seqrec simulate`).
//!
//! The generative model (documented in full, with statistics of the default output, in
//! `docs/simulator.md`):
//!
//! - a [`Catalog`] of genres, artists, albums and tracks with long-tailed popularity and
//!   some albums released during the period (new releases);
//! - [`Listener`]s with stable tastes (a mixture over genres, favourite artists and
//!   tracks), log-normal activity (light and heavy users) and a preferred time of day;
//! - sessions with their own context (a genre drawn from the taste mixture, or explored,
//!   drifting within the session), album and artist runs, similar-artist transitions,
//!   repeats of liked and favourite tracks and new releases;
//! - play lengths from the ground-truth affinity ([`Simulation::affinity`]): liked tracks
//!   mostly play past 30 s, others are skipped early.
//!
//! ```
//! use seqrec_simulator::{SimulatorConfig, simulate};
//!
//! let config = SimulatorConfig { users: 20, tracks: 500, ..Default::default() };
//! let log = simulate(&config)?;
//! assert_eq!(log.users().len(), 20);
//! assert_eq!(log, simulate(&config)?); // deterministic by seed
//! # Ok::<(), seqrec_events::DataError>(())
//! ```

#![deny(missing_docs)]

pub mod catalog;
pub mod listeners;
mod random;
mod sessions;

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use catalog::Catalog;
pub use listeners::Listener;

use random::mix;
use seqrec_data::Vocabulary;
use seqrec_events::DataError;
use seqrec_events::{Event, EventLog, EventLogBuilder};

/// Size, period and seed of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatorConfig {
    /// Listeners. Default 5 000.
    pub users: usize,
    /// Tracks in the catalogue. Default 20 000.
    pub tracks: usize,
    /// Genres. Default 24.
    pub genres: usize,
    /// Length of the period in days. Default 67 (60 days of history and 7 held out).
    pub days: u32,
    /// Start of the period, milliseconds since the epoch. Default 2024-03-01T00:00:00Z.
    pub start_ms: i64,
    /// Median plays per listener over the period (log-normal). Default 120.
    pub median_plays: f64,
    /// Log-normal spread of plays per listener. Default 1.0.
    pub plays_sigma: f64,
    /// Most plays of one listener. Default 5 000.
    pub max_plays: usize,
    /// Mean plays per session. Default 12.
    pub mean_session_plays: f64,
    /// Share of later albums released during the period. Default 0.08.
    pub new_release_share: f64,
    /// Seed. Default 42.
    pub seed: u64,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            users: 5000,
            tracks: 20_000,
            genres: 24,
            days: 67,
            start_ms: 1_709_251_200_000,
            median_plays: 120.0,
            plays_sigma: 1.0,
            max_plays: 5000,
            mean_session_plays: 12.0,
            new_release_share: 0.08,
            seed: seqrec_data::DEFAULT_SEED,
        }
    }
}

impl SimulatorConfig {
    /// Checks that the configuration can be simulated.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidOptions`] naming the offending field.
    pub fn validate(&self) -> Result<(), DataError> {
        let fail = |reason: String| Err(DataError::InvalidOptions { reason });
        if self.users == 0 || self.users > u32::MAX as usize / 2 {
            return fail(format!("users must lie in 1..=2^31, got {}", self.users));
        }
        if self.tracks == 0 || self.tracks > u32::MAX as usize / 2 {
            return fail(format!("tracks must lie in 1..=2^31, got {}", self.tracks));
        }
        if self.genres == 0 || self.genres > 10_000 {
            return fail(format!("genres must lie in 1..=10000, got {}", self.genres));
        }
        if self.days == 0 || self.days > 100_000 {
            return fail(format!("days must lie in 1..=100000, got {}", self.days));
        }
        if !(self.median_plays >= 1.0 && self.median_plays.is_finite()) {
            return fail(format!(
                "median_plays must be at least 1, got {}",
                self.median_plays
            ));
        }
        if !(0.0..=5.0).contains(&self.plays_sigma) {
            return fail(format!(
                "plays_sigma must lie in 0..=5, got {}",
                self.plays_sigma
            ));
        }
        if self.max_plays == 0 {
            return fail("max_plays must be positive".into());
        }
        if !(self.mean_session_plays >= 1.0 && self.mean_session_plays <= 1000.0) {
            return fail(format!(
                "mean_session_plays must lie in 1..=1000, got {}",
                self.mean_session_plays
            ));
        }
        if !(0.0..=1.0).contains(&self.new_release_share) {
            return fail(format!(
                "new_release_share must lie in 0..=1, got {}",
                self.new_release_share
            ));
        }
        Ok(())
    }
}

/// A simulated log with its ground truth.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The configuration.
    pub config: SimulatorConfig,
    /// The catalogue.
    pub catalog: Catalog,
    /// The listeners; listener `i` is user id `i + 1` of the log.
    pub listeners: Vec<Listener>,
    /// The events. Its vocabularies hold every listener (`u00001`, …) and every track
    /// (`t00001`, …) in index order, so user id = listener index + 1 and item id = track
    /// index + 1, also for tracks never played.
    pub log: EventLog,
}

impl Simulation {
    /// Runs the simulation.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidOptions`] for an invalid configuration.
    pub fn run(config: &SimulatorConfig) -> Result<Self, DataError> {
        config.validate()?;
        let catalog = Catalog::of_config(config);
        let users: Vocabulary = (0..config.users).map(|u| user_name(config, u)).collect();
        let items: Vocabulary = (0..catalog.len() as u32)
            .map(|t| catalog.track_name(t))
            .collect();
        let mut builder = EventLogBuilder::with_vocabularies(users, items);
        let mut listeners = Vec::with_capacity(config.users);
        for u in 0..config.users {
            let (listener, plays) = listen(config, &catalog, u);
            builder.reserve(plays.len());
            for play in plays {
                builder.push(event(&catalog, u as u32 + 1, play.track + 1, &play))?;
            }
            listeners.push(listener);
        }
        let (log, _) = builder.finish(true);
        Ok(Self {
            config: config.clone(),
            catalog,
            listeners,
            log,
        })
    }

    /// The ground-truth affinity (0 to 1) of user id `user` for item id `item` (ids of
    /// [`Simulation::log`]); `None` for ids out of range.
    pub fn affinity(&self, user: u32, item: u32) -> Option<f64> {
        let u = (user as usize).checked_sub(1)?;
        let t = item.checked_sub(1)?;
        let listener = self.listeners.get(u)?;
        ((t as usize) < self.catalog.len())
            .then(|| listener.affinity(self.config.seed, u, &self.catalog, t))
    }

    /// The ground-truth affinity for the string ids of the simulated log (`u00001`,
    /// `t00001`), e.g. after reading an exported file back.
    pub fn affinity_by_name(&self, user: &str, track: &str) -> Option<f64> {
        let user = self.log.users().id(user)?;
        let item = self.log.items().id(track)?;
        self.affinity(user, item)
    }

    /// Writes `user_id,track_id,affinity,genre,artist,album` for every distinct
    /// (listener, track) pair of the log, in log order.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] naming the file.
    pub fn write_affinities_csv(&self, path: &Path) -> Result<(), DataError> {
        let io = |e| DataError::io(path, e);
        let file = File::create(path).map_err(io)?;
        let mut out = BufWriter::new(file);
        writeln!(out, "user_id,track_id,affinity,genre,artist,album").map_err(io)?;
        let mut seen = HashSet::new();
        for u in 1..=self.log.users().len() as u32 {
            seen.clear();
            for e in self.log.user_events(u) {
                if !seen.insert(e.item) {
                    continue;
                }
                let t = e.item - 1;
                let affinity = self.affinity(u, e.item).unwrap_or(f64::NAN);
                writeln!(
                    out,
                    "{},{},{affinity:.6},{},{},{}",
                    self.log.users().name(u).unwrap_or_default(),
                    self.log.items().name(e.item).unwrap_or_default(),
                    self.catalog.genre_of(t),
                    self.catalog.artist_of(t),
                    self.catalog.album_of[t as usize],
                )
                .map_err(io)?;
            }
        }
        out.flush().map_err(io)
    }
}

/// The string id of listener `u` (0-based): `u` followed by the 1-based index, zero-padded
/// to the width of `config.users` (at least 5 digits).
fn user_name(config: &SimulatorConfig, u: usize) -> String {
    let width = config.users.to_string().len().max(5);
    format!("u{:0width$}", u + 1)
}

/// Listener `u` (0-based) of `config` and its plays: the same draws, whichever listeners are
/// simulated with it.
fn listen(
    config: &SimulatorConfig,
    catalog: &Catalog,
    u: usize,
) -> (Listener, Vec<sessions::Play>) {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(config.seed, 1 + u as u64));
    let listener = Listener::generate(config, catalog, &mut rng);
    let plays = sessions::listen(config, catalog, &listener, u, &mut rng);
    (listener, plays)
}

/// The event of `play` with the given dense ids.
fn event(catalog: &Catalog, user: u32, item: u32, play: &sessions::Play) -> Event {
    Event {
        user,
        item,
        timestamp_ms: play.timestamp_ms,
        ms_played: Some(play.ms_played),
        track_length_ms: Some(catalog.length_ms[play.track as usize]),
        skipped: Some(play.skipped),
        inferred: false,
    }
}

/// Simulates only the listeners `users` (0-based indices into `0..config.users`) of
/// `config`, over `catalog`, which must be [`Catalog::of_config`]`(config)`: each listener's
/// plays are exactly those of [`Simulation::run`], so the logs of consecutive ranges,
/// written one after the other (e.g. with `seqrec_events::ParquetEventWriter`), hold the
/// events of the whole simulation without it ever being in memory. The log's vocabularies
/// hold the simulated listeners' ids and the tracks they played (string ids as in
/// [`Simulation::run`]; dense ids differ).
///
/// ```
/// use seqrec_simulator::{Catalog, SimulatorConfig, simulate, simulate_users};
///
/// let config = SimulatorConfig { users: 6, tracks: 300, ..Default::default() };
/// let catalog = Catalog::of_config(&config);
/// let first = simulate_users(&config, &catalog, 0..4)?;
/// let rest = simulate_users(&config, &catalog, 4..6)?;
/// assert_eq!(first.len() + rest.len(), simulate(&config)?.len());
/// # Ok::<(), seqrec_events::DataError>(())
/// ```
///
/// # Errors
///
/// [`DataError::InvalidOptions`] for an invalid configuration or a range outside
/// `0..config.users`.
pub fn simulate_users(
    config: &SimulatorConfig,
    catalog: &Catalog,
    users: Range<usize>,
) -> Result<EventLog, DataError> {
    config.validate()?;
    if users.start > users.end || users.end > config.users {
        return Err(DataError::InvalidOptions {
            reason: format!(
                "listeners {}..{} are not a range within the {} listeners of the configuration",
                users.start, users.end, config.users
            ),
        });
    }
    let mut builder = EventLogBuilder::default();
    for u in users {
        let (_, plays) = listen(config, catalog, u);
        let user = builder.user_id(&user_name(config, u));
        builder.reserve(plays.len());
        for play in plays {
            let item = builder.item_id(&catalog.track_name(play.track));
            builder.push(event(catalog, user, item, &play))?;
        }
    }
    Ok(builder.finish(true).0)
}

/// Simulates a listening log (see [`Simulation::run`] for the ground truth as well).
///
/// # Errors
///
/// [`DataError::InvalidOptions`] for an invalid configuration.
pub fn simulate(config: &SimulatorConfig) -> Result<EventLog, DataError> {
    Simulation::run(config).map(|s| s.log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqrec_events::{DAY_MS, WindowOptions, split_by_time};
    use seqrec_events::{EventFormat, LogSummary, ReadOptions, read_events, write_events};

    fn small() -> SimulatorConfig {
        SimulatorConfig {
            users: 300,
            tracks: 3000,
            ..Default::default()
        }
    }

    #[test]
    fn deterministic_by_seed() {
        let a = simulate(&small()).unwrap();
        assert_eq!(a, simulate(&small()).unwrap());
        let b = simulate(&SimulatorConfig { seed: 7, ..small() }).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn events_lie_in_the_period_and_respect_releases() {
        let config = small();
        let sim = Simulation::run(&config).unwrap();
        let end = config.start_ms + i64::from(config.days) * DAY_MS;
        let (first, last) = sim.log.time_range().unwrap();
        assert!(first >= config.start_ms && last < end, "{first} {last}");
        let mut new_release_plays = 0;
        for e in sim.log.iter() {
            let release = sim.catalog.release_ms(e.item - 1);
            assert!(release <= e.timestamp_ms);
            new_release_plays += usize::from(release != catalog::CATALOGUE_RELEASE);
            let length = e.track_length_ms.unwrap();
            assert!(e.ms_played.unwrap() <= length);
            assert_eq!(e.skipped, Some(e.ms_played.unwrap() < length));
        }
        assert!(new_release_plays > 0);
        // Plays within a user never overlap.
        for u in 1..=config.users as u32 {
            let events: Vec<Event> = sim.log.user_events(u).collect();
            for w in events.windows(2) {
                assert!(w[0].timestamp_ms + i64::from(w[0].ms_played.unwrap()) < w[1].timestamp_ms);
            }
        }
    }

    #[test]
    fn play_length_reflects_the_ground_truth_affinity() {
        let sim = Simulation::run(&small()).unwrap();
        let (mut pos, mut neg) = (Vec::new(), Vec::new());
        for e in sim.log.iter() {
            let a = sim.affinity(e.user, e.item).unwrap();
            if e.ms_played.unwrap() >= 30_000 {
                pos.push(a)
            } else {
                neg.push(a)
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&pos) > mean(&neg) + 0.2,
            "{} vs {}",
            mean(&pos),
            mean(&neg)
        );
        assert_eq!(sim.affinity(0, 1), None);
        assert_eq!(sim.affinity(1, sim.catalog.len() as u32 + 1), None);
        assert_eq!(sim.affinity_by_name("u00001", "t00001"), sim.affinity(1, 1));
    }

    #[test]
    fn sessions_have_artist_runs_and_statistics_are_plausible() {
        let sim = Simulation::run(&small()).unwrap();
        let log = &sim.log;
        let (mut same_artist, mut pairs) = (0, 0);
        for u in 1..=log.users().len() as u32 {
            let events: Vec<Event> = log.user_events(u).collect();
            for w in events.windows(2) {
                if w[1].timestamp_ms - w[0].timestamp_ms < 20 * 60_000 {
                    pairs += 1;
                    same_artist += usize::from(
                        sim.catalog.artist_of(w[0].item - 1)
                            == sim.catalog.artist_of(w[1].item - 1),
                    );
                }
            }
        }
        let run_share = same_artist as f64 / pairs as f64;
        assert!(run_share > 0.2, "{run_share}");
        let s = LogSummary::of(log);
        assert!(
            (0.2..0.5).contains(&s.skip_rate),
            "skip rate {}",
            s.skip_rate
        );
        assert!(
            (0.2..0.8).contains(&s.repeat_rate),
            "repeat rate {}",
            s.repeat_rate
        );
        assert!(s.top_track_shares[1] > 0.4, "{:?}", s.top_track_shares);
        assert!(s.plays_per_user_quantiles[0] < 20 && s.plays_per_user_quantiles[4] > 400);
    }

    /// The default size: about a million plays, and every cohort of the paper (plays in
    /// the 60-day history window) holds hundreds of users.
    #[test]
    fn default_output_fills_every_cohort() {
        let start = std::time::Instant::now();
        let sim = Simulation::run(&SimulatorConfig::default()).unwrap();
        eprintln!(
            "simulated {} events in {:?}",
            sim.log.len(),
            start.elapsed()
        );
        assert!(
            (700_000..1_400_000).contains(&sim.log.len()),
            "{}",
            sim.log.len()
        );
        let split = split_by_time(&sim.log, &WindowOptions::default()).unwrap();
        let mut cohorts = [0_usize; 4];
        for &n in &split.history_lengths {
            match n {
                0 => {}
                1..=50 => cohorts[0] += 1,
                51..=100 => cohorts[1] += 1,
                101..=150 => cohorts[2] += 1,
                _ => cohorts[3] += 1,
            }
        }
        assert!(cohorts.iter().all(|&c| c >= 300), "{cohorts:?}");
        // Users with at least 3 held-out plays per cohort (the paper's evaluation filter).
        let mut held = vec![0_usize; split.users.len() + 1];
        for p in &split.held_out {
            held[p.user as usize] += 1;
        }
        let mut evaluable = [0_usize; 4];
        for (u, &n) in split.history_lengths.iter().enumerate() {
            if held[u + 1] >= 3 && n > 0 {
                evaluable[match n {
                    1..=50 => 0,
                    51..=100 => 1,
                    101..=150 => 2,
                    _ => 3,
                }] += 1;
            }
        }
        eprintln!("cohorts {cohorts:?}, evaluable {evaluable:?}");
        assert!(evaluable.iter().all(|&c| c >= 100), "{evaluable:?}");
    }

    #[test]
    fn exported_files_read_back_with_the_same_ground_truth() {
        let sim = Simulation::run(&SimulatorConfig {
            users: 30,
            tracks: 400,
            ..Default::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        for name in ["e.csv", "e.parquet"] {
            let path = dir.path().join(name);
            write_events(&sim.log, &path).unwrap();
            let format = EventFormat::detect(&path).unwrap();
            let (back, report) = read_events(&path, format, &ReadOptions::default()).unwrap();
            assert_eq!(back.len(), sim.log.len(), "{name}");
            assert_eq!(report.duplicates_removed, 0);
            let e = back.get(0).unwrap();
            let (user, track) = (
                back.users().name(e.user).unwrap(),
                back.items().name(e.item).unwrap(),
            );
            let original = sim.log.get(0).unwrap();
            assert_eq!(
                sim.affinity_by_name(user, track),
                sim.affinity(original.user, original.item)
            );
        }
        let truth = dir.path().join("truth.csv");
        sim.write_affinities_csv(&truth).unwrap();
        let text = std::fs::read_to_string(&truth).unwrap();
        assert!(text.starts_with("user_id,track_id,affinity,genre,artist,album\nu00001,t"));
    }

    /// Listeners simulated a range at a time give exactly the plays of the whole run, with
    /// the same string ids; a range outside the configuration is an error.
    #[test]
    fn shards_of_listeners_add_up_to_the_whole_simulation() {
        let config = SimulatorConfig {
            users: 40,
            tracks: 900,
            ..Default::default()
        };
        let named = |log: &EventLog| -> Vec<(String, String, Event)> {
            log.iter()
                .map(|e| {
                    (
                        log.users().name(e.user).unwrap().to_owned(),
                        log.items().name(e.item).unwrap().to_owned(),
                        Event {
                            user: 0,
                            item: 0,
                            ..e
                        },
                    )
                })
                .collect()
        };
        let whole = named(&simulate(&config).unwrap());
        let catalog = Catalog::of_config(&config);
        assert_eq!(catalog, Simulation::run(&config).unwrap().catalog);
        let mut shards = Vec::new();
        for range in [0..7, 7..7, 7..33, 33..40] {
            shards.extend(named(&simulate_users(&config, &catalog, range).unwrap()));
        }
        assert_eq!(shards, whole);
        for bad in [0..41, 41..45] {
            assert!(matches!(
                simulate_users(&config, &catalog, bad),
                Err(DataError::InvalidOptions { .. })
            ));
        }
    }

    #[test]
    fn invalid_configurations_are_rejected() {
        for config in [
            SimulatorConfig {
                users: 0,
                ..small()
            },
            SimulatorConfig {
                tracks: 0,
                ..small()
            },
            SimulatorConfig { days: 0, ..small() },
            SimulatorConfig {
                median_plays: f64::NAN,
                ..small()
            },
            SimulatorConfig {
                new_release_share: 2.0,
                ..small()
            },
        ] {
            assert!(
                matches!(simulate(&config), Err(DataError::InvalidOptions { .. })),
                "{config:?}"
            );
        }
        // Tiny but valid: one track, one genre.
        let log = simulate(&SimulatorConfig {
            users: 3,
            tracks: 1,
            genres: 1,
            ..small()
        })
        .unwrap();
        assert!(log.iter().all(|e| e.item == 1));
    }
}
