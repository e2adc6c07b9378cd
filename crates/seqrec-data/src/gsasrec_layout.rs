//! The gSASRec sequence-data directory layout.
//!
//! ```text
//! <dir>/
//!   dataset_stats.json   {"num_users": .., "num_items": .., "num_interactions": ..}
//!   train/input.txt      one user per line: item ids in time order
//!   val/input.txt        held-out histories (optional split)
//!   val/output.txt       one target id per line, same line count
//!   test/input.txt       (optional split)
//!   test/output.txt
//!   sequences.txt        full histories, one user per line (optional, read
//!                        separately by load_full_sequences)
//! ```
//!
//! Item ids are `1..=num_items`; 0 is reserved for padding.

use std::fs;
use std::io;
use std::path::Path;

use crate::error::DataError;
use crate::history_targets::HistoryTargets;
use crate::sequence_file::{
    read_sequences, read_sequences_skipping_empty, read_targets, write_sequences, write_targets,
};
use crate::split::Split;
use crate::stats::DatasetStats;

/// File name of the stats file at the top of the layout.
pub const STATS_FILE: &str = "dataset_stats.json";
/// File name of the histories file inside each split directory.
pub const INPUT_FILE: &str = "input.txt";
/// File name of the targets file inside the val and test directories.
pub const OUTPUT_FILE: &str = "output.txt";
/// File name of the full-history file at the top of the layout.
pub const SEQUENCES_FILE: &str = "sequences.txt";

/// A dataset in the gSASRec layout, fully loaded and validated.
///
/// Invariants (checked by [`SequenceDataset::load_dir`],
/// [`SequenceDataset::new`] and [`SequenceDataset::validate`]):
/// `num_items > 0`; every id in every split lies in `1..=num_items`; every
/// history is non-empty; `stats.num_items == num_items` and
/// `stats.num_users == train.len()`; held-out inputs and targets have equal
/// lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceDataset {
    /// Number of items; valid ids are `1..=num_items`.
    pub num_items: u32,
    /// Train histories, one per user.
    pub train: Vec<Vec<u32>>,
    /// Validation split, `None` when its directory is absent.
    pub val: Option<HistoryTargets>,
    /// Test split, `None` when its directory is absent.
    pub test: Option<HistoryTargets>,
    /// Contents of `dataset_stats.json`.
    pub stats: DatasetStats,
    /// Users left out by [`load_dir`](Self::load_dir) because their history line was empty
    /// (a user whose only items went to validation or test); zero for a dataset built in
    /// memory.
    pub skipped_empty: SkippedEmpty,
}

/// Empty history lines skipped while loading, per split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkippedEmpty {
    /// Lines of `train/input.txt`.
    pub train: usize,
    /// Lines of `val/input.txt` (with their targets).
    pub val: usize,
    /// Lines of `test/input.txt` (with their targets).
    pub test: usize,
}

impl SkippedEmpty {
    /// All of them.
    pub fn total(&self) -> usize {
        self.train + self.val + self.test
    }
}

impl SequenceDataset {
    /// Builds a dataset from memory, deriving its stats, and validates it.
    ///
    /// `stats.num_interactions` is the size of the users' full histories as
    /// the leave-one-out layout stores it: test inputs plus test targets when
    /// there is a test split, otherwise the train interactions. Assign
    /// `stats.num_interactions` afterwards if another count is wanted.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidDataset`] if an invariant does not hold (see the
    /// type's documentation).
    pub fn new(
        num_items: u32,
        train: Vec<Vec<u32>>,
        val: Option<HistoryTargets>,
        test: Option<HistoryTargets>,
    ) -> Result<Self, DataError> {
        let num_interactions = match &test {
            Some(test) => total_len(&test.inputs) + test.targets.len(),
            None => total_len(&train),
        };
        let dataset = Self {
            num_items,
            stats: DatasetStats {
                num_users: train.len(),
                num_items,
                num_interactions,
            },
            train,
            val,
            test,
            skipped_empty: SkippedEmpty::default(),
        };
        dataset.validate()?;
        Ok(dataset)
    }

