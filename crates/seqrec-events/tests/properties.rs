//! Property tests of every reader, writer and split of `seqrec-events` and of the gSASRec
//! layout readers of `seqrec-data` (proptest).
//!
//! For each reader (CSV, TSV, gzipped CSV/TSV, RecBole `.inter`, Parquet, Yambda, Spotify
//! JSON, Last.fm TSV, the gSASRec layout and the sequence files):
//!
//! - **arbitrary bytes** never panic: the result is a log or a typed [`DataError`] naming the
//!   file;
//! - **mutations of a valid file** (a byte flipped, the file truncated, bytes inserted, a line
//!   duplicated or dropped, a field emptied or replaced) never panic; an error names the file
//!   and, where it concerns one record, the line (record, or row group and row) and field,
//!   within the file's bounds; with `skip_invalid` every record is either loaded or counted
//!   (`events + duplicates_removed + skipped + ignored == records`); a damaged field of a
//!   known record is reported at exactly that record and field;
//! - **round trips**: writing a generated log (or dataset), reading it back and writing again
//!   gives the same events and the same bytes; readers without a writer (Spotify, Last.fm)
//!   are checked against a model of what they must load.
//!
//! For the time-window and leave-one-out splits: every event in range lands in exactly one of
//! the history and the held-out window, none in both, and the counts add up to the log; for
//! the vocabularies: ids are a bijection with the names.
//!
//! Case counts are kept modest (see `CASES`) so that the file runs in seconds in the dev
//! profile; the fuzz targets in `fuzz/` run the same readers for longer
//! (`docs/reliability.md`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use proptest::prelude::*;
use proptest::sample::Index;
use seqrec_data::{
    DataError, HistoryTargets, ItemVocabulary, Location, SequenceDataset, Vocabulary,
    read_sequences, read_sequences_skipping_empty, read_targets, write_sequences, write_targets,
};
use seqrec_events::{
    DAY_MS, Event, EventFormat, EventLog, EventLogBuilder, LeaveOneOutOptions, ReadOptions,
    ReadReport, WindowOptions, format_rfc3339, read_events, split_by_time, split_leave_one_out,
    write_events_csv, write_events_parquet,
};

/// Generated inputs per property (text readers).
const CASES: u32 = 128;
/// Generated inputs per property that writes or reads Parquet files.
const PARQUET_CASES: u32 = 48;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Shrinking writes files too: bound it so that a failure reports quickly.
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

fn strict() -> ReadOptions {
    ReadOptions::default()
}

