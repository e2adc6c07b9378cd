//! Training with burn-train's `SupervisedTraining`: Adam, validation every `eval_every`
//! steps, early stopping on NDCG@10, the best checkpoint kept, resumable.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use seqrec_data::{HeldOut, ItemVocabulary, SequenceDataset};
use seqrec_model::GsasRec;
use seqrec_sampling::{NegativeDistribution, NegativeSampler};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::guard::LossGuard;
use crate::loader::{EvalLoader, TrainLoader};
use crate::model_dir::{ModelManifest, save_model_dir, write_json};
use crate::plan::BatchPlanner;
use crate::progress::ProgressCallback;
use crate::session::{Schedule, Supervised, WorkDir, run_supervised, total_steps};
use crate::step::{StepSetup, TrainingModel};

/// Sub-directory of the output directory where burn-train keeps checkpoints and logs.
pub const WORK_DIR: &str = "train";
/// File of the training report in the output directory.
pub const REPORT_FILE: &str = "training.json";
/// Sub-directory of the output directory with the best model by discovery NDCG@10, a model
/// directory of its own (see [`TrainConfig::discovery_checkpoint`]).
pub const DISCOVERY_DIR: &str = "discovery";

/// What a model is trained on.
#[derive(Debug, Clone)]
pub struct TrainingData {
    /// Catalogue size; ids are `1..=num_items`.
    pub num_items: usize,
    /// Training sequences in time order (sequences shorter than two items are skipped:
    /// they have no target).
    pub train: Vec<Vec<u32>>,
    /// Validation users: histories and the held-out item of each.
    pub validation: HeldOut,
    /// Item counts in `train`, index 0 unused (for popularity negatives).
    pub item_counts: Vec<u64>,
    /// The users' item ids.
    pub items: ItemVocabulary,
}

impl TrainingData {
    /// Training data from the gSASRec layout; its validation split is required.
    pub fn from_sequences(dataset: &SequenceDataset) -> Result<Self, TrainError> {
        let validation = dataset.held_out(seqrec_data::Split::Val)?.clone();
        Ok(Self {
            num_items: dataset.num_items as usize,
            train: dataset.train.clone(),
            validation,
            item_counts: dataset.item_counts(),
            items: ItemVocabulary::identity(dataset.num_items),
        })
    }
}

/// Options of one training run besides the configuration.
#[derive(Default)]
pub struct TrainOptions {
    /// Continue from the last checkpoint in the output directory.
    pub resume: bool,
    /// Receives progress events.
    pub progress: Option<ProgressCallback>,
}

/// What happened during training (also written to `training.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// Optimiser steps taken (including those before a resume).
    pub steps: usize,
    /// Wall-clock seconds of this run.
    pub seconds: f64,
    /// Seconds per step in this run.
    pub seconds_per_step: f64,
    /// NDCG@10 of each validation, in order.
    pub validations: Vec<f64>,
    /// Which validation (1-based) gave the saved model; `None` when none ran.
    pub best_validation: Option<usize>,
    /// The steps at which the saved model was taken.
    pub best_step: usize,
    /// Whether early stopping or the time limit ended training before its step budget.
    pub stopped_before_budget: bool,
    /// Discovery NDCG@10 of each validation (`None` when it had no new target), when asked
    /// for ([`TrainConfig::discovery_checkpoint`]); empty otherwise.
    #[serde(default)]
    pub discovery_validations: Vec<Option<f64>>,
    /// Which validation (1-based) gave the saved discovery model; `None` when none ranked a
    /// new track in the top 10.
    #[serde(default)]
    pub best_discovery_validation: Option<usize>,
    /// The learning curve: one point per validation (also written to `metrics.csv`).
    #[serde(default)]
    pub curve: Vec<CurvePoint>,
    /// Batches skipped because their loss was NaN or infinite ([`NonFiniteLoss::Skip`](crate::NonFiniteLoss)).
    #[serde(default)]
    pub skipped_batches: usize,
}

/// One validation of a run: a row of the learning curve (`metrics.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Optimiser steps done at this validation.
    pub step: usize,
    /// Wall-clock seconds since this run started (empty for validations before a resume).
    pub seconds: Option<f64>,
    /// Mean training loss of the steps since the previous validation (empty when unknown).
    pub loss: Option<f64>,
    /// Validation NDCG@10.
    pub ndcg_at_10: f64,
    /// Validation NDCG@10 of the discovery ranks (new targets only), when asked for.
    #[serde(default)]
    pub ndcg_at_10_new: Option<f64>,
    /// Training sequences (or item-item pairs) per second since the run started.
    pub examples_per_second: Option<f64>,
}

/// Trains a gSASRec model and writes the best one (by validation NDCG@10) as a model
/// directory in `out_dir` (see [`crate::Recommender::load`]).
pub fn train(
    config: &TrainConfig,
    data: &TrainingData,
    device: &Device,
    out_dir: &Path,
    options: TrainOptions,
) -> Result<(GsasRec, TrainReport), TrainError> {
    let (model, _, report) = train_with_discovery(config, data, device, out_dir, options)?;
    Ok((model, report))
}

