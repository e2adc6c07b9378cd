//! The training loaders' shared machinery: batches are planned in a background thread from one
//! seeded random stream (with a small prefetch queue) and uploaded on the training thread; a
//! loader "epoch" is one validation period of `steps_per_epoch` steps.
//!
//! The backend's random stream (dropout masks) is reseeded at the start of every period after
//! the first, from the run's seed and the period ([`period_seed`]): burn's backends keep that
//! stream in a state that cannot be saved, so this is what lets a run resumed from the
//! checkpoint of period `n` draw the same masks as the uninterrupted run. The first period
//! continues the stream that seeded the model's initialisation.
//!
//! [`TrainLoader`](crate::TrainLoader) (gSASRec) and [`PairLoader`](crate::PairLoader)
//! (item-item) are this loader over their own batch types.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::TrainError;

/// Batches planned ahead of the training thread.
const PREFETCH: usize = 4;

/// A batch that a [`PrefetchLoader`] plans in its background thread and uploads on the
/// training thread.
pub trait PlannedBatch: Send + Sync + Sized + 'static {
    /// What the background thread produces: host data only.
    type Plan: Send + 'static;
    /// What the batch's items are called in progress reports ("sequences", "pairs").
    const UNIT: &'static str;
    /// Name of the planning thread.
    const THREAD: &'static str;

    /// Uploads a plan to `device`.
    fn upload(plan: &Self::Plan, device: &Device) -> Self;
}

/// Plans one batch per call, drawing from the loader's random stream; it may keep state
/// between calls (a shuffled order).
pub(crate) type PlanFn<P> = Box<dyn FnMut(&mut ChaCha8Rng) -> Result<P, TrainError> + Send>;

struct Producer<P> {
    receiver: Receiver<Result<P, TrainError>>,
    delivered: usize,
}

struct Shared<B: PlannedBatch> {
    /// Taken by the planning thread when it starts.
    plan: Mutex<Option<PlanFn<B::Plan>>>,
    items_per_step: usize,
    steps_per_epoch: usize,
    total_steps: usize,
    skip_steps: usize,
    seed: u64,
    producer: Mutex<Option<Producer<B::Plan>>>,
    /// When each batch of this run was requested, in order (the first after `skip_steps`).
    requests: Mutex<Vec<Instant>>,
}

/// What the training session reads from its loader after the run.
pub(crate) trait StepClock {
    /// Batches handed to the trainer so far (including those skipped when resuming).
    fn delivered_steps(&self) -> usize;
    /// When each batch of this run was requested: the request for batch `n + 1` marks the end
    /// of step `n` (and of the validation after it, at the end of a period).
    fn request_times(&self) -> Vec<Instant>;
}

impl<B: PlannedBatch> StepClock for PrefetchLoader<B> {
    fn delivered_steps(&self) -> usize {
        PrefetchLoader::delivered_steps(self)
    }

    fn request_times(&self) -> Vec<Instant> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

/// Endless training batches for burn-train, `steps_per_epoch` per loader epoch, `total_steps`
/// in all. One producer thread draws every batch from one seeded random stream: the same seed
/// gives the same batches, and a resumed run replays the stream up to its checkpoint.
pub struct PrefetchLoader<B: PlannedBatch> {
    shared: Arc<Shared<B>>,
    device: Device,
}

impl<B: PlannedBatch> Clone for PrefetchLoader<B> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            device: self.device.clone(),
        }
    }
}

