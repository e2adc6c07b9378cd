//! Softmax cross-entropy, over sampled negatives or over the whole catalogue.

use burn::prelude::*;
use burn::tensor::IndexingUpdateOp;
use burn::tensor::activation::log_softmax;

use crate::mask::{check_sampled_shapes, large_negative, masked_mean};

/// Cross-entropy of the positive against its sampled negatives.
///
/// Per position, the logits `[s⁺, s⁻₁, …, s⁻ₖ]` go through a softmax with the positive at
/// index 0:
///
/// ```text
/// loss = −log( exp(s⁺) / (exp(s⁺) + Σᵢ exp(s⁻ᵢ)) )
/// ```
///
/// computed with a (max-shifted) `log_softmax`, so logits of any magnitude are safe.
/// A negative whose `neg_mask` entry is `0` is replaced by a large negative finite logit
/// (`-1e9`, or `-3e4` for half precision) before the softmax, which removes it from the sum.
/// The result is the mean over real positions (`mask`), `0` when all are padding.
///
/// Arguments, shapes and panics are those of [`gbce_loss`](crate::gbce_loss) without `beta`;
/// here `neg_mask` is read as a yes/no flag (`> 0` keeps the negative).
/// Returns a rank-1 tensor holding one element.
pub fn sampled_softmax_loss(
    pos_logits: Tensor<2>,
    neg_logits: Tensor<3>,
    mask: Tensor<2>,
    neg_mask: Option<Tensor<3>>,
) -> Tensor<1> {
    let [batch, len, _] = check_sampled_shapes(
        "sampled_softmax_loss",
        &pos_logits,
        &neg_logits,
        &mask,
        neg_mask.as_ref(),
    );
    let neg_logits = match neg_mask {
        Some(neg_mask) => {
            let fill = large_negative(neg_logits.dtype());
            neg_logits.mask_fill(neg_mask.lower_equal_elem(0.0), fill)
        }
        None => neg_logits,
    };
    let logits = Tensor::cat(vec![pos_logits.unsqueeze_dim::<3>(2), neg_logits], 2);
    let log_prob_positive = log_softmax(logits, 2).narrow(2, 0, 1).reshape([batch, len]);
    masked_mean(log_prob_positive.neg(), mask)
}

