//! `seqrec train`.

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use seqrec::data::SyntheticConfig;
use seqrec::loss::{GBceBeta, LossKind};
use seqrec::model::{AttentionMode, GsasRecConfig, Named, OutputEmbeddings, PositionEncoding};
use seqrec::sampling::{NegativeDistribution, NegativeSharing};
use seqrec::train::{
    ItemUpdates, NonFiniteLoss, Objective, ProgressEvent, Recommender, TrainConfig, TrainOptions,
    TrainingData, evaluate_next_item, train,
};

use super::config_file::{self, Given, Shape, copy_given};
use super::{CliError, DeviceArg};

/// `--loss` of `train` and `ablation`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum Loss {
    Gbce,
    Bce,
    SampledSoftmax,
    FullSoftmax,
}

impl Loss {
    /// The loss, with gBCE's β.
    pub(super) fn kind(self, beta: GBceBeta) -> LossKind {
        match self {
            Loss::Gbce => LossKind::GBce { beta },
            Loss::Bce => LossKind::Bce,
            Loss::SampledSoftmax => LossKind::SampledSoftmax,
            Loss::FullSoftmax => LossKind::FullSoftmax,
        }
    }
}

/// The library's defaults, which the flags without a dataset-dependent default show and fall
/// back to: each is written once, in [`TrainConfig::new`] and [`GsasRecConfig::new`].
fn defaults() -> TrainConfig {
    TrainConfig::new(GsasRecConfig::new(1))
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
    /// Train data-parallel on these devices (comma-separated `--device` names, e.g.
    /// `cuda:0,cuda:1`; `flex,flex` runs two workers on the one CPU device): each gets an equal
    /// share of every batch, the gradients are summed on the first, which also validates
    /// (burn-train's MultiDevice strategy; docs/scale.md).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        conflicts_with = "device"
    )]
    devices: Vec<String>,
    /// Read the training configuration from this TOML or JSON file (by its extension): the
    /// serde form of a `TrainConfig`, whole or some of its keys, or the `config.json` of a
    /// model directory. Flags given on the command line override its values; the catalogue
    /// size is the data's (docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the result as one JSON object on stdout (progress and notes go to stderr).
    #[arg(long)]
    json: bool,

    /// Longest history the model reads [default: 200; 50 on the built-in dataset].
    #[arg(long)]
    max_len: Option<usize>,
    /// Embedding size [default: 64].
    #[arg(long)]
    dim: Option<usize>,
    /// Transformer blocks.
    #[arg(long, default_value_t = defaults().model.blocks)]
    blocks: usize,
    /// Attention heads.
    #[arg(long, default_value_t = defaults().model.heads)]
    heads: usize,
    /// Dropout rate [default: 0.2 (SASRec's on ML-1M); 0.0625, the paper's, on listening
    /// events].
    #[arg(long)]
    dropout: Option<f64>,
    /// Causal mask or not [default: causal; bidirectional, the paper's best variant, on
    /// listening events].
    #[arg(long, value_parser = super::named::<AttentionMode>())]
    attention: Option<AttentionMode>,
    /// Positional encoding.
    #[arg(long, value_parser = super::named::<PositionEncoding>(),
          default_value = defaults().model.positions.name())]
    positions: PositionEncoding,
    /// Output embedding table.
    #[arg(long, value_parser = super::named::<OutputEmbeddings>(),
          default_value = defaults().model.output_embeddings.name())]
    output_embeddings: OutputEmbeddings,

    /// Training objective: next-item, future-targets[:LEN], cloze[:PROB]
    /// (default: next-item for causal models, future-targets:10 for bidirectional ones and
    /// on listening events).
    #[arg(long)]
    objective: Option<Objective>,
    /// Loss [default: full-softmax when the catalogue's logits of a batch fit in 512 MiB
    /// (ML-1M: 3 416 items), else gbce, the paper's].
    #[arg(long, value_enum)]
    loss: Option<Loss>,
    /// Repeat-aware score: a learned term for the history's items (their plays in the
    /// window and their recency, with this half-life in history positions) [default: 20 on
    /// listening events, off otherwise]. Needs an objective that scores from the last
    /// position (future-targets).
    #[arg(long)]
    repeat_half_life: Option<f64>,
    /// Most recent history plays the repeat-aware score counts; attention reads --max-len
    /// [default: 20000].
    #[arg(long)]
    repeat_context: Option<usize>,
    /// No repeat-aware score, also on listening events.
    #[arg(long, conflicts_with_all = ["repeat_half_life", "repeat_context"])]
    no_repeat: bool,
    /// Weight of the explore loss: a softmax over the items outside the user's history, for
    /// the targets new to them, added to the full softmax of future targets [default: 1 on
    /// listening events with the full softmax, 0 otherwise].
    #[arg(long)]
    explore_weight: Option<f64>,
    /// How the item tables are updated: sparse updates touch only the rows of a batch's
    /// inputs, targets and negatives (lazy Adam, row-wise second moment: the step's cost and
    /// the optimizer's memory no longer grow with the catalogue); auto is sparse from 262 144
    /// items with sampled negatives (docs/scale.md).
    #[arg(long, value_parser = super::named::<ItemUpdates>(),
          default_value = ItemUpdates::default().name())]
    item_updates: ItemUpdates,
    /// Standard deviation of the initial item and position embeddings [default: 0.02].
    #[arg(long)]
    init_std: Option<f64>,
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
    #[arg(long, default_value_t = defaults().sharing)]
    sharing: NegativeSharing,
    /// Negatives drawn by popularity^GAMMA instead of uniformly.
    #[arg(long)]
    popularity_gamma: Option<f64>,
    /// Sequences per batch.
    #[arg(long, default_value_t = defaults().run.batch_size)]
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
    #[arg(long, default_value_t = defaults().run.eval_every)]
    eval_every: usize,
    /// Stop after this many validations without improvement.
    #[arg(long, default_value_t = defaults().run.patience)]
    patience: usize,
    /// Seed of all randomness.
    #[arg(long, default_value_t = defaults().run.seed)]
    seed: u64,
    /// Continue from the last checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Skip (and count) batches whose loss is NaN or infinite instead of stopping with an
    /// error that names the step.
    #[arg(long)]
    skip_non_finite: bool,
}

