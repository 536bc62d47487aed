//! A whole conversation from any vendor, as one stream of normalized pages.
//!
//! This module drives the vendor crates' own paging streams (which do the
//! HTTP, retries and safety checks) and maps every message as it arrives.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, future};
use serde::Serialize;
use serde_json::Value;

use convo_runtime::{PagingError, PagingOptions, Position};

use crate::{Message, Vendor};

/// A conversation to read: a vendor's client and the vendor's own query.
pub enum Source {
    Infobip(convo_infobip::Client, convo_infobip::MessagesQuery),
    Octopush(convo_octopush::Client, convo_octopush::MessagesQuery),
    Leadconnector(convo_leadconnector::LeadConnector, convo_leadconnector::MessagesQuery),
    Bird(convo_bird::Client, convo_bird::MessagesQuery),
}

impl Source {
    /// The vendor this source reads from.
    pub fn vendor(&self) -> Vendor {
        match self {
            Source::Infobip(..) => Vendor::Infobip,
            Source::Octopush(..) => Vendor::Octopush,
            Source::Leadconnector(..) => Vendor::Leadconnector,
            Source::Bird(..) => Vendor::Bird,
        }
    }
}

/// How to read a conversation.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Page size, concurrency, retries and where to resume.
    pub paging: PagingOptions,
    /// Only messages created at or after this time. Uses the vendor's
    /// server-side filter where it has one (Infobip `createdAfter`, Bird
    /// `dateFrom`), filters on the client otherwise, and stops early where
    /// the vendor's order allows it (LeadConnector lists newest first).
    pub since: Option<DateTime<Utc>>,
}

/// One page of a conversation, normalized.
#[derive(Debug, Clone)]
pub struct NormalizedPage {
    pub messages: Vec<Message>,
    /// Where this page started (`None`: the first page of a cursor vendor).
    pub position: Option<Position>,
    /// Where the next page starts; keep it to resume. `None` on the last page.
    pub next: Option<Position>,
}

/// Why reading a conversation stopped early. The messages of the pages
/// before it have been delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("infobip: {}", summary(Vendor::Infobip, .0))]
    Infobip(PagingError<convo_infobip::types::Error>),
    #[error("octopush: {}", summary(Vendor::Octopush, .0))]
    Octopush(PagingError<convo_octopush::types::Error>),
    #[error("leadconnector: {}", summary(Vendor::Leadconnector, .0))]
    Leadconnector(PagingError<convo_leadconnector::types::Error>),
    #[error("bird: {}", summary(Vendor::Bird, .0))]
    Bird(PagingError<convo_bird::types::Error>),
    /// `since` asked of a vendor whose messages carry no time.
    #[error("{vendor}: its messages carry no time, so `since` cannot filter them")]
    SinceUnsupported { vendor: Vendor },
}

/// What went wrong, in the words a person needs: no Rust debug dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The vendor refused the credentials or the permission (401, 403).
    Auth,
    /// The conversation or workspace does not exist (404).
    NotFound,
    /// A body that is not the vendor's documented shape.
    Undecodable,
    /// The query was invalid; nothing was sent.
    InvalidQuery,
    /// Any other vendor or network failure, after retries.
    Other,
}

