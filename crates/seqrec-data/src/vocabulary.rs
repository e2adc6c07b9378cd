//! Mapping between users' own item ids (strings) and the dense ids a model uses.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Item ids as users know them ↔ dense model ids `1..=len` (0 is padding).
///
/// Saved next to a model (as a JSON list of ids, the first one being model id 1) so that
/// recommendation takes and returns the user's own ids.
///
/// ```
/// use seqrec_data::ItemVocabulary;
/// let mut vocab = ItemVocabulary::default();
/// assert_eq!(vocab.insert("spotify:track:a"), 1);
/// assert_eq!(vocab.insert("spotify:track:b"), 2);
/// assert_eq!(vocab.insert("spotify:track:a"), 1);
/// assert_eq!(vocab.id("spotify:track:b"), Some(2));
/// assert_eq!(vocab.name(2), Some("spotify:track:b"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct ItemVocabulary {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl ItemVocabulary {
    /// The identity vocabulary of a dataset whose ids already are `1..=num_items`
    /// (the gSASRec layout): model id `i` is named `"i"`.
    pub fn identity(num_items: u32) -> Self {
        (1..=num_items)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .into()
    }

    /// The model id of `name`, adding it if new.
    pub fn insert(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        self.names.push(name.to_string());
        let id = self.names.len() as u32;
        self.index.insert(name.to_string(), id);
        id
    }

    /// The model id of `name`, if known.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The user's id of model id `id`, if in range.
    pub fn name(&self, id: u32) -> Option<&str> {
        let index = (id as usize).checked_sub(1)?;
        self.names.get(index).map(String::as_str)
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl From<Vec<String>> for ItemVocabulary {
    fn from(names: Vec<String>) -> Self {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32 + 1))
            .collect();
        Self { names, index }
    }
}

impl From<ItemVocabulary> for Vec<String> {
    fn from(vocab: ItemVocabulary) -> Self {
        vocab.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_maps_ids_to_themselves() {
        let v = ItemVocabulary::identity(3);
        assert_eq!(v.id("3"), Some(3));
        assert_eq!(v.name(1), Some("1"));
        assert_eq!(v.name(0), None);
        assert_eq!(v.name(4), None);
        assert_eq!(v.id("4"), None);
    }

    #[test]
    fn json_round_trip_is_a_plain_list() {
        let v = ItemVocabulary::from(vec!["b".to_string(), "a".to_string()]);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"["b","a"]"#);
        let back: ItemVocabulary = serde_json::from_str(&json).unwrap();
        assert_eq!(back.id("a"), Some(2));
        assert_eq!(back, v);
    }
}
