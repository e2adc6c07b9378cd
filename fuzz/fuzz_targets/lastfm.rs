//! The lastfm reader on arbitrary bytes (`userid-timestamp-artid-artname-traid-traname.tsv`), then a round trip of what loads.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use seqrec_events::EventFormat;

fuzz_target!(|data: &[u8]| {
    let path = common::write("userid-timestamp-artid-artname-traid-traname.tsv", data);
    if let Some(log) = common::check_read(&path, EventFormat::LastFm) {
        common::check_round_trip(&log);
    }
});