/// What `--data` is: it decides the defaults that learn on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataKind {
    /// No `--data`: the built-in synthetic next-item dataset.
    Builtin,
    /// Next-item sequences (the gSASRec layout, sequence files).
    Sequences,
    /// A listening log split by time: listeners replay tracks.
    Listening,
}

/// Logits of one batch that the full-softmax default allows: 2^27 floats (512 MiB).
const FULL_SOFTMAX_MAX_LOGITS: usize = 1 << 27;

/// `TrainConfig` in a `--config` file.
const SHAPE: Shape = Shape {
    command: "train",
    // A model directory's `config.json` (`GsasRecManifest`) holds it under `training`.
    wrapper: "training",
    tables: &["model", "limit"],
    unwritten: &[],
};

impl TrainArgs {
    /// gBCE's β from `--beta` / `--gbce-t` (the paper's 0.9 without either).
    fn beta(&self) -> GBceBeta {
        match (self.beta, self.gbce_t) {
            (_, Some(t)) => GBceBeta::Calibrated { t },
            (Some(beta), None) => GBceBeta::Fixed(beta),
            (None, None) => GBceBeta::Fixed(0.9),
        }
    }

    /// The configuration of the run: the flags' ([`TrainArgs::config`]), or with `--config`
    /// the file's over them and the flags given on the command line over the file. The
    /// catalogue size is always the data's (a note says when the file's differs).
    fn resolve(
        &self,
        num_items: usize,
        kind: DataKind,
        given: Given,
    ) -> Result<TrainConfig, CliError> {
        let flags = self.config(num_items, kind);
        let Some(path) = &self.config else {
            return Ok(flags);
        };
        let mut config = config_file::load(path, &flags, &SHAPE)?;
        if config.model.num_items != num_items {
            config_file::note_replaced(path, "model.num_items", config.model.num_items, num_items);
            config.model.num_items = num_items;
        }
        self.apply_given(&mut config, &flags, given);
        Ok(config)
    }

