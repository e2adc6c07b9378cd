//! The personal popularity baseline on disk: `config.json` (a [`PersonalPopularityManifest`]),
//! `items.json` and `counts.json` (the training play counts that order the tracks outside a
//! history). It has no weights and trains in one pass over the data.

use std::path::Path;

use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::{PersonalPopularity, PersonalPopularityConfig};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::serving::model_dir::{
    CONFIG_FILE, ITEMS_FILE, ModelKind, SavedModel, read_json, read_manifest_and_items, write_json,
};

/// File name of the training play counts in a personal popularity model directory.
pub const COUNTS_FILE: &str = "counts.json";

/// The `kind` of a personal popularity manifest (how `seqrec recommend` recognises the
/// directory).
pub const PERSONAL_POPULARITY_KIND: &str = "personal_popularity";

/// The contents of `config.json` of a personal popularity model directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalPopularityManifest {
    /// Always [`PERSONAL_POPULARITY_KIND`].
    pub kind: String,
    /// The model.
    pub model: PersonalPopularityConfig,
    /// When the histories it was evaluated with held only the plays of at least this many
    /// milliseconds (positive plays), that threshold; `None` when every play counted. A
    /// served history is counted as given.
    pub positive_min_ms: Option<u32>,
}

impl PersonalPopularityManifest {
    /// The manifest of a model.
    pub fn new(model: PersonalPopularityConfig, positive_min_ms: Option<u32>) -> Self {
        Self {
            kind: PERSONAL_POPULARITY_KIND.into(),
            model,
            positive_min_ms,
        }
    }
}

/// Writes a personal popularity model directory: `config.json` (the manifest), `items.json`
/// and `counts.json`.
pub fn save_personal_popularity_dir(
    dir: &Path,
    model: &PersonalPopularity,
    manifest: &PersonalPopularityManifest,
    items: &ItemVocabulary,
) -> Result<(), TrainError> {
    if manifest.model != *model.config() {
        return Err(TrainError::ModelDir {
            path: dir.join(CONFIG_FILE),
            reason: "personal popularity: the manifest does not describe the model".into(),
        });
    }
    std::fs::create_dir_all(dir).map_err(TrainError::io(dir))?;
    write_json(&dir.join(CONFIG_FILE), manifest)?;
    write_json(&dir.join(ITEMS_FILE), items)?;
    write_json(&dir.join(COUNTS_FILE), &model.counts())
}

impl SavedModel for PersonalPopularity {
    type Manifest = PersonalPopularityManifest;
    const KIND: ModelKind = ModelKind::PersonalPopularity;

    /// Reads a directory written by [`save_personal_popularity_dir`]; the model lives on
    /// the host, so `device` is not used (scores go to the device of the histories).
    fn load_dir(
        dir: &Path,
        _device: &Device,
    ) -> Result<(Self, PersonalPopularityManifest, ItemVocabulary), TrainError> {
        let (manifest, items): (PersonalPopularityManifest, _) =
            read_manifest_and_items(dir, |m: &PersonalPopularityManifest| m.model.num_items)?;
        if manifest.kind != PERSONAL_POPULARITY_KIND {
            return Err(TrainError::ModelDir {
                path: dir.join(CONFIG_FILE),
                reason: format!(
                    "kind {:?}, expected {PERSONAL_POPULARITY_KIND:?}",
                    manifest.kind
                ),
            });
        }
        let counts: Vec<u64> = read_json(&dir.join(COUNTS_FILE))?;
        let model = manifest.model.init(&counts)?;
        Ok((model, manifest, items))
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;
    use crate::serving::recommender::Recommender;

    #[test]
    fn a_saved_model_serves_the_same_ranking() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::ndarray();
        let config = PersonalPopularityConfig::new(4).with_half_life(Some(3.0));
        let model = config.init(&[0, 7, 1, 9, 3]).unwrap();
        let items = ItemVocabulary::from(vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        let manifest = PersonalPopularityManifest::new(config.clone(), Some(30_000));
        save_personal_popularity_dir(dir.path(), &model, &manifest, &items).unwrap();
        assert_eq!(
            ModelKind::detect(dir.path()).unwrap(),
            ModelKind::PersonalPopularity
        );

        let served = Recommender::<PersonalPopularity>::open(dir.path(), &device).unwrap();
        assert_eq!(served.manifest(), &manifest);
        // b twice, a once: b, a, then c (9 plays overall), d (3).
        let got = served.recommend(&["b", "a", "b"], 4, false).unwrap();
        let names: Vec<&str> = got.iter().map(|r| r.item.as_str()).collect();
        assert_eq!(names, ["b", "a", "c", "d"]);
        let got = served.recommend(&["b", "a", "b"], 4, true).unwrap();
        let names: Vec<&str> = got.iter().map(|r| r.item.as_str()).collect();
        assert_eq!(names, ["c", "d"]);

        // A vocabulary of the wrong size and a foreign kind are errors.
        let other = tempfile::tempdir().unwrap();
        let wrong = PersonalPopularityManifest {
            kind: "popularity".into(),
            ..manifest.clone()
        };
        save_personal_popularity_dir(other.path(), &model, &wrong, &items).unwrap();
        assert!(Recommender::<PersonalPopularity>::open(other.path(), &device).is_err());
        let small = ItemVocabulary::from(vec!["a".into()]);
        save_personal_popularity_dir(other.path(), &model, &manifest, &small).unwrap();
        assert!(Recommender::<PersonalPopularity>::open(other.path(), &device).is_err());
        let mismatched = PersonalPopularityManifest::new(config.with_max_len(5), None);
        assert!(save_personal_popularity_dir(other.path(), &model, &mismatched, &items).is_err());
    }
}
