//! The paper's time-window split: a history window (default 60 days) for training and a
//! held-out window (default 7 days) for evaluation, ending at a cut time (default: the last
//! event).
//!
//! Windows are half-open on the left: the held-out window is `(cut − held_out, cut]` and
//! the history window `(cut − held_out − history, cut − held_out]`, so an event exactly at
//! the boundary between them belongs to the history, and an event exactly at the cut to
//! the held-out window. Events outside both windows are counted and left out.
//!
//! From the history window the split builds the trainer's [`SequenceDataset`]: one training
//! sequence per user (the items of their history plays, in time order), a validation split
//! taken per user leave-one-out from those sequences (so that training can early-stop), and
//! a next-item test split (each user's history followed by their first held-out track).
//! For the paper's evaluation it keeps the held-out plays with their play times and every
//! user's history length (plays in the history window) for cohort analysis.

use crate::log::EventLog;
use seqrec_data::DataError;
use seqrec_data::HistoryTargets;
use seqrec_data::gsasrec_layout::SequenceDataset;
use seqrec_data::sample_users;
use seqrec_data::vocabulary::{ItemVocabulary, UserVocabulary, Vocabulary};

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// Options of [`split_by_time`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowOptions {
    /// Length of the history window in milliseconds. Default 60 days.
    pub history_ms: i64,
    /// Length of the held-out window in milliseconds (0 for none). Default 7 days.
    pub held_out_ms: i64,
    /// End of the held-out window (inclusive), milliseconds since the epoch. Default
    /// (`None`): the last event's time.
    pub cut_ms: Option<i64>,
    /// Tracks with fewer plays in the history window are left out of the model's
    /// vocabulary and of the training sequences. Default 1 (keep all).
    pub min_track_plays: u64,
    /// Users with fewer plays in the history window get no training sequence. Default 1.
    pub min_user_plays: u64,
    /// When set, plays shorter than this many milliseconds are left out of the training
    /// sequences (plays of unknown length are kept). Default `None` (train on all plays).
    pub min_train_ms_played: Option<u32>,
    /// Users (among those with at least 3 training items) whose last training item is
    /// held out for validation. Default 512.
    pub validation_users: usize,
    /// Seed for choosing the validation users. Default 42.
    pub seed: u64,
}

impl Default for WindowOptions {
    fn default() -> Self {
        Self {
            history_ms: 60 * DAY_MS,
            held_out_ms: 7 * DAY_MS,
            cut_ms: None,
            min_track_plays: 1,
            min_user_plays: 1,
            min_train_ms_played: None,
            validation_users: 512,
            seed: seqrec_data::DEFAULT_SEED,
        }
    }
}

/// The windows of a split, in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The history window is `(history_start_ms, held_out_start_ms]`.
    pub history_start_ms: i64,
    /// The held-out window is `(held_out_start_ms, cut_ms]`.
    pub held_out_start_ms: i64,
    /// The cut: end of the held-out window.
    pub cut_ms: i64,
}

impl Windows {
    /// Whether `t` lies in the history window.
    pub fn in_history(&self, t: i64) -> bool {
        t > self.history_start_ms && t <= self.held_out_start_ms
    }

    /// Whether `t` lies in the held-out window.
    pub fn in_held_out(&self, t: i64) -> bool {
        t > self.held_out_start_ms && t <= self.cut_ms
    }
}

/// One play in the held-out window, with dense ids of the split's vocabularies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldOutPlay {
    /// User id in [`WindowSplit::users`].
    pub user: u32,
    /// Item id in [`WindowSplit::items`]; above `dataset.num_items` for a track the model
    /// never saw in the history window.
    pub item: u32,
    /// Start of the play.
    pub timestamp_ms: i64,
    /// Milliseconds played, when known.
    pub ms_played: Option<u32>,
    /// The skipped flag, when known.
    pub skipped: Option<bool>,
    /// Whether `ms_played` is an estimate (Last.fm).
    pub inferred: bool,
}

/// What the split counted; nothing is left out without being counted here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitReport {
    /// Events in the history window.
    pub history_events: usize,
    /// Events in the held-out window.
    pub held_out_events: usize,
    /// Events before the history window (left out).
    pub events_before_history: usize,
    /// Events after the cut (left out).
    pub events_after_cut: usize,
    /// Tracks played in the history window fewer than `min_track_plays` times.
    pub tracks_below_min: usize,
    /// Users with history plays but fewer than `min_user_plays`.
    pub users_below_min: usize,
    /// History plays not in any training sequence (rare track, short play, or light user).
    pub history_plays_not_trained: usize,
    /// Users with a training sequence.
    pub trained_users: usize,
    /// Users with held-out plays but no training sequence.
    pub held_out_users_without_history: usize,
    /// Held-out plays of tracks outside the model's vocabulary.
    pub held_out_plays_of_unseen_tracks: usize,
    /// Users in the validation split.
    pub validation_users: usize,
}