    /// Loads and validates a dataset directory.
    ///
    /// `dataset_stats.json` and `train/input.txt` are required. A `val` or
    /// `test` split is `None` only when its directory is absent; a present
    /// directory must hold both `input.txt` and `output.txt`.
    ///
    /// # Errors
    ///
    /// Every error names the file involved: [`DataError::MissingFile`],
    /// [`DataError::Io`], [`DataError::StatsJson`], [`DataError::ZeroItems`],
    /// [`DataError::StatsMismatch`] (stats `num_users` against train lines),
    /// [`DataError::LineCountMismatch`], and the per-line errors of
    /// [`read_sequences`] and [`read_targets`].
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self, DataError> {
        let dir = dir.as_ref();
        let stats_path = dir.join(STATS_FILE);
        let stats = DatasetStats::read(&stats_path)?;
        let num_items = stats.num_items;
        if num_items == 0 {
            return Err(DataError::ZeroItems { path: stats_path });
        }
        let train_path = dir.join(Split::Train.as_str()).join(INPUT_FILE);
        // A user whose only items went to validation or test has an empty train line: skipped
        // and counted, not a reason to refuse the dataset.
        let (train, skipped_train) = read_sequences_skipping_empty(&train_path, Some(num_items))?;
        let lines = train.len() + skipped_train.len();
        if stats.num_users != lines {
            return Err(DataError::StatsMismatch {
                stats: stats_path,
                declared: stats.num_users,
                train: train_path,
                actual: lines,
            });
        }
        let mut stats = stats;
        stats.num_users = train.len();
        let (val, skipped_val) = load_held_out(dir, Split::Val, num_items)?;
        let (test, skipped_test) = load_held_out(dir, Split::Test, num_items)?;
        Ok(Self {
            num_items,
            train,
            val,
            test,
            stats,
            skipped_empty: SkippedEmpty {
                train: skipped_train.len(),
                val: skipped_val,
                test: skipped_test,
            },
        })
    }

    /// Writes the dataset in the gSASRec layout, creating `dir` if needed.
    ///
    /// Existing layout files are overwritten. The dataset is validated first,
    /// so nothing is written if it is invalid.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidDataset`] if an invariant does not hold,
    /// [`DataError::StaleSplit`] if `dir` already has a `val` or `test`
    /// directory for a split this dataset lacks (loading would pick it up),
    /// [`DataError::Io`] naming the file or directory.
    ///
    /// ```
    /// use seqrec_data::{HistoryTargets, SequenceDataset};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let test = HistoryTargets::new(vec![vec![1, 2], vec![3]], vec![3, 1])?;
    /// let dataset = SequenceDataset::new(3, vec![vec![1], vec![3]], None, Some(test))?;
    /// dataset.save_dir(dir.path())?;
    /// assert_eq!(SequenceDataset::load_dir(dir.path())?, dataset);
    /// # Ok(()) }
    /// ```
    pub fn save_dir(&self, dir: impl AsRef<Path>) -> Result<(), DataError> {
        let dir = dir.as_ref();
        self.validate()?;
        for (split, held_out) in [(Split::Val, &self.val), (Split::Test, &self.test)] {
            let path = dir.join(split.as_str());
            if held_out.is_none() && exists(&path)? {
                return Err(DataError::StaleSplit { path, split });
            }
        }
        let train_dir = dir.join(Split::Train.as_str());
        create_dir(&train_dir)?;
        self.stats.write(&dir.join(STATS_FILE))?;
        write_sequences(&train_dir.join(INPUT_FILE), &self.train)?;
        for (split, held_out) in [(Split::Val, &self.val), (Split::Test, &self.test)] {
            if let Some(held_out) = held_out {
                let split_dir = dir.join(split.as_str());
                create_dir(&split_dir)?;
                write_sequences(&split_dir.join(INPUT_FILE), &held_out.inputs)?;
                write_targets(&split_dir.join(OUTPUT_FILE), &held_out.targets)?;
            }
        }
        Ok(())
    }

