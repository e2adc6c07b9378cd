//! Training checkpoints that a kill at any instant leaves usable: each of burn-train's three
//! checkpoint files (model, optimizer, learning-rate schedule) is written to a temporary file
//! and renamed ([`AtomicCheckpointer`]); the latest two periods and the best of each validated
//! metric are kept ([`KeepLatestAndBest`]); and a resume starts from the latest period whose
//! three files load and whose validations were recorded ([`resumable_epoch`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::lr_scheduler::LrSchedulerRecord;
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::train::checkpoint::{
    Checkpoint, Checkpointer, CheckpointerError, CheckpointingAction, CheckpointingStrategy,
};
use burn::train::metric::store::EventStoreClient;

use crate::atomic::write_atomically;
use crate::error::TrainError;
use crate::item_tables::ItemTables;

/// The names of burn-train's three checkpoint files of a period: `NAME-EPOCH.bpk`.
pub(crate) const PARTS: [&str; 3] = ["model", "optim", "scheduler"];

/// The file of checkpoint `part` of period `epoch` in `dir`.
pub(crate) fn checkpoint_path(dir: &Path, part: &str, epoch: usize) -> PathBuf {
    dir.join(format!("{part}-{epoch}.bpk"))
}

/// A burn-train checkpointer writing `NAME-EPOCH.bpk` in a directory through a temporary
/// file, flushed and renamed, so that a file under its final name is always complete.
pub(crate) struct AtomicCheckpointer {
    directory: PathBuf,
    name: &'static str,
}

impl AtomicCheckpointer {
    /// A checkpointer of `name` files in `directory` (created if needed).
    pub(crate) fn new(directory: &Path, name: &'static str) -> Result<Self, TrainError> {
        std::fs::create_dir_all(directory).map_err(TrainError::io(directory))?;
        Ok(Self {
            directory: directory.to_path_buf(),
            name,
        })
    }

    fn path(&self, epoch: usize) -> PathBuf {
        checkpoint_path(&self.directory, self.name, epoch)
    }
}

fn io_error(err: impl ToString) -> CheckpointerError {
    CheckpointerError::IOError(std::io::Error::other(err.to_string()))
}

impl<R: Checkpoint> Checkpointer<R> for AtomicCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let path = self.path(epoch);
        write_atomically(&path, |tmp| {
            record
                .save(tmp.to_path_buf())
                .map_err(|e| TrainError::Weights {
                    path: path.clone(),
                    message: e.to_string(),
                })
        })
        .map_err(io_error)
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        let path = self.path(epoch);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CheckpointerError::IOError(e))
            }
            _ => Ok(()),
        }
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        R::load(self.path(epoch))
    }
}

/// The validations of one metric over a run: those recorded before a resume, then this run's
/// (shared with the metric that records them).
#[derive(Clone)]
pub(crate) struct History {
    previous: Vec<f64>,
    this_run: Arc<Mutex<Vec<f64>>>,
}

impl History {
    /// A history continuing `previous` with the values the metric pushes to `this_run`.
    pub(crate) fn new(previous: Vec<f64>, this_run: Arc<Mutex<Vec<f64>>>) -> Self {
        Self { previous, this_run }
    }

    /// Every validation so far, the first period first.
    pub(crate) fn values(&self) -> Vec<f64> {
        let mut values = self.previous.clone();
        values.extend(self.this_run.lock().map(|h| h.clone()).unwrap_or_default());
        values
    }
}

