//! The profile-based evaluator: held-out profiles, history cohorts, and the
//! per-user metrics of any number of models over the same users.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::bootstrap::{RowMajor, resample_means};
use crate::profile_metrics::{metric_keys, push_user_metrics};
use crate::{
    BootstrapConfig, Cohorts, ConfidenceInterval, EvalError, History, HistoryPolicy, MetricKey,
    Play, ProfileConfig, ProfileCounts, Profiles,
};

/// Every setting of the profile-based protocol. [`Default`] is the paper's:
/// 30 s / Wilson z = 1.96 / ≥ 3 plays per user / ≥ 2 plays per track,
/// k ∈ {10, 50, 100, 200}, history tracks allowed, cohorts (0,50], (50,100],
/// (100,150], >150, 1 000 bootstrap resamples at 95 %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileEvalConfig {
    /// Profile construction (ignored by [`ProfileEvaluator::from_profiles`],
    /// which uses the profiles' own configuration).
    pub profile: ProfileConfig,
    /// Cutoffs `k`.
    pub ks: Vec<usize>,
    /// Whether history tracks may be recommended.
    pub history: HistoryPolicy,
    /// Cohort edges on the number of history plays.
    pub cohorts: Cohorts,
    /// Bootstrap settings.
    pub bootstrap: BootstrapConfig,
}

impl Default for ProfileEvalConfig {
    fn default() -> Self {
        Self {
            profile: ProfileConfig::default(),
            ks: vec![10, 50, 100, 200],
            history: HistoryPolicy::Allow,
            cohorts: Cohorts::default(),
            bootstrap: BootstrapConfig::default(),
        }
    }
}

/// How many users were evaluated, and why the others were not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationCounts {
    /// What profile construction filtered out.
    pub profiles: ProfileCounts,
    /// Profile users excluded because their relevant set is empty (no
    /// positive track, or — with [`HistoryPolicy::Exclude`] — only history tracks).
    pub users_empty_relevant: usize,
    /// Users evaluated (every metric mean is over these).
    pub users: usize,
    /// Evaluated users whose history length falls in no cohort.
    pub users_without_cohort: usize,
    /// Evaluated users per cohort, in cohort order.
    pub cohort_users: Vec<usize>,
}

/// One evaluated user's ground truth.
#[derive(Debug, Clone)]
struct EvalUser {
    user: u32,
    cohort: Option<usize>,
    relevant: HashSet<u32>,
    gains: HashMap<u32, f64>,
    sorted_gains: Vec<f64>,
    excluded: Option<HashSet<u32>>,
}

/// Builds the evaluation users once, then scores the ranked lists of any
/// number of models against them.
///
/// ```
/// use seqrec_eval::{History, MetricKey, Metric, Play, ProfileEvalConfig, ProfileEvaluator};
///
/// // User 1 completes track 10 twice and skips track 11 twice.
/// let held_out = [
///     Play::new(1, 10, 200_000), Play::new(1, 10, 180_000),
///     Play::new(1, 11, 2_000), Play::new(1, 11, 1_000),
/// ];
/// let history = History::from_lengths([(1, 42)]);
/// let config = ProfileEvalConfig { ks: vec![1, 2], ..ProfileEvalConfig::default() };
/// let ev = ProfileEvaluator::new(config, held_out, &history).unwrap();
///
/// let good = ev.evaluate("good", [(1, vec![10, 11])]).unwrap();
/// let bad = ev.evaluate("bad", [(1, vec![11, 10])]).unwrap();
/// assert_eq!(good.mean(MetricKey::at(Metric::Precision, 1)), Some(1.0));
/// assert_eq!(bad.mean(MetricKey::at(Metric::Precision, 1)), Some(0.0));
/// assert_eq!(bad.mean(MetricKey::mrr()), Some(0.5));
///
/// let report = ev.report([&bad, &good]).unwrap(); // the first model is the baseline
/// println!("{}", report.to_markdown_table1());
/// ```
#[derive(Debug, Clone)]
pub struct ProfileEvaluator {
    config: ProfileEvalConfig,
    keys: Vec<MetricKey>,
    users: Vec<EvalUser>,
    user_ids: Vec<u32>,
    counts: EvaluationCounts,
}

