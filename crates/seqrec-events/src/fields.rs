//! Validation of single field values shared by the readers; each failure is a short,
//! fixed reason so that skipped records can be counted by reason.

use crate::log::MAX_MS;

/// Reason: a required id is empty.
pub(crate) const EMPTY: &str = "empty";
/// Reason: a field is not valid UTF-8.
pub(crate) const NOT_UTF8: &str = "not valid UTF-8";
/// Reason: a duration is not a non-negative integer.
pub(crate) const NOT_DURATION: &str = "not a non-negative integer number of milliseconds";
/// Reason: a duration is too large.
pub(crate) const DURATION_RANGE: &str = "larger than 4294967294 ms";
/// Reason: a flag is not a boolean.
pub(crate) const NOT_BOOL: &str = "not true/false/1/0";
/// Reason: a required value is missing (null).
pub(crate) const NULL: &str = "null";

/// A required id: trimmed, non-empty.
pub(crate) fn id(text: &str) -> Result<&str, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        Err(EMPTY)
    } else {
        Ok(text)
    }
}

/// A UTF-8 required id from raw bytes.
pub(crate) fn id_bytes(bytes: &[u8]) -> Result<&str, &'static str> {
    id(std::str::from_utf8(bytes).map_err(|_| NOT_UTF8)?)
}

/// An optional duration in milliseconds: empty means unknown. Accepts an integral decimal
/// such as `1500.0`.
pub(crate) fn duration_ms(text: &str) -> Result<Option<u32>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let value: u64 = match text.parse::<u64>() {
        Ok(v) => v,
        Err(_) => match text.parse::<f64>() {
            Ok(v) if v >= 0.0 && v.fract() == 0.0 && v.is_finite() => {
                if v > f64::from(MAX_MS) {
                    return Err(DURATION_RANGE);
                }
                v as u64
            }
            _ => return Err(NOT_DURATION),
        },
    };
    checked_ms(value).map(Some)
}

/// A non-negative integer of milliseconds within range.
pub(crate) fn checked_ms(value: u64) -> Result<u32, &'static str> {
    if value > u64::from(MAX_MS) {
        Err(DURATION_RANGE)
    } else {
        Ok(value as u32)
    }
}

/// An optional flag: empty means unknown.
pub(crate) fn flag(text: &str) -> Result<Option<bool>, &'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "1" | "t" | "yes" => Ok(Some(true)),
        "false" | "0" | "f" | "no" => Ok(Some(false)),
        _ => Err(NOT_BOOL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms(""), Ok(None));
        assert_eq!(duration_ms(" 30000 "), Ok(Some(30_000)));
        assert_eq!(duration_ms("1500.0"), Ok(Some(1500)));
        assert_eq!(duration_ms("-1"), Err(NOT_DURATION));
        assert_eq!(duration_ms("1.5"), Err(NOT_DURATION));
        assert_eq!(duration_ms("abc"), Err(NOT_DURATION));
        assert_eq!(duration_ms("4294967295"), Err(DURATION_RANGE));
        assert_eq!(duration_ms("4294967294"), Ok(Some(MAX_MS)));
    }

    #[test]
    fn ids_and_flags() {
        assert_eq!(id("  a "), Ok("a"));
        assert_eq!(id(" "), Err(EMPTY));
        assert_eq!(id_bytes(b"\xff"), Err(NOT_UTF8));
        assert_eq!(flag("TRUE"), Ok(Some(true)));
        assert_eq!(flag("0"), Ok(Some(false)));
        assert_eq!(flag(""), Ok(None));
        assert_eq!(flag("maybe"), Err(NOT_BOOL));
    }
}
