//! The part of a training run that does not depend on the model: the work directory (fresh
//! or resumed), burn-train's `SupervisedTraining` with Adam, NDCG@10 validation, early
//! stopping, checkpoints and the time limit, then the best checkpoint reloaded and the report.
//! [`crate::fit`], the training path of every model, runs it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::data::dataloader::DataLoader;
use burn::lr_scheduler::constant::ConstantLr;
use burn::optim::AdamConfig;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Device;
use burn::train::metric::store::EventStoreClient;
use burn::train::{
    EarlyStoppingStrategy, ExecutionStrategy, InferenceStep, Interrupter, Learner, LearnerModel,
    MultiDeviceOptim, SupervisedTraining, TrainStep, TrainingStrategy,
};

use crate::atomic::write_bytes_atomically;
use crate::checkpoint::{
    AtomicCheckpointer, History, KeepLatestAndBest, PARTS, WithItemTables, best_index,
    remove_after, resumable_epoch, saved_epochs, take_error,
};
use crate::error::TrainError;
use crate::guard::{LossGuard, NonFiniteLoss};
use crate::item_tables::ItemTables;
use crate::metric::{NdcgMetric, TrainLossMetric};
use crate::prefetch::StepClock;
use crate::progress::{CallbackRenderer, ProgressCallback};
use crate::serving::model_dir::{read_json, write_json};
use crate::step::{RankOutput, StepOutput};
use crate::train::{CurvePoint, TrainReport, WORK_DIR};

/// File of the learning curve in the output directory: one row per validation.
pub const METRICS_FILE: &str = "metrics.csv";

/// The learning curve of a run: validation `i` (1-based, over the whole run) took place at
/// step `min(i · eval_every, total_steps)`. `losses` are the mean training losses of this
/// run's periods and `requests` when this run's batches were requested (see
/// [`StepClock::request_times`]); validations before a resume have neither. `discovery` holds
/// the discovery validations, when there were any.
#[allow(clippy::too_many_arguments)]
fn learning_curve(
    validations: &[f64],
    discovery: &[f64],
    losses: &[f64],
    requests: &[Instant],
    started: Instant,
    seconds: f64,
    schedule: &Schedule,
    start_epoch: usize,
) -> Vec<CurvePoint> {
    let first_step = start_epoch * schedule.eval_every;
    validations
        .iter()
        .enumerate()
        .map(|(i, &ndcg)| {
            let step = ((i + 1) * schedule.eval_every).min(schedule.total_steps);
            let this_run = i >= start_epoch;
            // The validation after step `step` ends when batch `step + 1` is requested, or
            // when the run ends.
            let seconds = this_run.then(|| {
                requests
                    .get(step - first_step)
                    .map_or(seconds, |t| t.duration_since(started).as_secs_f64())
            });
            CurvePoint {
                step,
                seconds,
                loss: i
                    .checked_sub(start_epoch)
                    .and_then(|j| losses.get(j))
                    .copied()
                    .filter(|l| l.is_finite()),
                ndcg_at_10: ndcg,
                ndcg_at_10_new: discovery.get(i).copied().filter(|v| v.is_finite()),
                examples_per_second: seconds
                    .filter(|&s| s > 0.0)
                    .map(|s| ((step - first_step) * schedule.batch_size) as f64 / s),
            }
        })
        .collect()
}

