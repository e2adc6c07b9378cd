//! Generalised binary cross-entropy (gBCE) and plain BCE over sampled negatives.

use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;

use crate::mask::{apply_mask, check_sampled_shapes, masked_mean};

/// gSASRec's generalised binary cross-entropy over one positive and `k` sampled negatives.
///
/// Per position, with positive score `s⁺` and negative scores `s⁻₁ … s⁻ₖ`:
///
/// ```text
/// gBCE = −1/(k+1) · ( β · log σ(s⁺) + Σᵢ log(1 − σ(s⁻ᵢ)) )
/// ```
///
/// The logarithms are evaluated as `log σ(x) = log_sigmoid(x)` and
/// `log(1 − σ(x)) = log_sigmoid(−x)`, which stay finite (with finite gradients) for
/// logits of any magnitude. The result is the mean over real positions,
/// `Σ gBCE · mask / Σ mask`, and exactly `0` when every position is padding.
///
/// # Arguments
///
/// * `pos_logits` — `[batch, len]`, score of the positive (next) item at every position.
/// * `neg_logits` — `[batch, len, k]`, scores of the `k ≥ 1` sampled negatives.
/// * `mask` — `[batch, len]`, `1.0` for real positions, `0.0` for padding. Padded
///   positions are excluded whatever their logits (even non-finite ones).
/// * `neg_mask` — optional `[batch, len, k]`, `1.0` for a valid negative, `0.0` for one to
///   drop (e.g. a sampled negative that equals the positive). A dropped negative adds 0 to
///   the sum; the normaliser stays `k + 1`, `k` being taken from the shape.
/// * `beta` — the exponent β, see [`GBceBeta::resolve`](crate::GBceBeta::resolve).
///
/// Returns a rank-1 tensor holding one element, on the inputs' device.
///
/// # Panics
///
/// If the shapes disagree, `k = 0`, or `beta` is not finite and > 0.
pub fn gbce_loss(
    pos_logits: Tensor<2>,
    neg_logits: Tensor<3>,
    mask: Tensor<2>,
    neg_mask: Option<Tensor<3>>,
    beta: f64,
) -> Tensor<1> {
    assert!(
        beta.is_finite() && beta > 0.0,
        "gbce_loss: beta must be finite and > 0, got {beta}"
    );
    let [batch, len, k] = check_sampled_shapes(
        "gbce_loss",
        &pos_logits,
        &neg_logits,
        &mask,
        neg_mask.as_ref(),
    );

    // β · log σ(s⁺)
    let positive = log_sigmoid(pos_logits).mul_scalar(beta);
    // log(1 − σ(s⁻)) = log σ(−s⁻)
    let negatives = log_sigmoid(neg_logits.neg());
    let negatives = match neg_mask {
        Some(neg_mask) => apply_mask(negatives, neg_mask),
        None => negatives,
    };
    let negatives = negatives.sum_dim(2).reshape([batch, len]);

    let per_position = (positive + negatives).div_scalar(-((k + 1) as f64));
    masked_mean(per_position, mask)
}

