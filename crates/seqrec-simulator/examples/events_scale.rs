//! What reading a listening log costs end to end as `seqrec train --data FILE.parquet` does
//! it (`crates/seqrec/src/cli/data.rs`): `read_events` with the default `ReadOptions`, then
//! `split_by_time` into 60 days of history and 7 held-out days. Each file is measured in a
//! fresh process (peak RSS = `VmHWM` of `/proc/self/status`, Linux), run sequentially:
//!
//! `cargo run --release -p seqrec-simulator --example events_scale -- [--before BIN] FILE...`
//!
//! prints one table row per file (and per binary): events, file size, read time, split time,
//! the `EventLog`'s own heap bytes per event, peak RSS after reading and after the split, in
//! bytes per event; a second row per file splits with `split_by_time_owned`, which consumes
//! the log (`measure-owned FILE`). `--before BIN` also runs BIN, this example built from
//! another version of the code (it takes the same `measure FILE` command; build it from the
//! commit that added this example, whose `measure` uses only APIs every version has), in its
//! own process, before this one. `events_generate` writes such files.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use seqrec_events::{
    DAY_MS, EventFormat, ReadOptions, WindowOptions, read_events, split_by_time,
    split_by_time_owned,
};

/// `VmHWM` (peak resident set) and `VmRSS` of this process in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Reads and splits `path` (consuming the log with `owned`), printing `key=value` pairs on
/// one line.
fn measure(path: &Path, owned: bool) -> Result<(), Box<dyn std::error::Error>> {
    let (_, base_rss) = memory();
    let file_bytes = std::fs::metadata(path)?.len();
    let start = Instant::now();
    let (log, report) = read_events(path, EventFormat::Parquet, &ReadOptions::default())?;
    let read_s = start.elapsed().as_secs_f64();
    let (read_peak, read_rss) = memory();
    let events = log.len();
    let log_bytes = log.heap_bytes();
    let (users, tracks) = (log.users().len(), log.items().len());
    let windows = WindowOptions {
        history_ms: 60 * DAY_MS,
        held_out_ms: 7 * DAY_MS,
        ..WindowOptions::default()
    };
    let start = Instant::now();
    // As the trainer does: the log lives until the split returns (and is dropped later).
    let (split, log) = if owned {
        (split_by_time_owned(log, &windows)?, None)
    } else {
        (split_by_time(&log, &windows)?, Some(log))
    };
    let split_s = start.elapsed().as_secs_f64();
    let (peak, split_rss) = memory();
    drop(log);
    println!(
        "events={events} users={users} tracks={tracks} records={} file_bytes={file_bytes} \
         read_s={read_s:.2} split_s={split_s:.2} log_bytes={log_bytes} base_rss={base_rss} \
         read_peak={read_peak} read_rss={read_rss} peak={peak} split_rss={split_rss} \
         trained_users={} held_out={}",
        report.records,
        split.dataset.num_users(),
        split.held_out.len()
    );
    Ok(())
}

/// Runs `bin command path` and parses its `key=value` line.
fn run(
    bin: &Path,
    command: &str,
    path: &Path,
) -> Result<Vec<(String, f64)>, Box<dyn std::error::Error>> {
    let out = Command::new(bin).arg(command).arg(path).output()?;
    if !out.status.success() {
        return Err(format!(
            "{} measure {}: {}",
            bin.display(),
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text = String::from_utf8(out.stdout)?;
    let line = text.lines().last().unwrap_or_default();
    eprintln!("{}: {line}", bin.display());
    Ok(line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, path] = args.as_slice()
        && (command == "measure" || command == "measure-owned")
    {
        return measure(Path::new(path), command == "measure-owned");
    }
    let mut bins = Vec::new();
    if args.first().map(String::as_str) == Some("--before") && args.len() >= 2 {
        bins.push((
            "before",
            std::path::PathBuf::from(args[1].clone()),
            "measure",
        ));
        args.drain(..2);
    }
    let this = std::env::current_exe()?;
    bins.push(("after", this.clone(), "measure"));
    bins.push(("after, owned split", this, "measure-owned"));
    if args.is_empty() {
        return Err("usage: events_scale [--before BIN] FILE...".into());
    }
    println!(
        "| events | code | file | read | split | log bytes/event | peak RSS after read | peak RSS after split | peak bytes/event |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for file in &args {
        for (label, bin, command) in &bins {
            let m = run(bin, command, Path::new(file))?;
            let get = |k: &str| m.iter().find(|(n, _)| n == k).map_or(f64::NAN, |(_, v)| *v);
            let n = get("events");
            let gb = |b: f64| b / 1e9;
            println!(
                "| {:.1} M | {label} | {:.2} GB | {:.1} s | {:.1} s | {:.1} | {:.2} GB ({:.1} B/event) | {:.2} GB | {:.1} |",
                n / 1e6,
                gb(get("file_bytes")),
                get("read_s"),
                get("split_s"),
                get("log_bytes") / n,
                gb(get("read_peak")),
                get("read_peak") / n,
                gb(get("peak")),
                get("peak") / n,
            );
        }
    }
    Ok(())
}
