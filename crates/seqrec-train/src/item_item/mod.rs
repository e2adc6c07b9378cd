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
pub use pairs::{PairLoader, SkipGramPairs};
pub use step::ItemItemTraining;

use crate::error::TrainError;
use crate::fit::{Trainable, Validation, fit};
use crate::guard::LossGuard;
use crate::item_tables::ItemTables;
use crate::loader::HistoryRanking;
use crate::run::RunSettings;
use crate::serving::model_dir::{
    ModelKind, SavedModel, WEIGHTS_FILE, load_module, read_manifest_and_items, save_dir,
};
use crate::session::Supervised;
use crate::train::{TrainOptions, TrainReport, TrainingData};

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
    let Supervised { best, report, .. } = fit(config, data, device, out_dir, options)?;
    Ok((best.model, report))
}

impl Trainable for ItemItemTrainConfig {
    type Learner = ItemItemTraining;
    /// The pairs and the sampler of their negatives.
    type Examples = (SkipGramPairs, NegativeSampler);
    type Loader = PairLoader;

    fn run(&self) -> &RunSettings {
        &self.run
    }

    fn validate(&self) -> Result<(), TrainError> {
        ItemItemTrainConfig::validate(self)
    }

    fn num_items(&self) -> usize {
        self.model.num_items
    }

    fn validation(&self) -> Validation {
        Validation {
            history: HistoryRanking::Excluded,
            max_len: self.model.max_len,
            discovery: false,
            discovery_keeps_training: false,
        }
    }

    fn examples(
        &self,
        sequences: Vec<Vec<u32>>,
        data: &TrainingData,
    ) -> Result<(Self::Examples, usize), TrainError> {
        let pairs = SkipGramPairs::new(Arc::new(sequences), self.context_window)?;
        let sampler = NegativeSampler::from_distribution(
            &self.negative_distribution,
            data.num_items as u32,
            &data.item_counts,
        )?;
        let steps_per_pass = pairs.len().div_ceil(self.run.batch_size as u64) as usize;
        Ok(((pairs, sampler), steps_per_pass))
    }

    fn start(
        &self,
        (pairs, sampler): Self::Examples,
        _data: &TrainingData,
        train_device: &Device,
        total_steps: usize,
        skip_steps: usize,
        guard: &LossGuard,
    ) -> Result<(ItemItemTraining, PairLoader), TrainError> {
        let mut model = self.model.init(train_device)?;
        // Negative sampling's logits settle near −log k (the model learns PMI − log k):
        // starting the context biases there keeps Adam from building that shift into a
        // direction shared by every input vector, which would swamp the cosine similarities
        // served.
        let rows = self.model.vocab_rows();
        model.context_bias = Param::from_tensor(Tensor::full(
            [rows],
            -(self.negatives as f64).ln(),
            train_device,
        ));
        tracing::info!(
            steps = total_steps,
            pairs = pairs.len(),
            resume_from = skip_steps / self.run.eval_every,
            "training the item-item model (dim {}, window {}, {} negatives)",
            self.model.dim,
            self.context_window,
            self.negatives
        );
        let loader = PairLoader::new(
            pairs,
            sampler,
            self.run.batch_size,
            self.negatives,
            self.run.eval_every,
            total_steps,
            skip_steps,
            self.run.seed,
            train_device.clone(),
        );
        let model = ItemItemTraining {
            model,
            guard: Some(guard.clone()),
        };
        Ok((model, loader))
    }

    fn fresh(
        &self,
        device: &Device,
        _item_tables: Option<ItemTables>,
    ) -> Result<ItemItemTraining, TrainError> {
        Ok(ItemItemTraining {
            model: self.model.init(device)?,
            guard: None,
        })
    }

    fn save(
        &self,
        out_dir: &Path,
        trained: &Supervised<ItemItemTraining>,
        items: &ItemVocabulary,
    ) -> Result<(), TrainError> {
        let manifest = ItemItemManifest {
            model: self.model.clone(),
            training: Some(self.clone()),
        };
        save_item_item_dir(out_dir, &trained.best.model, &manifest, items)
    }
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
