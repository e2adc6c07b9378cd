//! Serving a trained model: recommendations for histories of the user's own item ids.

use std::path::Path;

use burn::tensor::{Device, Tensor};
use seqrec_data::ItemVocabulary;
use seqrec_model::GsasRec;

use crate::batch::EvalBatch;
use crate::error::TrainError;
use crate::model_dir::{ModelManifest, load_model_dir};

/// One recommended item.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recommendation {
    /// The item as the user knows it.
    pub item: String,
    /// The model's id of the item.
    pub id: u32,
    /// Its score (a logit: higher is better).
    pub score: f32,
}

/// A trained model ready to recommend.
///
/// Histories are in time order, oldest first; only the last `max_len` items are read.
pub struct Recommender {
    model: GsasRec,
    manifest: ModelManifest,
    items: ItemVocabulary,
    device: Device,
}

impl Recommender {
    /// Loads a model directory written by training (or by an import) onto `device`.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self, TrainError> {
        let (model, manifest, items) = load_model_dir(dir.as_ref(), device)?;
        Ok(Self {
            model,
            manifest,
            items,
            device: device.clone(),
        })
    }

    /// Wraps a model in memory.
    pub fn new(
        model: GsasRec,
        manifest: ModelManifest,
        items: ItemVocabulary,
        device: &Device,
    ) -> Self {
        Self {
            model,
            manifest,
            items,
            device: device.clone(),
        }
    }

    /// The model.
    pub fn model(&self) -> &GsasRec {
        &self.model
    }

    /// Its configuration.
    pub fn manifest(&self) -> &ModelManifest {
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
    /// candidates with [`GsasRec::score_candidates`] or [`GsasRec::score_all`].
    pub fn user_representation(&self, histories: &[Vec<u32>]) -> Result<Tensor<2>, TrainError> {
        let batch = self.batch(histories, false)?;
        Ok(self.model.user_representation(batch.input))
    }

    /// Top `k` `(model id, score)` per history of model ids, best first, over the whole
    /// catalogue. Padding and (with `exclude_history`) history items are never returned.
    pub fn recommend_ids(
        &self,
        histories: &[Vec<u32>],
        k: usize,
        exclude_history: bool,
    ) -> Result<Vec<Vec<(u32, f32)>>, TrainError> {
        if histories.is_empty() || k == 0 {
            return Ok(vec![Vec::new(); histories.len()]);
        }
        let batch = self.batch(histories, exclude_history)?;
        let mut scores = self
            .model
            .score_all(self.model.user_representation(batch.input));
        if let Some(exclusion) = batch.exclusion {
            scores = scores + exclusion;
        }
        let k = k.min(self.model.num_items);
        let (values, indices) = scores.topk_with_indices(k, 1);
        let values = values
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        let indices = indices
            .try_into_vec_as::<i64>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        Ok(values
            .chunks(k)
            .zip(indices.chunks(k))
            .map(|(v, i)| {
                v.iter()
                    .zip(i)
                    .filter(|(s, _)| s.is_finite())
                    .map(|(&s, &id)| (id as u32, s))
                    .collect()
            })
            .collect())
    }

    fn batch(
        &self,
        histories: &[Vec<u32>],
        exclude_history: bool,
    ) -> Result<EvalBatch, TrainError> {
        let num_items = self.model.num_items;
        for history in histories {
            if history.is_empty() {
                return Err(TrainError::EmptyHistory);
            }
            if let Some((position, &id)) = history
                .iter()
                .enumerate()
                .find(|&(_, &id)| id == 0 || id as usize > num_items)
            {
                return Err(TrainError::UnknownItem {
                    item: id.to_string(),
                    position,
                });
            }
        }
        let refs: Vec<&[u32]> = histories.iter().map(Vec::as_slice).collect();
        // No target: 0 is never in a history, so nothing is spared from exclusion.
        let targets = vec![0u32; histories.len()];
        Ok(EvalBatch::new(
            &refs,
            &targets,
            self.model.max_len,
            num_items,
            exclude_history,
            &self.device,
        ))
    }
}
