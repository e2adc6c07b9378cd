//! Top-k for every user of a file: users and their histories in, recommendations out,
//! streamed in chunks so that memory stays bounded whatever the file's size.
//!
//! Users files (by extension):
//! - `.csv` / `.tsv`: a header with a `user` (or `user_id`) column and a `history` column;
//!   a history is a JSON array of ids (`["a b", "c"]`, for ids with spaces) or ids separated
//!   by spaces.
//! - `.jsonl` / `.ndjson`: one object a line, `{"user": "u1", "history": ["a", "b"]}`.
//! - `.parquet`: a `user` (or `user_id`) column of strings or integers and a `history`
//!   column, a list of strings or a string as in CSV.
//!
//! Recommendations files: `.csv` or `.parquet` with the columns `user`, `rank` (1 is best),
//! `item` and `score`, one row per recommended item.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, Float32Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::error::ServeError;
use crate::ranker::{Ranker, history_exclusion, rank_by_length};

/// What to do with a history item the model does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownItems {
    /// Stop with an error naming the file, line and item (the default).
    #[default]
    Error,
    /// Leave the item out of the history and count it; a user left with no known item gets
    /// no recommendations and is counted.
    Skip,
}

/// Settings of [`recommend_file`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkOptions {
    /// Items per user. Default 10.
    pub k: usize,
    /// Never recommend an item of the user's history. Default false.
    pub exclude_history: bool,
    /// Users read, ranked and written at a time. Default 1 024.
    pub chunk: usize,
    /// Unknown history items. Default [`UnknownItems::Error`].
    pub unknown_items: UnknownItems,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            k: 10,
            exclude_history: false,
            chunk: 1_024,
            unknown_items: UnknownItems::Error,
        }
    }
}

/// What [`recommend_file`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkReport {
    /// Users recommended for.
    pub users: u64,
    /// Rows written.
    pub recommendations: u64,
    /// History items left out as unknown ([`UnknownItems::Skip`]).
    pub skipped_items: u64,
    /// Users left out because no item of their history was known.
    pub skipped_users: u64,
    /// Wall-clock seconds, reading and writing included.
    pub seconds: f64,
}

impl BulkReport {
    /// Users per second.
    pub fn users_per_second(&self) -> f64 {
        self.users as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }
}

/// One user of a users file.
#[derive(Debug, Clone, PartialEq)]
pub struct UserHistory {
    /// The user's id.
    pub user: String,
    /// The history, oldest first, as the items' own ids.
    pub history: Vec<String>,
    /// Where it was read: the 1-based line (CSV with its header as line 1, JSON lines) or row
    /// (Parquet).
    pub line: u64,
}

/// Reads a users file, one user at a time (Parquet a row group batch at a time).
pub struct UsersReader {
    path: PathBuf,
    rows: Rows,
}

enum Rows {
    Csv {
        records: csv::StringRecordsIntoIter<BufReader<File>>,
        user: usize,
        history: usize,
    },
    Json {
        lines: std::io::Lines<BufReader<File>>,
        line: u64,
    },
    Parquet {
        batches: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
        pending: std::vec::IntoIter<UserHistory>,
        row: u64,
    },
}

/// The two columns of a users file.
const USER_COLUMNS: [&str; 2] = ["user", "user_id"];
const HISTORY_COLUMN: &str = "history";

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

