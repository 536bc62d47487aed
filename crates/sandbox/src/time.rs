//! Instants as the vendors write and read them.

use chrono::{DateTime, TimeDelta, Utc};

/// Parses an RFC 3339 instant, or Infobip's `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`
/// (an offset without a colon), with any number of fraction digits.
pub(crate) fn parse(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok().map(|t| t.with_timezone(&Utc))
}

/// A fixed UTC instant, written as `2024-01-02T09:00:00.125Z` would be.
pub(crate) fn utc(text: &str) -> DateTime<Utc> {
    // The callers pass literals of this crate; the fallback (the Unix epoch)
    // is never taken for them and keeps this infallible.
    parse(text).unwrap_or_default()
}

/// `start` plus `seconds` seconds, saturating at chrono's range.
pub(crate) fn plus_seconds(start: DateTime<Utc>, seconds: usize) -> DateTime<Utc> {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    TimeDelta::try_seconds(seconds).and_then(|d| start.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Milliseconds and a `Z`: `2024-11-25T20:12:10.514Z`.
pub(crate) fn millis_z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Nanoseconds and a `Z`, as in Bird's page tokens: `2024-11-15T13:34:45.775630149Z`.
pub(crate) fn nanos_z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_the_vendors_write() {
        let expected = utc("2024-01-01T00:00:00Z");
        for text in [
            "2024-01-01T00:00:00.000+0000",
            "2024-01-01T00:00:00.000+00:00",
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.000000000Z",
            "2024-01-01T01:00:00+01:00",
        ] {
            assert_eq!(parse(text), Some(expected), "{text}");
        }
        assert_eq!(parse("yesterday"), None);
    }

    #[test]
    fn writes_millis_and_nanos() {
        let t = utc("2024-11-15T13:34:45.775630149Z");
        assert_eq!(millis_z(t), "2024-11-15T13:34:45.775Z");
        assert_eq!(nanos_z(t), "2024-11-15T13:34:45.775630149Z");
        assert_eq!(nanos_z(plus_seconds(t, 2)), "2024-11-15T13:34:47.775630149Z");
    }
}
