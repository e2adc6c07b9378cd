//! Inference benchmarks (criterion), on an untrained model of the gSASRec ML-1M configuration
//! (the cost does not depend on the weights):
//!
//! * `evaluate/ml1m-test`: full-catalogue ranks (history excluded) of the 6 040 ML-1M test
//!   users, as `seqrec evaluate` computes them, per CPU backend;
//! * `recommend/one-user`: one user's top-10 over the ML-1M catalogue from a 200-item
//!   history (latency of a single request);
//! * `top_k/1m-catalogue`: the top-100 of `SEQREC_BENCH_USERS` (1 000) users over a
//!   catalogue of `SEQREC_BENCH_ITEMS` (1 000 000) random item embeddings, scored in chunks
//!   of 16 384 items (memory bounded by the chunk, not the catalogue).
//!
//! ```sh
//! cargo bench -p seqrec-suite --bench inference
//! ```

use std::hint::black_box;
use std::time::Duration;

use burn::tensor::{Distribution, Int, Tensor, TensorData};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use seqrec::train::next_item_ranks;
use seqrec_perf::top_k::top_k_chunked;
use seqrec_perf::workloads::{ml1m_model, ml1m_test};

#[global_allocator]
static ALLOCATOR: seqrec::alloc::Allocator = seqrec::alloc::Allocator;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn evaluate(c: &mut Criterion) {
    let (num_items, test) = ml1m_test();
    let mut group = c.benchmark_group("evaluate");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    for name in ["flex", "ndarray"] {
        let Ok(device) = seqrec::device::parse_device(name) else {
            continue;
        };
        let model = ml1m_model(num_items, &device);
        group.bench_function(format!("ml1m-test/{name}"), |b| {
            b.iter(|| black_box(next_item_ranks(&model, &test, 256, true, &device).unwrap()))
        });
    }
    group.finish();
}

fn recommend(c: &mut Criterion) {
    let (num_items, test) = ml1m_test();
    let Ok(device) = seqrec::device::parse_device("flex") else {
        return;
    };
    let model = ml1m_model(num_items, &device);
    let history: Vec<i64> = test
        .inputs
        .iter()
        .max_by_key(|h| h.len())
        .map(|h| {
            h[h.len().saturating_sub(200)..]
                .iter()
                .map(|&i| i64::from(i))
                .collect()
        })
        .unwrap();
    let len = history.len();
    let mut group = c.benchmark_group("recommend");
    group.sample_size(20);
    group.bench_function("one-user/flex", |b| {
        b.iter(|| {
            let input =
                Tensor::<2, Int>::from_data(TensorData::new(history.clone(), [1, len]), &device);
            let scores = model.score_all(model.user_representation(input));
            black_box(scores.topk_with_indices(10, 1))
        })
    });
    group.finish();
}

fn top_k(c: &mut Criterion) {
    let users = env_usize("SEQREC_BENCH_USERS", 1000);
    let items = env_usize("SEQREC_BENCH_ITEMS", 1_000_000);
    let Ok(device) = seqrec::device::parse_device("flex") else {
        return;
    };
    device.seed(1);
    let table = Tensor::<2>::random([items, 128], Distribution::Normal(0.0, 1.0), &device);
    let queries = Tensor::<2>::random([users, 128], Distribution::Normal(0.0, 1.0), &device);
    let mut group = c.benchmark_group("top_k");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    group.bench_function(format!("{users}-users-{items}-items/flex"), |b| {
        b.iter(|| {
            black_box(
                top_k_chunked(queries.clone(), table.clone(), 0, 100, 16_384, |_, _| false)
                    .unwrap(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, evaluate, recommend, top_k);
criterion_main!(benches);
