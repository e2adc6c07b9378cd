//! Prints the statistics of the simulator's default output (as in `docs/simulator.md`):
//! `cargo run -p seqrec-simulator --example simulator_stats [--users N] [--seed S]`.

use std::time::Instant;

use seqrec_events::{LogSummary, WindowOptions, split_by_time};
use seqrec_simulator::{Simulation, SimulatorConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = SimulatorConfig::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--users", Some(v)) => config.users = v.parse()?,
            ("--seed", Some(v)) => config.seed = v.parse()?,
            _ => return Err(format!("unknown argument {:?}", pair[0]).into()),
        }
    }
    let start = Instant::now();
    let sim = Simulation::run(&config)?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} events, {} users, {} tracks in {seconds:.2} s\n",
        sim.log.len(),
        config.users,
        sim.catalog.len()
    );
    println!("{}", LogSummary::of(&sim.log));

    // Popularity curve: share of plays of the top-k tracks.
    let mut counts: Vec<u64> = sim.log.item_counts().into_iter().skip(1).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = counts.iter().sum();
    println!("| top k tracks | share of plays |\n| --- | --- |");
    let mut cumulative = 0;
    let marks = [10, 100, 200, 1000, 2000, 5000, 10_000, 20_000];
    for (i, c) in counts.iter().enumerate() {
        cumulative += c;
        if marks.contains(&(i + 1)) {
            println!(
                "| {} | {:.1} % |",
                i + 1,
                100.0 * cumulative as f64 / total as f64
            );
        }
    }
    let unplayed = counts.iter().filter(|&&c| c == 0).count();
    println!("\ntracks never played: {unplayed}\n");

    // Cohorts of the paper in the default time-window split.
    let split = split_by_time(&sim.log, &WindowOptions::default())?;
    let mut held = vec![0_usize; split.users.len() + 1];
    let mut held_positive = vec![0_usize; split.users.len() + 1];
    for p in &split.held_out {
        held[p.user as usize] += 1;
        held_positive[p.user as usize] += usize::from(p.ms_played.unwrap_or(0) >= 30_000);
    }
    let cohort = |n: u32| match n {
        0 => None,
        1..=50 => Some(0),
        51..=100 => Some(1),
        101..=150 => Some(2),
        _ => Some(3),
    };
    let mut users = [0; 4];
    let mut evaluable = [0; 4];
    for (u, &n) in split.history_lengths.iter().enumerate() {
        if let Some(c) = cohort(n) {
            users[c] += 1;
            evaluable[c] += usize::from(held[u + 1] >= 3);
        }
    }
    println!(
        "| cohort (plays in the 60-day history) | users | with >= 3 held-out plays |\n| --- | --- | --- |"
    );
    for (i, name) in ["(0, 50]", "(50, 100]", "(100, 150]", "> 150"]
        .iter()
        .enumerate()
    {
        println!("| {name} | {} | {} |", users[i], evaluable[i]);
    }
    println!("\nsplit report: {:?}", split.report);
    Ok(())
}
