//! Plain-text sequence and target files, one user per line.
//!
//! A *sequence file* (`train/input.txt`, `val/input.txt`, `test/input.txt`,
//! `sequences.txt`) holds one history per line: item ids separated by ASCII
//! whitespace, in time order. A *target file* (`val/output.txt`,
//! `test/output.txt`) holds exactly one item id per line.
//!
//! Readers stream the input line by line through one reused buffer, accept
//! `\n` and `\r\n` line endings, leading/trailing whitespace and a UTF-8 byte
//! order mark, and reject blank lines: a blank line would be a user without
//! history, which the layout never contains, and skipping it would silently
//! shift every later line against its partner file. Writers emit `\n` line
//! endings and single spaces.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use crate::error::DataError;

/// Read buffer size; large enough that syscalls do not dominate.
const READ_BUFFER: usize = 1 << 16;

/// Reads a sequence file: one non-empty history of item ids per line.
///
/// With `num_items = Some(n)` every id must lie in `1..=n`; with `None` only
/// the padding id 0 is rejected.
///
/// # Errors
///
/// [`DataError::MissingFile`] / [`DataError::Io`] for the file itself, and,
/// naming the file and 1-based line, [`DataError::InvalidUtf8`],
/// [`DataError::InvalidItem`] and [`DataError::ItemOutOfRange`] (both with
/// the 1-based token position) or [`DataError::EmptyLine`].
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("input.txt");
/// std::fs::write(&path, "1 2 3\r\n4\n")?;
/// let sequences = seqrec_data::read_sequences(&path, Some(4))?;
/// assert_eq!(sequences, vec![vec![1, 2, 3], vec![4]]);
/// assert!(seqrec_data::read_sequences(&path, Some(3)).is_err());
/// # Ok(()) }
/// ```
pub fn read_sequences(path: &Path, num_items: Option<u32>) -> Result<Vec<Vec<u32>>, DataError> {
    read_sequences_from(open(path)?, path, num_items)
}

/// Reads sequences from any buffered reader; `path` is only used to name the
/// source in errors. See [`read_sequences`].
///
/// # Errors
///
/// As [`read_sequences`], except that a missing file cannot occur.
pub fn read_sequences_from<R: BufRead>(
    reader: R,
    path: &Path,
    num_items: Option<u32>,
) -> Result<Vec<Vec<u32>>, DataError> {
    read_lines(reader, path, num_items, false).map(|(sequences, _)| sequences)
}

/// [`read_sequences`] that skips empty lines instead of refusing them: the sequences of the
/// other lines, and the 1-based numbers of the lines skipped (in the gSASRec layout, users
/// whose only items went to validation or test).
///
/// # Errors
///
/// As [`read_sequences`], except [`DataError::EmptyLine`].
pub fn read_sequences_skipping_empty(
    path: &Path,
    num_items: Option<u32>,
) -> Result<(Vec<Vec<u32>>, Vec<usize>), DataError> {
    read_lines(open(path)?, path, num_items, true)
}

/// The sequences of `reader`, with the empty lines skipped (their numbers returned) or refused.
fn read_lines<R: BufRead>(
    reader: R,
    path: &Path,
    num_items: Option<u32>,
    skip_empty: bool,
) -> Result<(Vec<Vec<u32>>, Vec<usize>), DataError> {
    let max = num_items.unwrap_or(u32::MAX);
    let mut skipped = Vec::new();
    let mut lines = Lines::new(reader);
    let mut sequences = Vec::new();
    let mut scratch = Vec::new();
    while let Some((line, text)) = lines.next_line(path)? {
        scratch.clear();
        for (index, token) in text.split_ascii_whitespace().enumerate() {
            scratch.push(parse_item(token, max, path, line, index + 1)?);
        }
        if scratch.is_empty() {
            if skip_empty {
                skipped.push(line);
                continue;
            }
            return Err(DataError::EmptyLine {
                path: path.to_owned(),
                line,
            });
        }
        // One exact-size allocation per line.
        sequences.push(scratch.clone());
    }
    Ok((sequences, skipped))
}

