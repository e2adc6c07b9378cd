//! The ablation end to end on a tiny simulated log: every model is trained and evaluated,
//! every file is written, and the same seed gives the same tables.

use std::sync::Mutex;

use burn::tensor::Device;
use seqrec::ablation::{
    AblationConfig, Budget, ITEM_ITEM, PERSONAL_POPULARITY, POPULARITY, ProfileAblation, Variant,
    run_profile_ablation, simulated_split,
};
use seqrec::eval::HistoryPolicy;
use seqrec::events::WindowSplit;
use seqrec::simulator::SimulatorConfig;

/// The backend's random generator is global: runs must not interleave.
static SERIAL: Mutex<()> = Mutex::new(());

fn tiny() -> (AblationConfig, SimulatorConfig) {
    let mut config = AblationConfig::default();
    let t = &mut config.transformer;
    (t.max_len, t.dim, t.negatives, t.batch_size) = (12, 8, 16, 16);
    config.schedule.budget = Budget::Steps(6);
    config.schedule.eval_every = 3;
    config.item_item.batch_size = 256;
    let simulator = SimulatorConfig {
        users: 60,
        tracks: 400,
        median_plays: 60.0,
        ..SimulatorConfig::default()
    };
    (config, simulator)
}

fn run(out: &std::path::Path) -> ProfileAblation {
    run_with_split(out).0
}

fn run_with_split(out: &std::path::Path) -> (ProfileAblation, WindowSplit) {
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
    (result, split)
}

