//! Parquet event files with the columns of [`ColumnNames`] (the same as CSV), and the
//! row-group-by-row-group reading machinery that [`crate::yambda`] shares.
//!
//! Accepted column types: ids as strings or integers; timestamps as Arrow timestamps (any
//! unit), integers (read as [`TimestampFormat`] says), floats (Unix seconds) or RFC 3339
//! strings; durations as integers, integral floats or strings; the skipped flag as a
//! boolean, 0/1 integer or string. Dictionary-encoded columns (pandas' `category`, Polars'
//! `Categorical`) are read as their values, dates (`Date32`, `Date64`) as midnight UTC
//! timestamps, decimals as integers (scale 0) or floats, through arrow's cast kernels. Pages
//! may be Snappy, zstd or LZ4 compressed. Only the needed columns are decoded, one row group
//! at a time, in batches.
//!
//! [`ColumnNames`]: crate::ColumnNames
//! [`TimestampFormat`]: crate::TimestampFormat

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMillisecondArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::fields;
use crate::log::{Event, EventLog, EventLogBuilder};
use crate::read::ReadOptions;
use crate::report::ReadReport;
use crate::timestamp::{TimestampFormat, parse_seconds, parse_timestamp};
use seqrec_data::{DataError, Location};

/// Rows decoded at a time.
const BATCH_ROWS: usize = 1 << 16;
/// Rows per row group written by [`write_events_parquet`].
const WRITE_ROW_GROUP: usize = 1 << 20;

/// One value of a supported column type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Null,
    Text(&'a str),
    Int(i128),
    Float(f64),
    Bool(bool),
    /// A timestamp already in milliseconds.
    Millis(i64),
}

/// Broad classes of column types, for checking a schema before reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Text,
    Int,
    Float,
    Bool,
    Timestamp,
}

pub(crate) fn class_of(data_type: &DataType) -> Option<Class> {
    use DataType::*;
    if let Some(plain) = plain_type(data_type) {
        return class_of(&plain);
    }
    Some(match data_type {
        Utf8 | LargeUtf8 | Utf8View => Class::Text,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => Class::Int,
        Float32 | Float64 => Class::Float,
        Boolean => Class::Bool,
        Timestamp(_, _) => Class::Timestamp,
        _ => return None,
    })
}

/// The type a column of `data_type` is cast to before it is read, when it is not read as it
/// is: a dictionary's value type (itself made plain), a millisecond timestamp for a date, an
/// integer for a decimal of scale 0 or less, a float for other decimals.
fn plain_type(data_type: &DataType) -> Option<DataType> {
    use DataType::*;
    match data_type {
        Dictionary(_, values) => {
            Some(plain_type(values).unwrap_or_else(|| values.as_ref().clone()))
        }
        Date32 | Date64 => Some(Timestamp(TimeUnit::Millisecond, None)),
        Decimal32(_, scale) | Decimal64(_, scale) | Decimal128(_, scale) | Decimal256(_, scale) => {
            Some(if *scale <= 0 { Int64 } else { Float64 })
        }
        _ => None,
    }
}

/// `array` in a type [`Column::cell`] reads ([`plain_type`]), by arrow's cast kernel; other
/// arrays as they are.
fn plain(array: &ArrayRef) -> Result<ArrayRef, arrow_schema::ArrowError> {
    match plain_type(array.data_type()) {
        Some(target) => arrow_cast::cast(array, &target),
        None => Ok(array.clone()),
    }
}

/// A typed view of one column of a batch.
pub(crate) struct Column<'a> {
    array: &'a ArrayRef,
}