/// The 1-based index of the highest finite value, the first of equal ones (a later
/// validation is better only when it improves).
pub(crate) fn best_index(values: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &v) in values.iter().enumerate() {
        if v.is_finite() && best.is_none_or(|(_, b)| v > b) {
            best = Some((i + 1, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Checkpointing: every period is saved; the latest two and the best period of every
/// history are kept, the others deleted. Two latest, because the validations of the latest
/// period are recorded after its files are queued for writing: a kill between the two
/// resumes from the one before.
pub(crate) struct KeepLatestAndBest {
    histories: Vec<History>,
    saved: BTreeSet<usize>,
}

impl KeepLatestAndBest {
    /// Keeps the best of each of `histories`; `saved` lists the periods already on disk (a
    /// resumed run's).
    pub(crate) fn new(histories: Vec<History>, saved: BTreeSet<usize>) -> Self {
        Self { histories, saved }
    }
}

impl CheckpointingStrategy for KeepLatestAndBest {
    fn checkpointing(
        &mut self,
        epoch: usize,
        _store: &EventStoreClient,
    ) -> Vec<CheckpointingAction> {
        self.actions(epoch)
    }
}

impl KeepLatestAndBest {
    /// Saves period `epoch` and deletes the saved periods no longer kept.
    fn actions(&mut self, epoch: usize) -> Vec<CheckpointingAction> {
        self.saved.insert(epoch);
        let mut keep: BTreeSet<usize> = [epoch, epoch.saturating_sub(1)].into();
        for history in &self.histories {
            let values = history.values();
            keep.extend(best_index(&values[..values.len().min(epoch)]));
        }
        let stale: Vec<usize> = self.saved.difference(&keep).copied().collect();
        let mut actions = vec![CheckpointingAction::Save];
        for epoch in stale {
            self.saved.remove(&epoch);
            actions.push(CheckpointingAction::Delete(epoch));
        }
        actions
    }
}

/// The period of a file named `PART-EPOCH.bpk` (see [`checkpoint_path`]).
fn checkpoint_epoch(name: &str, part: &str) -> Option<usize> {
    name.strip_prefix(part)?
        .strip_prefix('-')?
        .strip_suffix(".bpk")?
        .parse()
        .ok()
}

/// The periods with a model checkpoint in `dir`.
pub(crate) fn saved_epochs(dir: &Path) -> BTreeSet<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| checkpoint_epoch(&e.file_name().into_string().ok()?, PARTS[0]))
        .collect()
}

/// Whether the three files of period `epoch` are in `dir` and load, and, in the directory of a
/// run with item tables apart ([`ItemTables`]: some period has a tables file), its tables file
/// too.
fn loads(dir: &Path, epoch: usize) -> bool {
    let tables_ok = || {
        let has_tables = std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .filter_map(|e| e.ok())
                .any(|e| tables_epoch(&e.file_name().to_string_lossy()).is_some())
        });
        !has_tables || ItemTables::checkpoint_path(dir, epoch).is_file()
    };
    ModuleRecord::load(checkpoint_path(dir, PARTS[0], epoch)).is_ok()
        && OptimizerRecord::load(checkpoint_path(dir, PARTS[1], epoch)).is_ok()
        && LrSchedulerRecord::load(checkpoint_path(dir, PARTS[2], epoch)).is_ok()
        && tables_ok()
}

/// The period of an item tables file (see [`ItemTables::checkpoint_path`]).
fn tables_epoch(name: &str) -> Option<usize> {
    name.strip_prefix("item-tables-")?
        .strip_suffix(".safetensors")?
        .parse()
        .ok()
}

/// A checkpointing strategy that also saves (and deletes) the run's item tables
/// ([`ItemTables`]), synchronously with the decision: burn-train makes the model's and the
/// optimizer's records at the same point of the run, so the period's files agree. A failed
/// save is kept in `error` (the run ends with it) and the period is not saved.
pub(crate) struct WithItemTables<S> {
    inner: S,
    tables: Option<ItemTables>,
    dir: PathBuf,
    error: Arc<Mutex<Option<TrainError>>>,
}

impl<S> WithItemTables<S> {
    /// `inner`, also saving `tables` (if any) in `dir`.
    pub(crate) fn new(
        inner: S,
        tables: Option<ItemTables>,
        dir: &Path,
        error: Arc<Mutex<Option<TrainError>>>,
    ) -> Self {
        Self {
            inner,
            tables,
            dir: dir.to_path_buf(),
            error,
        }
    }
}

impl<S: CheckpointingStrategy> CheckpointingStrategy for WithItemTables<S> {
    fn checkpointing(
        &mut self,
        epoch: usize,
        store: &EventStoreClient,
    ) -> Vec<CheckpointingAction> {
        let mut actions = self.inner.checkpointing(epoch, store);
        let Some(tables) = &self.tables else {
            return actions;
        };
        for action in &actions {
            let result = match action {
                CheckpointingAction::Save => {
                    tables.save(&ItemTables::checkpoint_path(&self.dir, epoch))
                }
                CheckpointingAction::Delete(old) => {
                    let path = ItemTables::checkpoint_path(&self.dir, *old);
                    match std::fs::remove_file(&path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            Err(TrainError::io(&path)(e))
                        }
                        _ => Ok(()),
                    }
                }
            };
            if let Err(error) = result {
                tracing::error!(%error, "saving the item tables of period {epoch}");
                let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
                slot.get_or_insert(error);
                // Without its tables the period must not look saved.
                actions.retain(|a| *a != CheckpointingAction::Save);
                break;
            }
        }
        actions
    }
}

