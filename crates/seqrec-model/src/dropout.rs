//! Dropout whose masks are a pure function of a key, not of a random stream.
//!
//! burn's `Dropout` draws its mask from the backend's one random stream, element by element
//! on one thread. Two things need better: data-parallel training, where several workers share
//! one CPU device (and so that stream) and the order of their draws would decide the masks,
//! and speed, since the draw was about a quarter of a training step. Here the mask element of
//! global row `g`, offset `j` within the row, is a hash of `(key seed, g, j)`: the same key gives
//! the same mask whichever device computes it, however the batch is split between workers
//! ([`DropoutKey::offset_rows`]), and rows are drawn in parallel on the host.

use burn::tensor::{Device, Tensor, TensorData};
use rayon::prelude::*;

/// The key of a training step's dropout masks: a seed for the step and the row of the
/// global batch where this batch starts. Every dropout site of the model derives its own
/// key with [`DropoutKey::stream`].
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use seqrec_model::DropoutKey;
///
/// let device = Device::ndarray();
/// let key = DropoutKey::new(7);
/// let whole: Vec<f32> = key.mask([4, 3], 0.5, &device).into_data().to_vec().unwrap();
/// // The last two rows of the batch, as a worker holding rows 2..4 draws them.
/// let share: Vec<f32> = key.offset_rows(2).mask([2, 3], 0.5, &device).into_data().to_vec().unwrap();
/// assert_eq!(&whole[6..], &share[..]);
/// assert!(whole.iter().all(|&m| m == 0.0 || m == 2.0)); // kept elements are scaled by 1/(1 − p)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropoutKey {
    seed: u64,
    first_row: u64,
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl DropoutKey {
    /// The key of a batch that starts at row 0 of its step.
    pub fn new(seed: u64) -> Self {
        Self { seed, first_row: 0 }
    }

    /// The same step's key for the part of the batch that starts `rows` rows further on.
    pub fn offset_rows(self, rows: usize) -> Self {
        Self {
            first_row: self.first_row + rows as u64,
            ..self
        }
    }

    /// An independent key for dropout site `stream` (the embeddings, a block's attention
    /// weights, ...), with the same rows.
    pub fn stream(self, stream: u64) -> Self {
        Self {
            seed: mix(self.seed ^ mix(stream.wrapping_add(1).wrapping_mul(GOLDEN))),
            ..self
        }
    }

    /// The mask of a tensor of shape `dims` whose first axis is the batch: each element is
    /// `0` with probability `prob` and `1 / (1 − prob)` otherwise, so that the expected value
    /// of the masked tensor is unchanged.
    pub fn mask<const D: usize>(&self, dims: [usize; D], prob: f64, device: &Device) -> Tensor<D> {
        let rows = dims.first().copied().unwrap_or(1);
        let row_len: usize = dims.iter().skip(1).product();
        let mut data = vec![0f32; rows * row_len];
        // An element is dropped when its 32 random bits fall below `threshold`.
        let threshold = (prob.clamp(0.0, 1.0) * 4_294_967_296.0).round() as u64;
        let kept = (1.0 / (1.0 - prob)) as f32;
        let fill = |(r, row): (usize, &mut [f32])| {
            let row_key = mix(self.seed ^ (self.first_row + r as u64).wrapping_mul(GOLDEN));
            for (pair, values) in row.chunks_mut(2).enumerate() {
                let bits = mix(row_key.wrapping_add((pair as u64).wrapping_mul(GOLDEN)));
                for (half, value) in values.iter_mut().enumerate() {
                    let draw = (bits >> (32 * half)) & 0xFFFF_FFFF;
                    *value = if draw < threshold { 0.0 } else { kept };
                }
            }
        };
        if row_len > 0 {
            data.par_chunks_mut(row_len).enumerate().for_each(fill);
        }
        Tensor::from_data(TensorData::new(data, dims), device)
    }

    /// `x` with its elements dropped with probability `prob` and the others scaled by
    /// `1 / (1 − prob)`; `x` itself when `prob` is 0.
    pub fn apply<const D: usize>(&self, x: Tensor<D>, prob: f64) -> Tensor<D> {
        if prob <= 0.0 {
            return x;
        }
        let mask = self.mask(x.dims(), prob, &x.device());
        x * mask
    }
}

