//! A short run on the shared MovieLens-1M leave-one-out data (skipped when `../shared` is
//! absent): the data loads, a tiny model trains a few steps through the facade, and the
//! full-catalogue evaluation covers every test user.
#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.

use burn::tensor::Device;
use seqrec::data::{SequenceDataset, Split};
use seqrec::model::GsasRecConfig;
use seqrec::sampling::NegativeSharing;
use seqrec::train::{TrainConfig, TrainOptions, TrainingData, evaluate_next_item, train};

#[test]
fn ml1m_trains_and_evaluates() {
    let Some(dir) = seqrec_perf::shared_data("ml1m-loo") else {
        eprintln!("../shared/data/ml1m-loo absent: skipped");
        return;
    };
    let dataset = SequenceDataset::load_dir(dir).unwrap();
    assert_eq!((dataset.num_items, dataset.train.len()), (3416, 6040));
    let model = GsasRecConfig::new(3416)
        .with_dim(8)
        .with_max_len(20)
        .with_blocks(1);
    let mut config = TrainConfig::new(model);
    config.negatives = 16;
    config.sharing = NegativeSharing::PerBatch;
    config.run.batch_size = 64;
    config.run.limit.steps = Some(4);
    config.run.eval_every = 2;
    let device = Device::ndarray();
    let out = tempfile::tempdir().unwrap();
    let data = TrainingData::from_sequences(&dataset).unwrap();
    let (model, report) =
        train(&config, &data, &device, out.path(), TrainOptions::default()).unwrap();
    assert_eq!(report.validations.len(), 2);
    let report = evaluate_next_item(
        &model,
        dataset.history_targets(Split::Test).unwrap(),
        512,
        true,
        &device,
    )
    .unwrap();
    assert_eq!(report.users, 6040);
    let metrics = report.to_flat_map();
    assert!(metrics["ndcg@10"] >= 0.0 && metrics["ndcg@10"] < 0.2);
}
