//! What the dropout masks of one training step cost: burn's `Dropout` (a Bernoulli tensor
//! drawn from the backend's random stream) against seqrec's keyed masks
//! ([`seqrec::model::DropoutKey`], hashed per element, rows in parallel), for the masks of
//! one step at the ML-1M configuration (batch 128, length 200, dim 128, 2 blocks, 1 head):
//! the embeddings, and per block the attention weights and two feed-forward layers.
//!
//! ```sh
//! cargo run --release -p seqrec-suite --example dropout_masks -- flex 5
//! ```
//!
//! Arguments: device (default flex) and repetitions (default 5). Both ways are timed in the
//! same run, alternating, and the table shows the median of each and their ratio.

use std::time::Instant;

use burn::tensor::{Distribution, Tensor};
use seqrec::model::DropoutKey;
use seqrec_perf::process::cpu_seconds;

#[global_allocator]
static ALLOCATOR: seqrec::alloc::Allocator = seqrec::alloc::Allocator;

const PROB: f64 = 0.5;

/// The shapes of one step's masks: `[batch, rest]` flattened.
fn step_shapes() -> Vec<[usize; 2]> {
    let (b, l, d, h, blocks) = (128, 200, 128, 1, 2);
    let mut shapes = vec![[b, l * d]];
    for _ in 0..blocks {
        shapes.extend([[b, h * l * l], [b, l * d], [b, l * d]]);
    }
    shapes
}

/// Seconds of wall clock and of CPU to run `f` once, after its output is on the host.
fn time(f: &mut dyn FnMut() -> f32) -> (f64, f64, f32) {
    let cpu = || cpu_seconds().map_or(f64::NAN, |(user, system)| user + system);
    let (wall, start) = (Instant::now(), cpu());
    let sink = f();
    (wall.elapsed().as_secs_f64(), cpu() - start, sink)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let device = seqrec::device::parse_device(args.first().map_or("flex", String::as_str))?;
    let repetitions: usize = args.get(1).map_or(Ok(5), |s| s.parse())?;
    let shapes = step_shapes();
    let elements: usize = shapes.iter().map(|[r, c]| r * c).sum();
    let inputs: Vec<Tensor<2>> = shapes.iter().map(|&s| Tensor::ones(s, &device)).collect();
    device.seed(1);

    // Each way applies its masks to the step's activations and reads one value back, so that
    // lazy backends finish the work inside the timing.
    let burn_dropout = || -> f32 {
        let mut total = 0.0;
        for x in &inputs {
            let mask = Tensor::<2>::random(x.dims(), Distribution::Bernoulli(1.0 - PROB), &device);
            let out = (x.clone() * mask).div_scalar(1.0 - PROB);
            total += out.slice([0..1, 0..1]).into_scalar::<f32>();
        }
        total
    };
    let keyed = |step: u64| -> f32 {
        let key = DropoutKey::new(7).stream(step);
        let mut total = 0.0;
        for (site, x) in inputs.iter().enumerate() {
            let out = key.stream(site as u64).apply(x.clone(), PROB);
            total += out.slice([0..1, 0..1]).into_scalar::<f32>();
        }
        total
    };

    let (mut burn_wall, mut burn_cpu, mut keyed_wall, mut keyed_cpu) =
        (vec![], vec![], vec![], vec![]);
    // One warm-up of each, then alternating repetitions.
    let _ = (burn_dropout(), keyed(0));
    for step in 1..=repetitions as u64 {
        let (w, c, _) = time(&mut || burn_dropout());
        burn_wall.push(w);
        burn_cpu.push(c);
        let (w, c, _) = time(&mut || keyed(step));
        keyed_wall.push(w);
        keyed_cpu.push(c);
    }
    let (bw, bc, kw, kc) = (
        median(burn_wall),
        median(burn_cpu),
        median(keyed_wall),
        median(keyed_cpu),
    );
    println!(
        "dropout masks of one ML-1M step: {} sites, {:.1} M elements, p = {PROB}, {repetitions} repetitions, median",
        shapes.len(),
        elements as f64 / 1e6
    );
    println!();
    println!("| masks | s per step | CPU s per step | CPU / wall |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| burn `Dropout` (backend stream) | {bw:.3} | {bc:.3} | {:.2} |",
        bc / bw
    );
    println!(
        "| keyed (`DropoutKey`) | {kw:.3} | {kc:.3} | {:.2} |",
        kc / kw
    );
    println!();
    println!("keyed / burn wall time: {:.2}", kw / bw);
    Ok(())
}