/// The result of [`split_by_time`].
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSplit {
    /// What the trainer takes: train sequences (with the validation items removed), the
    /// validation split, and a next-item test split. Row `u − 1` of `train` is user `u`.
    pub dataset: SequenceDataset,
    /// Each trained user's full training sequence (validation item included), indexed by
    /// user id − 1: the model's input for the held-out evaluation.
    pub histories: Vec<Vec<u32>>,
    /// The milliseconds played of each entry of [`WindowSplit::histories`] (row `u − 1` has
    /// the length of `histories[u − 1]`), `None` where the log does not say: what tells
    /// positive history plays from skips. Stored flat, 4 bytes per entry, none at all when
    /// no play time is known.
    pub history_ms_played: HistoryPlayTimes,
    /// Item ids: `1..=dataset.num_items` are the model's tracks, later ids are tracks seen
    /// only in the held-out window. Save [`WindowSplit::model_items`] next to a model.
    pub items: ItemVocabulary,
    /// User ids: `1..=dataset.num_users()` are the trained users (rows of `train`), later
    /// ids are users without a training sequence but with history or held-out plays.
    pub users: UserVocabulary,
    /// Plays in the history window per user (all plays, before any filter), indexed by
    /// user id − 1: the paper's cohort variable.
    pub history_lengths: Vec<u32>,
    /// The held-out window's plays, by user then time.
    pub held_out: Vec<HeldOutPlay>,
    /// The windows used.
    pub windows: Windows,
    /// What was counted.
    pub report: SplitReport,
}

impl WindowSplit {
    /// The model's item vocabulary (ids `1..=dataset.num_items`).
    pub fn model_items(&self) -> ItemVocabulary {
        self.items.truncated(self.dataset.num_items as usize)
    }

    /// Each trained user's history plays of at least `min_ms` milliseconds (the entries
    /// of [`WindowSplit::histories`] whose [`history_ms_played`](WindowSplit::history_ms_played)
    /// is known and at least `min_ms`), indexed by user id − 1; `None` when no duration of
    /// any history play is known, i.e. when positive plays cannot be told apart. A user may
    /// have no positive play (an empty row).
    pub fn positive_histories(&self, min_ms: u32) -> Option<Vec<Vec<u32>>> {
        if !self.history_ms_played.any_known() {
            return None;
        }
        Some(
            self.histories
                .iter()
                .enumerate()
                .map(|(u, items)| {
                    items
                        .iter()
                        .zip(self.history_ms_played.row(u))
                        .filter(|&(_, ms)| ms.is_some_and(|ms| ms >= min_ms))
                        .map(|(&item, _)| item)
                        .collect()
                })
                .collect(),
        )
    }

    /// The training data of models that read positive plays only: each trained user's
    /// [`positive_histories`](WindowSplit::positive_histories) as its training sequence, in
    /// user order (users without a positive play have none, so rows are not user ids: rank
    /// with [`WindowSplit::positive_histories`]), the validation users
    /// of [`WindowSplit::dataset`] holding out their last positive play instead of their last
    /// play (those with fewer than 3 positive plays are not validated), and no test split (the
    /// held-out window is judged by the profile protocol). `None` when no history play has a
    /// known duration.
    pub fn positive_dataset(&self, min_ms: u32) -> Option<Result<SequenceDataset, DataError>> {
        let mut train = self.positive_histories(min_ms)?;
        let mut inputs = Vec::new();
        let mut targets = Vec::new();
        for (u, sequence) in train.iter_mut().enumerate() {
            // The split popped exactly one play of each validation user's history.
            let validated = self
                .dataset
                .train
                .get(u)
                .is_some_and(|t| t.len() + 1 == self.histories[u].len());
            if validated
                && sequence.len() >= 3
                && let Some(target) = sequence.pop()
            {
                inputs.push(sequence.clone());
                targets.push(target);
            }
        }
        train.retain(|sequence| !sequence.is_empty());
        Some(HistoryTargets::new(inputs, targets).and_then(|validation| {
            SequenceDataset::new(self.dataset.num_items, train, Some(validation), None)
        }))
    }

    /// The history length of user `user` (0 for an unknown id).
    pub fn history_length(&self, user: u32) -> u32 {
        (user as usize)
            .checked_sub(1)
            .and_then(|u| self.history_lengths.get(u))
            .copied()
            .unwrap_or(0)
    }
}

/// The milliseconds played of every entry of [`WindowSplit::histories`], stored flat: 4
/// bytes per entry ([`u32::MAX`] for unknown), and none when no entry's play time is known.
///
/// ```
/// use seqrec_events::{Event, EventLogBuilder, WindowOptions, split_by_time};
///
/// let mut b = EventLogBuilder::default();
/// let (ann, song) = (b.user_id("ann"), b.item_id("song"));
/// b.push(Event::new(ann, song, 1).with_ms_played(40_000))?;
/// b.push(Event::new(ann, song, 2))?;
/// let options = WindowOptions { held_out_ms: 0, ..Default::default() };
/// let split = split_by_time(&b.finish(true).0, &options)?;
/// let played: Vec<Option<u32>> = split.history_ms_played.row(0).collect();
/// assert_eq!(played, [Some(40_000), None]);
/// assert!(split.history_ms_played.any_known());
/// # Ok::<(), seqrec_events::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPlayTimes {
    /// Row `u` is `ends[u]..ends[u + 1]` of the entries; `ends[0] = 0`.
    ends: Vec<usize>,
    /// One per entry while building; emptied by `seal` when none is known.
    ms: Vec<u32>,
    /// Entries so far (the length of `ms` while building).
    len: usize,
    any_known: bool,
}

