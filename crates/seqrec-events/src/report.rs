//! [`ReadReport`]: what a reader read, skipped and ignored, so that nothing is dropped
//! silently.

use std::collections::BTreeMap;
use std::fmt;

use crate::log::Normalization;
use seqrec_data::DataError;

/// How many skipped-record messages are kept verbatim.
pub const MAX_EXAMPLES: usize = 5;

/// What reading an event file (or folder) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Files read.
    pub files: usize,
    /// Records (data rows, JSON records, sequence items) seen.
    pub records: u64,
    /// Events in the resulting log.
    pub events: usize,
    /// Invalid records skipped (only with `skip_invalid`), by field and reason.
    pub skipped: BTreeMap<String, u64>,
    /// The first [`MAX_EXAMPLES`] skip messages, with file, line and field.
    pub skipped_examples: Vec<String>,
    /// Valid records that are not track plays (e.g. podcast episodes), by reason.
    pub ignored: BTreeMap<String, u64>,
    /// Optional columns (play time, track length, skipped flag) the input lacks.
    pub missing_optional_columns: Vec<String>,
    /// Exact duplicate events removed.
    pub duplicates_removed: u64,
    /// Users whose events were out of time order in the input (sorted, not rejected).
    pub users_reordered: u64,
    /// Remarks about how values were derived (e.g. inferred play times).
    pub notes: Vec<String>,
}

impl ReadReport {
    /// Number of skipped records.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Number of ignored records.
    pub fn ignored_total(&self) -> u64 {
        self.ignored.values().sum()
    }

    /// Records a record error: counts it when `skip_invalid` is set and the error concerns
    /// one record, and returns it otherwise.
    pub(crate) fn skip_or_fail(
        &mut self,
        skip_invalid: bool,
        err: DataError,
    ) -> Result<(), DataError> {
        match err.record_error_kind() {
            Some(kind) if skip_invalid => {
                *self.skipped.entry(kind).or_default() += 1;
                if self.skipped_examples.len() < MAX_EXAMPLES {
                    self.skipped_examples.push(err.to_string());
                }
                Ok(())
            }
            _ => Err(err),
        }
    }

    /// Counts a valid record that is not a play.
    pub(crate) fn ignore(&mut self, reason: &str) {
        *self.ignored.entry(reason.to_owned()).or_default() += 1;
    }

    /// Notes a missing optional column once.
    pub(crate) fn missing_optional(&mut self, column: &str) {
        if !self.missing_optional_columns.iter().any(|c| c == column) {
            self.missing_optional_columns.push(column.to_owned());
        }
    }

    /// Takes over the counts of a normalisation.
    pub(crate) fn normalized(&mut self, normalization: Normalization, events: usize) {
        self.duplicates_removed += normalization.duplicates_removed;
        self.users_reordered += normalization.users_reordered;
        self.events = events;
    }
}

impl fmt::Display for ReadReport {
    /// A short human-readable summary, one fact per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "read {} events from {} records in {} file(s)",
            self.events, self.records, self.files
        )?;
        if !self.skipped.is_empty() {
            writeln!(f, "skipped {} invalid records:", self.skipped_total())?;
            for (kind, count) in &self.skipped {
                writeln!(f, "  {count} x {kind}")?;
            }
            for example in &self.skipped_examples {
                writeln!(f, "  e.g. {example}")?;
            }
        }
        if !self.ignored.is_empty() {
            writeln!(
                f,
                "ignored {} records that are not track plays:",
                self.ignored_total()
            )?;
            for (reason, count) in &self.ignored {
                writeln!(f, "  {count} x {reason}")?;
            }
        }
        if !self.missing_optional_columns.is_empty() {
            writeln!(
                f,
                "absent optional columns (values unknown): {}",
                self.missing_optional_columns.join(", ")
            )?;
        }
        if self.duplicates_removed > 0 {
            writeln!(
                f,
                "removed {} exact duplicate events",
                self.duplicates_removed
            )?;
        }
        if self.users_reordered > 0 {
            writeln!(
                f,
                "sorted the events of {} users that were out of time order",
                self.users_reordered
            )?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqrec_data::Location;

    #[test]
    fn skips_only_record_errors_and_only_when_asked() {
        let field_err =
            || DataError::invalid_field("f.csv", Location::Line(3), "ms_played", "-1", "negative");
        let mut report = ReadReport::default();
        assert!(report.skip_or_fail(false, field_err()).is_err());
        for _ in 0..7 {
            report.skip_or_fail(true, field_err()).unwrap();
        }
        assert_eq!(report.skipped_total(), 7);
        assert_eq!(report.skipped["ms_played: negative"], 7);
        assert_eq!(report.skipped_examples.len(), MAX_EXAMPLES);
        let fatal = DataError::EmptyFile {
            path: "f.csv".into(),
        };
        assert!(report.skip_or_fail(true, fatal).is_err());
        let text = report.to_string();
        assert!(text.contains("skipped 7 invalid records"), "{text}");
        assert!(text.contains("f.csv line 3"), "{text}");
    }
}
