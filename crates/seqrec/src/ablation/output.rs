//! What an ablation writes: Tables 1 and 2 (Markdown, CSV, JSON), plots and `run.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use seqrec_eval::{Metric, MetricKey, ProfileReport};
use serde::Serialize;

use super::AblationError;
use super::next_item::NextItemAblation;
use super::plots;
use super::profile::ProfileAblation;

/// The group label of all users in a [`ProfileReport`].
pub const ALL_USERS: &str = "All";

fn write(path: &Path, text: &str) -> Result<PathBuf, AblationError> {
    std::fs::write(path, text).map_err(AblationError::io(path))?;
    Ok(path.to_path_buf())
}

fn to_json<T: Serialize>(value: &T, path: &Path) -> Result<String, AblationError> {
    serde_json::to_string_pretty(value).map_err(|e| AblationError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })
}

/// The rows of `report` for F1 and the groups that `keep` accepts.
fn f1_only(report: &ProfileReport, keep: impl Fn(&str) -> bool) -> ProfileReport {
    let mut r = report.clone();
    r.rows
        .retain(|row| row.metric == Metric::F1 && keep(&row.cohort));
    r.groups.retain(|g| keep(&g.label));
    r
}

/// Paired differences to the baseline (F1) for one group, in Markdown.
fn differences(report: &ProfileReport, group: &str) -> String {
    let baseline = report.models.first().map(|m| m.name.as_str()).unwrap_or("");
    let others: Vec<&str> = report
        .models
        .iter()
        .skip(1)
        .map(|m| m.name.as_str())
        .collect();
    let mut s = format!(
        "F1@k − {baseline} (paired bootstrap, 95 % CI; `*`: the interval excludes 0)\n\n| k | {} |\n| ---: |{}\n",
        others.join(" | "),
        " :--- |".repeat(others.len())
    );
    for &k in &report.ks {
        let key = MetricKey {
            metric: Metric::F1,
            k: Some(k),
        };
        let cells: Vec<String> = others
            .iter()
            .map(|m| {
                match report
                    .get(m, group, key)
                    .and_then(|r| r.vs_baseline.as_ref())
                {
                    Some(d) => format!(
                        "{:+.4} [{:+.4}, {:+.4}]{}",
                        d.diff,
                        d.ci_lower,
                        d.ci_upper,
                        if d.diff_excludes_zero { "*" } else { "" }
                    ),
                    None => "—".into(),
                }
            })
            .collect();
        let _ = writeln!(s, "| {k} | {} |", cells.join(" | "));
    }
    s
}

impl ProfileAblation {
    /// Table 1 in Markdown: F1@k of every model with intervals, then the paired differences
    /// to the item-item baseline, then how the models were trained.
    pub fn table1_markdown(&self) -> String {
        let mut s = self.report.to_markdown_table1();
        s.push('\n');
        s.push_str(&differences(&self.report, ALL_USERS));
        s.push('\n');
        s.push_str(&self.training_note());
        s
    }

    /// Table 2 in Markdown: F1@k per history-length cohort, then the paired differences per
    /// cohort.
    pub fn table2_markdown(&self) -> String {
        let mut s = self.report.to_markdown_table2();
        for g in self.report.groups.iter().skip(1).filter(|g| g.users > 0) {
            let _ = write!(s, "\n**{}** (n = {}): ", g.label, g.users);
            s.push_str(&differences(&self.report, &g.label));
        }
        s.push('\n');
        s.push_str(&self.training_note());
        s
    }

    fn training_note(&self) -> String {
        let c = &self.config;
        let mut s = format!(
            "Trained on {} ({} tracks, {} users, {} plays); {} users evaluated. Budget: {} per model, seed {}; {}. Transformers: len {}, d {}, {} blocks, {} head(s), {} output embeddings, dropout {}, {:?}, {} negatives {} ({:?}), lr {}.\n",
            self.data.source,
            self.data.tracks,
            self.data.training_users,
            self.data.training_plays,
            self.data.evaluated_users,
            c.budget,
            c.seed,
            c.objective.describe(),
            c.max_len,
            c.dim,
            c.blocks,
            c.heads,
            match c.output_embeddings {
                seqrec_model::OutputEmbeddings::Separate => "separate",
                seqrec_model::OutputEmbeddings::Shared => "shared",
            },
            c.dropout,
            c.loss,
            c.negatives,
            c.sharing,
            c.negative_distribution,
            c.learning_rate
        );
        for run in &self.runs {
            if let Some(t) = &run.training {
                let _ = writeln!(
                    s,
                    "- {}: {} steps in {:.0} s, best validation NDCG@10 {:.4} at step {}",
                    run.name,
                    t.steps,
                    run.train_seconds,
                    t.best_validation
                        .and_then(|b| t.validations.get(b - 1))
                        .copied()
                        .unwrap_or(f64::NAN),
                    t.best_step
                );
            }
        }
        s
    }

    /// Writes `table1.{md,csv,json}`, `table2.{md,csv,json}`, `report.json` (every metric),
    /// the plots (PNG and SVG) and `run.json` into `dir`; returns the paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, AblationError> {
        std::fs::create_dir_all(dir).map_err(AblationError::io(dir))?;
        let mut written = Vec::new();
        let table1 = f1_only(&self.report, |g| g == ALL_USERS);
        let table2 = f1_only(&self.report, |g| g != ALL_USERS);
        written.push(write(&dir.join("table1.md"), &self.table1_markdown())?);
        written.push(write(&dir.join("table1.csv"), &table1.to_csv())?);
        let path = dir.join("table1.json");
        written.push(write(&path, &to_json(&table1, &path)?)?);
        written.push(write(&dir.join("table2.md"), &self.table2_markdown())?);
        written.push(write(&dir.join("table2.csv"), &table2.to_csv())?);
        let path = dir.join("table2.json");
        written.push(write(&path, &to_json(&table2, &path)?)?);
        let path = dir.join("report.json");
        written.push(write(&path, &to_json(&self.report, &path)?)?);
        written.extend(plots::f1_at_k(&self.report, &dir.join("f1_at_k"))?);
        written.extend(plots::cohorts(&self.report, &dir.join("f1_by_cohort"))?);
        let path = dir.join("run.json");
        let run = serde_json::json!({
            "protocol": "profile",
            "config": self.config,
            "data": self.data,
            "models": self.runs,
            "seconds": self.seconds,
        });
        written.push(write(&path, &to_json(&run, &path)?)?);
        Ok(written)
    }
}

impl NextItemAblation {
    /// Writes `next_item.{md,csv,json}` and `run.json` into `dir`; returns the paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, AblationError> {
        std::fs::create_dir_all(dir).map_err(AblationError::io(dir))?;
        let mut written = Vec::new();
        written.push(write(&dir.join("next_item.md"), &self.to_markdown())?);
        written.push(write(&dir.join("next_item.csv"), &self.to_csv())?);
        let path = dir.join("next_item.json");
        written.push(write(&path, &to_json(&self.rows, &path)?)?);
        let path = dir.join("run.json");
        let run = serde_json::json!({
            "protocol": "next_item",
            "exclude_history": self.exclude_history,
            "config": self.config,
            "data": self.data,
            "models": self.runs,
            "seconds": self.seconds,
        });
        written.push(write(&path, &to_json(&run, &path)?)?);
        Ok(written)
    }
}
