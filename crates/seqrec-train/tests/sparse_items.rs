#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! Sparse updates of the item tables: a step changes only the rows its batch touches, the
//! rows it touches move as the dense path's gradients say, and a sparse run learns, resumes
//! to the same model and trains data-parallel like one device.

use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor};
use burn::train::TrainStep;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use seqrec_loss::LossKind;
use seqrec_model::{AttentionMode, GsasRecConfig, OutputEmbeddings, PositionEncoding};
use seqrec_sampling::{NegativeSampler, NegativeSharing};
use seqrec_train::internals::{
    BatchPlanner, GsasRecTraining, StepSetup, TrainBatch, localise, unpack_row_gradients,
};
use seqrec_train::{
    ItemTables, ItemUpdates, Objective, TrainConfig, TrainError, TrainOptions, evaluate_next_item,
    train,
};

mod common;

use common::{data, serial};

fn values(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, d] = t.dims();
    let v: Vec<f32> = t.into_data().to_vec().unwrap();
    v.chunks(d).map(<[f32]>::to_vec).collect()
}

fn training(output: OutputEmbeddings, device: &Device) -> GsasRecTraining {
    let model = GsasRecConfig::new(60)
        .with_dim(8)
        .with_max_len(6)
        .with_output_embeddings(output)
        .with_dropout(0.0)
        .init(device)
        .unwrap();
    GsasRecTraining {
        model,
        setup: StepSetup {
            loss: LossKind::Bce,
            beta: 1.0,
            guard: None,
            explore_weight: 0.0,
        },
        item_tables: None,
    }
}

