//! The four vendors' wire forms: requests parsed, pages served, error
//! bodies.

mod bird;
mod infobip;
mod leadconnector;
mod octopush;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::server::{Recorded, State};
use crate::store::View;
use crate::{Behaviour, Options, Vendor};

/// A response to send.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".to_owned(), "application/json; charset=utf-8".to_owned())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// A load balancer's or gateway's page: not JSON.
    pub fn html(status: u16) -> Reply {
        let reason = hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
        Reply {
            status,
            headers: vec![("content-type".to_owned(), "text/html".to_owned())],
            body: format!("<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>\r\n")
                .into_bytes(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The same page, gzip-compressed, padded to expand to `expanded` bytes.
    pub fn gzip_bomb(mut self, expanded: usize) -> Reply {
        self.body = crate::gzip::bomb(&self.body, expanded);
        self.headers.push(("content-encoding".to_owned(), "gzip".to_owned()));
        self
    }
}

/// A page request, parsed.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    /// The listing it reads.
    pub view: View,
    /// The page size asked for (or the vendor's default).
    pub limit: usize,
    pub kind: PageKind,
}

#[derive(Debug, Clone)]
pub(crate) enum PageKind {
    /// A page number as the vendor counts it, and the page's 1-based
    /// ordinal; `None` for Infobip's page 0, which a client paging on a key
    /// (`createdAfter`) asks for again and again: its ordinal is then the
    /// order in which each distinct query first arrived.
    Numbered { number: usize, ordinal: Option<usize> },
    /// LeadConnector: the `lastMessageId` cursor.
    Cursor { last_message_id: Option<String> },
    /// Bird: the decoded `pageToken`.
    Token { token: Option<Token> },
}

/// What a Bird page token holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Offset(usize),
    After { created_ms: i64, id: String },
}

pub(crate) fn parse(options: &Options, request: &Recorded) -> Result<PageRequest, Reply> {
    match options.vendor {
        Vendor::Infobip => infobip::parse(options, request),
        Vendor::Octopush => octopush::parse(options, request),
        Vendor::Leadconnector => leadconnector::parse(options, request),
        Vendor::Bird => bird::parse(options, request),
    }
}

pub(crate) fn serve(options: &Options, state: &mut State, page: &PageRequest, ordinal: usize) -> Reply {
    match options.vendor {
        Vendor::Infobip => infobip::serve(options, state, page, ordinal),
        Vendor::Octopush => octopush::serve(options, state, page, ordinal),
        Vendor::Leadconnector => leadconnector::serve(options, state, page, ordinal),
        Vendor::Bird => bird::serve(options, state, page, ordinal),
    }
}

/// The vendor's error body for `status`, saying `text`.
pub(crate) fn error(vendor: Vendor, status: u16, text: &str) -> Reply {
    match vendor {
        Vendor::Infobip => infobip::error(status, text),
        Vendor::Octopush => octopush::error(status, text),
        Vendor::Leadconnector => leadconnector::error(status, text),
        Vendor::Bird => bird::error(status, text),
    }
}

/// A one-time failure status: a gateway's HTML page for the statuses a
/// gateway or load balancer gives, the vendor's error body otherwise.
pub(crate) fn fault_status(vendor: Vendor, status: u16) -> Reply {
    match status {
        408 | 502 | 503 | 504 => Reply::html(status),
        _ => error(vendor, status, "Internal server error"),
    }
}

/// A refusal that quotes the credential the request carried, in the body
/// and in response headers.
pub(crate) fn echo(vendor: Vendor, status: u16, request: &Recorded) -> Reply {
    let credential = match vendor {
        Vendor::Octopush => format!(
            "api-key {} for api-login {}",
            request.header("api-key").unwrap_or(""),
            request.header("api-login").unwrap_or("")
        ),
        _ => request.header("authorization").unwrap_or("").to_owned(),
    };
    let reply = match vendor {
        Vendor::Infobip => infobip::echo(status, &credential),
        Vendor::Octopush => octopush::error(status, &format!("Invalid {credential}")),
        Vendor::Leadconnector => leadconnector::echo(status, &credential),
        Vendor::Bird => bird::echo(status, &credential),
    };
    let scheme = credential.split(' ').next().unwrap_or("Bearer").to_owned();
    reply.header("x-echo-credential", credential.clone()).header(
        "www-authenticate",
        format!("{scheme} realm=\"hostile\", error=\"invalid_token\", error_description=\"rejected {credential}\""),
    )
}

