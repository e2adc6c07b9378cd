#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! Parity with the PyTorch reference gSASRec (<https://github.com/asash/gSASRec-pytorch>):
//! checkpoints written by it (`tests/fixtures/gsasrec_tiny/`, made by
//! `scripts/make_gsasrec_fixture.py`) score every item as the reference did, rank the same
//! top-k, fail with errors that name the tensor at fault, and survive the SafeTensors export.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::{AttentionMode, GsasRec, GsasRecConfig, OutputEmbeddings, PositionEncoding};
use seqrec_train::{
    GsasRecManifest, ImportError, Recommender, TrainError, export_gsasrec_safetensors,
    import_gsasrec_checkpoint, import_gsasrec_model_dir, load_gsasrec_safetensors,
};
use serde::Deserialize;

/// Largest accepted difference between our score and the reference's.
const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Expected {
    models: std::collections::BTreeMap<String, ModelCases>,
}

#[derive(Deserialize)]
struct ModelCases {
    num_items: usize,
    max_len: usize,
    dim: usize,
    blocks: usize,
    heads: usize,
    shared_output: bool,
    k: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    history: Vec<u32>,
    /// `scores[i]` is the reference's score of item `i + 1`.
    scores: Vec<f32>,
    top_k: Vec<u32>,
    top_k_excluding_history: Vec<u32>,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gsasrec_tiny")
        .join(name)
}

fn expected(model: &str) -> ModelCases {
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    let mut all: Expected = serde_json::from_str(&text).unwrap();
    all.models.remove(model).unwrap()
}

fn recommender(model: GsasRec, config: &GsasRecConfig, device: &Device) -> Recommender {
    let manifest = GsasRecManifest {
        model: config.clone(),
        training: None,
    };
    let items = ItemVocabulary::identity(config.num_items as u32);
    Recommender::new(model, manifest, items, device)
}

