//! Typed errors of the evaluation crate.

use thiserror::Error;

/// Errors raised when configuring or combining evaluators.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// No cutoff `k` was given.
    #[error("at least one cutoff k is required")]
    NoCutoffs,
    /// A cutoff of 0 was given.
    #[error("cutoff k must be >= 1")]
    ZeroCutoff,
    /// Two evaluators with different cutoffs cannot be merged.
    #[error("cannot merge evaluators with different cutoffs: {left:?} vs {right:?}")]
    CutoffMismatch {
        /// Cutoffs of the receiving evaluator.
        left: Vec<usize>,
        /// Cutoffs of the merged evaluator.
        right: Vec<usize>,
    },
}
