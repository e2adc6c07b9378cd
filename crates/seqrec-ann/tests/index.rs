//! The index against brute force on tiny tables, saving and loading, and refused input.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqrec_ann::{
    AnnConfig, AnnError, AnnIndex, AnnMetric, AnnScalar, MANIFEST_FILE, Neighbor, Opened,
    exact_top_k, recall,
};

/// A random table `[rows, dim]` whose rows have norms between 0.2 and 2 (not normalised, as
/// output embeddings are not).
fn table(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(rows * dim);
    for _ in 0..rows {
        let scale: f32 = rng.random_range(0.2..2.0);
        values.extend((0..dim).map(|_| rng.random_range(-1.0f32..1.0) * scale));
    }
    values
}

fn ids(list: &[Neighbor]) -> Vec<u32> {
    list.iter().map(|n| n.id).collect()
}

#[test]
fn exhaustive_settings_find_the_exact_top_k_for_both_metrics() {
    let (rows, dim, k) = (300, 8, 10);
    let items = table(rows, dim, 1);
    let queries = table(40, dim, 2);
    // Row 0 and the last row are reserved (gSASRec's padding and mask ids).
    let skip = [0, rows - 1];
    let exact = exact_top_k(&items, dim, &skip, &queries, k, 2).unwrap();
    for metric in [AnnMetric::Augmented, AnnMetric::InnerProduct] {
        let config = AnnConfig {
            metric,
            threads: 2,
            ..AnnConfig::exhaustive(rows)
        };
        let index = AnnIndex::build(&items, dim, &skip, &config).unwrap();
        assert_eq!(index.len(), rows - 2);
        let found = index.search_batch(&queries, k).unwrap();
        assert_eq!(found.len(), exact.len());
        for (q, (got, want)) in found.iter().zip(&exact).enumerate() {
            assert_eq!(ids(got), ids(want), "{metric:?}, query {q}");
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g.score - w.score).abs() < 1e-3,
                    "{metric:?}: {g:?} vs {w:?}"
                );
            }
            assert!(got.iter().all(|n| n.id != 0 && n.id as usize != rows - 1));
        }
    }
}

#[test]
fn default_settings_recall_well_and_fewer_candidates_recall_less() {
    let (rows, dim, k) = (5_000, 16, 10);
    let items = table(rows, dim, 3);
    let queries = table(50, dim, 4);
    let exact = exact_top_k(&items, dim, &[0], &queries, k, 2).unwrap();
    let mut index = AnnIndex::build(&items, dim, &[0], &AnnConfig::default()).unwrap();
    let mean_recall = |index: &AnnIndex| {
        let found = index.search_batch(&queries, k).unwrap();
        found
            .iter()
            .zip(&exact)
            .map(|(f, e)| recall(f, e))
            .sum::<f64>()
            / exact.len() as f64
    };
    let good = mean_recall(&index);
    assert!(good >= 0.9, "recall@10 {good}");
    index.set_expansion_search(1);
    assert_eq!(index.expansion_search(), 1);
    // With a candidate list of `k` the search is greedier: never better.
    let greedy = mean_recall(&index);
    assert!(greedy <= good, "{greedy} > {good}");
}

