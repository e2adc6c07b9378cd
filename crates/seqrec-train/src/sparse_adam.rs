//! Adam for item tables updated row by row ([`crate::item_tables`]).
//!
//! [`SparseAdam`] updates the rows of a table that a step touched, and their moments, in
//! place. It is *lazy*, as PyTorch's `SparseAdam` and TensorFlow's `LazyAdam`: a row's moments
//! decay only in the steps that touch it. Its second moment is kept per row, the mean of the
//! row's squared gradient (the "partial row-wise Adam" of FBGEMM/TorchRec), and its first
//! moment per element but stored in bf16 where the backend has it ([`first_moment_dtype`]:
//! flex, CUDA; computed in f32, rounded to 8 bits of mantissa when stored, a relative error
//! of at most 2⁻⁹ per step, far below the noise of a sampled gradient; f32 elsewhere, e.g.
//! ndarray): the state is half a table plus one column instead of two tables, which is what
//! lets a 10-million-item table train in a few gigabytes. Bias
//! correction uses the step count, with the `β₁`, `β₂` and `ε` of burn's
//! [`burn::optim::Adam`].
//!
//! In formulas, for a touched row `r` with gradient `g` at step `t`:
//! `m_r ← β₁ m_r + (1 − β₁) g`, `v_r ← β₂ v_r + (1 − β₂) mean(g²)`,
//! `w_r ← w_r − lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m_r / (√v_r + ε √(1 − β₂ᵗ))`.

use burn::tensor::{DType, Device, IndexingUpdateOp, Int, Tensor};

/// The storage type of [`SparseAdam`]'s first moment on `device`: bf16 where the backend
/// supports it, f32 otherwise.
pub fn first_moment_dtype(device: &Device) -> DType {
    if device.supports_dtype(DType::BF16) {
        DType::BF16
    } else {
        DType::F32
    }
}

/// Lazy, row-wise Adam for the rows of an item table (see the module documentation).
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

/// A table `[n, dim]` with its [`SparseAdam`] moments.
#[derive(Debug, Clone)]
pub struct TableState {
    /// The table.
    pub weight: Tensor<2>,
    /// First moment, `[n, dim]`, stored as [`first_moment_dtype`].
    pub moment_1: Tensor<2>,
    /// Second moment of each row, `[n, 1]`.
    pub moment_2: Tensor<2>,
}

impl TableState {
    /// `weight` with zero moments.
    pub fn new(weight: Tensor<2>) -> Self {
        let [n, dim] = weight.dims();
        let device = weight.device();
        Self {
            moment_1: Tensor::zeros([n, dim], (&device, first_moment_dtype(&device))),
            moment_2: Tensor::zeros([n, 1], &device),
            weight,
        }
    }

    /// The table's device.
    pub fn device(&self) -> Device {
        self.weight.device()
    }
}

