//! Beyond-accuracy figures of ranked lists: catalogue coverage and mean popularity.
//!
//! Music teams report, next to accuracy, how much of the catalogue a model's lists reach and
//! how mainstream they are. For the top `k` of every user's list:
//!
//! ```text
//! coverage@k        = |∪_u top_k(u)| / catalogue          (the share of tracks recommended at all)
//! mean_popularity@k = mean over users u, over the tracks i of top_k(u), of popularity(i)
//! ```
//!
//! `popularity(i)` is whatever count the caller supplies (the ablation: plays of the track in
//! the history window), so that a list of popular tracks scores high and a list of
//! rarely-played ones low; shorter lists count the tracks they have.

use serde::{Deserialize, Serialize};

/// Coverage and mean popularity of one model's lists at one cutoff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListStatistics {
    /// The cutoff.
    pub k: usize,
    /// Users whose lists were counted.
    pub users: usize,
    /// Distinct tracks in the users' top `k`.
    pub distinct_tracks: usize,
    /// `distinct_tracks / catalogue`.
    pub coverage: f64,
    /// Mean popularity of a recommended track (over every user's top `k`, each position
    /// once); 0 when no list has a track.
    pub mean_popularity: f64,
}

/// [`ListStatistics`] of `lists` (each user's ranked track ids, best first) at each cutoff of
/// `ks`, for a catalogue of `catalogue` tracks whose popularity is `popularity[id]` (ids
/// beyond it count 0).
pub fn list_statistics(
    lists: &[Vec<u32>],
    ks: &[usize],
    catalogue: usize,
    popularity: &[u64],
) -> Vec<ListStatistics> {
    let popularity_of = |id: u32| popularity.get(id as usize).copied().unwrap_or(0) as f64;
    ks.iter()
        .map(|&k| {
            let mut seen = std::collections::HashSet::new();
            let (mut sum, mut count) = (0.0, 0usize);
            for list in lists {
                for &id in list.iter().take(k) {
                    seen.insert(id);
                    sum += popularity_of(id);
                    count += 1;
                }
            }
            ListStatistics {
                k,
                users: lists.len(),
                distinct_tracks: seen.len(),
                coverage: if catalogue == 0 {
                    0.0
                } else {
                    seen.len() as f64 / catalogue as f64
                },
                mean_popularity: if count == 0 { 0.0 } else { sum / count as f64 },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_and_mean_popularity_by_hand() {
        // Catalogue of 10 tracks; popularity of track i is i (id 0 is padding).
        let popularity: Vec<u64> = (0..=10).collect();
        let lists = vec![vec![3, 1, 7], vec![3, 9], vec![]];
        let stats = list_statistics(&lists, &[1, 2, 3], 10, &popularity);
        // k = 1: tracks {3, 3} → 1 distinct; mean (3 + 3) / 2.
        assert_eq!(stats[0].distinct_tracks, 1);
        assert!((stats[0].coverage - 0.1).abs() < 1e-12);
        assert!((stats[0].mean_popularity - 3.0).abs() < 1e-12);
        // k = 2: {3, 1, 3, 9} → 3 distinct; mean 16 / 4.
        assert_eq!(stats[1].distinct_tracks, 3);
        assert!((stats[1].coverage - 0.3).abs() < 1e-12);
        assert!((stats[1].mean_popularity - 4.0).abs() < 1e-12);
        // k = 3: {3, 1, 7, 3, 9} → 4 distinct; mean 23 / 5.
        assert_eq!(stats[2].distinct_tracks, 4);
        assert!((stats[2].mean_popularity - 4.6).abs() < 1e-12);
        assert!(stats.iter().all(|s| s.users == 3));
        // Ids beyond the popularity table count 0; nothing to count gives zeros.
        let far = list_statistics(&[vec![50]], &[5], 10, &popularity);
        assert_eq!((far[0].distinct_tracks, far[0].mean_popularity), (1, 0.0));
        let none = list_statistics(&[], &[10], 0, &popularity);
        assert_eq!((none[0].coverage, none[0].mean_popularity), (0.0, 0.0));
    }
}
