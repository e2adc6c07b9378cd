//! Per-user metrics of the profile-based protocol: which metrics exist, how
//! they are keyed, and the two that the set-based module does not provide
//! (graded NDCG with Wilson gains, and the reciprocal rank of the first
//! relevant item).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};

use crate::set_metrics_at_k;

/// A metric of the profile-based protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Precision@k (divides by `k`).
    Precision,
    /// Recall@k.
    Recall,
    /// F1@k, the paper's headline metric.
    F1,
    /// NDCG@k with binary gains (relevant set).
    Ndcg,
    /// NDCG@k with the Wilson lower bound of every profile track as its gain.
    GradedNdcg,
    /// Hit rate@k.
    HitRate,
    /// Reciprocal rank of the first relevant item in the whole list (no cutoff).
    Mrr,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 7] = [
        Metric::Precision,
        Metric::Recall,
        Metric::F1,
        Metric::Ndcg,
        Metric::GradedNdcg,
        Metric::HitRate,
        Metric::Mrr,
    ];

    /// Machine name: `precision`, `recall`, `f1`, `ndcg`, `graded_ndcg`,
    /// `hit_rate`, `mrr`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::F1 => "f1",
            Metric::Ndcg => "ndcg",
            Metric::GradedNdcg => "graded_ndcg",
            Metric::HitRate => "hit_rate",
            Metric::Mrr => "mrr",
        }
    }

    /// Title for tables, e.g. `F1`, `Graded NDCG`.
    pub fn title(self) -> &'static str {
        match self {
            Metric::Precision => "Precision",
            Metric::Recall => "Recall",
            Metric::F1 => "F1",
            Metric::Ndcg => "NDCG",
            Metric::GradedNdcg => "Graded NDCG",
            Metric::HitRate => "HR",
            Metric::Mrr => "MRR",
        }
    }

    /// Whether the metric is computed at a cutoff `k` (all but MRR).
    pub fn has_cutoff(self) -> bool {
        self != Metric::Mrr
    }
}

/// A metric at a cutoff (`k = None` for MRR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricKey {
    /// The metric.
    pub metric: Metric,
    /// The cutoff, `None` for cutoff-free metrics.
    pub k: Option<usize>,
}

impl MetricKey {
    /// `metric@k`.
    pub fn at(metric: Metric, k: usize) -> Self {
        Self { metric, k: Some(k) }
    }

    /// The cutoff-free reciprocal rank.
    pub fn mrr() -> Self {
        Self {
            metric: Metric::Mrr,
            k: None,
        }
    }
}

impl fmt::Display for MetricKey {
    /// `f1@10`, `graded_ndcg@50`, `mrr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.k {
            Some(k) => write!(f, "{}@{k}", self.metric.name()),
            None => f.write_str(self.metric.name()),
        }
    }
}

/// The metric keys for cutoffs `ks`: every cutoff metric at every `k` (metric
/// major, in [`Metric::ALL`] order), then MRR.
pub(crate) fn metric_keys(ks: &[usize]) -> Vec<MetricKey> {
    let mut keys: Vec<MetricKey> = Metric::ALL
        .iter()
        .filter(|m| m.has_cutoff())
        .flat_map(|&m| ks.iter().map(move |&k| MetricKey::at(m, k)))
        .collect();
    keys.push(MetricKey::mrr());
    keys
}

/// `1 / log2(pos + 2)` for a 0-based position.
fn discount(pos: usize) -> f64 {
    1.0 / ((pos + 2) as f64).log2()
}