/// One step of a training model whose item tables are apart ([`ItemTables`], updated in
/// place by its `optimize`): the packed row gradients are the dense path's gradients at
/// those rows, the rows with a gradient move, the others keep their values bit for bit, and
/// burn's Adam moves the dense parameters.
#[test]
fn a_sparse_step_moves_only_the_rows_its_batch_touches() {
    let _guard = serial();
    let device = Device::ndarray().autodiff();
    for output in [OutputEmbeddings::Separate, OutputEmbeddings::Shared] {
        for sharing in [
            NegativeSharing::PerPosition,
            NegativeSharing::PerSequence,
            NegativeSharing::PerBatch,
        ] {
            let model = training(output, &device);
            let tables = ItemTables::from_tables(
                model.model.item_embedding.weight.val(),
                model
                    .model
                    .output_embedding
                    .as_ref()
                    .map(|t| t.weight.val()),
            );
            let sparse = GsasRecTraining {
                item_tables: Some(tables.clone()),
                ..model.clone()
            };
            let planner = BatchPlanner {
                objective: Objective::NextItem,
                max_len: 6,
                mask_token: 61,
                negatives: 3,
                sharing,
                exclude_history: false,
            };
            let sequences: [&[u32]; 3] = [&[3, 9, 3, 14, 22], &[40, 41, 40], &[7, 8]];
            let sampler = NegativeSampler::uniform(60).unwrap();
            let dense_plan = planner
                .plan(&sequences, &sampler, &mut ChaCha8Rng::seed_from_u64(5))
                .unwrap();
            let mut plan = dense_plan.clone();
            localise(&mut plan, 61);
            let rows = plan.item_rows.clone().unwrap();

            // The dense path's loss and gradients of the tables.
            let dense_loss = model.loss(TrainBatch::from_plan(&dense_plan, &device));
            let sparse_loss = model.loss(TrainBatch::from_plan(&plan, &device));
            let (a, b): (f32, f32) = (dense_loss.clone().into_scalar(), sparse_loss.into_scalar());
            assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "loss {a} vs {b}");
            let mut dense_grads = dense_loss.backward();
            let dense = GradientsParams::from_module(&mut dense_grads, &model);
            let output_table = model.model.output_embedding.as_ref().map(|t| t.weight.id);
            let table_ids = [Some(model.model.item_embedding.weight.id), output_table];

            let out = TrainStep::step(&sparse, TrainBatch::from_plan(&plan, &device));
            let mut grads = out.grads;
            // The rows of the input table with a gradient (a negative drawn only at padding
            // positions, or the padding row itself, has none).
            let moving: Vec<u32> = {
                let (g, _) = unpack_row_gradients(
                    grads
                        .get::<2>(model.model.item_embedding.weight.id)
                        .unwrap(),
                );
                let g = values(g);
                rows.iter()
                    .zip(&g)
                    .filter(|(_, g)| g.iter().any(|&v| v != 0.0))
                    .map(|(&r, _)| r)
                    .collect()
            };
            assert!(moving.len() > 3, "{moving:?}");
            for id in table_ids.into_iter().flatten() {
                let packed = grads.get::<2>(id).expect("a packed row gradient");
                let (rows_grad, ids) = unpack_row_gradients(packed);
                let ids: Vec<i64> = ids.into_data().to_vec().unwrap();
                assert_eq!(ids, rows.iter().map(|&r| i64::from(r)).collect::<Vec<_>>());
                let want = values(
                    dense
                        .get::<2>(id)
                        .unwrap()
                        .select(0, Tensor::from_ints(ids.as_slice(), &Device::ndarray())),
                );
                for (w, g) in want
                    .iter()
                    .flatten()
                    .zip(values(rows_grad).iter().flatten())
                {
                    assert!((w - g).abs() <= 1e-6 + 1e-4 * w.abs(), "{w} vs {g}");
                }
            }
            // A dense parameter's gradient is the dense path's.
            let block = model.model.blocks[0].dense1.weight.id;
            let (a, b) = (
                values(dense.get::<2>(block).unwrap()),
                values(grads.get::<2>(block).unwrap()),
            );
            for (w, g) in a.iter().flatten().zip(b.iter().flatten()) {
                assert!((w - g).abs() <= 1e-6 + 1e-4 * w.abs(), "{w} vs {g}");
            }

            let before = values(tables.full().0);
            let mut optimizer = AdamConfig::new().init();
            let grads = std::mem::take(&mut grads);
            let lr = ModuleLearningRate::from(0.01);
            let updated = sparse.clone().optimize(&mut optimizer, lr, grads);
            let after = values(tables.full().0);
            for (row, (b, a)) in before.iter().zip(&after).enumerate() {
                if moving.contains(&(row as u32)) {
                    assert_ne!(b, a, "row {row} has a gradient but did not move");
                } else {
                    assert_eq!(b, a, "row {row} has no gradient but moved");
                }
            }
            // The dense parameters moved too (burn's Adam).
            assert_ne!(
                values(model.model.blocks[0].dense1.weight.val().inner()),
                values(updated.model.blocks[0].dense1.weight.val().inner())
            );
        }
    }
}

fn sparse_config(steps: usize) -> TrainConfig {
    let model = GsasRecConfig::new(120)
        .with_dim(16)
        .with_max_len(20)
        .with_attention(AttentionMode::Causal)
        .with_positions(PositionEncoding::Learned);
    let mut config = TrainConfig::new(model);
    config.negatives = 16;
    config.item_updates = ItemUpdates::Sparse;
    config.run.batch_size = 32;
    config.run.limit.steps = Some(steps);
    config.run.eval_every = 10;
    config.run.patience = 10;
    config.run.learning_rate = 5e-3;
    config
}

/// A sparse run learns the synthetic clusters as the dense runs of `end_to_end.rs` do.
#[test]
fn a_sparse_run_learns() {
    let _guard = serial();
    let device = Device::ndarray();
    let (dataset, data) = data();
    let test = dataset.test.as_ref().unwrap();
    let mut cfg = sparse_config(200);
    cfg.run.eval_every = 50;
    let untrained = cfg.model.init(&device).unwrap();
    let ndcg = |m| {
        evaluate_next_item(m, test, 128, true, &device)
            .unwrap()
            .to_flat_map()["ndcg@10"]
    };
    let before = ndcg(&untrained);
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(&cfg, &data, &device, dir.path(), TrainOptions::default()).unwrap();
    let after = ndcg(&model);
    assert!(
        after > 2.0 * before && after > 0.05,
        "NDCG@10 went from {before} to {after}"
    );
}

