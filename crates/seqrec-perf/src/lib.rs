#![deny(missing_docs)]
//! # seqrec-perf
//!
//! The performance harness of seqrec, shared by the workspace's benchmarks (`benches/`,
//! criterion) and measuring examples (`examples/perf_table.rs`, `examples/train_step.rs`):
//!
//! - [`workloads`]: training steps at the gSASRec ML-1M configuration, a small one and the
//!   built-in ablation's, run outside burn-train so that one step can be timed alone; the ML-1M
//!   test split and an untrained ML-1M model for ranking;
//! - [`process`]: what this process used (peak and current resident memory, page faults, CPU
//!   seconds), read from Linux's `/proc`;
//! - [`top_k`]: top-k over a raw embedding table in item chunks (the 1 000 000-item
//!   benchmark's kernel; models rank through `seqrec_train::rank_top_k`);
//! - [`shared_data`]: the data sets in `../shared/data` beside the project, when present.
//!
//! The allocator those programs install is the `seqrec` program's own,
//! `seqrec::alloc::Allocator` (mimalloc, or glibc's with `SEQREC_ALLOCATOR=system`).
//!
//! It reaches into `seqrec-train` through that crate's `internals` feature (batch planning,
//! batches, the training model, per-position scoring), which is not a stable API.

pub mod process;
pub mod top_k;
pub mod workloads;

/// Where the shared test and benchmark data set `name` lives (`../shared/data/<name>` beside
/// the project), if it is there.
pub fn shared_data(name: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name);
    path.is_dir().then_some(path)
}
