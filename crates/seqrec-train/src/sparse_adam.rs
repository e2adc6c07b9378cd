//! Adam for item tables updated row by row ([`crate::item_rows`]).
//!
//! [`SparseAdam`] is burn's per-parameter [`Optimizer`] for the item tables of a run with
//! sparse item updates: its gradient is the packed `[rows, dim + 2]` gradient of the rows a
//! step touched ([`crate::item_rows::pack_row_gradients`]), and it updates those rows, and
//! their moments, in place. It is *lazy*, as PyTorch's `SparseAdam` and TensorFlow's
//! `LazyAdam`: a row's moments decay only in the steps that touch it. Its second moment is
//! kept per row, the mean of the row's squared gradient (the "partial row-wise Adam" of
//! FBGEMM/TorchRec): the first moment stays per element, and the state is one table plus one
//! column instead of two tables, which is what lets a 10-million-item table train in a few
//! gigabytes. Bias correction uses the step count, as burn's [`burn::optim::Adam`] does with
//! the same `β₁`, `β₂` and `ε`.
//!
//! In formulas, for a touched row `r` with gradient `g` at step `t`:
//! `m_r ← β₁ m_r + (1 − β₁) g`, `v_r ← β₂ v_r + (1 − β₂) mean(g²)`,
//! `w_r ← w_r − lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m_r / (√v_r + ε √(1 − β₂ᵗ))`.

use burn::optim::{LearningRate, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, IndexingUpdateOp, Tensor};
use burn_pack::Scalar;

use crate::item_rows::unpack_row_gradients;

/// Lazy, row-wise Adam for sparse item-table gradients (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparseAdam {
    /// Decay of the first moment. Default: 0.9 (burn's Adam).
    pub beta_1: f32,
    /// Decay of the row-wise second moment. Default: 0.999.
    pub beta_2: f32,
    /// Added to the square root of the second moment. Default: 1e-5 (burn's Adam).
    pub epsilon: f32,
}

impl Default for SparseAdam {
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
        }
    }
}

/// The state of one table: its step count, the per-element first moment (the table's shape)
/// and the per-row second moment (`[rows, 1]`).
#[derive(Clone)]
pub struct SparseAdamState<const D: usize> {
    /// Steps taken.
    pub time: usize,
    /// First moment, the table's shape.
    pub moment_1: Tensor<D>,
    /// Second moment of each row, `[rows, 1, …]`.
    pub moment_2: Tensor<D>,
}

impl<const D: usize> RecordState for SparseAdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_scalar(prefix, "time", Scalar::from(self.time));
        out.push_tensor(prefix, "moment_1", self.moment_1.clone().into_data());
        out.push_tensor(prefix, "moment_2", self.moment_2.clone().into_data());
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let time = usize::try_from(src.take_scalar(prefix, "time")?).ok()?;
        let moment_1 = Tensor::from_data(src.take_tensor(prefix, "moment_1")?, device);
        let moment_2 = Tensor::from_data(src.take_tensor(prefix, "moment_2")?, device);
        Some(Self {
            time,
            moment_1,
            moment_2,
        })
    }
}

impl Optimizer for SparseAdam {
    type State<const D: usize> = SparseAdamState<D>;

    /// `grad` is a packed row gradient `[rows, dim + 2]` of the table `tensor` `[n, dim]`.
    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let shape = tensor.dims();
        let rows = shape[0];
        let dim = shape.iter().skip(1).product::<usize>();
        let [touched, width] = [grad.dims()[0], grad.dims().iter().skip(1).product()];
        let (grad, ids) = unpack_row_gradients(grad.reshape([touched, width]));
        let device = tensor.device();
        let state = state.unwrap_or_else(|| SparseAdamState {
            time: 0,
            moment_1: Tensor::zeros(shape, &device),
            moment_2: Tensor::zeros(row_shape(shape), &device),
        });
        let time = state.time + 1;
        let table = tensor.reshape([rows, dim]);
        let moment_1 = state.moment_1.reshape([rows, dim]);
        let moment_2 = state.moment_2.reshape([rows, 1]);

        let m = moment_1
            .clone()
            .select(0, ids.clone())
            .mul_scalar(self.beta_1)
            + grad.clone().mul_scalar(1.0 - self.beta_1);
        let v = moment_2
            .clone()
            .select(0, ids.clone())
            .mul_scalar(self.beta_2)
            + grad.square().mean_dim(1).mul_scalar(1.0 - self.beta_2);
        let t = time as i32;
        let correction_2 = (1.0 - self.beta_2.powi(t)).sqrt();
        let step = lr * f64::from(correction_2 / (1.0 - self.beta_1.powi(t)));
        let delta = m
            .clone()
            .div(v.clone().sqrt().add_scalar(self.epsilon * correction_2))
            .mul_scalar(-step);
        // Each of the three is uniquely owned here (the table too, once the learner drops its
        // previous model), so burn's backends write the rows in place.
        let moment_1 = moment_1.select_assign(0, ids.clone(), m, IndexingUpdateOp::Assign);
        let moment_2 = moment_2.select_assign(0, ids.clone(), v, IndexingUpdateOp::Assign);
        let table = table.select_assign(0, ids, delta, IndexingUpdateOp::Add);
        (
            table.reshape(shape),
            Some(SparseAdamState {
                time,
                moment_1: moment_1.reshape(shape),
                moment_2: moment_2.reshape(row_shape(shape)),
            }),
        )
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.moment_1 = state.moment_1.to_device(device);
        state.moment_2 = state.moment_2.to_device(device);
        state
    }
}

