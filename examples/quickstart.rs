//! The library API end to end, in seconds: generate the built-in synthetic dataset, train the
//! paper's best variant (positional encoding, no causal mask) on a future-targets objective,
//! evaluate it on held-out items and recommend for one history.
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```

use seqrec::data::{Split, SyntheticConfig};
use seqrec::model::{AttentionMode, GsasRecConfig, PositionEncoding};
use seqrec::sampling::NegativeSharing;
use seqrec::train::{
    Recommender, TrainConfig, TrainOptions, TrainingData, evaluate_next_item, train,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dataset = SyntheticConfig::default().generate()?;
    let model = GsasRecConfig::new(dataset.num_items as usize)
        .with_dim(64)
        .with_max_len(100)
        .with_attention(AttentionMode::Bidirectional)
        .with_positions(PositionEncoding::Learned);
    let mut config = TrainConfig::new(model);
    config.sharing = NegativeSharing::PerSequence;
    config.run.limit.steps = Some(300);

    let device = seqrec::device::default_device()?;
    let data = TrainingData::from_sequences(&dataset)?;
    let out = std::env::temp_dir().join("seqrec-quickstart");
    let (model, report) = train(&config, &data, &device, &out, TrainOptions::default())?;
    println!(
        "{} steps in {:.1} s, validation NDCG@10 by period: {:.3?}",
        report.steps, report.seconds, report.validations
    );

    let test = evaluate_next_item(
        &model,
        dataset.history_targets(Split::Test)?,
        256,
        true,
        &device,
    )?;
    println!("test: {test}");

    let recommender = Recommender::load(&out, &device)?;
    let history = ["12", "7", "99"];
    for r in recommender.recommend(&history, 5, true)? {
        println!("after {history:?}: item {} score {:.3}", r.item, r.score);
    }
    Ok(())
}
