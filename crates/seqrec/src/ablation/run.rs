//! Training every model of an ablation, one after the other, with one seed and one budget.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::{GsasRec, ItemItem, PersonalPopularity, Popularity, SequenceScorer};
use seqrec_train::{
    DISCOVERY_DIR, ItemItemTrainConfig, Objective, PersonalPopularityManifest, ProgressEvent,
    REPORT_FILE, SavedModel, TrainConfig, TrainOptions, TrainReport, TrainingData, load_model_dir,
    rank_top_k, rank_top_k_excluding, save_personal_popularity_dir, train_item_item,
    train_with_discovery,
};
use serde::{Deserialize, Serialize};

use super::config::{
    AblationConfig, DISCOVERY_TRAINING_MAX_ITEMS, ITEM_ITEM, PERSONAL_POPULARITY, POPULARITY,
    Variant,
};
use super::{AblationError, memory};

/// Users ranked per batch.
const RANK_BATCH: usize = 256;

/// What happens during an ablation, for progress displays.
#[derive(Debug)]
pub enum AblationEvent<'a> {
    /// A model starts training (`index` counts from 1 to `total`).
    Model {
        /// Position of the model in the run.
        index: usize,
        /// Models in the run.
        total: usize,
        /// Its name.
        name: &'a str,
    },
    /// A training event of the current model.
    Training(&'a ProgressEvent),
    /// The current model ranks the catalogue for the evaluated users.
    Ranking {
        /// Its name.
        name: &'a str,
        /// Users to rank for.
        users: usize,
    },
    /// The model is trained and ranked.
    Done {
        /// Its name.
        name: &'a str,
        /// Seconds of training.
        train_seconds: f64,
    },
}

/// Receives [`AblationEvent`]s.
pub type AblationProgress = Box<dyn FnMut(AblationEvent<'_>) + Send + Sync>;

/// What was trained, how, and what it cost: one entry of `run.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelRun {
    /// Name in tables and plots.
    pub name: String,
    /// `"gsasrec"`, `"item_item"`, `"popularity"` or `"personal_popularity"`.
    pub kind: String,
    /// The transformer variant.
    pub variant: Option<Variant>,
    /// The training objective of a transformer.
    pub objective: Option<Objective>,
    /// Every hyperparameter (the full training configuration).
    pub hyperparameters: serde_json::Value,
    /// Steps, validations and timing of the training.
    pub training: Option<TrainReport>,
    /// Wall-clock seconds of training (data preparation included).
    pub train_seconds: f64,
    /// Peak resident memory of the process during this training, in bytes (Linux).
    pub peak_rss_bytes: Option<u64>,
    /// Wall-clock seconds to rank the catalogue for every evaluated user.
    pub rank_seconds: f64,
    /// Where the trained model was saved (`seqrec recommend --model` serves it).
    pub model_dir: Option<PathBuf>,
}

/// A trained model of any kind: every model ranks through [`SequenceScorer`]; personal
/// popularity is told apart because it counts the positive plays when they are known.
pub(crate) enum TrainedModel<'a> {
    Scorer(&'a dyn SequenceScorer),
    PersonalPopularity(&'a PersonalPopularity),
}

/// The histories of the users to rank for.
#[derive(Clone, Copy)]
pub(crate) struct Histories<'a> {
    /// Every history play of each user: what `exclude_history` removes from the lists.
    pub(crate) all: &'a [Vec<u32>],
    /// What the models read for each user: `all`, or the positive plays.
    pub(crate) read: &'a [Vec<u32>],
    /// The positive history plays of each user (possibly none), when play durations are
    /// known: what personal popularity counts.
    pub(crate) positive: Option<&'a [Vec<u32>]>,
}

