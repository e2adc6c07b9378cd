//! SASRec's multi-head self-attention.
//!
//! It differs from a textbook transformer layer in three ways, all kept for parity with the
//! gSASRec reference code: queries come from the layer-normalised input while keys and values
//! come from the raw input; the heads split one shared `dim × dim` projection along the feature
//! axis; there is no output projection.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::softmax;

use crate::dropout::{DropoutKey, keyed_dropout};

/// Additive bias that removes a key from the softmax. Finite, so that rows where every key is
/// masked (padding queries) give a uniform distribution instead of NaN; those rows are zeroed
/// after the block.
pub(crate) const MASKED: f32 = -1.0e9;

/// SASRec multi-head attention with shared Q/K/V projections and no output projection.
#[derive(Module, Debug)]
pub struct SasRecAttention {
    /// Query projection `dim → dim` (with bias).
    pub query: Linear,
    /// Key projection `dim → dim` (with bias).
    pub key: Linear,
    /// Value projection `dim → dim` (with bias).
    pub value: Linear,
    /// Dropout rate of the attention weights (its `prob`; the masks come from a
    /// [`DropoutKey`] in training).
    pub dropout: Dropout,
    /// Number of heads; each has `dim / heads` features.
    pub heads: usize,
}

impl SasRecAttention {
    /// Creates the attention layer.
    pub fn new(dim: usize, heads: usize, dropout: f64, device: &burn::tensor::Device) -> Self {
        Self {
            query: LinearConfig::new(dim, dim).init(device),
            key: LinearConfig::new(dim, dim).init(device),
            value: LinearConfig::new(dim, dim).init(device),
            dropout: DropoutConfig::new(dropout).init(),
            heads,
        }
    }

    /// Attends from `queries` `[batch, len, dim]` to `keys` `[batch, len, dim]` (also the values).
    ///
    /// `mask_bias` is added to the attention logits: `[batch or 1, 1, len, len]`, holding
    /// `-1e9` where a query must not see a key (padding keys, causal future) and 0 elsewhere.
    /// Dropout on the attention weights draws its mask from `key` (training); `None` applies
    /// none.
    pub fn forward(
        &self,
        queries: Tensor<3>,
        keys: Tensor<3>,
        mask_bias: Tensor<4>,
        key: Option<DropoutKey>,
    ) -> Tensor<3> {
        let [batch, len, dim] = queries.dims();
        let (logits, values) = self.logits_and_values(queries, keys, mask_bias);
        let weights = keyed_dropout(softmax(logits, 3), self.dropout.prob, key);
        weights
            .matmul(values)
            .swap_dims(1, 2)
            .reshape([batch, len, dim])
    }

    /// [`forward`](Self::forward) for one query per sequence, at inference (no dropout):
    /// `query` `[batch, 1, dim]` attends to every row of `keys` `[batch, len, dim]` (also the
    /// values) but those where `key_bias` `[batch, 1, 1, len]` holds `-1e9`. Returns
    /// `[batch, 1, dim]`: the last row of `forward` when `query` is its last query and no key
    /// is hidden by the causal mask (the last position sees them all).
    pub fn forward_last_query(
        &self,
        query: Tensor<3>,
        keys: Tensor<3>,
        key_bias: Tensor<4>,
    ) -> Tensor<3> {
        let [batch, _, dim] = query.dims();
        let (logits, values) = self.logits_and_values(query, keys, key_bias);
        softmax(logits, 3)
            .matmul(values)
            .swap_dims(1, 2)
            .reshape([batch, 1, dim])
    }

    /// The scaled attention logits of every head `[batch, heads, queries, keys]`, `bias`
    /// added, and the values split by head `[batch, heads, keys, dim / heads]`.
    fn logits_and_values(
        &self,
        queries: Tensor<3>,
        keys: Tensor<3>,
        bias: Tensor<4>,
    ) -> (Tensor<4>, Tensor<4>) {
        let heads = self.heads;
        let split = |x: Tensor<3>| {
            let [batch, len, dim] = x.dims();
            x.reshape([batch, len, heads, dim / heads]).swap_dims(1, 2)
        };
        let head_dim = keys.dims()[2] / heads;
        let q = split(self.query.forward(queries));
        let k = split(self.key.forward(keys.clone()));
        let v = split(self.value.forward(keys));
        let logits = q
            .matmul(k.swap_dims(2, 3))
            .div_scalar((head_dim as f64).sqrt())
            + bias;
        (logits, v)
    }
}
