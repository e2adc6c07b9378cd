//! Writes a simulated listening log of any size as one Parquet file, a few thousand
//! listeners at a time, so that the events are never all in memory:
//!
//! `cargo run --release -p seqrec-simulator --example events_generate -- EVENTS TRACKS OUT
//! [SHARD_USERS]`
//!
//! e.g. `... -- 100000000 2000000 /work/scale-data/events-100m.parquet` for about 100 M plays
//! of 510 000 listeners over a catalogue of 2 M tracks (the default settings otherwise: 67
//! days, string ids `u000001` and `t0000001`, play times, track lengths and skip flags).
//! Listener `u` gets the same plays as in `Simulation::run` with the same settings
//! (`simulate_users`), so the file does not depend on SHARD_USERS (default 20 000).

use std::path::PathBuf;
use std::time::Instant;

use seqrec_events::ParquetEventWriter;
use seqrec_simulator::{Catalog, SimulatorConfig, simulate_users};

/// Mean plays per listener of the default settings (67 days, median 120).
const MEAN_PLAYS: f64 = 195.8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [events, tracks, out, rest @ ..] = args.as_slice() else {
        return Err("usage: events_generate EVENTS TRACKS OUT [SHARD_USERS]".into());
    };
    let events: f64 = events.parse()?;
    let tracks: usize = tracks.parse()?;
    let out = PathBuf::from(out);
    let shard: usize = rest
        .first()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let config = SimulatorConfig {
        users: (events / MEAN_PLAYS).ceil() as usize,
        tracks,
        ..Default::default()
    };
    config.validate()?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let start = Instant::now();
    let catalog = Catalog::of_config(&config);
    eprintln!(
        "catalogue of {} tracks in {:.1} s; {} listeners in shards of {shard}",
        catalog.len(),
        start.elapsed().as_secs_f64(),
        config.users
    );
    let mut writer = ParquetEventWriter::create(&out)?;
    let mut first = 0;
    while first < config.users {
        let end = (first + shard.max(1)).min(config.users);
        let log = simulate_users(&config, &catalog, first..end)?;
        writer.write(&log)?;
        eprintln!(
            "listeners {first}..{end}: {} events so far, {:.0} s",
            writer.events(),
            start.elapsed().as_secs_f64()
        );
        first = end;
    }
    let written = writer.events();
    writer.finish()?;
    println!(
        "{}: {written} events, {} listeners, {} tracks, {:.0} MB, {:.0} s",
        out.display(),
        config.users,
        catalog.len(),
        std::fs::metadata(&out)?.len() as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