/// The error a [`WithItemTables`] kept, if any.
pub(crate) fn take_error(error: &Mutex<Option<TrainError>>) -> Option<TrainError> {
    error.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// The latest period, at most `recorded` (the periods whose validations were recorded),
/// whose three checkpoint files are in `dir` and load; `None` when there is none.
pub(crate) fn resumable_epoch(dir: &Path, recorded: usize) -> Option<usize> {
    saved_epochs(dir)
        .into_iter()
        .rev()
        .filter(|&e| e >= 1 && e <= recorded)
        .find(|&e| {
            let ok = loads(dir, e);
            if !ok {
                tracing::warn!(
                    epoch = e,
                    "checkpoint {e} in {} does not load",
                    dir.display()
                );
            }
            ok
        })
}

/// Removes what a killed run may leave in `dir` that a resume from period `epoch` must not
/// meet: checkpoints of later periods and temporary files.
pub(crate) fn remove_after(dir: &Path, epoch: usize) -> Result<(), TrainError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let later = PARTS
            .iter()
            .any(|part| checkpoint_epoch(&name, part).is_some_and(|n| n > epoch))
            || tables_epoch(&name).is_some_and(|n| n > epoch);
        let temporary = name.starts_with('.') && name.ends_with(".tmp");
        if later || temporary {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(TrainError::io(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(values: &[f64]) -> History {
        History::new(values.to_vec(), Arc::new(Mutex::new(Vec::new())))
    }

    #[test]
    fn best_index_takes_the_first_of_the_highest_finite_values() {
        assert_eq!(best_index(&[]), None);
        assert_eq!(best_index(&[f64::NAN, f64::NAN]), None);
        assert_eq!(best_index(&[0.1, 0.3, 0.3, f64::NAN, 0.2]), Some(2));
        assert_eq!(best_index(&[f64::NAN, 0.0]), Some(2));
    }

    #[test]
    fn the_latest_two_and_the_best_periods_are_kept() {
        // Main metric best at period 2, the second at period 1.
        let main = history(&[0.1, 0.5, 0.2, 0.3, 0.4]);
        let second = history(&[0.9, 0.1, 0.1, 0.1, 0.1]);
        let mut keeper = KeepLatestAndBest::new(vec![main, second], BTreeSet::new());
        let deleted = |actions: Vec<CheckpointingAction>| -> Vec<usize> {
            assert_eq!(actions[0], CheckpointingAction::Save);
            actions[1..]
                .iter()
                .map(|a| match a {
                    CheckpointingAction::Delete(e) => *e,
                    CheckpointingAction::Save => panic!("saved twice"),
                })
                .collect()
        };
        assert_eq!(deleted(keeper.actions(1)), Vec::<usize>::new());
        assert_eq!(deleted(keeper.actions(2)), Vec::<usize>::new());
        assert_eq!(deleted(keeper.actions(3)), Vec::<usize>::new());
        // 1 (best of the second) and 2 (best of the main) stay; 3 goes once 5 is saved.
        assert_eq!(deleted(keeper.actions(4)), Vec::<usize>::new());
        assert_eq!(deleted(keeper.actions(5)), [3]);
        // A resumed keeper deletes the stale periods it finds on disk.
        let mut resumed =
            KeepLatestAndBest::new(vec![history(&[0.1, 0.5, 0.2, 0.3])], [1, 2, 3, 4].into());
        assert_eq!(deleted(resumed.actions(5)), [1, 3]);
    }

    #[test]
    fn resume_takes_the_latest_recorded_period_whose_files_load() {
        use burn::lr_scheduler::LrSchedulerRecord;
        let dir = tempfile::tempdir().unwrap();
        let checkpointer = AtomicCheckpointer::new(dir.path(), "scheduler").unwrap();
        for epoch in 1..=3 {
            let record = LrSchedulerRecord::new().with_scalar("step", epoch as f64);
            Checkpointer::<LrSchedulerRecord>::save(&checkpointer, epoch, record).unwrap();
        }
        // Only the scheduler files: nothing loads as a whole period.
        assert_eq!(resumable_epoch(dir.path(), 3), None);
        let restored: LrSchedulerRecord =
            Checkpointer::<LrSchedulerRecord>::restore(&checkpointer, 2).unwrap();
        assert_eq!(restored.scalar::<f64>("step"), Some(2.0));
        // No temporary file is left, and later periods and temporaries are removed.
        std::fs::write(dir.path().join(".model-9.bpk.1.tmp"), b"x").unwrap();
        remove_after(dir.path(), 2).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["scheduler-1.bpk", "scheduler-2.bpk"]);
    }
}
