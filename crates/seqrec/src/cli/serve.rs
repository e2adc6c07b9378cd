//! `seqrec serve`.

use std::path::PathBuf;

use seqrec::serve::{AnnOptions, ServeConfig, open_model_dir_with_ann, serve_blocking};

use super::{CliError, DeviceArg};

/// Arguments of `seqrec serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Model directory written by `seqrec train` or by `seqrec ablation` (its `models/`
    /// directories: a transformer variant, item-item or personal popularity).
    #[arg(long)]
    model: PathBuf,
    /// Address to listen on (port 0 picks a free one, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// The most histories ranked in one forward pass; 1 turns batching off
    /// (default: `ServeConfig::max_batch`, 64).
    #[arg(long)]
    max_batch: Option<usize>,
    /// How long the ranking worker waits for more requests once it has one, in microseconds
    /// (default: `ServeConfig::max_wait_us`, 0).
    #[arg(long)]
    max_wait_us: Option<u64>,
    /// Requests that may wait for the ranking worker; one more gets 503
    /// (default: `ServeConfig::queue_capacity`, 256).
    #[arg(long)]
    queue: Option<usize>,
    /// HTTP threads of the runtime (the model runs on one worker thread of its own).
    #[arg(long, default_value_t = 2)]
    http_threads: usize,
    /// Rank candidates from an approximate index (HNSW over the output embeddings, saved in
    /// `MODEL/ann/`, built at the first start) instead of the whole catalogue: for gSASRec
    /// models of millions of items (docs/scale-ann.md). Off by default: exact ranking.
    #[arg(long)]
    ann: bool,
    /// With `--ann`: `ef_search`, the index's candidate list (more: better recall, slower).
    #[arg(long, default_value_t = 128, requires = "ann")]
    ann_ef: usize,
    /// With `--ann`: candidates per history from the index, as a multiple of `k` (the
    /// history's items are always scored too).
    #[arg(long, default_value_t = 4, requires = "ann")]
    ann_oversample: usize,
    /// With `--ann`: where the index is saved and looked for (default `MODEL/ann`).
    #[arg(long, requires = "ann")]
    ann_dir: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArg,
}

pub fn run(args: ServeArgs, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let defaults = ServeConfig::default();
    let config = ServeConfig {
        max_batch: args.max_batch.unwrap_or(defaults.max_batch),
        max_wait_us: args.max_wait_us.unwrap_or(defaults.max_wait_us),
        queue_capacity: args.queue.unwrap_or(defaults.queue_capacity),
        ..defaults
    };
    config.validate()?;
    let device = args.device.open()?;
    let ann = args.ann.then(|| {
        let mut options = AnnOptions {
            oversample: args.ann_oversample,
            dir: args.ann_dir.clone(),
            ..AnnOptions::default()
        };
        options.index.expansion_search = args.ann_ef;
        options
    });
    let (ranker, opened) = open_model_dir_with_ann(&args.model, &device, ann.as_ref(), &|done| {
        if done % 1_000_000 < 1_024 {
            eprintln!("seqrec serve: indexed {done} items");
        }
    })?;
    if let Some(opened) = opened {
        eprintln!("seqrec serve: approximate index {opened:?}");
    }
    let model = args.model.display().to_string();
    serve_blocking(ranker, config, &args.addr, args.http_threads, |addr| {
        // The first line a wrapper script reads: where to send requests.
        writeln!(
            out,
            "seqrec serve: {model} on http://{addr} (POST /recommend, GET /health, GET /metrics)"
        )
        .and_then(|()| out.flush())
        // A closed stdout does not stop the server.
        .ok();
    })?;
    eprintln!("seqrec serve: stopped");
    Ok(())
}
