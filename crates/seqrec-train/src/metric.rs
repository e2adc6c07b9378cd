//! The metrics burn-train computes: NDCG@k over validation ranks, for early stopping and for
//! choosing the checkpoint to keep, and the training loss, whose mean per validation period
//! is kept for the learning curve.

use std::sync::{Arc, Mutex};

use burn::tensor::{Int, Tensor, TensorReadError};
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};
use seqrec_eval::ndcg_at_k;

use crate::step::{RankOutput, StepOutput};

/// Input of [`NdcgMetric`]: 1-based target ranks, and the discovery ranks when asked for.
pub struct RankInput {
    ranks: Tensor<1, Int>,
    discovery_ranks: Option<Tensor<1, Int>>,
}

impl Adaptor<RankInput> for RankOutput {
    fn adapt(&self) -> RankInput {
        RankInput {
            ranks: self.ranks.clone(),
            discovery_ranks: self.discovery_ranks.clone(),
        }
    }
}

/// What both metrics keep: a running mean over a period (a validation, or the training steps
/// between two validations) and the mean of every completed period, shared between clones.
#[derive(Clone)]
struct PeriodMeans {
    name: MetricName,
    state: NumericMetricState,
    history: Arc<Mutex<Vec<f64>>>,
    /// Whether a period whose mean is not finite is recorded (as it is) or skipped.
    keep_non_finite: bool,
}

impl PeriodMeans {
    fn new(name: String, keep_non_finite: bool) -> Self {
        Self {
            name: Arc::new(name),
            state: NumericMetricState::default(),
            history: Arc::new(Mutex::new(Vec::new())),
            keep_non_finite,
        }
    }

    /// Adds the mean `value` of `count` items to the period.
    fn update(&mut self, value: f64, count: usize) -> SerializedEntry {
        self.state.update(value, count);
        self.state
            .compute_update(FormatOptions::new(self.name.clone()).precision(4))
    }

    /// Ends the period and records its mean.
    fn compute(&mut self) -> SerializedEntry {
        let value = self.state.final_value().current();
        if (self.keep_non_finite || value.is_finite())
            && let Ok(mut history) = self.history.lock()
        {
            history.push(value);
        }
        self.state
            .compute_final(FormatOptions::new(self.name.clone()).precision(4))
    }
}

/// Mean NDCG@k of the held-out targets. The mean of every completed validation is also kept
/// in [`NdcgMetric::history`], so that the trainer knows which checkpoint was best.
#[derive(Clone)]
pub struct NdcgMetric {
    k: usize,
    means: PeriodMeans,
    discovery: bool,
}

impl NdcgMetric {
    /// NDCG at cutoff `k`.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            means: PeriodMeans::new(format!("NDCG@{k}"), false),
            discovery: false,
        }
    }

    /// NDCG at cutoff `k` of the discovery ranks ([`RankOutput::discovery_ranks`]): the mean
    /// over the users whose target is new to them. A validation without such users (or
    /// without discovery ranks) is recorded as NaN, so that entry `i` of the history is
    /// always validation `i`.
    pub fn discovery(k: usize) -> Self {
        Self {
            k,
            means: PeriodMeans::new(format!("NDCG@{k} new"), true),
            discovery: true,
        }
    }

    /// The means of the validations completed so far, in order (shared between clones).
    pub fn history(&self) -> Arc<Mutex<Vec<f64>>> {
        self.means.history.clone()
    }
}

impl Metric for NdcgMetric {
    type Input = RankInput;

    fn name(&self) -> MetricName {
        self.means.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: true,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &RankInput,
        _: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let ranks = match (self.discovery, &item.discovery_ranks) {
            (false, _) => item.ranks.clone().try_into_vec_as::<i64>()?,
            (true, Some(ranks)) => ranks.clone().try_into_vec_as::<i64>()?,
            (true, None) => Vec::new(),
        };
        // Discovery ranks are 0 for replays, which are not counted.
        let counted: Vec<i64> = if self.discovery {
            ranks.into_iter().filter(|&r| r > 0).collect()
        } else {
            ranks
        };
        let sum: f64 = counted
            .iter()
            .map(|&r| ndcg_at_k(r.max(1) as usize, self.k))
            .sum();
        Ok(self
            .means
            .update(sum / counted.len().max(1) as f64, counted.len()))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.means.compute())
    }

    fn clear(&mut self) {
        self.means.state.reset()
    }
}

impl Numeric for NdcgMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.means.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.means.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.means.state.final_value()
    }
}

/// Input of [`TrainLossMetric`]: the loss of one step.
pub struct StepLossInput {
    loss: Tensor<1>,
}

impl Adaptor<StepLossInput> for StepOutput {
    fn adapt(&self) -> StepLossInput {
        StepLossInput {
            loss: self.loss.clone(),
        }
    }
}

/// The mean training loss of each period between validations (burn-train's epoch), kept in
/// [`TrainLossMetric::history`] for the learning curve (a period whose mean is not finite is
/// kept as it is, so that entry `i` is always period `i`); shown as "Loss" while training.
#[derive(Clone)]
pub struct TrainLossMetric {
    means: PeriodMeans,
}

impl Default for TrainLossMetric {
    fn default() -> Self {
        Self::new()
    }
}

impl TrainLossMetric {
    /// A fresh metric.
    pub fn new() -> Self {
        Self {
            means: PeriodMeans::new("Loss".to_string(), true),
        }
    }

    /// The mean loss of every completed period, in order (shared between clones).
    pub fn history(&self) -> Arc<Mutex<Vec<f64>>> {
        self.means.history.clone()
    }
}

impl Metric for TrainLossMetric {
    type Input = StepLossInput;

    fn name(&self) -> MetricName {
        self.means.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &StepLossInput,
        _: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let loss = item.loss.clone().mean().try_into_scalar::<f64>()?;
        Ok(self.means.update(loss, 1))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.means.compute())
    }

    fn clear(&mut self) {
        self.means.state.reset()
    }
}

impl Numeric for TrainLossMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.means.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.means.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.means.state.final_value()
    }
}
