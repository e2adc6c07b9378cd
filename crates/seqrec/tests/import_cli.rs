//! Serving a checkpoint of the PyTorch reference gSASRec from the command line, as a user
//! would: `seqrec import-gsasrec`, `seqrec recommend --json` (the reference's ids and
//! top-k), `seqrec export` and the exported file imported again.

mod common;

use std::path::{Path, PathBuf};

use common::{seqrec, text};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../seqrec-train/tests/fixtures/gsasrec_tiny")
        .join(name)
}

/// The reference's expectations for one history of the tiny checkpoint.
fn reference_case(history: &str) -> serde_json::Value {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    let wanted: Vec<u64> = history
        .split_whitespace()
        .map(|i| i.parse().unwrap())
        .collect();
    expected["models"]["gsasrec_tiny.pt"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| {
            case["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .eq(wanted.iter().copied())
        })
        .unwrap()
        .clone()
}

/// `seqrec recommend --json`: exactly one JSON object on stdout; its items and scores.
fn recommend(model: &Path, history: &str, exclude: bool) -> (Vec<String>, Vec<f64>) {
    let mut args = vec![
        "recommend",
        "--model",
        model.to_str().unwrap(),
        "--history",
        history,
        "-k",
        "10",
        "--json",
        "--device",
        "ndarray",
    ];
    if exclude {
        args.push("--exclude-history");
    }
    let out = seqrec(&args);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let object = value.as_object().expect("a JSON object");
    assert_eq!(object.len(), 2, "only items and scores: {stdout}");
    let items = object["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let scores = object["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (items, scores)
}

fn ids(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap().to_string())
        .collect()
}

#[test]
fn import_recommend_export_and_import_again() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    let checkpoint = fixture("gsasrec_tiny.pt");
    let out = seqrec(&[
        "import-gsasrec",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--heads",
        "2",
        "--out",
        model.to_str().unwrap(),
        "--device",
        "ndarray",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("30 items, window 12, dimension 16, 2 blocks, 2 heads"),
        "{}",
        text(&out)
    );

    // The reference ranks history items 3, 14 and 9 in its top 10 for this history: music is
    // re-listened, so without --exclude-history they are recommended too.
    let history = "3 14 22 5 9";
    let case = reference_case(history);
    let (items, scores) = recommend(&model, history, false);
    assert_eq!(items, ids(&case["top_k"]));
    for (ours, theirs) in scores.iter().zip(case["top_k_scores"].as_array().unwrap()) {
        assert!((ours - theirs.as_f64().unwrap()).abs() < 1e-4);
    }
    assert!(items.iter().any(|i| history.split(' ').any(|h| h == i)));
    let (items, _) = recommend(&model, history, true);
    assert_eq!(items, ids(&case["top_k_excluding_history"]));
    assert!(!items.iter().any(|i| history.split(' ').any(|h| h == i)));

    let exported = tmp.path().join("tiny.safetensors");
    let out = seqrec(&[
        "export",
        "--model",
        model.to_str().unwrap(),
        "--safetensors",
        exported.to_str().unwrap(),
        "--device",
        "ndarray",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("GSASRec(num_items=30, sequence_length=12, embedding_dim=16"),
        "{}",
        text(&out)
    );
    let again = tmp.path().join("again");
    let out = seqrec(&[
        "import-gsasrec",
        "--checkpoint",
        exported.to_str().unwrap(),
        "--heads",
        "2",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        recommend(&again, history, false),
        recommend(&model, history, false)
    );
}

#[test]
fn a_broken_checkpoint_names_the_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    let out = seqrec(&[
        "import-gsasrec",
        "--checkpoint",
        fixture("misshaped_tensor.pt").to_str().unwrap(),
        "--heads",
        "1",
        "--out",
        tmp.path().join("m").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(
            "tensor `transformer_blocks.0.multihead_attention.key_proj.weight` has shape [8, 4], expected [8, 8]"
        ),
        "{}",
        text(&out)
    );
    let out = seqrec(&[
        "import-gsasrec",
        "--checkpoint",
        fixture("gsasrec_tiny.pt").to_str().unwrap(),
        "--heads",
        "2",
        "--causal",
        "maybe",
        "--out",
        tmp.path().join("m").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--causal"), "{}", text(&out));
}
