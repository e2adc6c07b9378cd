//! The ablation end to end on a tiny simulated log: every model is trained and evaluated,
//! every file is written, and the same seed gives the same tables.

use std::sync::Mutex;

use burn::tensor::Device;
use seqrec::ablation::{
    AblationConfig, Budget, ITEM_ITEM, POPULARITY, ProfileAblation, Variant, run_profile_ablation,
    simulated_split,
};
use seqrec::data::SimulatorConfig;

/// The backend's random generator is global: runs must not interleave.
static SERIAL: Mutex<()> = Mutex::new(());

fn tiny() -> (AblationConfig, SimulatorConfig) {
    let config = AblationConfig {
        max_len: 12,
        dim: 8,
        negatives: 16,
        batch_size: 16,
        budget: Budget::Steps(6),
        eval_every: 3,
        item_item_batch: 256,
        ..AblationConfig::default()
    };
    let simulator = SimulatorConfig {
        users: 60,
        tracks: 400,
        median_plays: 60.0,
        ..SimulatorConfig::default()
    };
    (config, simulator)
}

fn run(out: &std::path::Path) -> ProfileAblation {
    let (config, simulator) = tiny();
    let split = simulated_split(&simulator).unwrap();
    let device = Device::flex();
    let result = run_profile_ablation(
        &config,
        &split,
        "tiny simulator",
        &device,
        out,
        Box::new(|_| {}),
    )
    .unwrap();
    result.write(out).unwrap();
    result
}

#[test]
fn every_model_is_trained_evaluated_and_written() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let result = run(dir.path());

    let mut expected = vec![ITEM_ITEM.to_string(), POPULARITY.to_string()];
    expected.extend(Variant::PAPER.iter().map(Variant::name));
    let names: Vec<_> = result
        .report
        .models
        .iter()
        .map(|m| m.name.clone())
        .collect();
    assert_eq!(names, expected);
    assert!(result.data.evaluated_users > 0);
    for run in &result.runs {
        if run.kind != "popularity" {
            let training = run.training.as_ref().unwrap();
            assert!(
                training.steps <= 6,
                "{}: {} steps",
                run.name,
                training.steps
            );
            assert!(
                run.model_dir
                    .as_ref()
                    .unwrap()
                    .join("model.safetensors")
                    .is_file()
            );
        }
    }
    // Every model but the baseline carries a paired difference to it.
    assert!(
        result
            .report
            .rows
            .iter()
            .all(|r| (r.model == ITEM_ITEM) == r.vs_baseline.is_none())
    );

    for file in [
        "table1.md",
        "table1.csv",
        "table1.json",
        "table2.md",
        "table2.csv",
        "table2.json",
        "report.json",
        "run.json",
        "f1_at_k.svg",
        "f1_by_cohort.svg",
    ] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(!text.is_empty(), "{file} is empty");
    }
    for file in ["f1_at_k.png", "f1_by_cohort.png"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{file} is not a PNG");
    }
    let table1 = std::fs::read_to_string(dir.path().join("table1.md")).unwrap();
    assert!(table1.contains("No mask, PE") && table1.contains("Item-item"));
    let csv = std::fs::read_to_string(dir.path().join("table1.csv")).unwrap();
    // Header + 6 models × 4 cutoffs, F1 only, all users.
    assert_eq!(csv.lines().count(), 1 + 6 * 4);
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap())
            .unwrap();
    assert_eq!(run_json["models"].as_array().unwrap().len(), 6);
    assert_eq!(run_json["config"]["seed"], 42);
}

#[test]
fn the_same_seed_gives_the_same_tables() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run(a.path());
    run(b.path());
    for file in ["table1.csv", "table2.csv"] {
        let x = std::fs::read_to_string(a.path().join(file)).unwrap();
        let y = std::fs::read_to_string(b.path().join(file)).unwrap();
        assert_eq!(x, y, "{file} differs between two runs with one seed");
    }
}
