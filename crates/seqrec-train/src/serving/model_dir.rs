//! A trained model on disk: `config.json` (model and training configuration), `items.json`
//! (the item vocabulary) and `model.safetensors` (the weights).

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::{GsasRec, GsasRecConfig, SequenceScorer};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::atomic::{verify_checksum, write_atomically, write_bytes_atomically, write_checksum};
use crate::config::TrainConfig;
use crate::error::TrainError;

/// File name of the configuration in a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the item vocabulary in a model directory.
pub const ITEMS_FILE: &str = "items.json";
/// File name of the weights in a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// The contents of `config.json` in a gSASRec model directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GsasRecManifest {
    /// The architecture.
    pub model: GsasRecConfig,
    /// How it was trained, when seqrec trained it.
    pub training: Option<TrainConfig>,
}

/// Writes a model directory.
pub fn save_model_dir(
    dir: &Path,
    model: &GsasRec,
    manifest: &GsasRecManifest,
    items: &ItemVocabulary,
) -> Result<(), TrainError> {
    save_dir(dir, model, manifest, items)
}

/// Saves the parameters of any module as SafeTensors (shared by every model directory).
///
/// The file is written atomically (a temporary file renamed over it) and its SHA-256 goes to
/// `PATH.sha256`, which loading checks.
pub(crate) fn save_module<M: Module>(model: &M, path: &Path) -> Result<(), TrainError> {
    write_atomically(path, |tmp| {
        let mut store = SafetensorsStore::from_file(tmp.to_path_buf()).overwrite(true);
        model
            .save_into(&mut store)
            .map_err(|e| TrainError::Weights {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
    })?;
    write_checksum(path)
}

/// Loads SafeTensors weights into a fresh model of `config`; every tensor must be present
/// with its shape.
pub fn load_weights(
    config: &GsasRecConfig,
    path: &Path,
    device: &Device,
) -> Result<GsasRec, TrainError> {
    load_module(config.init(device)?, path)
}

/// Loads SafeTensors weights into `model`; every tensor must be present with its shape.
pub(crate) fn load_module<M: Module>(mut model: M, path: &Path) -> Result<M, TrainError> {
    if !path.is_file() {
        return Err(TrainError::Weights {
            path: path.to_path_buf(),
            message: "file not found".into(),
        });
    }
    verify_checksum(path)?;
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
) -> Result<(GsasRec, GsasRecManifest, ItemVocabulary), TrainError> {
    let (manifest, items): (GsasRecManifest, _) =
        read_manifest_and_items(dir, |m: &GsasRecManifest| m.model.num_items)?;
    let model = load_weights(&manifest.model, &dir.join(WEIGHTS_FILE), device)?;
    Ok((model, manifest, items))
}

/// Reads `config.json` and `items.json` of a model directory and checks that the vocabulary
/// has the model's number of items (given by `num_items`).
pub(crate) fn read_manifest_and_items<T: DeserializeOwned>(
    dir: &Path,
    num_items: impl FnOnce(&T) -> usize,
) -> Result<(T, ItemVocabulary), TrainError> {
    let manifest: T = read_json(&dir.join(CONFIG_FILE))?;
    let items: ItemVocabulary = read_json(&dir.join(ITEMS_FILE))?;
    let expected = num_items(&manifest);
    if items.len() != expected {
        return Err(TrainError::ModelDir {
            path: dir.join(ITEMS_FILE),
            reason: format!(
                "{} items in the vocabulary but the model has {expected}",
                items.len()
            ),
        });
    }
    Ok((manifest, items))
}

/// Writes a model directory of any model: manifest, vocabulary and weights.
pub(crate) fn save_dir<M: Module, T: Serialize>(
    dir: &Path,
    model: &M,
    manifest: &T,
    items: &ItemVocabulary,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(TrainError::io(dir))?;
    write_json(&dir.join(CONFIG_FILE), manifest)?;
    write_json(&dir.join(ITEMS_FILE), items)?;
    save_module(model, &dir.join(WEIGHTS_FILE))
}

/// A model that a [`Recommender`](crate::Recommender) can serve from a model directory
/// (`config.json`, `items.json`, `model.safetensors`).
pub trait SavedModel: SequenceScorer + Sized {
    /// The contents of the directory's `config.json`.
    type Manifest: Clone + Debug + Serialize + DeserializeOwned + Send + Sync;

    /// The kind of model, as [`ModelKind::detect`] reads it from a directory of this model.
    const KIND: ModelKind;

    /// Reads a model directory: the model on `device`, its manifest and the item vocabulary.
    fn load_dir(
        dir: &Path,
        device: &Device,
    ) -> Result<(Self, Self::Manifest, ItemVocabulary), TrainError>;
}

impl SavedModel for GsasRec {
    type Manifest = GsasRecManifest;
    const KIND: ModelKind = ModelKind::GsasRec;

    fn load_dir(
        dir: &Path,
        device: &Device,
    ) -> Result<(Self, GsasRecManifest, ItemVocabulary), TrainError> {
        load_model_dir(dir, device)
    }
}

/// The kind of model a model directory holds, read from its `config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// A gSASRec transformer ([`load_model_dir`], `Recommender::load`).
    GsasRec,
    /// The item-item baseline (`Recommender::<ItemItem>::open`).
    ItemItem,
    /// The personal popularity baseline (`Recommender::<PersonalPopularity>::open`).
    PersonalPopularity,
}

impl ModelKind {
    /// Reads `config.json` of `dir`: a manifest whose `kind` is
    /// [`PERSONAL_POPULARITY_KIND`](crate::PERSONAL_POPULARITY_KIND) is personal popularity,
    /// one whose model has a `recency` and no `blocks` is item-item, any other gSASRec
    /// (whose loading then checks the rest). An unknown `kind` is an error.
    pub fn detect(dir: &Path) -> Result<Self, TrainError> {
        let path = dir.join(CONFIG_FILE);
        let manifest: serde_json::Value = read_json(&path)?;
        match manifest.get("kind").and_then(serde_json::Value::as_str) {
            Some(crate::personal_popularity::PERSONAL_POPULARITY_KIND) => {
                Ok(ModelKind::PersonalPopularity)
            }
            Some(other) => Err(TrainError::ModelDir {
                path: path.to_path_buf(),
                reason: format!("unknown model kind {other:?}"),
            }),
            None => {
                let model = manifest.get("model");
                let has = |key: &str| model.and_then(|m| m.get(key)).is_some();
                Ok(if has("recency") && !has("blocks") {
                    ModelKind::ItemItem
                } else {
                    ModelKind::GsasRec
                })
            }
        }
    }
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).map_err(TrainError::json(path))?;
    write_bytes_atomically(path, text.as_bytes())
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, TrainError> {
    let file = std::fs::File::open(path).map_err(TrainError::io(PathBuf::from(path)))?;
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(TrainError::json(path))
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.

    use super::*;

    fn saved(dir: &Path) {
        let device = Device::ndarray();
        let config = GsasRecConfig::new(12).with_dim(8).with_max_len(4);
        let model = config.init(&device).unwrap();
        let manifest = GsasRecManifest {
            model: config,
            training: None,
        };
        save_model_dir(dir, &model, &manifest, &ItemVocabulary::identity(12)).unwrap();
    }

    fn load_error(dir: &Path) -> String {
        match load_model_dir(dir, &Device::ndarray()) {
            Ok(_) => panic!("{} loaded", dir.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn damaged_model_directories_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        saved(dir.path());
        let weights = dir.path().join(WEIGHTS_FILE);
        assert!(crate::atomic::checksum_path(&weights).is_file());
        load_model_dir(dir.path(), &Device::ndarray()).unwrap();
        let good = std::fs::read(&weights).unwrap();

        // One byte flipped inside the tensor data: the file still parses, the checksum does not.
        let mut flipped = good.clone();
        let at = flipped.len() - 10;
        flipped[at] ^= 0x40;
        std::fs::write(&weights, &flipped).unwrap();
        let message = load_error(dir.path());
        assert!(
            message.contains("checksum mismatch") && message.contains(WEIGHTS_FILE),
            "{message}"
        );

        // Truncated, or a foreign file, with the checksum gone too: a typed error, no panic.
        let checksum = crate::atomic::checksum_path(&weights);
        std::fs::remove_file(&checksum).unwrap();
        for bad in [
            &good[..good.len() / 2],
            &good[..3],
            b"not a safetensors file at all",
        ] {
            std::fs::write(&weights, bad).unwrap();
            let message = load_error(dir.path());
            assert!(message.contains(WEIGHTS_FILE), "{message}");
        }
        std::fs::write(&weights, &good).unwrap();
        load_model_dir(dir.path(), &Device::ndarray()).unwrap();

        // Truncated JSON names the file, with the line and column.
        for file in [CONFIG_FILE, ITEMS_FILE] {
            let path = dir.path().join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, &text[..text.len() / 2]).unwrap();
            let message = load_error(dir.path());
            assert!(
                message.contains(file) && message.contains("line"),
                "{message}"
            );
            std::fs::write(&path, text).unwrap();
        }
        load_model_dir(dir.path(), &Device::ndarray()).unwrap();
    }
}
