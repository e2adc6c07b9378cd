//! Data loaders for burn-train: training batches of sequences (planned in a background thread,
//! see [`crate::prefetch`]) and held-out users for validation; a loader "epoch" is one
//! validation period of `eval_every` steps.

use std::sync::Arc;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::Device;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use seqrec_sampling::NegativeSampler;

use crate::batch::{EvalBatch, TrainBatch};
use crate::item_rows::localise;
use crate::plan::{BatchPlan, BatchPlanner};
use crate::prefetch::{BatchShare, PlannedBatch, PrefetchLoader};

/// Endless training batches, `steps_per_epoch` per loader epoch, `total_steps` in all.
///
/// Sequences are visited in a seeded random order, reshuffled after each pass; every batch is
/// full. The same seed gives the same batches (one producer thread, one random stream).
pub type TrainLoader = PrefetchLoader<TrainBatch>;

impl PlannedBatch for TrainBatch {
    type Plan = BatchPlan;
    const UNIT: &'static str = "sequences";
    const THREAD: &'static str = "seqrec-batches";

    fn upload(plan: &BatchPlan, share: &BatchShare, device: &Device) -> Self {
        TrainBatch::from_share(plan, share, device)
    }
}

impl PrefetchLoader<TrainBatch> {
    /// A loader over `sequences` (each at least two items long). With `item_rows`, every plan
    /// lists the item rows it touches and its ids become positions in them
    /// ([`crate::item_rows::localise`]), for sparse item updates.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sequences: Arc<Vec<Vec<u32>>>,
        planner: BatchPlanner,
        item_rows: bool,
        sampler: NegativeSampler,
        batch_size: usize,
        steps_per_epoch: usize,
        total_steps: usize,
        skip_steps: usize,
        seed: u64,
        device: Device,
    ) -> Self {
        let mut order: Vec<usize> = (0..sequences.len()).collect();
        let mut cursor = order.len();
        let plan = move |rng: &mut ChaCha8Rng| {
            let mut batch = Vec::with_capacity(batch_size);
            while batch.len() < batch_size {
                if cursor == order.len() {
                    order.shuffle(rng);
                    cursor = 0;
                }
                batch.push(sequences[order[cursor]].as_slice());
                cursor += 1;
            }
            let mut plan = planner.plan(&batch, &sampler, rng)?;
            if item_rows {
                localise(&mut plan, planner.mask_token);
            }
            Ok(plan)
        };
        Self::from_planner(
            Box::new(plan),
            batch_size,
            steps_per_epoch,
            total_steps,
            skip_steps,
            seed,
            device,
        )
    }
}

/// Whether validation ranks the items of the user's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryRanking {
    /// History items are never ranked: the next-item protocol of SASRec and gSASRec.
    Excluded,
    /// History items are ranked too: listening logs, where the next track is often a replay.
    Ranked,
}

/// Held-out users in fixed order, `batch_size` at a time.
#[derive(Clone)]
pub struct EvalLoader {
    histories: Arc<Vec<Vec<u32>>>,
    targets: Arc<Vec<u32>>,
    range: std::ops::Range<usize>,
    batch_size: usize,
    max_len: usize,
    num_items: usize,
    exclude_history: bool,
    discovery: bool,
    device: Device,
}

impl EvalLoader {
    /// A loader over histories and their targets (same length).
    pub fn new(
        histories: Arc<Vec<Vec<u32>>>,
        targets: Arc<Vec<u32>>,
        batch_size: usize,
        max_len: usize,
        num_items: usize,
        history: HistoryRanking,
        device: Device,
    ) -> Self {
        let range = 0..histories.len().min(targets.len());
        let exclude_history = history == HistoryRanking::Excluded;
        Self {
            histories,
            targets,
            range,
            batch_size,
            max_len,
            num_items,
            exclude_history,
            discovery: false,
            device,
        }
    }

    /// Also ranks each new target among the items outside the user's input window, for the
    /// discovery validation (see [`EvalBatch::with_discovery`]).
    pub fn with_discovery(self) -> Self {
        Self {
            discovery: true,
            ..self
        }
    }

    /// The batch of users `start..end`.
    pub fn batch(&self, start: usize, end: usize) -> EvalBatch {
        let histories: Vec<&[u32]> = self.histories[start..end]
            .iter()
            .map(Vec::as_slice)
            .collect();
        let targets = &self.targets[start..end];
        let batch = EvalBatch::new(
            &histories,
            targets,
            self.max_len,
            self.num_items,
            self.exclude_history,
            &self.device,
        );
        if self.discovery {
            batch.with_discovery(&histories, targets)
        } else {
            batch
        }
    }
}

struct EvalIter<'a> {
    loader: &'a EvalLoader,
    next: usize,
}

impl Iterator for EvalIter<'_> {
    type Item = Result<EvalBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        let end = self.loader.range.end;
        if self.next >= end {
            return None;
        }
        let stop = (self.next + self.loader.batch_size).min(end);
        let batch = self.loader.batch(self.next, stop);
        self.next = stop;
        Some(Ok(batch))
    }
}

impl DataLoaderIterator<EvalBatch> for EvalIter<'_> {
    fn progress(&self) -> Progress {
        let r = &self.loader.range;
        Progress {
            items_processed: self.next - r.start,
            items_total: r.len(),
            unit: Some("users".into()),
        }
    }
}

impl DataLoader<EvalBatch> for EvalLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<EvalBatch> + 'a> {
        Box::new(EvalIter {
            loader: self,
            next: self.range.start,
        })
    }

    fn num_items(&self) -> usize {
        self.range.len()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<EvalBatch>> {
        Arc::new(Self {
            device: device.clone(),
            ..self.clone()
        })
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<EvalBatch>> {
        let first = self.range.start + start;
        let range = first.min(self.range.end)..(self.range.start + end).min(self.range.end);
        Arc::new(Self {
            range,
            ..self.clone()
        })
    }
}
