#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! The pieces that make the models learn the listener: the full softmax that skips padding
//! rows, the repeat-aware score in the loss (checked against a host computation in f64), a
//! repeat term that learns to replay, the learning curve written to `metrics.csv`, and the
//! discovery validation (new targets ranked among the tracks not played) with its checkpoint.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqrec_data::{HistoryTargets, ItemVocabulary};
use seqrec_loss::LossKind;
use seqrec_model::SequenceScorer;
use seqrec_model::{AttentionMode, GsasRecConfig, PositionEncoding};
use seqrec_sampling::{NegativeSampler, NegativeSharing};
use seqrec_train::internals::{
    BatchPlanner, EvalBatch, EvalLoader, GsasRecTraining, HistoryRanking, RankOutput, StepSetup,
    TrainBatch, target_ranks,
};
use seqrec_train::{
    CurvePoint, DISCOVERY_DIR, METRICS_FILE, NonFiniteLoss, Objective, Recommender, TrainConfig,
    TrainError, TrainOptions, TrainingData, train,
};

mod common;

const ITEMS: usize = 30;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

/// Sequences of 2..=14 ids in `1..=ITEMS`, some replayed.
fn sequences(n: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.random_range(2..=14);
            (0..len)
                .map(|_| rng.random_range(1..=ITEMS as u32 / 3) * 3)
                .collect()
        })
        .collect()
}

fn full_softmax_model(config: &GsasRecConfig, device: &Device) -> GsasRecTraining {
    GsasRecTraining {
        model: config.init(device).unwrap(),
        setup: StepSetup {
            loss: LossKind::FullSoftmax,
            beta: 1.0,
            guard: None,
            explore_weight: 0.0,
        },
        item_tables: None,
    }
}

fn planner(objective: Objective, max_len: usize, mask_token: u32) -> BatchPlanner {
    BatchPlanner {
        objective,
        max_len,
        mask_token,
        negatives: 4,
        sharing: NegativeSharing::PerSequence,
        exclude_history: false,
    }
}

#[test]
fn full_softmax_over_real_targets_only_gives_the_masked_loss_and_gradients() {
    let _guard = common::serial();
    let device = Device::ndarray().autodiff();
    device.seed(5);
    let config = GsasRecConfig::new(ITEMS)
        .with_dim(8)
        .with_max_len(10)
        .with_blocks(1)
        .with_dropout(0.0);
    let model = full_softmax_model(&config, &device);
    let seqs = sequences(6, 2);
    let batch: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let sampler = NegativeSampler::uniform(ITEMS as u32).unwrap();
    let plan = planner(Objective::NextItem, 10, config.mask_token() as u32)
        .plan(&batch, &sampler, &mut ChaCha8Rng::seed_from_u64(1))
        .unwrap();
    let rows = TrainBatch::from_plan(&plan, &device);
    let real = plan.targets.iter().filter(|&&t| t != 0).count();
    assert!(
        real > 0 && real < plan.targets.len(),
        "some padding targets"
    );
    assert_eq!(rows.target_rows.as_ref().unwrap().dims(), [real]);
    let mut masked = rows.clone();
    masked.target_rows = None;

    let run = |batch: TrainBatch| {
        let loss = model.loss(batch);
        let grads = loss.backward();
        let grad = |w: Tensor<2>| values(w.grad(&grads).expect("a gradient"));
        (
            values(loss.clone())[0],
            grad(model.model.output_table()),
            grad(model.model.blocks[0].dense1.weight.val()),
        )
    };
    let (loss_rows, out_rows, dense_rows) = run(rows);
    let (loss_masked, out_masked, dense_masked) = run(masked);
    assert!(loss_rows.is_finite() && loss_rows > 0.0);
    assert!(
        (loss_rows - loss_masked).abs() < 1e-5,
        "{loss_rows} vs {loss_masked}"
    );
    for (a, b) in out_rows
        .iter()
        .zip(&out_masked)
        .chain(dense_rows.iter().zip(&dense_masked))
    {
        assert!((a - b).abs() < 1e-5, "gradient {a} vs {b}");
    }
}

