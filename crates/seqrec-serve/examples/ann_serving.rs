//! Exact ranking against approximate serving ([`AnnRanker`]) of one gSASRec over a large
//! synthetic catalogue: time per user of each, and the recall of the approximate lists
//! against the exact ones (docs/scale-ann.md).
//!
//! ```sh
//! cargo run --release -p seqrec-serve --example ann_serving -- --items 1000000
//! cargo run --release -p seqrec-serve --example ann_serving -- --items 10000000 --exact-only
//! ```
//!
//! Flags (all optional): `--items N` (1 000 000), `--users U` (512), `--batch B` (64, the
//! service's `max_batch`), `-k K` (10), `--oversample O` (4), `--ef LIST` (64,128,256),
//! `--history H` (30 plays), `--exact-only`, `--seed S` (1).
//!
//! The model: a gSASRec (dim 64, 2 blocks, 50 positions, input and output tables shared)
//! whose item table is [`Catalogue`] (clustered, norms spread by popularity); its other
//! weights are at their initial values, so the user vectors of random histories are what an
//! untrained transformer makes of them. The backend is burn's ndarray (this crate's test
//! backend), so exact ranking runs on it too.
#![allow(deprecated)] // `Device::ndarray` is the backend of this crate's tests and examples.

use std::time::Instant;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use seqrec_ann::synthetic::{Catalogue, SplitMix};
use seqrec_ann::{AnnConfig, AnnIndex};
use seqrec_data::ItemVocabulary;
use seqrec_model::{GsasRecConfig, OutputEmbeddings};
use seqrec_serve::ann::{output_table, reserved_rows};
use seqrec_serve::{AnnRanker, Ranker};
use seqrec_train::{GsasRecManifest, Recommender};

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

fn main() {
    let mut items = 1_000_000usize;
    let mut users = 512usize;
    let mut batch = 64usize;
    let mut k = 10usize;
    let mut oversample = 4usize;
    let mut efs = vec![64usize, 128, 256];
    let mut history = 30usize;
    let mut exact_only = false;
    let mut seed = 1u64;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--exact-only" {
            exact_only = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || value.replace('_', "").parse::<usize>().expect("a number");
        match flag.as_str() {
            "--items" => items = number(),
            "--users" => users = number(),
            "--batch" => batch = number(),
            "-k" => k = number(),
            "--oversample" => oversample = number(),
            "--ef" => efs = value.split(',').map(|v| v.parse().expect("--ef")).collect(),
            "--history" => history = number(),
            "--seed" => seed = number() as u64,
            other => panic!("unknown flag {other}"),
        }
    }
    let dim = 64;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let device = Device::ndarray();
    device.seed(seed);

    let start = Instant::now();
    let catalogue = Catalogue::generate(items, dim, (items / 1_000).max(1), seed, threads);
    let mut config = GsasRecConfig::new(items).with_dim(dim).with_max_len(50);
    config.output_embeddings = OutputEmbeddings::Shared;
    let mut model = config.init(&device).expect("model");
    let rows = items + 2;
    model.item_embedding.weight = Param::from_tensor(Tensor::from_data(
        TensorData::new(catalogue.table, [rows, dim]),
        &device,
    ));
    let manifest = GsasRecManifest {
        model: config,
        training: None,
    };
    let vocabulary =
        ItemVocabulary::identity(u32::try_from(items).expect("at most u32::MAX items"));
    let exact = Recommender::new(model.clone(), manifest.clone(), vocabulary.clone(), &device);
    println!(
        "ann_serving: gSASRec over {items} items (dim {dim}, table {:.2} GB) ready in {:.1} s; {users} users of {history} plays, batches of {batch}, k {k}; RSS {:.0} MiB",
        (rows * dim * 4) as f64 / 1e9,
        start.elapsed().as_secs_f64(),
        rss_mib().0
    );
    let mut rng = SplitMix(seed ^ 0x4157);
    let histories: Vec<Vec<u32>> = (0..users)
        .map(|_| (0..history).map(|_| 1 + rng.below(items) as u32).collect())
        .collect();
    let none = vec![Vec::new(); batch];

    let start = Instant::now();
    let mut exact_lists = Vec::new();
    for chunk in histories.chunks(batch) {
        exact_lists.extend(exact.rank(chunk, &none[..chunk.len()], k).expect("exact"));
    }
    let exact_s = start.elapsed().as_secs_f64();
    println!(
        "exact chunked ranking: {:.2} ms per user ({:.1} s for {users}); RSS {:.0} MiB, peak {:.0} MiB",
        exact_s * 1e3 / users as f64,
        exact_s,
        rss_mib().0,
        rss_mib().1
    );
    if exact_only {
        return;
    }

    let start = Instant::now();
    let table = output_table(&model).expect("table");
    let index_config = AnnConfig::default();
    let index = AnnIndex::build(&table, dim, &reserved_rows(&model), &index_config).expect("index");
    drop(table);
    println!(
        "index: built in {:.1} s, {:.2} GB; RSS {:.0} MiB",
        start.elapsed().as_secs_f64(),
        index.memory_bytes() as f64 / 1e9,
        rss_mib().0
    );
    let mut ann = AnnRanker::new(
        Recommender::new(model, manifest, vocabulary, &device),
        index,
        oversample,
        &device,
    )
    .expect("ann ranker");
    println!();
    println!(
        "| ef_search | candidates | recall@{k} of the served lists | ms per user (batches of {batch}) | exact ms per user |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for ef in efs {
        ann.index_mut().set_expansion_search(ef);
        let start = Instant::now();
        let mut lists = Vec::new();
        for chunk in histories.chunks(batch) {
            lists.extend(ann.rank(chunk, &none[..chunk.len()], k).expect("ann"));
        }
        let ann_s = start.elapsed().as_secs_f64();
        let recall: f64 = lists
            .iter()
            .zip(&exact_lists)
            .map(|(got, want)| {
                let hits = want
                    .iter()
                    .filter(|(id, _)| got.iter().any(|(g, _)| g == id))
                    .count();
                hits as f64 / want.len().max(1) as f64
            })
            .sum::<f64>()
            / users as f64;
        println!(
            "| {ef} | {k}·{oversample} + history | {recall:.4} | {:.3} | {:.2} |",
            ann_s * 1e3 / users as f64,
            exact_s * 1e3 / users as f64
        );
    }
    let (rss, peak) = rss_mib();
    println!("\nRSS at the end {rss:.0} MiB, peak {peak:.0} MiB");
}
