//! Serving gSASRec from an approximate index (optional; exact ranking is the default).
//!
//! [`AnnRanker`] ranks as the exact [`Ranker`] of a gSASRec does, but scores only candidates:
//! for each history, the top `k · oversample` items by the dot product `user · out_i` from an
//! HNSW index over the output table ([`seqrec_ann::AnnIndex`]), together with every item of
//! the history, are scored **exactly** by the model (the dot product, the repeat-aware term of
//! the history's items, reserved ids never returned), and the best `k` are kept. Only the
//! dot product is approximate: an item outside the history has no repeat term, so with an
//! index that returns the exact top candidates the lists are the exact ones (the index is
//! asked for `k · oversample` plus as many items as the history and the exclusions hold, so
//! that a history item demoted by its repeat term or excluded leaves no gap).

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor};
use seqrec_ann::{AnnConfig, AnnIndex, Opened};
use seqrec_data::ItemVocabulary;
use seqrec_model::{GsasRec, SequenceScorer};
use seqrec_train::{ModelKind, Recommender, TrainError};
use serde::{Deserialize, Serialize};

use crate::error::ServeError;
use crate::ranker::{RankedIds, Ranker, open_model_dir};

/// The index directory inside a model directory, by default.
pub const ANN_DIR: &str = "ann";

/// Settings of approximate serving ([`open_model_dir_with_ann`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnnOptions {
    /// Candidates per history from the index: `k · oversample` (plus the history's items).
    /// More: better recall, more exact scoring. Default 4.
    pub oversample: usize,
    /// The index settings (`M`, `ef_construction`, `ef_search`, ...). Default
    /// [`AnnConfig::default`].
    pub index: AnnConfig,
    /// Where the index is saved and looked for. Default (`None`): `ann/` in the model
    /// directory.
    pub dir: Option<PathBuf>,
}

impl Default for AnnOptions {
    fn default() -> Self {
        Self {
            oversample: 4,
            index: AnnConfig::default(),
            dir: None,
        }
    }
}

impl AnnOptions {
    /// Refuses settings that cannot work: a zero oversampling, index settings
    /// [`AnnConfig::validate`] refuses.
    pub fn validate(&self) -> Result<(), ServeError> {
        if self.oversample == 0 {
            return Err(ServeError::Config(
                "ann oversample must be at least 1".into(),
            ));
        }
        self.index
            .validate()
            .map_err(|e| ServeError::Config(e.to_string()))
    }
}

/// A gSASRec [`Recommender`] that ranks candidates from an approximate index (see the
/// module documentation).
pub struct AnnRanker {
    recommender: Recommender<GsasRec>,
    index: AnnIndex,
    oversample: usize,
    device: Device,
}

/// The output table of a gSASRec on the host, row-major `[num_items + 2, dim]`.
pub fn output_table(model: &GsasRec) -> Result<Vec<f32>, TrainError> {
    model
        .output_table()
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| TrainError::Device(format!("{e:?}")))
}

/// The rows of a gSASRec's output table that are never recommended: padding (0) and the
/// reserved id (`num_items + 1`).
pub fn reserved_rows(model: &GsasRec) -> [usize; 2] {
    [0, model.num_items + 1]
}

/// An error of the index while ranking, as the ranking error the worker reports.
fn index_error(error: seqrec_ann::AnnError) -> TrainError {
    TrainError::Device(format!("approximate index: {error}"))
}

impl AnnRanker {
    /// Wraps a recommender and an index built from its output table (checked: another
    /// model's index is [`seqrec_ann::AnnError::Stale`]).
    pub fn new(
        recommender: Recommender<GsasRec>,
        index: AnnIndex,
        oversample: usize,
        device: &Device,
    ) -> Result<Self, ServeError> {
        let model = recommender.model();
        let table = output_table(model)?;
        index
            .check_table(&table, model.dim(), &reserved_rows(model))
            .map_err(|e| ServeError::Config(e.to_string()))?;
        Ok(Self {
            recommender,
            index,
            oversample: oversample.max(1),
            device: device.clone(),
        })
    }