    /// Checks the invariants listed on the type.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidDataset`] naming the split, the 1-based line (as
    /// it would be in the file) and token of the first violation.
    pub fn validate(&self) -> Result<(), DataError> {
        let num_items = self.num_items;
        if num_items == 0 {
            return Err(invalid("num_items is 0".to_owned()));
        }
        if self.stats.num_items != num_items {
            return Err(invalid(format!(
                "stats.num_items = {} but num_items = {num_items}",
                self.stats.num_items
            )));
        }
        if self.stats.num_users != self.train.len() {
            return Err(invalid(format!(
                "stats.num_users = {} but train has {} users",
                self.stats.num_users,
                self.train.len()
            )));
        }
        check_sequences(Split::Train, &self.train, num_items)?;
        for (split, held_out) in [(Split::Val, &self.val), (Split::Test, &self.test)] {
            let Some(held_out) = held_out else { continue };
            if held_out.inputs.len() != held_out.targets.len() {
                return Err(invalid(format!(
                    "{split} has {} inputs but {} targets",
                    held_out.inputs.len(),
                    held_out.targets.len()
                )));
            }
            check_sequences(split, &held_out.inputs, num_items)?;
            if let Some(index) = held_out
                .targets
                .iter()
                .position(|&item| !(1..=num_items).contains(&item))
            {
                return Err(invalid(format!(
                    "{split} target line {}: item id {} out of range 1..={num_items}",
                    index + 1,
                    held_out.targets[index]
                )));
            }
        }
        Ok(())
    }

    /// The validation or test split: histories with one target each.
    ///
    /// # Errors
    ///
    /// [`DataError::TrainNotHeldOut`] for [`Split::Train`],
    /// [`DataError::MissingSplit`] if the split is absent.
    pub fn history_targets(&self, split: Split) -> Result<&HistoryTargets, DataError> {
        let targets = match split {
            Split::Train => return Err(DataError::TrainNotHeldOut),
            Split::Val => &self.val,
            Split::Test => &self.test,
        };
        targets.as_ref().ok_or(DataError::MissingSplit { split })
    }

    /// The earlier name of [`SequenceDataset::history_targets`].
    #[deprecated(since = "0.1.0", note = "renamed `history_targets`")]
    pub fn held_out(&self, split: Split) -> Result<&HistoryTargets, DataError> {
        self.history_targets(split)
    }

    /// Number of users (train histories).
    pub fn num_users(&self) -> usize {
        self.train.len()
    }

    /// How often each item occurs in the train histories, indexed by item id
    /// (length `num_items + 1`; index 0, the padding id, stays 0).
    ///
    /// # Panics
    ///
    /// If a train id exceeds `num_items`, which [`SequenceDataset::validate`]
    /// rules out and cannot happen for a loaded dataset.
    pub fn item_counts(&self) -> Vec<u64> {
        let mut counts = vec![0_u64; self.num_items as usize + 1];
        for &item in self.train.iter().flatten() {
            match counts.get_mut(item as usize) {
                Some(count) => *count += 1,
                None => panic!("train item id {item} exceeds num_items {}", self.num_items),
            }
        }
        counts
    }
}

/// Reads `sequences.txt` (full histories, one user per line) from a layout
/// directory, range-checked against its `dataset_stats.json`.
///
/// # Errors
///
/// As [`DatasetStats::read`] and [`read_sequences`], plus
/// [`DataError::ZeroItems`].
pub fn load_full_sequences(dir: impl AsRef<Path>) -> Result<Vec<Vec<u32>>, DataError> {
    let dir = dir.as_ref();
    let stats_path = dir.join(STATS_FILE);
    let stats = DatasetStats::read(&stats_path)?;
    if stats.num_items == 0 {
        return Err(DataError::ZeroItems { path: stats_path });
    }
    read_sequences(&dir.join(SEQUENCES_FILE), Some(stats.num_items))
}

