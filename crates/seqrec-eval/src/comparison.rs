//! Paired comparison of two models: both marginal 95 % intervals, the paired
//! bootstrap interval of their difference, and whether the marginal intervals
//! overlap (the form of the paper's Table 1 and 2 claims).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::{ConfidenceInterval, EvalError, MetricKey, ModelEvaluation, ProfileEvaluator};

/// One metric of one user group in a [`Comparison`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// `"All"` or the cohort label.
    pub cohort: String,
    /// Users in the group.
    pub users: usize,
    /// The metric.
    pub key: MetricKey,
    /// Mean and interval of model A.
    pub a: ConfidenceInterval,
    /// Mean and interval of model B.
    pub b: ConfidenceInterval,
    /// Paired bootstrap interval of `mean(A) − mean(B)`.
    pub difference: ConfidenceInterval,
    /// Whether the marginal intervals of A and B overlap.
    pub intervals_overlap: bool,
    /// Whether the paired difference interval excludes 0.
    pub difference_excludes_zero: bool,
}

/// Paired bootstrap comparison of model A against model B for every metric,
/// over all users and per cohort (empty cohorts are left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Name of model A.
    pub model_a: String,
    /// Name of model B (the reference).
    pub model_b: String,
    /// Rows, group by group (all users first), metric keys in evaluator order.
    pub rows: Vec<ComparisonRow>,
}

impl Comparison {
    /// The row of a group (`"All"` or a cohort label) and metric.
    pub fn get(&self, cohort: &str, key: MetricKey) -> Option<&ComparisonRow> {
        self.rows
            .iter()
            .find(|r| r.cohort == cohort && r.key == key)
    }

    /// A Markdown table with one line per group and metric.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| Group | Metric | {a} | {b} | {a} − {b} (paired) | CIs overlap |",
            a = self.model_a,
            b = self.model_b
        );
        s.push_str("| :--- | :--- | :--- | :--- | :--- | :---: |\n");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} (n = {}) | {} | {} | {} | {} | {} |",
                r.cohort,
                r.users,
                r.key,
                fmt_ci(&r.a),
                fmt_ci(&r.b),
                fmt_ci(&r.difference),
                if r.intervals_overlap { "yes" } else { "no" }
            );
        }
        s
    }
}

/// `0.0178 [0.0170, 0.0186]`.
pub(crate) fn fmt_ci(ci: &ConfidenceInterval) -> String {
    format!("{:.4} [{:.4}, {:.4}]", ci.estimate, ci.lower, ci.upper)
}

