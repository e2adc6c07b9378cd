//! Prints the tables of docs/performance.md in one run: training steps at the gSASRec ML-1M
//! configuration per backend, negative-sharing mode, scoring path and allocator;
//! full-catalogue evaluation of the 6 040 ML-1M test users; top-100 over a 1 000 000-item
//! catalogue; each with its FLOPs, bytes, the hardware floor measured in the same run, and the
//! gap to it.
//!
//! ```sh
//! cargo run --release -p seqrec-suite --example perf_table            # everything (~10 min)
//! cargo run --release -p seqrec-suite --example perf_table -- train    # one section
//! ```
//!
//! Sections: `train`, `crossover`, `evaluate`, `topk` (default: all). `--steps N` sets the
//! measured training steps per row (default 5, after one warm-up step). Every measured row runs
//! in a process of its own (this program again), so that its peak resident memory is its own;
//! rows marked `system` use glibc's allocator (`SEQREC_ALLOCATOR=system`). Figures are
//! medians; timings on a loaded machine are upper bounds (compare rows of one run).

use std::process::Command;
use std::time::Instant;

use burn::tensor::{Distribution, Tensor};
use seqrec::sampling::NegativeSharing;
use seqrec::train::internals::{EvalBatch, PerPositionScoring, target_ranks};
use seqrec::train::next_item_ranks;
use seqrec_perf::process::{cpu_seconds, page_faults, peak_rss_mb, reset_peak_rss, rss_mb};
use seqrec_perf::top_k::top_k_chunked;
use seqrec_perf::workloads::{TrainSetup, ml1m_model, ml1m_test};

#[global_allocator]
static ALLOCATOR: seqrec::alloc::Allocator = seqrec::alloc::Allocator;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The machine's floors, measured now.
#[derive(Clone, Copy)]
struct Floor {
    /// fp32 GEMM rate of the machine's BLAS (`../shared/tools/blas-floor`), GFLOP/s.
    gflops: f64,
    /// Memory bandwidth of a large copy (read + write), GB/s.
    gbytes: f64,
}

impl Floor {
    fn seconds(&self, gflop: f64, gbyte: f64) -> f64 {
        (gflop / self.gflops).max(gbyte / self.gbytes)
    }
}

fn measure_floor() -> Floor {
    // BLAS (numpy/OpenBLAS) through the shared tool when it is there.
    let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/blas-floor");
    let gflops = Command::new(&tool)
        .arg("51")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            // "0.270 s for 51 GFLOP at 189 GFLOPS"
            let words: Vec<&str> = text.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "at")?;
            words.get(at + 1)?.parse::<f64>().ok()
        })
        .unwrap_or(f64::NAN);
    // Memory: copy 512 MB a few times (reads 512 MB and writes 512 MB each).
    let n = 128 << 20;
    let src = vec![1f32; n];
    let mut dst = vec![0f32; n];
    dst.copy_from_slice(&src);
    let started = Instant::now();
    let reps = 4;
    for r in 0..reps {
        dst.copy_from_slice(&src);
        dst[r] += 1.0;
    }
    std::hint::black_box(&dst);
    let gbytes = (reps * 2 * n * 4) as f64 / 1e9 / started.elapsed().as_secs_f64();
    Floor { gflops, gbytes }
}

