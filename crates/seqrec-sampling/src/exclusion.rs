//! Sets of item ids that must not be returned as negatives.

use std::borrow::Cow;

use crate::SamplingError;

/// A set of item ids to exclude from sampling, stored as a sorted,
/// duplicate-free slice (membership is a binary search).
///
/// Ids outside `1..=num_items` (including the padding id 0) may be present; they
/// are simply irrelevant to the sampler.
///
/// ```
/// use seqrec_sampling::Exclusion;
///
/// let ex = Exclusion::from_ids([5, 1, 5, 3]);
/// assert_eq!(ex.as_slice(), &[1, 3, 5]);
/// assert!(ex.contains(3) && !ex.contains(2));
///
/// // Borrow an already sorted slice without copying.
/// let sorted = [2, 4, 8];
/// let ex = Exclusion::from_sorted(&sorted).unwrap();
/// assert!(ex.contains(8));
/// assert!(Exclusion::from_sorted(&[3, 1]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusion<'a> {
    ids: Cow<'a, [u32]>,
}

impl Exclusion<'static> {
    /// The empty exclusion: nothing is excluded.
    pub fn none() -> Self {
        Self {
            ids: Cow::Borrowed(&[]),
        }
    }

    /// Builds an exclusion from ids in any order; duplicates are removed.
    pub fn from_ids<I: IntoIterator<Item = u32>>(ids: I) -> Self {
        let mut v: Vec<u32> = ids.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Self { ids: Cow::Owned(v) }
    }
}

impl<'a> Exclusion<'a> {
    /// Borrows a slice that is already sorted strictly ascending (no copy).
    ///
    /// Returns [`SamplingError::NotSorted`] if the slice is not strictly ascending.
    pub fn from_sorted(ids: &'a [u32]) -> Result<Self, SamplingError> {
        if let Some(index) = ids.windows(2).position(|w| w[0] >= w[1]) {
            return Err(SamplingError::NotSorted { index: index + 1 });
        }
        Ok(Self {
            ids: Cow::Borrowed(ids),
        })
    }

    /// Whether `id` is excluded.
    pub fn contains(&self, id: u32) -> bool {
        self.ids.binary_search(&id).is_ok()
    }

    /// The excluded ids, sorted strictly ascending.
    pub fn as_slice(&self) -> &[u32] {
        &self.ids
    }

    /// Number of distinct excluded ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Internal view: a sorted exclusion slice plus at most one extra id
/// (used for "history + this position's target" without copying).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExcludeView<'a> {
    pub(crate) sorted: &'a [u32],
    pub(crate) extra: Option<u32>,
}

impl ExcludeView<'_> {
    /// Whether `id` is excluded.
    #[inline]
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.extra == Some(id) || self.sorted.binary_search(&id).is_ok()
    }

    /// Iterates over the distinct excluded ids.
    pub(crate) fn distinct(&self) -> impl Iterator<Item = u32> + '_ {
        let extra = self.extra.filter(|e| self.sorted.binary_search(e).is_err());
        self.sorted.iter().copied().chain(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_ids_sorts_and_dedups() {
        let ex = Exclusion::from_ids(vec![9, 2, 2, 7, 0]);
        assert_eq!(ex.as_slice(), &[0, 2, 7, 9]);
        assert_eq!(ex.len(), 4);
        assert!(!ex.is_empty());
        assert!(Exclusion::none().is_empty());
        assert!(!Exclusion::none().contains(0));
    }

    #[test]
    fn from_sorted_rejects_unsorted_and_duplicates() {
        assert_eq!(
            Exclusion::from_sorted(&[1, 2, 2]).unwrap_err(),
            SamplingError::NotSorted { index: 2 }
        );
        assert_eq!(
            Exclusion::from_sorted(&[5, 1]).unwrap_err(),
            SamplingError::NotSorted { index: 1 }
        );
        assert!(Exclusion::from_sorted(&[]).unwrap().is_empty());
    }

    #[test]
    fn view_distinct_does_not_double_count() {
        let v = ExcludeView {
            sorted: &[1, 3],
            extra: Some(3),
        };
        assert_eq!(v.distinct().collect::<Vec<_>>(), vec![1, 3]);
        let v = ExcludeView {
            sorted: &[1, 3],
            extra: Some(2),
        };
        assert_eq!(v.distinct().collect::<Vec<_>>(), vec![1, 3, 2]);
        assert!(v.contains(2) && v.contains(1) && !v.contains(4));
    }
}
