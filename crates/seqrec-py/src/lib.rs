#![deny(missing_docs)]
//! `seqrec._seqrec`: the native half of seqrec's Python package.
//!
//! Two things cross the boundary, and nothing is re-implemented on this side:
//!
//! - `run`: any `seqrec` command line, run in this process by the program's own code
//!   ([`seqrec::cli::run_args`]), with its defaults, validation and messages. The Python
//!   package (`python/seqrec/`) builds `train`, `ablation`, `simulate` and `evaluate` calls
//!   on it and reads their `--json` output and result files.
//! - `Recommender`: a model directory of any kind, ranking many histories per call, as the
//!   HTTP service does ([`seqrec::serve::rank_by_length`]).
//!
//! Errors keep the program's messages: a bad command line raises `TypeError` (an unknown
//! option) or `ValueError` (a bad value) with clap's text, a failed run raises
//! `seqrec.SeqrecError` with the error and its causes (`caused by: ...` lines) as
//! `seqrec` prints them. The GIL is released while a command or a ranking runs.

use std::path::PathBuf;
use std::sync::Mutex;

use clap::error::ErrorKind;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use seqrec::cli::CliError;
use seqrec::serve::{
    Ranker, UnknownItems, history_exclusion, kind_name, open_model_dir, rank_by_length,
};

create_exception!(
    _seqrec,
    SeqrecError,
    PyException,
    "A seqrec operation failed: bad data, a missing or damaged model directory, a failed training run. The message is the one the `seqrec` program prints."
);

/// The Python exception for an error of the program: clap's for a bad command line,
/// [`SeqrecError`] with the causes for the rest.
fn python_error(error: &CliError) -> PyErr {
    if let Some(usage) = error.downcast_ref::<clap::Error>() {
        let text = usage.render().to_string();
        return match usage.kind() {
            ErrorKind::UnknownArgument | ErrorKind::InvalidSubcommand => PyTypeError::new_err(text),
            _ => PyValueError::new_err(text),
        };
    }
    SeqrecError::new_err(seqrec::cli::describe(error.as_ref()))
}

/// Runs the `seqrec` command line `args` (without the program name, e.g.
/// `["train", "--out", "runs/m", "--steps", "100"]`) in this process and returns what the
/// program prints on stdout; notes and progress go to stderr. `--help` returns the help text.
#[pyfunction]
fn run(py: Python<'_>, args: Vec<String>) -> PyResult<String> {
    seqrec::cli::init_logging();
    let argv: Vec<String> = std::iter::once("seqrec".to_owned()).chain(args).collect();
    let result = py.detach(move || {
        let mut out = Vec::new();
        seqrec::cli::run_args(argv, &mut out).map(|()| out)
    });
    match result {
        Ok(out) => Ok(String::from_utf8_lossy(&out).into_owned()),
        Err(error) => match error.downcast_ref::<clap::Error>() {
            Some(shown)
                if matches!(
                    shown.kind(),
                    ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
                ) =>
            {
                Ok(shown.render().to_string())
            }
            _ => Err(python_error(&error)),
        },
    }
}

/// `unknown=` of `recommend`: the service's and the batch file mode's policy by name.
fn unknown_items(text: &str) -> PyResult<UnknownItems> {
    match text {
        "error" => Ok(UnknownItems::Error),
        "skip" => Ok(UnknownItems::Skip),
        other => Err(PyValueError::new_err(format!(
            "unknown={other:?}: expected \"error\" or \"skip\""
        ))),
    }
}

/// A trained model directory (`seqrec train`, or a model of `seqrec ablation`: a gSASRec
/// transformer, item-item or personal popularity), ranking the whole catalogue for histories
/// of the user's own track ids.
#[pyclass(name = "Recommender", module = "seqrec._seqrec", frozen)]
struct Recommender {
    /// The model; ranking takes the lock (one ranking at a time per model).
    ranker: Mutex<Box<dyn Ranker>>,
    /// The directory it was loaded from.
    dir: PathBuf,
}

impl Recommender {
    /// The model ids of `histories`, with the unknown items handled as `unknown` says.
    fn resolve(
        ranker: &dyn Ranker,
        histories: &[Vec<String>],
        unknown: UnknownItems,
    ) -> Result<Vec<Vec<u32>>, String> {
        let items = ranker.items();
        histories
            .iter()
            .enumerate()
            .map(|(h, history)| {
                let mut ids = Vec::with_capacity(history.len());
                for (position, name) in history.iter().enumerate() {
                    match (items.id(name), unknown) {
                        (Some(id), _) => ids.push(id),
                        (None, UnknownItems::Skip) => {}
                        (None, UnknownItems::Error) => {
                            return Err(format!(
                                "history {h}: unknown item `{name}` at position {position} (unknown=\"skip\" leaves such items out)"
                            ));
                        }
                    }
                }
                if ids.is_empty() {
                    return Err(format!(
                        "history {h}: no item the model knows ({} given)",
                        history.len()
                    ));
                }
                Ok(ids)
            })
            .collect()
    }

    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, Box<dyn Ranker>>> {
        self.ranker
            .lock()
            .map_err(|_| SeqrecError::new_err(POISONED))
    }
}

