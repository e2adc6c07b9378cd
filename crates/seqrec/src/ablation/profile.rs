//! The paper's ablation on a listening log: train on the history window, evaluate with the
//! profile protocol on the held-out window (Tables 1 and 2).

use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use seqrec_eval::{
    History, HistoryPolicy, ListStatistics, ModelEvaluation, Play, ProfileEvalConfig,
    ProfileEvaluator, ProfileReport, Profiles, list_statistics,
};
use seqrec_events::WindowSplit;
use seqrec_train::TrainingData;
use serde::{Deserialize, Serialize};

use super::AblationError;
use super::config::{AblationConfig, ModelPlays};
use super::run::{AblationProgress, Histories, ModelRun, train_all};

/// Size of the data an ablation ran on (part of `run.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataSummary {
    /// Where the data came from (a path, or the built-in simulator).
    pub source: String,
    /// Catalogue size of the models.
    pub tracks: usize,
    /// Users with a training sequence.
    pub training_users: usize,
    /// Plays in the training sequences.
    pub training_plays: usize,
    /// Validation users (held out from training for early stopping).
    pub validation_users: usize,
    /// Plays in the held-out window.
    pub held_out_plays: usize,
    /// Held-out plays left out because their user has no training history.
    pub held_out_plays_without_history: usize,
    /// Held-out plays left out because their duration is unknown.
    pub held_out_plays_without_duration: usize,
    /// Users the profile protocol evaluates.
    pub evaluated_users: usize,
    /// Users the discovery view evaluates (those with a relevant held-out track outside
    /// their history); `None` without a discovery view.
    #[serde(default)]
    pub discovery_users: Option<usize>,
    /// Whether personal popularity counted positive history plays only (play durations
    /// known) rather than every history play.
    #[serde(default)]
    pub positive_histories: bool,
    /// Whether the trained models learned from and ranked with the positive history plays
    /// only ([`ModelPlays::Positive`] on a log with play durations); the training plays above
    /// are then positive plays.
    #[serde(default)]
    pub models_read_positive_plays: bool,
}

/// The result of [`run_profile_ablation`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProfileAblation {
    /// The settings.
    pub config: AblationConfig,
    /// The data.
    pub data: DataSummary,
    /// Each model's training.
    pub runs: Vec<ModelRun>,
    /// Every metric of every model, overall and per cohort, with intervals and the paired
    /// difference to the item-item baseline (the first model).
    pub report: ProfileReport,
    /// The discovery view: the same models with every history track removed from the
    /// ranked lists (each model's top k without its history) and from the profiles
    /// ([`HistoryPolicy::Exclude`]), so that only tracks new to the listener count. `None`
    /// when the evaluation already excludes history tracks, or when no user has a relevant
    /// track outside the history.
    #[serde(default)]
    pub discovery: Option<ProfileReport>,
    /// Coverage and mean popularity of every model's lists at every cutoff: the main view's
    /// models, then the discovery view's.
    #[serde(default)]
    pub list_statistics: Vec<ModelListStatistics>,
    /// Every evaluated user's metrics for every model (`per_user.csv`), the main view's, then
    /// the discovery view's; not in `report.json`.
    #[serde(skip)]
    pub per_user: Vec<(View, ModelEvaluation)>,
    /// The users' own ids, by dense user id − 1 (the rows of `per_user.csv`).
    #[serde(skip)]
    pub user_names: Vec<String>,
    /// Wall-clock seconds of the whole ablation.
    pub seconds: f64,
}

/// Which of the ablation's two evaluations a figure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// History tracks allowed in the lists and the profiles (the paper's protocol).
    Main,
    /// History tracks excluded from both ([`HistoryPolicy::Exclude`]).
    Discovery,
}

impl View {
    /// `main` or `discovery`.
    pub fn name(self) -> &'static str {
        match self {
            View::Main => "main",
            View::Discovery => "discovery",
        }
    }
}

/// One model's [`ListStatistics`] in one view. Popularity is the track's plays in the
/// history window (every listener's, skips included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelListStatistics {
    /// The view.
    pub view: View,
    /// The model's name.
    pub model: String,
    /// One entry per cutoff of the evaluation.
    pub cutoffs: Vec<ListStatistics>,
}