/// `[rows, 1, …, 1]`: one value per row of a table of shape `shape`.
fn row_shape<const D: usize>(shape: [usize; D]) -> [usize; D] {
    let mut rows = [1; D];
    rows[0] = shape[0];
    rows
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;
    use crate::item_rows::{ItemRows, pack_row_gradients};
    use burn::tensor::TensorData;

    /// Three steps on a 6 × 2 table against the formulas computed here in f64: touched rows
    /// move as Adam with a row-wise second moment says, untouched rows and their moments do
    /// not move at all.
    #[test]
    fn touched_rows_follow_the_formulas_and_the_others_stay() {
        let device = Device::ndarray();
        let adam = SparseAdam::default();
        let lr = 0.01;
        let mut table: Vec<f64> = (0..12).map(|v| 0.1 * v as f64 - 0.5).collect();
        let mut m = vec![0.0f64; 12];
        let mut v = vec![0.0f64; 6];
        let steps: [(&[u32], &[f64]); 3] = [
            (&[1, 4], &[0.5, -1.0, 2.0, 0.25]),
            (&[4, 5], &[-0.3, 0.7, 1.5, 1.5]),
            (&[0, 1, 4], &[0.1, 0.2, -0.4, 0.0, 3.0, -2.0]),
        ];
        let mut tensor = Tensor::<2>::from_data(
            TensorData::new(table.iter().map(|&x| x as f32).collect::<Vec<_>>(), [6, 2]),
            &device,
        );
        let mut state = None;
        for (t, (rows, grads)) in steps.iter().enumerate() {
            let g = Tensor::<2>::from_data(
                TensorData::new(
                    grads.iter().map(|&x| x as f32).collect::<Vec<_>>(),
                    [rows.len(), 2],
                ),
                &device,
            );
            let packed = pack_row_gradients(g, ItemRows::new(rows, true, &device).id_columns);
            let (next, next_state) = adam.step(lr, tensor, packed, state);
            tensor = next;
            state = next_state;
            // The reference, in f64.
            let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-5f64);
            let time = (t + 1) as i32;
            let c2 = (1.0 - b2.powi(time)).sqrt();
            let step = lr * c2 / (1.0 - b1.powi(time));
            for (i, &r) in rows.iter().enumerate() {
                let r = r as usize;
                let g = &grads[2 * i..2 * i + 2];
                v[r] = b2 * v[r] + (1.0 - b2) * (g[0] * g[0] + g[1] * g[1]) / 2.0;
                for j in 0..2 {
                    m[2 * r + j] = b1 * m[2 * r + j] + (1.0 - b1) * g[j];
                    table[2 * r + j] -= step * m[2 * r + j] / (v[r].sqrt() + eps * c2);
                }
            }
        }
        let got: Vec<f32> = tensor.into_data().to_vec().unwrap();
        for (g, w) in got.iter().zip(&table) {
            assert!((f64::from(*g) - w).abs() < 1e-6, "{got:?} vs {table:?}");
        }
        // Rows 2 and 3 were never touched: their values are the initial ones, bit for bit.
        let initial: Vec<f32> = (4..8).map(|v| (0.1 * v as f64 - 0.5) as f32).collect();
        assert_eq!(&got[4..8], initial.as_slice());
        let state = state.unwrap();
        assert_eq!(state.time, 3);
        let got_m: Vec<f32> = state.moment_1.into_data().to_vec().unwrap();
        let got_v: Vec<f32> = state.moment_2.into_data().to_vec().unwrap();
        for (g, w) in got_m.iter().zip(&m).chain(got_v.iter().zip(&v)) {
            assert!((f64::from(*g) - w).abs() < 1e-6);
        }
    }

    #[test]
    fn the_state_survives_a_record_round_trip() {
        let device = Device::ndarray();
        let state = SparseAdamState::<2> {
            time: 7,
            moment_1: Tensor::from_data([[1.0, 2.0], [3.0, 4.0]], &device),
            moment_2: Tensor::from_data([[5.0], [6.0]], &device),
        };
        let mut sink = StateSink::default();
        state.state_flatten("9", &mut sink);
        let mut source = StateSource::new(sink.scalars.into_iter().collect());
        for (name, data) in sink.tensors {
            source.insert_tensor(name, data);
        }
        let back = SparseAdamState::<2>::state_unflatten("9", &mut source, &device).unwrap();
        assert_eq!(back.time, 7);
        assert_eq!(
            back.moment_1.into_data().to_vec::<f32>().unwrap(),
            [1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(
            back.moment_2.into_data().to_vec::<f32>().unwrap(),
            [5.0, 6.0]
        );
    }
}
