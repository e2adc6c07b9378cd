//! Any saved model behind one object-safe interface, so that the service and the batch mode
//! serve every model kind the same way.

use std::path::Path;

use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::{GsasRec, ItemItem, PersonalPopularity};
use seqrec_train::{ModelKind, Recommender, SavedModel, TrainError};

/// Top `k` `(model id, score)` lists, one per history, best first.
pub type RankedIds = Vec<Vec<(u32, f32)>>;

/// Histories ranked per forward pass inside one call of [`Ranker::rank`].
pub const RANK_CHUNK: usize = 256;

/// A loaded model that ranks the whole catalogue: gSASRec, item-item, personal popularity
/// or popularity, as a [`Recommender`].
pub trait Ranker: Send {
    /// Which model it is.
    fn kind(&self) -> ModelKind;
    /// The item vocabulary (the user's own ids and the model's).
    fn items(&self) -> &ItemVocabulary;
    /// The number of most recent history items the model reads.
    fn max_len(&self) -> usize;
    /// Top `k` per history of model ids; the items of `exclusions[u]` are never returned for
    /// `histories[u]` (an empty list excludes nothing). See
    /// [`seqrec_train::rank_top_k_excluding`].
    fn rank(
        &self,
        histories: &[Vec<u32>],
        exclusions: &[Vec<u32>],
        k: usize,
    ) -> Result<RankedIds, TrainError>;
}

impl<M: SavedModel + Send> Ranker for Recommender<M> {
    fn kind(&self) -> ModelKind {
        Recommender::kind(self)
    }

    fn items(&self) -> &ItemVocabulary {
        Recommender::items(self)
    }

    fn max_len(&self) -> usize {
        self.model().max_len()
    }

    fn rank(
        &self,
        histories: &[Vec<u32>],
        exclusions: &[Vec<u32>],
        k: usize,
    ) -> Result<RankedIds, TrainError> {
        self.recommend_ids_excluding(histories, Some(exclusions), k, RANK_CHUNK)
    }
}

/// The model ids never recommended for `history`: with `exclude_history` the history's own
/// items (as it gives them, repeats included), otherwise none. The service, the batch file
/// mode and `seqrec recommend` build each history's entry of [`Ranker::rank`]'s `exclusions`
/// with it.
pub fn history_exclusion(history: &[u32], exclude_history: bool) -> Vec<u32> {
    if exclude_history {
        history.to_vec()
    } else {
        Vec::new()
    }
}

/// Opens a model directory of any kind ([`ModelKind::detect`]) onto `device`.
pub fn open_model_dir(dir: &Path, device: &Device) -> Result<Box<dyn Ranker>, TrainError> {
    Ok(match ModelKind::detect(dir)? {
        ModelKind::GsasRec => Box::new(Recommender::<GsasRec>::open(dir, device)?),
        ModelKind::ItemItem => Box::new(Recommender::<ItemItem>::open(dir, device)?),
        ModelKind::PersonalPopularity => {
            Box::new(Recommender::<PersonalPopularity>::open(dir, device)?)
        }
    })
}

/// The most padding a forward pass may carry, as a fraction of its real positions: histories
/// are padded to the longest of their pass, so a pass of mixed lengths is split.
const MAX_PADDING: f64 = 0.25;

/// Groups of indices of `lengths`, each sorted by length, whose padding to their longest
/// stays within `max_padding` of their real length (a group of one has none). Every index is
/// in exactly one group.
fn length_groups(lengths: &[usize], max_padding: f64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group: Vec<usize> = Vec::new();
    let mut real = 0usize;
    for i in order {
        let len = lengths[i];
        // Sorted ascending: `len` is the longest, so the group would pad to it.
        let padded = (group.len() + 1) * len;
        if !group.is_empty() && padded as f64 > (real + len) as f64 * (1.0 + max_padding) {
            groups.push(std::mem::take(&mut group));
            real = 0;
        }
        group.push(i);
        real += len;
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

/// [`Ranker::rank`] in passes of histories of similar length, so that none is padded by more
/// than a quarter of its real positions; the results come back in input order. The service and
/// the batch file mode rank with it (a pass is padded to its longest history).
pub fn rank_by_length(
    ranker: &dyn Ranker,
    histories: &[Vec<u32>],
    exclusions: &[Vec<u32>],
    k: usize,
) -> Result<RankedIds, TrainError> {
    let max_len = ranker.max_len().max(1);
    let lengths: Vec<usize> = histories
        .iter()
        .map(|h| h.len().clamp(1, max_len))
        .collect();
    let mut ranked: RankedIds = vec![Vec::new(); histories.len()];
    for group in length_groups(&lengths, MAX_PADDING) {
        let part: Vec<Vec<u32>> = group.iter().map(|&i| histories[i].clone()).collect();
        let excluded: Vec<Vec<u32>> = group.iter().map(|&i| exclusions[i].clone()).collect();
        for (i, list) in group.into_iter().zip(ranker.rank(&part, &excluded, k)?) {
            ranked[i] = list;
        }
    }
    Ok(ranked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_exclusions_are_the_resolved_history_or_nothing() {
        let mut items = ItemVocabulary::default();
        for name in ["a", "b", "c"] {
            items.insert(name);
        }
        // Repeats and an unknown item (left out, as the batch file mode's `--skip-unknown`
        // does): the exclusion is the resolved history, repeats kept, in order.
        let ids: Vec<u32> = ["b", "x", "b", "a", "b"]
            .iter()
            .filter_map(|name| items.id(name))
            .collect();
        let (a, b) = (items.id("a").unwrap(), items.id("b").unwrap());
        assert_eq!(ids, vec![b, b, a, b]);
        assert_eq!(history_exclusion(&ids, true), ids);
        assert!(history_exclusion(&ids, false).is_empty());
        assert!(history_exclusion(&[], true).is_empty());
    }

    #[test]
    fn length_groups_cover_every_history_once_within_the_padding_bound() {
        let lengths: Vec<usize> = (0..200).map(|i| (i * 37 % 199) + 1).collect();
        for bound in [0.0, 0.25, 1.0] {
            let groups = length_groups(&lengths, bound);
            let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
            for group in &groups {
                let longest = group.iter().map(|&i| lengths[i]).max().unwrap();
                let real: usize = group.iter().map(|&i| lengths[i]).sum();
                let padded = longest * group.len();
                assert!(
                    group.len() == 1 || padded as f64 <= real as f64 * (1.0 + bound) + 1e-9,
                    "bound {bound}: {group:?}"
                );
            }
        }
        // Equal lengths are one pass; no padding allowed splits every distinct length.
        assert_eq!(length_groups(&[5, 5, 5, 5], 0.0).len(), 1);
        assert_eq!(length_groups(&[1, 2, 3], 0.0).len(), 3);
        assert_eq!(length_groups(&[3, 1, 2], 1.0), vec![vec![1, 2, 0]]);
        assert!(length_groups(&[], 0.25).is_empty());
    }
}
