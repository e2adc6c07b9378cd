//! Personal popularity: each listener's own tracks, most played first, then everyone's most
//! played tracks ("replayed favourites", the personalised most-popular baseline).

use std::cmp::Ordering;
use std::collections::HashMap;

use burn::config::Config;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::ConfigError;
use crate::scorer::SequenceScorer;

/// The largest [`PersonalPopularityConfig::max_len`]: with at most this many distinct
/// history tracks, the strictly decreasing `f32` scores of the history tracks (see
/// [`PersonalPopularity`]) stay above 1, i.e. above every other track.
pub const PERSONAL_POPULARITY_MAX_LEN_LIMIT: usize = 1 << 22;

/// Configuration of a [`PersonalPopularity`] model.
///
/// ```
/// use seqrec_model::PersonalPopularityConfig;
/// let config = PersonalPopularityConfig::new(1000).with_half_life(Some(50.0));
/// assert_eq!(config.max_len, 100_000);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Config, Debug, PartialEq)]
pub struct PersonalPopularityConfig {
    /// Number of items in the catalogue; ids run from 1 to `num_items`.
    pub num_items: usize,
    /// How many of the most recent history plays are counted. Default 100 000, which covers
    /// a 60-day listening history (the built-in simulator caps a listener at 5 000 plays;
    /// heavy listeners of real logs play a few thousand tracks in 60 days). At most
    /// [`PERSONAL_POPULARITY_MAX_LEN_LIMIT`].
    #[config(default = 100_000)]
    pub max_len: usize,
    /// Recency half-life in plays: the play `age` plays before the most recent one (age 0)
    /// counts `0.5^(age / half_life)`. Default `None`: every play counts 1.
    #[config(default = "None")]
    pub half_life: Option<f64>,
}

impl PersonalPopularityConfig {
    /// Checks every field; [`PersonalPopularityConfig::init`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |msg: String| Err(ConfigError(format!("personal popularity: {msg}")));
        if self.num_items == 0 {
            return fail("num_items must be at least 1".into());
        }
        if self.max_len == 0 || self.max_len > PERSONAL_POPULARITY_MAX_LEN_LIMIT {
            return fail(format!(
                "max_len must lie in 1..={PERSONAL_POPULARITY_MAX_LEN_LIMIT}, got {}",
                self.max_len
            ));
        }
        if let Some(h) = self.half_life
            && !(h.is_finite() && h > 0.0)
        {
            return fail(format!("the half-life must be positive, got {h}"));
        }
        Ok(())
    }

    /// The model for play counts indexed by id (`counts[i]` is the training play count of
    /// item `i`, `counts[0]` is unused: the layout of `TrainingData::item_counts` in
    /// `seqrec-train`), which order the tracks outside a history. `counts` must have
    /// `num_items + 1` entries.
    pub fn init(&self, counts: &[u64]) -> Result<PersonalPopularity, ConfigError> {
        self.validate()?;
        if counts.len() != self.num_items + 1 {
            return Err(ConfigError(format!(
                "personal popularity: {} counts for {} items (expected one per item after the unused entry 0)",
                counts.len(),
                self.num_items
            )));
        }
        let max = counts[1..].iter().copied().max().unwrap_or(0) as f64;
        let mut background: Vec<f32> = counts
            .iter()
            .map(|&c| (c as f64 / (max + 1.0)) as f32)
            .collect();
        background[0] = f32::NEG_INFINITY;
        background.push(f32::NEG_INFINITY);
        Ok(PersonalPopularity {
            config: self.clone(),
            counts: counts.to_vec(),
            background,
        })
    }
}

