//! The repeat-aware score: a learned term for the tracks a listener already played.
//!
//! People replay music: about three quarters of the tracks a listener plays through in a week
//! were already played in the weeks before. A dot product between a user vector and item
//! embeddings can learn to favour the history's tracks, but slowly. The repeat term gives the
//! model that knowledge directly, as RepeatNet's repeat/explore split does: for a candidate
//! item `i` and the history window the model reads,
//!
//! ```text
//! n_i   = plays of i in the window (the last `context` plays, which may be longer than
//!         the attention window)
//! r_i   = Σ over plays p of i: 0.5^(age_p / half_life)     (age 0: the most recent play)
//! bias  = w_count · ln(1 + n_i) + w_recent · r_i + w_seen · [n_i > 0]
//! score = user · output_embedding_i + bias
//! ```
//!
//! The three weights are learned with the rest of the model and start at zero, so a fresh
//! model scores exactly as one without the term. Each acts through a fixed multiplier
//! (`weight_scale`, 10 by default): Adam moves every parameter by about the learning rate per
//! step, so unscaled weights would need thousands of steps to reach the size of a useful bias,
//! while embedding entries of a few hundredths move as fast as they should.

use burn::module::{Module, Param};
use burn::tensor::{Device, IndexingUpdateOp, Int, Tensor, TensorData};

/// Number of learned weights: plays, recency-weighted plays, seen at all.
const FEATURES: usize = 3;

/// The learned repeat term (see the module documentation).
#[derive(Module, Debug)]
pub struct RepeatScore {
    /// `[3]`: weights of `ln(1 + plays)`, of the recency-weighted plays and of "in the history".
    pub weights: Param<Tensor<1>>,
    /// Half-life of the recency weight, in history positions.
    #[module(skip)]
    pub half_life: f64,
    /// Most recent plays counted: longer histories keep their last `context` plays.
    #[module(skip)]
    pub context: usize,
    /// Each weight's effect is `weight_scale · weights[i]`: under Adam, whose steps are
    /// about the learning rate whatever the gradient, this is the three weights' learning
    /// rate multiplier.
    #[module(skip)]
    pub weight_scale: f64,
}

impl RepeatScore {
    /// A repeat term with zero weights (no effect until trained) that counts the last
    /// `context` plays, its weights scaled by `weight_scale`.
    pub fn new(half_life: f64, context: usize, weight_scale: f64, device: &Device) -> Self {
        Self {
            weights: Param::from_tensor(Tensor::zeros([FEATURES], device)),
            half_life,
            context,
            weight_scale,
        }
    }

    /// The last `context` columns of left-padded histories `[batch, len]`.
    fn window(&self, items: Tensor<2, Int>) -> Tensor<2, Int> {
        let [_, len] = items.dims();
        if len > self.context {
            items.narrow(1, len - self.context, self.context)
        } else {
            items
        }
    }

    /// Recency weight of each position of a window of `len` `[1, len]`: `0.5^(age / half_life)`
    /// with age 0 at the last position.
    fn recency(&self, len: usize, device: &Device) -> Tensor<2> {
        let weights: Vec<f32> = (0..len)
            .map(|p| 0.5f64.powf((len - 1 - p) as f64 / self.half_life) as f32)
            .collect();
        Tensor::from_data(TensorData::new(weights, [1, len]), device)
    }

    /// The weight `i` as a `[1, 1]` tensor, to broadcast over `[batch, n]` features.
    fn weight(&self, i: usize) -> Tensor<2> {
        self.weights.val().narrow(0, i, 1).reshape([1, 1]) * self.weight_scale
    }

    /// Combines the features `[batch, n]` into the bias `[batch, n]`.
    fn combine(&self, counts: Tensor<2>, recent: Tensor<2>) -> Tensor<2> {
        let seen = counts.clone().greater_elem(0.0).float();
        counts.log1p() * self.weight(0) + recent * self.weight(1) + seen * self.weight(2)
    }

