//! Progress reporting: a burn-train renderer that forwards training progress to a callback,
//! so that a command-line program can draw a progress bar and a service can log.

use burn::train::LearnerSummary;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

/// What the trainer reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// Training started: `total_steps` steps at most (`None` when only time limits it).
    Started {
        /// The step budget.
        total_steps: Option<usize>,
    },
    /// A training step finished.
    Step {
        /// Steps done so far.
        step: usize,
        /// Loss of that step.
        loss: f64,
        /// Sequences per second since training started.
        sequences_per_second: f64,
    },
    /// A validation finished.
    Validated {
        /// Steps done so far.
        step: usize,
        /// NDCG@10 on the validation users.
        ndcg_at_10: f64,
    },
    /// Training ended.
    Finished,
}

/// A progress callback.
pub type ProgressCallback = Box<dyn FnMut(&ProgressEvent) + Send + Sync>;

/// Forwards burn-train's renderer and progress events to a [`ProgressCallback`].
pub struct CallbackRenderer {
    callback: ProgressCallback,
    batch_size: usize,
    steps_per_epoch: usize,
    epoch: usize,
    split: String,
    items: usize,
    started: std::time::Instant,
    steps_at_start: usize,
    names: std::collections::HashMap<MetricId, String>,
    last_validated: Option<usize>,
}

impl CallbackRenderer {
    /// A renderer for batches of `batch_size` and validations every `steps_per_epoch` steps,
    /// the first epoch being `first_epoch` (1 unless resuming).
    pub fn new(
        callback: ProgressCallback,
        batch_size: usize,
        steps_per_epoch: usize,
        first_epoch: usize,
    ) -> Self {
        Self {
            callback,
            batch_size: batch_size.max(1),
            steps_per_epoch,
            epoch: first_epoch,
            split: String::new(),
            items: 0,
            started: std::time::Instant::now(),
            steps_at_start: (first_epoch - 1) * steps_per_epoch,
            names: Default::default(),
            last_validated: None,
        }
    }

    fn step(&self) -> usize {
        (self.epoch - 1) * self.steps_per_epoch + self.items / self.batch_size
    }
}

impl CallbackRenderer {
    /// The metric's name and current value, for numeric metrics.
    fn value(&self, state: &MetricState) -> Option<(&str, f64)> {
        match state {
            MetricState::Numeric(entry, Some(value)) => {
                let v = match value {
                    NumericEntry::Value(v) | NumericEntry::Final(v) => *v,
                    NumericEntry::Aggregated {
                        aggregated_value, ..
                    } => *aggregated_value,
                };
                Some((self.names.get(&entry.metric_id)?.as_str(), v))
            }
            _ => None,
        }
    }
}

impl MetricsRendererTraining for CallbackRenderer {
    fn update_train(&mut self, state: MetricState) {
        if let Some((name, loss)) = self.value(&state)
            && name.contains("Loss")
        {
            let step = self.step();
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            let done = step.saturating_sub(self.steps_at_start) * self.batch_size;
            (self.callback)(&ProgressEvent::Step {
                step,
                loss,
                sequences_per_second: done as f64 / secs,
            });
        }
    }

    fn update_valid(&mut self, state: MetricState) {
        if let Some((name, ndcg)) = self.value(&state)
            && name.contains("NDCG")
        {
            let step = self.epoch * self.steps_per_epoch;
            // burn-train reports a validation's value more than once; tell the callback once.
            if self.last_validated != Some(step) {
                self.last_validated = Some(step);
                (self.callback)(&ProgressEvent::Validated {
                    step,
                    ndcg_at_10: ndcg,
                });
            }
        }
    }

    fn on_train_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn core::error::Error>> {
        (self.callback)(&ProgressEvent::Finished);
        Ok(())
    }
}

impl MetricsRendererEvaluation for CallbackRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl TrainingProgressLogger for CallbackRenderer {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        _items: Option<usize>,
        _label: Option<&str>,
    ) {
        self.epoch = starting_epoch.max(1);
        let total = total_epochs.checked_mul(self.steps_per_epoch);
        (self.callback)(&ProgressEvent::Started { total_steps: total });
    }
    fn update_epoch(&mut self, epoch: usize) {
        self.epoch = epoch.max(1);
    }
    fn start_split(&mut self, split: &str, _total_items: usize) {
        self.split = split.to_string();
        self.items = 0;
    }
    fn update_split(&mut self, items_processed: usize) {
        self.items = items_processed;
    }
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, event: String) {
        tracing::info!("{event}");
    }
}

impl EvaluationProgressLogger for CallbackRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, event: String) {
        tracing::info!("{event}");
    }
}

impl MetricsRenderer for CallbackRenderer {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, definition.name.to_string());
    }
}
