//! Approximate serving: with an index that searches exhaustively, an `AnnRanker` ranks
//! exactly as the exact ranker does, repeat term, exclusions and reserved ids included.
#![allow(deprecated)] // `Device::ndarray` is the test backend.

use burn::module::Param;
use burn::tensor::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqrec_ann::{AnnConfig, AnnIndex, Opened};
use seqrec_data::ItemVocabulary;
use seqrec_model::{GsasRec, GsasRecConfig};
use seqrec_serve::ann::{output_table, reserved_rows};
use seqrec_serve::{AnnOptions, AnnRanker, Ranker, ServeError, open_model_dir_with_ann};
use seqrec_train::{GsasRecManifest, Recommender, save_model_dir};

const ITEMS: usize = 60;

/// A gSASRec over 60 items with a repeat term whose weights are `repeat` (the model's own
/// start at zero), with spread-out embeddings so that no two scores are close.
fn gsasrec(repeat: Option<[f32; 3]>, device: &Device) -> (GsasRec, GsasRecManifest) {
    device.seed(17);
    let mut config = GsasRecConfig::new(ITEMS).with_dim(8).with_max_len(5);
    config.init_std = Some(0.5);
    if repeat.is_some() {
        config.repeat_half_life = Some(2.0);
        config.repeat_context = Some(8);
    }
    let mut model = config.init(device).unwrap();
    if let (Some(weights), Some(term)) = (repeat, model.repeat.as_mut()) {
        term.weights = Param::from_tensor(Tensor::from_floats(weights, device));
    }
    let manifest = GsasRecManifest {
        model: config,
        training: None,
    };
    (model, manifest)
}

fn recommender(model: &GsasRec, manifest: &GsasRecManifest, device: &Device) -> Recommender {
    Recommender::new(
        model.clone(),
        manifest.clone(),
        ItemVocabulary::identity(ITEMS as u32),
        device,
    )
}

/// Histories of 1 to 12 plays (longer than the attention window and the repeat context),
/// with repeats.
fn histories(n: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.random_range(1..=12);
            let favourites: Vec<u32> = (0..3).map(|_| rng.random_range(1..=ITEMS as u32)).collect();
            (0..len)
                .map(|_| {
                    if rng.random_bool(0.5) {
                        favourites[rng.random_range(0..3)]
                    } else {
                        rng.random_range(1..=ITEMS as u32)
                    }
                })
                .collect()
        })
        .collect()
}

fn assert_same(exact: &[Vec<(u32, f32)>], approximate: &[Vec<(u32, f32)>], what: &str) {
    assert_eq!(exact.len(), approximate.len(), "{what}");
    for (u, (e, a)) in exact.iter().zip(approximate).enumerate() {
        let ids = |l: &[(u32, f32)]| l.iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(ids(a), ids(e), "{what}, history {u}");
        for (x, y) in e.iter().zip(a) {
            assert!(
                (x.1 - y.1).abs() < 1e-4,
                "{what}, history {u}: {x:?} vs {y:?}"
            );
        }
    }
}

