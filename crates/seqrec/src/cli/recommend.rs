//! `seqrec recommend`.

use std::path::PathBuf;

use seqrec::train::Recommender;

use super::{CliError, DeviceArg};

/// Arguments of `seqrec recommend`.
#[derive(Debug, clap::Args)]
pub struct RecommendArgs {
    /// Model directory written by `seqrec train`.
    #[arg(long)]
    model: PathBuf,
    /// The history, oldest first, as the items' own ids separated by spaces.
    #[arg(long)]
    history: String,
    /// How many items to recommend.
    #[arg(short = 'k', long, default_value_t = 10)]
    k: usize,
    /// Do not recommend items of the history (by default they may be: music is re-listened).
    #[arg(long)]
    exclude_history: bool,
    /// Print one JSON object `{"items": [...], "scores": [...]}`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArg,
}

pub fn run(args: RecommendArgs) -> Result<(), CliError> {
    let device = args.device.open()?;
    let recommender = Recommender::load(&args.model, &device)?;
    let history: Vec<&str> = args.history.split_whitespace().collect();
    let recommendations = recommender.recommend(&history, args.k, args.exclude_history)?;
    if args.json {
        let items: Vec<&str> = recommendations.iter().map(|r| r.item.as_str()).collect();
        let scores: Vec<f32> = recommendations.iter().map(|r| r.score).collect();
        println!(
            "{}",
            serde_json::json!({ "items": items, "scores": scores })
        );
    } else {
        for (rank, r) in recommendations.iter().enumerate() {
            println!("{:>4}  {:<20} {:>10.4}", rank + 1, r.item, r.score);
        }
    }
    Ok(())
}
