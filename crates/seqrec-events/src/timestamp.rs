//! Timestamps: parsing RFC 3339 text or Unix seconds/milliseconds into milliseconds since
//! the Unix epoch (UTC), and formatting them back as RFC 3339.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDateTime, SecondsFormat, Utc};

use seqrec_data::DataError;

/// Integers with at least this magnitude are read as milliseconds by
/// [`TimestampFormat::Auto`]: 10¹¹ seconds is the year 5138, 10¹¹ milliseconds is March 1973.
pub const AUTO_MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// How a timestamp field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// RFC 3339 text if the field holds anything but a number; otherwise Unix seconds, or
    /// milliseconds when its magnitude is at least [`AUTO_MILLIS_THRESHOLD`].
    #[default]
    Auto,
    /// RFC 3339 text, e.g. `2024-05-01T17:03:12Z` or `2024-05-01 19:03:12.250+02:00`.
    /// Text without an offset (`2024-05-01T17:03:12`) is read as UTC.
    Rfc3339,
    /// Unix seconds (fractions allowed).
    UnixSeconds,
    /// Unix milliseconds.
    UnixMillis,
}

impl FromStr for TimestampFormat {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "rfc3339" => Ok(Self::Rfc3339),
            "unix-seconds" | "s" | "seconds" => Ok(Self::UnixSeconds),
            "unix-millis" | "ms" | "millis" => Ok(Self::UnixMillis),
            _ => Err(DataError::InvalidOptions {
                reason: format!(
                    "unknown timestamp format {s:?}: expected auto, rfc3339, unix-seconds or unix-millis"
                ),
            }),
        }
    }
}

impl fmt::Display for TimestampFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Rfc3339 => "rfc3339",
            Self::UnixSeconds => "unix-seconds",
            Self::UnixMillis => "unix-millis",
        })
    }
}

/// Reason given when a timestamp does not parse.
pub(crate) const BAD_TIMESTAMP: &str = "not an RFC 3339 time or Unix seconds/milliseconds";
/// Reason given when a timestamp is outside the representable range.
pub(crate) const TIMESTAMP_RANGE: &str = "timestamp out of range";

/// Parses `text` (already trimmed) as a timestamp in milliseconds since the Unix epoch.
pub(crate) fn parse_timestamp(text: &str, format: TimestampFormat) -> Result<i64, &'static str> {
    match format {
        TimestampFormat::Rfc3339 => parse_rfc3339(text),
        TimestampFormat::UnixSeconds => parse_seconds(text),
        TimestampFormat::UnixMillis => text.parse::<i64>().map_err(|_| BAD_TIMESTAMP),
        TimestampFormat::Auto => {
            let numeric = !text.is_empty()
                && text
                    .bytes()
                    .enumerate()
                    .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'));
            if !numeric {
                return parse_rfc3339(text);
            }
            match text.parse::<i64>() {
                // `unsigned_abs`: `abs` of i64::MIN overflows (a panic in debug builds).
                Ok(v) if v.unsigned_abs() >= AUTO_MILLIS_THRESHOLD.unsigned_abs() => Ok(v),
                Ok(v) => Ok(v * 1000),
                Err(_) => parse_seconds(text),
            }
        }
    }
}

/// Unix seconds, possibly with a fraction, to milliseconds (rounded to the nearest).
pub(crate) fn parse_seconds(text: &str) -> Result<i64, &'static str> {
    if let Ok(v) = text.parse::<i64>() {
        return v.checked_mul(1000).ok_or(TIMESTAMP_RANGE);
    }
    let v: f64 = text.parse().map_err(|_| BAD_TIMESTAMP)?;
    if !v.is_finite() {
        return Err(BAD_TIMESTAMP);
    }
    let ms = (v * 1000.0).round();
    if ms.abs() > 9.0e18 {
        return Err(TIMESTAMP_RANGE);
    }
    Ok(ms as i64)
}

fn parse_rfc3339(text: &str) -> Result<i64, &'static str> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    for pattern in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, pattern) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    Err(BAD_TIMESTAMP)
}