#[test]
fn a_saved_index_loads_and_searches_the_same_and_is_rebuilt_for_other_weights() {
    let (rows, dim, k) = (400, 6, 5);
    let items = table(rows, dim, 5);
    let queries = table(10, dim, 6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ann");
    let config = AnnConfig {
        scalar: AnnScalar::F16,
        ..AnnConfig::exhaustive(rows)
    };
    let (built, opened) =
        AnnIndex::open_or_build(&path, &items, dim, &[0], &config, &|_| {}).unwrap();
    assert!(matches!(opened, Opened::Built), "{opened:?}");
    assert!(path.join(MANIFEST_FILE).exists());
    let before = built.search_batch(&queries, k).unwrap();
    let (loaded, opened) =
        AnnIndex::open_or_build(&path, &items, dim, &[0], &config, &|_| {}).unwrap();
    assert!(matches!(opened, Opened::Loaded), "{opened:?}");
    assert_eq!(loaded.search_batch(&queries, k).unwrap(), before);
    assert_eq!(loaded.manifest(), built.manifest());
    let viewed = AnnIndex::view(&path, &config).unwrap();
    assert_eq!(viewed.search_batch(&queries, k).unwrap(), before);
    loaded.check_table(&items, dim, &[0]).unwrap();

    // Other weights: the saved index is stale and is built again.
    let mut other = items.clone();
    other[dim * 7] += 0.5;
    let stale = loaded.check_table(&other, dim, &[0]).unwrap_err();
    assert!(matches!(stale, AnnError::Stale { .. }), "{stale}");
    assert!(stale.to_string().contains("other values"), "{stale}");
    let (_, opened) = AnnIndex::open_or_build(&path, &other, dim, &[0], &config, &|_| {}).unwrap();
    assert!(matches!(opened, Opened::Built), "{opened:?}");
    // Other graph settings too.
    let denser = AnnConfig {
        connectivity: config.connectivity + 2,
        ..config.clone()
    };
    let (_, opened) = AnnIndex::open_or_build(&path, &other, dim, &[0], &denser, &|_| {}).unwrap();
    assert!(matches!(opened, Opened::Built), "{opened:?}");
    // A directory without a manifest holds nothing to load.
    std::fs::remove_file(path.join(MANIFEST_FILE)).unwrap();
    assert!(matches!(
        AnnIndex::load(&path, &config).unwrap_err(),
        AnnError::Io { .. }
    ));
}

#[test]
fn progress_counts_every_indexed_row() {
    let items = table(3_000, 4, 7);
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let config = AnnConfig {
        threads: 2,
        ..AnnConfig::default()
    };
    AnnIndex::build_with_progress(&items, 4, &[0, 1, 2], &config, &|done| {
        seen.fetch_max(done, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(seen.into_inner(), 2_997);
}

#[test]
fn bad_tables_settings_and_queries_are_refused() {
    let items = table(10, 4, 8);
    let config = AnnConfig::default();
    let invalid = |r: Result<AnnIndex, AnnError>| {
        let error = r.unwrap_err();
        assert!(matches!(error, AnnError::Invalid(_)), "{error}");
        error.to_string()
    };
    assert!(invalid(AnnIndex::build(&items[..39], 4, &[], &config)).contains("whole number"));
    assert!(invalid(AnnIndex::build(&items, 0, &[], &config)).contains("dimension"));
    let skip_all: Vec<usize> = (0..10).collect();
    assert!(invalid(AnnIndex::build(&items, 4, &skip_all, &config)).contains("no row"));
    let mut nan = items.clone();
    nan[13] = f32::NAN;
    assert!(invalid(AnnIndex::build(&nan, 4, &[], &config)).contains("row 3"));
    let flat = AnnConfig {
        connectivity: 1,
        ..config.clone()
    };
    assert!(invalid(AnnIndex::build(&items, 4, &[], &flat)).contains("connectivity"));
    let index = AnnIndex::build(&items, 4, &[], &config).unwrap();
    assert!(index.search(&[1.0, 2.0], 3).is_err());
    assert!(index.search_batch(&[1.0; 6], 3).is_err());
    assert!(index.search_batch_counts(&[1.0; 8], &[3]).is_err());
    assert!(index.search(&[1.0; 4], 0).unwrap().is_empty());
    // Asking for more than the index holds returns all of it.
    assert_eq!(index.search(&[1.0; 4], 50).unwrap().len(), 10);
}

#[test]
fn the_config_reads_from_json_with_defaults_and_refuses_unknown_keys() {
    let config: AnnConfig =
        serde_json::from_str(r#"{"expansion_search": 200, "metric": "inner_product"}"#).unwrap();
    assert_eq!(config.expansion_search, 200);
    assert_eq!(config.metric, AnnMetric::InnerProduct);
    assert_eq!(config.connectivity, AnnConfig::default().connectivity);
    assert!(serde_json::from_str::<AnnConfig>(r#"{"ef": 2}"#).is_err());
}