/// A held-out split and the number of its users skipped for an empty input line (their
/// target lines go with them).
fn load_held_out(
    dir: &Path,
    split: Split,
    num_items: u32,
) -> Result<(Option<HistoryTargets>, usize), DataError> {
    let split_dir = dir.join(split.as_str());
    if !exists(&split_dir)? {
        return Ok((None, 0));
    }
    let input = split_dir.join(INPUT_FILE);
    let output = split_dir.join(OUTPUT_FILE);
    let (inputs, skipped) = read_sequences_skipping_empty(&input, Some(num_items))?;
    let targets = read_targets(&output, Some(num_items))?;
    let input_lines = inputs.len() + skipped.len();
    if input_lines != targets.len() {
        return Err(DataError::LineCountMismatch {
            input,
            input_lines,
            output,
            output_lines: targets.len(),
        });
    }
    let targets = if skipped.is_empty() {
        targets
    } else {
        let mut empty = skipped.iter().peekable();
        targets
            .into_iter()
            .enumerate()
            .filter(|&(index, _)| {
                let line = index + 1;
                if empty.peek() == Some(&&line) {
                    empty.next();
                    false
                } else {
                    true
                }
            })
            .map(|(_, target)| target)
            .collect()
    };
    Ok((Some(HistoryTargets { inputs, targets }), skipped.len()))
}

fn check_sequences(split: Split, sequences: &[Vec<u32>], num_items: u32) -> Result<(), DataError> {
    for (index, sequence) in sequences.iter().enumerate() {
        let line = index + 1;
        if sequence.is_empty() {
            return Err(invalid(format!("{split} input line {line} is empty")));
        }
        if let Some(pos) = sequence
            .iter()
            .position(|&item| !(1..=num_items).contains(&item))
        {
            return Err(invalid(format!(
                "{split} input line {line}, token {}: item id {} out of range 1..={num_items}",
                pos + 1,
                sequence[pos]
            )));
        }
    }
    Ok(())
}

fn total_len(sequences: &[Vec<u32>]) -> usize {
    sequences.iter().map(Vec::len).sum()
}

fn invalid(reason: String) -> DataError {
    DataError::InvalidDataset { reason }
}

/// Whether `path` exists; errors other than "not found" are reported.
fn exists(path: &Path) -> Result<bool, DataError> {
    match fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(DataError::Io {
            path: path.to_owned(),
            source: e,
        }),
    }
}

