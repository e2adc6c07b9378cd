//! A watch on the training loss: a NaN or infinite loss stops training with an error that
//! names the step and the last finite loss, or (on request) its batch is skipped and counted.
//! Either way the batch's gradients never reach the model.

use std::sync::{Arc, Mutex};

use burn::train::Interrupter;
use serde::{Deserialize, Serialize};

/// What training does with a batch whose loss is NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NonFiniteLoss {
    /// Stop with [`TrainError::NonFiniteLoss`](crate::TrainError::NonFiniteLoss); the
    /// checkpoints written before stay (the default).
    #[default]
    Stop,
    /// Skip the batch (no update) and count it in the report.
    Skip,
}

/// The first non-finite loss seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonFiniteStep {
    /// The 1-based training step.
    pub step: usize,
    /// Its loss (NaN or ±∞).
    pub loss: f64,
    /// The last finite loss before it, if any.
    pub last_finite: Option<f64>,
}

#[derive(Default)]
struct GuardState {
    step: usize,
    last_finite: Option<f64>,
    first: Option<NonFiniteStep>,
    skipped: usize,
    interrupter: Option<Interrupter>,
}

/// Shared by the training step (which reports each loss) and the session (which reads the
/// outcome); clones share one state.
#[derive(Clone)]
pub struct LossGuard {
    policy: NonFiniteLoss,
    state: Arc<Mutex<GuardState>>,
}

impl std::fmt::Debug for LossGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LossGuard")
            .field("policy", &self.policy)
            .field("first", &self.first_non_finite())
            .field("skipped", &self.skipped())
            .finish()
    }
}

impl LossGuard {
    /// A guard counting steps from 1; the session moves the count on for a resumed run.
    pub fn new(policy: NonFiniteLoss) -> Self {
        Self {
            policy,
            state: Arc::new(Mutex::new(GuardState::default())),
        }
    }

    /// The interrupter that stops training under [`NonFiniteLoss::Stop`].
    pub(crate) fn attach(&self, interrupter: Interrupter) {
        if let Ok(mut state) = self.state.lock() {
            state.interrupter = Some(interrupter);
        }
    }

    /// Counts steps from `steps_done` (a resumed run's checkpoint).
    pub(crate) fn start_at(&self, steps_done: usize) {
        if let Ok(mut state) = self.state.lock() {
            state.step = steps_done;
        }
    }

    /// Records the loss of the next step; `true` when its gradients may update the model.
    pub fn admit(&self, loss: f64) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        state.step += 1;
        if loss.is_finite() {
            state.last_finite = Some(loss);
            return true;
        }
        if state.first.is_none() {
            state.first = Some(NonFiniteStep {
                step: state.step,
                loss,
                last_finite: state.last_finite,
            });
        }
        match self.policy {
            NonFiniteLoss::Skip => state.skipped += 1,
            NonFiniteLoss::Stop => {
                if let Some(interrupter) = &state.interrupter {
                    interrupter.stop(Some("non-finite loss"));
                }
            }
        }
        false
    }

    /// The first non-finite loss, if one was seen.
    pub fn first_non_finite(&self) -> Option<NonFiniteStep> {
        self.state.lock().ok().and_then(|s| s.first)
    }

    /// Batches skipped under [`NonFiniteLoss::Skip`].
    pub fn skipped(&self) -> usize {
        self.state.lock().map_or(0, |s| s.skipped)
    }

    /// The policy.
    pub fn policy(&self) -> NonFiniteLoss {
        self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_non_finite_loss_is_kept_with_the_last_finite_one() {
        let guard = LossGuard::new(NonFiniteLoss::Skip);
        guard.start_at(10);
        assert!(guard.admit(2.5));
        assert!(guard.admit(2.0));
        assert!(!guard.admit(f64::NAN));
        assert!(!guard.admit(f64::INFINITY));
        assert!(guard.admit(1.5));
        let first = guard.first_non_finite().unwrap();
        assert_eq!((first.step, first.last_finite), (13, Some(2.0)));
        assert!(first.loss.is_nan());
        assert_eq!(guard.skipped(), 2);

        let stop = LossGuard::new(NonFiniteLoss::Stop);
        let interrupter = Interrupter::new();
        stop.attach(interrupter.clone());
        assert!(stop.admit(1.0));
        assert!(!interrupter.should_stop());
        assert!(!stop.admit(f64::NEG_INFINITY));
        assert!(interrupter.should_stop());
        assert_eq!(stop.skipped(), 0);
    }
}