impl ProfileEvaluator {
    /// Builds profiles from the held-out plays and cohorts from `history`.
    ///
    /// Errors: an invalid configuration ([`EvalError::NoCutoffs`],
    /// [`EvalError::ZeroCutoff`], [`EvalError::InvalidParameter`]).
    pub fn new(
        config: ProfileEvalConfig,
        held_out: impl IntoIterator<Item = Play>,
        history: &History,
    ) -> Result<Self, EvalError> {
        Self::validate(&config)?;
        let profiles = Profiles::build(held_out, &config.profile)?;
        Self::from_profiles(config, &profiles, history)
    }

    /// Uses already built profiles (their configuration replaces `config.profile`).
    pub fn from_profiles(
        mut config: ProfileEvalConfig,
        profiles: &Profiles,
        history: &History,
    ) -> Result<Self, EvalError> {
        Self::validate(&config)?;
        config.profile = *profiles.config();
        config.ks.sort_unstable();
        config.ks.dedup();
        let mut counts = EvaluationCounts {
            profiles: *profiles.counts(),
            cohort_users: vec![0; config.cohorts.len()],
            ..EvaluationCounts::default()
        };
        let mut users = Vec::with_capacity(profiles.len());
        for profile in profiles.iter() {
            let excluded = match config.history {
                HistoryPolicy::Allow => None,
                HistoryPolicy::Exclude => history.items_of(profile.user).cloned(),
            };
            let keep = |item: u32| excluded.as_ref().is_none_or(|ex| !ex.contains(&item));
            let tracks: Vec<_> = profile.tracks.iter().filter(|t| keep(t.item)).collect();
            let relevant: HashSet<u32> = tracks
                .iter()
                .filter(|t| t.relevant)
                .map(|t| t.item)
                .collect();
            if relevant.is_empty() {
                counts.users_empty_relevant += 1;
                continue;
            }
            let cohort = config.cohorts.assign(history.len_of(profile.user));
            match cohort {
                Some(c) => counts.cohort_users[c] += 1,
                None => counts.users_without_cohort += 1,
            }
            users.push(EvalUser {
                user: profile.user,
                cohort,
                relevant,
                gains: tracks.iter().map(|t| (t.item, t.wilson_lower)).collect(),
                sorted_gains: tracks.iter().map(|t| t.wilson_lower).collect(),
                excluded,
            });
        }
        counts.users = users.len();
        Ok(Self {
            keys: metric_keys(&config.ks),
            user_ids: users.iter().map(|u| u.user).collect(),
            users,
            config,
            counts,
        })
    }

    fn validate(config: &ProfileEvalConfig) -> Result<(), EvalError> {
        if config.ks.is_empty() {
            return Err(EvalError::NoCutoffs);
        }
        if config.ks.contains(&0) {
            return Err(EvalError::ZeroCutoff);
        }
        config.profile.validate()?;
        config.bootstrap.validate()
    }

    /// The configuration (cutoffs sorted and de-duplicated).
    pub fn config(&self) -> &ProfileEvalConfig {
        &self.config
    }

    /// Evaluated and excluded user counts.
    pub fn counts(&self) -> &EvaluationCounts {
        &self.counts
    }

    /// The evaluated users, ascending: the users that need a ranked list.
    pub fn users(&self) -> &[u32] {
        &self.user_ids
    }

    /// The metric keys, in the column order of [`ModelEvaluation`].
    pub fn keys(&self) -> &[MetricKey] {
        &self.keys
    }

    /// The cohort index of an evaluated user (`None` if not evaluated or in no cohort).
    pub fn cohort_of(&self, user: u32) -> Option<usize> {
        let i = self.user_ids.binary_search(&user).ok()?;
        self.users[i].cohort
    }