fn skipping() -> ReadOptions {
    ReadOptions {
        skip_invalid: true,
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers: generated logs, mutations, and the checks every reader must pass.
// ---------------------------------------------------------------------------------------

/// One generated event: user and track (indices into the name pools), time, play time,
/// track length and skipped flag.
type RawEvent = (usize, usize, i64, Option<u32>, Option<u32>, Option<bool>);

/// Ids as a listener or a catalogue writes them: no surrounding whitespace (readers trim),
/// but commas, quotes, semicolons, inner spaces, non-ASCII and, with `newlines`, line breaks
/// and tabs, which the CSV writer must quote.
fn name(newlines: bool) -> BoxedStrategy<String> {
    let inner = if newlines {
        "[a-zA-Z0-9:_ ,;\"'.é\n\t\r-]{0,6}"
    } else {
        "[a-zA-Z0-9:_ ;'.é-]{0,6}"
    };
    ("[a-zA-Z0-9é]", inner, "[a-zA-Z0-9é]?")
        .prop_map(|(first, middle, last)| format!("{first}{middle}{last}").trim_end().to_owned())
        .boxed()
}

/// Timestamps: mostly 1970–2100, sometimes anywhere in RFC 3339's years (1 to 9999),
/// around the epoch, any millisecond an `i64` holds (as Unix milliseconds may say), or one
/// of three, so that plays tie.
fn timestamp() -> BoxedStrategy<i64> {
    prop_oneof![
        6 => 0_i64..4_102_444_800_000,
        1 => -62_135_596_800_000_i64..253_402_300_799_999,
        1 => -1_000_000_i64..1_000_000,
        1 => any::<i64>(),
        // Plays at the same millisecond, whose order only the other fields decide.
        2 => 0_i64..3,
    ]
    .boxed()
}

fn duration() -> BoxedStrategy<Option<u32>> {
    prop_oneof![
        2 => Just(None),
        4 => (0_u32..1_000_000).prop_map(Some),
        1 => Just(Some(seqrec_events::MAX_MS)),
    ]
    .boxed()
}

fn raw_events(max: usize) -> impl Strategy<Value = Vec<RawEvent>> {
    prop::collection::vec(
        (
            0_usize..5,
            0_usize..8,
            timestamp(),
            duration(),
            duration(),
            prop::option::of(any::<bool>()),
        ),
        0..max,
    )
}

/// A log from name pools and raw events, built (and de-duplicated) by the builder.
fn build_log(users: &[String], items: &[String], raw: &[RawEvent]) -> EventLog {
    let mut b = EventLogBuilder::default();
    for &(u, i, t, ms, len, skipped) in raw {
        let user = b.user_id(&users[u % users.len()]);
        let item = b.item_id(&items[i % items.len()]);
        let mut e = Event::new(user, item, t);
        e.ms_played = ms;
        e.track_length_ms = len;
        e.skipped = skipped;
        b.push(e).unwrap();
    }
    b.finish(true).0
}

/// A generated log whose ids may hold line breaks, tabs, commas and quotes.
fn any_log(max: usize) -> impl Strategy<Value = EventLog> {
    (
        prop::collection::vec(name(true), 1..5),
        prop::collection::vec(name(true), 1..8),
        raw_events(max),
    )
        .prop_map(|(users, items, raw)| build_log(&users, &items, &raw))
}

/// A generated log whose ids hold no delimiter, quote or line break, so that its CSV/TSV
/// file has one record per line and fields split on the delimiter.
fn plain_log(max: usize) -> impl Strategy<Value = EventLog> {
    (
        prop::collection::vec(name(false), 1..5),
        prop::collection::vec(name(false), 1..8),
        raw_events(max),
    )
        .prop_map(|(users, items, raw)| build_log(&users, &items, &raw))
}

/// The events with string ids, in the log's order (dense ids depend on first appearance).
type Named = (
    String,
    String,
    i64,
    Option<u32>,
    Option<u32>,
    Option<bool>,
    bool,
);

fn named(log: &EventLog) -> Vec<Named> {
    log.iter()
        .map(|e| {
            (
                log.users().name(e.user).unwrap().to_owned(),
                log.items().name(e.item).unwrap().to_owned(),
                e.timestamp_ms,
                e.ms_played,
                e.track_length_ms,
                e.skipped,
                e.inferred,
            )
        })
        .collect()
}

/// A damage done to a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte with a non-zero mask.
    Flip(Index, u8),
    /// Keep only a prefix.
    Truncate(Index),
    /// Insert bytes somewhere.
    Insert(Index, Vec<u8>),
    /// Write a line twice.
    DuplicateLine(Index),
    /// Remove a line.
    DropLine(Index),
    /// Empty one field of a line (fields split on the delimiter).
    EmptyField(Index, Index),
    /// Replace one field of a line by other text.
    ReplaceField(Index, Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1_u8..=255).prop_map(|(i, m)| Mutation::Flip(i, m)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        any::<Index>().prop_map(Mutation::DropLine),
        (any::<Index>(), any::<Index>()).prop_map(|(l, f)| Mutation::EmptyField(l, f)),
        (any::<Index>(), any::<Index>(), garbage())
            .prop_map(|(l, f, g)| Mutation::ReplaceField(l, f, g)),
    ]
}

/// Replacement field text: numbers out of range, words, signs, control characters.
fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-1".to_owned()),
        Just("1.5".to_owned()),
        Just("NaN".to_owned()),
        Just("4294967295".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("+262143-12-31T23:59:59Z".to_owned()),
        Just("2024-02-30T00:00:00Z".to_owned()),
        Just("maybe".to_owned()),
        Just("\"".to_owned()),
        Just(" ".to_owned()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ]
}

/// Lines with their terminators.
fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(bytes: &[u8], mutation: &Mutation, delimiter: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut rows = lines(bytes);
    let edit_field = |rows: &mut Vec<Vec<u8>>, line: &Index, field: &Index, text: &[u8]| {
        if rows.is_empty() {
            return;
        }
        let at = line.index(rows.len());
        let row = &mut rows[at];
        let end = row
            .iter()
            .rposition(|&b| b != b'\n' && b != b'\r')
            .map_or(0, |p| p + 1);
        let terminator = row[end..].to_vec();
        let mut fields: Vec<Vec<u8>> = row[..end]
            .split(|&b| b == delimiter)
            .map(<[u8]>::to_vec)
            .collect();
        let f = field.index(fields.len());
        fields[f] = text.to_vec();
        *row = fields.join(&delimiter);
        row.extend_from_slice(&terminator);
    };
    match mutation {
        Mutation::Flip(at, mask) => {
            if !out.is_empty() {
                let i = at.index(out.len());
                out[i] ^= mask;
            }
            return out;
        }
        Mutation::Truncate(at) => {
            out.truncate(at.index(out.len() + 1));
            return out;
        }
        Mutation::Insert(at, extra) => {
            let i = at.index(out.len() + 1);
            out.splice(i..i, extra.iter().copied());
            return out;
        }
        Mutation::DuplicateLine(line) if !rows.is_empty() => {
            let i = line.index(rows.len());
            let mut copy = rows[i].clone();
            if copy.last() != Some(&b'\n') {
                copy.push(b'\n');
            }
            rows.insert(i, copy);
        }
        Mutation::DropLine(line) if !rows.is_empty() => {
            rows.remove(line.index(rows.len()));
        }
        Mutation::EmptyField(line, field) => edit_field(&mut rows, line, field, b""),
        Mutation::ReplaceField(line, field, text) => {
            edit_field(&mut rows, line, field, text.as_bytes())
        }
        _ => {}
    }
    rows.concat()
}

/// Number of lines of a text file (a last line without terminator counts).
fn line_count(bytes: &[u8]) -> u64 {
    lines(bytes).len() as u64
}

/// The file name as errors show it.
fn shows(path: &Path) -> String {
    path.display().to_string()
}

/// What every error of a reader of one file must satisfy: it names the file, and a record
/// error names a location inside the file and the field.
fn check_error(err: &DataError, path: &Path, total_lines: u64) {
    let msg = err.to_string();
    assert!(
        msg.contains(&shows(path)),
        "error does not name the file: {msg}"
    );
    let check_line = |line: u64| {
        assert!(
            (1..=total_lines.max(1)).contains(&line),
            "line {line} outside 1..={total_lines}: {msg}"
        );
    };
    match err {
        DataError::InvalidField {
            location, field, ..
        } => {
            assert!(msg.contains(&location.to_string()), "{msg}");
            assert!(msg.contains(&format!("invalid {field} ")), "{msg}");
            match *location {
                Location::Line(line) => check_line(line),
                Location::Record { index, line } => {
                    assert!(index >= 1, "{msg}");
                    check_line(line);
                }
                Location::Row { row, .. } => assert!(row >= 1, "{msg}"),
            }
        }
        DataError::FieldCount { location, .. } => {
            assert!(msg.contains(&location.to_string()), "{msg}");
            if let Location::Line(line) = *location {
                check_line(line);
            }
        }
        // The csv crate reports where it stopped; 0 only when it has no position.
        DataError::Csv {
            location: Location::Line(line),
            ..
        } => assert!(*line <= total_lines + 1, "{msg}"),
        // serde_json counts a final line break as the start of one more line.
        DataError::Json { line, .. } => assert!(*line as u64 <= total_lines + 1, "{msg}"),
        DataError::InvalidUtf8 { line, .. }
        | DataError::InvalidItem { line, .. }
        | DataError::ItemOutOfRange { line, .. }
        | DataError::EmptyLine { line, .. }
        | DataError::TargetCount { line, .. } => {
            check_line(*line as u64);
            assert!(msg.contains(&format!("line {line}")), "{msg}");
        }
        _ => {}
    }
}

/// Every record of a successful read is loaded, removed as an exact duplicate, skipped or
/// ignored, and nothing else.
fn check_accounted(report: &ReadReport) {
    assert_eq!(
        report.events as u64
            + report.duplicates_removed
            + report.skipped_total()
            + report.ignored_total(),
        report.records,
        "records not accounted for: {report:?}"
    );
}

/// Reads `path` strictly and with `skip_invalid` and checks what every reader promises.
fn read_both(path: &Path, format: EventFormat, total_lines: u64) {
    let strict_result = read_events(path, format, &strict());
    let skip_result = read_events(path, format, &skipping());
    match &strict_result {
        Ok((log, report)) => {
            assert_eq!(report.skipped_total(), 0);
            assert_eq!(report.events, log.len());
            check_accounted(report);
            // Nothing to skip: the same log either way.
            let (skip_log, skip_report) = skip_result.as_ref().expect("strict read succeeded");
            assert_eq!(skip_log, log);
            assert_eq!(skip_report.skipped_total(), 0);
        }
        Err(err) => check_error(err, path, total_lines),
    }
    match &skip_result {
        Ok((log, report)) => {
            assert_eq!(report.events, log.len());
            check_accounted(report);
            assert!(report.skipped_examples.len() as u64 <= report.skipped_total());
            for example in &report.skipped_examples {
                assert!(example.contains(&shows(path)), "{example}");
            }
            if let Err(err) = &strict_result {
                assert!(err.is_record_error(), "skip read succeeded after {err:?}");
                assert!(report.skipped_total() >= 1);
            }
        }
        Err(err) => {
            assert!(!err.is_record_error(), "record error not skipped: {err}");
            check_error(err, path, total_lines);
        }
    }
}

// ---------------------------------------------------------------------------------------
// CSV and TSV.
// ---------------------------------------------------------------------------------------

fn csv_bytes(log: &EventLog, delimiter: u8) -> Vec<u8> {
    let mut out = Vec::new();
    seqrec_events::write_events_csv_to(log, &mut out, delimiter).unwrap();
    out
}

/// The user, track and timestamp columns of the writer's header.
const REQUIRED: [(usize, &str); 3] = [(0, "user_id"), (1, "track_id"), (2, "timestamp")];

proptest! {
    #![proptest_config(config(CASES))]

    /// Arbitrary bytes, alone or after a valid header, are a log or a typed error.
    #[test]
    fn csv_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        header in any::<bool>(),
        tsv in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if tsv { "e.tsv" } else { "e.csv" });
        let mut content = Vec::new();
        if header {
            let sep = if tsv { "\t" } else { "," };
            content.extend_from_slice(
                ["user_id", "track_id", "timestamp", "ms_played", "track_length_ms", "skipped"]
                    .join(sep)
                    .as_bytes(),
            );
            content.push(b'\n');
        }
        content.extend_from_slice(&bytes);
        fs::write(&path, &content).unwrap();
        read_both(&path, EventFormat::Csv, line_count(&content));
    }

    /// Mutated valid files: no panic, errors name file, line and field, every record is
    /// loaded or counted.
    #[test]
    fn csv_mutations_are_reported_or_counted(
        log in any_log(24),
        mutation in mutation(),
        tsv in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (name, delimiter) = if tsv { ("e.tsv", b'\t') } else { ("e.csv", b',') };
        let path = dir.path().join(name);
        let content = apply(&csv_bytes(&log, delimiter), &mutation, delimiter);
        fs::write(&path, &content).unwrap();
        read_both(&path, EventFormat::Csv, line_count(&content));
    }

    /// A required field emptied, or an optional one replaced by text that is no value, is
    /// reported at exactly its line and field; skipping counts it and loads the rest.
    #[test]
    fn csv_damaged_field_is_reported_at_its_line_and_field(
        log in plain_log(16).prop_filter("needs a row", |l| !l.is_empty()),
        row in any::<Index>(),
        required in any::<Index>(),
        optional in 0_usize..3,
        empty in any::<bool>(),
        tsv in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (name, delimiter) = if tsv { ("e.tsv", b'\t') } else { ("e.csv", b',') };
        let path = dir.path().join(name);
        let mut rows = lines(&csv_bytes(&log, delimiter));
        let r = 1 + row.index(log.len());
        let (field, column, text): (usize, &str, &[u8]) = if empty {
            let (f, c) = REQUIRED[required.index(3)];
            (f, c, b"")
        } else {
            [(3, "ms_played", &b"-1"[..]), (4, "track_length_ms", b"1.5"), (5, "skipped", b"maybe")]
                [optional]
        };
        let line = &rows[r];
        let end = line.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |p| p + 1);
        let mut fields: Vec<Vec<u8>> =
            line[..end].split(|&b| b == delimiter).map(<[u8]>::to_vec).collect();
        prop_assert_eq!(fields.len(), 6);
        fields[field] = text.to_vec();
        let mut edited = fields.join(&delimiter);
        edited.push(b'\n');
        rows[r] = edited;
        fs::write(&path, rows.concat()).unwrap();

        let err = read_events(&path, EventFormat::Csv, &strict()).unwrap_err();
        let place = format!("{} line {}", shows(&path), r + 1);
        let msg = err.to_string();
        match &err {
            DataError::InvalidField { field, location, .. } => {
                prop_assert_eq!(field.as_str(), column);
                prop_assert_eq!(*location, Location::Line(r as u64 + 1));
            }
            other => prop_assert!(false, "{other:?}"),
        }
        prop_assert!(msg.contains(&place) && msg.contains(column), "{}", msg);

        let (back, report) = read_events(&path, EventFormat::Csv, &skipping()).unwrap();
        prop_assert_eq!(report.records, log.len() as u64);
        prop_assert_eq!(report.skipped_total(), 1);
        prop_assert_eq!(back.len(), log.len() - 1);
        prop_assert!(report.skipped_examples[0].contains(&place), "{:?}", report.skipped_examples);
        check_accounted(&report);
    }

    /// A line duplicated or dropped changes the records by one and nothing else.
    #[test]
    fn csv_duplicated_and_dropped_lines_are_counted(
        log in plain_log(16).prop_filter("needs a row", |l| !l.is_empty()),
        row in any::<Index>(),
        duplicate in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        let mut rows = lines(&csv_bytes(&log, b','));
        let r = 1 + row.index(log.len());
        if duplicate {
            rows.insert(r, rows[r].clone());
        } else {
            rows.remove(r);
        }
        fs::write(&path, rows.concat()).unwrap();
        let (back, report) = read_events(&path, EventFormat::Csv, &strict()).unwrap();
        check_accounted(&report);
        if duplicate {
            prop_assert_eq!(report.records, log.len() as u64 + 1);
            prop_assert_eq!(report.duplicates_removed, 1);
            prop_assert_eq!(named(&back), named(&log));
        } else {
            prop_assert_eq!(report.records, log.len() as u64 - 1);
            prop_assert_eq!(back.len(), log.len() - 1);
        }
    }

    /// Write, read, write: the same events (by name, in the same order) and the same bytes,
    /// for CSV and TSV, whatever the ids hold.
    #[test]
    fn csv_write_read_write_is_the_identity(log in any_log(40), tsv in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if tsv { "a.tsv" } else { "a.csv" });
        let again = dir.path().join(if tsv { "b.tsv" } else { "b.csv" });
        write_events_csv(&log, &path).unwrap();
        let (back, report) = read_events(&path, EventFormat::Csv, &strict()).unwrap();
        prop_assert_eq!(named(&back), named(&log));
        prop_assert_eq!(report.records, log.len() as u64);
        prop_assert!(report.missing_optional_columns.is_empty());
        write_events_csv(&back, &again).unwrap();
        prop_assert_eq!(fs::read(&path).unwrap(), fs::read(&again).unwrap());
        // And once more from the re-read log: loading is stable.
        let (third, _) = read_events(&again, EventFormat::Csv, &strict()).unwrap();
        prop_assert_eq!(third, back);
    }
}