/// Ranks a listener's own history tracks by how often they were played, then every other
/// track by global popularity: the "replayed favourites" baseline of a music recommender.
///
/// A history track is ranked by its number of plays among the last
/// [`max_len`](PersonalPopularityConfig::max_len) plays of the history (each play weighted
/// `0.5^(age / half_life)` with a [half-life](PersonalPopularityConfig::half_life), age 0
/// being the most recent play); ties go to the track played last more recently. Every
/// history track ranks above every other track, which are ordered by their training play
/// counts (as [`Popularity`](crate::Popularity)).
///
/// The model counts whatever plays its history holds: the ablation of the `seqrec` crate
/// gives it the history plays of at least 30 s (positive plays) when play durations are
/// known, and serving gives it the history as passed.
///
/// Scores: `2 + weighted plays` for a history track, lowered by the smallest `f32` steps
/// where needed so that the ranking above is strict; `count / (max count + 1)`, in
/// `[0, 1)`, for any other track; `-inf` for padding (0) and the reserved id
/// (`num_items + 1`), which are never counted.
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use seqrec_model::{PersonalPopularityConfig, SequenceScorer};
///
/// let device = Device::ndarray();
/// // Items 1..=4; item 4 is the most played overall.
/// let model = PersonalPopularityConfig::new(4).init(&[0, 5, 1, 2, 40]).unwrap();
/// let history = Tensor::<2, Int>::from_ints([[0, 2, 3, 2]], &device);
/// let best = model.score_histories(history).argmax(1);
/// assert_eq!(best.into_data().to_vec::<i64>().unwrap(), vec![2]); // played twice
/// ```
#[derive(Debug, Clone)]
pub struct PersonalPopularity {
    config: PersonalPopularityConfig,
    counts: Vec<u64>,
    /// Scores of tracks outside the history `[num_items + 2]`.
    background: Vec<f32>,
}

impl PersonalPopularity {
    /// The configuration.
    pub fn config(&self) -> &PersonalPopularityConfig {
        &self.config
    }

    /// The training play counts indexed by id (entry 0 unused).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The history tracks of one history (oldest first; padding 0, the reserved id and ids
    /// outside the catalogue are skipped) with their weighted play counts, in rank order:
    /// more (weighted) plays first, then the more recent last play.
    pub fn ranked_history(&self, history: &[u32]) -> Vec<(u32, f64)> {
        let num_items = self.config.num_items as u32;
        let tail = &history[history.len().saturating_sub(self.config.max_len)..];
        // item -> (weighted plays, age of the last play)
        let mut seen: HashMap<u32, (f64, usize)> = HashMap::new();
        let mut age = 0usize;
        for &item in tail.iter().rev() {
            if item == 0 || item > num_items {
                continue;
            }
            let weight = self
                .config
                .half_life
                .map_or(1.0, |h| 0.5f64.powf(age as f64 / h));
            seen.entry(item).or_insert((0.0, age)).0 += weight;
            age += 1;
        }
        let mut ranked: Vec<(u32, f64, usize)> = seen
            .into_iter()
            .map(|(item, (weight, last))| (item, weight, last))
            .collect();
        ranked.sort_by(|a, b| {
            b.1.partial_cmp(&a.1)
                .unwrap_or(Ordering::Equal)
                .then(a.2.cmp(&b.2))
        });
        ranked.into_iter().map(|(item, w, _)| (item, w)).collect()
    }

    /// The scores `[num_items + 2]` of every id for one history (see the type's
    /// documentation).
    pub fn score_history(&self, history: &[u32]) -> Vec<f32> {
        let mut row = self.background.clone();
        let mut previous = f32::INFINITY;
        for (item, weight) in self.ranked_history(history) {
            let mut score = (2.0 + weight) as f32;
            if score >= previous {
                score = previous.next_down();
            }
            row[item as usize] = score;
            previous = score;
        }
        row
    }
}

impl SequenceScorer for PersonalPopularity {
    fn num_items(&self) -> usize {
        self.config.num_items
    }

    fn max_len(&self) -> usize {
        self.config.max_len
    }

    /// The scores themselves `[batch, num_items + 2]` ([`SequenceScorer::score_histories`]):
    /// the history is all the model knows of a user.
    fn user_representation(&self, items: Tensor<2, Int>) -> Tensor<2> {
        self.score_histories(items)
    }

    /// The user representations are the scores: returned as they are.
    fn score_all(&self, users: Tensor<2>) -> Tensor<2> {
        users
    }

