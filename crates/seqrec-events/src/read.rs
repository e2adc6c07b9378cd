//! Reading events: the formats, the options shared by every reader, and
//! [`read_events`], which dispatches to the right reader.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::log::EventLog;
use crate::report::ReadReport;
use crate::timestamp::TimestampFormat;
use crate::{compress, csv, lastfm, recbole, sequences, spotify};
#[cfg(feature = "parquet")]
use crate::{parquet, yambda};
use seqrec_data::DataError;

/// The event file formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventFormat {
    /// CSV or TSV with a header line (see [`ColumnNames`]), plain or gzip-compressed.
    Csv,
    /// Parquet with the columns of [`ColumnNames`].
    Parquet,
    /// Spotify extended streaming history JSON: one file, or a folder of exports.
    Spotify,
    /// The Last.fm-1K `userid-timestamp-artid-artname-traid-traname.tsv` file.
    LastFm,
    /// Yambda-style flat Parquet (`uid`, `item_id`, `timestamp`, `played_ratio_pct`,
    /// `track_length_seconds`).
    Yambda,
    /// Sequence files of the gSASRec layout (`sequences.txt`, or a layout folder).
    Sequences,
    /// A RecBole atomic `.inter` file: tab-separated, header fields `name:type`
    /// (`user_id:token`, `item_id:token`, `timestamp:float`, …), timestamps in Unix seconds;
    /// plain or gzip-compressed.
    RecBole,
}

impl EventFormat {
    /// Every format.
    pub const ALL: [EventFormat; 7] = [
        Self::Csv,
        Self::Parquet,
        Self::Spotify,
        Self::LastFm,
        Self::Yambda,
        Self::Sequences,
        Self::RecBole,
    ];

    /// The format's name as [`FromStr`] takes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
            Self::Spotify => "spotify",
            Self::LastFm => "lastfm",
            Self::Yambda => "yambda",
            Self::Sequences => "sequences",
            Self::RecBole => "recbole",
        }
    }

    /// Guesses the format of `path`:
    ///
    /// - a folder with `dataset_stats.json` or `sequences.txt`, or a `.txt` file:
    ///   [`EventFormat::Sequences`];
    /// - another folder, or a `.json` file: [`EventFormat::Spotify`];
    /// - a `.parquet`/`.pq` file: [`EventFormat::Yambda`] if it has `uid` and `item_id`
    ///   columns, else [`EventFormat::Parquet`];
    /// - a file named `userid-timestamp-…`: [`EventFormat::LastFm`];
    /// - a `.inter` or `.inter.gz` file: [`EventFormat::RecBole`];
    /// - anything else (`.csv`, `.tsv`, `.csv.gz`, …): [`EventFormat::Csv`].
    ///
    /// # Errors
    ///
    /// [`DataError::MissingFile`] if `path` does not exist, Parquet metadata errors, and
    /// [`DataError::NotBuilt`] for a Parquet file when the `parquet` feature is off.
    pub fn detect(path: &Path) -> Result<Self, DataError> {
        let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
        if meta.is_dir() {
            let layout = path.join(seqrec_data::gsasrec_layout::STATS_FILE).exists()
                || path
                    .join(seqrec_data::gsasrec_layout::SEQUENCES_FILE)
                    .exists();
            return Ok(if layout {
                Self::Sequences
            } else {
                Self::Spotify
            });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        Ok(match extension.as_str() {
            "txt" => Self::Sequences,
            "json" => Self::Spotify,
            #[cfg(feature = "parquet")]
            "parquet" | "pq" => {
                if parquet::has_columns(path, &["uid", "item_id"])? {
                    Self::Yambda
                } else {
                    Self::Parquet
                }
            }
            #[cfg(not(feature = "parquet"))]
            "parquet" | "pq" => return Err(crate::parquet_not_built(path, "reading Parquet")),
            _ if name.starts_with("userid-timestamp") => Self::LastFm,
            _ if compress::content_extension(path).as_deref() == Some("inter") => Self::RecBole,
            _ => Self::Csv,
        })
    }
}

impl fmt::Display for EventFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventFormat {
    type Err = DataError;

