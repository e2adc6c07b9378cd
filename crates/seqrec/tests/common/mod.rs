//! Helpers shared by the command-line tests: run the `seqrec` program, read what it printed,
//! write a tiny dataset in the gSASRec layout.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

use seqrec::data::SyntheticConfig;

/// Runs the `seqrec` program built for these tests.
pub fn seqrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .args(args)
        .output()
        .expect("running seqrec")
}

/// Standard output followed by standard error.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A tiny synthetic dataset (120 users, 60 items) in the gSASRec layout under `dir`.
pub fn dataset(dir: &Path) {
    SyntheticConfig {
        users: 120,
        items: 60,
        clusters: 4,
        median_length: 20.0,
        validation_users: 32,
        ..Default::default()
    }
    .generate()
    .unwrap()
    .save_dir(dir)
    .unwrap();
}
