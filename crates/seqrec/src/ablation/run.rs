//! Training every model of an ablation, one after the other, with one seed and one budget.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::tensor::Device;
use seqrec_model::{GsasRec, ItemItem, Popularity};
use seqrec_train::{
    Objective, ProgressEvent, TrainOptions, TrainReport, TrainingData, rank_top_k, train,
    train_item_item,
};
use serde::{Deserialize, Serialize};

use super::config::{AblationConfig, ITEM_ITEM, POPULARITY, Variant};
use super::{AblationError, memory};

/// Users ranked per batch.
const RANK_BATCH: usize = 256;

/// What happens during an ablation, for progress displays.
#[derive(Debug)]
pub enum AblationEvent<'a> {
    /// A model starts training (`index` counts from 1 to `total`).
    Model {
        /// Position of the model in the run.
        index: usize,
        /// Models in the run.
        total: usize,
        /// Its name.
        name: &'a str,
    },
    /// A training event of the current model.
    Training(&'a ProgressEvent),
    /// The current model ranks the catalogue for the evaluated users.
    Ranking {
        /// Its name.
        name: &'a str,
        /// Users to rank for.
        users: usize,
    },
    /// The model is trained and ranked.
    Done {
        /// Its name.
        name: &'a str,
        /// Seconds of training.
        train_seconds: f64,
    },
}

/// Receives [`AblationEvent`]s.
pub type AblationProgress = Box<dyn FnMut(AblationEvent<'_>) + Send + Sync>;

/// What was trained, how, and what it cost: one entry of `run.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelRun {
    /// Name in tables and plots.
    pub name: String,
    /// `"gsasrec"`, `"item_item"` or `"popularity"`.
    pub kind: String,
    /// The transformer variant.
    pub variant: Option<Variant>,
    /// The training objective of a transformer.
    pub objective: Option<Objective>,
    /// Every hyperparameter (the full training configuration).
    pub hyperparameters: serde_json::Value,
    /// Steps, validations and timing of the training.
    pub training: Option<TrainReport>,
    /// Wall-clock seconds of training (data preparation included).
    pub train_seconds: f64,
    /// Peak resident memory of the process during this training, in bytes (Linux).
    pub peak_rss_bytes: Option<u64>,
    /// Wall-clock seconds to rank the catalogue for every evaluated user.
    pub rank_seconds: f64,
    /// Where the trained model was saved (`seqrec recommend --model` serves it).
    pub model_dir: Option<PathBuf>,
}