// ---------------------------------------------------------------------------------------
// gzip-compressed CSV/TSV, and RecBole `.inter` files (read by the same delimited reader).
// ---------------------------------------------------------------------------------------

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Line numbers are of the decompressed text, whose length damaged input leaves unknown.
const ANY_LINE: u64 = u32::MAX as u64;

proptest! {
    #![proptest_config(config(CASES))]

    /// Arbitrary bytes named `.csv.gz`, or after the gzip magic bytes, are a log or a typed
    /// error naming the file.
    #[test]
    fn gzip_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        by_name in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (name, content) = if by_name {
            ("e.csv.gz", bytes)
        } else {
            ("e.csv", [&[0x1f, 0x8b][..], &bytes].concat())
        };
        let path = dir.path().join(name);
        fs::write(&path, &content).unwrap();
        read_both(&path, EventFormat::Csv, ANY_LINE);
    }

    /// A gzipped file reads as its plain version; the compressed bytes mutated never panic.
    #[test]
    fn gzip_reads_as_plain_and_mutations_never_panic(
        log in any_log(24),
        mutation in mutation(),
        tsv in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (name, delimiter) = if tsv { ("e.tsv", b'\t') } else { ("e.csv", b',') };
        let text = csv_bytes(&log, delimiter);
        let plain = dir.path().join(name);
        fs::write(&plain, &text).unwrap();
        let packed = dir.path().join(format!("{name}.gz"));
        let compressed = gzip(&text);
        fs::write(&packed, &compressed).unwrap();
        let (expected, expected_report) = read_events(&plain, EventFormat::Csv, &strict()).unwrap();
        let (back, report) = read_events(&packed, EventFormat::Csv, &strict()).unwrap();
        prop_assert_eq!(back, expected);
        prop_assert_eq!(report, expected_report);
        fs::write(&packed, apply(&compressed, &mutation, delimiter)).unwrap();
        read_both(&packed, EventFormat::Csv, ANY_LINE);
    }

    /// Arbitrary bytes, alone or after a RecBole header, plain or gzipped, are a log or a
    /// typed error.
    #[test]
    fn recbole_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        header in any::<bool>(),
        gzipped in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut content = Vec::new();
        if header {
            content.extend_from_slice(
                b"user_id:token\titem_id:token\trating:float\ttimestamp:float\n",
            );
        }
        content.extend_from_slice(&bytes);
        let lines = line_count(&content);
        let (name, content) = if gzipped {
            ("e.inter.gz", gzip(&content))
        } else {
            ("e.inter", content)
        };
        let path = dir.path().join(name);
        fs::write(&path, &content).unwrap();
        prop_assert_eq!(EventFormat::detect(&path).unwrap(), EventFormat::RecBole);
        read_both(&path, EventFormat::RecBole, lines);
    }
}

// ---------------------------------------------------------------------------------------
// Parquet (and Yambda, which shares its row reader).
// ---------------------------------------------------------------------------------------

fn parquet_bytes(log: &EventLog, dir: &Path) -> Vec<u8> {
    let path = dir.join("valid.parquet");
    write_events_parquet(log, &path).unwrap();
    fs::read(&path).unwrap()
}

