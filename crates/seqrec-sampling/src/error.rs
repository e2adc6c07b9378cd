//! Typed errors returned by the samplers.

use thiserror::Error;

/// Everything that can go wrong while building a sampler or drawing negatives.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SamplingError {
    /// The catalogue has no items (`num_items == 0`, or a count vector shorter than 2).
    #[error("the catalogue is empty: at least one item (id 1) is required")]
    EmptyCatalogue,

    /// The catalogue does not fit into `u32` item ids.
    #[error("catalogue too large: {len} items do not fit into u32 ids")]
    CatalogueTooLarge {
        /// Number of items that was requested.
        len: usize,
    },

    /// The popularity exponent is negative, NaN or infinite.
    #[error("invalid popularity exponent gamma = {gamma}: it must be finite and >= 0")]
    InvalidGamma {
        /// The rejected exponent.
        gamma: f64,
    },

    /// Every item has zero count, so a popularity distribution has no mass.
    #[error("no item has a positive count: the popularity distribution has no mass")]
    NoMass,

    /// A raw weight handed to the alias table is negative, NaN or infinite.
    #[error("weight at index {index} is {weight}: weights must be finite and >= 0")]
    InvalidWeight {
        /// Index of the offending weight.
        index: usize,
        /// The offending weight.
        weight: f64,
    },

    /// The count vector does not match the catalogue size.
    #[error("count vector has {got} entries but {expected} were expected (num_items + 1)")]
    CountLengthMismatch {
        /// Expected length (`num_items + 1`).
        expected: usize,
        /// Actual length.
        got: usize,
    },

    /// The exclusion removes every item that has probability mass.
    #[error("exclusion removes every item with positive probability: nothing left to sample")]
    NoCandidates,

    /// An item id is outside `1..=num_items` where a real item is required.
    #[error("item id {id} is outside 1..={num_items}")]
    InvalidItem {
        /// The offending id.
        id: u32,
        /// Catalogue size.
        num_items: u32,
    },

    /// A slice that must be sorted strictly ascending is not.
    #[error("exclusion ids must be sorted strictly ascending (violation at index {index})")]
    NotSorted {
        /// Index of the first element that is not greater than its predecessor.
        index: usize,
    },

    /// The sequences of a batch have different lengths.
    #[error("ragged batch: sequence {index} has length {got}, expected {expected}")]
    RaggedBatch {
        /// Index of the offending sequence.
        index: usize,
        /// Length of the first sequence.
        expected: usize,
        /// Length of the offending sequence.
        got: usize,
    },

    /// The history slice does not have one entry per sequence.
    #[error("history has {got} entries but the batch has {expected} sequences")]
    HistoryLengthMismatch {
        /// Number of sequences in the batch.
        expected: usize,
        /// Number of history entries.
        got: usize,
    },

    /// The number of requested ids overflows `usize`.
    #[error("requested number of negatives overflows usize")]
    SizeOverflow,

    /// A string could not be parsed as a [`NegativeSharing`](crate::NegativeSharing).
    #[error(
        "unknown negative sharing mode {value:?} (expected per-position, per-sequence or per-batch)"
    )]
    UnknownSharing {
        /// The rejected string.
        value: String,
    },
}
