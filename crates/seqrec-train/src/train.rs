//! Training with burn-train's `SupervisedTraining`: Adam, validation every `eval_every`
//! steps, early stopping on NDCG@10, the best checkpoint kept, resumable.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use seqrec_data::{HistoryTargets, ItemVocabulary, SequenceDataset};
use seqrec_model::GsasRec;
use seqrec_sampling::NegativeSampler;
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::fit::{Trainable, Validation, fit};
use crate::guard::LossGuard;
use crate::item_tables::ItemTables;
use crate::loader::{HistoryRanking, TrainLoader};
use crate::plan::BatchPlanner;
use crate::progress::ProgressCallback;
use crate::run::RunSettings;
use crate::serving::model_dir::{GsasRecManifest, save_model_dir};
use crate::session::Supervised;
use crate::step::{GsasRecTraining, StepSetup};

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
    pub validation: HistoryTargets,
    /// Item counts in `train`, index 0 unused (for popularity negatives).
    pub item_counts: Vec<u64>,
    /// The users' item ids.
    pub items: ItemVocabulary,
}

impl TrainingData {
    /// Training data from the gSASRec layout; its validation split is required.
    pub fn from_sequences(dataset: &SequenceDataset) -> Result<Self, TrainError> {
        let validation = dataset.history_targets(seqrec_data::Split::Val)?.clone();
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
    /// Data-parallel training on these devices, when there are two or more (burn-train's
    /// `MultiDevice` strategy): each trains on its share of every batch (the same batches as
    /// on one device, split by rows) and the gradients are summed on the first, which also
    /// builds and validates the model. The same device may appear twice (`ndarray, ndarray`
    /// runs two workers on the one CPU device). Empty (the default) or one device: training
    /// runs on the call's device alone.
    pub devices: Vec<Device>,
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
    let Supervised {
        best,
        discovery,
        report,
    } = fit(config, data, device, out_dir, options)?;
    let discovery = discovery.map(|d| d.scoring_model());
    Ok((best.scoring_model(), discovery, report))
}

impl TrainConfig {
    /// The loss settings of a training step.
    fn step_setup(&self, guard: Option<LossGuard>) -> Result<StepSetup, TrainError> {
        Ok(StepSetup {
            loss: self.loss.clone(),
            beta: self.beta()?,
            guard,
            explore_weight: self.explore_weight,
        })
    }
}

impl TrainConfig {
    /// The model on `device`, and with sparse item updates its item tables apart
    /// ([`ItemTables`], on the device without autodiff) and 2-row placeholders in the model.
    fn model_and_tables(
        &self,
        device: &Device,
    ) -> Result<(GsasRec, Option<ItemTables>), TrainError> {
        if !self.sparse_item_updates() {
            return Ok((self.model.init(device)?, None));
        }
        let model = self.model_with_placeholders(device)?;
        Ok((model, Some(ItemTables::init(&self.model, device))))
    }

    /// The model with 2-row placeholders for its item tables (the tables of a run with sparse
    /// item updates live in [`ItemTables`]).
    fn model_with_placeholders(&self, device: &Device) -> Result<GsasRec, TrainError> {
        self.model.validate()?;
        let mut tiny = self.model.clone();
        tiny.num_items = 0;
        let mut model = GsasRec::new(&tiny, device);
        model.num_items = self.model.num_items;
        Ok(model)
    }
}

impl Trainable for TrainConfig {
    type Learner = GsasRecTraining;
    /// The sequences and the sampler of their negatives.
    type Examples = (Arc<Vec<Vec<u32>>>, NegativeSampler);
    type Loader = TrainLoader;

    fn run(&self) -> &RunSettings {
        &self.run
    }

    fn validate(&self) -> Result<(), TrainError> {
        TrainConfig::validate(self)
    }

    fn num_items(&self) -> usize {
        self.model.num_items
    }

    fn validation(&self) -> Validation {
        Validation {
            history: if self.validation_ranks_history {
                HistoryRanking::Ranked
            } else {
                HistoryRanking::Excluded
            },
            max_len: self.model.input_len(),
            discovery: self.discovery_checkpoint,
            discovery_keeps_training: self.discovery_keeps_training,
        }
    }

    fn examples(
        &self,
        sequences: Vec<Vec<u32>>,
        data: &TrainingData,
    ) -> Result<(Self::Examples, usize), TrainError> {
        let sampler = NegativeSampler::from_distribution(
            &self.negative_distribution,
            data.num_items as u32,
            &data.item_counts,
        )?;
        let steps_per_pass = sequences.len().div_ceil(self.run.batch_size);
        Ok(((Arc::new(sequences), sampler), steps_per_pass))
    }

    fn start(
        &self,
        (sequences, sampler): Self::Examples,
        data: &TrainingData,
        train_device: &Device,
        total_steps: usize,
        skip_steps: usize,
        guard: &LossGuard,
    ) -> Result<(GsasRecTraining, TrainLoader), TrainError> {
        let planner = BatchPlanner {
            objective: self.objective,
            max_len: self.model.input_len(),
            mask_token: self.model.mask_token() as u32,
            negatives: self.negatives,
            sharing: self.sharing,
            exclude_history: self.exclude_history_from_negatives,
        };
        let (model, item_tables) = self.model_and_tables(train_device)?;
        let model = GsasRecTraining {
            model,
            setup: self.step_setup(Some(guard.clone()))?,
            item_tables,
        };
        tracing::info!(
            steps = total_steps,
            epochs = total_steps.div_ceil(self.run.eval_every),
            sequences = data.train.len(),
            resume_from = skip_steps / self.run.eval_every,
            "training gSASRec ({:?} attention, {:?} positions, {} objective)",
            self.model.attention,
            self.model.positions,
            self.objective
        );
        let loader = TrainLoader::new(
            sequences,
            planner,
            self.sparse_item_updates(),
            sampler,
            self.run.batch_size,
            self.run.eval_every,
            total_steps,
            skip_steps,
            self.run.seed,
            train_device.clone(),
        );
        Ok((model, loader))
    }

    fn item_tables(learner: &GsasRecTraining) -> Option<ItemTables> {
        learner.item_tables.clone()
    }

    fn fresh(
        &self,
        device: &Device,
        item_tables: Option<ItemTables>,
    ) -> Result<GsasRecTraining, TrainError> {
        let model = match &item_tables {
            Some(_) => self.model_with_placeholders(device)?,
            None => self.model.init(device)?,
        };
        Ok(GsasRecTraining {
            model,
            setup: self.step_setup(None)?,
            item_tables,
        })
    }

    fn save(
        &self,
        out_dir: &Path,
        trained: &Supervised<GsasRecTraining>,
        items: &ItemVocabulary,
    ) -> Result<(), TrainError> {
        let manifest = GsasRecManifest {
            model: self.model.clone(),
            training: Some(self.clone()),
        };
        save_model_dir(out_dir, &trained.best.scoring_model(), &manifest, items)?;
        let discovery_dir = out_dir.join(DISCOVERY_DIR);
        match &trained.discovery {
            Some(discovery) => {
                let model = discovery.scoring_model();
                save_model_dir(&discovery_dir, &model, &manifest, items)?
            }
            None if discovery_dir.exists() => {
                std::fs::remove_dir_all(&discovery_dir).map_err(TrainError::io(&discovery_dir))?
            }
            None => {}
        }
        Ok(())
    }
}
