//! Prints the tables of docs/scale.md: training at 100 k, 1 M and 10 M items (dense and sparse
//! item updates: step time, peak memory, validation), and data-parallel training on one and
//! two workers (steps per second). Every row is a real run of `seqrec_train::train` (burn-train's
//! learner, validation, checkpoints, the saved model directory) in a process of its own, so
//! that its peak resident memory (`VmHWM`) is the row's own.
//!
//! ```sh
//! cargo run --release -p seqrec-suite --example scale_table              # everything (~40 min)
//! cargo run --release -p seqrec-suite --example scale_table -- items     # one section
//! cargo run --release -p seqrec-suite --example scale_table -- devices
//! ```
//!
//! Options: `--steps N` (training steps per row, default 40, validated every `N / 2`),
//! `--device NAME` (default `flex`), `--items LIST` (catalogue sizes of the `items` section,
//! default `100000,1000000,10000000`), `--shared` (one item table for input and output, as
//! SASRec, instead of gSASRec's separate output table), `--dense-10m` (also run dense updates
//! at 10 M items: over 20 GB, not run by default). The work directories go to a temporary
//! directory, removed after each row.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqrec::data::leave_one_out;
use seqrec::model::{GsasRecConfig, OutputEmbeddings, PositionEncoding};
use seqrec::train::{ItemUpdates, ProgressEvent, TrainConfig, TrainOptions, TrainingData, train};
use seqrec_perf::process::{cpu_seconds, peak_rss_mb};

#[global_allocator]
static ALLOCATOR: seqrec::alloc::Allocator = seqrec::alloc::Allocator;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Listening-like sequences over `num_items` ids: each user keeps to a neighbourhood of the
/// id space (a taste) and plays popular ids one time in five, so that the sequences have
/// structure to learn and the catalogue's tail is touched rarely, as in a real log.
fn sequences(num_items: u32, users: usize, len: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..users)
        .map(|_| {
            let taste = rng.random_range(0..num_items);
            (0..len)
                .map(|_| {
                    if rng.random_bool(0.2) {
                        // Popular ids: a power law over the first ids.
                        let u: f64 = rng.random();
                        1 + (u.powi(4) * f64::from(num_items - 1)) as u32
                    } else {
                        1 + (taste + rng.random_range(0..2_000u32)) % num_items
                    }
                })
                .collect()
        })
        .collect()
}

/// What a row measured.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Measured {
    /// Median seconds of a training step (validation steps excluded).
    step_seconds: f64,
    /// Steps per second over the run's training steps.
    steps_per_second: f64,
    /// CPU seconds (user + system) per wall-clock second during the run.
    cores_busy: f64,
    /// Peak resident memory of the process, MB.
    peak_rss_mb: f64,
    /// Last validation NDCG@10.
    ndcg_at_10: f64,
    /// Seconds of the whole `train` call (data ready to model directory written).
    total_seconds: f64,
}

