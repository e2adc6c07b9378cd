//! [`EventLog`]: listening events held as columns of dense ids, and [`EventLogBuilder`],
//! which interns string ids and normalises the order.
//!
//! Memory grows only with what the events say. The user of each event is not stored: the
//! events are grouped by user, and one offset per user gives each user's range. Play times
//! and flags take no memory until some event has them, and a track length that is the same
//! for every play of a track (as in every real export) is stored once per track. Normalising
//! (grouping by user, sorting by time, removing duplicates) works in place: an input already
//! grouped and in time order costs no copy, any other one index per event (4 bytes up to
//! 2³² events) while it is grouped.

use std::cmp::Ordering;
use std::ops::Range;

use seqrec_data::DataError;
use seqrec_data::vocabulary::{ItemVocabulary, UserVocabulary, Vocabulary};

/// Sentinel for "unknown" in the `u32` play-time and track-length columns.
const UNKNOWN: u32 = u32::MAX;
/// Flag bit: the skipped flag is known.
const SKIP_KNOWN: u8 = 1;
/// Flag bit: the track was skipped (meaningful with [`SKIP_KNOWN`]).
const SKIPPED: u8 = 2;
/// Flag bit: `ms_played` was inferred (e.g. from the gap to the next scrobble).
const INFERRED: u8 = 4;

/// The most bytes of column storage per event: item (4), timestamp (8), ms played (4),
/// track length (4) and flags (1). A log stores fewer when its events allow
/// ([`EventLog::column_bytes_per_event`]): no play-time column when no play time is known,
/// no flags when no event is skipped, known to be played or inferred, and track lengths once
/// per track when every play of a track has the same length. On top come one offset per user
/// (8 bytes), at most 4 bytes per track for lengths, and the two vocabularies.
pub const BYTES_PER_EVENT: usize = 21;

/// The longest representable play time or track length in milliseconds (about 49 days);
/// `u32::MAX` is reserved for "unknown".
pub const MAX_MS: u32 = u32::MAX - 1;

/// One play of a track by a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    /// Dense user id (`1..=users.len()` of the log).
    pub user: u32,
    /// Dense item id (`1..=items.len()` of the log).
    pub item: u32,
    /// Start of the play, milliseconds since the Unix epoch (UTC).
    pub timestamp_ms: i64,
    /// How long the track was played, when known (at most [`MAX_MS`]).
    pub ms_played: Option<u32>,
    /// The track's length, when known (at most [`MAX_MS`]).
    pub track_length_ms: Option<u32>,
    /// Whether the listener skipped the track, when known.
    pub skipped: Option<bool>,
    /// Whether `ms_played` is an estimate rather than a measurement (Last.fm scrobbles).
    pub inferred: bool,
}

impl Event {
    /// An event with only the required fields; the optional ones unknown.
    pub fn new(user: u32, item: u32, timestamp_ms: i64) -> Self {
        Self {
            user,
            item,
            timestamp_ms,
            ms_played: None,
            track_length_ms: None,
            skipped: None,
            inferred: false,
        }
    }

    /// The same event with `ms_played` set.
    pub fn with_ms_played(mut self, ms_played: u32) -> Self {
        self.ms_played = Some(ms_played);
        self
    }

    /// The flags byte of the optional fields.
    fn flags(&self) -> u8 {
        let mut flags = 0;
        if let Some(skipped) = self.skipped {
            flags |= SKIP_KNOWN | if skipped { SKIPPED } else { 0 };
        }
        if self.inferred {
            flags |= INFERRED;
        }
        flags
    }
}

/// An index into the events while they are reordered: `u32` up to 2³² events (4 bytes per
/// event), `usize` beyond.
trait Index: Copy {
    fn to_usize(self) -> usize;
    fn from_usize(i: usize) -> Self;
}

impl Index for u32 {
    fn to_usize(self) -> usize {
        self as usize
    }
    fn from_usize(i: usize) -> Self {
        i as u32
    }
}

impl Index for usize {
    fn to_usize(self) -> usize {
        self
    }
    fn from_usize(i: usize) -> Self {
        i
    }
}

/// A bit per event (marks for in-place reordering and deduplication).
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Self(vec![0; n.div_ceil(64)])
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self) {
        self.0.fill(0);
    }
}

/// Reorders `column` in place so that position `k` holds what was at `order[k]` (a
/// permutation of `0..column.len()`), following its cycles; `done` has a bit per position.
fn permute<T: Copy, I: Index>(column: &mut [T], order: &[I], done: &mut Bits) {
    done.clear();
    for start in 0..column.len() {
        if done.get(start) {
            continue;
        }
        let first = column[start];
        let mut k = start;
        loop {
            done.set(k);
            let from = order[k].to_usize();
            if from == start {
                column[k] = first;
                break;
            }
            column[k] = column[from];
            k = from;
        }
    }
}

/// Keeps the entries of `column` whose bit is set in `keep`, in order.
fn compact<T: Copy>(column: &mut Vec<T>, keep: &Bits) {
    let mut kept = 0;
    for i in 0..column.len() {
        if keep.get(i) {
            column[kept] = column[i];
            kept += 1;
        }
    }
    column.truncate(kept);
}

/// A column of optional values that takes no memory while every value is `absent`: empty
/// until the first other value, then one entry per event.
#[derive(Debug, Clone, Default)]
struct Sparse<T> {
    values: Vec<T>,
}

impl<T: Copy + PartialEq> Sparse<T> {
    /// Appends the value of event `len` (the number of events before it).
    fn push(&mut self, value: T, absent: T, len: usize) {
        if self.values.is_empty() {
            if value == absent {
                return;
            }
            self.values.reserve_exact(len + 1);
            self.values.resize(len, absent);
        }
        self.values.push(value);
    }

    fn get(&self, i: usize, absent: T) -> T {
        self.values.get(i).copied().unwrap_or(absent)
    }

    fn present(&self) -> bool {
        !self.values.is_empty()
    }

    /// Every event's value, `len` of them (materialised for writing in place).
    fn all(&mut self, absent: T, len: usize) -> &mut Vec<T> {
        if self.values.is_empty() {
            self.values = vec![absent; len];
        }
        &mut self.values
    }
}

