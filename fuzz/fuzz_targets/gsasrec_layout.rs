//! The gSASRec layout reader: the input, split at NUL bytes, becomes `dataset_stats.json`,
//! `train/input.txt`, `val/input.txt`, `val/output.txt`, `test/input.txt`,
//! `test/output.txt` and `sequences.txt` (a missing part: no file; no val or test part: no
//! folder). What loads is valid and saves and loads back unchanged.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use seqrec_data::{SequenceDataset, load_full_sequences};
use seqrec_events::EventFormat;

const FILES: [&str; 7] = [
    "dataset_stats.json",
    "train/input.txt",
    "val/input.txt",
    "val/output.txt",
    "test/input.txt",
    "test/output.txt",
    "sequences.txt",
];

fuzz_target!(|data: &[u8]| {
    let root = common::scratch().join("layout");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    for (file, part) in FILES.iter().zip(data.split(|&b| b == 0)) {
        common::write(&format!("layout/{file}"), part);
    }
    let shown = root.display().to_string();
    match SequenceDataset::load_dir(&root) {
        Ok(dataset) => {
            dataset.validate().unwrap();
            let copy = common::scratch().join("layout-copy");
            let _ = std::fs::remove_dir_all(&copy);
            dataset.save_dir(&copy).unwrap();
            let mut back = SequenceDataset::load_dir(&copy).unwrap();
            // Skipped empty lines are not written again.
            back.skipped_empty = dataset.skipped_empty;
            assert_eq!(back, dataset);
        }
        Err(err) => assert!(err.to_string().contains(&shown), "{err}"),
    }
    if let Err(err) = load_full_sequences(&root) {
        assert!(err.to_string().contains(&shown), "{err}");
    }
    // The layout folder read as events.
    if let Err(err) = seqrec_events::read_events(&root, EventFormat::Sequences, &Default::default()) {
        assert!(err.to_string().contains(&shown), "{err}");
    }
});
