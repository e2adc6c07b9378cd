#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! The optimised paths compute what the straightforward ones do: per-position negatives
//! scored through full-catalogue logits give the loss and gradients of gathered embeddings,
//! and evaluation batched by history length gives the ranks of evaluation in input order.

use burn::tensor::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqrec_data::HistoryTargets;
use seqrec_loss::{GBceBeta, LossKind};
use seqrec_model::{GsasRecConfig, PositionEncoding};
use seqrec_sampling::{NegativeSampler, NegativeSharing};
use seqrec_train::internals::{
    BatchPlanner, EvalBatch, GsasRecTraining, PerPositionScoring, StepSetup, TrainBatch,
    target_ranks,
};
use seqrec_train::{Objective, next_item_ranks};

const ITEMS: usize = 40;

/// Histories of 2..=16 items with ids in `1..=ITEMS`.
fn sequences(n: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.random_range(2..=16);
            (0..len)
                .map(|_| rng.random_range(1..=ITEMS as u32))
                .collect()
        })
        .collect()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

fn assert_close(a: &[f32], b: &[f32], tolerance: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-6);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * scale,
            "{what}[{i}]: {x} vs {y} (scale {scale})"
        );
    }
}

#[test]
fn logits_and_gather_paths_give_the_same_loss_and_gradients() {
    let device = Device::ndarray().autodiff();
    device.seed(7);
    let config = GsasRecConfig::new(ITEMS)
        .with_dim(8)
        .with_max_len(12)
        .with_blocks(2)
        .with_dropout(0.0)
        .with_positions(PositionEncoding::Learned);
    let k = 6;
    let beta = GBceBeta::Calibrated { t: 0.75 }.resolve(k, ITEMS).unwrap();
    let model = GsasRecTraining {
        model: config.init(&device).unwrap(),
        setup: StepSetup {
            loss: LossKind::GBce {
                beta: GBceBeta::Fixed(beta),
            },
            beta,
            guard: None,
            explore_weight: 0.0,
        },
        item_tables: None,
    };
    // 42 ids against 6 negatives: the automatic choice is the logits path.
    assert!(model.model.full_logits_pay_off(k));
    assert!(!model.model.full_logits_pay_off(1));

    let planner = BatchPlanner {
        objective: Objective::NextItem,
        max_len: 12,
        mask_token: config.mask_token() as u32,
        negatives: k,
        sharing: NegativeSharing::PerPosition,
        exclude_history: false,
    };
    let seqs = sequences(5, 1);
    let batch: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let sampler = NegativeSampler::uniform(ITEMS as u32).unwrap();
    let plan = planner
        .plan(&batch, &sampler, &mut ChaCha8Rng::seed_from_u64(3))
        .unwrap();

    let run = |scoring: PerPositionScoring| {
        let loss = model.loss_with(TrainBatch::from_plan(&plan, &device), scoring);
        let grads = loss.backward();
        let grad = |w: Tensor<2>| values(w.grad(&grads).expect("a gradient"));
        let m = &model.model;
        (
            values(loss.clone()),
            grad(m.output_embedding.as_ref().unwrap().weight.val()),
            grad(m.item_embedding.weight.val()),
            grad(m.blocks[0].dense1.weight.val()),
        )
    };
    let (loss_a, out_a, item_a, dense_a) = run(PerPositionScoring::Logits);
    let (loss_b, out_b, item_b, dense_b) = run(PerPositionScoring::Gather);
    let (loss_auto, ..) = run(PerPositionScoring::Auto);
    assert!(loss_a[0].is_finite() && loss_a[0] > 0.0);
    assert_close(&loss_a, &loss_b, 1e-5, "loss");
    assert_eq!(loss_auto, loss_a);
    assert_close(&out_a, &out_b, 1e-4, "output embedding gradient");
    assert_close(&item_a, &item_b, 1e-4, "item embedding gradient");
    assert_close(&dense_a, &dense_b, 1e-4, "block weight gradient");
    assert!(out_a.iter().any(|&g| g != 0.0));
}

#[test]
fn evaluation_batched_by_length_matches_evaluation_in_order() {
    let device = Device::ndarray();
    device.seed(11);
    let model = GsasRecConfig::new(ITEMS)
        .with_dim(8)
        .with_max_len(10) // shorter than some histories: truncation is exercised too
        .with_blocks(2)
        .with_positions(PositionEncoding::Learned)
        .init(&device)
        .unwrap();
    let histories = sequences(37, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let targets: Vec<u32> = (0..histories.len())
        .map(|_| rng.random_range(1..=ITEMS as u32))
        .collect();
    let held_out = HistoryTargets {
        inputs: histories.clone(),
        targets: targets.clone(),
    };
    for exclude in [false, true] {
        // The straightforward way: users in input order, padded to the batch's longest.
        let mut want = Vec::new();
        for (h, t) in histories.chunks(8).zip(targets.chunks(8)) {
            let h: Vec<&[u32]> = h.iter().map(Vec::as_slice).collect();
            let batch = EvalBatch::new(&h, t, 10, ITEMS, exclude, &device);
            let ranks = target_ranks(&model, batch)
                .try_into_vec_as::<i64>()
                .unwrap();
            want.extend(ranks.into_iter().map(|r| r as usize));
        }
        let got = next_item_ranks(&model, &held_out, 8, exclude, &device).unwrap();
        assert_eq!(got, want, "exclude_history = {exclude}");
    }
}

#[test]
fn user_representation_of_the_last_position_matches_the_full_forward() {
    use burn::tensor::{Int, TensorData};
    use seqrec_model::{AttentionMode, GsasRec};
    let device = Device::ndarray();
    device.seed(3);
    let histories = sequences(9, 21);
    let len = 14; // longer than max_len for some rows: truncation too
    let mut ids = vec![0i64; histories.len() * len];
    for (b, h) in histories.iter().enumerate() {
        let tail = &h[h.len().saturating_sub(len)..];
        for (i, &item) in tail.iter().enumerate() {
            ids[b * len + len - tail.len() + i] = i64::from(item);
        }
    }
    for attention in [AttentionMode::Causal, AttentionMode::Bidirectional] {
        for blocks in [1, 2, 3] {
            let model = GsasRecConfig::new(ITEMS)
                .with_dim(8)
                .with_heads(2)
                .with_max_len(12)
                .with_blocks(blocks)
                .with_attention(attention)
                .with_positions(PositionEncoding::Learned)
                .init(&device)
                .unwrap();
            let input = Tensor::<2, Int>::from_data(
                TensorData::new(ids.clone(), [histories.len(), len]),
                &device,
            );
            let fast = values(model.user_representation(input.clone()));
            let full = values(GsasRec::last_state(model.forward(input)));
            assert_close(
                &fast,
                &full,
                1e-5,
                &format!("{attention:?}, {blocks} blocks"),
            );
        }
    }
}
