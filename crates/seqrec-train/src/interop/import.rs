//! Importing a gSASRec model trained with the PyTorch reference code.

use std::path::Path;

use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::{AttentionMode, GsasRec, GsasRecConfig};

use super::error::ImportError;
use super::layout::{ReferenceLayout, model_from_file};
use super::state_dict::StateDictFile;
use crate::error::TrainError;
use crate::serving::model_dir::{GsasRecManifest, save_model_dir};

/// Layer-norm epsilon of the reference code (PyTorch's default).
pub(crate) const REFERENCE_LAYER_NORM_EPS: f64 = 1e-5;

/// Reads a `state_dict` of the reference gSASRec (`torch.save(model.state_dict(), path)`
/// in <https://github.com/asash/gSASRec-pytorch>) into a model with the same scores.
///
/// `path` is a PyTorch checkpoint (`.pt`, `.pth`) or, when its extension is
/// `.safetensors`, a SafeTensors file with the same tensor names. The number of items, the
/// window length, the embedding size and the number of blocks come from the tensors'
/// shapes; whether the output embeddings are shared comes from the presence of
/// `output_embedding.weight`. The number of heads is not in the tensors: pass the
/// `num_heads` the model was trained with. `causal` is `true` for the reference model,
/// whose blocks always apply the causal mask.
///
/// Item ids are the reference's: id `i` in `1..=num_items` is the same item in both, and
/// the reference's padding row `num_items + 1` becomes our padding row 0.
///
/// ```no_run
/// # #![allow(deprecated)]
/// use seqrec_train::import_gsasrec_checkpoint;
/// let device = burn::tensor::Device::ndarray();
/// let (model, config) = import_gsasrec_checkpoint("gsasrec-ml1m.pt", 1, true, &device)?;
/// assert_eq!(config.num_items, 3416);
/// # Ok::<(), seqrec_train::ImportError>(())
/// ```
pub fn import_gsasrec_checkpoint(
    path: impl AsRef<Path>,
    heads: usize,
    causal: bool,
    device: &Device,
) -> Result<(GsasRec, GsasRecConfig), ImportError> {
    let attention = if causal {
        AttentionMode::Causal
    } else {
        AttentionMode::Bidirectional
    };
    let file = StateDictFile::open(path.as_ref())?;
    load_state_dict(&file, heads, attention, REFERENCE_LAYER_NORM_EPS, device)
}

/// Checks a state_dict file against the reference layout and builds the model.
pub(crate) fn load_state_dict(
    file: &StateDictFile,
    heads: usize,
    attention: AttentionMode,
    layer_norm_eps: f64,
    device: &Device,
) -> Result<(GsasRec, GsasRecConfig), ImportError> {
    let shapes = file.shapes();
    let layout = ReferenceLayout::infer(&shapes, file.path())?;
    layout.check(&shapes, file.path())?;
    let config = layout.config(heads, attention, layer_norm_eps);
    let model = model_from_file(file, &layout, &config, device)?;
    Ok((model, config))
}

/// Imports a reference checkpoint (see [`import_gsasrec_checkpoint`]) and writes it as a
/// model directory that [`crate::Recommender::load`] and `seqrec recommend` serve: the
/// item vocabulary names model id `i` `"i"`, so histories and recommendations use the
/// reference's item ids. Returns the model's configuration.
pub fn import_gsasrec_model_dir(
    checkpoint: impl AsRef<Path>,
    heads: usize,
    causal: bool,
    out_dir: impl AsRef<Path>,
    device: &Device,
) -> Result<GsasRecConfig, TrainError> {
    let (model, config) = import_gsasrec_checkpoint(checkpoint, heads, causal, device)?;
    let manifest = GsasRecManifest {
        model: config.clone(),
        training: None,
    };
    let items = ItemVocabulary::identity(config.num_items as u32);
    save_model_dir(out_dir.as_ref(), &model, &manifest, &items)?;
    Ok(config)
}