/// Track lengths: none known, one per track (every play of a track has the same length,
/// or none), or one per event.
#[derive(Debug, Clone, Default)]
enum Lengths {
    /// No event has a known length.
    #[default]
    Unknown,
    /// `lengths[item]` ([`UNKNOWN`] for unknown) for every event of `item`; while building,
    /// `seen` marks the tracks whose length is settled (emptied once the log is built).
    PerTrack { lengths: Vec<u32>, seen: Vec<u64> },
    /// One length per event.
    PerEvent(Vec<u32>),
}

impl Lengths {
    fn get(&self, i: usize, item: u32) -> u32 {
        match self {
            Lengths::Unknown => UNKNOWN,
            Lengths::PerTrack { lengths, .. } => {
                lengths.get(item as usize).copied().unwrap_or(UNKNOWN)
            }
            Lengths::PerEvent(lengths) => lengths[i],
        }
    }

    /// Appends the length of an event of `item`; `items` are the items of the events before.
    fn push(&mut self, items: &[u32], item: u32, length: u32) {
        if let Lengths::Unknown = self {
            if length == UNKNOWN {
                return;
            }
            // Every track played so far has an unknown length.
            let top = items.iter().copied().max().unwrap_or(0).max(item) as usize;
            let mut seen = vec![0_u64; (top + 1).div_ceil(64)];
            for &i in items {
                seen[i as usize / 64] |= 1 << (i % 64);
            }
            *self = Lengths::PerTrack {
                lengths: vec![UNKNOWN; top + 1],
                seen,
            };
        }
        match self {
            Lengths::Unknown => {}
            Lengths::PerTrack { lengths, seen } => {
                let t = item as usize;
                if t >= lengths.len() {
                    lengths.resize(t + 1, UNKNOWN);
                    seen.resize((t + 1).div_ceil(64), 0);
                }
                if seen[t / 64] >> (t % 64) & 1 == 0 {
                    seen[t / 64] |= 1 << (t % 64);
                    lengths[t] = length;
                } else if lengths[t] != length {
                    // Two lengths for one track: one per event from now on.
                    let mut per_event = Vec::with_capacity(items.len() + 1);
                    per_event.extend(items.iter().map(|&i| lengths[i as usize]));
                    per_event.push(length);
                    *self = Lengths::PerEvent(per_event);
                }
            }
            Lengths::PerEvent(per_event) => per_event.push(length),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Lengths::Unknown => 0,
            Lengths::PerTrack { lengths, seen } => lengths.capacity() * 4 + seen.capacity() * 8,
            Lengths::PerEvent(lengths) => lengths.capacity() * 4,
        }
    }
}

/// The columns of a log (or of a builder, which adds the users), one entry per event.
#[derive(Debug, Clone, Default)]
struct Columns {
    item: Vec<u32>,
    timestamp_ms: Vec<i64>,
    ms_played: Sparse<u32>,
    track_length_ms: Lengths,
    flags: Sparse<u8>,
}

impl Columns {
    fn len(&self) -> usize {
        self.item.len()
    }

    fn reserve(&mut self, additional: usize) {
        self.item.reserve(additional);
        self.timestamp_ms.reserve(additional);
        if self.ms_played.present() {
            self.ms_played.values.reserve(additional);
        }
        if self.flags.present() {
            self.flags.values.reserve(additional);
        }
        if let Lengths::PerEvent(lengths) = &mut self.track_length_ms {
            lengths.reserve(additional);
        }
    }

    fn push(&mut self, event: &Event) {
        let n = self.len();
        self.ms_played
            .push(event.ms_played.unwrap_or(UNKNOWN), UNKNOWN, n);
        self.flags.push(event.flags(), 0, n);
        self.track_length_ms.push(
            &self.item,
            event.item,
            event.track_length_ms.unwrap_or(UNKNOWN),
        );
        self.item.push(event.item);
        self.timestamp_ms.push(event.timestamp_ms);
    }

    /// Event `i`, which belongs to user `user`.
    fn get(&self, i: usize, user: u32) -> Event {
        let known = |v: u32| (v != UNKNOWN).then_some(v);
        let flags = self.flags.get(i, 0);
        let item = self.item[i];
        Event {
            user,
            item,
            timestamp_ms: self.timestamp_ms[i],
            ms_played: known(self.ms_played.get(i, UNKNOWN)),
            track_length_ms: known(self.track_length_ms.get(i, item)),
            skipped: (flags & SKIP_KNOWN != 0).then_some(flags & SKIPPED != 0),
            inferred: flags & INFERRED != 0,
        }
    }

    /// The within-user order key: time first, then the other fields so that exact
    /// duplicates end up next to each other.
    fn key(&self, i: usize) -> (i64, u32, u32, u32, u8) {
        let item = self.item[i];
        (
            self.timestamp_ms[i],
            item,
            self.ms_played.get(i, UNKNOWN),
            self.track_length_ms.get(i, item),
            self.flags.get(i, 0),
        )
    }

    /// The within-user order: time, then the track's own id (`items` names the dense ids),
    /// then the other fields. Ties are not broken by the dense item id, which depends on
    /// the order in which the input first named the tracks: otherwise writing a log and
    /// reading it back could reorder plays of the same millisecond (found by
    /// `csv_write_read_write_is_the_identity`, tests/properties.rs).
    fn order(&self, items: &Vocabulary, a: usize, b: usize) -> Ordering {
        let name = |i: usize| items.name(self.item[i]).unwrap_or_default();
        self.timestamp_ms[a]
            .cmp(&self.timestamp_ms[b])
            .then_with(|| name(a).cmp(name(b)))
            .then_with(|| self.key(a).cmp(&self.key(b)))
    }