impl<B: PlannedBatch> PrefetchLoader<B> {
    /// A loader whose steps are planned by `plan` (seeded with `seed`), `items_per_step` items
    /// each, skipping the first `skip_steps` (when resuming).
    pub(crate) fn from_planner(
        plan: PlanFn<B::Plan>,
        items_per_step: usize,
        steps_per_epoch: usize,
        total_steps: usize,
        skip_steps: usize,
        seed: u64,
        device: Device,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                plan: Mutex::new(Some(plan)),
                items_per_step,
                steps_per_epoch,
                total_steps,
                skip_steps,
                seed,
                producer: Mutex::new(None),
                requests: Mutex::new(Vec::new()),
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

    fn start(shared: &Arc<Shared<B>>) -> Producer<B::Plan> {
        let (sender, receiver) = sync_channel(PREFETCH);
        let plan = shared.plan.lock().unwrap_or_else(|e| e.into_inner()).take();
        let (seed, total, skip) = (shared.seed, shared.total_steps, shared.skip_steps);
        if let Some(plan) = plan {
            std::thread::Builder::new()
                .name(B::THREAD.into())
                .spawn(move || produce(plan, seed, total, skip, sender))
                .expect("spawning the batch-planning thread");
        }
        Producer {
            receiver,
            delivered: shared.skip_steps,
        }
    }
}

/// The backend seed of validation period `period` (0-based; period 0 keeps the run's own
/// stream): SplitMix64's finaliser over the run's seed and the period, so that nearby seeds
/// and periods give unrelated streams.
pub fn period_seed(seed: u64, period: usize) -> u64 {
    let mut z = seed ^ (period as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn produce<P>(
    mut plan: PlanFn<P>,
    seed: u64,
    total_steps: usize,
    skip_steps: usize,
    sender: SyncSender<Result<P, TrainError>>,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for step in 0..total_steps {
        let batch = plan(&mut rng);
        if step < skip_steps {
            continue; // resuming: replay the random stream up to the checkpoint
        }
        if sender.send(batch).is_err() {
            return; // the trainer is gone
        }
    }
}

struct PrefetchIter<'a, B: PlannedBatch> {
    loader: &'a PrefetchLoader<B>,
    remaining: usize,
    total: usize,
}

impl<B: PlannedBatch> Iterator for PrefetchIter<'_, B> {
    type Item = Result<B, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        if let Ok(mut requests) = self.loader.shared.requests.lock() {
            requests.push(Instant::now());
        }
        let mut guard = self.loader.shared.producer.lock().ok()?;
        let producer = guard.as_mut()?;
        let plan = producer.receiver.recv().ok()?;
        producer.delivered += 1;
        self.remaining -= 1;
        Some(
            plan.map(|p| B::upload(&p, &self.loader.device))
                .map_err(DatasetError::new),
        )
    }
}

impl<B: PlannedBatch> DataLoaderIterator<B> for PrefetchIter<'_, B> {
    fn progress(&self) -> Progress {
        let done = self.total - self.remaining;
        let b = self.loader.shared.items_per_step;
        Progress {
            items_processed: done * b,
            items_total: self.total * b,
            unit: Some(B::UNIT.into()),
        }
    }
}

impl<B: PlannedBatch> DataLoader<B> for PrefetchLoader<B> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<B> + 'a> {
        let shared = &self.shared;
        let mut guard = shared.producer.lock().unwrap_or_else(|e| e.into_inner());
        let producer = guard.get_or_insert_with(|| Self::start(shared));
        let period = producer.delivered / shared.steps_per_epoch.max(1);
        if period > 0 {
            self.device.seed(period_seed(shared.seed, period));
        }
        let left = shared.total_steps.saturating_sub(producer.delivered);
        let epoch = shared.steps_per_epoch.min(left);
        Box::new(PrefetchIter {
            loader: self,
            remaining: epoch,
            total: epoch,
        })
    }

    fn num_items(&self) -> usize {
        self.shared.steps_per_epoch * self.shared.items_per_step
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<B>> {
        Arc::new(Self {
            shared: self.shared.clone(),
            device: device.clone(),
        })
    }

    fn slice(&self, _start: usize, _end: usize) -> Arc<dyn DataLoader<B>> {
        // Batches come from one seeded stream; every slice shares it, so devices that split
        // a loader take turns drawing from the same stream instead of duplicating batches.
        Arc::new(self.clone())
    }
}