impl Default for HistoryPlayTimes {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl HistoryPlayTimes {
    fn with_capacity(entries: usize) -> Self {
        Self {
            ends: vec![0],
            ms: Vec::with_capacity(entries),
            len: 0,
            any_known: false,
        }
    }

    fn push(&mut self, ms: Option<u32>) {
        self.any_known |= ms.is_some();
        self.ms.push(ms.unwrap_or(u32::MAX));
        self.len += 1;
    }

    /// Ends the current row (the entries pushed since the last row).
    fn end_row(&mut self) {
        self.ends.push(self.len);
    }

    /// Drops entries pushed after the last row and, when no play time is known, all of them.
    fn seal(&mut self) {
        self.len = self.ends[self.ends.len() - 1];
        self.ms.truncate(self.len);
        if self.any_known {
            self.ms.shrink_to_fit();
        } else {
            self.ms = Vec::new();
        }
    }

    /// Number of rows (trained users).
    pub fn rows(&self) -> usize {
        self.ends.len() - 1
    }

    /// Whether any entry's play time is known.
    pub fn any_known(&self) -> bool {
        self.any_known
    }

    /// The play times of row `u` (user id − 1), in history order; empty for a row out of
    /// range.
    pub fn row(&self, u: usize) -> impl ExactSizeIterator<Item = Option<u32>> + '_ {
        let range = match (self.ends.get(u), self.ends.get(u + 1)) {
            (Some(&start), Some(&end)) => start..end,
            _ => 0..0,
        };
        range.map(|i| self.ms.get(i).copied().filter(|&ms| ms != u32::MAX))
    }

    /// Every row as a vector (the shape of [`WindowSplit::histories`]).
    pub fn to_vecs(&self) -> Vec<Vec<Option<u32>>> {
        (0..self.rows()).map(|u| self.row(u).collect()).collect()
    }
}

/// Splits `log` into a history and a held-out window (see the module documentation).
///
/// # Errors
///
/// [`DataError::InvalidOptions`] for a non-positive history or negative held-out window,
/// [`DataError::NoEvents`] if no user has a training sequence.
///
/// ```
/// use seqrec_events::{Event, EventLogBuilder, WindowOptions, split_by_time, DAY_MS};
///
/// let mut b = EventLogBuilder::default();
/// let u = b.user_id("ann");
/// for (name, day) in [("a", 0), ("b", 1), ("c", 5), ("d", 9)] {
///     let item = b.item_id(name);
///     b.push(Event::new(u, item, day * DAY_MS).with_ms_played(60_000))?;
/// }
/// let (log, _) = b.finish(true);
/// let split = split_by_time(&log, &WindowOptions::default())?;
/// // Day 9 is the cut: the held-out window (day 2, day 9] holds c and d.
/// assert_eq!(split.histories, vec![vec![1, 2]]);
/// assert_eq!(split.held_out.len(), 2);
/// assert_eq!(split.history_length(1), 2);
/// # Ok::<(), seqrec_events::DataError>(())
/// ```
pub fn split_by_time(log: &EventLog, options: &WindowOptions) -> Result<WindowSplit, DataError> {
    let mut users = Names::Lent(log.users().names());
    let mut items = Names::Lent(log.items().names());
    split_parts(log, (&mut users, &mut items), options)?.assemble(options)
}

/// [`split_by_time`] of a log it consumes: the same split, with less memory at its peak.
/// The string ids move from the log's vocabularies into the split's instead of being
/// copied (the log's hash indexes are freed first), and the log's columns are freed before
/// the training, validation and test sequences are copied from the histories: the log and
/// all of the split are never in memory together.
///
/// # Errors
///
/// As [`split_by_time`].
///
/// ```
/// use seqrec_events::{Event, EventLogBuilder, WindowOptions, split_by_time, split_by_time_owned};
///
/// let mut b = EventLogBuilder::default();
/// let u = b.user_id("ann");
/// for (t, name) in ["a", "b", "a"].into_iter().enumerate() {
///     let item = b.item_id(name);
///     b.push(Event::new(u, item, t as i64))?;
/// }
/// let (log, _) = b.finish(true);
/// let options = WindowOptions { held_out_ms: 1, ..Default::default() };
/// let split = split_by_time(&log, &options)?;
/// assert_eq!(split_by_time_owned(log, &options)?, split);
/// # Ok::<(), seqrec_events::DataError>(())
/// ```
pub fn split_by_time_owned(
    mut log: EventLog,
    options: &WindowOptions,
) -> Result<WindowSplit, DataError> {
    let (users, items) = log.take_vocabularies();
    let (mut users, mut items) = (Names::Owned(users), Names::Owned(items));
    let parts = split_parts(&log, (&mut users, &mut items), options)?;
    drop((log, users, items));
    parts.assemble(options)
}

/// The string ids of the log's users or tracks: lent (the split copies the ones it keeps)
/// or owned (it moves them).
enum Names<'a> {
    Lent(&'a [String]),
    Owned(Vec<String>),
}

