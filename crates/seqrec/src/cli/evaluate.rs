//! `seqrec evaluate`.

use std::path::{Path, PathBuf};

use seqrec::data::{HeldOut, ItemVocabulary, Split};
use seqrec::eval::NextItemMetric;
use seqrec::train::{Recommender, held_out_ranks};

use super::data::{EventArgs, Source, load_source};
use super::{CliError, DeviceArg};

/// `--history`: whether the user's own history items are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum History {
    /// Ranked with the rest (a replay can be the next play).
    Ranked,
    /// Left out of the ranking, but the target (the gSASRec protocol).
    Excluded,
}

/// Arguments of `seqrec evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Model directory written by `seqrec train`.
    #[arg(long)]
    model: PathBuf,
    /// Held-out data: a directory in the gSASRec layout, or a file of listening events split
    /// by time as `train` splits it (the same --history-days, --held-out-days and column
    /// flags), its tracks matched to the model's by id.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    events: EventArgs,
    /// Rank the users' history items or not [default: excluded on the gSASRec layout, ranked
    /// on listening events, as `train` ranks its test users].
    #[arg(long, value_enum)]
    history: Option<History>,
    /// Which held-out split to rank.
    #[arg(long, default_value = "test")]
    split: Split,
    /// Users per batch.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Metrics, comma-separated: ndcg@K, recall@K, hit@K (RecBole's name; the same as
    /// recall@K with one target), mrr (no cutoff).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ndcg@10,recall@10,recall@1,mrr"
    )]
    metrics: Vec<NextItemMetric>,
    /// Also write every user's target, its rank and each metric to this CSV file
    /// (`user,target,rank,METRIC...`; `user` is the line of the split, from 0, and rank 0
    /// means not ranked).
    #[arg(long, value_name = "FILE")]
    per_user: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArg,
}

/// Writes one row per user: `user,target,rank`, then each metric's value.
fn write_per_user(
    path: &Path,
    targets: &[u32],
    ranks: &[usize],
    metrics: &[NextItemMetric],
) -> Result<(), CliError> {
    let failed = |e: csv::Error| format!("cannot write {}: {e}", path.display());
    let mut writer = csv::Writer::from_path(path).map_err(failed)?;
    let mut header = vec!["user".to_owned(), "target".to_owned(), "rank".to_owned()];
    header.extend(metrics.iter().map(|m| m.to_string()));
    writer.write_record(&header).map_err(failed)?;
    for (user, (target, &rank)) in targets.iter().zip(ranks).enumerate() {
        let mut row = vec![user.to_string(), target.to_string(), rank.to_string()];
        row.extend(metrics.iter().map(|m| m.value(rank).to_string()));
        writer.write_record(&row).map_err(failed)?;
    }
    writer
        .flush()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// `held_out` (item ids of `items`) in the model's ids (`model_items`): unknown history items
/// are left out, and users whose target or whole history the model does not know are
/// skipped; returns the users skipped.
fn to_model_ids(
    held_out: &HeldOut,
    items: &ItemVocabulary,
    model_items: &ItemVocabulary,
) -> (HeldOut, usize) {
    let model_id = |id: u32| items.name(id).and_then(|name| model_items.id(name));
    let mut remapped = HeldOut::default();
    for (history, &target) in held_out.inputs.iter().zip(&held_out.targets) {
        let history: Vec<u32> = history.iter().filter_map(|&id| model_id(id)).collect();
        if let (Some(target), false) = (model_id(target), history.is_empty()) {
            remapped.inputs.push(history);
            remapped.targets.push(target);
        }
    }
    let skipped = held_out.targets.len() - remapped.targets.len();
    (remapped, skipped)
}

pub fn run(args: EvaluateArgs, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let device = args.device.open()?;
    let recommender = Recommender::load(&args.model, &device)?;
    let num_items = recommender.model().num_items;
    let (dataset, listening, remap) = match load_source(&args.data, &args.events)? {
        Source::Sequences(loaded) => (loaded.dataset, false, None),
        Source::Window(split) => {
            let items = split.model_items();
            (split.dataset, true, Some(items))
        }
    };
    if remap.is_none() && dataset.num_items as usize != num_items {
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
    let remapped;
    let held_out = match &remap {
        Some(items) => {
            let skipped;
            (remapped, skipped) = to_model_ids(held_out, items, recommender.items());
            if skipped > 0 {
                eprintln!(
                    "{}: {skipped} of {} {} users skipped: the model knows neither their target nor any history track",
                    args.data.display(),
                    held_out.targets.len(),
                    args.split
                );
            }
            if remapped.targets.is_empty() {
                return Err(format!(
                    "{}: the model {} knows none of the {} users' tracks",
                    args.data.display(),
                    args.model.display(),
                    args.split
                )
                .into());
            }
            &remapped
        }
        None => held_out,
    };
    let exclude_history = match args.history {
        Some(history) => history == History::Excluded,
        None => !listening,
    };
    let started = std::time::Instant::now();
    let ranks = held_out_ranks(
        recommender.model(),
        held_out,
        args.batch_size,
        exclude_history,
        &device,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.per_user {
        write_per_user(path, &held_out.targets, &ranks, &args.metrics)?;
    }
    let values: Vec<(String, f64)> = args
        .metrics
        .iter()
        .map(|m| (m.to_string(), m.mean(&ranks)))
        .collect();
    if args.json {
        let metrics: std::collections::BTreeMap<&str, f64> =
            values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        writeln!(out, "{}", serde_json::to_string(&metrics)?)?;
    } else {
        writeln!(
            out,
            "{} users of the {} split, full catalogue of {} items, history {} ({seconds:.1} s)",
            ranks.len(),
            args.split,
            num_items,
            if exclude_history {
                "excluded"
            } else {
                "ranked"
            }
        )?;
        let width = values
            .iter()
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0)
            .max(10);
        for (key, value) in &values {
            writeln!(out, "{key:>width$}  {value:.4}")?;
        }
    }
    Ok(())
}
