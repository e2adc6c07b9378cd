//! Item occurrence counts for popularity sampling.

use crate::SamplingError;

/// Counts how often each item occurs in `sequences`.
///
/// Returns a vector of length `num_items + 1` where entry `i` is the number of
/// occurrences of item `i`; entry 0 (padding) is always 0 because padding ids
/// are skipped. The result can be passed straight to
/// [`NegativeSampler::popularity`](crate::NegativeSampler::popularity).
///
/// Returns [`SamplingError::InvalidItem`] if an id exceeds `num_items`.
///
/// ```
/// use seqrec_sampling::popularity_counts;
///
/// let counts = popularity_counts(&[vec![1, 2, 2], vec![0, 2, 3]], 4).unwrap();
/// assert_eq!(counts, vec![0, 1, 3, 1, 0]);
/// ```
pub fn popularity_counts<S: AsRef<[u32]>>(
    sequences: &[S],
    num_items: u32,
) -> Result<Vec<u64>, SamplingError> {
    let mut counts = vec![0u64; num_items as usize + 1];
    for seq in sequences {
        for &id in seq.as_ref() {
            if id == 0 {
                continue;
            }
            match counts.get_mut(id as usize) {
                Some(c) if id <= num_items => *c += 1,
                _ => return Err(SamplingError::InvalidItem { id, num_items }),
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_items_and_skips_padding() {
        let seqs = vec![vec![0, 0, 1, 1, 3], vec![3, 3]];
        assert_eq!(popularity_counts(&seqs, 3).unwrap(), vec![0, 2, 0, 3]);
        let slices: [&[u32]; 1] = [&[2]];
        assert_eq!(popularity_counts(&slices, 2).unwrap(), vec![0, 0, 1]);
        let empty: [Vec<u32>; 0] = [];
        assert_eq!(popularity_counts(&empty, 2).unwrap(), vec![0, 0, 0]);
    }

    #[test]
    fn out_of_range_is_error() {
        assert_eq!(
            popularity_counts(&[vec![1, 4]], 3).unwrap_err(),
            SamplingError::InvalidItem {
                id: 4,
                num_items: 3
            }
        );
    }
}
