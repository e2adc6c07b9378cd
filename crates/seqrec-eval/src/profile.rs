//! Evaluation profiles built from held-out plays (the paper's section 4.1).
//!
//! For every user, each play in the held-out window is *positive* if at least
//! [`ProfileConfig::positive_min_ms`] milliseconds were listened to (default
//! 30 s) and *negative* otherwise. Per (user, track) the play-through rate is
//! `positives / plays` and its Wilson score lower bound ranks the user's tracks.
//! Users with fewer than [`ProfileConfig::min_user_plays`] plays (default 3)
//! and (user, track) pairs with fewer than [`ProfileConfig::min_track_plays`]
//! plays (default 2, i.e. single plays are removed) are dropped, in that order:
//! the user filter counts all of the user's held-out plays.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::wilson::validate_z;
use crate::{EvalError, Play, WILSON_Z_95, wilson_lower_bound};

/// Which of a user's profile tracks form the relevant set of the set-based
/// metrics (precision, recall, F1, binary NDCG, hit rate, MRR).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Relevance {
    /// Tracks with at least one positive play (the paper's "tracks that were
    /// listened to for more than 30 seconds"). The default.
    AnyPositive,
    /// Tracks whose Wilson lower bound is at least the given threshold in `(0, 1]`.
    WilsonAtLeast(f64),
}

/// Settings of profile construction. [`Default`] is the paper's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfileConfig {
    /// A play with at least this many milliseconds is positive (default 30 000).
    pub positive_min_ms: u32,
    /// Normal quantile of the Wilson interval (default 1.96, i.e. 95 %).
    pub wilson_z: f64,
    /// Users with fewer held-out plays are dropped (default 3).
    pub min_user_plays: u64,
    /// (user, track) pairs with fewer plays are dropped (default 2).
    pub min_track_plays: u64,
    /// Definition of the relevant set (default [`Relevance::AnyPositive`]).
    pub relevance: Relevance,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        Self {
            positive_min_ms: 30_000,
            wilson_z: WILSON_Z_95,
            min_user_plays: 3,
            min_track_plays: 2,
            relevance: Relevance::AnyPositive,
        }
    }
}

impl ProfileConfig {
    /// Checks the configuration: `wilson_z` finite and positive, a
    /// [`Relevance::WilsonAtLeast`] threshold in `(0, 1]`.
    pub fn validate(&self) -> Result<(), EvalError> {
        validate_z(self.wilson_z)?;
        if let Relevance::WilsonAtLeast(t) = self.relevance
            && !(t > 0.0 && t <= 1.0)
        {
            return Err(EvalError::InvalidParameter {
                name: "relevance",
                reason: format!("Wilson threshold must be in (0, 1], got {t}"),
            });
        }
        Ok(())
    }
}

/// Aggregated plays of one (user, track) pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackStats {
    /// Track id.
    pub item: u32,
    /// Number of held-out plays.
    pub plays: u64,
    /// Number of positive plays.
    pub positives: u64,
    /// `positives / plays`.
    pub play_through_rate: f64,
    /// Wilson score lower bound of the play-through rate (the ranking score
    /// and the gain of graded NDCG).
    pub wilson_lower: f64,
    /// Whether the track belongs to the user's relevant set.
    pub relevant: bool,
}

/// One user's evaluation profile: the tracks that survived the filters,
/// ranked by Wilson lower bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    /// User id.
    pub user: u32,
    /// All held-out plays of the user (before the per-track filter).
    pub plays: u64,
    /// Tracks in descending Wilson lower bound; ties by more plays, then by
    /// the lower track id.
    pub tracks: Vec<TrackStats>,
}

impl UserProfile {
    /// The track ids in ranked order (the "ideal" recommendation list).
    pub fn ranked_items(&self) -> impl Iterator<Item = u32> + '_ {
        self.tracks.iter().map(|t| t.item)
    }

    /// The relevant set (see [`Relevance`]).
    pub fn relevant_set(&self) -> HashSet<u32> {
        self.tracks
            .iter()
            .filter(|t| t.relevant)
            .map(|t| t.item)
            .collect()
    }
}

/// What the filters removed while building [`Profiles`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileCounts {
    /// Held-out plays read.
    pub plays: u64,
    /// Distinct users in the held-out plays.
    pub users_seen: usize,
    /// Users dropped for having fewer than `min_user_plays` plays.
    pub users_too_few_plays: usize,
    /// (user, track) pairs of the remaining users dropped for having fewer
    /// than `min_track_plays` plays.
    pub pairs_too_few_plays: usize,
    /// Users dropped because none of their tracks survived the pair filter.
    pub users_without_tracks: usize,
    /// Users kept (with at least one track).
    pub users: usize,
}

/// The evaluation profiles of all kept users, sorted by user id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profiles {
    config: ProfileConfig,
    users: Vec<UserProfile>,
    counts: ProfileCounts,
}

