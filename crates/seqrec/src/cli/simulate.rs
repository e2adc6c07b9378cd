//! `seqrec simulate`.

use std::path::PathBuf;

use seqrec::events::{LogSummary, write_events};
use seqrec::simulator::{Simulation, SimulatorConfig};

use super::CliError;

/// Arguments of `seqrec simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Output file: `.csv`, `.tsv` or `.parquet`.
    #[arg(long)]
    out: PathBuf,
    /// Listeners [default: the simulator's, a few thousand].
    #[arg(long)]
    users: Option<usize>,
    /// Tracks [default: about 20 000].
    #[arg(long)]
    tracks: Option<usize>,
    /// Days of listening [default: 67: 60 of history and 7 held out].
    #[arg(long)]
    days: Option<u32>,
    /// Median plays per listener over the period (log-normal) [default: 120]. Real
    /// logs of heavy listeners (Last.fm-1K) have thousands.
    #[arg(long)]
    median_plays: Option<f64>,
    /// Most plays of one listener [default: 5 000].
    #[arg(long)]
    max_plays: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also write the ground-truth user-track affinities to this CSV file.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Print the result as one JSON object on stdout (the log's summary goes to stderr).
    #[arg(long)]
    json: bool,
}

pub fn run(args: SimulateArgs, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let mut config = SimulatorConfig {
        seed: args.seed,
        ..SimulatorConfig::default()
    };
    if let Some(users) = args.users {
        config.users = users;
    }
    if let Some(tracks) = args.tracks {
        config.tracks = tracks;
    }
    if let Some(days) = args.days {
        config.days = days;
    }
    if let Some(median_plays) = args.median_plays {
        config.median_plays = median_plays;
    }
    if let Some(max_plays) = args.max_plays {
        config.max_plays = max_plays;
    }
    let started = std::time::Instant::now();
    let simulation = Simulation::run(&config)?;
    write_events(&simulation.log, &args.out)?;
    if let Some(truth) = &args.truth {
        simulation.write_affinities_csv(truth)?;
    }
    eprintln!("{}", LogSummary::of(&simulation.log));
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let result = serde_json::json!({
            "plays": simulation.log.len(),
            "users": config.users,
            "tracks": config.tracks,
            "days": config.days,
            "seed": config.seed,
            "out": args.out.display().to_string(),
            "truth": args.truth.as_ref().map(|t| t.display().to_string()),
            "seconds": seconds,
        });
        writeln!(out, "{}", serde_json::to_string(&result)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "wrote {} plays of {} users to {} in {seconds:.1} s",
        simulation.log.len(),
        config.users,
        args.out.display(),
    )?;
    Ok(())
}