impl UsersReader {
    /// Opens `path`, a users file of a kind its extension names (see the module docs).
    pub fn open(path: &Path) -> Result<Self, ServeError> {
        let file = || File::open(path).map_err(ServeError::io(path));
        let format = |message: String| ServeError::Format {
            path: path.to_path_buf(),
            message,
        };
        let rows = match extension(path).as_str() {
            ext @ ("csv" | "tsv") => {
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(if ext == "tsv" { b'\t' } else { b',' })
                    .from_reader(BufReader::new(file()?));
                let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
                let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.trim()));
                let user = find(&USER_COLUMNS).ok_or_else(|| {
                    format("no `user` (or `user_id`) column in the header".into())
                })?;
                let history = find(&[HISTORY_COLUMN])
                    .ok_or_else(|| format("no `history` column in the header".into()))?;
                Rows::Csv {
                    records: reader.into_records(),
                    user,
                    history,
                }
            }
            "jsonl" | "ndjson" => Rows::Json {
                lines: BufReader::new(file()?).lines(),
                line: 0,
            },
            "parquet" => {
                let batches = ParquetRecordBatchReaderBuilder::try_new(file()?)
                    .and_then(|b| b.with_batch_size(1_024).build())
                    .map_err(|e| parquet_error(path, e))?;
                Rows::Parquet {
                    batches,
                    pending: Vec::new().into_iter(),
                    row: 0,
                }
            }
            other => {
                return Err(format(format!(
                    "unknown users file extension `{other}`: expected csv, tsv, jsonl, ndjson or parquet"
                )));
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            rows,
        })
    }

    fn row_error(&self, line: u64, field: &str, message: impl Into<String>) -> ServeError {
        ServeError::Row {
            path: self.path.clone(),
            line,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Iterator for UsersReader {
    type Item = Result<UserHistory, ServeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.rows {
            Rows::Csv {
                records,
                user,
                history,
            } => {
                let (user, history) = (*user, *history);
                let record = match records.next()? {
                    Ok(record) => record,
                    Err(e) => return Some(Err(csv_error(&self.path, e))),
                };
                let line = record.position().map_or(0, |p| p.line());
                let field = |index: usize, name: &str| {
                    record
                        .get(index)
                        .ok_or_else(|| self.row_error(line, name, "missing"))
                };
                let parsed = field(user, "user").and_then(|user| {
                    let history = field(history, HISTORY_COLUMN)?;
                    let history = parse_history_text(history)
                        .map_err(|m| self.row_error(line, HISTORY_COLUMN, m))?;
                    Ok(UserHistory {
                        user: user.to_string(),
                        history,
                        line,
                    })
                });
                Some(parsed)
            }
            Rows::Json { lines, line } => loop {
                *line += 1;
                let number = *line;
                let text = match lines.next()? {
                    Ok(text) => text,
                    Err(source) => {
                        return Some(Err(ServeError::Io {
                            path: self.path.clone(),
                            source,
                        }));
                    }
                };
                if text.trim().is_empty() {
                    continue;
                }
                #[derive(Deserialize)]
                struct JsonUser {
                    #[serde(alias = "user_id")]
                    user: serde_json::Value,
                    history: Vec<String>,
                }
                let parsed = serde_json::from_str::<JsonUser>(&text)
                    .map_err(|e| self.row_error(number, "user/history", e.to_string()))
                    .and_then(|row| {
                        let user = match row.user {
                            serde_json::Value::String(user) => user,
                            serde_json::Value::Number(n) => n.to_string(),
                            other => {
                                return Err(self.row_error(
                                    number,
                                    "user",
                                    format!("expected a string or a number, got {other}"),
                                ));
                            }
                        };
                        Ok(UserHistory {
                            user,
                            history: row.history,
                            line: number,
                        })
                    });
                return Some(parsed);
            },
            Rows::Parquet {
                batches,
                pending,
                row,
            } => loop {
                if let Some(user) = pending.next() {
                    return Some(Ok(user));
                }
                let batch = match batches.next()? {
                    Ok(batch) => batch,
                    Err(e) => {
                        return Some(Err(ServeError::Parquet {
                            path: self.path.clone(),
                            message: e.to_string(),
                        }));
                    }
                };
                let first = *row + 1;
                *row += batch.num_rows() as u64;
                match parquet_users(&self.path, &batch, first) {
                    Ok(users) => *pending = users.into_iter(),
                    Err(e) => return Some(Err(e)),
                }
            },
        }
    }
}

/// A history in a text field: a JSON array of strings, or ids separated by white space.
pub fn parse_history_text(text: &str) -> Result<Vec<String>, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        serde_json::from_str::<Vec<String>>(trimmed)
            .map_err(|e| format!("not a JSON array of strings: {e}"))
    } else {
        Ok(trimmed.split_whitespace().map(str::to_string).collect())
    }
}

/// The users of one Parquet record batch, whose first row is row `first` of the file.
fn parquet_users(
    path: &Path,
    batch: &RecordBatch,
    first: u64,
) -> Result<Vec<UserHistory>, ServeError> {
    let schema = batch.schema();
    let format = |message: String| ServeError::Format {
        path: path.to_path_buf(),
        message,
    };
    let column = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| schema.index_of(name).ok())
            .map(|index| batch.column(index).clone())
    };
    let users =
        column(&USER_COLUMNS).ok_or_else(|| format("no `user` (or `user_id`) column".into()))?;
    let histories =
        column(&[HISTORY_COLUMN]).ok_or_else(|| format("no `history` column".into()))?;
    let row_error = |row: usize, field: &str, message: String| ServeError::Row {
        path: path.to_path_buf(),
        line: first + row as u64,
        field: field.into(),
        message,
    };
    let user_at = user_column(&users).ok_or_else(|| {
        format(format!(
            "column `user` has type {}: expected strings or integers",
            users.data_type()
        ))
    })?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        if users.is_null(row) {
            return Err(row_error(row, "user", "is null".into()));
        }
        if histories.is_null(row) {
            return Err(row_error(row, HISTORY_COLUMN, "is null".into()));
        }
        let history = history_at(&histories, row)
            .map_err(|message| row_error(row, HISTORY_COLUMN, message))?;
        out.push(UserHistory {
            user: user_at(row),
            history,
            line: first + row as u64,
        });
    }
    Ok(out)
}