/// The repeat bias of `item` for a window, by hand (the formula of `seqrec_model::RepeatScore`).
fn repeat_by_hand(window: &[u32], item: u32, w: [f64; 3], half_life: f64) -> f64 {
    let len = window.len();
    let (mut n, mut r) = (0.0, 0.0);
    for (p, &x) in window.iter().enumerate() {
        if x != 0 && x == item {
            n += 1.0;
            r += 0.5f64.powf((len - 1 - p) as f64 / half_life);
        }
    }
    w[0] * (1.0f64 + n).ln() + w[1] * r + w[2] * f64::from(u8::from(n > 0.0))
}

#[test]
fn future_targets_full_softmax_with_the_repeat_term_matches_a_host_computation() {
    let _guard = common::serial();
    repeat_loss_matches_a_host_computation(12, None, 0.0);
}

#[test]
fn a_repeat_context_longer_than_attention_counts_the_whole_context() {
    let _guard = common::serial();
    // Attention reads the last 4 items, the repeat term the last 12.
    repeat_loss_matches_a_host_computation(4, Some(12), 0.0);
}

#[test]
fn the_explore_loss_adds_a_softmax_over_unplayed_items_for_new_targets() {
    let _guard = common::serial();
    repeat_loss_matches_a_host_computation(4, Some(12), 0.7);
}

/// The full-softmax loss over future targets with the repeat term, against logits computed on the
/// host from the model's user states: the repeat term reads the batch's whole input (the
/// repeat context), attention the last `max_len` items of it. With `explore_weight` > 0 the
/// explore loss is added: for each target absent from the input, the dot product's softmax
/// over the items absent from it.
fn repeat_loss_matches_a_host_computation(
    max_len: usize,
    context: Option<usize>,
    explore_weight: f64,
) {
    let device = Device::ndarray();
    device.seed(9);
    let half_life = 3.0;
    let config = GsasRecConfig::new(ITEMS)
        .with_dim(8)
        .with_max_len(max_len)
        .with_blocks(1)
        .with_dropout(0.0)
        .with_attention(AttentionMode::Bidirectional)
        .with_repeat_half_life(Some(half_life))
        .with_repeat_context(context);
    assert_eq!(config.input_len(), 12);
    let mut model = full_softmax_model(&config, &device);
    model.setup.explore_weight = explore_weight;
    // The weights act through the default multiplier of 10.
    let w = [0.08f32, 0.15, 0.06];
    let scale = GsasRecConfig::DEFAULT_REPEAT_WEIGHT_SCALE;
    model.model.repeat.as_mut().unwrap().weights =
        Param::from_tensor(Tensor::from_data(TensorData::new(w.to_vec(), [3]), &device));
    let seqs = sequences(5, 4);
    let batch: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let sampler = NegativeSampler::uniform(ITEMS as u32).unwrap();
    let plan = planner(
        Objective::FutureTargets { len: 3 },
        config.input_len(),
        config.mask_token() as u32,
    )
    .plan(&batch, &sampler, &mut ChaCha8Rng::seed_from_u64(8))
    .unwrap();
    let batch = TrainBatch::from_plan(&plan, &device);
    let got = values(model.loss(batch.clone()))[0] as f64;

    // The host computation: user states from the model, everything else in f64.
    let hidden = model.model.forward(batch.input.clone());
    let [b, attended, d] = hidden.dims();
    assert_eq!(attended, plan.len.min(max_len));
    let users = values(seqrec_model::GsasRec::last_state(hidden));
    let table = values(model.model.output_table());
    let (t, len) = (plan.target_len, plan.len);
    assert!(len > max_len || context.is_none(), "the plan is {len} wide");
    let (mut sum, mut count) = (0.0, 0usize);
    let (mut explore_sum, mut new_targets) = (0.0, 0usize);
    let log_sum_exp = |xs: &[f64]| {
        let max = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        max + xs.iter().map(|l| (l - max).exp()).sum::<f64>().ln()
    };
    for row in 0..b {
        let window = &plan.input[row * len..(row + 1) * len];
        let dot = |item: usize| -> f64 {
            (0..d)
                .map(|j| f64::from(users[row * d + j]) * f64::from(table[item * d + j]))
                .sum()
        };
        let unplayed: Vec<f64> = (1..=ITEMS)
            .filter(|&item| !window.contains(&(item as u32)))
            .map(dot)
            .collect();
        let explore_log_z = log_sum_exp(&unplayed);
        for &target in &plan.targets[row * t..(row + 1) * t] {
            if target != 0 && !window.contains(&target) {
                explore_sum += explore_log_z - dot(target as usize);
                new_targets += 1;
            }
        }
        let logit = |item: usize| -> f64 {
            dot(item)
                + repeat_by_hand(
                    window,
                    item as u32,
                    w.map(|x| f64::from(x) * scale),
                    half_life,
                )
        };
        let logits: Vec<f64> = (1..=ITEMS).map(logit).collect();
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let log_z = max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
        for &target in &plan.targets[row * t..(row + 1) * t] {
            if target != 0 {
                sum += log_z - logits[target as usize - 1];
                count += 1;
            }
        }
    }
    let mut want = sum / count as f64;
    if explore_weight > 0.0 {
        assert!(
            0 < new_targets && new_targets < count,
            "{new_targets} of {count}"
        );
        want += explore_weight * explore_sum / new_targets as f64;
    }
    assert!(
        (got - want).abs() < 1e-4 * want.abs().max(1.0),
        "{got} vs {want}"
    );
}