#[test]
fn every_model_is_trained_evaluated_and_written() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (result, split) = run_with_split(dir.path());

    let mut expected = vec![
        ITEM_ITEM.to_string(),
        POPULARITY.to_string(),
        PERSONAL_POPULARITY.to_string(),
    ];
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
        if run.kind == "personal_popularity" {
            let dir = run.model_dir.as_ref().unwrap();
            assert!(dir.join("counts.json").is_file() && dir.join("items.json").is_file());
            assert!(run.training.is_none());
        } else if run.kind != "popularity" {
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

    let mut files = vec!["run.json".to_string()];
    for suffix in ["", "_discovery"] {
        for stem in ["table1", "table2"] {
            for ext in ["md", "csv", "json"] {
                files.push(format!("{stem}{suffix}.{ext}"));
            }
        }
        files.push(format!("report{suffix}.json"));
        if cfg!(feature = "plots") {
            files.push(format!("f1_at_k{suffix}.svg"));
            files.push(format!("f1_by_cohort{suffix}.svg"));
        }
    }
    for file in &files {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(!text.is_empty(), "{file} is empty");
    }
    let pngs = [
        "f1_at_k.png",
        "f1_by_cohort.png",
        "f1_at_k_discovery.png",
        "f1_by_cohort_discovery.png",
        "learning_curves.png",
    ];
    for file in pngs {
        if cfg!(feature = "plots") {
            let bytes = std::fs::read(dir.path().join(file)).unwrap();
            assert_eq!(&bytes[1..4], b"PNG", "{file} is not a PNG");
        } else {
            assert!(
                !dir.path().join(file).exists(),
                "{file} without the plots feature"
            );
        }
    }
    let table1 = std::fs::read_to_string(dir.path().join("table1.md")).unwrap();
    assert!(table1.contains("No mask, PE") && table1.contains("Item-item"));
    let csv = std::fs::read_to_string(dir.path().join("table1.csv")).unwrap();
    // Header + 7 models × 4 cutoffs, F1 only, all users.
    assert_eq!(csv.lines().count(), 1 + 7 * 4);
    assert!(csv.contains("Personal popularity,All,f1,10,"), "{csv}");
    // The learning curves: a row per validation (every 3 of 6 steps) of each model that
    // trained with validations (item-item and the four variants).
    let curves = std::fs::read_to_string(dir.path().join("learning_curves.csv")).unwrap();
    assert_eq!(curves.lines().count(), 1 + 5 * 2, "{curves}");
    assert!(curves.contains("\"No mask, PE\",6,"), "{curves}");
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap())
            .unwrap();
    assert_eq!(run_json["models"].as_array().unwrap().len(), 7);
    assert_eq!(run_json["config"]["seed"], 42);
    // The simulator logs play durations: personal popularity counts positive plays.
    assert_eq!(run_json["data"]["positive_histories"], true);
    // ... and every trained model learns from them: the training plays are the positive ones.
    assert_eq!(run_json["data"]["models_read_positive_plays"], true);
    let positive_plays: usize = split
        .positive_histories(30_000)
        .unwrap()
        .iter()
        .map(Vec::len)
        .sum();
    let validated = result.data.validation_users;
    assert_eq!(result.data.training_plays + validated, positive_plays);
    assert!(positive_plays < split.histories.iter().map(Vec::len).sum::<usize>());

    // The discovery view: the same models, history tracks excluded, fewer (or as many) users.
    let discovery = result.discovery.as_ref().unwrap();
    assert_eq!(discovery.history, HistoryPolicy::Exclude);
    assert_eq!(result.report.history, HistoryPolicy::Allow);
    let names: Vec<_> = discovery.models.iter().map(|m| m.name.clone()).collect();
    assert_eq!(names, expected);
    let users = discovery.counts.users;
    assert!(users > 0 && users <= result.report.counts.users);
    assert_eq!(result.data.discovery_users, Some(users));
    let csv = std::fs::read_to_string(dir.path().join("table1_discovery.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 7 * 4);
    let md = std::fs::read_to_string(dir.path().join("table1_discovery.md")).unwrap();
    assert!(md.contains("Discovery view") && md.contains("Personal popularity"));
    assert!(result.summary_markdown().contains("Discovery view"));
    // `per_user.csv` re-derives every mean of Table 1 (main view: each model's F1@k over the
    // evaluated users), and names the users by their own ids.
    let mut per_user = csv::Reader::from_path(dir.path().join("per_user.csv")).unwrap();
    let header: Vec<String> = per_user
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    let rows: Vec<csv::StringRecord> = per_user.records().map(Result::unwrap).collect();
    let main_rows = rows.iter().filter(|r| &r[0] == "main").count();
    assert_eq!(main_rows, 7 * result.report.counts.users);
    assert_eq!(rows.len() - main_rows, 7 * users);
    assert!(rows.iter().all(|r| r[2].starts_with('u')), "{:?}", &rows[0]);
    for row in result.report.rows.iter().filter(|r| r.cohort == "All") {
        let Some(k) = row.k else { continue };
        let column = header
            .iter()
            .position(|h| *h == format!("{}@{k}", row.metric.name()))
            .unwrap();
        let values: Vec<f64> = rows
            .iter()
            .filter(|r| &r[0] == "main" && r[1] == row.model)
            .map(|r| r[column].parse().unwrap())
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((mean - row.mean).abs() < 1e-12, "{row:?}: {mean}");
    }
    // `beyond_accuracy.csv`: coverage and mean popularity per view, model and cutoff; the
    // popularity model recommends the same k tracks to everyone in the main view.
    let mut stats = csv::Reader::from_path(dir.path().join("beyond_accuracy.csv")).unwrap();
    let stats: Vec<csv::StringRecord> = stats.records().map(Result::unwrap).collect();
    assert_eq!(stats.len(), 2 * 7 * 4);
    for row in &stats {
        let coverage: f64 = row[5].parse().unwrap();
        assert!((0.0..=1.0).contains(&coverage), "{row:?}");
        assert!(row[6].parse::<f64>().unwrap() > 0.0, "{row:?}");
    }
    let popular = stats
        .iter()
        .find(|r| &r[0] == "main" && &r[1] == POPULARITY && &r[2] == "10")
        .unwrap();
    assert_eq!(&popular[4], "10", "{popular:?}");
    assert_eq!(result.list_statistics.len(), 14);

    // With history tracks excluded, personal popularity ranks as popularity does.
    for row in discovery
        .rows
        .iter()
        .filter(|r| r.model == PERSONAL_POPULARITY)
    {
        let twin = discovery
            .rows
            .iter()
            .find(|p| {
                p.model == POPULARITY
                    && p.cohort == row.cohort
                    && p.metric == row.metric
                    && p.k == row.k
            })
            .unwrap();
        assert_eq!(row.mean, twin.mean, "{row:?}");
    }

    // `seqrec recommend` serves the personal popularity directory of the ablation: a user's
    // most played positive history track comes first.
    let model_dir = dir.path().join("models").join("personal-popularity");
    let items: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(model_dir.join("items.json")).unwrap())
            .unwrap();
    let positive = split.positive_histories(30_000).unwrap();
    let user = (0..positive.len())
        .max_by_key(|&u| positive[u].len())
        .unwrap();
    let mut plays = std::collections::HashMap::<u32, (usize, usize)>::new();
    for (t, &item) in positive[user].iter().enumerate() {
        let e = plays.entry(item).or_default();
        e.0 += 1;
        e.1 = t;
    }
    // More plays first, then the later last play.
    let (&favourite, _) = plays
        .iter()
        .max_by_key(|&(_, &(n, last))| (n, last))
        .unwrap();
    let history: Vec<&str> = positive[user]
        .iter()
        .map(|&id| items[id as usize - 1].as_str())
        .collect();
    let rec = recommend(&model_dir, &history);
    assert_eq!(rec["items"][0], items[favourite as usize - 1].as_str());
    // …and the item-item directory too.
    recommend(&dir.path().join("models").join("item-item"), &history);

    // Every variant validated new tracks too (a small catalogue: trained on for them) and
    // saved its best checkpoint at them, which the discovery view ranks with and which
    // serves like any model directory.
    for model in run_json["models"].as_array().unwrap() {
        if model["kind"] != "gsasrec" {
            continue;
        }
        assert_eq!(model["hyperparameters"]["discovery_checkpoint"], true);
        assert_eq!(model["hyperparameters"]["discovery_keeps_training"], true);
        // …and learned new tracks apart from replays.
        assert_eq!(model["hyperparameters"]["explore_weight"], 1.0);
        let training = &model["training"];
        let discovery = training["discovery_validations"].as_array().unwrap();
        assert_eq!(
            discovery.len(),
            training["validations"].as_array().unwrap().len()
        );
        let dir = std::path::PathBuf::from(model["model_dir"].as_str().unwrap());
        let saved = dir.join("discovery");
        assert_eq!(
            saved.join("config.json").is_file(),
            !training["best_discovery_validation"].is_null(),
            "{}",
            model["name"]
        );
        if saved.is_dir() {
            recommend(&saved, &history);
        }
    }
}

