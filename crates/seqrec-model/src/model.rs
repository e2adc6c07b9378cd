//! The gSASRec model: item (and position) embeddings, SASRec blocks, a final layer norm, and
//! dot-product scores against an output embedding table.

use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use crate::attention::MASKED;
use crate::block::SasRecBlock;
use crate::config::{AttentionMode, GsasRecConfig, OutputEmbeddings, PositionEncoding};
use crate::dropout::{DropoutKey, keyed_dropout};
use crate::ids::{last_columns, reserved_bias};
use crate::position::{position_rows, sinusoidal};
use crate::repeat::RepeatScore;

/// The gSASRec transformer (SASRec blocks; gSASRec's separate output embeddings by default).
///
/// Input: item ids `[batch, len]`, left-padded with 0. Histories longer than `max_len` keep
/// their last `max_len` items. Output of [`GsasRec::forward`]: hidden states
/// `[batch, len, dim]`; the state at the last position represents the user.
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use seqrec_model::GsasRecConfig;
///
/// let device = Device::ndarray();
/// let model = GsasRecConfig::new(50).with_dim(8).with_max_len(6).init(&device).unwrap();
/// let histories = Tensor::<2, Int>::from_ints([[0, 0, 3, 7], [5, 9, 2, 1]], &device);
/// let user = model.user_representation(histories);          // [2, 8]
/// let scores = model.score_all(user);                        // [2, 52]: ids 0..=51
/// assert_eq!(scores.dims(), [2, 52]);
/// ```
#[derive(Module, Debug)]
pub struct GsasRec {
    /// Input item embeddings, rows `0..=num_items + 1` (0: padding, `num_items + 1`: mask token).
    pub item_embedding: Embedding,
    /// Learned position embeddings (`max_len` rows), when the config asks for them.
    pub position_embedding: Option<Embedding>,
    /// The SASRec blocks.
    pub blocks: Vec<SasRecBlock>,
    /// Layer norm over the last block's output.
    pub final_norm: LayerNorm,
    /// Output item embeddings when they are separate from the input table.
    pub output_embedding: Option<Embedding>,
    /// Dropout rate of the summed input embeddings (its `prob`; the masks come from a
    /// [`DropoutKey`] in training, [`GsasRec::forward_with_dropout`]).
    pub embedding_dropout: Dropout,
    /// The learned repeat term added to the scores, when the config asks for it.
    pub repeat: Option<RepeatScore>,
    /// Number of catalogue items.
    pub num_items: usize,
    /// Longest history read.
    pub max_len: usize,
    /// Causal or bidirectional attention.
    #[module(skip)]
    pub attention: AttentionMode,
    /// Positional encoding kind.
    #[module(skip)]
    pub positions: PositionEncoding,
}

impl GsasRec {
    /// Per-position candidates are scored through the full-catalogue logits when the catalogue
    /// has at most this many ids per candidate (see [`GsasRec::full_logits_pay_off`]).
    pub const FULL_LOGITS_FACTOR: usize = 24;

    /// Builds the model; prefer [`GsasRecConfig::init`], which validates the config first.
    pub fn new(config: &GsasRecConfig, device: &Device) -> Self {
        let initializer = Initializer::Normal {
            mean: 0.0,
            std: config.embedding_init_std(),
        };
        let embedding = |rows: usize| {
            EmbeddingConfig::new(rows, config.dim)
                .with_initializer(initializer.clone())
                .init(device)
        };
        let table = || embedding(config.vocab_rows());
        Self {
            item_embedding: table(),
            position_embedding: (config.positions == PositionEncoding::Learned)
                .then(|| embedding(config.max_len)),
            blocks: (0..config.blocks)
                .map(|_| {
                    SasRecBlock::new(
                        config.dim,
                        config.heads,
                        config.dropout,
                        config.layer_norm_eps,
                        device,
                    )
                })
                .collect(),
            final_norm: LayerNormConfig::new(config.dim)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            output_embedding: (config.output_embeddings == OutputEmbeddings::Separate).then(table),
            embedding_dropout: DropoutConfig::new(config.dropout).init(),
            repeat: config.repeat_half_life.zip(config.repeat_window()).map(
                |(half_life, context)| {
                    RepeatScore::new(
                        half_life,
                        context,
                        config.repeat_weight_multiplier(),
                        device,
                    )
                },
            ),
            num_items: config.num_items,
            max_len: config.max_len,
            attention: config.attention,
            positions: config.positions,
        }
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.item_embedding.weight.dims()[1]
    }