    /// Reorders the events in `range` in place so that its `k`-th event is the one that was
    /// at `range.start + order[k]`.
    fn permute<I: Index>(&mut self, range: Range<usize>, order: &[I]) {
        let mut done = Bits::new(range.len());
        permute(&mut self.item[range.clone()], order, &mut done);
        permute(&mut self.timestamp_ms[range.clone()], order, &mut done);
        if self.ms_played.present() {
            permute(&mut self.ms_played.values[range.clone()], order, &mut done);
        }
        if self.flags.present() {
            permute(&mut self.flags.values[range.clone()], order, &mut done);
        }
        if let Lengths::PerEvent(lengths) = &mut self.track_length_ms {
            permute(&mut lengths[range], order, &mut done);
        }
    }

    /// Sorts the events in `range` by [`Columns::order`].
    fn sort_range(&mut self, items: &Vocabulary, range: Range<usize>) {
        fn sorted<I: Index>(columns: &Columns, items: &Vocabulary, range: &Range<usize>) -> Vec<I> {
            let mut order: Vec<I> = (0..range.len()).map(I::from_usize).collect();
            order.sort_by(|&a, &b| {
                columns.order(
                    items,
                    range.start + a.to_usize(),
                    range.start + b.to_usize(),
                )
            });
            order
        }
        if u32::try_from(range.len()).is_ok() {
            let order: Vec<u32> = sorted(self, items, &range);
            self.permute(range, &order);
        } else {
            let order: Vec<usize> = sorted(self, items, &range);
            self.permute(range, &order);
        }
    }

    /// Keeps the events whose bit is set, in order.
    fn compact(&mut self, keep: &Bits) {
        compact(&mut self.item, keep);
        compact(&mut self.timestamp_ms, keep);
        if self.ms_played.present() {
            compact(&mut self.ms_played.values, keep);
        }
        if self.flags.present() {
            compact(&mut self.flags.values, keep);
        }
        if let Lengths::PerEvent(lengths) = &mut self.track_length_ms {
            compact(lengths, keep);
        }
    }

    /// The events at `order` (indices), in that order, with the same item ids.
    fn gather(&self, order: &[usize]) -> Self {
        fn pick<T: Copy>(column: &[T], order: &[usize]) -> Vec<T> {
            order.iter().map(|&i| column[i]).collect()
        }
        let sparse = |column: &Sparse<_>| Sparse {
            values: if column.present() {
                pick(&column.values, order)
            } else {
                Vec::new()
            },
        };
        Self {
            item: pick(&self.item, order),
            timestamp_ms: pick(&self.timestamp_ms, order),
            ms_played: sparse(&self.ms_played),
            track_length_ms: match &self.track_length_ms {
                Lengths::PerEvent(lengths) => Lengths::PerEvent(pick(lengths, order)),
                other => other.clone(),
            },
            flags: Sparse {
                values: if self.flags.present() {
                    pick(&self.flags.values, order)
                } else {
                    Vec::new()
                },
            },
        }
    }

    /// Frees unused capacity and the bookkeeping of building.
    fn seal(&mut self) {
        self.item.shrink_to_fit();
        self.timestamp_ms.shrink_to_fit();
        self.ms_played.values.shrink_to_fit();
        self.flags.values.shrink_to_fit();
        match &mut self.track_length_ms {
            Lengths::Unknown => {}
            Lengths::PerTrack { lengths, seen } => {
                lengths.shrink_to_fit();
                *seen = Vec::new();
            }
            Lengths::PerEvent(lengths) => lengths.shrink_to_fit(),
        }
    }

    /// Bytes per event of the per-event columns.
    fn bytes_per_event(&self) -> usize {
        4 + 8
            + if self.ms_played.present() { 4 } else { 0 }
            + if self.flags.present() { 1 } else { 0 }
            + if matches!(self.track_length_ms, Lengths::PerEvent(_)) {
                4
            } else {
                0
            }
    }

    fn heap_bytes(&self) -> usize {
        self.item.capacity() * 4
            + self.timestamp_ms.capacity() * 8
            + self.ms_played.values.capacity() * 4
            + self.flags.values.capacity()
            + self.track_length_ms.heap_bytes()
    }

    /// Whether event `a` of `self` and event `b` of `other` are the same (user aside).
    fn same_event(&self, a: usize, other: &Columns, b: usize) -> bool {
        self.key(a) == other.key(b)
    }
}

/// What normalising a log changed: nothing is dropped without being counted here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Normalization {
    /// Exact duplicate events removed (all fields equal to an earlier event's).
    pub duplicates_removed: u64,
    /// Users whose events were not in time order in the input (they were sorted).
    pub users_reordered: u64,
}

/// What [`EventLog::filter_min_plays`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilterReport {
    /// Tracks with fewer plays than the minimum (their events removed).
    pub tracks_removed: usize,
    /// Users with fewer plays than the minimum, counted after removing tracks.
    pub users_removed: usize,
    /// Events removed in all.
    pub events_removed: usize,
}

/// Listening events, held as columns: dense item ids (`u32`), timestamps (`i64`
/// milliseconds, UTC) and, when the events have them, play times (`u32` milliseconds), a
/// flags byte (skipped, inferred) and track lengths (`u32` milliseconds, once per track when
/// every play of a track agrees): at most [`BYTES_PER_EVENT`] bytes per event
/// ([`EventLog::column_bytes_per_event`] for this log), plus one offset per user and the two
/// vocabularies. Users are not stored per event: each user's events are one range.
///
/// Invariants: the events are grouped by user id in ascending order and, within a user,
/// ordered by time (ties broken by the track's own id, then the other fields, so that the
/// order depends on the events only, not on the order of the input);
/// every user and item id lies in its vocabulary. Users of the vocabulary may have no
/// events. Build a log with [`EventLogBuilder`]. Two logs are equal when they have the same
/// vocabularies and the same events in the same order, however they store them.
#[derive(Debug, Clone)]
pub struct EventLog {
    users: UserVocabulary,
    items: ItemVocabulary,
    columns: Columns,
    /// `offsets[u - 1]..offsets[u]` are the events of user `u`; length `users.len() + 1`.
    offsets: Vec<usize>,
}

impl Default for EventLog {
    fn default() -> Self {
        Self {
            users: Vocabulary::default(),
            items: Vocabulary::default(),
            columns: Columns::default(),
            offsets: vec![0],
        }
    }
}