    /// Counts the plays of each history on the host and returns `[batch, num_items + 2]`
    /// scores on the histories' device.
    fn score_histories(&self, items: Tensor<2, Int>) -> Tensor<2> {
        let [batch, len] = items.dims();
        let device: Device = items.device();
        let ids: Vec<u32> = items
            .into_data()
            .iter::<i64>()
            .map(|id| u32::try_from(id).unwrap_or(0))
            .collect();
        let rows = self.config.num_items + 2;
        let mut scores = Vec::with_capacity(batch * rows);
        for b in 0..batch {
            let history = ids.get(b * len..(b + 1) * len).unwrap_or(&[]);
            scores.extend(self.score_history(history));
        }
        Tensor::from_data(TensorData::new(scores, [batch, rows]), &device)
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;

    const NINF: f32 = f32::NEG_INFINITY;

    /// Ids of `row` (one score per id) from best to worst, finite scores only.
    fn order(row: &[f32]) -> Vec<u32> {
        let mut ids: Vec<u32> = (0..row.len() as u32)
            .filter(|&i| row[i as usize].is_finite())
            .collect();
        ids.sort_by(|&a, &b| row[b as usize].partial_cmp(&row[a as usize]).unwrap());
        ids
    }

    fn scores(model: &PersonalPopularity, histories: &[&[i64]]) -> Vec<Vec<f32>> {
        let device = Device::ndarray();
        let len = histories[0].len();
        let flat: Vec<i64> = histories.iter().flat_map(|h| h.iter().copied()).collect();
        let items =
            Tensor::<2, Int>::from_data(TensorData::new(flat, [histories.len(), len]), &device);
        let out = model.score_histories(items);
        let rows = model.num_items() + 2;
        assert_eq!(out.dims(), [histories.len(), rows]);
        let values: Vec<f32> = out.into_data().to_vec().unwrap();
        values.chunks(rows).map(<[f32]>::to_vec).collect()
    }

    /// Items 1..=6; item `i` has the training count `10 i`, so the global order is
    /// 6, 5, 4, 3, 2, 1.
    fn model(half_life: Option<f64>) -> PersonalPopularity {
        PersonalPopularityConfig::new(6)
            .with_half_life(half_life)
            .init(&[999, 10, 20, 30, 40, 50, 60])
            .unwrap()
    }

    #[test]
    fn history_tracks_by_plays_then_global_popularity() {
        let m = model(None);
        // Oldest first: 1 is played 3 times, 2 twice, 3 once; padding on the left.
        let got = scores(&m, &[&[0, 0, 1, 2, 1, 3, 2, 1], &[0, 0, 0, 0, 0, 0, 0, 4]]);
        assert_eq!(order(&got[0]), vec![1, 2, 3, 6, 5, 4]);
        assert_eq!(order(&got[1]), vec![4, 6, 5, 3, 2, 1]);
        // 2 + plays for history tracks, count / (max + 1) for the others.
        assert_eq!(got[0][1], 5.0);
        assert_eq!(got[0][2], 4.0);
        assert_eq!(got[0][3], 3.0);
        assert_eq!(got[0][6], 60.0 / 61.0);
        assert_eq!(got[0][4], 40.0 / 61.0);
        for row in &got {
            assert_eq!((row[0], row[7]), (NINF, NINF));
        }
    }

    #[test]
    fn ties_go_to_the_more_recent_last_play() {
        let m = model(None);
        // 3 and 1 twice each, 1 played last; 5 and 2 once each, 5 after 2.
        let got = scores(&m, &[&[3, 2, 1, 3, 5, 1]]);
        assert_eq!(order(&got[0]), vec![1, 3, 5, 2, 6, 4]);
        // Ties are strict but the scores stay within a few f32 steps of 2 + plays.
        assert_eq!(got[0][1], 4.0);
        assert!(got[0][3] < 4.0 && got[0][3] > 3.999);
        assert_eq!(got[0][5], 3.0);
        assert!(got[0][2] < 3.0 && got[0][2] > 2.999);
        // Without a tie-break by id: the more recent of two single plays wins either way.
        let got = scores(&m, &[&[5, 2], &[2, 5]]);
        assert_eq!(order(&got[0])[..2], [2, 5]);
        assert_eq!(order(&got[1])[..2], [5, 2]);
    }

    #[test]
    fn half_life_weights_recent_plays_more() {
        let m = model(Some(1.0));
        // Oldest first [1, 1, 1, 2, 3]: ages 4, 3, 2, 1, 0.
        // 1: 0.5^4 + 0.5^3 + 0.5^2 = 0.4375; 2: 0.5; 3: 1.
        let got = scores(&m, &[&[1, 1, 1, 2, 3]]);
        assert_eq!(order(&got[0]), vec![3, 2, 1, 6, 5, 4]);
        assert!((got[0][1] - 2.4375).abs() < 1e-6);
        assert!((got[0][2] - 2.5).abs() < 1e-6);
        assert!((got[0][3] - 3.0).abs() < 1e-6);
        // Without the half-life, 1 (three plays) wins.
        let got = scores(&model(None), &[&[1, 1, 1, 2, 3]]);
        assert_eq!(order(&got[0]), vec![1, 3, 2, 6, 5, 4]);
        // Half-life 2: 1 weighs 0.25 + 0.3536 + 0.5 = 1.1036 > 1 (item 3): first again.
        let ranked = model(Some(2.0)).ranked_history(&[1, 1, 1, 2, 3]);
        let expected = 0.25 + 0.5f64.powf(1.5) + 0.5;
        assert_eq!(ranked[0].0, 1);
        assert!((ranked[0].1 - expected).abs() < 1e-12);
        assert_eq!(ranked.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 3, 2]);
    }

