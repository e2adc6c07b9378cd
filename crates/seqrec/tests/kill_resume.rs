//! `seqrec train` killed with SIGKILL at seeded random points, then resumed with `--resume`,
//! ends with the weights (bit for bit), validations and test metrics of an uninterrupted run
//! with the same seed, having lost at most the validation period it was in and the one
//! before (when the kill fell between a checkpoint and its validations being recorded).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{dataset, seqrec, text};

/// The training command for `data` into `out` on `device` (`["--device", name]` or
/// `["--devices", list]`), dropout on (the flag's default for this data is 0.2), 60 steps
/// validated every 5.
fn train_args<'a>(data: &'a str, out: &'a str, device: [&'a str; 2]) -> Vec<&'a str> {
    vec![
        "train",
        "--data",
        data,
        "--out",
        out,
        device[0],
        device[1],
        "--dim",
        "16",
        "--max-len",
        "10",
        "--blocks",
        "1",
        "--negatives",
        "8",
        "--batch-size",
        "16",
        "--steps",
        "60",
        "--eval-every",
        "5",
        "--patience",
        "100",
        "--seed",
        "11",
        "--quiet",
    ]
}

/// The validations recorded so far in `out/train/validations.json`.
fn recorded_validations(out: &Path) -> usize {
    std::fs::read_to_string(out.join("train").join("validations.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Vec<Option<f64>>>(&s).ok())
        .map_or(0, |v| v.len())
}

/// Every tensor of `a/model.safetensors` has the bytes of the same tensor in `b`'s.
fn assert_same_weights(a: &Path, b: &Path) {
    let (a, b) = (
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(b.join("model.safetensors")).unwrap(),
    );
    let (a, b) = (
        safetensors::SafeTensors::deserialize(&a).unwrap(),
        safetensors::SafeTensors::deserialize(&b).unwrap(),
    );
    let mut names = a.names();
    names.sort();
    let mut other = b.names();
    other.sort();
    assert_eq!(names, other);
    for name in names {
        let (x, y) = (a.tensor(name).unwrap(), b.tensor(name).unwrap());
        assert!(
            x.data() == y.data(),
            "{name} differs from the uninterrupted run's"
        );
    }
}

/// The test metrics of the model in `model` on `data`, as `seqrec evaluate --json` prints them.
fn test_metrics(model: &Path, data: &str) -> serde_json::Value {
    let model = model.to_str().unwrap();
    let out = seqrec(&[
        "evaluate", "--model", model, "--data", data, "--split", "test", "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The `validations` of `out/training.json`.
fn validations(out: &Path) -> serde_json::Value {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("training.json")).unwrap()).unwrap();
    report["validations"].clone()
}

/// Validation periods a resumed run took from its checkpoint: the rows of `metrics.csv`
/// without seconds.
fn periods_before_resume(out: &Path) -> usize {
    let curve = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let mut rows = curve.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let seconds = header.iter().position(|h| *h == "seconds").unwrap();
    rows.filter(|row| row.split(',').nth(seconds) == Some(""))
        .count()
}

#[test]
fn a_killed_training_resumes_to_the_uninterrupted_model() {
    kill_and_resume(["--device", "ndarray"], 5);
}

/// The same on two data-parallel workers (burn-train's MultiDevice strategy), killed and
/// resumed on two workers.
#[test]
fn a_killed_data_parallel_training_resumes_to_the_uninterrupted_model() {
    kill_and_resume(["--devices", "ndarray,ndarray"], 3);
}

/// Kills `attempts` runs on `device` at seeded points and checks that each resumes to the
/// uninterrupted run's model.
fn kill_and_resume(device: [&str; 2], attempts: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    dataset(&data);
    let data = data.to_str().unwrap();
    let reference = tmp.path().join("reference");
    let out = seqrec(&train_args(data, reference.to_str().unwrap(), device));
    assert!(out.status.success(), "{}", text(&out));
    let expected_metrics = test_metrics(&reference, data);
    let expected_validations = validations(&reference);
    assert_eq!(expected_validations.as_array().unwrap().len(), 12);

    // Seeded kill points (SplitMix64): after `period` validations were recorded (0: once the
    // work directory exists, before any checkpoint), plus `delay`.
    let mut state = 7_u64;
    let mut next = |n: u64| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    };
    let mut killed = 0;
    for attempt in 0..attempts {
        let (period, delay) = if attempt == 0 {
            (0, 0)
        } else {
            (1 + next(9) as usize, next(40))
        };
        let run = tmp.path().join(format!("killed-{attempt}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_seqrec"))
            .args(train_args(data, run.to_str().unwrap(), device))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let reached = |run: &Path| match period {
            0 => run.join("train").is_dir(),
            _ => recorded_validations(run) >= period,
        };
        while !reached(&run)
            && child.try_wait().unwrap().is_none()
            && started.elapsed() < Duration::from_secs(120)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let recorded = recorded_validations(&run);
        if !finished && !run.join("training.json").exists() {
            killed += 1;
        }

        let mut resume = train_args(data, run.to_str().unwrap(), device);
        resume.push("--resume");
        let out = seqrec(&resume);
        assert!(
            out.status.success(),
            "kill after period {period} + {delay} ms: {}",
            text(&out)
        );
        assert_same_weights(&run, &reference);
        assert_eq!(validations(&run), expected_validations);
        assert_eq!(test_metrics(&run, data), expected_metrics);
        let kept = periods_before_resume(&run);
        eprintln!(
            "kill after period {period} + {delay} ms: {recorded} validations recorded, \
             finished before the kill: {finished}, resumed from period {kept}"
        );
        assert!(
            kept + 1 >= recorded,
            "resumed from period {kept} with {recorded} recorded (kill after period {period} + {delay} ms)"
        );
    }
    assert!(
        killed + 1 >= attempts,
        "only {killed} of {attempts} runs were killed mid-training"
    );
}
