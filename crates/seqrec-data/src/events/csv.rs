//! CSV and TSV event files with a header line.
//!
//! Columns are found by name ([`ColumnNames`], defaults
//! `user_id,track_id,timestamp,ms_played` plus the optional `track_length_ms` and
//! `skipped`); other columns are ignored. Timestamps are RFC 3339 or Unix seconds or
//! milliseconds ([`TimestampFormat`]). Records are streamed through one reused buffer.
//!
//! [`ColumnNames`]: crate::events::ColumnNames
//! [`TimestampFormat`]: crate::events::TimestampFormat

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::error::{DataError, Location};
use crate::events::fields;
use crate::events::log::{Event, EventLog, EventLogBuilder};
use crate::events::read::ReadOptions;
use crate::events::report::ReadReport;
use crate::events::timestamp::{format_rfc3339, parse_timestamp};

/// Read buffer size.
const BUFFER: usize = 1 << 16;

/// The header [`write_events_csv`] writes.
pub const CSV_HEADER: [&str; 6] = [
    "user_id",
    "track_id",
    "timestamp",
    "ms_played",
    "track_length_ms",
    "skipped",
];

/// A tab for `.tsv` and `.tab` files, otherwise a comma.
pub fn default_delimiter(path: &Path) -> u8 {
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .as_deref()
    {
        Some("tsv" | "tab") => b'\t',
        _ => b',',
    }
}

/// Reads a CSV/TSV event file. See [`crate::events::read_events`].
pub(crate) fn read_csv(
    path: &Path,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut builder = EventLogBuilder::default();
    let mut report = ReadReport {
        files: 1,
        ..Default::default()
    };
    let delimiter = options.delimiter.unwrap_or_else(|| default_delimiter(path));
    read_csv_from(
        BufReader::with_capacity(BUFFER, file),
        path,
        delimiter,
        options,
        &mut builder,
        &mut report,
    )?;
    let (log, normalization) = builder.finish(options.dedup);
    report.normalized(normalization, log.len());
    Ok((log, report))
}

/// Column positions of one file.
struct Layout {
    width: usize,
    user: usize,
    track: usize,
    timestamp: usize,
    ms_played: Option<usize>,
    track_length_ms: Option<usize>,
    skipped: Option<usize>,
}

/// Streams CSV records from `reader` into `builder`; `path` names the source in errors.
pub(crate) fn read_csv_from<R: Read>(
    reader: R,
    path: &Path,
    delimiter: u8,
    options: &ReadOptions,
    builder: &mut EventLogBuilder,
    report: &mut ReadReport,
) -> Result<(), DataError> {
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(BUFFER)
        .from_reader(reader);
    let mut record = ::csv::ByteRecord::new();
    if !csv
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        return Err(DataError::EmptyFile {
            path: path.to_owned(),
        });
    }
    let header: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name = String::from_utf8_lossy(name);
            let name = if i == 0 {
                name.trim_start_matches('\u{feff}')
            } else {
                &name
            };
            name.trim().to_owned()
        })
        .collect();
    let layout = layout(&header, path, options, report)?;

    while csv
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        report.records += 1;
        let line = record.position().map_or(0, |p| p.line());
        let location = Location::Line(line);
        if record.len() != layout.width {
            let err = DataError::FieldCount {
                path: path.to_owned(),
                location,
                expected: layout.width,
                found: record.len(),
            };
            report.skip_or_fail(options.skip_invalid, err)?;
            continue;
        }
        match parse_record(&record, &layout, &header, path, location, options) {
            Ok(parsed) => {
                let user = builder.user_id(parsed.user);
                let item = builder.item_id(parsed.track);
                builder.push(Event {
                    user,
                    item,
                    ..parsed.event
                })?;
            }
            Err(err) => report.skip_or_fail(options.skip_invalid, err)?,
        }
    }
    Ok(())
}

fn layout(
    header: &[String],
    path: &Path,
    options: &ReadOptions,
    report: &mut ReadReport,
) -> Result<Layout, DataError> {
    let find = |name: &str| header.iter().position(|h| h == name);
    let required = |name: &str| {
        find(name).ok_or_else(|| DataError::MissingColumn {
            path: path.to_owned(),
            column: name.to_owned(),
            available: header.join(", "),
        })
    };
    let columns = &options.columns;
    let mut optional = |name: &Option<String>| {
        let name = name.as_deref()?;
        let index = find(name);
        if index.is_none() {
            report.missing_optional(name);
        }
        index
    };
    Ok(Layout {
        width: header.len(),
        user: required(&columns.user)?,
        track: required(&columns.track)?,
        timestamp: required(&columns.timestamp)?,
        ms_played: optional(&columns.ms_played),
        track_length_ms: optional(&columns.track_length_ms),
        skipped: optional(&columns.skipped),
    })
}

/// One parsed record, ids not yet interned.
struct Parsed<'a> {
    user: &'a str,
    track: &'a str,
    event: Event,
}

