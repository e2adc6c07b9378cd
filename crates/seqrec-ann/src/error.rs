//! The one error type of the crate.

use std::path::PathBuf;

/// What can go wrong building, searching, saving or opening an index.
#[derive(Debug, thiserror::Error)]
pub enum AnnError {
    /// A table, query or setting that cannot be indexed or searched (empty, wrong length,
    /// zero dimension, a non-finite value, a setting out of range).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The vector search library refused an operation (out of memory, a corrupt file).
    #[error("usearch {operation}: {message}")]
    Library {
        /// What was being done: `new`, `reserve`, `add`, `search`, `save`, `load`.
        operation: &'static str,
        /// The library's message.
        message: String,
    },
    /// Reading or writing an index directory.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The manifest (`ann.json`) of an index directory cannot be read.
    #[error("{path}: {message}")]
    Manifest {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A saved index that does not belong to the table it is opened for (another model's
    /// weights, another shape or other build settings): build it again.
    #[error("the index in {dir} is stale: {reason}")]
    Stale {
        /// The index directory.
        dir: PathBuf,
        /// What differs.
        reason: String,
    },
}

impl AnnError {
    /// Wraps an error of the library.
    pub(crate) fn library(operation: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Library {
            operation,
            message: error.to_string(),
        }
    }
}