/// Graded NDCG@k: `sum gain(item) / log2(pos + 2)` over the first occurrence
/// of each item in the top `k`, divided by the same sum for the items sorted
/// by descending gain. Items without a gain have gain 0. Gains should be
/// finite and non-negative (Wilson lower bounds are).
///
/// Returns `None` if `k == 0` or no item has a positive gain.
///
/// ```
/// use std::collections::HashMap;
/// use seqrec_eval::graded_ndcg_at_k;
///
/// let gains: HashMap<u32, f64> = [(1, 0.8), (2, 0.2)].into_iter().collect();
/// assert_eq!(graded_ndcg_at_k(&[1, 2], &gains, 2), Some(1.0));
/// let swapped = graded_ndcg_at_k(&[2, 1], &gains, 2).unwrap();
/// assert!(swapped < 1.0);
/// ```
pub fn graded_ndcg_at_k<S: BuildHasher>(
    ranked: &[u32],
    gains: &HashMap<u32, f64, S>,
    k: usize,
) -> Option<f64> {
    let mut sorted: Vec<f64> = gains.values().copied().collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    graded_ndcg_with_ideal(ranked, gains, &sorted, k)
}

/// [`graded_ndcg_at_k`] with the gains already sorted descending.
pub(crate) fn graded_ndcg_with_ideal<S: BuildHasher>(
    ranked: &[u32],
    gains: &HashMap<u32, f64, S>,
    sorted_gains: &[f64],
    k: usize,
) -> Option<f64> {
    if k == 0 {
        return None;
    }
    let ideal: f64 = sorted_gains
        .iter()
        .take(k)
        .enumerate()
        .map(|(p, g)| g * discount(p))
        .sum();
    if ideal <= 0.0 {
        return None;
    }
    let mut seen: HashSet<u32> = HashSet::new();
    let mut dcg = 0.0;
    for (pos, id) in ranked.iter().take(k).enumerate() {
        if let Some(g) = gains.get(id)
            && seen.insert(*id)
        {
            dcg += g * discount(pos);
        }
    }
    Some(dcg / ideal)
}

/// Reciprocal rank `1 / position` of the first relevant item in the whole
/// list (0 if none is listed). `None` if `relevant` is empty.
///
/// ```
/// use std::collections::HashSet;
/// use seqrec_eval::reciprocal_rank_set;
///
/// let relevant: HashSet<u32> = [4, 9].into_iter().collect();
/// assert_eq!(reciprocal_rank_set(&[1, 9, 4], &relevant), Some(0.5));
/// assert_eq!(reciprocal_rank_set(&[1, 2], &relevant), Some(0.0));
/// ```
pub fn reciprocal_rank_set<S: BuildHasher>(
    ranked: &[u32],
    relevant: &HashSet<u32, S>,
) -> Option<f64> {
    if relevant.is_empty() {
        return None;
    }
    Some(
        ranked
            .iter()
            .position(|id| relevant.contains(id))
            .map_or(0.0, |p| 1.0 / (p + 1) as f64),
    )
}

