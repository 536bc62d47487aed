use std::fmt;

/// A value that goes into a URL path as one segment (a conversation or
/// workspace id).
///
/// The generated clients percent-encode path values, but leave `.` alone,
/// as URLs allow; a value of exactly `.` or `..` would then be read as a
/// dot-segment and change the request's path (`/conversations/../messages`
/// is `/messages`). An empty value would leave an empty segment. Those three
/// are refused before anything is sent; every other string is accepted and
/// encoded into its one segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PathSegment(String);

/// A value that cannot be a path segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` cannot be an id in a URL path: {reason}")]
pub struct PathSegmentError {
    /// The value that was refused.
    pub value: String,
    /// Why it cannot be a path segment.
    pub reason: &'static str,
}

impl PathSegment {
    /// Checks `value`.
    pub fn new(value: impl Into<String>) -> Result<Self, PathSegmentError> {
        let value = value.into();
        let reason = match value.as_str() {
            "" => "it is empty",
            "." | ".." => "it would be read as a dot-segment and change the request's path",
            _ => return Ok(Self(value)),
        };
        Err(PathSegmentError { value, reason })
    }

    /// The value, as given (not percent-encoded).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PathSegment {
    /// The value itself: the generated client percent-encodes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PathSegment {
    type Error = PathSegmentError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<&str> for PathSegment {
    type Error = PathSegmentError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<&String> for PathSegment {
    type Error = PathSegmentError;
    fn try_from(value: &String) -> Result<Self, Self::Error> {
        Self::new(value.as_str())
    }
}

impl std::str::FromStr for PathSegment {
    type Err = PathSegmentError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::new(value)
    }
}

impl<'de> serde::Deserialize<'de> for PathSegment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for PathSegment {
    fn schema_name() -> String {
        "PathSegment".to_owned()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }
}

/// Every byte but the unreserved ones of RFC 3986 (`A-Z a-z 0-9 - . _ ~`).
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a value for one URL path segment: every character a URL
/// parser could read as a separator (`/`, `\`, `?`, `#`, `;`, `%`...) is
/// encoded, so the value can never leave its segment. The generated clients
/// call this in place of progenitor's encoder (see `crates/codegen`).
pub fn encode_path(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_separator_is_encoded_and_unreserved_characters_are_kept() {
        assert_eq!(encode_path(r"..\..\admin"), "..%5C..%5Cadmin");
        assert_eq!(encode_path("a/b?c#d;e=f%g h"), "a%2Fb%3Fc%23d%3Be%3Df%25g%20h");
        assert_eq!(encode_path("Az09-._~"), "Az09-._~");
        assert_eq!(encode_path("ü"), "%C3%BC");
        // The encoded value parses back as one segment.
        let url = reqwest::Url::parse(&format!("https://x.test/c/{}/m", encode_path(r"..\..\admin"))).unwrap();
        assert_eq!(url.path(), "/c/..%5C..%5Cadmin/m");
    }

    #[test]
    fn dot_segments_and_empty_values_are_refused_with_the_reason() {
        for bad in ["", ".", ".."] {
            let err = PathSegment::new(bad).unwrap_err();
            assert_eq!(err.value, bad);
        }
        assert!(PathSegment::new("..").unwrap_err().to_string().contains("dot-segment"));
    }

    #[test]
    fn every_other_value_is_kept_as_is() {
        for good in ["...", ".a", "a/../b", "%2e%2e", " ", "ü"] {
            assert_eq!(PathSegment::new(good).unwrap().to_string(), good);
        }
    }
}
