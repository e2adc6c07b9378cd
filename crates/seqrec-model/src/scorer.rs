//! The serving interface shared by every model: a user vector computed once from a history,
//! then scores for the whole catalogue.

use burn::tensor::{Int, Tensor};

use crate::model::GsasRec;

/// A model that ranks the catalogue for histories of item ids.
///
/// Ids are `1..=num_items`; 0 is padding and `num_items + 1` is reserved (gSASRec's mask
/// token). Histories are left-padded with 0, oldest item first; a model reads at most the
/// last [`SequenceScorer::max_len`] items. The split into [`user_representation`] and
/// [`score_all`] lets a service compute a user vector once and score candidates cheaply.
///
/// [`user_representation`]: SequenceScorer::user_representation
/// [`score_all`]: SequenceScorer::score_all
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use seqrec_model::{GsasRecConfig, SequenceScorer};
///
/// fn top1(model: &impl SequenceScorer, history: Tensor<2, Int>) -> Tensor<2, Int> {
///     model.score_all(model.user_representation(history)).argmax(1)
/// }
/// let device = Device::ndarray();
/// let model = GsasRecConfig::new(20).with_dim(8).with_max_len(5).init(&device).unwrap();
/// let best = top1(&model, Tensor::<2, Int>::from_ints([[0, 3, 4]], &device));
/// assert_eq!(best.dims(), [1, 1]);
/// ```
pub trait SequenceScorer {
    /// Catalogue size: items are `1..=num_items`.
    fn num_items(&self) -> usize;
    /// The number of most recent history items the model reads.
    fn max_len(&self) -> usize;
    /// User representations `[batch, dim]` of left-padded histories `[batch, len]`.
    fn user_representation(&self, items: Tensor<2, Int>) -> Tensor<2>;
    /// Scores `[batch, num_items + 2]` of every id for each user representation; column `i`
    /// scores item `i`; padding (0) and the reserved id (`num_items + 1`) score `-inf`.
    fn score_all(&self, users: Tensor<2>) -> Tensor<2>;

    /// Scores `[batch, num_items + 2]` of every id for left-padded histories `[batch, len]`:
    /// what ranking, validation and serving call. The default is
    /// `score_all(user_representation(items))`; a model whose scores also read the history
    /// directly (gSASRec's repeat-aware term, personal popularity) overrides it.
    fn score_histories(&self, items: Tensor<2, Int>) -> Tensor<2> {
        self.score_all(self.user_representation(items))
    }

    /// Scores `[batch, n]` of the items `[batch, n]` (ids `1..=num_items`) for each user
    /// representation: a service that keeps a user vector scores candidate lists with it. The
    /// default gathers them from [`score_all`](SequenceScorer::score_all); gSASRec scores only
    /// the candidates.
    fn score_items(&self, users: Tensor<2>, items: Tensor<2, Int>) -> Tensor<2> {
        self.score_all(users).gather(1, items)
    }
}

impl SequenceScorer for GsasRec {
    fn num_items(&self) -> usize {
        self.num_items
    }

    /// The attention window, or the repeat term's longer one.
    fn max_len(&self) -> usize {
        self.repeat
            .as_ref()
            .map_or(self.max_len, |r| r.context.max(self.max_len))
    }

    fn user_representation(&self, items: Tensor<2, Int>) -> Tensor<2> {
        GsasRec::user_representation(self, items)
    }

    fn score_all(&self, users: Tensor<2>) -> Tensor<2> {
        GsasRec::score_all(self, users)
    }

    fn score_histories(&self, items: Tensor<2, Int>) -> Tensor<2> {
        GsasRec::score_histories(self, items)
    }

    fn score_items(&self, users: Tensor<2>, items: Tensor<2, Int>) -> Tensor<2> {
        GsasRec::score_candidates(self, users, items)
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.

    use burn::tensor::{Device, Int, Tensor};

    use super::SequenceScorer;
    use crate::{GsasRecConfig, Popularity};

    /// The candidates' columns of the full-catalogue scores, read on the host.
    fn gathered(all: Tensor<2>, items: &[[i64; 3]; 2]) -> Vec<f32> {
        let width = all.dims()[1];
        let all = all.into_data().to_vec::<f32>().unwrap();
        items
            .iter()
            .enumerate()
            .flat_map(|(row, ids)| ids.iter().map(move |&id| (row, id)))
            .map(|(row, id)| all[row * width + id as usize])
            .collect()
    }

    #[test]
    fn scoring_candidates_equals_the_full_catalogue_scores_at_their_ids() {
        let device = Device::ndarray();
        device.seed(4);
        let model = GsasRecConfig::new(30)
            .with_dim(8)
            .with_max_len(4)
            .init(&device)
            .unwrap();
        let popular = Popularity::new(
            &(0..32).map(|i| (i * 7 % 11) as u64).collect::<Vec<_>>(),
            &device,
        )
        .unwrap();
        let history = Tensor::<2, Int>::from_ints([[0, 3, 9, 4], [5, 6, 7, 8]], &device);
        let ids = [[1i64, 30, 7], [12, 12, 2]];
        let candidates = Tensor::<2, Int>::from_ints(ids, &device);
        let users = model.user_representation(history.clone());
        let direct = model.score_items(users.clone(), candidates.clone());
        let expected = gathered(model.score_all(users), &ids);
        let direct = direct.into_data().to_vec::<f32>().unwrap();
        for (a, b) in direct.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        let users = popular.user_representation(history);
        let direct = popular.score_items(users.clone(), candidates);
        assert_eq!(
            direct.into_data().to_vec::<f32>().unwrap(),
            gathered(popular.score_all(users), &ids)
        );
    }
}
