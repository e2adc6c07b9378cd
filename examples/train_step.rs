//! Seconds per training step and peak memory at the gSASRec ML-1M configuration (batch 128,
//! length 200, dim 128, 2 blocks, 1 head, 256 negatives, gBCE t = 0.75), on real ML-1M
//! batches when `../shared/data/ml1m-loo` is present (else synthetic sequences of length 200).
//!
//! ```sh
//! cargo run --release -p seqrec-suite --features flex --example train_step -- per-sequence flex 10
//! ```
//!
//! Arguments: sharing (per-position | per-sequence | per-batch), device, steps, and how
//! per-position negatives are scored (auto | logits | gather; default auto). Run one
//! configuration per process: the peak resident memory reported is the process's.
//! `SEQREC_ALLOCATOR=system` measures glibc's allocator instead of mimalloc.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use seqrec::data::SequenceDataset;
use seqrec::loss::{GBceBeta, LossKind};
use seqrec::model::{GsasRecConfig, PositionEncoding};
use seqrec::sampling::{NegativeSampler, NegativeSharing};
use seqrec::train::Objective;
use seqrec::train::internals::{
    BatchPlanner, GsasRecTraining, PerPositionScoring, StepSetup, TrainBatch,
};
use seqrec_perf::process::{cpu_seconds, page_faults, peak_rss_mb};

#[global_allocator]
static ALLOCATOR: seqrec::alloc::Allocator = seqrec::alloc::Allocator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sharing: NegativeSharing = args
        .first()
        .map_or("per-sequence", String::as_str)
        .parse()?;
    let device = seqrec::device::parse_device(args.get(1).map_or("flex", String::as_str))?;
    let steps: usize = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let scoring = match args.get(3).map_or("auto", String::as_str) {
        "auto" => PerPositionScoring::Auto,
        "logits" => PerPositionScoring::Logits,
        "gather" => PerPositionScoring::Gather,
        other => return Err(format!("unknown scoring {other}: auto, logits or gather").into()),
    };

    let (num_items, sequences) = match seqrec_perf::shared_data("ml1m-loo") {
        Some(dir) => {
            let d = SequenceDataset::load_dir(dir)?;
            (d.num_items as usize, d.train)
        }
        None => (
            3416,
            (0..6040u32)
                .map(|u| (0..201).map(|i| 1 + (u * 7 + i * 13) % 3416).collect())
                .collect(),
        ),
    };
    let config = GsasRecConfig::new(num_items)
        .with_dropout(0.5)
        .with_positions(PositionEncoding::Learned);
    let beta = GBceBeta::Calibrated { t: 0.75 }.resolve(256, num_items)?;
    let train_device = device.clone().autodiff();
    device.seed(42);
    let mut model = GsasRecTraining {
        model: config.init(&train_device)?,
        setup: StepSetup {
            loss: LossKind::GBce {
                beta: GBceBeta::Fixed(beta),
            },
            beta,
            guard: None,
            explore_weight: 0.0,
        },
        item_tables: None,
    };
    let mut optimizer = AdamConfig::new().init();
    let planner = BatchPlanner {
        objective: Objective::NextItem,
        max_len: 200,
        mask_token: config.mask_token() as u32,
        negatives: 256,
        sharing,
        exclude_history: false,
    };
    let sampler = NegativeSampler::uniform(num_items as u32)?;
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    // The longest sequences first: full 200-item windows, the configuration's worst case.
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sequences[i].len()));

    let mut times = Vec::new();
    let mut after_warm_up = None;
    for step in 0..steps + 1 {
        let batch: Vec<&[u32]> = order[step * 128 % 6000..][..128]
            .iter()
            .map(|&i| sequences[i].as_slice())
            .collect();
        let plan = planner.plan(&batch, &sampler, &mut rng)?;
        if step == 1 {
            after_warm_up = Some((page_faults(), cpu_seconds()));
        }
        let started = Instant::now();
        let loss = model.loss_with(TrainBatch::from_plan(&plan, &train_device), scoring);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-3, model, grads);
        let _: f32 = loss.into_scalar();
        if step > 0 {
            times.push(started.elapsed().as_secs_f64()); // step 0 warms up
        }
    }
    let per_step = |now: Option<f64>, then: Option<f64>| match (now, then) {
        (Some(a), Some(b)) if steps > 0 => (a - b) / steps as f64,
        _ => f64::NAN,
    };
    let (faults0, cpu0) = after_warm_up.unwrap_or((None, None));
    let (faults1, cpu1) = (page_faults(), cpu_seconds());
    let faults = per_step(faults1.map(|f| f.0 as f64), faults0.map(|f| f.0 as f64));
    let user = per_step(cpu1.map(|c| c.0), cpu0.map(|c| c.0));
    let system = per_step(cpu1.map(|c| c.1), cpu0.map(|c| c.1));
    times.sort_by(f64::total_cmp);
    println!(
        "| {sharing} | {scoring:?} | {:?} | {} | {:.3} s | {:.3} s | {:.0} MB | {:.0} | {:.2} s | {:.2} s |",
        device,
        seqrec::alloc::name(),
        times[times.len() / 2],
        times[0],
        peak_rss_mb().unwrap_or(f64::NAN),
        faults,
        user,
        system,
    );
    eprintln!(
        "columns: sharing | scoring | device | allocator | median s/step | best s/step | peak RSS | minor faults/step | user CPU s/step | system CPU s/step"
    );
    Ok(())
}
