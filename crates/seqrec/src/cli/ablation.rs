//! `seqrec ablation`: the paper's Tables 1 and 2 in one command.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use seqrec::ablation::{
    AblationConfig, AblationEvent, AblationProgress, Budget, ItemItemSettings, ModelPlays,
    Schedule, TransformerSettings, Variant, VariantObjective, run_next_item_ablation,
    run_profile_ablation, simulated_split,
};
use seqrec::model::{Named, OutputEmbeddings};
use seqrec::simulator::SimulatorConfig;
use seqrec::train::ProgressEvent;

use super::config_file::{self, Given, Shape, copy_given};
use super::data::Source;
use super::{CliError, DeviceArg};

/// The library's defaults, which the flags show and fall back to: each is written once, in
/// [`AblationConfig::default`].
fn defaults() -> AblationConfig {
    AblationConfig::default()
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
    /// Read the ablation's configuration from this TOML or JSON file (by its extension): the
    /// serde form of an `AblationConfig`, whole or some of its keys, or a `run.json` (its
    /// `config`). Flags given on the command line override its values
    /// (docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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
    /// did, instead of the future-targets objective shared by all variants.
    #[arg(long)]
    next_item_for_causal: bool,
    /// Future targets: how many items after the cut the objective scores (`--window`, its
    /// earlier name, still works).
    #[arg(long, alias = "window", default_value_t = defaults().objective.targets())]
    future_targets: usize,
    /// History items a transformer reads.
    #[arg(long, default_value_t = defaults().transformer.max_len)]
    max_len: usize,
    /// Embedding width of every model.
    #[arg(long, default_value_t = defaults().transformer.dim)]
    dim: usize,
    /// Output embedding table of the transformers: separate (gSASRec's default) or shared
    /// with the input items (SASRec's).
    #[arg(long, value_parser = super::named::<OutputEmbeddings>(),
          default_value = defaults().transformer.output_embeddings.name())]
    output_embeddings: OutputEmbeddings,
    /// Transformer blocks.
    #[arg(long, default_value_t = defaults().transformer.blocks)]
    blocks: usize,
    /// Attention heads.
    #[arg(long, default_value_t = defaults().transformer.heads)]
    heads: usize,
    /// Dropout (the paper's 0.0625).
    #[arg(long, default_value_t = defaults().transformer.dropout)]
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
    /// [default: 20000].
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
    #[arg(long, value_parser = super::named::<ModelPlays>())]
    model_plays: Option<ModelPlays>,
    /// The paper's plain dot-product score, without the repeat-aware term.
    #[arg(long, conflicts_with_all = ["repeat_half_life", "repeat_context"])]
    no_repeat: bool,
    /// The paper's recipe for the transformers: gBCE with --beta over uniform negatives and
    /// no repeat-aware score (flags given with it still apply).
    #[arg(long)]
    paper_recipe: bool,
    /// Negatives per target.
    #[arg(long, default_value_t = defaults().transformer.negatives)]
    negatives: usize,
    /// Draw the transformers' negatives in proportion to count^GAMMA (0.75: word2vec's, as
    /// item-item) instead of uniformly over the catalogue (gSASRec's).
    #[arg(long)]
    popularity_gamma: Option<f64>,
    /// Adam learning rate of the transformers [default: 5e-3; 1e-3 learns better and longer].
    #[arg(long)]
    lr: Option<f64>,
    /// Validate every this many steps.
    #[arg(long, default_value_t = defaults().schedule.eval_every)]
    eval_every: usize,
    /// Users of the built-in simulator (without --data).
    #[arg(long, default_value_t = SimulatorConfig::default().users)]
    users: usize,
    /// Seed of every model, batch, bootstrap and of the simulator.
    #[arg(long, default_value_t = defaults().schedule.seed)]
    seed: u64,
    /// Reuse the models a killed run with the same settings already finished in OUT/models
    /// instead of training them again.
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// `AblationConfig` in a `--config` file.
const SHAPE: Shape = Shape {
    command: "ablation",
    // `run.json` holds it under `config`.
    wrapper: "config",
    tables: &["evaluation", "evaluation.profile", "evaluation.bootstrap"],
    unwritten: &["resume"],
};

impl AblationArgs {
    /// The configuration of the run: the flags' ([`AblationArgs::config`]), or with
    /// `--config` the file's over them and the flags given on the command line over the file.
    fn resolve(&self, given: Given) -> Result<AblationConfig, CliError> {
        let flags = self.config();
        let Some(path) = &self.config else {
            return Ok(flags);
        };
        let mut config = config_file::load(path, &flags, &SHAPE)?;
        self.apply_given(&mut config, &flags, given);
        Ok(config)
    }