#[test]
fn an_exhaustive_index_ranks_exactly_with_and_without_the_repeat_term() {
    let device = Device::ndarray();
    // No repeat term; one that favours the history; one that pushes it down hard (so that
    // history items the index returns first fall out of the top k and others take their
    // place).
    for repeat in [None, Some([0.05, 0.1, 0.1]), Some([-0.1, -0.3, -0.2])] {
        let (model, manifest) = gsasrec(repeat, &device);
        let exact = recommender(&model, &manifest, &device);
        let table = output_table(&model).unwrap();
        let config = AnnConfig::exhaustive(ITEMS + 2);
        let index = AnnIndex::build(&table, model.dim(), &reserved_rows(&model), &config).unwrap();
        // The fewest candidates: k of them, plus the history.
        let ann =
            AnnRanker::new(recommender(&model, &manifest, &device), index, 1, &device).unwrap();
        assert_eq!(ann.max_len(), Ranker::max_len(&exact));
        let histories = histories(40, 5);
        for exclude in [false, true] {
            let exclusions: Vec<Vec<u32>> = histories
                .iter()
                .enumerate()
                .map(|(u, h)| {
                    if exclude && u % 3 != 0 {
                        h.clone()
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            for k in [1, 3, 10, ITEMS + 5] {
                let want = exact.rank(&histories, &exclusions, k).unwrap();
                let got = ann.rank(&histories, &exclusions, k).unwrap();
                let what = format!("repeat {repeat:?}, exclude {exclude}, k {k}");
                assert_same(&want, &got, &what);
                if k > ITEMS {
                    // Every item but the excluded ones, as exact ranking returns.
                    for (list, excluded) in got.iter().zip(&exclusions) {
                        let mut excluded = excluded.clone();
                        excluded.sort_unstable();
                        excluded.dedup();
                        assert_eq!(list.len(), ITEMS - excluded.len(), "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn bad_histories_are_refused_as_exact_ranking_refuses_them() {
    let device = Device::ndarray();
    let (model, manifest) = gsasrec(None, &device);
    let table = output_table(&model).unwrap();
    let index = AnnIndex::build(
        &table,
        model.dim(),
        &reserved_rows(&model),
        &AnnConfig::default(),
    )
    .unwrap();
    let ann = AnnRanker::new(recommender(&model, &manifest, &device), index, 4, &device).unwrap();
    assert!(ann.rank(&[vec![]], &[vec![]], 5).is_err());
    assert!(ann.rank(&[vec![ITEMS as u32 + 1]], &[vec![]], 5).is_err());
    assert!(ann.rank(&[vec![3]], &[], 5).is_err());
    assert_eq!(ann.rank(&[vec![3]], &[vec![]], 0).unwrap(), vec![vec![]]);

    // An index of another model's table is refused.
    let mut shifted = output_table(&model).unwrap();
    shifted[20] += 1.0;
    let stale =
        AnnIndex::build(&shifted, 8, &reserved_rows(&model), &AnnConfig::default()).unwrap();
    let refused = AnnRanker::new(recommender(&model, &manifest, &device), stale, 4, &device);
    assert!(matches!(refused, Err(ServeError::Config(_))));
}

#[test]
fn a_model_directory_gets_its_index_built_once_then_loaded() {
    let device = Device::ndarray();
    let (model, manifest) = gsasrec(Some([0.05, 0.1, 0.1]), &device);
    let dir = tempfile::tempdir().unwrap();
    save_model_dir(
        dir.path(),
        &model,
        &manifest,
        &ItemVocabulary::identity(ITEMS as u32),
    )
    .unwrap();
    let options = AnnOptions {
        index: AnnConfig::exhaustive(ITEMS + 2),
        ..AnnOptions::default()
    };
    let (first, opened) = AnnRanker::open(dir.path(), &device, &options, &|_| {}).unwrap();
    assert!(matches!(opened, Opened::Built), "{opened:?}");
    assert!(
        dir.path()
            .join("ann")
            .join(seqrec_ann::MANIFEST_FILE)
            .exists()
    );
    let (ranker, opened) =
        open_model_dir_with_ann(dir.path(), &device, Some(&options), &|_| {}).unwrap();
    assert!(matches!(opened, Some(Opened::Loaded)), "{opened:?}");
    let (exact, opened) = open_model_dir_with_ann(dir.path(), &device, None, &|_| {}).unwrap();
    assert!(opened.is_none());
    let histories = histories(10, 9);
    let none = vec![Vec::new(); histories.len()];
    let want = exact.rank(&histories, &none, 10).unwrap();
    assert_same(
        &want,
        &ranker.rank(&histories, &none, 10).unwrap(),
        "loaded",
    );
    assert_same(&want, &first.rank(&histories, &none, 10).unwrap(), "built");

    let zero = AnnOptions {
        oversample: 0,
        ..AnnOptions::default()
    };
    let refused = AnnRanker::open(dir.path(), &device, &zero, &|_| {});
    assert!(matches!(refused, Err(ServeError::Config(_))));
    let options: AnnOptions =
        serde_json::from_str(r#"{"oversample": 8, "index": {"expansion_search": 200}}"#).unwrap();
    assert_eq!(options.oversample, 8);
    assert_eq!(options.index.expansion_search, 200);
    assert!(serde_json::from_str::<AnnOptions>(r#"{"oversampling": 8}"#).is_err());
}
