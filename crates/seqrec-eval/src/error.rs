//! Typed errors of the evaluation crate.

use thiserror::Error;

/// Errors raised when configuring evaluators, building profiles, resampling or
/// combining evaluations.
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
    /// A configuration value is out of its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Name of the parameter.
        name: &'static str,
        /// Why the value was rejected (includes the value).
        reason: String,
    },
    /// More successes than trials were given to a binomial estimate.
    #[error("invalid counts: {positives} positives out of {trials} trials")]
    InvalidCounts {
        /// Number of successes (positive plays).
        positives: u64,
        /// Number of trials (plays).
        trials: u64,
    },
    /// Two slices that must have the same length do not.
    #[error("length mismatch for {what}: {left} vs {right}")]
    LengthMismatch {
        /// What was being compared.
        what: &'static str,
        /// Length of the first slice.
        left: usize,
        /// Length of the second slice.
        right: usize,
    },
    /// A statistic was requested for an empty sample.
    #[error("cannot resample an empty sample")]
    EmptySample,
    /// A sample value is NaN or infinite.
    #[error("sample value at index {index} is not finite")]
    NonFiniteValue {
        /// Index of the first offending value.
        index: usize,
    },
    /// The same user was given two ranked lists.
    #[error("user {user} has more than one ranked list")]
    DuplicateUser {
        /// The repeated user id.
        user: u32,
    },
    /// Model evaluations that were not produced by the same evaluator (other
    /// users or other metrics) cannot be compared or reported together.
    #[error("incompatible model evaluations: {reason}")]
    IncompatibleEvaluations {
        /// What differs.
        reason: String,
    },
    /// A report needs at least one model evaluation.
    #[error("at least one model evaluation is required")]
    NoModels,
    /// A report could not be serialized or parsed.
    #[error("serialization failed: {reason}")]
    Serialization {
        /// The serializer's message.
        reason: String,
    },
}
