//! Leave-one-out on full sequences: test = each user's last item, validation = the
//! second-last item of a seeded sample of users, train = the rest ([`leave_one_out`]; the
//! synthetic generator and `seqrec_events::split_leave_one_out` use it), and the seeded
//! choice of validation users that both of seqrec's splits share ([`sample_users`]).

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::DataError;
use crate::gsasrec_layout::SequenceDataset;
use crate::history_targets::HistoryTargets;

/// Splits full sequences (each at least 3 items) leave-one-out: test = every user's last item,
/// validation = the second-last item of `validation_users` users chosen with `seed`, train =
/// the rest of each sequence.
pub fn leave_one_out(
    sequences: Vec<Vec<u32>>,
    num_items: u32,
    validation_users: usize,
    seed: u64,
) -> Result<SequenceDataset, DataError> {
    if let Some((user, s)) = sequences.iter().enumerate().find(|(_, s)| s.len() < 3) {
        return Err(DataError::InvalidDataset {
            reason: format!(
                "user {user} has {} items; leave-one-out needs at least 3",
                s.len()
            ),
        });
    }
    let validation = sample_users((0..sequences.len()).collect(), validation_users, seed);
    let mut is_validation = vec![false; sequences.len()];
    for &u in &validation {
        is_validation[u] = true;
    }
    let val = HistoryTargets::new(
        validation
            .iter()
            .map(|&u| sequences[u][..sequences[u].len() - 2].to_vec())
            .collect(),
        validation
            .iter()
            .map(|&u| sequences[u][sequences[u].len() - 2])
            .collect(),
    )?;
    let test = HistoryTargets::new(
        sequences
            .iter()
            .map(|s| s[..s.len() - 1].to_vec())
            .collect(),
        sequences.iter().map(|s| s[s.len() - 1]).collect(),
    )?;
    let train = sequences
        .iter()
        .enumerate()
        .map(|(u, s)| s[..s.len() - if is_validation[u] { 2 } else { 1 }].to_vec())
        .collect();
    SequenceDataset::new(num_items, train, Some(val), Some(test))
}

/// `k` of `candidates` drawn with `seed` (all of them when there are fewer), in increasing
/// order: the validation users of both splits.
pub fn sample_users(mut candidates: Vec<usize>, k: usize, seed: u64) -> Vec<usize> {
    candidates.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    candidates.truncate(k);
    candidates.sort_unstable();
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::Split;

    #[test]
    fn last_item_is_test_second_last_is_validation_for_the_sampled_users() {
        let sequences = vec![vec![1, 2, 3], vec![3, 2, 1, 4], vec![4, 4, 2]];
        let all = leave_one_out(sequences.clone(), 4, 3, 7).unwrap();
        assert_eq!(
            all.history_targets(Split::Test).unwrap().targets,
            vec![3, 4, 2]
        );
        assert_eq!(
            all.history_targets(Split::Val).unwrap().targets,
            vec![2, 1, 4]
        );
        assert_eq!(all.train, vec![vec![1], vec![3, 2], vec![4]]);
        let none = leave_one_out(sequences, 4, 0, 7).unwrap();
        assert!(none.history_targets(Split::Val).unwrap().is_empty());
        assert_eq!(none.train, vec![vec![1, 2], vec![3, 2, 1], vec![4, 4]]);
    }

    #[test]
    fn sequences_shorter_than_three_items_are_refused() {
        let err = leave_one_out(vec![vec![1, 2, 3], vec![1, 2]], 3, 1, 7).unwrap_err();
        assert!(err.to_string().contains("user 1 has 2 items"), "{err}");
    }

    #[test]
    fn sampled_users_are_sorted_distinct_and_fixed_by_the_seed() {
        let a = sample_users((0..100).collect(), 10, 3);
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, sample_users((0..100).collect(), 10, 3));
        assert_ne!(a, sample_users((0..100).collect(), 10, 4));
        assert_eq!(sample_users(vec![5, 1], 10, 3), vec![1, 5]);
    }
}
