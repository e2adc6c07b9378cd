#![deny(missing_docs)]
//! # seqrec-train
//!
//! Training, evaluation and serving of [`seqrec_model::GsasRec`], tying the model, the losses
//! of `seqrec-loss`, the samplers of `seqrec-sampling` and the metrics of `seqrec-eval`
//! together on burn-train's `Learner` (validation, early stopping, checkpoints; multi-device
//! execution strategies come from burn-train as well).
//!
//! - [`Objective`]: next-item (causal), future targets, or cloze — chosen so that no target
//!   is visible to the position that scores it.
//! - [`train`]: a full run that writes a model directory; [`Recommender`] serves it.
//! - [`evaluate_next_item`]: full-catalogue ranking metrics on held-out items (any
//!   [`seqrec_model::SequenceScorer`]); [`rank_top_k`]: batched top-k lists.
//! - [`train_item_item`]: the paper's neural item-item baseline (item2vec), trained, saved
//!   and served (`Recommender::<ItemItem>::open`) like gSASRec.
//! - [`save_personal_popularity_dir`]: the personal popularity baseline
//!   ([`seqrec_model::PersonalPopularity`]), saved and served
//!   (`Recommender::<PersonalPopularity>::open`); [`ModelKind::detect`] tells the kinds of
//!   model directories apart.
//! - [`import_gsasrec_checkpoint`]: serve models trained with the PyTorch reference code;
//!   [`export_gsasrec_safetensors`]: hand ours back to it.
//!
//! The building blocks of a training step (batch planning, batches, the burn-train training
//! model, per-position scoring) are in `internals`, behind the feature of that
//! name, for benchmarks and hand-written loops; they are not a stable API.

mod atomic;
mod batch;
mod checkpoint;
mod config;
mod error;
mod evaluate;
mod fit;
mod guard;
mod interop;
mod item_item;
mod item_rows;
mod item_tables;
mod loader;
mod metric;
mod objective;
mod personal_popularity;
mod plan;
mod prefetch;
mod progress;
mod run;
mod serving;
mod session;
mod sparse_adam;
mod step;
mod train;

pub use config::{ItemUpdates, TrainConfig};
pub use error::TrainError;
pub use evaluate::{evaluate_next_item, next_item_ranks};
pub use guard::NonFiniteLoss;
pub use interop::{
    ImportError, export_gsasrec_safetensors, import_gsasrec_checkpoint, import_gsasrec_model_dir,
    load_gsasrec_safetensors,
};
pub use item_item::{ItemItemManifest, ItemItemTrainConfig, train_item_item};
pub use item_tables::ItemTables;
pub use objective::Objective;
pub use personal_popularity::{
    PERSONAL_POPULARITY_KIND, PersonalPopularityManifest, save_personal_popularity_dir,
};
pub use progress::{ProgressCallback, ProgressEvent};
pub use run::{DEFAULT_SEED, RunSettings, TrainLimit};
pub use serving::{
    GsasRecManifest, MAX_SCORES_PER_BLOCK, ModelKind, Recommendation, Recommender, SavedModel,
    load_model_dir, rank_top_k, rank_top_k_excluding, resolve_history, save_model_dir,
};
pub use session::METRICS_FILE;
pub use sparse_adam::{SparseAdam, TableState};
pub use train::{
    CurvePoint, DISCOVERY_DIR, REPORT_FILE, TrainOptions, TrainReport, TrainingData, WORK_DIR,
    train, train_with_discovery,
};

#[cfg(feature = "internals")]
pub mod internals {
    //! The building blocks of a training step, for benchmarks and hand-written loops (feature
    //! `internals`; not a stable API): batch planning with provenance ([`BatchPlanner`]), host
    //! plans and device batches, the burn-train training model of gSASRec ([`GsasRecTraining`])
    //! with its per-position scoring paths, and the validation loader.

    pub use crate::batch::{EvalBatch, NegativeIds, ShareWeight, TrainBatch};
    pub use crate::guard::LossGuard;
    pub use crate::item_rows::{ItemRows, localise, pack_row_gradients, unpack_row_gradients};
    pub use crate::loader::{EvalLoader, HistoryRanking, TrainLoader};
    pub use crate::plan::{BatchPlan, BatchPlanner, NO_EVENT};
    pub use crate::prefetch::BatchShare;
    pub use crate::step::{
        GsasRecTraining, PerPositionScoring, RankOutput, StepOutput, StepSetup, target_ranks,
    };
}
