//! Seconds per training step and peak memory at the gSASRec ML-1M configuration (batch 128,
//! length 200, dim 128, 2 blocks, 1 head, 256 negatives, gBCE t = 0.75), on real ML-1M
//! batches when `../shared/data/ml1m-loo` is present (else synthetic sequences of length 200).
//!
//! ```sh
//! cargo run --release -p seqrec-suite --features flex --example train_step -- per-sequence flex 10
//! ```
//!
//! Arguments: sharing (per-position | per-sequence | per-batch), device, steps. Run one
//! sharing mode per process: the peak resident memory reported is the process's.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use seqrec::data::SequenceDataset;
use seqrec::loss::{GBceBeta, LossKind};
use seqrec::model::{GsasRecConfig, PositionEncoding};
use seqrec::sampling::{NegativeSampler, NegativeSharing};
use seqrec::train::{BatchPlanner, Objective, StepSetup, TrainBatch, TrainingModel};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sharing: NegativeSharing = args
        .first()
        .map_or("per-sequence", String::as_str)
        .parse()?;
    let device = seqrec::device::parse_device(args.get(1).map_or("flex", String::as_str))?;
    let steps: usize = args.get(2).map_or(Ok(10), |s| s.parse())?;

    let (num_items, sequences) = match seqrec_suite::shared_data("ml1m-loo") {
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
    let mut model = TrainingModel {
        model: config.init(&train_device)?,
        setup: StepSetup {
            loss: LossKind::GBce {
                beta: GBceBeta::Fixed(beta),
            },
            beta,
        },
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
    for step in 0..steps + 1 {
        let batch: Vec<&[u32]> = order[step * 128 % 6000..][..128]
            .iter()
            .map(|&i| sequences[i].as_slice())
            .collect();
        let plan = planner.plan(&batch, &sampler, &mut rng)?;
        let started = Instant::now();
        let loss = model.loss(TrainBatch::from_plan(&plan, &train_device));
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-3, model, grads);
        let _: f32 = loss.into_scalar();
        if step > 0 {
            times.push(started.elapsed().as_secs_f64()); // step 0 warms up
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| {sharing} | {:?} | {:.3} s | {:.3} s | {:.0} MB |",
        device,
        times[times.len() / 2],
        times[0],
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    Ok(())
}