impl Names<'_> {
    fn len(&self) -> usize {
        match self {
            Names::Lent(names) => names.len(),
            Names::Owned(names) => names.len(),
        }
    }

    /// The name of dense id `id`; the split asks for each id at most once.
    fn take(&mut self, id: u32) -> String {
        let i = id as usize - 1;
        match self {
            Names::Lent(names) => names[i].clone(),
            Names::Owned(names) => std::mem::take(&mut names[i]),
        }
    }
}

/// Everything the split takes from the log; [`Parts::assemble`] makes the rest from it.
struct Parts {
    histories: Vec<Vec<u32>>,
    history_ms_played: HistoryPlayTimes,
    first_target: Vec<u32>,
    num_items: u32,
    item_names: Vec<String>,
    user_names: Vec<String>,
    history_lengths: Vec<u32>,
    held_out: Vec<HeldOutPlay>,
    windows: Windows,
    report: SplitReport,
}

/// The windows, counts, histories, held-out plays and vocabularies of the split of `log`,
/// whose users and tracks are named by `names` (the log's own vocabularies may be taken).
fn split_parts(
    log: &EventLog,
    (users, items): (&mut Names<'_>, &mut Names<'_>),
    options: &WindowOptions,
) -> Result<Parts, DataError> {
    let windows = windows_of(log, options)?;
    let mut report = SplitReport::default();
    let min_track = options.min_track_plays.max(1);
    let counts = count_plays(
        log,
        (users.len(), items.len()),
        &windows,
        options,
        min_track,
        &mut report,
    );
    let (mut item_map, mut item_names) = model_items(items, &counts.track_plays, min_track);
    let num_items = item_names.len() as u32;
    let (trained, history_ms_played, others) =
        training_sequences(log, &windows, options, &counts, &item_map, &mut report)?;
    // Users: trained first, then the others.
    let order: Vec<u32> = trained
        .iter()
        .map(|(u, _)| *u)
        .chain(others.iter().copied())
        .collect();
    let mut user_map = vec![0_u32; users.len() + 1];
    let mut user_names = Vec::with_capacity(order.len());
    for &old in &order {
        user_names.push(users.take(old));
        user_map[old as usize] = user_names.len() as u32;
    }
    let history_lengths: Vec<u32> = order
        .iter()
        .map(|&u| counts.user_plays[u as usize].min(u64::from(u32::MAX)) as u32)
        .collect();
    let held_out = held_out_plays(
        log,
        &windows,
        &order,
        &user_map,
        (&mut item_map, &mut item_names, items),
        &mut report,
    );
    let first_target = first_targets(&held_out, num_items, trained.len());
    let histories: Vec<Vec<u32>> = trained.into_iter().map(|(_, s)| s).collect();
    Ok(Parts {
        histories,
        history_ms_played,
        first_target,
        num_items,
        item_names,
        user_names,
        history_lengths,
        held_out,
        windows,
        report,
    })
}

impl Parts {
    /// The split: the dataset's sequences copied from the histories, and the vocabularies.
    fn assemble(self, options: &WindowOptions) -> Result<WindowSplit, DataError> {
        let Parts {
            histories,
            history_ms_played,
            first_target,
            num_items,
            item_names,
            user_names,
            history_lengths,
            held_out,
            windows,
            mut report,
        } = self;
        let dataset = split_histories(&histories, &first_target, num_items, options, &mut report)?;
        Ok(WindowSplit {
            dataset,
            histories,
            history_ms_played,
            items: Vocabulary::from(item_names),
            users: Vocabulary::from(user_names),
            history_lengths,
            held_out,
            windows,
            report,
        })
    }
}

/// The history and held-out windows of `options` on `log` (the cut defaults to the last event).
fn windows_of(log: &EventLog, options: &WindowOptions) -> Result<Windows, DataError> {
    if options.history_ms <= 0 || options.held_out_ms < 0 {
        return Err(DataError::InvalidOptions {
            reason: format!(
                "the history window must be positive and the held-out window non-negative (got {} ms and {} ms)",
                options.history_ms, options.held_out_ms
            ),
        });
    }
    let Some((_, last)) = log.time_range() else {
        return Err(DataError::NoEvents {
            reason: "the event log is empty".into(),
        });
    };
    let cut_ms = options.cut_ms.unwrap_or(last);
    let held_out_start_ms = cut_ms.saturating_sub(options.held_out_ms);
    Ok(Windows {
        history_start_ms: held_out_start_ms.saturating_sub(options.history_ms),
        held_out_start_ms,
        cut_ms,
    })
}

/// Plays per track and per user in the history window, and held-out plays per user (indexed
/// by the log's ids).
struct PlayCounts {
    track_plays: Vec<u64>,
    user_plays: Vec<u64>,
    held_out_by_user: Vec<usize>,
}

