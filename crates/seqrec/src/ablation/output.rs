//! What an ablation writes: Tables 1 and 2 (Markdown, CSV, JSON), plots and `run.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use seqrec_eval::{Metric, MetricKey, ProfileReport};
use serde::Serialize;

use super::AblationError;
use super::next_item::NextItemAblation;
use super::plots;
use super::profile::{ModelListStatistics, ProfileAblation, View};
use super::run::ModelRun;
use seqrec_eval::ModelEvaluation;

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

/// Table 1 of `report` in Markdown with the paired differences to the baseline.
fn table1(report: &ProfileReport) -> String {
    let mut s = report.to_markdown_table1();
    s.push('\n');
    s.push_str(&differences(report, ALL_USERS));
    s
}

/// Table 2 of `report` in Markdown with the paired differences per cohort.
fn table2(report: &ProfileReport) -> String {
    let mut s = report.to_markdown_table2();
    for g in report.groups.iter().skip(1).filter(|g| g.users > 0) {
        let _ = write!(s, "\n**{}** (n = {}): ", g.label, g.users);
        s.push_str(&differences(report, &g.label));
    }
    s
}

/// The heading of the discovery view.
const DISCOVERY_HEADING: &str = "Discovery view: history tracks excluded from the ranked lists (each model's top k without the listener's history tracks) and from the profiles, so that only tracks new to the listener count.";

impl ProfileAblation {
    /// Table 1 in Markdown: F1@k of every model with intervals, then the paired differences
    /// to the item-item baseline, then how the models were trained.
    pub fn table1_markdown(&self) -> String {
        let mut s = table1(&self.report);
        s.push('\n');
        s.push_str(&self.training_note());
        s
    }

    /// Table 2 in Markdown: F1@k per history-length cohort, then the paired differences per
    /// cohort.
    pub fn table2_markdown(&self) -> String {
        let mut s = table2(&self.report);
        s.push('\n');
        s.push_str(&self.training_note());
        s
    }

    /// Table 1 of the discovery view ([`ProfileAblation::discovery`]) in Markdown, under a
    /// heading that says what it is; `None` without a discovery view.
    pub fn table1_discovery_markdown(&self) -> Option<String> {
        let report = self.discovery.as_ref()?;
        Some(format!(
            "## {DISCOVERY_HEADING}\n\n{}\n{}",
            table1(report),
            self.training_note()
        ))
    }

    /// Table 2 of the discovery view in Markdown; `None` without a discovery view.
    pub fn table2_discovery_markdown(&self) -> Option<String> {
        let report = self.discovery.as_ref()?;
        Some(format!(
            "## {DISCOVERY_HEADING}\n\n{}\n{}",
            table2(report),
            self.training_note()
        ))
    }

    /// What the command line prints: Table 1, then Table 1 of the discovery view.
    pub fn summary_markdown(&self) -> String {
        let mut s = self.table1_markdown();
        if let Some(discovery) = self.table1_discovery_markdown() {
            s.push('\n');
            s.push_str(&discovery);
        }
        s
    }

