#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! The item-item baseline end to end on a tiny synthetic dataset: it beats popularity and a
//! random ranking, it is deterministic, and its model directory serves identical scores.

use burn::tensor::{Device, Int, Tensor};
use seqrec_model::{ItemItem, ItemItemConfig, Popularity, SequenceScorer};
use seqrec_train::{
    ItemItemTrainConfig, ProgressEvent, Recommender, TrainError, TrainOptions, evaluate_next_item,
    rank_top_k, train_item_item,
};

mod common;

use common::{data, serial};

fn config(steps: usize) -> ItemItemTrainConfig {
    let mut config = ItemItemTrainConfig::new(ItemItemConfig::new(120).with_dim(16));
    config.run.batch_size = 512;
    config.negatives = 10;
    config.run.eval_every = 20;
    config.run.limit.steps = Some(steps);
    config
}

fn ndcg(
    model: &impl SequenceScorer,
    held_out: &seqrec_data::HistoryTargets,
    device: &Device,
) -> f64 {
    evaluate_next_item(model, held_out, 128, true, device)
        .unwrap()
        .to_flat_map()["ndcg@10"]
}

#[test]
fn item_item_beats_popularity_and_random_and_serves_its_directory() {
    let _guard = serial();
    let device = Device::ndarray();
    let (dataset, data) = data();
    let test = dataset.test.as_ref().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(200);
    device.seed(1);
    let random = cfg.model.init(&device).unwrap(); // untrained: a random ranking
    // burn initialises parameters lazily, from the backend's stream at first use: score the
    // untrained model now, before training reseeds that stream.
    let random = ndcg(&random, &data.validation, &device);
    let popularity = Popularity::new(&data.item_counts, &device).unwrap();
    let validated = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let events = validated.clone();
    let options = TrainOptions {
        progress: Some(Box::new(move |event| {
            if let ProgressEvent::Validated { ndcg_at_10, .. } = event {
                events.lock().unwrap().push(*ndcg_at_10);
            }
        })),
        ..Default::default()
    };
    let (model, report) = train_item_item(&cfg, &data, &device, dir.path(), options).unwrap();
    assert_eq!(report.validations.len(), report.steps / 20);
    // burn-train's renderer may deliver the last validation after `train_item_item` returns,
    // so the progress stream can trail the report by one validation.
    let seen = validated.lock().unwrap().len();
    assert!(
        seen + 1 >= report.validations.len() && seen <= report.validations.len(),
        "{seen} validation events for {} validations",
        report.validations.len()
    );
    assert!(report.best_validation.is_some());

    let (trained, popular, random) = (
        ndcg(&model, &data.validation, &device),
        ndcg(&popularity, &data.validation, &device),
        random,
    );
    eprintln!(
        "validation NDCG@10: item-item {trained:.4}, popularity {popular:.4}, random {random:.4}"
    );
    assert!(
        trained > 1.5 * popular && trained > 2.0 * random,
        "validation NDCG@10: item-item {trained}, popularity {popular}, random {random}"
    );
    let (trained_test, popular_test) = (
        ndcg(&model, test, &device),
        ndcg(&popularity, test, &device),
    );
    eprintln!("test NDCG@10: item-item {trained_test:.4}, popularity {popular_test:.4}");
    assert!(trained_test > popular_test);

    // The directory serves the same scores.
    let recommender = Recommender::<ItemItem>::open(dir.path(), &device).unwrap();
    assert_eq!(recommender.manifest().training.as_ref(), Some(&cfg));
    assert_eq!(recommender.manifest().model, cfg.model);
    let history = Tensor::<2, Int>::from_ints([[0, 3, 17, 42], [5, 6, 7, 8]], &device);
    let scores = |m: &ItemItem| -> Vec<f32> {
        m.score_all(m.user_representation(history.clone()))
            .into_data()
            .to_vec()
            .unwrap()
    };
    assert_eq!(scores(recommender.model()), scores(&model));
    assert_eq!(ndcg(recommender.model(), test, &device), trained_test);
    let histories = vec![vec![3, 17, 42], vec![5, 6, 7, 8]];
    assert_eq!(
        recommender.recommend_ids(&histories, 10, true).unwrap(),
        rank_top_k(&model, &histories, 10, true, 1, &device).unwrap()
    );
    let recs = recommender.recommend(&["3", "17", "42"], 5, true).unwrap();
    assert_eq!(recs.len(), 5);
    assert!(
        recs.iter()
            .all(|r| !["3", "17", "42"].contains(&r.item.as_str()))
    );
    assert!(recs.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        recs.iter().all(|r| r.score.abs() <= 1.0 + 1e-5),
        "mean cosine similarities"
    );
    assert!(matches!(
        recommender.recommend(&["3", "nope"], 5, false),
        Err(TrainError::UnknownItem { position: 1, .. })
    ));
    // A gSASRec loader refuses the item-item directory instead of misreading it.
    assert!(Recommender::load(dir.path(), &device).is_err());
}

#[test]
fn the_same_seed_gives_the_same_item_item_model() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let cfg = config(12);
    let run = |cfg: &ItemItemTrainConfig| {
        let dir = tempfile::tempdir().unwrap();
        let (model, report) =
            train_item_item(cfg, &data, &device, dir.path(), TrainOptions::default()).unwrap();
        let vectors: Vec<f32> = model.item_vectors().into_data().to_vec().unwrap();
        (vectors, report.validations)
    };
    let first = run(&cfg);
    assert_eq!(first, run(&cfg));
    let mut other = cfg.clone();
    other.run.seed = 7;
    assert_ne!(run(&other).0, first.0);
}

#[test]
fn invalid_item_item_setups_are_typed_errors() {
    let _guard = serial();
    let device = Device::ndarray();
    let (_, data) = data();
    let dir = tempfile::tempdir().unwrap();
    let mut wrong_size = config(5);
    wrong_size.model.num_items = 119;
    let mut no_limit = config(5);
    no_limit.run.limit.steps = None;
    for cfg in [wrong_size, no_limit] {
        assert!(matches!(
            train_item_item(&cfg, &data, &device, dir.path(), TrainOptions::default()),
            Err(TrainError::SizeMismatch { .. } | TrainError::InvalidSetting { .. })
        ));
    }
    let mut replays = data.clone();
    replays.train = vec![vec![4, 4, 4]; 3];
    assert!(matches!(
        train_item_item(
            &config(5),
            &replays,
            &device,
            dir.path(),
            TrainOptions::default()
        ),
        Err(TrainError::NotEnoughData(_))
    ));
    assert!(Recommender::<ItemItem>::open(dir.path().join("nothing"), &device).is_err());
}
