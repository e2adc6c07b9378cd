//! The one training path of every model: the checks, the work directory, seeding, the
//! validation loader, burn-train's supervised run ([`crate::session`]), saving and the report.
//! A model plugs in through [`Trainable`]: its configuration, its training examples and
//! loader, its learner and its model directory. [`crate::train`] (gSASRec) and
//! [`crate::train_item_item`] are the two implementations.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataloader::DataLoader;
use burn::tensor::Device;
use burn::train::{InferenceStep, LearnerModel, TrainStep};
use seqrec_data::ItemVocabulary;

use crate::batch::EvalBatch;
use crate::error::TrainError;
use crate::guard::LossGuard;
use crate::item_tables::ItemTables;
use crate::loader::{EvalLoader, HistoryRanking};
use crate::prefetch::StepClock;
use crate::run::RunSettings;
use crate::serving::model_dir::write_json;
use crate::serving::ranking::MAX_SCORES_PER_BLOCK;
use crate::session::{Schedule, Supervised, WorkDir, run_supervised};
use crate::step::{RankOutput, StepOutput};
use crate::train::{REPORT_FILE, TrainOptions, TrainingData};

/// How a model is validated during training.
pub(crate) struct Validation {
    /// Whether the user's history items are ranked too.
    pub history: HistoryRanking,
    /// Input length of the validation histories.
    pub max_len: usize,
    /// Also validate the discovery ranks and keep their best model.
    pub discovery: bool,
    /// With `discovery`: stop only when neither metric improves.
    pub discovery_keeps_training: bool,
}

/// What a model supplies to [`fit`].
pub(crate) trait Trainable {
    /// The model with its training and validation steps, as burn-train's learner holds it.
    type Learner: LearnerModel
        + TrainStep<Output = StepOutput>
        + InferenceStep<Input = EvalBatch, Output = RankOutput>;
    /// The training examples built from the training sequences.
    type Examples;
    /// The loader of training batches.
    type Loader: DataLoader<<Self::Learner as TrainStep>::Input> + StepClock + Clone + 'static;

    /// The run's settings.
    fn run(&self) -> &RunSettings;
    /// Checks the whole configuration.
    fn validate(&self) -> Result<(), TrainError>;
    /// The catalogue size of the model.
    fn num_items(&self) -> usize;
    /// How validation ranks.
    fn validation(&self) -> Validation;
    /// The training examples of `sequences` (each of two items or more) and the steps of
    /// one pass over them.
    fn examples(
        &self,
        sequences: Vec<Vec<u32>>,
        data: &TrainingData,
    ) -> Result<(Self::Examples, usize), TrainError>;
    /// The learner on the autodiff device `train_device` (seeded just before) and its
    /// loader of `total_steps` batches, the first `skip_steps` skipped (a resumed run).
    fn start(
        &self,
        examples: Self::Examples,
        data: &TrainingData,
        train_device: &Device,
        total_steps: usize,
        skip_steps: usize,
        guard: &LossGuard,
    ) -> Result<(Self::Learner, Self::Loader), TrainError>;
    /// The item tables `learner` keeps apart from its parameters (sparse item updates,
    /// [`ItemTables`]): saved with every checkpoint and restored with it. None by default.
    fn item_tables(_learner: &Self::Learner) -> Option<ItemTables> {
        None
    }
    /// A new learner on the inference device, into which the best checkpoint is loaded, with
    /// `item_tables` (the run's, holding the best checkpoint's tables) when it has some.
    fn fresh(
        &self,
        device: &Device,
        item_tables: Option<ItemTables>,
    ) -> Result<Self::Learner, TrainError>;
    /// Writes the trained models as model directories in `out_dir`.
    fn save(
        &self,
        out_dir: &Path,
        trained: &Supervised<Self::Learner>,
        items: &ItemVocabulary,
    ) -> Result<(), TrainError>;
}

/// Trains the model of `trainable` on `data` and writes the best one by validation NDCG@10
/// (and its training report, [`REPORT_FILE`]) in `out_dir`.
pub(crate) fn fit<T: Trainable>(
    trainable: &T,
    data: &TrainingData,
    device: &Device,
    out_dir: &Path,
    options: TrainOptions,
) -> Result<Supervised<T::Learner>, TrainError> {
    trainable.validate()?;
    if trainable.num_items() != data.num_items {
        return Err(TrainError::SizeMismatch {
            what: "items of the model (expected: those of the data)",
            expected: data.num_items,
            found: trainable.num_items(),
        });
    }
    let sequences: Vec<Vec<u32>> = data
        .train
        .iter()
        .filter(|s| s.len() >= 2)
        .cloned()
        .collect();
    if sequences.is_empty() {
        return Err(TrainError::NotEnoughData(
            "no training sequence has two items or more".into(),
        ));
    }
    if data.validation.inputs.is_empty() {
        return Err(TrainError::NotEnoughData(
            "the validation split is empty".into(),
        ));
    }
    let run = trainable.run();
    let (examples, steps_per_pass) = trainable.examples(sequences, data)?;
    let total_steps = run.total_steps(steps_per_pass);
    let workers = match options.devices.as_slice() {
        [] | [_] => vec![device.clone()],
        many => many.to_vec(),
    };
    if workers.len() > run.batch_size {
        return Err(TrainError::InvalidSetting {
            setting: "devices",
            reason: format!(
                "{} devices cannot share batches of {} examples: use at most one device per example",
                workers.len(),
                run.batch_size
            ),
        });
    }
    // The first worker builds the model; on one device it is the call's device.
    let main = &workers[0];
    let work = WorkDir::prepare(out_dir, options.resume)?;
    let skip_steps = work.start_epoch * run.eval_every;

    main.seed(run.seed);
    let guard = LossGuard::new(run.non_finite_loss);
    let (model, train_loader) = trainable.start(
        examples,
        data,
        &main.clone().autodiff(),
        total_steps,
        skip_steps,
        &guard,
    )?;
    let item_tables = T::item_tables(&model);
    let validation = trainable.validation();
    // A validation batch scores every id for each of its users: on a large catalogue fewer
    // users at a time, as the ranking of a served model does.
    let scores_per_user = data.num_items + 2;
    let eval_batch_size = run
        .eval_batch_size
        .min(MAX_SCORES_PER_BLOCK / scores_per_user)
        .max(1);
    let valid_loader = EvalLoader::new(
        Arc::new(data.validation.inputs.clone()),
        Arc::new(data.validation.targets.clone()),
        eval_batch_size,
        validation.max_len,
        data.num_items,
        validation.history,
        device.clone(),
    );
    let valid_loader = if validation.discovery {
        valid_loader.with_discovery()
    } else {
        valid_loader
    };
    let schedule = Schedule {
        batch_size: run.batch_size,
        eval_every: run.eval_every,
        total_steps,
        patience: run.patience,
        learning_rate: run.learning_rate,
        seconds: run.limit.seconds,
        discovery: validation.discovery,
        discovery_keeps_training: validation.discovery_keeps_training,
        guard: Some(guard),
    };
    let trained = run_supervised(
        work,
        &schedule,
        options.progress,
        &workers,
        model,
        item_tables,
        Arc::new(train_loader.clone()),
        Arc::new(valid_loader),
        &train_loader,
        |tables| trainable.fresh(device, tables),
    )?;
    trainable.save(out_dir, &trained, &data.items)?;
    write_json(&out_dir.join(REPORT_FILE), &trained.report)?;
    Ok(trained)
}
