//! The paper's ablation through the library API (no command line): simulate a listening
//! log, train the item-item baseline, the popularity floor, personal popularity and the four
//! gSASRec variants with one seed and one budget, evaluate them with the profile protocol
//! (also in the discovery view, history tracks excluded), and write Tables 1 and 2, the
//! plots and `run.json`. A template for services and notebooks that embed seqrec.
//!
//! `cargo run --release --example paper_ablation -- [OUT_DIR] [BUDGET]`
//! (defaults: `runs/paper_ablation`, `600` steps; a budget may also be a duration: `2m`).

use std::io::Write;

use seqrec::ablation::{
    AblationConfig, AblationEvent, Budget, run_profile_ablation, simulated_split,
};
use seqrec::simulator::SimulatorConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().unwrap_or("runs/paper_ablation".into()));
    let budget: Budget = args.next().as_deref().unwrap_or("600").parse()?;

    let split = simulated_split(&SimulatorConfig::default())?;
    println!(
        "{} tracks, {} listeners with a history, {} held-out plays",
        split.dataset.num_items,
        split.histories.len(),
        split.held_out.len()
    );
    let mut config = AblationConfig::default();
    config.schedule.budget = budget;
    let device = seqrec::device::default_device()?;
    let result = run_profile_ablation(
        &config,
        &split,
        "the built-in simulator",
        &device,
        &out,
        Box::new(|event| match event {
            AblationEvent::Model { index, total, name } => {
                print!("[{index}/{total}] {name} … ");
                let _ = std::io::stdout().flush();
            }
            AblationEvent::Done { train_seconds, .. } => println!("{train_seconds:.0} s"),
            _ => {}
        }),
    )?;
    result.write(&out)?;
    println!("\n{}", result.summary_markdown());
    println!("{}", result.table2_markdown());
    println!("written to {}", out.display());
    Ok(())
}
