//! The popularity floor: the same ranking for every user, by play count.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::ConfigError;
use crate::ids::reserved_bias;
use crate::scorer::SequenceScorer;

/// Recommends the most played items to everyone: the floor any personalised model must beat.
///
/// The score of an item is its play count in the training window (as `f32`); padding (0)
/// and the reserved id (`num_items + 1`) score `-inf`. Histories are ignored except for their
/// batch size.
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use seqrec_model::{Popularity, SequenceScorer};
///
/// let device = Device::ndarray();
/// let model = Popularity::new(&[0, 5, 40, 7], &device).unwrap(); // items 1..=3
/// let history = Tensor::<2, Int>::from_ints([[1, 3]], &device);
/// let best = model.score_all(model.user_representation(history)).argmax(1);
/// assert_eq!(best.into_data().to_vec::<i64>().unwrap(), vec![2]);
/// ```
#[derive(Debug, Clone)]
pub struct Popularity {
    scores: Tensor<2>,
    num_items: usize,
}

impl Popularity {
    /// A popularity ranking from play counts indexed by id: `counts[i]` is the count of item
    /// `i`, `counts[0]` is unused, and `num_items = counts.len() - 1` (the layout of
    /// `TrainingData::item_counts` in `seqrec-train`). Fewer than two entries is an error.
    pub fn new(counts: &[u64], device: &Device) -> Result<Self, ConfigError> {
        if counts.len() < 2 {
            return Err(ConfigError(format!(
                "popularity: counts must have an entry per item after the unused entry 0, got {} entries",
                counts.len()
            )));
        }
        let num_items = counts.len() - 1;
        let rows = num_items + 2;
        let mut scores: Vec<f32> = counts.iter().map(|&c| c as f32).collect();
        scores.push(0.0);
        let scores = Tensor::<2>::from_data(TensorData::new(scores, [1, rows]), device)
            + reserved_bias(rows, device);
        Ok(Self { scores, num_items })
    }

    /// The scores of every id `[1, num_items + 2]`.
    pub fn scores(&self) -> Tensor<2> {
        self.scores.clone()
    }
}

impl SequenceScorer for Popularity {
    fn num_items(&self) -> usize {
        self.num_items
    }

    /// 1: the history is not read.
    fn max_len(&self) -> usize {
        1
    }

    /// A constant `[batch, 1]` of ones: every user is the same.
    fn user_representation(&self, items: Tensor<2, Int>) -> Tensor<2> {
        let [batch, _] = items.dims();
        Tensor::ones([batch, 1], &items.device())
    }

    fn score_all(&self, users: Tensor<2>) -> Tensor<2> {
        let [batch, _] = users.dims();
        let rows = self.num_items + 2;
        let scores = self.scores.clone();
        let scores = if scores.device() == users.device() {
            scores
        } else {
            scores.to_device(&users.device())
        };
        scores.expand([batch, rows])
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;

    #[test]
    fn everyone_gets_the_counts_and_reserved_ids_never_rank() {
        let device = Device::ndarray();
        let model = Popularity::new(&[99, 3, 0, 8, 1], &device).unwrap();
        assert_eq!((model.num_items(), model.max_len()), (4, 1));
        let histories = Tensor::<2, Int>::from_ints([[0, 1], [4, 2]], &device);
        let users = model.user_representation(histories);
        let scores: Vec<f32> = model.score_all(users).into_data().to_vec().unwrap();
        let ninf = f32::NEG_INFINITY;
        let row = [ninf, 3.0, 0.0, 8.0, 1.0, ninf];
        assert_eq!(scores, [row, row].concat());
        assert!(Popularity::new(&[0], &device).is_err());
        assert!(Popularity::new(&[], &device).is_err());
    }
}
