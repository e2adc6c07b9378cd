//! The error type shared by every reader and writer in this crate.
//!
//! Every parse failure names the file, the 1-based line number and, where it
//! applies, the 1-based token position on that line, so a message alone is
//! enough to open the file at the offending place.

use std::fmt;
use std::io;
use std::num::ParseIntError;
use std::path::PathBuf;

use thiserror::Error;

use crate::split::Split;

/// Longest offending text (in characters) quoted back in [`DataError::InvalidItem`].
const MAX_QUOTED_CHARS: usize = 40;

/// Where in an input file a record lies, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line of a text file (CSV, TSV, sequence files).
    Line(u64),
    /// The 1-based index of a record in a JSON array, with the 1-based line on which the
    /// record ends.
    Record {
        /// 1-based index of the record in the array.
        index: u64,
        /// 1-based line of the record's last character.
        line: u64,
    },
    /// A row of a Parquet file.
    Row {
        /// 0-based row group, as Parquet tools number them.
        row_group: usize,
        /// 1-based row within the row group.
        row: u64,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Record { index, line } => write!(f, "record {index} (ending at line {line})"),
            Location::Row { row_group, row } => write!(f, "row group {row_group}, row {row}"),
        }
    }
}

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

    /// A field of an event record does not hold a valid value.
    ///
    /// Readers with `skip_invalid` set skip such records and count them instead.
    #[error("invalid {field} {text:?} at {} {location}: {reason}", path.display())]
    InvalidField {
        /// The file being read.
        path: PathBuf,
        /// The record.
        location: Location,
        /// The field (column) name.
        field: String,
        /// The offending text (shortened if very long).
        text: String,
        /// Why the value is invalid.
        reason: &'static str,
    },

    /// A record has a different number of fields than the header.
    #[error(
        "{} {location} has {found} fields but the header has {expected}",
        path.display()
    )]
    FieldCount {
        /// The file being read.
        path: PathBuf,
        /// The record.
        location: Location,
        /// Number of header fields.
        expected: usize,
        /// Number of fields on the record.
        found: usize,
    },

    /// A required column is absent.
    #[error("missing column {column:?} in {} (columns: {available})", path.display())]
    MissingColumn {
        /// The file being read.
        path: PathBuf,
        /// The column that was looked for.
        column: String,
        /// The columns the file has, comma-separated.
        available: String,
    },

    /// A column has a data type the reader cannot use.
    #[error(
        "column {column:?} in {} has type {found}; expected {expected}",
        path.display()
    )]
    ColumnType {
        /// The file being read.
        path: PathBuf,
        /// The column.
        column: String,
        /// The type found.
        found: String,
        /// The types accepted.
        expected: &'static str,
    },

    /// A file that must start with a header line is empty.
    #[error("empty file {}: expected a header line", path.display())]
    EmptyFile {
        /// The file being read.
        path: PathBuf,
    },

    /// A CSV or TSV file is malformed (e.g. an unterminated quote).
    #[error("malformed CSV in {} at {location}: {message}", path.display())]
    Csv {
        /// The file being read.
        path: PathBuf,
        /// Where the reader stopped.
        location: Location,
        /// The CSV parser's description.
        message: String,
    },

    /// A gzip-compressed file is damaged or truncated.
    #[error("cannot decompress {} (gzip): {message}", path.display())]
    Gzip {
        /// The file being read.
        path: PathBuf,
        /// The decoder's description.
        message: String,
    },

    /// A JSON file is malformed (not an array of objects).
    #[error("malformed JSON in {} at line {line}, column {column}: {message}", path.display())]
    Json {
        /// The file being read.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },

    /// A Parquet file cannot be read or written.
    #[error("Parquet error in {}: {message}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet or Arrow library's description.
        message: String,
    },

    /// The file's format needs a reader or writer this build left out (a cargo feature of
    /// `seqrec-events`, e.g. `parquet`).
    #[error(
        "{}: {what} needs seqrec-events built with its `{feature}` feature",
        path.display()
    )]
    NotBuilt {
        /// The file.
        path: PathBuf,
        /// What was asked for, e.g. "reading Parquet".
        what: &'static str,
        /// The cargo feature that builds it.
        feature: &'static str,
    },

    /// The name of an event format is not known.
    #[error(
        "unknown event format {text:?}: expected csv, tsv, parquet, spotify, lastfm, yambda, recbole or sequences"
    )]
    UnknownFormat {
        /// The text that was parsed.
        text: String,
    },

    /// Options (of a reader, a split or the simulator) are inconsistent.
    #[error("invalid options: {reason}")]
    InvalidOptions {
        /// What is wrong.
        reason: String,
    },

    /// There are no events where some are needed (e.g. an empty history window).
    #[error("no events: {reason}")]
    NoEvents {
        /// Where events were expected.
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
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        if source.kind() == io::ErrorKind::NotFound {
            DataError::MissingFile { path }
        } else {
            DataError::Io { path, source }
        }
    }

    /// Builds [`DataError::StatsJson`] from a `serde_json` error.
    pub fn stats_json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
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

    /// Builds [`DataError::InvalidField`], shortening very long offending text.
    pub fn invalid_field(
        path: impl Into<PathBuf>,
        location: Location,
        field: &str,
        text: &str,
        reason: &'static str,
    ) -> Self {
        DataError::InvalidField {
            path: path.into(),
            location,
            field: field.to_owned(),
            text: shorten(text),
            reason,
        }
    }

    /// Whether the error concerns a single record, which readers may skip when asked to.
    pub fn is_record_error(&self) -> bool {
        matches!(
            self,
            DataError::InvalidField { .. } | DataError::FieldCount { .. }
        )
    }

    /// A short category for counting skipped records: the field and the reason, or
    /// `"field count"`; `None` for errors that are not about one record.
    pub fn record_error_kind(&self) -> Option<String> {
        match self {
            DataError::InvalidField { field, reason, .. } => Some(format!("{field}: {reason}")),
            DataError::FieldCount { .. } => Some("wrong number of fields".to_owned()),
            _ => None,
        }
    }

    /// Builds [`DataError::InvalidItem`], shortening very long offending text.
    pub fn invalid_item(
        path: impl Into<PathBuf>,
        line: usize,
        token: usize,
        text: &str,
        source: ParseIntError,
    ) -> Self {
        let text = shorten(text);
        DataError::InvalidItem {
            path: path.into(),
            line,
            token,
            text,
            source,
        }
    }
}

/// `text`, cut after [`MAX_QUOTED_CHARS`] characters with `...` appended.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
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
    fn invalid_field_names_file_location_and_field() {
        let err = DataError::invalid_field(
            "events.csv",
            Location::Line(7),
            "timestamp",
            "yesterday",
            "not RFC 3339 or Unix time",
        );
        assert_eq!(
            err.to_string(),
            "invalid timestamp \"yesterday\" at events.csv line 7: not RFC 3339 or Unix time"
        );
        assert!(err.is_record_error());
        assert_eq!(
            err.record_error_kind().as_deref(),
            Some("timestamp: not RFC 3339 or Unix time")
        );
        let row = Location::Row {
            row_group: 2,
            row: 17,
        };
        assert_eq!(row.to_string(), "row group 2, row 17");
        let record = Location::Record { index: 3, line: 40 };
        assert_eq!(record.to_string(), "record 3 (ending at line 40)");
        assert!(!DataError::TrainNotHeldOut.is_record_error());
    }

    #[test]
    fn error_is_send_sync_static() {
        fn assert_bounds<T: Send + Sync + 'static>() {}
        assert_bounds::<DataError>();
    }
}