    /// Scores one model's ranked lists (best first; only the first
    /// `max(ks)` entries matter, except for MRR, which reads the whole list).
    ///
    /// Lists may arrive in any order, e.g. streamed chunk by chunk from a
    /// [`TopKBatch`](crate::TopKBatch). Lists of users that are not evaluated
    /// are ignored and counted; evaluated users without a list count as an
    /// empty recommendation (every metric 0) and are counted. With
    /// [`HistoryPolicy::Exclude`] history tracks are removed from each list first.
    ///
    /// Errors: [`EvalError::DuplicateUser`] if a user has two lists.
    pub fn evaluate<I, L>(&self, model: &str, lists: I) -> Result<ModelEvaluation, EvalError>
    where
        I: IntoIterator<Item = (u32, L)>,
        L: AsRef<[u32]>,
    {
        let cols = self.keys.len();
        let mut values = vec![0.0; self.users.len() * cols];
        let mut seen = vec![false; self.users.len()];
        let mut unknown = 0usize;
        let mut row = Vec::with_capacity(cols);
        let mut filtered = Vec::new();
        for (user, list) in lists {
            let Ok(i) = self.user_ids.binary_search(&user) else {
                unknown += 1;
                continue;
            };
            if std::mem::replace(&mut seen[i], true) {
                return Err(EvalError::DuplicateUser { user });
            }
            let u = &self.users[i];
            let ranked: &[u32] = match &u.excluded {
                Some(ex) => {
                    filtered.clear();
                    filtered.extend(list.as_ref().iter().filter(|id| !ex.contains(id)));
                    &filtered
                }
                None => list.as_ref(),
            };
            row.clear();
            push_user_metrics(
                ranked,
                &u.relevant,
                &u.gains,
                &u.sorted_gains,
                &self.config.ks,
                &mut row,
            );
            values[i * cols..(i + 1) * cols].copy_from_slice(&row);
        }
        Ok(ModelEvaluation {
            model: model.to_string(),
            keys: self.keys.clone(),
            users: self.user_ids.clone(),
            values,
            missing_lists: seen.iter().filter(|s| !**s).count(),
            unknown_users: unknown,
        })
    }

    /// Checks that every evaluation was produced by this evaluator.
    pub(crate) fn check(&self, evals: &[&ModelEvaluation]) -> Result<(), EvalError> {
        if evals.is_empty() {
            return Err(EvalError::NoModels);
        }
        for e in evals {
            if e.keys != self.keys || e.users != self.user_ids {
                return Err(EvalError::IncompatibleEvaluations {
                    reason: format!(
                        "`{}` was evaluated on other users or metrics than this evaluator's",
                        e.model
                    ),
                });
            }
        }
        Ok(())
    }

    /// Bootstrap summaries of `evals` (checked) for all users and for every
    /// cohort. Every model is resampled with the same users (paired), and the
    /// differences are against `evals[0]`.
    pub(crate) fn summarize(
        &self,
        evals: &[&ModelEvaluation],
    ) -> Result<Vec<GroupSummary>, EvalError> {
        self.check(evals)?;
        let mut groups = vec![GroupSummary::new("All".to_string(), None)];
        for (c, label) in self.config.cohorts.labels().into_iter().enumerate() {
            groups.push(GroupSummary::new(label, Some(c)));
        }
        let cols = self.keys.len();
        for (stream, group) in groups.iter_mut().enumerate() {
            let members: Vec<usize> = (0..self.users.len())
                .filter(|&i| group.cohort.is_none() || self.users[i].cohort == group.cohort)
                .collect();
            group.users = members.len();
            if members.is_empty() {
                continue;
            }
            let width = cols * evals.len();
            let mut data = Vec::with_capacity(members.len() * width);
            for &i in &members {
                for e in evals {
                    data.extend_from_slice(&e.values[i * cols..(i + 1) * cols]);
                }
            }
            let data = RowMajor::new(data, width)?;
            let means: Vec<f64> = (0..width).map(|c| data.mean(c)).collect();
            let resampled = resample_means(&data, &self.config.bootstrap, stream as u64)?;
            let confidence = self.config.bootstrap.confidence;
            for m in 0..evals.len() {
                group.means.push(
                    (0..cols)
                        .map(|k| {
                            resampled.interval(means[m * cols + k], |r| r[m * cols + k], confidence)
                        })
                        .collect(),
                );
                if m > 0 {
                    group.diffs.push(
                        (0..cols)
                            .map(|k| {
                                resampled.interval(
                                    means[m * cols + k] - means[k],
                                    |r| r[m * cols + k] - r[k],
                                    confidence,
                                )
                            })
                            .collect(),
                    );
                }
            }
        }
        Ok(groups)
    }
}

