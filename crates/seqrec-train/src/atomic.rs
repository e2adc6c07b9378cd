//! Files written so that a kill at any instant leaves the previous version or the new one,
//! never a torn file: the bytes go to a temporary file in the same directory, are flushed to
//! disk, and the temporary file is renamed over the target (then the directory is synced).
//! Weights also get a SHA-256 sidecar so that a corrupted or replaced file is refused.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::TrainError;

/// The temporary name of `path` while it is written: hidden, in the same directory, unique to
/// this process.
fn temporary(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `path` atomically with `write`, which gets the temporary path to fill.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let tmp = temporary(path);
    let result = write(&tmp).and_then(|()| {
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(TrainError::io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(TrainError::io(path))?;
        // The rename itself reaches the disk with the directory.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    write_atomically(path, |tmp| {
        let mut file = File::create(tmp).map_err(TrainError::io(tmp))?;
        file.write_all(bytes).map_err(TrainError::io(tmp))
    })
}

/// The sidecar holding the checksum of `path`: `model.safetensors.sha256`.
pub fn checksum_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!("{name}.sha256"))
}

/// The SHA-256 of a file, in lower-case hex, and its size.
fn sha256_of(path: &Path) -> Result<(String, u64), TrainError> {
    let mut file = File::open(path).map_err(TrainError::io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(TrainError::io(path))?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((hex, size))
}

/// Writes the checksum sidecar of `path` (`SHA256  SIZE` on one line), atomically.
pub(crate) fn write_checksum(path: &Path) -> Result<(), TrainError> {
    let (hex, size) = sha256_of(path)?;
    write_bytes_atomically(&checksum_path(path), format!("{hex}  {size}\n").as_bytes())
}

/// Checks `path` against its checksum sidecar. A file without a sidecar (written before
/// seqrec kept them, or by another tool) passes; a sidecar that does not match, or cannot be
/// read, is a [`TrainError::Weights`] that names the file.
pub(crate) fn verify_checksum(path: &Path) -> Result<(), TrainError> {
    let sidecar = checksum_path(path);
    let text = match std::fs::read_to_string(&sidecar) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(TrainError::io(&sidecar)(e)),
    };
    let mut fields = text.split_whitespace();
    let (Some(expected), Some(expected_size)) = (fields.next(), fields.next()) else {
        return Err(TrainError::Weights {
            path: sidecar,
            message: "malformed checksum file: expected `SHA256  SIZE`".into(),
        });
    };
    let (actual, size) = sha256_of(path)?;
    if actual != expected || size.to_string() != expected_size {
        return Err(TrainError::Weights {
            path: path.to_path_buf(),
            message: format!(
                "checksum mismatch: {} says {expected_size} bytes with SHA-256 {expected}, the file has {size} bytes with SHA-256 {actual} (truncated, corrupted or replaced)",
                sidecar.display()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_the_file_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_bytes_atomically(&path, b"one").unwrap();
        write_bytes_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
        // A failing writer leaves the previous version, and no temporary file.
        let failed = write_atomically(&path, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(TrainError::Training("interrupted".into()))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn checksums_catch_every_change_and_pass_files_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.bin");
        std::fs::write(&path, b"weights").unwrap();
        verify_checksum(&path).unwrap(); // no sidecar yet
        write_checksum(&path).unwrap();
        // The SHA-256 of "weights", computed independently (sha256sum).
        assert_eq!(
            std::fs::read_to_string(checksum_path(&path)).unwrap(),
            "9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c  7\n"
        );
        verify_checksum(&path).unwrap();
        for changed in [&b"weightz"[..], b"weight", b"weights!"] {
            std::fs::write(&path, changed).unwrap();
            let message = verify_checksum(&path).unwrap_err().to_string();
            assert!(message.contains("checksum mismatch"), "{message}");
            assert!(message.contains("w.bin"), "{message}");
        }
        std::fs::write(checksum_path(&path), "nonsense").unwrap();
        let message = verify_checksum(&path).unwrap_err().to_string();
        assert!(message.contains("malformed checksum file"), "{message}");
    }
}
