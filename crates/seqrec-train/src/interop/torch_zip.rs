//! A workaround for PyTorch ZIP checkpoints that the ZIP reader under burn-store misreads.
//!
//! `torch.save` ends its archive with the ZIP64 end records *and* a classic end record that
//! holds the real entry count, size and offset of the central directory instead of the
//! `0xFFFF…` markers that announce ZIP64. The `zip` crate (9.8) then takes the central
//! directory to end where the classic record starts, 76 bytes (the two ZIP64 records) after
//! its real end. When the first central-directory entry is itself 76 bytes long, which it is
//! whenever the archive's inner name (the file stem at save time) has 21 characters, it
//! finds an entry there and fails with "Invalid Central Directory header". Marking the
//! classic record's offset as ZIP64 makes the reader follow the ZIP64 records, which torch
//! writes correctly. The copy is made only after the original failed to open.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Signature of the ZIP64 end-of-central-directory record.
const ZIP64_END: [u8; 4] = *b"PK\x06\x06";
/// Signature of the ZIP64 end-of-central-directory locator.
const ZIP64_LOCATOR: [u8; 4] = *b"PK\x06\x07";
/// Signature of the classic end-of-central-directory record.
const CLASSIC_END: [u8; 4] = *b"PK\x05\x06";
/// Sizes of the ZIP64 end record, the locator and the classic end record (no comment).
const ZIP64_END_LEN: u64 = 56;
const LOCATOR_LEN: u64 = 20;
const CLASSIC_END_LEN: u64 = 22;
/// Offset of the central directory's offset inside the classic end record.
const CLASSIC_CD_OFFSET: u64 = 16;

/// A patched temporary copy of a checkpoint, deleted when dropped.
pub(crate) struct PatchedCopy {
    path: PathBuf,
}

impl PatchedCopy {
    /// A copy of `path` whose classic end record announces ZIP64, when `path` ends as
    /// `torch.save` writes it (ZIP64 records followed by an unmarked classic record, no
    /// comment); `None` for any other file.
    pub fn of(path: &Path) -> io::Result<Option<Self>> {
        let trailer_len = ZIP64_END_LEN + LOCATOR_LEN + CLASSIC_END_LEN;
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        if len < trailer_len {
            return Ok(None);
        }
        let mut trailer = [0u8; (ZIP64_END_LEN + LOCATOR_LEN + CLASSIC_END_LEN) as usize];
        file.seek(SeekFrom::Start(len - trailer_len))?;
        file.read_exact(&mut trailer)?;
        let at = |offset: u64| &trailer[offset as usize..offset as usize + 4];
        let classic = ZIP64_END_LEN + LOCATOR_LEN;
        let torch_trailer = at(0) == ZIP64_END
            && at(ZIP64_END_LEN) == ZIP64_LOCATOR
            && at(classic) == CLASSIC_END
            && at(classic + CLASSIC_CD_OFFSET) != [0xFF; 4]
            && trailer[trailer.len() - 2..] == [0, 0];
        if !torch_trailer {
            return Ok(None);
        }

        let copy = Self {
            path: std::env::temp_dir().join(format!(
                "seqrec-import-{}-{}.pt",
                std::process::id(),
                unique_suffix()
            )),
        };
        std::fs::copy(path, &copy.path)?;
        let mut patched = OpenOptions::new().write(true).open(&copy.path)?;
        patched.seek(SeekFrom::Start(len - CLASSIC_END_LEN + CLASSIC_CD_OFFSET))?;
        patched.write_all(&[0xFF; 4])?;
        Ok(Some(copy))
    }

    /// The copy.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PatchedCopy {
    fn drop(&mut self) {
        // Best effort: a leftover file in the temporary directory is harmless.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Distinguishes copies made by one process.
fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
