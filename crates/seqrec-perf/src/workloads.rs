//! Workloads shared by the benchmarks (`benches/`) and `examples/perf_table.rs`: training
//! steps at the gSASRec ML-1M configuration and a small one, and ML-1M evaluation data.

use std::time::{Duration, Instant};

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqrec_data::{HistoryTargets, SequenceDataset};
use seqrec_loss::{GBceBeta, LossKind};
use seqrec_model::{AttentionMode, GsasRec, GsasRecConfig, PositionEncoding};
use seqrec_sampling::{NegativeSampler, NegativeSharing};
use seqrec_train::Objective;
use seqrec_train::internals::{
    BatchPlanner, GsasRecTraining, PerPositionScoring, StepSetup, TrainBatch,
};

/// One training configuration and its data.
pub struct TrainSetup {
    /// Catalogue size.
    pub num_items: usize,
    /// Training sequences.
    pub sequences: Vec<Vec<u32>>,
    /// Sequences per batch.
    pub batch: usize,
    /// History length.
    pub max_len: usize,
    /// Embedding width.
    pub dim: usize,
    /// Negatives per target.
    pub negatives: usize,
    /// The step's recipe: the gSASRec ML-1M one (gBCE, next item) or the ablation's on a
    /// listening log.
    pub recipe: Recipe,
}

/// How a [`TrainSetup`]'s model learns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Recipe {
    /// gSASRec's: next-item teacher forcing, gBCE with t = 0.75, dropout 0.5, causal
    /// attention with learned positions.
    GsasRec,
    /// The ablation's default on a listening log: bidirectional attention with learned
    /// positions, dropout 0.0625, 10 future targets, the full softmax from one row
    /// of logits per sequence, the repeat-aware score over the whole input (half-life 20) and
    /// the explore loss with this weight (0: off).
    Listening {
        /// Weight of the explore loss.
        explore_weight: f64,
    },
}

impl TrainSetup {
    /// The gSASRec ML-1M configuration on the 1 280 longest ML-1M training sequences (full
    /// 200-item windows), or synthetic sequences of the same shape without the data.
    pub fn ml1m() -> Self {
        let (num_items, mut sequences) = match crate::shared_data("ml1m-loo")
            .and_then(|dir| SequenceDataset::load_dir(dir).ok())
        {
            Some(d) => (d.num_items as usize, d.train),
            None => (
                3416,
                (0..6040u32)
                    .map(|u| (0..201).map(|i| 1 + (u * 7 + i * 13) % 3416).collect())
                    .collect(),
            ),
        };
        // The longest sequences: full 200-item windows, the configuration's worst case.
        sequences.sort_by_key(|s| std::cmp::Reverse(s.len()));
        sequences.truncate(1280);
        Self {
            num_items,
            sequences,
            batch: 128,
            max_len: 200,
            dim: 128,
            negatives: 256,
            recipe: Recipe::GsasRec,
        }
    }

    /// A small configuration: 500 items, batch 32, length 40, dim 32, 16 negatives.
    pub fn small() -> Self {
        Self {
            num_items: 500,
            sequences: (0..256u32)
                .map(|u| (0..41).map(|i| 1 + (u * 7 + i * 13) % 500).collect())
                .collect(),
            batch: 32,
            max_len: 40,
            dim: 32,
            negatives: 16,
            recipe: Recipe::GsasRec,
        }
    }

    /// The built-in ablation's transformer step (`seqrec ablation`'s defaults): 19 943
    /// tracks, batches of 128 inputs of 1 000 plays (attention reads the last 50, the repeat
    /// term all of them), dim 64, 10 future targets, with the explore loss at
    /// `explore_weight`. Synthetic listeners replay about 150 tracks of their own and
    /// discover one new track in five.
    pub fn listening(explore_weight: f64) -> Self {
        let num_items = 19_943u32;
        let mut rng = ChaCha8Rng::seed_from_u64(5000);
        let sequences = (0..1280)
            .map(|_| {
                let own: Vec<u32> = (0..150).map(|_| rng.random_range(1..=num_items)).collect();
                (0..1010)
                    .map(|_| {
                        if rng.random_bool(0.2) {
                            rng.random_range(1..=num_items)
                        } else {
                            own[rng.random_range(0..own.len())]
                        }
                    })
                    .collect()
            })
            .collect();
        Self {
            num_items: num_items as usize,
            sequences,
            batch: 128,
            max_len: 50,
            dim: 64,
            negatives: 128,
            recipe: Recipe::Listening { explore_weight },
        }
    }

