//! A tiny untrained gSASRec whose item ids hold spaces, shared by the serving tests.
#![allow(dead_code, deprecated)] // each test binary uses its own subset; `Device::ndarray` is the test backend

use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::{GsasRec, GsasRecConfig};
use seqrec_train::{GsasRecManifest, Recommender};

/// The id of item `i`, with spaces as Last.fm's "artist - track".
pub fn name(i: usize) -> String {
    format!("artist {} - track {i}", i % 4)
}

/// A gSASRec over `items` items named by [`name`], reading `max_len` items, from `seed`.
pub fn recommender(items: usize, max_len: usize, seed: u64) -> Recommender<GsasRec> {
    let device = Device::ndarray();
    device.seed(seed);
    let config = GsasRecConfig::new(items).with_dim(8).with_max_len(max_len);
    let model = config.init(&device).unwrap();
    let mut vocabulary = ItemVocabulary::default();
    for i in 1..=items {
        vocabulary.insert(&name(i));
    }
    let manifest = GsasRecManifest {
        model: config,
        training: None,
    };
    Recommender::new(model, manifest, vocabulary, &device)
}