/// Bootstrap results of one user group (all users or one cohort).
#[derive(Debug, Clone)]
pub(crate) struct GroupSummary {
    /// `"All"` or the cohort label.
    pub(crate) label: String,
    /// `None` for all users.
    pub(crate) cohort: Option<usize>,
    /// Users in the group.
    pub(crate) users: usize,
    /// `[model][key]` mean with interval (empty if the group has no user).
    pub(crate) means: Vec<Vec<ConfidenceInterval>>,
    /// `[model - 1][key]` paired difference to model 0.
    pub(crate) diffs: Vec<Vec<ConfidenceInterval>>,
}

impl GroupSummary {
    fn new(label: String, cohort: Option<usize>) -> Self {
        Self {
            label,
            cohort,
            users: 0,
            means: Vec::new(),
            diffs: Vec::new(),
        }
    }
}

/// Per-user metric values of one model over an evaluator's users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEvaluation {
    model: String,
    keys: Vec<MetricKey>,
    users: Vec<u32>,
    /// Row-major `users × keys`.
    values: Vec<f64>,
    missing_lists: usize,
    unknown_users: usize,
}

impl ModelEvaluation {
    /// The model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The metric keys (columns).
    pub fn keys(&self) -> &[MetricKey] {
        &self.keys
    }

    /// The evaluated users (rows), ascending.
    pub fn users(&self) -> &[u32] {
        &self.users
    }

    /// Number of evaluated users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no user was evaluated.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Evaluated users for whom the model gave no list (scored as empty lists).
    pub fn missing_lists(&self) -> usize {
        self.missing_lists
    }

    /// Lists given for users that are not evaluated (ignored).
    pub fn unknown_users(&self) -> usize {
        self.unknown_users
    }

    /// Every user's value of `key`, in [`users`](Self::users) order.
    pub fn per_user(&self, key: MetricKey) -> Option<Vec<f64>> {
        let c = self.keys.iter().position(|k| *k == key)?;
        let cols = self.keys.len();
        Some(
            (0..self.users.len())
                .map(|i| self.values[i * cols + c])
                .collect(),
        )
    }

    /// All metric values of one user, in [`keys`](Self::keys) order.
    pub fn user_values(&self, user: u32) -> Option<&[f64]> {
        let i = self.users.binary_search(&user).ok()?;
        let cols = self.keys.len();
        Some(&self.values[i * cols..(i + 1) * cols])
    }

    /// Mean of `key` over all evaluated users (`None` for an unknown key or no users).
    pub fn mean(&self, key: MetricKey) -> Option<f64> {
        let v = self.per_user(key)?;
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Metric, Relevance, set_metrics_at_k};

    const EPS: f64 = 1e-12;

    /// `n` plays of (user, item), the first `pos` of them positive.
    fn plays(user: u32, item: u32, n: usize, pos: usize) -> Vec<Play> {
        (0..n)
            .map(|i| Play::new(user, item, if i < pos { 60_000 } else { 1_000 }))
            .collect()
    }

    fn config(ks: &[usize]) -> ProfileEvalConfig {
        ProfileEvalConfig {
            ks: ks.to_vec(),
            bootstrap: BootstrapConfig {
                resamples: 200,
                ..BootstrapConfig::default()
            },
            ..ProfileEvalConfig::default()
        }
    }

