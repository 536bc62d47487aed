//! The request and response shapes the vendor handlers work with.

use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, StatusCode};
use serde::Serialize;

/// A request routed to one vendor.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    /// The path after the vendor's prefix, still percent-encoded.
    pub path: &'a str,
    pub query: Query,
    pub headers: &'a HeaderMap,
    /// The 1-based number of this request among the vendor's requests.
    pub number: usize,
    /// A fault that changes the page served, if one applies to this request.
    pub fault: Option<PageFault>,
    /// The generated conversations' size when the request arrived.
    pub generated: crate::vendors::Generated,
    /// Where the vendor's budget stands after admitting this request, in
    /// the rate-limit mode.
    pub rate: Option<crate::limit::RateState>,
}

/// The faults a vendor handler applies itself (the others are applied
/// around it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageFault {
    RepeatCursor,
    EmptyPageWithMore,
}

impl Call<'_> {
    /// A request header as text; `None` when it is missing or not text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The credentials of an `Authorization: <scheme> <credentials>` header
    /// whose scheme is `scheme` (compared without regard to case).
    pub fn authorization(&self, scheme: &str) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (given, credentials) = value.split_once(' ')?;
        given.eq_ignore_ascii_case(scheme).then(|| credentials.trim())
    }

    /// The one path parameter of `path` between `prefix` and `suffix`,
    /// percent-decoded; `None` when the path has another shape.
    pub fn path_param(&self, prefix: &str, suffix: &str) -> Option<String> {
        let raw = self.path.strip_prefix(prefix)?.strip_suffix(suffix)?;
        decode_segment(raw)
    }
}

/// A percent-decoded path segment; `None` when it is empty, holds a `/` or
/// is not UTF-8.
pub(crate) fn decode_segment(raw: &str) -> Option<String> {
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    percent_encoding::percent_decode_str(raw).decode_utf8().ok().map(|s| s.into_owned())
}

/// The decoded query string, keys in the order sent (repeated keys kept).
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in the order sent.
    pub fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A response as first sent, to send again (`SandboxOptions::replay`).
#[derive(Clone)]
pub(crate) struct Replayed {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: hyper::body::Bytes,
}

/// A response to send.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON response.
    pub fn json(status: StatusCode, body: &impl Serialize) -> Reply {
        match serde_json::to_vec(body) {
            Ok(body) => Reply {
                status,
                headers: vec![(
                    hyper::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                )],
                body,
            },
            // The sandbox's own types always serialize; say so if one does not.
            Err(e) => Reply {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                headers: vec![(hyper::header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
                body: format!("sandbox: the response could not be serialized: {e}").into_bytes(),
            },
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// The reason phrase of a status, or "Error" for one without.
pub(crate) fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}