/// Writes `columns` as one batch in row groups of `group_rows` rows.
fn write_batch(path: &Path, columns: Vec<(&str, ArrayRef)>, group_rows: usize) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut writer =
        ArrowWriter::try_new(fs::File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// A row of a Parquet file with values of the right types, some of them invalid.
#[derive(Debug, Clone)]
enum ParquetRow {
    Valid(u8, u8, i64, Option<i64>),
    NullTrack,
    EmptyUser,
    NegativePlay,
    HugePlay,
}

fn parquet_row() -> impl Strategy<Value = ParquetRow> {
    prop_oneof![
        6 => (0_u8..4, 0_u8..6, 1_000_000_000_000_i64..2_000_000_000_000, prop::option::of(0_i64..1_000_000))
            .prop_map(|(u, t, ts, ms)| ParquetRow::Valid(u, t, ts, ms)),
        1 => Just(ParquetRow::NullTrack),
        1 => Just(ParquetRow::EmptyUser),
        1 => Just(ParquetRow::NegativePlay),
        1 => Just(ParquetRow::HugePlay),
    ]
}

impl ParquetRow {
    /// The field the reader must name, for an invalid row.
    fn bad_field(&self) -> Option<&'static str> {
        match self {
            ParquetRow::Valid(..) => None,
            ParquetRow::NullTrack => Some("track_id"),
            ParquetRow::EmptyUser => Some("user_id"),
            ParquetRow::NegativePlay | ParquetRow::HugePlay => Some("ms_played"),
        }
    }
}

proptest! {
    #![proptest_config(config(PARQUET_CASES))]

    /// Arbitrary bytes, also between the Parquet magic numbers, are a log or a typed error
    /// naming the file, for the Parquet and the Yambda readers.
    #[test]
    fn parquet_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        magic in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        let mut content = Vec::new();
        if magic {
            content.extend_from_slice(b"PAR1");
        }
        content.extend_from_slice(&bytes);
        if magic {
            content.extend_from_slice(b"PAR1");
        }
        fs::write(&path, &content).unwrap();
        read_both(&path, EventFormat::Parquet, 1);
        read_both(&path, EventFormat::Yambda, 1);
    }

    /// Valid files with bytes flipped, inserted or cut off: no panic, the file named, every
    /// row loaded or counted.
    #[test]
    fn parquet_mutations_are_reported_or_counted(
        log in plain_log(24),
        mutation in prop_oneof![
            (any::<Index>(), 1_u8..=255).prop_map(|(i, m)| Mutation::Flip(i, m)),
            any::<Index>().prop_map(Mutation::Truncate),
            (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
                .prop_map(|(i, b)| Mutation::Insert(i, b)),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        let content = apply(&parquet_bytes(&log, dir.path()), &mutation, b',');
        fs::write(&path, &content).unwrap();
        read_both(&path, EventFormat::Parquet, 1);
        read_both(&path, EventFormat::Yambda, 1);
    }

    /// Invalid values are reported at their row group, row and column; skipping loads every
    /// valid row and counts every invalid one.
    #[test]
    fn parquet_bad_rows_are_reported_at_their_row_group_and_row(
        rows in prop::collection::vec(parquet_row(), 1..40),
        group_rows in 1_usize..8,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        let users: Vec<Option<String>> = rows.iter().map(|r| match r {
            ParquetRow::Valid(u, ..) => Some(format!("user{u}")),
            ParquetRow::EmptyUser => Some("  ".to_owned()),
            _ => Some("user0".to_owned()),
        }).collect();
        let tracks: Vec<Option<String>> = rows.iter().map(|r| match r {
            ParquetRow::Valid(_, t, ..) => Some(format!("track{t}")),
            ParquetRow::NullTrack => None,
            _ => Some("track0".to_owned()),
        }).collect();
        let times: Vec<i64> = rows.iter().map(|r| match r {
            ParquetRow::Valid(_, _, ts, _) => *ts,
            _ => 1_500_000_000_000,
        }).collect();
        let played: Vec<Option<i64>> = rows.iter().map(|r| match r {
            ParquetRow::Valid(.., ms) => *ms,
            ParquetRow::NegativePlay => Some(-5),
            ParquetRow::HugePlay => Some(i64::from(u32::MAX)),
            _ => None,
        }).collect();
        write_batch(
            &path,
            vec![
                ("user_id", Arc::new(StringArray::from(users)) as ArrayRef),
                ("track_id", Arc::new(StringArray::from(tracks)) as ArrayRef),
                ("timestamp", Arc::new(Int64Array::from(times)) as ArrayRef),
                ("ms_played", Arc::new(Int64Array::from(played)) as ArrayRef),
            ],
            group_rows,
        );
        let invalid = rows.iter().filter(|r| r.bad_field().is_some()).count();
        match rows.iter().position(|r| r.bad_field().is_some()) {
            Some(first) => {
                let err = read_events(&path, EventFormat::Parquet, &strict()).unwrap_err();
                let expected = Location::Row {
                    row_group: first / group_rows,
                    row: (first % group_rows) as u64 + 1,
                };
                match &err {
                    DataError::InvalidField { field, location, .. } => {
                        prop_assert_eq!(Some(field.as_str()), rows[first].bad_field());
                        prop_assert_eq!(*location, expected);
                    }
                    other => prop_assert!(false, "{other:?}"),
                }
                let msg = err.to_string();
                prop_assert!(msg.contains(&format!("{} {expected}", shows(&path))), "{}", msg);
            }
            None => {
                read_events(&path, EventFormat::Parquet, &strict()).unwrap();
            }
        }
        let (log, report) = read_events(&path, EventFormat::Parquet, &skipping()).unwrap();
        prop_assert_eq!(report.records, rows.len() as u64);
        prop_assert_eq!(report.skipped_total(), invalid as u64);
        prop_assert_eq!(log.len() as u64 + report.duplicates_removed, (rows.len() - invalid) as u64);
        check_accounted(&report);
    }

    /// Write, read, write: the same events and the same bytes.
    #[test]
    fn parquet_write_read_write_is_the_identity(log in any_log(40)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.parquet");
        let again = dir.path().join("b.parquet");
        write_events_parquet(&log, &path).unwrap();
        let (back, report) = read_events(&path, EventFormat::Parquet, &strict()).unwrap();
        prop_assert_eq!(named(&back), named(&log));
        prop_assert_eq!(report.records, log.len() as u64);
        prop_assert!(report.missing_optional_columns.is_empty());
        write_events_parquet(&back, &again).unwrap();
        prop_assert_eq!(fs::read(&path).unwrap(), fs::read(&again).unwrap());
        // Parquet and CSV hold the same log.
        let csv = dir.path().join("a.csv");
        write_events_csv(&back, &csv).unwrap();
        let (from_csv, _) = read_events(&csv, EventFormat::Csv, &strict()).unwrap();
        prop_assert_eq!(named(&from_csv), named(&back));
    }
}

// ---------------------------------------------------------------------------------------
// Spotify extended streaming history (JSON).
// ---------------------------------------------------------------------------------------

/// One generated Spotify record.
#[derive(Debug, Clone)]
struct SpotifyRecord {
    ts: i64,
    ms_played: u32,
    uri: Option<String>,
    track_name: Option<String>,
    artist: Option<String>,
    episode: bool,
    skipped: Option<bool>,
    username: Option<String>,
}

fn spotify_record() -> impl Strategy<Value = SpotifyRecord> {
    (
        0_i64..4_102_444_800_000,
        0_u32..10_000_000,
        prop::option::of("spotify:track:[a-c]{1,2}"),
        prop::option::of(name(true)),
        prop::option::of(name(true)),
        any::<bool>(),
        prop::option::of(any::<bool>()),
        prop::option::of(prop_oneof![
            Just("ann".to_owned()),
            Just(" bob ".to_owned()),
            Just(String::new())
        ]),
    )
        .prop_map(
            |(ts, ms_played, uri, track_name, artist, episode, skipped, username)| SpotifyRecord {
                ts,
                ms_played,
                uri,
                track_name,
                artist,
                episode,
                skipped,
                username,
            },
        )
}

impl SpotifyRecord {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "ts": format_rfc3339(self.ts).replace(".000Z", "Z"),
            "platform": "android",
            "ms_played": self.ms_played,
            "conn_country": "DE",
            "master_metadata_track_name": self.track_name,
            "master_metadata_album_artist_name": self.artist,
            "spotify_track_uri": self.uri,
            "spotify_episode_uri": self.episode.then_some("spotify:episode:e"),
            "skipped": self.skipped,
            "username": self.username,
        })
    }

    /// The (user, track) the reader must load, `None` for a record it must ignore.
    fn expected(&self, folder_user: &str) -> Option<(String, String)> {
        let track = match (&self.uri, &self.track_name) {
            (Some(uri), _) => uri.clone(),
            (None, Some(name)) => {
                format!("local:{} - {name}", self.artist.as_deref().unwrap_or(""))
            }
            (None, None) => return None,
        };
        let user = match self.username.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => u.to_owned(),
            _ => folder_user.to_owned(),
        };
        Some((user, track))
    }
}