impl TrainedModel<'_> {
    /// Top-`k` model ids per history, best first.
    ///
    /// Personal popularity counts the positive plays when they are known; a user without
    /// any gets global popularity. With `exclude_history` it is given every history play,
    /// so that the history tracks it would rank first are removed and what is left is the
    /// popularity order of the other tracks, as it would be from the positive plays.
    pub(crate) fn top_k(
        &self,
        histories: Histories<'_>,
        k: usize,
        exclude_history: bool,
        device: &Device,
    ) -> Result<Vec<Vec<u32>>, seqrec_train::TrainError> {
        let all = histories.all;
        if let (TrainedModel::PersonalPopularity(m), Some(positive), false) =
            (self, histories.positive, exclude_history)
        {
            return personal_top_k(m, all, positive, k, device);
        }
        let read = histories.read;
        let excluded = exclude_history.then_some(all);
        let scorer: &dyn SequenceScorer = match self {
            TrainedModel::Scorer(m) => *m,
            TrainedModel::PersonalPopularity(m) => *m,
        };
        let ranked = rank_top_k_excluding(scorer, read, excluded, k, RANK_BATCH, device)?;
        Ok(ranked
            .into_iter()
            .map(|list| list.into_iter().map(|(id, _)| id).collect())
            .collect())
    }
}

/// Personal popularity's top `k` (history allowed) from the positive plays of each user;
/// a user without positive plays (`positive[u]` empty) gets global popularity.
fn personal_top_k(
    model: &PersonalPopularity,
    all: &[Vec<u32>],
    positive: &[Vec<u32>],
    k: usize,
    device: &Device,
) -> Result<Vec<Vec<u32>>, seqrec_train::TrainError> {
    if positive.len() != all.len() {
        return Err(seqrec_train::TrainError::SizeMismatch {
            what: "positive histories of personal popularity (one per user)",
            expected: all.len(),
            found: positive.len(),
        });
    }
    let (with, without): (Vec<usize>, Vec<usize>) =
        (0..all.len()).partition(|&u| !positive[u].is_empty());
    let inputs: Vec<Vec<u32>> = with.iter().map(|&u| positive[u].clone()).collect();
    let ranked = rank_top_k(model, &inputs, k, false, RANK_BATCH, device)?;
    let mut lists = vec![Vec::new(); all.len()];
    for (&u, list) in with.iter().zip(ranked) {
        lists[u] = list.into_iter().map(|(id, _)| id).collect();
    }
    if !without.is_empty() {
        // The scores of an empty history: popularity (ties by lower id).
        let scores = model.score_history(&[]);
        let mut ids: Vec<u32> = (0..scores.len() as u32)
            .filter(|&id| scores[id as usize].is_finite())
            .collect();
        ids.sort_by(|&a, &b| scores[b as usize].total_cmp(&scores[a as usize]));
        ids.truncate(k);
        for u in without {
            lists[u] = ids.clone();
        }
    }
    Ok(lists)
}

