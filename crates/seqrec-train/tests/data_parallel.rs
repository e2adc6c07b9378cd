#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! Data-parallel training on burn-train's MultiDevice strategy, tested the way CI can: two
//! workers on the one CPU device. Each worker gets its rows of the batch one device would
//! train on, with the same dropout masks, and its loss is weighted by its part of the
//! targets, so two workers follow one device's loss curve up to float rounding.

use std::path::Path;

use burn::tensor::Device;
use seqrec_model::{AttentionMode, GsasRecConfig, ItemItemConfig, PositionEncoding};
use seqrec_sampling::NegativeSharing;
use seqrec_train::{
    ItemItemTrainConfig, Objective, TrainConfig, TrainError, TrainOptions, TrainReport, train,
    train_item_item,
};

mod common;

use common::{data, serial};

fn config(sharing: NegativeSharing, objective: Objective, steps: usize) -> TrainConfig {
    let model = GsasRecConfig::new(120)
        .with_dim(16)
        .with_max_len(20)
        .with_blocks(2)
        .with_attention(AttentionMode::Causal)
        .with_positions(PositionEncoding::Learned);
    let mut config = TrainConfig::new(model);
    config.objective = objective;
    config.negatives = 16;
    config.sharing = sharing;
    config.run.batch_size = 32;
    config.run.limit.steps = Some(steps);
    config.run.eval_every = 10;
    config.run.patience = 10;
    config.run.learning_rate = 5e-3;
    config
}

fn options(devices: usize) -> TrainOptions {
    TrainOptions {
        devices: vec![Device::ndarray(); devices],
        ..Default::default()
    }
}

fn losses(report: &TrainReport) -> Vec<f64> {
    report.curve.iter().map(|p| p.loss.unwrap()).collect()
}

/// The weights of `dir/model.safetensors`, tensor by tensor, as f32 values.
fn weights(dir: &Path) -> Vec<(String, Vec<f32>)> {
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = tensors.names().into_iter().map(str::to_string).collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let data = tensors.tensor(&name).unwrap().data().to_vec();
            let values = data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, values)
        })
        .collect()
}

/// The largest absolute difference between the weights of two model directories.
fn weight_gap(a: &Path, b: &Path) -> f32 {
    let (a, b) = (weights(a), weights(b));
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .flat_map(|((na, x), (nb, y))| {
            assert_eq!(na, nb);
            x.iter().zip(y).map(|(u, v)| (u - v).abs())
        })
        .fold(0.0, f32::max)
}

#[test]
fn two_workers_follow_the_loss_curve_of_one_device() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    // Next-item teacher forcing scores every position: the two halves of a batch hold
    // different numbers of real targets, which the loss weights must account for. The
    // future-targets objective scores one row per sequence with the full softmax.
    for (sharing, objective) in [
        (NegativeSharing::PerPosition, Objective::NextItem),
        (NegativeSharing::PerBatch, Objective::NextItem),
        (
            NegativeSharing::PerSequence,
            Objective::FutureTargets { len: 4 },
        ),
    ] {
        let mut cfg = config(sharing, objective, 30);
        if let Objective::FutureTargets { .. } = objective {
            cfg.loss = seqrec_loss::LossKind::FullSoftmax;
        }
        assert!(cfg.model.dropout > 0.0, "the test needs dropout");
        let one = tempfile::tempdir().unwrap();
        let (_, single) = train(&cfg, &data, &device, one.path(), options(1)).unwrap();
        let two = tempfile::tempdir().unwrap();
        let (_, split) = train(&cfg, &data, &device, two.path(), options(2)).unwrap();
        assert_eq!(split.steps, 30);
        let (a, b) = (losses(&single), losses(&split));
        assert_eq!(a.len(), 3);
        for (x, y) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() <= 1e-4 * x.abs(),
                "{sharing:?} {objective:?}: losses {a:?} on one device, {b:?} on two"
            );
        }
        let gap = weight_gap(one.path(), two.path());
        assert!(
            gap < 1e-3,
            "{sharing:?} {objective:?}: weights differ by {gap}"
        );
        for (x, y) in single.validations.iter().zip(&split.validations) {
            assert!((x - y).abs() < 1e-3, "validations {x} and {y}");
        }
    }
}

#[test]
fn two_workers_are_deterministic_and_a_killed_run_resumes_to_the_same_model() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let mut cfg = config(NegativeSharing::PerSequence, Objective::NextItem, 40);
    let whole = tempfile::tempdir().unwrap();
    let (_, full) = train(&cfg, &data, &device, whole.path(), options(2)).unwrap();
    let again = tempfile::tempdir().unwrap();
    let (_, repeat) = train(&cfg, &data, &device, again.path(), options(2)).unwrap();
    assert_eq!(repeat.validations, full.validations);
    assert_eq!(weight_gap(whole.path(), again.path()), 0.0);

    // Stopped after two validation periods, then resumed on two workers.
    let dir = tempfile::tempdir().unwrap();
    cfg.run.limit.steps = Some(20);
    train(&cfg, &data, &device, dir.path(), options(2)).unwrap();
    cfg.run.limit.steps = Some(40);
    let resume = TrainOptions {
        resume: true,
        ..options(2)
    };
    let (_, resumed) = train(&cfg, &data, &device, dir.path(), resume).unwrap();
    assert_eq!(resumed.steps, 40);
    assert_eq!(resumed.validations, full.validations);
    assert_eq!(weight_gap(dir.path(), whole.path()), 0.0);
}

#[test]
fn item_item_trains_on_two_workers_like_on_one() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let mut cfg = ItemItemTrainConfig::new(ItemItemConfig::new(120).with_dim(16));
    cfg.run.batch_size = 64;
    cfg.run.limit.steps = Some(20);
    cfg.run.eval_every = 10;
    let one = tempfile::tempdir().unwrap();
    let (_, single) = train_item_item(&cfg, &data, &device, one.path(), options(1)).unwrap();
    let two = tempfile::tempdir().unwrap();
    let (_, split) = train_item_item(&cfg, &data, &device, two.path(), options(2)).unwrap();
    for (x, y) in losses(&single).iter().zip(&losses(&split)) {
        assert!((x - y).abs() <= 1e-4 * x.abs(), "losses {x} and {y}");
    }
    assert!(weight_gap(one.path(), two.path()) < 1e-3);
}

#[test]
fn more_devices_than_examples_per_batch_is_a_setting_error() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let mut cfg = config(NegativeSharing::PerSequence, Objective::NextItem, 4);
    cfg.run.batch_size = 2;
    let dir = tempfile::tempdir().unwrap();
    let err = train(&cfg, &data, &device, dir.path(), options(3)).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::InvalidSetting {
                setting: "devices",
                ..
            }
        ),
        "{err}"
    );
}