/// Formats milliseconds since the Unix epoch as RFC 3339 in UTC with milliseconds, e.g.
/// `2024-01-01T00:00:00.000Z`; falls back to the plain number (which
/// [`TimestampFormat::Auto`] reads back as milliseconds) outside the years 0 to 9999, which
/// RFC 3339 cannot write.
pub fn format_rfc3339(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        // chrono writes other years as `+10000-…` or `-0001-…`, which no reader takes.
        Some(t) if (0..=9999).contains(&t.year()) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        _ => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

    #[test]
    fn auto_reads_rfc3339_seconds_and_millis() {
        let auto = |s| parse_timestamp(s, TimestampFormat::Auto);
        assert_eq!(auto("2024-01-01T00:00:00Z"), Ok(T));
        assert_eq!(auto("2024-01-01T01:00:00.5+01:00"), Ok(T + 500));
        assert_eq!(auto("2024-01-01 00:00:00Z"), Ok(T));
        assert_eq!(auto("2024-01-01T00:00:00"), Ok(T));
        assert_eq!(auto("1704067200"), Ok(T));
        assert_eq!(auto("1704067200.25"), Ok(T + 250));
        assert_eq!(auto("1704067200000"), Ok(T));
        assert_eq!(auto("-5"), Ok(-5000));
        assert_eq!(auto("0"), Ok(0));
        for bad in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "1.2.3",
            "--1",
            "NaN",
        ] {
            assert_eq!(auto(bad), Err(BAD_TIMESTAMP), "{bad:?}");
        }
    }

    /// Found by `csv_mutations_are_reported_or_counted` (tests/properties.rs): the most
    /// negative integer made `Auto` panic (`abs` overflowed) instead of reading milliseconds.
    #[test]
    fn auto_reads_the_extreme_integers_without_overflow() {
        let auto = |s| parse_timestamp(s, TimestampFormat::Auto);
        assert_eq!(auto("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(auto("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(auto("-99999999999"), Ok(-99_999_999_999_000));
        assert_eq!(auto("-100000000000"), Ok(-100_000_000_000));
    }

    #[test]
    fn explicit_formats_do_not_guess() {
        assert_eq!(
            parse_timestamp("1704067200000", TimestampFormat::UnixSeconds),
            Ok(T * 1000)
        );
        assert_eq!(
            parse_timestamp("1704067200", TimestampFormat::UnixMillis),
            Ok(1_704_067_200)
        );
        assert_eq!(
            parse_timestamp("1704067200", TimestampFormat::Rfc3339),
            Err(BAD_TIMESTAMP)
        );
        assert_eq!(
            parse_timestamp("99999999999999999", TimestampFormat::UnixSeconds),
            Err(TIMESTAMP_RANGE)
        );
    }

    #[test]
    fn format_round_trips() {
        let text = format_rfc3339(T + 123);
        assert_eq!(text, "2024-01-01T00:00:00.123Z");
        assert_eq!(parse_timestamp(&text, TimestampFormat::Auto), Ok(T + 123));
        assert_eq!(format_rfc3339(i64::MAX), i64::MAX.to_string());
    }

    /// Found by `csv_write_read_write_is_the_identity` (tests/properties.rs): a time before
    /// the year 0 or after 9999 was written as `-0001-12-31T23:59:59.999Z`, which the CSV
    /// reader refused.
    #[test]
    fn times_outside_rfc3339_years_are_written_as_milliseconds() {
        let auto = |s: &str| parse_timestamp(s, TimestampFormat::Auto);
        for ms in [
            -62_167_219_200_001, // 1 ms before the year 0
            -62_167_219_200_000, // 0000-01-01
            253_402_300_799_999, // the last millisecond of 9999
            253_402_300_800_000, // 10000-01-01
            i64::MIN,
        ] {
            let text = format_rfc3339(ms);
            assert_eq!(auto(&text), Ok(ms), "{text}");
        }
        assert_eq!(format_rfc3339(253_402_300_800_000), "253402300800000");
        assert_eq!(
            format_rfc3339(-62_167_219_200_000),
            "0000-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn names_parse() {
        for f in [
            TimestampFormat::Auto,
            TimestampFormat::Rfc3339,
            TimestampFormat::UnixSeconds,
            TimestampFormat::UnixMillis,
        ] {
            assert_eq!(f.to_string().parse::<TimestampFormat>().unwrap(), f);
        }
        assert!("unix".parse::<TimestampFormat>().is_err());
    }
}
