//! `--device wgpu` end to end: train a few steps, evaluate and recommend on the wgpu backend
//! (on CI, Mesa's software Vulkan driver, llvmpipe).
//!
//! ```sh
//! cargo test -p seqrec --features wgpu --test wgpu_smoke
//! ```
//!
//! Without a wgpu adapter the test reports that it was skipped, unless
//! `SEQREC_REQUIRE_WGPU=1` (set by `.ci/run` once the Vulkan driver is installed), where a
//! missing adapter fails it.
#![cfg(feature = "wgpu")]

mod common;

use common::{dataset, seqrec, text};

/// Whether a wgpu adapter opens; panics when one is required and does not.
fn adapter_available() -> bool {
    let required = std::env::var("SEQREC_REQUIRE_WGPU").is_ok_and(|v| v == "1");
    match seqrec::device::parse_device("wgpu") {
        Ok(_) => true,
        Err(e) if required => panic!("SEQREC_REQUIRE_WGPU=1 but no wgpu adapter: {e}"),
        Err(e) => {
            eprintln!("wgpu_smoke skipped: {e} (set SEQREC_REQUIRE_WGPU=1 to make this a failure)");
            false
        }
    }
}

#[test]
fn train_evaluate_recommend_on_wgpu() {
    if !adapter_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let model = tmp.path().join("model");
    dataset(&data);
    let (data_s, model_s) = (data.to_str().unwrap(), model.to_str().unwrap());
    for sharing in ["per-sequence", "per-position"] {
        let out = seqrec(&[
            "train",
            "--data",
            data_s,
            "--out",
            model_s,
            "--device",
            "wgpu",
            "--dim",
            "8",
            "--max-len",
            "10",
            "--blocks",
            "1",
            "--negatives",
            "8",
            // The sampled losses' negative paths (the default on this catalogue is the
            // full softmax, which samples nothing).
            "--loss",
            "gbce",
            "--sharing",
            sharing,
            "--batch-size",
            "16",
            "--steps",
            "4",
            "--eval-every",
            "2",
            "--quiet",
        ]);
        assert!(out.status.success(), "{sharing}: {}", text(&out));
        assert!(
            text(&out).contains("trained 4 steps"),
            "{sharing}: {}",
            text(&out)
        );
    }

    let out = seqrec(&[
        "evaluate", "--model", model_s, "--data", data_s, "--split", "test", "--json", "--device",
        "wgpu",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let metrics: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["ndcg@10", "recall@10", "recall@1", "mrr"] {
        let v = metrics[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {metrics}"));
        assert!((0.0..=1.0).contains(&v), "{key} = {v}");
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
        "--device",
        "wgpu",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = rec["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(
        items
            .iter()
            .all(|i| !["3", "5", "7"].contains(&i.as_str().unwrap()))
    );
}
