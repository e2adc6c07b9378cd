//! The approximate index: an HNSW graph (usearch) over the rows of an item table.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use usearch::ffi::{IndexOptions, MetricKind, ScalarKind};

use crate::config::{AnnConfig, AnnMetric, AnnScalar};
use crate::error::AnnError;
use crate::exact::{Neighbor, better, skip_mask, table_rows};

/// The graph file of an index directory.
pub const INDEX_FILE: &str = "index.usearch";
/// The manifest of an index directory, written after the graph (a directory without it holds
/// no usable index).
pub const MANIFEST_FILE: &str = "ann.json";
/// The version of the manifest's format.
const FORMAT: u32 = 1;
/// Rows inserted per claim of a building thread.
const BUILD_BLOCK: usize = 1024;

/// What an index was built from and how: the manifest `ann.json` of a saved index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnManifest {
    /// The manifest format (1).
    pub format: u32,
    /// The vector search library that wrote the graph.
    pub library: String,
    /// The table's dimension (the index's is one more with [`AnnMetric::Augmented`]).
    pub dim: usize,
    /// The table's rows, indexed or not.
    pub rows: usize,
    /// The rows indexed (the table's rows less the skipped ones).
    pub indexed: usize,
    /// The augmentation radius `R` (the largest indexed row norm; 0 for
    /// [`AnnMetric::InnerProduct`]).
    pub radius: f32,
    /// [`table_fingerprint`] of the table and the skipped rows it was built from, in hex.
    pub fingerprint: String,
    /// The settings it was built with (`expansion_search` and `threads` are those of the
    /// build; a loaded index takes the caller's).
    pub config: AnnConfig,
    /// Seconds the build took.
    pub build_seconds: f64,
}

/// How [`AnnIndex::open_or_build`] got its index.
#[derive(Debug)]
pub enum Opened {
    /// Loaded from the directory: it was built from the same table with the same settings.
    Loaded,
    /// Built (none was saved, or the saved one was stale) and saved to the directory.
    Built,
    /// Built, but saving it failed (a read-only model directory, a full disk): it serves from
    /// memory and is built again next time.
    BuiltNotSaved(AnnError),
}

/// An approximate maximum-inner-product index over the rows of a row-major `f32` table
/// `[rows, dim]` (the output embeddings of a model): [`search`](Self::search) returns about
/// the `count` rows of largest inner product with a query. Row `i` is item id `i`; rows given
/// as `skip` (a model's reserved ids) are never indexed.
///
/// ```
/// use seqrec_ann::{AnnConfig, AnnIndex};
///
/// // Four items of dimension 2; row 0 is padding and is not indexed.
/// let table = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.7, 0.7];
/// let index = AnnIndex::build(&table, 2, &[0], &AnnConfig::exhaustive(4)).unwrap();
/// let top = index.search(&[1.0, 0.2], 2).unwrap();
/// assert_eq!(top.iter().map(|n| n.id).collect::<Vec<_>>(), vec![1, 3]);
/// ```
pub struct AnnIndex {
    index: usearch::Index,
    manifest: AnnManifest,
    threads: usize,
    expansion_search: usize,
}

impl std::fmt::Debug for AnnIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnnIndex")
            .field("manifest", &self.manifest)
            .field("expansion_search", &self.expansion_search)
            .finish_non_exhaustive()
    }
}

/// A 64-bit fingerprint of a table `[rows, dim]` and its skipped rows: a saved index is
/// reused only for a table of the same fingerprint (the same model weights). Reads every
/// value once (about a second for 10 M × 64).
pub fn table_fingerprint(table: &[f32], dim: usize, skip: &[usize]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |h: u64, v: u64| (h ^ v).wrapping_mul(K).rotate_left(29);
    let mut lanes = [1u64, 2, 3, 4];
    let chunks = table.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let v =
                u64::from(chunk[2 * i].to_bits()) | (u64::from(chunk[2 * i + 1].to_bits()) << 32);
            *lane = mix(*lane, v);
        }
    }
    let mut h = mix(dim as u64, table.len() as u64);
    for lane in lanes {
        h = mix(h, lane);
    }
    for v in rest {
        h = mix(h, u64::from(v.to_bits()));
    }
    let mut skipped: Vec<usize> = skip.to_vec();
    skipped.sort_unstable();
    skipped.dedup();
    for row in skipped {
        h = mix(h, row as u64 ^ 0xFFFF_0000_0000_0000);
    }
    h
}

