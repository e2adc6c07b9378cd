//! `dataset_stats.json`: the size summary stored next to the splits.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// Sizes of a dataset, as stored in `dataset_stats.json`:
/// `{"num_users": .., "num_items": .., "num_interactions": ..}`.
///
/// Unknown extra fields in the file are ignored; the three fields are
/// required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DatasetStats {
    /// Number of users, which is the number of train lines.
    pub num_users: usize,
    /// Number of items; valid item ids are `1..=num_items` (0 is padding).
    pub num_items: u32,
    /// Number of interactions in the users' full histories (informational;
    /// not checked against the splits).
    pub num_interactions: usize,
}

impl DatasetStats {
    /// Reads and parses a stats file.
    ///
    /// Does not check `num_items > 0`; [`SequenceDataset::load_dir`] does.
    ///
    /// # Errors
    ///
    /// [`DataError::MissingFile`], [`DataError::Io`], or
    /// [`DataError::StatsJson`] naming the file, line and column.
    ///
    /// [`SequenceDataset::load_dir`]: crate::SequenceDataset::load_dir
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        serde_json::from_reader(BufReader::new(file)).map_err(|e| {
            if e.is_io() {
                DataError::io(path, e.into())
            } else {
                DataError::stats_json(path, e)
            }
        })
    }

    /// Writes the stats as pretty-printed JSON followed by a newline.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] naming the file.
    pub fn write(&self, path: &Path) -> Result<(), DataError> {
        let io_err = |e| DataError::io(path, e);
        let file = File::create(path).map_err(io_err)?;
        let mut out = BufWriter::new(file);
        serde_json::to_writer_pretty(&mut out, self).map_err(|e| io_err(e.into()))?;
        out.write_all(b"\n").map_err(io_err)?;
        out.flush().map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> DatasetStats {
        DatasetStats {
            num_users: 6040,
            num_items: 3416,
            num_interactions: 987_019,
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset_stats.json");
        stats().write(&path).unwrap();
        assert_eq!(DatasetStats::read(&path).unwrap(), stats());
    }

    #[test]
    fn reads_reference_formatting_and_ignores_extra_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset_stats.json");
        std::fs::write(
            &path,
            "{\r\n    \"num_users\": 6040,\r\n    \"num_items\": 3416,\r\n    \
             \"num_interactions\": 987019,\r\n    \"source\": \"ml-1m\"\r\n}\r\n",
        )
        .unwrap();
        assert_eq!(DatasetStats::read(&path).unwrap(), stats());
    }

    #[test]
    fn bad_json_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset_stats.json");
        std::fs::write(&path, "{\n  \"num_users\": 3,\n  \"num_items\": oops\n}\n").unwrap();
        let err = DatasetStats::read(&path).unwrap_err();
        let DataError::StatsJson { line, column, .. } = &err else {
            panic!("wrong variant: {err:?}");
        };
        assert_eq!((*line, *column), (3, 16));
        let msg = err.to_string();
        assert!(msg.contains("dataset_stats.json"), "{msg}");
        assert!(msg.contains("line 3, column 16"), "{msg}");
    }

    #[test]
    fn missing_field_is_a_json_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset_stats.json");
        std::fs::write(&path, r#"{"num_users": 3, "num_items": 4}"#).unwrap();
        let err = DatasetStats::read(&path).unwrap_err();
        assert!(matches!(err, DataError::StatsJson { .. }), "{err:?}");
        assert!(err.to_string().contains("num_interactions"), "{err}");
    }

    #[test]
    fn negative_count_is_a_json_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset_stats.json");
        std::fs::write(
            &path,
            r#"{"num_users": 3, "num_items": -4, "num_interactions": 1}"#,
        )
        .unwrap();
        let err = DatasetStats::read(&path).unwrap_err();
        assert!(
            matches!(err, DataError::StatsJson { line: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn missing_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset_stats.json");
        let err = DatasetStats::read(&path).unwrap_err();
        assert!(matches!(err, DataError::MissingFile { .. }), "{err:?}");
        assert!(err.to_string().contains("dataset_stats.json"), "{err}");
    }
}