/// Reads a user id at a row, for the column types accepted.
fn user_column(users: &ArrayRef) -> Option<Box<dyn Fn(usize) -> String + '_>> {
    Some(match users.data_type() {
        DataType::Utf8 => Box::new(|row| users.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Box::new(|row| users.as_string::<i64>().value(row).to_string()),
        DataType::Int32 => Box::new(|row| users.as_primitive::<Int32Type>().value(row).to_string()),
        DataType::Int64 => Box::new(|row| users.as_primitive::<Int64Type>().value(row).to_string()),
        DataType::UInt32 => {
            Box::new(|row| users.as_primitive::<UInt32Type>().value(row).to_string())
        }
        DataType::UInt64 => {
            Box::new(|row| users.as_primitive::<UInt64Type>().value(row).to_string())
        }
        _ => return None,
    })
}

/// The history at a row: a list of strings, or a string as in CSV.
fn history_at(histories: &ArrayRef, row: usize) -> Result<Vec<String>, String> {
    let strings = |values: ArrayRef| -> Result<Vec<String>, String> {
        match values.data_type() {
            DataType::Utf8 => Ok(values
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_string)
                .collect()),
            DataType::LargeUtf8 => Ok(values
                .as_string::<i64>()
                .iter()
                .flatten()
                .map(str::to_string)
                .collect()),
            other => Err(format!("a list of {other}: expected a list of strings")),
        }
    };
    match histories.data_type() {
        DataType::List(_) => strings(histories.as_list::<i32>().value(row)),
        DataType::LargeList(_) => strings(histories.as_list::<i64>().value(row)),
        DataType::Utf8 => parse_history_text(histories.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => parse_history_text(histories.as_string::<i64>().value(row)),
        other => Err(format!(
            "type {other}: expected a list of strings or a string"
        )),
    }
}

/// Writes recommendations as rows `user, rank, item, score`.
pub struct RecommendationsWriter {
    path: PathBuf,
    sink: Sink,
}

enum Sink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Parquet(Box<ArrowWriter<File>>),
}

/// One user's recommendations, best first.
pub type UserRecommendations<'a> = (&'a str, Vec<(&'a str, f32)>);

impl RecommendationsWriter {
    /// Creates `path` (`.csv` or `.parquet`).
    pub fn create(path: &Path) -> Result<Self, ServeError> {
        let file = || File::create(path).map_err(ServeError::io(path));
        let sink = match extension(path).as_str() {
            "csv" => {
                let mut writer = csv::Writer::from_writer(BufWriter::new(file()?));
                writer
                    .write_record(["user", "rank", "item", "score"])
                    .map_err(|e| csv_error(path, e))?;
                Sink::Csv(Box::new(writer))
            }
            "parquet" => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                let writer = ArrowWriter::try_new(file()?, recommendations_schema(), Some(props))
                    .map_err(|e| parquet_error(path, e))?;
                Sink::Parquet(Box::new(writer))
            }
            other => {
                return Err(ServeError::Format {
                    path: path.to_path_buf(),
                    message: format!(
                        "unknown recommendations file extension `{other}`: expected csv or parquet"
                    ),
                });
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            sink,
        })
    }

    /// Writes the recommendations of a chunk of users; returns the rows written.
    pub fn write(&mut self, users: &[UserRecommendations<'_>]) -> Result<u64, ServeError> {
        let rows: u64 = users.iter().map(|(_, list)| list.len() as u64).sum();
        match &mut self.sink {
            Sink::Csv(writer) => {
                for (user, list) in users {
                    for (rank, (item, score)) in list.iter().enumerate() {
                        writer
                            .write_record([
                                *user,
                                &(rank + 1).to_string(),
                                item,
                                &score.to_string(),
                            ])
                            .map_err(|e| csv_error(&self.path, e))?;
                    }
                }
            }
            Sink::Parquet(writer) => {
                let flat = users
                    .iter()
                    .flat_map(|(user, list)| {
                        list.iter().enumerate().map(move |(rank, (item, score))| {
                            (*user, rank as u32 + 1, *item, *score)
                        })
                    })
                    .collect::<Vec<_>>();
                let columns: Vec<ArrayRef> = vec![
                    Arc::new(StringArray::from_iter_values(flat.iter().map(|r| r.0))),
                    Arc::new(UInt32Array::from_iter_values(flat.iter().map(|r| r.1))),
                    Arc::new(StringArray::from_iter_values(flat.iter().map(|r| r.2))),
                    Arc::new(Float32Array::from_iter_values(flat.iter().map(|r| r.3))),
                ];
                let batch =
                    RecordBatch::try_new(recommendations_schema(), columns).map_err(|e| {
                        ServeError::Parquet {
                            path: self.path.clone(),
                            message: e.to_string(),
                        }
                    })?;
                writer
                    .write(&batch)
                    .map_err(|e| parquet_error(&self.path, e))?;
            }
        }
        Ok(rows)
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<(), ServeError> {
        match self.sink {
            Sink::Csv(writer) => {
                let mut inner = writer.into_inner().map_err(|e| ServeError::Io {
                    path: self.path.clone(),
                    source: e.into_error(),
                })?;
                inner.flush().map_err(ServeError::io(&self.path))
            }
            Sink::Parquet(writer) => writer
                .close()
                .map(|_| ())
                .map_err(|e| parquet_error(&self.path, e)),
        }
    }
}

fn recommendations_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("rank", DataType::UInt32, false),
        Field::new("item", DataType::Utf8, false),
        Field::new("score", DataType::Float32, false),
    ]))
}