fn options(config: &AnnConfig, dimensions: usize) -> IndexOptions {
    IndexOptions {
        dimensions,
        metric: match config.metric {
            AnnMetric::InnerProduct => MetricKind::IP,
            AnnMetric::Augmented => MetricKind::L2sq,
        },
        quantization: match config.scalar {
            AnnScalar::F32 => ScalarKind::F32,
            AnnScalar::F16 => ScalarKind::F16,
            AnnScalar::Bf16 => ScalarKind::BF16,
        },
        connectivity: config.connectivity,
        expansion_add: config.expansion_add,
        expansion_search: config.expansion_search,
        multi: false,
    }
}

fn squared_norm(row: &[f32]) -> f32 {
    crate::exact::dot(row, row)
}

impl AnnIndex {
    /// Builds an index over the rows of `table` `[rows, dim]` but those in `skip`, with
    /// `config.threads` threads inserting at once.
    ///
    /// Errors: [`AnnError::Invalid`] for a table that is not whole rows, has no row to index
    /// or a non-finite value, or for settings [`AnnConfig::validate`] refuses;
    /// [`AnnError::Library`] when the library fails (out of memory).
    pub fn build(
        table: &[f32],
        dim: usize,
        skip: &[usize],
        config: &AnnConfig,
    ) -> Result<Self, AnnError> {
        Self::build_with_progress(table, dim, skip, config, &|_| {})
    }

