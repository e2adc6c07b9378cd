//! Sparse updates of the item tables: a step reads, and updates, only the rows its batch
//! touches.
//!
//! On a large catalogue a dense step writes a `[num_items + 2, dim]` gradient for each item
//! table and has Adam read and write the tables and both moments in full: at 10 million items
//! and dim 64 that is 2.6 GB per table and tensor, for a batch that touches some tens of
//! thousands of rows. With sparse updates ([`crate::ItemUpdates`]):
//!
//! 1. the planning thread lists the rows a batch touches (its inputs, targets, negatives,
//!    the padding id and the mask token) and rewrites the batch's ids as positions in that
//!    list ([`localise`]);
//! 2. the step gathers those rows from the tables ([`crate::ItemTables::gather`]) as autodiff
//!    leaves, trains the model over them ([`seqrec_model::GsasRec::with_item_tables`]) and
//!    hands burn-train each table's row gradients under the table's parameter id in the
//!    model, with the rows' catalogue ids packed into two extra columns
//!    ([`pack_row_gradients`]): burn-train moves, sums (data-parallel workers) and delivers
//!    gradients by parameter, so the ids travel with them;
//! 3. the training model's `optimize` unpacks them and [`crate::ItemTables::update`] writes
//!    those rows and their [`crate::SparseAdam`] moments in place.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::plan::BatchPlan;

/// Lists the rows `plan` touches in [`BatchPlan::item_rows`] (catalogue ids, ascending, 0 for
/// padding first and `mask_token` last) and rewrites its ids as positions in that list. A plan
/// localised already is left as it is.
pub fn localise(plan: &mut BatchPlan, mask_token: u32) {
    if plan.item_rows.is_some() {
        return;
    }
    let mut rows: Vec<u32> =
        Vec::with_capacity(plan.input.len() + plan.targets.len() + plan.negatives.ids.len() + 2);
    rows.extend_from_slice(&plan.input);
    rows.extend_from_slice(&plan.targets);
    rows.extend_from_slice(&plan.negatives.ids);
    rows.push(0);
    rows.push(mask_token);
    rows.sort_unstable();
    rows.dedup();
    let local = |id: &mut u32| {
        // Every id of the plan is in `rows`.
        *id = rows.partition_point(|&r| r < *id) as u32;
    };
    plan.input.iter_mut().for_each(local);
    plan.targets.iter_mut().for_each(local);
    plan.negatives.ids.iter_mut().for_each(local);
    plan.item_rows = Some(rows);
}

/// The rows of a device batch with sparse item updates.
#[derive(Debug, Clone)]
pub struct ItemRows {
    /// Catalogue ids of the rows `[rows]` (see [`localise`]).
    pub ids: Tensor<1, Int>,
    /// The ids as the two float columns that ride with the row gradients `[rows, 2]`
    /// ([`pack_row_gradients`]); zeros in every data-parallel worker's batch but the first,
    /// so that the workers' summed gradients carry each id once.
    pub id_columns: Tensor<2>,
}

/// Ids are split as `id = high · ID_BASE + low`: both parts are integers that f32 holds exactly
/// (below 2^24) for any `u32` id.
const ID_BASE: u32 = 1 << 12;

impl ItemRows {
    /// Uploads `rows` to `device`; `carries_ids` is false for the batches of every
    /// data-parallel worker but the first.
    pub fn new(rows: &[u32], carries_ids: bool, device: &Device) -> Self {
        let n = rows.len();
        let ids: Vec<i64> = rows.iter().map(|&r| i64::from(r)).collect();
        let columns: Vec<f32> = if carries_ids {
            rows.iter()
                .flat_map(|&r| [(r / ID_BASE) as f32, (r % ID_BASE) as f32])
                .collect()
        } else {
            vec![0.0; 2 * n]
        };
        Self {
            ids: Tensor::from_data(TensorData::new(ids, [n]), device),
            id_columns: Tensor::from_data(TensorData::new(columns, [n, 2]), device),
        }
    }
}

