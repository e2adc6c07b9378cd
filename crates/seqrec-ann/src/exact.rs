//! Exact top-k by brute force, and recall: what an approximate index is measured against.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::AnnError;

/// One search result: an item (its row of the table) and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    /// The item's row in the table (its model id).
    pub id: u32,
    /// Its inner product with the query: exact from [`exact_top_k`], the index's estimate from
    /// [`AnnIndex::search`](crate::AnnIndex::search) (its stored vectors may be rounded).
    pub score: f32,
}

/// Orders neighbours best first: higher score, then lower id.
pub(crate) fn better(a: &Neighbor, b: &Neighbor) -> Ordering {
    b.score.total_cmp(&a.score).then(a.id.cmp(&b.id))
}

/// A heap entry whose greatest element is the worst kept neighbour.
struct Worst(Neighbor);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        better(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        better(&self.0, &other.0)
    }
}

/// The best `k` neighbours seen so far.
struct TopK {
    k: usize,
    heap: BinaryHeap<Worst>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    /// The score an item must reach to be considered (`-inf` until `k` are kept).
    fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap.peek().map_or(f32::NEG_INFINITY, |w| w.0.score)
        }
    }

    fn push(&mut self, candidate: Neighbor) {
        if self.k == 0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Worst(candidate));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && better(&candidate, &worst.0) == Ordering::Less
        {
            *worst = Worst(candidate);
        }
    }

    fn into_sorted(self) -> Vec<Neighbor> {
        let mut list: Vec<Neighbor> = self.heap.into_iter().map(|w| w.0).collect();
        list.sort_by(better);
        list
    }
}

/// The inner product of two slices of equal length, in eight lanes (which the compiler
/// vectorises).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len());
    for (x, y) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

/// Checks a row-major table `[rows, dim]` and returns its row count.
pub(crate) fn table_rows(table: &[f32], dim: usize) -> Result<usize, AnnError> {
    if dim == 0 {
        return Err(AnnError::Invalid("the dimension must be at least 1".into()));
    }
    if !table.len().is_multiple_of(dim) {
        return Err(AnnError::Invalid(format!(
            "a table of {} values is not a whole number of rows of {dim}",
            table.len()
        )));
    }
    let rows = table.len() / dim;
    if rows > u32::MAX as usize {
        return Err(AnnError::Invalid(format!(
            "{rows} rows: ids are u32, at most {}",
            u32::MAX
        )));
    }
    Ok(rows)
}

/// Which rows are left out: `skip` as a mask over `rows` (ids past the table are ignored).
pub(crate) fn skip_mask(rows: usize, skip: &[usize]) -> Vec<bool> {
    let mut mask = vec![false; rows];
    for &row in skip {
        if row < rows {
            mask[row] = true;
        }
    }
    mask
}

/// Queries scored together against each row by [`exact_top_k`].
const QUERY_BLOCK: usize = 8;

/// The exact top `k` rows of a row-major `table` `[rows, dim]` by inner product with each
/// query of `queries` `[n, dim]` (rows in `skip` never returned), best first (ties: lower id
/// first), computed by brute force on `threads` threads (0: every core).
///
/// This is what an index is measured against; it is also the exact full-catalogue ranking
/// of a dot-product model, on the CPU without a tensor library.
pub fn exact_top_k(
    table: &[f32],
    dim: usize,
    skip: &[usize],
    queries: &[f32],
    k: usize,
    threads: usize,
) -> Result<Vec<Vec<Neighbor>>, AnnError> {
    let rows = table_rows(table, dim)?;
    let n = table_rows(queries, dim)?;
    let mask = skip_mask(rows, skip);
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        threads
    };
    let blocks: Vec<&[f32]> = queries.chunks(QUERY_BLOCK * dim).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Vec<Vec<Neighbor>>>> = (0..blocks.len()).map(|_| None).collect();
    let found: Vec<Vec<(usize, Vec<Vec<Neighbor>>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(blocks.len()).max(1))
            .map(|_| {
                let (blocks, next, mask) = (&blocks, &next, &mask);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(block) = blocks.get(b) else { break };
                        mine.push((b, block_top_k(table, dim, mask, block, k)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an exact top-k thread panicked"))
            .collect()
    });
    for (b, lists) in found.into_iter().flatten() {
        results[b] = Some(lists);
    }
    let lists: Vec<Vec<Neighbor>> = results.into_iter().flatten().flatten().collect();
    debug_assert_eq!(lists.len(), n);
    Ok(lists)
}

/// [`exact_top_k`] of a block of at most [`QUERY_BLOCK`] queries, one pass over the table.
fn block_top_k(
    table: &[f32],
    dim: usize,
    mask: &[bool],
    block: &[f32],
    k: usize,
) -> Vec<Vec<Neighbor>> {
    let queries: Vec<&[f32]> = block.chunks_exact(dim).collect();
    let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::new(k)).collect();
    let mut thresholds: Vec<f32> = tops.iter().map(TopK::threshold).collect();
    for (id, row) in table.chunks_exact(dim).enumerate() {
        if mask[id] {
            continue;
        }
        for ((query, top), threshold) in queries.iter().zip(&mut tops).zip(&mut thresholds) {
            let score = dot(query, row);
            if score >= *threshold {
                top.push(Neighbor {
                    id: id as u32,
                    score,
                });
                *threshold = top.threshold();
            }
        }
    }
    tops.into_iter().map(TopK::into_sorted).collect()
}

