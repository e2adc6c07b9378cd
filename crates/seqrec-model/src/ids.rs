//! The id conventions every model shares: 0 is padding, `1..=num_items` are items and
//! `num_items + 1` is reserved (gSASRec's mask token), so score rows have `num_items + 2`
//! columns, the first and the last never recommended; histories are left-padded and read
//! from their last `max_len` items.

use burn::tensor::{Device, Int, Tensor, TensorData};

/// `[1, rows]`: `-inf` at padding (0) and the reserved id (`rows - 1`), 0 elsewhere; added to
/// score rows so that neither is ever ranked.
pub(crate) fn reserved_bias(rows: usize, device: &Device) -> Tensor<2> {
    let mut bias = vec![0f32; rows];
    bias[0] = f32::NEG_INFINITY;
    bias[rows - 1] = f32::NEG_INFINITY;
    Tensor::from_data(TensorData::new(bias, [1, rows]), device)
}

/// The last `max_len` columns of a batch of histories `[batch, len]` (all of them when
/// `len <= max_len`).
pub(crate) fn last_columns(items: Tensor<2, Int>, max_len: usize) -> Tensor<2, Int> {
    let [batch, len] = items.dims();
    if len > max_len {
        items.slice([0..batch, len - max_len..len])
    } else {
        items
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;

    #[test]
    fn the_bias_hides_padding_and_the_reserved_id() {
        let bias = reserved_bias(4, &Device::ndarray())
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(bias, vec![f32::NEG_INFINITY, 0.0, 0.0, f32::NEG_INFINITY]);
    }

    #[test]
    fn histories_keep_their_last_columns() {
        let device = Device::ndarray();
        let items = Tensor::<2, Int>::from_data(
            TensorData::new(vec![1i64, 2, 3, 4, 5, 6], [2, 3]),
            &device,
        );
        let kept = last_columns(items.clone(), 2)
            .into_data()
            .to_vec::<i64>()
            .unwrap();
        assert_eq!(kept, vec![2, 3, 5, 6]);
        assert_eq!(last_columns(items, 5).dims(), [2, 3]);
    }
}
