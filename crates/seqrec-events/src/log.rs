//! [`EventLog`]: listening events held as columns of dense ids, and [`EventLogBuilder`],
//! which interns string ids and normalises the order.

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

/// Bytes of column storage per event: user (4), item (4), timestamp (8), ms played (4),
/// track length (4) and flags (1). Vocabularies come on top, once per distinct id.
pub const BYTES_PER_EVENT: usize = 25;

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
}

/// The columns of a log, one entry per event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Columns {
    user: Vec<u32>,
    item: Vec<u32>,
    timestamp_ms: Vec<i64>,
    ms_played: Vec<u32>,
    track_length_ms: Vec<u32>,
    flags: Vec<u8>,
}

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Self {
            user: Vec::with_capacity(n),
            item: Vec::with_capacity(n),
            timestamp_ms: Vec::with_capacity(n),
            ms_played: Vec::with_capacity(n),
            track_length_ms: Vec::with_capacity(n),
            flags: Vec::with_capacity(n),
        }
    }

    fn len(&self) -> usize {
        self.user.len()
    }

    fn shrink_to_fit(&mut self) {
        self.user.shrink_to_fit();
        self.item.shrink_to_fit();
        self.timestamp_ms.shrink_to_fit();
        self.ms_played.shrink_to_fit();
        self.track_length_ms.shrink_to_fit();
        self.flags.shrink_to_fit();
    }

    fn push(&mut self, event: &Event) {
        self.user.push(event.user);
        self.item.push(event.item);
        self.timestamp_ms.push(event.timestamp_ms);
        self.ms_played.push(event.ms_played.unwrap_or(UNKNOWN));
        self.track_length_ms
            .push(event.track_length_ms.unwrap_or(UNKNOWN));
        let mut flags = 0;
        if let Some(skipped) = event.skipped {
            flags |= SKIP_KNOWN | if skipped { SKIPPED } else { 0 };
        }
        if event.inferred {
            flags |= INFERRED;
        }
        self.flags.push(flags);
    }

    fn get(&self, i: usize) -> Event {
        let known = |v: u32| (v != UNKNOWN).then_some(v);
        let flags = self.flags[i];
        Event {
            user: self.user[i],
            item: self.item[i],
            timestamp_ms: self.timestamp_ms[i],
            ms_played: known(self.ms_played[i]),
            track_length_ms: known(self.track_length_ms[i]),
            skipped: (flags & SKIP_KNOWN != 0).then_some(flags & SKIPPED != 0),
            inferred: flags & INFERRED != 0,
        }
    }

    /// The within-user order key: time first, then the other fields so that exact
    /// duplicates end up next to each other.
    fn key(&self, i: usize) -> (i64, u32, u32, u32, u8) {
        (
            self.timestamp_ms[i],
            self.item[i],
            self.ms_played[i],
            self.track_length_ms[i],
            self.flags[i],
        )
    }

    fn same(&self, a: usize, b: usize) -> bool {
        self.user[a] == self.user[b] && self.key(a) == self.key(b)
    }

    /// The within-user order: time, then the track's own id (`items` names the dense ids),
    /// then the other fields. Ties are not broken by the dense item id, which depends on
    /// the order in which the input first named the tracks: otherwise writing a log and
    /// reading it back could reorder plays of the same millisecond (found by
    /// `csv_write_read_write_is_the_identity`, tests/properties.rs).
    fn order(&self, items: &Vocabulary, a: usize, b: usize) -> std::cmp::Ordering {
        let name = |i: usize| items.name(self.item[i]).unwrap_or_default();
        self.timestamp_ms[a]
            .cmp(&self.timestamp_ms[b])
            .then_with(|| name(a).cmp(name(b)))
            .then_with(|| self.key(a).cmp(&self.key(b)))
    }

    fn gather(&self, order: &[usize]) -> Self {
        fn pick<T: Copy>(column: &[T], order: &[usize]) -> Vec<T> {
            order.iter().map(|&i| column[i]).collect()
        }
        Self {
            user: pick(&self.user, order),
            item: pick(&self.item, order),
            timestamp_ms: pick(&self.timestamp_ms, order),
            ms_played: pick(&self.ms_played, order),
            track_length_ms: pick(&self.track_length_ms, order),
            flags: pick(&self.flags, order),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.user.capacity() * 4
            + self.item.capacity() * 4
            + self.timestamp_ms.capacity() * 8
            + self.ms_played.capacity() * 4
            + self.track_length_ms.capacity() * 4
            + self.flags.capacity()
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

/// Listening events, held as columns: dense user and item ids (`u32`), timestamps (`i64`
/// milliseconds, UTC), play times and track lengths (`u32` milliseconds) and a flags byte,
/// [`BYTES_PER_EVENT`] bytes per event plus the two vocabularies.
///
/// Invariants: the events are grouped by user id in ascending order and, within a user,
/// ordered by time (ties broken by the track's own id, then the other fields, so that the
/// order depends on the events only, not on the order of the input);
/// every user and item id lies in its vocabulary. Users of the vocabulary may have no
/// events. Build a log with [`EventLogBuilder`].
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// Event `i` (in the log's order), if in range.
    pub fn get(&self, i: usize) -> Option<Event> {
        (i < self.len()).then(|| self.columns.get(i))
    }

    /// All events, grouped by user, in time order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Event> + '_ {
        (0..self.len()).map(|i| self.columns.get(i))
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
        self.user_range(user).map(|i| self.columns.get(i))
    }

    /// The user column (dense ids), in the log's order.
    pub fn user_ids(&self) -> &[u32] {
        &self.columns.user
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
        let order: Vec<usize> = (0..self.len())
            .filter(|&i| keep(&self.columns.get(i)))
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
        let mut user_counts = vec![0_u64; self.users.len() + 1];
        for (&u, &i) in self.columns.user.iter().zip(&self.columns.item) {
            if keep_item(i) {
                user_counts[u as usize] += 1;
            }
        }
        let users_removed = user_counts[1..]
            .iter()
            .filter(|&&c| c > 0 && c < min_user_plays)
            .count();
        let order: Vec<usize> = (0..self.len())
            .filter(|&i| {
                keep_item(self.columns.item[i])
                    && user_counts[self.columns.user[i] as usize] >= min_user_plays
            })
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
        let users = remap(&mut columns.user, &self.users);
        let items = remap(&mut columns.item, &self.items);
        let offsets = offsets_of(&columns.user, users.len());
        EventLog {
            users,
            items,
            columns,
            offsets,
        }
    }

    /// Replaces every play time by the gap to the same user's next event, capped at
    /// `cap_ms` (the cap for a user's last event), and marks them inferred.
    pub(crate) fn infer_play_times_from_gaps(&mut self, cap_ms: u32) {
        for u in 1..self.offsets.len() {
            let range = self.offsets[u - 1]..self.offsets[u];
            for i in range.clone() {
                let gap = if i + 1 < range.end {
                    self.columns.timestamp_ms[i + 1].saturating_sub(self.columns.timestamp_ms[i])
                } else {
                    i64::from(cap_ms)
                };
                self.columns.ms_played[i] = gap.clamp(0, i64::from(cap_ms)) as u32;
                self.columns.flags[i] |= INFERRED;
            }
        }
    }
}

