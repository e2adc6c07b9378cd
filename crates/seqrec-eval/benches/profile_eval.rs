//! Benchmarks of the profile-based evaluation at scale.
//!
//! * `topk_stream`: chunked top-k merge for `SEQREC_BENCH_USERS` (1 000) users
//!   against a catalogue of `SEQREC_BENCH_ITEMS` (1 000 000) items, scored in
//!   blocks of 100 users × 10 000 items (no users × items matrix);
//! * `evaluate`: per-user metrics of one model's top-200 lists for
//!   `SEQREC_BENCH_EVAL_USERS` (100 000) users at k ∈ {10, 50, 100, 200};
//! * `report`: bootstrap report (1 000 resamples, all users + 4 cohorts) of two
//!   models over `SEQREC_BENCH_REPORT_USERS` (10 000) users.
//!
//! Run: `cargo bench -p seqrec-eval --bench profile_eval`. Sizes and peak
//! memory are printed to stderr.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqrec_eval::{
    BootstrapConfig, History, ModelEvaluation, Play, ProfileEvalConfig, ProfileEvaluator,
    TopKAccumulator, TopKBatch,
};

const K: usize = 200;
const USER_BLOCK: usize = 100;
const ITEM_BLOCK: usize = 10_000;
/// Distinct pre-generated score blocks, rotated over the item chunks.
const DISTINCT_BLOCKS: usize = 8;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process in KiB (Linux), if readable.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Scores `users × items` of `user block × item blocks` with bounded memory;
/// returns the number of ranked lists and the bytes held by the heaps.
fn chunked_top_k(users: usize, items: usize, blocks: &[Vec<f32>]) -> (usize, usize) {
    let mut lists = 0;
    let mut held = 0;
    for u0 in (0..users).step_by(USER_BLOCK) {
        let rows = USER_BLOCK.min(users - u0);
        let mut batch = TopKBatch::new(rows, K);
        for (c, i0) in (0..items).step_by(ITEM_BLOCK).enumerate() {
            let cols = ITEM_BLOCK.min(items - i0);
            let block = &blocks[c % blocks.len()];
            // Rows of the block are ITEM_BLOCK wide; take the first `cols`.
            if cols == ITEM_BLOCK && rows == USER_BLOCK {
                batch.push_block(i0 as u32, cols, block).unwrap();
            } else {
                let part: Vec<f32> = block
                    .chunks_exact(ITEM_BLOCK)
                    .take(rows)
                    .flat_map(|r| r[..cols].iter().copied())
                    .collect();
                batch.push_block(i0 as u32, cols, &part).unwrap();
            }
        }
        held = held.max(batch.bytes_held());
        lists += black_box(batch.into_ranked_lists()).len();
    }
    (lists, held)
}

fn bench_topk(c: &mut Criterion) {
    let users = env_usize("SEQREC_BENCH_USERS", 1_000);
    let items = env_usize("SEQREC_BENCH_ITEMS", 1_000_000);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let blocks: Vec<Vec<f32>> = (0..DISTINCT_BLOCKS)
        .map(|_| {
            (0..USER_BLOCK * ITEM_BLOCK)
                .map(|_| rng.random::<f32>())
                .collect()
        })
        .collect();
    let (_, held) = chunked_top_k(users.min(USER_BLOCK), items, &blocks);
    let block_bytes = USER_BLOCK * ITEM_BLOCK * 4;
    eprintln!(
        "topk_stream: {users} users x {items} items, k = {K}, blocks of {USER_BLOCK} users x \
         {ITEM_BLOCK} items: heaps hold {held} B per user block, one score block is \
         {block_bytes} B ({} pre-generated), a dense matrix would be {} B",
        DISTINCT_BLOCKS,
        users as u64 * items as u64 * 4
    );
    let mut group = c.benchmark_group("topk_stream");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements((users * items) as u64));
    group.bench_function(format!("{users}_users_x_{items}_items_k{K}"), |b| {
        b.iter(|| chunked_top_k(users, items, &blocks))
    });
    // The single-accumulator path (one user, item chunks) for reference.
    let one: Vec<f32> = blocks[0][..ITEM_BLOCK].to_vec();
    group.throughput(Throughput::Elements(items as u64));
    group.bench_function(format!("1_user_x_{items}_items_k{K}"), |b| {
        b.iter(|| {
            let mut acc = TopKAccumulator::new(K);
            for i0 in (0..items).step_by(ITEM_BLOCK) {
                let n = ITEM_BLOCK.min(items - i0);
                acc.push_range(i0 as u32, &one[..n]).unwrap();
            }
            acc.into_ids()
        })
    });
    group.finish();
    if let Some(kib) = peak_rss_kib() {
        eprintln!("topk_stream: peak RSS of the bench process so far {kib} KiB");
    }
}