    /// The bias of given candidates: `items` `[batch, len]` is the window the model reads
    /// (left-padded with 0), `candidates` `[batch, n]` → `[batch, n]`. A padding candidate
    /// (0) gets the bias of an unseen item.
    pub fn candidates(&self, items: Tensor<2, Int>, candidates: Tensor<2, Int>) -> Tensor<2> {
        let items = self.window(items);
        let [batch, len] = items.dims();
        let [_, n] = candidates.dims();
        let device = items.device();
        let played = items
            .clone()
            .not_equal_elem(0)
            .float()
            .reshape([batch, 1, len]);
        let hits = items
            .reshape([batch, 1, len])
            .expand([batch, n, len])
            .equal(candidates.reshape([batch, n, 1]).expand([batch, n, len]))
            .float()
            * played;
        let counts = hits.clone().sum_dim(2).reshape([batch, n]);
        let recent = (hits * self.recency(len, &device).reshape([1, 1, len]))
            .sum_dim(2)
            .reshape([batch, n]);
        self.combine(counts, recent)
    }

    /// `scores` `[batch, rows]` plus the bias of every id for windows `items` `[batch, len]`:
    /// the same values as `scores + self.all(items, rows)`, computed where the bias can be
    /// non-zero (an unseen item's bias is 0). Every play of an item carries `1/n` of its
    /// bias, `n` its plays in the window, so that the plays add up to it; only the counts
    /// need a full-catalogue pass, not the bias and its gradient. At 200 000 items this is
    /// the difference between a handful of passes over `[batch, rows]` and about twenty.
    pub fn add_to(&self, scores: Tensor<2>, items: Tensor<2, Int>) -> Tensor<2> {
        let items = self.window(items);
        let [batch, len] = items.dims();
        let [_, rows] = scores.dims();
        let device = items.device();
        let played: Tensor<2> = items.clone().not_equal_elem(0).float();
        let recency = played.clone() * self.recency(len, &device);
        let per_play = |values: Tensor<2>| {
            Tensor::<2>::zeros([batch, rows], &device)
                .scatter(1, items.clone(), values, IndexingUpdateOp::Add)
                .gather(1, items.clone())
        };
        let counts = per_play(played.clone());
        let recent = per_play(recency);
        // Padding (0) has no plays: its share is 0 and it adds nothing.
        let share = played / counts.clone().clamp_min(1.0);
        let bias = self.combine(counts, recent) * share;
        scores.scatter(1, items, bias, IndexingUpdateOp::Add)
    }