    /// Sets the values of the flags given on the command line (`flags` is
    /// [`AblationArgs::config`]) over a configuration read from a file.
    fn apply_given(&self, config: &mut AblationConfig, flags: &AblationConfig, given: Given) {
        if given.has("variants") {
            config.variants = flags.variants.clone();
        }
        if given.has("item_item_half_life") {
            config.item_item.recency = flags.item_item.recency;
        }
        if given.has("personal_popularity_half_life") {
            config.personal_popularity_half_life = flags.personal_popularity_half_life;
        }
        if given.has("next_item_for_causal") || given.has("future_targets") {
            let len = if given.has("future_targets") {
                self.future_targets
            } else {
                config.objective.targets()
            };
            config.objective = if given.has("next_item_for_causal")
                || matches!(config.objective, VariantObjective::NextItemForCausal { .. })
            {
                VariantObjective::NextItemForCausal { len }
            } else {
                VariantObjective::FutureTargets { len }
            };
        }
        let (t, f) = (&mut config.transformer, &flags.transformer);
        copy_given!(given, t, f; max_len, dim, output_embeddings, blocks, heads, dropout);
        if given.has("loss") || given.has("paper_recipe") {
            t.loss = f.loss.clone();
        } else if given.has("beta")
            && let seqrec::loss::LossKind::GBce { beta } = &mut t.loss
        {
            *beta = seqrec::loss::GBceBeta::Fixed(self.beta);
        }
        if given.has("repeat_half_life") || given.has("no_repeat") || given.has("paper_recipe") {
            t.repeat_half_life = f.repeat_half_life;
        }
        copy_given!(given, t, f; repeat_context, repeat_weight_scale, explore_weight, negatives);
        if given.has("popularity_gamma") {
            t.negative_distribution = f.negative_distribution.clone();
        }
        if given.has("lr") {
            t.learning_rate = f.learning_rate;
        }
        let (schedule, f) = (&mut config.schedule, &flags.schedule);
        copy_given!(given, schedule, f; budget, eval_every, seed);
        copy_given!(given, config, flags; model_plays, resume);
    }