/// Counts the plays of every window, and the tracks (below `min_track` plays) and users
/// below the minimums.
fn count_plays(
    log: &EventLog,
    (num_users, num_items): (usize, usize),
    windows: &Windows,
    options: &WindowOptions,
    min_track: u64,
    report: &mut SplitReport,
) -> PlayCounts {
    let mut track_plays = vec![0_u64; num_items + 1];
    let mut user_plays = vec![0_u64; num_users + 1];
    let mut held_out_by_user = vec![0_usize; num_users + 1];
    // The columns it needs only (a whole event would look up each track's length).
    let (times, items) = (log.timestamps_ms(), log.item_ids());
    for user in 1..log.num_users_plus_one() {
        for i in log.user_range(user as u32) {
            let t = times[i];
            if windows.in_history(t) {
                report.history_events += 1;
                track_plays[items[i] as usize] += 1;
                user_plays[user] += 1;
            } else if windows.in_held_out(t) {
                report.held_out_events += 1;
                held_out_by_user[user] += 1;
            } else if t <= windows.history_start_ms {
                report.events_before_history += 1;
            } else {
                report.events_after_cut += 1;
            }
        }
    }
    report.tracks_below_min = track_plays
        .iter()
        .filter(|&&c| c > 0 && c < min_track)
        .count();
    report.users_below_min = user_plays
        .iter()
        .filter(|&&c| c > 0 && c < options.min_user_plays)
        .count();
    PlayCounts {
        track_plays,
        user_plays,
        held_out_by_user,
    }
}

/// The model's items, in the log's id order: the tracks with at least `min_track` history
/// plays. Returns the map from the log's ids (0 for tracks left out) and the names.
fn model_items(
    items: &mut Names<'_>,
    track_plays: &[u64],
    min_track: u64,
) -> (Vec<u32>, Vec<String>) {
    let mut item_map = vec![0_u32; items.len() + 1];
    let mut item_names = Vec::new();
    for old in 1..=items.len() as u32 {
        if track_plays[old as usize] >= min_track {
            item_names.push(items.take(old));
            item_map[old as usize] = item_names.len() as u32;
        }
    }
    (item_map, item_names)
}

/// A trained user: the log's user id and the training sequence (model ids).
type TrainedUser = (u32, Vec<u32>);

/// The training sequence of every user with one, the milliseconds played of their entries
/// (flat, in the same order), and the log's ids of the users without one who played in a
/// window; an error when no user has a sequence. Each sequence is allocated at its user's
/// count of history plays, its exact length unless filters leave plays out (then it is
/// shrunk): no slack from growing.
fn training_sequences(
    log: &EventLog,
    windows: &Windows,
    options: &WindowOptions,
    counts: &PlayCounts,
    item_map: &[u32],
    report: &mut SplitReport,
) -> Result<(Vec<TrainedUser>, HistoryPlayTimes, Vec<u32>), DataError> {
    let (times, items) = (log.timestamps_ms(), log.item_ids());
    let trainable = |i: usize| {
        windows.in_history(times[i])
            && item_map[items[i] as usize] != 0
            && match (options.min_train_ms_played, log.ms_played_at(i)) {
                (Some(min), Some(ms)) => ms >= min,
                _ => true,
            }
    };
    let (user_plays, held_out_by_user) = (&counts.user_plays, &counts.held_out_by_user);
    let mut trained = Vec::new();
    let mut others = Vec::new();
    let mut played = HistoryPlayTimes::with_capacity(report.history_events);
    for u in 1..log.num_users_plus_one() as u32 {
        let plays = user_plays[u as usize];
        let mut sequence = Vec::new();
        if plays >= options.min_user_plays.max(1) {
            sequence.reserve_exact(plays as usize);
            for i in log.user_range(u).filter(|&i| trainable(i)) {
                sequence.push(item_map[items[i] as usize]);
                played.push(log.ms_played_at(i));
            }
            sequence.shrink_to_fit();
        }
        report.history_plays_not_trained += plays as usize - sequence.len();
        if !sequence.is_empty() {
            played.end_row();
            trained.push((u, sequence));
        } else if plays > 0 || held_out_by_user[u as usize] > 0 {
            if held_out_by_user[u as usize] > 0 {
                report.held_out_users_without_history += 1;
            }
            others.push(u);
        }
    }
    played.seal();
    if trained.is_empty() {
        return Err(DataError::NoEvents {
            reason: format!(
                "no user has a training sequence in the history window ({} history events, window ({}, {}] ms)",
                report.history_events, windows.history_start_ms, windows.held_out_start_ms
            ),
        });
    }
    report.trained_users = trained.len();
    Ok((trained, played, others))
}

