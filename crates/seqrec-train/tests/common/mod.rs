#![allow(dead_code)] // each test binary uses some of the helpers
//! Helpers shared by the training tests.

use seqrec_data::{SequenceDataset, SyntheticConfig};
use seqrec_train::TrainingData;

/// The backend's random generator is global: training tests run one at a time so that a seed
/// fixes every draw.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the lock that runs this binary's training tests one at a time.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A tiny synthetic dataset (300 users, 120 items, 6 taste clusters) and its training data.
pub fn data() -> (SequenceDataset, TrainingData) {
    let dataset = SyntheticConfig {
        users: 300,
        items: 120,
        clusters: 6,
        median_length: 30.0,
        validation_users: 64,
        ..Default::default()
    }
    .generate()
    .unwrap();
    let training = TrainingData::from_sequences(&dataset).unwrap();
    (dataset, training)
}