/// File-system-safe name of a model: `"No mask, PE"` → `"no-mask-pe"`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Trains the baselines and every variant in order, handing each trained model to `use_model`
/// (which ranks the catalogue for `ranked_users` users and evaluates the lists) before the
/// next one is trained, so that one model at a time is in memory. A variant trained with
/// [`seqrec_train::TrainConfig::discovery_checkpoint`] also hands over its best model by
/// discovery validation, for the lists without the history; the other models hand `None`.
/// `positive_min_ms` is the threshold of the positive plays that personal popularity is given to count (recorded in
/// its model directory), `None` when it counts every play.
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_all(
    config: &AblationConfig,
    data: &TrainingData,
    device: &Device,
    out_dir: &Path,
    ranked_users: usize,
    positive_min_ms: Option<u32>,
    progress: AblationProgress,
    mut use_model: impl FnMut(
        &mut ModelRun,
        &TrainedModel<'_>,
        Option<&TrainedModel<'_>>,
    ) -> Result<(), AblationError>,
) -> Result<Vec<ModelRun>, AblationError> {
    let progress = Arc::new(Mutex::new(progress));
    let emit = |event: AblationEvent<'_>| {
        if let Ok(mut p) = progress.lock() {
            p(event)
        }
    };
    let training_progress = || -> TrainOptions {
        let progress = progress.clone();
        TrainOptions {
            resume: false,
            progress: Some(Box::new(move |event: &ProgressEvent| {
                if let Ok(mut p) = progress.lock() {
                    p(AblationEvent::Training(event))
                }
            })),
            devices: Vec::new(),
        }
    };
    let models_dir = out_dir.join("models");
    let total = config.variants.len() + 3;
    let mut runs = Vec::with_capacity(total);

    // The item-item baseline.
    emit(AblationEvent::Model {
        index: 1,
        total,
        name: ITEM_ITEM,
    });
    let item_config = config.item_item_config(data.num_items);
    let dir = models_dir.join(slug(ITEM_ITEM));
    let fitted = train_or_reuse(
        config.resume,
        &dir,
        ITEM_ITEM,
        || finished_item_item(&dir, &item_config, &data.items, device),
        || train_item_item(&item_config, data, device, &dir, training_progress()),
    )?;
    let (mut run, model) =
        ModelRun::trained(ITEM_ITEM, "item_item", to_value(&item_config), fitted, dir);
    finish(
        &mut run,
        &TrainedModel::Scorer(&model),
        None,
        &mut use_model,
        ranked_users,
        &emit,
    )?;
    runs.push(run);

    // The popularity floor: play counts of the training window.
    emit(AblationEvent::Model {
        index: 2,
        total,
        name: POPULARITY,
    });
    let started = Instant::now();
    let model = Popularity::new(&data.item_counts, device)
        .map_err(|e| AblationError::Config(format!("popularity: {e}")))?;
    let mut run = ModelRun {
        name: POPULARITY.into(),
        kind: "popularity".into(),
        variant: None,
        objective: None,
        hyperparameters: serde_json::json!({ "counts": "plays per track in the training sequences" }),
        training: None,
        train_seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: None,
        rank_seconds: 0.0,
        model_dir: None,
    };
    finish(
        &mut run,
        &TrainedModel::Scorer(&model),
        None,
        &mut use_model,
        ranked_users,
        &emit,
    )?;
    runs.push(run);

    // Personal popularity: the user's own tracks by plays, then the training play counts.
    emit(AblationEvent::Model {
        index: 3,
        total,
        name: PERSONAL_POPULARITY,
    });
    let started = Instant::now();
    let personal_config = config.personal_popularity_config(data.num_items);
    let model = personal_config
        .init(&data.item_counts)
        .map_err(|e| AblationError::Config(e.to_string()))?;
    let manifest = PersonalPopularityManifest::new(personal_config, positive_min_ms);
    let dir = models_dir.join(slug(PERSONAL_POPULARITY));
    save_personal_popularity_dir(&dir, &model, &manifest, &data.items)
        .map_err(AblationError::train(PERSONAL_POPULARITY))?;
    let mut run = ModelRun {
        name: PERSONAL_POPULARITY.into(),
        kind: "personal_popularity".into(),
        variant: None,
        objective: None,
        hyperparameters: serde_json::json!({
            "model": manifest.model,
            "counts": match positive_min_ms {
                Some(ms) => format!("the user's history plays of at least {ms} ms, then plays per track in the training sequences"),
                None => "the user's history plays, then plays per track in the training sequences".into(),
            },
        }),
        training: None,
        train_seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: None,
        rank_seconds: 0.0,
        model_dir: Some(dir),
    };
    finish(
        &mut run,
        &TrainedModel::PersonalPopularity(&model),
        None,
        &mut use_model,
        ranked_users,
        &emit,
    )?;
    runs.push(run);

    for (i, variant) in config.variants.iter().enumerate() {
        let name = variant.name();
        emit(AblationEvent::Model {
            index: i + 4,
            total,
            name: &name,
        });
        let mut train_config = config.variant_config(*variant, data.num_items);
        // On a listening log the validation item is often a replay: rank the history too.
        train_config.validation_ranks_history = positive_min_ms.is_some();
        // Lists without the history come from the checkpoint that ranks new tracks best,
        // trained on for it where steps are cheap.
        train_config.discovery_checkpoint = train_config.validation_ranks_history;
        // The explore loss separates new tracks from replays; where lists never hold the
        // history (the gSASRec layout) there is nothing to separate.
        if !train_config.validation_ranks_history {
            train_config.explore_weight = 0.0;
        }
        train_config.discovery_keeps_training =
            train_config.discovery_checkpoint && data.num_items <= DISCOVERY_TRAINING_MAX_ITEMS;
        let dir = models_dir.join(slug(&name));
        let fitted = train_or_reuse(
            config.resume,
            &dir,
            &name,
            || finished_gsasrec(&dir, &train_config, &data.items, device),
            || {
                train_with_discovery(&train_config, data, device, &dir, training_progress())
                    .map(|(model, discovery, report)| ((model, discovery), report))
            },
        )?;
        let (mut run, (model, discovery)) =
            ModelRun::trained(&name, "gsasrec", to_value(&train_config), fitted, dir);
        run.variant = Some(*variant);
        run.objective = Some(train_config.objective);
        finish(
            &mut run,
            &TrainedModel::Scorer(&model),
            discovery.as_ref().map(|d| TrainedModel::Scorer(d)).as_ref(),
            &mut use_model,
            ranked_users,
            &emit,
        )?;
        runs.push(run);
    }
    Ok(runs)
}