impl PartialEq for EventLog {
    fn eq(&self, other: &Self) -> bool {
        self.users == other.users
            && self.items == other.items
            && self.offsets == other.offsets
            && self.columns.item == other.columns.item
            && self.columns.timestamp_ms == other.columns.timestamp_ms
            && (0..self.len()).all(|i| self.columns.same_event(i, &other.columns, i))
    }
}

impl Eq for EventLog {}

/// The events of a log in its order (see [`EventLog::iter`]).
struct Events<'a> {
    log: &'a EventLog,
    /// The user of event `next`.
    user: u32,
    next: usize,
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let offsets = &self.log.offsets;
        if self.next >= self.log.len() {
            return None;
        }
        while offsets[self.user as usize] <= self.next {
            self.user += 1;
        }
        let event = self.log.columns.get(self.next, self.user);
        self.next += 1;
        Some(event)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.log.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Events<'_> {}

impl EventLog {
    /// Number of events.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.columns.len() == 0
    }

    /// The user ids: dense id ↔ the input's string id.
    pub fn users(&self) -> &UserVocabulary {
        &self.users
    }

    /// The track ids: dense id ↔ the input's string id.
    pub fn items(&self) -> &ItemVocabulary {
        &self.items
    }

    /// The user of event `i` (a binary search of the per-user offsets).
    fn user_of(&self, i: usize) -> u32 {
        self.offsets.partition_point(|&end| end <= i) as u32
    }

    /// Event `i` (in the log's order), if in range.
    pub fn get(&self, i: usize) -> Option<Event> {
        (i < self.len()).then(|| self.columns.get(i, self.user_of(i)))
    }

    /// All events, grouped by user, in time order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Event> + '_ {
        Events {
            log: self,
            user: 1,
            next: 0,
        }
    }

    /// The index range of user `user`'s events (empty for an unknown user).
    pub fn user_range(&self, user: u32) -> Range<usize> {
        let u = user as usize;
        if u == 0 || u >= self.offsets.len() {
            return 0..0;
        }
        self.offsets[u - 1]..self.offsets[u]
    }

    /// User `user`'s events, in time order.
    pub fn user_events(&self, user: u32) -> impl ExactSizeIterator<Item = Event> + '_ {
        self.user_range(user)
            .map(move |i| self.columns.get(i, user))
    }

    /// The user of every event (dense ids), in the log's order: computed from the per-user
    /// ranges, which is all the log stores of users.
    pub fn user_ids(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        self.iter().map(|e| e.user)
    }

    /// The item column (dense ids), in the log's order.
    pub fn item_ids(&self) -> &[u32] {
        &self.columns.item
    }

    /// The timestamp column (milliseconds since the Unix epoch), in the log's order.
    pub fn timestamps_ms(&self) -> &[i64] {
        &self.columns.timestamp_ms
    }

    /// The earliest and the latest timestamp, `None` for an empty log.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let ts = &self.columns.timestamp_ms;
        let min = ts.iter().copied().min()?;
        let max = ts.iter().copied().max()?;
        Some((min, max))
    }

    /// Every user's items in time order, indexed by user id − 1 (users without events
    /// give empty sequences).
    pub fn sequences(&self) -> Vec<Vec<u32>> {
        (1..=self.users.len() as u32)
            .map(|u| self.columns.item[self.user_range(u)].to_vec())
            .collect()
    }

    /// Plays per item, indexed by item id (index 0 unused).
    pub fn item_counts(&self) -> Vec<u64> {
        let mut counts = vec![0_u64; self.items.len() + 1];
        for &item in &self.columns.item {
            counts[item as usize] += 1;
        }
        counts
    }

    /// Bytes of column storage per event of this log: 12 (item and timestamp), plus 4 when
    /// some play time is known, 1 when some event has a flag (skipped or inferred), and 4
    /// when some track has plays of different lengths (otherwise lengths are stored once per
    /// track). At most [`BYTES_PER_EVENT`].
    pub fn column_bytes_per_event(&self) -> usize {
        self.columns.bytes_per_event()
    }

    /// Heap bytes held by the columns, the per-user offsets and the vocabularies.
    pub fn heap_bytes(&self) -> usize {
        self.columns.heap_bytes()
            + self.offsets.capacity() * std::mem::size_of::<usize>()
            + self.users.heap_bytes()
            + self.items.heap_bytes()
    }

    /// Keeps the events for which `keep` is true. Vocabularies are compacted to the users
    /// and items that still have events, keeping their relative order.
    pub fn retain(&self, mut keep: impl FnMut(&Event) -> bool) -> EventLog {
        let order: Vec<usize> = self
            .iter()
            .enumerate()
            .filter(|(_, e)| keep(e))
            .map(|(i, _)| i)
            .collect();
        self.compacted(&order)
    }

    /// Removes tracks with fewer than `min_item_plays` plays, then users with fewer than
    /// `min_user_plays` remaining plays (one pass each, in that order), compacting the
    /// vocabularies. Minimums of 0 or 1 keep everything.
    pub fn filter_min_plays(
        &self,
        min_item_plays: u64,
        min_user_plays: u64,
    ) -> (EventLog, FilterReport) {
        let item_counts = self.item_counts();
        let tracks_removed = item_counts[1..]
            .iter()
            .filter(|&&c| c > 0 && c < min_item_plays)
            .count();
        let keep_item = |item: u32| item_counts[item as usize] >= min_item_plays;
        let user_counts: Vec<u64> = (0..=self.users.len() as u32)
            .map(|u| {
                self.columns.item[self.user_range(u)]
                    .iter()
                    .filter(|&&i| keep_item(i))
                    .count() as u64
            })
            .collect();
        let users_removed = user_counts[1..]
            .iter()
            .filter(|&&c| c > 0 && c < min_user_plays)
            .count();
        let order: Vec<usize> = (1..=self.users.len() as u32)
            .filter(|&u| user_counts[u as usize] >= min_user_plays)
            .flat_map(|u| self.user_range(u))
            .filter(|&i| keep_item(self.columns.item[i]))
            .collect();
        let report = FilterReport {
            tracks_removed,
            users_removed,
            events_removed: self.len() - order.len(),
        };
        (self.compacted(&order), report)
    }

    /// The events at `order` (ascending indices), with vocabularies compacted.
    fn compacted(&self, order: &[usize]) -> EventLog {
        let mut columns = self.columns.gather(order);
        let mut user: Vec<u32> = order.iter().map(|&i| self.user_of(i)).collect();
        let (users, _) = remap(&mut user, &self.users);
        let (items, item_map) = remap(&mut columns.item, &self.items);
        if let Lengths::PerTrack { lengths, .. } = &columns.track_length_ms {
            let mut remapped = vec![UNKNOWN; items.len() + 1];
            for (old, &new) in item_map.iter().enumerate() {
                if new != 0 {
                    remapped[new as usize] = lengths.get(old).copied().unwrap_or(UNKNOWN);
                }
            }
            columns.track_length_ms = Lengths::PerTrack {
                lengths: remapped,
                seen: Vec::new(),
            };
        }
        let offsets = offsets_of(&user, users.len());
        EventLog {
            users,
            items,
            columns,
            offsets,
        }
    }

    /// The play time of event `i` (in range), without building the whole event.
    pub(crate) fn ms_played_at(&self, i: usize) -> Option<u32> {
        Some(self.columns.ms_played.get(i, UNKNOWN)).filter(|&ms| ms != UNKNOWN)
    }

    /// The number of user ids plus one (the length of the per-user offsets), which stays
    /// when the vocabularies are taken.
    pub(crate) fn num_users_plus_one(&self) -> usize {
        self.offsets.len()
    }

    /// Takes the vocabularies' names (user ids, track ids, in dense-id order), leaving the
    /// log without vocabularies: for a caller that consumes the log.
    pub(crate) fn take_vocabularies(&mut self) -> (Vec<String>, Vec<String>) {
        (
            std::mem::take(&mut self.users).into(),
            std::mem::take(&mut self.items).into(),
        )
    }

    /// Replaces every play time by the gap to the same user's next event, capped at
    /// `cap_ms` (the cap for a user's last event), and marks them inferred.
    pub(crate) fn infer_play_times_from_gaps(&mut self, cap_ms: u32) {
        let n = self.len();
        let columns = &mut self.columns;
        let ms_played = columns.ms_played.all(UNKNOWN, n);
        for u in 1..self.offsets.len() {
            let range = self.offsets[u - 1]..self.offsets[u];
            for i in range.clone() {
                let gap = if i + 1 < range.end {
                    columns.timestamp_ms[i + 1].saturating_sub(columns.timestamp_ms[i])
                } else {
                    i64::from(cap_ms)
                };
                ms_played[i] = gap.clamp(0, i64::from(cap_ms)) as u32;
            }
        }
        for flags in columns.flags.all(0, n) {
            *flags |= INFERRED;
        }
    }
}