/// Matrix-product FLOPs and activation bytes of one gSASRec training step (forward, backward
/// = 2 × forward), for `scored` candidate columns per position.
fn train_cost(s: &TrainSetup, blocks: usize, scored: usize) -> (f64, f64) {
    let (b, l, d) = (s.batch as f64, s.max_len as f64, s.dim as f64);
    let positions = b * l;
    // Per block: Q, K, V and the two feed-forward layers (d × d each), then QKᵀ and AV.
    let block = 5.0 * 2.0 * positions * d * d + 2.0 * 2.0 * positions * l * d;
    let scoring = 2.0 * positions * (scored as f64 + 1.0) * d;
    let forward = blocks as f64 * block + scoring;
    // Bytes: every [B, L, d] activation (about 16 per block) and [B, L, L] attention map (4 per
    // block) written in the forward pass and read back in the backward pass, plus the scores.
    let act = blocks as f64 * (16.0 * positions * d + 4.0 * positions * l)
        + 4.0 * positions * scored as f64;
    (3.0 * forward / 1e9, 2.0 * 4.0 * act / 1e9)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct StepRow {
    median: f64,
    peak_mb: f64,
    faults: f64,
    user: f64,
    system: f64,
}

fn train_row(
    setup: &TrainSetup,
    device_name: &str,
    sharing: NegativeSharing,
    scoring: PerPositionScoring,
    steps: usize,
) -> Result<StepRow> {
    let device = seqrec::device::parse_device(device_name)?;
    reset_peak_rss();
    let mut trainer = setup.trainer(&device, sharing, scoring); // includes a warm-up step
    let (f0, c0) = (page_faults(), cpu_seconds());
    let times: Vec<f64> = (0..steps).map(|_| trainer.steps(1).as_secs_f64()).collect();
    let (f1, c1) = (page_faults(), cpu_seconds());
    let per = |a: f64, b: f64| (a - b) / steps as f64;
    let (faults, user, system) = match (f0, f1, c0, c1) {
        (Some(f0), Some(f1), Some(c0), Some(c1)) => (
            per(f1.0 as f64, f0.0 as f64),
            per(c1.0, c0.0),
            per(c1.1, c0.1),
        ),
        _ => (f64::NAN, f64::NAN, f64::NAN),
    };
    let peak_mb = peak_rss_mb().unwrap_or(f64::NAN);
    drop(trainer);
    Ok(StepRow {
        median: median(times),
        peak_mb,
        faults,
        user,
        system,
    })
}

/// Runs this program again for one row (`args`), so that the row's peak resident memory is its
/// own process's, and prints the row it prints.
fn child_row(args: &[&str], floor: Floor, allocator: &str) -> Result<()> {
    let out = Command::new(std::env::current_exe()?)
        .args(args)
        .args([
            "--floor".to_string(),
            floor.gflops.to_string(),
            floor.gbytes.to_string(),
        ])
        .env("SEQREC_ALLOCATOR", allocator)
        .output()?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn section_train(floor: Floor, steps: usize) -> Result<()> {
    println!(
        "\n## Training step, ML-1M configuration ({steps} steps after a warm-up, median; one process per row)\n"
    );
    println!(
        "| backend | negatives | scoring | allocator | s/step | GFLOP | GB | floor s | gap | peak RSS | minor faults/step | user+sys CPU s/step |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let steps = steps.to_string();
    for (device, sharing, scoring, allocator) in [
        ("flex", "per-sequence", "auto", "mimalloc"),
        ("flex", "per-sequence", "auto", "system"),
        ("flex", "per-position", "auto", "mimalloc"),
        ("flex", "per-position", "auto", "system"),
        ("flex", "per-position", "gather", "mimalloc"),
        ("flex", "per-position", "gather", "system"),
        ("ndarray", "per-sequence", "auto", "mimalloc"),
        ("ndarray", "per-position", "auto", "mimalloc"),
    ] {
        if seqrec::device::parse_device(device).is_ok() {
            child_row(
                &["train-row", device, sharing, scoring, "--steps", &steps],
                floor,
                allocator,
            )?;
        }
    }
    Ok(())
}

fn train_row_main(floor: Floor, args: &[String], steps: usize) -> Result<()> {
    let [device, sharing, scoring] = [0, 1, 2].map(|i| args.get(i).cloned().unwrap_or_default());
    let sharing: NegativeSharing = sharing.parse()?;
    let scoring = match scoring.as_str() {
        "gather" => PerPositionScoring::Gather,
        "logits" => PerPositionScoring::Logits,
        _ => PerPositionScoring::Auto,
    };
    let setup = TrainSetup::ml1m();
    let rows = setup.num_items + 2;
    let logits = sharing == NegativeSharing::PerPosition
        && scoring != PerPositionScoring::Gather
        && rows <= seqrec::model::GsasRec::FULL_LOGITS_FACTOR * setup.negatives;
    let scored = if logits { rows } else { setup.negatives };
    let (gflop, mut gbyte) = train_cost(&setup, 2, scored);
    if sharing == NegativeSharing::PerPosition && !logits {
        // The gathered [B·L·k, d] embeddings: written, read, and their gradient.
        gbyte +=
            3.0 * 4.0 * (setup.batch * setup.max_len * setup.negatives * setup.dim) as f64 / 1e9;
    }
    let r = train_row(&setup, &device, sharing, scoring, steps)?;
    let fl = floor.seconds(gflop, gbyte);
    let path = match (sharing, logits) {
        (NegativeSharing::PerPosition, true) => "full logits + gather",
        (NegativeSharing::PerPosition, false) => "gathered embeddings",
        _ => "batched matmul",
    };
    println!(
        "| {device} | {sharing} | {path} | {} | {:.2} | {gflop:.0} | {gbyte:.1} | {fl:.2} | {:.1}× | {:.0} MB | {:.0} | {:.2} + {:.2} |",
        seqrec::alloc::name(),
        r.median,
        r.median / fl,
        r.peak_mb,
        r.faults,
        r.user,
        r.system
    );
    Ok(())
}

/// Evaluation in input order, every batch padded to its longest history (the method before
/// length bucketing), for comparison.
fn ranks_in_order(
    model: &seqrec::model::GsasRec,
    test: &seqrec::data::HistoryTargets,
    batch: usize,
    device: &burn::tensor::Device,
) -> Result<Vec<i64>> {
    let mut ranks = Vec::new();
    for (h, t) in test.inputs.chunks(batch).zip(test.targets.chunks(batch)) {
        let h: Vec<&[u32]> = h.iter().map(Vec::as_slice).collect();
        let b = EvalBatch::new(&h, t, model.max_len, model.num_items, true, device);
        ranks.extend(target_ranks(model, b).try_into_vec_as::<i64>()?);
    }
    Ok(ranks)
}

fn section_evaluate(floor: Floor) -> Result<()> {
    let (_, test) = ml1m_test();
    let users = test.inputs.len();
    let mean_len =
        test.inputs.iter().map(|h| h.len().min(200)).sum::<usize>() as f64 / users as f64;
    println!(
        "\n## Full-catalogue ranking of the {users} ML-1M test users (history excluded; mean history {mean_len:.0} of 200; median of 3 after a warm-up; one process per row)\n"
    );
    println!("| backend | batching | s | GFLOP | floor s | gap | peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for device in ["flex", "ndarray"] {
        if seqrec::device::parse_device(device).is_err() {
            continue;
        }
        for batching in ["by-length", "in-order"] {
            child_row(&["eval-row", device, batching], floor, "mimalloc")?;
        }
    }
    Ok(())
}

fn eval_row_main(floor: Floor, args: &[String]) -> Result<()> {
    let name = args.first().map_or("flex", String::as_str);
    let bucket = args.get(1).map(String::as_str) != Some("in-order");
    let (num_items, test) = ml1m_test();
    let users = test.inputs.len();
    let lens: Vec<usize> = test.inputs.iter().map(|h| h.len().min(200)).collect();
    // Forward FLOPs: the first block in full (5 d×d products per position and attention over
    // the window); the last block only projects keys and values for every position (2 d×d)
    // and does the rest for the last position; then the catalogue scores.
    let d = 128.0;
    let user = |len: f64| {
        len * (5.0 * 2.0 * d * d + 2.0 * 2.0 * len * d)
            + len * 2.0 * 2.0 * d * d
            + (3.0 * 2.0 * d * d + 2.0 * 2.0 * len * d)
    };
    let scoring = 2.0 * users as f64 * (num_items + 2) as f64 * d;
    let gflop = if bucket {
        lens.iter().map(|&l| user(l as f64)).sum::<f64>() + scoring
    } else {
        users as f64 * user(200.0) + scoring
    } / 1e9;
    let device = seqrec::device::parse_device(name)?;
    let model = ml1m_model(num_items, &device);
    reset_peak_rss();
    let run = || -> Result<f64> {
        let started = Instant::now();
        if bucket {
            next_item_ranks(&model, &test, 256, true, &device)?;
        } else {
            ranks_in_order(&model, &test, 256, &device)?;
        }
        Ok(started.elapsed().as_secs_f64())
    };
    run()?; // warm-up
    let times = (0..3).map(|_| run()).collect::<Result<Vec<f64>>>()?;
    let s = median(times);
    let fl = floor.seconds(gflop, 0.0);
    let label = if bucket {
        "by history length, 256 users a batch"
    } else {
        "input order, 256 users a batch (before)"
    };
    println!(
        "| {name} | {label} | {s:.2} | {gflop:.0} | {fl:.2} | {:.1}× | {:.0} MB |",
        s / fl,
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    Ok(())
}

fn section_topk(floor: Floor) -> Result<()> {
    let (users, items, dim, k, chunk) = (1000, 1_000_000, 128, 100, 16_384);
    println!(
        "\n## Top-{k} of {users} users over {items} items (dim {dim}, chunks of {chunk} items, flex; median of 3)\n"
    );
    println!(
        "| s | GFLOP | floor s | gap | table | peak RSS above the table | bound: users × chunk scores ×2 |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    child_row(&["topk-row"], floor, "mimalloc")
}

fn topk_row_main(floor: Floor) -> Result<()> {
    let (users, items, dim, k, chunk) =
        (1000usize, 1_000_000usize, 128usize, 100usize, 16_384usize);
    let device = seqrec::device::parse_device("flex")?;
    device.seed(1);
    let before = rss_mb().unwrap_or(f64::NAN);
    let table = Tensor::<2>::random([items, dim], Distribution::Normal(0.0, 1.0), &device);
    let queries = Tensor::<2>::random([users, dim], Distribution::Normal(0.0, 1.0), &device);
    let _ = queries.clone().sum().into_scalar::<f32>();
    let _ = table.clone().sum().into_scalar::<f32>();
    let with_table = rss_mb().unwrap_or(f64::NAN);
    reset_peak_rss();
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let lists = top_k_chunked(queries.clone(), table.clone(), 0, k, chunk, |_, _| false)?;
        times.push(started.elapsed().as_secs_f64());
        assert_eq!(lists.len(), users);
    }
    let peak = peak_rss_mb().unwrap_or(f64::NAN);
    let gflop = 2.0 * (users * items * dim) as f64 / 1e9;
    let gbyte = (items * dim * 4) as f64 / 1e9;
    let fl = floor.seconds(gflop, gbyte);
    let s = median(times);
    println!(
        "| {s:.2} | {gflop:.0} | {fl:.2} | {:.1}× | {:.0} MB | {:.0} MB | {:.0} MB |",
        s / fl,
        with_table - before,
        peak - with_table,
        (2 * users * chunk * 4) as f64 / 1e6,
    );
    Ok(())
}

/// Per-position scoring through full logits against gathered embeddings (forward + backward),
/// for catalogues of growing size: where the automatic choice should switch.
fn section_crossover() -> Result<()> {
    let (batch, len, k, dim) = (16usize, 200usize, 256usize, 128usize);
    let device = seqrec::device::parse_device("flex")?.autodiff();
    println!(
        "\n## Per-position scoring: full logits vs gathered embeddings ({batch}×{len} positions, {k} negatives, dim {dim}, flex, forward + backward)\n"
    );
    println!("| catalogue rows | rows / k | logits s | gather s | logits / gather |");
    println!("| --- | --- | --- | --- | --- |");
    for items in [1_000usize, 4_000, 16_000, 64_000] {
        let model = seqrec::model::GsasRecConfig::new(items)
            .with_blocks(1)
            .init(&device)?;
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(5);
        let ids: Vec<i64> = (0..batch * len * k)
            .map(|_| rand::Rng::random_range(&mut rng, 1..=items as i64))
            .collect();
        let ids = Tensor::<3, burn::tensor::Int>::from_data(
            burn::tensor::TensorData::new(ids, [batch, len, k]),
            &device,
        );
        let hidden =
            Tensor::<3>::random([batch, len, dim], Distribution::Normal(0.0, 0.1), &device)
                .require_grad();
        let time = |logits: bool| {
            let mut times = Vec::new();
            for _ in 0..4 {
                let started = Instant::now();
                let scores = if logits {
                    model.score_per_position_via_logits(hidden.clone(), ids.clone())
                } else {
                    model.score_per_position_via_gather(hidden.clone(), ids.clone())
                };
                let grads = scores.sum().backward();
                let g = hidden.grad(&grads).expect("a gradient");
                let _ = g.sum().into_scalar::<f32>();
                times.push(started.elapsed().as_secs_f64());
            }
            times.remove(0); // warm-up
            median(times)
        };
        let (a, b) = (time(true), time(false));
        println!(
            "| {} | {:.0} | {a:.3} | {b:.3} | {:.2} |",
            items + 2,
            (items + 2) as f64 / k as f64,
            a / b
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut steps = 5;
    if let Some(i) = args.iter().position(|a| a == "--steps") {
        steps = args.get(i + 1).ok_or("--steps N")?.parse()?;
        args.drain(i..=i + 1);
    }
    let mut given_floor = None;
    if let Some(i) = args.iter().position(|a| a == "--floor") {
        let gflops = args.get(i + 1).ok_or("--floor GFLOPS GBPS")?.parse()?;
        let gbytes = args.get(i + 2).ok_or("--floor GFLOPS GBPS")?.parse()?;
        given_floor = Some(Floor { gflops, gbytes });
        args.drain(i..=i + 2);
    }
    let row_floor = || given_floor.unwrap_or_else(measure_floor);
    match args.first().map(String::as_str) {
        Some("train-row") => return train_row_main(row_floor(), &args[1..], steps),
        Some("eval-row") => return eval_row_main(row_floor(), &args[1..]),
        Some("topk-row") => return topk_row_main(row_floor()),
        _ => {}
    }
    let all = args.is_empty();
    let wants = |s: &str| all || args.iter().any(|a| a == s);
    let floor = measure_floor();
    println!(
        "seqrec perf table: {} cores, BLAS floor {:.0} GFLOP/s (../shared/tools/blas-floor), memory copy {:.1} GB/s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        floor.gflops,
        floor.gbytes
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at start: {}", load.trim());
    }
    if wants("train") {
        section_train(floor, steps)?;
    }
    if wants("crossover") {
        section_crossover()?;
    }
    if wants("evaluate") {
        section_evaluate(floor)?;
    }
    if wants("topk") {
        section_topk(floor)?;
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("\nload average at the end: {}", load.trim());
    }
    Ok(())
}
