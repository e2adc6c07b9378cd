//! The sequence files of the gSASRec layout (e.g. `../shared/data/ml1m-loo`) as events.
//!
//! Given a layout folder, its `sequences.txt` (full histories) is read, with ids checked
//! against `dataset_stats.json` and the item vocabulary set to the identity (dense id =
//! the file's id); given a single file, the file is read and the items are numbered in
//! order of first appearance. Line `n` is user `"n"`. The files hold no times: the `j`-th
//! item of a line (from 0) gets the timestamp `j` seconds after the Unix epoch, so only
//! the order is meaningful (use a leave-one-out split, not a time-window split). Play
//! times are unknown.

use std::path::Path;

use crate::log::{Event, EventLog, EventLogBuilder};
use crate::read::ReadOptions;
use crate::report::ReadReport;
use seqrec_data::DataError;
use seqrec_data::gsasrec_layout::{SEQUENCES_FILE, STATS_FILE};
use seqrec_data::sequence_file::read_sequences;
use seqrec_data::stats::DatasetStats;
use seqrec_data::vocabulary::Vocabulary;

/// Reads sequences as events. See [`crate::read_events`].
pub(crate) fn read_sequence_events(
    path: &Path,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    let (sequences, items) = if meta.is_dir() {
        let stats_path = path.join(STATS_FILE);
        let stats = DatasetStats::read(&stats_path)?;
        if stats.num_items == 0 {
            return Err(DataError::ZeroItems { path: stats_path });
        }
        let sequences = read_sequences(&path.join(SEQUENCES_FILE), Some(stats.num_items))?;
        (sequences, Vocabulary::identity(stats.num_items))
    } else {
        (read_sequences(path, None)?, Vocabulary::default())
    };
    let users: Vocabulary = (1..=sequences.len()).map(|u| u.to_string()).collect();
    let mut builder = EventLogBuilder::with_vocabularies(users, items);
    builder.reserve(sequences.iter().map(Vec::len).sum());
    let mut report = ReadReport {
        files: 1,
        ..Default::default()
    };
    let mut name = String::new();
    for (u, sequence) in sequences.iter().enumerate() {
        for (j, &raw) in sequence.iter().enumerate() {
            name.clear();
            use std::fmt::Write;
            let _ = write!(name, "{raw}");
            let item = builder.item_id(&name);
            builder.push(Event::new(u as u32 + 1, item, j as i64 * 1000))?;
        }
        report.records += sequence.len() as u64;
    }
    let (log, normalization) = builder.finish(options.dedup);
    report.normalized(normalization, log.len());
    report.missing_optional_columns = vec![
        "ms_played".into(),
        "track_length_ms".into(),
        "skipped".into(),
    ];
    report.notes.push(
        "sequence files hold no times: item j of a line is at j seconds after the epoch".into(),
    );
    Ok((log, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{EventFormat, read_events};

    #[test]
    fn a_single_file_numbers_items_by_first_appearance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seq.txt");
        std::fs::write(&path, "7 3 7\n3\n").unwrap();
        let (log, report) =
            read_events(&path, EventFormat::Sequences, &ReadOptions::default()).unwrap();
        assert_eq!(report.records, 4);
        assert_eq!(log.items().names(), ["7", "3"]);
        assert_eq!(log.sequences(), vec![vec![1, 2, 1], vec![2]]);
        assert_eq!(log.timestamps_ms(), [0, 1000, 2000, 0]);
        std::fs::write(&path, "1 x\n").unwrap();
        let err = read_events(&path, EventFormat::Sequences, &ReadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("line 1, token 2"), "{err}");
    }

    /// The ml1m-loo layout read as events gives back its own sequences and ids.
    #[test]
    fn reads_shared_ml1m_loo_with_identity_ids() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ml1m-loo");
        if !dir.is_dir() {
            eprintln!("note: {} is absent; skipping", dir.display());
            return;
        }
        let options = ReadOptions {
            dedup: false,
            ..Default::default()
        };
        let (log, report) = read_events(&dir, EventFormat::Sequences, &options).unwrap();
        let full = seqrec_data::gsasrec_layout::load_full_sequences(&dir).unwrap();
        assert_eq!(log.len(), full.iter().map(Vec::len).sum::<usize>());
        assert_eq!(report.events, log.len());
        assert_eq!(log.items().len(), 3416);
        assert_eq!(log.sequences(), full);
    }
}
