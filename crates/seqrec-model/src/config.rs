//! Configuration of the gSASRec model and its switchable parts.

use burn::config::Config;
use burn::tensor::Device;

use crate::model::GsasRec;

/// The paper's dropout rate, [`GsasRecConfig::dropout`]'s default (burn's `Config` derive
/// needs the literal there; a test checks that the two agree).
pub const DEFAULT_DROPOUT: f64 = 0.0625;

/// Which positions a query may attend to.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum AttentionMode {
    /// SASRec's causal mask: position `i` sees positions `..=i` only.
    Causal,
    /// No causal mask: every position sees the whole (non-padding) history, as in the
    /// paper's best variant.
    Bidirectional,
}

/// How the position of an item in the history is encoded.
///
/// Positions are counted from the end of the history: the most recent item always has the
/// same position whatever the history length, as in the gSASRec reference code, whose
/// left-padded window of `max_len` puts the last item at index `max_len - 1`.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum PositionEncoding {
    /// No positional information: with [`AttentionMode::Bidirectional`] the model sees the
    /// history as a set.
    None,
    /// A learned embedding per position (gSASRec's default).
    Learned,
    /// The fixed sinusoidal encoding of "Attention is all you need".
    Sinusoidal,
}

/// Which table scores the candidate items.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum OutputEmbeddings {
    /// A separate output embedding table (gSASRec's default).
    Separate,
    /// The input item embedding table is reused (SASRec's choice).
    Shared,
}

/// An enum setting with one short name per value: what command lines and `--help` show
/// (`seqrec train --attention bidirectional`), parsed back with [`Named::from_name`].
pub trait Named: Copy + Sized + 'static {
    /// Every value, in the order they are listed.
    const ALL: &'static [Self];

    /// The value's name, lower-case kebab-case (`"causal"`, `"learned"`, `"separate"`).
    fn name(&self) -> &'static str;

    /// The value of a name, if any value has it.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

impl Named for AttentionMode {
    const ALL: &'static [Self] = &[AttentionMode::Causal, AttentionMode::Bidirectional];

    fn name(&self) -> &'static str {
        match self {
            AttentionMode::Causal => "causal",
            AttentionMode::Bidirectional => "bidirectional",
        }
    }
}

impl Named for PositionEncoding {
    const ALL: &'static [Self] = &[
        PositionEncoding::None,
        PositionEncoding::Learned,
        PositionEncoding::Sinusoidal,
    ];

    fn name(&self) -> &'static str {
        match self {
            PositionEncoding::None => "none",
            PositionEncoding::Learned => "learned",
            PositionEncoding::Sinusoidal => "sinusoidal",
        }
    }
}

impl Named for OutputEmbeddings {
    const ALL: &'static [Self] = &[OutputEmbeddings::Separate, OutputEmbeddings::Shared];

    fn name(&self) -> &'static str {
        match self {
            OutputEmbeddings::Separate => "separate",
            OutputEmbeddings::Shared => "shared",
        }
    }
}

/// Configuration of a [`GsasRec`] model.
///
/// Item ids are `1..=num_items`; id `0` is padding and id `num_items + 1` is reserved for
/// a mask token (used by the Cloze objective). Neither is ever scored or recommended.
///
/// ```
/// use seqrec_model::{AttentionMode, GsasRecConfig, PositionEncoding};
/// let config = GsasRecConfig::new(3416)
///     .with_attention(AttentionMode::Bidirectional)
///     .with_positions(PositionEncoding::Learned);
/// assert_eq!(config.max_len, 200);
/// assert_eq!(config.dim, 128);
/// ```
#[derive(Config, Debug)]
pub struct GsasRecConfig {
    /// Number of items in the catalogue; ids run from 1 to `num_items`.
    pub num_items: usize,
    /// Longest history the model reads; longer histories keep their last `max_len` items.
    /// Default: 200.
    #[config(default = 200)]
    pub max_len: usize,
    /// Embedding and hidden size. Default: 128.
    #[config(default = 128)]
    pub dim: usize,
    /// Number of SASRec transformer blocks. Default: 2.
    #[config(default = 2)]
    pub blocks: usize,
    /// Number of attention heads; must divide `dim`. Default: 1.
    #[config(default = 1)]
    pub heads: usize,
    /// Dropout rate of the embeddings, attention weights and feed-forward layers.
    /// Default: 0.0625, the paper's value ([`DEFAULT_DROPOUT`]).
    #[config(default = "DEFAULT_DROPOUT")]
    pub dropout: f64,
    /// Causal mask or not. Default: [`AttentionMode::Causal`].
    #[config(default = "AttentionMode::Causal")]
    pub attention: AttentionMode,
    /// Positional encoding. Default: [`PositionEncoding::Learned`].
    #[config(default = "PositionEncoding::Learned")]
    pub positions: PositionEncoding,
    /// Output embedding table. Default: [`OutputEmbeddings::Separate`].
    #[config(default = "OutputEmbeddings::Separate")]
    pub output_embeddings: OutputEmbeddings,
    /// Epsilon of every layer norm. Default: 1e-5 (PyTorch's, as in the reference code).
    #[config(default = 1e-5)]
    pub layer_norm_eps: f64,
    /// Standard deviation of the normal distribution that initialises the item and position
    /// embeddings. Default (`None`): [`GsasRecConfig::DEFAULT_INIT_STD`], 0.02, as BERT-style
    /// models use. burn's own N(0, 1) makes the first logits' standard deviation about
    /// `√dim` and the first softmax loss about twice that of a uniform guess; on ML-1M it
    /// costs an order of magnitude of NDCG@10 at equal compute (docs/results.md).
    pub init_std: Option<f64>,
    /// The repeat-aware score ([`RepeatScore`](crate::RepeatScore)): when set, a learned
    /// term for the items of the history (their plays in the window and their recency, with
    /// this half-life in history positions) is added to every item's dot-product score.
    /// Default (`None`): off, the plain gSASRec score.
    pub repeat_half_life: Option<f64>,
    /// Most recent history plays the repeat term counts, when it is on. It may be much
    /// longer than `max_len`: counting plays costs a scatter per play, attention a row per
    /// pair of plays, and a listener's favourites are spread over the whole history.
    /// Default (`None`): `max_len`, the window attention reads.
    pub repeat_context: Option<usize>,
    /// Multiplier of the repeat term's three learned weights: their learning rate relative
    /// to the rest of the model under Adam. Default (`None`):
    /// [`GsasRecConfig::DEFAULT_REPEAT_WEIGHT_SCALE`], 10; with 1 the weights reach about a
    /// tenth of their useful size in 600 steps, and F1@10 on the built-in ablation is 0.008 to
    /// 0.022 lower (docs/reproduction.md).
    pub repeat_weight_scale: Option<f64>,
}

