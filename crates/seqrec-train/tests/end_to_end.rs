#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! Training end to end on a tiny synthetic dataset: it learns, it is deterministic, its model
//! directory loads back with identical scores, and serving rejects bad input.

use burn::tensor::Device;
use seqrec_loss::{GBceBeta, LossKind};
use seqrec_model::{AttentionMode, GsasRecConfig, PositionEncoding};
use seqrec_sampling::NegativeSharing;
use seqrec_train::{
    Objective, Recommender, TrainConfig, TrainError, TrainOptions, evaluate_next_item, train,
};

mod common;

use common::{data, serial};

fn config(attention: AttentionMode, sharing: NegativeSharing, steps: usize) -> TrainConfig {
    let model = GsasRecConfig::new(120)
        .with_dim(16)
        .with_max_len(20)
        .with_blocks(1)
        .with_attention(attention)
        .with_positions(PositionEncoding::Learned);
    let mut config = TrainConfig::new(model);
    config.negatives = 16;
    config.sharing = sharing;
    config.run.batch_size = 32;
    config.run.limit.steps = Some(steps);
    config.run.eval_every = 20;
    config.run.learning_rate = 5e-3;
    config
}

#[test]
fn training_beats_the_untrained_model_and_reloads_identically() {
    let _guard = serial();
    let device = Device::ndarray();
    let (dataset, data) = data();
    let test = dataset.test.as_ref().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(AttentionMode::Causal, NegativeSharing::PerSequence, 200);
    cfg.run.eval_every = 50;
    let untrained = cfg.model.init(&device).unwrap();
    let before = evaluate_next_item(&untrained, test, 128, true, &device).unwrap();
    let (model, report) = train(&cfg, &data, &device, dir.path(), TrainOptions::default()).unwrap();
    assert_eq!(report.steps, 200);
    assert_eq!(report.validations.len(), 4, "validated every 50 steps");
    let after = evaluate_next_item(&model, test, 128, true, &device).unwrap();
    let (b, a) = (
        before.to_flat_map()["ndcg@10"],
        after.to_flat_map()["ndcg@10"],
    );
    assert!(a > 2.0 * b && a > 0.05, "NDCG@10 went from {b} to {a}");

    let recommender = Recommender::load(dir.path(), &device).unwrap();
    let reloaded = evaluate_next_item(recommender.model(), test, 128, true, &device).unwrap();
    assert_eq!(reloaded.to_flat_map(), after.to_flat_map());
    let recs = recommender.recommend(&["3", "17", "42"], 5, true).unwrap();
    assert_eq!(recs.len(), 5);
    assert!(
        recs.iter()
            .all(|r| !["3", "17", "42"].contains(&r.item.as_str()))
    );
    assert!(recs.windows(2).all(|w| w[0].score >= w[1].score));
    let with_history = recommender
        .recommend(&["3", "17", "42"], 120, false)
        .unwrap();
    assert_eq!(
        with_history.len(),
        120,
        "every item, padding and mask token never"
    );
    assert!(matches!(
        recommender.recommend(&["3", "nope"], 5, false),
        Err(TrainError::UnknownItem { position: 1, .. })
    ));
    assert!(matches!(
        recommender.recommend::<&str>(&[], 5, false),
        Err(TrainError::EmptyHistory)
    ));
}

#[test]
fn the_same_seed_gives_the_same_model() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let cfg = config(
        AttentionMode::Bidirectional,
        NegativeSharing::PerPosition,
        10,
    );
    let run = || {
        let dir = tempfile::tempdir().unwrap();
        let (model, report) =
            train(&cfg, &data, &device, dir.path(), TrainOptions::default()).unwrap();
        (
            evaluate_next_item(&model, &data.validation, 64, true, &device)
                .unwrap()
                .to_flat_map(),
            report.validations,
        )
    };
    assert_eq!(run(), run());
    let mut other = cfg.clone();
    other.run.seed = 7;
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(&other, &data, &device, dir.path(), TrainOptions::default()).unwrap();
    let other_metrics = evaluate_next_item(&model, &data.validation, 64, true, &device)
        .unwrap()
        .to_flat_map();
    assert_ne!(other_metrics, run().0);
}