    /// The configuration that the flags alone give (defaults for the flags not given).
    fn config(&self) -> AblationConfig {
        let defaults = if self.paper_recipe {
            AblationConfig::paper()
        } else {
            AblationConfig::default()
        };
        let t = &defaults.transformer;
        let transformer = TransformerSettings {
            max_len: self.max_len,
            dim: self.dim,
            blocks: self.blocks,
            output_embeddings: self.output_embeddings,
            heads: self.heads,
            dropout: self.dropout,
            loss: self
                .loss
                .or(self.paper_recipe.then_some(super::train::Loss::Gbce))
                .map_or(t.loss.clone(), |loss| {
                    loss.kind(seqrec::loss::GBceBeta::Fixed(self.beta))
                }),
            repeat_half_life: if self.no_repeat {
                None
            } else {
                self.repeat_half_life.or(t.repeat_half_life)
            },
            repeat_context: self.repeat_context.or(t.repeat_context),
            repeat_weight_scale: self.repeat_weight_scale.or(t.repeat_weight_scale),
            explore_weight: self.explore_weight.unwrap_or(t.explore_weight),
            negatives: self.negatives,
            negative_distribution: self
                .popularity_gamma
                .map_or(t.negative_distribution.clone(), |gamma| {
                    seqrec::sampling::NegativeDistribution::Popularity { gamma }
                }),
            learning_rate: self.lr.unwrap_or(t.learning_rate),
            ..t.clone()
        };
        AblationConfig {
            variants: if self.variants.is_empty() {
                defaults.variants.clone()
            } else {
                self.variants.clone()
            },
            objective: if self.next_item_for_causal {
                VariantObjective::NextItemForCausal {
                    len: self.future_targets,
                }
            } else {
                VariantObjective::FutureTargets {
                    len: self.future_targets,
                }
            },
            transformer,
            model_plays: self.model_plays.unwrap_or(defaults.model_plays),
            item_item: ItemItemSettings {
                recency: self
                    .item_item_half_life
                    .map_or(defaults.item_item.recency, |items| {
                        seqrec::model::Recency::HalfLife { items }
                    }),
                ..defaults.item_item.clone()
            },
            personal_popularity_half_life: self.personal_popularity_half_life,
            schedule: Schedule {
                budget: self.budget,
                eval_every: self.eval_every,
                seed: self.seed,
                ..defaults.schedule.clone()
            },
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

pub fn run(args: AblationArgs, given: Given, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let device = args.device.open()?;
    let config = args.resolve(given)?;
    config.validate()?; // before loading or simulating any data
    let source = match &args.data {
        Some(path) => super::data::load_source(path, &args.events)?,
        None => {
            let simulator = SimulatorConfig {
                users: args.users,
                seed: config.schedule.seed,
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
        config.schedule.budget,
        config.schedule.seed,
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
            writeln!(out, "{}", result.summary_markdown())?;
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
            writeln!(out, "{}", result.to_markdown())?;
        }
    }
    writeln!(out, "results written to {}", args.out.display())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches, Parser};

    use super::*;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: AblationArgs,
    }

    /// `ablation --out x ARGS`, with `--config FILE` holding `text` when given.
    fn resolve(text: Option<(&str, &str)>, extra: &[&str]) -> Result<AblationConfig, CliError> {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["ablation".to_string(), "--out".into(), "x".into()];
        if let Some((name, text)) = text {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            argv.extend(["--config".into(), path.display().to_string()]);
        }
        argv.extend(extra.iter().map(|a| a.to_string()));
        let matches = Wrapper::command().get_matches_from(argv);
        let args = Wrapper::from_arg_matches(&matches).unwrap().args;
        args.resolve(Given::new(&matches))
    }

    const FILE: &str = "dim = 8\nblocks = 1\nbudget = { steps = 2 }\n\
                        [evaluation.bootstrap]\nresamples = 10\n";

    #[test]
    fn without_a_file_the_flags_decide() {
        let plain = resolve(None, &["--dim", "16", "--paper-recipe"]).unwrap();
        assert_eq!(
            plain,
            AblationConfig {
                transformer: TransformerSettings {
                    dim: 16,
                    ..AblationConfig::paper().transformer
                },
                ..AblationConfig::paper()
            }
        );
    }

    #[test]
    fn the_file_sets_what_it_holds_and_flags_given_override_it() {
        let config = resolve(Some(("a.toml", FILE)), &[]).unwrap();
        let expected = AblationConfig {
            transformer: TransformerSettings {
                dim: 8,
                blocks: 1,
                ..TransformerSettings::default()
            },
            schedule: Schedule {
                budget: Budget::Steps(2),
                ..Schedule::default()
            },
            ..AblationConfig::default()
        };
        assert_eq!(config.evaluation.bootstrap.resamples, 10);
        assert_eq!(
            config.evaluation.bootstrap.confidence,
            expected.evaluation.bootstrap.confidence
        );
        assert_eq!(
            AblationConfig {
                evaluation: expected.evaluation.clone(),
                ..config
            },
            expected
        );
        // `--blocks` is not given: its default (2) does not override the file's 1.
        let config = resolve(Some(("a.toml", FILE)), &["--dim", "16", "--budget", "3"]).unwrap();
        assert_eq!((config.transformer.dim, config.transformer.blocks), (16, 1));
        assert_eq!(config.schedule.budget, Budget::Steps(3));
        // Every flag at once gives what the flags alone give.
        let all = [
            "--variants",
            "no-mask-pe",
            "--item-item-half-life",
            "30",
            "--personal-popularity-half-life",
            "40",
            "--next-item-for-causal",
            "--window",
            "5",
            "--max-len",
            "20",
            "--dim",
            "16",
            "--output-embeddings",
            "shared",
            "--blocks",
            "3",
            "--heads",
            "2",
            "--dropout",
            "0.1",
            "--beta",
            "0.5",
            "--loss",
            "gbce",
            "--repeat-half-life",
            "7",
            "--repeat-context",
            "90",
            "--repeat-weight-scale",
            "2",
            "--explore-weight",
            "0.5",
            "--model-plays",
            "all",
            "--paper-recipe",
            "--negatives",
            "32",
            "--popularity-gamma",
            "0.75",
            "--lr",
            "0.002",
            "--budget",
            "90s",
            "--eval-every",
            "7",
            "--seed",
            "3",
            "--resume",
        ];
        let mut flags = resolve(None, &all).unwrap();
        flags.evaluation.bootstrap.resamples = 10; // the file's: no flag sets it
        assert_eq!(resolve(Some(("a.toml", FILE)), &all).unwrap(), flags);
        let no_repeat = resolve(
            Some(("a.json", r#"{"repeat_half_life": 3.0}"#)),
            &["--no-repeat"],
        );
        assert_eq!(no_repeat.unwrap().transformer.repeat_half_life, None);
    }

    #[test]
    fn the_documented_example_is_the_readmes_flags() {
        let example = config_file::doc_example("ablation");
        let config = resolve(Some(("long.toml", &example)), &[]).unwrap();
        let readme = [
            "--variants",
            "no-mask-pe",
            "--budget",
            "6000",
            "--eval-every",
            "500",
            "--lr",
            "0.001",
        ];
        let mut flags = resolve(None, &readme).unwrap();
        flags.evaluation.bootstrap.resamples = 2000;
        assert_eq!(config, flags);
    }

    #[test]
    fn a_run_json_loads_back() {
        let mut written = AblationConfig::paper();
        written.schedule.seed = 9;
        written.transformer.dim = 8;
        let run = serde_json::json!({ "data": "somewhere", "config": &written });
        let read = resolve(Some(("run.json", &run.to_string())), &[]).unwrap();
        assert_eq!(read, written);
    }

    #[test]
    fn unknown_fields_are_refused_and_resume_is_known() {
        let error = resolve(Some(("a.toml", "dimension = 8\n")), &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("a.toml") && error.contains("unknown field `dimension`"),
            "{error}"
        );
        assert!(
            error.contains("resume"),
            "the known settings are listed: {error}"
        );
        let error = resolve(
            Some(("a.toml", "[evaluation.bootstrap]\nresample = 8\n")),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("`evaluation.bootstrap.resample`"), "{error}");
        assert!(resolve(Some(("a.toml", "resume = false\n")), &[]).is_ok());
        let error = resolve(Some(("a.toml", "budget = 600\n")), &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("a.toml") && error.contains("`budget`"),
            "{error}"
        );
    }
}
