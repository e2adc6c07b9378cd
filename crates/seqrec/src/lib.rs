#![deny(missing_docs)]
//! # seqrec
//!
//! Transformer music recommendation in Rust: the gSASRec model of *Beyond Collaborative
//! Filtering: Using Transformers for Personalized Music Recommendation* (Greer et al.) with its
//! causal mask and positional encoding as hyperparameters, the gBCE loss, negative sampling,
//! training on burn-train and full-catalogue evaluation. This facade re-exports the crates:
//!
//! - [`model`] (`seqrec-model`): [`model::GsasRecConfig`], [`model::GsasRec`];
//! - [`loss`] (`seqrec-loss`): gBCE, BCE, sampled and full softmax;
//! - [`sampling`] (`seqrec-sampling`): seeded negative samplers;
//! - [`eval`] (`seqrec-eval`): ranking metrics;
//! - [`data`] (`seqrec-data`): the gSASRec layout, vocabularies, leave-one-out;
//! - [`events`] (`seqrec-events`): listening-event readers and writers (CSV, TSV, Parquet,
//!   Yambda, Last.fm, ...) and the paper's time-window split;
//! - [`simulator`] (`seqrec-simulator`): the seeded listening simulator behind the built-in run;
//! - [`train`] (`seqrec-train`): [`train::train`], [`train::Recommender`],
//!   [`train::import_gsasrec_checkpoint`] (models of the PyTorch reference code);
//! - [`ablation`]: the paper's Tables 1 and 2 (four variants, item-item, popularity and
//!   personal popularity baselines, profile evaluation, and a discovery view without history
//!   tracks) from one call;
//! - [`serve`] (`seqrec-serve`): the HTTP service ([`serve::Server`]) and top-k for every
//!   user of a file ([`serve::recommend_file`]);
//! - [`device`]: backends by name for the command line;
//! - `cli` (feature `cli`, on by default): the `seqrec` program's commands, callable in-process
//!   with the same arguments (the Python package drives them).
//!
//! Features: `cli` (the program: clap, indicatif, tracing-subscriber, mimalloc), `plots` (the
//! ablation's PNG and SVG plots: plotters), both on by default; a library build that needs
//! neither takes `default-features = false, features = ["ndarray"]` (or another backend).
//!
//! ```no_run
//! use seqrec::data::SequenceDataset;
//! use seqrec::model::{AttentionMode, GsasRecConfig, PositionEncoding};
//! use seqrec::train::{TrainConfig, TrainOptions, TrainingData, Recommender, train};
//!
//! let dataset = SequenceDataset::load_dir("../shared/data/ml1m-loo")?;
//! let model = GsasRecConfig::new(dataset.num_items as usize)
//!     .with_attention(AttentionMode::Bidirectional)
//!     .with_positions(PositionEncoding::Learned);
//! let mut config = TrainConfig::new(model);
//! config.run.limit.steps = Some(1000);
//! let device = seqrec::device::default_device()?;
//! let data = TrainingData::from_sequences(&dataset)?;
//! train(&config, &data, &device, "runs/ml1m".as_ref(), TrainOptions::default())?;
//! let recommender = Recommender::load("runs/ml1m", &device)?;
//! let top10 = recommender.recommend(&["12", "7", "99"], 10, true)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The command-line modules name this crate `seqrec::`, as the program's users do.
extern crate self as seqrec;

pub mod ablation;
#[cfg(feature = "cli")]
pub mod alloc;
#[cfg(feature = "cli")]
pub mod cli;
pub mod device;

pub use seqrec_data as data;
pub use seqrec_eval as eval;
pub use seqrec_events as events;
pub use seqrec_loss as loss;
pub use seqrec_model as model;
pub use seqrec_sampling as sampling;
pub use seqrec_serve as serve;
pub use seqrec_simulator as simulator;
pub use seqrec_train as train;
