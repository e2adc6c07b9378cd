#![deny(missing_docs)]
//! # seqrec-model
//!
//! The gSASRec transformer of Petrov & Macdonald (RecSys 2023) as used by Greer et al.,
//! *Beyond Collaborative Filtering: Using Transformers for Personalized Music Recommendation*:
//! SASRec blocks whose **causal mask** ([`AttentionMode`]) and **positional encoding**
//! ([`PositionEncoding`]) are hyperparameters, and dot-product scores against a (by default
//! separate) output embedding table.
//!
//! The block follows the gSASRec reference code exactly, so that its checkpoints give
//! identical scores: queries are the layer-normalised input while keys and values are the raw
//! input, the attention residual adds the normalised queries, heads split one shared Q/K/V
//! projection, there is no output projection, the feed-forward layer is `dim → dim → dim`
//! with ReLU, and a final layer norm closes the stack.
//!
//! Three baselines serve through the same [`SequenceScorer`] interface: [`ItemItem`], the
//! paper's neural item-item model (item2vec, scored by mean cosine similarity to the
//! history), and [`Popularity`], the same most-played ranking for everyone. A third,
//! [`PersonalPopularity`] replays each listener's own most played tracks before everyone's.
//!
//! The crate reads no files and knows no trainer; tensors carry no backend type: the
//! [`Device`](burn::tensor::Device) chooses it at run time.
//!
//! ```
//! use burn::tensor::{Device, Int, Tensor};
//! use seqrec_model::{AttentionMode, GsasRecConfig, PositionEncoding};
//!
//! let device = Device::ndarray();
//! let model = GsasRecConfig::new(100)
//!     .with_dim(16)
//!     .with_max_len(10)
//!     .with_attention(AttentionMode::Bidirectional)
//!     .with_positions(PositionEncoding::Learned)
//!     .init(&device)
//!     .unwrap();
//! let history = Tensor::<2, Int>::from_ints([[0, 0, 0, 12, 7, 99]], &device);
//! let hidden = model.forward(history.clone()); // [1, 6, 16]
//! assert_eq!(hidden.dims(), [1, 6, 16]);
//! let top = model.score_all(model.user_representation(history)).argmax(1);
//! ```

mod attention;
mod block;
mod config;
mod dropout;
mod ids;
mod item_item;
mod item_tables;
mod model;
mod personal_popularity;
mod popularity;
mod position;
mod repeat;
mod scorer;

pub use attention::SasRecAttention;
pub use block::SasRecBlock;
pub use config::{
    AttentionMode, ConfigError, DEFAULT_DROPOUT, GsasRecConfig, Named, OutputEmbeddings,
    PositionEncoding,
};
pub use dropout::DropoutKey;
pub use item_item::{ItemItem, ItemItemConfig, Recency};
pub use model::GsasRec;
pub use personal_popularity::{
    PERSONAL_POPULARITY_MAX_LEN_LIMIT, PersonalPopularity, PersonalPopularityConfig,
};
pub use popularity::Popularity;
pub use position::{position_rows, sinusoidal};
pub use repeat::RepeatScore;
pub use scorer::SequenceScorer;
