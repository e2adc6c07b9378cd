//! The `seqrec` program as a user runs it: train on a tiny dataset in the gSASRec layout,
//! evaluate with `--json`, recommend with `--json`, and clear errors for bad input.

mod common;

use common::{dataset, seqrec, text};

#[test]
fn train_evaluate_recommend() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let model = tmp.path().join("model");
    dataset(&data);
    let (data_s, model_s) = (data.to_str().unwrap(), model.to_str().unwrap());
    let out = seqrec(&[
        "train",
        "--data",
        data_s,
        "--out",
        model_s,
        "--device",
        "ndarray",
        "--dim",
        "8",
        "--max-len",
        "10",
        "--blocks",
        "1",
        "--negatives",
        "8",
        "--batch-size",
        "16",
        "--steps",
        "6",
        "--eval-every",
        "3",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("trained 6 steps"), "{}", text(&out));
    for file in [
        "config.json",
        "items.json",
        "model.safetensors",
        "training.json",
    ] {
        assert!(model.join(file).is_file(), "{file} missing");
    }

    let out = seqrec(&[
        "evaluate", "--model", model_s, "--data", data_s, "--split", "test", "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let metrics: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        metrics.as_object().unwrap().len(),
        4,
        "exactly the four metrics: {metrics}"
    );
    for key in ["ndcg@10", "recall@10", "recall@1", "mrr"] {
        let v = metrics[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {metrics}"));
        assert!((0.0..=1.0).contains(&v));
    }

    let out = seqrec(&[
        "recommend",
        "--model",
        model_s,
        "--history",
        "3 5 7",
        "-k",
        "4",
        "--exclude-history",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items: Vec<&str> = rec["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| !["3", "5", "7"].contains(i)));
    assert_eq!(rec["scores"].as_array().unwrap().len(), 4);

    let out = seqrec(&[
        "recommend",
        "--model",
        model_s,
        "--history",
        "3 999",
        "--json",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unknown item `999` at position 1"),
        "{}",
        text(&out)
    );
}

#[test]
fn bad_input_is_a_clear_error_and_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    dataset(&data);
    std::fs::write(data.join("train/input.txt"), "1 2 3\n4 x 6\n").unwrap();
    let out = seqrec(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        tmp.path().join("m").to_str().unwrap(),
        "--steps",
        "1",
    ]);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("input.txt") && message.contains("line 2"),
        "{message}"
    );

    let out = seqrec(&[
        "evaluate",
        "--model",
        "/nonexistent",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("/nonexistent"), "{}", text(&out));

    let out = seqrec(&["train", "--out", "x", "--device", "tpu"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unknown device `tpu`"),
        "{}",
        text(&out)
    );
    let out = seqrec(&[
        "ablation",
        "--out",
        "x",
        "--variants",
        "no-mask-pe,mask-rope",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unknown variant \"mask-rope\""),
        "{}",
        text(&out)
    );
    if !cfg!(feature = "cuda") {
        let out = seqrec(&["train", "--out", "x", "--device", "cuda"]);
        assert!(text(&out).contains("--features cuda"), "{}", text(&out));
    }
}

#[test]
fn simulate_then_train_on_the_events() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events.csv");
    let model = tmp.path().join("model");
    let out = seqrec(&[
        "simulate",
        "--out",
        events.to_str().unwrap(),
        "--users",
        "150",
        "--tracks",
        "300",
        "--seed",
        "3",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let header = std::fs::read_to_string(&events).unwrap();
    assert!(
        header.starts_with("user_id,track_id,timestamp,ms_played"),
        "{}",
        &header[..80.min(header.len())]
    );
    let out = seqrec(&[
        "train",
        "--data",
        events.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--device",
        "ndarray",
        "--dim",
        "8",
        "--max-len",
        "10",
        "--blocks",
        "1",
        "--negatives",
        "8",
        "--batch-size",
        "16",
        "--steps",
        "2",
        "--eval-every",
        "2",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // The model takes and returns the log's own track ids.
    let items: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(model.join("items.json")).unwrap()).unwrap();
    let history = items[..3].join(" ");
    let out = seqrec(&[
        "recommend",
        "--model",
        model.to_str().unwrap(),
        "--history",
        &history,
        "-k",
        "3",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        rec["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| items.contains(&i.as_str().unwrap().to_string()))
    );
}