/// `x` through dropout `prob` keyed by `key`, or unchanged without a key (inference).
pub(crate) fn keyed_dropout<const D: usize>(
    x: Tensor<D>,
    prob: f64,
    key: Option<DropoutKey>,
) -> Tensor<D> {
    match key {
        Some(key) => key.apply(x, prob),
        None => x,
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().to_vec().unwrap()
    }

    #[test]
    fn the_same_key_gives_the_same_mask_and_another_key_another() {
        let device = Device::ndarray();
        let key = DropoutKey::new(3);
        let a = values(key.mask([8, 5, 7], 0.3, &device));
        assert_eq!(a, values(key.mask([8, 5, 7], 0.3, &device)));
        assert_ne!(a, values(DropoutKey::new(4).mask([8, 5, 7], 0.3, &device)));
        assert_ne!(a, values(key.stream(1).mask([8, 5, 7], 0.3, &device)));
        assert_ne!(
            values(key.stream(1).mask([8, 5, 7], 0.3, &device)),
            values(key.stream(2).mask([8, 5, 7], 0.3, &device))
        );
    }

    #[test]
    fn a_split_batch_draws_the_rows_of_the_whole_one() {
        let device = Device::ndarray();
        let key = DropoutKey::new(11).stream(5);
        let whole = values(key.mask([6, 2, 3], 0.5, &device));
        let first = values(key.mask([2, 2, 3], 0.5, &device));
        let rest = values(key.offset_rows(2).mask([4, 2, 3], 0.5, &device));
        assert_eq!(whole, [first, rest].concat());
    }

    #[test]
    fn the_drop_rate_and_scale_are_right() {
        let device = Device::ndarray();
        for prob in [0.1, 0.5, 0.9] {
            let mask = values(DropoutKey::new(1).mask([64, 100, 32], prob, &device));
            let n = mask.len() as f64;
            let dropped = mask.iter().filter(|&&m| m == 0.0).count() as f64 / n;
            // Binomial standard error at n = 204 800 is below 0.0012.
            assert!(
                (dropped - prob).abs() < 0.006,
                "p {prob}: dropped {dropped}"
            );
            let kept = (1.0 / (1.0 - prob)) as f32;
            assert!(mask.iter().all(|&m| m == 0.0 || m == kept));
            let mean = mask.iter().map(|&m| f64::from(m)).sum::<f64>() / n;
            assert!((mean - 1.0).abs() < 0.06, "p {prob}: mean {mean}");
        }
    }

    #[test]
    fn neighbouring_elements_and_rows_are_not_correlated() {
        // Each row and each pair of bits comes from its own hash: the drop pattern of
        // element j says nothing about j + 1 or about the next row.
        let device = Device::ndarray();
        let mask = values(DropoutKey::new(9).mask([200, 1000], 0.5, &device));
        let dropped: Vec<f64> = mask.iter().map(|&m| f64::from(m == 0.0)).collect();
        let corr = |lag: usize| {
            let n = dropped.len() - lag;
            let both = (0..n).filter(|&i| dropped[i] == 1.0 && dropped[i + lag] == 1.0);
            both.count() as f64 / n as f64
        };
        for lag in [1, 2, 1000] {
            assert!((corr(lag) - 0.25).abs() < 0.01, "lag {lag}: {}", corr(lag));
        }
    }

    #[test]
    fn apply_multiplies_by_the_mask_and_no_key_is_the_identity() {
        let device = Device::ndarray();
        let x = Tensor::<2>::from_data([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], &device);
        let key = DropoutKey::new(2);
        let mask = values(key.mask([2, 4], 0.25, &device));
        let got = values(key.apply(x.clone(), 0.25));
        let want: Vec<f32> = values(x.clone())
            .iter()
            .zip(&mask)
            .map(|(a, m)| a * m)
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            values(keyed_dropout(x.clone(), 0.25, None)),
            values(x.clone())
        );
        assert_eq!(values(key.apply(x.clone(), 0.0)), values(x));
    }
}
