//! The `seqrec` command-line program: train, evaluate and serve gSASRec models.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use seqrec::cli::{self, Cli};

/// mimalloc keeps the large buffers of a training step between steps, where glibc returns them
/// to the kernel and pays for zero-filled pages again every step (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// mimalloc's option setter (linked in by the `mimalloc` crate).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Never hand freed memory back to the kernel (`mi_option_purge_delay = -1`, mimalloc v3's
/// `mimalloc.h`), unless `MIMALLOC_PURGE_DELAY` is set.
fn keep_freed_memory() {
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a process-wide option; mimalloc allows it at any time.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let matches = Cli::command().get_matches();
    let args = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    cli::init_logging();
    match cli::run(args, &matches, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", cli::describe(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}
