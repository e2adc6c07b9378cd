//! The Parquet and Yambda readers on arbitrary bytes, then a round trip of what loads.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use seqrec_events::EventFormat;

fuzz_target!(|data: &[u8]| {
    let path = common::write("events.parquet", data);
    if let Some(log) = common::check_read(&path, EventFormat::Parquet) {
        common::check_round_trip(&log);
    }
    common::check_read(&path, EventFormat::Yambda);
    // Detection reads the footer too.
    let _ = EventFormat::detect(&path);
});