impl<'a> Column<'a> {
    pub(crate) fn cell(&self, row: usize) -> Cell<'a> {
        use DataType::*;
        let a = self.array;
        if a.is_null(row) {
            return Cell::Null;
        }
        match a.data_type() {
            Utf8 => Cell::Text(a.as_string::<i32>().value(row)),
            LargeUtf8 => Cell::Text(a.as_string::<i64>().value(row)),
            Utf8View => Cell::Text(a.as_string_view().value(row)),
            Int8 => Cell::Int(a.as_primitive::<Int8Type>().value(row).into()),
            Int16 => Cell::Int(a.as_primitive::<Int16Type>().value(row).into()),
            Int32 => Cell::Int(a.as_primitive::<Int32Type>().value(row).into()),
            Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(row).into()),
            UInt8 => Cell::Int(a.as_primitive::<UInt8Type>().value(row).into()),
            UInt16 => Cell::Int(a.as_primitive::<UInt16Type>().value(row).into()),
            UInt32 => Cell::Int(a.as_primitive::<UInt32Type>().value(row).into()),
            UInt64 => Cell::Int(a.as_primitive::<UInt64Type>().value(row).into()),
            Float32 => Cell::Float(a.as_primitive::<Float32Type>().value(row).into()),
            Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(row)),
            Boolean => Cell::Bool(a.as_boolean().value(row)),
            Timestamp(TimeUnit::Second, _) => Cell::Millis(
                a.as_primitive::<TimestampSecondType>()
                    .value(row)
                    .saturating_mul(1000),
            ),
            Timestamp(TimeUnit::Millisecond, _) => {
                Cell::Millis(a.as_primitive::<TimestampMillisecondType>().value(row))
            }
            Timestamp(TimeUnit::Microsecond, _) => Cell::Millis(
                a.as_primitive::<TimestampMicrosecondType>()
                    .value(row)
                    .div_euclid(1000),
            ),
            Timestamp(TimeUnit::Nanosecond, _) => Cell::Millis(
                a.as_primitive::<TimestampNanosecondType>()
                    .value(row)
                    .div_euclid(1_000_000),
            ),
            // Schemas are checked with `class_of` before reading.
            _ => Cell::Null,
        }
    }
}

impl Cell<'_> {
    /// The text shown in error messages.
    pub(crate) fn display(&self) -> String {
        match self {
            Cell::Null => "null".into(),
            Cell::Text(s) => (*s).to_owned(),
            Cell::Int(v) => v.to_string(),
            Cell::Float(v) => v.to_string(),
            Cell::Bool(v) => v.to_string(),
            Cell::Millis(v) => format!("{v} ms"),
        }
    }

    /// A required id, written into `out`.
    pub(crate) fn id_into(&self, out: &mut String) -> Result<(), &'static str> {
        out.clear();
        match self {
            Cell::Text(s) => out.push_str(fields::id(s)?),
            Cell::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Null => return Err(fields::NULL),
            _ => return Err("not a string or integer id"),
        }
        Ok(())
    }

    /// A required timestamp in milliseconds.
    pub(crate) fn timestamp_ms(&self, format: TimestampFormat) -> Result<i64, &'static str> {
        match *self {
            Cell::Millis(v) => Ok(v),
            Cell::Text(s) => parse_timestamp(s.trim(), format),
            Cell::Int(v) => {
                let v = i64::try_from(v).map_err(|_| crate::timestamp::TIMESTAMP_RANGE)?;
                parse_timestamp(&v.to_string(), format)
            }
            Cell::Float(v) => parse_seconds(&v.to_string()),
            Cell::Null => Err(fields::NULL),
            Cell::Bool(_) => Err(crate::timestamp::BAD_TIMESTAMP),
        }
    }

    /// A number (for durations and ratios); `None` for null.
    pub(crate) fn number(&self) -> Result<Option<f64>, &'static str> {
        match *self {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(v as f64)),
            Cell::Float(v) if v.is_finite() => Ok(Some(v)),
            Cell::Text(s) if s.trim().is_empty() => Ok(None),
            Cell::Text(s) => s
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| "not a number"),
            _ => Err("not a number"),
        }
    }

    /// An optional duration in milliseconds.
    pub(crate) fn duration_ms(&self) -> Result<Option<u32>, &'static str> {
        match *self {
            Cell::Int(v) => {
                let v = u64::try_from(v).map_err(|_| fields::NOT_DURATION)?;
                fields::checked_ms(v).map(Some)
            }
            Cell::Text(s) => fields::duration_ms(s),
            Cell::Float(v) if v >= 0.0 && v.fract() == 0.0 => {
                if v > f64::from(crate::log::MAX_MS) {
                    Err(fields::DURATION_RANGE)
                } else {
                    Ok(Some(v as u32))
                }
            }
            Cell::Null => Ok(None),
            _ => Err(fields::NOT_DURATION),
        }
    }

    /// An optional flag.
    pub(crate) fn flag(&self) -> Result<Option<bool>, &'static str> {
        match *self {
            Cell::Bool(b) => Ok(Some(b)),
            Cell::Int(0) => Ok(Some(false)),
            Cell::Int(1) => Ok(Some(true)),
            Cell::Text(s) => fields::flag(s),
            Cell::Null => Ok(None),
            _ => Err(fields::NOT_BOOL),
        }
    }
}

