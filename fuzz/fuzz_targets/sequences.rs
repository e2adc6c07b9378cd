//! The sequence and target file readers, and the sequence reader of events, on arbitrary
//! bytes: what loads has one entry per line and round-trips through the writers.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use seqrec_data::{
    read_sequences, read_sequences_skipping_empty, read_targets, write_sequences, write_targets,
};
use seqrec_events::EventFormat;

fuzz_target!(|data: &[u8]| {
    let path = common::write("sequences.txt", data);
    let shown = path.display().to_string();
    let lines = data.split_inclusive(|&b| b == b'\n').count();
    let check = |err: seqrec_data::DataError| {
        assert!(err.to_string().contains(&shown), "{err}");
    };
    // A bound from the first byte, so that range errors are reached too.
    let bound = data.first().map(|&b| u32::from(b) + 1);
    for num_items in [None, bound] {
        match read_sequences(&path, num_items) {
            Ok(sequences) => {
                assert_eq!(sequences.len(), lines);
                let copy = common::scratch().join("copy.txt");
                write_sequences(&copy, &sequences).unwrap();
                assert_eq!(read_sequences(&copy, num_items).unwrap(), sequences);
            }
            Err(err) => check(err),
        }
        match read_sequences_skipping_empty(&path, num_items) {
            Ok((sequences, skipped)) => assert_eq!(sequences.len() + skipped.len(), lines),
            Err(err) => check(err),
        }
        match read_targets(&path, num_items) {
            Ok(targets) => {
                assert_eq!(targets.len(), lines);
                let copy = common::scratch().join("copy-targets.txt");
                write_targets(&copy, &targets).unwrap();
                assert_eq!(read_targets(&copy, num_items).unwrap(), targets);
            }
            Err(err) => check(err),
        }
    }
    if let Some(log) = common::check_read(&path, EventFormat::Sequences) {
        assert_eq!(log.users().len(), lines);
    }
});
