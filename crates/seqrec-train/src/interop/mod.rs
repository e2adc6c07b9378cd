//! Interoperability with the PyTorch reference code of gSASRec
//! (<https://github.com/asash/gSASRec-pytorch>): import its checkpoints, export our models
//! in its `state_dict` layout.
//!
//! The model of `seqrec-model` computes the reference block exactly, so an imported
//! checkpoint scores every item as the reference does (to float rounding). The tensor-by-tensor
//! mapping is in `docs/interop.md`.
//!
//! - [`import_gsasrec_checkpoint`]: a `.pt` state_dict → [`seqrec_model::GsasRec`];
//! - [`import_gsasrec_model_dir`]: the same, written as a model directory to serve;
//! - [`export_gsasrec_safetensors`] / [`load_gsasrec_safetensors`]: a model → the reference
//!   state_dict as SafeTensors, and back.

mod error;
mod export;
mod import;
mod layout;
mod state_dict;
mod torch_zip;

pub use error::ImportError;
pub use export::{export_gsasrec_safetensors, load_gsasrec_safetensors};
pub use import::{import_gsasrec_checkpoint, import_gsasrec_model_dir};
