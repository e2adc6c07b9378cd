//! The training loaders' shared machinery: batches are planned in a background thread from one
//! seeded random stream (with a small prefetch queue) and uploaded on the training thread; a
//! loader "epoch" is one validation period of `steps_per_epoch` steps.
//!
//! Dropout masks do not come from the backend's random stream: each batch carries its
//! [`DropoutKey`] (the run's seed, the step and its first row, [`BatchShare::dropout_key`]), so
//! a resumed run draws the masks of the uninterrupted one. The backend's stream, which a model
//! may still draw from, is reseeded at the start of every period after the first, from the
//! run's seed and the period ([`period_seed`]): burn's backends keep it in a state that cannot
//! be saved. The first period continues the stream that seeded the model's initialisation.
//!
//! In data-parallel training burn-train splits the loader with [`DataLoader::slice`], one
//! slice per device. Each slice is a [`BatchShare`]: a fixed range of the rows of every
//! planned batch. The one planning thread hands each plan to every slice, so the devices get
//! disjoint parts of the batch one device would have got, from the same seeded stream.
//!
//! [`TrainLoader`](crate::TrainLoader) (gSASRec) and [`PairLoader`](crate::PairLoader)
//! (item-item) are this loader over their own batch types.

use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use seqrec_model::DropoutKey;

use crate::error::TrainError;

/// Batches planned ahead of the training thread.
const PREFETCH: usize = 4;

/// A batch that a [`PrefetchLoader`] plans in its background thread and uploads on the
/// training thread.
pub trait PlannedBatch: Send + Sync + Sized + 'static {
    /// What the background thread produces: host data only.
    type Plan: Send + Sync + 'static;
    /// What the batch's items are called in progress reports ("sequences", "pairs").
    const UNIT: &'static str;
    /// Name of the planning thread.
    const THREAD: &'static str;

    /// Uploads the rows of a plan that `share` names to `device`.
    fn upload(plan: &Self::Plan, share: &BatchShare, device: &Device) -> Self;
}

/// The part of a step's planned batch that one loader hands out: every row on one device, a
/// worker's rows in data-parallel training. A batch built from a share knows where its rows
/// sit in the whole batch, so that its dropout masks and its weight in the step's loss are
/// those of the same rows on one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchShare {
    /// The rows of the planned batch.
    pub rows: Range<usize>,
    /// How many workers share each step's batch (1 on one device).
    pub workers: usize,
    /// The step (0-based, over the whole run, a resumed one included).
    pub step: usize,
    /// The run's seed.
    pub seed: u64,
}

impl BatchShare {
    /// All `rows` of a batch, on one device, at step 0 of a run seeded with 0.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn whole(rows: usize) -> Self {
        Self {
            rows: 0..rows,
            workers: 1,
            step: 0,
            seed: 0,
        }
    }

    /// The dropout key of the share's rows: a function of the run's seed and the step, and
    /// of nothing else, so a resumed run draws the masks of the uninterrupted one.
    pub fn dropout_key(&self) -> DropoutKey {
        DropoutKey::new(self.seed)
            .stream(self.step as u64)
            .offset_rows(self.rows.start)
    }
}

/// Plans one batch per call, drawing from the loader's random stream; it may keep state
/// between calls (a shuffled order).
pub(crate) type PlanFn<P> = Box<dyn FnMut(&mut ChaCha8Rng) -> Result<P, TrainError> + Send>;

/// A plan as every slice receives it.
type Delivery<P> = Arc<Result<P, TrainError>>;

/// What one slice of the loader receives from the planning thread.
struct Consumer<P> {
    receiver: Receiver<Delivery<P>>,
    delivered: usize,
}

/// One slice of the loader: its rows of every batch and, once planning has started, its
/// channel (`None` for the whole loader when slices take its place).
struct Slot<P> {
    rows: Range<usize>,
    consumer: Mutex<Option<Consumer<P>>>,
}

struct Shared<B: PlannedBatch> {
    /// Taken by the planning thread when it starts.
    plan: Mutex<Option<PlanFn<B::Plan>>>,
    items_per_step: usize,
    steps_per_epoch: usize,
    total_steps: usize,
    skip_steps: usize,
    seed: u64,
    /// Slot 0 is the whole loader, the others its slices; planning feeds the slices when
    /// there are any, else slot 0.
    slots: Mutex<Vec<Arc<Slot<B::Plan>>>>,
    /// Whether the planning thread has started.
    started: Mutex<bool>,
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
    slot: usize,
    device: Device,
}

