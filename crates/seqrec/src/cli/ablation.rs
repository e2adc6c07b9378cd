//! `seqrec ablation`: the paper's Tables 1 and 2 in one command.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use seqrec::ablation::{
    AblationConfig, AblationEvent, AblationProgress, Budget, ModelPlays, Variant, VariantObjective,
    run_next_item_ablation, run_profile_ablation, simulated_split,
};
use seqrec::data::SimulatorConfig;
use seqrec::train::ProgressEvent;

use super::data::Source;
use super::{CliError, DeviceArg};

/// `--model-plays` of `ablation`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum ModelPlaysArg {
    Positive,
    All,
}

impl From<ModelPlaysArg> for ModelPlays {
    fn from(plays: ModelPlaysArg) -> Self {
        match plays {
            ModelPlaysArg::Positive => ModelPlays::Positive,
            ModelPlaysArg::All => ModelPlays::All,
        }
    }
}

/// Arguments of `seqrec ablation`.
#[derive(Debug, clap::Args)]
pub struct AblationArgs {
    /// Listening events (CSV, TSV, Parquet, …; split into 60 history and 7 held-out days) or a
    /// directory in the gSASRec layout (compared with next-item metrics). Default: the
    /// built-in simulator.
    #[arg(long)]
    data: Option<PathBuf>,
    #[command(flatten)]
    events: super::data::EventArgs,
    /// Directory for the tables, plots, `run.json` and the trained models.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArg,
    /// Training budget of every model: steps ("600") or a duration ("2m").
    #[arg(long, default_value = "600")]
    budget: Budget,
    /// Transformer variants to train, comma-separated (default: the paper's four):
    /// causal-mask-no-pe, no-mask-no-pe, causal-mask-pe, no-mask-pe.
    #[arg(long, value_delimiter = ',')]
    variants: Vec<Variant>,
    /// Item-item: weight the history's tracks by recency with this half-life in plays
    /// (default: the uniform mean over the history, as the paper's baseline).
    #[arg(long)]
    item_item_half_life: Option<f64>,
    /// Personal popularity: weight the listener's plays by recency with this half-life in
    /// plays (default: every positive play counts the same).
    #[arg(long)]
    personal_popularity_half_life: Option<f64>,
    /// Train the causal variants with next-item prediction (teacher forcing), as the paper
    /// did, instead of the future-window objective shared by all variants.
    #[arg(long)]
    next_item_for_causal: bool,
    /// Items of the future window (the objective's targets).
    #[arg(long, default_value_t = 10)]
    window: usize,
    /// History items a transformer reads.
    #[arg(long, default_value_t = 50)]
    max_len: usize,
    /// Embedding width of every model.
    #[arg(long, default_value_t = 64)]
    dim: usize,
    /// Output embedding table of the transformers: separate (gSASRec's default) or shared
    /// with the input items (SASRec's).
    #[arg(long, value_enum, default_value_t = super::train::Output::Separate)]
    output_embeddings: super::train::Output,
    /// Transformer blocks.
    #[arg(long, default_value_t = 2)]
    blocks: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 1)]
    heads: usize,
    /// Dropout (the paper's 0.0625).
    #[arg(long, default_value_t = 0.0625)]
    dropout: f64,
    /// gBCE β (the paper's 0.9).
    #[arg(long, default_value_t = 0.9)]
    beta: f64,
    /// Loss of the transformers [default: full-softmax; gbce with --beta, the paper's, with
    /// --paper-recipe].
    #[arg(long, value_enum)]
    loss: Option<super::train::Loss>,
    /// Repeat-aware score of the transformers: a learned term for the tracks a listener
    /// already played, with this recency half-life in history positions [default: 20; none
    /// with --paper-recipe].
    #[arg(long)]
    repeat_half_life: Option<f64>,
    /// Most recent history plays the repeat-aware score counts (attention reads --max-len)
    /// [default: 1000].
    #[arg(long)]
    repeat_context: Option<usize>,
    /// Multiplier of the repeat-aware score's learned weights, their learning-rate boost
    /// [default: 10].
    #[arg(long)]
    repeat_weight_scale: Option<f64>,
    /// Weight of the explore loss (a softmax over the tracks a listener has not played, for
    /// their new targets) added to the full softmax of the transformers (0: off) [default: 1].
    #[arg(long)]
    explore_weight: Option<f64>,
    /// History plays every trained model learns from and reads: positive (at least 30 s,
    /// when the log has durations) or all, skips included [default: positive].
    #[arg(long, value_enum)]
    model_plays: Option<ModelPlaysArg>,
    /// The paper's plain dot-product score, without the repeat-aware term.
    #[arg(long, conflicts_with_all = ["repeat_half_life", "repeat_context"])]
    no_repeat: bool,
    /// The paper's recipe for the transformers: gBCE with --beta over uniform negatives and
    /// no repeat-aware score (flags given with it still apply).
    #[arg(long)]
    paper_recipe: bool,
    /// Negatives per target.
    #[arg(long, default_value_t = 128)]
    negatives: usize,
    /// Draw the transformers' negatives in proportion to count^GAMMA (0.75: word2vec's, as
    /// item-item) instead of uniformly over the catalogue (gSASRec's).
    #[arg(long)]
    popularity_gamma: Option<f64>,
    /// Adam learning rate of the transformers.
    #[arg(long)]
    lr: Option<f64>,
    /// Validate every this many steps.
    #[arg(long, default_value_t = 100)]
    eval_every: usize,
    /// Users of the built-in simulator (without --data).
    #[arg(long, default_value_t = 5000)]
    users: usize,
    /// Seed of every model, batch, bootstrap and of the simulator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Reuse the models a killed run with the same settings already finished in OUT/models
    /// instead of training them again.
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl AblationArgs {
    fn config(&self) -> AblationConfig {
        let defaults = if self.paper_recipe {
            AblationConfig::paper()
        } else {
            AblationConfig::default()
        };
        AblationConfig {
            variants: if self.variants.is_empty() {
                defaults.variants.clone()
            } else {
                self.variants.clone()
            },
            item_item_recency: self
                .item_item_half_life
                .map_or(defaults.item_item_recency, |items| {
                    seqrec::model::Recency::HalfLife { items }
                }),
            personal_popularity_half_life: self.personal_popularity_half_life,
            objective: if self.next_item_for_causal {
                VariantObjective::NextItemForCausal { len: self.window }
            } else {
                VariantObjective::FutureWindow { len: self.window }
            },
            max_len: self.max_len,
            dim: self.dim,
            blocks: self.blocks,
            output_embeddings: self.output_embeddings.into(),
            heads: self.heads,
            dropout: self.dropout,
            loss: self
                .loss
                .or(self.paper_recipe.then_some(super::train::Loss::Gbce))
                .map_or(defaults.loss.clone(), |loss| {
                    loss.kind(seqrec::loss::GBceBeta::Fixed(self.beta))
                }),
            repeat_half_life: if self.no_repeat {
                None
            } else {
                self.repeat_half_life.or(defaults.repeat_half_life)
            },
            repeat_context: self.repeat_context.or(defaults.repeat_context),
            repeat_weight_scale: self.repeat_weight_scale.or(defaults.repeat_weight_scale),
            explore_weight: self.explore_weight.unwrap_or(defaults.explore_weight),
            model_plays: self.model_plays.map_or(defaults.model_plays, Into::into),
            negatives: self.negatives,
            negative_distribution: self
                .popularity_gamma
                .map_or(defaults.negative_distribution.clone(), |gamma| {
                    seqrec::sampling::NegativeDistribution::Popularity { gamma }
                }),
            learning_rate: self.lr.unwrap_or(defaults.learning_rate),
            budget: self.budget,
            eval_every: self.eval_every,
            seed: self.seed,
            resume: self.resume,
            ..defaults
        }
    }
}

