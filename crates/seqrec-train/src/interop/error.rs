//! Errors of reading a gSASRec-pytorch state_dict.

use std::path::PathBuf;

/// A checkpoint (or SafeTensors file) that cannot become a [`seqrec_model::GsasRec`].
///
/// Every variant names the file, and the tensor where one is at fault, with its name in the
/// reference code's `state_dict` (`transformer_blocks.0.dense1.weight`).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or parsed as a PyTorch or SafeTensors file.
    #[error("{path}: cannot read the checkpoint: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A tensor of the reference model is not in the state_dict.
    #[error("{path}: tensor `{name}` is missing from the state_dict")]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The reference name of the tensor.
        name: String,
    },
    /// The state_dict holds a tensor that the reference gSASRec does not have.
    #[error(
        "{path}: unexpected tensor `{name}` of shape {shape:?}: not a tensor of the reference gSASRec"
    )]
    UnexpectedTensor {
        /// The file.
        path: PathBuf,
        /// Its name in the state_dict.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// A tensor has the wrong shape for the architecture the other tensors describe.
    #[error("{path}: tensor `{name}` has shape {found:?}, expected {expected}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// The reference name of the tensor.
        name: String,
        /// The shape it should have (or a description of it).
        expected: String,
        /// The shape it has.
        found: Vec<usize>,
    },
    /// A tensor does not hold floating-point values.
    #[error("{path}: tensor `{name}` holds {dtype} values, expected floating point")]
    DType {
        /// The file.
        path: PathBuf,
        /// The reference name of the tensor.
        name: String,
        /// Its element type.
        dtype: String,
    },
    /// A SafeTensors file written by `seqrec export` lacks a metadata entry, or holds an
    /// invalid one.
    #[error("{path}: metadata `{key}`: {message}")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// The metadata key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The tensors describe a model that the given settings cannot build (for example a
    /// number of heads that does not divide the embedding size).
    #[error("{path}: {source}")]
    Model {
        /// The file.
        path: PathBuf,
        /// Why the configuration is invalid.
        source: seqrec_model::ConfigError,
    },
}

impl From<ImportError> for crate::error::TrainError {
    fn from(error: ImportError) -> Self {
        Self::Import(Box::new(error))
    }
}