/// Writes the learning curve as CSV:
/// `step,seconds,loss,ndcg_at_10,ndcg_at_10_new,examples_per_second`.
pub fn write_curve(path: &Path, curve: &[CurvePoint]) -> Result<(), TrainError> {
    let io = |e: csv::Error| TrainError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    for point in curve {
        writer.serialize(point).map_err(io)?;
    }
    let bytes = writer.into_inner().map_err(|e| TrainError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    write_bytes_atomically(path, &bytes)
}

/// burn-train's work directory in `out_dir`, wiped for a fresh run or read for a resumed one.
pub(crate) struct WorkDir {
    work: PathBuf,
    checkpoints: PathBuf,
    history_file: PathBuf,
    discovery_file: PathBuf,
    /// Validation periods already done (0 for a fresh run).
    pub start_epoch: usize,
    previous: Vec<f64>,
    previous_discovery: Vec<f64>,
}

impl WorkDir {
    /// Prepares `out_dir/train`: resuming needs a checkpoint there, a fresh run removes it.
    pub fn prepare(out_dir: &Path, resume: bool) -> Result<Self, TrainError> {
        let work = out_dir.join(WORK_DIR);
        let checkpoints = work.join("checkpoint");
        let history_file = work.join("validations.json");
        let discovery_file = work.join("discovery_validations.json");
        let (start_epoch, previous, previous_discovery) = if resume {
            if !work.exists() {
                return Err(TrainError::NothingToResume { work });
            }
            // The validations are recorded after each period's checkpoint is queued (the
            // discovery ones first), so a period counts once both are there.
            let recorded = |file: &Path| -> Vec<f64> {
                let history: Vec<Option<f64>> = read_json(file).unwrap_or_default();
                history.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect()
            };
            let mut previous = recorded(&history_file);
            let mut discovery = recorded(&discovery_file);
            match resumable_epoch(&checkpoints, previous.len()) {
                Some(epoch) => {
                    previous.truncate(epoch);
                    discovery.resize(epoch, f64::NAN);
                    remove_after(&checkpoints, epoch)?;
                    (epoch, previous, discovery)
                }
                None => {
                    // Killed before its first checkpoint was complete: nothing is lost by
                    // starting again.
                    tracing::warn!(
                        "no complete checkpoint in {}: training from the start",
                        checkpoints.display()
                    );
                    std::fs::remove_dir_all(&work).map_err(TrainError::io(&work))?;
                    (0, Vec::new(), Vec::new())
                }
            }
        } else {
            if work.exists() {
                std::fs::remove_dir_all(&work).map_err(TrainError::io(&work))?;
            }
            (0, Vec::new(), Vec::new())
        };
        std::fs::create_dir_all(&work).map_err(TrainError::io(&work))?;
        Ok(Self {
            work,
            checkpoints,
            history_file,
            discovery_file,
            start_epoch,
            previous,
            previous_discovery,
        })
    }
}

/// The schedule of a run.
pub(crate) struct Schedule {
    /// Examples per step (sequences or pairs), for the progress events.
    pub batch_size: usize,
    /// Steps per validation (a loader epoch).
    pub eval_every: usize,
    /// Steps in all.
    pub total_steps: usize,
    /// Validations without improvement before stopping.
    pub patience: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Wall-clock limit in seconds.
    pub seconds: Option<f64>,
    /// Also validate the discovery ranks ([`NdcgMetric::discovery`]) and keep their best
    /// checkpoint.
    pub discovery: bool,
    /// With `discovery`: stop only when neither metric improves, instead of on the main one.
    pub discovery_keeps_training: bool,
    /// The loss watch shared with the training step, if any.
    pub guard: Option<LossGuard>,
}

/// What [`run_supervised`] returns.
pub(crate) struct Supervised<M> {
    /// The model of the best validation.
    pub best: M,
    /// The model of the best discovery validation, when [`Schedule::discovery`] asked for it
    /// and some validation ranked a new track in the top 10.
    pub discovery: Option<M>,
    /// The report.
    pub report: TrainReport,
}

/// Early stopping when every one of several metrics has gone `patience` validations without
/// improving (burn's `NoImprovementSince`: a validation improves when it is above every
/// earlier one), judged on the whole run's validations, those before a resume included. Each
/// call first records the validations so far (see [`ValidationFiles`]).
#[derive(Clone)]
struct PatienceStop {
    histories: Vec<History>,
    patience: usize,
    record: ValidationFiles,
}

/// Where the validations are recorded after every period: a resumed run reads them back.
#[derive(Clone)]
struct ValidationFiles {
    main: (PathBuf, History),
    discovery: Option<(PathBuf, History)>,
    /// The first write error, reported when the run ends.
    error: Arc<Mutex<Option<TrainError>>>,
}

impl ValidationFiles {
    fn write(&self) {
        // Discovery first: a kill between the two leaves the main file shorter, and the main
        // file's length is what a resume trusts.
        let files = self.discovery.iter().chain(std::iter::once(&self.main));
        for (path, history) in files {
            if let Err(e) = write_json(path, &finite_or_none(&history.values()))
                && let Ok(mut slot) = self.error.lock()
            {
                slot.get_or_insert(e);
            }
        }
    }

    fn take_error(&self) -> Option<TrainError> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

impl EarlyStoppingStrategy for PatienceStop {
    fn should_stop(&mut self, epoch: usize, _store: &EventStoreClient) -> bool {
        self.record.write();
        self.histories.iter().all(|history| {
            let values = history.values();
            let best = best_index(&values[..values.len().min(epoch)]).unwrap_or(0);
            epoch - best.min(epoch) >= self.patience
        })
    }
}

/// JSON has no NaN: a validation without a value (no new target) is written as null.
fn finite_or_none(values: &[f64]) -> Vec<Option<f64>> {
    values.iter().map(|v| v.is_finite().then_some(*v)).collect()
}

/// Trains `model` (on the autodiff device) with Adam, validating NDCG@10 every `eval_every`
/// steps, and returns the best validated model, reloaded into `fresh()` (a new model on the
/// inference device), with the report (and the best discovery model, see
/// [`Schedule::discovery`]). `loader` tells the steps taken and when, after the run.
///
/// With two `workers` or more, training is data-parallel on burn-train's
/// [`ExecutionStrategy::MultiDevice`]: it splits `train_loader` between them (each gets its
/// share of every batch, see [`crate::prefetch::BatchShare`]), sums their gradients on the
/// first and updates the model there, where it is also validated.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_supervised<M>(
    work: WorkDir,
    schedule: &Schedule,
    progress: Option<ProgressCallback>,
    workers: &[Device],
    model: M,
    item_tables: Option<ItemTables>,
    train_loader: Arc<dyn DataLoader<<M as TrainStep>::Input>>,
    valid_loader: Arc<dyn DataLoader<<M as InferenceStep>::Input>>,
    loader: &dyn StepClock,
    fresh: impl Fn(Option<ItemTables>) -> Result<M, TrainError>,
) -> Result<Supervised<M>, TrainError>
where
    M: LearnerModel + TrainStep<Output = StepOutput> + InferenceStep<Output = RankOutput>,
{
    let WorkDir {
        work,
        checkpoints,
        history_file,
        discovery_file,
        start_epoch,
        previous,
        previous_discovery,
    } = work;
    let eval_every = schedule.eval_every;
    let total_steps = schedule.total_steps;
    let num_epochs = total_steps.div_ceil(eval_every);
    let learner = Learner::new(
        model,
        AdamConfig::new().init(),
        ConstantLr::new(schedule.learning_rate),
    );
    let ndcg = NdcgMetric::new(10);
    let interrupter = Interrupter::new();
    if let Some(guard) = &schedule.guard {
        guard.attach(interrupter.clone());
        guard.start_at(start_epoch * eval_every);
    }
    let callback: ProgressCallback = progress.unwrap_or_else(|| Box::new(|_| {}));
    let loss = TrainLossMetric::new();
    let renderer =
        CallbackRenderer::new(callback, schedule.batch_size, eval_every, start_epoch + 1);
    let mut training = SupervisedTraining::new(&work, train_loader, valid_loader)
        .metric_train_numeric(loss.clone())
        .metric_valid_numeric(ndcg.clone());
    let discovery = NdcgMetric::discovery(10);
    let main_history = History::new(previous, ndcg.history());
    let discovery_history = History::new(previous_discovery, discovery.history());
    let mut kept = vec![main_history.clone()];
    let mut stopping = vec![main_history.clone()];
    if schedule.discovery {
        training = training.metric_valid_numeric(discovery.clone());
        kept.push(discovery_history.clone());
        if schedule.discovery_keeps_training {
            stopping.push(discovery_history.clone());
        }
    }
    let record = ValidationFiles {
        main: (history_file, main_history.clone()),
        discovery: schedule
            .discovery
            .then(|| (discovery_file, discovery_history.clone())),
        error: Arc::new(Mutex::new(None)),
    };
    let tables_error: Arc<Mutex<Option<TrainError>>> = Arc::default();
    let part = |name| AtomicCheckpointer::new(&checkpoints, name);
    let mut training = training
        .with_custom_checkpointers(part(PARTS[0])?, part(PARTS[1])?, part(PARTS[2])?)
        .with_checkpointing_strategy(WithItemTables::new(
            KeepLatestAndBest::new(kept, saved_epochs(&checkpoints)),
            item_tables.clone(),
            &checkpoints,
            tables_error.clone(),
        ))
        .early_stopping(PatienceStop {
            histories: stopping,
            patience: schedule.patience.max(1),
            record: record.clone(),
        })
        .num_epochs(num_epochs)
        .with_interrupter(interrupter.clone())
        .renderer(Box::new(renderer))
        .with_application_logger(None);
    if start_epoch > 0 {
        training = training.checkpoint(start_epoch);
        if let Some(tables) = &item_tables {
            tables.load(
                &ItemTables::checkpoint_path(&checkpoints, start_epoch),
                true,
            )?;
        }
    }
    if workers.len() > 1 {
        training = training.with_training_strategy(TrainingStrategy::Default(
            ExecutionStrategy::MultiDevice(workers.to_vec(), MultiDeviceOptim::OptimMainDevice),
        ));
    }

    let started = Instant::now();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = schedule.seconds.map(|limit| {
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
    if let Some(error) = take_error(&tables_error) {
        return Err(error);
    }
    if let Some(handle) = watchdog {
        let _ = handle.join();
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(error) = interrupter.error() {
        return Err(TrainError::Training(error.to_string()));
    }
    if let Some(guard) = &schedule.guard
        && guard.policy() == NonFiniteLoss::Stop
        && let Some(bad) = guard.first_non_finite()
    {
        return Err(TrainError::NonFiniteLoss {
            step: bad.step,
            loss: bad.loss,
            last_finite: bad.last_finite,
        });
    }

    // Once more at the end: a run stopped before its first validation writes its (empty)
    // files too.
    record.write();
    if let Some(error) = record.take_error() {
        return Err(error);
    }
    let validations = main_history.values();
    let discovery_validations = if schedule.discovery {
        discovery_history.values()
    } else {
        Vec::new()
    };
    let discovery_written = finite_or_none(&discovery_validations);
    let best = best_index(&validations);
    // No discovery model when no validation ranked a new track in the top 10: nothing tells
    // the checkpoints apart.
    let best_discovery =
        best_index(&discovery_validations).filter(|&i| discovery_validations[i - 1] > 0.0);
    // Checkpoints hold the learner's module, and with item tables those apart: the best
    // period's tables replace the run's (the run is over: they are not trained any more, and
    // never held twice), another period's go to tables of their own.
    let load = |epoch: usize, into_run_tables: bool| -> Result<Option<M>, TrainError> {
        let path = checkpoints.join(format!("model-{epoch}.bpk"));
        if !path.is_file() {
            return Ok(None);
        }
        let tables = match &item_tables {
            Some(run) => {
                let tables = if into_run_tables {
                    run.drop_optimizer_state();
                    run.clone()
                } else {
                    run.empty_like()
                };
                tables.load(&ItemTables::checkpoint_path(&checkpoints, epoch), false)?;
                Some(tables)
            }
            None => None,
        };
        let mut model = fresh(tables)?;
        model
            .load_from(&mut BurnpackStore::from_file(&path))
            .map_err(|e| TrainError::Weights {
                path: path.clone(),
                message: e.to_string(),
            })?;
        Ok(Some(model))
    };
    let model = match best {
        Some(epoch) => load(epoch, true)?,
        None => None,
    };
    // The same checkpoint is read once.
    let discovery_model = match (best_discovery, &model) {
        (Some(epoch), Some(model)) if Some(epoch) == best => Some(model.clone()),
        (Some(epoch), _) => load(epoch, false)?,
        (None, _) => None,
    };
    let model = model.unwrap_or(result.model);
    let steps = loader.delivered_steps();
    let losses = loss.history().lock().map(|h| h.clone()).unwrap_or_default();
    let curve = learning_curve(
        &validations,
        &discovery_validations,
        &losses,
        &loader.request_times(),
        started,
        seconds,
        schedule,
        start_epoch,
    );
    if let Some(out_dir) = work.parent() {
        write_curve(&out_dir.join(METRICS_FILE), &curve)?;
    }
    let report = TrainReport {
        curve,
        steps,
        seconds,
        seconds_per_step: seconds / steps.saturating_sub(start_epoch * eval_every).max(1) as f64,
        best_step: best.map_or(steps, |b| (b * eval_every).min(total_steps)),
        best_validation: best,
        stopped_before_budget: steps < total_steps,
        validations,
        discovery_validations: discovery_written,
        best_discovery_validation: best_discovery,
        skipped_batches: schedule.guard.as_ref().map_or(0, LossGuard::skipped),
    };
    tracing::info!(steps, seconds, best = ?report.best_validation, "training finished");
    Ok(Supervised {
        best: model,
        discovery: discovery_model,
        report,
    })
}