    /// Keeps the last `max_len` columns of a batch of histories.
    pub fn truncate(&self, items: Tensor<2, Int>) -> Tensor<2, Int> {
        last_columns(items, self.max_len)
    }

    /// Hidden states `[batch, len', dim]` for histories `[batch, len]` (left-padded with 0),
    /// where `len' = min(len, max_len)`, without dropout. Padding rows carry no information and
    /// must not be used.
    pub fn forward(&self, items: Tensor<2, Int>) -> Tensor<3> {
        self.forward_with_dropout(items, None)
    }

    /// [`GsasRec::forward`] in training: dropout on the embeddings, the attention weights and
    /// the feed-forward layers, with masks drawn from `key` (see [`DropoutKey`]); `None` is
    /// `forward`.
    pub fn forward_with_dropout(
        &self,
        items: Tensor<2, Int>,
        key: Option<DropoutKey>,
    ) -> Tensor<3> {
        let (mut seq, padding, not_padding) = self.embed(items, key);
        let mask_bias = self.mask_bias(padding);
        for (i, block) in self.blocks.iter().enumerate() {
            let key = key.map(|k| k.stream(1 + i as u64));
            seq = block.forward(seq, mask_bias.clone(), not_padding.clone(), key);
        }
        self.final_norm.forward(seq)
    }

    /// The blocks' input `[batch, len', dim]` (item and position embeddings, dropout, padding
    /// rows zeroed), the padding mask `[batch, len']` and its complement `[batch, len', 1]`.
    fn embed(
        &self,
        items: Tensor<2, Int>,
        key: Option<DropoutKey>,
    ) -> (Tensor<3>, Tensor<2, Bool>, Tensor<3>) {
        let items = self.truncate(items);
        let [batch, len] = items.dims();
        let device = items.device();
        let dim = self.dim();
        let padding = items.clone().equal_elem(0);
        let not_padding = padding.clone().bool_not().float().reshape([batch, len, 1]);

        let mut seq = self.item_embedding.forward(items);
        let rows = position_rows(len, self.max_len);
        match self.positions {
            PositionEncoding::None => {}
            PositionEncoding::Learned => {
                if let Some(table) = &self.position_embedding {
                    let pe = table.weight.val().slice([rows, 0..dim]);
                    seq = seq + pe.unsqueeze::<3>();
                }
            }
            PositionEncoding::Sinusoidal => {
                seq = seq + sinusoidal(rows, dim, &device).unsqueeze::<3>();
            }
        }
        let prob = self.embedding_dropout.prob;
        let seq = keyed_dropout(seq, prob, key.map(|k| k.stream(0))) * not_padding.clone();
        (seq, padding, not_padding)
    }

    /// The last block evaluated for the last position only ([`SasRecBlock::forward_last`]),
    /// then the final norm: `[batch, dim]`. The last query sees every key but padding, with or
    /// without the causal mask.
    fn last_block_last_position(
        &self,
        block: &SasRecBlock,
        seq: Tensor<3>,
        padding: Tensor<2, Bool>,
        not_padding: Tensor<3>,
    ) -> Tensor<2> {
        let [batch, len, dim] = seq.dims();
        let key_bias = padding
            .float()
            .mul_scalar(MASKED)
            .reshape([batch, 1, 1, len]);
        let last_not_padding = not_padding.slice([0..batch, len - 1..len, 0..1]);
        let out = block.forward_last(seq, key_bias, last_not_padding);
        self.final_norm.forward(out).reshape([batch, dim])
    }

    /// Additive attention mask `[batch, 1, len, len]`: [`MASKED`] on padding keys and, with the
    /// causal mask, on keys after the query.
    fn mask_bias(&self, padding: Tensor<2, burn::tensor::Bool>) -> Tensor<4> {
        let [batch, len] = padding.dims();
        let device = padding.device();
        let keys = padding
            .float()
            .mul_scalar(MASKED)
            .reshape([batch, 1, 1, len]);
        match self.attention {
            AttentionMode::Bidirectional => keys.expand([batch, 1, len, len]),
            AttentionMode::Causal => {
                let mut future = vec![0f32; len * len];
                for q in 0..len {
                    for k in q + 1..len {
                        future[q * len + k] = MASKED;
                    }
                }
                let future =
                    Tensor::<4>::from_data(TensorData::new(future, [1, 1, len, len]), &device);
                keys + future
            }
        }
    }