    fn training_note(&self) -> String {
        let c = &self.config;
        let t = &c.transformer;
        let mut s = format!(
            "Trained on {} ({} tracks, {} users, {} plays); {} users evaluated{}. Budget: {} per model, seed {}; {}. Transformers: len {}, d {}, {} blocks, {} head(s), {} output embeddings, dropout {}, {:?}, {} negatives {} ({:?}), lr {}.\n",
            self.data.source,
            self.data.tracks,
            self.data.training_users,
            self.data.training_plays,
            self.data.evaluated_users,
            match self.data.discovery_users {
                Some(n) => format!(" ({n} in the discovery view)"),
                None => String::new(),
            },
            c.schedule.budget,
            c.schedule.seed,
            c.objective.describe(),
            t.max_len,
            t.dim,
            t.blocks,
            t.heads,
            match t.output_embeddings {
                seqrec_model::OutputEmbeddings::Separate => "separate",
                seqrec_model::OutputEmbeddings::Shared => "shared",
            },
            t.dropout,
            t.loss,
            t.negatives,
            t.sharing,
            t.negative_distribution,
            t.learning_rate
        );
        if self.runs.iter().any(|r| r.kind == "personal_popularity") {
            let counted = if self.data.positive_histories {
                format!(
                    "positive plays (at least {} ms)",
                    c.evaluation.profile.positive_min_ms
                )
            } else {
                "every play (no play durations)".to_string()
            };
            let weighting = match c.personal_popularity_half_life {
                Some(h) => format!(", weighted with a half-life of {h} plays"),
                None => String::new(),
            };
            let _ = writeln!(
                s,
                "Personal popularity ranks the listener's history tracks by {counted}{weighting}, then every other track by popularity."
            );
        }
        for run in &self.runs {
            if let Some(t) = &run.training {
                let _ = write!(
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
                // The discovery view ranks with the checkpoint best at new tracks.
                let discovery = t.best_discovery_validation.and_then(|b| {
                    let value = t.discovery_validations.get(b - 1).copied().flatten()?;
                    Some((value, t.curve.get(b - 1)?.step))
                });
                if let Some((value, step)) = discovery {
                    let _ = write!(
                        s,
                        "; for new tracks (the discovery view's model) {value:.4} at step {step}"
                    );
                }
                s.push('\n');
            }
        }
        s
    }

    /// Writes `table1.{md,csv,json}`, `table2.{md,csv,json}`, `report.json` (every metric),
    /// the plots (PNG and SVG; feature `plots`) and `run.json` into `dir`, and the same tables, report and
    /// plots of the discovery view with the suffix `_discovery` (`table1_discovery.csv`, …);
    /// `beyond_accuracy.{md,csv}` (catalogue coverage and mean popularity of every model's
    /// lists) and `per_user.csv` (every evaluated user's metrics, both views); returns the
    /// paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, AblationError> {
        std::fs::create_dir_all(dir).map_err(AblationError::io(dir))?;
        let mut written = write_view(
            dir,
            "",
            &self.report,
            &self.table1_markdown(),
            &self.table2_markdown(),
        )?;
        if let (Some(report), Some(md1), Some(md2)) = (
            &self.discovery,
            self.table1_discovery_markdown(),
            self.table2_discovery_markdown(),
        ) {
            written.extend(write_view(dir, "_discovery", report, &md1, &md2)?);
        }
        written.extend(write_learning_curves(dir, &self.runs)?);
        written.extend(write_list_statistics(dir, &self.list_statistics)?);
        written.extend(write_per_user(dir, &self.per_user, &self.user_names)?);
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

/// A CSV file of `rows` under `header`, built with the `csv` crate's quoting.
fn csv_text(header: &[String], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail but for a row of the wrong length, which is a bug here.
    let mut put = |row: &[String]| writer.write_record(row).expect("in-memory CSV row");
    put(header);
    for row in rows {
        put(&row);
    }
    String::from_utf8(writer.into_inner().expect("in-memory CSV")).expect("UTF-8 CSV")
}

/// Writes `beyond_accuracy.csv` (view, model, k, users, distinct tracks, coverage, mean
/// popularity) and `beyond_accuracy.md` (coverage and mean popularity per model and cutoff,
/// one table per view).
fn write_list_statistics(
    dir: &Path,
    statistics: &[ModelListStatistics],
) -> Result<Vec<PathBuf>, AblationError> {
    if statistics.is_empty() {
        return Ok(Vec::new());
    }
    let header = [
        "view",
        "model",
        "k",
        "users",
        "distinct_tracks",
        "coverage",
        "mean_popularity",
    ]
    .map(String::from);
    let rows = statistics.iter().flat_map(|m| {
        m.cutoffs.iter().map(|c| {
            vec![
                m.view.name().to_owned(),
                m.model.clone(),
                c.k.to_string(),
                c.users.to_string(),
                c.distinct_tracks.to_string(),
                c.coverage.to_string(),
                c.mean_popularity.to_string(),
            ]
        })
    });
    let csv = csv_text(&header, rows);
    let mut md = String::from(
        "Beyond accuracy: catalogue coverage (the share of tracks in any user's top k) and mean popularity (plays of a recommended track in the history window) of every model's lists.\n",
    );
    for view in [View::Main, View::Discovery] {
        let models: Vec<&ModelListStatistics> =
            statistics.iter().filter(|m| m.view == view).collect();
        let Some(first) = models.first() else {
            continue;
        };
        md.push_str(&format!("\n{} view\n\n| model |", view.name()));
        for c in &first.cutoffs {
            md.push_str(&format!(" coverage@{k} | popularity@{k} |", k = c.k));
        }
        md.push_str("\n| --- |");
        md.push_str(&" ---: | ---: |".repeat(first.cutoffs.len()));
        md.push('\n');
        for m in models {
            md.push_str(&format!("| {} |", m.model));
            for c in &m.cutoffs {
                md.push_str(&format!(" {:.4} | {:.1} |", c.coverage, c.mean_popularity));
            }
            md.push('\n');
        }
    }
    Ok(vec![
        write(&dir.join("beyond_accuracy.csv"), &csv)?,
        write(&dir.join("beyond_accuracy.md"), &md)?,
    ])
}

/// Writes `per_user.csv`: view, model, the user's own id, then every metric of the
/// evaluation (`f1@10`, ...), one row per evaluated user, model and view; nothing without
/// evaluations.
fn write_per_user(
    dir: &Path,
    per_user: &[(View, ModelEvaluation)],
    user_names: &[String],
) -> Result<Option<PathBuf>, AblationError> {
    let Some((_, first)) = per_user.first() else {
        return Ok(None);
    };
    let keys = first.keys();
    let mut header = ["view", "model", "user"].map(String::from).to_vec();
    header.extend(keys.iter().map(ToString::to_string));
    let rows = per_user.iter().flat_map(|(view, evaluation)| {
        evaluation.users().iter().map(move |&user| {
            let mut row = vec![
                view.name().to_owned(),
                evaluation.model().to_owned(),
                (user as usize)
                    .checked_sub(1)
                    .and_then(|u| user_names.get(u))
                    .cloned()
                    .unwrap_or_else(|| user.to_string()),
            ];
            row.extend(
                evaluation
                    .user_values(user)
                    .unwrap_or_default()
                    .iter()
                    .map(f64::to_string),
            );
            row
        })
    });
    write(&dir.join("per_user.csv"), &csv_text(&header, rows)).map(Some)
}

/// Writes `learning_curves.csv` (model, step, seconds, loss, validation NDCG@10, and the
/// discovery validation's NDCG@10 of new tracks when there was one) and, with the `plots`
/// feature, the plot `learning_curves.{png,svg}` of every model that trained with validations.
fn write_learning_curves(dir: &Path, runs: &[ModelRun]) -> Result<Vec<PathBuf>, AblationError> {
    let mut csv = String::from("model,step,seconds,loss,ndcg_at_10,ndcg_at_10_new\n");
    let mut curves = Vec::new();
    let cell = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for run in runs {
        let Some(training) = &run.training else {
            continue;
        };
        let mut points = Vec::new();
        for p in &training.curve {
            csv.push_str(&format!(
                "\"{}\",{},{},{},{},{}\n",
                run.name.replace('"', "\"\""),
                p.step,
                cell(p.seconds),
                cell(p.loss),
                p.ndcg_at_10,
                cell(p.ndcg_at_10_new)
            ));
            if let Some(seconds) = p.seconds {
                points.push((p.step as f64, seconds, p.ndcg_at_10));
            }
        }
        curves.push(plots::Curve {
            name: &run.name,
            points,
        });
    }
    let mut written = vec![write(&dir.join("learning_curves.csv"), &csv)?];
    if curves.iter().any(|c| !c.points.is_empty()) {
        written.extend(plots::learning_curves(
            &curves,
            &dir.join("learning_curves"),
        )?);
    }
    Ok(written)
}

/// Writes the tables, report and plots of one view of a profile ablation, every file name
/// ending in `suffix` before its extension.
fn write_view(
    dir: &Path,
    suffix: &str,
    report: &ProfileReport,
    table1_md: &str,
    table2_md: &str,
) -> Result<Vec<PathBuf>, AblationError> {
    let mut written = Vec::new();
    let name = |stem: &str, ext: &str| dir.join(format!("{stem}{suffix}{ext}"));
    let table1 = f1_only(report, |g| g == ALL_USERS);
    let table2 = f1_only(report, |g| g != ALL_USERS);
    written.push(write(&name("table1", ".md"), table1_md)?);
    written.push(write(&name("table1", ".csv"), &table1.to_csv())?);
    let path = name("table1", ".json");
    written.push(write(&path, &to_json(&table1, &path)?)?);
    written.push(write(&name("table2", ".md"), table2_md)?);
    written.push(write(&name("table2", ".csv"), &table2.to_csv())?);
    let path = name("table2", ".json");
    written.push(write(&path, &to_json(&table2, &path)?)?);
    let path = name("report", ".json");
    written.push(write(&path, &to_json(report, &path)?)?);
    written.extend(plots::f1_at_k(report, &name("f1_at_k", ""))?);
    written.extend(plots::cohorts(report, &name("f1_by_cohort", ""))?);
    Ok(written)
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
        written.extend(write_learning_curves(dir, &self.runs)?);
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
