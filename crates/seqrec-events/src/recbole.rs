//! RecBole atomic interaction files (`<dataset>.inter`): tab-separated text whose header
//! fields are `name:type`, e.g. (tabs shown as spaces)
//!
//! ```text
//! user_id:token    item_id:token    rating:float    timestamp:float
//! 196              242              3               881250949
//! ```
//!
//! Columns are found by the name before the `:type` suffix: `user_id`, `item_id` and
//! `timestamp` by default (the names of [`ColumnNames`], with its default track column
//! `track_id` standing for RecBole's `item_id`); other fields (`rating`, …) are ignored.
//! Timestamps are Unix seconds, fractions allowed, unless [`ReadOptions::timestamp`] says
//! otherwise. The file may be gzip-compressed (`.inter.gz`). Everything else (errors,
//! `skip_invalid`, the report) is as for [`crate::csv`].
//!
//! [`ColumnNames`]: crate::ColumnNames

use std::path::Path;

use crate::csv::{Dialect, read_delimited};
use crate::log::EventLog;
use crate::read::{ColumnNames, ReadOptions};
use crate::report::ReadReport;
use crate::timestamp::TimestampFormat;
use seqrec_data::DataError;

/// RecBole's item id field.
pub const ITEM_FIELD: &str = "item_id";

/// The columns a RecBole file is read with: `options`' names, with the default track
/// column (`track_id`) replaced by [`ITEM_FIELD`].
pub fn recbole_columns(columns: &ColumnNames) -> ColumnNames {
    let mut columns = columns.clone();
    if columns.track == ColumnNames::default().track {
        columns.track = ITEM_FIELD.to_owned();
    }
    columns
}

/// Reads a RecBole `.inter` file. See [`crate::read_events`].
pub(crate) fn read_recbole(
    path: &Path,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let columns = recbole_columns(&options.columns);
    let dialect = Dialect {
        delimiter: options.delimiter.unwrap_or(b'\t'),
        columns: &columns,
        timestamp: match options.timestamp {
            TimestampFormat::Auto => TimestampFormat::UnixSeconds,
            other => other,
        },
        typed_header: true,
    };
    read_delimited(path, &dialect, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{EventFormat, read_events};

    const INTER: &str = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n\
                         196\t242\t3\t881250949\n\
                         186\t302\t3\t891717742.5\n\
                         196\t377\t1\t878887116\n";

    #[test]
    fn reads_users_items_and_second_timestamps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ml-100k.inter");
        std::fs::write(&path, INTER).unwrap();
        assert_eq!(EventFormat::detect(&path).unwrap(), EventFormat::RecBole);
        let (log, report) =
            read_events(&path, EventFormat::RecBole, &ReadOptions::default()).unwrap();
        assert_eq!(report.records, 3);
        assert_eq!(log.len(), 3);
        assert_eq!(log.users().names(), ["196", "186"]);
        let events: Vec<(&str, &str, i64)> = log
            .iter()
            .map(|e| {
                (
                    log.users().name(e.user).unwrap(),
                    log.items().name(e.item).unwrap(),
                    e.timestamp_ms,
                )
            })
            .collect();
        // 196's plays sorted by time; seconds with a fraction kept to the millisecond.
        assert_eq!(
            events,
            [
                ("196", "377", 878_887_116_000),
                ("196", "242", 881_250_949_000),
                ("186", "302", 891_717_742_500),
            ]
        );
        assert!(log.iter().all(|e| e.ms_played.is_none()));
    }

    #[test]
    fn named_fields_and_errors_use_the_names_without_types() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.inter");
        std::fs::write(
            &path,
            "session:token\tsong:token\twhen:float\n\
             a\ts1\t10\n\
             a\ts2\tlater\n",
        )
        .unwrap();
        let err = read_events(&path, EventFormat::RecBole, &ReadOptions::default()).unwrap_err();
        let DataError::MissingColumn {
            column, available, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(column, "user_id");
        assert_eq!(available, "session, song, when");

        let options = ReadOptions {
            columns: ColumnNames {
                user: "session".into(),
                track: "song".into(),
                timestamp: "when".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = read_events(&path, EventFormat::RecBole, &options).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("x.inter line 3") && msg.contains("invalid when"),
            "{msg}"
        );
        let skipping = ReadOptions {
            skip_invalid: true,
            ..options
        };
        let (log, report) = read_events(&path, EventFormat::RecBole, &skipping).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log.get(0).unwrap().timestamp_ms, 10_000);
        assert_eq!(report.skipped_total(), 1);
    }
}
