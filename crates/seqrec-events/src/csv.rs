//! CSV and TSV event files with a header line.
//!
//! Columns are found by name ([`ColumnNames`], defaults
//! `user_id,track_id,timestamp,ms_played` plus the optional `track_length_ms` and
//! `skipped`); other columns are ignored. Timestamps are RFC 3339 or Unix seconds or
//! milliseconds ([`TimestampFormat`]). Records are streamed through one reused buffer.
//!
//! A file is gunzipped on the fly when its name ends in `.gz` (`events.csv.gz`,
//! `events.tsv.gz`) or when it starts with the gzip magic bytes; line numbers in errors
//! count lines of the decompressed text, and a damaged stream is [`DataError::Gzip`].
//!
//! [`ColumnNames`]: crate::ColumnNames
//! [`TimestampFormat`]: crate::TimestampFormat

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use crate::log::{Event, EventLog, EventLogBuilder};
use crate::read::{ColumnNames, ReadOptions};
use crate::report::ReadReport;
use crate::timestamp::{TimestampFormat, format_rfc3339, parse_timestamp};
use crate::{compress, fields};
use seqrec_data::{DataError, Location};

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

/// A tab for `.tsv` and `.tab` files (also gzipped: `.tsv.gz`), otherwise a comma.
pub fn default_delimiter(path: &Path) -> u8 {
    match compress::content_extension(path).as_deref() {
        Some("tsv" | "tab") => b'\t',
        _ => b',',
    }
}

/// How one delimited-text format lays out its header and values.
pub(crate) struct Dialect<'a> {
    /// Field delimiter.
    pub(crate) delimiter: u8,
    /// The columns to find.
    pub(crate) columns: &'a ColumnNames,
    /// How timestamps are written.
    pub(crate) timestamp: TimestampFormat,
    /// Header fields are `name:type` (RecBole) and are matched by `name`.
    pub(crate) typed_header: bool,
}

/// Reads a CSV/TSV event file. See [`crate::read_events`].
pub(crate) fn read_csv(
    path: &Path,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let dialect = Dialect {
        delimiter: options.delimiter.unwrap_or_else(|| default_delimiter(path)),
        columns: &options.columns,
        timestamp: options.timestamp,
        typed_header: false,
    };
    read_delimited(path, &dialect, options)
}