    #[test]
    fn f1_with_fewer_items_than_k_recommended_or_relevant() {
        // User 1: relevant {1, 2, 3} (item 4 all negative).
        let mut held = plays(1, 1, 2, 2);
        held.extend(plays(1, 2, 3, 1));
        held.extend(plays(1, 3, 2, 1));
        held.extend(plays(1, 4, 2, 0));
        let ev = ProfileEvaluator::new(config(&[2, 10]), held, &History::new()).unwrap();
        // Two recommended (fewer than k = 10), both relevant.
        let e = ev.evaluate("m", [(1, vec![3, 1])]).unwrap();
        let f1_10 = e.mean(MetricKey::at(Metric::F1, 10)).unwrap();
        let (p, r) = (2.0 / 10.0, 2.0 / 3.0);
        assert!((f1_10 - 2.0 * p * r / (p + r)).abs() < EPS);
        // k = 2 with 3 relevant (fewer than k relevant at k = 10).
        let f1_2 = e.mean(MetricKey::at(Metric::F1, 2)).unwrap();
        let (p, r) = (1.0, 2.0 / 3.0);
        assert!((f1_2 - 2.0 * p * r / (p + r)).abs() < EPS);
        // Agrees with the set-based metric.
        let relevant: HashSet<u32> = [1, 2, 3].into_iter().collect();
        assert_eq!(set_metrics_at_k(&[3, 1], &relevant, 10).unwrap().f1, f1_10);
        // Graded NDCG: gains are the Wilson bounds.
        let g = e.user_values(1).unwrap();
        let keys = ev.keys();
        let gi = keys
            .iter()
            .position(|k| *k == MetricKey::at(Metric::GradedNdcg, 2))
            .unwrap();
        let w = |x, n| crate::wilson_lower_bound(x, n, 1.96).unwrap();
        let dcg = w(1, 2) + w(2, 2) / 3f64.log2();
        let idcg = w(2, 2) + w(1, 2).max(w(1, 3)) / 3f64.log2();
        assert!((g[gi] - dcg / idcg).abs() < EPS);
    }