/// Renumbers `ids` densely in order of the old ids; returns the matching vocabulary and the
/// map from old ids to new ones (0 for ids left out).
fn remap(ids: &mut [u32], vocab: &Vocabulary) -> (Vocabulary, Vec<u32>) {
    let mut used = vec![false; vocab.len() + 1];
    for &id in ids.iter() {
        used[id as usize] = true;
    }
    let mut new_id = vec![0_u32; vocab.len() + 1];
    let mut names = Vec::new();
    for (old, name) in vocab.names().iter().enumerate() {
        if used[old + 1] {
            names.push(name.clone());
            new_id[old + 1] = names.len() as u32;
        }
    }
    for id in ids.iter_mut() {
        *id = new_id[*id as usize];
    }
    (Vocabulary::from(names), new_id)
}

/// Start offsets of each user's events in a user column sorted ascending (also the end
/// offsets: user `u`'s events are `offsets[u - 1]..offsets[u]`).
fn offsets_of(user: &[u32], num_users: usize) -> Vec<usize> {
    let mut offsets = vec![0_usize; num_users + 1];
    for &u in user {
        offsets[u as usize] += 1;
    }
    for u in 1..offsets.len() {
        offsets[u] += offsets[u - 1];
    }
    offsets
}

/// For a user column and its [`offsets_of`], the stable order that groups the events by
/// user: position `k` of the grouped log is event `order[k]`.
fn grouping_order<I: Index>(user: &[u32], offsets: &[usize]) -> Vec<I> {
    let mut next = offsets[..offsets.len() - 1].to_vec();
    let mut order = vec![I::from_usize(0); user.len()];
    for (i, &u) in user.iter().enumerate() {
        let slot = &mut next[u as usize - 1];
        order[*slot] = I::from_usize(i);
        *slot += 1;
    }
    order
}

/// Collects events, interning string ids into dense ids, and produces a normalised
/// [`EventLog`].
///
/// While building, it holds the log's columns and the user of every event (4 bytes); a
/// play-time or flags column only once an event has one, and track lengths once per track
/// until two plays of a track disagree.
///
/// ```
/// use seqrec_events::{Event, EventLogBuilder};
///
/// let mut builder = EventLogBuilder::default();
/// let alice = builder.user_id("alice");
/// let song = builder.item_id("spotify:track:1");
/// builder.push(Event::new(alice, song, 2_000).with_ms_played(31_000))?;
/// builder.push(Event::new(alice, song, 1_000))?; // out of order: sorted
/// builder.push(Event::new(alice, song, 1_000))?; // exact duplicate: removed
/// let (log, normalization) = builder.finish(true);
/// assert_eq!(log.len(), 2);
/// assert_eq!(log.timestamps_ms(), [1_000, 2_000]);
/// assert_eq!(normalization.duplicates_removed, 1);
/// assert_eq!(normalization.users_reordered, 1);
/// # Ok::<(), seqrec_events::DataError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct EventLogBuilder {
    users: UserVocabulary,
    items: ItemVocabulary,
    user: Vec<u32>,
    columns: Columns,
}

impl EventLogBuilder {
    /// A builder whose vocabularies start with the given ids (e.g. a whole catalogue).
    pub fn with_vocabularies(users: UserVocabulary, items: ItemVocabulary) -> Self {
        Self {
            users,
            items,
            ..Self::default()
        }
    }

