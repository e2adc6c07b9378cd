//! Masking and masked reduction shared by all losses.

use burn::prelude::*;
use burn::tensor::DType;

/// Smallest denominator of a masked mean: keeps an all-padding batch at `0 / ε = 0`.
///
/// Masks are 0/1, so any batch with a real position has a total weight of at least 1.
const MIN_TOTAL_WEIGHT: f64 = 1e-6;

/// Multiplies `values` by `mask`, first replacing every entry whose mask is `<= 0` by zero.
///
/// The replacement makes excluded entries contribute exactly 0 even when their value is
/// not finite (`0 · inf` would be NaN).
pub(crate) fn apply_mask<const D: usize>(values: Tensor<D>, mask: Tensor<D>) -> Tensor<D> {
    let excluded = mask.clone().lower_equal_elem(0.0);
    values.mask_fill(excluded, 0.0) * mask
}

/// `sum(per_position · mask) / sum(mask)`, and `0` (not NaN) when `sum(mask) = 0`.
pub(crate) fn masked_mean(per_position: Tensor<2>, mask: Tensor<2>) -> Tensor<1> {
    let total = apply_mask(per_position, mask.clone()).sum();
    let weight = mask.sum().clamp_min(MIN_TOTAL_WEIGHT);
    total / weight
}

/// A finite logit so negative that its softmax probability is exactly 0 next to any
/// ordinary logit, chosen to stay finite in the tensor's float type.
pub(crate) fn large_negative(dtype: DType) -> f64 {
    match dtype {
        // Half-precision range ends at 65504; leave room for logits of magnitude ~1e4.
        DType::F16 | DType::Flex32 => -3.0e4,
        _ => -1.0e9,
    }
}

/// Panics unless the shapes of a sampled loss's inputs agree; returns `[batch, len, k]`.
pub(crate) fn check_sampled_shapes(
    loss: &str,
    pos_logits: &Tensor<2>,
    neg_logits: &Tensor<3>,
    mask: &Tensor<2>,
    neg_mask: Option<&Tensor<3>>,
) -> [usize; 3] {
    let [batch, len] = pos_logits.dims();
    let [nb, nl, k] = neg_logits.dims();
    assert!(
        nb == batch && nl == len,
        "{loss}: neg_logits {:?} does not match pos_logits {:?}",
        [nb, nl, k],
        [batch, len]
    );
    assert!(
        k >= 1,
        "{loss}: at least one negative per position is required"
    );
    assert_eq!(
        mask.dims(),
        [batch, len],
        "{loss}: mask shape does not match pos_logits"
    );
    if let Some(neg_mask) = neg_mask {
        assert_eq!(
            neg_mask.dims(),
            [batch, len, k],
            "{loss}: neg_mask shape does not match neg_logits"
        );
    }
    [batch, len, k]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{device, values};

    #[test]
    fn masked_mean_averages_real_positions_only() {
        let dev = device();
        let x = Tensor::<2>::from_floats([[1.0, 2.0, 100.0], [4.0, f32::NAN, 6.0]], &dev);
        let m = Tensor::<2>::from_floats([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]], &dev);
        let got = values(masked_mean(x, m));
        assert_eq!(got.len(), 1);
        assert!((got[0] - 13.0 / 4.0).abs() < 1e-6, "{got:?}");
    }

    #[test]
    fn masked_mean_of_all_padding_is_zero() {
        let dev = device();
        let x = Tensor::<2>::from_floats([[1.0, f32::INFINITY]], &dev);
        let m = Tensor::<2>::zeros([1, 2], &dev);
        assert_eq!(values(masked_mean(x, m)), vec![0.0]);
    }

    #[test]
    fn fill_value_is_finite_in_its_dtype() {
        assert!((large_negative(DType::F16) as f32) > -65504.0);
        assert_eq!(large_negative(DType::F32), -1.0e9);
    }

    #[test]
    #[should_panic(expected = "neg_mask shape")]
    fn shape_mismatch_panics() {
        let dev = device();
        let pos = Tensor::<2>::zeros([2, 3], &dev);
        let neg = Tensor::<3>::zeros([2, 3, 4], &dev);
        let mask = Tensor::<2>::ones([2, 3], &dev);
        let neg_mask = Tensor::<3>::ones([2, 3, 5], &dev);
        check_sampled_shapes("test", &pos, &neg, &mask, Some(&neg_mask));
    }
}
