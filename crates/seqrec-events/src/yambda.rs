//! Yambda-style flat Parquet listening logs (`listens.parquet`): columns `uid`, `item_id`,
//! `timestamp`, `played_ratio_pct` and `track_length_seconds` (other columns, such as
//! `is_organic`, are ignored).
//!
//! The play time is `played_ratio_pct / 100 × track_length_seconds` (in milliseconds,
//! rounded); the track length is `track_length_seconds × 1000`. Integer timestamps are
//! Unix seconds under [`TimestampFormat::Auto`] (Yambda counts seconds from the start of
//! its log, so dates are only relative); other formats are honoured. The sequential
//! (one row per user, list columns) variant of Yambda is not read: its list columns give a
//! [`DataError::ColumnType`] error.

use std::path::Path;

use crate::log::{Event, EventLog, EventLogBuilder, MAX_MS};
use crate::parquet::{Cell, ID, NUMBER, TIME, for_each_row, want};
use crate::read::ReadOptions;
use crate::report::ReadReport;
use crate::timestamp::TimestampFormat;
use seqrec_data::DataError;

/// The Yambda column names, in the order the reader uses them.
pub const YAMBDA_COLUMNS: [&str; 5] = [
    "uid",
    "item_id",
    "timestamp",
    "played_ratio_pct",
    "track_length_seconds",
];

/// Reads a Yambda Parquet file. See [`crate::read_events`].
pub(crate) fn read_yambda(
    path: &Path,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let [uid, item_id, timestamp, ratio, length] = YAMBDA_COLUMNS;
    let wanted = [
        want(uid, true, ID),
        want(item_id, true, ID),
        want(timestamp, true, TIME),
        want(ratio, false, NUMBER),
        want(length, false, NUMBER),
    ];
    let format = match options.timestamp {
        TimestampFormat::Auto => TimestampFormat::UnixSeconds,
        other => other,
    };
    let mut report = ReadReport {
        files: 1,
        ..Default::default()
    };
    let mut builder = EventLogBuilder::default();
    let (mut user, mut track) = (String::new(), String::new());
    for_each_row(
        path,
        &wanted,
        &mut report,
        |columns, r, location, report| {
            let cell = |i: usize| columns[i].as_ref().map_or(Cell::Null, |c| c.cell(r));
            let fail = |i: usize, reason: &'static str| {
                DataError::invalid_field(path, location, wanted[i].name, &cell(i).display(), reason)
            };
            let parsed = (|| {
                cell(0).id_into(&mut user).map_err(|e| fail(0, e))?;
                cell(1).id_into(&mut track).map_err(|e| fail(1, e))?;
                let timestamp_ms = cell(2).timestamp_ms(format).map_err(|e| fail(2, e))?;
                let non_negative = |i: usize| -> Result<Option<f64>, DataError> {
                    match cell(i).number().map_err(|e| fail(i, e))? {
                        Some(v) if v < 0.0 => Err(fail(i, "negative")),
                        v => Ok(v),
                    }
                };
                let ratio = non_negative(3)?;
                let seconds = non_negative(4)?;
                let to_ms = |i: usize, ms: f64| -> Result<u32, DataError> {
                    if ms.round() > f64::from(MAX_MS) {
                        Err(fail(i, "play time or length out of range"))
                    } else {
                        Ok(ms.round() as u32)
                    }
                };
                let mut event = Event::new(0, 0, timestamp_ms);
                event.track_length_ms = seconds.map(|s| to_ms(4, s * 1000.0)).transpose()?;
                event.ms_played = match (ratio, seconds) {
                    (Some(r), Some(s)) => Some(to_ms(3, r / 100.0 * s * 1000.0)?),
                    _ => None,
                };
                Ok(event)
            })();
            match parsed {
                Ok(event) => {
                    let u = builder.user_id(&user);
                    let i = builder.item_id(&track);
                    builder.push(Event {
                        user: u,
                        item: i,
                        ..event
                    })
                }
                Err(err) => report.skip_or_fail(options.skip_invalid, err),
            }
        },
    )?;
    let (log, normalization) = builder.finish(options.dedup);
    report.normalized(normalization, log.len());
    Ok((log, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parquet::tests::write_batch;
    use crate::read::{EventFormat, read_events};
    use arrow_array::builder::{ListBuilder, UInt32Builder};
    use arrow_array::{ArrayRef, BooleanArray, UInt8Array, UInt32Array};
    use std::sync::Arc;

    fn columns(ratio: Vec<Option<u8>>) -> Vec<(&'static str, ArrayRef)> {
        vec![
            (
                "uid",
                Arc::new(UInt32Array::from(vec![10, 10, 11])) as ArrayRef,
            ),
            (
                "timestamp",
                Arc::new(UInt32Array::from(vec![50, 45, 40])) as ArrayRef,
            ),
            (
                "item_id",
                Arc::new(UInt32Array::from(vec![500, 501, 500])) as ArrayRef,
            ),
            (
                "is_organic",
                Arc::new(BooleanArray::from(vec![true, false, true])) as ArrayRef,
            ),
            (
                "played_ratio_pct",
                Arc::new(UInt8Array::from(ratio)) as ArrayRef,
            ),
            (
                "track_length_seconds",
                Arc::new(UInt32Array::from(vec![200, 180, 200])) as ArrayRef,
            ),
        ]
    }

    #[test]
    fn play_time_is_ratio_times_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("listens.parquet");
        write_batch(&path, columns(vec![Some(100), Some(10), None]), 10);
        assert_eq!(EventFormat::detect(&path).unwrap(), EventFormat::Yambda);
        let (log, report) =
            read_events(&path, EventFormat::Yambda, &ReadOptions::default()).unwrap();
        assert_eq!(report.records, 3);
        assert_eq!(log.users().names(), ["10", "11"]);
        let events: Vec<Event> = log.iter().collect();
        // User 10 sorted by time: item 501 at 45 s first.
        assert_eq!(events[0].timestamp_ms, 45_000);
        assert_eq!(events[0].ms_played, Some(18_000));
        assert_eq!(events[0].track_length_ms, Some(180_000));
        assert_eq!(events[1].ms_played, Some(200_000));
        assert_eq!(events[2].ms_played, None);
        assert_eq!(events[2].track_length_ms, Some(200_000));
    }

    #[test]
    fn missing_columns_and_the_sequential_variant_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("listens.parquet");
        let mut cols = columns(vec![Some(1), Some(2), Some(3)]);
        cols.remove(2); // item_id
        write_batch(&path, cols, 10);
        let err = read_events(&path, EventFormat::Yambda, &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(&err, DataError::MissingColumn { column, .. } if column == "item_id"),
            "{err:?}"
        );

        let mut list = ListBuilder::new(UInt32Builder::new());
        list.values().append_value(1);
        list.append(true);
        let mut cols = columns(vec![Some(1), Some(2), Some(3)]);
        cols.truncate(1);
        cols[0].1 = Arc::new(UInt32Array::from(vec![1]));
        cols.push(("item_id", Arc::new(list.finish())));
        cols.push(("timestamp", Arc::new(UInt32Array::from(vec![1]))));
        write_batch(&path, cols, 10);
        let err = read_events(&path, EventFormat::Yambda, &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(&err, DataError::ColumnType { column, .. } if column == "item_id"),
            "{err:?}"
        );
    }
}
