//! The paper's neural item-item baseline: item2vec (skip-gram with negative sampling over
//! listening histories), served as the mean cosine similarity between a track and the tracks
//! of the history.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer};
use burn::tensor::module::embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::ConfigError;
use crate::ids::{last_columns, reserved_bias};
use crate::scorer::SequenceScorer;

/// How the items of a history are weighted in the user representation of an [`ItemItem`].
#[derive(Config, Debug, Copy, PartialEq)]
pub enum Recency {
    /// Every item of the history counts the same: the score of a track is its mean cosine
    /// similarity to the tracks of the history.
    Uniform,
    /// The `j`-th most recent item (`j = 0` for the last one) weighs `0.5^(j / items)`:
    /// an item `items` plays back counts half as much as the last one.
    HalfLife {
        /// The half-life in history items; finite and positive.
        items: f64,
    },
}

impl Recency {
    /// Weights of the columns of a left-padded window of `len` items, oldest first (the last
    /// column is the most recent item).
    pub fn weights(&self, len: usize) -> Vec<f32> {
        match *self {
            Recency::Uniform => vec![1.0; len],
            Recency::HalfLife { items } => (0..len)
                .map(|column| 0.5f64.powf((len - 1 - column) as f64 / items) as f32)
                .collect(),
        }
    }
}

/// Configuration of an [`ItemItem`] model.
///
/// Ids are those of gSASRec: items `1..=num_items`, 0 is padding, and the reserved id
/// `num_items + 1` has a row (so that tables line up with gSASRec's) but is never scored.
///
/// ```
/// use seqrec_model::{ItemItemConfig, Recency};
/// let config = ItemItemConfig::new(1000).with_recency(Recency::HalfLife { items: 20.0 });
/// assert_eq!((config.dim, config.max_len), (64, 200));
/// ```
#[derive(Config, Debug, PartialEq)]
pub struct ItemItemConfig {
    /// Number of items in the catalogue; ids run from 1 to `num_items`.
    pub num_items: usize,
    /// Embedding size. Default: 64.
    #[config(default = 64)]
    pub dim: usize,
    /// How many of the most recent history items make the user representation. Default: 200
    /// (gSASRec's window, so that both models read the same history).
    #[config(default = 200)]
    pub max_len: usize,
    /// Weights of the history items. Default: [`Recency::Uniform`].
    #[config(default = "Recency::Uniform")]
    pub recency: Recency,
}

impl ItemItemConfig {
    /// Checks every field; [`ItemItemConfig::init`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |msg: String| Err(ConfigError(format!("item-item: {msg}")));
        if self.num_items == 0 {
            return fail("num_items must be at least 1".into());
        }
        if self.dim == 0 {
            return fail("dim must be at least 1".into());
        }
        if self.max_len == 0 {
            return fail("max_len must be at least 1".into());
        }
        if let Recency::HalfLife { items } = self.recency
            && !(items.is_finite() && items > 0.0)
        {
            return fail(format!("the half-life must be positive, got {items}"));
        }
        Ok(())
    }

    /// Number of rows of the embedding tables: padding, the items, the reserved id.
    pub fn vocab_rows(&self) -> usize {
        self.num_items + 2
    }

    /// Builds a freshly initialised model on `device`, as word2vec does: input vectors
    /// uniform in `±0.5 / dim`, context vectors zero.
    pub fn init(&self, device: &Device) -> Result<ItemItem, ConfigError> {
        self.validate()?;
        let half = 0.5 / self.dim as f64;
        let table = |initializer| {
            EmbeddingConfig::new(self.vocab_rows(), self.dim)
                .with_initializer(initializer)
                .init(device)
        };
        Ok(ItemItem {
            target_embedding: table(Initializer::Uniform {
                min: -half,
                max: half,
            }),
            context_embedding: table(Initializer::Zeros),
            context_bias: Param::from_tensor(Tensor::zeros([self.vocab_rows()], device)),
            num_items: self.num_items,
            max_len: self.max_len,
            recency: self.recency,
        })
    }
}

