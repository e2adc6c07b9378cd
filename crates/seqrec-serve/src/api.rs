//! The JSON bodies of `POST /recommend` and `GET /health`.

use seqrec_data::ItemVocabulary;
use serde::{Deserialize, Serialize};

/// The `k` of a request that gives none.
pub const DEFAULT_K: usize = 10;

fn default_k() -> usize {
    DEFAULT_K
}

/// The body of `POST /recommend`: exactly one of `history` (one listener) and `histories`
/// (several, answered in order).
///
/// ```json
/// {"history": ["t12", "t7"], "k": 10, "exclude_history": true}
/// {"histories": [["t12", "t7"], ["t3"]], "k": 5}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendRequest {
    /// One history, oldest first, as the items' own ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<String>>,
    /// Several histories, each oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histories: Option<Vec<Vec<String>>>,
    /// How many items to return per history. Default 10.
    #[serde(default = "default_k")]
    pub k: usize,
    /// Never return an item of the history (by default they may be: music is re-listened).
    #[serde(default)]
    pub exclude_history: bool,
}

/// The recommendations for one history, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendations {
    /// The items, as the user knows them.
    pub items: Vec<String>,
    /// Their scores, higher is better (as [`seqrec_train::Recommendation::score`]).
    pub scores: Vec<f32>,
}

impl Recommendations {
    /// One [`Ranker::rank`](crate::Ranker::rank) list of `(model id, score)`, best first, as
    /// the user's ids of `items` (a model id `items` lacks, which no ranker returns, becomes
    /// `""`). The service and `seqrec recommend --history` answer with it.
    pub fn from_ranked(items: &ItemVocabulary, ranked: Vec<(u32, f32)>) -> Self {
        let (items, scores) = ranked
            .into_iter()
            .map(|(id, score)| (items.name(id).unwrap_or_default().to_string(), score))
            .unzip();
        Self { items, scores }
    }
}

/// The answer to a request with `histories`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRecommendations {
    /// One entry per history, in the request's order.
    pub results: Vec<Recommendations>,
}

/// The body of an error answer (400, 413, 500, 503).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
}

/// The answer of `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"ok"` while the service answers.
    pub status: String,
    /// The model kind: `gsasrec`, `item-item` or `personal-popularity`.
    pub model: String,
    /// The catalogue size.
    pub items: usize,
    /// The number of most recent history items the model reads.
    pub max_len: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranked_model_ids_become_the_users_ids_in_order() {
        let mut items = ItemVocabulary::default();
        for name in ["artist - one", "t2", "t3"] {
            items.insert(name);
        }
        let ranked = vec![(3, 2.5), (1, 0.5), (2, -1.0)];
        assert_eq!(
            Recommendations::from_ranked(&items, ranked),
            Recommendations {
                items: vec!["t3".into(), "artist - one".into(), "t2".into()],
                scores: vec![2.5, 0.5, -1.0],
            }
        );
        let empty = Recommendations::from_ranked(&items, Vec::new());
        assert!(empty.items.is_empty() && empty.scores.is_empty());
    }
}
