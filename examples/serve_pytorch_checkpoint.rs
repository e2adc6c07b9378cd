//! Serve a gSASRec model trained with the PyTorch reference code
//! (<https://github.com/asash/gSASRec-pytorch>) through the [`Recommender`] API: read its
//! `state_dict` in Rust, then recommend with the reference's item ids.
//!
//! ```sh
//! # the tiny checkpoint of the parity tests, history "3 14 22 5 9"
//! cargo run --release --example serve_pytorch_checkpoint
//! # a checkpoint of your own: path, number of heads, history (reference item ids)
//! cargo run --release --example serve_pytorch_checkpoint -- model.pt 1 12 7 99
//! ```

use std::path::PathBuf;

use seqrec::data::ItemVocabulary;
use seqrec::train::{GsasRecManifest, Recommender, import_gsasrec_checkpoint};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (checkpoint, heads, history): (PathBuf, usize, Vec<String>) = match args.next() {
        Some(path) => {
            let heads = args
                .next()
                .ok_or("usage: serve_pytorch_checkpoint CHECKPOINT HEADS ITEM...")?
                .parse()?;
            (path.into(), heads, args.collect())
        }
        None => (
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("crates/seqrec-train/tests/fixtures/gsasrec_tiny/gsasrec_tiny.pt"),
            2,
            ["3", "14", "22", "5", "9"].map(String::from).to_vec(),
        ),
    };

    let device = seqrec::device::default_device()?;
    // The architecture comes from the tensor shapes; the heads and the mask are given.
    let (model, config) = import_gsasrec_checkpoint(&checkpoint, heads, true, &device)?;
    println!(
        "{}: {} items, window {}, dimension {}, {} blocks, {} heads",
        checkpoint.display(),
        config.num_items,
        config.max_len,
        config.dim,
        config.blocks,
        config.heads
    );

    // Model id i is the reference's item i: name it "i".
    let items = ItemVocabulary::identity(config.num_items as u32);
    let manifest = GsasRecManifest {
        model: config,
        training: None,
    };
    let recommender = Recommender::new(model, manifest, items, &device);
    for exclude_history in [false, true] {
        println!(
            "history {history:?}, {}:",
            if exclude_history {
                "history excluded"
            } else {
                "history items may come back"
            }
        );
        for (rank, r) in recommender
            .recommend(&history, 10, exclude_history)?
            .iter()
            .enumerate()
        {
            println!("{:>4}  {:<8} {:>9.4}", rank + 1, r.item, r.score);
        }
    }
    Ok(())
}