/// Synthetic held-out plays: every user has 3–20 tracks with 1–5 plays each.
fn synthetic(users: usize, catalogue: u32, seed: u64) -> (Vec<Play>, History) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut plays = Vec::new();
    let mut lengths = Vec::with_capacity(users);
    for u in 0..users as u32 {
        for _ in 0..rng.random_range(3..=20) {
            let item = rng.random_range(1..catalogue);
            let liked = rng.random_bool(0.6);
            for _ in 0..rng.random_range(1..=5) {
                let ms = if liked && rng.random_bool(0.8) {
                    60_000
                } else {
                    5_000
                };
                plays.push(Play::new(u, item, ms));
            }
        }
        lengths.push((u, rng.random_range(0..300u64)));
    }
    (plays, History::from_lengths(lengths))
}

/// Top-200 lists that contain some profile tracks at random positions.
fn lists(ev: &ProfileEvaluator, catalogue: u32, seed: u64) -> Vec<(u32, Vec<u32>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ev.users()
        .iter()
        .map(|&u| {
            let list: Vec<u32> = (0..K).map(|_| rng.random_range(1..catalogue)).collect();
            (u, list)
        })
        .collect()
}

fn bench_evaluate(c: &mut Criterion) {
    let users = env_usize("SEQREC_BENCH_EVAL_USERS", 100_000);
    let catalogue = 1_000_000;
    let (plays, history) = synthetic(users, catalogue, 2);
    let n_plays = plays.len();
    let config = ProfileEvalConfig::default();
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(
        format!("build_profiles_{users}_users_{n_plays}_plays"),
        |b| {
            b.iter(|| {
                ProfileEvaluator::new(config.clone(), plays.iter().copied(), &history).unwrap()
            })
        },
    );
    let ev = ProfileEvaluator::new(config, plays.iter().copied(), &history).unwrap();
    // Put profile tracks into the lists so that metrics are not all zero.
    let mut lists = lists(&ev, catalogue, 3);
    let by_user: std::collections::HashMap<u32, Vec<u32>> = plays
        .iter()
        .filter(|p| p.ms_played >= 30_000)
        .map(|p| (p.user, p.item))
        .fold(Default::default(), |mut m, (u, i)| {
            m.entry(u).or_insert_with(Vec::new).push(i);
            m
        });
    for (u, list) in &mut lists {
        if let Some(items) = by_user.get(u) {
            for (j, &item) in items.iter().take(5).enumerate() {
                list[j * 37 % K] = item;
            }
        }
    }
    eprintln!(
        "evaluate: {} evaluated users of {users} ({n_plays} plays), {} metric columns",
        ev.users().len(),
        ev.keys().len()
    );
    group.throughput(Throughput::Elements(ev.users().len() as u64));
    group.bench_function(format!("{}_users_top{K}", ev.users().len()), |b| {
        b.iter(|| {
            ev.evaluate("m", lists.iter().map(|(u, l)| (*u, l)))
                .unwrap()
        })
    });
    group.finish();
}

fn bench_report(c: &mut Criterion) {
    let users = env_usize("SEQREC_BENCH_REPORT_USERS", 10_000);
    let catalogue = 1_000_000;
    let (plays, history) = synthetic(users, catalogue, 4);
    let config = ProfileEvalConfig {
        bootstrap: BootstrapConfig::default(),
        ..ProfileEvalConfig::default()
    };
    let ev = ProfileEvaluator::new(config, plays, &history).unwrap();
    let a: ModelEvaluation = ev.evaluate("A", lists(&ev, catalogue, 5)).unwrap();
    let b: ModelEvaluation = ev.evaluate("B", lists(&ev, catalogue, 6)).unwrap();
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(
        format!("{}_users_2_models_1000_resamples", ev.users().len()),
        |bench| bench.iter(|| ev.report([&a, &b]).unwrap()),
    );
    group.finish();
    if let Some(kib) = peak_rss_kib() {
        eprintln!("peak RSS of the bench process {kib} KiB");
    }
}

criterion_group!(benches, bench_topk, bench_evaluate, bench_report);
criterion_main!(benches);
