//! A `state_dict` as files hold it: named float tensors, read from a PyTorch checkpoint
//! (`torch.save(model.state_dict(), path)`) or a SafeTensors file, or written to SafeTensors.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use burn::store::pytorch_reader::{self, PytorchReader};
use burn::tensor::{DType, TensorData};
use safetensors::{Dtype, SafeTensors};

use super::error::ImportError;
use super::torch_zip::PatchedCopy;
use crate::error::TrainError;

/// One tensor on the host, row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostTensor {
    /// Extents, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub values: Vec<f32>,
}

/// A state_dict file: the names and shapes of its tensors are known when it is opened, their
/// values are read one tensor at a time.
pub(crate) struct StateDictFile {
    path: PathBuf,
    source: Source,
    /// The patched copy the reader reads from, for checkpoints that need it (see
    /// [`super::torch_zip`]); deleted with the file.
    _patched: Option<PatchedCopy>,
}

enum Source {
    Pytorch(PytorchReader),
    /// The whole SafeTensors file (its header is parsed again on each access).
    Safetensors(Vec<u8>),
}

impl StateDictFile {
    /// Opens `path`: a SafeTensors file when its extension is `.safetensors`, otherwise a
    /// PyTorch checkpoint (`.pt`, `.pth`, `.bin`: ZIP or legacy format).
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let fail = |message: String| ImportError::Read {
            path: path.to_path_buf(),
            message,
        };
        let is_safetensors = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
        if is_safetensors {
            let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
            SafeTensors::deserialize(&bytes).map_err(|e| fail(e.to_string()))?;
            return Ok(Self {
                path: path.to_path_buf(),
                source: Source::Safetensors(bytes),
                _patched: None,
            });
        }
        let (reader, patched) = match PytorchReader::new(path) {
            Ok(reader) => (reader, None),
            Err(error) => {
                // Only a checkpoint with torch's ZIP trailer gets a copy; for any other file,
                // or if the copy fails too, the original error is the one to report.
                let copy = PatchedCopy::of(path)
                    .ok()
                    .flatten()
                    .ok_or_else(|| fail(error.to_string()))?;
                let reader =
                    PytorchReader::new(copy.path()).map_err(|_| fail(error.to_string()))?;
                (reader, Some(copy))
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            source: Source::Pytorch(reader),
            _patched: patched,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every tensor's name and shape.
    pub fn shapes(&self) -> BTreeMap<String, Vec<usize>> {
        match &self.source {
            Source::Pytorch(reader) => reader
                .tensors()
                .iter()
                .map(|(name, t)| (name.clone(), t.shape().to_vec()))
                .collect(),
            Source::Safetensors(bytes) => match SafeTensors::deserialize(bytes) {
                Ok(file) => file
                    .iter()
                    .map(|(name, t)| (name.to_string(), t.shape().to_vec()))
                    .collect(),
                // Parsed successfully in `open`.
                Err(_) => BTreeMap::new(),
            },
        }
    }

    /// The string metadata of a SafeTensors file (none for a PyTorch checkpoint).
    pub fn metadata(&self) -> HashMap<String, String> {
        match &self.source {
            Source::Pytorch(_) => HashMap::new(),
            Source::Safetensors(bytes) => SafeTensors::read_metadata(bytes)
                .ok()
                .and_then(|(_, m)| m.metadata().clone())
                .unwrap_or_default(),
        }
    }

    /// The values of tensor `name` as `f32` (from any floating-point type).
    pub fn read(&self, name: &str) -> Result<HostTensor, ImportError> {
        let missing = || ImportError::MissingTensor {
            path: self.path.clone(),
            name: name.to_string(),
        };
        let read_error = |message: String| ImportError::Read {
            path: self.path.clone(),
            message: format!("tensor `{name}`: {message}"),
        };
        let wrong_type = |dtype: String| ImportError::DType {
            path: self.path.clone(),
            name: name.to_string(),
            dtype,
        };
        let (bytes, shape, dtype) = match &self.source {
            Source::Pytorch(reader) => {
                let tensor = reader.get(name).ok_or_else(missing)?;
                let dtype = match tensor.dtype() {
                    pytorch_reader::DType::F64 => DType::F64,
                    pytorch_reader::DType::F32 => DType::F32,
                    pytorch_reader::DType::F16 => DType::F16,
                    pytorch_reader::DType::BF16 => DType::BF16,
                    other => return Err(wrong_type(format!("{other:?}"))),
                };
                let bytes = tensor.read().map_err(|e| read_error(e.to_string()))?;
                (bytes, tensor.shape().to_vec(), dtype)
            }
            Source::Safetensors(bytes) => {
                let file =
                    SafeTensors::deserialize(bytes).map_err(|e| read_error(e.to_string()))?;
                let tensor = file.tensor(name).map_err(|_| missing())?;
                let dtype = match tensor.dtype() {
                    Dtype::F64 => DType::F64,
                    Dtype::F32 => DType::F32,
                    Dtype::F16 => DType::F16,
                    Dtype::BF16 => DType::BF16,
                    other => return Err(wrong_type(format!("{other:?}"))),
                };
                (tensor.data().to_vec(), tensor.shape().to_vec(), dtype)
            }
        };
        let values = TensorData::from_bytes_vec(bytes, shape.clone(), dtype)
            .try_into_vec_as::<f32>()
            .map_err(|e| read_error(format!("{e:?}")))?;
        Ok(HostTensor { shape, values })
    }
}

/// Writes named `f32` tensors and string metadata as a SafeTensors file.
pub(crate) fn write_safetensors(
    path: &Path,
    tensors: &[(String, HostTensor)],
    metadata: HashMap<String, String>,
) -> Result<(), TrainError> {
    let fail = |message: String| TrainError::Weights {
        path: path.to_path_buf(),
        message,
    };
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, t)| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, t), data)| {
            safetensors::tensor::TensorView::new(Dtype::F32, t.shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| fail(format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(TrainError::io(dir))?;
    }
    safetensors::serialize_to_file(views, Some(metadata), path).map_err(|e| fail(e.to_string()))
}