/// Binary cross-entropy over one positive and `k` sampled negatives: [`gbce_loss`] with
/// β = 1, i.e. per position `−1/(k+1) · (log σ(s⁺) + Σᵢ log(1 − σ(s⁻ᵢ)))`.
///
/// Arguments, masking, result and panics are those of [`gbce_loss`].
pub fn bce_loss(
    pos_logits: Tensor<2>,
    neg_logits: Tensor<3>,
    mask: Tensor<2>,
    neg_mask: Option<Tensor<3>>,
) -> Tensor<1> {
    gbce_loss(pos_logits, neg_logits, mask, neg_mask, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gbce_beta_from_t;
    use crate::test_util::*;

    const B: usize = 3;
    const L: usize = 4;
    const K: usize = 5;

    /// Random-ish logits with two padded positions and a few dropped negatives.
    struct Case {
        pos: Vec<f64>,
        neg: Vec<f64>,
        mask: Vec<f64>,
        neg_mask: Vec<f64>,
    }

    fn case() -> Case {
        let mut mask = vec![1.0; B * L];
        mask[0] = 0.0; // left padding of sequence 0
        mask[L] = 0.0; // left padding of sequence 1
        let mut neg_mask = vec![1.0; B * L * K];
        for idx in [3, 7, 26, 27, 58] {
            neg_mask[idx] = 0.0; // collided negatives
        }
        Case {
            pos: pseudo_random(B * L, 1, -4.0, 4.0),
            neg: pseudo_random(B * L * K, 2, -4.0, 4.0),
            mask,
            neg_mask,
        }
    }

    /// gBCE written out with plain loops in f64.
    fn reference(c: &Case, beta: f64, use_neg_mask: bool) -> f64 {
        let (mut total, mut count) = (0.0, 0.0);
        for p in 0..B * L {
            if c.mask[p] == 0.0 {
                continue;
            }
            let sig = 1.0 / (1.0 + (-c.pos[p]).exp());
            let mut sum = beta * sig.ln();
            for i in 0..K {
                let j = p * K + i;
                if use_neg_mask && c.neg_mask[j] == 0.0 {
                    continue;
                }
                let sig = 1.0 / (1.0 + (-c.neg[j]).exp());
                sum += (1.0 - sig).ln();
            }
            total += -sum / (K as f64 + 1.0);
            count += 1.0;
        }
        total / count
    }

    fn run(c: &Case, beta: f64, use_neg_mask: bool, dev: &Device) -> Tensor<1> {
        gbce_loss(
            tensor(&c.pos, [B, L], dev),
            tensor(&c.neg, [B, L, K], dev),
            tensor(&c.mask, [B, L], dev),
            use_neg_mask.then(|| tensor(&c.neg_mask, [B, L, K], dev)),
            beta,
        )
    }

    #[test]
    fn gbce_matches_hand_computation() {
        let c = case();
        let dev = device();
        for beta in [0.05, 0.306, 1.0, 2.5] {
            for use_neg_mask in [false, true] {
                let got = values(run(&c, beta, use_neg_mask, &dev));
                assert_eq!(got.len(), 1);
                assert_close(got[0], reference(&c, beta, use_neg_mask), 1e-5);
            }
        }
    }

    #[test]
    fn bce_matches_hand_computation() {
        let c = case();
        let dev = device();
        let got = values(bce_loss(
            tensor(&c.pos, [B, L], &dev),
            tensor(&c.neg, [B, L, K], &dev),
            tensor(&c.mask, [B, L], &dev),
            Some(tensor(&c.neg_mask, [B, L, K], &dev)),
        ));
        assert_close(got[0], reference(&c, 1.0, true), 1e-5);
    }

    #[test]
    fn beta_changes_the_loss() {
        // Guards against β being ignored: the two β give clearly different values.
        let c = case();
        let dev = device();
        let a = values(run(&c, 1.0, true, &dev))[0];
        let b = values(run(&c, 0.1, true, &dev))[0];
        assert!((a - b).abs() > 1e-2, "{a} vs {b}");
    }

    #[test]
    fn calibration_endpoints() {
        let c = case();
        let dev = device();
        let bce = values(bce_loss(
            tensor(&c.pos, [B, L], &dev),
            tensor(&c.neg, [B, L, K], &dev),
            tensor(&c.mask, [B, L], &dev),
            Some(tensor(&c.neg_mask, [B, L, K], &dev)),
        ))[0];

        // t = 0 → β = 1 → exactly BCE.
        let beta0 = gbce_beta_from_t(0.0, K, 100).unwrap();
        assert_eq!(beta0, 1.0);
        assert_eq!(values(run(&c, beta0, true, &dev))[0], bce);

        // t = 1 → β = α = k / (|I| − 1).
        let beta1 = gbce_beta_from_t(1.0, K, 100).unwrap();
        assert!((beta1 - K as f64 / 99.0).abs() < 1e-12);
        assert_close(
            values(run(&c, beta1, true, &dev))[0],
            reference(&c, K as f64 / 99.0, true),
            1e-5,
        );
    }

    #[test]
    fn padding_does_not_change_the_loss() {
        let mut c = case();
        let dev = device();
        let before = values(run(&c, 0.4, true, &dev))[0];
        // Rewrite everything at the two padded positions, and the dropped negatives.
        for p in [0, L] {
            c.pos[p] = if p == 0 { 1e6 } else { f64::NAN };
            for i in 0..K {
                c.neg[p * K + i] = if i % 2 == 0 { -3e4 } else { f64::INFINITY };
            }
        }
        for j in [3, 7, 26, 27, 58] {
            c.neg[j] = f64::NAN;
        }
        let after = values(run(&c, 0.4, true, &dev))[0];
        assert_eq!(before, after);
    }

    #[test]
    fn all_padding_gives_zero_not_nan() {
        let dev = device().autodiff();
        let pos = tensor(&pseudo_random(2 * 3, 5, -2.0, 2.0), [2, 3], &dev).require_grad();
        let neg = tensor(&pseudo_random(2 * 3 * 4, 6, -2.0, 2.0), [2, 3, 4], &dev).require_grad();
        let mask = Tensor::<2>::zeros([2, 3], &dev);
        let loss = gbce_loss(pos.clone(), neg.clone(), mask, None, 0.5);
        let grads = loss.backward();
        assert_eq!(values(loss), vec![0.0]);
        assert!(values(pos.grad(&grads).unwrap()).iter().all(|&g| g == 0.0));
        assert!(values(neg.grad(&grads).unwrap()).iter().all(|&g| g == 0.0));
    }

    #[test]
    fn extreme_logits_give_finite_loss_and_gradients() {
        let dev = autodiff_device();
        let (b, l, k) = (2, 2, 3);
        let beta = 0.3;
        // Every combination of confidently right/wrong positive and negatives.
        let pos = [1e4, -1e4, 1e4, -1e4];
        let neg = [
            -1e4, -1e4, -1e4, // right
            1e4, 1e4, 1e4, // wrong
            1e4, -1e4, 1e4, // mixed
            -1e4, 1e4, -1e4, // mixed
        ];
        let pos_t = tensor(&pos, [b, l], &dev).require_grad();
        let neg_t = tensor(&neg, [b, l, k], &dev).require_grad();
        let mask = Tensor::<2>::ones([b, l], &dev);
        let loss = gbce_loss(pos_t.clone(), neg_t.clone(), mask, None, beta);
        let grads = loss.backward();

        let got = values(loss)[0];
        // log σ(±1e4) is 0 or ∓1e4 to within f64 precision.
        let mut want = 0.0;
        for p in 0..b * l {
            let mut sum = beta * ref_log_sigmoid(pos[p]);
            for i in 0..k {
                sum += ref_log_sigmoid(-neg[p * k + i]);
            }
            want += -sum / (k as f64 + 1.0);
        }
        want /= (b * l) as f64;
        assert!(got.is_finite());
        assert_close(got, want, 1e-5);

        let gp = values(pos_t.grad(&grads).unwrap());
        let gn = values(neg_t.grad(&grads).unwrap());
        assert!(gp.iter().chain(&gn).all(|g| g.is_finite()), "{gp:?} {gn:?}");
        // Saturated: the right answers get ~0 gradient, the wrong ones the full slope.
        let n = (b * l) as f64;
        let scale = 1.0 / ((k as f64 + 1.0) * n);
        assert_close(gp[0], 0.0, 1e-5);
        assert_close(gp[1], -beta * scale, 1e-5);
        assert_close(gn[0], 0.0, 1e-5);
        assert_close(gn[3], scale, 1e-5);
    }

    #[test]
    fn gradients_match_analytic_derivative() {
        // ∂L/∂s⁺ = β(σ(s⁺) − 1) / ((k+1)·N),  ∂L/∂s⁻ᵢ = σ(s⁻ᵢ)·m_i / ((k+1)·N),
        // with N the number of real positions; 0 at padded positions.
        let c = case();
        let dev = autodiff_device();
        let beta = 0.37;
        let pos = tensor(&c.pos, [B, L], &dev).require_grad();
        let neg = tensor(&c.neg, [B, L, K], &dev).require_grad();
        let loss = gbce_loss(
            pos.clone(),
            neg.clone(),
            tensor(&c.mask, [B, L], &dev),
            Some(tensor(&c.neg_mask, [B, L, K], &dev)),
            beta,
        );
        let grads = loss.backward();
        let gp = values(pos.grad(&grads).unwrap());
        let gn = values(neg.grad(&grads).unwrap());

        let n: f64 = c.mask.iter().sum();
        let scale = 1.0 / ((K as f64 + 1.0) * n);
        assert_eq!(gp.len(), B * L);
        for (p, &got) in gp.iter().enumerate() {
            let want = c.mask[p] * beta * (ref_sigmoid(c.pos[p]) - 1.0) * scale;
            assert_close(got, want, 1e-4);
            for i in 0..K {
                let j = p * K + i;
                let want = c.mask[p] * c.neg_mask[j] * ref_sigmoid(c.neg[j]) * scale;
                assert_close(gn[j], want, 1e-4);
            }
        }
    }

    #[test]
    #[should_panic(expected = "beta must be finite and > 0")]
    fn rejects_non_positive_beta() {
        let c = case();
        run(&c, 0.0, false, &device());
    }
}