/// Renumbers `ids` densely in order of the old ids and returns the matching vocabulary.
fn remap(ids: &mut [u32], vocab: &Vocabulary) -> Vocabulary {
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
    Vocabulary::from(names)
}

/// Start offsets of each user's events in a user column sorted ascending.
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

/// Collects events, interning string ids into dense ids, and produces a normalised
/// [`EventLog`].
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
    columns: Columns,
}

impl EventLogBuilder {
    /// A builder whose vocabularies start with the given ids (e.g. a whole catalogue).
    pub fn with_vocabularies(users: UserVocabulary, items: ItemVocabulary) -> Self {
        Self {
            users,
            items,
            columns: Columns::default(),
        }
    }

    /// Reserves room for `additional` more events.
    pub fn reserve(&mut self, additional: usize) {
        let c = &mut self.columns;
        if c.len() == 0 {
            *c = Columns::with_capacity(additional);
        } else {
            c.user.reserve(additional);
            c.item.reserve(additional);
            c.timestamp_ms.reserve(additional);
            c.ms_played.reserve(additional);
            c.track_length_ms.reserve(additional);
            c.flags.reserve(additional);
        }
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
        self.columns.push(&event);
        Ok(())
    }

    /// Sorts the events by user and time (counting the users whose input was out of order)
    /// and, with `dedup`, removes exact duplicates.
    pub fn finish(self, dedup: bool) -> (EventLog, Normalization) {
        let Self {
            users,
            items,
            columns,
        } = self;
        let n = columns.len();
        let mut normalization = Normalization::default();

        // Counting sort by user, stable.
        let offsets = offsets_of(&columns.user, users.len());
        let grouped = columns.user.windows(2).all(|w| w[0] <= w[1]);
        let mut order: Vec<usize> = if grouped {
            (0..n).collect()
        } else {
            let mut next = offsets.clone();
            let mut order = vec![0_usize; n];
            for (i, &u) in columns.user.iter().enumerate() {
                let slot = &mut next[u as usize - 1];
                order[*slot] = i;
                *slot += 1;
            }
            order
        };
        // Within each user: time order (sorted when needed).
        let mut permuted = !grouped;
        for u in 1..offsets.len() {
            let segment = &mut order[offsets[u - 1]..offsets[u]];
            let in_time = segment
                .windows(2)
                .all(|w| columns.timestamp_ms[w[0]] <= columns.timestamp_ms[w[1]]);
            if !in_time {
                normalization.users_reordered += 1;
            }
            if !segment
                .windows(2)
                .all(|w| columns.order(&items, w[0], w[1]).is_le())
            {
                segment.sort_by(|&a, &b| columns.order(&items, a, b));
                permuted = true;
            }
        }
        if dedup {
            let before = order.len();
            order.dedup_by(|b, a| columns.same(*a, *b));
            if order.len() != before {
                normalization.duplicates_removed = (before - order.len()) as u64;
                permuted = true;
            }
        }
        let mut columns = if permuted {
            columns.gather(&order)
        } else {
            columns
        };
        columns.shrink_to_fit();
        let offsets = offsets_of(&columns.user, users.len());
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