/// Trains the item-item baseline, the popularity floor, personal popularity and every
/// variant of `config` on the history window of `split`, ranks the whole catalogue for every
/// user with a held-out profile, and evaluates the lists with the profile protocol, then
/// again in the discovery view (history tracks excluded from lists and profiles). Models
/// are saved under `out_dir/models/`.
///
/// Personal popularity counts each user's positive history plays (at least the protocol's
/// `positive_min_ms`, 30 s by default) when the log has play durations, every history play
/// otherwise.
///
/// Users without a training history cannot be ranked by a history model and are left out
/// (counted in [`DataSummary`]); held-out plays without a duration cannot be judged positive
/// or negative and are left out too (an error if that is all of them).
pub fn run_profile_ablation(
    config: &AblationConfig,
    split: &WindowSplit,
    source: &str,
    device: &Device,
    out_dir: &Path,
    progress: AblationProgress,
) -> Result<ProfileAblation, AblationError> {
    config.validate()?;
    let started = Instant::now();
    let min_ms = config.evaluation.profile.positive_min_ms;
    let positive = split.positive_histories(min_ms);
    let read_positive = config.model_plays == ModelPlays::Positive && positive.is_some();
    let positive_dataset = if read_positive {
        split.positive_dataset(min_ms).transpose()?
    } else {
        None
    };
    let mut data =
        TrainingData::from_sequences(positive_dataset.as_ref().unwrap_or(&split.dataset))
            .map_err(AblationError::train("data"))?;
    data.items = split.model_items();
    let trained_users = split.histories.len();
    let has_history = |user: u32| {
        (user as usize)
            .checked_sub(1)
            .and_then(|u| split.histories.get(u))
            .is_some_and(|h| !h.is_empty())
    };
    let mut without_history = 0;
    let mut without_duration = 0;
    let mut plays = Vec::with_capacity(split.held_out.len());
    for play in &split.held_out {
        if !has_history(play.user) {
            without_history += 1;
        } else if let Some(ms) = play.ms_played {
            plays.push(Play::new(play.user, play.item, ms));
        } else {
            without_duration += 1;
        }
    }
    if plays.is_empty() {
        return Err(AblationError::Unsupported(format!(
            "no held-out play can be evaluated with the profile protocol: {} plays in the held-out window, {} of users without a training history, {} without a play duration (ms_played)",
            split.held_out.len(),
            without_history,
            without_duration
        )));
    }
    let history = History::from_lengths(
        split
            .history_lengths
            .iter()
            .enumerate()
            .map(|(u, &len)| (u as u32 + 1, u64::from(len))),
    );
    let mut evaluation = config.evaluation.clone();
    evaluation.bootstrap.seed = config.schedule.seed;
    let profiles = Profiles::build(plays, &evaluation.profile)?;
    let evaluator = ProfileEvaluator::from_profiles(evaluation.clone(), &profiles, &history)?;
    let users: Vec<u32> = evaluator.users().to_vec();
    let inputs = RankInputs::new(&users, split, positive.as_deref(), read_positive);
    let k = evaluator.config().ks.iter().copied().max().unwrap_or(200);

    // The discovery view: history tracks excluded from the profiles and from the lists.
    let discovery = match evaluation.history {
        HistoryPolicy::Exclude => None,
        HistoryPolicy::Allow => {
            let mut history = history.clone();
            for (u, items) in split.histories.iter().enumerate() {
                history.add_items(u as u32 + 1, items.iter().copied());
            }
            let config = ProfileEvalConfig {
                history: HistoryPolicy::Exclude,
                ..evaluation.clone()
            };
            let evaluator = ProfileEvaluator::from_profiles(config, &profiles, &history)?;
            (!evaluator.users().is_empty()).then(|| {
                let users = evaluator.users().to_vec();
                let inputs = RankInputs::new(&users, split, positive.as_deref(), read_positive);
                (evaluator, users, inputs)
            })
        }
    };
    let summary = DataSummary {
        source: source.to_string(),
        tracks: data.num_items,
        training_users: data.train.iter().filter(|s| !s.is_empty()).count(),
        training_plays: data.train.iter().map(Vec::len).sum(),
        validation_users: data.validation.inputs.len(),
        held_out_plays: split.held_out.len(),
        held_out_plays_without_history: without_history,
        held_out_plays_without_duration: without_duration,
        evaluated_users: users.len(),
        discovery_users: discovery.as_ref().map(|(_, users, _)| users.len()),
        positive_histories: positive.is_some(),
        models_read_positive_plays: read_positive,
    };
    debug_assert!(users.iter().all(|&u| (u as usize) <= trained_users));

    let mut evaluations: Vec<ModelEvaluation> = Vec::new();
    let mut discovery_evaluations: Vec<ModelEvaluation> = Vec::new();
    let ks = evaluator.config().ks.clone();
    // Every play of the history window, skips included (the lists' mean popularity).
    let popularity = seqrec_sampling::popularity_counts(&split.histories, data.num_items as u32)
        .map_err(|e| AblationError::Unsupported(format!("track popularity: {e}")))?;
    let mut statistics: Vec<ModelListStatistics> = Vec::new();
    let mut discovery_statistics: Vec<ModelListStatistics> = Vec::new();
    let describe = |view, name: &str, lists: &[Vec<u32>]| ModelListStatistics {
        view,
        model: name.to_owned(),
        cutoffs: list_statistics(lists, &ks, data.num_items, &popularity),
    };
    let runs = train_all(
        config,
        &data,
        device,
        out_dir,
        users.len(),
        positive.is_some().then_some(min_ms),
        progress,
        |run, model, discovery_model| {
            let lists = model
                .top_k(inputs.histories(), k, false, device)
                .map_err(AblationError::train(&run.name))?;
            statistics.push(describe(View::Main, &run.name, &lists));
            evaluations.push(evaluator.evaluate(&run.name, users.iter().copied().zip(lists))?);
            if let Some((evaluator, users, inputs)) = &discovery {
                let lists = discovery_model
                    .unwrap_or(model)
                    .top_k(inputs.histories(), k, true, device)
                    .map_err(AblationError::train(&run.name))?;
                discovery_statistics.push(describe(View::Discovery, &run.name, &lists));
                discovery_evaluations
                    .push(evaluator.evaluate(&run.name, users.iter().copied().zip(lists))?);
            }
            Ok(())
        },
    )?;
    let report = evaluator.report(&evaluations)?;
    let discovery = match &discovery {
        Some((evaluator, _, _)) => Some(evaluator.report(&discovery_evaluations)?),
        None => None,
    };
    statistics.append(&mut discovery_statistics);
    let per_user = evaluations
        .into_iter()
        .map(|e| (View::Main, e))
        .chain(
            discovery_evaluations
                .into_iter()
                .map(|e| (View::Discovery, e)),
        )
        .collect();
    let user_names = (1..=split.users.len() as u32)
        .map(|u| split.users.name(u).unwrap_or_default().to_owned())
        .collect();
    Ok(ProfileAblation {
        config: config.clone(),
        data: summary,
        runs,
        report,
        discovery,
        list_statistics: statistics,
        per_user,
        user_names,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The histories of the users to rank for, in the order of `users`.
struct RankInputs {
    all: Vec<Vec<u32>>,
    positive: Option<Vec<Vec<u32>>>,
    /// What the models read, when not `all`.
    read: Option<Vec<Vec<u32>>>,
}

impl RankInputs {
    /// Every history play of each user and, when known, the positive ones
    /// (`positive[u - 1]` for user `u`). With `read_positive` the models read the positive
    /// plays, or every play for a user without any.
    fn new(
        users: &[u32],
        split: &WindowSplit,
        positive: Option<&[Vec<u32>]>,
        read_positive: bool,
    ) -> Self {
        let row = |u: u32| u as usize - 1;
        let all: Vec<Vec<u32>> = users
            .iter()
            .map(|&u| split.histories[row(u)].clone())
            .collect();
        let positive: Option<Vec<Vec<u32>>> =
            positive.map(|p| users.iter().map(|&u| p[row(u)].clone()).collect());
        let read = positive.as_ref().filter(|_| read_positive).map(|p| {
            p.iter()
                .zip(&all)
                .map(|(p, a)| if p.is_empty() { a } else { p }.clone())
                .collect()
        });
        Self {
            all,
            positive,
            read,
        }
    }

    fn histories(&self) -> Histories<'_> {
        Histories {
            all: &self.all,
            positive: self.positive.as_deref(),
            read: self.read.as_deref().unwrap_or(&self.all),
        }
    }
}
