//! Mapping between users' own string ids (of tracks or of listeners) and the dense ids a
//! model uses.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

/// A vocabulary of item (track) ids: see [`Vocabulary`].
pub type ItemVocabulary = Vocabulary;

/// A vocabulary of user ids: see [`Vocabulary`].
pub type UserVocabulary = Vocabulary;

/// String ids as users know them ↔ dense ids `1..=len` (0 is padding).
///
/// Used for tracks ([`ItemVocabulary`]) and for listeners ([`UserVocabulary`]). Ids are
/// handed out in order of first insertion. Saved next to a model (as a JSON list of ids, the
/// first one being model id 1) so that recommendation takes and returns the user's own ids.
/// Loading such a list refuses a repeated id, which would give two model ids one name.
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(into = "Vec<String>")]
pub struct Vocabulary {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Vocabulary {
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

    /// The names in id order (the name of id 1 first).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The vocabulary of the first `len` ids (all of them if `len` is larger).
    pub fn truncated(&self, len: usize) -> Self {
        self.names[..len.min(self.names.len())].to_vec().into()
    }

    /// Approximate heap bytes held (names stored once in the list and once as map keys).
    pub fn heap_bytes(&self) -> usize {
        let text: usize = self.names.iter().map(String::capacity).sum();
        // Each map entry: a String header, the id and hash-table overhead.
        2 * text
            + self.names.capacity() * std::mem::size_of::<String>()
            + self.index.capacity() * (std::mem::size_of::<String>() + 4 + 1)
    }
}

impl From<Vec<String>> for Vocabulary {
    /// The vocabulary of `names` in id order. The names must be distinct (a repeated name
    /// maps back to its first id); collect with [`FromIterator`] to drop repeats instead.
    fn from(names: Vec<String>) -> Self {
        let mut index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            index.entry(n.clone()).or_insert(i as u32 + 1);
        }
        Self { names, index }
    }
}

impl<'de> Deserialize<'de> for Vocabulary {
    /// A JSON list of distinct ids, the first one being model id 1.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        let vocab = Self::from(names);
        if vocab.index.len() != vocab.names.len() {
            let (second, name) = vocab
                .names
                .iter()
                .enumerate()
                .find(|&(i, n)| vocab.index[n] as usize != i + 1)
                .expect("a repeated name");
            return Err(serde::de::Error::custom(format!(
                "id {name:?} is listed twice, as model ids {} and {}",
                vocab.index[name],
                second + 1
            )));
        }
        Ok(vocab)
    }
}

impl FromIterator<String> for Vocabulary {
    /// Builds a vocabulary from names in id order; repeated names keep their first id.
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        let mut vocab = Self::default();
        for name in iter {
            vocab.insert(&name);
        }
        vocab
    }
}

impl From<Vocabulary> for Vec<String> {
    fn from(vocab: Vocabulary) -> Self {
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

    /// Found by `vocabulary_json_loads_a_bijection_or_fails` (tests/properties.rs): a list
    /// with a repeated id loaded as a vocabulary in which `id(name(1))` was 2.
    #[test]
    fn a_json_list_with_a_repeated_id_is_refused() {
        let err = serde_json::from_str::<ItemVocabulary>(r#"["a", "b", "a"]"#).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(r#"id "a" is listed twice, as model ids 1 and 3"#),
            "{msg}"
        );
        let v = ItemVocabulary::from(vec!["a".to_string(), "a".to_string()]);
        assert_eq!(v.id("a"), Some(1));
    }

    #[test]
    fn truncated_keeps_the_first_ids() {
        let v: Vocabulary = ["x", "y", "z"].into_iter().map(String::from).collect();
        let t = v.truncated(2);
        assert_eq!(t.names(), ["x", "y"]);
        assert_eq!(t.id("z"), None);
        assert_eq!(v.truncated(10), v);
        assert!(v.heap_bytes() > 0);
    }
}