    /// Sets the values of the flags given on the command line (`flags` is
    /// [`TrainArgs::config`]) over a configuration read from a file.
    fn apply_given(&self, config: &mut TrainConfig, flags: &TrainConfig, given: Given) {
        let (model, from) = (&mut config.model, &flags.model);
        copy_given!(given, model, from; max_len, dim, blocks, heads, dropout, attention, positions, output_embeddings, init_std);
        if given.has("repeat_half_life") {
            model.repeat_half_life = from.repeat_half_life;
            if model.repeat_context.is_none() {
                model.repeat_context = from.repeat_context;
            }
        }
        if given.has("repeat_context") && model.repeat_half_life.is_some() {
            model.repeat_context = self.repeat_context;
        }
        if given.has("no_repeat") {
            model.repeat_half_life = None;
            model.repeat_context = None;
        }
        if given.has("objective") {
            config.objective = flags.objective;
        }
        if given.has("loss") {
            config.loss = flags.loss.clone();
        } else if (given.has("beta") || given.has("gbce_t"))
            && let LossKind::GBce { beta } = &mut config.loss
        {
            *beta = self.beta();
        }
        copy_given!(given, config, flags; explore_weight, negatives, sharing, item_updates);
        copy_given!(given, config.run, flags.run; batch_size);
        if given.has("popularity_gamma") {
            config.negative_distribution = flags.negative_distribution.clone();
        }
        if given.has("lr") {
            config.run.learning_rate = flags.run.learning_rate;
        }
        if given.has("steps") {
            config.run.limit.steps = flags.run.limit.steps;
        }
        if given.has("epochs") {
            config.run.limit.epochs = flags.run.limit.epochs;
        }
        if given.has("time_limit") {
            config.run.limit.seconds = flags.run.limit.seconds;
        }
        copy_given!(given, config.run, flags.run; eval_every, patience, seed);
        if given.has("skip_non_finite") {
            config.run.non_finite_loss = flags.run.non_finite_loss;
        }
    }

