//! Data loaders for burn-train: training batches are planned in a background thread (with a
//! small prefetch queue) and uploaded on the training thread; a loader "epoch" is one
//! validation period of `eval_every` steps.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::Device;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use seqrec_sampling::NegativeSampler;

use crate::batch::{EvalBatch, TrainBatch};
use crate::error::TrainError;
use crate::plan::{BatchPlan, BatchPlanner};

/// Batches planned ahead of the training thread.
const PREFETCH: usize = 4;

struct Producer {
    receiver: Receiver<Result<BatchPlan, TrainError>>,
    delivered: usize,
}

struct TrainShared {
    sequences: Arc<Vec<Vec<u32>>>,
    planner: BatchPlanner,
    sampler: NegativeSampler,
    batch_size: usize,
    steps_per_epoch: usize,
    total_steps: usize,
    skip_steps: usize,
    seed: u64,
    producer: Mutex<Option<Producer>>,
}

/// Endless training batches, `steps_per_epoch` per loader epoch, `total_steps` in all.
///
/// Sequences are visited in a seeded random order, reshuffled after each pass; every batch is
/// full. The same seed gives the same batches (one producer thread, one random stream).
#[derive(Clone)]
pub struct TrainLoader {
    shared: Arc<TrainShared>,
    device: Device,
}

impl TrainLoader {
    /// A loader over `sequences` (each at least two items long).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sequences: Arc<Vec<Vec<u32>>>,
        planner: BatchPlanner,
        sampler: NegativeSampler,
        batch_size: usize,
        steps_per_epoch: usize,
        total_steps: usize,
        skip_steps: usize,
        seed: u64,
        device: Device,
    ) -> Self {
        Self {
            shared: Arc::new(TrainShared {
                sequences,
                planner,
                sampler,
                batch_size,
                steps_per_epoch,
                total_steps,
                skip_steps,
                seed,
                producer: Mutex::new(None),
            }),
            device,
        }
    }

    /// Batches handed to the trainer so far (including those skipped when resuming).
    pub fn delivered_steps(&self) -> usize {
        let guard = self
            .shared
            .producer
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .map_or(self.shared.skip_steps, |p| p.delivered)
    }

    fn start(shared: &Arc<TrainShared>) -> Producer {
        let (sender, receiver) = sync_channel(PREFETCH);
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("seqrec-batches".into())
            .spawn(move || produce(&worker, sender))
            .expect("spawning the batch thread");
        Producer {
            receiver,
            delivered: shared.skip_steps,
        }
    }
}

fn produce(shared: &TrainShared, sender: SyncSender<Result<BatchPlan, TrainError>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(shared.seed);
    let mut order: Vec<usize> = (0..shared.sequences.len()).collect();
    let mut cursor = order.len();
    for step in 0..shared.total_steps {
        let mut batch = Vec::with_capacity(shared.batch_size);
        while batch.len() < shared.batch_size {
            if cursor == order.len() {
                order.shuffle(&mut rng);
                cursor = 0;
            }
            batch.push(shared.sequences[order[cursor]].as_slice());
            cursor += 1;
        }
        let plan = shared.planner.plan(&batch, &shared.sampler, &mut rng);
        if step < shared.skip_steps {
            continue; // resuming: replay the random stream up to the checkpoint
        }
        if sender.send(plan).is_err() {
            return; // the trainer is gone
        }
    }
}

struct TrainIter<'a> {
    loader: &'a TrainLoader,
    remaining: usize,
    total: usize,
}

impl Iterator for TrainIter<'_> {
    type Item = Result<TrainBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let mut guard = self.loader.shared.producer.lock().ok()?;
        let producer = guard.as_mut()?;
        let plan = producer.receiver.recv().ok()?;
        producer.delivered += 1;
        self.remaining -= 1;
        Some(
            plan.map(|p| TrainBatch::from_plan(&p, &self.loader.device))
                .map_err(DatasetError::new),
        )
    }
}

impl DataLoaderIterator<TrainBatch> for TrainIter<'_> {
    fn progress(&self) -> Progress {
        let done = self.total - self.remaining;
        let b = self.loader.shared.batch_size;
        Progress {
            items_processed: done * b,
            items_total: self.total * b,
            unit: Some("sequences".into()),
        }
    }
}

impl DataLoader<TrainBatch> for TrainLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<TrainBatch> + 'a> {
        let shared = &self.shared;
        let mut guard = shared.producer.lock().unwrap_or_else(|e| e.into_inner());
        let producer = guard.get_or_insert_with(|| Self::start(shared));
        let left = shared.total_steps.saturating_sub(producer.delivered);
        let epoch = shared.steps_per_epoch.min(left);
        Box::new(TrainIter {
            loader: self,
            remaining: epoch,
            total: epoch,
        })
    }

    fn num_items(&self) -> usize {
        self.shared.steps_per_epoch * self.shared.batch_size
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<TrainBatch>> {
        Arc::new(Self {
            shared: self.shared.clone(),
            device: device.clone(),
        })
    }

    fn slice(&self, _start: usize, _end: usize) -> Arc<dyn DataLoader<TrainBatch>> {
        // Batches come from one seeded stream; every slice shares it, so devices that split
        // a loader take turns drawing from the same stream instead of duplicating batches.
        Arc::new(self.clone())
    }
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
        exclude_history: bool,
        device: Device,
    ) -> Self {
        let range = 0..histories.len().min(targets.len());
        Self {
            histories,
            targets,
            range,
            batch_size,
            max_len,
            num_items,
            exclude_history,
            device,
        }
    }

    /// The batch of users `start..end`.
    pub fn batch(&self, start: usize, end: usize) -> EvalBatch {
        let histories: Vec<&[u32]> = self.histories[start..end]
            .iter()
            .map(Vec::as_slice)
            .collect();
        EvalBatch::new(
            &histories,
            &self.targets[start..end],
            self.max_len,
            self.num_items,
            self.exclude_history,
            &self.device,
        )
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
