//! Measures memory per event and read rates on simulated events:
//! `cargo run --release -p seqrec-simulator --example events_bench [EVENTS] [DIR]`
//! (default 10 000 000 events, files in a temporary folder that is removed afterwards).

use std::path::PathBuf;
use std::time::Instant;

use seqrec_events::{
    BYTES_PER_EVENT, EventFormat, ReadOptions, WindowOptions, read_events, split_by_time,
    write_events_csv, write_events_parquet,
};
use seqrec_simulator::{SimulatorConfig, simulate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let target: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000_000);
    let temp = tempfile::tempdir()?;
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir)?;

    // The default configuration gives about 196 plays per user.
    let users = (target as f64 / 195.8).ceil() as usize;
    let config = SimulatorConfig {
        users,
        tracks: 100_000,
        ..Default::default()
    };
    let start = Instant::now();
    let log = simulate(&config)?;
    let simulate_s = start.elapsed().as_secs_f64();
    let n = log.len() as f64;
    println!(
        "simulated {} events ({users} users) in {simulate_s:.2} s ({:.2} M events/s)",
        log.len(),
        n / simulate_s / 1e6
    );
    println!(
        "in memory: {:.1} bytes/event in all ({} in columns, at most {BYTES_PER_EVENT}), {:.0} MB",
        log.heap_bytes() as f64 / n,
        log.column_bytes_per_event(),
        log.heap_bytes() as f64 / 1e6
    );

    let split_start = Instant::now();
    let split = split_by_time(&log, &WindowOptions::default())?;
    println!(
        "time-window split: {:.2} s ({} training users, {} held-out plays)",
        split_start.elapsed().as_secs_f64(),
        split.dataset.num_users(),
        split.held_out.len()
    );
    drop(split);

    for (name, format) in [
        ("events.csv", EventFormat::Csv),
        ("events.parquet", EventFormat::Parquet),
    ] {
        let path = dir.join(name);
        let start = Instant::now();
        match format {
            EventFormat::Parquet => write_events_parquet(&log, &path)?,
            _ => write_events_csv(&log, &path)?,
        }
        let write_s = start.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(&path)?.len();
        let start = Instant::now();
        let (back, report) = read_events(&path, format, &ReadOptions::default())?;
        let read_s = start.elapsed().as_secs_f64();
        assert_eq!(back.len(), log.len());
        assert_eq!(report.skipped_total(), 0);
        println!(
            "{name}: {:.0} MB ({:.1} bytes/event); write {write_s:.2} s; read {read_s:.2} s = {:.2} M events/s",
            bytes as f64 / 1e6,
            bytes as f64 / n,
            n / read_s / 1e6
        );
        std::fs::remove_file(&path)?;
    }
    Ok(())
}