/// A trained model of any kind.
pub(crate) enum TrainedModel<'a> {
    GsasRec(&'a GsasRec),
    ItemItem(&'a ItemItem),
    Popularity(&'a Popularity),
}

impl TrainedModel<'_> {
    /// Top-`k` model ids per history, best first.
    pub(crate) fn top_k(
        &self,
        histories: &[Vec<u32>],
        k: usize,
        exclude_history: bool,
        device: &Device,
    ) -> Result<Vec<Vec<u32>>, seqrec_train::TrainError> {
        let ranked = match self {
            TrainedModel::GsasRec(m) => {
                rank_top_k(*m, histories, k, exclude_history, RANK_BATCH, device)
            }
            TrainedModel::ItemItem(m) => {
                rank_top_k(*m, histories, k, exclude_history, RANK_BATCH, device)
            }
            TrainedModel::Popularity(m) => {
                rank_top_k(*m, histories, k, exclude_history, RANK_BATCH, device)
            }
        }?;
        Ok(ranked
            .into_iter()
            .map(|list| list.into_iter().map(|(id, _)| id).collect())
            .collect())
    }
}

/// File-system-safe name of a model: `"No mask, PE"` → `"no-mask-pe"`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Trains the baselines and every variant in order, handing each trained model to `use_model`
/// (which ranks the catalogue for `ranked_users` users and evaluates the lists) before the
/// next one is trained, so that one model at a time is in memory.
pub(crate) fn train_all(
    config: &AblationConfig,
    data: &TrainingData,
    device: &Device,
    out_dir: &Path,
    ranked_users: usize,
    progress: AblationProgress,
    mut use_model: impl FnMut(&mut ModelRun, &TrainedModel<'_>) -> Result<(), AblationError>,
) -> Result<Vec<ModelRun>, AblationError> {
    let progress = Arc::new(Mutex::new(progress));
    let emit = |event: AblationEvent<'_>| {
        if let Ok(mut p) = progress.lock() {
            p(event)
        }
    };
    let training_progress = || -> TrainOptions {
        let progress = progress.clone();
        TrainOptions {
            resume: false,
            progress: Some(Box::new(move |event: &ProgressEvent| {
                if let Ok(mut p) = progress.lock() {
                    p(AblationEvent::Training(event))
                }
            })),
        }
    };
    let models_dir = out_dir.join("models");
    let total = config.variants.len() + 2;
    let mut runs = Vec::with_capacity(total);

    // The item-item baseline.
    emit(AblationEvent::Model {
        index: 1,
        total,
        name: ITEM_ITEM,
    });
    let item_config = config.item_item_config(data.num_items);
    let dir = models_dir.join(slug(ITEM_ITEM));
    memory::reset_peak();
    let started = Instant::now();
    let (model, report) = train_item_item(&item_config, data, device, &dir, training_progress())
        .map_err(AblationError::train(ITEM_ITEM))?;
    let mut run = ModelRun {
        name: ITEM_ITEM.into(),
        kind: "item_item".into(),
        variant: None,
        objective: None,
        hyperparameters: to_value(&item_config),
        training: Some(report),
        train_seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: memory::peak_rss_bytes(),
        rank_seconds: 0.0,
        model_dir: Some(dir),
    };
    finish(
        &mut run,
        &TrainedModel::ItemItem(&model),
        &mut use_model,
        ranked_users,
        &emit,
    )?;
    runs.push(run);

    // The popularity floor: play counts of the training window.
    emit(AblationEvent::Model {
        index: 2,
        total,
        name: POPULARITY,
    });
    let started = Instant::now();
    let model = Popularity::new(&data.item_counts, device)
        .map_err(|e| AblationError::Config(format!("popularity: {e}")))?;
    let mut run = ModelRun {
        name: POPULARITY.into(),
        kind: "popularity".into(),
        variant: None,
        objective: None,
        hyperparameters: serde_json::json!({ "counts": "plays per track in the training sequences" }),
        training: None,
        train_seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: None,
        rank_seconds: 0.0,
        model_dir: None,
    };
    finish(
        &mut run,
        &TrainedModel::Popularity(&model),
        &mut use_model,
        ranked_users,
        &emit,
    )?;
    runs.push(run);

    for (i, variant) in config.variants.iter().enumerate() {
        let name = variant.name();
        emit(AblationEvent::Model {
            index: i + 3,
            total,
            name: &name,
        });
        let train_config = config.variant_config(*variant, data.num_items);
        let dir = models_dir.join(slug(&name));
        memory::reset_peak();
        let started = Instant::now();
        let (model, report) = train(&train_config, data, device, &dir, training_progress())
            .map_err(AblationError::train(&name))?;
        let mut run = ModelRun {
            name: name.clone(),
            kind: "gsasrec".into(),
            variant: Some(*variant),
            objective: Some(train_config.objective),
            hyperparameters: to_value(&train_config),
            training: Some(report),
            train_seconds: started.elapsed().as_secs_f64(),
            peak_rss_bytes: memory::peak_rss_bytes(),
            rank_seconds: 0.0,
            model_dir: Some(dir),
        };
        finish(
            &mut run,
            &TrainedModel::GsasRec(&model),
            &mut use_model,
            ranked_users,
            &emit,
        )?;
        runs.push(run);
    }
    Ok(runs)
}

fn finish(
    run: &mut ModelRun,
    model: &TrainedModel<'_>,
    use_model: &mut impl FnMut(&mut ModelRun, &TrainedModel<'_>) -> Result<(), AblationError>,
    ranked_users: usize,
    emit: &impl Fn(AblationEvent<'_>),
) -> Result<(), AblationError> {
    emit(AblationEvent::Ranking {
        name: &run.name,
        users: ranked_users,
    });
    let started = Instant::now();
    use_model(run, model)?;
    run.rank_seconds = started.elapsed().as_secs_f64();
    emit(AblationEvent::Done {
        name: &run.name,
        train_seconds: run.train_seconds,
    });
    Ok(())
}

fn to_value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("No mask, PE"), "no-mask-pe");
        assert_eq!(slug("Causal mask, no PE"), "causal-mask-no-pe");
        assert_eq!(slug("Item-item"), "item-item");
    }
}
