//! The Last.fm-1K scrobble file `userid-timestamp-artid-artname-traid-traname.tsv`: no
//! header, six tab-separated fields per line (user id, RFC 3339 timestamp, MusicBrainz
//! artist id, artist name, MusicBrainz track id, track name), no quoting.
//!
//! The track id is the MusicBrainz track id when present, else `<artist> - <track>` from
//! the names. Scrobbles carry no play time: after the events are sorted, each play time is
//! the time to the same user's next scrobble, capped at
//! [`ReadOptions::lastfm_max_play_ms`] (the cap is also used for each user's last
//! scrobble), and every event is marked as inferred ([`Event::inferred`]).

use std::path::Path;

use crate::fields;
use crate::log::{Event, EventLog, EventLogBuilder};
use crate::read::ReadOptions;
use crate::report::ReadReport;
use crate::timestamp::parse_timestamp;
use seqrec_data::{DataError, Location};

/// Field names used in error messages, in file order.
const FIELDS: [&str; 6] = [
    "userid",
    "timestamp",
    "artist id",
    "artist",
    "track id",
    "track",
];

/// Reads a Last.fm-1K file. See [`crate::read_events`].
pub(crate) fn read_lastfm(
    path: &Path,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let reader = crate::compress::open_text(path)?;
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(false)
        .flexible(true)
        .quoting(false)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let mut builder = EventLogBuilder::default();
    let mut report = ReadReport {
        files: 1,
        ..Default::default()
    };
    let mut record = ::csv::ByteRecord::new();
    let mut track = String::new();
    while csv
        .read_byte_record(&mut record)
        .map_err(|e| crate::compress::gzip_error(crate::csv::csv_error(path, e)))?
    {
        report.records += 1;
        let location = Location::Line(record.position().map_or(0, |p| p.line()));
        if record.len() != FIELDS.len() {
            let err = DataError::FieldCount {
                path: path.to_owned(),
                location,
                expected: FIELDS.len(),
                found: record.len(),
            };
            report.skip_or_fail(options.skip_invalid, err)?;
            continue;
        }
        let fail = |i: usize, reason: &'static str| {
            DataError::invalid_field(
                path,
                location,
                FIELDS[i],
                &String::from_utf8_lossy(&record[i]),
                reason,
            )
        };
        let parsed = (|| {
            let text = |i: usize| {
                std::str::from_utf8(&record[i])
                    .map(str::trim)
                    .map_err(|_| fail(i, fields::NOT_UTF8))
            };
            let user = fields::id(text(0)?).map_err(|r| fail(0, r))?;
            let timestamp_ms =
                parse_timestamp(text(1)?, options.timestamp).map_err(|r| fail(1, r))?;
            let (artist, track_id, track_name) = (text(3)?, text(4)?, text(5)?);
            track.clear();
            if !track_id.is_empty() {
                track.push_str(track_id);
            } else if !track_name.is_empty() {
                track.push_str(artist);
                track.push_str(" - ");
                track.push_str(track_name);
            } else {
                return Err(fail(5, "no track id and no track name"));
            }
            Ok((user, timestamp_ms))
        })();
        match parsed {
            Ok((user, timestamp_ms)) => {
                let user = builder.user_id(user);
                let item = builder.item_id(&track);
                builder.push(Event::new(user, item, timestamp_ms))?;
            }
            Err(err) => report.skip_or_fail(options.skip_invalid, err)?,
        }
    }
    let (mut log, normalization) = builder.finish(options.dedup);
    log.infer_play_times_from_gaps(options.lastfm_max_play_ms);
    report.normalized(normalization, log.len());
    report.missing_optional_columns = vec![
        "ms_played".into(),
        "track_length_ms".into(),
        "skipped".into(),
    ];
    report.notes.push(format!(
        "play times are inferred: the time to the same user's next scrobble, capped at {} ms",
        options.lastfm_max_play_ms
    ));
    Ok((log, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{EventFormat, read_events};

    // Newest first, as in the real file; the third line has no track id.
    const SAMPLE: &str = "user_000001\t2009-05-04T13:06:09Z\tart-1\tDeep Dish\ttrk-1\tFuck Me Im Famous\n\
user_000001\t2009-05-04T13:00:00Z\tart-2\tUnderworld\ttrk-2\tBoy, Boy, Boy\n\
user_000001\t2009-05-04T12:59:00Z\t\tSome \"Artist\"\t\tUntitled\n\
user_000002\t2009-05-01T00:00:00Z\tart-2\tUnderworld\ttrk-2\tBoy, Boy, Boy\n";

    fn read(path: &Path, options: &ReadOptions) -> Result<(EventLog, ReadReport), DataError> {
        read_events(path, EventFormat::LastFm, options)
    }

    #[test]
    fn gaps_to_the_next_scrobble_become_inferred_play_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir
            .path()
            .join("userid-timestamp-artid-artname-traid-traname.tsv");
        std::fs::write(&path, SAMPLE).unwrap();
        let options = ReadOptions {
            lastfm_max_play_ms: 240_000,
            ..Default::default()
        };
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(report.records, 4);
        assert_eq!(log.len(), 4);
        assert_eq!(report.users_reordered, 1);
        assert_eq!(
            log.items().names(),
            ["trk-1", "trk-2", "Some \"Artist\" - Untitled"]
        );
        let played: Vec<Option<u32>> = log.iter().map(|e| e.ms_played).collect();
        // 12:59 -> 13:00 is 60 s; 13:00 -> 13:06:09 is capped; last scrobbles get the cap.
        assert_eq!(
            played,
            vec![Some(60_000), Some(240_000), Some(240_000), Some(240_000)]
        );
        assert!(log.iter().all(|e| e.inferred));
        assert!(report.notes[0].contains("inferred"));
    }

    #[test]
    fn malformed_lines_are_reported_or_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lfm.tsv");
        let content = format!(
            "{SAMPLE}user_000003\tnot-a-time\ta\tb\tc\td\nuser_000003\tonly-two\n\t2009-05-01T00:00:00Z\ta\tb\tc\td\n"
        );
        std::fs::write(&path, content).unwrap();
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("lfm.tsv line 5") && msg.contains("timestamp"),
            "{msg}"
        );
        let options = ReadOptions {
            skip_invalid: true,
            ..Default::default()
        };
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(log.len(), 4);
        assert_eq!(report.skipped_total(), 3);
        assert_eq!(report.skipped["wrong number of fields"], 1);
        assert_eq!(report.skipped["userid: empty"], 1);
    }

    #[test]
    fn empty_file_gives_an_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lfm.tsv");
        std::fs::write(&path, "").unwrap();
        let (log, report) = read(&path, &ReadOptions::default()).unwrap();
        assert!(log.is_empty());
        assert_eq!(report.records, 0);
    }
}
