//! One SASRec transformer block.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig, Relu};
use burn::tensor::{Device, Tensor};

use crate::attention::SasRecAttention;
use crate::dropout::{DropoutKey, keyed_dropout};

/// A SASRec block, as in the gSASRec reference code:
///
/// ```text
/// x   = LayerNorm1(seq)
/// a   = Attention(queries = x, keys = values = seq) + x      // residual adds the normalised input
/// y   = LayerNorm2(a)
/// out = (Dropout(Dense2(Dropout(ReLU(Dense1(y))))) + y) * not_padding
/// ```
#[derive(Module, Debug)]
pub struct SasRecBlock {
    /// Layer norm applied to the block input to form the queries.
    pub first_norm: LayerNorm,
    /// Self-attention.
    pub attention: SasRecAttention,
    /// Layer norm after the attention residual.
    pub second_norm: LayerNorm,
    /// Feed-forward input layer `dim → dim`.
    pub dense1: Linear,
    /// Feed-forward output layer `dim → dim`.
    pub dense2: Linear,
    /// ReLU between the feed-forward layers.
    pub activation: Relu,
    /// Dropout rate of the feed-forward path (its `prob`; the masks come from a
    /// [`DropoutKey`] in training).
    pub dropout: Dropout,
}

impl SasRecBlock {
    /// Creates a block of width `dim`.
    pub fn new(dim: usize, heads: usize, dropout: f64, eps: f64, device: &Device) -> Self {
        let norm = || LayerNormConfig::new(dim).with_epsilon(eps).init(device);
        Self {
            first_norm: norm(),
            attention: SasRecAttention::new(dim, heads, dropout, device),
            second_norm: norm(),
            dense1: LinearConfig::new(dim, dim).init(device),
            dense2: LinearConfig::new(dim, dim).init(device),
            activation: Relu::new(),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    /// Applies the block to `seq` `[batch, len, dim]`.
    ///
    /// `mask_bias` is the additive attention mask (see [`SasRecAttention::forward`]) and
    /// `not_padding` `[batch, len, 1]` is 1 for items and 0 for padding rows, which leave the
    /// block as zeros. Dropout draws its masks from `key` (training); `None` applies none.
    pub fn forward(
        &self,
        seq: Tensor<3>,
        mask_bias: Tensor<4>,
        not_padding: Tensor<3>,
        key: Option<DropoutKey>,
    ) -> Tensor<3> {
        let prob = self.dropout.prob;
        let site = |stream: u64| key.map(|k| k.stream(stream));
        let x = self.first_norm.forward(seq.clone());
        let attended = self.attention.forward(x.clone(), seq, mask_bias, site(0)) + x;
        let y = self.second_norm.forward(attended);
        let hidden = self.activation.forward(self.dense1.forward(y.clone()));
        let hidden = keyed_dropout(hidden, prob, site(1));
        let out = keyed_dropout(self.dense2.forward(hidden), prob, site(2)) + y;
        out * not_padding
    }

    /// [`forward`](Self::forward) for the last position only, at inference (no dropout):
    /// keys and values still come from every row of `seq` `[batch, len, dim]`, but the query,
    /// the residuals and the feed-forward layers are computed for the last row instead of
    /// `len`. `key_bias` `[batch, 1, 1, len]` holds `-1e9` on
    /// padding keys; `last_not_padding` `[batch, 1, 1]` is 0 where the last row is padding.
    /// Returns `[batch, 1, dim]`, the last row of `forward` up to float rounding.
    pub fn forward_last(
        &self,
        seq: Tensor<3>,
        key_bias: Tensor<4>,
        last_not_padding: Tensor<3>,
    ) -> Tensor<3> {
        let [batch, len, dim] = seq.dims();
        // The query and the residual come from the normalised input of the last position.
        let x = self
            .first_norm
            .forward(seq.clone().slice([0..batch, len - 1..len, 0..dim]));
        let attended = self.attention.forward_last_query(x.clone(), seq, key_bias) + x;
        let y = self.second_norm.forward(attended);
        let hidden = self.activation.forward(self.dense1.forward(y.clone()));
        (self.dense2.forward(hidden) + y) * last_not_padding
    }
}
