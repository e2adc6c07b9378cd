//! Per-user leave-one-out split of an event log: test = each user's last item, validation
//! = the second-last item of a seeded sample of users, train = the rest (the sequences are
//! split by [`seqrec_data::leave_one_out()`], which the synthetic generator uses too).

use seqrec_data::{
    DataError, ItemVocabulary, SequenceDataset, UserVocabulary, Vocabulary, leave_one_out,
};

use crate::log::EventLog;

/// Options of [`split_leave_one_out`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveOneOutOptions {
    /// Tracks with fewer (kept) plays are left out. Default 1 (keep all).
    pub min_track_plays: u64,
    /// Users with fewer items are left out; at least 3 (one each for train, validation and
    /// test) is always required. Default 3.
    pub min_user_plays: usize,
    /// When set, plays shorter than this many milliseconds are left out (plays of unknown
    /// length are kept). Default `None`.
    pub min_ms_played: Option<u32>,
    /// Users with a validation item. Default 512.
    pub validation_users: usize,
    /// Seed for choosing them. Default 42.
    pub seed: u64,
}

impl Default for LeaveOneOutOptions {
    fn default() -> Self {
        Self {
            min_track_plays: 1,
            min_user_plays: 3,
            min_ms_played: None,
            validation_users: 512,
            seed: seqrec_data::DEFAULT_SEED,
        }
    }
}

/// The result of [`split_leave_one_out`].
#[derive(Debug, Clone, PartialEq)]
pub struct LeaveOneOutSplit {
    /// Train, validation and test splits; row `u − 1` is user `u` of `users`.
    pub dataset: SequenceDataset,
    /// The model's items, ids `1..=dataset.num_items`.
    pub items: ItemVocabulary,
    /// The kept users, in row order.
    pub users: UserVocabulary,
    /// Users left out (too few items).
    pub users_dropped: usize,
    /// Events left out (short plays, rare tracks, dropped users).
    pub events_dropped: usize,
}

