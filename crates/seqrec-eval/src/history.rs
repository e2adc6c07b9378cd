//! What the evaluator needs to know about the history window (the plays a
//! model was given, before the held-out window): each user's number of plays,
//! which assigns the cohort, and — only to exclude them from recommendations —
//! the tracks played.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::Play;

/// Whether tracks from a user's history window may be recommended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryPolicy {
    /// History tracks may be recommended and count as hits (music is
    /// re-listened). The default.
    #[default]
    Allow,
    /// History tracks are removed from every ranked list before scoring, and
    /// from the user's profile (relevant set and graded gains), so that a model
    /// is neither rewarded nor penalised for them.
    Exclude,
}

/// Per-user history summary: number of plays and, optionally, the set of
/// tracks played.
///
/// ```
/// use seqrec_eval::{History, Play};
///
/// let h = History::from_plays([Play::new(1, 5, 0), Play::new(1, 5, 9), Play::new(2, 7, 0)], true);
/// assert_eq!(h.len_of(1), 2);
/// assert_eq!(h.len_of(3), 0);
/// assert!(h.items_of(1).unwrap().contains(&5));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    lengths: HashMap<u32, u64>,
    items: HashMap<u32, HashSet<u32>>,
}

impl History {
    /// An empty history (every user has length 0 and no items).
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts every user's plays (every play counts, whatever its duration);
    /// with `keep_items` also records the set of tracks (needed only for
    /// [`HistoryPolicy::Exclude`]).
    pub fn from_plays(plays: impl IntoIterator<Item = Play>, keep_items: bool) -> Self {
        let mut h = Self::new();
        for p in plays {
            *h.lengths.entry(p.user).or_insert(0) += 1;
            if keep_items {
                h.items.entry(p.user).or_default().insert(p.item);
            }
        }
        h
    }

    /// Builds a history from precomputed `(user, number of plays)` pairs; a
    /// repeated user adds up.
    pub fn from_lengths(lengths: impl IntoIterator<Item = (u32, u64)>) -> Self {
        let mut h = Self::new();
        for (user, len) in lengths {
            *h.lengths.entry(user).or_insert(0) += len;
        }
        h
    }

    /// Adds `items` to the history tracks of `user` (its length is unchanged).
    pub fn add_items(&mut self, user: u32, items: impl IntoIterator<Item = u32>) {
        self.items.entry(user).or_default().extend(items);
    }

    /// Number of history plays of `user` (0 if unknown).
    pub fn len_of(&self, user: u32) -> u64 {
        self.lengths.get(&user).copied().unwrap_or(0)
    }

    /// History tracks of `user`, if recorded.
    pub fn items_of(&self, user: u32) -> Option<&HashSet<u32>> {
        self.items.get(&user)
    }

    /// Number of users with a recorded length.
    pub fn users(&self) -> usize {
        self.lengths.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_items() {
        let plays = [Play::new(1, 5, 0), Play::new(1, 6, 0), Play::new(1, 5, 0)];
        let h = History::from_plays(plays, false);
        assert_eq!(h.len_of(1), 3);
        assert!(h.items_of(1).is_none());
        let mut h = History::from_lengths([(1, 10), (2, 5), (1, 1)]);
        assert_eq!((h.len_of(1), h.len_of(2), h.users()), (11, 5, 2));
        h.add_items(2, [9, 9, 8]);
        assert_eq!(h.items_of(2).unwrap().len(), 2);
        assert_eq!(h.len_of(2), 5);
        assert_eq!(HistoryPolicy::default(), HistoryPolicy::Allow);
    }
}