/// Appends the values of every key of [`metric_keys`]`(ks)` for one user to
/// `out`. The relevant set must be non-empty; `sorted_gains` are the profile's
/// gains in descending order.
pub(crate) fn push_user_metrics<S: BuildHasher>(
    ranked: &[u32],
    relevant: &HashSet<u32, S>,
    gains: &HashMap<u32, f64, S>,
    sorted_gains: &[f64],
    ks: &[usize],
    out: &mut Vec<f64>,
) {
    let sets: Vec<_> = ks
        .iter()
        .map(|&k| set_metrics_at_k(ranked, relevant, k).unwrap_or_default())
        .collect();
    for metric in Metric::ALL {
        match metric {
            Metric::Precision => out.extend(sets.iter().map(|m| m.precision)),
            Metric::Recall => out.extend(sets.iter().map(|m| m.recall)),
            Metric::F1 => out.extend(sets.iter().map(|m| m.f1)),
            Metric::Ndcg => out.extend(sets.iter().map(|m| m.ndcg)),
            Metric::GradedNdcg => {
                out.extend(ks.iter().map(|&k| {
                    graded_ndcg_with_ideal(ranked, gains, sorted_gains, k).unwrap_or(0.0)
                }))
            }
            Metric::HitRate => out.extend(sets.iter().map(|m| m.hit_rate)),
            Metric::Mrr => out.push(reciprocal_rank_set(ranked, relevant).unwrap_or(0.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    #[test]
    fn keys_layout_and_display() {
        let keys = metric_keys(&[10, 50]);
        assert_eq!(keys.len(), 6 * 2 + 1);
        assert_eq!(keys[0].to_string(), "precision@10");
        assert_eq!(keys[5].to_string(), "f1@50");
        assert_eq!(keys[8].to_string(), "graded_ndcg@10");
        assert_eq!(keys[12].to_string(), "mrr");
        assert!(!Metric::Mrr.has_cutoff() && Metric::F1.has_cutoff());
        assert_eq!(
            serde_json::to_string(&Metric::GradedNdcg).unwrap(),
            "\"graded_ndcg\""
        );
    }

    #[test]
    fn graded_ndcg_hand_computed() {
        let gains: HashMap<u32, f64> = [(1, 0.9), (2, 0.5), (3, 0.1), (4, 0.0)]
            .into_iter()
            .collect();
        // Ranked [3, 9, 1]: gains 0.1 @0, 0 @1, 0.9 @2; ideal 0.9, 0.5, 0.1.
        let dcg = 0.1 + 0.9 / 4f64.log2();
        let idcg = 0.9 + 0.5 / 3f64.log2() + 0.1 / 4f64.log2();
        let v = graded_ndcg_at_k(&[3, 9, 1], &gains, 3).unwrap();
        assert!((v - dcg / idcg).abs() < EPS);
        // Duplicates count once; the cutoff applies to positions.
        let v = graded_ndcg_at_k(&[1, 1, 2], &gains, 2).unwrap();
        assert!((v - 0.9 / (0.9 + 0.5 / 3f64.log2())).abs() < EPS);
        // Fewer than k items recommended: missing slots add nothing.
        let v = graded_ndcg_at_k(&[1], &gains, 10).unwrap();
        assert!((v - 0.9 / (0.9 + 0.5 / 3f64.log2() + 0.1 / 4f64.log2())).abs() < EPS);
        assert_eq!(graded_ndcg_at_k(&[1], &gains, 0), None);
        let zero: HashMap<u32, f64> = [(1, 0.0)].into_iter().collect();
        assert_eq!(graded_ndcg_at_k(&[1], &zero, 5), None);
    }

    #[test]
    fn reciprocal_rank_cases() {
        let r: HashSet<u32> = [5].into_iter().collect();
        assert_eq!(reciprocal_rank_set(&[5], &r), Some(1.0));
        assert_eq!(reciprocal_rank_set(&[1, 2, 3, 5], &r), Some(0.25));
        assert_eq!(reciprocal_rank_set(&[], &r), Some(0.0));
        assert_eq!(reciprocal_rank_set(&[5], &HashSet::new()), None);
    }

    #[test]
    fn user_values_follow_key_order() {
        let relevant: HashSet<u32> = [1, 2].into_iter().collect();
        let gains: HashMap<u32, f64> = [(1, 0.6), (2, 0.3), (3, 0.0)].into_iter().collect();
        let sorted = [0.6, 0.3, 0.0];
        let ks = [1, 3];
        let mut out = Vec::new();
        push_user_metrics(&[2, 7, 1], &relevant, &gains, &sorted, &ks, &mut out);
        let keys = metric_keys(&ks);
        assert_eq!(out.len(), keys.len());
        let get = |name: &str| out[keys.iter().position(|k| k.to_string() == name).unwrap()];
        assert_eq!(get("precision@1"), 1.0);
        assert!((get("precision@3") - 2.0 / 3.0).abs() < EPS);
        assert_eq!(get("recall@1"), 0.5);
        assert_eq!(get("recall@3"), 1.0);
        assert!((get("f1@3") - 0.8).abs() < EPS);
        assert_eq!(get("hit_rate@1"), 1.0);
        assert_eq!(get("mrr"), 1.0);
        let g1 = 0.3 / 0.6;
        assert!((get("graded_ndcg@1") - g1).abs() < EPS);
    }
}
