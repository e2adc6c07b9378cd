//! Training with burn-train's `SupervisedTraining`: Adam, validation every `eval_every`
//! steps, early stopping on NDCG@10, the best checkpoint kept, resumable.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::lr_scheduler::constant::ConstantLr;
use burn::optim::AdamConfig;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Device;
use burn::train::checkpoint::{
    ComposedCheckpointingStrategy, KeepLastNCheckpoints, MetricCheckpointingStrategy,
};
use burn::train::metric::LossMetric;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::{
    Interrupter, Learner, MetricEarlyStoppingStrategy, StoppingCondition, SupervisedTraining,
};
use seqrec_data::{HeldOut, ItemVocabulary, SequenceDataset};
use seqrec_model::GsasRec;
use seqrec_sampling::{NegativeDistribution, NegativeSampler};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::loader::{EvalLoader, TrainLoader};
use crate::metric::NdcgMetric;
use crate::model_dir::{ModelManifest, read_json, save_model_dir, write_json};
use crate::plan::BatchPlanner;
use crate::progress::{CallbackRenderer, ProgressCallback};
use crate::step::{StepSetup, TrainingModel};

/// Sub-directory of the output directory where burn-train keeps checkpoints and logs.
pub const WORK_DIR: &str = "train";
/// File of the training report in the output directory.
pub const REPORT_FILE: &str = "training.json";

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
        max_len: config.model.max_len,
        mask_token: config.model.mask_token() as u32,
        negatives: config.negatives,
        sharing: config.sharing,
        exclude_history: config.exclude_history_from_negatives,
    };
    let steps_per_pass = sequences.len().div_ceil(config.batch_size);
    let total_steps = [
        config.limit.steps,
        config.limit.epochs.map(|e| e * steps_per_pass),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(usize::MAX / 2);
    let num_epochs = total_steps.div_ceil(config.eval_every);

    let work = out_dir.join(WORK_DIR);
    let checkpoints = work.join("checkpoint");
    let history_file = work.join("validations.json");
    let (start_epoch, previous) = if options.resume {
        let epoch = latest_checkpoint(&checkpoints).ok_or_else(|| {
            TrainError::Config(format!(
                "nothing to resume: no checkpoint in {}",
                checkpoints.display()
            ))
        })?;
        let history: Vec<f64> = read_json(&history_file).unwrap_or_default();
        (epoch, history.into_iter().take(epoch).collect::<Vec<_>>())
    } else {
        if work.exists() {
            std::fs::remove_dir_all(&work).map_err(TrainError::io(&work))?;
        }
        (0, Vec::new())
    };
    std::fs::create_dir_all(&work).map_err(TrainError::io(&work))?;

    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let model = config.model.init(&train_device)?;
    let setup = StepSetup {
        loss: config.loss.clone(),
        beta: config.beta()?,
    };
    let learner = Learner::new(
        TrainingModel {
            model,
            setup: setup.clone(),
        },
        AdamConfig::new().init(),
        ConstantLr::new(config.learning_rate),
    );
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
        config.model.max_len,
        data.num_items,
        true,
        device.clone(),
    );

    let ndcg = NdcgMetric::new(10);
    let interrupter = Interrupter::new();
    let callback: ProgressCallback = options.progress.unwrap_or_else(|| Box::new(|_| {}));
    let renderer = CallbackRenderer::new(
        callback,
        config.batch_size,
        config.eval_every,
        start_epoch + 1,
    );
    let mut training = SupervisedTraining::new(
        &work,
        Arc::new(train_loader.clone()),
        Arc::new(valid_loader),
    )
    .metric_train_numeric(LossMetric::new())
    .metric_valid_numeric(ndcg.clone())
    .with_default_checkpointers()
    .with_checkpointing_strategy(
        ComposedCheckpointingStrategy::builder()
            .add(KeepLastNCheckpoints::new(1))
            .add(MetricCheckpointingStrategy::new(
                &ndcg,
                Aggregate::Mean,
                Direction::Highest,
                Split::Valid,
            ))
            .build(),
    )
    .early_stopping(MetricEarlyStoppingStrategy::new(
        &ndcg,
        Aggregate::Mean,
        Direction::Highest,
        Split::Valid,
        StoppingCondition::NoImprovementSince {
            n_epochs: config.patience.max(1),
        },
    ))
    .num_epochs(num_epochs)
    .with_interrupter(interrupter.clone())
    .renderer(Box::new(renderer))
    .with_application_logger(None);
    if start_epoch > 0 {
        training = training.checkpoint(start_epoch);
    }

    tracing::info!(
        steps = total_steps,
        epochs = num_epochs,
        sequences = data.train.len(),
        resume_from = start_epoch,
        "training gSASRec ({:?} attention, {:?} positions, {} objective)",
        config.model.attention,
        config.model.positions,
        config.objective
    );
    let started = Instant::now();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = config.limit.seconds.map(|limit| {
        let interrupter = interrupter.clone();
        std::thread::spawn(move || {
            if done_rx
                .recv_timeout(Duration::from_secs_f64(limit))
                .is_err()
            {
                interrupter.stop(Some("time limit reached"));
            }
        })
    });
    let result = training.launch(learner);
    drop(done_tx);
    if let Some(handle) = watchdog {
        let _ = handle.join();
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(error) = interrupter.error() {
        return Err(TrainError::Training(error.to_string()));
    }

    let mut validations = previous;
    validations.extend(ndcg.history().lock().map(|h| h.clone()).unwrap_or_default());
    write_json(&history_file, &validations)?;
    let best = validations
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i + 1);
    let model = match best.map(|epoch| checkpoints.join(format!("model-{epoch}.bpk"))) {
        Some(path) if path.is_file() => {
            // Checkpoints hold the learner's module: the model under `model.`.
            let mut best = TrainingModel {
                model: config.model.init(device)?,
                setup: setup.clone(),
            };
            best.load_from(&mut BurnpackStore::from_file(&path))
                .map_err(|e| TrainError::Weights {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            best.model
        }
        _ => result.model.model,
    };
    let steps = train_loader.delivered_steps();
    let report = TrainReport {
        steps,
        seconds,
        seconds_per_step: seconds
            / steps.saturating_sub(start_epoch * config.eval_every).max(1) as f64,
        best_step: best.map_or(steps, |b| (b * config.eval_every).min(total_steps)),
        best_validation: best,
        stopped_before_budget: steps < total_steps,
        validations,
    };
    tracing::info!(steps, seconds, best = ?report.best_validation, "training finished");
    let manifest = ModelManifest {
        model: config.model.clone(),
        training: Some(config.clone()),
    };
    save_model_dir(out_dir, &model, &manifest, &data.items)?;
    write_json(&out_dir.join(REPORT_FILE), &report)?;
    Ok((model, report))
}

/// The highest epoch with a model checkpoint in `dir`.
fn latest_checkpoint(dir: &Path) -> Option<usize> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .max()
}
