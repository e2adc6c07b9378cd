//! The item tables of a run with sparse item updates, kept apart from burn-train's model and
//! updated in place.
//!
//! burn-train's learner keeps its model while the optimizer works on a clone, so a tensor of
//! the model is never uniquely owned during an update and every update of a parameter writes a
//! new copy of it: for a 10-million-item table of dim 64 that is 2.6 GB written per table per
//! step, and twice the table in memory. With sparse item updates the tables (and their
//! [`SparseAdam`] moments) live here instead, behind one lock that every clone of the training
//! model shares ([`ItemTables`]); the model keeps 2-row placeholders in their place. A step
//! gathers the rows its batch touches as autodiff leaves ([`ItemTables::gather`]); the rows'
//! gradients travel through burn-train under the placeholders' parameter ids, packed with
//! their ids ([`crate::item_rows::pack_row_gradients`]); the training model's
//! `TrainStep::optimize` hands them to [`ItemTables::update`], which writes those rows and
//! their moments in place, then lets burn's Adam update the dense parameters.
//!
//! The tables are saved with each checkpoint ([`ItemTables::save`], a safetensors file written
//! row block by row block, so that saving copies no table whole) and restored with it.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use burn::tensor::{DType, Device, Distribution, Int, Tensor, TensorData};
use seqrec_model::{GsasRecConfig, OutputEmbeddings};

use crate::atomic::write_atomically;
use crate::error::TrainError;
use crate::item_rows::unpack_row_gradients;
use crate::sparse_adam::{SparseAdam, TableState, first_moment_dtype};

/// Rows written or read at a time when a table is saved or loaded.
const ROW_BLOCK: usize = 1 << 16;

/// The item tables of a sparse run and their optimizer state. Clones share them.
#[derive(Clone)]
pub struct ItemTables {
    shared: Arc<Mutex<Tables>>,
}

impl std::fmt::Debug for ItemTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tables = self.lock();
        f.debug_struct("ItemTables")
            .field("input", &tables.input.weight.dims())
            .field("separate_output", &tables.output.is_some())
            .field("time", &tables.time)
            .finish()
    }
}

struct Tables {
    /// Rows and width of every table.
    shape: [usize; 2],
    input: TableState,
    output: Option<TableState>,
    /// Updates applied (the step count of the bias correction).
    time: usize,
    adam: SparseAdam,
}

impl ItemTables {
    /// The tables of a model of `config`, drawn as [`seqrec_model::GsasRec::new`] draws them
    /// (normal, mean 0, the config's embedding standard deviation), with zero moments, on
    /// `device` (without autodiff: the tables are leaves of no graph).
    pub fn init(config: &GsasRecConfig, device: &Device) -> Self {
        let device = device.clone().inner();
        let std = config.embedding_init_std();
        let table = || {
            TableState::new(Tensor::random(
                [config.vocab_rows(), config.dim],
                Distribution::Normal(0.0, std),
                &device,
            ))
        };
        let input = table();
        let output = (config.output_embeddings == OutputEmbeddings::Separate).then(table);
        Self {
            shared: Arc::new(Mutex::new(Tables {
                shape: [config.vocab_rows(), config.dim],
                input,
                output,
                time: 0,
                adam: SparseAdam::default(),
            })),
        }
    }