    /// Parses a format name; `tsv` is [`EventFormat::Csv`] and `last.fm`/`lastfm-1k` are
    /// [`EventFormat::LastFm`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Ok(Self::Csv),
            "parquet" => Ok(Self::Parquet),
            "spotify" => Ok(Self::Spotify),
            "lastfm" | "last.fm" | "lastfm-1k" => Ok(Self::LastFm),
            "yambda" => Ok(Self::Yambda),
            "sequences" | "gsasrec" => Ok(Self::Sequences),
            "recbole" | "inter" => Ok(Self::RecBole),
            _ => Err(DataError::UnknownFormat { text: s.to_owned() }),
        }
    }
}

/// Column names of the CSV/TSV and Parquet event formats.
///
/// The user, track and timestamp columns are required; the optional ones may be absent
/// from a file (their values are then unknown, and the [`ReadReport`] lists them) unless
/// they are listed in [`ColumnNames::must_exist`].
///
/// The RecBole reader takes the same names, matched against the part of each header field
/// before its `:type` suffix; there the default track column `track_id` stands for
/// RecBole's `item_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnNames {
    /// User id column. Default `user_id`.
    pub user: String,
    /// Track id column. Default `track_id`.
    pub track: String,
    /// Timestamp column. Default `timestamp`.
    pub timestamp: String,
    /// Milliseconds played. Default `ms_played`.
    pub ms_played: Option<String>,
    /// Track length in milliseconds. Default `track_length_ms`.
    pub track_length_ms: Option<String>,
    /// Skipped flag (`true`/`false`/`1`/`0`, empty for unknown). Default `skipped`.
    pub skipped: Option<String>,
    /// Optional columns (by name) that must be present all the same, e.g. because the user
    /// named them: a file without one is refused with [`DataError::MissingColumn`].
    /// Default empty.
    pub must_exist: Vec<String>,
}

impl ColumnNames {
    /// Whether the column `name` is required: one of the three required columns, or listed
    /// in [`ColumnNames::must_exist`].
    pub fn is_required(&self, name: &str) -> bool {
        [&self.user, &self.track, &self.timestamp]
            .into_iter()
            .chain(&self.must_exist)
            .any(|c| c == name)
    }
}

impl Default for ColumnNames {
    fn default() -> Self {
        Self {
            user: "user_id".into(),
            track: "track_id".into(),
            timestamp: "timestamp".into(),
            ms_played: Some("ms_played".into()),
            track_length_ms: Some("track_length_ms".into()),
            skipped: Some("skipped".into()),
            must_exist: Vec::new(),
        }
    }
}

/// Options shared by the readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Column names (CSV/TSV and Parquet).
    pub columns: ColumnNames,
    /// Field delimiter of CSV/TSV and RecBole; `None`: a tab for `.tsv`/`.tab` files (also
    /// gzipped, `.tsv.gz`) and RecBole, else a comma.
    pub delimiter: Option<u8>,
    /// How timestamps are written (CSV/TSV and Parquet text or integer columns; Yambda
    /// integer timestamps and RecBole timestamps are read as Unix seconds under
    /// [`TimestampFormat::Auto`]).
    pub timestamp: TimestampFormat,
    /// Skip invalid records and count them in the [`ReadReport`] instead of failing.
    pub skip_invalid: bool,
    /// Remove exact duplicate events (all fields equal). Default `true`.
    pub dedup: bool,
    /// Last.fm: the longest play time inferred from the gap to the next scrobble (also the
    /// play time of each user's last scrobble). Default 300 000 ms (5 minutes).
    pub lastfm_max_play_ms: u32,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            columns: ColumnNames::default(),
            delimiter: None,
            timestamp: TimestampFormat::Auto,
            skip_invalid: false,
            dedup: true,
            lastfm_max_play_ms: 300_000,
        }
    }
}

