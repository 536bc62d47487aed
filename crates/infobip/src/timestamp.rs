use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use convo_runtime::TimestampError;

/// A point in time as Infobip writes it.
///
/// Reading is lenient (see [`convo_runtime::Timestamp`]): `Z`, `+00:00` and
/// `+0000` offsets and 0 to 9 fraction digits are all accepted. Writing
/// (`Display`, `Serialize`, and so every query parameter) always uses the
/// form Infobip documents, in UTC with exactly 3 fraction digits:
/// `2024-01-01T00:00:00.000+0000`. Finer fractions are truncated on the way
/// out; the decoded value keeps them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(convo_runtime::Timestamp);

impl Timestamp {
    /// Parses any of the accepted forms.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        convo_runtime::Timestamp::parse(input).map(Self)
    }

    /// The instant in UTC, with its full precision.
    pub fn utc(&self) -> DateTime<Utc> {
        self.0.utc()
    }

    /// The instant in Infobip's documented form, `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`.
    pub fn to_infobip(&self) -> String {
        self.utc().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(convo_runtime::Timestamp(value))
    }
}

impl From<convo_runtime::Timestamp> for Timestamp {
    fn from(value: convo_runtime::Timestamp) -> Self {
        Self(value)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(value: Timestamp) -> Self {
        value.utc()
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Timestamp {
    type Error = TimestampError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimestampError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_infobip())
    }
}

impl fmt::Debug for Timestamp {
    /// The instant in RFC 3339 with its full precision, e.g.
    /// `Timestamp(2024-01-01T00:00:00.123456789Z)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Timestamp").field(&self.utc()).finish()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        convo_runtime::Timestamp::deserialize(d).map(Self)
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".to_owned()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        // The same string date-time as the shared timestamp it wraps.
        convo_runtime::Timestamp::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendor_form_reads_and_is_written_in_infobips_form() {
        for form in [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.000+00:00",
            "2024-01-01T00:00:00.000+0000",
            "2024-01-01T01:00:00.000000000+01:00",
            "2024-01-01T01:00:00+0100",
        ] {
            let t: Timestamp = form.parse().unwrap();
            assert_eq!(t.to_string(), "2024-01-01T00:00:00.000+0000", "{form}");
            assert_eq!(serde_json::to_string(&t).unwrap(), "\"2024-01-01T00:00:00.000+0000\"", "{form}");
        }
    }

    #[test]
    fn finer_fractions_are_kept_when_read_and_truncated_when_written() {
        let t: Timestamp = serde_json::from_str("\"2024-11-15T13:34:45.775630149Z\"").unwrap();
        assert_eq!(t.utc().to_rfc3339(), "2024-11-15T13:34:45.775630149+00:00");
        assert_eq!(t.to_string(), "2024-11-15T13:34:45.775+0000");
        assert_eq!(format!("{t:?}"), "Timestamp(2024-11-15T13:34:45.775630149Z)");
    }

    #[test]
    fn a_time_without_offset_is_refused_and_named() {
        let err = serde_json::from_str::<Timestamp>("\"2024-01-01T00:00:00\"").unwrap_err();
        assert!(err.to_string().contains("`2024-01-01T00:00:00`"), "{err}");
    }
}
