//! How a Rust service embeds a trained model: one `Recommender` shared by its request
//! threads, a user vector computed once per listener and kept, and candidate lists (from a
//! retrieval stage, an editor's playlist, a page of search results) scored with it.
//!
//! ```sh
//! cargo run --release --example embed_service              # trains a small model first
//! cargo run --release --example embed_service -- runs/ml1m  # or serves a model directory
//! ```

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use burn::tensor::Tensor;
use seqrec::data::SyntheticConfig;
use seqrec::model::GsasRecConfig;
use seqrec::train::{Recommender, TrainConfig, TrainOptions, TrainingData, train};

/// The service's state: the model, and the user vectors of the listeners seen.
struct Service {
    recommender: Recommender,
    users: RwLock<HashMap<String, Tensor<2>>>,
}

impl Service {
    /// The listener's vector, computed from their history the first time only.
    fn user(
        &self,
        listener: &str,
        history: &[&str],
    ) -> Result<Tensor<2>, Box<dyn std::error::Error + Send + Sync>> {
        if let Some(user) = self.users.read().map_err(|e| e.to_string())?.get(listener) {
            return Ok(user.clone());
        }
        let ids = self.recommender.resolve(history)?;
        let user = self.recommender.user_representation(&[ids])?;
        self.users
            .write()
            .map_err(|e| e.to_string())?
            .insert(listener.to_string(), user.clone());
        Ok(user)
    }

    /// The candidates, best first, with their scores.
    fn rank<'a>(
        &self,
        listener: &str,
        history: &[&str],
        candidates: &[&'a str],
    ) -> Result<Vec<(&'a str, f32)>, Box<dyn std::error::Error + Send + Sync>> {
        let user = self.user(listener, history)?;
        let scores = self.recommender.score_candidates(user, candidates)?;
        let mut ranked: Vec<(&str, f32)> = candidates
            .iter()
            .copied()
            .zip(scores[0].iter().copied())
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(ranked)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let device = seqrec::device::default_device()?;
    let dir = match std::env::args().nth(1) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            let dataset = SyntheticConfig::default().generate()?;
            let mut config =
                TrainConfig::new(GsasRecConfig::new(dataset.num_items as usize).with_dim(32));
            config.run.limit.steps = Some(60);
            let out = std::env::temp_dir().join("seqrec-embed-service");
            train(
                &config,
                &TrainingData::from_sequences(&dataset)?,
                &device,
                &out,
                TrainOptions::default(),
            )?;
            out
        }
    };
    let service = Arc::new(Service {
        recommender: Recommender::load(&dir, &device)?,
        users: RwLock::new(HashMap::new()),
    });
    let names: Vec<String> = service.recommender.items().names().to_vec();
    let item = |i: usize| names[i % names.len()].clone();
    // Three listeners, each on a thread of their own, each paging through candidate lists.
    let threads: Vec<_> = (0..3)
        .map(|listener| {
            let service = Arc::clone(&service);
            let history: Vec<String> = (0..8).map(|j| item(listener * 40 + j * 3)).collect();
            let pages: Vec<Vec<String>> = (0..3)
                .map(|page| {
                    (0..5)
                        .map(|c| item(page * 97 + c * 13 + listener))
                        .collect()
                })
                .collect();
            std::thread::spawn(move || -> Result<(), String> {
                let name = format!("listener-{listener}");
                let history: Vec<&str> = history.iter().map(String::as_str).collect();
                for (page, candidates) in pages.iter().enumerate() {
                    let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
                    let ranked = service
                        .rank(&name, &history, &candidates)
                        .map_err(|e| e.to_string())?;
                    println!("{name}, page {page}: {ranked:?}");
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a listener thread panicked")??;
    }
    println!(
        "{} user vectors computed, one per listener",
        service.users.read().map_err(|e| e.to_string())?.len()
    );
    Ok(())
}