#[test]
fn every_objective_and_loss_trains() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let cases = [
        (
            AttentionMode::Bidirectional,
            Objective::FutureTargets { len: 5 },
            LossKind::GBce {
                beta: GBceBeta::Calibrated { t: 0.75 },
            },
            NegativeSharing::PerBatch,
        ),
        (
            AttentionMode::Bidirectional,
            Objective::Cloze { prob: 0.2 },
            LossKind::SampledSoftmax,
            NegativeSharing::PerSequence,
        ),
        (
            AttentionMode::Causal,
            Objective::FutureTargets { len: 3 },
            LossKind::Bce,
            NegativeSharing::PerPosition,
        ),
        (
            AttentionMode::Causal,
            Objective::NextItem,
            LossKind::FullSoftmax,
            NegativeSharing::PerPosition,
        ),
    ];
    for (attention, objective, loss, sharing) in cases {
        let mut cfg = config(attention, sharing, 4);
        cfg.objective = objective;
        cfg.loss = loss.clone();
        cfg.run.eval_every = 2;
        let dir = tempfile::tempdir().unwrap();
        let (_, report) = train(&cfg, &data, &device, dir.path(), TrainOptions::default())
            .unwrap_or_else(|e| panic!("{objective:?} {loss:?}: {e}"));
        assert_eq!(report.validations.len(), 2);
        assert!(report.validations.iter().all(|v| v.is_finite()));
    }
}

/// A run stopped after 20 steps and resumed to 40 ends with the weights, validations and
/// test metrics of a run of 40 steps, bit for bit: the batches are replayed and the dropout
/// masks are keyed by the run's seed and the step, so the resumed periods draw what the
/// uninterrupted run drew.
#[test]
fn resume_continues_from_the_last_checkpoint_to_the_same_model() {
    let _guard = serial();
    let device = Device::ndarray();
    let (dataset, data) = data();
    let test = dataset.test.as_ref().unwrap();
    let mut cfg = config(AttentionMode::Causal, NegativeSharing::PerSequence, 40);
    cfg.run.eval_every = 10;
    cfg.run.patience = 10;
    assert!(cfg.model.dropout > 0.0, "the test needs dropout");
    let whole = tempfile::tempdir().unwrap();
    let (uninterrupted, full) =
        train(&cfg, &data, &device, whole.path(), TrainOptions::default()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    cfg.run.limit.steps = Some(20);
    train(&cfg, &data, &device, dir.path(), TrainOptions::default()).unwrap();
    cfg.run.limit.steps = Some(40);
    let (resumed, report) = train(
        &cfg,
        &data,
        &device,
        dir.path(),
        TrainOptions {
            resume: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(report.steps, 40);
    assert_eq!(report.validations, full.validations);
    assert_eq!(report.best_validation, full.best_validation);
    assert_same_weights(dir.path(), whole.path());
    let metrics = |m| {
        evaluate_next_item(m, test, 128, true, &device)
            .unwrap()
            .to_flat_map()
    };
    assert_eq!(metrics(&resumed), metrics(&uninterrupted));
}

/// Every tensor of `a/model.safetensors` has the bytes of the same tensor in `b`'s.
fn assert_same_weights(a: &std::path::Path, b: &std::path::Path) {
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
        assert_eq!(x.shape(), y.shape(), "{name}");
        assert!(x.data() == y.data(), "{name} differs");
    }
}

#[test]
fn invalid_setups_are_typed_errors() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(
        AttentionMode::Bidirectional,
        NegativeSharing::PerPosition,
        5,
    );
    cfg.objective = Objective::NextItem;
    assert!(matches!(
        train(&cfg, &data, &device, dir.path(), TrainOptions::default()),
        Err(TrainError::InvalidSetting {
            setting: "objective",
            ..
        })
    ));
    let mut cfg = config(AttentionMode::Causal, NegativeSharing::PerPosition, 5);
    cfg.negatives = 500;
    assert!(matches!(
        train(&cfg, &data, &device, dir.path(), TrainOptions::default()),
        Err(TrainError::InvalidSetting {
            setting: "negatives",
            ..
        })
    ));
    let cfg = config(AttentionMode::Causal, NegativeSharing::PerPosition, 5);
    let missing = Recommender::load(dir.path().join("nothing"), &device);
    assert!(matches!(missing, Err(TrainError::Io { .. })));
    let _ = cfg;
}
