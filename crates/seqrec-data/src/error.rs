//! The error type shared by every reader and writer in this crate.
//!
//! Every parse failure names the file, the 1-based line number and, where it
//! applies, the 1-based token position on that line, so a message alone is
//! enough to open the file at the offending place.

use std::io;
use std::num::ParseIntError;
use std::path::PathBuf;

use thiserror::Error;

use crate::split::Split;

/// Longest offending text (in characters) quoted back in [`DataError::InvalidItem`].
const MAX_QUOTED_CHARS: usize = 40;

/// Everything that can go wrong while reading or writing sequence data.
///
/// The enum is `#[non_exhaustive]`: readers for other formats will add
/// variants.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file the layout requires does not exist.
    #[error("missing file {}", path.display())]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
    },

    /// An I/O error other than "not found" while reading or writing a file.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },

    /// A line is not valid UTF-8.
    #[error("invalid UTF-8 at {} line {line}, byte {byte}", path.display())]
    InvalidUtf8 {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based byte offset of the first invalid byte within the line.
        byte: usize,
    },

    /// A token is not an unsigned 32-bit integer.
    #[error(
        "invalid item id {text:?} at {} line {line}, token {token}: {source}",
        path.display()
    )]
    InvalidItem {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based position of the token on its line.
        token: usize,
        /// The offending text (shortened if very long).
        text: String,
        /// Why it did not parse.
        source: ParseIntError,
    },

    /// An item id is 0 (the padding id) or larger than the number of items.
    #[error(
        "item id {item} out of range 1..={max} at {} line {line}, token {token}",
        path.display()
    )]
    ItemOutOfRange {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based position of the token on its line.
        token: usize,
        /// The id that was read.
        item: u32,
        /// The largest valid id (`num_items`, or `u32::MAX` when unknown).
        max: u32,
    },

    /// A sequence line holds no item id at all (blank, or only whitespace).
    #[error(
        "empty line at {} line {line}: every line must hold at least one item id",
        path.display()
    )]
    EmptyLine {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },

    /// A target line does not hold exactly one item id.
    #[error(
        "expected exactly one item id at {} line {line}, found {found}",
        path.display()
    )]
    TargetCount {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// How many tokens the line holds.
        found: usize,
    },

    /// A held-out split's input and output files have different line counts.
    #[error(
        "{} has {input_lines} lines but {} has {output_lines}: \
         inputs and targets must pair up line by line",
        input.display(),
        output.display()
    )]
    LineCountMismatch {
        /// The input (history) file.
        input: PathBuf,
        /// Lines in the input file.
        input_lines: usize,
        /// The output (target) file.
        output: PathBuf,
        /// Lines in the output file.
        output_lines: usize,
    },

    /// `dataset_stats.json` is not valid JSON or lacks a field.
    #[error(
        "invalid JSON in {} at line {line}, column {column}: {message}",
        path.display()
    )]
    StatsJson {
        /// The stats file.
        path: PathBuf,
        /// 1-based line reported by `serde_json` (0 if unknown).
        line: usize,
        /// 1-based column reported by `serde_json` (0 if unknown).
        column: usize,
        /// `serde_json`'s description, without its position suffix.
        message: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },

    /// The stats file declares zero items.
    #[error(
        "num_items is 0 in {}: item ids start at 1, so a dataset needs at least one item",
        path.display()
    )]
    ZeroItems {
        /// The stats file.
        path: PathBuf,
    },

    /// The stats file's `num_users` disagrees with the train split.
    #[error(
        "{} declares num_users = {declared} but {} has {actual} lines",
        stats.display(),
        train.display()
    )]
    StatsMismatch {
        /// The stats file.
        stats: PathBuf,
        /// `num_users` as declared in the stats file.
        declared: usize,
        /// The train input file.
        train: PathBuf,
        /// Number of lines (users) in the train input file.
        actual: usize,
    },

    /// A string is not the name of a split.
    #[error("unknown split {text:?}: expected \"train\", \"val\" or \"test\"")]
    UnknownSplit {
        /// The text that was parsed.
        text: String,
    },

    /// Held-out data was requested for the train split, which has no targets.
    #[error("the train split has no held-out targets; ask for val or test")]
    TrainNotHeldOut,

    /// Held-out data was requested for a split the dataset does not have.
    #[error("the dataset has no {split} split (its directory was absent when loading)")]
    MissingSplit {
        /// The split that was requested.
        split: Split,
    },

    /// In-memory data breaks an invariant of the layout (found before writing).
    #[error("invalid dataset: {reason}")]
    InvalidDataset {
        /// What is wrong, and where.
        reason: String,
    },

    /// Saving would leave a stale split directory that loading would pick up.
    #[error(
        "refusing to save: {} exists but the dataset has no {split} split; remove it first",
        path.display()
    )]
    StaleSplit {
        /// The existing split directory.
        path: PathBuf,
        /// The split the dataset lacks.
        split: Split,
    },
}

impl DataError {
    /// Wraps an I/O error, mapping "not found" to [`DataError::MissingFile`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        if source.kind() == io::ErrorKind::NotFound {
            DataError::MissingFile { path }
        } else {
            DataError::Io { path, source }
        }
    }

    /// Builds [`DataError::StatsJson`] from a `serde_json` error.
    pub(crate) fn stats_json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
        let (line, column) = (source.line(), source.column());
        let full = source.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        DataError::StatsJson {
            path: path.into(),
            line,
            column,
            message,
            source,
        }
    }

    /// Builds [`DataError::InvalidItem`], shortening very long offending text.
    pub(crate) fn invalid_item(
        path: impl Into<PathBuf>,
        line: usize,
        token: usize,
        text: &str,
        source: ParseIntError,
    ) -> Self {
        let text = match text.char_indices().nth(MAX_QUOTED_CHARS) {
            Some((cut, _)) => format!("{}...", &text[..cut]),
            None => text.to_owned(),
        };
        DataError::InvalidItem {
            path: path.into(),
            line,
            token,
            text,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_becomes_missing_file() {
        let err = DataError::io("a/b.txt", io::Error::from(io::ErrorKind::NotFound));
        assert!(matches!(err, DataError::MissingFile { .. }));
        assert_eq!(err.to_string(), "missing file a/b.txt");
    }

    #[test]
    fn other_io_errors_keep_path_and_source() {
        let err = DataError::io("x.txt", io::Error::other("disk on fire"));
        assert!(matches!(err, DataError::Io { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("x.txt") && msg.contains("disk on fire"),
            "{msg}"
        );
    }

    #[test]
    fn stats_json_message_has_no_duplicate_position() {
        let source = serde_json::from_str::<serde_json::Value>("{\n  \"a\": ,\n}").unwrap_err();
        let err = DataError::stats_json("s.json", source);
        let msg = err.to_string();
        assert!(
            msg.starts_with("invalid JSON in s.json at line 2, column"),
            "{msg}"
        );
        assert_eq!(msg.matches("line 2").count(), 1, "{msg}");
    }

    #[test]
    fn invalid_item_text_is_shortened() {
        let long = "x".repeat(500);
        let source = long.parse::<u32>().unwrap_err();
        let err = DataError::invalid_item("f.txt", 1, 1, &long, source);
        let DataError::InvalidItem { text, .. } = &err else {
            panic!("wrong variant: {err:?}");
        };
        assert_eq!(text.len(), MAX_QUOTED_CHARS + 3);
        assert!(err.to_string().len() < 200);
    }

    #[test]
    fn error_is_send_sync_static() {
        fn assert_bounds<T: Send + Sync + 'static>() {}
        assert_bounds::<DataError>();
    }
}
