//! `seqrec evaluate`.

use std::path::{Path, PathBuf};

use seqrec::data::{HistoryTargets, ItemVocabulary, Split};
use seqrec::eval::NextItemMetric;
use seqrec::train::{Recommender, next_item_ranks};

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
    /// Also write every user's target, its rank and each metric to this file: CSV
    /// (`user,target,rank,METRIC...`), or Parquet when it ends in `.parquet` (the same
    /// columns). `user` is the user's line of the split, from 0; rank 0 means not ranked.
    #[arg(long, value_name = "FILE")]
    per_user: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArg,
}

/// Writes one row per ranked user: `user` (its line of the split), `target`, `rank`, then
/// each metric's value; Parquet for a `.parquet` path, CSV otherwise.
fn write_per_user(
    path: &Path,
    users: &[usize],
    targets: &[u32],
    ranks: &[usize],
    metrics: &[NextItemMetric],
) -> Result<(), CliError> {
    let failed = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt32Array, UInt64Array};
        use std::sync::Arc;
        let count = |values: &[usize]| -> ArrayRef {
            Arc::new(UInt64Array::from_iter_values(
                values.iter().map(|&v| v as u64),
            ))
        };
        let mut columns: Vec<(String, ArrayRef)> = vec![
            ("user".to_owned(), count(users)),
            (
                "target".to_owned(),
                Arc::new(UInt32Array::from(targets.to_vec())),
            ),
            ("rank".to_owned(), count(ranks)),
        ];
        for metric in metrics {
            let values = ranks.iter().map(|&rank| metric.value(rank));
            columns.push((
                metric.to_string(),
                Arc::new(Float64Array::from_iter_values(values)),
            ));
        }
        let batch = RecordBatch::try_from_iter(columns).map_err(|e| failed(&e))?;
        let file = std::fs::File::create(path).map_err(|e| failed(&e))?;
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
            .map_err(|e| failed(&e))?;
        writer.write(&batch).map_err(|e| failed(&e))?;
        writer.close().map_err(|e| failed(&e))?;
        return Ok(());
    }
    let mut writer = csv::Writer::from_path(path).map_err(|e| failed(&e))?;
    let mut header = vec!["user".to_owned(), "target".to_owned(), "rank".to_owned()];
    header.extend(metrics.iter().map(|m| m.to_string()));
    writer.write_record(&header).map_err(|e| failed(&e))?;
    for ((user, target), &rank) in users.iter().zip(targets).zip(ranks) {
        let mut row = vec![user.to_string(), target.to_string(), rank.to_string()];
        row.extend(metrics.iter().map(|m| m.value(rank).to_string()));
        writer.write_record(&row).map_err(|e| failed(&e))?;
    }
    writer.flush().map_err(|e| failed(&e))?;
    Ok(())
}

/// `held_out` (item ids of `items`) in the model's ids (`model_items`): unknown history items
/// are left out, and users whose target or whole history the model does not know are
/// skipped; returns the lines of the users kept.
fn to_model_ids(
    held_out: &HistoryTargets,
    items: &ItemVocabulary,
    model_items: &ItemVocabulary,
) -> (HistoryTargets, Vec<usize>) {
    let model_id = |id: u32| items.name(id).and_then(|name| model_items.id(name));
    let mut remapped = HistoryTargets::default();
    let mut kept = Vec::new();
    for (line, (history, &target)) in held_out.inputs.iter().zip(&held_out.targets).enumerate() {
        let history: Vec<u32> = history.iter().filter_map(|&id| model_id(id)).collect();
        if let (Some(target), false) = (model_id(target), history.is_empty()) {
            remapped.inputs.push(history);
            remapped.targets.push(target);
            kept.push(line);
        }
    }
    (remapped, kept)
}

pub fn run(args: EvaluateArgs, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let device = args.device.open()?;
    let recommender = Recommender::load(&args.model, &device)?;
    let num_items = recommender.model().num_items;
    // A listening log's tracks are matched to the model's by id (`remap`).
    let (dataset, remap) = match load_source(&args.data, &args.events)? {
        Source::Sequences(loaded) => (loaded.dataset, None),
        Source::Window(split) => {
            let items = split.model_items();
            (split.dataset, Some(items))
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
    let held_out = dataset.history_targets(args.split)?;
    let remapped;
    let mut lines: Vec<usize> = (0..held_out.targets.len()).collect();
    let held_out = match &remap {
        Some(items) => {
            (remapped, lines) = to_model_ids(held_out, items, recommender.items());
            let skipped = held_out.targets.len() - lines.len();
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
        None => remap.is_none(),
    };
    let started = std::time::Instant::now();
    let ranks = next_item_ranks(
        recommender.model(),
        held_out,
        args.batch_size,
        exclude_history,
        &device,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.per_user {
        write_per_user(path, &lines, &held_out.targets, &ranks, &args.metrics)?;
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