/// A column the reader wants: its name, whether it is required, and the classes allowed.
pub(crate) struct Wanted<'n> {
    pub(crate) name: &'n str,
    pub(crate) required: bool,
    pub(crate) allowed: &'static [Class],
    pub(crate) expected: &'static str,
}

/// A [`Wanted`] column.
pub(crate) fn want<'n>(
    name: &'n str,
    required: bool,
    (allowed, expected): (&'static [Class], &'static str),
) -> Wanted<'n> {
    Wanted {
        name,
        required,
        allowed,
        expected,
    }
}

/// Ids of text or integer type.
pub(crate) const ID: (&[Class], &str) = (&[Class::Text, Class::Int], "a string or integer type");
/// Timestamps.
pub(crate) const TIME: (&[Class], &str) = (
    &[Class::Timestamp, Class::Int, Class::Float, Class::Text],
    "a timestamp, integer, float or string type",
);
/// Numbers.
pub(crate) const NUMBER: (&[Class], &str) = (
    &[Class::Int, Class::Float, Class::Text],
    "an integer, float or string type",
);
/// Flags.
pub(crate) const FLAG: (&[Class], &str) = (
    &[Class::Bool, Class::Int, Class::Text],
    "a boolean, integer or string type",
);

fn parquet_error(path: &Path, err: impl std::fmt::Display) -> DataError {
    DataError::Parquet {
        path: path.to_owned(),
        message: err.to_string(),
    }
}

/// Whether a Parquet file has all of `names` as top-level columns.
pub(crate) fn has_columns(path: &Path, names: &[&str]) -> Result<bool, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let Ok(Ok(metadata)) = guard(path, || {
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
    }) else {
        // Not readable as Parquet: let the reader report it.
        return Ok(false);
    };
    let schema = metadata.schema();
    Ok(names.iter().all(|n| schema.field_with_name(n).is_ok()))
}

/// Runs a call into the Parquet crate, turning a panic into [`DataError::Parquet`]: the crate
/// panics on some damaged files instead of returning an error (found by
/// `parquet_mutations_are_reported_or_counted`, tests/properties.rs, and by
/// `a_damaged_footer_is_an_error_not_a_panic`, which flips every footer byte: e.g. "Decoder
/// for dict should have been set" for a column whose footer claims a dictionary it does not
/// have).
fn guard<T>(path: &Path, call: impl FnOnce() -> T) -> Result<T, DataError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".to_owned());
        DataError::Parquet {
            path: path.to_owned(),
            message: format!("the file is damaged (the Parquet reader failed: {what})"),
        }
    })
}

fn file_len(path: &Path, file: &File) -> Result<u64, DataError> {
    Ok(file.metadata().map_err(|e| DataError::io(path, e))?.len())
}