    /// The hidden state at the last position `[batch, dim]`: the user representation.
    pub fn last_state(hidden: Tensor<3>) -> Tensor<2> {
        let [batch, len, dim] = hidden.dims();
        hidden
            .slice([0..batch, len - 1..len, 0..dim])
            .reshape([batch, dim])
    }

    /// User representations `[batch, dim]` for left-padded histories `[batch, len]`.
    ///
    /// Compute it once per user, then score candidates with [`GsasRec::score_all`] or
    /// [`GsasRec::score_candidates`].
    ///
    /// No dropout. At inference (a device without autodiff) the last block is only evaluated
    /// for the last position, which is all the representation needs: about a third of the
    /// work of [`GsasRec::forward`] for two blocks (docs/performance.md). On an autodiff device
    /// it is the last row of [`GsasRec::forward`].
    pub fn user_representation(&self, items: Tensor<2, Int>) -> Tensor<2> {
        let Some((last, rest)) = self.blocks.split_last() else {
            return Self::last_state(self.forward(items));
        };
        if items.device().is_autodiff() {
            return Self::last_state(self.forward(items));
        }
        let (mut seq, padding, not_padding) = self.embed(items, None);
        let mask_bias = self.mask_bias(padding.clone());
        for block in rest {
            seq = block.forward(seq, mask_bias.clone(), not_padding.clone(), None);
        }
        self.last_block_last_position(last, seq, padding, not_padding)
    }

    /// The repeat term of every id `[batch, num_items + 2]` for histories `[batch, len]`
    /// (it counts the last [`RepeatScore::context`] plays), or `None` for a model without one.
    pub fn repeat_bias_all(&self, items: Tensor<2, Int>) -> Option<Tensor<2>> {
        let repeat = self.repeat.as_ref()?;
        Some(repeat.all(items, self.num_items + 2))
    }

    /// The repeat term of candidates `[batch, n]` for histories `[batch, len]` → `[batch, n]`,
    /// or `None` for a model without one. Many candidates over a long history are read from
    /// the full-catalogue term (one scatter per play) instead of compared with every play.
    pub fn repeat_bias(
        &self,
        items: Tensor<2, Int>,
        candidates: Tensor<2, Int>,
    ) -> Option<Tensor<2>> {
        let repeat = self.repeat.as_ref()?;
        let [_, len] = items.dims();
        let [_, n] = candidates.dims();
        let rows = self.num_items + 2;
        Some(if n * len.min(repeat.context) > rows {
            repeat.all(items, rows).gather(1, candidates)
        } else {
            repeat.candidates(items, candidates)
        })
    }

    /// Scores of every id `[batch, num_items + 2]` for histories `[batch, len]`: the dot
    /// products of [`GsasRec::score_all`] plus the repeat term when the model has one.
    pub fn score_histories(&self, items: Tensor<2, Int>) -> Tensor<2> {
        let scores = self.score_all(self.user_representation(items.clone()));
        self.add_repeat_bias(scores, items)
    }

    /// `scores` of every id `[batch, num_items + 2]` plus the repeat term for histories
    /// `[batch, len]` (the same values as adding [`GsasRec::repeat_bias_all`], computed at the
    /// history's plays only); unchanged for a model without one.
    pub fn add_repeat_bias(&self, scores: Tensor<2>, items: Tensor<2, Int>) -> Tensor<2> {
        match &self.repeat {
            Some(repeat) => repeat.add_to(scores, items),
            None => scores,
        }
    }

    /// The output embedding table `[num_items + 2, dim]` (the input table when shared).
    pub fn output_table(&self) -> Tensor<2> {
        self.output_embedding
            .as_ref()
            .unwrap_or(&self.item_embedding)
            .weight
            .val()
    }

    /// Scores of every id for each user `[batch, num_items + 2]`; column `i` scores item `i`.
    /// Padding (0) and the mask token (`num_items + 1`) get `-inf`, so they are never ranked.
    pub fn score_all(&self, users: Tensor<2>) -> Tensor<2> {
        let device = users.device();
        let rows = self.num_items + 2;
        let scores = users.matmul(self.output_table().transpose());
        scores + reserved_bias(rows, &device)
    }