/// Reads a delimited-text event file, plain or gzipped, in the given dialect.
pub(crate) fn read_delimited(
    path: &Path,
    dialect: &Dialect<'_>,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let reader = compress::open_text(path)?;
    let mut builder = EventLogBuilder::default();
    let mut report = ReadReport {
        files: 1,
        ..Default::default()
    };
    read_csv_from(reader, path, dialect, options, &mut builder, &mut report)
        .map_err(compress::gzip_error)?;
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
fn read_csv_from<R: Read>(
    reader: R,
    path: &Path,
    dialect: &Dialect<'_>,
    options: &ReadOptions,
    builder: &mut EventLogBuilder,
    report: &mut ReadReport,
) -> Result<(), DataError> {
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
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
            let name = match name.rsplit_once(':') {
                Some((name, _type)) if dialect.typed_header => name,
                _ => name,
            };
            name.trim().to_owned()
        })
        .collect();
    let layout = layout(&header, path, dialect.columns, report)?;

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
        match parse_record(&record, &layout, &header, path, location, dialect.timestamp) {
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
    columns: &ColumnNames,
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
    let mut optional = |name: &Option<String>| -> Result<Option<usize>, DataError> {
        let Some(name) = name.as_deref() else {
            return Ok(None);
        };
        if columns.is_required(name) {
            return required(name).map(Some);
        }
        let index = find(name);
        if index.is_none() {
            report.missing_optional(name);
        }
        Ok(index)
    };
    Ok(Layout {
        width: header.len(),
        user: required(&columns.user)?,
        track: required(&columns.track)?,
        timestamp: required(&columns.timestamp)?,
        ms_played: optional(&columns.ms_played)?,
        track_length_ms: optional(&columns.track_length_ms)?,
        skipped: optional(&columns.skipped)?,
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
    timestamp: TimestampFormat,
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
    let timestamp_ms = parse_timestamp(text(layout.timestamp)?.trim(), timestamp)
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
    use crate::read::{ColumnNames, EventFormat, read_events};
    use crate::timestamp::TimestampFormat;

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

    /// `content` with the header renamed: `user_id`→`listener`, `track_id`→`song`,
    /// `timestamp`→`played_at`, `ms_played`→`duration`.
    fn renamed(content: &str) -> String {
        let (header, rest) = content.split_once('\n').unwrap();
        let header = header
            .replace("user_id", "listener")
            .replace("track_id", "song")
            .replace("timestamp", "played_at")
            .replace("ms_played", "duration");
        format!("{header}\n{rest}")
    }

    fn mapped() -> ReadOptions {
        ReadOptions {
            columns: ColumnNames {
                user: "listener".into(),
                track: "song".into(),
                timestamp: "played_at".into(),
                ms_played: Some("duration".into()),
                must_exist: vec!["duration".into()],
                ..Default::default()
            },
            ..Default::default()
        }
    }

    const EVENTS: &str = "user_id;track_id;timestamp;ms_played\n\
                          u1;t1;2024-01-01T00:00:10Z;31000\n\
                          u1;t2;1704067205;5000\n\
                          u2;t2;1704067200000;\n";

    #[test]
    fn mapped_columns_load_the_same_events_as_the_default_names() {
        let dir = tempfile::tempdir().unwrap();
        let semicolons = ReadOptions {
            delimiter: Some(b';'),
            ..Default::default()
        };
        let plain = write(&dir, "plain.csv", EVENTS);
        let (expected, _) = read(&plain, &semicolons).unwrap();
        assert_eq!(expected.len(), 3);
        let path = write(&dir, "mapped.csv", &renamed(EVENTS));
        let options = ReadOptions {
            delimiter: Some(b';'),
            ..mapped()
        };
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(log, expected);
        assert_eq!(
            report.missing_optional_columns,
            ["track_length_ms", "skipped"]
        );
        // The default names on the renamed file: refused, naming what the file has.
        let err = read(&path, &semicolons).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "missing column \"user_id\" in {} (columns: listener, song, played_at, duration)",
                path.display()
            )
        );
    }

    #[test]
    fn a_named_optional_column_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "e.csv", "listener,song,played_at\nu,t,1\n");
        let err = read(&path, &mapped()).unwrap_err();
        let DataError::MissingColumn {
            path: at,
            column,
            available,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(at, &path);
        assert_eq!(column, "duration");
        assert_eq!(available, "listener, song, played_at");
        // Not named: absent and reported, not refused.
        let mut options = mapped();
        options.columns.must_exist.clear();
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(log.len(), 1);
        assert!(
            report
                .missing_optional_columns
                .contains(&"duration".to_owned())
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_loads_the_same_events_as_the_plain_file() {
        let dir = tempfile::tempdir().unwrap();
        let csv = EVENTS.replace(';', ",");
        let tsv = EVENTS.replace(';', "\t");
        for (name, content) in [("e.csv", &csv), ("e.tsv", &tsv)] {
            let plain = write(&dir, name, content);
            let (expected, expected_report) = read(&plain, &ReadOptions::default()).unwrap();
            assert_eq!(expected.len(), 3, "{name}");
            // By name (`.csv.gz`: delimiter from the inner extension), and by magic bytes.
            for packed in [format!("{name}.gz"), format!("packed-{name}")] {
                let path = dir.path().join(&packed);
                std::fs::write(&path, gzip(content.as_bytes())).unwrap();
                assert_eq!(EventFormat::detect(&path).unwrap(), EventFormat::Csv);
                let (log, report) = read(&path, &ReadOptions::default()).unwrap();
                assert_eq!(log, expected, "{packed}");
                assert_eq!(report, expected_report, "{packed}");
            }
        }
        // Skip-invalid reports still name the file and the (decompressed) line.
        let bad = format!("{csv}u3,t1,noon,1\n");
        let path = dir.path().join("bad.csv.gz");
        std::fs::write(&path, gzip(bad.as_bytes())).unwrap();
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("bad.csv.gz line 5"), "{err}");
        let skipping = ReadOptions {
            skip_invalid: true,
            ..Default::default()
        };
        let (log, report) = read(&path, &skipping).unwrap();
        assert_eq!(log.len(), 3);
        assert!(
            report.skipped_examples[0].contains("bad.csv.gz line 5"),
            "{:?}",
            report.skipped_examples
        );
    }

    #[test]
    fn damaged_gzip_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let packed = gzip(EVENTS.replace(';', ",").as_bytes());
        let mut flipped = packed.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0xff;
        let cases: [(&str, &[u8]); 4] = [
            ("truncated.csv.gz", &packed[..packed.len() - 6]),
            ("flipped.csv.gz", &flipped),
            ("header-only.csv.gz", &packed[..4]),
            ("not-gzip.csv.gz", b"user_id,track_id,timestamp\nu,t,1\n"),
        ];
        for (name, bytes) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            match read(&path, &ReadOptions::default()) {
                Err(err @ DataError::Gzip { .. }) => {
                    assert!(err.to_string().contains(name), "{err}");
                }
                // A flipped byte may still decompress (or fail the CRC at the end).
                Err(err) if name == "flipped.csv.gz" => {
                    assert!(err.to_string().contains(name), "{err}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn missing_file_is_reported() {
        let err = read(Path::new("/nonexistent/e.csv"), &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::MissingFile { .. }));
    }
}