/// Splits `log` leave-one-out per user.
///
/// # Errors
///
/// [`DataError::NoEvents`] if no user keeps at least 3 items.
///
/// ```
/// use seqrec_events::{Event, EventLogBuilder, LeaveOneOutOptions, split_leave_one_out};
///
/// let mut b = EventLogBuilder::default();
/// let u = b.user_id("ann");
/// for (t, name) in ["a", "b", "c", "d"].iter().enumerate() {
///     let item = b.item_id(name);
///     b.push(Event::new(u, item, t as i64))?;
/// }
/// let (log, _) = b.finish(true);
/// let split = split_leave_one_out(&log, &LeaveOneOutOptions::default())?;
/// assert_eq!(split.dataset.train, vec![vec![1, 2]]);
/// assert_eq!(split.dataset.test.as_ref().unwrap().targets, vec![4]);
/// assert_eq!(split.dataset.val.as_ref().unwrap().targets, vec![3]);
/// # Ok::<(), seqrec_events::DataError>(())
/// ```
pub fn split_leave_one_out(
    log: &EventLog,
    options: &LeaveOneOutOptions,
) -> Result<LeaveOneOutSplit, DataError> {
    let kept = |ms: Option<u32>| match (options.min_ms_played, ms) {
        (Some(min), Some(ms)) => ms >= min,
        _ => true,
    };
    let mut plays = vec![0_u64; log.items().len() + 1];
    for e in log.iter().filter(|e| kept(e.ms_played)) {
        plays[e.item as usize] += 1;
    }
    let min_track = options.min_track_plays.max(1);
    let min_user = options.min_user_plays.max(3);
    let mut rows = Vec::new();
    for u in 1..=log.users().len() as u32 {
        let sequence: Vec<u32> = log
            .user_events(u)
            .filter(|e| kept(e.ms_played) && plays[e.item as usize] >= min_track)
            .map(|e| e.item)
            .collect();
        if sequence.len() >= min_user {
            rows.push((u, sequence));
        }
    }
    if rows.is_empty() {
        return Err(DataError::NoEvents {
            reason: format!("no user has {min_user} or more items for a leave-one-out split"),
        });
    }
    // Dense item ids over the kept sequences, in the log's id order.
    let mut item_map = vec![0_u32; log.items().len() + 1];
    for (_, sequence) in &rows {
        for &item in sequence {
            item_map[item as usize] = 1;
        }
    }
    let mut names = Vec::new();
    for (old, name) in log.items().names().iter().enumerate() {
        if item_map[old + 1] != 0 {
            names.push(name.clone());
            item_map[old + 1] = names.len() as u32;
        }
    }
    let users: Vocabulary = rows
        .iter()
        .map(|(u, _)| log.users().names()[*u as usize - 1].clone())
        .collect();
    let users_with_events = (1..=log.users().len() as u32)
        .filter(|&u| !log.user_range(u).is_empty())
        .count();
    let sequences: Vec<Vec<u32>> = rows
        .into_iter()
        .map(|(_, s)| s.into_iter().map(|i| item_map[i as usize]).collect())
        .collect();
    let kept_events: usize = sequences.iter().map(Vec::len).sum();
    let dataset = leave_one_out(
        sequences,
        names.len() as u32,
        options.validation_users,
        options.seed,
    )?;
    Ok(LeaveOneOutSplit {
        dataset,
        items: Vocabulary::from(names),
        users_dropped: users_with_events - users.len(),
        users,
        events_dropped: log.len() - kept_events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, EventFormat, EventLogBuilder, ReadOptions, read_events};
    use seqrec_data::Split;

    #[test]
    fn short_users_rare_tracks_and_short_plays_are_dropped_and_counted() {
        let mut b = EventLogBuilder::default();
        let (a, c) = (b.user_id("a"), b.user_id("c"));
        let (x, y, z) = (b.item_id("x"), b.item_id("y"), b.item_id("z"));
        for (t, item, ms) in [
            (0, x, 60_000),
            (1, y, 60_000),
            (2, x, 1_000),
            (3, x, 60_000),
            (4, y, 60_000),
            (5, z, 60_000),
        ] {
            b.push(Event::new(a, item, t).with_ms_played(ms)).unwrap();
        }
        b.push(Event::new(c, x, 0)).unwrap(); // one play: dropped
        let (log, _) = b.finish(true);
        let options = LeaveOneOutOptions {
            min_track_plays: 2,
            min_ms_played: Some(30_000),
            validation_users: 0,
            ..Default::default()
        };
        let split = split_leave_one_out(&log, &options).unwrap();
        assert_eq!(split.items.names(), ["x", "y"]);
        assert_eq!(split.users.names(), ["a"]);
        assert_eq!(split.users_dropped, 1);
        assert_eq!(split.events_dropped, 3);
        assert_eq!(split.dataset.train, vec![vec![1, 2, 1]]);
        assert_eq!(
            split.dataset.history_targets(Split::Test).unwrap().targets,
            vec![2]
        );
        assert!(
            split
                .dataset
                .history_targets(Split::Val)
                .unwrap()
                .is_empty()
        );
        let none = LeaveOneOutOptions {
            min_user_plays: 10,
            ..Default::default()
        };
        assert!(matches!(
            split_leave_one_out(&log, &none),
            Err(DataError::NoEvents { .. })
        ));
    }

    /// ml1m-loo read as events and split again reproduces the shared test split.
    #[test]
    fn reproduces_the_shared_ml1m_loo_test_split() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ml1m-loo");
        if !dir.is_dir() {
            eprintln!("note: {} is absent; skipping", dir.display());
            return;
        }
        let (log, _) = read_events(&dir, EventFormat::Sequences, &ReadOptions::default()).unwrap();
        let split = split_leave_one_out(&log, &LeaveOneOutOptions::default()).unwrap();
        let shared = SequenceDataset::load_dir(&dir).unwrap();
        assert_eq!(split.dataset.num_users(), shared.num_users());
        assert_eq!(split.dataset.num_items, shared.num_items);
        assert_eq!(split.items, ItemVocabulary::identity(shared.num_items));
        assert_eq!(split.dataset.test, shared.test);
        assert_eq!(split.dataset.val.as_ref().unwrap().len(), 512);
    }
}