impl<B: PlannedBatch> Clone for PrefetchLoader<B> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            slot: self.slot,
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
                slots: Mutex::new(vec![Arc::new(Slot {
                    rows: 0..items_per_step,
                    consumer: Mutex::new(None),
                })]),
                started: Mutex::new(false),
                requests: Mutex::new(Vec::new()),
            }),
            slot: 0,
            device,
        }
    }

    /// Batches handed to the trainer so far (including those skipped when resuming).
    pub fn delivered_steps(&self) -> usize {
        self.slots()
            .iter()
            .filter_map(|slot| lock(&slot.consumer).as_ref().map(|c| c.delivered))
            .max()
            .unwrap_or(self.shared.skip_steps)
    }

    fn slots(&self) -> Vec<Arc<Slot<B::Plan>>> {
        lock(&self.shared.slots).clone()
    }

    /// The slots that receive plans: the slices when there are any, else the whole loader.
    fn fed(slots: &[Arc<Slot<B::Plan>>]) -> Range<usize> {
        if slots.len() > 1 {
            1..slots.len()
        } else {
            0..1
        }
    }

    /// Starts the planning thread (once), with one channel per fed slot.
    fn start(&self) {
        let mut started = lock(&self.shared.started);
        if *started {
            return;
        }
        *started = true;
        let shared = &self.shared;
        let slots = self.slots();
        let mut senders = Vec::new();
        for slot in &slots[Self::fed(&slots)] {
            let (sender, receiver) = sync_channel(PREFETCH);
            senders.push(sender);
            *lock(&slot.consumer) = Some(Consumer {
                receiver,
                delivered: shared.skip_steps,
            });
        }
        let plan = lock(&shared.plan).take();
        let (seed, total, skip) = (shared.seed, shared.total_steps, shared.skip_steps);
        if let Some(plan) = plan {
            std::thread::Builder::new()
                .name(B::THREAD.into())
                .spawn(move || produce(plan, seed, total, skip, senders))
                .expect("spawning the batch-planning thread");
        }
    }
}

/// Locks `mutex`, also when a panicking thread held it (the data stays usable).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
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
    senders: Vec<SyncSender<Delivery<P>>>,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for step in 0..total_steps {
        let batch = plan(&mut rng);
        if step < skip_steps {
            continue; // resuming: replay the random stream up to the checkpoint
        }
        let batch = Arc::new(batch);
        for sender in &senders {
            if sender.send(batch.clone()).is_err() {
                return; // the trainer is gone
            }
        }
    }
}

struct PrefetchIter<'a, B: PlannedBatch> {
    loader: &'a PrefetchLoader<B>,
    slot: Arc<Slot<B::Plan>>,
    /// Workers sharing each batch.
    workers: usize,
    /// Whether this slice records the request times (the first fed one).
    clock: bool,
    remaining: usize,
    total: usize,
}

impl<B: PlannedBatch> Iterator for PrefetchIter<'_, B> {
    type Item = Result<B, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        if self.clock {
            lock(&self.loader.shared.requests).push(Instant::now());
        }
        let mut guard = lock(&self.slot.consumer);
        let consumer = guard.as_mut()?;
        let plan = consumer.receiver.recv().ok()?;
        let share = BatchShare {
            rows: self.slot.rows.clone(),
            workers: self.workers,
            step: consumer.delivered,
            seed: self.loader.shared.seed,
        };
        consumer.delivered += 1;
        self.remaining -= 1;
        Some(match plan.as_ref() {
            Ok(plan) => Ok(B::upload(plan, &share, &self.loader.device)),
            Err(e) => Err(DatasetError::new(std::io::Error::other(e.to_string()))),
        })
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
        self.start();
        let shared = &self.shared;
        let slots = self.slots();
        let fed = Self::fed(&slots);
        let slot = slots[self.slot].clone();
        // A slot that is not fed (the whole loader once it has slices) has nothing to give.
        let delivered = lock(&slot.consumer).as_ref().map(|c| c.delivered);
        let delivered = delivered.unwrap_or(shared.total_steps);
        let period = delivered / shared.steps_per_epoch.max(1);
        if period > 0 && self.slot == fed.start {
            self.device.seed(period_seed(shared.seed, period));
        }
        let left = shared.total_steps.saturating_sub(delivered);
        let epoch = shared.steps_per_epoch.min(left);
        Box::new(PrefetchIter {
            loader: self,
            slot,
            workers: fed.len(),
            clock: self.slot == fed.start,
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
            slot: self.slot,
            device: device.clone(),
        })
    }

    /// The share `start..end` of the loader's items (burn-train splits a loader's
    /// [`num_items`](DataLoader::num_items) between devices): the same fraction of the rows
    /// of every batch. Slices must be taken before the first [`iter`](DataLoader::iter).
    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<B>> {
        let items = self.num_items().max(1);
        let rows = self.shared.items_per_step;
        let row = |i: usize| (i.min(items) * rows + items / 2) / items;
        let mut slots = lock(&self.shared.slots);
        if *lock(&self.shared.started) {
            tracing::warn!("a training loader was sliced after planning started");
        }
        slots.push(Arc::new(Slot {
            rows: row(start)..row(end),
            consumer: Mutex::new(None),
        }));
        Arc::new(Self {
            shared: self.shared.clone(),
            slot: slots.len() - 1,
            device: self.device.clone(),
        })
    }
}