/// The error of a model whose lock a panicking ranking left poisoned.
const POISONED: &str = "the model is unusable: a ranking panicked";

#[pymethods]
impl Recommender {
    /// Loads the model directory `dir` onto `device` (`ndarray`, `flex`, `wgpu`, `cuda`,
    /// `cuda:N`; default: the fastest CPU backend of the wheel).
    #[staticmethod]
    #[pyo3(signature = (dir, device = None))]
    fn load(py: Python<'_>, dir: PathBuf, device: Option<String>) -> PyResult<Self> {
        let opened = py.detach(|| -> Result<_, CliError> {
            let device = match &device {
                Some(name) => seqrec::device::parse_device(name)?,
                None => seqrec::device::default_device()?,
            };
            Ok(open_model_dir(&dir, &device)?)
        });
        let ranker = opened.map_err(|e| python_error(&e))?;
        Ok(Self {
            ranker: Mutex::new(ranker),
            dir,
        })
    }

    /// The top `k` track ids for each history (a list of the user's track ids, oldest
    /// first), best first, ranked without the GIL; with `scores`, `(track id, score)` pairs.
    /// With `exclude_history` a history's own tracks are not recommended. `unknown="error"`
    /// raises on a track the model does not know, `"skip"` leaves it out.
    #[pyo3(signature = (histories, k = 10, exclude_history = false, unknown = "error", scores = false))]
    fn recommend(
        &self,
        py: Python<'_>,
        histories: Vec<Vec<String>>,
        k: usize,
        exclude_history: bool,
        unknown: &str,
        scores: bool,
    ) -> PyResult<Py<PyAny>> {
        let unknown = unknown_items(unknown)?;
        if k == 0 {
            return Err(PyValueError::new_err("k must be at least 1"));
        }
        let model = &self.ranker;
        let ranked = py
            .detach(move || -> Result<Vec<Vec<(String, f32)>>, String> {
                let ranker = model.lock().map_err(|_| POISONED.to_owned())?;
                let ranker: &dyn Ranker = ranker.as_ref();
                let ids = Self::resolve(ranker, &histories, unknown)?;
                let exclusions: Vec<Vec<u32>> = ids
                    .iter()
                    .map(|h| history_exclusion(h, exclude_history))
                    .collect();
                let ranked = rank_by_length(ranker, &ids, &exclusions, k)
                    .map_err(|e| seqrec::cli::describe(&e))?;
                let items = ranker.items();
                Ok(ranked
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|(id, score)| {
                                (items.name(id).unwrap_or_default().to_owned(), score)
                            })
                            .collect()
                    })
                    .collect())
            })
            .map_err(SeqrecError::new_err)?;
        if scores {
            return Ok(ranked.into_pyobject(py)?.into_any().unbind());
        }
        let ids: Vec<Vec<String>> = ranked
            .into_iter()
            .map(|row| row.into_iter().map(|(item, _)| item).collect())
            .collect();
        Ok(ids.into_pyobject(py)?.into_any().unbind())
    }

    /// The model's kind: `gsasrec`, `item-item` or `personal-popularity`.
    #[getter]
    fn kind(&self) -> PyResult<&'static str> {
        Ok(kind_name(self.lock()?.kind()))
    }

    /// The track ids the model knows, in model-id order.
    #[getter]
    fn items(&self) -> PyResult<Vec<String>> {
        Ok(self.lock()?.items().names().to_vec())
    }

    /// The most recent history tracks the model reads.
    #[getter]
    fn max_len(&self) -> PyResult<usize> {
        Ok(self.lock()?.max_len())
    }

    /// The directory the model was loaded from.
    #[getter]
    fn dir(&self) -> PathBuf {
        self.dir.clone()
    }

    fn __repr__(&self) -> PyResult<String> {
        let ranker = self.lock()?;
        Ok(format!(
            "Recommender(kind={:?}, items={}, dir={:?})",
            kind_name(ranker.kind()),
            ranker.items().len(),
            self.dir.display().to_string()
        ))
    }
}

/// The module `seqrec._seqrec`.
#[pymodule]
fn _seqrec(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(run, module)?)?;
    module.add_class::<Recommender>()?;
    module.add("SeqrecError", module.py().get_type::<SeqrecError>())?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