impl SparseAdam {
    /// Step `time` (1 for the first) on the rows `ids` `[rows]` of `state`, whose gradient is
    /// `grad` `[rows, dim]` (distinct ids). The three tensors of `state` are written in place
    /// when nothing else holds them.
    pub fn update(
        &self,
        state: TableState,
        grad: Tensor<2>,
        ids: Tensor<1, Int>,
        learning_rate: f64,
        time: usize,
    ) -> TableState {
        let TableState {
            weight,
            moment_1,
            moment_2,
        } = state;
        let m = moment_1
            .clone()
            .select(0, ids.clone())
            .cast(DType::F32)
            .mul_scalar(self.beta_1)
            + grad.clone().mul_scalar(1.0 - self.beta_1);
        let v = moment_2
            .clone()
            .select(0, ids.clone())
            .mul_scalar(self.beta_2)
            + grad.square().mean_dim(1).mul_scalar(1.0 - self.beta_2);
        let t = time as i32;
        let correction_2 = (1.0 - self.beta_2.powi(t)).sqrt();
        let step = learning_rate * f64::from(correction_2 / (1.0 - self.beta_1.powi(t)));
        let delta = m
            .clone()
            .div(v.clone().sqrt().add_scalar(self.epsilon * correction_2))
            .mul_scalar(-step);
        let stored = m.cast(moment_1.dtype());
        TableState {
            moment_1: moment_1.select_assign(0, ids.clone(), stored, IndexingUpdateOp::Assign),
            moment_2: moment_2.select_assign(0, ids.clone(), v, IndexingUpdateOp::Assign),
            weight: weight.select_assign(0, ids, delta, IndexingUpdateOp::Add),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;
    use burn::tensor::TensorData;

    /// `x` rounded to bf16 (the nearest of the values with 8 bits of mantissa, ties to even),
    /// as the first moment is stored.
    fn bf16(x: f64) -> f64 {
        let bits = (x as f32).to_bits();
        let rounded = bits.wrapping_add(0x7FFF + ((bits >> 16) & 1)) & 0xFFFF_0000;
        f64::from(f32::from_bits(rounded))
    }

    /// Three steps on a 6 × 2 table against the formulas computed here in f64 (the first
    /// moment rounded to bf16 when stored as bf16): touched rows move as Adam with a row-wise
    /// second moment says, untouched rows and their moments do not move at all. On flex the
    /// first moment is bf16, on ndarray f32: both are checked.
    #[test]
    fn touched_rows_follow_the_formulas_and_the_others_stay() {
        for device in [Device::ndarray(), Device::flex()] {
            check_formulas(device);
        }
    }

    fn check_formulas(device: Device) {
        let half = first_moment_dtype(&device) == DType::BF16;
        let store = |x: f64| if half { bf16(x) } else { f64::from(x as f32) };
        let adam = SparseAdam::default();
        let lr = 0.01;
        let mut table: Vec<f64> = (0..12).map(|v| 0.1 * v as f64 - 0.5).collect();
        let mut m = vec![0.0f64; 12];
        let mut v = vec![0.0f64; 6];
        let steps: [(&[i64], &[f64]); 3] = [
            (&[1, 4], &[0.5, -1.0, 2.0, 0.25]),
            (&[4, 5], &[-0.3, 0.7, 1.5, 1.5]),
            (&[0, 1, 4], &[0.1, 0.2, -0.4, 0.0, 3.0, -2.0]),
        ];
        let mut state = TableState::new(Tensor::<2>::from_data(
            TensorData::new(table.iter().map(|&x| x as f32).collect::<Vec<_>>(), [6, 2]),
            &device,
        ));
        for (t, (rows, grads)) in steps.iter().enumerate() {
            let g = Tensor::<2>::from_data(
                TensorData::new(
                    grads.iter().map(|&x| x as f32).collect::<Vec<_>>(),
                    [rows.len(), 2],
                ),
                &device,
            );
            let ids = Tensor::<1, Int>::from_ints(*rows, &device);
            state = adam.update(state, g, ids, lr, t + 1);
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
                    let moment = b1 * m[2 * r + j] + (1.0 - b1) * g[j];
                    table[2 * r + j] -= step * moment / (v[r].sqrt() + eps * c2);
                    m[2 * r + j] = store(moment);
                }
            }
        }
        let got: Vec<f32> = state.weight.into_data().to_vec().unwrap();
        for (g, w) in got.iter().zip(&table) {
            assert!((f64::from(*g) - w).abs() < 1e-5, "{got:?} vs {table:?}");
        }
        // Rows 2 and 3 were never touched: their values are the initial ones, bit for bit.
        let initial: Vec<f32> = (4..8).map(|v| (0.1 * v as f64 - 0.5) as f32).collect();
        assert_eq!(&got[4..8], initial.as_slice());
        assert_eq!(state.moment_1.dtype(), first_moment_dtype(&device));
        let got_m: Vec<f32> = state
            .moment_1
            .cast(DType::F32)
            .into_data()
            .to_vec()
            .unwrap();
        let got_v: Vec<f32> = state.moment_2.into_data().to_vec().unwrap();
        // One bf16 step (2⁻⁸ relative) between f32 and f64 rounding at most.
        for (g, w) in got_m.iter().zip(&m) {
            assert!(
                (f64::from(*g) - w).abs() <= w.abs() / 256.0,
                "{got_m:?} vs {m:?}"
            );
        }
        for (g, w) in got_v.iter().zip(&v) {
            assert!((f64::from(*g) - w).abs() < 1e-6);
        }
    }
}
