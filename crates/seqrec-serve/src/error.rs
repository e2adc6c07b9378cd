//! Errors of serving.

use std::path::PathBuf;

/// Everything that can go wrong in `seqrec-serve`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting that cannot work (the message says which and why).
    #[error("invalid serving configuration: {0}")]
    Config(String),
    /// Loading the model or ranking failed.
    #[error(transparent)]
    Model(#[from] seqrec_train::TrainError),
    /// The address could not be bound, or the server failed while running.
    #[error("server on {addr}: {source}")]
    Server {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A row of a users file is malformed or names an unknown item.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Row {
        /// The file.
        path: PathBuf,
        /// The 1-based line (CSV, JSON lines; the header is line 1 of a CSV file) or the
        /// 1-based row (Parquet).
        line: u64,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A users or recommendations file has an unsupported extension or a wrong layout.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Parquet or Arrow failed while reading or writing a file.
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// The ranking worker stopped (it panicked or the model failed to load).
    #[error("the ranking worker stopped")]
    WorkerStopped,
}

impl ServeError {
    /// A closure that wraps an I/O error with the file it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ServeError::Io { path, source }
    }
}
