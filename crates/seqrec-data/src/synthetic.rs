//! A small built-in listening dataset, generated deterministically, so that everything runs
//! on a fresh machine with no download.
//!
//! The generative model: tracks belong to genre clusters and have Zipf-distributed
//! popularity within their cluster; each user has a few favourite clusters (a taste mixture)
//! and a handful of favourite tracks; listening comes in sessions that stay in one cluster,
//! where each play is a repeat of a favourite, the next track of the cluster's "album order"
//! (a short-term sequential pattern), or a popularity-weighted track of the cluster. History
//! lengths are log-normal, so there are light and heavy users. The sequences are split leave
//! one out in the gSASRec layout (test: the last item of every user; validation: the
//! second-last item of a sample of users; train: the rest).

use rand::distr::{Distribution, weighted::WeightedIndex};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::DataError;
use crate::gsasrec_layout::SequenceDataset;
use crate::leave_one_out::leave_one_out;

/// Size and seed of the synthetic dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    /// Users. Default: 2 000.
    pub users: usize,
    /// Tracks. Default: 1 000.
    pub items: u32,
    /// Genre clusters. Default: 20.
    pub clusters: usize,
    /// Median plays per user. Default: 60.
    pub median_length: f64,
    /// Longest history. Default: 400.
    pub max_length: usize,
    /// Users with a validation item. Default: 256.
    pub validation_users: usize,
    /// Seed. Default: 42.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            users: 2000,
            items: 1000,
            clusters: 20,
            median_length: 60.0,
            max_length: 400,
            validation_users: 256,
            seed: crate::DEFAULT_SEED,
        }
    }
}

impl SyntheticConfig {
    /// Generates the users' full listening sequences (track ids `1..=items`, time order).
    pub fn sequences(&self) -> Result<Vec<Vec<u32>>, DataError> {
        if self.items < 2
            || self.clusters == 0
            || self.clusters > self.items as usize
            || self.users == 0
        {
            return Err(DataError::InvalidDataset {
                reason: format!(
                    "synthetic data needs users > 0, items >= 2 and 1..=items clusters (got {} users, {} items, {} clusters)",
                    self.users, self.items, self.clusters
                ),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        // Tracks in random clusters; each cluster keeps its tracks in an "album order".
        let mut ids: Vec<u32> = (1..=self.items).collect();
        ids.shuffle(&mut rng);
        let clusters: Vec<Vec<u32>> = (0..self.clusters)
            .map(|c| ids.iter().skip(c).step_by(self.clusters).copied().collect())
            .collect();
        let popularity: Vec<WeightedIndex<f64>> = clusters
            .iter()
            .map(|tracks| WeightedIndex::new((1..=tracks.len()).map(|r| 1.0 / r as f64)))
            .collect::<Result<_, _>>()
            .map_err(|e| DataError::InvalidDataset {
                reason: e.to_string(),
            })?;
        let cluster_weights = WeightedIndex::new(
            (1..=self.clusters).map(|r| 1.0 / (r as f64).sqrt()),
        )
        .map_err(|e| DataError::InvalidDataset {
            reason: e.to_string(),
        })?;

        let mut sequences = Vec::with_capacity(self.users);
        for _ in 0..self.users {
            let tastes: Vec<usize> = (0..rng.random_range(1..=3))
                .map(|_| cluster_weights.sample(&mut rng))
                .collect();
            let favourites: Vec<u32> = (0..rng.random_range(2..=8))
                .map(|_| {
                    let c = tastes[rng.random_range(0..tastes.len())];
                    clusters[c][popularity[c].sample(&mut rng)]
                })
                .collect();
            // Log-normal length around the median, at least 3 plays (one each for train, val, test).
            let normal: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
            let length =
                ((self.median_length.ln() + 0.9 * normal).exp() as usize).clamp(3, self.max_length);
            let mut sequence = Vec::with_capacity(length);
            while sequence.len() < length {
                let c = tastes[rng.random_range(0..tastes.len())];
                let tracks = &clusters[c];
                let mut position = popularity[c].sample(&mut rng);
                for _ in 0..rng.random_range(3..=12) {
                    if sequence.len() == length {
                        break;
                    }
                    let draw: f64 = rng.random();
                    let track = if draw < 0.2 {
                        favourites[rng.random_range(0..favourites.len())]
                    } else if draw < 0.65 {
                        position = (position + 1) % tracks.len();
                        tracks[position]
                    } else {
                        position = popularity[c].sample(&mut rng);
                        tracks[position]
                    };
                    sequence.push(track);
                }
            }
            sequences.push(sequence);
        }
        Ok(sequences)
    }

    /// Generates the dataset and splits it leave-one-out in the gSASRec layout.
    ///
    /// ```
    /// use seqrec_data::SyntheticConfig;
    /// let data = SyntheticConfig { users: 50, items: 100, ..Default::default() }.generate().unwrap();
    /// assert_eq!(data.train.len(), 50);
    /// assert_eq!(data.test.as_ref().unwrap().targets.len(), 50);
    /// ```
    pub fn generate(&self) -> Result<SequenceDataset, DataError> {
        leave_one_out(
            self.sequences()?,
            self.items,
            self.validation_users,
            self.seed,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let config = SyntheticConfig {
            users: 100,
            items: 200,
            ..Default::default()
        };
        assert_eq!(config.sequences().unwrap(), config.sequences().unwrap());
        let other = SyntheticConfig {
            seed: 7,
            ..config.clone()
        };
        assert_ne!(config.sequences().unwrap(), other.sequences().unwrap());
    }

    #[test]
    fn ids_lengths_and_split_are_consistent() {
        let config = SyntheticConfig {
            users: 300,
            items: 150,
            validation_users: 40,
            ..Default::default()
        };
        let full = config.sequences().unwrap();
        assert!(full.iter().flatten().all(|&i| (1..=150).contains(&i)));
        assert!(full.iter().all(|s| (3..=400).contains(&s.len())));
        let lengths: Vec<usize> = full.iter().map(Vec::len).collect();
        assert!(
            lengths.iter().any(|&l| l < 20) && lengths.iter().any(|&l| l > 150),
            "light and heavy users"
        );
        let data = config.generate().unwrap();
        let val = data.val.as_ref().unwrap();
        let test = data.test.as_ref().unwrap();
        assert_eq!(val.targets.len(), 40);
        for (u, s) in full.iter().enumerate() {
            assert_eq!(test.inputs[u], s[..s.len() - 1]);
            assert_eq!(test.targets[u], s[s.len() - 1]);
            assert!(data.train[u].len() == s.len() - 1 || data.train[u].len() == s.len() - 2);
        }
        for (input, &target) in val.inputs.iter().zip(&val.targets) {
            let user = full.iter().position(|s| {
                s.len() >= 2 && s[..s.len() - 2] == input[..] && s[s.len() - 2] == target
            });
            let user = user.expect("every validation row comes from a user");
            assert_eq!(
                data.train[user], *input,
                "validation users train without their last two items"
            );
        }
    }

    #[test]
    fn too_short_sequences_are_rejected() {
        assert!(leave_one_out(vec![vec![1, 2]], 5, 0, 0).is_err());
        assert!(
            SyntheticConfig {
                items: 1,
                ..Default::default()
            }
            .sequences()
            .is_err()
        );
    }
}
