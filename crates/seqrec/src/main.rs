//! The `seqrec` command-line program: train, evaluate and serve gSASRec models.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use seqrec::cli::{self, Cli};

/// mimalloc, told to keep the large buffers of a training step between steps, where glibc
/// returns them to the kernel and pays for zero-filled pages again every step
/// (docs/performance.md); `SEQREC_ALLOCATOR=system` measures glibc instead.
#[global_allocator]
static ALLOCATOR: seqrec::alloc::Allocator = seqrec::alloc::Allocator;

fn main() -> ExitCode {
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