    /// Reserves room for `additional` more events.
    pub fn reserve(&mut self, additional: usize) {
        self.user.reserve(additional);
        self.columns.reserve(additional);
    }

    /// The dense id of user `name`, adding it if new.
    pub fn user_id(&mut self, name: &str) -> u32 {
        self.users.insert(name)
    }

    /// The dense id of track `name`, adding it if new.
    pub fn item_id(&mut self, name: &str) -> u32 {
        self.items.insert(name)
    }

    /// Number of events pushed so far.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether no event was pushed.
    pub fn is_empty(&self) -> bool {
        self.columns.len() == 0
    }

    /// Adds an event whose ids come from [`EventLogBuilder::user_id`] and
    /// [`EventLogBuilder::item_id`].
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidDataset`] if an id is not in the builder's vocabularies or a
    /// play time or length is `u32::MAX` (reserved for "unknown").
    pub fn push(&mut self, event: Event) -> Result<(), DataError> {
        if event.user == 0 || event.user as usize > self.users.len() {
            return Err(DataError::InvalidDataset {
                reason: format!(
                    "event user id {} is not in 1..={}",
                    event.user,
                    self.users.len()
                ),
            });
        }
        if event.item == 0 || event.item as usize > self.items.len() {
            return Err(DataError::InvalidDataset {
                reason: format!(
                    "event item id {} is not in 1..={}",
                    event.item,
                    self.items.len()
                ),
            });
        }
        if event.ms_played == Some(UNKNOWN) || event.track_length_ms == Some(UNKNOWN) {
            return Err(DataError::InvalidDataset {
                reason: format!("play time or track length above {MAX_MS} ms"),
            });
        }
        self.user.push(event.user);
        self.columns.push(&event);
        Ok(())
    }

    /// Sorts the events by user and time (counting the users whose input was out of order)
    /// and, with `dedup`, removes exact duplicates. Works in place: input already grouped by
    /// user (in order of first appearance) and in time order is not copied; otherwise the
    /// events are grouped with one index per event and sorted user by user.
    pub fn finish(self, dedup: bool) -> (EventLog, Normalization) {
        let Self {
            users,
            items,
            user,
            mut columns,
        } = self;
        let mut normalization = Normalization::default();
        let n = columns.len();

        // Group by user: a stable counting sort, applied to each column in place.
        let mut offsets = offsets_of(&user, users.len());
        if !user.windows(2).all(|w| w[0] <= w[1]) {
            if u32::try_from(n).is_ok() {
                let order: Vec<u32> = grouping_order(&user, &offsets);
                drop(user);
                columns.permute(0..n, &order);
            } else {
                let order: Vec<usize> = grouping_order(&user, &offsets);
                drop(user);
                columns.permute(0..n, &order);
            }
        } else {
            drop(user);
        }
        // Within each user: time order (sorted when needed).
        for u in 1..offsets.len() {
            let range = offsets[u - 1]..offsets[u];
            let times = &columns.timestamp_ms[range.clone()];
            if !times.windows(2).all(|w| w[0] <= w[1]) {
                normalization.users_reordered += 1;
            }
            if !range
                .clone()
                .skip(1)
                .all(|i| columns.order(&items, i - 1, i).is_le())
            {
                columns.sort_range(&items, range);
            }
        }
        if dedup {
            // An event equal to the one before it (same user, same fields) is a duplicate.
            let mut keep = Bits::new(n);
            let mut kept = vec![0_usize; offsets.len()];
            for u in 1..offsets.len() {
                let range = offsets[u - 1]..offsets[u];
                kept[u] = kept[u - 1];
                for i in range.clone() {
                    if i == range.start || columns.key(i) != columns.key(i - 1) {
                        keep.set(i);
                        kept[u] += 1;
                    }
                }
            }
            let total = kept[kept.len() - 1];
            if total != n {
                normalization.duplicates_removed = (n - total) as u64;
                columns.compact(&keep);
                offsets = kept;
            }
        }
        columns.seal();
        (
            EventLog {
                users,
                items,
                columns,
                offsets,
            },
            normalization,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(events: &[(&str, &str, i64, Option<u32>)], dedup: bool) -> (EventLog, Normalization) {
        let mut b = EventLogBuilder::default();
        for &(u, i, t, ms) in events {
            let user = b.user_id(u);
            let item = b.item_id(i);
            let mut e = Event::new(user, item, t);
            e.ms_played = ms;
            b.push(e).unwrap();
        }
        b.finish(dedup)
    }

    #[test]
    fn events_are_grouped_by_user_and_sorted_by_time() {
        let (log, norm) = build(
            &[
                ("b", "x", 5, None),
                ("a", "y", 9, Some(1)),
                ("b", "y", 3, None),
                ("a", "x", 1, None),
            ],
            true,
        );
        let rows: Vec<(u32, u32, i64)> = log
            .iter()
            .map(|e| (e.user, e.item, e.timestamp_ms))
            .collect();
        // Users: b = 1, a = 2; items: x = 1, y = 2.
        assert_eq!(rows, vec![(1, 2, 3), (1, 1, 5), (2, 1, 1), (2, 2, 9)]);
        assert_eq!(norm.users_reordered, 2);
        assert_eq!(norm.duplicates_removed, 0);
        assert_eq!(log.user_range(2), 2..4);
        assert_eq!(log.user_range(0), 0..0);
        assert_eq!(log.user_range(3), 0..0);
        assert_eq!(log.sequences(), vec![vec![2, 1], vec![1, 2]]);
        assert_eq!(log.time_range(), Some((1, 9)));
        assert_eq!(log.get(3).unwrap().ms_played, Some(1));
        assert!(log.get(4).is_none());
    }

    /// Found by `csv_write_read_write_is_the_identity` (tests/properties.rs): plays of the
    /// same millisecond were ordered by dense item id, i.e. by where the input first named
    /// each track, so a log written and read back could come out in another order.
    #[test]
    fn plays_of_the_same_millisecond_are_ordered_by_track_id_not_input_order() {
        // "a" is named first (dense id 1) but "0" sorts first.
        let (log, _) = build(
            &[
                ("u", "a", 0, None),
                ("u", "0", -1, None),
                ("u", "0", 0, None),
            ],
            true,
        );
        let names: Vec<(&str, i64)> = log
            .iter()
            .map(|e| (log.items().name(e.item).unwrap(), e.timestamp_ms))
            .collect();
        assert_eq!(names, [("0", -1), ("0", 0), ("a", 0)]);
        // The same plays in the written order give the same log order.
        let (again, _) = build(
            &[
                ("u", "0", -1, None),
                ("u", "0", 0, None),
                ("u", "a", 0, None),
            ],
            true,
        );
        let names_again: Vec<(&str, i64)> = again
            .iter()
            .map(|e| (again.items().name(e.item).unwrap(), e.timestamp_ms))
            .collect();
        assert_eq!(names_again, names);
    }

    #[test]
    fn only_exact_duplicates_are_removed() {
        let events = [
            ("a", "x", 1, Some(10)),
            ("a", "x", 1, Some(10)),
            ("a", "x", 1, Some(11)), // differs in play time: kept
            ("a", "y", 1, Some(10)), // differs in item: kept
            ("a", "x", 1, Some(10)),
        ];
        let (log, norm) = build(&events, true);
        assert_eq!(log.len(), 3);
        assert_eq!(norm.duplicates_removed, 2);
        assert_eq!(norm.users_reordered, 0);
        let (log, norm) = build(&events, false);
        assert_eq!(log.len(), 5);
        assert_eq!(norm.duplicates_removed, 0);
    }

    #[test]
    fn optional_fields_round_trip_through_columns() {
        let mut b = EventLogBuilder::default();
        let (u, i) = (b.user_id("u"), b.item_id("i"));
        let event = Event {
            user: u,
            item: i,
            timestamp_ms: -5,
            ms_played: Some(0),
            track_length_ms: Some(MAX_MS),
            skipped: Some(false),
            inferred: true,
        };
        b.push(event).unwrap();
        let mut skipped = Event::new(u, i, 7);
        skipped.skipped = Some(true);
        b.push(skipped).unwrap();
        let (log, _) = b.finish(true);
        assert_eq!(log.get(0), Some(event));
        assert_eq!(log.get(1), Some(skipped));
    }

    #[test]
    fn push_rejects_foreign_ids_and_reserved_values() {
        let mut b = EventLogBuilder::default();
        let u = b.user_id("u");
        let i = b.item_id("i");
        assert!(b.push(Event::new(u + 1, i, 0)).is_err());
        assert!(b.push(Event::new(u, 0, 0)).is_err());
        assert!(
            b.push(Event::new(u, i, 0).with_ms_played(u32::MAX))
                .is_err()
        );
        assert!(b.is_empty());
    }

    #[test]
    fn filter_removes_rare_tracks_then_light_users_and_compacts_ids() {
        let (log, _) = build(
            &[
                ("a", "x", 1, None),
                ("a", "y", 2, None),
                ("b", "x", 1, None),
                ("b", "x", 2, None),
                ("c", "z", 1, None),
                ("c", "x", 2, None),
            ],
            true,
        );
        let (filtered, report) = log.filter_min_plays(2, 2);
        // y and z have one play each; then a and c have one play left.
        assert_eq!(report.tracks_removed, 2);
        assert_eq!(report.users_removed, 2);
        assert_eq!(report.events_removed, 4);
        assert_eq!(filtered.users().names(), ["b"]);
        assert_eq!(filtered.items().names(), ["x"]);
        assert_eq!(filtered.sequences(), vec![vec![1, 1]]);
        let (same, report) = log.filter_min_plays(1, 1);
        assert_eq!(same, log);
        assert_eq!(report, FilterReport::default());
    }

    /// A reference normalisation: users in order of first appearance, each user's events
    /// sorted by (time, track name, the other fields), exact duplicates removed.
    fn reference(events: &[(u32, Event)], names: &Vocabulary, dedup: bool) -> Vec<Event> {
        let mut sorted: Vec<Event> = events.iter().map(|&(_, e)| e).collect();
        sorted.sort_by(|a, b| {
            let key = |e: &Event| {
                (
                    e.timestamp_ms,
                    e.item,
                    e.ms_played.unwrap_or(UNKNOWN),
                    e.track_length_ms.unwrap_or(UNKNOWN),
                    e.flags(),
                )
            };
            a.user
                .cmp(&b.user)
                .then(a.timestamp_ms.cmp(&b.timestamp_ms))
                .then_with(|| names.name(a.item).cmp(&names.name(b.item)))
                .then_with(|| key(a).cmp(&key(b)))
        });
        if dedup {
            sorted.dedup();
        }
        sorted
    }

    /// Interleaved, out-of-order input with duplicates, sparse optional fields and tracks
    /// whose plays agree or disagree on the length: grouping, sorting and deduplicating in
    /// place give the reference order, and every field comes back.
    #[test]
    fn in_place_normalisation_matches_a_reference_sort() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for round in 0..200 {
            let mut b = EventLogBuilder::default();
            let n = next(60) as usize;
            let mut pushed = Vec::new();
            for _ in 0..n {
                let user = b.user_id(&format!("u{}", next(5)));
                let item = b.item_id(&format!("t{}", next(7)));
                let mut e = Event::new(user, item, next(10) as i64);
                if round % 3 != 0 && next(2) == 0 {
                    e.ms_played = Some(next(4) as u32);
                }
                // Lengths: a function of the track in even rounds, sometimes not in odd ones.
                if round % 2 == 0 || next(4) != 0 {
                    e.track_length_ms = Some(item * 1000);
                } else if next(2) == 0 {
                    e.track_length_ms = Some(next(3) as u32);
                }
                if round % 5 != 0 && next(3) == 0 {
                    e.skipped = Some(next(2) == 0);
                }
                // Some exact duplicates.
                let copies = if next(6) == 0 { 2 } else { 1 };
                for _ in 0..copies {
                    b.push(e).unwrap();
                    pushed.push((e.user, e));
                }
            }
            let names = b.items.clone();
            for dedup in [true, false] {
                let (log, norm) = b.clone().finish(dedup);
                let got: Vec<Event> = log.iter().collect();
                let want = reference(&pushed, &names, dedup);
                assert_eq!(got, want, "round {round}, dedup {dedup}");
                assert_eq!(
                    log.len() as u64 + norm.duplicates_removed,
                    pushed.len() as u64
                );
                for (i, e) in want.iter().enumerate() {
                    assert_eq!(log.get(i), Some(*e));
                    assert!(log.user_range(e.user).contains(&i));
                }
                assert!(log.column_bytes_per_event() <= BYTES_PER_EVENT);
                assert_eq!(
                    log.user_ids().collect::<Vec<_>>(),
                    want.iter().map(|e| e.user).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn permute_follows_cycles_in_place() {
        let mut column = vec!['a', 'b', 'c', 'd', 'e'];
        let order: Vec<u32> = vec![2, 0, 1, 4, 3];
        permute(&mut column, &order, &mut Bits::new(5));
        assert_eq!(column, ['c', 'a', 'b', 'e', 'd']);
        let mut column = vec![1, 2, 3];
        permute(&mut column, &[0_usize, 1, 2], &mut Bits::new(3));
        assert_eq!(column, [1, 2, 3]);
    }

    /// Columns take memory only for what the events say: no play times, flags or lengths
    /// for a file without them, lengths once per track while plays agree.
    #[test]
    fn optional_columns_are_stored_only_when_the_events_have_them() {
        let with = |f: &dyn Fn(&mut Event, usize)| {
            let mut b = EventLogBuilder::default();
            let u = b.user_id("u");
            let (x, y) = (b.item_id("x"), b.item_id("y"));
            for t in 0..6 {
                let mut e = Event::new(u, if t % 2 == 0 { x } else { y }, t as i64);
                f(&mut e, t);
                b.push(e).unwrap();
            }
            b.finish(true).0
        };
        let bare = with(&|_, _| {});
        assert_eq!(bare.column_bytes_per_event(), 12);
        assert!(
            bare.heap_bytes()
                < 6 * 13 + 8 * 2 + bare.users().heap_bytes() + bare.items().heap_bytes()
        );
        assert!(
            bare.iter()
                .all(|e| e == Event::new(1, e.item, e.timestamp_ms))
        );

        let played = with(&|e, t| e.ms_played = (t == 4).then_some(7));
        assert_eq!(played.column_bytes_per_event(), 16);
        assert_eq!(played.get(4).unwrap().ms_played, Some(7));
        assert_eq!(played.get(3).unwrap().ms_played, None);

        let flagged = with(&|e, t| e.skipped = (t == 5).then_some(false));
        assert_eq!(flagged.column_bytes_per_event(), 13);
        assert_eq!(flagged.get(5).unwrap().skipped, Some(false));
        assert_eq!(flagged.get(0).unwrap().skipped, None);

        // One length per track (x: 100, y: unknown), first known after an unknown play.
        let per_track = with(&|e, t| e.track_length_ms = (e.item == 1 && t > 0).then_some(100));
        // x's first play (t = 0) had no length, so x's plays disagree: per event.
        assert_eq!(per_track.column_bytes_per_event(), 16);
        let consistent = with(&|e, _| e.track_length_ms = (e.item == 1).then_some(100));
        assert_eq!(consistent.column_bytes_per_event(), 12);
        let lengths: Vec<Option<u32>> = consistent.iter().map(|e| e.track_length_ms).collect();
        assert_eq!(lengths, [Some(100), None, Some(100), None, Some(100), None]);
        let late = with(&|e, t| e.track_length_ms = (e.item == 2 && t > 2).then_some(5));
        // y's plays at t = 1 (unknown) and t = 3, 5 (5) disagree.
        assert_eq!(late.column_bytes_per_event(), 16);
        assert_eq!(late.get(1).unwrap().track_length_ms, None);
        assert_eq!(late.get(3).unwrap().track_length_ms, Some(5));
    }

    /// Logs are equal by their events, however the lengths are stored; compacting keeps
    /// the per-track lengths with the renumbered tracks.
    #[test]
    fn equality_and_compaction_keep_per_track_lengths() {
        let mut b = EventLogBuilder::default();
        let u = b.user_id("u");
        let (x, y, z) = (b.item_id("x"), b.item_id("y"), b.item_id("z"));
        for (t, item, length) in [(0, x, 10), (1, y, 20), (2, z, 30), (3, y, 20)] {
            let mut e = Event::new(u, item, t);
            e.track_length_ms = Some(length);
            b.push(e).unwrap();
        }
        let (log, _) = b.finish(true);
        assert_eq!(log.column_bytes_per_event(), 12);
        let kept = log.retain(|e| e.item != x);
        assert_eq!(kept.items().names(), ["y", "z"]);
        let lengths: Vec<(u32, Option<u32>)> =
            kept.iter().map(|e| (e.item, e.track_length_ms)).collect();
        assert_eq!(lengths, [(1, Some(20)), (2, Some(30)), (1, Some(20))]);
        // The same events with per-event lengths compare equal.
        let mut columns = log.columns.clone();
        let per_event: Vec<u32> = (0..log.len())
            .map(|i| columns.track_length_ms.get(i, columns.item[i]))
            .collect();
        columns.track_length_ms = Lengths::PerEvent(per_event);
        let other = EventLog {
            columns,
            ..log.clone()
        };
        assert_eq!(other.column_bytes_per_event(), 16);
        assert_eq!(other, log);
        assert_ne!(kept, log);
    }

    #[test]
    fn gaps_become_inferred_play_times() {
        let (mut log, _) = build(
            &[
                ("a", "x", 0, None),
                ("a", "y", 1_000, None),
                ("a", "x", 900_000, None),
                ("b", "x", 5, None),
            ],
            true,
        );
        log.infer_play_times_from_gaps(300_000);
        let played: Vec<Option<u32>> = log.iter().map(|e| e.ms_played).collect();
        assert_eq!(
            played,
            vec![Some(1_000), Some(300_000), Some(300_000), Some(300_000)]
        );
        assert!(log.iter().all(|e| e.inferred));
    }
}
