//! Where `--data` points: a directory in the gSASRec layout, or a file (or folder) of
//! listening events, split by time as in the paper.

use std::path::Path;

use seqrec::data::{ItemVocabulary, SequenceDataset};
use seqrec::events::{
    ColumnNames, DAY_MS, EventFormat, LeaveOneOutOptions, ReadOptions, TimestampFormat,
    WindowOptions, WindowSplit, read_events, split_by_time_owned, split_leave_one_out,
};

use super::CliError;

/// Options for reading listening events.
#[derive(Debug, Clone, clap::Args)]
pub struct EventArgs {
    /// Format of --data when it is a file of events: csv, tsv, parquet, spotify, lastfm,
    /// yambda, recbole or sequences (default: from the file name; `.csv.gz`/`.tsv.gz` are
    /// gzipped CSV/TSV, `.inter` is RecBole).
    #[arg(long)]
    format: Option<EventFormat>,
    /// CSV/TSV/Parquet/RecBole: the user id column [default: user_id].
    #[arg(long, value_name = "NAME")]
    user_col: Option<String>,
    /// CSV/TSV/Parquet/RecBole: the track (item) id column [default: track_id; item_id
    /// for RecBole].
    #[arg(long, value_name = "NAME")]
    item_col: Option<String>,
    /// CSV/TSV/Parquet/RecBole: the timestamp column [default: timestamp].
    #[arg(long, value_name = "NAME")]
    time_col: Option<String>,
    /// CSV/TSV/Parquet/RecBole: the play duration column, in milliseconds [default:
    /// ms_played, used when present]. A named column must be present.
    #[arg(long, value_name = "NAME")]
    played_col: Option<String>,
    /// How timestamps are written: auto (RFC 3339 text, or Unix seconds, or milliseconds
    /// from 10^11 on; seconds for RecBole), rfc3339, unix-seconds (seconds) or unix-millis
    /// (millis).
    #[arg(long, value_name = "FORMAT", default_value = "auto")]
    time_format: TimestampFormat,
    /// Field delimiter of CSV/TSV/RecBole text: one ASCII character, or `tab`, `\t`
    /// [default: a tab for .tsv/.tab/.inter (also gzipped), else a comma].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    delimiter: Option<u8>,
    /// Skip malformed rows (and report how many and why) instead of failing.
    #[arg(long)]
    skip_invalid: bool,
    /// Days of history to train on, before the held-out window (the paper's).
    #[arg(long, default_value_t = seqrec::ablation::default_windows().history_ms / DAY_MS)]
    history_days: i64,
    /// Days held out after the history window (the paper's).
    #[arg(long, default_value_t = seqrec::ablation::default_windows().held_out_ms / DAY_MS)]
    held_out_days: i64,
}

impl EventArgs {
    /// The reader options: today's defaults, with the columns, timestamp format and
    /// delimiter the flags name.
    fn read_options(&self) -> ReadOptions {
        let mut columns = ColumnNames::default();
        for (flag, column) in [
            (&self.user_col, &mut columns.user),
            (&self.item_col, &mut columns.track),
            (&self.time_col, &mut columns.timestamp),
        ] {
            if let Some(name) = flag {
                column.clone_from(name);
            }
        }
        if let Some(name) = &self.played_col {
            columns.ms_played = Some(name.clone());
            columns.must_exist.push(name.clone());
        }
        ReadOptions {
            columns,
            delimiter: self.delimiter,
            timestamp: self.time_format,
            skip_invalid: self.skip_invalid,
            ..ReadOptions::default()
        }
    }
}

/// `--delimiter`: one ASCII character, or `tab`/`\t` for a tab.
fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ => match text.as_bytes() {
            &[byte] if byte.is_ascii() && byte != b'\n' && byte != b'\r' && byte != b'"' => {
                Ok(byte)
            }
            _ => Err(format!(
                "expected one ASCII character (or `tab`) other than a quote or a line break, got {text:?}"
            )),
        },
    }
}

/// A dataset ready for training, with the users' item ids.
pub struct LoadedData {
    /// Sequences and held-out items.
    pub dataset: SequenceDataset,
    /// The users' own item ids (identity for the gSASRec layout).
    pub items: ItemVocabulary,
}

/// What `--data` holds, before it becomes training data.
pub enum Source {
    /// A next-item dataset: the gSASRec layout, or sequences split leave-one-out.
    Sequences(Box<LoadedData>),
    /// A listening log split into history and held-out windows.
    Window(Box<WindowSplit>),
}

/// Loads `path`: the gSASRec layout when it is a directory with `dataset_stats.json`,
/// listening events otherwise.
pub fn load_source(path: &Path, events: &EventArgs) -> Result<Source, CliError> {
    if path.is_dir() && path.join("dataset_stats.json").is_file() {
        let dataset = SequenceDataset::load_dir(path)?;
        let skipped = dataset.skipped_empty;
        if skipped.total() > 0 {
            eprintln!(
                "{}: skipped users with an empty history line: {} in train, {} in val, {} in test",
                path.display(),
                skipped.train,
                skipped.val,
                skipped.test
            );
        }
        let items = ItemVocabulary::identity(dataset.num_items);
        return Ok(Source::Sequences(Box::new(LoadedData { dataset, items })));
    }
    let format = match events.format {
        Some(format) => format,
        None => EventFormat::detect(path)?,
    };
    let options = events.read_options();
    let (log, report) = read_events(path, format, &options)?;
    eprintln!("{}: {report}", path.display());
    if format == EventFormat::Sequences {
        let split = split_leave_one_out(&log, &LeaveOneOutOptions::default())?;
        return Ok(Source::Sequences(Box::new(LoadedData {
            dataset: split.dataset,
            items: split.items,
        })));
    }
    let windows = WindowOptions {
        history_ms: events.history_days * DAY_MS,
        held_out_ms: events.held_out_days * DAY_MS,
        ..WindowOptions::default()
    };
    // The log is not needed after the split: the owned split moves its ids and frees it
    // before the training copies are made (docs/scale-events.md).
    Ok(Source::Window(Box::new(split_by_time_owned(
        log, &windows,
    )?)))
}