    /// Opens a gSASRec model directory onto `device` with its index: the one saved in
    /// `options.dir` (default `dir/ann/`) when it was built from these weights with these
    /// settings, else a new one, built (on `options.index.threads` threads; minutes at
    /// millions of items, docs/scale-ann.md) and saved there when the directory is writable.
    /// `progress` is called with the rows indexed while building.
    pub fn open(
        dir: &Path,
        device: &Device,
        options: &AnnOptions,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(Self, Opened), ServeError> {
        options.validate()?;
        let kind = ModelKind::detect(dir)?;
        if kind != ModelKind::GsasRec {
            return Err(ServeError::Config(format!(
                "the approximate index serves gSASRec models; {} holds a {kind:?} model",
                dir.display()
            )));
        }
        let recommender = Recommender::<GsasRec>::open(dir, device)?;
        let model = recommender.model();
        let table = output_table(model)?;
        let index_dir = options.dir.clone().unwrap_or_else(|| dir.join(ANN_DIR));
        let (index, opened) = AnnIndex::open_or_build(
            &index_dir,
            &table,
            model.dim(),
            &reserved_rows(model),
            &options.index,
            progress,
        )
        .map_err(|e| ServeError::Config(format!("approximate index: {e}")))?;
        drop(table);
        Ok((
            Self {
                recommender,
                index,
                oversample: options.oversample,
                device: device.clone(),
            },
            opened,
        ))
    }

    /// The recommender whose model scores the candidates.
    pub fn recommender(&self) -> &Recommender<GsasRec> {
        &self.recommender
    }

    /// The index.
    pub fn index(&self) -> &AnnIndex {
        &self.index
    }

    /// The index, to change its `ef_search` ([`AnnIndex::set_expansion_search`]).
    pub fn index_mut(&mut self) -> &mut AnnIndex {
        &mut self.index
    }

    /// Candidates per history: `k · oversample` (plus the history's items).
    pub fn oversample(&self) -> usize {
        self.oversample
    }

    /// The candidates of each history: the index's top items for its user vector (`users`
    /// `[batch, dim]` on the host) and the history's own items, less its exclusions, each
    /// once, in increasing id order.
    fn candidates(
        &self,
        users: &[f32],
        histories: &[Vec<u32>],
        exclusions: &[Vec<u32>],
        k: usize,
    ) -> Result<Vec<Vec<u32>>, TrainError> {
        let distinct = |items: &[u32]| {
            let mut items = items.to_vec();
            items.sort_unstable();
            items.dedup();
            items
        };
        let histories: Vec<Vec<u32>> = histories.iter().map(|h| distinct(h)).collect();
        let exclusions: Vec<Vec<u32>> = exclusions.iter().map(|e| distinct(e)).collect();
        let counts: Vec<usize> = histories
            .iter()
            .zip(&exclusions)
            .map(|(h, e)| (k * self.oversample + h.len() + e.len()).min(self.index.len()))
            .collect();
        let found = self
            .index
            .search_batch_counts(users, &counts)
            .map_err(index_error)?;
        Ok(found
            .into_iter()
            .zip(histories)
            .zip(&exclusions)
            .map(|((found, history), excluded)| {
                let mut ids: Vec<u32> = found.iter().map(|n| n.id).chain(history).collect();
                ids.sort_unstable();
                ids.dedup();
                ids.retain(|id| excluded.binary_search(id).is_err());
                ids
            })
            .collect())
    }
}

impl Ranker for AnnRanker {
    fn kind(&self) -> ModelKind {
        ModelKind::GsasRec
    }

    fn items(&self) -> &ItemVocabulary {
        self.recommender.items()
    }

    fn max_len(&self) -> usize {
        SequenceScorer::max_len(self.recommender.model())
    }

