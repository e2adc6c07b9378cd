//! The reference code's `state_dict` layout and its mapping onto [`GsasRec`], both ways.
//!
//! | reference tensor | shape | [`GsasRec`] parameter |
//! | --- | --- | --- |
//! | `item_embedding.weight` | `[N + 2, d]` | `item_embedding.weight`, rows 0 and `N + 1` swapped |
//! | `position_embedding.weight` | `[L, d]` | `position_embedding.weight` |
//! | `transformer_blocks.{i}.first_norm.{weight,bias}` | `[d]` | `blocks[i].first_norm.{gamma,beta}` |
//! | `transformer_blocks.{i}.multihead_attention.{query,key,val}_proj.weight` | `[d, d]` (out, in) | `blocks[i].attention.{query,key,value}.weight`, transposed |
//! | `transformer_blocks.{i}.multihead_attention.{query,key,val}_proj.bias` | `[d]` | `….bias` |
//! | `transformer_blocks.{i}.second_norm.{weight,bias}` | `[d]` | `blocks[i].second_norm.{gamma,beta}` |
//! | `transformer_blocks.{i}.dense{1,2}.weight` | `[d, d]` (out, in) | `blocks[i].dense{1,2}.weight`, transposed |
//! | `transformer_blocks.{i}.dense{1,2}.bias` | `[d]` | `blocks[i].dense{1,2}.bias` |
//! | `seq_norm.{weight,bias}` | `[d]` | `final_norm.{gamma,beta}` |
//! | `output_embedding.weight` (absent with `reuse_item_embeddings`) | `[N + 2, d]` | `output_embedding.weight`, rows 0 and `N + 1` swapped |
//!
//! Ids: the reference numbers items `1..=N` as we do, pads with `N + 1` (its row is zeroed
//! by the padding mask, whatever it holds) and never uses row 0; we pad with 0 and keep
//! `N + 1` for the mask token. Swapping rows 0 and `N + 1` maps one onto the other, and the
//! swap is its own inverse, so export applies it again.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, Linear};
use burn::tensor::{Device, Tensor, TensorData};
use seqrec_model::{
    AttentionMode, GsasRec, GsasRecConfig, OutputEmbeddings, PositionEncoding, sinusoidal,
};

use super::error::ImportError;
use super::state_dict::{HostTensor, StateDictFile};
use crate::error::TrainError;

/// Name of the input item table.
const ITEM_TABLE: &str = "item_embedding.weight";
/// Name of the learned position table.
const POSITION_TABLE: &str = "position_embedding.weight";
/// Name of the output item table (absent when the reference reuses the input table).
const OUTPUT_TABLE: &str = "output_embedding.weight";
/// Prefix of the final layer norm.
const FINAL_NORM: &str = "seq_norm";
/// Prefix of the blocks' tensors.
const BLOCKS: &str = "transformer_blocks";

/// The reference names of a block's linear layers, in the order of our `attention.query`,
/// `attention.key`, `attention.value`, `dense1`, `dense2`.
const LINEARS: [&str; 5] = [
    "multihead_attention.query_proj",
    "multihead_attention.key_proj",
    "multihead_attention.val_proj",
    "dense1",
    "dense2",
];

/// The architecture a reference state_dict describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReferenceLayout {
    /// Catalogue size `N` (the item table has `N + 2` rows).
    pub num_items: usize,
    /// Window length `L` (rows of the position table).
    pub max_len: usize,
    /// Embedding size `d`.
    pub dim: usize,
    /// Number of transformer blocks.
    pub blocks: usize,
    /// Whether the input table also scores items (`reuse_item_embeddings=True`).
    pub shared_output: bool,
}

impl ReferenceLayout {
    /// Infers the architecture from the tensors' shapes: `N` and `d` from the item table,
    /// `L` from the position table, the block count from the highest block index.
    pub fn infer(shapes: &BTreeMap<String, Vec<usize>>, path: &Path) -> Result<Self, ImportError> {
        let table = |name: &str, min_rows: usize, what: &str| {
            let shape = shapes.get(name).ok_or_else(|| ImportError::MissingTensor {
                path: path.to_path_buf(),
                name: name.to_string(),
            })?;
            match shape.as_slice() {
                &[rows, cols] if rows >= min_rows && cols > 0 => Ok((rows, cols)),
                _ => Err(ImportError::Shape {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    expected: what.to_string(),
                    found: shape.clone(),
                }),
            }
        };
        let (rows, dim) = table(ITEM_TABLE, 3, "[num_items + 2, dim] with num_items >= 1")?;
        let (max_len, _) = table(POSITION_TABLE, 1, "[max_len, dim]")?;
        let blocks = shapes
            .keys()
            .filter_map(|name| block_index(name))
            .max()
            .map_or(0, |i| i + 1);
        Ok(Self {
            num_items: rows - 2,
            max_len,
            dim,
            blocks,
            shared_output: !shapes.contains_key(OUTPUT_TABLE),
        })
    }

