//! Listening events: the in-memory [`EventLog`], the readers of every supported format,
//! and the writers.
//!
//! One event is a user, a track, a UTC timestamp and, when known, the milliseconds played,
//! the track's length and whether the track was skipped. In memory the events are columns
//! of dense ids ([`BYTES_PER_EVENT`] bytes per event plus the vocabularies), grouped by
//! user and sorted by time.
//!
//! Formats ([`EventFormat`], read with [`read_events`]):
//!
//! - [`csv`]: CSV/TSV with a header, columns named by [`ColumnNames`], plain or gzip
//!   (`.csv.gz`, `.tsv.gz`, or any file starting with the gzip magic bytes);
//! - [`parquet`]: Parquet with the same columns;
//! - [`spotify`]: Spotify extended streaming history JSON, one export or a folder;
//! - [`lastfm`]: the Last.fm-1K TSV, play times inferred from scrobble gaps;
//! - [`yambda`]: Yambda-style flat Parquet;
//! - [`sequences`]: the gSASRec sequence files;
//! - [`recbole`]: RecBole atomic `.inter` files (`user_id:token` … `timestamp:float`).
//!
//! Every reader streams its input, and with [`ReadOptions::skip_invalid`] skips malformed
//! records while counting them by reason in the [`ReadReport`]; without it, the first
//! malformed record fails with an error naming the file, the line (or record, or row group
//! and row) and the field.

mod compress;
pub mod csv;
mod fields;
pub mod lastfm;
pub mod log;
pub mod parquet;
pub mod read;
pub mod recbole;
pub mod report;
pub mod sequences;
pub mod spotify;
pub mod summary;
pub mod timestamp;
pub mod yambda;

pub use self::csv::{write_events_csv, write_events_csv_to};
pub use self::log::{
    BYTES_PER_EVENT, Event, EventLog, EventLogBuilder, FilterReport, MAX_MS, Normalization,
};
pub use self::parquet::write_events_parquet;
pub use self::read::{ColumnNames, EventFormat, ReadOptions, read_events};
pub use self::report::ReadReport;
pub use self::summary::{LogSummary, POSITIVE_MS};
pub use self::timestamp::{TimestampFormat, format_rfc3339};

/// Writes `log` in the format chosen by the path's extension: Parquet for `.parquet` and
/// `.pq`, otherwise CSV (TSV for `.tsv`).
///
/// # Errors
///
/// As [`write_events_csv`] and [`write_events_parquet`].
pub fn write_events(
    log: &EventLog,
    path: impl AsRef<std::path::Path>,
) -> Result<(), crate::DataError> {
    let path = path.as_ref();
    let parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"));
    if parquet {
        write_events_parquet(log, path)
    } else {
        write_events_csv(log, path)
    }
}