/// Checks that every column chunk the footer declares lies inside the file: the Parquet
/// crate panics on a negative offset or length (found by
/// `parquet_mutations_are_reported_or_counted`, tests/properties.rs) and would allocate a
/// declared length however large.
fn check_chunks(path: &Path, metadata: &ArrowReaderMetadata, len: u64) -> Result<(), DataError> {
    for (group, row_group) in metadata.metadata().row_groups().iter().enumerate() {
        for column in row_group.columns() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            let size = column.compressed_size();
            let inside = u64::try_from(start)
                .ok()
                .zip(u64::try_from(size).ok())
                .and_then(|(start, size)| start.checked_add(size))
                .is_some_and(|end| end <= len);
            if !inside {
                return Err(DataError::Parquet {
                    path: path.to_owned(),
                    message: format!(
                        "row group {group}, column {}: the footer puts its {size} bytes at \
                         offset {start}, outside the file's {len} bytes",
                        column.column_path()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Streams the `wanted` columns of a Parquet file, calling `row` for every row with the
/// columns (in `wanted` order; `None` for an absent optional column) and the row's
/// location. Absent optional columns are noted in `report`.
pub(crate) fn for_each_row(
    path: &Path,
    wanted: &[Wanted<'_>],
    report: &mut ReadReport,
    mut row: impl FnMut(
        &[Option<Column<'_>>],
        usize,
        Location,
        &mut ReadReport,
    ) -> Result<(), DataError>,
) -> Result<(), DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    if file.metadata().map_err(|e| DataError::io(path, e))?.len() == 0 {
        return Err(DataError::EmptyFile {
            path: path.to_owned(),
        });
    }
    let metadata = guard(path, || {
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
    })?
    .map_err(|e| parquet_error(path, e))?;
    check_chunks(path, &metadata, file_len(path, &file)?)?;
    let schema = metadata.schema().clone();
    let mut indices = Vec::new();
    for w in wanted {
        match schema.index_of(w.name) {
            Ok(index) => {
                let data_type = schema.field(index).data_type();
                if !class_of(data_type).is_some_and(|c| w.allowed.contains(&c)) {
                    return Err(DataError::ColumnType {
                        path: path.to_owned(),
                        column: w.name.to_owned(),
                        found: data_type.to_string(),
                        expected: w.expected,
                    });
                }
                indices.push(Some(index));
            }
            Err(_) if w.required => {
                let available: Vec<&str> =
                    schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(DataError::MissingColumn {
                    path: path.to_owned(),
                    column: w.name.to_owned(),
                    available: available.join(", "),
                });
            }
            Err(_) => {
                report.missing_optional(w.name);
                indices.push(None);
            }
        }
    }
    let mut roots: Vec<usize> = indices.iter().flatten().copied().collect();
    roots.sort_unstable();
    roots.dedup();
    let names: Vec<Option<&str>> = indices
        .iter()
        .map(|i| i.map(|i| schema.field(i).name().as_str()))
        .collect();
    let row_groups = metadata.metadata().num_row_groups();
    for group in 0..row_groups {
        let input = file.try_clone().map_err(|e| DataError::io(path, e))?;
        let mask = ProjectionMask::roots(metadata.parquet_schema(), roots.iter().copied());
        let mut reader = guard(path, || {
            ParquetRecordBatchReaderBuilder::new_with_metadata(input, metadata.clone())
                .with_row_groups(vec![group])
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
        })?
        .map_err(|e| parquet_error(path, e))?;
        let mut row_in_group = 0_u64;
        while let Some(batch) = guard(path, || reader.next())? {
            let batch = batch.map_err(|e| parquet_error(path, e))?;
            let arrays: Vec<Option<ArrayRef>> = names
                .iter()
                .map(|name| {
                    name.and_then(|n| batch.column_by_name(n))
                        .map(plain)
                        .transpose()
                })
                .collect::<Result<_, _>>()
                .map_err(|e| parquet_error(path, e))?;
            let columns: Vec<Option<Column<'_>>> = arrays
                .iter()
                .map(|array| array.as_ref().map(|array| Column { array }))
                .collect();
            for r in 0..batch.num_rows() {
                row_in_group += 1;
                report.records += 1;
                let location = Location::Row {
                    row_group: group,
                    row: row_in_group,
                };
                row(&columns, r, location, report)?;
            }
        }
    }
    Ok(())
}

/// Reads a Parquet event file. See [`crate::read_events`].
pub(crate) fn read_parquet(
    path: &Path,
    options: &ReadOptions,
) -> Result<(EventLog, ReadReport), DataError> {
    let c = &options.columns;
    let mut wanted = vec![
        want(&c.user, true, ID),
        want(&c.track, true, ID),
        want(&c.timestamp, true, TIME),
    ];
    for (name, kind) in [
        (&c.ms_played, NUMBER),
        (&c.track_length_ms, NUMBER),
        (&c.skipped, FLAG),
    ] {
        // An absent name keeps its slot (as a column that is never found).
        let name = name.as_deref().unwrap_or("\u{0}unused");
        wanted.push(want(name, c.must_exist.iter().any(|m| m == name), kind));
    }
    let mut report = ReadReport {
        files: 1,
        ..Default::default()
    };
    report.missing_optional_columns.clear();
    let mut builder = EventLogBuilder::default();
    let (mut user, mut track) = (String::new(), String::new());
    for_each_row(
        path,
        &wanted,
        &mut report,
        |columns, r, location, report| {
            let cell = |i: usize| columns[i].as_ref().map_or(Cell::Null, |c| c.cell(r));
            let fail = |i: usize, reason: &'static str| {
                DataError::invalid_field(path, location, wanted[i].name, &cell(i).display(), reason)
            };
            let parsed = (|| {
                cell(0).id_into(&mut user).map_err(|e| fail(0, e))?;
                cell(1).id_into(&mut track).map_err(|e| fail(1, e))?;
                let mut event = Event::new(
                    0,
                    0,
                    cell(2)
                        .timestamp_ms(options.timestamp)
                        .map_err(|e| fail(2, e))?,
                );
                event.ms_played = cell(3).duration_ms().map_err(|e| fail(3, e))?;
                event.track_length_ms = cell(4).duration_ms().map_err(|e| fail(4, e))?;
                event.skipped = cell(5).flag().map_err(|e| fail(5, e))?;
                Ok(event)
            })();
            match parsed {
                Ok(event) => {
                    let u = builder.user_id(&user);
                    let i = builder.item_id(&track);
                    builder.push(Event {
                        user: u,
                        item: i,
                        ..event
                    })
                }
                Err(err) => report.skip_or_fail(options.skip_invalid, err),
            }
        },
    )?;
    report
        .missing_optional_columns
        .retain(|c| !c.starts_with('\u{0}'));
    let (log, normalization) = builder.finish(options.dedup);
    report.normalized(normalization, log.len());
    Ok((log, report))
}

/// Writes `log` as Parquet (Snappy-compressed) with the columns `user_id` and `track_id`
/// (strings), `timestamp` (milliseconds, UTC), `ms_played` and `track_length_ms` (nullable
/// `u32`) and `skipped` (nullable boolean), in row groups of about a million rows.
///
/// # Errors
///
/// [`DataError::Io`] or [`DataError::Parquet`] naming the file.
pub fn write_events_parquet(log: &EventLog, path: &Path) -> Result<(), DataError> {
    let mut writer = ParquetEventWriter::create(path)?;
    writer.write(log)?;
    writer.finish()
}

/// Writes events to one Parquet file log after log, in the layout of
/// [`write_events_parquet`]: a file larger than memory can be written from logs that each
/// fit (e.g. a simulation run a few thousand listeners at a time). Each log's events are
/// written with its own vocabularies' string ids, in its order; only the row group being
/// filled is buffered.
///
/// ```
/// use seqrec_events::{Event, EventLogBuilder, ParquetEventWriter};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("plays.parquet");
/// let mut writer = ParquetEventWriter::create(&path)?;
/// for name in ["ann", "bob"] {
///     let mut b = EventLogBuilder::default();
///     let (user, song) = (b.user_id(name), b.item_id("song"));
///     b.push(Event::new(user, song, 1_000))?;
///     writer.write(&b.finish(true).0)?;
/// }
/// assert_eq!(writer.events(), 2);
/// writer.finish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ParquetEventWriter {
    writer: ArrowWriter<File>,
    schema: Arc<Schema>,
    path: std::path::PathBuf,
    events: u64,
}

impl std::fmt::Debug for ParquetEventWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetEventWriter")
            .field("path", &self.path)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl ParquetEventWriter {
    /// Creates (or truncates) the file at `path`.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] or [`DataError::Parquet`] naming the file.
    pub fn create(path: &Path) -> Result<Self, DataError> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Utf8, false),
            Field::new("track_id", DataType::Utf8, false),
            Field::new(
                "timestamp",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
            Field::new("ms_played", DataType::UInt32, true),
            Field::new("track_length_ms", DataType::UInt32, true),
            Field::new("skipped", DataType::Boolean, true),
        ]));
        let file = File::create(path).map_err(|e| DataError::io(path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(WRITE_ROW_GROUP))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| parquet_error(path, e))?;
        Ok(Self {
            writer,
            schema,
            path: path.to_owned(),
            events: 0,
        })
    }

    /// Appends the events of `log`.
    ///
    /// # Errors
    ///
    /// [`DataError::Parquet`] naming the file.
    pub fn write(&mut self, log: &EventLog) -> Result<(), DataError> {
        let path = self.path.as_path();
        let (users, items) = (log.users(), log.items());
        let mut start = 0;
        while start < log.len() {
            let end = (start + BATCH_ROWS).min(log.len());
            let events: Vec<Event> = (start..end).filter_map(|i| log.get(i)).collect();
            let columns: Vec<ArrayRef> = vec![
                Arc::new(StringArray::from_iter_values(
                    events
                        .iter()
                        .map(|e| users.name(e.user).unwrap_or_default()),
                )),
                Arc::new(StringArray::from_iter_values(
                    events
                        .iter()
                        .map(|e| items.name(e.item).unwrap_or_default()),
                )),
                Arc::new(
                    TimestampMillisecondArray::from_iter_values(
                        events.iter().map(|e| e.timestamp_ms),
                    )
                    .with_timezone("UTC"),
                ),
                Arc::new(UInt32Array::from_iter(events.iter().map(|e| e.ms_played))),
                Arc::new(UInt32Array::from_iter(
                    events.iter().map(|e| e.track_length_ms),
                )),
                Arc::new(BooleanArray::from_iter(events.iter().map(|e| e.skipped))),
            ];
            let batch = RecordBatch::try_new(self.schema.clone(), columns)
                .map_err(|e| parquet_error(path, e))?;
            self.writer
                .write(&batch)
                .map_err(|e| parquet_error(path, e))?;
            self.events += (end - start) as u64;
            start = end;
        }
        Ok(())
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Writes the last row group and the footer.
    ///
    /// # Errors
    ///
    /// [`DataError::Parquet`] naming the file.
    pub fn finish(self) -> Result<(), DataError> {
        let Self { writer, path, .. } = self;
        writer.close().map_err(|e| parquet_error(&path, e))?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::read::{ColumnNames, EventFormat, read_events};
    use arrow_array::{Float64Array, Int64Array};

    /// Writes `columns` as a Parquet file with row groups of `group_rows` rows.
    pub(crate) fn write_batch(path: &Path, columns: Vec<(&str, ArrayRef)>, group_rows: usize) {
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(group_rows))
            .build();
        write_with(path, columns, props);
    }

    /// Writes `columns` as a Parquet file with the writer properties `props`.
    fn write_with(path: &Path, columns: Vec<(&str, ArrayRef)>, props: WriterProperties) {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut writer =
            ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    fn read(path: &Path, options: &ReadOptions) -> Result<(EventLog, ReadReport), DataError> {
        read_events(path, EventFormat::Parquet, options)
    }

    /// The events with string ids (dense ids depend on the order of first appearance).
    fn named(log: &EventLog) -> Vec<(String, String, Event)> {
        log.iter()
            .map(|e| {
                let user = log.users().name(e.user).unwrap().to_owned();
                let item = log.items().name(e.item).unwrap().to_owned();
                (
                    user,
                    item,
                    Event {
                        user: 0,
                        item: 0,
                        ..e
                    },
                )
            })
            .collect()
    }

    #[test]
    fn round_trips_through_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("in.csv");
        std::fs::write(
            &csv,
            "user_id,track_id,timestamp,ms_played,track_length_ms,skipped\n\
             a,x,2024-01-01T00:00:00.5Z,100,200,true\nb,y,2024-01-01T00:00:00Z,,,\na,y,1,3,,false\n",
        )
        .unwrap();
        let (log, _) = read_events(&csv, EventFormat::Csv, &ReadOptions::default()).unwrap();
        let path = dir.path().join("e.parquet");
        write_events_parquet(&log, &path).unwrap();
        assert_eq!(EventFormat::detect(&path).unwrap(), EventFormat::Parquet);
        let (back, report) = read(&path, &ReadOptions::default()).unwrap();
        assert_eq!(named(&back), named(&log));
        assert_eq!(report.records, 3);
        assert!(report.missing_optional_columns.is_empty());
    }

    /// Logs appended one after the other read back as one log: the events of each with
    /// its own string ids, in row groups as large as the writer makes them.
    #[test]
    fn logs_appended_to_one_file_read_back_as_their_union() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        let part = |user: &str, tracks: &[&str], from: i64| {
            let mut b = EventLogBuilder::default();
            let u = b.user_id(user);
            for (t, name) in tracks.iter().enumerate() {
                let item = b.item_id(name);
                b.push(Event::new(u, item, from + t as i64).with_ms_played(t as u32))
                    .unwrap();
            }
            b.finish(true).0
        };
        let (a, b) = (part("a", &["x", "y"], 0), part("b", &["y", "z", "x"], 10));
        let mut writer = ParquetEventWriter::create(&path).unwrap();
        writer.write(&a).unwrap();
        writer.write(&EventLog::default()).unwrap();
        writer.write(&b).unwrap();
        assert_eq!(writer.events(), 5);
        writer.finish().unwrap();
        let (back, report) = read(&path, &ReadOptions::default()).unwrap();
        assert_eq!(report.records, 5);
        let mut want = named(&a);
        want.extend(named(&b));
        assert_eq!(named(&back), want);
    }

    #[test]
    fn integer_ids_and_unix_timestamps_with_custom_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        write_batch(
            &path,
            vec![
                ("u", Arc::new(Int64Array::from(vec![7, 7, 8])) as ArrayRef),
                (
                    "t",
                    Arc::new(Int64Array::from(vec![100, 101, 100])) as ArrayRef,
                ),
                (
                    "when",
                    Arc::new(Float64Array::from(vec![1.5, 0.5, 2.0])) as ArrayRef,
                ),
            ],
            2,
        );
        let options = ReadOptions {
            columns: ColumnNames {
                user: "u".into(),
                track: "t".into(),
                timestamp: "when".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(log.users().names(), ["7", "8"]);
        assert_eq!(log.items().names(), ["100", "101"]);
        assert_eq!(log.timestamps_ms(), [500, 1500, 2000]);
        assert_eq!(
            report.missing_optional_columns,
            ["ms_played", "track_length_ms", "skipped"]
        );
    }

    /// pandas `category` and Polars `Categorical` columns are dictionaries; dates and decimals
    /// come from databases; Polars writes zstd by default. Each is read as the plain column.
    #[test]
    fn dictionary_date_and_decimal_columns_in_zstd_and_lz4_files() {
        use arrow_array::types::Int8Type;
        use arrow_array::{Date32Array, Date64Array, Decimal128Array, DictionaryArray};
        use parquet::basic::{Compression, ZstdLevel};
        let dir = tempfile::tempdir().unwrap();
        const DAY_MS: i64 = 86_400_000;
        for (n, compression) in [
            Compression::ZSTD(ZstdLevel::default()),
            Compression::LZ4_RAW,
            Compression::SNAPPY,
        ]
        .into_iter()
        .enumerate()
        {
            let path = dir.path().join(format!("e{n}.parquet"));
            let users: DictionaryArray<Int8Type> = ["b", "a", "b"].into_iter().collect();
            let tracks = Decimal128Array::from(vec![100, 101, 100])
                .with_precision_and_scale(10, 0)
                .unwrap();
            // Milliseconds played, written with two decimals (1234.00 ms, ...).
            let played = Decimal128Array::from(vec![123_400, 5_000_000, 0])
                .with_precision_and_scale(12, 2)
                .unwrap();
            let when: ArrayRef = if n == 1 {
                Arc::new(Date64Array::from(vec![
                    19_001 * DAY_MS,
                    19_000 * DAY_MS,
                    19_002 * DAY_MS,
                ]))
            } else {
                Arc::new(Date32Array::from(vec![19_001, 19_000, 19_002]))
            };
            let props = WriterProperties::builder()
                .set_compression(compression)
                .build();
            write_with(
                &path,
                vec![
                    ("user_id", Arc::new(users) as ArrayRef),
                    ("track_id", Arc::new(tracks) as ArrayRef),
                    ("timestamp", when),
                    ("ms_played", Arc::new(played) as ArrayRef),
                ],
                props,
            );
            let (log, report) = read(&path, &ReadOptions::default()).unwrap();
            assert_eq!(report.records, 3, "{compression:?}");
            let mut got: Vec<(String, String, i64, Option<u32>)> = named(&log)
                .into_iter()
                .map(|(user, item, e)| (user, item, e.timestamp_ms, e.ms_played))
                .collect();
            got.sort();
            let want = vec![
                ("a".into(), "101".into(), 19_000 * DAY_MS, Some(50_000)),
                ("b".into(), "100".into(), 19_001 * DAY_MS, Some(1_234)),
                ("b".into(), "100".into(), 19_002 * DAY_MS, Some(0)),
            ];
            assert_eq!(got, want, "{compression:?}");
        }
    }

    #[test]
    fn missing_column_wrong_type_and_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        let users = || Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef;
        let tracks = || Arc::new(StringArray::from(vec![Some("x"), None, Some("z")])) as ArrayRef;
        write_batch(
            &path,
            vec![
                ("user_id", users()),
                ("timestamp", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            ],
            2,
        );
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(&err, DataError::MissingColumn { column, .. } if column == "track_id"),
            "{err:?}"
        );

        write_batch(
            &path,
            vec![
                ("user_id", users()),
                ("track_id", tracks()),
                (
                    "timestamp",
                    Arc::new(BooleanArray::from(vec![true, false, true])),
                ),
            ],
            2,
        );
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(&err, DataError::ColumnType { column, .. } if column == "timestamp"),
            "{err:?}"
        );
        assert!(err.to_string().contains("Boolean"), "{err}");

        write_batch(
            &path,
            vec![
                ("user_id", users()),
                ("track_id", tracks()),
                ("timestamp", Arc::new(Int64Array::from(vec![1, 2, 3]))),
                ("ms_played", Arc::new(Int64Array::from(vec![1, 2, -3]))),
            ],
            2,
        );
        let err = read(&path, &ReadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("row group 0, row 2") && msg.contains("track_id"),
            "{msg}"
        );
        let options = ReadOptions {
            skip_invalid: true,
            ..Default::default()
        };
        let (log, report) = read(&path, &options).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(report.skipped["track_id: null"], 1);
        assert!(
            report.skipped_examples[1].contains("row group 1, row 1"),
            "{:?}",
            report.skipped_examples
        );
        assert!(
            report.skipped_examples[1].contains("ms_played"),
            "{:?}",
            report.skipped_examples
        );
    }

    /// Found by `parquet_mutations_are_reported_or_counted` (tests/properties.rs): a flipped
    /// byte in the footer gave a column chunk a negative offset, and the Parquet crate
    /// panicked ("column start and length should not be negative"); other flips made it
    /// panic while decoding ("Decoder for dict should have been set").
    #[test]
    fn a_damaged_footer_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        let users = Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef;
        let times = Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef;
        let tracks = Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef;
        write_batch(
            &path,
            vec![
                ("user_id", users),
                ("track_id", tracks),
                ("timestamp", times),
            ],
            2,
        );
        let bytes = std::fs::read(&path).unwrap();
        let mut found = false;
        // The same file with each footer byte changed: errors or logs, never a panic, and
        // some changes move a chunk outside the file.
        let footer = bytes.len()
            - 8
            - u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap())
                as usize;
        for at in footer..bytes.len() - 8 {
            for mask in [0x01, 0x40, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] ^= mask;
                std::fs::write(&path, &damaged).unwrap();
                if let Err(err) = read(&path, &ReadOptions::default()) {
                    let msg = err.to_string();
                    assert!(msg.contains("e.parquet"), "{msg}");
                    found |= msg.contains("outside the file");
                }
            }
        }
        assert!(found);
    }

    #[test]
    fn empty_and_non_parquet_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        std::fs::write(&path, "").unwrap();
        assert!(matches!(
            read(&path, &ReadOptions::default()),
            Err(DataError::EmptyFile { .. })
        ));
        std::fs::write(&path, "user_id,track_id\n").unwrap();
        assert!(matches!(
            read(&path, &ReadOptions::default()),
            Err(DataError::Parquet { .. })
        ));
        // A file with the columns but no rows reads as an empty log.
        write_events_parquet(&EventLog::default(), &path).unwrap();
        let (log, report) = read(&path, &ReadOptions::default()).unwrap();
        assert!(log.is_empty());
        assert_eq!(report.records, 0);
    }
}
