//! Losses for sequential recommendation: sampled (gBCE, BCE, sampled softmax) and
//! full-catalogue (softmax over every item).
//!
//! All losses take the scores the model produced at every position of a batch of
//! sequences, a `mask` (`1.0` real position, `0.0` padding) and return the mean loss over
//! real positions as a rank-1 tensor of one element. They are plain tensor functions: no
//! backend is named, so they run (and differentiate) on whatever device the inputs live on.
//!
//! * [`gbce_loss`] — gSASRec's generalised BCE,
//!   `−1/(k+1) · (β · log σ(s⁺) + Σᵢ log(1 − σ(s⁻ᵢ)))`, with β from
//!   [`gbce_beta_from_t`] (`β = α·(t·(1 − 1/α) + 1/α)`, `α = k/(|I| − 1)`);
//! * [`bce_loss`] — the same with β = 1;
//! * [`sampled_softmax_loss`] — cross-entropy of the positive against its negatives;
//! * [`full_softmax_loss`] — cross-entropy over the whole catalogue (padding id excluded);
//! * [`LossKind`] / [`GBceBeta`] — the serializable choice of loss.
//!
//! # Example
//!
//! ```
//! use burn::prelude::*;
//! use seqrec_loss::{GBceBeta, gbce_loss};
//!
//! # #[allow(deprecated)]
//! let device = Device::ndarray();
//! // One sequence of 3 positions (the first one is padding), 2 negatives per position.
//! let pos = Tensor::<2>::from_floats([[0.0, 2.0, -1.0]], &device);
//! let neg = Tensor::<3>::from_floats([[[5.0, 5.0], [-1.0, 0.5], [0.0, -2.0]]], &device);
//! let mask = Tensor::<2>::from_floats([[0.0, 1.0, 1.0]], &device);
//!
//! // gSASRec's calibration with t = 0.75 for 2 negatives out of 101 items.
//! let beta = GBceBeta::Calibrated { t: 0.75 }.resolve(2, 101).unwrap();
//! let loss = gbce_loss(pos, neg, mask, None, beta);
//!
//! assert_eq!(loss.dims(), [1]);
//! let value: f32 = loss.into_scalar();
//! assert!(value.is_finite() && value > 0.0);
//! ```

#![deny(missing_docs)]

mod calibration;
mod error;
mod gbce;
mod kind;
mod mask;
mod softmax;
#[cfg(test)]
mod test_util;

pub use calibration::gbce_beta_from_t;
pub use error::LossError;
pub use gbce::{bce_loss, gbce_loss};
pub use kind::{GBceBeta, LossKind};
pub use softmax::{
    explore_softmax_loss, full_softmax_loss, full_softmax_loss_per_row, sampled_softmax_loss,
};