fn parse_record<'a>(
    record: &'a ::csv::ByteRecord,
    layout: &Layout,
    header: &[String],
    path: &Path,
    location: Location,
    options: &ReadOptions,
) -> Result<Parsed<'a>, DataError> {
    let field = |index: usize| -> &'a [u8] { record.get(index).unwrap_or_default() };
    let fail = |index: usize, reason: &'static str| {
        DataError::invalid_field(
            path,
            location,
            &header[index],
            &String::from_utf8_lossy(field(index)),
            reason,
        )
    };
    let text =
        |index: usize| std::str::from_utf8(field(index)).map_err(|_| fail(index, fields::NOT_UTF8));
    let user = fields::id_bytes(field(layout.user)).map_err(|r| fail(layout.user, r))?;
    let track = fields::id_bytes(field(layout.track)).map_err(|r| fail(layout.track, r))?;
    let timestamp_ms = parse_timestamp(text(layout.timestamp)?.trim(), options.timestamp)
        .map_err(|r| fail(layout.timestamp, r))?;
    let duration = |index: Option<usize>| -> Result<Option<u32>, DataError> {
        match index {
            Some(i) => fields::duration_ms(text(i)?).map_err(|r| fail(i, r)),
            None => Ok(None),
        }
    };
    let ms_played = duration(layout.ms_played)?;
    let track_length_ms = duration(layout.track_length_ms)?;
    let skipped = match layout.skipped {
        Some(i) => fields::flag(text(i)?).map_err(|r| fail(i, r))?,
        None => None,
    };
    Ok(Parsed {
        user,
        track,
        event: Event {
            user: 0,
            item: 0,
            timestamp_ms,
            ms_played,
            track_length_ms,
            skipped,
            inferred: false,
        },
    })
}

/// Maps a CSV reader error to [`DataError`].
pub(crate) fn csv_error(path: &Path, err: ::csv::Error) -> DataError {
    let line = err.position().map_or(0, |p| p.line());
    match err.into_kind() {
        ::csv::ErrorKind::Io(source) => DataError::io(path, source),
        kind => DataError::Csv {
            path: path.to_owned(),
            location: Location::Line(line),
            message: format!("{kind:?}"),
        },
    }
}

/// Writes `log` as CSV (or TSV for a `.tsv` path) with the header [`CSV_HEADER`],
/// timestamps as RFC 3339 in UTC with milliseconds, unknown values as empty fields.
///
/// The events come out in the log's order (by user, then time). Whether a play time was
/// inferred is not written.
///
/// # Errors
///
/// [`DataError::Io`] naming the file.
pub fn write_events_csv(log: &EventLog, path: &Path) -> Result<(), DataError> {
    let file = File::create(path).map_err(|e| DataError::io(path, e))?;
    write_events_csv_to(
        log,
        BufWriter::with_capacity(BUFFER, file),
        default_delimiter(path),
    )
    .map_err(|e| DataError::io(path, e))
}

