//! An optional approximate maximum-inner-product index for serving seqrec models over large
//! catalogues (1 M – 10 M items).
//!
//! A gSASRec model scores item `i` for a user as `user · out_i` (plus a repeat term on the
//! user's own history and `-inf` on reserved ids). Exact ranking scores every item; at ten
//! million items that is 640 million multiply-adds per user. [`AnnIndex`] is an HNSW graph
//! (the [usearch](https://crates.io/crates/usearch) library) over the rows of the output
//! table that returns about the `count` items of largest inner product with a user vector
//! in well under a millisecond. A server asks it for a few times `k` candidates, adds the
//! user's history, scores those exactly with the model and keeps the top `k` (see
//! `seqrec-serve`'s `AnnRanker`); exact ranking stays the default.
//!
//! - [`AnnConfig`]: `M`, `ef_construction`, `ef_search`, how inner product is searched
//!   ([`AnnMetric`]) and how vectors are stored ([`AnnScalar`]), with documented defaults.
//! - [`AnnIndex`]: build in parallel from a row-major `f32` table `[rows, dim]` (skipping
//!   reserved rows), search one query or a batch in parallel, save to and load (or
//!   memory-map) from a directory, reused only for the same table ([`table_fingerprint`]).
//! - [`exact_top_k`] and [`recall`]: brute-force exact top-k and recall@k, what the index is
//!   measured against (`examples/ann_recall.rs`, `docs/scale-ann.md`).
//!
//! - [`synthetic`]: seeded recommender-shaped catalogues and users, for measurements.
//!
//! No tensor library: the crate takes and returns plain slices.
#![deny(missing_docs)]

mod config;
mod error;
mod exact;
mod index;
pub mod synthetic;

pub use config::{AnnConfig, AnnMetric, AnnScalar};
pub use error::AnnError;
pub use exact::{Neighbor, dot, exact_top_k, recall};
pub use index::{AnnIndex, AnnManifest, INDEX_FILE, MANIFEST_FILE, Opened, table_fingerprint};
