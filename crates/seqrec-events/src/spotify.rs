//! Spotify extended streaming history: JSON arrays of play records, as in
//! `Streaming_History_Audio_2023-2024_3.json` (or the older `endsong_0.json`).
//!
//! Fields used: `ts` (end of the play, RFC 3339; used as the event time), `ms_played`,
//! `spotify_track_uri` (the track id), `skipped`, `username`, and the
//! `master_metadata_track_name` / `master_metadata_album_artist_name` fields, which name a
//! track without a URI (a local file) as `local:<artist> - <track>`. Records of podcast
//! episodes or audiobooks (`spotify_episode_uri`, `audiobook_uri`) and records naming no
//! track at all are counted in [`ReadReport::ignored`].
//!
//! The user is the record's `username` when present. Otherwise it is the name of the
//! folder that holds the file below the folder that was given (one sub-folder per user),
//! or, for files directly in the given folder or a single given file, the name of the
//! given folder or of the file's parent folder.
//!
//! Given a folder, every `Streaming_History_Audio*.json` and `endsong*.json` below it is
//! read, in path order; other JSON files (playlists, video history, account data) are
//! counted as ignored files. Records are streamed one at a time.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::Value;

use crate::fields;
use crate::log::{Event, EventLog, EventLogBuilder};
use crate::read::ReadOptions;
use crate::report::ReadReport;
use crate::timestamp::{TimestampFormat, parse_timestamp};
use seqrec_data::{DataError, Location};

/// Reason for ignoring a podcast or audiobook record.
const EPISODE: &str = "podcast episode or audiobook";
/// Reason for ignoring a record that names no track.
const NO_TRACK: &str = "no track URI or track name";

/// The fields of one record that matter here; everything else is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record {
    ts: Value,
    ms_played: Value,
    spotify_track_uri: Value,
    skipped: Value,
    username: Value,
    master_metadata_track_name: Value,
    master_metadata_album_artist_name: Value,
    spotify_episode_uri: Value,
    audiobook_uri: Value,
}

/// Reads one export file or a folder of them. See [`crate::read_events`].
pub(crate) fn read_spotify(
    path: &Path,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    let mut report = ReadReport::default();
    let files: Vec<(PathBuf, String)> = if meta.is_dir() {
        let mut files = Vec::new();
        collect_json(path, &mut files)?;
        files.sort();
        let root_name = base_name(path);
        files
            .into_iter()
            .filter_map(|file| {
                if is_history_file(&file) {
                    let user = match file.strip_prefix(path).ok().and_then(|r| r.parent()) {
                        Some(rel) if rel.components().next().is_some() => rel
                            .components()
                            .next()
                            .map(|c| c.as_os_str().to_string_lossy().into_owned())
                            .unwrap_or_else(|| root_name.clone()),
                        _ => root_name.clone(),
                    };
                    Some((file, user))
                } else {
                    report.ignore("JSON file that is not an audio streaming history");
                    None
                }
            })
            .collect()
    } else {
        let parent = path.parent().map(base_name).unwrap_or_default();
        vec![(
            path.to_owned(),
            if parent.is_empty() {
                base_name(path)
            } else {
                parent
            },
        )]
    };
    let mut builder = EventLogBuilder::default();
    for (file, user) in &files {
        report.files += 1;
        read_file(file, user, options, &mut builder, &mut report)?;
    }
    let (log, normalization) = builder.finish(options.dedup);
    report.normalized(normalization, log.len());
    Ok((log, report))
}

fn base_name(path: &Path) -> String {
    path.file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "spotify-user".to_owned())
}

