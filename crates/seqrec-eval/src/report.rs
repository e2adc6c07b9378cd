//! The report of a profile-based evaluation: every model × user group ×
//! metric with its bootstrap interval and its paired difference to the
//! baseline, rendered as Markdown tables laid out like the paper's Tables 1
//! and 2, as CSV, and as JSON.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::comparison::fmt_ci;
use crate::{
    BootstrapConfig, EvalError, EvaluationCounts, HistoryPolicy, Metric, MetricKey,
    ModelEvaluation, ProfileConfig, ProfileEvaluator,
};

/// The paired difference of a model to the baseline (the first model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineDiff {
    /// Baseline model name.
    pub baseline: String,
    /// `mean(model) − mean(baseline)`.
    pub diff: f64,
    /// Lower bound of the paired bootstrap interval of the difference.
    pub ci_lower: f64,
    /// Upper bound of the paired bootstrap interval of the difference.
    pub ci_upper: f64,
    /// Whether the model's and the baseline's marginal intervals overlap.
    pub intervals_overlap: bool,
    /// Whether the difference interval excludes 0.
    pub diff_excludes_zero: bool,
}

/// One model × group × metric line of a [`ProfileReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// Model name.
    pub model: String,
    /// `"All"` or the cohort label.
    pub cohort: String,
    /// Metric.
    pub metric: Metric,
    /// Cutoff (`None` for MRR).
    pub k: Option<usize>,
    /// Users in the group.
    pub users: usize,
    /// Mean over the group's users.
    pub mean: f64,
    /// Lower bound of the bootstrap interval of the mean.
    pub ci_lower: f64,
    /// Upper bound of the bootstrap interval of the mean.
    pub ci_upper: f64,
    /// Paired difference to the baseline (`None` for the baseline itself).
    pub vs_baseline: Option<BaselineDiff>,
}

impl ReportRow {
    /// The metric key of this row.
    pub fn key(&self) -> MetricKey {
        MetricKey {
            metric: self.metric,
            k: self.k,
        }
    }
}

/// A user group of the report and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSize {
    /// `"All"` or the cohort label.
    pub label: String,
    /// Evaluated users in the group.
    pub users: usize,
}

/// Per-model bookkeeping of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model name.
    pub name: String,
    /// Evaluated users without a list from this model (scored as empty).
    pub missing_lists: usize,
    /// Lists for users that were not evaluated (ignored).
    pub unknown_users: usize,
}

/// Everything needed to reproduce the paper's Tables 1 and 2 for any metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// Models in report order; the first is the baseline.
    pub models: Vec<ModelInfo>,
    /// Cutoffs.
    pub ks: Vec<usize>,
    /// Profile construction settings.
    pub profile: ProfileConfig,
    /// History policy.
    pub history: HistoryPolicy,
    /// Bootstrap settings.
    pub bootstrap: BootstrapConfig,
    /// Evaluated and excluded user counts.
    pub counts: EvaluationCounts,
    /// `"All"` followed by every cohort, with sizes.
    pub groups: Vec<GroupSize>,
    /// Model-major, then group, then metric key. Empty groups have no rows.
    pub rows: Vec<ReportRow>,
}

impl ProfileEvaluator {
    /// Bootstraps every model over all users and per cohort; models after the
    /// first get a paired difference to the first (the baseline).
    ///
    /// Errors: [`EvalError::NoModels`], or [`EvalError::IncompatibleEvaluations`]
    /// for an evaluation made by another evaluator.
    pub fn report<'a>(
        &self,
        evaluations: impl IntoIterator<Item = &'a ModelEvaluation>,
    ) -> Result<ProfileReport, EvalError> {
        let evals: Vec<&ModelEvaluation> = evaluations.into_iter().collect();
        let groups = self.summarize(&evals)?;
        let baseline = evals[0].model().to_string();
        let mut rows = Vec::new();
        for (m, e) in evals.iter().enumerate() {
            for g in groups.iter().filter(|g| g.users > 0) {
                for (k, key) in self.keys().iter().enumerate() {
                    let ci = g.means[m][k];
                    let vs_baseline = (m > 0).then(|| {
                        let d = g.diffs[m - 1][k];
                        BaselineDiff {
                            baseline: baseline.clone(),
                            diff: d.estimate,
                            ci_lower: d.lower,
                            ci_upper: d.upper,
                            intervals_overlap: ci.overlaps(&g.means[0][k]),
                            diff_excludes_zero: !d.contains(0.0),
                        }
                    });
                    rows.push(ReportRow {
                        model: e.model().to_string(),
                        cohort: g.label.clone(),
                        metric: key.metric,
                        k: key.k,
                        users: g.users,
                        mean: ci.estimate,
                        ci_lower: ci.lower,
                        ci_upper: ci.upper,
                        vs_baseline,
                    });
                }
            }
        }
        let config = self.config();
        Ok(ProfileReport {
            models: evals
                .iter()
                .map(|e| ModelInfo {
                    name: e.model().to_string(),
                    missing_lists: e.missing_lists(),
                    unknown_users: e.unknown_users(),
                })
                .collect(),
            ks: config.ks.clone(),
            profile: config.profile,
            history: config.history,
            bootstrap: config.bootstrap,
            counts: self.counts().clone(),
            groups: groups
                .iter()
                .map(|g| GroupSize {
                    label: g.label.clone(),
                    users: g.users,
                })
                .collect(),
            rows,
        })
    }
}

