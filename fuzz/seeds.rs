//! Writes a small seed corpus of valid files for every fuzz target into `corpus/<target>/`
//! (run from `fuzz/`: `cargo +nightly run --bin seeds`). Nothing here is committed.

use std::fs;
use std::path::Path;

use seqrec_data::{HistoryTargets, SequenceDataset};
use seqrec_events::{Event, EventLogBuilder};

fn main() {
    let corpus = Path::new("corpus");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus.join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
    };
    let scratch = tempfile::tempdir().unwrap();

    // An event log with every field, a repeat, a tie, an id that needs quoting.
    let mut b = EventLogBuilder::default();
    let rows = [
        (
            "alice",
            "spotify:track:1",
            1_704_067_200_000,
            Some(200_000),
            Some(210_000),
            Some(false),
        ),
        (
            "alice",
            "t,2",
            1_704_067_400_000,
            Some(5_000),
            None,
            Some(true),
        ),
        (
            "alice",
            "spotify:track:1",
            1_704_067_400_000,
            None,
            None,
            None,
        ),
        ("bob", "say \"hi\"", -5_000, Some(0), Some(1), None),
        (
            "bob",
            "t,2",
            1_704_153_600_123,
            Some(31_000),
            None,
            Some(false),
        ),
    ];
    for (user, track, t, ms, len, skipped) in rows {
        let (u, i) = (b.user_id(user), b.item_id(track));
        let mut e = Event::new(u, i, t);
        e.ms_played = ms;
        e.track_length_ms = len;
        e.skipped = skipped;
        b.push(e).unwrap();
    }
    let (log, _) = b.finish(true);
    for (target, name) in [
        ("csv", "events.csv"),
        ("tsv", "events.tsv"),
        ("parquet", "events.parquet"),
    ] {
        let path = scratch.path().join(name);
        seqrec_events::write_events(&log, &path).unwrap();
        put(target, name, &fs::read(&path).unwrap());
    }
    put(
        "csv",
        "unix-times.csv",
        b"\xef\xbb\xbfuser_id,track_id,timestamp,ms_played\r\nu,t,1704067200,100\r\nu,t2,1704067200000,\r\n",
    );

    put(
        "spotify",
        "export.json",
        br#"[
  {"ts": "2024-03-01T10:03:30Z", "username": "", "ms_played": 210000,
   "master_metadata_track_name": "Song A", "master_metadata_album_artist_name": "Artist",
   "spotify_track_uri": "spotify:track:aaa", "spotify_episode_uri": null, "skipped": false},
  {"ts": "2024-03-01T10:00:00Z", "ms_played": 4000, "spotify_track_uri": "spotify:track:bbb",
   "skipped": true},
  {"ts": "2024-03-01T11:00:00Z", "ms_played": 1000000, "spotify_track_uri": null,
   "spotify_episode_uri": "spotify:episode:zzz", "skipped": null},
  {"ts": "2024-03-01T12:00:00Z", "ms_played": 50000, "master_metadata_track_name": "Demo",
   "master_metadata_album_artist_name": "Me", "spotify_track_uri": null, "skipped": 1}
]
"#,
    );

    put(
        "lastfm",
        "userid-timestamp-artid-artname-traid-traname.tsv",
        "user_000001\t2009-05-04T23:08:57Z\tf1b1cf71-bd35-4e99-8624-24a6e15f133a\tDeep Dish\t\tFuego\n\
         user_000001\t2009-05-04T13:54:10Z\ta7f7df4a-77d8-4f12-8acd-5c60c93f4de8\t坂本龍一\t\tComposition 0919\n\
         user_000002\t2009-05-04T13:52:04Z\t\tUnknown\t4e3ab6d9-3d2c-4b4c-9a57-b8c83b39e1f4\tTrack\n"
            .as_bytes(),
    );

    let sequences = b"1 2 3\n4 5\n6\n2 2 2 2\n";
    put("sequences", "sequences.txt", sequences);
    put("sequences", "targets.txt", b"3\n1\r\n2\n");

    // A layout: the files joined by NUL bytes, in the target's order.
    let val = HistoryTargets::new(vec![vec![1, 2], vec![3]], vec![3, 1]).unwrap();
    let test = HistoryTargets::new(vec![vec![1, 2, 3], vec![3, 1]], vec![4, 2]).unwrap();
    let dataset = SequenceDataset::new(4, vec![vec![1], vec![3]], Some(val), Some(test)).unwrap();
    let dir = scratch.path().join("layout");
    dataset.save_dir(&dir).unwrap();
    let mut joined = Vec::new();
    for file in [
        "dataset_stats.json",
        "train/input.txt",
        "val/input.txt",
        "val/output.txt",
        "test/input.txt",
        "test/output.txt",
    ] {
        joined.extend(fs::read(dir.join(file)).unwrap());
        joined.push(0);
    }
    joined.extend_from_slice(b"1 2 3 4\n3 1 2\n");
    put("gsasrec_layout", "layout", &joined);
    println!("seed corpus written to {}", corpus.display());
}