/// Our scores of items `1..=num_items` for one history of reference ids.
fn scores(recommender: &Recommender, history: &[u32]) -> Vec<f32> {
    let model = recommender.model();
    let users = recommender
        .user_representation(&[history.to_vec()])
        .unwrap();
    let all = model
        .score_all(users)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    all[1..=model.num_items].to_vec()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Compares every score and both top-k lists of every case; returns the largest score error.
fn assert_parity(recommender: &Recommender, expected: &ModelCases) -> f32 {
    let mut worst = 0f32;
    for case in &expected.cases {
        let ours = scores(recommender, &case.history);
        let error = max_difference(&ours, &case.scores);
        assert!(
            error <= TOLERANCE,
            "history {:?}: scores differ by up to {error}",
            case.history
        );
        worst = worst.max(error);
        for (exclude, reference) in [(false, &case.top_k), (true, &case.top_k_excluding_history)] {
            let top: Vec<u32> = recommender
                .recommend_ids(std::slice::from_ref(&case.history), expected.k, exclude)
                .unwrap()
                .remove(0)
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            assert_eq!(
                &top, reference,
                "history {:?}, exclude_history {exclude}",
                case.history
            );
        }
    }
    worst
}

#[test]
fn checkpoint_scores_every_item_like_the_reference() {
    let device = Device::ndarray();
    let expected = expected("gsasrec_tiny.pt");
    let (model, config) =
        import_gsasrec_checkpoint(fixture("gsasrec_tiny.pt"), expected.heads, true, &device)
            .unwrap();
    assert_eq!(
        (
            config.num_items,
            config.max_len,
            config.dim,
            config.blocks,
            config.heads
        ),
        (
            expected.num_items,
            expected.max_len,
            expected.dim,
            expected.blocks,
            expected.heads
        ),
        "architecture inferred from the tensor shapes"
    );
    assert!(!expected.shared_output);
    assert_eq!(config.output_embeddings, OutputEmbeddings::Separate);
    assert_eq!(config.attention, AttentionMode::Causal);
    assert_eq!(config.positions, PositionEncoding::Learned);
    let error = assert_parity(&recommender(model, &config, &device), &expected);
    eprintln!("gsasrec_tiny.pt: largest score difference {error:e}");
}

#[test]
fn shared_output_embeddings_score_like_the_reference() {
    let device = Device::ndarray();
    let expected = expected("gsasrec_shared.pt");
    let (model, config) =
        import_gsasrec_checkpoint(fixture("gsasrec_shared.pt"), expected.heads, true, &device)
            .unwrap();
    assert!(expected.shared_output);
    assert_eq!(config.output_embeddings, OutputEmbeddings::Shared);
    assert!(model.output_embedding.is_none());
    let error = assert_parity(&recommender(model, &config, &device), &expected);
    eprintln!("gsasrec_shared.pt: largest score difference {error:e}");
}

#[test]
fn a_torch_zip_trailer_that_trips_the_zip_reader_still_imports() {
    // The shared model's state_dict saved under a 21-character file stem: the `zip` crate alone
    // fails on it with "Invalid Central Directory header" (see src/interop/torch_zip.rs).
    let device = Device::ndarray();
    let expected = expected("gsasrec_shared.pt");
    let (model, config) = import_gsasrec_checkpoint(
        fixture("gsasrec_zip64_trailer.pt"),
        expected.heads,
        true,
        &device,
    )
    .unwrap();
    assert_parity(&recommender(model, &config, &device), &expected);
    let prefix = format!("seqrec-import-{}-", std::process::id());
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(
        leftovers.is_empty(),
        "the patched copy is deleted: {leftovers:?}"
    );
}

#[test]
fn broken_checkpoints_are_typed_errors_naming_the_tensor() {
    let device = Device::ndarray();
    let import = |name: &str, heads: usize| {
        import_gsasrec_checkpoint(fixture(name), heads, true, &device)
            .err()
            .unwrap_or_else(|| panic!("{name} imported"))
    };

    let error = import("missing_tensor.pt", 1);
    assert!(
        matches!(&error, ImportError::MissingTensor { name, .. } if name == "transformer_blocks.0.dense2.bias"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("`transformer_blocks.0.dense2.bias`")
    );
    assert!(error.to_string().contains("missing_tensor.pt"));

    let error = import("misshaped_tensor.pt", 1);
    match &error {
        ImportError::Shape {
            name,
            expected,
            found,
            ..
        } => {
            assert_eq!(
                name,
                "transformer_blocks.0.multihead_attention.key_proj.weight"
            );
            assert_eq!(found, &[8, 4]);
            assert_eq!(expected, "[8, 8]");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("key_proj.weight"), "{error}");

    let error = import("unexpected_tensor.pt", 1);
    assert!(
        matches!(&error, ImportError::UnexpectedTensor { name, shape, .. } if name == "extra_head.weight" && shape == &[3]),
        "{error:?}"
    );

    // 3 heads cannot split 8 features.
    let error = import("gsasrec_shared.pt", 3);
    assert!(matches!(error, ImportError::Model { .. }), "{error:?}");
    assert!(
        error.to_string().contains("heads (3) must divide dim (8)"),
        "{error}"
    );

    let error = import("no_such_file.pt", 1);
    assert!(matches!(error, ImportError::Read { .. }), "{error:?}");
    let error = import("expected.json", 1);
    assert!(matches!(error, ImportError::Read { .. }), "{error:?}");
}

#[test]
fn safetensors_export_loads_back_with_the_same_scores() {
    let device = Device::ndarray();
    let dir = tempfile::tempdir().unwrap();
    let expected = expected("gsasrec_tiny.pt");
    let (model, config) =
        import_gsasrec_checkpoint(fixture("gsasrec_tiny.pt"), expected.heads, true, &device)
            .unwrap();
    let path = dir.path().join("tiny.safetensors");
    export_gsasrec_safetensors(&model, &config, &path).unwrap();

    let (loaded, loaded_config) = load_gsasrec_safetensors(&path, &device).unwrap();
    assert_eq!(loaded_config.heads, config.heads);
    assert_eq!(loaded_config.attention, config.attention);
    assert_eq!(loaded_config.num_items, config.num_items);
    let before = recommender(model, &config, &device);
    let after = recommender(loaded, &loaded_config, &device);
    for case in &expected.cases {
        assert_eq!(
            scores(&before, &case.history),
            scores(&after, &case.history),
            "identical weights give identical scores"
        );
    }
    assert_parity(&after, &expected);

    // The exported file is a reference state_dict: the importer reads it like a checkpoint.
    let (again, _) = import_gsasrec_checkpoint(&path, expected.heads, true, &device).unwrap();
    assert_parity(&recommender(again, &config, &device), &expected);
}

#[test]
fn models_without_learned_positions_export_equivalent_tables() {
    let device = Device::ndarray();
    let dir = tempfile::tempdir().unwrap();
    for (i, (positions, output, attention)) in [
        (
            PositionEncoding::Sinusoidal,
            OutputEmbeddings::Shared,
            AttentionMode::Bidirectional,
        ),
        (
            PositionEncoding::None,
            OutputEmbeddings::Separate,
            AttentionMode::Causal,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let config = GsasRecConfig::new(20)
            .with_dim(8)
            .with_max_len(6)
            .with_heads(2)
            .with_dropout(0.0)
            .with_positions(positions)
            .with_output_embeddings(output)
            .with_attention(attention);
        let model = config.init(&device).unwrap();
        let path = dir.path().join(format!("{i}.safetensors"));
        export_gsasrec_safetensors(&model, &config, &path).unwrap();
        let (loaded, loaded_config) = load_gsasrec_safetensors(&path, &device).unwrap();
        assert_eq!(loaded_config.positions, PositionEncoding::Learned);
        assert_eq!(loaded_config.output_embeddings, output);
        assert_eq!(loaded_config.attention, attention);
        let (a, b) = (
            recommender(model, &config, &device),
            recommender(loaded, &loaded_config, &device),
        );
        for history in [vec![3], vec![1, 2, 3, 4, 5, 6, 7, 20]] {
            let error = max_difference(&scores(&a, &history), &scores(&b, &history));
            assert!(error < 1e-5, "{positions:?}: {error}");
        }
    }
}

#[test]
fn a_state_dict_without_export_metadata_asks_for_the_settings() {
    let device = Device::ndarray();
    let dir = tempfile::tempdir().unwrap();
    let (model, config) =
        import_gsasrec_checkpoint(fixture("gsasrec_shared.pt"), 1, true, &device).unwrap();
    let exported = dir.path().join("with.safetensors");
    export_gsasrec_safetensors(&model, &config, &exported).unwrap();
    // Rewrite the tensors without metadata, as `safetensors.torch.save_file` would.
    let bytes = std::fs::read(&exported).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let bare = dir.path().join("bare.safetensors");
    safetensors::serialize_to_file(file.tensors(), None, &bare).unwrap();

    let error = load_gsasrec_safetensors(&bare, &device).err().unwrap();
    assert!(
        matches!(&error, ImportError::Metadata { key, .. } if key == "format"),
        "{error:?}"
    );
    let (_, settings) = import_gsasrec_checkpoint(&bare, 1, true, &device).unwrap();
    assert_eq!(settings.num_items, 10);
}

#[test]
fn model_directory_serves_the_reference_ids() {
    let device = Device::ndarray();
    let dir = tempfile::tempdir().unwrap();
    let expected = expected("gsasrec_tiny.pt");
    let config = import_gsasrec_model_dir(
        fixture("gsasrec_tiny.pt"),
        expected.heads,
        true,
        dir.path(),
        &device,
    )
    .unwrap();
    assert_eq!(config.num_items, expected.num_items);
    let served = Recommender::load(dir.path(), &device).unwrap();
    assert!(served.manifest().training.is_none());
    for case in &expected.cases {
        let history: Vec<String> = case.history.iter().map(u32::to_string).collect();
        let items: Vec<String> = served
            .recommend(&history, expected.k, true)
            .unwrap()
            .into_iter()
            .map(|r| r.item)
            .collect();
        let reference: Vec<String> = case
            .top_k_excluding_history
            .iter()
            .map(u32::to_string)
            .collect();
        assert_eq!(items, reference, "history {:?}", case.history);
    }

    let error = import_gsasrec_model_dir(
        fixture("missing_tensor.pt"),
        1,
        true,
        dir.path().join("broken"),
        &device,
    )
    .err()
    .unwrap();
    assert!(
        matches!(&error, TrainError::Import(e) if matches!(**e, ImportError::MissingTensor { .. })),
        "{error:?}"
    );
    assert!(
        !dir.path().join("broken").exists(),
        "nothing written on error"
    );
}