/// Reads a target file: exactly one item id per line.
///
/// Range checking is as in [`read_sequences`].
///
/// # Errors
///
/// As [`read_sequences`], but a line that does not hold exactly one token
/// gives [`DataError::TargetCount`].
pub fn read_targets(path: &Path, num_items: Option<u32>) -> Result<Vec<u32>, DataError> {
    read_targets_from(open(path)?, path, num_items)
}

/// Reads targets from any buffered reader; `path` is only used to name the
/// source in errors. See [`read_targets`].
///
/// # Errors
///
/// As [`read_targets`], except that a missing file cannot occur.
pub fn read_targets_from<R: BufRead>(
    reader: R,
    path: &Path,
    num_items: Option<u32>,
) -> Result<Vec<u32>, DataError> {
    let max = num_items.unwrap_or(u32::MAX);
    let mut lines = Lines::new(reader);
    let mut targets = Vec::new();
    while let Some((line, text)) = lines.next_line(path)? {
        let mut tokens = text.split_ascii_whitespace();
        match (tokens.next(), tokens.next()) {
            (Some(token), None) => targets.push(parse_item(token, max, path, line, 1)?),
            _ => {
                return Err(DataError::TargetCount {
                    path: path.to_owned(),
                    line,
                    found: text.split_ascii_whitespace().count(),
                });
            }
        }
    }
    Ok(targets)
}

