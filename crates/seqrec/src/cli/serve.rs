//! `seqrec serve`.

use std::path::PathBuf;

use seqrec::serve::{ServeConfig, open_model_dir, serve_blocking};

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
    let ranker = open_model_dir(&args.model, &device)?;
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
