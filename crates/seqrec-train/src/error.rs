//! Errors of training, evaluation and serving.

use std::path::PathBuf;

/// Everything that can go wrong in `seqrec-train`.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A setting that cannot work, alone or with the others.
    #[error("invalid setting `{setting}`: {reason}")]
    InvalidSetting {
        /// The setting, by its field name (`negatives`, `run.eval_every`, `objective`, ...).
        setting: &'static str,
        /// Why it cannot work, and what would.
        reason: String,
    },
    /// The data has nothing to train or validate on.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// Two inputs that must have the same size do not.
    #[error("{what}: {found}, expected {expected}")]
    SizeMismatch {
        /// What was counted (`items of the model and of the data`, `exclusion lists`, ...).
        what: &'static str,
        /// The size the other input fixes.
        expected: usize,
        /// The size found.
        found: usize,
    },
    /// A model directory does not hold what its kind needs.
    #[error("{path}: {reason}")]
    ModelDir {
        /// The file of the directory at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `resume` was asked for where no training was started.
    #[error("nothing to resume: no training in {work}")]
    NothingToResume {
        /// The work directory searched.
        work: PathBuf,
    },
    /// The model cannot be exported to the reference code's format.
    #[error("cannot export: {0}")]
    NotExportable(&'static str),
    /// An evaluation metric could not be set up.
    #[error(transparent)]
    Eval(#[from] seqrec_eval::EvalError),
    /// The model configuration is invalid.
    #[error(transparent)]
    Model(#[from] seqrec_model::ConfigError),
    /// Negative sampling failed.
    #[error(transparent)]
    Sampling(#[from] seqrec_sampling::SamplingError),
    /// The loss could not be set up.
    #[error(transparent)]
    Loss(#[from] seqrec_loss::LossError),
    /// Reading the data failed.
    #[error(transparent)]
    Data(#[from] seqrec_data::DataError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON file of a model directory is malformed.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause, with line and column.
        source: serde_json::Error,
    },
    /// Model weights could not be saved or loaded.
    #[error("{path}: model weights: {message}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A tensor could not be read back from the device.
    #[error("reading a tensor back from the device failed: {0}")]
    Device(String),
    /// The training loss became NaN or infinite (with [`NonFiniteLoss::Stop`](crate::NonFiniteLoss)).
    #[error("training loss is {loss} at step {step} (last finite loss: {}); the checkpoints before it are kept; a smaller learning rate usually helps, or skip such batches (non_finite_loss = \"skip\", --skip-non-finite)", last_finite.map_or_else(|| "none".to_string(), |l| format!("{l:.6}")))]
    NonFiniteLoss {
        /// The 1-based step.
        step: usize,
        /// The loss.
        loss: f64,
        /// The last finite loss before it.
        last_finite: Option<f64>,
    },
    /// A history given for recommendation is empty.
    #[error("the history is empty: at least one known item is needed to recommend")]
    EmptyHistory,
    /// An item id that the model does not know.
    #[error("unknown item `{item}` at position {position} of the history")]
    UnknownItem {
        /// The id as given.
        item: String,
        /// Its 0-based position in the history.
        position: usize,
    },
    /// A PyTorch (or exported SafeTensors) gSASRec checkpoint could not be imported (boxed:
    /// it names the file and the tensor).
    #[error(transparent)]
    Import(Box<crate::interop::ImportError>),
    /// Training stopped with an error reported by the learner.
    #[error("training failed: {0}")]
    Training(String),
}

impl TrainError {
    /// [`TrainError::InvalidSetting`] of `setting` for `reason`.
    pub(crate) fn setting(setting: &'static str, reason: impl Into<String>) -> Self {
        TrainError::InvalidSetting {
            setting,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TrainError::Io { path, source }
    }

    pub(crate) fn json(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> Self {
        let path = path.into();
        move |source| TrainError::Json { path, source }
    }
}