/// The held-out plays of the users in `order` (the log's ids), with the split's user ids;
/// tracks unseen in the history get item ids after the model's (added to `items`).
fn held_out_plays(
    log: &EventLog,
    windows: &Windows,
    order: &[u32],
    user_map: &[u32],
    (item_map, item_names, items): (&mut Vec<u32>, &mut Vec<String>, &mut Names<'_>),
    report: &mut SplitReport,
) -> Vec<HeldOutPlay> {
    let mut held_out = Vec::with_capacity(report.held_out_events);
    for &old_user in order {
        for e in log
            .user_events(old_user)
            .filter(|e| windows.in_held_out(e.timestamp_ms))
        {
            if item_map[e.item as usize] == 0 {
                report.held_out_plays_of_unseen_tracks += 1;
                item_names.push(items.take(e.item));
                item_map[e.item as usize] = item_names.len() as u32;
            }
            held_out.push(HeldOutPlay {
                user: user_map[old_user as usize],
                item: item_map[e.item as usize],
                timestamp_ms: e.timestamp_ms,
                ms_played: e.ms_played,
                skipped: e.skipped,
                inferred: e.inferred,
            });
        }
    }
    held_out
}

/// Each trained user's first held-out play of a model track (0 when there is none): the test
/// target.
fn first_targets(held_out: &[HeldOutPlay], num_items: u32, trained_users: usize) -> Vec<u32> {
    let mut first_target = vec![0_u32; trained_users];
    for play in held_out.iter().rev() {
        if play.item <= num_items && (play.user as usize) <= trained_users {
            first_target[play.user as usize - 1] = play.item;
        }
    }
    first_target
}

/// The gSASRec-layout dataset of the histories: test = the history followed by its first
/// held-out target; validation = the last training item of a seeded sample of users with at
/// least 3 items; train = the rest.
fn split_histories(
    histories: &[Vec<u32>],
    first_target: &[u32],
    num_items: u32,
    options: &WindowOptions,
    report: &mut SplitReport,
) -> Result<SequenceDataset, DataError> {
    let (test_inputs, test_targets): (Vec<Vec<u32>>, Vec<u32>) = histories
        .iter()
        .zip(first_target)
        .filter(|&(_, &t)| t != 0)
        .map(|(h, &t)| (h.clone(), t))
        .unzip();
    let eligible = sample_users(
        (0..histories.len())
            .filter(|&u| histories[u].len() >= 3)
            .collect(),
        options.validation_users,
        options.seed,
    );
    report.validation_users = eligible.len();
    let mut train = histories.to_vec();
    let mut val_inputs = Vec::with_capacity(eligible.len());
    let mut val_targets = Vec::with_capacity(eligible.len());
    for &u in &eligible {
        let target = train[u].pop().unwrap_or_default();
        val_inputs.push(train[u].clone());
        val_targets.push(target);
    }
    let trained_events: usize = histories.iter().map(Vec::len).sum();
    let mut dataset = SequenceDataset::new(
        num_items,
        train,
        Some(HistoryTargets::new(val_inputs, val_targets)?),
        Some(HistoryTargets::new(test_inputs, test_targets)?),
    )?;
    dataset.stats.num_interactions = trained_events;
    Ok(dataset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, EventLogBuilder};
    use seqrec_data::Split;

    /// A log from (user, item, day, ms_played) rows.
    fn log(rows: &[(&str, &str, i64, u32)]) -> EventLog {
        let mut b = EventLogBuilder::default();
        for &(u, i, day, ms) in rows {
            let (u, i) = (b.user_id(u), b.item_id(i));
            b.push(Event::new(u, i, day * DAY_MS).with_ms_played(ms))
                .unwrap();
        }
        b.finish(true).0
    }

    #[test]
    fn boundaries_belong_to_the_earlier_window_and_the_cut_to_held_out() {
        // Cut at day 70 (last event): held-out (63, 70], history (3, 63].
        let log = log(&[
            ("a", "x", 3, 1),  // exactly at the history start: before the history
            ("a", "y", 4, 1),  // history
            ("a", "z", 63, 1), // exactly at the boundary: history
            ("a", "x", 64, 1), // held-out
            ("b", "y", 70, 1), // exactly at the cut: held-out
        ]);
        let split = split_by_time(&log, &WindowOptions::default()).unwrap();
        assert_eq!(
            split.windows,
            Windows {
                history_start_ms: 3 * DAY_MS,
                held_out_start_ms: 63 * DAY_MS,
                cut_ms: 70 * DAY_MS
            }
        );
        assert_eq!(split.report.events_before_history, 1);
        assert_eq!(split.report.history_events, 2);
        assert_eq!(split.report.held_out_events, 2);
        assert_eq!(split.items.names(), ["y", "z", "x"]);
        assert_eq!(split.dataset.num_items, 2);
        assert_eq!(split.model_items().names(), ["y", "z"]);
        assert_eq!(split.histories, vec![vec![1, 2]]);
        assert_eq!(split.users.names(), ["a", "b"]);
        assert_eq!(split.history_lengths, vec![2, 0]);
        let held: Vec<(u32, u32)> = split.held_out.iter().map(|p| (p.user, p.item)).collect();
        // x is unseen in the history: id 3, after the model's items.
        assert_eq!(held, vec![(1, 3), (2, 1)]);
        assert_eq!(split.report.held_out_plays_of_unseen_tracks, 1);
        assert_eq!(split.report.held_out_users_without_history, 1);
        // a's first held-out track is unseen: no test row.
        assert!(split.dataset.test.as_ref().unwrap().is_empty());
    }

    #[test]
    fn explicit_cut_leaves_later_events_out() {
        // Held-out (2, 3]: y at day 3, exactly at the cut, is held out; z is after the cut.
        let log = log(&[
            ("a", "x", 1, 1),
            ("a", "y", 2, 1),
            ("a", "y", 3, 1),
            ("a", "z", 10, 1),
        ]);
        let options = WindowOptions {
            cut_ms: Some(3 * DAY_MS),
            held_out_ms: DAY_MS,
            ..Default::default()
        };
        let split = split_by_time(&log, &options).unwrap();
        assert_eq!(split.report.events_after_cut, 1);
        assert_eq!(split.histories, vec![vec![1, 2]]);
        assert_eq!(split.held_out.len(), 1);
        assert_eq!(split.held_out[0].item, 2);
        assert_eq!(split.held_out[0].timestamp_ms, 3 * DAY_MS);
        let test = split.dataset.history_targets(Split::Test).unwrap();
        assert_eq!(test.inputs, vec![vec![1, 2]]);
        assert_eq!(test.targets, vec![2]);
    }

    #[test]
    fn user_with_one_play_trains_without_validation() {
        let log = log(&[
            ("a", "x", 1, 1),
            ("b", "x", 1, 1),
            ("b", "y", 2, 1),
            ("b", "z", 3, 1),
            ("b", "x", 4, 1),
        ]);
        let options = WindowOptions {
            held_out_ms: 0,
            ..Default::default()
        };
        let split = split_by_time(&log, &options).unwrap();
        assert!(split.held_out.is_empty());
        assert_eq!(split.dataset.train, vec![vec![1], vec![1, 2, 3]]);
        let val = split.dataset.history_targets(Split::Val).unwrap();
        assert_eq!(val.inputs, vec![vec![1, 2, 3]]);
        assert_eq!(val.targets, vec![1]);
        assert_eq!(split.histories[1], vec![1, 2, 3, 1]);
        assert_eq!(split.report.validation_users, 1);
        assert_eq!(split.dataset.stats.num_interactions, 5);
    }

    #[test]
    fn filters_rare_tracks_short_plays_and_light_users() {
        let log = log(&[
            ("a", "x", 1, 60_000),
            ("a", "x", 2, 5_000),
            ("a", "y", 3, 60_000),
            ("b", "x", 1, 60_000),
            ("c", "x", 5, 60_000),
            ("c", "x", 6, 60_000),
        ]);
        let options = WindowOptions {
            held_out_ms: 0,
            min_track_plays: 2,
            min_user_plays: 2,
            min_train_ms_played: Some(30_000),
            ..Default::default()
        };
        let split = split_by_time(&log, &options).unwrap();
        assert_eq!(split.model_items().names(), ["x"]);
        assert_eq!(split.users.names(), ["a", "c", "b"]);
        assert_eq!(split.dataset.train, vec![vec![1], vec![1, 1]]);
        assert_eq!(split.history_lengths, vec![3, 2, 1]);
        assert_eq!(split.report.tracks_below_min, 1);
        assert_eq!(split.report.users_below_min, 1);
        // a: short play and y; b: light.
        assert_eq!(split.report.history_plays_not_trained, 3);
    }

    #[test]
    fn history_durations_follow_the_histories_and_give_positive_plays() {
        let log = log(&[
            ("a", "x", 1, 60_000),
            ("a", "y", 2, 5_000),
            ("a", "x", 3, 30_000),
            ("b", "y", 1, 29_999),
            ("c", "z", 9, 1),
        ]);
        let options = WindowOptions {
            held_out_ms: DAY_MS,
            ..Default::default()
        };
        let split = split_by_time(&log, &options).unwrap();
        // c's play is at the cut: held out, so c has no history.
        assert_eq!(split.histories, vec![vec![1, 2, 1], vec![2]]);
        assert_eq!(
            split.history_ms_played.to_vecs(),
            vec![
                vec![Some(60_000), Some(5_000), Some(30_000)],
                vec![Some(29_999)]
            ]
        );
        assert_eq!(
            split.positive_histories(30_000),
            Some(vec![vec![1, 1], vec![]])
        );
        assert_eq!(split.positive_histories(0), Some(split.histories.clone()));
        // Without durations positive plays are unknown; unknown plays are never positive.
        let mut b = EventLogBuilder::default();
        let (u, x, y) = (b.user_id("a"), b.item_id("x"), b.item_id("y"));
        b.push(Event::new(u, x, DAY_MS)).unwrap();
        b.push(Event::new(u, y, 2 * DAY_MS)).unwrap();
        let (unknown, _) = b.finish(true);
        let options = WindowOptions {
            held_out_ms: 0,
            ..Default::default()
        };
        let split = split_by_time(&unknown, &options).unwrap();
        assert_eq!(split.history_ms_played.to_vecs(), vec![vec![None, None]]);
        assert!(!split.history_ms_played.any_known());
        assert_eq!(split.positive_histories(30_000), None);
        assert!(split.positive_dataset(30_000).is_none());
    }

    #[test]
    fn the_positive_dataset_validates_the_same_users_on_their_positive_plays() {
        let mut rows = Vec::new();
        // a: 4 positive plays and skips; b: 2 positive plays; c: only skips.
        let a = [
            ("x", 60_000),
            ("s", 1_000),
            ("y", 40_000),
            ("z", 31_000),
            ("s", 2_000),
            ("w", 50_000),
        ];
        for (t, (item, ms)) in a.into_iter().enumerate() {
            rows.push(("a", item, t as i64 + 1, ms));
        }
        let b = [("x", 60_000), ("s", 1_000), ("y", 40_000), ("s", 2_000)];
        for (t, (item, ms)) in b.into_iter().enumerate() {
            rows.push(("b", item, t as i64 + 1, ms));
        }
        rows.extend([("c", "s", 1, 10), ("c", "x", 2, 10), ("c", "s", 3, 10)]);
        let options = WindowOptions {
            held_out_ms: 0,
            ..Default::default()
        };
        let split = split_by_time(&log(&rows), &options).unwrap();
        // Every user has at least 3 plays, so all three are validated on their last play.
        assert_eq!(split.dataset.val.as_ref().unwrap().targets.len(), 3);
        let positive = split.positive_dataset(30_000).unwrap().unwrap();
        let id = |name: &str| split.items.id(name).unwrap();
        let (x, y, z, w) = (id("x"), id("y"), id("z"), id("w"));
        // a holds out w, its last positive play; b has too few positive plays; c has none.
        assert_eq!(positive.train, vec![vec![x, y, z], vec![x, y]]);
        let val = positive.val.as_ref().unwrap();
        assert_eq!(
            (val.inputs.clone(), val.targets.clone()),
            (vec![vec![x, y, z]], vec![w])
        );
        assert!(positive.test.is_none());
        assert_eq!(positive.num_items, split.dataset.num_items);
    }

    /// The split of a consumed log equals the split of a borrowed one, filters and all, and
    /// so do the errors.
    #[test]
    fn the_owned_split_equals_the_borrowed_one() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        let names: Vec<(String, String)> = (0..400)
            .map(|_| (format!("u{}", next(30)), format!("t{}", next(50))))
            .collect();
        let rows: Vec<(&str, &str, i64, u32)> = names
            .iter()
            .map(|(u, t)| (u.as_str(), t.as_str(), next(80) as i64, next(60_000) as u32))
            .collect();
        let log = log(&rows);
        for options in [
            WindowOptions::default(),
            WindowOptions {
                held_out_ms: 0,
                validation_users: 5,
                ..Default::default()
            },
            WindowOptions {
                min_track_plays: 3,
                min_user_plays: 4,
                min_train_ms_played: Some(30_000),
                history_ms: 20 * DAY_MS,
                ..Default::default()
            },
            WindowOptions {
                history_ms: 0,
                ..Default::default()
            },
            WindowOptions {
                cut_ms: Some(-DAY_MS),
                ..Default::default()
            },
        ] {
            let borrowed = split_by_time(&log, &options);
            let owned = split_by_time_owned(log.clone(), &options);
            match (&borrowed, &owned) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{options:?}");
                    assert!(!a.held_out.is_empty() || options.held_out_ms == 0);
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("{options:?}: {borrowed:?} vs {owned:?}"),
            }
        }
    }

    #[test]
    fn validation_sample_is_seeded_and_bounded() {
        let rows: Vec<(String, i64)> = (0..50)
            .flat_map(|u| (0..4).map(move |d| (format!("u{u}"), d)))
            .collect();
        let rows: Vec<(&str, &str, i64, u32)> =
            rows.iter().map(|(u, d)| (u.as_str(), "x", *d, 1)).collect();
        let log = log(&rows);
        let options = WindowOptions {
            held_out_ms: 0,
            validation_users: 10,
            ..Default::default()
        };
        let a = split_by_time(&log, &options).unwrap();
        assert_eq!(a.dataset.val.as_ref().unwrap().len(), 10);
        assert_eq!(a, split_by_time(&log, &options).unwrap());
        let other = split_by_time(
            &log,
            &WindowOptions {
                seed: 1,
                ..options.clone()
            },
        )
        .unwrap();
        assert_ne!(a.dataset.train, other.dataset.train);
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let mut b = EventLogBuilder::default();
        let (u, i) = (b.user_id("a"), b.item_id("x"));
        for t in [i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX] {
            b.push(Event::new(u, i, t)).unwrap();
        }
        let (mut log, _) = b.finish(true);
        log.infer_play_times_from_gaps(1000);
        assert!(crate::LogSummary::of(&log).days > 0.0);
        let options = WindowOptions {
            held_out_ms: 1,
            ..Default::default()
        };
        let split = split_by_time(&log, &options).unwrap();
        assert_eq!(split.report.events_before_history, 2);
        assert_eq!(split.histories, vec![vec![1]]);
        assert_eq!(split.held_out.len(), 1);
    }

    #[test]
    fn empty_log_empty_history_and_bad_options_fail() {
        assert!(matches!(
            split_by_time(&EventLog::default(), &WindowOptions::default()),
            Err(DataError::NoEvents { .. })
        ));
        let log = log(&[("a", "x", 100, 1)]);
        // The only event is at the cut: held-out, so no history.
        let err = split_by_time(&log, &WindowOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::NoEvents { .. }), "{err:?}");
        let bad = WindowOptions {
            history_ms: 0,
            ..Default::default()
        };
        assert!(matches!(
            split_by_time(&log, &bad),
            Err(DataError::InvalidOptions { .. })
        ));
    }
}
