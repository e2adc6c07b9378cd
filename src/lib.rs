//! Workspace-level examples (`examples/`), integration tests (`tests/`) and benchmarks
//! (`benches/`) of seqrec. The library itself is the `seqrec` crate and its parts in
//! `crates/`; this package only hosts programs that use them together.

pub mod alloc;
pub mod perf;

/// Where the shared test and benchmark data live, relative to the workspace root
/// (`../shared` beside the project), if present.
pub fn shared_data(name: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name);
    path.is_dir().then_some(path)
}
