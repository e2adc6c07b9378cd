//! Recall and speed of the approximate index against exact top-k, on a synthetic catalogue
//! shaped like a recommender's output embeddings (docs/scale-ann.md has the results).
//!
//! ```sh
//! cargo run --release -p seqrec-ann --example ann_recall -- --items 1000000
//! cargo run --release -p seqrec-ann --example ann_recall -- --items 10000000 --ef 64,128,256
//! ```
//!
//! Flags (all optional): `--items N` (1 000 000), `--dim D` (64), `--queries Q` (1 000),
//! `--clusters C` (items / 1 000), `--m M` (16), `--ef-construction E` (128), `--ef LIST`
//! (32,64,128,256: the `ef_search` settings measured), `--metric inner_product|augmented`,
//! `--scalar f32|f16|bf16`, `--threads T` (0: every core), `--save DIR` (also time saving
//! and loading the index there), `--seed S` (1).
//!
//! The table and users: [`seqrec_ann::synthetic::Catalogue`] (item vectors around `C`
//! cluster centres with norms spread over a factor of about 8; users mixing one to three
//! centres); rows 0 and `items + 1` are reserved ids, as in a gSASRec table, and are not
//! indexed. Exact top-k is brute force over every row in the same run.

use std::time::Instant;

use seqrec_ann::synthetic::Catalogue;
use seqrec_ann::{AnnConfig, AnnIndex, AnnMetric, AnnScalar, Neighbor, exact_top_k, recall};

struct Args {
    items: usize,
    dim: usize,
    queries: usize,
    clusters: usize,
    m: usize,
    ef_construction: usize,
    ef: Vec<usize>,
    metric: AnnMetric,
    scalar: AnnScalar,
    threads: usize,
    save: Option<std::path::PathBuf>,
    seed: u64,
}

fn parse() -> Args {
    let mut args = Args {
        items: 1_000_000,
        dim: 64,
        queries: 1_000,
        clusters: 0,
        m: 16,
        ef_construction: 128,
        ef: vec![32, 64, 128, 256],
        metric: AnnMetric::InnerProduct,
        scalar: AnnScalar::F32,
        threads: 0,
        save: None,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || value.replace('_', "").parse::<usize>().expect("a number");
        match flag.as_str() {
            "--items" => args.items = number(),
            "--dim" => args.dim = number(),
            "--queries" => args.queries = number(),
            "--clusters" => args.clusters = number(),
            "--m" => args.m = number(),
            "--ef-construction" => args.ef_construction = number(),
            "--ef" => {
                args.ef = value
                    .split(',')
                    .map(|v| v.parse().expect("--ef: numbers separated by commas"))
                    .collect()
            }
            "--metric" => {
                args.metric = serde_json::from_str(&format!("\"{value}\"")).expect("--metric")
            }
            "--scalar" => {
                args.scalar = serde_json::from_str(&format!("\"{value}\"")).expect("--scalar")
            }
            "--threads" => args.threads = number(),
            "--save" => args.save = Some(value.into()),
            "--seed" => args.seed = number() as u64,
            other => panic!("unknown flag {other}"),
        }
    }
    if args.clusters == 0 {
        args.clusters = (args.items / 1_000).max(1);
    }
    args
}

/// Resident memory now and at its peak, in MiB (Linux; 0 elsewhere).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mean_recall(found: &[Vec<Neighbor>], exact: &[Vec<Neighbor>], k: usize) -> f64 {
    found
        .iter()
        .zip(exact)
        .map(|(f, e)| recall(f, &e[..k.min(e.len())]))
        .sum::<f64>()
        / exact.len() as f64
}