    /// The layout of `model` (which need not use learned positions: its positional encoding
    /// is exported as a position table).
    pub fn of(model: &GsasRec) -> Self {
        Self {
            num_items: model.num_items,
            max_len: model.max_len,
            dim: model.dim(),
            blocks: model.blocks.len(),
            shared_output: model.output_embedding.is_none(),
        }
    }

    /// Every tensor of the reference model with its shape, in state_dict order.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let (n, d) = (self.num_items, self.dim);
        let mut tensors = vec![
            (ITEM_TABLE.to_string(), vec![n + 2, d]),
            (POSITION_TABLE.to_string(), vec![self.max_len, d]),
        ];
        for i in 0..self.blocks {
            let prefix = format!("{BLOCKS}.{i}");
            for norm in ["first_norm", "second_norm"] {
                tensors.push((format!("{prefix}.{norm}.weight"), vec![d]));
                tensors.push((format!("{prefix}.{norm}.bias"), vec![d]));
            }
            for linear in LINEARS {
                tensors.push((format!("{prefix}.{linear}.weight"), vec![d, d]));
                tensors.push((format!("{prefix}.{linear}.bias"), vec![d]));
            }
        }
        tensors.push((format!("{FINAL_NORM}.weight"), vec![d]));
        tensors.push((format!("{FINAL_NORM}.bias"), vec![d]));
        if !self.shared_output {
            tensors.push((OUTPUT_TABLE.to_string(), vec![n + 2, d]));
        }
        tensors
    }

    /// Checks that the file holds exactly [`ReferenceLayout::tensors`], with their shapes.
    pub fn check(
        &self,
        shapes: &BTreeMap<String, Vec<usize>>,
        path: &Path,
    ) -> Result<(), ImportError> {
        let expected = self.tensors();
        for (name, shape) in &expected {
            let found = shapes.get(name).ok_or_else(|| ImportError::MissingTensor {
                path: path.to_path_buf(),
                name: name.clone(),
            })?;
            if found != shape {
                return Err(ImportError::Shape {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    expected: format!("{shape:?}"),
                    found: found.clone(),
                });
            }
        }
        if let Some((name, shape)) = shapes
            .iter()
            .find(|(name, _)| !expected.iter().any(|(e, _)| e == *name))
        {
            return Err(ImportError::UnexpectedTensor {
                path: path.to_path_buf(),
                name: name.clone(),
                shape: shape.clone(),
            });
        }
        Ok(())
    }

    /// Our configuration of this architecture. Dropout is 0: an imported model serves.
    pub fn config(
        &self,
        heads: usize,
        attention: AttentionMode,
        layer_norm_eps: f64,
    ) -> GsasRecConfig {
        GsasRecConfig::new(self.num_items)
            .with_max_len(self.max_len)
            .with_dim(self.dim)
            .with_blocks(self.blocks)
            .with_heads(heads)
            .with_dropout(0.0)
            .with_attention(attention)
            .with_positions(PositionEncoding::Learned)
            .with_output_embeddings(if self.shared_output {
                OutputEmbeddings::Shared
            } else {
                OutputEmbeddings::Separate
            })
            .with_layer_norm_eps(layer_norm_eps)
    }
}

/// The block index of a `transformer_blocks.{i}.…` name.
fn block_index(name: &str) -> Option<usize> {
    let rest = name.strip_prefix(BLOCKS)?.strip_prefix('.')?;
    rest.split('.').next()?.parse().ok()
}

/// A parameter holding `t` on `device`.
fn param<const D: usize>(device: &Device, t: HostTensor) -> Param<Tensor<D>> {
    Param::from_data(TensorData::new(t.values, t.shape), device)
}

/// Swaps rows 0 and `rows - 1` of a `[rows, dim]` table: the reference's padding row and
/// its unused row 0 become our padding row 0 and our mask-token row (and back).
fn swap_end_rows(mut table: HostTensor) -> HostTensor {
    let (rows, dim) = (table.shape[0], table.shape[1]);
    for j in 0..dim {
        table.values.swap(j, (rows - 1) * dim + j);
    }
    table
}

/// Transposes a `[rows, cols]` matrix: PyTorch's `Linear` stores `[out, in]`, burn's
/// `[in, out]`.
fn transpose(m: &HostTensor) -> HostTensor {
    let (rows, cols) = (m.shape[0], m.shape[1]);
    let mut values = vec![0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            values[c * rows + r] = m.values[r * cols + c];
        }
    }
    HostTensor {
        shape: vec![cols, rows],
        values,
    }
}