/// [`train`], also returning the discovery model that it saves in [`DISCOVERY_DIR`] (with
/// [`TrainConfig::discovery_checkpoint`], when a validation ranked a new track in the top 10).
pub fn train_with_discovery(
    config: &TrainConfig,
    data: &TrainingData,
    device: &Device,
    out_dir: &Path,
    options: TrainOptions,
) -> Result<(GsasRec, Option<GsasRec>, TrainReport), TrainError> {
    config.validate()?;
    if config.model.num_items != data.num_items {
        return Err(TrainError::Config(format!(
            "the model has {} items but the data {}",
            config.model.num_items, data.num_items
        )));
    }
    let sequences: Vec<Vec<u32>> = data
        .train
        .iter()
        .filter(|s| s.len() >= 2)
        .cloned()
        .collect();
    if sequences.is_empty() {
        return Err(TrainError::Config(
            "no training sequence has two items or more".into(),
        ));
    }
    if data.validation.inputs.is_empty() {
        return Err(TrainError::Config("the validation split is empty".into()));
    }
    let sampler = match &config.negative_distribution {
        NegativeDistribution::Uniform => NegativeSampler::uniform(data.num_items as u32)?,
        NegativeDistribution::Popularity { gamma } => {
            NegativeSampler::popularity(&data.item_counts, *gamma)?
        }
    };
    let planner = BatchPlanner {
        objective: config.objective,
        max_len: config.model.input_len(),
        mask_token: config.model.mask_token() as u32,
        negatives: config.negatives,
        sharing: config.sharing,
        exclude_history: config.exclude_history_from_negatives,
    };
    let steps_per_pass = sequences.len().div_ceil(config.batch_size);
    let total_steps = total_steps(&config.limit, steps_per_pass);
    let work = WorkDir::prepare(out_dir, options.resume)?;
    let start_epoch = work.start_epoch;

    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let guard = LossGuard::new(config.non_finite_loss);
    let setup = StepSetup {
        loss: config.loss.clone(),
        beta: config.beta()?,
        guard: Some(guard.clone()),
        explore_weight: config.explore_weight,
    };
    let model = TrainingModel {
        model: config.model.init(&train_device)?,
        setup: setup.clone(),
    };
    let train_loader = TrainLoader::new(
        Arc::new(sequences),
        planner,
        sampler,
        config.batch_size,
        config.eval_every,
        total_steps,
        start_epoch * config.eval_every,
        config.seed,
        train_device.clone(),
    );
    let valid_loader = EvalLoader::new(
        Arc::new(data.validation.inputs.clone()),
        Arc::new(data.validation.targets.clone()),
        config.eval_batch_size,
        config.model.input_len(),
        data.num_items,
        !config.validation_ranks_history,
        device.clone(),
    );
    let valid_loader = if config.discovery_checkpoint {
        valid_loader.with_discovery()
    } else {
        valid_loader
    };

    tracing::info!(
        steps = total_steps,
        epochs = total_steps.div_ceil(config.eval_every),
        sequences = data.train.len(),
        resume_from = start_epoch,
        "training gSASRec ({:?} attention, {:?} positions, {} objective)",
        config.model.attention,
        config.model.positions,
        config.objective
    );
    let schedule = Schedule {
        batch_size: config.batch_size,
        eval_every: config.eval_every,
        total_steps,
        patience: config.patience,
        learning_rate: config.learning_rate,
        seconds: config.limit.seconds,
        discovery: config.discovery_checkpoint,
        discovery_keeps_training: config.discovery_keeps_training,
        guard: Some(guard),
    };
    let Supervised {
        best,
        discovery,
        report,
    } = run_supervised(
        work,
        &schedule,
        options.progress,
        model,
        Arc::new(train_loader.clone()),
        Arc::new(valid_loader),
        &train_loader,
        || {
            Ok(TrainingModel {
                model: config.model.init(device)?,
                setup: setup.clone(),
            })
        },
    )?;
    let model = best.model;
    let manifest = ModelManifest {
        model: config.model.clone(),
        training: Some(config.clone()),
    };
    save_model_dir(out_dir, &model, &manifest, &data.items)?;
    let discovery = discovery.map(|d| d.model);
    let discovery_dir = out_dir.join(DISCOVERY_DIR);
    match &discovery {
        Some(discovery) => save_model_dir(&discovery_dir, discovery, &manifest, &data.items)?,
        None if discovery_dir.exists() => {
            std::fs::remove_dir_all(&discovery_dir).map_err(TrainError::io(&discovery_dir))?
        }
        None => {}
    }
    write_json(&out_dir.join(REPORT_FILE), &report)?;
    Ok((model, discovery, report))
}
