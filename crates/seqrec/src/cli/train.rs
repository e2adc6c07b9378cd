//! `seqrec train`.

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use seqrec::data::SyntheticConfig;
use seqrec::loss::{GBceBeta, LossKind};
use seqrec::model::{AttentionMode, GsasRecConfig, OutputEmbeddings, PositionEncoding};
use seqrec::sampling::{NegativeDistribution, NegativeSharing};
use seqrec::train::{
    Objective, ProgressEvent, Recommender, TrainConfig, TrainOptions, TrainingData,
    evaluate_next_item, train,
};

use super::{CliError, DeviceArg};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Attention {
    Causal,
    Bidirectional,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Positions {
    None,
    Learned,
    Sinusoidal,
}

/// `--output-embeddings` of `train` and `ablation`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum Output {
    Separate,
    Shared,
}

impl From<Output> for OutputEmbeddings {
    fn from(output: Output) -> Self {
        match output {
            Output::Separate => OutputEmbeddings::Separate,
            Output::Shared => OutputEmbeddings::Shared,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Loss {
    Gbce,
    Bce,
    SampledSoftmax,
    FullSoftmax,
}

/// Arguments of `seqrec train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Training data: a directory in the gSASRec layout (train/, val/, test/,
    /// dataset_stats.json) or a file of listening events (CSV, Parquet, Spotify or Last.fm
    /// exports, ... see --format), split by time into a history and a held-out window.
    /// Without it, a built-in synthetic dataset is generated (no download).
    #[arg(long)]
    data: Option<PathBuf>,
    #[command(flatten)]
    events: super::data::EventArgs,
    /// Output model directory.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArg,

    /// Longest history the model reads [default: 200; 50 on the built-in dataset].
    #[arg(long)]
    max_len: Option<usize>,
    /// Embedding size [default: 128; 64 on the built-in dataset].
    #[arg(long)]
    dim: Option<usize>,
    /// Transformer blocks.
    #[arg(long, default_value_t = 2)]
    blocks: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 1)]
    heads: usize,
    /// Dropout rate (the paper's 0.0625).
    #[arg(long, default_value_t = 0.0625)]
    dropout: f64,
    /// Causal mask or not.
    #[arg(long, value_enum, default_value_t = Attention::Causal)]
    attention: Attention,
    /// Positional encoding.
    #[arg(long, value_enum, default_value_t = Positions::Learned)]
    positions: Positions,
    /// Output embedding table.
    #[arg(long, value_enum, default_value_t = Output::Separate)]
    output_embeddings: Output,

    /// Training objective: next-item, future-window[:LEN], cloze[:PROB]
    /// (default: next-item for causal models, future-window:10 for bidirectional ones).
    #[arg(long)]
    objective: Option<Objective>,
    /// Loss.
    #[arg(long, value_enum, default_value_t = Loss::Gbce)]
    loss: Loss,
    /// gBCE β, given directly (the paper's 0.9).
    #[arg(long, conflicts_with = "gbce_t")]
    beta: Option<f64>,
    /// gBCE calibration t of gSASRec (β derived from t, the number of negatives and items).
    #[arg(long)]
    gbce_t: Option<f64>,
    /// Negatives per target [default: 256; 128 on the built-in dataset].
    #[arg(long)]
    negatives: Option<usize>,
    /// Negative sharing: per-sequence (one set of negatives for all positions of a sequence,
    /// scored with one matrix product), per-position (fresh negatives at every position, as
    /// the gSASRec reference code) or per-batch.
    #[arg(long, default_value = "per-sequence")]
    sharing: NegativeSharing,
    /// Negatives drawn by popularity^GAMMA instead of uniformly.
    #[arg(long)]
    popularity_gamma: Option<f64>,
    /// Sequences per batch.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Adam learning rate [default: 1e-3, gSASRec's; 5e-3 on the built-in dataset].
    #[arg(long)]
    lr: Option<f64>,
    /// Stop after this many steps.
    #[arg(long)]
    steps: Option<usize>,
    /// Stop after this many passes over the training sequences.
    #[arg(long)]
    epochs: Option<usize>,
    /// Stop after this much wall-clock time (e.g. 30m, 90s, 2h).
    #[arg(long)]
    time_limit: Option<humantime::Duration>,
    /// Validate every N steps.
    #[arg(long, default_value_t = 100)]
    eval_every: usize,
    /// Stop after this many validations without improvement.
    #[arg(long, default_value_t = 20)]
    patience: usize,
    /// Seed of all randomness.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Continue from the last checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl TrainArgs {
    /// The configuration; `builtin` selects the smaller defaults of the built-in dataset,
    /// which train in about a minute on a laptop CPU.
    fn config(&self, num_items: usize, builtin: bool) -> TrainConfig {
        let pick = |given: Option<usize>, full: usize, small: usize| {
            given.unwrap_or(if builtin { small } else { full })
        };
        let model = GsasRecConfig::new(num_items)
            .with_max_len(pick(self.max_len, 200, 50))
            .with_dim(pick(self.dim, 128, 64))
            .with_blocks(self.blocks)
            .with_heads(self.heads)
            .with_dropout(self.dropout)
            .with_attention(match self.attention {
                Attention::Causal => AttentionMode::Causal,
                Attention::Bidirectional => AttentionMode::Bidirectional,
            })
            .with_positions(match self.positions {
                Positions::None => PositionEncoding::None,
                Positions::Learned => PositionEncoding::Learned,
                Positions::Sinusoidal => PositionEncoding::Sinusoidal,
            })
            .with_output_embeddings(self.output_embeddings.into());
        let mut config = TrainConfig::new(model);
        if let Some(objective) = self.objective {
            config.objective = objective;
        }
        let beta = match (self.beta, self.gbce_t) {
            (_, Some(t)) => GBceBeta::Calibrated { t },
            (Some(beta), None) => GBceBeta::Fixed(beta),
            (None, None) => GBceBeta::Fixed(0.9),
        };
        config.loss = match self.loss {
            Loss::Gbce => LossKind::GBce { beta },
            Loss::Bce => LossKind::Bce,
            Loss::SampledSoftmax => LossKind::SampledSoftmax,
            Loss::FullSoftmax => LossKind::FullSoftmax,
        };
        config.negatives = pick(self.negatives, 256, 128);
        config.sharing = self.sharing;
        if let Some(gamma) = self.popularity_gamma {
            config.negative_distribution = NegativeDistribution::Popularity { gamma };
        }
        config.batch_size = self.batch_size;
        config.learning_rate = self.lr.unwrap_or(if builtin { 5e-3 } else { 1e-3 });
        config.limit.steps = self.steps;
        config.limit.epochs = self.epochs;
        config.limit.seconds = self.time_limit.map(|d| Duration::from(d).as_secs_f64());
        config.eval_every = self.eval_every;
        config.patience = self.patience;
        config.seed = self.seed;
        config
    }
}

fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

pub fn run(args: TrainArgs) -> Result<(), CliError> {
    let device = args.device.open()?;
    let (dataset, items) = match &args.data {
        Some(path) => {
            let loaded = super::data::load(path, &args.events)?;
            (loaded.dataset, Some(loaded.items))
        }
        None => {
            let synthetic = SyntheticConfig::default();
            eprintln!(
                "no --data: generating the built-in synthetic listening dataset ({} users, {} tracks, seed {})",
                synthetic.users, synthetic.items, synthetic.seed
            );
            (synthetic.generate()?, None)
        }
    };
    let builtin = args.data.is_none();
    let mut config = args.config(dataset.num_items as usize, builtin);
    if args.steps.is_none() && args.epochs.is_none() && args.time_limit.is_none() {
        if !builtin {
            return Err("set a training limit: --steps, --epochs or --time-limit".into());
        }
        config.limit.steps = Some(300);
    }
    let mut data = TrainingData::from_sequences(&dataset)?;
    if let Some(items) = items {
        data.items = items;
    }

    let bar = progress_bar(args.quiet);
    let status = bar.clone();
    let mut last_ndcg = f64::NAN;
    let options = TrainOptions {
        resume: args.resume,
        progress: Some(Box::new(move |event| match event {
            ProgressEvent::Started { total_steps } => {
                if let Some(total) = total_steps.filter(|&t| t < usize::MAX / 4) {
                    status.set_length(total as u64);
                }
            }
            ProgressEvent::Step {
                step,
                loss,
                sequences_per_second,
            } => {
                status.set_position(*step as u64);
                status.set_message(format!(
                    "loss {loss:.4}  {sequences_per_second:.0} seq/s  val NDCG@10 {last_ndcg:.4}"
                ));
            }
            ProgressEvent::Validated { ndcg_at_10, .. } => last_ndcg = *ndcg_at_10,
            ProgressEvent::Finished => status.finish(),
        })),
    };
    let (model, report) = train(&config, &data, &device, &args.out, options)?;
    bar.finish_and_clear();
    println!(
        "trained {} steps in {:.1} s ({:.3} s/step); best validation NDCG@10 {:.4} at step {}",
        report.steps,
        report.seconds,
        report.seconds_per_step,
        report
            .best_validation
            .and_then(|b| report.validations.get(b - 1))
            .copied()
            .unwrap_or(f64::NAN),
        report.best_step
    );
    println!("model saved to {}", args.out.display());
    if let Ok(test) = dataset.held_out(seqrec::data::Split::Test) {
        let metrics = evaluate_next_item(&model, test, 256, true, &device)?.to_flat_map();
        println!(
            "test ({} users): ndcg@10 {:.4}  recall@10 {:.4}  recall@1 {:.4}  mrr {:.4}",
            test.inputs.len(),
            metrics["ndcg@10"],
            metrics["recall@10"],
            metrics["recall@1"],
            metrics["mrr"]
        );
    }
    let _ = Recommender::load(&args.out, &device)?; // the saved directory loads back
    Ok(())
}