/// `seqrec recommend --json` of the top 3 for `history` from a model directory; fails the
/// test unless the command succeeds.
fn recommend(model_dir: &std::path::Path, history: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .args([
            "recommend",
            "--model",
            model_dir.to_str().unwrap(),
            "--history",
            &history.join(" "),
            "-k",
            "3",
            "--json",
            "--device",
            "ndarray",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_same_seed_gives_the_same_tables() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run(a.path());
    run(b.path());
    for file in [
        "table1.csv",
        "table2.csv",
        "table1_discovery.csv",
        "table2_discovery.csv",
    ] {
        let x = std::fs::read_to_string(a.path().join(file)).unwrap();
        let y = std::fs::read_to_string(b.path().join(file)).unwrap();
        assert_eq!(x, y, "{file} differs between two runs with one seed");
    }

    // A run killed while training the last variant: its training.json, written last, is
    // missing. Resuming trains that variant only and gives the same tables.
    let models = a.path().join("models");
    // A finished model keeps its directory, not its training checkpoints.
    for model in ["item-item", "no-mask-pe"] {
        assert!(models.join(model).join("model.safetensors").is_file());
        assert!(!models.join(model).join("train").join("checkpoint").exists());
    }
    let last = models.join("no-mask-pe");
    std::fs::remove_file(last.join("training.json")).unwrap();
    let weights = |dir: &std::path::Path| {
        std::fs::metadata(dir.join("model.safetensors"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let kept = [
        "item-item",
        "causal-mask-no-pe",
        "causal-mask-pe",
        "no-mask-no-pe",
    ];
    let before: Vec<_> = kept.iter().map(|m| weights(&models.join(m))).collect();
    let last_before = weights(&last);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (mut config, simulator) = tiny();
    config.resume = true;
    let split = simulated_split(&simulator).unwrap();
    // The models that report training progress.
    let trained = std::sync::Arc::new(Mutex::new(Vec::<String>::new()));
    let progress = {
        let trained = std::sync::Arc::clone(&trained);
        let mut current = String::new();
        move |event: seqrec::ablation::AblationEvent<'_>| match event {
            seqrec::ablation::AblationEvent::Model { name, .. } => current = name.to_string(),
            seqrec::ablation::AblationEvent::Training(_) => {
                let mut trained = trained.lock().unwrap();
                if trained.last() != Some(&current) {
                    trained.push(current.clone());
                }
            }
            _ => {}
        }
    };
    let resumed = run_profile_ablation(
        &config,
        &split,
        "tiny simulator",
        &Device::flex(),
        a.path(),
        Box::new(progress),
    )
    .unwrap();
    assert_eq!(*trained.lock().unwrap(), vec!["No mask, PE".to_string()]);
    resumed.write(a.path()).unwrap();
    let after: Vec<_> = kept.iter().map(|m| weights(&models.join(m))).collect();
    assert_eq!(before, after, "finished models were trained again");
    assert_ne!(
        last_before,
        weights(&last),
        "the unfinished variant was not retrained"
    );
    assert!(last.join("training.json").is_file());
    for file in ["table1.csv", "table2.csv", "table1_discovery.csv"] {
        let x = std::fs::read_to_string(b.path().join(file)).unwrap();
        let y = std::fs::read_to_string(a.path().join(file)).unwrap();
        assert_eq!(x, y, "{file} differs after resuming");
    }
}
