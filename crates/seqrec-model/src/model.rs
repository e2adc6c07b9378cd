//! The gSASRec model: item (and position) embeddings, SASRec blocks, a final layer norm, and
//! dot-product scores against an output embedding table.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::attention::MASKED;
use crate::block::SasRecBlock;
use crate::config::{AttentionMode, GsasRecConfig, OutputEmbeddings, PositionEncoding};
use crate::position::{position_rows, sinusoidal};

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
    /// Dropout on the summed input embeddings.
    pub embedding_dropout: Dropout,
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
    /// Builds the model; prefer [`GsasRecConfig::init`], which validates the config first.
    pub fn new(config: &GsasRecConfig, device: &Device) -> Self {
        let table = || EmbeddingConfig::new(config.vocab_rows(), config.dim).init(device);
        Self {
            item_embedding: table(),
            position_embedding: (config.positions == PositionEncoding::Learned)
                .then(|| EmbeddingConfig::new(config.max_len, config.dim).init(device)),
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
        let [batch, len] = items.dims();
        if len > self.max_len {
            items.slice([0..batch, len - self.max_len..len])
        } else {
            items
        }
    }

    /// Hidden states `[batch, len', dim]` for histories `[batch, len]` (left-padded with 0),
    /// where `len' = min(len, max_len)`. Padding rows carry no information and must not be used.
    pub fn forward(&self, items: Tensor<2, Int>) -> Tensor<3> {
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
        let mut seq = self.embedding_dropout.forward(seq) * not_padding.clone();

        let mask_bias = self.mask_bias(padding);
        for block in &self.blocks {
            seq = block.forward(seq, mask_bias.clone(), not_padding.clone());
        }
        self.final_norm.forward(seq)
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
    pub fn user_representation(&self, items: Tensor<2, Int>) -> Tensor<2> {
        Self::last_state(self.forward(items))
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
        let mut bias = vec![0f32; rows];
        bias[0] = f32::NEG_INFINITY;
        bias[rows - 1] = f32::NEG_INFINITY;
        scores + Tensor::<2>::from_data(TensorData::new(bias, [1, rows]), &device)
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
        self.score_per_position(hidden, targets.reshape([batch, len, 1]))
            .reshape([batch, len])
    }

    /// Scores of per-position candidates: hidden `[batch, len, dim]`, items `[batch, len, k]`
    /// → `[batch, len, k]`. This gathers a `[batch·len·k, dim]` tensor; when candidates are
    /// shared by a sequence or a batch use [`GsasRec::score_per_sequence`] or
    /// [`GsasRec::score_shared`], which are plain matrix products.
    pub fn score_per_position(&self, hidden: Tensor<3>, items: Tensor<3, Int>) -> Tensor<3> {
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
