#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! Properties of the attention mask and the positional encoding that must hold for every
//! variant (`forward` applies no dropout).

use burn::tensor::{Device, Int, Tensor};
use seqrec_model::{AttentionMode, GsasRec, GsasRecConfig, PositionEncoding};

fn model(attention: AttentionMode, positions: PositionEncoding) -> GsasRec {
    GsasRecConfig::new(40)
        .with_dim(8)
        .with_heads(2)
        .with_max_len(8)
        .with_attention(attention)
        .with_positions(positions)
        .init(&Device::ndarray())
        .unwrap()
}

fn hidden(model: &GsasRec, items: &[i64]) -> Vec<Vec<f32>> {
    let device = Device::ndarray();
    let input = Tensor::<1, Int>::from_ints(items, &device).reshape([1, items.len()]);
    let out = model.forward(input);
    let [_, len, dim] = out.dims();
    let flat = out.into_data().to_vec::<f32>().unwrap();
    (0..len)
        .map(|i| flat[i * dim..(i + 1) * dim].to_vec())
        .collect()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + x.abs()))
}

const HISTORY: [i64; 6] = [3, 17, 5, 22, 9, 31];

#[test]
fn causal_outputs_before_a_change_are_unchanged() {
    for positions in [
        PositionEncoding::None,
        PositionEncoding::Learned,
        PositionEncoding::Sinusoidal,
    ] {
        let model = model(AttentionMode::Causal, positions);
        let before = hidden(&model, &HISTORY);
        let mut changed = HISTORY;
        changed[3] = 38;
        let after = hidden(&model, &changed);
        for i in 0..3 {
            assert!(
                close(&before[i], &after[i]),
                "{positions:?}: position {i} saw the future"
            );
        }
        for i in 3..6 {
            assert!(
                !close(&before[i], &after[i]),
                "{positions:?}: position {i} ignored item 3"
            );
        }
    }
}

#[test]
fn bidirectional_outputs_before_a_change_do_change() {
    let model = model(AttentionMode::Bidirectional, PositionEncoding::Learned);
    let before = hidden(&model, &HISTORY);
    let mut changed = HISTORY;
    changed[3] = 38;
    let after = hidden(&model, &changed);
    for i in 0..3 {
        assert!(
            !close(&before[i], &after[i]),
            "position {i} did not see a later item"
        );
    }
}

#[test]
fn without_positions_a_bidirectional_model_sees_a_set() {
    let model = model(AttentionMode::Bidirectional, PositionEncoding::None);
    let permutation = [4, 0, 5, 2, 1, 3];
    let permuted: Vec<i64> = permutation.iter().map(|&p| HISTORY[p]).collect();
    let before = hidden(&model, &HISTORY);
    let after = hidden(&model, &permuted);
    for (i, &p) in permutation.iter().enumerate() {
        assert!(
            close(&after[i], &before[p]),
            "output {i} is not the permuted output {p}"
        );
    }
}

#[test]
fn with_positions_permuting_the_history_changes_the_outputs() {
    for positions in [PositionEncoding::Learned, PositionEncoding::Sinusoidal] {
        let model = model(AttentionMode::Bidirectional, positions);
        let permutation = [4, 0, 5, 2, 1, 3];
        let permuted: Vec<i64> = permutation.iter().map(|&p| HISTORY[p]).collect();
        let before = hidden(&model, &HISTORY);
        let after = hidden(&model, &permuted);
        let all_match = permutation
            .iter()
            .enumerate()
            .all(|(i, &p)| close(&after[i], &before[p]));
        assert!(!all_match, "{positions:?}: the model ignored the order");
    }
}

#[test]
fn left_padding_changes_no_item_output() {
    for attention in [AttentionMode::Causal, AttentionMode::Bidirectional] {
        for positions in [
            PositionEncoding::None,
            PositionEncoding::Learned,
            PositionEncoding::Sinusoidal,
        ] {
            let model = model(attention, positions);
            let plain = hidden(&model, &HISTORY);
            let padded_input: Vec<i64> = [0, 0].into_iter().chain(HISTORY).collect();
            let padded = hidden(&model, &padded_input);
            for i in 0..HISTORY.len() {
                assert!(
                    close(&plain[i], &padded[i + 2]),
                    "{attention:?}/{positions:?}: padding changed output {i}"
                );
            }
        }
    }
}

#[test]
fn histories_longer_than_max_len_keep_their_last_items() {
    let model = model(AttentionMode::Causal, PositionEncoding::Learned);
    let long: Vec<i64> = (1..=12).collect();
    let out = hidden(&model, &long);
    assert_eq!(out.len(), 8);
    let tail = hidden(&model, &long[4..]);
    for i in 0..8 {
        assert!(close(&out[i], &tail[i]));
    }
}

#[test]
fn padding_and_mask_token_are_never_scored() {
    let device = Device::ndarray();
    let model = model(AttentionMode::Bidirectional, PositionEncoding::Learned);
    let input = Tensor::<2, Int>::from_ints([[0, 0, 4, 5], [1, 2, 3, 4]], &device);
    let scores = model.score_all(model.user_representation(input));
    assert_eq!(scores.dims(), [2, 42]);
    let values = scores.into_data().to_vec::<f32>().unwrap();
    for row in values.chunks(42) {
        assert_eq!(row[0], f32::NEG_INFINITY);
        assert_eq!(row[41], f32::NEG_INFINITY);
        assert!(row[1..41].iter().all(|s| s.is_finite()));
    }
}

#[test]
fn the_scoring_paths_agree() {
    let device = Device::ndarray();
    let model = model(AttentionMode::Causal, PositionEncoding::Learned);
    let input = Tensor::<2, Int>::from_ints([[0, 3, 4, 5], [1, 2, 3, 4]], &device);
    let hidden = model.forward(input);
    let shared = Tensor::<1, Int>::from_ints([7, 8, 9], &device);
    let per_sequence = Tensor::<2, Int>::from_ints([[7, 8, 9], [7, 8, 9]], &device);
    let per_position = per_sequence.clone().reshape([2, 1, 3]).expand([2, 4, 3]);
    let a = model
        .score_shared(hidden.clone(), shared)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let b = model
        .score_per_sequence(hidden.clone(), per_sequence)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let c = model
        .score_per_position(hidden.clone(), per_position)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert!(close(&a, &b) && close(&a, &c));
    // score_all agrees with the candidate scores at the last position.
    let users = GsasRec::last_state(hidden);
    let all = model
        .score_all(users.clone())
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let cand = model
        .score_candidates(
            users,
            Tensor::<2, Int>::from_ints([[7, 9], [8, 1]], &device),
        )
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert!(close(&cand, &[all[7], all[9], all[42 + 8], all[42 + 1]]));
}

#[test]
fn invalid_configs_are_rejected() {
    let device = Device::ndarray();
    assert!(GsasRecConfig::new(0).init(&device).is_err());
    assert!(
        GsasRecConfig::new(10)
            .with_dim(10)
            .with_heads(3)
            .init(&device)
            .is_err()
    );
    assert!(
        GsasRecConfig::new(10)
            .with_dropout(1.0)
            .init(&device)
            .is_err()
    );
    assert!(
        GsasRecConfig::new(10)
            .with_dim(7)
            .with_heads(1)
            .with_positions(PositionEncoding::Sinusoidal)
            .init(&device)
            .is_err()
    );
}
