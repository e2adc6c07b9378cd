//! Peak resident memory of this process, per training (Linux; `None` elsewhere).

/// Resets the kernel's peak-RSS counter (`VmHWM`) so that the next reading covers only what
/// follows. Returns whether it could.
pub(crate) fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident set size in bytes since the process started or since [`reset_peak`].
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
