//! The JSON bodies of `POST /recommend` and `GET /health`.

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
