//! Serving a trained model: recommendations for histories of the user's own item ids.

use std::path::Path;

use burn::tensor::{Device, Int, Tensor};
use seqrec_data::ItemVocabulary;
use seqrec_model::GsasRec;

use crate::batch::EvalBatch;
use crate::error::TrainError;
use crate::serving::model_dir::{ModelKind, SavedModel, load_model_dir};
use crate::serving::ranking::{rank_top_k, rank_top_k_excluding, validate_histories};

/// The model ids of a history of the user's own ids in `items`: an empty history is
/// [`TrainError::EmptyHistory`], an id `items` lacks [`TrainError::UnknownItem`] with its
/// position.
pub fn resolve_history<S: AsRef<str>>(
    items: &ItemVocabulary,
    history: &[S],
) -> Result<Vec<u32>, TrainError> {
    if history.is_empty() {
        return Err(TrainError::EmptyHistory);
    }
    history
        .iter()
        .enumerate()
        .map(|(position, item)| {
            items
                .id(item.as_ref())
                .ok_or_else(|| TrainError::UnknownItem {
                    item: item.as_ref().to_string(),
                    position,
                })
        })
        .collect()
}

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

    /// The kind of model it serves.
    pub fn kind(&self) -> ModelKind {
        M::KIND
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
        resolve_history(&self.items, history)
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
    /// candidate lists with [`score_candidates`](Self::score_candidates), or the catalogue with
    /// [`score_all`](seqrec_model::SequenceScorer::score_all) (or, for gSASRec, candidates with
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

    /// Scores of `candidates` (the user's own item ids) for each user representation of
    /// [`user_representation`](Self::user_representation): one row per user, one score per
    /// candidate, in order. A service computes the vector once per listener and scores each
    /// candidate list (from a retrieval stage, a playlist, a page) with it; gSASRec scores only
    /// the candidates. For a gSASRec with the repeat-aware term these are the scores without
    /// the history's repeat bias, which [`recommend`](Self::recommend) adds.
    pub fn score_candidates<S: AsRef<str>>(
        &self,
        users: Tensor<2>,
        candidates: &[S],
    ) -> Result<Vec<Vec<f32>>, TrainError> {
        let [batch, _] = users.dims();
        if candidates.is_empty() || batch == 0 {
            return Ok(vec![Vec::new(); batch]);
        }
        let ids = self.resolve(candidates)?;
        let row: Vec<i64> = ids.iter().map(|&id| i64::from(id)).collect();
        let items = Tensor::<1, Int>::from_ints(row.as_slice(), &self.device)
            .reshape([1, ids.len()])
            .repeat_dim(0, batch);
        let scores = self
            .model
            .score_items(users, items)
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Device(format!("{e:?}")))?;
        Ok(scores.chunks(ids.len()).map(<[f32]>::to_vec).collect())
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

    /// [`recommend_ids`](Self::recommend_ids) with the items never returned for each history
    /// given apart from it (`exclusions[u]` for `histories[u]`; an empty list or `None`
    /// excludes nothing), ranked `batch_size` histories per forward pass: what a service
    /// that batches requests with different `exclude_history` settings calls.
    pub fn recommend_ids_excluding(
        &self,
        histories: &[Vec<u32>],
        exclusions: Option<&[Vec<u32>]>,
        k: usize,
        batch_size: usize,
    ) -> Result<Vec<Vec<(u32, f32)>>, TrainError> {
        rank_top_k_excluding(
            &self.model,
            histories,
            exclusions,
            k,
            batch_size,
            &self.device,
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.

    use seqrec_model::{GsasRecConfig, ItemItem, PersonalPopularity};

    use super::*;
    use crate::serving::model_dir::GsasRecManifest;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn recommenders_are_shared_by_threads_and_score_as_one_thread() {
        assert_send_sync::<Recommender<GsasRec>>();
        assert_send_sync::<Recommender<ItemItem>>();
        assert_send_sync::<Recommender<PersonalPopularity>>();
        let device = Device::ndarray();
        device.seed(21);
        let config = GsasRecConfig::new(40).with_dim(8).with_max_len(6);
        let model = config.init(&device).unwrap();
        let manifest = GsasRecManifest {
            model: config,
            training: None,
        };
        let recommender = Recommender::new(model, manifest, ItemVocabulary::identity(40), &device);
        let histories: Vec<Vec<u32>> = (0..24u32)
            .map(|u| (0..=u % 9).map(|j| (u * 7 + j * 3) % 40 + 1).collect())
            .collect();
        let alone: Vec<_> = histories
            .iter()
            .map(|h| recommender.recommend_ids(std::slice::from_ref(h), 10, h[0] % 2 == 0))
            .collect::<Result<_, _>>()
            .unwrap();
        // A user vector scores candidates as the full ranking does (no repeat term here).
        let users = recommender.user_representation(&histories[..2]).unwrap();
        let names = ["5", "40", "13"];
        let scored = recommender.score_candidates(users, &names).unwrap();
        for (history, row) in histories[..2].iter().zip(&scored) {
            let all = recommender
                .recommend_ids(std::slice::from_ref(history), 40, false)
                .unwrap();
            for (name, score) in names.iter().zip(row) {
                let id: u32 = name.parse().unwrap();
                let (_, want) = all[0].iter().find(|(i, _)| *i == id).unwrap();
                assert!((score - want).abs() < 1e-5, "{name}: {score} vs {want}");
            }
        }
        let unknown = recommender
            .score_candidates(
                recommender.user_representation(&histories[..1]).unwrap(),
                &["7", "x"],
            )
            .unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("unknown item `x` at position 1"),
            "{unknown}"
        );
        // Eight threads at once, each through the histories in its own order.
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..8usize)
                .map(|t| {
                    let (recommender, histories, alone) = (&recommender, &histories, &alone);
                    scope.spawn(move || {
                        for i in (0..histories.len()).map(|i| (i * 5 + t) % histories.len()) {
                            let h = &histories[i];
                            let got = recommender
                                .recommend_ids(std::slice::from_ref(h), 10, h[0] % 2 == 0)
                                .unwrap();
                            assert_eq!(got, alone[i], "thread {t}, history {i}");
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
        });
    }
}
