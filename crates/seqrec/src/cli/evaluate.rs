//! `seqrec evaluate`.

use std::path::PathBuf;

use seqrec::data::{SequenceDataset, Split};
use seqrec::train::{Recommender, evaluate_next_item};

use super::{CliError, DeviceArg};

/// The metrics printed, in order.
const REPORTED: [&str; 4] = ["ndcg@10", "recall@10", "recall@1", "mrr"];

/// Arguments of `seqrec evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Model directory written by `seqrec train`.
    #[arg(long)]
    model: PathBuf,
    /// Dataset directory in the gSASRec layout.
    #[arg(long)]
    data: PathBuf,
    /// Which held-out split to rank.
    #[arg(long, default_value = "test")]
    split: Split,
    /// Users per batch.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArg,
}

pub fn run(args: EvaluateArgs) -> Result<(), CliError> {
    let device = args.device.open()?;
    let recommender = Recommender::load(&args.model, &device)?;
    let dataset = SequenceDataset::load_dir(&args.data)?;
    let num_items = recommender.model().num_items;
    if dataset.num_items as usize != num_items {
        return Err(format!(
            "{} has {} items but the model {} was trained on {}",
            args.data.display(),
            dataset.num_items,
            args.model.display(),
            num_items
        )
        .into());
    }
    let held_out = dataset.held_out(args.split)?;
    let started = std::time::Instant::now();
    let report = evaluate_next_item(
        recommender.model(),
        held_out,
        args.batch_size,
        true,
        &device,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let all = report.to_flat_map();
    let metrics: std::collections::BTreeMap<&str, f64> = REPORTED
        .iter()
        .map(|&key| (key, all.get(key).copied().unwrap_or(f64::NAN)))
        .collect();
    if args.json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else {
        println!(
            "{} users of the {} split, full catalogue of {} items, history excluded ({seconds:.1} s)",
            report.users, args.split, num_items
        );
        for key in ["ndcg@10", "recall@10", "recall@1", "mrr"] {
            println!(
                "{key:>10}  {:.4}",
                metrics.get(key).copied().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}
