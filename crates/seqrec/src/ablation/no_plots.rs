//! The plots of an ablation when the `plots` feature is off: the functions of `plots.rs`
//! with the same signatures, drawing and writing nothing.

use std::path::{Path, PathBuf};

use seqrec_eval::ProfileReport;

use super::AblationError;

/// No F1@k plot: nothing is written.
pub fn f1_at_k(_report: &ProfileReport, _stem: &Path) -> Result<Vec<PathBuf>, AblationError> {
    Ok(Vec::new())
}

/// No cohort plot: nothing is written.
pub fn cohorts(_report: &ProfileReport, _stem: &Path) -> Result<Vec<PathBuf>, AblationError> {
    Ok(Vec::new())
}

/// One model's validation curve, as in `plots.rs` (built by the writer, drawn only with the
/// feature).
#[allow(dead_code)]
pub struct Curve<'a> {
    /// The model's name.
    pub name: &'a str,
    /// Its validations, in order.
    pub points: Vec<(f64, f64, f64)>,
}

/// No learning-curve plot: nothing is written.
pub fn learning_curves(_curves: &[Curve<'_>], _stem: &Path) -> Result<Vec<PathBuf>, AblationError> {
    Ok(Vec::new())
}
