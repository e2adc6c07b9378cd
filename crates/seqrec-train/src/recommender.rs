//! Serving a trained model: recommendations for histories of the user's own item ids.

use std::path::Path;

use burn::tensor::{Device, Tensor};
use seqrec_data::ItemVocabulary;
use seqrec_model::GsasRec;

use crate::batch::EvalBatch;
use crate::error::TrainError;
use crate::model_dir::{SavedModel, load_model_dir};
use crate::ranking::{rank_top_k, validate_histories};

/// Histories ranked at a time by [`Recommender::recommend_ids`].
const RECOMMEND_BATCH_SIZE: usize = 256;

/// One recommended item.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recommendation {
    /// The item as the user knows it.
    pub item: String,
    /// The model's id of the item.
    pub id: u32,
    /// Its score, higher is better (a logit for gSASRec, a mean cosine similarity for the
    /// item-item model, a play count for popularity, 2 + the plays in the history for a
    /// history track of personal popularity).
    pub score: f32,
}

/// A trained model ready to recommend: gSASRec by default, or any [`SavedModel`] (such as
/// the item-item baseline, `Recommender::<ItemItem>::open(dir, device)`, or personal
/// popularity, `Recommender::<PersonalPopularity>::open(dir, device)`;
/// [`ModelKind::detect`](crate::ModelKind::detect) says which a directory holds).
///
/// Histories are in time order, oldest first; only the last `max_len` items are read.
pub struct Recommender<M: SavedModel = GsasRec> {
    model: M,
    manifest: M::Manifest,
    items: ItemVocabulary,
    device: Device,
}

impl Recommender<GsasRec> {
    /// Loads a gSASRec model directory written by training (or by an import) onto `device`.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self, TrainError> {
        let (model, manifest, items) = load_model_dir(dir.as_ref(), device)?;
        Ok(Self::new(model, manifest, items, device))
    }
}

impl<M: SavedModel> Recommender<M> {
    /// Loads a model directory of `M` (see [`SavedModel::load_dir`]) onto `device`.
    pub fn open(dir: impl AsRef<Path>, device: &Device) -> Result<Self, TrainError> {
        let (model, manifest, items) = M::load_dir(dir.as_ref(), device)?;
        Ok(Self::new(model, manifest, items, device))
    }

    /// Wraps a model in memory.
    pub fn new(model: M, manifest: M::Manifest, items: ItemVocabulary, device: &Device) -> Self {
        Self {
            model,
            manifest,
            items,
            device: device.clone(),
        }
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Its configuration.
    pub fn manifest(&self) -> &M::Manifest {
        &self.manifest
    }

    /// The item vocabulary.
    pub fn items(&self) -> &ItemVocabulary {
        &self.items
    }

    /// Model ids of a history of the user's own ids; unknown ids and empty histories are errors.
    pub fn resolve<S: AsRef<str>>(&self, history: &[S]) -> Result<Vec<u32>, TrainError> {
        if history.is_empty() {
            return Err(TrainError::EmptyHistory);
        }
        history
            .iter()
            .enumerate()
            .map(|(position, item)| {
                self.items
                    .id(item.as_ref())
                    .ok_or_else(|| TrainError::UnknownItem {
                        item: item.as_ref().to_string(),
                        position,
                    })
            })
            .collect()
    }

    /// The top `k` items for a history of the user's own ids. With `exclude_history` the
    /// history's items are not recommended (music is re-listened: by default they may be).
    pub fn recommend<S: AsRef<str>>(
        &self,
        history: &[S],
        k: usize,
        exclude_history: bool,
    ) -> Result<Vec<Recommendation>, TrainError> {
        let ids = self.resolve(history)?;
        let ranked = self.recommend_ids(&[ids], k, exclude_history)?;
        Ok(ranked
            .into_iter()
            .flatten()
            .map(|(id, score)| Recommendation {
                item: self.items.name(id).unwrap_or_default().to_string(),
                id,
                score,
            })
            .collect())
    }

    /// The user representations `[batch, dim]` of histories of model ids: compute once, score
    /// them with [`score_all`](seqrec_model::SequenceScorer::score_all) (or, for gSASRec, candidates with
    /// [`GsasRec::score_candidates`]).
    pub fn user_representation(&self, histories: &[Vec<u32>]) -> Result<Tensor<2>, TrainError> {
        validate_histories(histories, self.model.num_items())?;
        let refs: Vec<&[u32]> = histories.iter().map(Vec::as_slice).collect();
        let targets = vec![0u32; histories.len()];
        let batch = EvalBatch::new(
            &refs,
            &targets,
            self.model.max_len(),
            self.model.num_items(),
            false,
            &self.device,
        );
        Ok(self.model.user_representation(batch.input))
    }

    /// Top `k` `(model id, score)` per history of model ids, best first, over the whole
    /// catalogue. Padding and (with `exclude_history`) history items are never returned.
    /// See [`rank_top_k`], which this calls with batches of 256 histories.
    pub fn recommend_ids(
        &self,
        histories: &[Vec<u32>],
        k: usize,
        exclude_history: bool,
    ) -> Result<Vec<Vec<(u32, f32)>>, TrainError> {
        rank_top_k(
            &self.model,
            histories,
            k,
            exclude_history,
            RECOMMEND_BATCH_SIZE,
            &self.device,
        )
    }
}