    /// The bias of every id `[batch, rows]` for windows `items` `[batch, len]`.
    pub fn all(&self, items: Tensor<2, Int>, rows: usize) -> Tensor<2> {
        let items = self.window(items);
        let [batch, len] = items.dims();
        let device = items.device();
        let played: Tensor<2> = items.clone().not_equal_elem(0).float();
        let recency = played.clone() * self.recency(len, &device);
        let zeros = || Tensor::<2>::zeros([batch, rows], &device);
        let counts = zeros().scatter(1, items.clone(), played, IndexingUpdateOp::Add);
        let recent = zeros().scatter(1, items, recency, IndexingUpdateOp::Add);
        // Padding scatters nothing (its values are 0), so column 0 stays an unseen item.
        self.combine(counts, recent)
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;

    fn with_weights(w: [f32; 3], half_life: f64, context: usize, device: &Device) -> RepeatScore {
        let mut r = RepeatScore::new(half_life, context, 1.0, device);
        r.weights = Param::from_tensor(Tensor::from_data(TensorData::new(w.to_vec(), [3]), device));
        r
    }

    /// The bias computed by hand for one history, in f64.
    fn by_hand(history: &[u32], item: u32, w: [f64; 3], half_life: f64) -> f64 {
        let len = history.len();
        let mut n = 0.0;
        let mut r = 0.0;
        for (p, &x) in history.iter().enumerate() {
            if x != 0 && x == item {
                n += 1.0;
                r += 0.5f64.powf((len - 1 - p) as f64 / half_life);
            }
        }
        w[0] * (1.0f64 + n).ln() + w[1] * r + w[2] * if n > 0.0 { 1.0 } else { 0.0 }
    }

    #[test]
    fn candidate_and_full_catalogue_biases_match_a_hand_computation() {
        let device = Device::ndarray();
        let w = [0.7, 1.3, -0.4];
        let repeat = with_weights(w.map(|x| x as f32), 2.0, 5, &device);
        let histories: [[u32; 5]; 2] = [[0, 3, 1, 3, 2], [4, 4, 4, 1, 0]];
        let flat: Vec<i64> = histories.iter().flatten().map(|&x| i64::from(x)).collect();
        let items = Tensor::<2, Int>::from_data(TensorData::new(flat, [2, 5]), &device);
        let rows = 6;
        let all: Vec<f32> = repeat
            .all(items.clone(), rows)
            .into_data()
            .to_vec()
            .unwrap();
        let candidates = Tensor::<2, Int>::from_ints([[3, 5, 2, 0], [4, 1, 3, 0]], &device);
        let some: Vec<f32> = repeat
            .candidates(items, candidates)
            .into_data()
            .to_vec()
            .unwrap();
        let w64 = w.map(f64::from);
        for (u, h) in histories.iter().enumerate() {
            for id in 0..rows as u32 {
                let want = by_hand(h, id, w64, 2.0);
                let got = all[u * rows + id as usize] as f64;
                assert!(
                    (got - want).abs() < 1e-5,
                    "user {u} id {id}: {got} vs {want}"
                );
            }
        }
        let chosen = [[3u32, 5, 2, 0], [4, 1, 3, 0]];
        for (u, c) in chosen.iter().enumerate() {
            for (j, &id) in c.iter().enumerate() {
                let want = by_hand(&histories[u], id, w64, 2.0);
                let got = some[u * 4 + j] as f64;
                assert!(
                    (got - want).abs() < 1e-5,
                    "user {u} id {id}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn the_bias_added_at_the_plays_equals_the_full_catalogue_bias() {
        let device = Device::ndarray();
        let repeat = with_weights([0.7, 1.3, -0.4], 3.0, 6, &device);
        let items = Tensor::<2, Int>::from_ints(
            [
                [0, 0, 3, 1, 3, 3, 2],
                [4, 4, 1, 4, 2, 5, 1],
                [0, 0, 0, 0, 0, 0, 6],
            ],
            &device,
        );
        let rows = 8;
        let scores: Vec<f32> = (0..3 * rows).map(|i| (i as f32 * 0.37).sin()).collect();
        let scores = Tensor::<2>::from_data(TensorData::new(scores, [3, rows]), &device);
        let want: Vec<f32> = (scores.clone() + repeat.all(items.clone(), rows))
            .into_data()
            .to_vec()
            .unwrap();
        let got: Vec<f32> = repeat.add_to(scores, items).into_data().to_vec().unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-5, "entry {i}: {g} vs {w}");
        }
    }

    #[test]
    fn a_fresh_term_is_zero() {
        let device = Device::ndarray();
        let repeat = RepeatScore::new(10.0, 3, 10.0, &device);
        let items = Tensor::<2, Int>::from_ints([[1, 2, 2]], &device);
        let bias: Vec<f32> = repeat.all(items, 4).into_data().to_vec().unwrap();
        assert_eq!(bias, vec![0.0; 4]);
    }

    #[test]
    fn only_the_last_context_plays_are_counted() {
        let device = Device::ndarray();
        let w = [0.7, 1.3, -0.4];
        let w64 = w.map(f64::from);
        let repeat = with_weights(w, 2.0, 3, &device);
        let history = [3u32, 3, 1, 3, 2];
        let items = Tensor::<2, Int>::from_data(
            TensorData::new(history.iter().map(|&x| i64::from(x)).collect(), [1, 5]),
            &device,
        );
        let rows = 5;
        let all: Vec<f32> = repeat
            .all(items.clone(), rows)
            .into_data()
            .to_vec()
            .unwrap();
        let candidates = Tensor::<2, Int>::from_ints([[3, 1, 2, 4]], &device);
        let some: Vec<f32> = repeat
            .candidates(items, candidates)
            .into_data()
            .to_vec()
            .unwrap();
        for (j, id) in [3u32, 1, 2, 4].into_iter().enumerate() {
            // Item 3 was played three times, but only once in the last three plays.
            let want = by_hand(&history[2..], id, w64, 2.0);
            assert!((f64::from(all[id as usize]) - want).abs() < 1e-5, "id {id}");
            assert!((f64::from(some[j]) - want).abs() < 1e-5, "id {id}");
        }
        assert!((by_hand(&history, 3, w64, 2.0) - by_hand(&history[2..], 3, w64, 2.0)).abs() > 0.1);
    }
}