    #[test]
    fn empty_relevant_users_excluded_and_counted() {
        let mut held = plays(1, 1, 3, 0); // all skips → empty relevant set
        held.extend(plays(2, 1, 3, 1));
        held.extend(plays(3, 1, 2, 2)); // too few plays
        let ev = ProfileEvaluator::new(config(&[5]), held, &History::new()).unwrap();
        assert_eq!(ev.users(), &[2]);
        let c = ev.counts();
        assert_eq!(c.users_empty_relevant, 1);
        assert_eq!(c.profiles.users_too_few_plays, 1);
        assert_eq!(c.users, 1);
        // No history: no cohort.
        assert_eq!(c.users_without_cohort, 1);
        let e = ev
            .evaluate("m", [(1, vec![1]), (2, vec![1]), (9, vec![1])])
            .unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e.unknown_users(), 2);
        assert_eq!(e.missing_lists(), 0);
        assert_eq!(e.mean(MetricKey::at(Metric::HitRate, 5)), Some(1.0));
    }

    #[test]
    fn missing_lists_score_zero_and_duplicates_error() {
        let mut held = plays(1, 1, 3, 3);
        held.extend(plays(2, 1, 3, 3));
        let ev = ProfileEvaluator::new(config(&[1]), held, &History::new()).unwrap();
        let e = ev.evaluate("m", [(2, &[1u32][..])]).unwrap();
        assert_eq!(e.missing_lists(), 1);
        assert_eq!(e.per_user(MetricKey::mrr()).unwrap(), vec![0.0, 1.0]);
        assert_eq!(
            ev.evaluate("m", [(2, vec![1]), (2, vec![1])]).unwrap_err(),
            EvalError::DuplicateUser { user: 2 }
        );
    }

    #[test]
    fn history_policy_exclude_filters_lists_and_profiles() {
        let mut held = plays(1, 1, 2, 2); // in history
        held.extend(plays(1, 2, 2, 2));
        held.extend(plays(2, 1, 3, 3)); // only a history track
        let mut history = History::from_plays([Play::new(1, 1, 0), Play::new(2, 1, 0)], true);
        history.add_items(1, [7]);
        // Allowed (default): item 1 counts.
        let ev = ProfileEvaluator::new(config(&[1]), held.clone(), &history).unwrap();
        assert_eq!(ev.users(), &[1, 2]);
        let e = ev.evaluate("m", [(1, vec![1, 2])]).unwrap();
        assert_eq!(e.user_values(1).unwrap()[0], 1.0); // precision@1
        // Excluded: item 1 leaves lists and profiles; user 2 has nothing left.
        let cfg = ProfileEvalConfig {
            history: HistoryPolicy::Exclude,
            ..config(&[1])
        };
        let ev = ProfileEvaluator::new(cfg, held, &history).unwrap();
        assert_eq!(ev.users(), &[1]);
        assert_eq!(ev.counts().users_empty_relevant, 1);
        let e = ev.evaluate("m", [(1, vec![1, 7, 2])]).unwrap();
        let v = e.user_values(1).unwrap();
        assert_eq!(v[0], 1.0); // precision@1: item 2 moved up to rank 1
        assert_eq!(*v.last().unwrap(), 1.0); // mrr
    }

    #[test]
    fn wilson_threshold_relevance_is_configurable() {
        let mut held = plays(1, 1, 10, 10);
        held.extend(plays(1, 2, 2, 1));
        let cfg = ProfileEvalConfig {
            profile: ProfileConfig {
                relevance: Relevance::WilsonAtLeast(0.5),
                ..ProfileConfig::default()
            },
            ..config(&[2])
        };
        let ev = ProfileEvaluator::new(cfg, held, &History::new()).unwrap();
        let e = ev.evaluate("m", [(1, vec![2, 1])]).unwrap();
        // Relevant = {1}: recall@2 = 1, precision@2 = 1/2, MRR = 1/2.
        assert_eq!(e.mean(MetricKey::at(Metric::Recall, 2)), Some(1.0));
        assert_eq!(e.mean(MetricKey::at(Metric::Precision, 2)), Some(0.5));
        assert_eq!(e.mean(MetricKey::mrr()), Some(0.5));
    }

    #[test]
    fn cohorts_from_history_lengths() {
        let mut held = Vec::new();
        for u in 1..=5 {
            held.extend(plays(u, 1, 3, 3));
        }
        let history = History::from_lengths([(1, 50), (2, 51), (3, 150), (4, 151), (5, 0)]);
        let ev = ProfileEvaluator::new(config(&[1]), held, &history).unwrap();
        let cohorts: Vec<_> = (1..=5).map(|u| ev.cohort_of(u)).collect();
        assert_eq!(cohorts, vec![Some(0), Some(1), Some(2), Some(3), None]);
        assert_eq!(ev.counts().cohort_users, vec![1, 1, 1, 1]);
        assert_eq!(ev.counts().users_without_cohort, 1);
    }

    #[test]
    fn invalid_configs() {
        let none = Vec::<Play>::new();
        let h = History::new();
        assert_eq!(
            ProfileEvaluator::new(config(&[]), none.clone(), &h).unwrap_err(),
            EvalError::NoCutoffs
        );
        assert_eq!(
            ProfileEvaluator::new(config(&[0, 5]), none.clone(), &h).unwrap_err(),
            EvalError::ZeroCutoff
        );
        let mut cfg = config(&[5]);
        cfg.bootstrap.resamples = 0;
        assert!(ProfileEvaluator::new(cfg, none.clone(), &h).is_err());
        let ev = ProfileEvaluator::new(config(&[5, 1, 5]), none, &h).unwrap();
        assert_eq!(ev.config().ks, vec![1, 5]);
        assert!(ev.users().is_empty());
    }
}
