//! `seqrec recommend`.

use std::path::PathBuf;

use seqrec::model::{GsasRec, ItemItem, PersonalPopularity};
use seqrec::train::{ModelKind, Recommendation, Recommender, SavedModel};

use super::{CliError, DeviceArg};

/// Arguments of `seqrec recommend`.
#[derive(Debug, clap::Args)]
pub struct RecommendArgs {
    /// Model directory written by `seqrec train` or by `seqrec ablation` (its `models/`
    /// directories: a transformer variant, item-item or personal popularity).
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
    let history: Vec<&str> = args.history.split_whitespace().collect();
    let recommendations = match ModelKind::detect(&args.model)? {
        ModelKind::GsasRec => open::<GsasRec>(&args, &device, &history)?,
        ModelKind::ItemItem => open::<ItemItem>(&args, &device, &history)?,
        ModelKind::PersonalPopularity => open::<PersonalPopularity>(&args, &device, &history)?,
    };
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

/// Opens a model directory of `M` and recommends for `history`.
fn open<M: SavedModel>(
    args: &RecommendArgs,
    device: &burn::tensor::Device,
    history: &[&str],
) -> Result<Vec<Recommendation>, CliError> {
    let recommender = Recommender::<M>::open(&args.model, device)?;
    Ok(recommender.recommend(history, args.k, args.exclude_history)?)
}