fn is_history_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.starts_with("streaming_history_audio") || name.starts_with("endsong")
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| DataError::io(&path, e))?;
        if kind.is_dir() {
            collect_json(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// A reader that counts the newlines that went through it, so that a record's position
/// can be reported by line.
struct LineCounter<R> {
    inner: R,
    lines: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.lines.set(self.lines.get() + newlines);
        Ok(n)
    }
}

/// State handed to the streaming visitor.
struct Sink<'a> {
    path: &'a Path,
    user: &'a str,
    options: &'a ReadOptions,
    builder: &'a mut EventLogBuilder,
    report: &'a mut ReadReport,
    lines: std::rc::Rc<std::cell::Cell<u64>>,
    /// The first error that stopped reading (not a JSON syntax error).
    stop: Option<DataError>,
}

impl<'de> DeserializeSeed<'de> for &mut Sink<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for &mut Sink<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of streaming history records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0_u64;
        while let Some(record) = seq.next_element::<Record>()? {
            index += 1;
            self.report.records += 1;
            // The reader works ahead of the parser, so the count is at least the record's
            // last line; with serde_json's byte-wise reading it is exact.
            let location = Location::Record {
                index,
                line: self.lines.get() + 1,
            };
            if let Err(err) = self.record(record, location) {
                self.stop = Some(err);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

impl Sink<'_> {
    fn record(&mut self, record: Record, location: Location) -> Result<(), DataError> {
        match self.parse(&record, location) {
            Ok(Some((user, track, event))) => {
                let user = self.builder.user_id(&user);
                let item = self.builder.item_id(&track);
                self.builder.push(Event {
                    user,
                    item,
                    ..event
                })
            }
            Ok(None) => Ok(()),
            Err(err) => self.report.skip_or_fail(self.options.skip_invalid, err),
        }
    }

    /// The user, track and event of a record; `None` for a record that is not a track play.
    fn parse(
        &mut self,
        r: &Record,
        location: Location,
    ) -> Result<Option<(String, String, Event)>, DataError> {
        let fail = |field: &str, value: &Value, reason: &'static str| {
            DataError::invalid_field(self.path, location, field, &value.to_string(), reason)
        };
        let text = |field: &str, value: &Value| -> Result<Option<String>, DataError> {
            match value {
                Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
                Value::String(_) | Value::Null => Ok(None),
                other => Err(fail(field, other, "not a string")),
            }
        };
        let uri = text("spotify_track_uri", &r.spotify_track_uri)?;
        let name = text("master_metadata_track_name", &r.master_metadata_track_name)?;
        let track = match (uri, name) {
            (Some(uri), _) => uri,
            (None, Some(name)) => {
                let artist = text(
                    "master_metadata_album_artist_name",
                    &r.master_metadata_album_artist_name,
                )?;
                format!("local:{} - {name}", artist.unwrap_or_default())
            }
            (None, None) => {
                let episode = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
                if episode(&r.spotify_episode_uri) || episode(&r.audiobook_uri) {
                    self.report.ignore(EPISODE);
                } else {
                    self.report.ignore(NO_TRACK);
                }
                return Ok(None);
            }
        };
        let timestamp_ms = match &r.ts {
            Value::String(ts) => parse_timestamp(ts.trim(), TimestampFormat::Rfc3339)
                .map_err(|reason| fail("ts", &r.ts, reason))?,
            Value::Null => return Err(fail("ts", &r.ts, fields::NULL)),
            other => return Err(fail("ts", other, "not a string")),
        };
        let ms_played = match &r.ms_played {
            Value::Number(n) => match n.as_u64() {
                Some(v) => fields::checked_ms(v)
                    .map_err(|reason| fail("ms_played", &r.ms_played, reason))?,
                None => return Err(fail("ms_played", &r.ms_played, fields::NOT_DURATION)),
            },
            Value::Null => return Err(fail("ms_played", &r.ms_played, fields::NULL)),
            other => return Err(fail("ms_played", other, fields::NOT_DURATION)),
        };
        let skipped = match &r.skipped {
            Value::Bool(b) => Some(*b),
            Value::Null => None,
            Value::Number(n) if n.as_u64() == Some(0) => Some(false),
            Value::Number(n) if n.as_u64() == Some(1) => Some(true),
            other => return Err(fail("skipped", other, fields::NOT_BOOL)),
        };
        let user = match &r.username {
            Value::String(name) if !name.trim().is_empty() => name.trim().to_owned(),
            _ => self.user.to_owned(),
        };
        let mut event = Event::new(0, 0, timestamp_ms).with_ms_played(ms_played);
        event.skipped = skipped;
        Ok(Some((user, track, event)))
    }
}

