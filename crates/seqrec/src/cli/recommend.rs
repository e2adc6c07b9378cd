//! `seqrec recommend`: one history, or every user of a file.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use seqrec::serve::api::Recommendations;
use seqrec::serve::bulk::parse_history_text;
use seqrec::serve::{
    BulkOptions, UnknownItems, history_exclusion, open_model_dir, recommend_file, resolve_history,
};

use super::{CliError, DeviceArg};

/// Arguments of `seqrec recommend`.
#[derive(Debug, clap::Args)]
pub struct RecommendArgs {
    /// Model directory written by `seqrec train` or by `seqrec ablation` (its `models/`
    /// directories: a transformer variant, item-item or personal popularity).
    #[arg(long)]
    model: PathBuf,
    /// The history, oldest first: the items' own ids separated by spaces, or a JSON array of
    /// ids (`'["artist - track", "b"]'`) for ids with spaces.
    #[arg(long, required_unless_present = "input", conflicts_with = "input")]
    history: Option<String>,
    /// A users file (`.csv`/`.tsv` with `user` and `history` columns, `.jsonl` with
    /// `{"user", "history"}` objects, or `.parquet`): recommend for every user, to `--out`.
    #[arg(long, requires = "out")]
    input: Option<PathBuf>,
    /// Where `--input`'s recommendations go: `.csv` or `.parquet`, one row per item
    /// (`user, rank, item, score`).
    #[arg(long, requires = "input")]
    out: Option<PathBuf>,
    /// Users ranked and written at a time with `--input` (memory stays bounded by it).
    #[arg(long, default_value_t = 1024)]
    chunk: usize,
    /// With `--input`: leave unknown history items out (counted) instead of stopping.
    #[arg(long)]
    skip_unknown: bool,
    /// How many items to recommend.
    #[arg(short = 'k', long, default_value_t = 10)]
    k: usize,
    /// Do not recommend items of the history (by default they may be: music is re-listened).
    #[arg(long)]
    exclude_history: bool,
    /// Print JSON: `{"items": [...], "scores": [...]}` for one history, the report for a file.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArg,
}

pub fn run(args: RecommendArgs, stdout: &mut dyn std::io::Write) -> Result<(), CliError> {
    let device = args.device.open()?;
    let ranker = open_model_dir(&args.model, &device)?;
    if let (Some(input), Some(out)) = (&args.input, &args.out) {
        let options = BulkOptions {
            k: args.k,
            exclude_history: args.exclude_history,
            chunk: args.chunk,
            unknown_items: if args.skip_unknown {
                UnknownItems::Skip
            } else {
                UnknownItems::Error
            },
        };
        let bar = if std::io::stderr().is_terminal() && !args.json {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {pos} users ({per_sec}) {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        let report = recommend_file(ranker.as_ref(), input, out, &options, &mut |done| {
            bar.set_position(done)
        })?;
        bar.finish_and_clear();
        if args.json {
            writeln!(stdout, "{}", serde_json::to_string(&report)?)?;
        } else {
            writeln!(
                stdout,
                "{} users, {} recommendations to {} in {:.1} s ({:.0} users/s); skipped: {} unknown items, {} users",
                report.users,
                report.recommendations,
                out.display(),
                report.seconds,
                report.users_per_second(),
                report.skipped_items,
                report.skipped_users
            )?;
        }
        return Ok(());
    }
    let text = args.history.as_deref().unwrap_or_default();
    let history = parse_history_text(text).map_err(|e| format!("--history: {e}"))?;
    let ids = resolve_history(ranker.items(), &history)?;
    let exclusions = vec![history_exclusion(&ids, args.exclude_history)];
    let ranked = ranker.rank(&[ids], &exclusions, args.k)?;
    let list = ranked.into_iter().next().unwrap_or_default();
    let Recommendations { items, scores } = Recommendations::from_ranked(ranker.items(), list);
    if args.json {
        // Through `serde_json::Value`, as before: its numbers print a score's `f64` digits.
        writeln!(
            stdout,
            "{}",
            serde_json::json!({ "items": items, "scores": scores })
        )?;
    } else {
        for (rank, (item, score)) in items.iter().zip(&scores).enumerate() {
            writeln!(stdout, "{:>4}  {:<20} {:>10.4}", rank + 1, item, score)?;
        }
    }
    Ok(())
}