    /// Scores of given candidates per user: users `[batch, dim]`, items `[batch, n]` → `[batch, n]`.
    pub fn score_candidates(&self, users: Tensor<2>, items: Tensor<2, Int>) -> Tensor<2> {
        let [batch, n] = items.dims();
        let hidden = users.unsqueeze_dim::<3>(1);
        self.score_per_position(hidden, items.reshape([batch, 1, n]))
            .reshape([batch, n])
    }

    /// Scores of one target per position: hidden `[batch, len, dim]`, targets `[batch, len]`
    /// → `[batch, len]`.
    pub fn score_targets(&self, hidden: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<2> {
        let [batch, len] = targets.dims();
        let dim = self.dim();
        // A row-wise dot product: one element-wise product and a sum, instead of `batch·len`
        // tiny matrix products.
        let emb = self
            .output_table()
            .select(0, targets.reshape([batch * len]))
            .reshape([batch, len, dim]);
        (emb * hidden).sum_dim(2).reshape([batch, len])
    }

    /// Scores of per-position candidates: hidden `[batch, len, dim]`, items `[batch, len, k]`
    /// → `[batch, len, k]`.
    ///
    /// Two exact ways compute them, chosen by [`GsasRec::full_logits_pay_off`]: when the
    /// catalogue is small next to `k` (ML-1M: 3 418 ids, 256 negatives), one matrix product
    /// scores every row against the whole catalogue and the `k` columns are gathered
    /// ([`GsasRec::score_per_position_via_logits`]); for large catalogues the `k` embeddings of
    /// every row are gathered into a `[batch·len·k, dim]` tensor and multiplied
    /// ([`GsasRec::score_per_position_via_gather`]). Both give the same values up to float
    /// rounding, and the same gradients. When candidates are shared by a sequence or a batch
    /// use [`GsasRec::score_per_sequence`] or [`GsasRec::score_shared`].
    pub fn score_per_position(&self, hidden: Tensor<3>, items: Tensor<3, Int>) -> Tensor<3> {
        let k = items.dims()[2];
        if self.full_logits_pay_off(k) {
            self.score_per_position_via_logits(hidden, items)
        } else {
            self.score_per_position_via_gather(hidden, items)
        }
    }

    /// Whether scoring `k` per-position candidates is cheaper through the full-catalogue
    /// logits than through gathered embeddings: `num_items + 2 ≤ FULL_LOGITS_FACTOR · k`.
    ///
    /// The logits path costs `rows · dim` multiply-adds per position in a dense matrix product
    /// and a `[positions, rows]` buffer; the gather path `k · dim` multiply-adds but a
    /// `[positions · k, dim]` buffer written, read, and scattered back in the backward pass,
    /// which runs at memory speed. [`GsasRec::FULL_LOGITS_FACTOR`] is where they cross on a CPU
    /// (docs/performance.md).
    pub fn full_logits_pay_off(&self, k: usize) -> bool {
        k > 1 && self.num_items + 2 <= Self::FULL_LOGITS_FACTOR.saturating_mul(k)
    }

    /// [`GsasRec::score_per_position`] through the full-catalogue logits: one
    /// `[batch·len, dim] × [dim, num_items + 2]` product, then a gather of the `k` columns of
    /// every row.
    pub fn score_per_position_via_logits(
        &self,
        hidden: Tensor<3>,
        items: Tensor<3, Int>,
    ) -> Tensor<3> {
        let [batch, len, k] = items.dims();
        let dim = self.dim();
        hidden
            .reshape([batch * len, dim])
            .matmul(self.output_table().transpose())
            .gather(1, items.reshape([batch * len, k]))
            .reshape([batch, len, k])
    }

    /// [`GsasRec::score_per_position`] by gathering: the `k` output embeddings of every
    /// position form a `[batch·len, k, dim]` tensor, multiplied by the position's hidden state.
    pub fn score_per_position_via_gather(
        &self,
        hidden: Tensor<3>,
        items: Tensor<3, Int>,
    ) -> Tensor<3> {
        let [batch, len, k] = items.dims();
        let dim = self.dim();
        let emb = self
            .output_table()
            .select(0, items.reshape([batch * len * k]))
            .reshape([batch * len, k, dim]);
        emb.matmul(hidden.reshape([batch * len, dim, 1]))
            .reshape([batch, len, k])
    }

    /// Scores of candidates shared by all positions of a sequence: hidden `[batch, len, dim]`,
    /// items `[batch, k]` → `[batch, len, k]` (one batched matrix product).
    pub fn score_per_sequence(&self, hidden: Tensor<3>, items: Tensor<2, Int>) -> Tensor<3> {
        let [batch, k] = items.dims();
        let dim = self.dim();
        let emb = self
            .output_table()
            .select(0, items.reshape([batch * k]))
            .reshape([batch, k, dim]);
        hidden.matmul(emb.swap_dims(1, 2))
    }

    /// Scores of candidates shared by the whole batch: hidden `[batch, len, dim]`, items `[k]`
    /// → `[batch, len, k]` (one matrix product).
    pub fn score_shared(&self, hidden: Tensor<3>, items: Tensor<1, Int>) -> Tensor<3> {
        let [batch, len, dim] = hidden.dims();
        let [k] = items.dims();
        let emb = self.output_table().select(0, items);
        hidden
            .reshape([batch * len, dim])
            .matmul(emb.transpose())
            .reshape([batch, len, k])
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;

    /// Sample mean and standard deviation of a tensor's values.
    fn moments(t: Tensor<2>) -> (f64, f64) {
        let v: Vec<f32> = t.into_data().to_vec().unwrap();
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }

    #[test]
    fn a_long_repeat_context_widens_the_input_but_not_attention() {
        use crate::SequenceScorer;
        let device = Device::ndarray();
        let config = GsasRecConfig::new(9)
            .with_dim(4)
            .with_max_len(3)
            .with_repeat_half_life(Some(2.0))
            .with_repeat_context(Some(6))
            .with_repeat_weight_scale(Some(1.0));
        assert_eq!((config.repeat_window(), config.input_len()), (Some(6), 6));
        let mut model = config.init(&device).unwrap();
        assert_eq!(SequenceScorer::max_len(&model), 6);
        let repeat = model.repeat.as_mut().unwrap();
        repeat.weights =
            burn::module::Param::from_tensor(Tensor::from_floats([1.0, 0.0, 0.0], &device));
        // Item 5 is played twice, four and five plays ago: outside attention, inside the context.
        let items = Tensor::<2, Int>::from_ints([[0, 5, 5, 1, 2, 3]], &device);
        let all: Vec<f32> = model
            .repeat_bias_all(items.clone())
            .unwrap()
            .into_data()
            .to_vec()
            .unwrap();
        assert!((all[5] - 3f32.ln()).abs() < 1e-6, "{}", all[5]);
        assert_eq!((all[4], all[0]), (0.0, 0.0));
        // Both ways of scoring candidates (compared with each play, or read from the full
        // term) give the same values.
        let few = Tensor::<2, Int>::from_ints([[5]], &device);
        let many = Tensor::<2, Int>::from_ints([[5, 4, 1, 2, 3, 6, 7, 8, 9, 5]], &device);
        for candidates in [few, many] {
            let ids: Vec<i64> = candidates.clone().into_data().to_vec().unwrap();
            let got: Vec<f32> = model
                .repeat_bias(items.clone(), candidates)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            let want: Vec<f32> = ids.iter().map(|&i| all[i as usize]).collect();
            assert_eq!(got, want);
        }
        // Without a repeat term the input is the attention window.
        assert_eq!(config.with_repeat_half_life(None).input_len(), 3);
        assert!(
            GsasRecConfig::new(9)
                .with_repeat_half_life(Some(2.0))
                .with_repeat_context(Some(0))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn embeddings_start_small_unless_asked_otherwise() {
        let device = Device::ndarray();
        device.seed(3);
        let config = GsasRecConfig::new(998).with_dim(32);
        let model = config.init(&device).unwrap();
        for table in [
            model.item_embedding.weight.val(),
            model.output_table(),
            model.position_embedding.as_ref().unwrap().weight.val(),
        ] {
            let (mean, std) = moments(table);
            assert!(mean.abs() < 0.002, "mean {mean}");
            assert!((std - 0.02).abs() < 0.002, "std {std}");
        }
        let wide = config.with_init_std(Some(1.0)).init(&device).unwrap();
        let (_, std) = moments(wide.item_embedding.weight.val());
        assert!((std - 1.0).abs() < 0.05, "std {std}");
        assert!(
            GsasRecConfig::new(10)
                .with_init_std(Some(0.0))
                .validate()
                .is_err()
        );
    }
}