/// The line of each record's closing brace in a pretty-printed array (1-based).
fn record_end_lines(text: &str) -> Vec<u64> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| *l == "  }" || *l == "  },")
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

fn spotify_file(dir: &Path) -> PathBuf {
    let user_dir = dir.join("alice");
    fs::create_dir_all(&user_dir).unwrap();
    user_dir.join("Streaming_History_Audio_2024.json")
}

proptest! {
    #![proptest_config(config(CASES))]

    /// Arbitrary bytes, alone or inside an array, are a log or a typed error.
    #[test]
    fn spotify_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        wrap in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = spotify_file(dir.path());
        let mut content = Vec::new();
        if wrap {
            content.extend_from_slice(b"[{\"ts\": ");
        }
        content.extend_from_slice(&bytes);
        fs::write(&path, &content).unwrap();
        read_both(&path, EventFormat::Spotify, line_count(&content));
        // The folder reader as well.
        let folder = read_events(dir.path(), EventFormat::Spotify, &skipping());
        if let Err(err) = folder {
            prop_assert!(err.to_string().contains(&shows(&path)), "{}", err);
        }
    }

    /// Mutated exports: no panic, errors name file and line (and record and field), every
    /// record loaded, skipped or ignored.
    #[test]
    fn spotify_mutations_are_reported_or_counted(
        records in prop::collection::vec(spotify_record(), 0..12),
        mutation in mutation(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = spotify_file(dir.path());
        let json: Vec<serde_json::Value> = records.iter().map(SpotifyRecord::json).collect();
        let text = serde_json::to_string_pretty(&json).unwrap();
        let content = apply(text.as_bytes(), &mutation, b':');
        fs::write(&path, &content).unwrap();
        read_both(&path, EventFormat::Spotify, line_count(&content));
    }

    /// A field of record k of the wrong type or value is reported at record k, on the line
    /// where the record ends, with the field's name; skipping counts it.
    #[test]
    fn spotify_damaged_field_is_reported_at_its_record(
        records in prop::collection::vec(spotify_record(), 1..10),
        pick in any::<Index>(),
        damage in 0_usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = spotify_file(dir.path());
        let mut json: Vec<serde_json::Value> = records.iter().map(SpotifyRecord::json).collect();
        // Damage a track play, so that the reader looks at every field.
        let k = pick.index(records.len());
        json[k]["spotify_track_uri"] = "spotify:track:x".into();
        let (field, value) = [
            ("ts", serde_json::json!("yesterday")),
            ("ts", serde_json::json!(1_700_000_000)),
            ("ms_played", serde_json::json!(-1)),
            ("skipped", serde_json::json!("maybe")),
            ("spotify_track_uri", serde_json::json!(7)),
        ][damage].clone();
        json[k][field] = value;
        let text = serde_json::to_string_pretty(&json).unwrap();
        fs::write(&path, &text).unwrap();
        let ends = record_end_lines(&text);
        prop_assert_eq!(ends.len(), records.len());

        let err = read_events(&path, EventFormat::Spotify, &strict()).unwrap_err();
        let expected = Location::Record { index: k as u64 + 1, line: ends[k] };
        match &err {
            DataError::InvalidField { field: f, location, .. } => {
                prop_assert_eq!(f.as_str(), field);
                prop_assert_eq!(*location, expected);
            }
            other => prop_assert!(false, "{other:?}"),
        }
        prop_assert!(err.to_string().contains(&format!("{} {expected}", shows(&path))), "{}", err);
        let (_, report) = read_events(&path, EventFormat::Spotify, &skipping()).unwrap();
        prop_assert_eq!(report.skipped_total(), 1);
        prop_assert_eq!(report.records, records.len() as u64);
        check_accounted(&report);
    }

    /// Valid exports load exactly the expected plays (users from `username` or the folder,
    /// local files named by artist and track), and ignore the rest, counted.
    #[test]
    fn spotify_loads_what_the_export_holds(records in prop::collection::vec(spotify_record(), 0..16)) {
        let dir = tempfile::tempdir().unwrap();
        let path = spotify_file(dir.path());
        let json: Vec<serde_json::Value> = records.iter().map(SpotifyRecord::json).collect();
        fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
        let (log, report) = read_events(&path, EventFormat::Spotify, &strict()).unwrap();
        let mut expected: Vec<Named> = records
            .iter()
            .filter_map(|r| {
                let (user, track) = r.expected("alice")?;
                Some((user, track, r.ts, Some(r.ms_played), None, r.skipped, false))
            })
            .collect();
        expected.sort();
        expected.dedup();
        let mut got = named(&log);
        got.sort();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(report.records, records.len() as u64);
        prop_assert_eq!(
            report.ignored_total(),
            records.iter().filter(|r| r.expected("alice").is_none()).count() as u64
        );
        check_accounted(&report);
        // The folder reader gives the same log.
        let (folder, _) = read_events(dir.path(), EventFormat::Spotify, &strict()).unwrap();
        prop_assert_eq!(folder, log);
    }
}

// ---------------------------------------------------------------------------------------
// Last.fm-1K TSV.
// ---------------------------------------------------------------------------------------

/// One generated scrobble: user, time (seconds), artist id, artist, track id, track.
type Scrobble = (usize, i64, String, String, String, String);

fn scrobble() -> impl Strategy<Value = Scrobble> {
    (
        0_usize..3,
        1_100_000_000_i64..1_100_100_000,
        "[0-9a-f]{0,4}",
        name(false),
        prop_oneof![Just(String::new()), "[0-9a-f]{1,3}"],
        name(false),
    )
}

const LASTFM_USERS: [&str; 3] = ["user_000001", "user_000002", "user 3"];

fn lastfm_text(scrobbles: &[Scrobble]) -> String {
    scrobbles
        .iter()
        .map(|(u, t, artid, artist, traid, track)| {
            format!(
                "{}\t{}\t{artid}\t{artist}\t{traid}\t{track}\n",
                LASTFM_USERS[*u],
                format_rfc3339(t * 1000).replace(".000Z", "Z")
            )
        })
        .collect()
}