impl FetchError {
    /// The vendor the error came from.
    pub fn vendor(&self) -> Vendor {
        match self {
            FetchError::Infobip(_) => Vendor::Infobip,
            FetchError::Octopush(_) => Vendor::Octopush,
            FetchError::Leadconnector(_) => Vendor::Leadconnector,
            FetchError::Bird(_) => Vendor::Bird,
            FetchError::SinceUnsupported { vendor } => *vendor,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> FailureKind {
        match self {
            FetchError::Infobip(e) => kind(e),
            FetchError::Octopush(e) => kind(e),
            FetchError::Leadconnector(e) => kind(e),
            FetchError::Bird(e) => kind(e),
            FetchError::SinceUnsupported { .. } => FailureKind::InvalidQuery,
        }
    }
}

fn kind<E: std::fmt::Debug>(error: &PagingError<E>) -> FailureKind {
    match error {
        PagingError::InvalidQuery { .. } => FailureKind::InvalidQuery,
        PagingError::Request { source: progenitor_client::Error::InvalidResponsePayload(..), .. } => {
            FailureKind::Undecodable
        }
        PagingError::Request { source: progenitor_client::Error::InvalidRequest(..), .. } => FailureKind::InvalidQuery,
        other => match other.status().map(|s| s.as_u16()) {
            Some(401 | 403) => FailureKind::Auth,
            Some(404) => FailureKind::NotFound,
            _ => FailureKind::Other,
        },
    }
}

/// The vendor's own words in an error body: the first `message` or `text`.
fn vendor_message(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => {
            for key in ["message", "text", "description", "error"] {
                match map.get(key) {
                    Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
                    Some(Value::Array(items)) => {
                        let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                        if !texts.is_empty() {
                            return Some(texts.join("; "));
                        }
                    }
                    _ => {}
                }
            }
            map.values().find_map(vendor_message)
        }
        _ => None,
    }
}

fn summary<E: std::fmt::Debug + Serialize>(vendor: Vendor, error: &PagingError<E>) -> String {
    use progenitor_client::Error as E2;
    let (page, attempts, source, waited) = match error {
        PagingError::Request { page, attempts, source } => (page, attempts, source, None),
        PagingError::RetryAfterTooLong { page, attempts, source, asked, cap } => {
            (page, attempts, source, Some((asked, cap)))
        }
        other => return other.to_string(),
    };
    let tries = match waited {
        Some((asked, cap)) => format!(
            "; the vendor asked to wait {} s before trying again, longer than the {} s this client waits (gave up after {attempts} {})",
            asked.as_secs(),
            cap.as_secs(),
            if *attempts == 1 { "try" } else { "tries" }
        ),
        None if *attempts == 1 => String::new(),
        None => format!(" (after {attempts} tries)"),
    };
    let what = match source {
        E2::ErrorResponse(response) => {
            let words = serde_json::to_value(&**response).ok().as_ref().and_then(vendor_message);
            match words {
                Some(words) => format!("HTTP {}: {words}", response.status()),
                None => format!("HTTP {}", response.status()),
            }
        }
        E2::UnexpectedResponse(response) => format!("unexpected HTTP {}", response.status()),
        E2::InvalidResponsePayload(body, e) => match crate::normalize_page(vendor, body) {
            // Decoding once more with path tracking names the JSON path.
            Err(page_error) => format!(
                "the response is not {vendor}'s documented shape: {} at `{}` (body starts with {})",
                page_error.reason, page_error.path, page_error.snippet
            ),
            Ok(_) => format!("the response is not {vendor}'s documented shape: {e}"),
        },
        E2::ResponseBodyError(e) => match convo_runtime::find_in_chain::<convo_runtime::ErrorStatus>(e) {
            Some(status) => status.to_string(),
            None => format!("the response body could not be read: {}", chain(e)),
        },
        E2::CommunicationError(e) => format!("network error: {}", chain(e)),
        E2::InvalidRequest(s) => format!("invalid request: {s}"),
        other => other.to_string(),
    };
    format!("{page}: {what}{tries}")
}

/// An error and its sources, on one line.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

/// Every page of the conversation, normalized, in the vendor's order.
pub fn pages(source: Source, options: FetchOptions) -> BoxStream<'static, Result<NormalizedPage, FetchError>> {
    let since = options.since;
    let paging = options.paging;
    // LeadConnector lists newest first: the first message older than
    // `since` means every later one is older too.
    let newest_first = matches!(source, Source::Leadconnector(..));
    fn normalized<T, E>(
        page: Result<convo_runtime::Page<T>, E>,
        map: fn(T) -> Message,
        wrap: fn(E) -> FetchError,
    ) -> Result<NormalizedPage, FetchError> {
        let page = page.map_err(wrap)?;
        Ok(NormalizedPage {
            messages: page.items.into_iter().map(map).collect(),
            position: page.position,
            next: page.next,
        })
    }
    let stream: BoxStream<'static, Result<NormalizedPage, FetchError>> = match source {
        Source::Infobip(client, mut query) => {
            if let Some(since) = since {
                if query.created_after.is_none() {
                    // `createdAfter` is exclusive and counts milliseconds:
                    // one millisecond earlier keeps a message created at
                    // `since` itself; the client-side filter below drops
                    // anything before it.
                    query.created_after = Some((since - chrono::Duration::milliseconds(1)).into());
                }
            }
            client.pages(query, paging).map(|p| normalized(p, crate::from_infobip, FetchError::Infobip)).boxed()
        }
        Source::Octopush(client, query) => {
            if since.is_some() {
                return futures::stream::once(future::ready(Err(FetchError::SinceUnsupported {
                    vendor: Vendor::Octopush,
                })))
                .boxed();
            }
            client.pages(query, paging).map(|p| normalized(p, crate::from_octopush, FetchError::Octopush)).boxed()
        }
        Source::Leadconnector(client, query) => client
            .pages(query, paging)
            .map(|p| normalized(p, crate::from_leadconnector, FetchError::Leadconnector))
            .boxed(),
        Source::Bird(client, mut query) => {
            if let Some(since) = since {
                if query.date_from.is_none() {
                    query.date_from = Some(since.into());
                }
            }
            client.pages(query, paging).map(|p| normalized(p, crate::from_bird, FetchError::Bird)).boxed()
        }
    };
    match since {
        None => stream,
        Some(since) => since_filter(stream, since, newest_first),
    }
}

/// Keeps messages created at or after `since` (messages without a time are
/// kept). When the vendor lists newest first, the first older message ends
/// the stream: every later page is older still, so it is never fetched.
fn since_filter(
    stream: BoxStream<'static, Result<NormalizedPage, FetchError>>,
    since: DateTime<Utc>,
    newest_first: bool,
) -> BoxStream<'static, Result<NormalizedPage, FetchError>> {
    // Checked before the next page is asked for, so that no request is made
    // once the older messages begin.
    futures::stream::unfold((stream, false), move |(mut stream, finished)| async move {
        if finished {
            return None;
        }
        let page = stream.next().await?;
        let mut finished = page.is_err();
        let page = page.map(|mut page| {
            let before = page.messages.len();
            page.messages.retain(|m| m.created_at.is_none_or(|t| t >= since));
            if newest_first && page.messages.len() < before {
                finished = true;
                page.next = None;
            }
            page
        });
        Some((page, (stream, finished)))
    })
    .boxed()
}

/// Every message of the conversation, normalized, in the vendor's order.
pub fn messages(source: Source, options: FetchOptions) -> BoxStream<'static, Result<Message, FetchError>> {
    pages(source, options)
        .flat_map(|page| match page {
            Ok(page) => futures::stream::iter(page.messages.into_iter().map(Ok).collect::<Vec<_>>()).boxed(),
            Err(e) => futures::stream::once(future::ready(Err(e))).boxed(),
        })
        .boxed()
}