/// item2vec: skip-gram with negative sampling over listening histories, the paper's neural
/// item-item baseline.
///
/// Training (see `seqrec-train`'s `train_item_item`) pushes the input ("target") vector of a
/// track towards the context vectors of the tracks played near it and away from sampled
/// ones (TensorFlow's word2vec formulation: a learned bias per context item, see
/// [`ItemItem::context_bias`]). Serving uses the input vectors only, L2-normalised
/// ([`ItemItem::item_vectors`]): the user representation is the (recency-weighted) mean of
/// the vectors of the history's items and the score of a track is its dot product with it,
/// i.e. the weighted mean cosine similarity between the track and the tracks of the history.
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use seqrec_model::{ItemItemConfig, SequenceScorer};
///
/// let device = Device::ndarray();
/// let model = ItemItemConfig::new(50).with_dim(8).init(&device).unwrap();
/// let histories = Tensor::<2, Int>::from_ints([[0, 0, 3, 7], [5, 9, 2, 1]], &device);
/// let scores = model.score_all(model.user_representation(histories)); // [2, 52]
/// assert_eq!(scores.dims(), [2, 52]);
/// ```
#[derive(Module, Debug)]
pub struct ItemItem {
    /// Input ("target") vectors, rows `0..=num_items + 1`: the item representations served.
    pub target_embedding: Embedding,
    /// Context (output) vectors, rows `0..=num_items + 1`: used by training only.
    pub context_embedding: Embedding,
    /// A learned bias per context item, rows `0..=num_items + 1`: used by training only.
    ///
    /// It absorbs what the logit of a pair owes to the context alone — the `−log k` shift of
    /// negative sampling and the gap between how often an item is a context and how often it
    /// is drawn as a negative — which plain item2vec can only express as a direction shared
    /// by every input vector; that direction then dominates every cosine similarity (on
    /// ML-1M the mean of the normalised vectors reached length 0.997 without the bias).
    /// [`ItemItemConfig::init`] sets it to 0; the trainer starts it at `−ln k` (`k`
    /// negatives per pair), without which Adam still builds the shift into the vectors
    /// faster than into the bias (0.994 on ML-1M).
    pub context_bias: Param<Tensor<1>>,
    /// Number of catalogue items.
    pub num_items: usize,
    /// Most recent history items read.
    pub max_len: usize,
    /// Weights of the history items.
    #[module(skip)]
    pub recency: Recency,
}

impl ItemItem {
    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.target_embedding.weight.dims()[1]
    }

    /// Skip-gram logits: the dot product of the input vector of each center with the context
    /// vectors of its candidates, plus each candidate's context bias; centers `[batch]`,
    /// contexts `[batch, c]` → `[batch, c]`.
    pub fn pair_logits(&self, centers: Tensor<1, Int>, contexts: Tensor<2, Int>) -> Tensor<2> {
        let [batch, c] = contexts.dims();
        let dim = self.dim();
        let bias = self
            .context_bias
            .val()
            .select(0, contexts.clone().reshape([batch * c]))
            .reshape([batch, c]);
        let centers = self
            .target_embedding
            .weight
            .val()
            .select(0, centers)
            .reshape([batch, 1, dim]);
        let contexts = self.context_embedding.forward(contexts);
        (contexts * centers).sum_dim(2).reshape([batch, c]) + bias
    }

    /// The input table with every row L2-normalised `[num_items + 2, dim]` (an all-zero row
    /// stays zero).
    pub fn item_vectors(&self) -> Tensor<2> {
        let table = self.target_embedding.weight.val();
        let norms = table.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
        table / norms
    }

    /// Keeps the last `max_len` columns of a batch of histories.
    pub fn truncate(&self, items: Tensor<2, Int>) -> Tensor<2, Int> {
        last_columns(items, self.max_len)
    }
}

impl SequenceScorer for ItemItem {
    fn num_items(&self) -> usize {
        self.num_items
    }

    fn max_len(&self) -> usize {
        self.max_len
    }