impl Profiles {
    /// Builds profiles from the held-out plays (any order).
    ///
    /// Errors: [`EvalError::InvalidParameter`] if `config` is invalid.
    ///
    /// ```
    /// use seqrec_eval::{Play, ProfileConfig, Profiles};
    ///
    /// let plays = [
    ///     Play::new(1, 10, 45_000), Play::new(1, 10, 5_000), // 1 of 2 positive
    ///     Play::new(1, 11, 60_000), Play::new(1, 11, 60_000), // 2 of 2
    ///     Play::new(1, 12, 60_000),                           // single play: dropped
    ///     Play::new(2, 10, 60_000), Play::new(2, 10, 60_000), // user 2: too few plays
    /// ];
    /// let profiles = Profiles::build(plays, &ProfileConfig::default()).unwrap();
    /// assert_eq!(profiles.len(), 1);
    /// let p = profiles.get(1).unwrap();
    /// assert_eq!(p.ranked_items().collect::<Vec<_>>(), vec![11, 10]);
    /// assert_eq!(profiles.counts().users_too_few_plays, 1);
    /// assert_eq!(profiles.counts().pairs_too_few_plays, 1);
    /// ```
    pub fn build(
        plays: impl IntoIterator<Item = Play>,
        config: &ProfileConfig,
    ) -> Result<Self, EvalError> {
        config.validate()?;
        let mut counts = ProfileCounts::default();
        // user -> track -> (plays, positives)
        let mut agg: HashMap<u32, HashMap<u32, (u64, u64)>> = HashMap::new();
        for play in plays {
            counts.plays += 1;
            let e = agg
                .entry(play.user)
                .or_default()
                .entry(play.item)
                .or_insert((0, 0));
            e.0 += 1;
            e.1 += u64::from(play.ms_played >= config.positive_min_ms);
        }
        counts.users_seen = agg.len();
        let mut users = Vec::with_capacity(agg.len());
        for (user, tracks) in agg {
            let plays: u64 = tracks.values().map(|&(n, _)| n).sum();
            if plays < config.min_user_plays {
                counts.users_too_few_plays += 1;
                continue;
            }
            let mut kept = Vec::with_capacity(tracks.len());
            for (item, (n, pos)) in tracks {
                if n < config.min_track_plays {
                    counts.pairs_too_few_plays += 1;
                    continue;
                }
                let wilson_lower = wilson_lower_bound(pos, n, config.wilson_z)?;
                let relevant = match config.relevance {
                    Relevance::AnyPositive => pos > 0,
                    Relevance::WilsonAtLeast(t) => wilson_lower >= t,
                };
                kept.push(TrackStats {
                    item,
                    plays: n,
                    positives: pos,
                    play_through_rate: pos as f64 / n as f64,
                    wilson_lower,
                    relevant,
                });
            }
            if kept.is_empty() {
                counts.users_without_tracks += 1;
                continue;
            }
            kept.sort_by(|a, b| {
                b.wilson_lower
                    .total_cmp(&a.wilson_lower)
                    .then(b.plays.cmp(&a.plays))
                    .then(a.item.cmp(&b.item))
            });
            users.push(UserProfile {
                user,
                plays,
                tracks: kept,
            });
        }
        users.sort_unstable_by_key(|p| p.user);
        counts.users = users.len();
        Ok(Self {
            config: *config,
            users,
            counts,
        })
    }

    /// The configuration the profiles were built with.
    pub fn config(&self) -> &ProfileConfig {
        &self.config
    }

    /// Filter statistics.
    pub fn counts(&self) -> &ProfileCounts {
        &self.counts
    }

    /// Number of kept users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no user was kept.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The profile of `user`, if kept.
    pub fn get(&self, user: u32) -> Option<&UserProfile> {
        self.users
            .binary_search_by_key(&user, |p| p.user)
            .ok()
            .map(|i| &self.users[i])
    }

