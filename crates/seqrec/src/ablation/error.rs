//! Errors of an ablation run.

use std::path::PathBuf;

use seqrec_data::DataError;
use seqrec_eval::EvalError;
use seqrec_train::TrainError;

/// Why an ablation could not run or write its results.
#[derive(Debug, thiserror::Error)]
pub enum AblationError {
    /// A setting is out of range.
    #[error("ablation configuration: {0}")]
    Config(String),
    /// Reading or splitting the data failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Training or ranking a model failed.
    #[error("model {model:?}: {source}")]
    Train {
        /// The model being trained or ranked.
        model: String,
        /// The cause (boxed: a training error is large).
        source: Box<TrainError>,
    },
    /// The evaluation failed.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// The data cannot be evaluated with the profile protocol.
    #[error("{0}")]
    Unsupported(String),
    /// Writing a result file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Drawing a plot failed.
    #[error("plot {path}: {message}")]
    Plot {
        /// The image file.
        path: PathBuf,
        /// What the plotting library said.
        message: String,
    },
}

impl AblationError {
    pub(crate) fn train(model: &str) -> impl FnOnce(TrainError) -> Self + '_ {
        move |source| AblationError::Train {
            model: model.to_string(),
            source: Box::new(source),
        }
    }

    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| AblationError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
