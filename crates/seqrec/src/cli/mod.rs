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

use std::ffi::OsString;
use std::io::Write;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use config_file::Given;

/// A boxed error: every library error is typed; the program prints its message and causes.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// The value parser of a flag that takes a library enum: its [`Named`](seqrec_model::Named)
/// names, listed by `--help` and completed by the shells, parsed back to the value. The CLI
/// keeps no copy of the library's enums.
fn named<T: seqrec_model::Named + Send + Sync>() -> impl clap::builder::TypedValueParser<Value = T>
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(T::ALL.iter().map(seqrec_model::Named::name)).try_map(
        |name: String| T::from_name(&name).ok_or_else(|| format!("unknown value {name:?}")),
    )
}

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

/// Parses a command line (`args`, the program name first, as `std::env::args_os` gives it)
/// and runs it, as the `seqrec` program does. A bad command line is clap's error (its
/// message is the one the program prints; `--help` and `--version` are errors of kinds
/// `DisplayHelp` and `DisplayVersion` holding the text).
/// What the program prints on stdout (the results, `--json` objects) goes to `out`; notes and
/// progress go to stderr.
pub fn run_args<I, T>(args: I, out: &mut dyn Write) -> Result<(), CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = Cli::command().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    run(cli, &matches, out)
}

/// Sends the library's `tracing` events to stderr, filtered by the `SEQREC_LOG` variable
/// (`tracing-subscriber`'s `EnvFilter` syntax, e.g. `info` or `seqrec_train=debug`; default
/// `warn`). Does nothing when a subscriber is already installed.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEQREC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // An error means a subscriber is already set (a second call, or the host's own).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The message the program prints for `error`: its own, then each cause on a line of its
/// own (`  caused by: ...`).
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str("\n  caused by: ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Runs the parsed command; `matches` (what `cli` was parsed from) tells which flags were
/// given on the command line, and so override a `--config` file. Results are written to `out`
/// (the program's stdout).
pub fn run(cli: Cli, matches: &ArgMatches, out: &mut dyn Write) -> Result<(), CliError> {
    let given = |name: &str| {
        matches
            .subcommand_matches(name)
            .map(Given::new)
            .unwrap_or_default()
    };
    match cli.command {
        Command::Ablation(args) => ablation::run(*args, given("ablation"), out),
        Command::Train(args) => train::run(*args, given("train"), out),
        Command::Evaluate(args) => evaluate::run(args, out),
        Command::Recommend(args) => recommend::run(args, out),
        Command::Serve(args) => serve::run(args, out),
        Command::Simulate(args) => simulate::run(args, out),
        Command::ImportGsasrec(args) => import::run(args, out),
        Command::Export(args) => export::run(args, out),
        Command::Completions(args) => {
            clap_complete::generate(args.shell, &mut Cli::command(), "seqrec", out);
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