/// Listeners who replay a small personal set of tracks: every next track was played before.
fn replaying_listeners(users: usize, seed: u64) -> TrainingData {
    let items = 60usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::new();
    let mut validation = HistoryTargets::default();
    for u in 0..users {
        let favourites: Vec<u32> = (0..4).map(|_| rng.random_range(1..=items as u32)).collect();
        let seq: Vec<u32> = (0..24)
            .map(|_| favourites[rng.random_range(0..favourites.len())])
            .collect();
        if u < 40 {
            validation.inputs.push(seq[..seq.len() - 1].to_vec());
            validation.targets.push(seq[seq.len() - 1]);
            train.push(seq[..seq.len() - 1].to_vec());
        } else {
            train.push(seq);
        }
    }
    let mut item_counts = vec![0u64; items + 1];
    for s in &train {
        for &i in s {
            item_counts[i as usize] += 1;
        }
    }
    TrainingData {
        num_items: items,
        train,
        validation,
        item_counts,
        items: ItemVocabulary::identity(items as u32),
    }
}

fn replay_config(repeat: Option<f64>, steps: usize) -> TrainConfig {
    let model = GsasRecConfig::new(60)
        .with_dim(8)
        .with_max_len(16)
        .with_blocks(1)
        .with_attention(AttentionMode::Bidirectional)
        .with_positions(PositionEncoding::Learned)
        .with_repeat_half_life(repeat);
    let mut config = TrainConfig::new(model);
    config.objective = Objective::FutureTargets { len: 4 };
    config.loss = LossKind::FullSoftmax;
    config.run.batch_size = 32;
    config.run.learning_rate = 1e-2;
    config.run.limit.steps = Some(steps);
    config.run.eval_every = 20;
    config.validation_ranks_history = true;
    config
}