    /// The configuration; `kind` selects the defaults (the built-in dataset's are smaller,
    /// and train in about a minute on a laptop CPU).
    fn config(&self, num_items: usize, kind: DataKind) -> TrainConfig {
        let builtin = kind == DataKind::Builtin;
        let listening = kind == DataKind::Listening;
        let pick = |given: Option<usize>, full: usize, small: usize| {
            given.unwrap_or(if builtin { small } else { full })
        };
        let attention = match self.attention {
            Some(attention) => attention,
            None if listening => AttentionMode::Bidirectional,
            None => AttentionMode::Causal,
        };
        let repeat = match (self.no_repeat, self.repeat_half_life) {
            (true, _) => None,
            (false, Some(h)) => Some(h),
            (false, None) => listening.then_some(20.0),
        };
        let max_len = pick(self.max_len, 200, 50);
        let model = GsasRecConfig::new(num_items)
            .with_max_len(max_len)
            .with_dim(self.dim.unwrap_or(64))
            .with_blocks(self.blocks)
            .with_heads(self.heads)
            .with_dropout(self.dropout.unwrap_or(if listening {
                seqrec_model::DEFAULT_DROPOUT
            } else {
                0.2
            }))
            .with_attention(attention)
            .with_positions(self.positions)
            .with_output_embeddings(self.output_embeddings)
            .with_init_std(self.init_std)
            .with_repeat_half_life(repeat)
            .with_repeat_context(repeat.map(|_| {
                self.repeat_context
                    .unwrap_or(seqrec::ablation::REPEAT_CONTEXT)
            }));
        let mut config = TrainConfig::new(model);
        config.objective = match self.objective {
            Some(objective) => objective,
            // The repeat term reads the window of the last position.
            None if listening || repeat.is_some() => Objective::FutureTargets { len: 10 },
            None => Objective::default_for(attention),
        };
        let beta = self.beta();
        let queries = if config.objective.scores_from_last_position() {
            1
        } else {
            max_len
        };
        let logits = self
            .batch_size
            .saturating_mul(queries)
            .saturating_mul(num_items + 2);
        let loss = self.loss.unwrap_or(if logits <= FULL_SOFTMAX_MAX_LOGITS {
            Loss::FullSoftmax
        } else {
            Loss::Gbce
        });
        config.loss = loss.kind(beta);
        config.negatives = pick(self.negatives, 256, 128).min(num_items.saturating_sub(1).max(1));
        config.sharing = self.sharing;
        if let Some(gamma) = self.popularity_gamma {
            config.negative_distribution = NegativeDistribution::Popularity { gamma };
        }
        config.run.batch_size = self.batch_size;
        config.run.learning_rate = self.lr.unwrap_or(if builtin { 5e-3 } else { 1e-3 });
        config.run.limit.steps = self.steps;
        config.run.limit.epochs = self.epochs;
        config.run.limit.seconds = self.time_limit.map(|d| Duration::from(d).as_secs_f64());
        config.run.eval_every = self.eval_every;
        config.run.patience = self.patience;
        config.run.seed = self.seed;
        config.validation_ranks_history = listening;
        config.item_updates = self.item_updates;
        if self.skip_non_finite {
            config.run.non_finite_loss = NonFiniteLoss::Skip;
        }
        // On a listening log the explore loss trains new tracks apart from replays (as the
        // ablation does); it needs the full softmax over future targets.
        let explore_applies = matches!(config.loss, LossKind::FullSoftmax)
            && config.objective.scores_from_last_position();
        config.explore_weight = self
            .explore_weight
            .unwrap_or(if listening && explore_applies {
                1.0
            } else {
                0.0
            });
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

pub fn run(args: TrainArgs, given: Given, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let devices = args
        .devices
        .iter()
        .map(|name| seqrec::device::parse_device(name.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let device = match devices.first() {
        Some(first) => first.clone(),
        None => args.device.open()?,
    };
    if let Some(path) = &args.config {
        // A bad file fails before any data is read (the data only sets the catalogue size).
        config_file::load(path, &args.config(1, DataKind::Sequences), &SHAPE)?;
    }
    let (dataset, items, kind) = match &args.data {
        Some(path) => match super::data::load_source(path, &args.events)? {
            super::data::Source::Sequences(loaded) => {
                (loaded.dataset, Some(loaded.items), DataKind::Sequences)
            }
            super::data::Source::Window(split) => {
                let items = split.model_items();
                (split.dataset, Some(items), DataKind::Listening)
            }
        },
        None => {
            let synthetic = SyntheticConfig::default();
            eprintln!(
                "no --data: generating the built-in synthetic listening dataset ({} users, {} tracks, seed {})",
                synthetic.users, synthetic.items, synthetic.seed
            );
            (synthetic.generate()?, None, DataKind::Builtin)
        }
    };
    let builtin = kind == DataKind::Builtin;
    let mut config = args.resolve(dataset.num_items as usize, kind, given)?;
    let limit = &config.run.limit;
    if limit.steps.is_none() && limit.epochs.is_none() && limit.seconds.is_none() {
        if !builtin {
            return Err(if args.config.is_some() {
                "set a training limit: --steps, --epochs or --time-limit (or `limit` in the config file)"
            } else {
                "set a training limit: --steps, --epochs or --time-limit"
            }
            .into());
        }
        config.run.limit.steps = Some(300);
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
        devices,
    };
    let (model, report) = train(&config, &data, &device, &args.out, options)?;
    bar.finish_and_clear();
    let best_ndcg = report
        .best_validation
        .and_then(|b| report.validations.get(b - 1))
        .copied()
        .unwrap_or(f64::NAN);
    let mut result = serde_json::json!({
        "steps": report.steps,
        "seconds": report.seconds,
        "seconds_per_step": report.seconds_per_step,
        "best_validation_ndcg@10": best_ndcg,
        "best_step": report.best_step,
        "model_dir": args.out.display().to_string(),
        "test": null,
    });
    if !args.json {
        writeln!(
            out,
            "trained {} steps in {:.1} s ({:.3} s/step); best validation NDCG@10 {:.4} at step {}",
            report.steps, report.seconds, report.seconds_per_step, best_ndcg, report.best_step
        )?;
        writeln!(out, "model saved to {}", args.out.display())?;
    }
    if let Ok(test) = dataset.history_targets(seqrec::data::Split::Test) {
        // Ranked as validation ranked: with the history on a listening log, where the next
        // play is often a replay.
        let exclude_history = !config.validation_ranks_history;
        let metrics =
            evaluate_next_item(&model, test, 256, exclude_history, &device)?.to_flat_map();
        let history = if exclude_history {
            "excluded"
        } else {
            "ranked"
        };
        if args.json {
            result["test"] = serde_json::json!({
                "users": test.inputs.len(),
                "history": history,
                "ndcg@10": metrics["ndcg@10"],
                "recall@10": metrics["recall@10"],
                "recall@1": metrics["recall@1"],
                "mrr": metrics["mrr"],
            });
        } else {
            writeln!(
                out,
                "test ({} users, history {history}): ndcg@10 {:.4}  recall@10 {:.4}  recall@1 {:.4}  mrr {:.4}",
                test.inputs.len(),
                metrics["ndcg@10"],
                metrics["recall@10"],
                metrics["recall@1"],
                metrics["mrr"]
            )?;
        }
    }
    let _ = Recommender::load(&args.out, &device)?; // the saved directory loads back
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&result)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: TrainArgs,
    }

    fn args(extra: &[&str]) -> TrainArgs {
        let mut argv = vec!["train", "--out", "runs/x", "--steps", "10"];
        argv.extend_from_slice(extra);
        Wrapper::parse_from(argv).args
    }

    /// The configuration of `train --config FILE ARGS` (FILE holds `toml`) on `kind` data of
    /// 3 416 items.
    fn from_file(toml: &str, extra: &[&str], kind: DataKind) -> Result<TrainConfig, CliError> {
        use clap::{CommandFactory, FromArgMatches};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.toml");
        std::fs::write(&path, toml).unwrap();
        let mut argv = vec![
            "train",
            "--out",
            "runs/x",
            "--config",
            path.to_str().unwrap(),
        ];
        argv.extend_from_slice(extra);
        let matches = Wrapper::command().get_matches_from(argv);
        let args = Wrapper::from_arg_matches(&matches).unwrap().args;
        args.resolve(3416, kind, Given::new(&matches))
    }

    #[test]
    fn flags_given_override_the_file_and_defaults_do_not() {
        let file = "learning_rate = 0.002\n[model]\ndim = 32\nblocks = 3\n[limit]\nsteps = 7\n";
        let config = from_file(file, &[], DataKind::Sequences).unwrap();
        assert_eq!((config.model.dim, config.model.blocks), (32, 3));
        assert_eq!(config.run.learning_rate, 0.002);
        assert_eq!(config.run.limit.steps, Some(7));
        // Keys the file leaves out keep the command's defaults for the data.
        assert_eq!((config.model.max_len, config.model.dropout), (200, 0.2));
        assert_eq!(config.loss, LossKind::FullSoftmax);
        let config = from_file(
            file,
            &[
                "--dim",
                "16",
                "--steps",
                "9",
                "--seed",
                "42",
                "--max-len",
                "20",
            ],
            DataKind::Sequences,
        )
        .unwrap();
        assert_eq!((config.model.dim, config.model.blocks), (16, 3));
        assert_eq!((config.run.limit.steps, config.run.seed), (Some(9), 42));
        assert_eq!(config.model.max_len, 20);
        // The file's gBCE keeps its loss, with the β given on the command line.
        let gbce = "loss = { GBce = { beta = { Fixed = 0.5 } } }\n";
        let config = from_file(gbce, &["--beta", "0.7"], DataKind::Sequences).unwrap();
        assert_eq!(
            config.loss,
            LossKind::GBce {
                beta: GBceBeta::Fixed(0.7)
            }
        );
        let config = from_file(gbce, &["--loss", "bce"], DataKind::Sequences).unwrap();
        assert_eq!(config.loss, LossKind::Bce);
        // Every flag the file can be overridden by, at once.
        let all = [
            "--max-len",
            "20",
            "--dim",
            "16",
            "--blocks",
            "1",
            "--heads",
            "2",
            "--dropout",
            "0.1",
            "--attention",
            "bidirectional",
            "--positions",
            "none",
            "--output-embeddings",
            "shared",
            "--objective",
            "future-targets:5",
            "--loss",
            "gbce",
            "--gbce-t",
            "0.75",
            "--repeat-half-life",
            "5",
            "--repeat-context",
            "30",
            "--explore-weight",
            "0",
            "--init-std",
            "0.1",
            "--negatives",
            "9",
            "--sharing",
            "per-batch",
            "--popularity-gamma",
            "0.5",
            "--batch-size",
            "8",
            "--lr",
            "0.01",
            "--epochs",
            "2",
            "--time-limit",
            "1m",
            "--eval-every",
            "3",
            "--patience",
            "4",
            "--seed",
            "5",
            "--skip-non-finite",
        ];
        let over = from_file(file, &all, DataKind::Listening).unwrap();
        let mut flags = args(&all).config(3416, DataKind::Listening);
        flags.run.limit.steps = Some(7); // the file's: `args` gives `--steps 10`, `all` none
        assert_eq!(
            serde_json::to_value(&over).unwrap(),
            serde_json::to_value(&flags).unwrap()
        );
    }

    #[test]
    fn the_documented_example_is_the_readmes_flags() {
        let example = config_file::doc_example("train");
        let config = from_file(&example, &[], DataKind::Sequences).unwrap();
        let readme = [
            "--loss",
            "gbce",
            "--gbce-t",
            "0.75",
            "--dim",
            "128",
            "--dropout",
            "0.5",
        ];
        let mut flags = args(&readme).config(3416, DataKind::Sequences);
        flags.run.limit.steps = None;
        flags.run.limit.seconds = Some(1800.0);
        assert_eq!(
            serde_json::to_value(&config).unwrap(),
            serde_json::to_value(&flags).unwrap()
        );
    }

    #[test]
    fn the_catalogue_size_is_the_datas() {
        let config = from_file("[model]\nnum_items = 10\n", &[], DataKind::Sequences).unwrap();
        assert_eq!(config.model.num_items, 3416);
    }

    #[test]
    fn a_model_directorys_config_json_loads_back() {
        let mut written = args(&["--dim", "8"]).config(3416, DataKind::Listening);
        written.run.seed = 7;
        let manifest = serde_json::json!({ "model": &written.model, "training": &written });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, manifest.to_string()).unwrap();
        use clap::{CommandFactory, FromArgMatches};
        let argv = ["train", "--out", "x", "--config", path.to_str().unwrap()];
        let matches = Wrapper::command().get_matches_from(argv);
        let args = Wrapper::from_arg_matches(&matches).unwrap().args;
        let read = args
            .resolve(3416, DataKind::Sequences, Given::new(&matches))
            .unwrap();
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            serde_json::to_value(&written).unwrap()
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_refused() {
        let error = from_file("[model]\ndimm = 8\n", &[], DataKind::Sequences)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("train.toml") && error.contains("unknown field `model.dimm`"),
            "{error}"
        );
        let error = from_file("negatives = \"many\"\n", &[], DataKind::Sequences)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("train.toml") && error.contains("`negatives`"),
            "{error}"
        );
    }

