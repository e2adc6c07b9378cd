//! What every fuzz target checks: the reader returns a log or a typed error naming the file
//! (a panic is a crash), strict and skipping reads agree, every record is accounted for, and
//! a log that loads survives writing and reading back.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use seqrec_events::{EventFormat, EventLog, ReadOptions, ReadReport, read_events};

/// One scratch folder per fuzzing process.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder"))
        .path()
}

/// Writes `data` to `name` in the scratch folder.
pub fn write(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("a scratch folder");
    }
    std::fs::write(&path, data).expect("a scratch file");
    path
}

/// Every record loaded, removed as a duplicate, skipped or ignored.
pub fn accounted(report: &ReadReport) {
    assert_eq!(
        report.events as u64
            + report.duplicates_removed
            + report.skipped_total()
            + report.ignored_total(),
        report.records,
        "{report:?}"
    );
}

/// The events with string ids.
pub fn named(log: &EventLog) -> Vec<(String, String, seqrec_events::Event)> {
    log.iter()
        .map(|e| {
            let user = log.users().name(e.user).unwrap().to_owned();
            let item = log.items().name(e.item).unwrap().to_owned();
            (
                user,
                item,
                seqrec_events::Event {
                    user: 0,
                    item: 0,
                    ..e
                },
            )
        })
        .collect()
}

/// Reads `path` strictly and skipping invalid records; returns the strict log.
pub fn check_read(path: &Path, format: EventFormat) -> Option<EventLog> {
    let shown = path.display().to_string();
    let strict = read_events(path, format, &ReadOptions::default());
    let skip = read_events(
        path,
        format,
        &ReadOptions {
            skip_invalid: true,
            ..Default::default()
        },
    );
    for result in [&strict, &skip] {
        match result {
            Ok((log, report)) => {
                assert_eq!(report.events, log.len());
                accounted(report);
                for example in &report.skipped_examples {
                    assert!(example.contains(&shown), "{example}");
                }
            }
            Err(err) => assert!(err.to_string().contains(&shown), "{err}"),
        }
    }
    match (&strict, &skip) {
        (Ok((log, _)), Ok((skip_log, report))) => {
            assert_eq!(skip_log, log);
            assert_eq!(report.skipped_total(), 0);
        }
        (Ok(_), Err(err)) => panic!("skipping failed where strict reading did not: {err}"),
        (Err(err), Ok(_)) => assert!(err.is_record_error(), "{err}"),
        (Err(_), Err(err)) => assert!(!err.is_record_error(), "{err}"),
    }
    strict.ok().map(|(log, _)| log)
}

/// Writes `log` as CSV and Parquet and reads both back: the same events.
pub fn check_round_trip(log: &EventLog) {
    for name in ["round-trip.csv", "round-trip.parquet"] {
        let path = scratch().join(name);
        seqrec_events::write_events(log, &path).expect("writing a loaded log");
        let format = if name.ends_with(".csv") {
            EventFormat::Csv
        } else {
            EventFormat::Parquet
        };
        let (back, _) = read_events(&path, format, &ReadOptions::default())
            .unwrap_or_else(|e| panic!("reading back what was written: {e}"));
        let mut expected = named(log);
        // Inferred play times are not written.
        for (_, _, e) in &mut expected {
            e.inferred = false;
        }
        assert_eq!(named(&back), expected, "{name}");
    }
}
