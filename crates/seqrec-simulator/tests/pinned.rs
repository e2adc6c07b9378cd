//! The default simulation is pinned byte for byte (the same constants as
//! `the_default_simulation_is_byte_for_byte_pinned` in `crates/seqrec/tests/cli.rs`, which
//! also checks `seqrec simulate`): this copy runs with the simulator's and the event log's
//! own tests, so a change to either that alters the default output fails here first.

use std::io::Write;

use seqrec_events::write_events_csv_to;
use seqrec_simulator::{Simulation, SimulatorConfig};

/// FNV-1a 64 over everything written, and the byte count.
struct Fnv1a {
    hash: u64,
    bytes: u64,
}

impl Write for Fnv1a {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_default_simulation_writes_the_pinned_bytes() {
    const EXPECTED_FNV1A: u64 = 0xbe51_ff8d_2c26_c5a4;
    const EXPECTED_BYTES: u64 = 56_831_629;
    let simulation = Simulation::run(&SimulatorConfig::default()).unwrap();
    let mut out = Fnv1a {
        hash: 0xcbf2_9ce4_8422_2325,
        bytes: 0,
    };
    write_events_csv_to(&simulation.log, &mut out, b',').unwrap();
    assert_eq!(
        (out.hash, out.bytes),
        (EXPECTED_FNV1A, EXPECTED_BYTES),
        "the default simulation changed: FNV-1a {:#018x} of {} bytes",
        out.hash,
        out.bytes
    );
}
