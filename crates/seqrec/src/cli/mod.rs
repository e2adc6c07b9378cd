//! Command-line arguments and their commands.

mod ablation;
mod config_file;
mod data;
mod evaluate;
mod export;
mod import;
mod recommend;
mod serve;
mod simulate;
mod train;

use clap::{ArgMatches, CommandFactory, Parser, Subcommand};

use config_file::Given;

/// A boxed error: every library error is typed; the program prints its message and causes.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// Transformer music recommendation (gSASRec) from the command line.
#[derive(Debug, Parser)]
#[command(name = "seqrec", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reproduce the paper's ablation: item-item and popularity baselines and the four
    /// transformer variants, trained alike and evaluated with the profile protocol.
    Ablation(Box<ablation::AblationArgs>),
    /// Train a gSASRec model and save the best one (by validation NDCG@10).
    Train(Box<train::TrainArgs>),
    /// Rank the whole catalogue for held-out users and print NDCG@10, recall@10, recall@1, MRR.
    Evaluate(evaluate::EvaluateArgs),
    /// Recommend items for a history, or for every user of a file.
    Recommend(recommend::RecommendArgs),
    /// Serve a model over HTTP: POST /recommend, GET /health, GET /metrics.
    Serve(serve::ServeArgs),
    /// Generate a realistic listening log (the built-in default data).
    Simulate(simulate::SimulateArgs),
    /// Import a gSASRec checkpoint of the PyTorch reference code as a model directory.
    ImportGsasrec(import::ImportArgs),
    /// Export a model as the PyTorch reference code's state_dict, in a SafeTensors file.
    Export(export::ExportArgs),
    /// Print a shell completion script, e.g.
    /// `seqrec completions bash > ~/.local/share/bash-completion/completions/seqrec`.
    Completions(CompletionsArgs),
}

/// Arguments of `seqrec completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Runs the parsed command; `matches` (what `cli` was parsed from) tells which flags were
/// given on the command line, and so override a `--config` file.
pub fn run(cli: Cli, matches: &ArgMatches) -> Result<(), CliError> {
    let given = |name: &str| {
        matches
            .subcommand_matches(name)
            .map(Given::new)
            .unwrap_or_default()
    };
    match cli.command {
        Command::Ablation(args) => ablation::run(*args, given("ablation")),
        Command::Train(args) => train::run(*args, given("train")),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Recommend(args) => recommend::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::ImportGsasrec(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Completions(args) => {
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "seqrec",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}

/// The `--device` argument shared by the commands.
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArg {
    /// Backend: ndarray, flex, wgpu, cuda or cuda:N (default: the fastest CPU backend compiled in).
    #[arg(long)]
    pub device: Option<String>,
}

impl DeviceArg {
    /// Opens the device.
    pub fn open(&self) -> Result<burn::tensor::Device, CliError> {
        Ok(match &self.device {
            Some(name) => seqrec::device::parse_device(name)?,
            None => seqrec::device::default_device()?,
        })
    }
}
