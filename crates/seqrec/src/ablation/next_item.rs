//! The same ablation on a public next-item dataset (e.g. MovieLens-1M in the gSASRec
//! layout): full-catalogue NDCG@10 and Recall@10 of each user's held-out test item.

use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use seqrec_data::{SequenceDataset, Split};
use seqrec_eval::{
    BootstrapConfig, ConfidenceInterval, NextItemEvaluator, bootstrap_mean_ci,
    paired_bootstrap_diff_ci,
};
use seqrec_train::TrainingData;
use serde::{Deserialize, Serialize};

use super::AblationError;
use super::config::AblationConfig;
use super::profile::DataSummary;
use super::run::{AblationProgress, Histories, ModelRun, train_all};

/// The cutoff of the next-item table.
pub const NEXT_ITEM_K: usize = 10;

/// One model's row of the next-item table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NextItemRow {
    /// The model.
    pub model: String,
    /// Test users.
    pub users: usize,
    /// NDCG@10 with its bootstrap interval.
    pub ndcg: ConfidenceInterval,
    /// Recall@10 with its bootstrap interval.
    pub recall: ConfidenceInterval,
    /// Paired difference of NDCG@10 to the item-item baseline (`None` for the baseline).
    pub ndcg_vs_baseline: Option<ConfidenceInterval>,
}

/// The result of [`run_next_item_ablation`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NextItemAblation {
    /// The settings.
    pub config: AblationConfig,
    /// The data.
    pub data: DataSummary,
    /// Each model's training.
    pub runs: Vec<ModelRun>,
    /// One row per model, the item-item baseline first.
    pub rows: Vec<NextItemRow>,
    /// Whether history items were removed from the rankings (as the gSASRec code does).
    pub exclude_history: bool,
    /// Wall-clock seconds of the whole ablation.
    pub seconds: f64,
}

impl NextItemAblation {
    /// The table in Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "| model | NDCG@{k} (95 % CI) | Recall@{k} (95 % CI) | NDCG@{k} − item-item (95 % CI) |\n| --- | --- | --- | --- |\n",
            k = NEXT_ITEM_K
        );
        for row in &self.rows {
            let diff = row.ndcg_vs_baseline.map_or("—".to_string(), |d| {
                format!("{:+.4} [{:+.4}, {:+.4}]", d.estimate, d.lower, d.upper)
            });
            out.push_str(&format!(
                "| {} | {:.4} [{:.4}, {:.4}] | {:.4} [{:.4}, {:.4}] | {} |\n",
                row.model,
                row.ndcg.estimate,
                row.ndcg.lower,
                row.ndcg.upper,
                row.recall.estimate,
                row.recall.lower,
                row.recall.upper,
                diff
            ));
        }
        out
    }

    /// The table as CSV.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "model,users,ndcg@10,ndcg_lower,ndcg_upper,recall@10,recall_lower,recall_upper,ndcg_diff,ndcg_diff_lower,ndcg_diff_upper\n",
        );
        for row in &self.rows {
            let d = row.ndcg_vs_baseline;
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                csv_field(&row.model),
                row.users,
                row.ndcg.estimate,
                row.ndcg.lower,
                row.ndcg.upper,
                row.recall.estimate,
                row.recall.lower,
                row.recall.upper,
                d.map_or(String::new(), |d| d.estimate.to_string()),
                d.map_or(String::new(), |d| d.lower.to_string()),
                d.map_or(String::new(), |d| d.upper.to_string()),
            ));
        }
        out
    }
}

pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Trains the item-item baseline, the popularity floor, personal popularity and every
/// variant of `config` on the training split of `dataset` (early stopping on its validation
/// split), then ranks the whole catalogue for every test user (history items removed, as the
/// gSASRec code does) and reports NDCG@10 and Recall@10 with bootstrap intervals.
///
/// With history items removed, personal popularity (which ranks history items first) ranks
/// exactly as popularity: it is reported so that every ablation lists the same models.
pub fn run_next_item_ablation(
    config: &AblationConfig,
    dataset: &SequenceDataset,
    source: &str,
    device: &Device,
    out_dir: &Path,
    progress: AblationProgress,
) -> Result<NextItemAblation, AblationError> {
    config.validate()?;
    let started = Instant::now();
    let data = TrainingData::from_sequences(dataset).map_err(AblationError::train("data"))?;
    let test = dataset.history_targets(Split::Test)?;
    let summary = DataSummary {
        source: source.to_string(),
        tracks: data.num_items,
        training_users: data.train.iter().filter(|s| !s.is_empty()).count(),
        training_plays: data.train.iter().map(Vec::len).sum(),
        validation_users: data.validation.inputs.len(),
        held_out_plays: test.targets.len(),
        held_out_plays_without_history: test.inputs.iter().filter(|h| h.is_empty()).count(),
        held_out_plays_without_duration: 0,
        evaluated_users: test.inputs.iter().filter(|h| !h.is_empty()).count(),
        discovery_users: None,
        positive_histories: false,
        models_read_positive_plays: false,
    };
    let (inputs, targets): (Vec<Vec<u32>>, Vec<u32>) = test
        .inputs
        .iter()
        .zip(&test.targets)
        .filter(|(h, _)| !h.is_empty())
        .map(|(h, &t)| (h.clone(), t))
        .unzip();
    let bootstrap = BootstrapConfig {
        seed: config.schedule.seed,
        ..BootstrapConfig::default()
    };

    let mut per_user: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    let runs = train_all(
        config,
        &data,
        device,
        out_dir,
        inputs.len(),
        None,
        progress,
        |run, model, _| {
            let histories = Histories {
                all: &inputs,
                positive: None,
                read: &inputs,
            };
            let lists = model
                .top_k(histories, NEXT_ITEM_K, true, device)
                .map_err(AblationError::train(&run.name))?;
            let mut evaluator = NextItemEvaluator::new(&[NEXT_ITEM_K])?;
            for (list, &target) in lists.iter().zip(&targets) {
                evaluator.add_ranked_list(list, target);
            }
            per_user.push((
                run.name.clone(),
                evaluator.per_user_ndcg(NEXT_ITEM_K),
                evaluator.per_user_recall(NEXT_ITEM_K),
            ));
            Ok(())
        },
    )?;
    let mut rows = Vec::with_capacity(per_user.len());
    for (name, ndcg, recall) in &per_user {
        let ndcg_vs_baseline = if rows.is_empty() {
            None
        } else {
            Some(paired_bootstrap_diff_ci(ndcg, &per_user[0].1, &bootstrap)?)
        };
        rows.push(NextItemRow {
            model: name.clone(),
            users: ndcg.len(),
            ndcg: bootstrap_mean_ci(ndcg, &bootstrap)?,
            recall: bootstrap_mean_ci(recall, &bootstrap)?,
            ndcg_vs_baseline,
        });
    }
    Ok(NextItemAblation {
        config: config.clone(),
        data: summary,
        runs,
        rows,
        exclude_history: true,
        seconds: started.elapsed().as_secs_f64(),
    })
}