    /// A model, its optimizer and a batch stream, after one warm-up step.
    pub fn trainer(
        &self,
        device: &Device,
        sharing: NegativeSharing,
        scoring: PerPositionScoring,
    ) -> Trainer<'_> {
        let base = GsasRecConfig::new(self.num_items)
            .with_dim(self.dim)
            .with_max_len(self.max_len)
            .with_positions(PositionEncoding::Learned);
        let (config, setup, objective) = match self.recipe {
            Recipe::GsasRec => {
                let beta = GBceBeta::Calibrated { t: 0.75 }
                    .resolve(self.negatives, self.num_items)
                    .unwrap();
                let setup = StepSetup {
                    loss: LossKind::GBce {
                        beta: GBceBeta::Fixed(beta),
                    },
                    beta,
                    guard: None,
                    explore_weight: 0.0,
                };
                (base.with_dropout(0.5), setup, Objective::NextItem)
            }
            Recipe::Listening { explore_weight } => {
                let config = base
                    .with_dropout(seqrec_model::DEFAULT_DROPOUT)
                    .with_attention(AttentionMode::Bidirectional)
                    .with_repeat_half_life(Some(20.0))
                    .with_repeat_context(Some(1000));
                let setup = StepSetup {
                    loss: LossKind::FullSoftmax,
                    beta: 1.0,
                    guard: None,
                    explore_weight,
                };
                (config, setup, Objective::FutureTargets { len: 10 })
            }
        };
        let train_device = device.clone().autodiff();
        device.seed(42);
        let model = GsasRecTraining {
            model: config.init(&train_device).unwrap(),
            setup,
            item_tables: None,
        };
        let planner = BatchPlanner {
            objective,
            max_len: config.input_len(),
            mask_token: config.mask_token() as u32,
            negatives: self.negatives,
            sharing,
            exclude_history: false,
        };
        let mut trainer = Trainer {
            setup: self,
            device: train_device,
            model: Some(model),
            optimizer: AdamConfig::new().init(),
            planner,
            sampler: NegativeSampler::uniform(self.num_items as u32).unwrap(),
            rng: ChaCha8Rng::seed_from_u64(42),
            scoring,
            step: 0,
        };
        trainer.steps(1);
        trainer
    }
}

/// Training state kept across criterion's calls.
pub struct Trainer<'a> {
    setup: &'a TrainSetup,
    device: Device,
    model: Option<GsasRecTraining>,
    optimizer: ModuleOptimizer,
    planner: BatchPlanner,
    sampler: NegativeSampler,
    rng: ChaCha8Rng,
    scoring: PerPositionScoring,
    step: usize,
}

impl Trainer<'_> {
    /// The model being trained.
    pub fn model(&self) -> &GsasRecTraining {
        self.model.as_ref().expect("a model between steps")
    }

    /// Runs `iters` training steps and returns the time spent in them (batch planning
    /// excluded).
    pub fn steps(&mut self, iters: u64) -> Duration {
        let s = self.setup;
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let start = self.step * s.batch % (s.sequences.len() - s.batch + 1);
            self.step += 1;
            let batch: Vec<&[u32]> = s.sequences[start..start + s.batch]
                .iter()
                .map(Vec::as_slice)
                .collect();
            let plan = self
                .planner
                .plan(&batch, &self.sampler, &mut self.rng)
                .unwrap();
            let started = Instant::now();
            let model = self.model.take().unwrap();
            let loss = model.loss_with(TrainBatch::from_plan(&plan, &self.device), self.scoring);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            self.model = Some(self.optimizer.step(1e-3, model, grads));
            let _: f32 = loss.into_scalar();
            total += started.elapsed();
        }
        total
    }
}

/// The ML-1M test split (6 040 users, 3 416 items, histories of at most 200 used, mean 107)
/// with its catalogue size, or a synthetic split of the same shape without the data.
pub fn ml1m_test() -> (usize, HistoryTargets) {
    if let Some(d) =
        crate::shared_data("ml1m-loo").and_then(|dir| SequenceDataset::load_dir(dir).ok())
        && let Some(test) = d.test
    {
        return (d.num_items as usize, test);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(6040);
    let inputs: Vec<Vec<u32>> = (0..6040)
        .map(|_| {
            let len = rng.random_range(20..=400);
            (0..len).map(|_| rng.random_range(1..=3416)).collect()
        })
        .collect();
    let targets = (0..6040).map(|_| rng.random_range(1..=3416)).collect();
    (3416, HistoryTargets { inputs, targets })
}

/// An untrained model of the gSASRec ML-1M configuration (dim 128, 2 blocks, 1 head,
/// length 200, learned positions) for `num_items` items.
pub fn ml1m_model(num_items: usize, device: &Device) -> GsasRec {
    device.seed(42);
    GsasRecConfig::new(num_items)
        .with_dropout(0.5)
        .with_positions(PositionEncoding::Learned)
        .init(device)
        .expect("a valid configuration")
}
