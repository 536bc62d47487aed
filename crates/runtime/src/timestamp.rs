use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
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
        let input_trimmed = input.trim();
        DateTime::parse_from_rfc3339(input_trimmed)
            .or_else(|e| match with_offset_colon(input_trimmed) {
                // `+0000` is RFC 3339's `+00:00` without the colon: add it and
                // take the fast parser again.
                Some(fixed) => DateTime::parse_from_rfc3339(&fixed),
                None => Err(e),
            })
            .or_else(|_| DateTime::parse_from_str(input_trimmed, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .map(|t| Self(t.with_timezone(&Utc)))
            .map_err(|_| TimestampError { input: input.to_owned() })
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

/// `…+hhmm` as `…+hh:mm`; `None` when the text does not end that way.
fn with_offset_colon(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n < 6 || !matches!(bytes[n - 5], b'+' | b'-') || !bytes[n - 4..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (head, minutes) = text.split_at(n - 2);
    Some(format!("{head}:{minutes}"))
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
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
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