#[test]
fn the_repeat_term_learns_to_replay_and_the_curve_is_written() {
    let _guard = common::serial();
    let device = Device::ndarray();
    let data = replaying_listeners(200, 3);
    let best =
        |report: &seqrec_train::TrainReport| report.validations.iter().cloned().fold(0.0, f64::max);

    let dir = tempfile::tempdir().unwrap();
    let (model, with_repeat) = train(
        &replay_config(Some(10.0), 60),
        &data,
        &device,
        dir.path(),
        TrainOptions::default(),
    )
    .unwrap();
    let weights = values(model.repeat.as_ref().unwrap().weights.val());
    assert!(
        weights.iter().sum::<f32>() > 0.1,
        "repeat weights {weights:?}"
    );

    let plain_dir = tempfile::tempdir().unwrap();
    let (_, plain) = train(
        &replay_config(None, 60),
        &data,
        &device,
        plain_dir.path(),
        TrainOptions::default(),
    )
    .unwrap();
    // A listener's next track is one of their four favourites: ranking the history first
    // puts it in the top 4.
    assert!(
        best(&with_repeat) > 1.5 * best(&plain) && best(&with_repeat) > 0.4,
        "validation NDCG@10 with the repeat term {:?}, without {:?}",
        with_repeat.validations,
        plain.validations
    );

    // One row per validation in metrics.csv, as in the report.
    let text = std::fs::read_to_string(dir.path().join(METRICS_FILE)).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<CurvePoint> = reader.deserialize().map(Result::unwrap).collect();
    assert_eq!(rows, with_repeat.curve);
    assert_eq!(
        rows.iter().map(|r| r.step).collect::<Vec<_>>(),
        [20, 40, 60]
    );
    let ndcg: Vec<f64> = rows.iter().map(|r| r.ndcg_at_10).collect();
    assert_eq!(ndcg, with_repeat.validations);
    let seconds: Vec<f64> = rows.iter().map(|r| r.seconds.unwrap()).collect();
    assert!(
        seconds.windows(2).all(|w| w[0] < w[1]) && seconds[0] > 0.0,
        "{seconds:?}"
    );
    assert!(*seconds.last().unwrap() <= with_repeat.seconds + 1e-9);
    let losses: Vec<f64> = rows.iter().map(|r| r.loss.unwrap()).collect();
    assert!(
        losses.iter().all(|l| l.is_finite() && *l > 0.0),
        "{losses:?}"
    );
    assert!(losses[2] < losses[0], "the loss falls: {losses:?}");
}

#[test]
fn a_non_finite_loss_stops_training_with_its_step_or_is_skipped_and_counted() {
    let _guard = common::serial();
    let device = Device::ndarray();
    let data = replaying_listeners(100, 5);
    let mut config = replay_config(None, 12);
    config.run.eval_every = 4;
    // Adam moves every weight by about the learning rate: after one step of 1e30 the logits
    // overflow f32 and the loss is no longer finite.
    config.run.learning_rate = 1e30;
    let dir = tempfile::tempdir().unwrap();
    let error = train(&config, &data, &device, dir.path(), TrainOptions::default()).unwrap_err();
    let message = error.to_string();
    match error {
        TrainError::NonFiniteLoss {
            step,
            loss,
            last_finite,
        } => {
            assert_eq!(step, 2, "{message}");
            assert!(!loss.is_finite());
            assert!(last_finite.is_some_and(f64::is_finite), "{message}");
        }
        other => panic!("expected a non-finite loss, got {other}"),
    }
    assert!(message.contains("at step 2"), "{message}");
    // No model directory is written for a run that failed.
    assert!(!dir.path().join("model.safetensors").exists());

    config.run.non_finite_loss = NonFiniteLoss::Skip;
    let skip_dir = tempfile::tempdir().unwrap();
    let (_, report) = train(
        &config,
        &data,
        &device,
        skip_dir.path(),
        TrainOptions::default(),
    )
    .unwrap();
    // The first step was finite; every later one sees the overflowed weights and is skipped.
    assert_eq!(report.steps, 12);
    assert_eq!(report.skipped_batches, 11);
    // A learning rate that trains skips nothing.
    config.run.learning_rate = 1e-2;
    let fine = tempfile::tempdir().unwrap();
    let (_, report) = train(
        &config,
        &data,
        &device,
        fine.path(),
        TrainOptions::default(),
    )
    .unwrap();
    assert_eq!(report.skipped_batches, 0);
}

#[test]
fn the_repeat_term_needs_an_objective_that_scores_from_the_last_position() {
    let _guard = common::serial();
    let mut config = replay_config(Some(10.0), 10);
    assert!(config.validate().is_ok());
    config.model.attention = AttentionMode::Causal;
    config.objective = Objective::NextItem;
    assert!(matches!(
        config.validate(),
        Err(TrainError::InvalidSetting {
            setting: "model.repeat_half_life",
            ..
        })
    ));
    config.model.repeat_half_life = Some(0.0);
    config.objective = Objective::FutureTargets { len: 3 };
    assert!(matches!(config.validate(), Err(TrainError::Model(_))));
}

