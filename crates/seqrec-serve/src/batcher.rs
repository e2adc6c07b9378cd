//! The ranking worker: one thread that owns the model, takes requests from a bounded queue
//! and ranks those that arrive together in one forward pass.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::config::ServeConfig;
use crate::metrics::Metrics;
use crate::ranker::{RankedIds, Ranker, history_exclusion, rank_by_length};

/// One request's work: its histories (model ids) and how to rank them.
pub(crate) struct Job {
    pub histories: Vec<Vec<u32>>,
    /// How many histories the job had, once the ranking worker has taken them.
    pub count: usize,
    pub k: usize,
    pub exclude_history: bool,
    pub reply: oneshot::Sender<Result<RankedIds, String>>,
}

/// Why a job was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue holds `queue_capacity` jobs.
    Full,
    /// The worker has stopped.
    Stopped,
}

/// The sending side of the queue, shared by the request handlers.
#[derive(Clone)]
pub(crate) struct Queue {
    sender: SyncSender<Job>,
    metrics: Arc<Metrics>,
}

impl Queue {
    /// A queue of `capacity` jobs and its receiving end.
    pub fn bounded(capacity: usize, metrics: Arc<Metrics>) -> (Self, Receiver<Job>) {
        let (sender, receiver) = std::sync::mpsc::sync_channel(capacity);
        (Self { sender, metrics }, receiver)
    }

    /// Queues a job without waiting.
    pub fn submit(&self, job: Job) -> Result<(), Refused> {
        match self.sender.try_send(job) {
            Ok(()) => {
                self.metrics.queue_change(1);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(Refused::Full),
            Err(TrySendError::Disconnected(_)) => Err(Refused::Stopped),
        }
    }
}

/// Starts the worker thread; it ends when every [`Queue`] is dropped and the queue is empty.
pub(crate) fn spawn_worker(
    ranker: Box<dyn Ranker>,
    receiver: Receiver<Job>,
    config: &ServeConfig,
    metrics: Arc<Metrics>,
) -> std::io::Result<JoinHandle<()>> {
    let max_batch = config.max_batch;
    let max_wait = config.max_wait();
    std::thread::Builder::new()
        .name("seqrec-ranking".into())
        .spawn(move || {
            let mut gather = Gather {
                receiver,
                carried: None,
                max_batch,
                max_wait,
                metrics: &metrics,
            };
            while let Some(jobs) = gather.next_batch() {
                rank_batch(ranker.as_ref(), jobs, &metrics);
            }
        })
}

/// Takes jobs off the queue in batches.
struct Gather<'a> {
    receiver: Receiver<Job>,
    /// A job taken that did not fit in the previous batch.
    carried: Option<Job>,
    max_batch: usize,
    max_wait: Duration,
    metrics: &'a Metrics,
}

impl Gather<'_> {
    /// The next batch: the first job (waiting as long as it takes), then the jobs already
    /// queued or arriving within `max_wait`, while their histories fit in `max_batch` (the
    /// first job always goes, however many it has). `None` once the queue is closed and empty.
    fn next_batch(&mut self) -> Option<Vec<Job>> {
        let first = match self.carried.take() {
            Some(job) => job,
            None => self.take(self.receiver.recv().ok())?,
        };
        let mut histories = first.histories.len();
        let mut jobs = vec![first];
        let deadline = Instant::now() + self.max_wait;
        while histories < self.max_batch {
            let next = match self.receiver.try_recv() {
                Ok(job) => Some(job),
                Err(TryRecvError::Disconnected) => None,
                Err(TryRecvError::Empty) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        None
                    } else {
                        // A timeout and a closed queue both end the batch.
                        self.receiver.recv_timeout(left).ok()
                    }
                }
            };
            let Some(job) = self.take(next) else { break };
            if histories + job.histories.len() > self.max_batch {
                self.carried = Some(job);
                break;
            }
            histories += job.histories.len();
            jobs.push(job);
        }
        Some(jobs)
    }

    /// Counts a job leaving the queue.
    fn take(&self, job: Option<Job>) -> Option<Job> {
        if job.is_some() {
            self.metrics.queue_change(-1);
        }
        job
    }
}

/// Ranks the jobs in one call: the largest `k` among them, each history excluding its own
/// items when its job asks; each job gets its first `k` back. A panic of the model becomes an
/// error answer, and the worker goes on.
fn rank_batch(ranker: &dyn Ranker, jobs: Vec<Job>, metrics: &Metrics) {
    // Clients that gave up are not ranked for.
    let mut jobs: Vec<Job> = jobs.into_iter().filter(|j| !j.reply.is_closed()).collect();
    if jobs.is_empty() {
        return;
    }
    let k = jobs.iter().map(|j| j.k).max().unwrap_or(0);
    let mut histories = Vec::new();
    let mut exclusions = Vec::new();
    for job in &mut jobs {
        // The histories move to the batch; `count` keeps how many the job had.
        for history in std::mem::take(&mut job.histories) {
            exclusions.push(history_exclusion(&history, job.exclude_history));
            histories.push(history);
        }
    }
    metrics.batch(histories.len());
    let ranked = catch_unwind(AssertUnwindSafe(|| {
        rank_by_length(ranker, &histories, &exclusions, k)
    }));
    let ranked = match ranked {
        Ok(Ok(ranked)) => Ok(ranked),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("the model panicked while ranking".to_string()),
    };
    match ranked {
        Ok(ranked) => {
            let mut lists = ranked.into_iter();
            for job in jobs {
                let mine: RankedIds = lists
                    .by_ref()
                    .take(job.count)
                    .map(|mut list| {
                        list.truncate(job.k);
                        list
                    })
                    .collect();
                // A client that went away no longer waits for its answer.
                let _ = job.reply.send(Ok(mine));
            }
        }
        Err(message) => {
            for job in jobs {
                let _ = job.reply.send(Err(message.clone()));
            }
        }
    }
}