fn progress(quiet: bool) -> AblationProgress {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>28} [{elapsed_precise}] {bar:30} {pos}/{len} steps  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut validation = f64::NAN;
    Box::new(move |event| match event {
        AblationEvent::Model { index, total, name } => {
            bar.reset();
            bar.set_length(0);
            bar.set_message("");
            bar.set_prefix(format!("[{index}/{total}] {name}"));
            validation = f64::NAN;
        }
        AblationEvent::Training(event) => match event {
            ProgressEvent::Started { total_steps } => {
                if let Some(total) = total_steps.filter(|&t| t < usize::MAX / 4) {
                    bar.set_length(total as u64);
                }
            }
            ProgressEvent::Step { step, loss, .. } => {
                bar.set_position(*step as u64);
                bar.set_message(format!("loss {loss:.4}  val NDCG@10 {validation:.4}"));
            }
            ProgressEvent::Validated { ndcg_at_10, .. } => validation = *ndcg_at_10,
            ProgressEvent::Finished => {}
        },
        AblationEvent::Ranking { users, .. } => {
            bar.set_message(format!("ranking the catalogue for {users} users"));
        }
        AblationEvent::Done {
            name,
            train_seconds,
        } => {
            bar.println(format!("{name}: trained in {train_seconds:.0} s"));
        }
    })
}

pub fn run(args: AblationArgs) -> Result<(), CliError> {
    let device = args.device.open()?;
    let config = args.config();
    config.validate()?; // before loading or simulating any data
    let source = match &args.data {
        Some(path) => super::data::load_source(path, &args.events)?,
        None => {
            let simulator = SimulatorConfig {
                users: args.users,
                seed: args.seed,
                ..SimulatorConfig::default()
            };
            eprintln!(
                "no --data: simulating {} listeners and {} tracks over {} days (seed {}); 60 days train, 7 are held out",
                simulator.users, simulator.tracks, simulator.days, simulator.seed
            );
            Source::Window(Box::new(simulated_split(&simulator)?))
        }
    };
    let name = args
        .data
        .as_ref()
        .map_or("the built-in simulator".to_string(), |p| {
            p.display().to_string()
        });
    eprintln!(
        "training {} models, {} each, seed {}; {}",
        config.variants.len() + 3,
        config.budget,
        config.seed,
        config.objective.describe()
    );
    match source {
        Source::Window(split) => {
            let result = run_profile_ablation(
                &config,
                &split,
                &name,
                &device,
                &args.out,
                progress(args.quiet),
            )?;
            result.write(&args.out)?;
            println!("{}", result.summary_markdown());
        }
        Source::Sequences(loaded) => {
            let result = run_next_item_ablation(
                &config,
                &loaded.dataset,
                &name,
                &device,
                &args.out,
                progress(args.quiet),
            )?;
            result.write(&args.out)?;
            println!("{}", result.to_markdown());
        }
    }
    println!("results written to {}", args.out.display());
    Ok(())
}
