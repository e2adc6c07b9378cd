//! Top-k over a raw embedding table in item chunks: the kernel the 1 000 000-item benchmark
//! times (`benches/inference.rs`, `examples/perf_table.rs`). Models rank through
//! `seqrec_train::rank_top_k`, the one ranking path, whose memory is bounded by
//! `seqrec_train::MAX_SCORES_PER_BLOCK`; this measures how fast the same merge runs when the
//! catalogue is scored in item chunks against a table alone.

use burn::tensor::Tensor;
use seqrec_eval::TopKBatch;
use seqrec_train::TrainError;

/// The `k` best items of every user over a catalogue scored `chunk` items at a time, best
/// first: users `[users, dim]` against the rows `first_id..` of `table` `[items, dim]`.
/// `exclude(user, id)` removes pairs (a user's history). Errors: [`TrainError::Device`] when
/// a block of scores cannot be read back, [`TrainError::Eval`] when the merge refuses it.
///
/// Only one `[users, chunk]` block of scores exists at a time, so memory beyond the table is
/// `users × (chunk + k)` scores whatever the catalogue size.
pub fn top_k_chunked(
    users: Tensor<2>,
    table: Tensor<2>,
    first_id: u32,
    k: usize,
    chunk: usize,
    exclude: impl Fn(usize, u32) -> bool,
) -> Result<Vec<Vec<(u32, f32)>>, TrainError> {
    let [n_users, _] = users.dims();
    let [items, dim] = table.dims();
    let chunk = chunk.max(1);
    let mut best = TopKBatch::new(n_users, k);
    for start in (0..items).step_by(chunk) {
        let end = (start + chunk).min(items);
        let block = users
            .clone()
            .matmul(table.clone().slice([start..end, 0..dim]).transpose());
        let scores = block
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        best.push_block_filtered(first_id + start as u32, end - start, &scores, &exclude)?;
    }
    Ok(best.into_sorted_vecs())
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;
    use burn::tensor::{Device, TensorData};

    /// Chunks of every size give the lists a full sort of the scores gives.
    #[test]
    fn equals_sorting_every_score() {
        let device = Device::ndarray();
        // 2 users, 7 items, dim 2: scores are user · item.
        let users = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.5, -1.0], [2, 2]),
            &device,
        );
        let rows: Vec<f32> = (0..7)
            .flat_map(|i| [i as f32 * 0.3 - 1.0, (i * i % 5) as f32])
            .collect();
        let table = Tensor::<2>::from_data(TensorData::new(rows.clone(), [7, 2]), &device);
        let expected: Vec<Vec<(u32, f32)>> = [[1.0f32, 0.0], [0.5, -1.0]]
            .iter()
            .enumerate()
            .map(|(u, q)| {
                let mut all: Vec<(u32, f32)> = (0..7u32)
                    .filter(|&id| !(u == 1 && id == 3))
                    .map(|id| {
                        let r = &rows[id as usize * 2..id as usize * 2 + 2];
                        (id + 10, q[0] * r[0] + q[1] * r[1])
                    })
                    .collect();
                all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                all.truncate(4);
                all
            })
            .collect();
        for chunk in [1, 2, 3, 7, 100] {
            let got = top_k_chunked(users.clone(), table.clone(), 10, 4, chunk, |u, id| {
                u == 1 && id == 13
            })
            .unwrap();
            assert_eq!(got.len(), 2);
            for (g, e) in got.iter().zip(&expected) {
                let ids: Vec<u32> = g.iter().map(|r| r.0).collect();
                let want: Vec<u32> = e.iter().map(|r| r.0).collect();
                assert_eq!(ids, want, "chunk {chunk}");
                for (a, b) in g.iter().zip(e) {
                    assert!((a.1 - b.1).abs() < 1e-6);
                }
            }
        }
    }
}
