//! Ranking metrics for recommender evaluation.
//!
//! This crate consumes ranked lists or target ranks and never a model:
//!
//! * rank-based metrics for leave-one-out next-item evaluation
//!   ([`ndcg_at_k`], [`recall_at_k`], [`reciprocal_rank`]) and the
//!   [`NextItemEvaluator`] that accumulates them per user into a [`NextItemReport`];
//! * set-based metrics of a ranked list against a relevant set
//!   ([`precision_at_k`], [`recall_at_k_set`], [`f1_at_k`], [`ndcg_at_k_set`],
//!   [`hit_rate_at_k`], or all at once with [`set_metrics_at_k`]);
//! * [`top_k_indices`] and [`target_rank`] for CPU-side ranking of a score vector,
//!   and [`TopKAccumulator`] / [`TopKBatch`] to merge scores streamed in chunks
//!   of items and users with memory bounded by `k` per user;
//! * the paper's **profile-based protocol** (section 4): [`Profiles`] of
//!   held-out [`Play`]s ranked by [`wilson_lower_bound`], the
//!   [`ProfileEvaluator`] that scores any model's ranked lists
//!   (precision/recall/F1/NDCG/graded NDCG/HR@k and MRR, per user, per
//!   history-length [`Cohorts`]), seeded percentile-bootstrap intervals
//!   ([`bootstrap_mean_ci`], [`paired_bootstrap_diff_ci`]), paired
//!   [`Comparison`]s, and a [`ProfileReport`] rendered like the paper's
//!   Tables 1 and 2, as CSV and as JSON. See `docs/evaluation.md`.
//!
//! Item ids are `u32` in `1..=num_items`; 0 is padding. A rank is 1-based and
//! `0` means "not ranked" (every metric is then 0).
//!
//! ```
//! use seqrec_eval::{target_rank, top_k_indices, NextItemEvaluator};
//!
//! // Full-catalogue scores per user (index = item id, slot 0 = padding),
//! // the held-out target, and already-seen items to exclude.
//! let users: [(&[f32], u32, &[u32]); 2] = [
//!     (&[0.0, 0.9, 0.1, 0.5, 0.7], 3, &[1]),
//!     (&[0.0, 0.2, 0.8, 0.6, 0.1], 4, &[]),
//! ];
//! let mut by_rank = NextItemEvaluator::new(&[1, 3]).unwrap();
//! let mut by_list = NextItemEvaluator::new(&[1, 3]).unwrap();
//! for (scores, target, seen) in users {
//!     let exclude = |i: usize| i == 0 || seen.contains(&(i as u32));
//!     // Exact rank over the whole catalogue ...
//!     by_rank.add_rank(target_rank(scores, target as usize, exclude).unwrap_or(0));
//!     // ... or a truncated top-3 list (targets beyond it count as misses).
//!     let top: Vec<u32> = top_k_indices(scores, 3, exclude).iter().map(|p| p.0).collect();
//!     by_list.add_ranked_list(&top, target);
//! }
//! assert_eq!(by_rank.ranks(), &[2, 4]);
//! assert_eq!(by_list.ranks(), &[2, 0]);
//!
//! let report = by_rank.report();
//! assert_eq!(report.recall[&3], 0.5);
//! assert_eq!(report.to_flat_map()["mrr"], (0.5 + 0.25) / 2.0);
//! // Metrics at cutoffs <= 3 agree between the two protocols.
//! assert_eq!(report.ndcg, by_list.report().ndcg);
//! println!("{report}");
//! ```
#![deny(missing_docs)]

mod bootstrap;
mod cohort;
mod comparison;
mod error;
mod evaluator;
mod history;
mod list_statistics;
mod next_item;
mod next_item_metric;
mod play;
mod profile;
mod profile_metrics;
mod rank;
mod report;
mod set_metrics;
mod top_k;
mod top_k_stream;
mod wilson;

pub use bootstrap::{
    BootstrapConfig, ConfidenceInterval, bootstrap_mean_ci, bootstrap_mean_cis,
    paired_bootstrap_diff_ci,
};
pub use cohort::Cohorts;
pub use comparison::{Comparison, ComparisonRow};
pub use error::EvalError;
pub use evaluator::{EvaluationCounts, ModelEvaluation, ProfileEvalConfig, ProfileEvaluator};
pub use history::{History, HistoryPolicy};
pub use list_statistics::{ListStatistics, list_statistics};
pub use next_item::{NextItemEvaluator, NextItemReport};
pub use next_item_metric::{NextItemMeasure, NextItemMetric};
pub use play::Play;
pub use profile::{ProfileConfig, ProfileCounts, Profiles, Relevance, TrackStats, UserProfile};
pub use profile_metrics::{Metric, MetricKey, graded_ndcg_at_k, reciprocal_rank_set};
pub use rank::{ndcg_at_k, recall_at_k, reciprocal_rank};
pub use report::{BaselineDiff, GroupSize, ModelInfo, ProfileReport, ReportRow};
pub use set_metrics::{
    SetMetrics, f1_at_k, hit_rate_at_k, ndcg_at_k_set, precision_at_k, recall_at_k_set,
    set_metrics_at_k,
};
pub use top_k::{target_rank, top_k_indices};
pub use top_k_stream::{TopKAccumulator, TopKBatch};
pub use wilson::{WILSON_Z_95, wilson_interval, wilson_lower_bound};