/// The page size the behaviour caps at, if it does.
pub(crate) fn cap(options: &Options) -> Option<usize> {
    match options.behaviour {
        Behaviour::CapPageSize { max } => Some(max.max(1)),
        _ => None,
    }
}

/// How many messages page `ordinal` hides.
pub(crate) fn missing(options: &Options, ordinal: usize) -> usize {
    match options.behaviour {
        Behaviour::ShortPage { page, missing } if page == ordinal => missing,
        _ => 0,
    }
}

/// How many fewer messages the reported count says.
pub(crate) fn understatement(options: &Options) -> usize {
    match options.behaviour {
        Behaviour::UnderstateTotal { by } => by,
        _ => 0,
    }
}

/// A timestamp parsed leniently: RFC 3339, `+0000` offsets, 0 to 9
/// fraction digits, a `+` that arrived as a space (an unencoded query
/// value), no offset at all (UTC). In milliseconds.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    let fixed = match text.rfind(' ') {
        Some(pos) if pos > 10 => format!("{}+{}", &text[..pos], &text[pos + 1..]),
        _ => text.to_owned(),
    };
    let parsed = DateTime::parse_from_rfc3339(&fixed)
        .or_else(|_| DateTime::parse_from_str(&fixed, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(&fixed, "%Y-%m-%dT%H:%M:%S%z"))
        .map(|t| t.with_timezone(&Utc));
    let parsed = match parsed {
        Ok(t) => t,
        Err(_) => NaiveDateTime::parse_from_str(&fixed, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(&fixed, "%Y-%m-%dT%H:%M:%S"))
            .ok()?
            .and_utc(),
    };
    Some(parsed.timestamp_millis())
}

/// `ms` as RFC 3339 with milliseconds and the given offset spelling
/// (`Z` or `+00:00`).
pub(crate) fn format_time(ms: i64, offset: &str) -> String {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    format!("{}{offset}", t.format("%Y-%m-%dT%H:%M:%S%.3f"))
}

/// A raw path segment, percent-decoded; `None` when it holds a raw `/` or
/// is not UTF-8.
pub(crate) fn decode_segment(raw: &str) -> Option<String> {
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    percent_encoding::percent_decode_str(raw).decode_utf8().ok().map(|s| s.into_owned())
}

/// The value of `Authorization: <scheme> <credentials>` when its scheme is
/// one of `schemes` (any case) and its credentials are not empty.
pub(crate) fn authorization<'a>(request: &'a Recorded, schemes: &[&str]) -> Option<&'a str> {
    let (scheme, credentials) = request.header("authorization")?.trim().split_once(' ')?;
    let credentials = credentials.trim();
    (schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) && !credentials.is_empty()).then_some(credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_read_leniently() {
        let want = Some(1_704_067_200_123);
        for text in [
            "2024-01-01T00:00:00.123+0000",
            "2024-01-01T00:00:00.123+00:00",
            "2024-01-01T00:00:00.123Z",
            "2024-01-01T00:00:00.123 0000",
            "2024-01-01T00:00:00.123456789Z",
            "2024-01-01T00:00:00.123",
        ] {
            assert_eq!(parse_time(text), want, "{text}");
        }
        assert_eq!(parse_time("2024-01-01T00:00:00Z"), Some(1_704_067_200_000));
        assert_eq!(parse_time("2024-01-01T00:00:00+0000"), Some(1_704_067_200_000));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(format_time(1_704_067_200_123, "+00:00"), "2024-01-01T00:00:00.123+00:00");
    }
}