    fn rank(
        &self,
        histories: &[Vec<u32>],
        exclusions: &[Vec<u32>],
        k: usize,
    ) -> Result<RankedIds, TrainError> {
        if exclusions.len() != histories.len() {
            return Err(TrainError::SizeMismatch {
                what: "exclusion lists (one per history)",
                expected: histories.len(),
                found: exclusions.len(),
            });
        }
        let model = self.recommender.model();
        let k = k.min(model.num_items);
        if histories.is_empty() || k == 0 {
            // Still refuse what exact ranking refuses.
            self.recommender.user_representation(histories)?;
            return Ok(vec![Vec::new(); histories.len()]);
        }
        // Checks the histories (none empty, every id known) as exact ranking does.
        let users = self.recommender.user_representation(histories)?;
        let host = users
            .clone()
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Device(format!("{e:?}")))?;
        let candidates = self.candidates(&host, histories, exclusions, k)?;
        let width = candidates.iter().map(Vec::len).max().unwrap_or(0);
        if width == 0 {
            return Ok(vec![Vec::new(); histories.len()]);
        }
        let batch = histories.len();
        // Rows are padded to the longest with their own first candidate (or item 1), and the
        // padding's scores are dropped.
        let mut flat = Vec::with_capacity(batch * width);
        for row in &candidates {
            let pad = row.first().copied().unwrap_or(1);
            flat.extend(row.iter().map(|&id| i64::from(id)));
            flat.extend(std::iter::repeat_n(i64::from(pad), width - row.len()));
        }
        let items =
            Tensor::<1, Int>::from_ints(flat.as_slice(), &self.device).reshape([batch, width]);
        let mut scores = model.score_candidates(users, items.clone());
        if let Some(bias) = model.repeat_bias(self.windows(histories), items) {
            scores = scores + bias;
        }
        let scores = scores
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Device(format!("{e:?}")))?;
        Ok(candidates
            .iter()
            .zip(scores.chunks(width))
            .map(|(row, scores)| {
                let mut ranked: Vec<(u32, f32)> = row
                    .iter()
                    .zip(scores)
                    .filter(|(_, s)| s.is_finite())
                    .map(|(&id, &s)| (id, s))
                    .collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                ranked.truncate(k);
                ranked
            })
            .collect())
    }
}

impl AnnRanker {
    /// The histories as the model reads them: the last [`Ranker::max_len`] items of each,
    /// left-padded with 0 to the longest `[batch, len]` (as exact ranking batches them).
    fn windows(&self, histories: &[Vec<u32>]) -> Tensor<2, Int> {
        let max_len = Ranker::max_len(self);
        let len = histories
            .iter()
            .map(|h| h.len().min(max_len))
            .max()
            .unwrap_or(1)
            .max(1);
        let mut input = vec![0i64; histories.len() * len];
        for (b, h) in histories.iter().enumerate() {
            let tail = &h[h.len().saturating_sub(max_len)..];
            for (slot, &id) in input[b * len + len - tail.len()..(b + 1) * len]
                .iter_mut()
                .zip(tail)
            {
                *slot = i64::from(id);
            }
        }
        Tensor::<1, Int>::from_ints(input.as_slice(), &self.device).reshape([histories.len(), len])
    }
}

/// [`open_model_dir`] with approximate serving when `ann` is given: a gSASRec directory is
/// served by an [`AnnRanker`] (its index loaded, or built and saved, see [`AnnRanker::open`]),
/// with `progress` called while building; `None` is exact ranking, the default. Other model
/// kinds are refused with `ann`.
pub fn open_model_dir_with_ann(
    dir: &Path,
    device: &Device,
    ann: Option<&AnnOptions>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(Box<dyn Ranker>, Option<Opened>), ServeError> {
    match ann {
        None => Ok((open_model_dir(dir, device)?, None)),
        Some(options) => {
            let (ranker, opened) = AnnRanker::open(dir, device, options, progress)?;
            Ok((Box::new(ranker), Some(opened)))
        }
    }
}
