#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! The forward pass against an independent f64 implementation of the gSASRec reference
//! block (written here from the reference code's description, with plain loops), reading the
//! model's own weights. Any deviation in the block structure (which input feeds the queries,
//! what the residual adds, head splitting, masking, position rows) fails this test.

use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Device, Int, Tensor};
use seqrec_model::{AttentionMode, GsasRec, GsasRecConfig, PositionEncoding};

type Mat = Vec<Vec<f64>>;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn linear(layer: &Linear, x: &Mat) -> Mat {
    let w = values(layer.weight.val()); // [in, out]
    let b = values(layer.bias.as_ref().unwrap().val());
    let (d_in, d_out) = (x[0].len(), b.len());
    x.iter()
        .map(|row| {
            (0..d_out)
                .map(|o| b[o] + (0..d_in).map(|i| row[i] * w[i * d_out + o]).sum::<f64>())
                .collect()
        })
        .collect()
}

fn layer_norm(norm: &LayerNorm, x: &Mat) -> Mat {
    let g = values(norm.gamma.val());
    let b = values(norm.beta.as_ref().unwrap().val());
    x.iter()
        .map(|row| {
            let n = row.len() as f64;
            let mean = row.iter().sum::<f64>() / n;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            row.iter()
                .enumerate()
                .map(|(j, v)| (v - mean) / (var + 1e-5).sqrt() * g[j] + b[j])
                .collect()
        })
        .collect()
}

/// One history (no batch), padded with 0 on the left, as the reference would see it.
fn reference_forward(model: &GsasRec, items: &[usize], causal: bool, heads: usize) -> Mat {
    let dim = model.dim();
    let len = items.len();
    let emb = values(model.item_embedding.weight.val());
    let pos = model
        .position_embedding
        .as_ref()
        .map(|p| values(p.weight.val()));
    let pad: Vec<bool> = items.iter().map(|&i| i == 0).collect();
    let mut seq: Mat = (0..len)
        .map(|t| {
            (0..dim)
                .map(|j| {
                    if pad[t] {
                        return 0.0;
                    }
                    let p = pos
                        .as_ref()
                        .map_or(0.0, |p| p[(model.max_len - len + t) * dim + j]);
                    emb[items[t] * dim + j] + p
                })
                .collect()
        })
        .collect();
    let hd = dim / heads;
    for block in &model.blocks {
        let x = layer_norm(&block.first_norm, &seq);
        let q = linear(&block.attention.query, &x);
        let k = linear(&block.attention.key, &seq);
        let v = linear(&block.attention.value, &seq);
        let mut att = vec![vec![0.0; dim]; len];
        for h in 0..heads {
            for i in 0..len {
                let logits: Vec<Option<f64>> = (0..len)
                    .map(|j| {
                        let visible = !pad[j] && (!causal || j <= i);
                        visible.then(|| {
                            (0..hd)
                                .map(|c| q[i][h * hd + c] * k[j][h * hd + c])
                                .sum::<f64>()
                                / (hd as f64).sqrt()
                        })
                    })
                    .collect();
                let max = logits
                    .iter()
                    .flatten()
                    .cloned()
                    .fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = logits.iter().flatten().map(|l| (l - max).exp()).sum();
                for (j, l) in logits.iter().enumerate() {
                    if let Some(l) = l {
                        let w = (l - max).exp() / z;
                        for c in 0..hd {
                            att[i][h * hd + c] += w * v[j][h * hd + c];
                        }
                    }
                }
            }
        }
        let residual: Mat = att
            .iter()
            .zip(&x)
            .map(|(a, q)| a.iter().zip(q).map(|(a, q)| a + q).collect())
            .collect();
        let y = layer_norm(&block.second_norm, &residual);
        let hidden: Mat = linear(&block.dense1, &y)
            .into_iter()
            .map(|r| r.into_iter().map(|v| v.max(0.0)).collect())
            .collect();
        let out = linear(&block.dense2, &hidden);
        seq = out
            .iter()
            .zip(&y)
            .enumerate()
            .map(|(t, (o, y))| {
                o.iter()
                    .zip(y)
                    .map(|(o, y)| if pad[t] { 0.0 } else { o + y })
                    .collect()
            })
            .collect();
    }
    layer_norm(&model.final_norm, &seq)
}

#[test]
fn forward_matches_an_independent_reference_computation() {
    let device = Device::ndarray();
    for (attention, causal) in [
        (AttentionMode::Causal, true),
        (AttentionMode::Bidirectional, false),
    ] {
        let config = GsasRecConfig::new(30)
            .with_dim(8)
            .with_heads(2)
            .with_blocks(2)
            .with_max_len(7)
            .with_attention(attention)
            .with_positions(PositionEncoding::Learned);
        let model = config.init(&device).unwrap();
        let items = [0usize, 0, 4, 29, 13, 4];
        let input = Tensor::<1, Int>::from_ints(items.map(|i| i as i64), &device).reshape([1, 6]);
        let got = values(model.forward(input));
        let want = reference_forward(&model, &items, causal, 2);
        for t in 2..items.len() {
            for j in 0..8 {
                let (g, w) = (got[t * 8 + j], want[t][j]);
                assert!(
                    (g - w).abs() < 1e-4,
                    "{attention:?} position {t} feature {j}: {g} vs {w}"
                );
            }
        }
        // Scores are dot products with the output table at the last position.
        let out_table = values(model.output_table());
        let user = &want[5];
        let scores = values(model.score_all(GsasRec::last_state(model.forward(
            Tensor::<1, Int>::from_ints(items.map(|i| i as i64), &device).reshape([1, 6]),
        ))));
        for item in 1..=30 {
            let s: f64 = (0..8).map(|j| user[j] * out_table[item * 8 + j]).sum();
            assert!((scores[item] - s).abs() < 1e-4, "score of item {item}");
        }
    }
}
