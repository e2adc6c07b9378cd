//! Helpers shared by the unit tests (compiled only for `cargo test`).

use burn::prelude::*;

/// The CPU device all tests run on.
#[allow(deprecated)] // burn 0.22 deprecates NdArray in favour of Flex; the project tests on NdArray.
pub(crate) fn device() -> Device {
    Device::ndarray()
}

/// The same CPU device with autodiff enabled.
pub(crate) fn autodiff_device() -> Device {
    device().autodiff()
}

/// Reads a float tensor back as `f64`s (row-major).
pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("float tensor data")
}

/// Deterministic pseudo-random numbers in `[lo, hi)` (64-bit LCG), rounded to f32 so that
/// the f64 reference sees exactly the values the tensors hold.
pub(crate) fn pseudo_random(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            f64::from((lo + (hi - lo) * unit) as f32)
        })
        .collect()
}

/// Builds a float tensor of `shape` from row-major `f64` data.
pub(crate) fn tensor<const D: usize>(
    data: &[f64],
    shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    let data: Vec<f32> = data.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(data, shape), device)
}

/// Asserts `|got - want| <= rel · max(|want|, 1e-3)`.
pub(crate) fn assert_close(got: f64, want: f64, rel: f64) {
    let tol = rel * want.abs().max(1e-3);
    assert!(
        (got - want).abs() <= tol,
        "got {got}, want {want} (|diff| = {}, tol = {tol})",
        (got - want).abs()
    );
}

/// Stable `log σ(x)` in f64 for the hand-computed references.
pub(crate) fn ref_log_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

/// `σ(x)` in f64.
pub(crate) fn ref_sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