impl ProfileEvaluator {
    /// Compares model `a` with model `b` (both from this evaluator) with a
    /// paired bootstrap: every resample draws the same users for both.
    ///
    /// Errors: [`EvalError::IncompatibleEvaluations`] if either was produced
    /// by another evaluator.
    ///
    /// ```
    /// use seqrec_eval::{History, Metric, MetricKey, Play, ProfileEvalConfig, ProfileEvaluator};
    ///
    /// let held: Vec<Play> = (1..=40u32)
    ///     .flat_map(|u| [Play::new(u, u, 60_000), Play::new(u, u, 60_000), Play::new(u, 999, 0)])
    ///     .collect();
    /// let ev = ProfileEvaluator::new(ProfileEvalConfig::default(), held, &History::new()).unwrap();
    /// let hit = ev.evaluate("hit", (1..=40u32).map(|u| (u, vec![u]))).unwrap();
    /// let miss = ev.evaluate("miss", (1..=40u32).map(|u| (u, vec![0]))).unwrap();
    /// let cmp = ev.compare(&hit, &miss).unwrap();
    /// let row = cmp.get("All", MetricKey::at(Metric::HitRate, 10)).unwrap();
    /// assert!(!row.intervals_overlap && row.difference_excludes_zero);
    /// ```
    pub fn compare(
        &self,
        a: &ModelEvaluation,
        b: &ModelEvaluation,
    ) -> Result<Comparison, EvalError> {
        // Model B is the reference (index 0) of the summaries.
        let groups = self.summarize(&[b, a])?;
        let mut rows = Vec::new();
        for g in groups.iter().filter(|g| g.users > 0) {
            for (k, key) in self.keys().iter().enumerate() {
                let (ca, cb) = (g.means[1][k], g.means[0][k]);
                let d = g.diffs[0][k];
                rows.push(ComparisonRow {
                    cohort: g.label.clone(),
                    users: g.users,
                    key: *key,
                    a: ca,
                    b: cb,
                    difference: d,
                    intervals_overlap: ca.overlaps(&cb),
                    difference_excludes_zero: !d.contains(0.0),
                });
            }
        }
        Ok(Comparison {
            model_a: a.model().to_string(),
            model_b: b.model().to_string(),
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BootstrapConfig, History, Metric, Play, ProfileEvalConfig};

    fn setup() -> (ProfileEvaluator, ModelEvaluation, ModelEvaluation) {
        // 60 users with one liked track each (their id) and history length = id.
        let held: Vec<Play> = (1..=60u32)
            .flat_map(|u| {
                [
                    Play::new(u, u, 60_000),
                    Play::new(u, u, 60_000),
                    Play::new(u, 0, 0),
                ]
            })
            .collect();
        let history = History::from_lengths((1..=60u32).map(|u| (u, u as u64 * 3)));
        let cfg = ProfileEvalConfig {
            ks: vec![1, 10],
            bootstrap: BootstrapConfig {
                resamples: 300,
                seed: 11,
                ..BootstrapConfig::default()
            },
            ..ProfileEvalConfig::default()
        };
        let ev = ProfileEvaluator::new(cfg, held, &history).unwrap();
        // A finds every user's track at rank 1, B at rank 1 for every 3rd user.
        let a = ev.evaluate("A", (1..=60u32).map(|u| (u, vec![u]))).unwrap();
        let b = ev
            .evaluate(
                "B",
                (1..=60u32).map(|u| (u, if u % 3 == 0 { vec![u] } else { vec![999, u] })),
            )
            .unwrap();
        (ev, a, b)
    }

    #[test]
    fn compare_reports_groups_and_differences() {
        let (ev, a, b) = setup();
        let cmp = ev.compare(&a, &b).unwrap();
        // Cohorts (lengths 3..=180): (0,50] has 16, (50,100] 17, (100,150] 17, >150 10.
        let sizes: Vec<(String, usize)> = cmp
            .rows
            .iter()
            .filter(|r| r.key == MetricKey::mrr())
            .map(|r| (r.cohort.clone(), r.users))
            .collect();
        assert_eq!(
            sizes,
            vec![
                ("All".to_string(), 60),
                ("(0, 50]".to_string(), 16),
                ("(50, 100]".to_string(), 17),
                ("(100, 150]".to_string(), 17),
                (">150".to_string(), 10)
            ]
        );
        let r = cmp.get("All", MetricKey::at(Metric::HitRate, 1)).unwrap();
        assert_eq!(r.a.estimate, 1.0);
        assert!((r.b.estimate - 1.0 / 3.0).abs() < 1e-12);
        assert!((r.difference.estimate - 2.0 / 3.0).abs() < 1e-12);
        assert!(!r.intervals_overlap && r.difference_excludes_zero);
        // At k = 10 both always hit: identical, the difference is exactly 0.
        let r = cmp.get("All", MetricKey::at(Metric::HitRate, 10)).unwrap();
        assert!(r.intervals_overlap && !r.difference_excludes_zero);
        assert_eq!((r.difference.lower, r.difference.upper), (0.0, 0.0));
        // Deterministic.
        assert_eq!(cmp, ev.compare(&a, &b).unwrap());
        // Swapping negates the difference.
        let rev = ev.compare(&b, &a).unwrap();
        let r2 = rev.get("All", MetricKey::at(Metric::HitRate, 1)).unwrap();
        assert!((r2.difference.estimate + 2.0 / 3.0).abs() < 1e-12);
        assert!(cmp.to_markdown().contains("| All (n = 60) | hit_rate@1 |"));
    }

    #[test]
    fn evaluations_from_another_evaluator_are_rejected() {
        let (ev, a, _) = setup();
        let other = ProfileEvaluator::new(
            ProfileEvalConfig::default(),
            [Play::new(1, 1, 60_000); 3],
            &History::new(),
        )
        .unwrap();
        let c = other.evaluate("C", [(1, vec![1])]).unwrap();
        assert!(matches!(
            ev.compare(&a, &c).unwrap_err(),
            EvalError::IncompatibleEvaluations { .. }
        ));
    }
}