/// The gradient of a table's rows `[rows, dim]` with their id columns: `[rows, dim + 2]`.
pub fn pack_row_gradients(grad: Tensor<2>, id_columns: Tensor<2>) -> Tensor<2> {
    Tensor::cat(vec![grad, id_columns], 1)
}

/// The row gradients `[rows, dim]` and catalogue ids `[rows]` of a packed gradient.
pub fn unpack_row_gradients(packed: Tensor<2>) -> (Tensor<2>, Tensor<1, Int>) {
    let [rows, width] = packed.dims();
    let dim = width - 2;
    let columns = packed.clone().slice([0..rows, dim..width]).round().int();
    let high = columns.clone().slice([0..rows, 0..1]);
    let low = columns.slice([0..rows, 1..2]);
    let ids = (high.mul_scalar(ID_BASE as i64) + low).reshape([rows]);
    (packed.slice([0..rows, 0..dim]), ids)
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;
    use burn::tensor::Device;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use seqrec_sampling::{NegativeSampler, NegativeSharing};

    use crate::objective::Objective;
    use crate::plan::BatchPlanner;

    #[test]
    fn localised_ids_index_the_touched_rows() {
        let num_items = 5_000_000;
        for sharing in [
            NegativeSharing::PerPosition,
            NegativeSharing::PerSequence,
            NegativeSharing::PerBatch,
        ] {
            let planner = BatchPlanner {
                objective: Objective::NextItem,
                max_len: 4,
                mask_token: num_items + 1,
                negatives: 3,
                sharing,
                exclude_history: false,
            };
            let sequences: [&[u32]; 2] = [&[7, 4_999_999, 7, 12, 3], &[1_000_000, 2]];
            let sampler = NegativeSampler::uniform(num_items).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let global = planner.plan(&sequences, &sampler, &mut rng).unwrap();
            let mut local = global.clone();
            localise(&mut local, num_items + 1);
            let rows = local.item_rows.clone().unwrap();
            assert!(rows.windows(2).all(|w| w[0] < w[1]), "ascending, distinct");
            assert_eq!(rows.first(), Some(&0));
            assert_eq!(rows.last(), Some(&(num_items + 1)));
            let back = |ids: &[u32]| ids.iter().map(|&i| rows[i as usize]).collect::<Vec<_>>();
            assert_eq!(back(&local.input), global.input);
            assert_eq!(back(&local.targets), global.targets);
            assert_eq!(back(&local.negatives.ids), global.negatives.ids);
            // Nothing but the touched ids: the inputs, targets, negatives and the two
            // reserved ids.
            let mut touched: Vec<u32> = [
                global.input.as_slice(),
                &global.targets,
                &global.negatives.ids,
                &[0, num_items + 1],
            ]
            .concat();
            touched.sort_unstable();
            touched.dedup();
            assert_eq!(rows, touched);
        }
    }

    #[test]
    fn packed_ids_unpack_exactly_and_sum_once_across_workers() {
        let device = Device::ndarray();
        let rows = [0u32, 4095, 4096, 16_777_217, 4_000_000_000];
        let grad = Tensor::<2>::from_data(
            TensorData::new((0..15).map(|v| v as f32).collect::<Vec<_>>(), [5, 3]),
            &device,
        );
        let first =
            pack_row_gradients(grad.clone(), ItemRows::new(&rows, true, &device).id_columns);
        let second = pack_row_gradients(grad, ItemRows::new(&rows, false, &device).id_columns);
        let (g, ids) = unpack_row_gradients(first + second);
        let ids: Vec<i64> = ids.into_data().to_vec().unwrap();
        assert_eq!(ids, rows.map(i64::from));
        let g: Vec<f32> = g.into_data().to_vec().unwrap();
        assert_eq!(g, (0..15).map(|v| 2.0 * v as f32).collect::<Vec<_>>());
    }
}