impl ProfileReport {
    /// The row of `model`, group `cohort` (`"All"` or a cohort label) and `key`.
    pub fn get(&self, model: &str, cohort: &str, key: MetricKey) -> Option<&ReportRow> {
        self.rows
            .iter()
            .find(|r| r.model == model && r.cohort == cohort && r.key() == key)
    }

    /// The paper's Table 1: F1 at every cutoff (rows) for every model (columns).
    pub fn to_markdown_table1(&self) -> String {
        self.markdown_table1(Metric::F1)
    }

    /// The paper's Table 2: F1 per history-length cohort and cutoff.
    pub fn to_markdown_table2(&self) -> String {
        self.markdown_table2(Metric::F1)
    }

    /// Table 1 for any metric, over all users. Each cell is
    /// `mean [CI lower, CI upper]`; `†` marks an interval that does not overlap
    /// the baseline's, `*` a paired difference interval that excludes 0.
    pub fn markdown_table1(&self, metric: Metric) -> String {
        let users = self.group_users("All");
        let mut s = self.caption(
            1,
            metric,
            &format!("at different cutoffs k over {users} users"),
        );
        let _ = writeln!(s, "| k | {} |", self.model_names().join(" | "));
        let _ = writeln!(s, "| ---: |{}", " :--- |".repeat(self.models.len()));
        for k in self.cutoffs(metric) {
            let _ = writeln!(s, "| {} | {} |", fmt_k(k), self.cells("All", metric, k));
        }
        s
    }

    /// Table 2 for any metric: one block of cutoffs per cohort, labelled
    /// with the cohort and its number of users. Cells as in
    /// [`markdown_table1`](Self::markdown_table1).
    pub fn markdown_table2(&self, metric: Metric) -> String {
        let mut s = self.caption(2, metric, "by history length cohort at different cutoffs k");
        let _ = writeln!(
            s,
            "| Hist. Length | k | {} |",
            self.model_names().join(" | ")
        );
        let _ = writeln!(s, "| :--- | ---: |{}", " :--- |".repeat(self.models.len()));
        for g in self.groups.iter().skip(1) {
            for (i, k) in self.cutoffs(metric).into_iter().enumerate() {
                let label = if i == 0 {
                    format!("{} (n = {})", g.label, g.users)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    "| {label} | {} | {} |",
                    fmt_k(k),
                    self.cells(&g.label, metric, k)
                );
            }
        }
        s
    }