/// A model trained for the ablation, or reused from the directory of a resumed one.
struct Fitted<T> {
    model: T,
    report: TrainReport,
    /// Seconds of training (those of the earlier run for a reused model).
    train_seconds: f64,
    /// Peak resident memory during training; `None` for a reused model.
    peak_rss_bytes: Option<u64>,
}

/// Trains a model into `dir` with `train` (then drops its checkpoints) or, when `resume` is
/// set and `finished` finds the same model finished there, reuses that one.
fn train_or_reuse<T>(
    resume: bool,
    dir: &Path,
    name: &str,
    finished: impl FnOnce() -> Option<(T, TrainReport)>,
    train: impl FnOnce() -> Result<(T, TrainReport), seqrec_train::TrainError>,
) -> Result<Fitted<T>, AblationError> {
    memory::reset_peak();
    let started = Instant::now();
    if let Some((model, report)) = resume.then(finished).flatten() {
        return Ok(Fitted {
            model,
            train_seconds: report.seconds,
            report,
            peak_rss_bytes: None,
        });
    }
    let (model, report) = train().map_err(AblationError::train(name))?;
    drop_checkpoints(dir);
    Ok(Fitted {
        model,
        report,
        train_seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: memory::peak_rss_bytes(),
    })
}

impl ModelRun {
    /// The entry of a trained model (ranking not timed yet), saved in `dir`, and the model.
    fn trained<T>(
        name: &str,
        kind: &str,
        hyperparameters: serde_json::Value,
        fitted: Fitted<T>,
        dir: PathBuf,
    ) -> (Self, T) {
        let run = Self {
            name: name.into(),
            kind: kind.into(),
            variant: None,
            objective: None,
            hyperparameters,
            training: Some(fitted.report),
            train_seconds: fitted.train_seconds,
            peak_rss_bytes: fitted.peak_rss_bytes,
            rank_seconds: 0.0,
            model_dir: Some(dir),
        };
        (run, fitted.model)
    }
}

