//! Serving seqrec models.
//!
//! - [`Server`]: an HTTP JSON service (axum on tokio) that loads a model once and answers
//!   `POST /recommend` (one history or many), `GET /health` and `GET /metrics` (Prometheus
//!   text). Requests that arrive together are ranked in one forward pass by a single ranking
//!   worker ([`ServeConfig::max_batch`], [`ServeConfig::max_wait_us`]); a full queue answers
//!   503, a bad request 400 with the reason; SIGTERM finishes the requests in flight.
//! - [`recommend_file`]: top-k for every user of a CSV, JSON lines or Parquet file, written
//!   to CSV or Parquet in chunks, so memory stays bounded.
//! - [`Ranker`] and [`open_model_dir`]: every saved model kind (gSASRec, item-item, personal
//!   popularity) behind one interface.
//! - [`AnnRanker`] and [`open_model_dir_with_ann`] (optional, off by default): a gSASRec
//!   served from an approximate index over its output table (`seqrec-ann`, HNSW): candidates
//!   from the index plus the history, scored exactly by the model, for catalogues of
//!   millions of items (`docs/scale-ann.md`).
//!
//! ```no_run
//! use burn::tensor::Device;
//! use seqrec_serve::{ServeConfig, open_model_dir, serve};
//!
//! # async fn run() -> Result<(), seqrec_serve::ServeError> {
//! let ranker = open_model_dir("runs/model".as_ref(), &Device::default())?;
//! serve(ranker, ServeConfig::default(), "127.0.0.1:8080", |addr| {
//!     println!("listening on {addr}")
//! })
//! .await
//! # }
//! ```
//!
//! The request and answer bodies are in [`api`]; `docs/serving.md` has the measured
//! throughput and latency.
#![deny(missing_docs)]

pub mod ann;
pub mod api;
mod batcher;
pub mod bulk;
mod config;
mod error;
mod metrics;
mod ranker;
mod server;

pub use ann::{AnnOptions, AnnRanker, open_model_dir_with_ann};
pub use bulk::{BulkOptions, BulkReport, UnknownItems, recommend_file};
pub use config::ServeConfig;
pub use error::ServeError;
pub use metrics::{Endpoint, Metrics};
pub use ranker::{
    RANK_CHUNK, RankedIds, Ranker, history_exclusion, open_model_dir, rank_by_length,
};
pub use seqrec_train::resolve_history;
pub use server::{Server, ServerHandle, kind_name, serve, serve_blocking, shutdown_signal};