/// One training run in this process: `items` catalogue, `updates`, on `workers` workers.
fn run_row(
    num_items: u32,
    updates: ItemUpdates,
    workers: usize,
    steps: usize,
    device_name: &str,
    shared: bool,
) -> Result<Measured> {
    let device = seqrec::device::parse_device(device_name)?;
    let dataset = leave_one_out(sequences(num_items, 10_000, 201, 7), num_items, 512, 42)?;
    let data = TrainingData::from_sequences(&dataset)?;
    let output = if shared {
        OutputEmbeddings::Shared
    } else {
        OutputEmbeddings::Separate
    };
    let model = GsasRecConfig::new(num_items as usize)
        .with_dim(64)
        .with_max_len(200)
        .with_positions(PositionEncoding::Learned)
        .with_output_embeddings(output);
    let mut config = TrainConfig::new(model);
    config.item_updates = updates;
    config.run.limit.steps = Some(steps);
    config.run.eval_every = (steps / 2).max(1);
    config.run.patience = steps;
    let times: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::default();
    let ndcg = Arc::new(Mutex::new(f64::NAN));
    let (t, n) = (times.clone(), ndcg.clone());
    let options = TrainOptions {
        progress: Some(Box::new(move |event: &ProgressEvent| match event {
            ProgressEvent::Step { step, .. } => {
                t.lock().unwrap().push((*step, Instant::now()));
            }
            ProgressEvent::Validated { ndcg_at_10, .. } => *n.lock().unwrap() = *ndcg_at_10,
            _ => {}
        })),
        devices: if workers > 1 {
            vec![device.clone(); workers]
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let work = std::env::temp_dir().join(format!("seqrec-scale-{}", std::process::id()));
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let result = train(&config, &data, &device, &work, options);
    let total_seconds = started.elapsed().as_secs_f64();
    let cpu1 = cpu_seconds();
    let _ = std::fs::remove_dir_all(&work);
    result?;
    let times = times.lock().unwrap().clone();
    // A step's time: from the previous step's end to its own, when no validation ran between.
    let eval_every = config.run.eval_every;
    let mut intervals: Vec<f64> = times
        .windows(2)
        .filter(|w| w[0].0 % eval_every != 0 && w[1].0 == w[0].0 + 1)
        .map(|w| (w[1].1 - w[0].1).as_secs_f64())
        .collect();
    intervals.sort_by(f64::total_cmp);
    let step_seconds = intervals
        .get(intervals.len() / 2)
        .copied()
        .unwrap_or(f64::NAN);
    let cores_busy = match (cpu0, cpu1) {
        (Some(a), Some(b)) => (b.0 - a.0 + b.1 - a.1) / total_seconds,
        _ => f64::NAN,
    };
    let ndcg_at_10 = *ndcg.lock().unwrap();
    Ok(Measured {
        step_seconds,
        steps_per_second: 1.0 / step_seconds,
        cores_busy,
        peak_rss_mb: peak_rss_mb().unwrap_or(f64::NAN),
        ndcg_at_10,
        total_seconds,
    })
}

/// Runs one row in a child process (this program again) and reads its measurement.
fn child(args: &[String]) -> Result<Measured> {
    let out = Command::new(std::env::current_exe()?)
        .arg("--row")
        .args(args)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| {
            format!(
                "row {args:?} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        })?;
    Ok(serde_json::from_str(line)?)
}

fn arg_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--row") {
        // --row ITEMS UPDATES WORKERS STEPS DEVICE SHARED
        let items: u32 = args[1].parse()?;
        let updates = match args[2].as_str() {
            "dense" => ItemUpdates::Dense,
            _ => ItemUpdates::Sparse,
        };
        let measured = run_row(
            items,
            updates,
            args[3].parse()?,
            args[4].parse()?,
            &args[5],
            args[6] == "shared",
        )?;
        println!("{}", serde_json::to_string(&measured)?);
        return Ok(());
    }
    let steps: usize = arg_value(&args, "--steps")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(40);
    let device = arg_value(&args, "--device").unwrap_or_else(|| "flex".into());
    let sizes: Vec<u32> = arg_value(&args, "--items")
        .unwrap_or_else(|| "100000,1000000,10000000".into())
        .split(',')
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()?;
    let shared = if args.iter().any(|a| a == "--shared") {
        "shared"
    } else {
        "separate"
    };
    let dense_10m = args.iter().any(|a| a == "--dense-10m");
    let sections: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| ["items", "devices"].contains(a))
        .collect();
    let all = sections.is_empty();
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "device {device}, {steps} steps a row, d 64, batch 128, length 200, 256 negatives, \
         {shared} output table; load average at start: {}",
        load().trim()
    );

    if all || sections.contains(&"items") {
        println!(
            "\n| items | updates | s/step | peak RSS | cores busy | val NDCG@10 | whole run s |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- |");
        for &items in &sizes {
            for updates in ["dense", "sparse"] {
                let dense_bytes = 4.0 * 64.0 * f64::from(items) * 2.0 * 4.0 / 1e9;
                if updates == "dense" && items >= 10_000_000 && !dense_10m {
                    println!(
                        "| {items} | dense | not run | over {dense_bytes:.0} GB (tables, their \
                         gradients and both Adam moments) | | | |"
                    );
                    continue;
                }
                let row = [
                    items.to_string(),
                    updates.into(),
                    "1".into(),
                    steps.to_string(),
                ];
                let row = [&row[..], &[device.clone(), shared.into()]].concat();
                match child(&row) {
                    Ok(m) => println!(
                        "| {items} | {updates} | {:.3} | {:.0} MB | {:.2} | {:.4} | {:.0} |",
                        m.step_seconds, m.peak_rss_mb, m.cores_busy, m.ndcg_at_10, m.total_seconds
                    ),
                    Err(e) => println!("| {items} | {updates} | failed: {e} | | | | |"),
                }
            }
        }
    }

    if all || sections.contains(&"devices") {
        println!("\n| workers | items | steps/s | s/step | cores busy | peak RSS |");
        println!("| --- | --- | --- | --- | --- | --- |");
        let items = 100_000u32;
        let mut single = f64::NAN;
        for workers in [1usize, 2] {
            let row = [
                items.to_string(),
                "sparse".into(),
                workers.to_string(),
                steps.to_string(),
                device.clone(),
                shared.into(),
            ];
            match child(&row) {
                Ok(m) => {
                    if workers == 1 {
                        single = m.steps_per_second;
                    }
                    println!(
                        "| {workers} | {items} | {:.3} ({:.2}× one) | {:.3} | {:.2} | {:.0} MB |",
                        m.steps_per_second,
                        m.steps_per_second / single,
                        m.step_seconds,
                        m.cores_busy,
                        m.peak_rss_mb
                    );
                }
                Err(e) => println!("| {workers} | {items} | failed: {e} | | | |"),
            }
        }
    }
    println!("\nload average at end: {}", load().trim());
    Ok(())
}