/// Writes `log` as delimited text to any writer. See [`write_events_csv`].
///
/// # Errors
///
/// The writer's I/O errors.
pub fn write_events_csv_to<W: Write>(log: &EventLog, writer: W, delimiter: u8) -> io::Result<()> {
    let mut out = ::csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(writer);
    out.write_record(CSV_HEADER)?;
    let users = log.users();
    let items = log.items();
    let mut number = Vec::with_capacity(16);
    for event in log.iter() {
        out.write_field(users.name(event.user).unwrap_or_default())?;
        out.write_field(items.name(event.item).unwrap_or_default())?;
        out.write_field(format_rfc3339(event.timestamp_ms))?;
        for value in [event.ms_played, event.track_length_ms] {
            number.clear();
            if let Some(v) = value {
                write!(number, "{v}")?;
            }
            out.write_field(&number)?;
        }
        out.write_field(match event.skipped {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        })?;
        out.write_record(None::<&[u8]>)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::read::{ColumnNames, EventFormat, read_events};
    use crate::events::timestamp::TimestampFormat;

    fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn read(path: &Path, options: &ReadOptions) -> Result<(EventLog, ReadReport), DataError> {
        read_events(path, EventFormat::Csv, options)
    }

    #[test]
    fn reads_all_columns_and_ignores_extra_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "e.csv",
            "\u{feff}extra,user_id,track_id,timestamp,ms_played,track_length_ms,skipped\r\n\
             x,u1,\"t,1\",2024-01-01T00:00:10Z,31000,200000,false\r\n\
             x,u1,t2,1704067205,5000,,true\r\n\
             x,u2,t2,1704067200000,,,\r\n",
        );
        let (log, report) = read(&path, &ReadOptions::default()).unwrap();
        assert_eq!(report.records, 3);
        assert_eq!(report.events, 3);
        assert!(report.missing_optional_columns.is_empty());
        assert_eq!(report.users_reordered, 1);
        let events: Vec<Event> = log.iter().collect();
        assert_eq!(log.items().names(), ["t,1", "t2"]);
        // u1's events sorted by time: t2 at 5 s comes first.
        assert_eq!(events[0].item, 2);
        assert_eq!(events[0].timestamp_ms, 1_704_067_205_000);
        assert_eq!(events[0].skipped, Some(true));
        assert_eq!(events[1].ms_played, Some(31_000));
        assert_eq!(events[1].track_length_ms, Some(200_000));
        assert_eq!(events[1].skipped, Some(false));
        assert_eq!(events[2].ms_played, None);
        assert_eq!(events[2].skipped, None);
    }

    #[test]
    fn tsv_with_custom_columns_and_missing_optional_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "e.tsv", "who\twhat\twhen\nann\tsong\t1700000000\n");
        let options = ReadOptions {
            columns: ColumnNames {
                user: "who".into(),
                track: "what".into(),
                timestamp: "when".into(),
                ..Default::default()
            },
            timestamp: TimestampFormat::UnixSeconds,
            ..Default::default()
        };
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log.get(0).unwrap().timestamp_ms, 1_700_000_000_000);
        assert_eq!(
            report.missing_optional_columns,
            ["ms_played", "track_length_ms", "skipped"]
        );
        assert!(report.to_string().contains("absent optional columns"));
    }

    #[test]
    fn empty_file_and_header_only_file() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(&dir, "empty.csv", "");
        let err = read(&empty, &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::EmptyFile { .. }), "{err:?}");
        assert!(err.to_string().contains("empty.csv"));
        let header = write(&dir, "header.csv", "user_id,track_id,timestamp,ms_played\n");
        let (log, report) = read(&header, &ReadOptions::default()).unwrap();
        assert!(log.is_empty());
        assert_eq!(report.records, 0);
    }

    #[test]
    fn missing_required_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "e.csv", "user_id,timestamp\nu,1\n");
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        let DataError::MissingColumn {
            column, available, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(column, "track_id");
        assert_eq!(available, "user_id, timestamp");
    }

    #[test]
    fn bad_values_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("u,t,noon,1", "timestamp", "line 3"),
            ("u,t,1,-5", "ms_played", "line 3"),
            ("u,t,1,1.5", "ms_played", "line 3"),
            (",t,1,1", "user_id", "line 3"),
            ("u, ,1,1", "track_id", "line 3"),
        ];
        for (row, field, place) in cases {
            let content = format!("user_id,track_id,timestamp,ms_played\nok,t,1,1\n{row}\n");
            let path = write(&dir, "bad.csv", &content);
            let err = read(&path, &ReadOptions::default()).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, DataError::InvalidField { .. }),
                "{row}: {err:?}"
            );
            assert!(
                msg.contains("bad.csv") && msg.contains(place) && msg.contains(field),
                "{msg}"
            );
        }
    }

    #[test]
    fn wrong_field_count_fails_or_is_skipped_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(
            &path,
            b"user_id,track_id,timestamp,ms_played\nu,t,1,1\nu,t\nu,t,x,1\nu,t,2,\xff\nu,t2,3,3\n",
        )
        .unwrap();
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::FieldCount {
                    expected: 4,
                    found: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("line 3"), "{err}");
        let options = ReadOptions {
            skip_invalid: true,
            ..Default::default()
        };
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(report.records, 5);
        assert_eq!(report.skipped_total(), 3);
        assert_eq!(report.skipped["wrong number of fields"], 1);
        assert_eq!(report.skipped["ms_played: not valid UTF-8"], 1);
        assert!(report.skipped.keys().any(|k| k.starts_with("timestamp:")));
        assert_eq!(report.skipped_examples.len(), 3);
    }

    #[test]
    fn unterminated_quote_is_tolerated_by_csv_but_counted() {
        // The csv crate reads an unterminated quote to the end of the file; the record then
        // has too few fields and is reported, never dropped silently.
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "e.csv",
            "user_id,track_id,timestamp\nu,\"t,1\nv,t,2\n",
        );
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        assert!(err.is_record_error(), "{err:?}");
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let source = write(
            &dir,
            "in.csv",
            "user_id,track_id,timestamp,ms_played,track_length_ms,skipped\n\
             a,\"x\"\"y\",2024-01-01T00:00:00.123Z,100,200,true\n\
             b,z,2024-01-02T00:00:00Z,,,\n",
        );
        let (log, _) = read(&source, &ReadOptions::default()).unwrap();
        for name in ["out.csv", "out.tsv"] {
            let out = dir.path().join(name);
            write_events_csv(&log, &out).unwrap();
            let (back, report) = read(&out, &ReadOptions::default()).unwrap();
            assert_eq!(back, log, "{name}");
            assert!(report.missing_optional_columns.is_empty());
        }
    }

    #[test]
    fn exact_duplicates_are_removed_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "e.csv",
            "user_id,track_id,timestamp\nu,t,1\nu,t,1\nu,t,2\n",
        );
        let (log, report) = read(&path, &ReadOptions::default()).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(report.duplicates_removed, 1);
        let keep = ReadOptions {
            dedup: false,
            ..Default::default()
        };
        assert_eq!(read(&path, &keep).unwrap().0.len(), 3);
    }

    #[test]
    fn missing_file_is_reported() {
        let err = read(Path::new("/nonexistent/e.csv"), &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::MissingFile { .. }));
    }
}