/// Builds the model of `config` from a checked state_dict file.
pub(crate) fn model_from_file(
    file: &StateDictFile,
    layout: &ReferenceLayout,
    config: &GsasRecConfig,
    device: &Device,
) -> Result<GsasRec, ImportError> {
    let mut model = config.init(device).map_err(|source| ImportError::Model {
        path: file.path().to_path_buf(),
        source,
    })?;
    let table = |name: &str| -> Result<Param<Tensor<2>>, ImportError> {
        Ok(param(device, swap_end_rows(file.read(name)?)))
    };
    let linear = |layer: &mut Linear, prefix: &str| -> Result<(), ImportError> {
        layer.weight = param(device, transpose(&file.read(&format!("{prefix}.weight"))?));
        layer.bias = Some(param(device, file.read(&format!("{prefix}.bias"))?));
        Ok(())
    };
    let norm = |layer: &mut LayerNorm, prefix: &str| -> Result<(), ImportError> {
        layer.gamma = param(device, file.read(&format!("{prefix}.weight"))?);
        layer.beta = Some(param(device, file.read(&format!("{prefix}.bias"))?));
        Ok(())
    };

    model.item_embedding.weight = table(ITEM_TABLE)?;
    model.position_embedding = Some(Embedding {
        weight: param(device, file.read(POSITION_TABLE)?),
    });
    for (i, block) in model.blocks.iter_mut().enumerate() {
        let prefix = format!("{BLOCKS}.{i}");
        norm(&mut block.first_norm, &format!("{prefix}.first_norm"))?;
        norm(&mut block.second_norm, &format!("{prefix}.second_norm"))?;
        let [q, k, v, d1, d2] = LINEARS.map(|l| format!("{prefix}.{l}"));
        linear(&mut block.attention.query, &q)?;
        linear(&mut block.attention.key, &k)?;
        linear(&mut block.attention.value, &v)?;
        linear(&mut block.dense1, &d1)?;
        linear(&mut block.dense2, &d2)?;
    }
    norm(&mut model.final_norm, FINAL_NORM)?;
    if !layout.shared_output {
        model.output_embedding = Some(Embedding {
            weight: table(OUTPUT_TABLE)?,
        });
    }
    Ok(model)
}

/// The reference state_dict of `model`, in the order of [`ReferenceLayout::tensors`].
///
/// A model without learned positions exports the table that gives the same scores: the
/// sinusoidal rows, or zeros.
pub(crate) fn state_dict_of(model: &GsasRec) -> Result<Vec<(String, HostTensor)>, TrainError> {
    let layout = ReferenceLayout::of(model);
    let device = model.item_embedding.weight.val().device();
    let positions = match (&model.position_embedding, model.positions) {
        (Some(table), _) => table.weight.val(),
        (None, PositionEncoding::Sinusoidal) => sinusoidal(0..layout.max_len, layout.dim, &device),
        (None, _) => Tensor::zeros([layout.max_len, layout.dim], &device),
    };
    let mut out = vec![
        (
            ITEM_TABLE.to_string(),
            swap_end_rows(host(model.item_embedding.weight.val())?),
        ),
        (POSITION_TABLE.to_string(), host(positions)?),
    ];
    for (i, block) in model.blocks.iter().enumerate() {
        let prefix = format!("{BLOCKS}.{i}");
        out.extend(norm_tensors(
            &format!("{prefix}.first_norm"),
            &block.first_norm,
        )?);
        out.extend(norm_tensors(
            &format!("{prefix}.second_norm"),
            &block.second_norm,
        )?);
        let layers = [
            &block.attention.query,
            &block.attention.key,
            &block.attention.value,
            &block.dense1,
            &block.dense2,
        ];
        for (name, layer) in LINEARS.iter().zip(layers) {
            out.extend(linear_tensors(&format!("{prefix}.{name}"), layer)?);
        }
    }
    out.extend(norm_tensors(FINAL_NORM, &model.final_norm)?);
    if let Some(table) = &model.output_embedding {
        out.push((
            OUTPUT_TABLE.to_string(),
            swap_end_rows(host(table.weight.val())?),
        ));
    }
    Ok(out)
}

/// A tensor's values on the host.
fn host<const D: usize>(t: Tensor<D>) -> Result<HostTensor, TrainError> {
    let shape = t.dims().to_vec();
    let values = t
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| TrainError::Device(format!("{e:?}")))?;
    Ok(HostTensor { shape, values })
}

/// `{prefix}.weight` and `{prefix}.bias` of a layer norm (a zero bias when it has none).
fn norm_tensors(prefix: &str, norm: &LayerNorm) -> Result<[(String, HostTensor); 2], TrainError> {
    let gamma = norm.gamma.val();
    let beta = match &norm.beta {
        Some(beta) => beta.val(),
        None => gamma.zeros_like(),
    };
    Ok([
        (format!("{prefix}.weight"), host(gamma)?),
        (format!("{prefix}.bias"), host(beta)?),
    ])
}

/// `{prefix}.weight` (PyTorch's `[out, in]`) and `{prefix}.bias` of a linear layer (a zero
/// bias when it has none).
fn linear_tensors(prefix: &str, layer: &Linear) -> Result<[(String, HostTensor); 2], TrainError> {
    let weight = layer.weight.val();
    let bias = match &layer.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([weight.dims()[1]], &weight.device()),
    };
    Ok([
        (format!("{prefix}.weight"), transpose(&host(weight)?)),
        (format!("{prefix}.bias"), host(bias)?),
    ])
}
