//! Load test of `seqrec serve` on loopback, next to the offline ranking rate of
//! `seqrec evaluate` for the same users, and the batch file mode: one table, one run.
//!
//! ```text
//! cargo run --release --example serve_load -- --model runs/ml1m-300 \
//!     --data ../shared/data/ml1m-loo [--seconds 10] [--max-requests 20000]
//! ```
//!
//! For each client count (1, 8, 64) and batching on (the defaults, and with a 1 ms wait) and
//! off (`max_batch` 1),
//! a fresh server is started on 127.0.0.1 (port 0) and that many client threads send
//! single-history `POST /recommend` requests (k 10, the test users' histories in turn) until
//! the time or request budget runs out; every request is bounded, and only loopback is used.
//! Clients and server share the machine's cores, as a sidecar would. Results:
//! `docs/serving.md`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use seqrec::data::{SequenceDataset, Split};
use seqrec::serve::{BulkOptions, ServeConfig, Server, open_model_dir, recommend_file};
use seqrec::train::{Recommender, evaluate_next_item};

struct Args {
    model: PathBuf,
    data: PathBuf,
    seconds: f64,
    max_requests: u64,
    device: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        model: PathBuf::new(),
        data: PathBuf::new(),
        seconds: 10.0,
        max_requests: 20_000,
        device: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => args.model = value()?.into(),
            "--data" => args.data = value()?.into(),
            "--seconds" => args.seconds = value()?.parse().map_err(|e| format!("{flag}: {e}"))?,
            "--max-requests" => {
                args.max_requests = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--device" => args.device = Some(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.model.as_os_str().is_empty() || args.data.as_os_str().is_empty() {
        return Err("usage: serve_load --model DIR --data DIR [--seconds S] [--max-requests N] [--device D]".into());
    }
    Ok(args)
}

/// Latencies and counts of one load run.
struct LoadResult {
    ok: u64,
    shed: u64,
    seconds: f64,
    latencies: Vec<f64>,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index]
}

fn drive(url: &str, bodies: &Arc<Vec<String>>, clients: usize, args: &Args) -> LoadResult {
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (url, bodies, next) = (
                format!("{url}/recommend"),
                Arc::clone(bodies),
                Arc::clone(&next),
            );
            let max_requests = args.max_requests;
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .into();
                let (mut ok, mut shed, mut latencies) = (0u64, 0u64, Vec::new());
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= max_requests {
                        break;
                    }
                    let body = &bodies[n as usize % bodies.len()];
                    let sent = Instant::now();
                    let mut response = agent
                        .post(&url)
                        .header("content-type", "application/json")
                        .send(body.as_str())
                        .expect("loopback request");
                    let _ = response.body_mut().read_to_string();
                    match response.status().as_u16() {
                        200 => {
                            ok += 1;
                            latencies.push(sent.elapsed().as_secs_f64());
                        }
                        503 => shed += 1,
                        other => panic!("status {other}"),
                    }
                }
                (ok, shed, latencies)
            })
        })
        .collect();
    let mut result = LoadResult {
        ok: 0,
        shed: 0,
        seconds: 0.0,
        latencies: Vec::new(),
    };
    for thread in threads {
        let (ok, shed, latencies) = thread.join().expect("client thread");
        result.ok += ok;
        result.shed += shed;
        result.latencies.extend(latencies);
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.latencies.sort_by(f64::total_cmp);
    result
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    let device = match &args.device {
        Some(name) => seqrec::device::parse_device(name)?,
        None => seqrec::device::default_device()?,
    };
    let dataset = SequenceDataset::load_dir(&args.data)?;
    let held_out = dataset.history_targets(Split::Test)?;
    let recommender = Recommender::load(&args.model, &device)?;
    let items = recommender.items();

    // The offline rate: `seqrec evaluate` on the same users (full-catalogue ranking, 256 a batch).
    let started = Instant::now();
    evaluate_next_item(recommender.model(), held_out, 256, true, &device)?;
    let offline = held_out.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "offline ranking (seqrec evaluate, batch 256): {offline:.0} users/s for {} users",
        held_out.len()
    );

    let bodies: Arc<Vec<String>> = Arc::new(
        held_out
            .inputs
            .iter()
            .map(|history| {
                let names: Vec<&str> = history
                    .iter()
                    .map(|&id| items.name(id).unwrap_or_default())
                    .collect();
                serde_json::json!({ "history": names, "k": 10 }).to_string()
            })
            .collect(),
    );

    println!();
    println!(
        "| batching | clients | requests/s | p50 ms | p99 ms | 503s | requests/s ÷ offline users/s |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let settings = [
        ("on (max_batch 64, wait 0)", 64, 0),
        ("on (max_batch 64, wait 1 ms)", 64, 1_000),
        ("off (max_batch 1)", 1, 0),
    ];
    for (label, max_batch, max_wait_us) in settings {
        for clients in [1, 8, 64] {
            let config = ServeConfig {
                max_batch,
                max_wait_us,
                ..ServeConfig::default()
            };
            let server = Server::new(open_model_dir(&args.model, &device)?, config)?
                .spawn("127.0.0.1:0", 2)?;
            let result = drive(&server.url(), &bodies, clients, &args);
            server.shutdown()?;
            let rate = result.ok as f64 / result.seconds;
            println!(
                "| {label} | {clients} | {rate:.0} | {:.1} | {:.1} | {} | {:.2} |",
                1e3 * percentile(&result.latencies, 0.5),
                1e3 * percentile(&result.latencies, 0.99),
                result.shed,
                rate / offline,
            );
        }
    }

    // The batch file mode on the same users.
    let dir = std::env::temp_dir().join(format!("seqrec-serve-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("users.csv");
    let mut writer = csv::Writer::from_path(&input)?;
    writer.write_record(["user", "history"])?;
    for (user, history) in held_out.inputs.iter().enumerate() {
        let names: Vec<&str> = history
            .iter()
            .map(|&id| items.name(id).unwrap_or_default())
            .collect();
        writer.write_record([user.to_string(), names.join(" ")])?;
    }
    writer.flush()?;
    drop(writer);
    println!();
    println!("| batch file mode | users | seconds | users/s | ÷ offline |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for out in ["recs.csv", "recs.parquet"] {
        let ranker = open_model_dir(&args.model, &device)?;
        let report = recommend_file(
            ranker.as_ref(),
            &input,
            &dir.join(out),
            &BulkOptions::default(),
            &mut |_| {},
        )?;
        println!(
            "| users.csv → {out} | {} | {:.2} | {:.0} | {:.2} |",
            report.users,
            report.seconds,
            report.users_per_second(),
            report.users_per_second() / offline
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