    /// The recency-weighted mean of the normalised vectors of the non-padding history items
    /// `[batch, dim]` (zero for an all-padding row).
    fn user_representation(&self, items: Tensor<2, Int>) -> Tensor<2> {
        let items = self.truncate(items);
        let [batch, len] = items.dims();
        let device = items.device();
        let dim = self.dim();
        let recency = Tensor::<2>::from_data(
            TensorData::new(self.recency.weights(len), [1, len]),
            &device,
        );
        let weights = items.clone().not_equal_elem(0).float() * recency; // [batch, len]
        let total = weights.clone().sum_dim(1).clamp_min(1e-12); // [batch, 1]
        let weights = (weights / total).reshape([batch, 1, len]);
        let vectors = embedding(self.item_vectors(), items); // [batch, len, dim]
        weights.matmul(vectors).reshape([batch, dim])
    }

    fn score_all(&self, users: Tensor<2>) -> Tensor<2> {
        let device = users.device();
        let rows = self.num_items + 2;
        let scores = users.matmul(self.item_vectors().transpose());
        scores + reserved_bias(rows, &device)
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;

    /// A model over 4 items whose input table is `rows` (6 rows: padding, items, reserved).
    fn tiny(rows: [[f32; 2]; 6], recency: Recency) -> ItemItem {
        let device = Device::ndarray();
        let mut model = ItemItemConfig::new(4)
            .with_dim(2)
            .with_max_len(3)
            .with_recency(recency)
            .init(&device)
            .unwrap();
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        model.target_embedding.weight =
            Param::from_tensor(Tensor::from_data(TensorData::new(flat, [6, 2]), &device));
        model
    }

    const ROWS: [[f32; 2]; 6] = [
        [9.0, 9.0], // padding: must never count
        [3.0, 0.0],
        [0.0, 2.0],
        [1.0, 1.0],
        [-1.0, 0.5],
        [5.0, 5.0], // reserved
    ];

    fn cosine(a: [f32; 2], b: [f32; 2]) -> f32 {
        let dot = a[0] * b[0] + a[1] * b[1];
        dot / ((a[0] * a[0] + a[1] * a[1]).sqrt() * (b[0] * b[0] + b[1] * b[1]).sqrt())
    }

    fn scores(model: &ItemItem, histories: [[i64; 4]; 2]) -> Vec<f32> {
        let device = Device::ndarray();
        let items = Tensor::<2, Int>::from_ints(histories, &device);
        model
            .score_all(model.user_representation(items))
            .into_data()
            .to_vec()
            .unwrap()
    }

    #[test]
    fn scores_are_the_mean_cosine_similarity_and_ignore_padding() {
        let model = tiny(ROWS, Recency::Uniform);
        // Row 0 has one padding column inside the window of 3; row 1 reads its last 3 items.
        let got = scores(&model, [[0, 0, 1, 2], [4, 1, 2, 3]]);
        let histories: [&[usize]; 2] = [&[1, 2], &[1, 2, 3]];
        for (b, history) in histories.iter().enumerate() {
            assert_eq!(got[b * 6], f32::NEG_INFINITY);
            assert_eq!(got[b * 6 + 5], f32::NEG_INFINITY);
            for item in 1..=4 {
                let expected = history
                    .iter()
                    .map(|&h| cosine(ROWS[item], ROWS[h]))
                    .sum::<f32>()
                    / history.len() as f32;
                let value = got[b * 6 + item];
                assert!(
                    (value - expected).abs() < 1e-5,
                    "{b} {item}: {value} vs {expected}"
                );
            }
        }
        // More left padding changes nothing.
        let padded = scores(&model, [[0, 0, 0, 2], [0, 0, 0, 2]]);
        let short = {
            let device = Device::ndarray();
            let items = Tensor::<2, Int>::from_ints([[2]], &device);
            model
                .score_all(model.user_representation(items))
                .into_data()
                .to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(&padded[..6], &short[..]);
        assert_eq!(&padded[6..], &short[..]);
    }

    #[test]
    fn half_life_weights_recent_items_more() {
        assert_eq!(Recency::Uniform.weights(3), vec![1.0; 3]);
        let w = Recency::HalfLife { items: 2.0 }.weights(3);
        assert!((w[2] - 1.0).abs() < 1e-7 && (w[1] - 0.5f32.sqrt()).abs() < 1e-6);
        assert!((w[0] - 0.5).abs() < 1e-7);

        let model = tiny(ROWS, Recency::HalfLife { items: 1.0 });
        // History [3, 1, 2] (oldest first): weights 0.25, 0.5, 1; [.., 0, 1, 2]: 0.5, 1.
        let got = scores(&model, [[4, 3, 1, 2], [0, 0, 1, 2]]);
        let cases: [(&[usize], &[f32]); 2] =
            [(&[3, 1, 2], &[0.25, 0.5, 1.0]), (&[1, 2], &[0.5, 1.0])];
        for (b, (history, weights)) in cases.iter().enumerate() {
            let total: f32 = weights.iter().sum();
            for item in 1..=4 {
                let expected = history
                    .iter()
                    .zip(weights.iter())
                    .map(|(&h, &w)| w * cosine(ROWS[item], ROWS[h]))
                    .sum::<f32>()
                    / total;
                let value = got[b * 6 + item];
                assert!(
                    (value - expected).abs() < 1e-5,
                    "{b} {item}: {value} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn pair_logits_are_dot_products_plus_the_context_bias() {
        let device = Device::ndarray();
        let mut model = tiny(ROWS, Recency::Uniform);
        let context: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect();
        model.context_embedding.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(context.clone(), [6, 2]),
            &device,
        ));
        model.context_bias = Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![0.0f32, 0.5, -1.0, 0.25, 2.0, 0.0], [6]),
            &device,
        ));
        let bias = [0.0f32, 0.5, -1.0, 0.25, 2.0, 0.0];
        let logits = model.pair_logits(
            Tensor::<1, Int>::from_ints([1, 4], &device),
            Tensor::<2, Int>::from_ints([[2, 3, 4], [1, 1, 2]], &device),
        );
        assert_eq!(logits.dims(), [2, 3]);
        let got: Vec<f32> = logits.into_data().to_vec().unwrap();
        let centers = [1usize, 4];
        let contexts = [[2usize, 3, 4], [1, 1, 2]];
        for b in 0..2 {
            for c in 0..3 {
                let (u, v) = (ROWS[centers[b]], &context[contexts[b][c] * 2..][..2]);
                let expected = u[0] * v[0] + u[1] * v[1] + bias[contexts[b][c]];
                assert!((got[b * 3 + c] - expected).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn validation_and_defaults() {
        let config = ItemItemConfig::new(10);
        assert_eq!(config.recency, Recency::Uniform);
        assert!(config.validate().is_ok());
        assert!(ItemItemConfig::new(0).validate().is_err());
        assert!(ItemItemConfig::new(5).with_dim(0).validate().is_err());
        assert!(ItemItemConfig::new(5).with_max_len(0).validate().is_err());
        for items in [0.0, -1.0, f64::NAN] {
            let bad = ItemItemConfig::new(5).with_recency(Recency::HalfLife { items });
            assert!(bad.validate().is_err());
        }
        let json = burn::config::config_to_json(
            &config
                .clone()
                .with_recency(Recency::HalfLife { items: 3.0 }),
        );
        let back = ItemItemConfig::load_binary(json.as_bytes()).unwrap();
        assert_eq!(back.recency, Recency::HalfLife { items: 3.0 });
        let model = ItemItemConfig::new(7)
            .with_dim(4)
            .init(&Device::ndarray())
            .unwrap();
        assert_eq!(
            (model.dim(), model.num_items(), model.max_len()),
            (4, 7, 200)
        );
        let norms: Vec<f32> = model
            .item_vectors()
            .square()
            .sum_dim(1)
            .into_data()
            .to_vec()
            .unwrap();
        assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-4));
    }
}
