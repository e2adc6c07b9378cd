//! A trained model on disk: `config.json` (model and training configuration), `items.json`
//! (the item vocabulary) and `model.safetensors` (the weights).

use std::path::{Path, PathBuf};

use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::{GsasRec, GsasRecConfig};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::TrainError;

/// File name of the configuration in a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the item vocabulary in a model directory.
pub const ITEMS_FILE: &str = "items.json";
/// File name of the weights in a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// The contents of `config.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelManifest {
    /// The architecture.
    pub model: GsasRecConfig,
    /// How it was trained, when seqrec trained it.
    pub training: Option<TrainConfig>,
}

/// Writes a model directory.
pub fn save_model_dir(
    dir: &Path,
    model: &GsasRec,
    manifest: &ModelManifest,
    items: &ItemVocabulary,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(TrainError::io(dir))?;
    write_json(&dir.join(CONFIG_FILE), manifest)?;
    write_json(&dir.join(ITEMS_FILE), items)?;
    save_weights(model, &dir.join(WEIGHTS_FILE))
}

/// Saves the weights of `model` as SafeTensors.
pub fn save_weights(model: &GsasRec, path: &Path) -> Result<(), TrainError> {
    let mut store = SafetensorsStore::from_file(path.to_path_buf()).overwrite(true);
    model
        .save_into(&mut store)
        .map_err(|e| TrainError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Loads SafeTensors weights into a fresh model of `config`; every tensor must be present
/// with its shape.
pub fn load_weights(
    config: &GsasRecConfig,
    path: &Path,
    device: &Device,
) -> Result<GsasRec, TrainError> {
    if !path.is_file() {
        return Err(TrainError::Weights {
            path: path.to_path_buf(),
            message: "file not found".into(),
        });
    }
    let mut model = config.init(device)?;
    let mut store = SafetensorsStore::from_file(path.to_path_buf());
    let result = model
        .load_from(&mut store)
        .map_err(|e| TrainError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if !result.missing.is_empty() || !result.errors.is_empty() {
        return Err(TrainError::Weights {
            path: path.to_path_buf(),
            message: format!(
                "missing tensors {:?}, errors {:?}",
                result.missing, result.errors
            ),
        });
    }
    Ok(model)
}

/// Reads a model directory: manifest, vocabulary and weights on `device`.
pub fn load_model_dir(
    dir: &Path,
    device: &Device,
) -> Result<(GsasRec, ModelManifest, ItemVocabulary), TrainError> {
    let manifest: ModelManifest = read_json(&dir.join(CONFIG_FILE))?;
    let items: ItemVocabulary = read_json(&dir.join(ITEMS_FILE))?;
    if items.len() != manifest.model.num_items {
        return Err(TrainError::Config(format!(
            "{}: {} items in the vocabulary but the model has {}",
            dir.join(ITEMS_FILE).display(),
            items.len(),
            manifest.model.num_items
        )));
    }
    let model = load_weights(&manifest.model, &dir.join(WEIGHTS_FILE), device)?;
    Ok((model, manifest, items))
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).map_err(TrainError::json(path))?;
    std::fs::write(path, text).map_err(TrainError::io(path))
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, TrainError> {
    let file = std::fs::File::open(path).map_err(TrainError::io(PathBuf::from(path)))?;
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(TrainError::json(path))
}