/// A sparse run stopped after 20 steps and resumed to 40 ends with the uninterrupted run's
/// weights and validations: the optimizer's row moments are checkpointed with the model.
#[test]
fn a_sparse_run_resumes_to_the_same_model() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let whole = tempfile::tempdir().unwrap();
    let (_, full) = train(
        &sparse_config(40),
        &data,
        &device,
        whole.path(),
        TrainOptions::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    train(
        &sparse_config(20),
        &data,
        &device,
        dir.path(),
        TrainOptions::default(),
    )
    .unwrap();
    let resume = TrainOptions {
        resume: true,
        ..Default::default()
    };
    let (_, report) = train(&sparse_config(40), &data, &device, dir.path(), resume).unwrap();
    assert_eq!(report.steps, 40);
    assert_eq!(report.validations, full.validations);
    let read = |d: &std::path::Path| std::fs::read(d.join("model.safetensors")).unwrap();
    let (a, b) = (read(dir.path()), read(whole.path()));
    let (a, b) = (
        safetensors::SafeTensors::deserialize(&a).unwrap(),
        safetensors::SafeTensors::deserialize(&b).unwrap(),
    );
    assert_eq!(a.names().len(), b.names().len());
    for name in a.names() {
        assert!(
            a.tensor(name).unwrap().data() == b.tensor(name).unwrap().data(),
            "{name}"
        );
    }
}

/// Two data-parallel workers with sparse updates follow one device's loss curve: both gather
/// the step's rows, and the first worker's batch alone carries the rows' ids.
#[test]
fn sparse_updates_train_data_parallel_like_one_device() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let cfg = sparse_config(20);
    let one = tempfile::tempdir().unwrap();
    let (_, single) = train(&cfg, &data, &device, one.path(), TrainOptions::default()).unwrap();
    let two = tempfile::tempdir().unwrap();
    let options = TrainOptions {
        devices: vec![Device::ndarray(); 2],
        ..Default::default()
    };
    let (_, parallel) = train(&cfg, &data, &device, two.path(), options).unwrap();
    let losses = |r: &seqrec_train::TrainReport| -> Vec<f64> {
        r.curve.iter().map(|p| p.loss.unwrap()).collect()
    };
    for (a, b) in losses(&single).iter().zip(losses(&parallel)) {
        assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "{a} vs {b}");
    }
    assert_eq!(losses(&single).len(), losses(&parallel).len());
}

/// Sparse updates need sampled negatives, and the full softmax refuses a catalogue whose
/// logits would not fit, saying how much they would take.
#[test]
fn settings_that_cannot_work_are_refused_with_the_reason() {
    let _guard = serial();
    let mut cfg = sparse_config(10);
    cfg.loss = LossKind::FullSoftmax;
    let err = cfg.validate().unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::InvalidSetting {
                setting: "item_updates",
                ..
            }
        ),
        "{err}"
    );
    cfg.item_updates = ItemUpdates::Auto;
    assert!(cfg.validate().is_ok());
    assert!(!cfg.sparse_item_updates());

    let mut huge = TrainConfig::new(GsasRecConfig::new(10_000_000).with_dim(64));
    huge.run.limit.steps = Some(100);
    huge.loss = LossKind::FullSoftmax;
    let err = huge.validate().unwrap_err();
    match &err {
        TrainError::InvalidSetting { setting, reason } => {
            assert_eq!(*setting, "loss");
            assert!(reason.contains("GB"), "{reason}");
        }
        other => panic!("{other}"),
    }
    huge.loss = TrainConfig::new(GsasRecConfig::new(10)).loss;
    assert!(huge.validate().is_ok());
    assert!(huge.sparse_item_updates(), "auto is sparse on 10 M items");
}
