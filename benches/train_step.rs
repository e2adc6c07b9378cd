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
//!
//! `listening` is the built-in ablation's transformer step (19 943 tracks, batch 128, 1 000
//! plays per input, attention over 50, dim 64, the full softmax of 10 future targets
//! with the repeat-aware score) without and with the explore loss, in one run:
//!
//! ```sh
//! cargo bench -p seqrec-suite --bench train_step -- listening
//! ```
//!
//! `repeat_bias` measures the repeat-aware term of the full-softmax step on a listening-log
//! catalogue (200 000 tracks, batch 128, 1 000 plays each): its forward and backward pass
//! added to the logits as a full-catalogue tensor (`RepeatScore::all`) against the same values
//! added at the plays only (`RepeatScore::add_to`), in one run.
//!
//! ```sh
//! cargo bench -p seqrec-suite --bench train_step -- repeat_bias
//! ```

use std::time::Duration;

use burn::tensor::Device;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use seqrec::sampling::NegativeSharing;
use seqrec::train::internals::PerPositionScoring;
use seqrec_perf::workloads::TrainSetup;

#[global_allocator]
static ALLOCATOR: seqrec::alloc::Allocator = seqrec::alloc::Allocator;

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

fn listening(c: &mut Criterion) {
    let Ok(device) = seqrec::device::parse_device("flex") else {
        return;
    };
    let mut group = c.benchmark_group("train_step/listening");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for (name, explore_weight) in [("main-loss", 0.0), ("with-explore", 1.0)] {
        let setup = TrainSetup::listening(explore_weight);
        let mut trainer = setup.trainer(&device, NegativeSharing::PerSequence, Default::default());
        group.bench_function(format!("flex/{name}"), |b| {
            b.iter_custom(|iters| trainer.steps(iters))
        });
    }
    group.finish();
}

fn repeat_bias(c: &mut Criterion) {
    use burn::module::Param;
    use burn::tensor::{Int, Tensor, TensorData};
    use rand::{Rng, SeedableRng};
    use seqrec::model::RepeatScore;

    let Ok(device) = seqrec::device::parse_device("flex") else {
        return;
    };
    let device = device.autodiff();
    let (batch, rows, plays) = (128, 200_002, 1000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // Listeners replaying about 300 tracks each.
    let ids: Vec<i64> = (0..batch)
        .flat_map(|_| {
            let own: Vec<i64> = (0..300)
                .map(|_| rng.random_range(1..rows as i64 - 1))
                .collect();
            (0..plays)
                .map(|_| own[rng.random_range(0..own.len())])
                .collect::<Vec<_>>()
        })
        .collect();
    let items = Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, plays]), &device);
    let mut repeat = RepeatScore::new(20.0, plays, 10.0, &device);
    repeat.weights = Param::from_tensor(Tensor::from_floats([0.1, 0.2, 0.3], &device));
    let logits = Tensor::<2>::zeros([batch, rows], &device).require_grad();

    let mut group = c.benchmark_group("repeat_bias/200k");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    let step = |with: &dyn Fn(Tensor<2>) -> Tensor<2>| {
        let loss = with(logits.clone()).sum();
        let grads = loss.backward();
        std::hint::black_box(repeat.weights.grad(&grads));
    };
    group.bench_function("full-catalogue", |b| {
        b.iter(|| step(&|l| l + repeat.all(items.clone(), rows)))
    });
    group.bench_function("at-plays", |b| {
        b.iter(|| step(&|l| repeat.add_to(l, items.clone())))
    });
    group.finish();
}

criterion_group!(benches, small, ml1m, listening, repeat_bias);
criterion_main!(benches);
