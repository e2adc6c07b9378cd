//! The paper's neural item-item baseline: item2vec (skip-gram with negative sampling) trained
//! on the training histories with burn-train, validated, stopped early and saved like gSASRec,
//! and served by the same [`Recommender`](crate::Recommender).

mod config;
mod pairs;
mod step;

use std::path::Path;
use std::sync::Arc;

use burn::module::Param;
use burn::tensor::{Device, Tensor};
use seqrec_data::ItemVocabulary;
use seqrec_model::ItemItem;
use seqrec_sampling::NegativeSampler;

pub use config::{ItemItemManifest, ItemItemTrainConfig};
pub use pairs::{PairBatch, PairLoader, PairPlan, SkipGramPairs, plan_pairs};
pub use step::ItemItemTraining;

use crate::error::TrainError;
use crate::guard::LossGuard;
use crate::loader::EvalLoader;
use crate::model_dir::{
    ModelKind, SavedModel, WEIGHTS_FILE, load_module, read_manifest_and_items, save_dir, write_json,
};
use crate::session::{Schedule, Supervised, WorkDir, run_supervised, total_steps};
use crate::train::{REPORT_FILE, TrainOptions, TrainReport, TrainingData};

/// Trains the item-item model and writes the best one (by validation NDCG@10, history
/// excluded, as [`crate::train`] does) as a model directory in `out_dir`
/// (`Recommender::<ItemItem>::open`).
///
/// Each step draws `batch_size` (item, context) pairs uniformly from the pairs of the
/// training histories within `window` positions (two different items), each with `negatives`
/// sampled items other than its context, and takes an Adam step on their BCE loss. An epoch
/// (for [`TrainLimit::epochs`](crate::TrainLimit)) is as many pairs as the histories hold.
/// The same seed gives the same model.
pub fn train_item_item(
    config: &ItemItemTrainConfig,
    data: &TrainingData,
    device: &Device,
    out_dir: &Path,
    options: TrainOptions,
) -> Result<(ItemItem, TrainReport), TrainError> {
    config.validate()?;
    if config.model.num_items != data.num_items {
        return Err(TrainError::Config(format!(
            "the model has {} items but the data {}",
            config.model.num_items, data.num_items
        )));
    }
    if data.validation.inputs.is_empty() {
        return Err(TrainError::Config("the validation split is empty".into()));
    }
    let sequences: Vec<Vec<u32>> = data
        .train
        .iter()
        .filter(|s| s.len() >= 2)
        .cloned()
        .collect();
    let pairs = SkipGramPairs::new(Arc::new(sequences), config.window)?;
    let sampler = NegativeSampler::from_distribution(
        &config.negative_distribution,
        data.num_items as u32,
        &data.item_counts,
    )?;
    let steps_per_pass = pairs.len().div_ceil(config.batch_size as u64) as usize;
    let total_steps = total_steps(&config.limit, steps_per_pass);
    let work = WorkDir::prepare(out_dir, options.resume)?;
    let start_epoch = work.start_epoch;

    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let mut model = config.model.init(&train_device)?;
    // Negative sampling's logits settle near −log k (the model learns PMI − log k): starting
    // the context biases there keeps Adam from building that shift into a direction shared
    // by every input vector, which would swamp the cosine similarities served.
    let rows = config.model.vocab_rows();
    model.context_bias = Param::from_tensor(Tensor::full(
        [rows],
        -(config.negatives as f64).ln(),
        &train_device,
    ));
    let guard = LossGuard::new(config.non_finite_loss);
    let model = ItemItemTraining {
        model,
        guard: Some(guard.clone()),
    };
    tracing::info!(
        steps = total_steps,
        pairs = pairs.len(),
        resume_from = start_epoch,
        "training the item-item model (dim {}, window {}, {} negatives)",
        config.model.dim,
        config.window,
        config.negatives
    );
    let train_loader = PairLoader::new(
        pairs,
        sampler,
        config.batch_size,
        config.negatives,
        config.eval_every,
        total_steps,
        start_epoch * config.eval_every,
        config.seed,
        train_device,
    );
    let valid_loader = EvalLoader::new(
        Arc::new(data.validation.inputs.clone()),
        Arc::new(data.validation.targets.clone()),
        config.eval_batch_size,
        config.model.max_len,
        data.num_items,
        true,
        device.clone(),
    );
    let schedule = Schedule {
        batch_size: config.batch_size,
        eval_every: config.eval_every,
        total_steps,
        patience: config.patience,
        learning_rate: config.learning_rate,
        seconds: config.limit.seconds,
        discovery: false,
        discovery_keeps_training: false,
        guard: Some(guard),
    };
    let Supervised { best, report, .. } = run_supervised(
        work,
        &schedule,
        options.progress,
        model,
        Arc::new(train_loader.clone()),
        Arc::new(valid_loader),
        &train_loader,
        || {
            Ok(ItemItemTraining {
                model: config.model.init(device)?,
                guard: None,
            })
        },
    )?;
    let model = best.model;
    let manifest = ItemItemManifest {
        model: config.model.clone(),
        training: Some(config.clone()),
    };
    save_item_item_dir(out_dir, &model, &manifest, &data.items)?;
    write_json(&out_dir.join(REPORT_FILE), &report)?;
    Ok((model, report))
}

/// Writes an item-item model directory: `config.json` (the manifest), `items.json` and
/// `model.safetensors`, the files of a gSASRec directory.
pub fn save_item_item_dir(
    dir: &Path,
    model: &ItemItem,
    manifest: &ItemItemManifest,
    items: &ItemVocabulary,
) -> Result<(), TrainError> {
    save_dir(dir, model, manifest, items)
}

impl SavedModel for ItemItem {
    type Manifest = ItemItemManifest;
    const KIND: ModelKind = ModelKind::ItemItem;

    fn load_dir(
        dir: &Path,
        device: &Device,
    ) -> Result<(Self, ItemItemManifest, ItemVocabulary), TrainError> {
        let (manifest, items): (ItemItemManifest, _) =
            read_manifest_and_items(dir, |m: &ItemItemManifest| m.model.num_items)?;
        let model = load_module(manifest.model.init(device)?, &dir.join(WEIGHTS_FILE))?;
        Ok((model, manifest, items))
    }
}