fn lastfm_path(dir: &Path) -> PathBuf {
    dir.join("userid-timestamp-artid-artname-traid-traname.tsv")
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn lastfm_arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        let path = lastfm_path(dir.path());
        fs::write(&path, &bytes).unwrap();
        read_both(&path, EventFormat::LastFm, line_count(&bytes));
    }

    /// Mutated files: no panic, errors name file, line and field, every line loaded or
    /// counted.
    #[test]
    fn lastfm_mutations_are_reported_or_counted(
        scrobbles in prop::collection::vec(scrobble(), 0..16),
        mutation in mutation(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = lastfm_path(dir.path());
        let content = apply(lastfm_text(&scrobbles).as_bytes(), &mutation, b'\t');
        fs::write(&path, &content).unwrap();
        read_both(&path, EventFormat::LastFm, line_count(&content));
    }

    /// A damaged user, timestamp or track on line l is reported at line l and that field.
    #[test]
    fn lastfm_damaged_field_is_reported_at_its_line(
        scrobbles in prop::collection::vec(scrobble(), 1..12),
        pick in any::<Index>(),
        damage in 0_usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = lastfm_path(dir.path());
        let mut rows = lines(lastfm_text(&scrobbles).as_bytes());
        let l = pick.index(rows.len());
        let row = String::from_utf8(rows[l].clone()).unwrap();
        let mut fields: Vec<String> = row.trim_end_matches('\n').split('\t').map(String::from).collect();
        let field = match damage {
            0 => { fields[0] = " ".into(); "userid" }
            1 => { fields[1] = "noon".into(); "timestamp" }
            2 => { fields[4] = String::new(); fields[5] = String::new(); "track" }
            _ => { fields.pop(); "" }
        };
        rows[l] = format!("{}\n", fields.join("\t")).into_bytes();
        fs::write(&path, rows.concat()).unwrap();
        let err = read_events(&path, EventFormat::LastFm, &strict()).unwrap_err();
        let location = Location::Line(l as u64 + 1);
        match &err {
            DataError::InvalidField { field: f, location: at, .. } => {
                prop_assert_eq!(f.as_str(), field);
                prop_assert_eq!(*at, location);
            }
            DataError::FieldCount { location: at, expected: 6, found: 5, .. } => {
                prop_assert_eq!(field, "");
                prop_assert_eq!(*at, location);
            }
            other => prop_assert!(false, "{other:?}"),
        }
        prop_assert!(err.to_string().contains(&format!("{} line {}", shows(&path), l + 1)), "{}", err);
        let (_, report) = read_events(&path, EventFormat::LastFm, &skipping()).unwrap();
        prop_assert_eq!(report.skipped_total(), 1);
        prop_assert_eq!(report.records, scrobbles.len() as u64);
        check_accounted(&report);
    }

    /// Valid files load every scrobble (track = MusicBrainz id, else `artist - track`), each
    /// play time the gap to the user's next scrobble, capped.
    #[test]
    fn lastfm_loads_every_scrobble_with_inferred_play_times(
        scrobbles in prop::collection::vec(scrobble(), 0..24),
        cap in 1_u32..1_000_000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = lastfm_path(dir.path());
        fs::write(&path, lastfm_text(&scrobbles)).unwrap();
        let options = ReadOptions { lastfm_max_play_ms: cap, ..Default::default() };
        let (log, report) = read_events(&path, EventFormat::LastFm, &options).unwrap();
        let mut expected: Vec<(String, String, i64)> = scrobbles
            .iter()
            .map(|(u, t, _, artist, traid, track)| {
                let id = if traid.is_empty() { format!("{artist} - {track}") } else { traid.clone() };
                (LASTFM_USERS[*u].to_owned(), id, t * 1000)
            })
            .collect();
        expected.sort();
        expected.dedup();
        let mut got: Vec<(String, String, i64)> =
            named(&log).into_iter().map(|(u, i, t, ..)| (u, i, t)).collect();
        got.sort();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(report.records, scrobbles.len() as u64);
        check_accounted(&report);
        for user in 1..=log.users().len() as u32 {
            let events: Vec<Event> = log.user_events(user).collect();
            for (j, e) in events.iter().enumerate() {
                let gap = events.get(j + 1).map_or(i64::from(cap), |n| n.timestamp_ms - e.timestamp_ms);
                prop_assert_eq!(e.ms_played, Some(gap.clamp(0, i64::from(cap)) as u32));
                prop_assert!(e.inferred);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sequence files and the sequence reader of events.
// ---------------------------------------------------------------------------------------

fn sequences(num_items: u32, users: usize) -> impl Strategy<Value = Vec<Vec<u32>>> {
    prop::collection::vec(prop::collection::vec(1..=num_items, 1..8), 0..users)
}

proptest! {
    #![proptest_config(config(CASES))]

    /// Arbitrary bytes: histories, targets and events are read or refused with the file and
    /// line; what is read has one entry per line (skipped empty lines listed).
    #[test]
    fn sequence_files_arbitrary_bytes_never_panic(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            prop::collection::vec(prop::sample::select(b"0123456789 \t\r\n-+x".to_vec()), 0..256),
        ],
        num_items in prop::option::of(1_u32..100),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sequences.txt");
        fs::write(&path, &bytes).unwrap();
        let total = line_count(&bytes);
        match read_sequences(&path, num_items) {
            Ok(sequences) => {
                prop_assert_eq!(sequences.len() as u64, total);
                let max = num_items.unwrap_or(u32::MAX);
                prop_assert!(sequences.iter().flatten().all(|&i| (1..=max).contains(&i)));
            }
            Err(err) => check_error(&err, &path, total),
        }
        match read_sequences_skipping_empty(&path, num_items) {
            Ok((sequences, skipped)) => {
                prop_assert_eq!((sequences.len() + skipped.len()) as u64, total);
                prop_assert!(sequences.iter().all(|s| !s.is_empty()));
            }
            Err(err) => check_error(&err, &path, total),
        }
        match read_targets(&path, num_items) {
            Ok(targets) => prop_assert_eq!(targets.len() as u64, total),
            Err(err) => check_error(&err, &path, total),
        }
        match read_events(&path, EventFormat::Sequences, &strict()) {
            Ok((log, report)) => {
                prop_assert_eq!(log.len() as u64, report.records);
                prop_assert_eq!(log.users().len() as u64, total);
            }
            Err(err) => check_error(&err, &path, total),
        }
    }

    /// A bad token (not a number, the padding id 0, beyond `num_items`) at line l, token t
    /// is reported at exactly that line and token.
    #[test]
    fn sequence_file_bad_token_is_reported_at_its_line_and_token(
        (num_items, data) in (1_u32..50).prop_flat_map(|n| (Just(n), sequences(n, 8))),
        pick in any::<Index>(),
        token in any::<Index>(),
        bad in prop_oneof![Just("0".to_owned()), Just("x1".to_owned()), Just("-3".to_owned()),
            Just("4294967296".to_owned()), Just("51".to_owned())],
    ) {
        prop_assume!(!data.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.txt");
        let l = pick.index(data.len());
        let t = token.index(data[l].len());
        let mut text = String::new();
        for (i, sequence) in data.iter().enumerate() {
            let tokens: Vec<String> = sequence
                .iter()
                .enumerate()
                .map(|(j, item)| if (i, j) == (l, t) { bad.clone() } else { item.to_string() })
                .collect();
            text.push_str(&tokens.join(" "));
            text.push('\n');
        }
        fs::write(&path, &text).unwrap();
        let err = read_sequences(&path, Some(num_items)).unwrap_err();
        let (line, at) = match &err {
            DataError::InvalidItem { line, token, .. } | DataError::ItemOutOfRange { line, token, .. } => (*line, *token),
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert_eq!((line, at), (l + 1, t + 1));
        prop_assert!(err.to_string().contains(&format!("{} line {}, token {}", shows(&path), l + 1, t + 1)), "{}", err);
    }

    /// Write then read gives back the sequences and the targets; the events reader numbers
    /// lines as users and keeps every item.
    #[test]
    fn sequence_files_write_read_is_the_identity(
        (num_items, data) in (1_u32..50).prop_flat_map(|n| (Just(n), sequences(n, 10))),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sequences.txt");
        write_sequences(&path, &data).unwrap();
        prop_assert_eq!(read_sequences(&path, Some(num_items)).unwrap(), data.clone());
        let targets: Vec<u32> = data.iter().map(|s| s[0]).collect();
        let target_path = dir.path().join("output.txt");
        write_targets(&target_path, &targets).unwrap();
        prop_assert_eq!(read_targets(&target_path, Some(num_items)).unwrap(), targets);
        let (log, report) = read_events(&path, EventFormat::Sequences, &strict()).unwrap();
        prop_assert_eq!(report.records as usize, data.iter().map(Vec::len).sum::<usize>());
        let names: Vec<Vec<String>> = (1..=log.users().len() as u32)
            .map(|u| log.user_events(u).map(|e| log.items().name(e.item).unwrap().to_owned()).collect())
            .collect();
        let expected: Vec<Vec<String>> =
            data.iter().map(|s| s.iter().map(u32::to_string).collect()).collect();
        prop_assert_eq!(names, expected);
    }
}

// ---------------------------------------------------------------------------------------
// The gSASRec layout.
// ---------------------------------------------------------------------------------------

fn held_out(num_items: u32) -> impl Strategy<Value = HistoryTargets> {
    prop::collection::vec(
        (prop::collection::vec(1..=num_items, 1..6), 1..=num_items),
        0..5,
    )
    .prop_map(|pairs| {
        let (inputs, targets) = pairs.into_iter().unzip();
        HistoryTargets::new(inputs, targets).unwrap()
    })
}

fn dataset() -> impl Strategy<Value = SequenceDataset> {
    (1_u32..40).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(prop::collection::vec(1..=n, 1..8), 0..8),
            prop::option::of(held_out(n)),
            prop::option::of(held_out(n)),
        )
            .prop_map(|(n, train, val, test)| SequenceDataset::new(n, train, val, test).unwrap())
    })
}

/// The layout's files, relative to its folder.
const LAYOUT_FILES: [&str; 6] = [
    "dataset_stats.json",
    "train/input.txt",
    "val/input.txt",
    "val/output.txt",
    "test/input.txt",
    "test/output.txt",
];

fn present_files(dir: &Path) -> Vec<&'static str> {
    LAYOUT_FILES
        .into_iter()
        .filter(|f| dir.join(f).is_file())
        .collect()
}

/// What every layout error must satisfy: it names a file of the layout; a line error names
/// `damaged` (the other files are intact) unless the stats were damaged.
fn check_layout_error(err: &DataError, dir: &Path, damaged: &str) {
    let msg = err.to_string();
    assert!(msg.contains(&shows(dir)), "names no layout file: {msg}");
    let line_error = matches!(
        err,
        DataError::InvalidUtf8 { .. }
            | DataError::InvalidItem { .. }
            | DataError::ItemOutOfRange { .. }
            | DataError::EmptyLine { .. }
            | DataError::TargetCount { .. }
    );
    if line_error && damaged != "dataset_stats.json" {
        let path = dir.join(damaged);
        let total = line_count(&fs::read(&path).unwrap());
        check_error(err, &path, total);
    }
    if let DataError::StatsJson { path, line, .. } = err {
        assert_eq!(path, &dir.join("dataset_stats.json"));
        let total = line_count(&fs::read(path).unwrap());
        // serde_json counts a final line break as the start of one more line.
        assert!(*line as u64 <= total + 1, "{msg}");
    }
}

proptest! {
    #![proptest_config(config(CASES))]

    /// Arbitrary bytes as any one file of a valid layout: loaded or refused naming the file.
    #[test]
    fn layout_arbitrary_file_never_panics(
        dataset in dataset(),
        file in any::<Index>(),
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            prop::collection::vec(prop::sample::select(b"0123456789 \n{}\":,num_usersitem".to_vec()), 0..256),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        dataset.save_dir(dir.path()).unwrap();
        let files = present_files(dir.path());
        let damaged = files[file.index(files.len())];
        fs::write(dir.path().join(damaged), &bytes).unwrap();
        match SequenceDataset::load_dir(dir.path()) {
            Ok(loaded) => loaded.validate().unwrap(),
            Err(err) => check_layout_error(&err, dir.path(), damaged),
        }
    }

    /// Mutated layouts (one file damaged): loaded datasets are valid, errors name the file
    /// and line.
    #[test]
    fn layout_mutations_are_reported(
        dataset in dataset(),
        file in any::<Index>(),
        mutation in mutation(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        dataset.save_dir(dir.path()).unwrap();
        let files = present_files(dir.path());
        let damaged = files[file.index(files.len())];
        let path = dir.path().join(damaged);
        let content = apply(&fs::read(&path).unwrap(), &mutation, b' ');
        fs::write(&path, &content).unwrap();
        match SequenceDataset::load_dir(dir.path()) {
            Ok(loaded) => {
                loaded.validate().unwrap();
                // Every train line is loaded or counted as skipped.
                let train_lines = line_count(&fs::read(dir.path().join("train/input.txt")).unwrap());
                prop_assert_eq!((loaded.train.len() + loaded.skipped_empty.train) as u64, train_lines);
            }
            Err(err) => check_layout_error(&err, dir.path(), damaged),
        }
    }

    /// Save, load, save: the same dataset and the same bytes in every file.
    #[test]
    fn layout_save_load_save_is_the_identity(dataset in dataset()) {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        dataset.save_dir(first.path()).unwrap();
        let loaded = SequenceDataset::load_dir(first.path()).unwrap();
        prop_assert_eq!(&loaded, &dataset);
        loaded.save_dir(second.path()).unwrap();
        prop_assert_eq!(present_files(first.path()), present_files(second.path()));
        for file in present_files(first.path()) {
            prop_assert_eq!(
                fs::read(first.path().join(file)).unwrap(),
                fs::read(second.path().join(file)).unwrap(),
                "{}", file
            );
        }
        // The layout read as events: one user per train line.
        let (log, _) = read_events(first.path().join("train/input.txt"), EventFormat::Sequences, &strict()).unwrap();
        prop_assert_eq!(log.users().len(), dataset.train.len());
    }
}

// ---------------------------------------------------------------------------------------
// Splits and vocabularies.
// ---------------------------------------------------------------------------------------

/// A log over 100 days with ids `u0..` and `t0..`.
fn day_log() -> impl Strategy<Value = EventLog> {
    prop::collection::vec(
        (
            0_usize..6,
            0_usize..10,
            0_i64..100 * DAY_MS,
            prop::option::of(0_u32..300_000),
        ),
        1..60,
    )
    .prop_map(|rows| {
        let users: Vec<String> = (0..6).map(|u| format!("u{u}")).collect();
        let items: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let raw: Vec<RawEvent> = rows
            .into_iter()
            .map(|(u, i, t, ms)| (u, i, t, ms, None, None))
            .collect();
        build_log(&users, &items, &raw)
    })
}

proptest! {
    #![proptest_config(config(CASES))]

    /// Every event lies in exactly one of: before the history, the history, the held-out
    /// window, after the cut; the history sequences hold exactly the history window's plays
    /// and the held-out plays exactly the held-out window's, so none is in both.
    #[test]
    fn time_split_puts_every_event_in_exactly_one_window(
        log in day_log(),
        history_days in 1_i64..80,
        held_out_ms in prop_oneof![Just(0_i64), 1..20 * DAY_MS],
        cut in prop::option::of(0_i64..110 * DAY_MS),
    ) {
        let options = WindowOptions {
            history_ms: history_days * DAY_MS,
            held_out_ms,
            cut_ms: cut,
            ..Default::default()
        };
        let split = match split_by_time(&log, &options) {
            Ok(split) => split,
            Err(DataError::NoEvents { .. }) => {
                // Only when the history window is empty.
                let (_, last) = log.time_range().unwrap();
                let cut = cut.unwrap_or(last);
                let start = cut - held_out_ms;
                prop_assert!(log.timestamps_ms().iter().all(|&t| t <= start - options.history_ms || t > start));
                return Ok(());
            }
            Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        let w = split.windows;
        let mut history: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut held: Vec<(String, String, i64)> = Vec::new();
        let (mut before, mut after) = (0, 0);
        for e in log.iter() {
            let t = e.timestamp_ms;
            let places = [t <= w.history_start_ms, w.in_history(t), w.in_held_out(t), t > w.cut_ms];
            prop_assert_eq!(places.iter().filter(|&&p| p).count(), 1, "event at {} in {:?}", t, w);
            let user = log.users().name(e.user).unwrap().to_owned();
            let item = log.items().name(e.item).unwrap().to_owned();
            if places[0] { before += 1 }
            if places[1] { history.entry(user).or_default().push(item) }
            else if places[2] { held.push((user, item, t)) }
            if places[3] { after += 1 }
        }
        let r = &split.report;
        prop_assert_eq!(r.events_before_history, before);
        prop_assert_eq!(r.events_after_cut, after);
        prop_assert_eq!(r.history_events, history.values().map(Vec::len).sum::<usize>());
        prop_assert_eq!(r.held_out_events, held.len());
        prop_assert_eq!(r.history_events + r.held_out_events + before + after, log.len());
        // The histories: exactly each user's history-window plays, in time order.
        let got: BTreeMap<String, Vec<String>> = split
            .histories
            .iter()
            .enumerate()
            .map(|(u, items)| {
                let user = split.users.name(u as u32 + 1).unwrap().to_owned();
                (user, items.iter().map(|&i| split.items.name(i).unwrap().to_owned()).collect())
            })
            .collect();
        prop_assert_eq!(got, history);
        // The held-out plays: exactly the held-out window's, each in that window only.
        let got: Vec<(String, String, i64)> = split
            .held_out
            .iter()
            .map(|p| {
                prop_assert!(w.in_held_out(p.timestamp_ms) && !w.in_history(p.timestamp_ms));
                Ok((
                    split.users.name(p.user).unwrap().to_owned(),
                    split.items.name(p.item).unwrap().to_owned(),
                    p.timestamp_ms,
                ))
            })
            .collect::<Result<_, TestCaseError>>()?;
        let mut got_sorted = got.clone();
        got_sorted.sort();
        held.sort();
        prop_assert_eq!(got_sorted, held);
        // Training and validation only hold history plays: train + validation target is the
        // history, and the test input is the whole history.
        let val = split.dataset.val.as_ref().unwrap();
        let mut val_rows = val.iter();
        for (u, history) in split.histories.iter().enumerate() {
            let train = &split.dataset.train[u];
            if train.len() + 1 == history.len() {
                let (input, target) = val_rows.next().unwrap();
                prop_assert_eq!(input, &train[..]);
                prop_assert_eq!(&history[..train.len()], &train[..]);
                prop_assert_eq!(history[train.len()], target);
            } else {
                prop_assert_eq!(train, history);
            }
        }
        prop_assert!(val_rows.next().is_none());
        for (input, target) in split.dataset.test.as_ref().unwrap().iter() {
            prop_assert!(split.histories.iter().any(|h| h == input));
            prop_assert!(target <= split.dataset.num_items);
        }
        split.dataset.validate().unwrap();
        // The model's vocabulary is a bijection onto 1..=num_items.
        check_bijection(&split.model_items());
        check_bijection(&split.items);
        check_bijection(&split.users);
    }

    /// Leave-one-out: each kept user's train items, validation target and test target are
    /// their sequence, each play in exactly one place.
    #[test]
    fn leave_one_out_puts_every_play_in_one_split(log in day_log(), validation_users in 0_usize..8) {
        let options = LeaveOneOutOptions { validation_users, ..Default::default() };
        let Ok(split) = split_leave_one_out(&log, &options) else {
            prop_assert!(log.sequences().iter().all(|s| s.len() < 3));
            return Ok(());
        };
        let d = &split.dataset;
        let test = d.test.as_ref().unwrap();
        let val = d.val.as_ref().unwrap();
        let mut val_rows = val.iter();
        for (u, train) in d.train.iter().enumerate() {
            let user = split.users.name(u as u32 + 1).unwrap();
            let original: Vec<&str> = log
                .user_events(log.users().id(user).unwrap())
                .map(|e| log.items().name(e.item).unwrap())
                .collect();
            let (test_input, test_target) = (&test.inputs[u], test.targets[u]);
            let mut rebuilt = test_input.clone();
            rebuilt.push(test_target);
            let rebuilt: Vec<&str> = rebuilt.iter().map(|&i| split.items.name(i).unwrap()).collect();
            prop_assert_eq!(rebuilt, original);
            if train.len() + 2 == test_input.len() + 1 {
                let (input, target) = val_rows.next().unwrap();
                prop_assert_eq!(input, &train[..]);
                prop_assert_eq!(test_input[train.len()], target);
            } else {
                prop_assert_eq!(train, test_input);
            }
        }
        prop_assert!(val_rows.next().is_none());
        prop_assert_eq!(
            d.train.iter().map(Vec::len).sum::<usize>() + val.len() + test.len() + split.events_dropped,
            log.len()
        );
        check_bijection(&split.items);
        check_bijection(&split.users);
    }

    /// Inserting names hands out ids 1, 2, … in order of first insertion; name and id map
    /// back and forth; the JSON list loads the same vocabulary.
    #[test]
    fn vocabulary_ids_are_a_bijection(names in prop::collection::vec("[a-d]{0,2}", 0..40)) {
        let mut vocab = ItemVocabulary::default();
        let mut first: Vec<String> = Vec::new();
        for name in &names {
            let id = vocab.insert(name);
            match first.iter().position(|n| n == name) {
                Some(p) => prop_assert_eq!(id as usize, p + 1),
                None => {
                    first.push(name.clone());
                    prop_assert_eq!(id as usize, first.len());
                }
            }
        }
        prop_assert_eq!(vocab.names(), &first[..]);
        check_bijection(&vocab);
        let collected: Vocabulary = names.iter().cloned().collect();
        prop_assert_eq!(&collected, &vocab);
        let json = serde_json::to_string(&vocab).unwrap();
        let back: Vocabulary = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &vocab);
        check_bijection(&back);
        for len in [0, 1, vocab.len() / 2, vocab.len() + 1] {
            check_bijection(&vocab.truncated(len));
        }
    }

    /// A JSON list (as `items.json` holds it), valid or not, loads as a bijection or is
    /// refused: a list with a repeated id would give two model ids one name.
    #[test]
    fn vocabulary_json_loads_a_bijection_or_fails(names in prop::collection::vec("[a-c]{1,2}", 0..12)) {
        let json = serde_json::to_string(&names).unwrap();
        match serde_json::from_str::<Vocabulary>(&json) {
            Ok(vocab) => {
                check_bijection(&vocab);
                prop_assert_eq!(vocab.names(), &names[..]);
            }
            Err(err) => {
                let mut seen = std::collections::HashSet::new();
                prop_assert!(!names.iter().all(|n| seen.insert(n)), "refused a valid list: {}", err);
            }
        }
    }
}

/// `id(name(i)) == i` for every id and `name(id(n)) == n` for every name; no two ids share a
/// name.
fn check_bijection(vocab: &Vocabulary) {
    let mut seen = std::collections::HashSet::new();
    for id in 1..=vocab.len() as u32 {
        let name = vocab.name(id).unwrap();
        assert_eq!(vocab.id(name), Some(id), "{name:?}");
        assert!(seen.insert(name), "{name:?} has two ids");
    }
    assert_eq!(vocab.name(0), None);
    assert_eq!(vocab.name(vocab.len() as u32 + 1), None);
}
