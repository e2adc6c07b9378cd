//! Listening events for seqrec: the in-memory [`EventLog`], the readers of every supported
//! format and the writers, and the two splits that turn events into the
//! [`SequenceDataset`](seqrec_data::SequenceDataset) the trainer takes: the paper's
//! time-window split ([`split_by_time`]) and a per-user leave-one-out split
//! ([`split_leave_one_out`]).
//!
//! One event is a user, a track, a UTC timestamp and, when known, the milliseconds played,
//! the track's length and whether the track was skipped. In memory the events are columns
//! of dense ids (at most [`BYTES_PER_EVENT`] bytes per event, fewer when the input lacks
//! the optional fields, plus one offset per user and the vocabularies), grouped by user and
//! sorted by time.
//!
//! Formats ([`EventFormat`], read with [`read_events`]):
//!
//! - [`csv`]: CSV/TSV with a header, columns named by [`ColumnNames`], plain or gzip
//!   (`.csv.gz`, `.tsv.gz`, or any file starting with the gzip magic bytes);
//! - `parquet`: Parquet with the same columns (the `parquet` feature, on by default);
//! - [`spotify`]: Spotify extended streaming history JSON, one export or a folder;
//! - [`lastfm`]: the Last.fm-1K TSV, play times inferred from scrobble gaps;
//! - `yambda`: Yambda-style flat Parquet (the `parquet` feature);
//! - [`sequences`]: the gSASRec sequence files;
//! - [`recbole`]: RecBole atomic `.inter` files (`user_id:token` … `timestamp:float`).
//!
//! Every reader streams its input, and with [`ReadOptions::skip_invalid`] skips malformed
//! records while counting them by reason in the [`ReadReport`]; without it, the first
//! malformed record fails with an error naming the file, the line (or record, or row group
//! and row) and the field.
//!
//! Built without the `parquet` feature, the crate compiles no Arrow or Parquet code, and
//! Parquet input or output fails with [`DataError::NotBuilt`].
//!
//! # Example
//!
//! ```
//! use seqrec_events::{Event, EventLogBuilder, WindowOptions, split_by_time, DAY_MS};
//!
//! let mut log = EventLogBuilder::default();
//! let ann = log.user_id("ann");
//! let (a, b) = (log.item_id("a"), log.item_id("b"));
//! log.push(Event::new(ann, a, 0).with_ms_played(60_000))?;
//! log.push(Event::new(ann, b, DAY_MS).with_ms_played(60_000))?;
//! log.push(Event::new(ann, a, 61 * DAY_MS).with_ms_played(60_000))?;
//! let (log, _) = log.finish(true);
//! let split = split_by_time(&log, &WindowOptions { validation_users: 0, ..Default::default() })?;
//! assert_eq!(split.dataset.train, vec![vec![1, 2]]); // the 60-day history
//! assert_eq!(split.held_out.len(), 1); // the play in the held-out week
//! # Ok::<(), seqrec_events::DataError>(())
//! ```
#![deny(missing_docs)]

mod compress;
pub mod csv;
mod fields;
pub mod lastfm;
pub mod log;
pub mod loo_split;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod read;
pub mod recbole;
pub mod report;
pub mod sequences;
pub mod spotify;
pub mod summary;
pub mod timestamp;
pub mod window;
#[cfg(feature = "parquet")]
pub mod yambda;

pub use self::csv::{write_events_csv, write_events_csv_to};
pub use self::log::{
    BYTES_PER_EVENT, Event, EventLog, EventLogBuilder, FilterReport, MAX_MS, Normalization,
};
pub use self::loo_split::{LeaveOneOutOptions, LeaveOneOutSplit, split_leave_one_out};
#[cfg(feature = "parquet")]
pub use self::parquet::{ParquetEventWriter, write_events_parquet};
pub use self::read::{ColumnNames, EventFormat, ReadOptions, read_events};
pub use self::report::ReadReport;
pub use self::summary::{LogSummary, POSITIVE_MS};
pub use self::timestamp::{TimestampFormat, format_rfc3339};
pub use self::window::{
    DAY_MS, HeldOutPlay, HistoryPlayTimes, SplitReport, WindowOptions, WindowSplit, Windows,
    split_by_time, split_by_time_owned,
};
pub use seqrec_data::{DataError, Location};

/// Writes `log` in the format chosen by the path's extension: Parquet for `.parquet` and
/// `.pq`, otherwise CSV (TSV for `.tsv`).
///
/// # Errors
///
/// As [`write_events_csv`] and `write_events_parquet`; [`DataError::NotBuilt`] for a
/// Parquet path when the `parquet` feature is off.
pub fn write_events(log: &EventLog, path: impl AsRef<std::path::Path>) -> Result<(), DataError> {
    let path = path.as_ref();
    let parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"));
    if !parquet {
        return write_events_csv(log, path);
    }
    #[cfg(feature = "parquet")]
    return write_events_parquet(log, path);
    #[cfg(not(feature = "parquet"))]
    return Err(parquet_not_built(path, "writing Parquet"));
}

/// The error for Parquet input or output in a build without the `parquet` feature.
#[cfg(not(feature = "parquet"))]
pub(crate) fn parquet_not_built(path: &std::path::Path, what: &'static str) -> DataError {
    DataError::NotBuilt {
        path: path.to_owned(),
        what,
        feature: "parquet",
    }
}

#[cfg(all(test, not(feature = "parquet")))]
mod without_parquet {
    use super::*;

    /// Every Parquet entry point of a build without the feature names the file and the
    /// feature instead of failing some other way (or reading the file as CSV).
    #[test]
    fn parquet_paths_say_which_feature_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plays.parquet");
        let not_built = |result: Result<(), DataError>, what: &str| match result {
            Err(DataError::NotBuilt {
                path: p,
                what: w,
                feature,
            }) => {
                assert_eq!(p, path);
                assert_eq!(w, what);
                assert_eq!(feature, "parquet");
            }
            other => panic!("{what}: expected NotBuilt, got {other:?}"),
        };

        not_built(write_events(&EventLog::default(), &path), "writing Parquet");
        assert!(!path.exists(), "nothing may be written");

        // `detect` looks at the file, so it has to exist.
        std::fs::write(&path, b"PAR1").unwrap();
        not_built(EventFormat::detect(&path).map(drop), "reading Parquet");
        for format in [EventFormat::Parquet, EventFormat::Yambda] {
            not_built(
                read_events(&path, format, &ReadOptions::default()).map(drop),
                "reading Parquet",
            );
        }
        let message = EventFormat::detect(&path).unwrap_err().to_string();
        assert!(
            message.contains("plays.parquet") && message.contains("`parquet` feature"),
            "{message}"
        );
    }
}