    /// [`build`](Self::build), calling `progress` with the number of rows inserted so far
    /// every few thousand rows (from the building threads).
    pub fn build_with_progress(
        table: &[f32],
        dim: usize,
        skip: &[usize],
        config: &AnnConfig,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Self, AnnError> {
        config.validate()?;
        let rows = table_rows(table, dim)?;
        if let Some(at) = table.iter().position(|v| !v.is_finite()) {
            return Err(AnnError::Invalid(format!(
                "row {} has a non-finite value",
                at / dim
            )));
        }
        let mask = skip_mask(rows, skip);
        let indexed = mask.iter().filter(|s| !**s).count();
        if indexed == 0 {
            return Err(AnnError::Invalid("no row to index".into()));
        }
        let start = std::time::Instant::now();
        let radius = match config.metric {
            AnnMetric::InnerProduct => 0.0,
            AnnMetric::Augmented => table
                .chunks_exact(dim)
                .zip(&mask)
                .filter(|(_, skipped)| !**skipped)
                .map(|(row, _)| squared_norm(row))
                .fold(0f32, f32::max)
                .sqrt(),
        };
        let dimensions = dim + usize::from(config.metric == AnnMetric::Augmented);
        let index = usearch::Index::new(&options(config, dimensions))
            .map_err(|e| AnnError::library("new", e))?;
        let threads = config.resolved_threads();
        index
            .reserve_capacity_and_threads(indexed, threads)
            .map_err(|e| AnnError::library("reserve", e))?;
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let error: Mutex<Option<AnnError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let mut buffer = vec![0f32; dimensions];
                    let radius2 = radius * radius;
                    while !failed.load(Ordering::Relaxed) {
                        let first = next.fetch_add(BUILD_BLOCK, Ordering::Relaxed);
                        if first >= rows {
                            break;
                        }
                        let last = (first + BUILD_BLOCK).min(rows);
                        let mut added = 0;
                        for id in first..last {
                            if mask[id] {
                                continue;
                            }
                            let row = &table[id * dim..(id + 1) * dim];
                            let vector = match config.metric {
                                AnnMetric::InnerProduct => row,
                                AnnMetric::Augmented => {
                                    buffer[..dim].copy_from_slice(row);
                                    buffer[dim] = (radius2 - squared_norm(row)).max(0.0).sqrt();
                                    &buffer[..]
                                }
                            };
                            if let Err(e) = index.add(id as u64, vector) {
                                failed.store(true, Ordering::Relaxed);
                                let mut slot = error.lock().unwrap_or_else(|p| p.into_inner());
                                slot.get_or_insert(AnnError::library("add", e));
                                return;
                            }
                            added += 1;
                        }
                        progress(done.fetch_add(added, Ordering::Relaxed) + added);
                    }
                });
            }
        });
        if let Some(error) = error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(error);
        }
        let manifest = AnnManifest {
            format: FORMAT,
            library: format!("usearch {}", usearch::version()),
            dim,
            rows,
            indexed,
            radius,
            fingerprint: format!("{:016x}", table_fingerprint(table, dim, skip)),
            config: config.clone(),
            build_seconds: start.elapsed().as_secs_f64(),
        };
        Ok(Self {
            index,
            threads,
            expansion_search: config.expansion_search,
            manifest,
        })
    }

    /// The version of the vector search library (usearch) compiled in.
    pub fn library_version() -> &'static str {
        usearch::version()
    }

    /// The SIMD kernels the library picked on this machine for this index's metric and
    /// scalar (`serial` when none).
    pub fn hardware_acceleration(&self) -> String {
        self.index.hardware_acceleration()
    }

    /// What it was built from and how.
    pub fn manifest(&self) -> &AnnManifest {
        &self.manifest
    }

    /// The table's dimension (the length of a query).
    pub fn dim(&self) -> usize {
        self.manifest.dim
    }

    /// The number of items indexed.
    pub fn len(&self) -> usize {
        self.index.size()
    }

    /// Whether it indexes no item (never, for an index that was built or opened).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes the index holds in memory (graph and its copy of the vectors), as the
    /// library counts them.
    pub fn memory_bytes(&self) -> usize {
        self.index.memory_usage()
    }

    /// The current `ef_search`.
    pub fn expansion_search(&self) -> usize {
        self.expansion_search
    }

    /// Changes `ef_search` for the searches that follow (at least 1).
    pub fn set_expansion_search(&mut self, expansion_search: usize) {
        let expansion_search = expansion_search.max(1);
        self.index.change_expansion_search(expansion_search);
        self.expansion_search = expansion_search;
    }

    /// Changes the threads [`search_batch`](Self::search_batch) uses (0: every core).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = AnnConfig {
            threads,
            ..AnnConfig::default()
        }
        .resolved_threads();
    }

    /// About the `count` items of largest inner product with `query` (`dim` values), best
    /// first (fewer when fewer are indexed), with the index's estimate of each score.
    pub fn search(&self, query: &[f32], count: usize) -> Result<Vec<Neighbor>, AnnError> {
        let dim = self.dim();
        if query.len() != dim {
            return Err(AnnError::Invalid(format!(
                "a query has {} values, the index {dim}",
                query.len()
            )));
        }
        if count == 0 {
            return Ok(Vec::new());
        }
        let (matches, q2) = match self.manifest.config.metric {
            AnnMetric::InnerProduct => (self.index.search(query, count), 0.0),
            AnnMetric::Augmented => {
                let mut q = Vec::with_capacity(dim + 1);
                q.extend_from_slice(query);
                q.push(0.0);
                (self.index.search(&q, count), squared_norm(query))
            }
        };
        let matches = matches.map_err(|e| AnnError::library("search", e))?;
        let r2 = self.manifest.radius * self.manifest.radius;
        let mut found: Vec<Neighbor> = matches
            .keys
            .iter()
            .zip(&matches.distances)
            .map(|(&key, &distance)| Neighbor {
                id: key as u32,
                score: match self.manifest.config.metric {
                    AnnMetric::InnerProduct => 1.0 - distance,
                    AnnMetric::Augmented => (q2 + r2 - distance) / 2.0,
                },
            })
            .collect();
        found.sort_by(better);
        Ok(found)
    }

    /// [`search`](Self::search) for every query of `queries` `[n, dim]`, `count` each, on
    /// the index's threads; one list per query, in order.
    pub fn search_batch(
        &self,
        queries: &[f32],
        count: usize,
    ) -> Result<Vec<Vec<Neighbor>>, AnnError> {
        let n = table_rows(queries, self.dim())?;
        self.search_batch_counts(queries, &vec![count; n])
    }

    /// [`search_batch`](Self::search_batch) with a count per query (`counts[i]` for query
    /// `i`; a service asks for more candidates for a user whose history it removes).
    pub fn search_batch_counts(
        &self,
        queries: &[f32],
        counts: &[usize],
    ) -> Result<Vec<Vec<Neighbor>>, AnnError> {
        let dim = self.dim();
        let n = table_rows(queries, dim)?;
        if counts.len() != n {
            return Err(AnnError::Invalid(format!(
                "{} counts for {n} queries",
                counts.len()
            )));
        }
        let threads = self.threads.min(n).max(1);
        if threads == 1 {
            return queries
                .chunks_exact(dim)
                .zip(counts)
                .map(|(q, &c)| self.search(q, c))
                .collect();
        }
        let next = AtomicUsize::new(0);
        let mut results: Vec<Option<Result<Vec<Neighbor>, AnnError>>> =
            (0..n).map(|_| None).collect();
        let parts: Vec<Vec<Searched>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= n {
                                break;
                            }
                            let q = &queries[i * dim..(i + 1) * dim];
                            mine.push((i, self.search(q, counts[i])));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a search thread panicked"))
                .collect()
        });
        for (i, found) in parts.into_iter().flatten() {
            results[i] = Some(found);
        }
        results
            .into_iter()
            .map(|r| r.expect("every query was searched"))
            .collect()
    }

    /// Saves the index to `dir` (created if missing): the graph `index.usearch`, then the
    /// manifest `ann.json`.
    pub fn save(&self, dir: &Path) -> Result<(), AnnError> {
        std::fs::create_dir_all(dir).map_err(|source| AnnError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let manifest_path = dir.join(MANIFEST_FILE);
        // A directory is only valid with a manifest: remove it first so that a killed save
        // leaves no manifest next to a half-written graph.
        match std::fs::remove_file(&manifest_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(AnnError::Io {
                    path: manifest_path,
                    source,
                });
            }
        }
        let graph = dir.join(INDEX_FILE);
        self.index
            .save(&path_str(&graph)?)
            .map_err(|e| AnnError::library("save", e))?;
        let text =
            serde_json::to_string_pretty(&self.manifest).map_err(|e| AnnError::Manifest {
                path: manifest_path.clone(),
                message: e.to_string(),
            })?;
        let temporary = dir.join(format!("{MANIFEST_FILE}.tmp"));
        std::fs::write(&temporary, text).map_err(|source| AnnError::Io {
            path: temporary.clone(),
            source,
        })?;
        std::fs::rename(&temporary, &manifest_path).map_err(|source| AnnError::Io {
            path: manifest_path,
            source,
        })
    }

    /// Reads the manifest of a saved index.
    pub fn read_manifest(dir: &Path) -> Result<AnnManifest, AnnError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| AnnError::Io {
            path: path.clone(),
            source,
        })?;
        let manifest: AnnManifest =
            serde_json::from_str(&text).map_err(|e| AnnError::Manifest {
                path: path.clone(),
                message: e.to_string(),
            })?;
        if manifest.format != FORMAT {
            return Err(AnnError::Manifest {
                path,
                message: format!("format {} (this build reads {FORMAT})", manifest.format),
            });
        }
        Ok(manifest)
    }

    /// Loads an index saved by [`save`](Self::save) into memory, searching with `config`'s
    /// `expansion_search` and `threads` (its other settings are the saved ones).
    pub fn load(dir: &Path, config: &AnnConfig) -> Result<Self, AnnError> {
        Self::open_saved(dir, config, false)
    }

    /// [`load`](Self::load), with the graph memory-mapped from the file instead of read
    /// (the page cache holds it; nothing is copied at start).
    pub fn view(dir: &Path, config: &AnnConfig) -> Result<Self, AnnError> {
        Self::open_saved(dir, config, true)
    }

    fn open_saved(dir: &Path, config: &AnnConfig, view: bool) -> Result<Self, AnnError> {
        let manifest = Self::read_manifest(dir)?;
        let graph = path_str(&dir.join(INDEX_FILE))?;
        let opened = if view {
            usearch::Index::restore_view(&graph)
        } else {
            usearch::Index::restore(&graph)
        };
        let index = opened.map_err(|e| AnnError::library("load", e))?;
        let dimensions = manifest.dim + usize::from(manifest.config.metric == AnnMetric::Augmented);
        if index.dimensions() != dimensions || index.size() != manifest.indexed {
            return Err(AnnError::Stale {
                dir: dir.to_path_buf(),
                reason: format!(
                    "the graph holds {} vectors of {} values, the manifest {} of {dimensions}",
                    index.size(),
                    index.dimensions(),
                    manifest.indexed
                ),
            });
        }
        let mut opened = Self {
            index,
            threads: 1,
            expansion_search: config.expansion_search,
            manifest,
        };
        opened.set_expansion_search(config.expansion_search);
        opened.set_threads(config.threads);
        Ok(opened)
    }

    /// Why a saved manifest does not fit a table and build settings, or `None` when it does.
    fn staleness(
        manifest: &AnnManifest,
        fingerprint: &str,
        rows: usize,
        dim: usize,
        config: &AnnConfig,
    ) -> Option<String> {
        let saved = &manifest.config;
        if manifest.dim != dim || manifest.rows != rows {
            Some(format!(
                "built for {} rows of {}, the table has {rows} of {dim}",
                manifest.rows, manifest.dim
            ))
        } else if manifest.fingerprint != fingerprint {
            Some("built from other values (another model's weights)".into())
        } else if (
            saved.connectivity,
            saved.expansion_add,
            saved.metric,
            saved.scalar,
        ) != (
            config.connectivity,
            config.expansion_add,
            config.metric,
            config.scalar,
        ) {
            Some("built with other settings".into())
        } else {
            None
        }
    }

    /// The index of `table` saved in `dir` when it was built from this table (same
    /// fingerprint) with the same graph settings, else a new one, built and saved there.
    /// `progress` is called while building (see [`build_with_progress`]).
    ///
    /// [`build_with_progress`]: Self::build_with_progress
    pub fn open_or_build(
        dir: &Path,
        table: &[f32],
        dim: usize,
        skip: &[usize],
        config: &AnnConfig,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(Self, Opened), AnnError> {
        config.validate()?;
        let rows = table_rows(table, dim)?;
        if dir.join(MANIFEST_FILE).exists() {
            let manifest = Self::read_manifest(dir)?;
            let fingerprint = format!("{:016x}", table_fingerprint(table, dim, skip));
            if Self::staleness(&manifest, &fingerprint, rows, dim, config).is_none() {
                return Ok((Self::load(dir, config)?, Opened::Loaded));
            }
        }
        let index = Self::build_with_progress(table, dim, skip, config, progress)?;
        let opened = match index.save(dir) {
            Ok(()) => Opened::Built,
            Err(e) => Opened::BuiltNotSaved(e),
        };
        Ok((index, opened))
    }

    /// Checks that this index was built from `table` `[rows, dim]` with rows `skip` left
    /// out: [`AnnError::Stale`] (saying what differs) otherwise.
    pub fn check_table(&self, table: &[f32], dim: usize, skip: &[usize]) -> Result<(), AnnError> {
        let rows = table_rows(table, dim)?;
        let fingerprint = format!("{:016x}", table_fingerprint(table, dim, skip));
        let config = self.manifest.config.clone();
        match Self::staleness(&self.manifest, &fingerprint, rows, dim, &config) {
            None => Ok(()),
            Some(reason) => Err(AnnError::Stale {
                dir: PathBuf::new(),
                reason,
            }),
        }
    }
}

/// One query's search: its position and its result.
type Searched = (usize, Result<Vec<Neighbor>, AnnError>);

/// The path as UTF-8, which the library takes.
fn path_str(path: &Path) -> Result<String, AnnError> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| AnnError::Invalid(format!("{} is not UTF-8", path.display())))
}
