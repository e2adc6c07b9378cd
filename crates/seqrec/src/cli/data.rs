//! Where `--data` points: a directory in the gSASRec layout, or a file (or folder) of
//! listening events, split by time as in the paper.

use std::path::Path;

use seqrec::data::{
    DAY_MS, EventFormat, ItemVocabulary, LeaveOneOutOptions, ReadOptions, SequenceDataset,
    WindowOptions, WindowSplit, read_events, split_by_time, split_leave_one_out,
};

use super::CliError;

/// Options for reading listening events.
#[derive(Debug, Clone, clap::Args)]
pub struct EventArgs {
    /// Format of --data when it is a file of events: csv, tsv, parquet, spotify, lastfm,
    /// yambda or sequences (default: from the file name).
    #[arg(long)]
    format: Option<EventFormat>,
    /// Skip malformed rows (and report how many and why) instead of failing.
    #[arg(long)]
    skip_invalid: bool,
    /// Days of history to train on, before the held-out window.
    #[arg(long, default_value_t = 60)]
    history_days: i64,
    /// Days held out after the history window.
    #[arg(long, default_value_t = 7)]
    held_out_days: i64,
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
    let options = ReadOptions {
        skip_invalid: events.skip_invalid,
        ..ReadOptions::default()
    };
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
    Ok(Source::Window(Box::new(split_by_time(&log, &windows)?)))
}