#[test]
fn the_explore_loss_needs_the_full_softmax_over_future_targets_and_a_valid_weight() {
    let _guard = common::serial();
    let mut config = replay_config(Some(10.0), 10);
    config.explore_weight = 0.5;
    assert!(config.validate().is_ok(), "{:?}", config.validate());
    for weight in [-1.0, f64::NAN, f64::INFINITY] {
        config.explore_weight = weight;
        assert!(matches!(
            config.validate(),
            Err(TrainError::InvalidSetting {
                setting: "explore_weight",
                ..
            })
        ));
    }
    config.explore_weight = 0.5;
    config.loss = LossKind::SampledSoftmax;
    assert!(matches!(
        config.validate(),
        Err(TrainError::InvalidSetting {
            setting: "explore_weight",
            ..
        })
    ));
    config.loss = LossKind::FullSoftmax;
    config.model.repeat_half_life = None;
    config.model.attention = AttentionMode::Causal;
    config.objective = Objective::NextItem;
    assert!(matches!(
        config.validate(),
        Err(TrainError::InvalidSetting {
            setting: "explore_weight",
            ..
        })
    ));
}

fn ints(t: Tensor<1, burn::tensor::Int>) -> Vec<i64> {
    t.into_data().convert::<i64>().to_vec().unwrap()
}

#[test]
fn discovery_ranks_count_only_the_items_outside_the_input_window() {
    let _guard = common::serial();
    let device = Device::ndarray();
    let config = GsasRecConfig::new(ITEMS).with_dim(8).with_max_len(4);
    let model = config.init(&device).unwrap();
    // Targets: new (user 0), a replay within the window (user 1), a track played only before
    // the window (user 2: a replay, so not counted), new with a history longer than the
    // window (user 3: its early items are ranked).
    let histories: Vec<Vec<u32>> = vec![
        vec![3, 5],
        vec![7, 8, 9],
        vec![11, 1, 2, 4, 6],
        vec![13, 14, 15, 16, 17, 18],
    ];
    let targets = [20u32, 8, 11, 25];
    let refs: Vec<&[u32]> = histories.iter().map(Vec::as_slice).collect();
    let batch = EvalBatch::new(&refs, &targets, 4, ITEMS, false, &device);
    let scores = values(model.score_histories(batch.input.clone()));
    let main = ints(target_ranks(&model, batch.clone()));
    let output = RankOutput::of(&model, batch.with_discovery(&refs, &targets));
    assert_eq!(ints(output.ranks), main, "the main ranks are unchanged");
    let discovery = ints(
        output
            .discovery_ranks
            .expect("discovery ranks were asked for"),
    );

    let rows = ITEMS + 2;
    for (u, history) in histories.iter().enumerate() {
        let row = &scores[u * rows..(u + 1) * rows];
        let target = row[targets[u] as usize];
        let window = &history[history.len().saturating_sub(4)..];
        let beats = |i: usize| row[i] > target;
        let main_rank = 1 + (0..rows).filter(|&i| beats(i)).count() as i64;
        assert_eq!(main[u], main_rank, "user {u}: main rank");
        let want = if history.contains(&targets[u]) {
            0
        } else {
            1 + (0..rows)
                .filter(|&i| !window.contains(&(i as u32)) && beats(i))
                .count() as i64
        };
        assert_eq!(discovery[u], want, "user {u}: discovery rank");
    }
    assert_eq!(discovery[1], 0);
    assert_eq!(discovery[2], 0);
    assert!(discovery[0] > 0 && discovery[3] > 0);
}

/// Listeners who mostly replay four favourites and sometimes play something new; the
/// validation target of every other validation user is new.
fn listeners_who_also_discover(users: usize, seed: u64) -> TrainingData {
    let items = 60u32;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::new();
    let mut validation = HistoryTargets::default();
    for u in 0..users {
        let favourites: Vec<u32> = (0..4).map(|_| rng.random_range(1..=items)).collect();
        let mut seq: Vec<u32> = (0..24)
            .map(|_| {
                if rng.random_bool(0.7) {
                    favourites[rng.random_range(0..favourites.len())]
                } else {
                    // Tracks near a favourite: what a model can learn to discover.
                    (favourites[0] + rng.random_range(1..=3)).min(items)
                }
            })
            .collect();
        if u < 40 {
            let mut target = seq.pop().unwrap();
            if u % 2 == 0 {
                target = (1..=items).find(|i| !seq.contains(i)).unwrap();
            }
            validation.inputs.push(seq.clone());
            validation.targets.push(target);
        }
        train.push(seq);
    }
    let mut item_counts = vec![0u64; items as usize + 1];
    for s in &train {
        for &i in s {
            item_counts[i as usize] += 1;
        }
    }
    TrainingData {
        num_items: items as usize,
        train,
        validation,
        item_counts,
        items: ItemVocabulary::identity(items),
    }
}