fn create_dir(path: &Path) -> Result<(), DataError> {
    fs::create_dir_all(path).map_err(|e| DataError::Io {
        path: path.to_owned(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn tiny() -> SequenceDataset {
        SequenceDataset::new(
            5,
            vec![vec![1, 2, 3], vec![2], vec![4, 5, 1]],
            Some(HistoryTargets::new(vec![vec![1, 2, 3, 4]], vec![5]).unwrap()),
            Some(
                HistoryTargets::new(
                    vec![vec![1, 2, 3], vec![2, 4], vec![4, 5, 1, 2]],
                    vec![4, 3, 1],
                )
                .unwrap(),
            ),
        )
        .unwrap()
    }

    /// Writes `files` (relative path, content) under a fresh temp dir.
    fn layout(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, content) in files {
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        dir
    }

    const STATS: &str = r#"{"num_users": 2, "num_items": 4, "num_interactions": 7}"#;

    fn load_err(files: &[(&str, &str)]) -> (DataError, String) {
        let dir = layout(files);
        let err = SequenceDataset::load_dir(dir.path()).unwrap_err();
        let msg = err.to_string();
        (err, msg)
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let dataset = tiny();
        dataset.save_dir(dir.path()).unwrap();
        let loaded = SequenceDataset::load_dir(dir.path()).unwrap();
        assert_eq!(loaded, dataset);
        assert_eq!(loaded.stats.num_interactions, 3 + 2 + 4 + 3);
        assert_eq!(
            fs::read_to_string(dir.path().join("test/output.txt")).unwrap(),
            "4\n3\n1\n"
        );
    }

    #[test]
    fn loads_handwritten_layout_with_crlf_and_trailing_spaces() {
        let dir = layout(&[
            ("dataset_stats.json", STATS),
            ("train/input.txt", "1 2 3 \r\n4 \r\n"),
            ("val/input.txt", "1 2\r\n"),
            ("val/output.txt", "3 \r\n"),
            ("test/input.txt", "1 2 3\n4\n"),
            ("test/output.txt", "4\n1\n"),
        ]);
        let dataset = SequenceDataset::load_dir(dir.path()).unwrap();
        assert_eq!(dataset.num_items, 4);
        assert_eq!(dataset.num_users(), 2);
        assert_eq!(dataset.train, vec![vec![1, 2, 3], vec![4]]);
        assert_eq!(
            dataset.history_targets(Split::Val).unwrap().targets,
            vec![3]
        );
        assert_eq!(dataset.history_targets(Split::Test).unwrap().len(), 2);
        assert_eq!(dataset.item_counts(), vec![0, 1, 1, 1, 1]);
    }

    #[test]
    fn val_and_test_are_optional_when_their_directories_are_absent() {
        let dir = layout(&[("dataset_stats.json", STATS), ("train/input.txt", "1\n2\n")]);
        let dataset = SequenceDataset::load_dir(dir.path()).unwrap();
        assert!(dataset.val.is_none() && dataset.test.is_none());
        let err = dataset.history_targets(Split::Val).unwrap_err();
        assert!(
            matches!(err, DataError::MissingSplit { split: Split::Val }),
            "{err:?}"
        );
        assert!(err.to_string().contains("no val split"), "{err}");
        let err = dataset.history_targets(Split::Train).unwrap_err();
        assert!(matches!(err, DataError::TrainNotHeldOut), "{err:?}");
    }

    #[test]
    fn empty_train_file_with_zero_users_loads() {
        let dir = layout(&[
            (
                "dataset_stats.json",
                r#"{"num_users": 0, "num_items": 4, "num_interactions": 0}"#,
            ),
            ("train/input.txt", ""),
        ]);
        let dataset = SequenceDataset::load_dir(dir.path()).unwrap();
        assert!(dataset.train.is_empty());
        assert_eq!(dataset.item_counts(), vec![0; 5]);
    }

    #[test]
    fn missing_train_is_an_error() {
        let (err, msg) = load_err(&[("dataset_stats.json", STATS)]);
        assert!(matches!(err, DataError::MissingFile { .. }), "{err:?}");
        assert!(
            msg.contains(&format!("train{}input.txt", std::path::MAIN_SEPARATOR)),
            "{msg}"
        );
    }

    #[test]
    fn missing_stats_is_an_error() {
        let (err, msg) = load_err(&[("train/input.txt", "1\n")]);
        assert!(matches!(err, DataError::MissingFile { .. }), "{err:?}");
        assert!(msg.contains("dataset_stats.json"), "{msg}");
    }

    #[test]
    fn present_split_directory_needs_both_files() {
        let (err, msg) = load_err(&[
            ("dataset_stats.json", STATS),
            ("train/input.txt", "1\n2\n"),
            ("test/input.txt", "1\n2\n"),
        ]);
        assert!(matches!(err, DataError::MissingFile { .. }), "{err:?}");
        assert!(msg.contains("output.txt"), "{msg}");
    }

    #[test]
    fn line_count_mismatch_names_both_files_and_counts() {
        let (err, msg) = load_err(&[
            ("dataset_stats.json", STATS),
            ("train/input.txt", "1\n2\n"),
            ("val/input.txt", "1\n2\n3\n"),
            ("val/output.txt", "4\n4\n"),
        ]);
        assert!(
            matches!(
                err,
                DataError::LineCountMismatch {
                    input_lines: 3,
                    output_lines: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            msg.contains("input.txt has 3 lines") && msg.contains("output.txt has 2"),
            "{msg}"
        );
    }

    #[test]
    fn empty_history_lines_are_skipped_with_their_targets_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("dataset_stats.json", STATS),
            ("train/input.txt", "1\n\n"),
            ("test/input.txt", "1\n\n3 1\n"),
            ("test/output.txt", "2\n3\n1\n"),
        ] {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let dataset = SequenceDataset::load_dir(dir.path()).unwrap();
        assert_eq!(dataset.train, vec![vec![1]]);
        assert_eq!(dataset.stats.num_users, 1);
        let test = dataset.test.as_ref().unwrap();
        // The user of line 2 goes with their target, 3; the others keep theirs.
        assert_eq!(test.inputs, vec![vec![1], vec![3, 1]]);
        assert_eq!(test.targets, vec![2, 1]);
        assert_eq!(
            dataset.skipped_empty,
            SkippedEmpty {
                train: 1,
                val: 0,
                test: 1
            }
        );
        assert_eq!(dataset.skipped_empty.total(), 2);
        // Still a line count mismatch when the targets do not match the lines, empty or not.
        fs::write(dir.path().join("test/output.txt"), "2\n3\n").unwrap();
        let err = SequenceDataset::load_dir(dir.path()).unwrap_err();
        assert!(err.to_string().contains("input.txt has 3 lines"), "{err}");
    }

    #[test]
    fn out_of_range_ids_use_stats_num_items() {
        let (err, msg) = load_err(&[
            ("dataset_stats.json", STATS),
            ("train/input.txt", "1\n2 3 5\n"),
        ]);
        assert!(
            matches!(
                err,
                DataError::ItemOutOfRange {
                    item: 5,
                    max: 4,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(msg.contains("item id 5 out of range 1..=4 at "), "{msg}");
        assert!(msg.contains("input.txt line 2, token 3"), "{msg}");

        let (err, msg) = load_err(&[
            ("dataset_stats.json", STATS),
            ("train/input.txt", "1\n2\n"),
            ("val/input.txt", "1\n"),
            ("val/output.txt", "9\n"),
        ]);
        assert!(
            matches!(err, DataError::ItemOutOfRange { item: 9, .. }),
            "{err:?}"
        );
        assert!(msg.contains("output.txt line 1, token 1"), "{msg}");
    }

    #[test]
    fn non_integer_item_names_file_line_and_token() {
        let (err, msg) = load_err(&[
            ("dataset_stats.json", STATS),
            ("train/input.txt", "1 2\n3 four\n"),
        ]);
        assert!(
            matches!(
                err,
                DataError::InvalidItem {
                    line: 2,
                    token: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            msg.contains("\"four\"") && msg.contains("input.txt line 2, token 2"),
            "{msg}"
        );
    }

    #[test]
    fn stats_mismatch_names_both_numbers() {
        let (err, msg) = load_err(&[
            ("dataset_stats.json", STATS),
            ("train/input.txt", "1\n2\n3\n"),
        ]);
        assert!(
            matches!(
                err,
                DataError::StatsMismatch {
                    declared: 2,
                    actual: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            msg.contains("num_users = 2") && msg.contains("has 3 lines"),
            "{msg}"
        );
        assert!(msg.contains("dataset_stats.json"), "{msg}");
    }

    #[test]
    fn zero_items_is_an_error() {
        let (err, msg) = load_err(&[
            (
                "dataset_stats.json",
                r#"{"num_users": 0, "num_items": 0, "num_interactions": 0}"#,
            ),
            ("train/input.txt", ""),
        ]);
        assert!(matches!(err, DataError::ZeroItems { .. }), "{err:?}");
        assert!(
            msg.contains("dataset_stats.json") && msg.contains("num_items is 0"),
            "{msg}"
        );
    }

    #[test]
    fn bad_stats_json_names_file_line_and_column() {
        let (err, msg) = load_err(&[
            (
                "dataset_stats.json",
                "{\n  \"num_users\": 2,\n  \"num_items\": \"4\"\n}",
            ),
            ("train/input.txt", "1\n2\n"),
        ]);
        assert!(
            matches!(err, DataError::StatsJson { line: 3, .. }),
            "{err:?}"
        );
        assert!(
            msg.contains("dataset_stats.json at line 3, column"),
            "{msg}"
        );
    }

    #[test]
    fn new_rejects_invalid_data() {
        let cases: Vec<(SequenceDataset, &str)> = vec![
            (
                SequenceDataset {
                    num_items: 0,
                    ..tiny()
                },
                "num_items is 0",
            ),
            (
                SequenceDataset {
                    train: vec![vec![1], vec![]],
                    ..tiny()
                },
                "stats.num_users = 3 but train has 2 users",
            ),
        ];
        for (dataset, expected) in cases {
            let err = dataset.validate().unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let err = SequenceDataset::new(3, vec![vec![1], vec![]], None, None).unwrap_err();
        assert!(
            err.to_string().contains("train input line 2 is empty"),
            "{err}"
        );
        let err = SequenceDataset::new(3, vec![vec![1, 4]], None, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("train input line 1, token 2: item id 4 out of range 1..=3"),
            "{err}"
        );
        let test = HistoryTargets {
            inputs: vec![vec![1]],
            targets: vec![0],
        };
        let err = SequenceDataset::new(3, vec![vec![1]], None, Some(test)).unwrap_err();
        assert!(
            err.to_string().contains("test target line 1: item id 0"),
            "{err}"
        );
        let val = HistoryTargets {
            inputs: vec![vec![1]],
            targets: vec![],
        };
        let err = SequenceDataset::new(3, vec![vec![1]], Some(val), None).unwrap_err();
        assert!(
            err.to_string().contains("val has 1 inputs but 0 targets"),
            "{err}"
        );
    }

    #[test]
    fn save_refuses_invalid_data_and_stale_splits() {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = tiny();
        bad.train[0].push(6);
        assert!(matches!(
            bad.save_dir(dir.path()),
            Err(DataError::InvalidDataset { .. })
        ));
        assert!(!dir.path().join(STATS_FILE).exists());

        fs::create_dir(dir.path().join("val")).unwrap();
        let no_val = SequenceDataset {
            val: None,
            ..tiny()
        };
        let err = no_val.save_dir(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::StaleSplit {
                    split: Split::Val,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn item_counts_cover_train_only() {
        let counts = tiny().item_counts();
        assert_eq!(counts, vec![0, 2, 2, 1, 1, 1]);
    }

    #[test]
    fn full_sequences_are_read_with_stats_range() {
        let dir = layout(&[
            ("dataset_stats.json", STATS),
            ("sequences.txt", "1 2 3 4\n4 1\n"),
        ]);
        let sequences = load_full_sequences(dir.path()).unwrap();
        assert_eq!(sequences, vec![vec![1, 2, 3, 4], vec![4, 1]]);

        let dir = layout(&[
            ("dataset_stats.json", STATS),
            ("sequences.txt", "1 2 3 4 5\n"),
        ]);
        let err = load_full_sequences(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("sequences.txt line 1, token 5"),
            "{err}"
        );
    }

    /// The real ml1m leave-one-out dataset in the shared data directory.
    #[test]
    fn loads_shared_ml1m_loo() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ml1m-loo");
        if !dir.is_dir() {
            eprintln!(
                "note: {} is absent; skipping the ml1m-loo check",
                dir.display()
            );
            return;
        }
        let start = Instant::now();
        let dataset = SequenceDataset::load_dir(&dir).unwrap();
        let elapsed = start.elapsed();
        eprintln!("loaded ml1m-loo in {elapsed:?}");
        assert_eq!(dataset.num_users(), 6040);
        assert_eq!(dataset.num_items, 3416);
        assert_eq!(dataset.history_targets(Split::Val).unwrap().len(), 512);
        assert_eq!(dataset.history_targets(Split::Test).unwrap().len(), 6040);
        dataset.validate().unwrap();
        let counts = dataset.item_counts();
        assert_eq!(counts.len(), 3417);
        assert_eq!(counts[0], 0);
        let train_total: u64 = counts.iter().sum();
        assert_eq!(train_total as usize, total_len(&dataset.train));

        let full = load_full_sequences(&dir).unwrap();
        assert_eq!(full.len(), 6040);
        assert_eq!(total_len(&full), dataset.stats.num_interactions);
    }
}