/// Cross-entropy over the whole catalogue.
///
/// # Arguments
///
/// * `logits` — `[batch, len, num_items + 1]`, a score for every item id; column 0 is the
///   padding id and never receives probability: it is overwritten with a large negative
///   finite logit before the `log_softmax`.
/// * `targets` — `[batch, len]`, the id of the positive item at every position, in
///   `1..=num_items` at real positions (`0` = padding). Ids must be `< num_items + 1`;
///   not every backend bounds-checks them.
/// * `mask` — `[batch, len]`, `1.0` for real positions, `0.0` for padding.
///
/// Per position the loss is `−log softmax(logits)[target]`; the result is the mean over
/// real positions, `0` when all are padding. Returns a rank-1 tensor holding one element.
///
/// # Panics
///
/// If the shapes disagree or the catalogue has fewer than one real item.
pub fn full_softmax_loss(logits: Tensor<3>, targets: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<1> {
    let [batch, len, vocab] = logits.dims();
    assert!(
        vocab >= 2,
        "full_softmax_loss: logits need a padding column plus at least one item, got {vocab} columns"
    );
    assert_eq!(
        targets.dims(),
        [batch, len],
        "full_softmax_loss: targets shape does not match logits"
    );
    assert_eq!(
        mask.dims(),
        [batch, len],
        "full_softmax_loss: mask shape does not match logits"
    );

    let fill = large_negative(logits.dtype());
    let padding_column =
        Tensor::<3>::full([batch, len, 1], fill, (&logits.device(), logits.dtype()));
    let logits = logits.slice_assign([0..batch, 0..len, 0..1], padding_column);
    let log_probs = log_softmax(logits, 2);
    let log_prob_target = log_probs
        .gather(2, targets.unsqueeze_dim::<3>(2))
        .reshape([batch, len]);
    masked_mean(log_prob_target.neg(), mask)
}

/// Cross-entropy over the whole catalogue when every target of a row is scored from one
/// state (the future-targets objective): the same loss as [`full_softmax_loss`] with `logits`
/// repeated for each of the row's `targets`, but one `log_softmax` per row instead of one
/// per target.
///
/// * `logits` — `[batch, num_items + 1]` (column 0, padding, never receives probability);
/// * `targets` — `[batch, len]`, target ids (`0` = padding);
/// * `mask` — `[batch, len]`, `1.0` for real targets.
///
/// Returns the mean over real targets (`0` when all are padding), a rank-1 tensor holding
/// one element.
///
/// # Panics
///
/// If the shapes disagree or the catalogue has fewer than one real item.
pub fn full_softmax_loss_per_row(
    logits: Tensor<2>,
    targets: Tensor<2, Int>,
    mask: Tensor<2>,
) -> Tensor<1> {
    let [batch, vocab] = logits.dims();
    let [target_batch, len] = targets.dims();
    assert!(
        vocab >= 2,
        "full_softmax_loss_per_row: logits need a padding column plus at least one item, got {vocab} columns"
    );
    assert_eq!(
        target_batch, batch,
        "full_softmax_loss_per_row: targets and logits have different batch sizes"
    );
    assert_eq!(
        mask.dims(),
        [batch, len],
        "full_softmax_loss_per_row: mask shape does not match targets"
    );
    let fill = large_negative(logits.dtype());
    let padding_column = Tensor::<2>::full([batch, 1], fill, (&logits.device(), logits.dtype()));
    let logits = logits.slice_assign([0..batch, 0..1], padding_column);
    let log_prob_target = log_softmax(logits, 1).gather(1, targets);
    masked_mean(log_prob_target.neg(), mask)
}

/// The explore loss: cross-entropy over the items the user has **not** played, for the
/// targets that are new to them (RepeatNet's explore decoder, as a loss).
///
/// A listening log's next plays are mostly replays, which a repeat-aware term can score;
/// this loss trains the ranking of everything else. Per row, the ids in `history` are
/// removed from the softmax (their logits get a large negative finite value), and only the
/// targets absent from `history` count:
///
/// ```text
/// loss = mean over new targets t of  −log( exp(s_t) / Σ_{i ∉ history} exp(s_i) )
/// ```
///
/// * `logits` — `[batch, num_items + 1 (+ more)]`; column 0, padding, never receives
///   probability;
/// * `targets` — `[batch, len]`, target ids (`0` = padding);
/// * `mask` — `[batch, len]`, `1.0` for real targets;
/// * `history` — `[batch, window]`, the ids the row's user has played (`0` = padding).
///
/// Returns the mean over real new targets (`0` when there are none), a rank-1 tensor holding
/// one element. No gradient reaches the history's logits.
///
/// # Panics
///
/// If the shapes disagree (as [`full_softmax_loss_per_row`]).
pub fn explore_softmax_loss(
    logits: Tensor<2>,
    targets: Tensor<2, Int>,
    mask: Tensor<2>,
    history: Tensor<2, Int>,
) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let [history_batch, window] = history.dims();
    assert_eq!(
        history_batch, batch,
        "explore_softmax_loss: history and logits have different batch sizes"
    );
    let [_, len] = targets.dims();
    // A target is new when no history id equals it: [batch, len, window] comparisons.
    let replays = targets
        .clone()
        .unsqueeze_dim::<3>(2)
        .expand([batch, len, window])
        .equal(
            history
                .clone()
                .unsqueeze_dim::<3>(1)
                .expand([batch, len, window]),
        )
        .int()
        .sum_dim(2)
        .reshape([batch, len]);
    let new = replays.equal_elem(0).float();
    // Every play of a history id adds the fill (a replayed id adds it more than once, which
    // stays finite and only removes it further); padding lands in column 0, overwritten below.
    let fill = large_negative(logits.dtype());
    let hidden = Tensor::<2>::full([batch, window], fill, (&logits.device(), logits.dtype()));
    let logits = logits.scatter(1, history, hidden, IndexingUpdateOp::Add);
    full_softmax_loss_per_row(logits, targets, mask * new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::*;

    const B: usize = 3;
    const L: usize = 4;
    const K: usize = 5;
    const DROPPED: [usize; 5] = [3, 7, 26, 27, 58];

    fn mask() -> Vec<f64> {
        let mut mask = vec![1.0; B * L];
        mask[0] = 0.0;
        mask[L] = 0.0;
        mask
    }

    fn neg_mask() -> Vec<f64> {
        let mut m = vec![1.0; B * L * K];
        for j in DROPPED {
            m[j] = 0.0;
        }
        m
    }

    /// Sampled softmax with plain loops in f64 (dropped negatives simply skipped).
    fn sampled_reference(pos: &[f64], neg: &[f64], mask: &[f64], neg_mask: Option<&[f64]>) -> f64 {
        let (mut total, mut count) = (0.0, 0.0);
        for p in 0..B * L {
            if mask[p] == 0.0 {
                continue;
            }
            let mut denom = pos[p].exp();
            for i in 0..K {
                let j = p * K + i;
                if neg_mask.is_some_and(|m| m[j] == 0.0) {
                    continue;
                }
                denom += neg[j].exp();
            }
            total += -(pos[p].exp() / denom).ln();
            count += 1.0;
        }
        total / count
    }

    fn sampled(
        pos: &[f64],
        neg: &[f64],
        mask: &[f64],
        nm: Option<&[f64]>,
        dev: &Device,
    ) -> Tensor<1> {
        sampled_softmax_loss(
            tensor(pos, [B, L], dev),
            tensor(neg, [B, L, K], dev),
            tensor(mask, [B, L], dev),
            nm.map(|m| tensor(m, [B, L, K], dev)),
        )
    }

    #[test]
    fn sampled_softmax_matches_hand_computation() {
        let dev = device();
        let pos = pseudo_random(B * L, 11, -4.0, 4.0);
        let neg = pseudo_random(B * L * K, 12, -4.0, 4.0);
        let (mask, nm) = (mask(), neg_mask());
        for use_nm in [false, true] {
            let nm = use_nm.then_some(nm.as_slice());
            let got = values(sampled(&pos, &neg, &mask, nm, &dev));
            assert_eq!(got.len(), 1);
            assert_close(got[0], sampled_reference(&pos, &neg, &mask, nm), 1e-5);
        }
        // The neg mask matters: with it the loss is lower (fewer competitors).
        let with = values(sampled(&pos, &neg, &mask, Some(&nm), &dev))[0];
        let without = values(sampled(&pos, &neg, &mask, None, &dev))[0];
        assert!(with < without - 1e-3, "{with} vs {without}");
    }

    #[test]
    fn sampled_softmax_ignores_padding_and_dropped_negatives() {
        let dev = device();
        let mut pos = pseudo_random(B * L, 13, -4.0, 4.0);
        let mut neg = pseudo_random(B * L * K, 14, -4.0, 4.0);
        let (mask, nm) = (mask(), neg_mask());
        let before = values(sampled(&pos, &neg, &mask, Some(&nm), &dev))[0];
        pos[0] = f64::NAN;
        pos[L] = 1e6;
        for i in 0..K {
            neg[i] = f64::INFINITY;
            neg[L * K + i] = -1e6;
        }
        for j in DROPPED {
            neg[j] = 1e4 + j as f64;
        }
        let after = values(sampled(&pos, &neg, &mask, Some(&nm), &dev))[0];
        assert_eq!(before, after);
    }

    #[test]
    fn sampled_softmax_gradient_matches_analytic() {
        // ∂L/∂s⁺ = (p⁺ − 1)/N, ∂L/∂s⁻ᵢ = pᵢ/N (0 for dropped negatives and padding).
        let dev = autodiff_device();
        let pos = pseudo_random(B * L, 15, -3.0, 3.0);
        let neg = pseudo_random(B * L * K, 16, -3.0, 3.0);
        let (mask, nm) = (mask(), neg_mask());
        let pos_t = tensor(&pos, [B, L], &dev).require_grad();
        let neg_t = tensor(&neg, [B, L, K], &dev).require_grad();
        let loss = sampled_softmax_loss(
            pos_t.clone(),
            neg_t.clone(),
            tensor(&mask, [B, L], &dev),
            Some(tensor(&nm, [B, L, K], &dev)),
        );
        let grads = loss.backward();
        let gp = values(pos_t.grad(&grads).unwrap());
        let gn = values(neg_t.grad(&grads).unwrap());
        let n: f64 = mask.iter().sum();
        for p in 0..B * L {
            let mut denom = pos[p].exp();
            for i in 0..K {
                denom += nm[p * K + i] * neg[p * K + i].exp();
            }
            assert_close(gp[p], mask[p] * (pos[p].exp() / denom - 1.0) / n, 1e-4);
            for i in 0..K {
                let j = p * K + i;
                assert_close(gn[j], mask[p] * nm[j] * neg[j].exp() / denom / n, 1e-4);
            }
        }
    }

    #[test]
    fn sampled_softmax_extreme_logits_are_finite() {
        let dev = autodiff_device();
        let pos: Vec<f64> = (0..B * L)
            .map(|p| if p % 2 == 0 { 1e4 } else { -1e4 })
            .collect();
        let neg: Vec<f64> = (0..B * L * K)
            .map(|j| if j % 3 == 0 { 1e4 } else { -1e4 })
            .collect();
        let pos_t = tensor(&pos, [B, L], &dev).require_grad();
        let neg_t = tensor(&neg, [B, L, K], &dev).require_grad();
        let loss = sampled_softmax_loss(
            pos_t.clone(),
            neg_t.clone(),
            tensor(&mask(), [B, L], &dev),
            Some(tensor(&neg_mask(), [B, L, K], &dev)),
        );
        let grads = loss.backward();
        let got = values(loss)[0];
        assert!(got.is_finite(), "{got}");
        // Reference in f64 via log-sum-exp.
        let (m, nm) = (mask(), neg_mask());
        let (mut total, mut count) = (0.0, 0.0);
        for p in 0..B * L {
            if m[p] == 0.0 {
                continue;
            }
            let mut all = vec![pos[p]];
            all.extend(
                (0..K)
                    .filter(|&i| nm[p * K + i] != 0.0)
                    .map(|i| neg[p * K + i]),
            );
            let max = all.iter().cloned().fold(f64::MIN, f64::max);
            let lse = max + all.iter().map(|x| (x - max).exp()).sum::<f64>().ln();
            total += lse - pos[p];
            count += 1.0;
        }
        assert_close(got, total / count, 1e-5);
        let gp = values(pos_t.grad(&grads).unwrap());
        let gn = values(neg_t.grad(&grads).unwrap());
        assert!(gp.iter().chain(&gn).all(|g| g.is_finite()));
    }

    #[test]
    fn sampled_softmax_all_padding_is_zero() {
        let dev = device();
        let pos = pseudo_random(B * L, 17, -1.0, 1.0);
        let neg = pseudo_random(B * L * K, 18, -1.0, 1.0);
        let got = values(sampled(&pos, &neg, &[0.0; B * L], None, &dev));
        assert_eq!(got, vec![0.0]);
    }

    // ---- full softmax ----

    const N: usize = 7; // items 1..=7, column 0 is padding

    fn targets() -> Vec<i64> {
        // Padding (0) at the two masked positions, real ids elsewhere.
        vec![0, 3, 7, 1, 0, 2, 2, 5, 6, 4, 1, 7]
    }

    fn int_tensor(data: &[i64], dev: &Device) -> Tensor<2, Int> {
        Tensor::from_data(TensorData::new(data.to_vec(), [B, L]), dev)
    }

    /// Full softmax with plain loops in f64; column 0 left out of the normaliser.
    fn full_reference(logits: &[f64], targets: &[i64], mask: &[f64]) -> f64 {
        let (mut total, mut count) = (0.0, 0.0);
        for p in 0..B * L {
            if mask[p] == 0.0 {
                continue;
            }
            let row = &logits[p * (N + 1)..(p + 1) * (N + 1)];
            let denom: f64 = row[1..].iter().map(|x| x.exp()).sum();
            total += -(row[targets[p] as usize].exp() / denom).ln();
            count += 1.0;
        }
        total / count
    }

    fn full(logits: &[f64], targets: &[i64], mask: &[f64], dev: &Device) -> Tensor<1> {
        full_softmax_loss(
            tensor(logits, [B, L, N + 1], dev),
            int_tensor(targets, dev),
            tensor(mask, [B, L], dev),
        )
    }

    #[test]
    fn full_softmax_matches_hand_computation() {
        let dev = device();
        let mut logits = pseudo_random(B * L * (N + 1), 21, -4.0, 4.0);
        // A large padding logit would dominate if column 0 were not excluded.
        for p in 0..B * L {
            logits[p * (N + 1)] = 8.0;
        }
        let got = values(full(&logits, &targets(), &mask(), &dev));
        assert_eq!(got.len(), 1);
        assert_close(got[0], full_reference(&logits, &targets(), &mask()), 1e-5);
    }

    #[test]
    fn full_softmax_ignores_padding_column_and_positions() {
        let dev = device();
        let mut logits = pseudo_random(B * L * (N + 1), 22, -4.0, 4.0);
        let before = values(full(&logits, &targets(), &mask(), &dev))[0];
        for p in 0..B * L {
            logits[p * (N + 1)] = if p % 2 == 0 { 1e4 } else { f64::NAN };
        }
        for c in 0..=N {
            logits[c] = f64::INFINITY; // padded position 0
            logits[L * (N + 1) + c] = -1e6; // padded position L
        }
        let after = values(full(&logits, &targets(), &mask(), &dev))[0];
        assert_eq!(before, after);
        let all_pad = values(full(&logits, &targets(), &[0.0; B * L], &dev));
        assert_eq!(all_pad, vec![0.0]);
    }

    #[test]
    fn full_softmax_gradient_and_extremes() {
        let dev = autodiff_device();
        let mut logits = pseudo_random(B * L * (N + 1), 23, -3.0, 3.0);
        let tg = targets();
        let m = mask();
        let logits_t = tensor(&logits, [B, L, N + 1], &dev).require_grad();
        let loss = full_softmax_loss(
            logits_t.clone(),
            int_tensor(&tg, &dev),
            tensor(&m, [B, L], &dev),
        );
        let grads = loss.backward();
        let g = values(logits_t.grad(&grads).unwrap());
        // ∂L/∂z_c = (softmax_c − [c = target]) / N over columns 1..; column 0 gets 0.
        let n: f64 = m.iter().sum();
        for p in 0..B * L {
            let row = &logits[p * (N + 1)..(p + 1) * (N + 1)];
            let denom: f64 = row[1..].iter().map(|x| x.exp()).sum();
            for c in 0..=N {
                let soft = if c == 0 { 0.0 } else { row[c].exp() / denom };
                let onehot = if c == tg[p] as usize && c != 0 {
                    1.0
                } else {
                    0.0
                };
                assert_close(g[p * (N + 1) + c], m[p] * (soft - onehot) / n, 1e-4);
            }
        }

        // Logits of ±1e4: finite loss and gradients.
        for (j, x) in logits.iter_mut().enumerate() {
            *x = if j % 3 == 0 { 1e4 } else { -1e4 };
        }
        let logits_t = tensor(&logits, [B, L, N + 1], &dev).require_grad();
        let loss = full_softmax_loss(
            logits_t.clone(),
            int_tensor(&tg, &dev),
            tensor(&m, [B, L], &dev),
        );
        let grads = loss.backward();
        assert!(values(loss).iter().all(|x| x.is_finite()));
        assert!(
            values(logits_t.grad(&grads).unwrap())
                .iter()
                .all(|x| x.is_finite())
        );
    }

    #[test]
    fn per_row_full_softmax_equals_the_loss_of_repeated_logits() {
        let device = Default::default();
        let logits =
            Tensor::<2>::from_floats([[0.3, 1.0, -2.0, 0.5], [2.0, -1.0, 0.0, 3.0]], &device);
        let targets = Tensor::<2, Int>::from_ints([[1, 3, 0], [2, 2, 3]], &device);
        let mask = Tensor::<2>::from_floats([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], &device);
        let per_row: f32 =
            full_softmax_loss_per_row(logits.clone(), targets.clone(), mask.clone()).into_scalar();
        let repeated: f32 = full_softmax_loss(
            logits.unsqueeze_dim::<3>(1).expand([2, 3, 4]),
            targets,
            mask,
        )
        .into_scalar();
        // By hand: log-sum-exp over ids 1..=3 of each row, minus the target's logit.
        let lse = |xs: &[f64]| xs.iter().map(|x| x.exp()).sum::<f64>().ln();
        let (a, b) = (lse(&[1.0, -2.0, 0.5]), lse(&[-1.0, 0.0, 3.0]));
        let want = ((a - 1.0) + (a - 0.5) + (b - 0.0) + (b - 0.0) + (b - 3.0)) / 5.0;
        assert!(
            (f64::from(per_row) - want).abs() < 1e-5,
            "{per_row} vs {want}"
        );
        assert!((per_row - repeated).abs() < 1e-6, "{per_row} vs {repeated}");
    }

    #[test]
    fn the_explore_loss_is_the_softmax_over_unplayed_items_for_new_targets() {
        let device = Default::default();
        // Ids 1..=5 (column 0 is padding).
        let raw = [
            [0.0, 0.3, 1.0, -2.0, 0.5, 2.5],
            [0.0, 2.0, -1.0, 0.0, 3.0, -0.5],
        ];
        let logits = Tensor::<2>::from_floats(raw, &device);
        // Row 0 played 2 (twice) and 4; row 1 played 5, with padding.
        let history = Tensor::<2, Int>::from_ints([[2, 4, 2], [0, 0, 5]], &device);
        // Row 0: 1 and 3 are new, 2 is a replay; row 1: 4 is new, 5 a replay, the last padding.
        let targets = Tensor::<2, Int>::from_ints([[1, 2, 3], [4, 5, 1]], &device);
        let mask = Tensor::<2>::from_floats([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]], &device);
        let got: f32 = explore_softmax_loss(logits, targets, mask, history).into_scalar();
        // By hand: row 0 keeps ids 1, 3, 5; row 1 keeps 1, 2, 3, 4.
        let lse = |xs: &[f64]| xs.iter().map(|x| x.exp()).sum::<f64>().ln();
        let a = lse(&[0.3, -2.0, 2.5]);
        let b = lse(&[2.0, -1.0, 0.0, 3.0]);
        let want = ((a - 0.3) + (a + 2.0) + (b - 3.0)) / 3.0;
        assert!((f64::from(got) - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn the_explore_loss_gives_no_gradient_to_played_items_and_is_zero_without_new_targets() {
        let device = autodiff_device();
        let logits = Tensor::<2>::from_floats([[0.0, 0.3, 1.0, -2.0]], &device).require_grad();
        let history = Tensor::<2, Int>::from_ints([[2]], &device);
        let targets = Tensor::<2, Int>::from_ints([[1]], &device);
        let mask = Tensor::<2>::ones([1, 1], &device);
        let loss = explore_softmax_loss(logits.clone(), targets, mask.clone(), history.clone());
        let grads = loss.backward();
        let grad = values(logits.grad(&grads).unwrap());
        assert_eq!(grad[2], 0.0, "{grad:?}");
        assert!(grad[1] < 0.0 && grad[3] > 0.0, "{grad:?}");
        let only_replays = Tensor::<2, Int>::from_ints([[2]], &device);
        let none: f32 = explore_softmax_loss(logits, only_replays, mask, history).into_scalar();
        assert_eq!(none, 0.0);
    }
}