fn main() {
    let args = parse();
    let threads = AnnConfig {
        threads: args.threads,
        ..AnnConfig::default()
    }
    .resolved_threads();
    let dim = args.dim;
    println!(
        "ann_recall: {} items x {dim}, {} clusters, {} queries, M {}, ef_construction {}, {:?}, {:?}, {threads} threads, usearch {}",
        args.items,
        args.clusters,
        args.queries,
        args.m,
        args.ef_construction,
        args.metric,
        args.scalar,
        seqrec_ann::AnnIndex::library_version(),
    );
    let start = Instant::now();
    let catalogue = Catalogue::generate(args.items, dim, args.clusters, args.seed, threads);
    let queries = catalogue.users(args.queries, args.seed);
    let skip = catalogue.reserved();
    let table = catalogue.table;
    println!(
        "table: {:.2} GB generated in {:.1} s; RSS {:.0} MiB",
        (table.len() * 4) as f64 / 1e9,
        start.elapsed().as_secs_f64(),
        rss_mib().0
    );

    let start = Instant::now();
    let exact = exact_top_k(&table, dim, &skip, &queries, 100, threads).expect("exact top-k");
    let exact_s = start.elapsed().as_secs_f64();
    println!(
        "exact top-100 by brute force: {:.1} s for {} queries ({:.2} ms per user, {threads} threads)",
        exact_s,
        args.queries,
        exact_s * 1e3 / args.queries as f64
    );

    let config = AnnConfig {
        connectivity: args.m,
        expansion_add: args.ef_construction,
        expansion_search: args.ef[0],
        metric: args.metric,
        scalar: args.scalar,
        threads: args.threads,
    };
    let start = Instant::now();
    let step = (args.items / 10).max(1);
    let reported = std::sync::atomic::AtomicUsize::new(0);
    let mut index = AnnIndex::build_with_progress(&table, dim, &skip, &config, &|done| {
        let tenth = done / step;
        if reported.fetch_max(tenth, std::sync::atomic::Ordering::Relaxed) < tenth {
            eprintln!(
                "  built {done} rows in {:.0} s",
                start.elapsed().as_secs_f64()
            );
        }
    })
    .expect("build");
    let build_s = start.elapsed().as_secs_f64();
    let (rss, peak) = rss_mib();
    println!(
        "build: {build_s:.1} s ({:.0} items/s); index memory {:.2} GB; RSS {rss:.0} MiB, peak {peak:.0} MiB; kernels: {}",
        args.items as f64 / build_s,
        index.memory_bytes() as f64 / 1e9,
        index.hardware_acceleration(),
    );
    if let Some(dir) = &args.save {
        let start = Instant::now();
        index.save(dir).expect("save");
        let save_s = start.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(dir.join(seqrec_ann::INDEX_FILE))
            .map(|m| m.len())
            .unwrap_or(0);
        let start = Instant::now();
        let loaded = AnnIndex::load(dir, &config).expect("load");
        let load_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let viewed = AnnIndex::view(dir, &config).expect("view");
        let view_s = start.elapsed().as_secs_f64();
        println!(
            "save {save_s:.1} s ({:.2} GB file), load {load_s:.1} s, memory-map {view_s:.2} s",
            bytes as f64 / 1e9
        );
        drop((loaded, viewed));
    }

    println!();
    println!(
        "| ef_search | recall@10 | recall@10 in 40 candidates | recall@100 | ms/user, batch of {} on {threads} threads (k=10 / 40 / 100) | ms/query, one thread (k=10 / 100) |",
        args.queries
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for &ef in &args.ef {
        index.set_expansion_search(ef);
        let mut batch_ms = Vec::new();
        let mut results = Vec::new();
        for count in [10, 40, 100] {
            let start = Instant::now();
            let found = index.search_batch(&queries, count).expect("search");
            batch_ms.push(start.elapsed().as_secs_f64() * 1e3 / args.queries as f64);
            results.push(found);
        }
        let mut single_ms = Vec::new();
        for count in [10, 100] {
            let start = Instant::now();
            for q in queries.chunks_exact(dim) {
                index.search(q, count).expect("search");
            }
            single_ms.push(start.elapsed().as_secs_f64() * 1e3 / args.queries as f64);
        }
        println!(
            "| {ef} | {:.4} | {:.4} | {:.4} | {:.3} / {:.3} / {:.3} | {:.3} / {:.3} |",
            mean_recall(&results[0], &exact, 10),
            mean_recall(&results[1], &exact, 10),
            mean_recall(&results[2], &exact, 100),
            batch_ms[0],
            batch_ms[1],
            batch_ms[2],
            single_ms[0],
            single_ms[1],
        );
    }
    let (rss, peak) = rss_mib();
    println!("\nRSS at the end {rss:.0} MiB, peak {peak:.0} MiB");
}