    #[test]
    fn next_item_data_gets_the_full_softmax_while_its_logits_fit() {
        let config = args(&[]).config(3416, DataKind::Sequences);
        assert_eq!(config.loss, LossKind::FullSoftmax);
        assert_eq!(config.objective, Objective::NextItem);
        assert_eq!(config.model.attention, AttentionMode::Causal);
        assert_eq!((config.model.dim, config.model.max_len), (64, 200));
        assert_eq!(config.model.dropout, 0.2);
        assert_eq!(config.model.embedding_init_std(), 0.02);
        assert_eq!(config.model.repeat_half_life, None);
        assert!(!config.validation_ranks_history);
        assert!(config.validate().is_ok());
        // 128 × 200 × 200 002 logits do not fit: the paper's gBCE.
        let big = args(&[]).config(200_000, DataKind::Sequences);
        assert!(matches!(big.loss, LossKind::GBce { .. }));
        // Asked for, a loss is kept.
        let asked = args(&["--loss", "gbce", "--beta", "0.5"]).config(3416, DataKind::Sequences);
        assert_eq!(
            asked.loss,
            LossKind::GBce {
                beta: GBceBeta::Fixed(0.5)
            }
        );
    }

    #[test]
    fn listening_logs_get_the_papers_best_variant_with_the_repeat_score() {
        let config = args(&[]).config(200_000, DataKind::Listening);
        assert_eq!(config.model.attention, AttentionMode::Bidirectional);
        assert_eq!(config.model.positions, PositionEncoding::Learned);
        assert_eq!(config.objective, Objective::FutureTargets { len: 10 });
        assert_eq!(config.model.repeat_half_life, Some(20.0));
        // The repeat term counts 20 000 plays, attention reads 50.
        assert_eq!(config.model.repeat_context, Some(20_000));
        assert_eq!(config.model.input_len(), 20_000);
        // One row of logits per sequence: the full softmax fits a large catalogue.
        assert_eq!(config.loss, LossKind::FullSoftmax);
        assert!(config.validation_ranks_history);
        // New tracks are trained apart from replays; sampled losses and other data go without.
        assert_eq!(config.explore_weight, 1.0);
        assert!(config.validate().is_ok());
        let sampled = args(&["--loss", "gbce"]).config(200_000, DataKind::Listening);
        assert_eq!(sampled.explore_weight, 0.0);
        assert!(sampled.validate().is_ok());
        let asked = args(&["--explore-weight", "0.5"]).config(200_000, DataKind::Listening);
        assert_eq!(asked.explore_weight, 0.5);
        assert_eq!(
            args(&[]).config(3416, DataKind::Sequences).explore_weight,
            0.0
        );
        let plain = args(&["--no-repeat"]).config(200_000, DataKind::Listening);
        assert_eq!(plain.model.repeat_half_life, None);
        assert_eq!(plain.model.repeat_context, None);
        let short = args(&["--repeat-context", "200"]).config(1000, DataKind::Listening);
        assert_eq!(short.model.input_len(), 200);
        // A causal model on a listening log keeps the future targets for its repeat term.
        let causal = args(&["--attention", "causal"]).config(1000, DataKind::Listening);
        assert_eq!(causal.objective, Objective::FutureTargets { len: 10 });
        assert!(causal.validate().is_ok());
    }
}
