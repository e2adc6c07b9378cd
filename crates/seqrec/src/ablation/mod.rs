//! The paper's ablation (its Tables 1 and 2) from one call: the neural item-item baseline,
//! a popularity floor, personal popularity (each listener's own most played tracks) and the
//! four gSASRec variants — causal mask or not, positional encoding or not — trained with one
//! seed and one budget on the history window of a listening log, and evaluated with the
//! profile protocol on the held-out window, once as the paper does (history tracks may be
//! recommended) and once in the discovery view (history tracks excluded from the lists and
//! the profiles).
//!
//! On a dataset in the gSASRec layout (e.g. MovieLens-1M) the same models are compared with
//! next-item metrics instead ([`run_next_item_ablation`]).
//!
//! ```no_run
//! use seqrec::ablation::{AblationConfig, Budget, run_profile_ablation, simulated_split};
//! use seqrec::simulator::SimulatorConfig;
//!
//! let split = simulated_split(&SimulatorConfig::default())?;
//! let mut config = AblationConfig::default();
//! config.schedule.budget = Budget::Steps(300);
//! let device = seqrec::device::default_device()?;
//! let result = run_profile_ablation(
//!     &config, &split, "simulator", &device, "runs/ablation".as_ref(), Box::new(|_| {}),
//! )?;
//! result.write("runs/ablation".as_ref())?;
//! println!("{}", result.table1_markdown());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod error;
mod memory;
mod next_item;
mod output;
#[cfg(feature = "plots")]
mod plots;
// Without the feature the same functions draw nothing, so the writers need no `cfg` of their own.
#[cfg(not(feature = "plots"))]
#[path = "no_plots.rs"]
mod plots;
mod profile;
mod run;

pub use config::{
    AblationConfig, Budget, DISCOVERY_TRAINING_MAX_ITEMS, ITEM_ITEM, ItemItemSettings, ModelPlays,
    PERSONAL_POPULARITY, POPULARITY, REPEAT_CONTEXT, Schedule, TransformerSettings, Variant,
    VariantObjective, default_windows,
};
pub use error::AblationError;
pub use next_item::{NEXT_ITEM_K, NextItemAblation, NextItemRow, run_next_item_ablation};
pub use output::ALL_USERS;
pub use profile::{DataSummary, ModelListStatistics, ProfileAblation, View, run_profile_ablation};
pub use run::{AblationEvent, AblationProgress, ModelRun};

use seqrec_events::{WindowSplit, split_by_time_owned};
use seqrec_simulator::{SimulatorConfig, simulate};

/// Simulates a listening log and splits it into the paper's 60-day history and 7-day
/// held-out windows: the default data of an ablation (no download needed).
pub fn simulated_split(simulator: &SimulatorConfig) -> Result<WindowSplit, AblationError> {
    let log = simulate(simulator)?;
    Ok(split_by_time_owned(log, &default_windows())?)
}
