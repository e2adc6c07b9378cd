//! Reading a trained model back and ranking with it: the model directory (its files, the
//! kinds of model it can hold, saving and loading), full-catalogue top-k for any
//! [`SequenceScorer`](seqrec_model::SequenceScorer), and the [`Recommender`] that serves a
//! directory by external item id.
//!
//! Training writes model directories through [`model_dir`]; nothing here trains.

pub(crate) mod model_dir;
pub(crate) mod ranking;
pub(crate) mod recommender;

pub use model_dir::{GsasRecManifest, ModelKind, SavedModel, load_model_dir, save_model_dir};
pub use ranking::{MAX_SCORES_PER_BLOCK, rank_top_k, rank_top_k_excluding};
pub use recommender::{Recommendation, Recommender, resolve_history};
