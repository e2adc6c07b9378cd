//! Command-line arguments and their commands.

mod ablation;
mod data;
mod evaluate;
mod export;
mod import;
mod recommend;
mod serve;
mod simulate;
mod train;

use clap::{Parser, Subcommand};

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
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Ablation(args) => ablation::run(*args),
        Command::Train(args) => train::run(*args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Recommend(args) => recommend::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::ImportGsasrec(args) => import::run(args),
        Command::Export(args) => export::run(args),
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
