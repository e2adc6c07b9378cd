//! Sequence data for the seqrec gSASRec recommender.
//!
//! This crate reads and writes the gSASRec sequence-data layout: a directory
//! with `dataset_stats.json`, `train/input.txt` and optional
//! `val/{input,output}.txt` and `test/{input,output}.txt`, where every line
//! of an `input.txt` is one user's history of item ids (`1..=num_items`, 0 is
//! padding) in time order, and every line of an `output.txt` is the single
//! held-out item that followed the history on the same line of `input.txt`.
//!
//! Readers stream files line by line and report every problem with the file
//! path, the 1-based line number and, for a bad id, the 1-based token
//! position (see [`DataError`]).
//!
//! This is what the trainer needs from data, and nothing more: it depends on no CSV, Arrow,
//! Parquet or date crate. Listening *events* (readers, writers, the paper's time-window
//! split and the per-user leave-one-out split of an event log) are in `seqrec-events`;
//! the music-listening simulator is in `seqrec-simulator`.
//!
//! # Modules
//!
//! - [`vocabulary`] holds [`Vocabulary`]: string ids ↔ dense ids.
//! - [`synthetic`] holds the small built-in [`SyntheticConfig`] sequence generator.
//! - [`gsasrec_layout`] holds [`SequenceDataset`]: loading and saving a
//!   layout directory.
//! - [`sequence_file`] reads and writes single sequence and target files.
//! - [`history_targets`] holds [`HistoryTargets`]: histories paired with targets.
//! - [`leave_one_out`](mod@leave_one_out) holds [`leave_one_out()`] on full sequences and the seeded
//!   [`sample_users`] both splits draw validation users with.
//! - [`stats`] holds [`DatasetStats`]: `dataset_stats.json`.
//! - [`split`] holds [`Split`]: train, val or test.
//! - [`error`] holds [`DataError`].
//!
//! # Example
//!
//! ```
//! use std::fs;
//! use seqrec_data::{SequenceDataset, Split};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let root = dir.path();
//! fs::write(
//!     root.join("dataset_stats.json"),
//!     r#"{"num_users": 2, "num_items": 4, "num_interactions": 7}"#,
//! )?;
//! fs::create_dir(root.join("train"))?;
//! fs::write(root.join("train/input.txt"), "1 2\n3\n")?;
//! fs::create_dir(root.join("test"))?;
//! fs::write(root.join("test/input.txt"), "1 2 4\n3\n")?;
//! fs::write(root.join("test/output.txt"), "3\n4\n")?;
//!
//! let dataset = SequenceDataset::load_dir(root)?;
//! assert_eq!(dataset.num_items, 4);
//! assert_eq!(dataset.train, vec![vec![1, 2], vec![3]]);
//! assert!(dataset.val.is_none()); // no val/ directory
//!
//! let test = dataset.history_targets(Split::Test)?;
//! let pairs: Vec<(&[u32], u32)> = test.iter().collect();
//! assert_eq!(pairs, vec![(&[1, 2, 4][..], 3), (&[3][..], 4)]);
//!
//! // Occurrences in the train histories, indexed by item id.
//! assert_eq!(dataset.item_counts(), vec![0, 1, 1, 1, 0]);
//!
//! // Errors point at the offending place.
//! fs::write(root.join("test/output.txt"), "3\n5\n")?;
//! let err = SequenceDataset::load_dir(root).unwrap_err();
//! assert!(err.to_string().contains("item id 5 out of range 1..=4"));
//! assert!(err.to_string().contains("output.txt line 2, token 1"));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod error;
pub mod gsasrec_layout;
pub mod history_targets;
pub mod leave_one_out;
pub mod sequence_file;
pub mod split;
pub mod stats;
pub mod synthetic;
pub mod vocabulary;

pub use error::{DataError, Location};

/// The seed of every default configuration (data splits, the simulator, training; re-exported
/// as `seqrec_train::DEFAULT_SEED`).
pub const DEFAULT_SEED: u64 = 42;
pub use gsasrec_layout::{SequenceDataset, SkippedEmpty, load_full_sequences};
pub use history_targets::HistoryTargets;

/// The earlier name of [`HistoryTargets`].
#[deprecated(
    since = "0.1.0",
    note = "renamed `HistoryTargets`: \"held out\" also names the time split's held-out week"
)]
pub type HeldOut = HistoryTargets;
pub use leave_one_out::{leave_one_out, sample_users};
pub use sequence_file::{
    read_sequences, read_sequences_from, read_sequences_skipping_empty, read_targets,
    read_targets_from, write_sequences, write_targets,
};
pub use split::Split;
pub use stats::DatasetStats;
pub use synthetic::SyntheticConfig;
pub use vocabulary::{ItemVocabulary, UserVocabulary, Vocabulary};