    #[test]
    fn history_tracks_stay_above_every_other_track() {
        // Item 1 is by far the most played overall, but a single play of 2 beats it.
        let m = PersonalPopularityConfig::new(3)
            .with_half_life(Some(0.01))
            .init(&[0, 1_000_000, 0, 5])
            .unwrap();
        // Item 2's only play is 1 000 plays old: weight 0.5^100000, i.e. 0 as an f32.
        let mut history = vec![2i64];
        history.extend(std::iter::repeat_n(3, 1000));
        let got = scores(&m, &[&history]);
        assert_eq!(order(&got[0]), vec![3, 2, 1]);
        assert!(got[0][2] > 1.0 && got[0][1] < 1.0);
    }

    #[test]
    fn max_len_counts_only_the_most_recent_plays() {
        let m = PersonalPopularityConfig::new(6)
            .with_max_len(3)
            .init(&[0, 10, 20, 30, 40, 50, 60])
            .unwrap();
        assert_eq!(m.max_len(), 3);
        // Only [2, 3, 2] is read: 1's three old plays do not count.
        let got = scores(&m, &[&[1, 1, 1, 2, 3, 2]]);
        assert_eq!(order(&got[0]), vec![2, 3, 6, 5, 4, 1]);
    }

    #[test]
    fn reserved_ids_are_never_counted_or_ranked() {
        let m = model(None);
        // 7 is the reserved id (num_items + 1): skipped, as padding.
        let got = scores(&m, &[&[7, 7, 7, 0, 2]]);
        assert_eq!((got[0][0], got[0][7]), (NINF, NINF));
        assert_eq!(order(&got[0]), vec![2, 6, 5, 4, 3, 1]);
        // All padding: global popularity only.
        let got = scores(&m, &[&[0, 0]]);
        assert_eq!(order(&got[0]), vec![6, 5, 4, 3, 2, 1]);
        // user_representation + score_all give the same scores.
        let device = Device::ndarray();
        let items = Tensor::<2, Int>::from_ints([[0, 2, 2, 5]], &device);
        let a: Vec<f32> = m
            .score_all(m.user_representation(items.clone()))
            .into_data()
            .to_vec()
            .unwrap();
        let b: Vec<f32> = m.score_histories(items).into_data().to_vec().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_configurations_fail() {
        assert!(PersonalPopularityConfig::new(0).validate().is_err());
        assert!(
            PersonalPopularityConfig::new(3)
                .with_max_len(0)
                .validate()
                .is_err()
        );
        assert!(
            PersonalPopularityConfig::new(3)
                .with_max_len(PERSONAL_POPULARITY_MAX_LEN_LIMIT + 1)
                .validate()
                .is_err()
        );
        for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let bad = PersonalPopularityConfig::new(3).with_half_life(Some(h));
            assert!(bad.validate().is_err(), "{h}");
        }
        // One count per item after entry 0.
        assert!(PersonalPopularityConfig::new(3).init(&[0, 1, 2]).is_err());
        assert!(PersonalPopularityConfig::new(3).init(&[0, 1, 2, 3]).is_ok());
        let json = burn::config::config_to_json(
            &PersonalPopularityConfig::new(3).with_half_life(Some(7.5)),
        );
        let back = PersonalPopularityConfig::load_binary(json.as_bytes()).unwrap();
        assert_eq!((back.half_life, back.max_len), (Some(7.5), 100_000));
    }
}