/// A configuration that cannot build a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid model configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl GsasRecConfig {
    /// The embeddings' initial standard deviation when [`GsasRecConfig::init_std`] is unset.
    pub const DEFAULT_INIT_STD: f64 = 0.02;

    /// The repeat weights' multiplier when [`GsasRecConfig::repeat_weight_scale`] is unset.
    pub const DEFAULT_REPEAT_WEIGHT_SCALE: f64 = 10.0;

    /// The repeat weights' multiplier.
    pub fn repeat_weight_multiplier(&self) -> f64 {
        self.repeat_weight_scale
            .unwrap_or(Self::DEFAULT_REPEAT_WEIGHT_SCALE)
    }

    /// The embeddings' initial standard deviation.
    pub fn embedding_init_std(&self) -> f64 {
        self.init_std.unwrap_or(Self::DEFAULT_INIT_STD)
    }

    /// Checks every field; [`GsasRecConfig::init`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |msg: String| Err(ConfigError(msg));
        if self.num_items == 0 {
            return fail("num_items must be at least 1".into());
        }
        if self.max_len == 0 {
            return fail("max_len must be at least 1".into());
        }
        if self.dim == 0 || self.heads == 0 {
            return fail(format!(
                "dim ({}) and heads ({}) must be positive",
                self.dim, self.heads
            ));
        }
        if !self.dim.is_multiple_of(self.heads) {
            return fail(format!(
                "heads ({}) must divide dim ({})",
                self.heads, self.dim
            ));
        }
        if self.positions == PositionEncoding::Sinusoidal && !self.dim.is_multiple_of(2) {
            return fail(format!(
                "sinusoidal positions need an even dim, got {}",
                self.dim
            ));
        }
        if !self.dropout.is_finite() || !(0.0..1.0).contains(&self.dropout) {
            return fail(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return fail(format!(
                "layer_norm_eps must be positive, got {}",
                self.layer_norm_eps
            ));
        }
        if !(self.embedding_init_std().is_finite() && self.embedding_init_std() > 0.0) {
            return fail(format!(
                "init_std must be positive, got {}",
                self.embedding_init_std()
            ));
        }
        if let Some(h) = self.repeat_half_life
            && !(h.is_finite() && h > 0.0)
        {
            return fail(format!(
                "the repeat score's half-life must be positive, got {h}"
            ));
        }
        let scale = self.repeat_weight_multiplier();
        if !(scale.is_finite() && scale > 0.0) {
            return fail(format!(
                "the repeat weights' scale must be positive, got {scale}"
            ));
        }
        if self.repeat_context == Some(0) {
            return fail("repeat_context must be at least 1".into());
        }
        Ok(())
    }

    /// Plays the repeat term counts (`repeat_context`, or `max_len` when unset); `None`
    /// without a repeat term.
    pub fn repeat_window(&self) -> Option<usize> {
        self.repeat_half_life
            .map(|_| self.repeat_context.unwrap_or(self.max_len))
    }

    /// The most recent history items the model reads: the longer of the attention window
    /// and the repeat term's. Batches and ranking inputs are cut to this length.
    pub fn input_len(&self) -> usize {
        self.repeat_window()
            .map_or(self.max_len, |w| w.max(self.max_len))
    }

    /// Number of rows of the item embedding tables: padding, the items, the mask token.
    pub fn vocab_rows(&self) -> usize {
        self.num_items + 2
    }

    /// The id of the mask token used by the Cloze objective (`num_items + 1`).
    pub fn mask_token(&self) -> usize {
        self.num_items + 1
    }

    /// Builds a freshly initialised model on `device`.
    pub fn init(&self, device: &Device) -> Result<GsasRec, ConfigError> {
        self.validate()?;
        Ok(GsasRec::new(self, device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_setting_reads_back_from_its_name() {
        fn round_trip<T: Named + PartialEq + std::fmt::Debug>(names: &[&str]) {
            let got: Vec<&str> = T::ALL.iter().map(Named::name).collect();
            assert_eq!(got, names);
            for v in T::ALL {
                assert_eq!(T::from_name(v.name()), Some(*v));
            }
            assert_eq!(T::from_name("Causal "), None);
        }
        round_trip::<AttentionMode>(&["causal", "bidirectional"]);
        round_trip::<PositionEncoding>(&["none", "learned", "sinusoidal"]);
        round_trip::<OutputEmbeddings>(&["separate", "shared"]);
    }

    #[test]
    fn the_dropout_default_is_the_named_constant() {
        assert_eq!(GsasRecConfig::new(10).dropout, DEFAULT_DROPOUT);
    }
}