/// Writes a sequence file: one line per sequence, ids separated by a space.
///
/// The data are checked before the file is created, so nothing is written if
/// a sequence is empty or holds the padding id 0 (neither could be read
/// back).
///
/// # Errors
///
/// [`DataError::InvalidDataset`] for an empty sequence or id 0 (naming the
/// line it would have had), [`DataError::Io`] naming the file.
pub fn write_sequences(path: &Path, sequences: &[Vec<u32>]) -> Result<(), DataError> {
    for (index, sequence) in sequences.iter().enumerate() {
        let line = index + 1;
        if sequence.is_empty() {
            return Err(invalid(format!(
                "sequence for {} line {line} is empty",
                path.display()
            )));
        }
        if let Some(pos) = sequence.iter().position(|&item| item == 0) {
            return Err(invalid(format!(
                "sequence for {} line {line} holds the padding id 0 at token {}",
                path.display(),
                pos + 1
            )));
        }
    }
    write_with(path, |out| {
        for sequence in sequences {
            let (first, rest) = sequence.split_first().expect("checked non-empty");
            write!(out, "{first}")?;
            for item in rest {
                write!(out, " {item}")?;
            }
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Writes a target file: one item id per line.
///
/// # Errors
///
/// [`DataError::InvalidDataset`] if a target is the padding id 0 (nothing is
/// written), [`DataError::Io`] naming the file.
pub fn write_targets(path: &Path, targets: &[u32]) -> Result<(), DataError> {
    if let Some(index) = targets.iter().position(|&item| item == 0) {
        return Err(invalid(format!(
            "target for {} line {} is the padding id 0",
            path.display(),
            index + 1
        )));
    }
    write_with(path, |out| {
        for target in targets {
            writeln!(out, "{target}")?;
        }
        Ok(())
    })
}

fn invalid(reason: String) -> DataError {
    DataError::InvalidDataset { reason }
}

fn open(path: &Path) -> Result<BufReader<File>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    Ok(BufReader::with_capacity(READ_BUFFER, file))
}

fn write_with(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<(), DataError> {
    let io_err = |e| DataError::io(path, e);
    let file = File::create(path).map_err(io_err)?;
    let mut out = BufWriter::new(file);
    body(&mut out).map_err(io_err)?;
    out.flush().map_err(io_err)
}

/// Parses one token as an item id in `1..=max`.
fn parse_item(
    token: &str,
    max: u32,
    path: &Path,
    line: usize,
    position: usize,
) -> Result<u32, DataError> {
    match token.parse::<u32>() {
        Ok(item) if (1..=max).contains(&item) => Ok(item),
        Ok(item) => Err(DataError::ItemOutOfRange {
            path: path.to_owned(),
            line,
            token: position,
            item,
            max,
        }),
        Err(source) => Err(DataError::invalid_item(path, line, position, token, source)),
    }
}

/// Line-by-line reader over one reused byte buffer, counting lines from 1.
struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    line: usize,
}

impl<R: BufRead> Lines<R> {
    fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::new(),
            line: 0,
        }
    }

    /// The next line (with its terminator, and without a leading byte order
    /// mark on line 1) and its 1-based number, or `None` at end of input.
    fn next_line(&mut self, path: &Path) -> Result<Option<(usize, &str)>, DataError> {
        self.buf.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| DataError::io(path, e))?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        let text = std::str::from_utf8(&self.buf).map_err(|e| DataError::InvalidUtf8 {
            path: path.to_owned(),
            line: self.line,
            byte: e.valid_up_to() + 1,
        })?;
        let text = if self.line == 1 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        Ok(Some((self.line, text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.txt");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    fn assert_mentions(err: &DataError, parts: &[&str]) {
        let msg = err.to_string();
        for part in parts {
            assert!(msg.contains(part), "{msg:?} lacks {part:?}");
        }
    }

    #[test]
    fn reads_plain_sequences() {
        let (_dir, path) = fixture(b"1 2 3\n4 5\n6\n");
        let got = read_sequences(&path, Some(6)).unwrap();
        assert_eq!(got, vec![vec![1, 2, 3], vec![4, 5], vec![6]]);
    }

    #[test]
    fn accepts_crlf_trailing_whitespace_tabs_and_missing_final_newline() {
        let (_dir, path) = fixture(b"1 2 3 \r\n  4\t5\t\r\n6");
        let got = read_sequences(&path, Some(6)).unwrap();
        assert_eq!(got, vec![vec![1, 2, 3], vec![4, 5], vec![6]]);
    }

    #[test]
    fn accepts_byte_order_mark() {
        let (_dir, path) = fixture("\u{feff}7 8\n".as_bytes());
        assert_eq!(read_sequences(&path, None).unwrap(), vec![vec![7, 8]]);
    }

    #[test]
    fn empty_file_gives_no_sequences() {
        let (_dir, path) = fixture(b"");
        assert!(read_sequences(&path, Some(3)).unwrap().is_empty());
        assert!(read_targets(&path, Some(3)).unwrap().is_empty());
    }

    #[test]
    fn single_item_line() {
        let (_dir, path) = fixture(b"42\n");
        assert_eq!(read_sequences(&path, Some(42)).unwrap(), vec![vec![42]]);
        assert_eq!(read_targets(&path, Some(42)).unwrap(), vec![42]);
    }

    #[test]
    fn sequences_are_allocated_exactly() {
        let (_dir, path) = fixture(b"1 2 3 4 5\n");
        let got = read_sequences(&path, None).unwrap();
        assert_eq!(got[0].capacity(), 5);
    }

    #[test]
    fn non_integer_item_names_file_line_token_and_text() {
        let (_dir, path) = fixture(b"1 2\n3 4 x5 6\n");
        let err = read_sequences(&path, Some(10)).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::InvalidItem {
                    line: 2,
                    token: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_mentions(&err, &["input.txt line 2, token 3", "\"x5\""]);
    }

    #[test]
    fn negative_and_oversized_ids_are_invalid() {
        for bad in ["-1", "4294967296", "1.5"] {
            let (_dir, path) = fixture(format!("1 {bad}\n").as_bytes());
            let err = read_sequences(&path, None).unwrap_err();
            assert!(
                matches!(err, DataError::InvalidItem { .. }),
                "{bad}: {err:?}"
            );
            assert_mentions(&err, &["input.txt line 1, token 2", bad]);
        }
    }

    #[test]
    fn out_of_range_item_names_file_line_and_token() {
        let mut content = String::new();
        for _ in 0..11 {
            content.push_str("1 2\n");
        }
        content.push_str("5 6 7 8 3417 9\n");
        let (_dir, path) = fixture(content.as_bytes());
        let err = read_sequences(&path, Some(3416)).unwrap_err();
        assert_mentions(
            &err,
            &[
                "item id 3417 out of range 1..=3416 at ",
                "input.txt line 12, token 5",
            ],
        );
    }

    #[test]
    fn padding_id_zero_is_out_of_range_even_without_num_items() {
        let (_dir, path) = fixture(b"1\n2 0\n");
        let err = read_sequences(&path, None).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::ItemOutOfRange {
                    item: 0,
                    line: 2,
                    token: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_mentions(
            &err,
            &["item id 0 out of range", "input.txt line 2, token 2"],
        );
    }

    #[test]
    fn blank_and_whitespace_lines_are_errors() {
        for content in [&b"1 2\n\n3\n"[..], b"1 2\r\n \t\r\n3\r\n", b"1 2\n\n"] {
            let (_dir, path) = fixture(content);
            let err = read_sequences(&path, None).unwrap_err();
            assert!(
                matches!(err, DataError::EmptyLine { line: 2, .. }),
                "{err:?}"
            );
            assert_mentions(&err, &["input.txt line 2"]);
        }
    }

    #[test]
    fn invalid_utf8_names_line_and_byte() {
        let (_dir, path) = fixture(b"1 2\n3 \xff4\n");
        let err = read_sequences(&path, None).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::InvalidUtf8 {
                    line: 2,
                    byte: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_mentions(&err, &["input.txt line 2, byte 3"]);
    }

    #[test]
    fn missing_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.txt");
        let err = read_sequences(&path, None).unwrap_err();
        assert!(matches!(err, DataError::MissingFile { .. }), "{err:?}");
        assert_mentions(&err, &["nope.txt"]);
        let err = read_targets(&path, None).unwrap_err();
        assert!(matches!(err, DataError::MissingFile { .. }), "{err:?}");
    }

    #[test]
    fn reading_a_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_sequences(dir.path(), None).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    }

    #[test]
    fn targets_need_exactly_one_id_per_line() {
        let (_dir, path) = fixture(b"3\r\n4 \n5 6\n");
        let err = read_targets(&path, None).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TargetCount {
                    line: 3,
                    found: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_mentions(&err, &["input.txt line 3", "found 2"]);

        let (_dir, path) = fixture(b"3\n\n");
        let err = read_targets(&path, None).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TargetCount {
                    line: 2,
                    found: 0,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn targets_are_range_checked() {
        let (_dir, path) = fixture(b"3\n9\n");
        let err = read_targets(&path, Some(8)).unwrap_err();
        assert_mentions(
            &err,
            &["item id 9 out of range 1..=8", "input.txt line 2, token 1"],
        );
    }

    #[test]
    fn reads_from_memory() {
        let path = Path::new("<memory>");
        let got = read_sequences_from(&b"1 2\n3\n"[..], path, None).unwrap();
        assert_eq!(got, vec![vec![1, 2], vec![3]]);
        let got = read_targets_from(&b"1\n3\n"[..], path, None).unwrap();
        assert_eq!(got, vec![1, 3]);
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let seq_path = dir.path().join("input.txt");
        let tgt_path = dir.path().join("output.txt");
        let sequences = vec![vec![1, 2, 3], vec![u32::MAX], vec![5, 5]];
        write_sequences(&seq_path, &sequences).unwrap();
        write_targets(&tgt_path, &[4, 1, 2]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&seq_path).unwrap(),
            "1 2 3\n4294967295\n5 5\n"
        );
        assert_eq!(read_sequences(&seq_path, None).unwrap(), sequences);
        assert_eq!(read_targets(&tgt_path, None).unwrap(), vec![4, 1, 2]);
    }

    #[test]
    fn writers_refuse_unreadable_data_without_creating_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.txt");
        let err = write_sequences(&path, &[vec![1], vec![]]).unwrap_err();
        assert!(matches!(err, DataError::InvalidDataset { .. }), "{err:?}");
        assert_mentions(&err, &["input.txt line 2", "empty"]);
        let err = write_sequences(&path, &[vec![1, 0]]).unwrap_err();
        assert_mentions(&err, &["input.txt line 1", "padding id 0 at token 2"]);
        let err = write_targets(&path, &[1, 2, 0]).unwrap_err();
        assert_mentions(&err, &["input.txt line 3", "padding id 0"]);
        assert!(!path.exists());
    }
}
