//! The input record of the profile-based protocol: one playback.

use serde::{Deserialize, Serialize};

/// One playback of a track by a user.
///
/// The evaluation crate only needs who played what and for how long; callers
/// convert their own log records into this type (it is `serde`-friendly, so it
/// can also be read directly from JSON or CSV rows).
///
/// ```
/// use seqrec_eval::Play;
///
/// let p = Play::new(7, 42, 31_000);
/// assert_eq!((p.user, p.item, p.ms_played), (7, 42, 31_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Play {
    /// User (profile) id.
    pub user: u32,
    /// Track id.
    pub item: u32,
    /// Listening time of this playback in milliseconds.
    pub ms_played: u32,
}

impl Play {
    /// Creates a play record.
    pub const fn new(user: u32, item: u32, ms_played: u32) -> Self {
        Self {
            user,
            item,
            ms_played,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let p = Play::new(1, 2, 3);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"user":1,"item":2,"ms_played":3}"#);
        assert_eq!(serde_json::from_str::<Play>(&json).unwrap(), p);
    }
}
