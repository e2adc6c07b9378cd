//! Exporting a model as the reference code's `state_dict` in a SafeTensors file, and loading
//! such a file back.

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::Device;
use seqrec_model::{AttentionMode, GsasRec, GsasRecConfig};

use super::error::ImportError;
use super::import::load_state_dict;
use super::layout::state_dict_of;
use super::state_dict::{StateDictFile, write_safetensors};
use crate::error::TrainError;

/// Metadata key naming the layout of an exported file.
pub const METADATA_FORMAT: &str = "format";
/// Value of [`METADATA_FORMAT`]: the tensors are named and laid out as the reference's
/// `GSASRec.state_dict()`.
pub const FORMAT_GSASREC_PYTORCH: &str = "gsasrec-pytorch";
/// Metadata key of the number of attention heads.
pub const METADATA_HEADS: &str = "num_heads";
/// Metadata key of the attention mask: `"true"` (causal) or `"false"` (bidirectional).
pub const METADATA_CAUSAL: &str = "causal";
/// Metadata key of the layer norms' epsilon.
pub const METADATA_LAYER_NORM_EPS: &str = "layer_norm_eps";

/// Writes `model` as a SafeTensors file holding the reference gSASRec's `state_dict`:
/// the reference code loads it with
/// `model.load_state_dict(safetensors.torch.load_file(path))` into
/// `GSASRec(num_items, sequence_length=max_len, embedding_dim=dim, num_heads=heads,
/// num_blocks=blocks, reuse_item_embeddings=<no output_embedding.weight>)`.
///
/// The string metadata records the heads, the mask and the layer-norm epsilon, which the
/// tensors do not show, so that [`load_gsasrec_safetensors`] needs no settings. A model
/// whose positions are not learned exports the position table that gives its scores
/// (sinusoidal rows, or zeros); a model with a repeat-aware score is refused. The reference's blocks are always causal: a bidirectional
/// model round-trips through this file but scores differently in the reference code.
pub fn export_gsasrec_safetensors(
    model: &GsasRec,
    config: &GsasRecConfig,
    path: impl AsRef<Path>,
) -> Result<(), TrainError> {
    if model.repeat.is_some() {
        return Err(TrainError::NotExportable(
            "this model has a repeat-aware score, which the reference gSASRec code has no \
             tensor for: its exported scores would differ (train with the repeat term off to \
             export)",
        ));
    }
    let causal = config.attention == AttentionMode::Causal;
    let metadata = HashMap::from([
        (
            METADATA_FORMAT.to_string(),
            FORMAT_GSASREC_PYTORCH.to_string(),
        ),
        (METADATA_HEADS.to_string(), config.heads.to_string()),
        (METADATA_CAUSAL.to_string(), causal.to_string()),
        (
            METADATA_LAYER_NORM_EPS.to_string(),
            config.layer_norm_eps.to_string(),
        ),
    ]);
    write_safetensors(path.as_ref(), &state_dict_of(model)?, metadata)
}

/// Loads a file written by [`export_gsasrec_safetensors`]: the same model, with the heads,
/// mask and layer-norm epsilon read from the file's metadata.
pub fn load_gsasrec_safetensors(
    path: impl AsRef<Path>,
    device: &Device,
) -> Result<(GsasRec, GsasRecConfig), ImportError> {
    let path = path.as_ref();
    let file = StateDictFile::open(path)?;
    let metadata = file.metadata();
    let field = |key: &str| -> Result<&String, ImportError> {
        metadata.get(key).ok_or_else(|| ImportError::Metadata {
            path: path.to_path_buf(),
            key: key.to_string(),
            message: "missing (the file was not written by `seqrec export`: use \
                      `import_gsasrec_checkpoint` with the model's settings)"
                .to_string(),
        })
    };
    let invalid = |key: &str, value: &str| ImportError::Metadata {
        path: path.to_path_buf(),
        key: key.to_string(),
        message: format!("invalid value `{value}`"),
    };
    let format = field(METADATA_FORMAT)?;
    if format != FORMAT_GSASREC_PYTORCH {
        return Err(invalid(METADATA_FORMAT, format));
    }
    let heads = field(METADATA_HEADS)?;
    let heads: usize = heads.parse().map_err(|_| invalid(METADATA_HEADS, heads))?;
    let causal = field(METADATA_CAUSAL)?;
    let attention = match causal.as_str() {
        "true" => AttentionMode::Causal,
        "false" => AttentionMode::Bidirectional,
        _ => return Err(invalid(METADATA_CAUSAL, causal)),
    };
    let eps = field(METADATA_LAYER_NORM_EPS)?;
    let eps: f64 = eps
        .parse()
        .map_err(|_| invalid(METADATA_LAYER_NORM_EPS, eps))?;
    load_state_dict(&file, heads, attention, eps, device)
}
