//! The Spotify reader on arbitrary bytes, as one export file and as a folder of exports.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use seqrec_events::EventFormat;

fuzz_target!(|data: &[u8]| {
    let path = common::write("spotify/alice/Streaming_History_Audio_2024.json", data);
    let file = common::check_read(&path, EventFormat::Spotify);
    if let Some(log) = &file {
        common::check_round_trip(log);
    }
    let folder = seqrec_events::read_events(
        common::scratch().join("spotify"),
        EventFormat::Spotify,
        &Default::default(),
    );
    match (&file, folder) {
        (Some(log), Ok((folder_log, _))) => assert_eq!(&folder_log, log),
        (None, Ok(_)) => panic!("the folder loaded where its only file did not"),
        (_, Err(err)) => assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        ),
    }
});
