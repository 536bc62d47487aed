use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike as _, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time as vendors write it, read leniently and held in UTC.
///
/// Accepted: RFC 3339 with `Z` or `+hh:mm`, the ISO 8601 basic offset
/// `+hhmm` that Infobip documents (`2024-01-01T00:00:00.000+0000`), and 0 to 9
/// fraction digits. Written as RFC 3339 in UTC with `Z`, keeping the
/// fraction's precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

/// A time that none of the accepted forms could read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a date-time with an offset (RFC 3339, or `yyyy-MM-ddTHH:mm:ss.SSS+0000`)")]
pub struct TimestampError {
    /// The text that could not be read, as given.
    pub input: String,
}

impl Timestamp {
    /// Parses any of the accepted forms.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        // An instant whose UTC year leaves 0000-9999 has no RFC 3339 form
        // in UTC (`9999-12-31T23:00:00-05:00` is in the year 10000): refused,
        // as what it is written in cannot be written back.
        Self::parse_any(input)
            .filter(|t| (0..=9999).contains(&t.0.year()))
            .ok_or_else(|| TimestampError { input: input.to_owned() })
    }

    fn parse_any(input: &str) -> Option<Self> {
        let input_trimmed = input.trim();
        if let Some(utc) = parse_common(input_trimmed) {
            return Some(Self(utc));
        }
        let mut buffer = [0u8; 64];
        DateTime::parse_from_rfc3339(input_trimmed)
            .or_else(|e| match with_offset_colon(input_trimmed, &mut buffer) {
                // `+0000` is RFC 3339's `+00:00` without the colon: add it and
                // take the fast parser again.
                Some(fixed) => DateTime::parse_from_rfc3339(fixed),
                None => Err(e),
            })
            .or_else(|_| DateTime::parse_from_str(input_trimmed, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .map(|t| Self(t.with_timezone(&Utc)))
            .ok()
    }

    /// The instant in UTC.
    pub fn utc(&self) -> DateTime<Utc> {
        self.0
    }

    /// RFC 3339 in UTC with `Z`, with as many fraction digits as needed.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

/// The forms vendors send, `yyyy-mm-ddThh:mm:ss[.f]` with 1 to 9 fraction
/// digits and `Z`, `±hh:mm` or `±hhmm`, read without chrono's general
/// parser (two of them a message, on every message). `None` for anything
/// else, or a value out of range (a leap second, an hour 24, an impossible
/// date): the general parsers then read it, or say why not.
fn parse_common(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).filter(|c| c.is_ascii_digit()).map(|c| u32::from(c - b'0'));
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if !separators.iter().all(|&(i, c)| b.get(i) == Some(&c)) {
        return None;
    }
    let year = two(0)? * 100 + two(2)?;
    let (month, day, hour, minute, second) = (two(5)?, two(8)?, two(11)?, two(14)?, two(17)?);
    let mut at = 19;
    let mut nanos = 0u32;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while let Some(d) = digit(at) {
            nanos = nanos.checked_mul(10)? + d;
            at += 1;
        }
        let digits = at - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos *= 10u32.pow((9 - digits) as u32);
    }
    let offset = match &b[at..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] | [sign @ (b'+' | b'-'), _, _, _, _] => {
            let (hours, minutes) = (two(at + 1)?, two(b.len() - 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    if second > 59 {
        return None;
    }
    let local = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)?;
    let utc = local.checked_sub_signed(chrono::TimeDelta::seconds(offset))?;
    Some(DateTime::from_naive_utc_and_offset(utc, Utc))
}

/// `…+hhmm` as `…+hh:mm`, written into `buffer`; `None` when the text does
/// not end that way (or is longer than any date-time).
fn with_offset_colon<'b>(text: &str, buffer: &'b mut [u8; 64]) -> Option<&'b str> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n < 6
        || n >= buffer.len()
        || !matches!(bytes[n - 5], b'+' | b'-')
        || !bytes[n - 4..].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    buffer[..n - 2].copy_from_slice(&bytes[..n - 2]);
    buffer[n - 2] = b':';
    buffer[n - 1..=n].copy_from_slice(&bytes[n - 2..]);
    // Valid UTF-8: a colon inserted before two ASCII digits.
    std::str::from_utf8(&buffer[..=n]).ok()
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The text is read in place where it can be (no copy); the result
        // carries the parse's error.
        crate::open_enum::visit_str(d, Self::parse, |text| Self::parse(&text))?.map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".to_owned()
    }
    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some("date-time".to_owned()),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendor_offset_form_reads_as_the_same_instant() {
        let forms = [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.000Z",
            "2024-01-01T00:00:00.000+00:00",
            "2024-01-01T00:00:00.000+0000",
            "2024-01-01T01:00:00.000000000+01:00",
            "2024-01-01T01:00:00+0100",
        ];
        for form in forms {
            assert_eq!(Timestamp::parse(form).unwrap().to_rfc3339(), "2024-01-01T00:00:00Z", "{form}");
        }
    }

    #[test]
    fn the_common_forms_read_as_chrono_reads_them() {
        let forms = [
            "2024-01-01T00:00:00Z",
            "2024-11-15T13:34:45.775630149Z",
            "2024-11-15T13:34:45.7Z",
            "2024-02-29T23:59:59.999+05:30",
            "2024-03-01T00:00:00.000-0800",
            "1999-12-31T23:00:00-00:00",
            "2024-01-01T00:00:00.000+23:59",
        ];
        for form in forms {
            let general = DateTime::parse_from_rfc3339(form)
                .or_else(|_| DateTime::parse_from_str(form, "%Y-%m-%dT%H:%M:%S%.f%z"))
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(parse_common(form), Some(general), "{form}");
        }
        // Left to the general parsers, which read them or say why not.
        for other in [
            "2024-01-01t00:00:00z",
            "2024-01-01 00:00:00Z",
            "2016-12-31T23:59:60Z",
            "2024-02-30T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00.1234567890Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+0",
        ] {
            assert_eq!(parse_common(other), None, "{other}");
        }
        assert_eq!(Timestamp::parse("2016-12-31T23:59:60Z").unwrap().to_rfc3339(), "2016-12-31T23:59:60Z");
    }

    #[test]
    fn nanoseconds_are_kept() {
        let t = Timestamp::parse("2024-11-15T13:34:45.775630149Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-11-15T13:34:45.775630149Z");
    }

    #[test]
    fn a_time_without_offset_is_refused_and_named() {
        let err = Timestamp::parse("2024-01-01T00:00:00").unwrap_err();
        assert!(err.to_string().contains("`2024-01-01T00:00:00`"), "{err}");
    }
}
