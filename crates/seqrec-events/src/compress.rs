//! Opening delimited text that may be gzip-compressed: a file is gunzipped when its name
//! ends in `.gz` or when it starts with the gzip magic bytes `1f 8b`, and read as it is
//! otherwise. Line numbers in errors count lines of the decompressed text.

use std::error::Error;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use seqrec_data::DataError;

/// Read buffer size.
const BUFFER: usize = 1 << 16;

/// The first two bytes of every gzip member.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether the file name ends in `.gz` (any case).
pub(crate) fn has_gz_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// The extension that names the content, lowercase: that of `a.tsv.gz` is `tsv`, that of
/// `a.csv` is `csv`.
pub(crate) fn content_extension(path: &Path) -> Option<String> {
    let path = if has_gz_extension(path) {
        Path::new(path.file_stem()?)
    } else {
        path
    };
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// Opens `path` for reading, gunzipping it when it is gzip (by name or by its first bytes).
///
/// # Errors
///
/// [`DataError::MissingFile`] and [`DataError::Io`] naming the file.
pub(crate) fn open_text(path: &Path) -> Result<Box<dyn Read>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = BufReader::with_capacity(BUFFER, file);
    let magic = starts_with_magic(&mut reader).map_err(|e| DataError::io(path, e))?;
    if magic || has_gz_extension(path) {
        Ok(Box::new(Gunzip(MultiGzDecoder::new(reader))))
    } else {
        Ok(Box::new(reader))
    }
}

/// Whether the buffered input starts with [`GZIP_MAGIC`], without consuming anything.
fn starts_with_magic(reader: &mut BufReader<File>) -> io::Result<bool> {
    let buffer = loop {
        match reader.fill_buf() {
            Ok(buffer) => break buffer,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    // A file's first read fills the buffer with up to 64 KiB, so two bytes are there
    // unless the file is shorter.
    Ok(buffer.starts_with(&GZIP_MAGIC))
}

/// A gzip decoder whose errors carry [`GzipFailure`], so that they become
/// [`DataError::Gzip`] rather than a plain I/O error.
struct Gunzip<R: BufRead>(MultiGzDecoder<R>);

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                e
            } else {
                io::Error::new(e.kind(), GzipFailure(e.to_string()))
            }
        })
    }
}

/// The gzip decoder's description of a damaged or truncated stream.
#[derive(Debug)]
struct GzipFailure(String);

impl fmt::Display for GzipFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for GzipFailure {}

/// Turns an I/O error raised by the gzip decoder into [`DataError::Gzip`]; other errors
/// pass unchanged.
pub(crate) fn gzip_error(err: DataError) -> DataError {
    match err {
        DataError::Io { path, source }
            if source
                .get_ref()
                .is_some_and(|inner| inner.is::<GzipFailure>()) =>
        {
            DataError::Gzip {
                path,
                message: source.to_string(),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(path: &Path) -> Result<Vec<u8>, DataError> {
        let mut out = Vec::new();
        open_text(path)?
            .read_to_end(&mut out)
            .map_err(|e| gzip_error(DataError::io(path, e)))?;
        Ok(out)
    }

    #[test]
    fn extensions_name_the_content() {
        assert_eq!(
            content_extension(Path::new("a/b.TSV.gz")).as_deref(),
            Some("tsv")
        );
        assert_eq!(
            content_extension(Path::new("b.inter")).as_deref(),
            Some("inter")
        );
        assert_eq!(content_extension(Path::new("b.gz")), None);
        assert!(has_gz_extension(Path::new("b.csv.GZ")));
        assert!(!has_gz_extension(Path::new("b.csv")));
    }

    #[test]
    fn gzip_is_found_by_name_or_by_magic_and_damage_is_typed() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"user_id,track_id,timestamp\nu,t,1\n";
        let packed = gzip(text);
        for name in ["e.csv.gz", "e.csv"] {
            let path = dir.path().join(name);
            std::fs::write(&path, &packed).unwrap();
            assert_eq!(read_all(&path).unwrap(), text, "{name}");
        }
        let plain = dir.path().join("plain.csv");
        std::fs::write(&plain, text).unwrap();
        assert_eq!(read_all(&plain).unwrap(), text);

        let truncated = dir.path().join("cut.csv.gz");
        std::fs::write(&truncated, &packed[..packed.len() / 2]).unwrap();
        let not_gzip = dir.path().join("fake.csv.gz");
        std::fs::write(&not_gzip, text).unwrap();
        for path in [truncated, not_gzip] {
            let err = read_all(&path).unwrap_err();
            assert!(matches!(err, DataError::Gzip { .. }), "{err:?}");
            assert!(err.to_string().contains(".csv.gz"), "{err}");
        }
    }
}
