//! End-to-end profile-based evaluation on synthetic plays: two "models" that
//! differ in how often they put a user's liked tracks into the top 200,
//! compared as in the paper's Tables 1 and 2.
//!
//! `cargo run -p seqrec-eval --example profile_report [users]`

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqrec_eval::{
    EvalError, History, Metric, Play, ProfileEvalConfig, ProfileEvaluator, TopKBatch,
};

const CATALOGUE: u32 = 20_000;

fn main() -> Result<(), EvalError> {
    let users: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000);
    let mut rng = ChaCha8Rng::seed_from_u64(7);

    // Held-out week: 3–15 tracks per user, 1–4 plays each; liked tracks are
    // mostly played through (>= 30 s), others mostly skipped.
    let mut held_out = Vec::new();
    let mut history_lengths = Vec::new();
    for user in 0..users {
        for _ in 0..rng.random_range(3..=15) {
            let item = rng.random_range(1..CATALOGUE);
            let liked = rng.random_bool(0.5);
            for _ in 0..rng.random_range(1..=4) {
                let through = rng.random_bool(if liked { 0.9 } else { 0.2 });
                held_out.push(Play::new(user, item, if through { 200_000 } else { 8_000 }));
            }
        }
        history_lengths.push((user, rng.random_range(0..250u64)));
    }
    let history = History::from_lengths(history_lengths);
    let ev = ProfileEvaluator::new(
        ProfileEvalConfig::default(),
        held_out.iter().copied(),
        &history,
    )?;

    // A "model" scores the catalogue in item chunks for blocks of users; the
    // better model gives the user's positive tracks a larger boost.
    let positives: std::collections::HashMap<u32, Vec<u32>> = held_out
        .iter()
        .filter(|p| p.ms_played >= 30_000)
        .fold(Default::default(), |mut m, p| {
            m.entry(p.user).or_insert_with(Vec::new).push(p.item);
            m
        });
    let mut run_model = |name: &str, boost: f32| {
        let mut lists = Vec::with_capacity(ev.users().len());
        for block in ev.users().chunks(256) {
            let mut batch = TopKBatch::new(block.len(), 200);
            for first in (0..CATALOGUE).step_by(4096) {
                let n = 4096.min(CATALOGUE - first) as usize;
                let mut scores: Vec<f32> = (0..block.len() * n).map(|_| rng.random()).collect();
                for (row, user) in block.iter().enumerate() {
                    for &item in positives.get(user).into_iter().flatten() {
                        if (first..first + n as u32).contains(&item) {
                            scores[row * n + (item - first) as usize] +=
                                boost * rng.random::<f32>();
                        }
                    }
                }
                batch.push_block(first, n, &scores)?;
            }
            lists.extend(block.iter().copied().zip(batch.into_ranked_lists()));
        }
        ev.evaluate(name, lists)
    };
    let baseline = run_model("Baseline", 0.5)?;
    let proposed = run_model("Proposed", 0.52)?;

    let report = ev.report([&baseline, &proposed])?;
    let c = ev.counts();
    println!(
        "{} users evaluated; dropped: {} with < 3 plays, {} without tracks after removing {} single-play pairs, {} with an empty relevant set\n",
        c.users,
        c.profiles.users_too_few_plays,
        c.profiles.users_without_tracks,
        c.profiles.pairs_too_few_plays,
        c.users_empty_relevant
    );
    println!("{}", report.to_markdown_table1());
    println!("{}", report.to_markdown_table2());
    println!("{}", report.markdown_table1(Metric::GradedNdcg));
    let csv = report.to_csv();
    println!(
        "CSV: {} lines, first: {}",
        csv.lines().count(),
        csv.lines().nth(1).unwrap_or("")
    );
    Ok(())
}
