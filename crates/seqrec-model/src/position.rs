//! Positional encodings, counted from the end of the history.

use burn::tensor::{Device, Tensor, TensorData};

/// Index into a position table of `max_len` rows for each of `len` positions of a left-padded
/// window: the last position always gets row `max_len - 1`, as in the gSASRec reference code,
/// whose window is always filled to `max_len`.
pub fn position_rows(len: usize, max_len: usize) -> std::ops::Range<usize> {
    debug_assert!(len <= max_len);
    (max_len - len)..max_len
}

/// The sinusoidal encoding of Vaswani et al. for rows `rows` of a table of width `dim`:
/// `PE[p, 2i] = sin(p / 10000^(2i/dim))`, `PE[p, 2i+1] = cos(p / 10000^(2i/dim))`.
pub fn sinusoidal(rows: std::ops::Range<usize>, dim: usize, device: &Device) -> Tensor<2> {
    let len = rows.len();
    let mut values = Vec::with_capacity(len * dim);
    for p in rows {
        for j in 0..dim {
            let pair = (j / 2) as f64;
            let angle = p as f64 / 10000f64.powf(2.0 * pair / dim as f64);
            values.push(if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
        }
    }
    Tensor::from_data(TensorData::new(values, [len, dim]), device)
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)]
    use super::*;

    #[test]
    fn last_position_always_gets_the_last_row() {
        assert_eq!(position_rows(3, 10), 7..10);
        assert_eq!(position_rows(10, 10), 0..10);
    }

    #[test]
    fn sinusoidal_matches_hand_values() {
        let device = Device::ndarray();
        let table = sinusoidal(0..3, 4, &device)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        // p = 2: [sin 2, cos 2, sin(2/100), cos(2/100)]
        let expected = [2f64.sin(), 2f64.cos(), 0.02f64.sin(), 0.02f64.cos()];
        for (got, want) in table[8..12].iter().zip(expected) {
            assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        }
        assert_eq!(&table[0..4], &[0.0, 1.0, 0.0, 1.0]);
    }
}