fn csv_error(path: &Path, error: csv::Error) -> ServeError {
    let line = error.position().map_or(0, |p| p.line());
    ServeError::Row {
        path: path.to_path_buf(),
        line,
        field: "(record)".into(),
        message: error.to_string(),
    }
}

fn parquet_error(path: &Path, error: parquet::errors::ParquetError) -> ServeError {
    ServeError::Parquet {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// Recommends `options.k` items for every user of `input` with `ranker` and writes them to
/// `output`, `options.chunk` users at a time; `progress` gets the number of users done after
/// each chunk.
pub fn recommend_file(
    ranker: &dyn Ranker,
    input: &Path,
    output: &Path,
    options: &BulkOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<BulkReport, ServeError> {
    if options.k == 0 || options.chunk == 0 {
        return Err(ServeError::Config(
            "k and the chunk size must be at least 1".into(),
        ));
    }
    let started = Instant::now();
    let reader = UsersReader::open(input)?;
    let mut writer = RecommendationsWriter::create(output)?;
    let mut report = BulkReport {
        users: 0,
        recommendations: 0,
        skipped_items: 0,
        skipped_users: 0,
        seconds: 0.0,
    };
    let mut chunk: Vec<UserHistory> = Vec::with_capacity(options.chunk);
    let mut rows = reader.peekable();
    while rows.peek().is_some() {
        chunk.clear();
        while chunk.len() < options.chunk {
            match rows.next() {
                Some(row) => chunk.push(row?),
                None => break,
            }
        }
        rank_chunk(ranker, input, &chunk, options, &mut writer, &mut report)?;
        progress(report.users + report.skipped_users);
    }
    writer.finish()?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Resolves, ranks and writes one chunk of users.
fn rank_chunk(
    ranker: &dyn Ranker,
    input: &Path,
    chunk: &[UserHistory],
    options: &BulkOptions,
    writer: &mut RecommendationsWriter,
    report: &mut BulkReport,
) -> Result<(), ServeError> {
    let items = ranker.items();
    let mut users = Vec::with_capacity(chunk.len());
    let mut histories = Vec::with_capacity(chunk.len());
    for row in chunk {
        let mut ids = Vec::with_capacity(row.history.len());
        for (position, item) in row.history.iter().enumerate() {
            match (items.id(item), options.unknown_items) {
                (Some(id), _) => ids.push(id),
                (None, UnknownItems::Skip) => report.skipped_items += 1,
                (None, UnknownItems::Error) => {
                    return Err(ServeError::Row {
                        path: input.to_path_buf(),
                        line: row.line,
                        field: HISTORY_COLUMN.into(),
                        message: format!("unknown item `{item}` at position {position}"),
                    });
                }
            }
        }
        if ids.is_empty() {
            if options.unknown_items == UnknownItems::Skip {
                report.skipped_users += 1;
                continue;
            }
            return Err(ServeError::Row {
                path: input.to_path_buf(),
                line: row.line,
                field: HISTORY_COLUMN.into(),
                message: "the history is empty".into(),
            });
        }
        users.push(row.user.as_str());
        histories.push(ids);
    }
    let exclusions: Vec<Vec<u32>> = histories
        .iter()
        .map(|history| history_exclusion(history, options.exclude_history))
        .collect();
    let ranked = rank_by_length(ranker, &histories, &exclusions, options.k)?;
    let named: Vec<UserRecommendations<'_>> = users
        .iter()
        .zip(&ranked)
        .map(|(user, list)| {
            (
                *user,
                list.iter()
                    .map(|&(id, score)| (items.name(id).unwrap_or_default(), score))
                    .collect(),
            )
        })
        .collect();
    report.recommendations += writer.write(&named)?;
    report.users += users.len() as u64;
    Ok(())
}
