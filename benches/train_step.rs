//! Training-step benchmarks (criterion): a small configuration on every CPU backend, and the
//! gSASRec ML-1M configuration (batch 128, length 200, dim 128, 2 blocks, 1 head, 256
//! negatives, gBCE t = 0.75) on `flex` with per-sequence and per-position negatives, on real
//! ML-1M batches when `../shared/data/ml1m-loo` is present (else synthetic ids of the same
//! shape).
//!
//! ```sh
//! cargo bench -p seqrec-suite --bench train_step            # everything, a few minutes
//! cargo bench -p seqrec-suite --bench train_step -- small   # the small configuration only
//! ```
//!
//! A measured step is the forward pass, the backward pass and the Adam update; batches are
//! planned (sampled) outside the timed region, as the trainer does in a background thread.

use std::time::Duration;

use burn::tensor::Device;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use seqrec::sampling::NegativeSharing;
use seqrec::train::PerPositionScoring;
use seqrec_suite::perf::TrainSetup;

#[global_allocator]
static ALLOCATOR: seqrec_suite::alloc::Allocator = seqrec_suite::alloc::Allocator;

fn devices() -> Vec<(&'static str, Device)> {
    ["flex", "ndarray"]
        .into_iter()
        .filter_map(|name| Some((name, seqrec::device::parse_device(name).ok()?)))
        .collect()
}

fn small(c: &mut Criterion) {
    let setup = TrainSetup::small();
    let mut group = c.benchmark_group("train_step/small");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, device) in devices() {
        for sharing in [NegativeSharing::PerSequence, NegativeSharing::PerPosition] {
            // One model per configuration, trained on across criterion's samples.
            let mut trainer = setup.trainer(&device, sharing, PerPositionScoring::Auto);
            group.bench_function(format!("{name}/{sharing}"), |b| {
                b.iter_custom(|iters| trainer.steps(iters))
            });
        }
    }
    group.finish();
}

fn ml1m(c: &mut Criterion) {
    let setup = TrainSetup::ml1m();
    let Ok(device) = seqrec::device::parse_device("flex") else {
        return;
    };
    let mut group = c.benchmark_group("train_step/ml1m");
    // Seconds per step: ten flat samples of one step each after one warm-up step.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    for (sharing, scoring) in [
        (NegativeSharing::PerSequence, PerPositionScoring::Auto),
        (NegativeSharing::PerPosition, PerPositionScoring::Auto),
    ] {
        let mut trainer = setup.trainer(&device, sharing, scoring);
        group.bench_function(format!("flex/{sharing}"), |b| {
            b.iter_custom(|iters| trainer.steps(iters))
        });
    }
    group.finish();
}

criterion_group!(benches, small, ml1m);
criterion_main!(benches);