/// Mean discovery NDCG@10 of `model` over the validation users with new targets.
fn discovery_ndcg(model: &impl SequenceScorer, data: &TrainingData, device: &Device) -> f64 {
    let loader = EvalLoader::new(
        std::sync::Arc::new(data.validation.inputs.clone()),
        std::sync::Arc::new(data.validation.targets.clone()),
        7,
        model.max_len(),
        data.num_items,
        HistoryRanking::Ranked,
        device.clone(),
    )
    .with_discovery();
    let n = data.validation.inputs.len();
    let mut ranks = Vec::new();
    for start in (0..n).step_by(7) {
        let output = RankOutput::of(model, loader.batch(start, (start + 7).min(n)));
        ranks.extend(ints(output.discovery_ranks.unwrap()));
    }
    let counted: Vec<i64> = ranks.into_iter().filter(|&r| r > 0).collect();
    let ndcg = |r: i64| {
        if r <= 10 {
            1.0 / (r as f64 + 1.0).log2()
        } else {
            0.0
        }
    };
    counted.iter().map(|&r| ndcg(r)).sum::<f64>() / counted.len() as f64
}

#[test]
fn the_discovery_checkpoint_is_the_best_model_for_new_tracks_and_is_saved() {
    let _guard = common::serial();
    let device = Device::ndarray();
    let data = listeners_who_also_discover(160, 5);
    let mut config = replay_config(Some(10.0), 80);
    config.discovery_checkpoint = true;
    config.run.patience = 100;
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = train(&config, &data, &device, dir.path(), TrainOptions::default()).unwrap();

    assert_eq!(report.discovery_validations.len(), report.validations.len());
    assert!(report.discovery_validations.iter().all(|v| v.is_some()));
    let discovery: Vec<f64> = report
        .discovery_validations
        .iter()
        .flatten()
        .copied()
        .collect();
    let best = report
        .best_discovery_validation
        .expect("a discovery checkpoint");
    let top = discovery.iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(discovery[best - 1], top);
    // The curve carries both metrics.
    let text = std::fs::read_to_string(dir.path().join(METRICS_FILE)).unwrap();
    assert!(
        text.lines().next().unwrap().contains("ndcg_at_10_new"),
        "{text}"
    );
    let rows: Vec<CurvePoint> = csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, report.curve);
    let new: Vec<f64> = rows.iter().map(|r| r.ndcg_at_10_new.unwrap()).collect();
    assert_eq!(new, discovery);

    // The saved discovery model is the checkpoint of that validation.
    let saved = Recommender::load(dir.path().join(DISCOVERY_DIR), &device).unwrap();
    let again = discovery_ndcg(saved.model(), &data, &device);
    assert!((again - top).abs() < 1e-6, "{again} vs {top}");

    // Without new targets there is no discovery model, and none is left from before.
    let replays = replaying_listeners(200, 3);
    let (_, report) = train(
        &config,
        &replays,
        &device,
        dir.path(),
        TrainOptions::default(),
    )
    .unwrap();
    assert!(report.discovery_validations.iter().all(Option::is_none));
    assert_eq!(report.best_discovery_validation, None);
    assert!(!dir.path().join(DISCOVERY_DIR).exists());

    // The discovery validation needs the history ranked, training on for it a checkpoint.
    config.discovery_keeps_training = true;
    assert!(config.validate().is_ok());
    config.validation_ranks_history = false;
    assert!(matches!(
        config.validate(),
        Err(TrainError::InvalidSetting {
            setting: "discovery_checkpoint",
            ..
        })
    ));
    config.validation_ranks_history = true;
    config.discovery_checkpoint = false;
    assert!(matches!(
        config.validate(),
        Err(TrainError::InvalidSetting {
            setting: "discovery_keeps_training",
            ..
        })
    ));
}