    /// Given tables: `input` `[n, dim]` and, for a model with separate output embeddings, the
    /// output table of the same shape; zero moments. They are moved to the device without
    /// autodiff.
    pub fn from_tables(input: Tensor<2>, output: Option<Tensor<2>>) -> Self {
        let shape = input.dims();
        let state = |t: Tensor<2>| TableState::new(t.inner());
        Self {
            shared: Arc::new(Mutex::new(Tables {
                shape,
                input: state(input),
                output: output.map(state),
                time: 0,
                adam: SparseAdam::default(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rows `rows` of the input table and of the separate output table, on `device`: leaves
    /// that require gradients when `device` has autodiff.
    pub fn gather(&self, rows: &Tensor<1, Int>, device: &Device) -> (Tensor<2>, Option<Tensor<2>>) {
        let tables = self.lock();
        let rows = rows.clone().inner().to_device(&tables.input.device());
        let target = device.clone().inner();
        let leaf = |state: &TableState| {
            let gathered = state
                .weight
                .clone()
                .select(0, rows.clone())
                .to_device(&target);
            if device.is_autodiff() {
                gathered.autodiff().require_grad()
            } else {
                gathered
            }
        };
        (leaf(&tables.input), tables.output.as_ref().map(leaf))
    }

    /// The whole input table and the separate output table (shared, not copied: scoring with
    /// them between two updates costs no memory).
    pub fn full(&self) -> (Tensor<2>, Option<Tensor<2>>) {
        let tables = self.lock();
        let output = tables.output.as_ref().map(|t| t.weight.clone());
        (tables.input.weight.clone(), output)
    }

    /// One step: the packed row gradients of the input table and of the separate output table
    /// (`[rows, dim + 2]`, [`crate::item_rows::pack_row_gradients`]), applied with `lr`.
    pub fn update(&self, input: Option<Tensor<2>>, output: Option<Tensor<2>>, lr: f64) {
        let mut tables = self.lock();
        let tables = &mut *tables;
        tables.time += 1;
        let (adam, time) = (tables.adam, tables.time);
        let apply = |state: TableState, packed: Tensor<2>| {
            let device = state.device();
            let (grad, ids) = unpack_row_gradients(packed.to_device(&device));
            adam.update(state, grad, ids, lr, time)
        };
        if let Some(packed) = input {
            let state = placeholder_swap(&mut tables.input);
            tables.input = apply(state, packed);
        }
        if let (Some(state), Some(packed)) = (tables.output.as_mut(), output) {
            let taken = placeholder_swap(state);
            *state = apply(taken, packed);
        }
    }

    /// Frees the optimizer state (after training: the tables alone serve).
    pub fn drop_optimizer_state(&self) {
        let mut guard = self.lock();
        let tables = &mut *guard;
        for state in std::iter::once(&mut tables.input).chain(tables.output.as_mut()) {
            let device = state.device();
            state.moment_1 = empty(&device);
            state.moment_2 = empty(&device);
        }
    }

    /// Empty tables of the same kind (input, and output when separate) on the same device,
    /// to [`ItemTables::load`] into.
    pub fn empty_like(&self) -> Self {
        let tables = self.lock();
        let device = tables.input.device();
        let empty = |_: &TableState| TableState {
            weight: empty(&device),
            moment_1: empty(&device),
            moment_2: empty(&device),
        };
        Self {
            shared: Arc::new(Mutex::new(Tables {
                shape: tables.shape,
                input: empty(&tables.input),
                output: tables.output.as_ref().map(empty),
                time: 0,
                adam: tables.adam,
            })),
        }
    }

    /// The file of the tables of checkpoint period `epoch` in `dir`.
    pub fn checkpoint_path(dir: &Path, epoch: usize) -> PathBuf {
        dir.join(format!("item-tables-{epoch}.safetensors"))
    }

    /// Writes the tables, their moments and the step count to `path` (safetensors, written
    /// through a temporary file and renamed).
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let tables = self.lock();
        let mut entries: Vec<(String, &Tensor<2>)> = Vec::new();
        for (name, state) in std::iter::once(("input", &tables.input))
            .chain(tables.output.as_ref().map(|s| ("output", s)))
        {
            entries.push((format!("{name}.weight"), &state.weight));
            entries.push((format!("{name}.moment_1"), &state.moment_1));
            entries.push((format!("{name}.moment_2"), &state.moment_2));
        }
        let time = tables.time;
        write_atomically(path, |tmp| {
            write_safetensors(tmp, &entries, time).map_err(TrainError::io(path))
        })
    }

    /// Replaces the tables and step count with those saved in `path`, and the moments too
    /// when `moments` (without them the tables serve but do not train on: the final model).
    /// Each table is freed before its replacement is read, and read a row block at a time.
    pub fn load(&self, path: &Path, moments: bool) -> Result<(), TrainError> {
        let mut tables = self.lock();
        let device = tables.input.device();
        let mut file = SafetensorsFile::open(path)?;
        let bad = |reason: String| TrainError::ModelDir {
            path: path.to_path_buf(),
            reason,
        };
        let dims = tables.shape;
        let tables = &mut *tables;
        let states = std::iter::once(("input", &mut tables.input))
            .chain(tables.output.as_mut().map(|s| ("output", s)));
        for (name, state) in states {
            // Free the current tensors first: a table is not held twice.
            *state = TableState {
                weight: empty(&device),
                moment_1: empty(&device),
                moment_2: empty(&device),
            };
            let mut read = |part: &str, cols: usize, dtype: DType| {
                let key = format!("{name}.{part}");
                file.read(&key, [dims[0], cols], dtype, &device)?
                    .ok_or_else(|| {
                        let shape = format!("[{}, {cols}]", dims[0]);
                        bad(format!("no tensor `{key}` of {dtype:?} and shape {shape}"))
                    })
            };
            let weight = read("weight", dims[1], DType::F32)?;
            let (moment_1, moment_2) = if moments {
                (
                    read("moment_1", dims[1], first_moment_dtype(&device))?,
                    read("moment_2", 1, DType::F32)?,
                )
            } else {
                (empty(&device), empty(&device))
            };
            *state = TableState {
                weight,
                moment_1,
                moment_2,
            };
        }
        tables.time = file
            .metadata("time")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| bad("no step count (`time`) in the metadata".into()))?;
        Ok(())
    }
}

/// A 1 × 1 stand-in for a tensor that was freed or moved out.
fn empty(device: &Device) -> Tensor<2> {
    Tensor::zeros([1, 1], device)
}

/// Moves `state` out of its place, leaving empty tensors behind (so that the moved tensors are
/// the only handles on their buffers, and update in place).
fn placeholder_swap(state: &mut TableState) -> TableState {
    let device = state.device();
    std::mem::replace(
        state,
        TableState {
            weight: empty(&device),
            moment_1: empty(&device),
            moment_2: empty(&device),
        },
    )
}

/// The safetensors name and the size in bytes of the element types a table file holds.
fn safetensors_dtype(dtype: DType) -> Option<(&'static str, usize)> {
    match dtype {
        DType::F32 => Some(("F32", 4)),
        DType::BF16 => Some(("BF16", 2)),
        _ => None,
    }
}

/// Writes `entries` (f32 or bf16 tensors) as a safetensors file, a row block at a time
/// (little-endian, as the machines seqrec runs on store them).
fn write_safetensors(
    path: &Path,
    entries: &[(String, &Tensor<2>)],
    time: usize,
) -> std::io::Result<()> {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, tensor) in entries {
        let [rows, cols] = tensor.dims();
        let (dtype, size) = safetensors_dtype(tensor.dtype()).ok_or_else(|| {
            std::io::Error::other(format!(
                "{name}: no table file type for {:?}",
                tensor.dtype()
            ))
        })?;
        let bytes = rows * cols * size;
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": dtype, "shape": [rows, cols], "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    header.insert(
        "__metadata__".into(),
        serde_json::json!({"time": time.to_string()}),
    );
    let mut text = serde_json::Value::Object(header).to_string();
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(&(text.len() as u64).to_le_bytes())?;
    out.write_all(text.as_bytes())?;
    for (_, tensor) in entries {
        let [rows, cols] = tensor.dims();
        for start in (0..rows).step_by(ROW_BLOCK) {
            let end = (start + ROW_BLOCK).min(rows);
            let block = (*tensor).clone().slice([start..end, 0..cols]).into_data();
            out.write_all(block.as_bytes())?;
        }
    }
    out.flush()
}

/// A safetensors file of f32 tensors, read a row block at a time.
struct SafetensorsFile {
    path: PathBuf,
    file: File,
    data_start: u64,
    header: serde_json::Map<String, serde_json::Value>,
}

impl SafetensorsFile {
    fn open(path: &Path) -> Result<Self, TrainError> {
        let io = |source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut len = [0u8; 8];
        file.read_exact(&mut len).map_err(io)?;
        let len = u64::from_le_bytes(len);
        let bad = |reason: String| TrainError::ModelDir {
            path: path.to_path_buf(),
            reason,
        };
        if len > 100 << 20 {
            return Err(bad(format!(
                "a header of {len} bytes is not a safetensors header"
            )));
        }
        let mut text = vec![0u8; len as usize];
        file.read_exact(&mut text).map_err(io)?;
        let header: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| bad(format!("the header is not JSON: {e}")))?;
        let serde_json::Value::Object(header) = header else {
            return Err(bad("the header is not a JSON object".into()));
        };
        Ok(Self {
            path: path.to_path_buf(),
            file,
            data_start: 8 + len,
            header,
        })
    }

    fn metadata(&self, key: &str) -> Option<String> {
        self.header
            .get("__metadata__")?
            .get(key)?
            .as_str()
            .map(str::to_string)
    }

    /// Tensor `name` if the file holds it as `dtype` of shape `shape`, read into a tensor on
    /// `device` a row block at a time.
    fn read(
        &mut self,
        name: &str,
        shape: [usize; 2],
        dtype: DType,
        device: &Device,
    ) -> Result<Option<Tensor<2>>, TrainError> {
        let Some(entry) = self.header.get(name) else {
            return Ok(None);
        };
        let found: Vec<usize> = entry["shape"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_u64())
                    .map(|v| v as usize)
                    .collect()
            })
            .unwrap_or_default();
        let start = entry["data_offsets"][0].as_u64();
        let Some((type_name, size)) = safetensors_dtype(dtype) else {
            return Ok(None);
        };
        if entry["dtype"] != type_name || found != shape || start.is_none() {
            return Ok(None);
        }
        let path = self.path.clone();
        let io = move |source| TrainError::Io {
            path: path.clone(),
            source,
        };
        self.file
            .seek(SeekFrom::Start(self.data_start + start.unwrap_or(0)))
            .map_err(&io)?;
        let [rows, cols] = shape;
        let mut tensor = Tensor::<2>::zeros(shape, (device, dtype));
        for first in (0..rows).step_by(ROW_BLOCK) {
            let end = (first + ROW_BLOCK).min(rows);
            let mut bytes = vec![0u8; (end - first) * cols * size];
            self.file.read_exact(&mut bytes).map_err(&io)?;
            let data = TensorData::from_bytes_vec(bytes, [end - first, cols], dtype);
            let block = Tensor::from_data(data, (device, dtype));
            tensor = tensor.slice_assign([first..end, 0..cols], block);
        }
        Ok(Some(tensor))
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use super::*;
    use crate::item_rows::{ItemRows, pack_row_gradients};

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.cast(DType::F32).into_data().to_vec().unwrap()
    }

    /// The tables, their moments (bf16 first moments on flex, f32 on ndarray) and the step
    /// count come back from a checkpoint file exactly, also across row blocks; a table
    /// replaced by a load keeps training from there.
    #[test]
    fn a_saved_checkpoint_loads_back_exactly() {
        for device in [Device::ndarray(), Device::flex()] {
            round_trip(device);
        }
    }

    fn round_trip(device: Device) {
        let config = GsasRecConfig::new(ROW_BLOCK + 500).with_dim(3);
        device.seed(3);
        let tables = ItemTables::init(&config, &device);
        let rows = [0u32, 7, ROW_BLOCK as u32 + 3];
        let packed = |seed: f32| {
            let g = Tensor::<2>::from_data(
                TensorData::new((0..9).map(|v| seed * v as f32).collect::<Vec<_>>(), [3, 3]),
                &device,
            );
            pack_row_gradients(g, ItemRows::new(&rows, true, &device).id_columns)
        };
        tables.update(Some(packed(0.5)), Some(packed(-1.0)), 0.01);
        let dir = tempfile::tempdir().unwrap();
        let path = ItemTables::checkpoint_path(dir.path(), 1);
        tables.save(&path).unwrap();
        let saved = {
            let t = tables.lock();
            [&t.input, t.output.as_ref().unwrap()].map(|s| {
                [
                    values(s.weight.clone()),
                    values(s.moment_1.clone()),
                    values(s.moment_2.clone()),
                ]
            })
        };

        device.seed(4);
        let other = ItemTables::init(&config, &device);
        other.load(&path, true).unwrap();
        let t = other.lock();
        assert_eq!(t.time, 1);
        let loaded = [&t.input, t.output.as_ref().unwrap()].map(|s| {
            [
                values(s.weight.clone()),
                values(s.moment_1.clone()),
                values(s.moment_2.clone()),
            ]
        });
        assert!(
            saved == loaded,
            "the loaded tables differ from the saved ones"
        );
        drop(t);

        // The next step from the loaded tables is the next step from the saved ones.
        tables.update(Some(packed(2.0)), None, 0.01);
        other.update(Some(packed(2.0)), None, 0.01);
        assert_eq!(values(tables.full().0), values(other.full().0));

        // A file of another shape is refused, naming it.
        let small = ItemTables::init(&GsasRecConfig::new(10).with_dim(3), &device);
        let err = small.load(&path, true).unwrap_err();
        assert!(err.to_string().contains("item-tables-1"), "{err}");
    }

    /// Gathered rows are leaves that require gradients on an autodiff device, and hold the
    /// tables' rows.
    #[test]
    fn gathered_rows_are_the_tables_rows() {
        let device = Device::ndarray();
        let tables = ItemTables::init(&GsasRecConfig::new(20).with_dim(4), &device);
        let rows = Tensor::<1, Int>::from_ints([0, 5, 21], &device);
        let (input, output) = tables.gather(&rows, &device.clone().autodiff());
        assert!(input.is_require_grad());
        let (full_in, full_out) = tables.full();
        assert_eq!(
            values(input.inner()),
            values(full_in.select(0, rows.clone()))
        );
        assert_eq!(
            values(output.unwrap().inner()),
            values(full_out.unwrap().select(0, rows))
        );
    }
}