/// Recall of `found` against the exact list `exact`: the share of `exact`'s ids that `found`
/// has (1.0 for an empty `exact`). Only ids count, not order or scores.
pub fn recall(found: &[Neighbor], exact: &[Neighbor]) -> f64 {
    if exact.is_empty() {
        return 1.0;
    }
    let mut ids: Vec<u32> = found.iter().map(|n| n.id).collect();
    ids.sort_unstable();
    let hits = exact
        .iter()
        .filter(|n| ids.binary_search(&n.id).is_ok())
        .count();
    hits as f64 / exact.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_top_k_sorts_every_score_and_skips_rows() {
        // 5 rows of dim 3; row 0 and 4 are reserved.
        let table = [
            9.0, 9.0, 9.0, // 0 (skipped)
            1.0, 0.0, 0.0, // 1
            0.0, 2.0, 0.0, // 2
            0.0, 0.0, 3.0, // 3
            9.0, 9.0, 9.0, // 4 (skipped)
        ];
        let queries = [1.0, 1.0, 1.0, -1.0, 0.0, 0.5];
        let top = exact_top_k(&table, 3, &[0, 4, 17], &queries, 2, 2).unwrap();
        let ids: Vec<Vec<u32>> = top
            .iter()
            .map(|l| l.iter().map(|n| n.id).collect())
            .collect();
        assert_eq!(ids, vec![vec![3, 2], vec![3, 2]]);
        assert_eq!(top[0][0].score, 3.0);
        assert_eq!(top[1][0].score, 1.5);
        // Ties: the lower id first; k past the table gives every row once.
        let all = exact_top_k(&table, 3, &[0, 4], &[0.0, 0.0, 0.0], 10, 1).unwrap();
        assert_eq!(
            all[0].iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(exact_top_k(&table, 4, &[], &queries, 2, 1).is_err());
        assert!(exact_top_k(&table, 0, &[], &queries, 2, 1).is_err());
    }

    #[test]
    fn exact_top_k_matches_a_full_sort_on_random_data() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (rows, dim, n) = (500, 13, 21);
        let table: Vec<f32> = (0..rows * dim)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let queries: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let top = exact_top_k(&table, dim, &[0], &queries, 7, 3).unwrap();
        assert_eq!(top.len(), n);
        for (q, list) in queries.chunks(dim).zip(&top) {
            let mut all: Vec<Neighbor> = table
                .chunks(dim)
                .enumerate()
                .skip(1)
                .map(|(id, row)| Neighbor {
                    id: id as u32,
                    score: row.iter().zip(q).map(|(a, b)| a * b).sum(),
                })
                .collect();
            all.sort_by(better);
            let want: Vec<u32> = all[..7].iter().map(|n| n.id).collect();
            let got: Vec<u32> = list.iter().map(|n| n.id).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn recall_counts_shared_ids() {
        let n = |id| Neighbor { id, score: 0.0 };
        assert_eq!(recall(&[n(1), n(2)], &[n(2), n(3)]), 0.5);
        assert_eq!(recall(&[], &[]), 1.0);
        assert_eq!(recall(&[n(3), n(2)], &[n(2), n(3)]), 1.0);
    }
}