    /// CSV with a header line and one line per [`ReportRow`]:
    /// `model,cohort,metric,k,users,mean,ci_lower,ci_upper,baseline,diff,diff_ci_lower,diff_ci_upper,intervals_overlap,diff_excludes_zero`
    /// (the last six empty for the baseline, `k` empty for MRR).
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "model,cohort,metric,k,users,mean,ci_lower,ci_upper,baseline,diff,diff_ci_lower,diff_ci_upper,intervals_overlap,diff_excludes_zero\n",
        );
        for r in &self.rows {
            let _ = write!(
                s,
                "{},{},{},{},{},{},{},{}",
                csv_field(&r.model),
                csv_field(&r.cohort),
                r.metric.name(),
                r.k.map(|k| k.to_string()).unwrap_or_default(),
                r.users,
                r.mean,
                r.ci_lower,
                r.ci_upper
            );
            match &r.vs_baseline {
                Some(d) => {
                    let _ = writeln!(
                        s,
                        ",{},{},{},{},{},{}",
                        csv_field(&d.baseline),
                        d.diff,
                        d.ci_lower,
                        d.ci_upper,
                        d.intervals_overlap,
                        d.diff_excludes_zero
                    );
                }
                None => s.push_str(",,,,,,\n"),
            }
        }
        s
    }

    /// Pretty-printed JSON of the whole report.
    pub fn to_json(&self) -> Result<String, EvalError> {
        serde_json::to_string_pretty(self).map_err(|e| EvalError::Serialization {
            reason: e.to_string(),
        })
    }

    /// Parses a report written by [`to_json`](Self::to_json).
    pub fn from_json(json: &str) -> Result<Self, EvalError> {
        serde_json::from_str(json).map_err(|e| EvalError::Serialization {
            reason: e.to_string(),
        })
    }

    fn model_names(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.name.as_str()).collect()
    }

    fn group_users(&self, label: &str) -> usize {
        self.groups
            .iter()
            .find(|g| g.label == label)
            .map_or(0, |g| g.users)
    }

    fn cutoffs(&self, metric: Metric) -> Vec<Option<usize>> {
        if metric.has_cutoff() {
            self.ks.iter().map(|&k| Some(k)).collect()
        } else {
            vec![None]
        }
    }

    fn caption(&self, table: u8, metric: Metric, what: &str) -> String {
        let b = &self.bootstrap;
        let baseline = self.models.first().map_or("", |m| m.name.as_str());
        format!(
            "Table {table}: {} {what}. Mean [{:.0} % percentile-bootstrap CI, {} resamples, seed {}]; \
             † CI does not overlap {baseline}'s, * paired difference to {baseline} excludes 0.\n\n",
            metric.title(),
            b.confidence * 100.0,
            b.resamples,
            b.seed,
        )
    }

    fn cells(&self, cohort: &str, metric: Metric, k: Option<usize>) -> String {
        let key = MetricKey { metric, k };
        self.models
            .iter()
            .map(|m| match self.get(&m.name, cohort, key) {
                None => "–".to_string(),
                Some(r) => {
                    let ci = crate::ConfidenceInterval {
                        estimate: r.mean,
                        lower: r.ci_lower,
                        upper: r.ci_upper,
                    };
                    let mut cell = fmt_ci(&ci);
                    if let Some(d) = &r.vs_baseline {
                        let marks = match (d.intervals_overlap, d.diff_excludes_zero) {
                            (false, true) => " †*",
                            (false, false) => " †",
                            (true, true) => " *",
                            (true, false) => "",
                        };
                        cell.push_str(marks);
                    }
                    cell
                }
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

fn fmt_k(k: Option<usize>) -> String {
    k.map_or_else(|| "–".to_string(), |k| k.to_string())
}

/// Quotes a CSV field if it contains a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{History, Play, ProfileEvalConfig};

    fn report() -> ProfileReport {
        let held: Vec<Play> = (1..=30u32)
            .flat_map(|u| {
                [
                    Play::new(u, u, 60_000),
                    Play::new(u, u, 60_000),
                    Play::new(u, u + 100, 60_000),
                    Play::new(u, u + 100, 0),
                ]
            })
            .collect();
        // Users 1..=10 in (0, 50], 11..=30 in (50, 100]; no one above.
        let history = History::from_lengths((1..=30u32).map(|u| (u, if u <= 10 { 5 } else { 60 })));
        let cfg = ProfileEvalConfig {
            ks: vec![1, 2],
            bootstrap: BootstrapConfig {
                resamples: 100,
                seed: 5,
                ..BootstrapConfig::default()
            },
            ..ProfileEvalConfig::default()
        };
        let ev = ProfileEvaluator::new(cfg, held, &history).unwrap();
        let base = ev
            .evaluate("Baseline", (1..=30u32).map(|u| (u, vec![500, u + 100])))
            .unwrap();
        let prop = ev
            .evaluate(
                "Proposed w/ PE, w/o \"mask\"",
                (1..=30u32).map(|u| (u, vec![u, u + 100])),
            )
            .unwrap();
        ev.report([&base, &prop]).unwrap()
    }

    #[test]
    fn rows_groups_and_diffs() {
        let r = report();
        assert_eq!(r.models.len(), 2);
        let sizes: Vec<usize> = r.groups.iter().map(|g| g.users).collect();
        assert_eq!(sizes, vec![30, 10, 20, 0, 0]);
        // 2 models × 3 non-empty groups × (6 metrics × 2 ks + MRR).
        assert_eq!(r.rows.len(), 2 * 3 * 13);
        let key = MetricKey::at(Metric::F1, 2);
        let b = r.get("Baseline", "All", key).unwrap();
        assert!(b.vs_baseline.is_none());
        // Baseline: 1 of 2 relevant at k = 2 → P = R = F1 = 1/2; proposed: 1.
        assert!((b.mean - 0.5).abs() < 1e-12);
        let p = r
            .get("Proposed w/ PE, w/o \"mask\"", "(0, 50]", key)
            .unwrap();
        assert_eq!(p.users, 10);
        let d = p.vs_baseline.as_ref().unwrap();
        assert!((d.diff - 0.5).abs() < 1e-12);
        assert!(!d.intervals_overlap && d.diff_excludes_zero);
        assert!(r.get("Baseline", ">150", key).is_none());
    }

    #[test]
    fn markdown_tables_follow_the_paper_layout() {
        let r = report();
        let t1 = r.to_markdown_table1();
        assert!(t1.starts_with("Table 1: F1 at different cutoffs k over 30 users."));
        assert!(t1.contains("| k | Baseline | Proposed w/ PE, w/o \"mask\" |"));
        // Proposed at k = 1: P = 1, R = 1/2, F1 = 2/3.
        assert!(t1.contains("| 1 | 0.0000 [0.0000, 0.0000] | 0.6667 [0.6667, 0.6667] †* |"));
        assert!(t1.contains("| 2 | 0.5000 [0.5000, 0.5000] | 1.0000 [1.0000, 1.0000] †* |"));
        let t2 = r.to_markdown_table2();
        assert!(t2.contains("| Hist. Length | k | Baseline |"));
        assert!(t2.contains("| (0, 50] (n = 10) | 1 |"));
        assert!(t2.contains("|  | 2 |"));
        assert!(t2.contains("| >150 (n = 0) | 1 | – | – |"));
        let mrr = r.markdown_table1(Metric::Mrr);
        assert!(mrr.contains("| – | 0.5000 [0.5000, 0.5000] | 1.0000 [1.0000, 1.0000] †* |"));
    }

    #[test]
    fn csv_and_json() {
        let r = report();
        let csv = r.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + r.rows.len());
        assert!(lines[0].starts_with("model,cohort,metric,k,users,mean"));
        assert!(lines[1].starts_with("Baseline,All,precision,1,30,0,0,0,,,,,,"));
        assert!(csv.contains(
            "\"Proposed w/ PE, w/o \"\"mask\"\"\",All,f1,2,30,1,1,1,Baseline,0.5,0.5,0.5,false,true"
        ));
        assert!(csv.contains("Baseline,All,mrr,,30,0.5,"));
        // Every line has 14 fields once quoted fields are accounted for.
        for line in &lines {
            assert_eq!(csv_split(line).len(), 14, "{line}");
        }
        assert_eq!(csv_split(lines[1 + 13])[1], "(0, 50]");
        let proposed = lines.iter().find(|l| l.starts_with('"')).unwrap();
        assert_eq!(csv_split(proposed)[0], "Proposed w/ PE, w/o \"mask\"");
        let json = r.to_json().unwrap();
        let back = ProfileReport::from_json(&json).unwrap();
        assert_eq!(back, r);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["rows"][0]["metric"], "precision");
        assert!(matches!(
            ProfileReport::from_json("{").unwrap_err(),
            EvalError::Serialization { .. }
        ));
    }

    /// Minimal RFC 4180 field splitter for one line (test-side parser).
    fn csv_split(line: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    fields.last_mut().unwrap().push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(String::new()),
                (c, _) => fields.last_mut().unwrap().push(c),
            }
        }
        fields
    }

    #[test]
    fn report_needs_models() {
        let ev = ProfileEvaluator::new(
            ProfileEvalConfig::default(),
            Vec::<Play>::new(),
            &History::new(),
        )
        .unwrap();
        assert_eq!(
            ev.report(Vec::<&ModelEvaluation>::new()).unwrap_err(),
            EvalError::NoModels
        );
    }
}