/// Reads an event file (or folder) of the given format into an [`EventLog`].
///
/// Every reader streams its input (no whole file held as one string), sorts each user's
/// events by time, removes exact duplicates when `options.dedup` is set, and reports what
/// it skipped or ignored.
///
/// # Errors
///
/// [`DataError::MissingFile`] and [`DataError::Io`] for the input; for a malformed record
/// an error naming the file, the line (or record, or row group and row) and the field
/// ([`DataError::InvalidField`], [`DataError::FieldCount`]) unless
/// `options.skip_invalid`; [`DataError::MissingColumn`], [`DataError::ColumnType`],
/// [`DataError::EmptyFile`], [`DataError::Csv`], [`DataError::Gzip`], [`DataError::Json`]
/// and [`DataError::Parquet`] for files that cannot be read at all.
///
/// ```
/// use seqrec_events::{EventFormat, ReadOptions, read_events};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("events.csv");
/// std::fs::write(
///     &path,
///     "user_id,track_id,timestamp,ms_played\n\
///      alice,t1,2024-01-01T10:00:00Z,200000\n\
///      alice,t2,1704103500,12000\n\
///      bob,t1,1704103600000,\n",
/// )?;
/// let (log, report) = read_events(&path, EventFormat::Csv, &ReadOptions::default())?;
/// assert_eq!(log.len(), 3);
/// assert_eq!(log.users().names(), ["alice", "bob"]);
/// assert_eq!(log.get(1).unwrap().ms_played, Some(12_000));
/// assert_eq!(log.get(2).unwrap().ms_played, None);
/// assert_eq!(report.records, 3);
/// # Ok(()) }
/// ```
pub fn read_events(
    path: impl AsRef<Path>,
    format: EventFormat,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let path = path.as_ref();
    if options.lastfm_max_play_ms == 0 || options.lastfm_max_play_ms > crate::log::MAX_MS {
        return Err(DataError::InvalidOptions {
            reason: format!(
                "lastfm_max_play_ms must lie in 1..={}, got {}",
                crate::log::MAX_MS,
                options.lastfm_max_play_ms
            ),
        });
    }
    match format {
        EventFormat::Csv => csv::read_csv(path, options),
        #[cfg(feature = "parquet")]
        EventFormat::Parquet => parquet::read_parquet(path, options),
        #[cfg(feature = "parquet")]
        EventFormat::Yambda => yambda::read_yambda(path, options),
        #[cfg(not(feature = "parquet"))]
        EventFormat::Parquet | EventFormat::Yambda => {
            Err(crate::parquet_not_built(path, "reading Parquet"))
        }
        EventFormat::Spotify => spotify::read_spotify(path, options),
        EventFormat::LastFm => lastfm::read_lastfm(path, options),
        EventFormat::Sequences => sequences::read_sequence_events(path, options),
        EventFormat::RecBole => recbole::read_recbole(path, options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in EventFormat::ALL {
            assert_eq!(format.to_string().parse::<EventFormat>().unwrap(), format);
        }
        assert_eq!("TSV".parse::<EventFormat>().unwrap(), EventFormat::Csv);
        let err = "xml".parse::<EventFormat>().unwrap_err();
        assert!(matches!(err, DataError::UnknownFormat { .. }));
    }

    #[test]
    fn detect_uses_folders_extensions_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let touch = |name: &str| {
            let p = root.join(name);
            std::fs::write(&p, "").unwrap();
            p
        };
        assert_eq!(
            EventFormat::detect(&touch("a.csv")).unwrap(),
            EventFormat::Csv
        );
        assert_eq!(
            EventFormat::detect(&touch("a.tsv")).unwrap(),
            EventFormat::Csv
        );
        for name in ["a.csv.gz", "a.TSV.GZ"] {
            assert_eq!(EventFormat::detect(&touch(name)).unwrap(), EventFormat::Csv);
        }
        for name in ["ml-1m.inter", "ml-1m.inter.gz"] {
            assert_eq!(
                EventFormat::detect(&touch(name)).unwrap(),
                EventFormat::RecBole
            );
        }
        assert_eq!(
            EventFormat::detect(&touch("x.json")).unwrap(),
            EventFormat::Spotify
        );
        assert_eq!(
            EventFormat::detect(&touch("sequences.txt")).unwrap(),
            EventFormat::Sequences
        );
        assert_eq!(
            EventFormat::detect(&touch("userid-timestamp-artid-artname-traid-traname.tsv"))
                .unwrap(),
            EventFormat::LastFm
        );
        // The folder now holds sequences.txt: a layout.
        assert_eq!(EventFormat::detect(root).unwrap(), EventFormat::Sequences);
        let exports = root.join("exports");
        std::fs::create_dir(&exports).unwrap();
        assert_eq!(EventFormat::detect(&exports).unwrap(), EventFormat::Spotify);
        assert!(matches!(
            EventFormat::detect(&root.join("absent.csv")),
            Err(DataError::MissingFile { .. })
        ));
    }

    #[test]
    fn lastfm_cap_is_checked() {
        let options = ReadOptions {
            lastfm_max_play_ms: 0,
            ..Default::default()
        };
        let err = read_events("whatever", EventFormat::LastFm, &options).unwrap_err();
        assert!(matches!(err, DataError::InvalidOptions { .. }), "{err:?}");
    }
}