fn read_file(
    path: &Path,
    user: &str,
    options: &ReadOptions,
    builder: &mut EventLogBuilder,
    report: &mut ReadReport,
) -> Result<(), DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let lines = std::rc::Rc::new(std::cell::Cell::new(0));
    let reader = LineCounter {
        inner: BufReader::new(file),
        lines: lines.clone(),
    };
    let mut sink = Sink {
        path,
        user,
        options,
        builder,
        report,
        lines,
        stop: None,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let result = (&mut sink)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    if let Some(err) = sink.stop {
        return Err(err);
    }
    result.map_err(|e| {
        if e.is_io() {
            DataError::io(path, io::Error::other(e.to_string()))
        } else if e.is_eof() && e.line() <= 1 && e.column() == 0 {
            DataError::EmptyFile {
                path: path.to_owned(),
            }
        } else {
            let (line, column) = (e.line(), e.column());
            let full = e.to_string();
            let suffix = format!(" at line {line} column {column}");
            DataError::Json {
                path: path.to_owned(),
                line,
                column,
                message: full.strip_suffix(&suffix).unwrap_or(&full).to_owned(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{EventFormat, read_events};

    const EXPORT: &str = r#"[
  {
    "ts": "2024-03-01T10:03:30Z",
    "username": "",
    "platform": "android",
    "ms_played": 210000,
    "conn_country": "DE",
    "master_metadata_track_name": "Song A",
    "master_metadata_album_artist_name": "Artist",
    "master_metadata_album_album_name": "Album",
    "spotify_track_uri": "spotify:track:aaa",
    "episode_name": null,
    "spotify_episode_uri": null,
    "reason_start": "trackdone",
    "reason_end": "trackdone",
    "shuffle": false,
    "skipped": false
  },
  {
    "ts": "2024-03-01T10:00:00Z",
    "ms_played": 4000,
    "master_metadata_track_name": "Song B",
    "master_metadata_album_artist_name": "Artist",
    "spotify_track_uri": "spotify:track:bbb",
    "skipped": true
  },
  {
    "ts": "2024-03-01T11:00:00Z",
    "ms_played": 1000000,
    "master_metadata_track_name": null,
    "spotify_track_uri": null,
    "episode_name": "Talk",
    "spotify_episode_uri": "spotify:episode:zzz",
    "skipped": null
  },
  {
    "ts": "2024-03-01T12:00:00Z",
    "ms_played": 50000,
    "master_metadata_track_name": "Home Demo",
    "master_metadata_album_artist_name": "Me",
    "spotify_track_uri": null,
    "skipped": null
  }
]"#;

    fn read(path: &Path, options: &ReadOptions) -> Result<(EventLog, ReadReport), DataError> {
        read_events(path, EventFormat::Spotify, options)
    }

    #[test]
    fn reads_one_export_file() {
        let dir = tempfile::tempdir().unwrap();
        let user_dir = dir.path().join("alice");
        std::fs::create_dir(&user_dir).unwrap();
        let path = user_dir.join("Streaming_History_Audio_2024.json");
        std::fs::write(&path, EXPORT).unwrap();
        let (log, report) = read(&path, &ReadOptions::default()).unwrap();
        assert_eq!(report.records, 4);
        assert_eq!(log.len(), 3);
        assert_eq!(report.ignored[EPISODE], 1);
        assert_eq!(log.users().names(), ["alice"]);
        assert_eq!(
            log.items().names(),
            [
                "spotify:track:aaa",
                "spotify:track:bbb",
                "local:Me - Home Demo"
            ]
        );
        let first = log.get(0).unwrap();
        assert_eq!(log.items().name(first.item), Some("spotify:track:bbb"));
        assert_eq!(first.ms_played, Some(4000));
        assert_eq!(first.skipped, Some(true));
        assert_eq!(log.get(1).unwrap().skipped, Some(false));
        assert_eq!(log.get(2).unwrap().skipped, None);
        assert_eq!(report.users_reordered, 1);
    }

    #[test]
    fn reads_a_folder_of_users_and_ignores_other_json() {
        let dir = tempfile::tempdir().unwrap();
        for user in ["bob", "carol"] {
            let d = dir
                .path()
                .join(user)
                .join("Spotify Extended Streaming History");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("Streaming_History_Audio_2024_0.json"), EXPORT).unwrap();
            std::fs::write(d.join("Playlist1.json"), "{}").unwrap();
        }
        let (log, report) = read(dir.path(), &ReadOptions::default()).unwrap();
        assert_eq!(report.files, 2);
        assert_eq!(log.users().names(), ["bob", "carol"]);
        assert_eq!(log.len(), 6);
        assert_eq!(
            report.ignored["JSON file that is not an audio streaming history"],
            2
        );
        // username wins over the folder name.
        std::fs::write(
            dir.path()
                .join("bob/Spotify Extended Streaming History/Streaming_History_Audio_2024_0.json"),
            EXPORT.replace("\"username\": \"\"", "\"username\": \"bob99\""),
        )
        .unwrap();
        let (log, _) = read(dir.path(), &ReadOptions::default()).unwrap();
        assert_eq!(log.users().names(), ["bob99", "bob", "carol"]);
    }

    #[test]
    fn invalid_record_names_record_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("endsong_0.json");
        let bad = EXPORT.replacen("\"ms_played\": 4000", "\"ms_played\": -4", 1);
        std::fs::write(&path, &bad).unwrap();
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::InvalidField { .. }), "{err:?}");
        assert!(
            msg.contains("endsong_0.json") && msg.contains("record 2") && msg.contains("ms_played"),
            "{msg}"
        );
        assert!(msg.contains("ending at line 26"), "{msg}");
        let options = ReadOptions {
            skip_invalid: true,
            ..Default::default()
        };
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(report.skipped_total(), 1);
    }

    #[test]
    fn wrong_types_and_missing_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        for (record, field) in [
            (
                r#"{"ts": 5, "ms_played": 1, "spotify_track_uri": "a"}"#,
                "ts",
            ),
            (r#"{"ms_played": 1, "spotify_track_uri": "a"}"#, "ts"),
            (
                r#"{"ts": "2024-01-01T00:00:00Z", "ms_played": "1", "spotify_track_uri": "a"}"#,
                "ms_played",
            ),
            (
                r#"{"ts": "2024-01-01T00:00:00Z", "ms_played": 1, "spotify_track_uri": 7}"#,
                "spotify_track_uri",
            ),
            (
                r#"{"ts": "2024-01-01T00:00:00Z", "ms_played": 1, "spotify_track_uri": "a", "skipped": "no"}"#,
                "skipped",
            ),
        ] {
            std::fs::write(&path, format!("[{record}]")).unwrap();
            let err = read(&path, &ReadOptions::default()).unwrap_err();
            let DataError::InvalidField { field: f, .. } = &err else {
                panic!("{record}: {err:?}");
            };
            assert_eq!(f, field, "{record}");
        }
    }

    #[test]
    fn empty_and_malformed_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "").unwrap();
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::EmptyFile { .. }), "{err:?}");
        std::fs::write(&path, "[]").unwrap();
        assert!(read(&path, &ReadOptions::default()).unwrap().0.is_empty());
        std::fs::write(&path, "[\n{\"ts\": \"x\",\n").unwrap();
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::Json { line: 3, .. }), "{err:?}");
        std::fs::write(&path, "{\"ts\": 1}").unwrap();
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::Json { .. }), "{err:?}");
        assert!(err.to_string().contains("array"), "{err}");
    }
}