    /// All kept profiles, by ascending user id.
    pub fn iter(&self) -> impl Iterator<Item = &UserProfile> {
        self.users.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plays(user: u32, item: u32, ms: &[u32]) -> Vec<Play> {
        ms.iter().map(|&m| Play::new(user, item, m)).collect()
    }

    #[test]
    fn positive_threshold_boundary() {
        let mut all = plays(1, 5, &[30_000, 29_999, 30_001]);
        all.extend(plays(1, 6, &[0, 0]));
        let p = Profiles::build(all.clone(), &ProfileConfig::default()).unwrap();
        let t5 = p
            .get(1)
            .unwrap()
            .tracks
            .iter()
            .find(|t| t.item == 5)
            .unwrap();
        assert_eq!((t5.plays, t5.positives), (3, 2));
        assert!((t5.play_through_rate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            t5.wilson_lower,
            wilson_lower_bound(2, 3, WILSON_Z_95).unwrap()
        );
        assert!(t5.relevant);
        let t6 = p
            .get(1)
            .unwrap()
            .tracks
            .iter()
            .find(|t| t.item == 6)
            .unwrap();
        assert!(!t6.relevant && t6.wilson_lower == 0.0);
        // A configurable threshold moves the boundary.
        let cfg = ProfileConfig {
            positive_min_ms: 30_001,
            ..ProfileConfig::default()
        };
        let p = Profiles::build(all, &cfg).unwrap();
        assert_eq!(p.get(1).unwrap().tracks[0].positives, 1);
    }

    #[test]
    fn user_filter_boundary() {
        // User 1: 2 plays (dropped). User 2: exactly 3 plays (kept).
        let mut all = plays(1, 1, &[60_000, 60_000]);
        all.extend(plays(2, 1, &[60_000, 60_000, 60_000]));
        let p = Profiles::build(all.clone(), &ProfileConfig::default()).unwrap();
        assert!(p.get(1).is_none());
        assert!(p.get(2).is_some());
        assert_eq!(p.counts().users_too_few_plays, 1);
        assert_eq!(p.counts().users_seen, 2);
        assert_eq!(p.counts().plays, 5);
        let cfg = ProfileConfig {
            min_user_plays: 2,
            ..ProfileConfig::default()
        };
        assert_eq!(Profiles::build(all, &cfg).unwrap().len(), 2);
    }

    #[test]
    fn pair_filter_boundary() {
        // Item 1 played once (dropped), item 2 exactly twice (kept); the user's
        // 3 plays count before the pair filter.
        let mut all = plays(1, 1, &[60_000]);
        all.extend(plays(1, 2, &[60_000, 1_000]));
        let p = Profiles::build(all, &ProfileConfig::default()).unwrap();
        let prof = p.get(1).unwrap();
        assert_eq!(prof.plays, 3);
        assert_eq!(prof.ranked_items().collect::<Vec<_>>(), vec![2]);
        assert_eq!(p.counts().pairs_too_few_plays, 1);
        // A user whose every pair is a single play disappears and is counted.
        let single = plays(3, 1, &[60_000])
            .into_iter()
            .chain(plays(3, 2, &[60_000]))
            .chain(plays(3, 3, &[60_000]));
        let p = Profiles::build(single, &ProfileConfig::default()).unwrap();
        assert!(p.is_empty());
        assert_eq!(p.counts().users_without_tracks, 1);
        assert_eq!(p.counts().pairs_too_few_plays, 3);
    }

    #[test]
    fn ranking_by_wilson_then_plays_then_id() {
        let mut all = plays(1, 30, &[60_000; 2]); // 2/2
        all.extend(plays(1, 20, &[60_000; 10])); // 10/10: highest
        all.extend(plays(1, 10, &[60_000, 0, 60_000, 0])); // 2/4
        all.extend(plays(1, 40, &[60_000; 2])); // 2/2, tie with 30
        all.extend(plays(1, 50, &[0; 3])); // 0/3
        all.extend(plays(1, 60, &[0; 2])); // 0/2: ties with 50 on Wilson, fewer plays
        let p = Profiles::build(all, &ProfileConfig::default()).unwrap();
        let prof = p.get(1).unwrap();
        let ranked: Vec<u32> = prof.ranked_items().collect();
        assert_eq!(ranked, vec![20, 30, 40, 10, 50, 60]);
        let expected = [
            wilson_lower_bound(10, 10, 1.96).unwrap(),
            wilson_lower_bound(2, 2, 1.96).unwrap(),
            wilson_lower_bound(2, 2, 1.96).unwrap(),
            wilson_lower_bound(2, 4, 1.96).unwrap(),
            0.0,
            0.0,
        ];
        for (t, e) in prof.tracks.iter().zip(expected) {
            assert_eq!(t.wilson_lower, e);
        }
        let mut rel: Vec<u32> = prof.relevant_set().into_iter().collect();
        rel.sort_unstable();
        assert_eq!(rel, vec![10, 20, 30, 40]);
    }

    #[test]
    fn wilson_threshold_relevance() {
        let mut all = plays(1, 1, &[60_000; 10]); // lb ≈ 0.72
        all.extend(plays(1, 2, &[60_000, 0])); // lb ≈ 0.09
        let cfg = ProfileConfig {
            relevance: Relevance::WilsonAtLeast(0.5),
            ..ProfileConfig::default()
        };
        let p = Profiles::build(all, &cfg).unwrap();
        assert_eq!(
            p.get(1).unwrap().relevant_set(),
            [1].into_iter().collect::<HashSet<u32>>()
        );
        for bad in [0.0, -0.1, 1.5, f64::NAN] {
            let cfg = ProfileConfig {
                relevance: Relevance::WilsonAtLeast(bad),
                ..ProfileConfig::default()
            };
            assert!(matches!(
                Profiles::build(Vec::new(), &cfg).unwrap_err(),
                EvalError::InvalidParameter {
                    name: "relevance",
                    ..
                }
            ));
        }
        let cfg = ProfileConfig {
            wilson_z: -1.0,
            ..ProfileConfig::default()
        };
        assert!(Profiles::build(Vec::new(), &cfg).is_err());
    }
}