/// The report of a finished model directory: `training.json`, which training writes last.
fn finished_report(dir: &Path) -> Option<TrainReport> {
    let text = std::fs::read_to_string(dir.join(REPORT_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// A gSASRec (and its discovery checkpoint) that an earlier run finished in `dir` with the
/// same training configuration and catalogue, for a resumed ablation; `None` (train it) when
/// there is none, it differs, or it does not load.
fn finished_gsasrec(
    dir: &Path,
    config: &TrainConfig,
    items: &ItemVocabulary,
    device: &Device,
) -> Option<((GsasRec, Option<GsasRec>), TrainReport)> {
    let report = finished_report(dir)?;
    let (model, manifest, vocabulary) = load_model_dir(dir, device)
        .inspect_err(|e| tracing::warn!("{}: not reused: {e}", dir.display()))
        .ok()?;
    if &vocabulary != items || to_value(&manifest.training) != to_value(&Some(config)) {
        return None;
    }
    let discovery_dir = dir.join(DISCOVERY_DIR);
    let discovery = if discovery_dir.is_dir() {
        Some(load_model_dir(&discovery_dir, device).ok()?.0)
    } else if config.discovery_checkpoint && report.best_discovery_validation.is_some() {
        // The report names a discovery checkpoint that is not there.
        return None;
    } else {
        None
    };
    Some(((model, discovery), report))
}

/// The item-item model an earlier run finished in `dir` with the same configuration and
/// catalogue; `None` otherwise.
fn finished_item_item(
    dir: &Path,
    config: &ItemItemTrainConfig,
    items: &ItemVocabulary,
    device: &Device,
) -> Option<(ItemItem, TrainReport)> {
    let report = finished_report(dir)?;
    let (model, manifest, vocabulary) = ItemItem::load_dir(dir, device)
        .inspect_err(|e| tracing::warn!("{}: not reused: {e}", dir.display()))
        .ok()?;
    if &vocabulary != items || to_value(&manifest.training) != to_value(&Some(config)) {
        return None;
    }
    Some((model, report))
}

fn finish(
    run: &mut ModelRun,
    model: &TrainedModel<'_>,
    discovery: Option<&TrainedModel<'_>>,
    use_model: &mut impl FnMut(
        &mut ModelRun,
        &TrainedModel<'_>,
        Option<&TrainedModel<'_>>,
    ) -> Result<(), AblationError>,
    ranked_users: usize,
    emit: &impl Fn(AblationEvent<'_>),
) -> Result<(), AblationError> {
    emit(AblationEvent::Ranking {
        name: &run.name,
        users: ranked_users,
    });
    let started = Instant::now();
    use_model(run, model, discovery)?;
    run.rank_seconds = started.elapsed().as_secs_f64();
    emit(AblationEvent::Done {
        name: &run.name,
        train_seconds: run.train_seconds,
    });
    Ok(())
}

fn to_value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Removes a finished model's training checkpoints (`DIR/train/checkpoint`): the model
/// directory is what the tables, serving and `--resume` read, and on a 200 000-track log the
/// checkpoints of one model take over a gigabyte. Failing to remove them loses nothing.
fn drop_checkpoints(dir: &Path) {
    let checkpoints = dir.join(seqrec_train::WORK_DIR).join("checkpoint");
    if let Err(e) = std::fs::remove_dir_all(&checkpoints)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("cannot remove {}: {e}", checkpoints.display());
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;
    use seqrec_model::PersonalPopularityConfig;

    #[test]
    fn personal_popularity_counts_positive_plays_and_excludes_every_history_play() {
        let device = Device::ndarray();
        // Items 1..=5, training counts 5, 1, 9, 3, 7: popularity order 3, 5, 1, 4, 2.
        let model = PersonalPopularityConfig::new(5)
            .init(&[0, 5, 1, 9, 3, 7])
            .unwrap();
        let trained = TrainedModel::PersonalPopularity(&model);
        let all = vec![vec![1, 2, 4, 1, 2], vec![4, 4], vec![5]];
        // User 0 completed 2 twice and 1 once (skipped the other 1 and 4), user 1 skipped
        // everything, user 2 completed 5.
        let positive = vec![vec![2, 1, 2], vec![], vec![5]];
        let histories = Histories {
            all: &all,
            positive: Some(&positive),
            read: &all,
        };
        let lists = trained.top_k(histories, 4, false, &device).unwrap();
        assert_eq!(
            lists,
            vec![vec![2, 1, 3, 5], vec![3, 5, 1, 4], vec![5, 3, 1, 4]]
        );
        // History excluded: every history play goes, skips included; popularity is left.
        let lists = trained.top_k(histories, 4, true, &device).unwrap();
        assert_eq!(lists, vec![vec![3, 5], vec![3, 5, 1, 2], vec![3, 1, 4, 2]]);
        // Reading the positive plays (every play for user 1, who has none) still excludes
        // every history play: user 0's skipped 4 is not in what the model reads.
        let read = vec![positive[0].clone(), all[1].clone(), positive[2].clone()];
        let reading_positive = Histories {
            read: &read,
            ..histories
        };
        let lists = trained.top_k(reading_positive, 4, true, &device).unwrap();
        assert_eq!(lists, vec![vec![3, 5], vec![3, 5, 1, 2], vec![3, 1, 4, 2]]);
        // Without durations every play counts: user 0 played 1 and 2 twice each, 2 last.
        let unknown = Histories {
            all: &all,
            positive: None,
            read: &all,
        };
        let lists = trained.top_k(unknown, 3, false, &device).unwrap();
        assert_eq!(lists, vec![vec![2, 1, 4], vec![4, 3, 5], vec![5, 3, 1]]);
        let short = vec![vec![1]];
        let bad = Histories {
            all: &all,
            positive: Some(&short),
            read: &all,
        };
        assert!(trained.top_k(bad, 3, false, &device).is_err());
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("No mask, PE"), "no-mask-pe");
        assert_eq!(slug("Causal mask, no PE"), "causal-mask-no-pe");
        assert_eq!(slug("Item-item"), "item-item");
        assert_eq!(slug("Personal popularity"), "personal-popularity");
    }
}
