//! Why a paging stream ended early, in one readable line, with what a
//! caller branches on: [`PagingError::kind`], the `is_*` questions,
//! [`PagingError::status`] and [`PagingError::retry_after`].

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::Position;
use crate::limit::{ErrorStatus, body_too_large, find_in_chain};
use crate::retry::Exhausted;

/// What a vendor's error body must be for a [`PagingError`] to quote it:
/// every generated `types::Error` is.
pub trait VendorError: fmt::Debug + serde::Serialize + Send + 'static {}
impl<T: fmt::Debug + serde::Serialize + Send + 'static> VendorError for T {}

/// What went wrong, in the terms a caller decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The vendor refused the credentials or the permission (401, 403).
    Auth,
    /// The conversation (or workspace) does not exist (404).
    NotFound,
    /// The vendor's rate limit held after every retry, or it asked to wait
    /// longer than the retry policy allows (429).
    RateLimited,
    /// Another error status from the vendor, after retries.
    Vendor,
    /// The connection failed or timed out, after retries.
    Network,
    /// A body that is not the vendor's documented shape.
    Undecodable,
    /// A body over the client's size limit; it was not read.
    TooLarge,
    /// The vendor's listing could not be read exactly once (a cursor
    /// pointing back, a listing that changed, a total that does not hold):
    /// reading again from the start is the way out.
    Listing,
    /// A parameter of the query is invalid; nothing was sent.
    InvalidQuery,
    /// A bug in this library stopped the read (a task panicked); what was
    /// delivered before it holds.
    Internal,
}

/// Why a paging stream ended early. Every variant names the page. Messages
/// of the pages before it have been delivered, each exactly once.
///
/// `Display` is one line: the page, the status, the vendor's own words and
/// the number of tries. `Debug` is the same line with the [`ErrorKind`], so
/// that `fn main() -> Result<(), Box<dyn Error>>` prints it too.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum PagingError<E: VendorError> {
    /// The request for a page failed for good (after `attempts` tries).
    #[error("{}", describe(page, *attempts, error, None))]
    Request {
        /// The page that was asked for.
        page: PagePosition,
        /// How many times the page was asked for.
        attempts: u32,
        /// The error of the last try.
        error: Box<progenitor_client::Error<E>>,
    },
    /// The vendor asked to wait longer than the retry policy allows.
    #[error("{}", describe(page, *attempts, error, Some((*asked, *cap))))]
    RetryAfterTooLong {
        /// The page that was asked for.
        page: PagePosition,
        /// How long the vendor asked to wait.
        asked: Duration,
        /// The longest wait the retry policy allows
        /// ([`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after)).
        cap: Duration,
        /// How many times the page was asked for.
        attempts: u32,
        /// The error of the last try.
        error: Box<progenitor_client::Error<E>>,
    },
    /// The response body was larger than the client's limit.
    #[error("{page}: the response body is larger than the limit of {limit} bytes; it was not read")]
    BodyTooLarge {
        /// The page that was asked for.
        page: PagePosition,
        /// The client's limit, in bytes.
        limit: u64,
    },
    /// The vendor handed back a cursor it had already given.
    #[error("{page}: the vendor repeated cursor `{cursor}`; stopping instead of looping")]
    RepeatedCursor {
        /// The page that handed the cursor back.
        page: PagePosition,
        /// The repeated cursor, as the vendor sent it.
        cursor: String,
    },
    /// Every message of a page had been delivered already: the cursor or
    /// page number pointed back.
    #[error(
        "{page}: all {count} messages of the page had already been delivered; the vendor pointed back, stopping instead of repeating them"
    )]
    RepeatedPage {
        /// The page whose messages had all been delivered.
        page: PagePosition,
        /// How many messages the page held.
        count: usize,
    },
    /// A message already delivered came again after new ones: the listing
    /// is not in a stable order.
    #[error("{page}: message `{id}` came again after new messages; the listing changed order while it was read")]
    RepeatedMessage {
        /// The page the message came again on.
        page: PagePosition,
        /// The id of the message that came again.
        id: String,
    },
    /// A message sorts before messages already delivered (or outside the
    /// filter asked for): the vendor pointed back, or ignored the filter.
    #[error(
        "{page}: message `{id}` is out of the listing's order ({reason}); the vendor pointed back or ignored the filter"
    )]
    OutOfOrder {
        /// The page the message is on.
        page: PagePosition,
        /// The id of the message, or a placeholder in parentheses when it
        /// has none.
        id: String,
        /// Which order the message breaks.
        reason: &'static str,
    },
    /// The cursor a page handed back is not what the vendor documents it
    /// to be (LeadConnector: the id of the page's last message).
    #[error("{page}: the next cursor `{cursor}` is not the id of the page's last message `{last}`")]
    CursorMismatch {
        /// The page that handed the cursor back.
        page: PagePosition,
        /// The next cursor, as the vendor sent it.
        cursor: String,
        /// The id of the page's last message.
        last: String,
    },
    /// The vendor served another page than the one asked for.
    #[error("{page}: the vendor served page {served} instead")]
    WrongPage {
        /// The page that was asked for.
        page: PagePosition,
        /// The page number the vendor says it served.
        served: i64,
    },
    /// The vendor said more pages follow but gave no cursor to get them.
    #[error("{page}: the vendor said more pages follow but gave no cursor to get them; the stream cannot go on")]
    NoCursor {
        /// The page that said more pages follow.
        page: PagePosition,
    },
    /// The vendor said more pages follow but sent no messages.
    #[error("{page}: the vendor said more pages follow but sent an empty page")]
    EmptyPageWithMore {
        /// The empty page.
        page: PagePosition,
    },
    /// An empty page came, asked for twice, where the last message
    /// delivered should have come again, and the vendor sent no count to
    /// tell that message's deletion from a listing that stopped answering:
    /// the read cannot show it is whole.
    #[error(
        "{page}: an empty page where the last message delivered should have come again, with no count of the messages left; the read cannot show it has them all, read it again"
    )]
    UnprovenEnd {
        /// The empty page.
        page: PagePosition,
    },
    /// The vendor's pages go past the total it announced.
    #[error("{page}: more messages than the {total_items} the vendor announced")]
    BeyondTotal {
        /// The page that went past the total.
        page: PagePosition,
        /// The total number of messages the vendor announced with that page.
        total_items: u64,
    },
    /// The last page came with fewer messages delivered than the vendor's
    /// total announced: a cursor skipped some.
    #[error(
        "{page}: the last page leaves {delivered} messages delivered, fewer than the {total_items} the vendor announced; a cursor skipped some"
    )]
    FewerThanTotal {
        /// The last page.
        page: PagePosition,
        /// How many messages the stream delivered, this page included.
        delivered: u64,
        /// The total number of messages the vendor announced with the first
        /// page that had one.
        total_items: u64,
    },
    /// A page before the last held fewer messages than the pages before it:
    /// messages between it and the next page would be skipped.
    #[error(
        "{page}: {len} messages where {limit} were served per page, and more pages follow; messages would be skipped"
    )]
    ShortPage {
        /// The short page (not the page after it, which showed more follow).
        page: PagePosition,
        /// How many messages the short page held.
        len: u64,
        /// The page size: how many messages the pages before it held.
        limit: u64,
    },
    /// A page held more messages than the vendor's page size so far.
    #[error("{page}: {len} messages where pages so far held {limit}; page numbers no longer point where they did")]
    PageSizeChanged {
        /// The page that held more messages.
        page: PagePosition,
        /// How many messages the page held.
        len: u64,
        /// How many messages the pages before it held.
        limit: u64,
    },
    /// The listing changed while it was read in a way that shifts page
    /// numbers: messages may have been skipped.
    #[error(
        "{page}: the conversation changed while it was read ({reason}); messages may have been skipped, read it again"
    )]
    ListingChanged {
        /// The page the change was seen on.
        page: PagePosition,
        /// What changed.
        reason: String,
    },
    /// No message of the page carries the key the listing is read by (its
    /// creation time): the next request could not start after them.
    #[error("{page}: no message of the page has a creation time, so the read cannot go on after it exactly once")]
    NoKey {
        /// The page without a creation time.
        page: PagePosition,
    },
    /// A part of the read that ran on a task of its own (a time window)
    /// stopped on a bug in this library (it panicked; the panic's message
    /// went to the panic hook): the messages after it cannot be delivered
    /// exactly once. What was delivered before holds.
    #[error("{page}: a part of the read stopped on a bug in convo (a panic); the messages after it were not read")]
    Stopped {
        /// Where the stopped part began.
        page: PagePosition,
    },
    /// A parameter of the query is invalid; nothing was sent.
    #[error("invalid {name}: {reason}")]
    InvalidQuery {
        /// The name of the invalid parameter (`page size`, `conversation id`...).
        name: &'static str,
        /// Why the value is invalid.
        reason: String,
    },
}

/// The page a [`PagingError`] happened on: its position, or the first page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePosition(pub Option<Position>);

impl fmt::Display for PagePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(p) => p.fmt(f),
            None => f.write_str("the first page"),
        }
    }
}

impl<E: VendorError> fmt::Debug for PagingError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PagingError({:?}): {self}", self.kind())
    }
}

impl<E: VendorError> PagingError<E> {
    /// The error of a page request that failed for good.
    pub fn request(page: Option<Position>, exhausted: Exhausted<E>) -> Self {
        let page = PagePosition(page);
        if let progenitor_client::Error::ResponseBodyError(e) = &exhausted.error
            && let Some(too_large) = body_too_large(e)
        {
            return Self::BodyTooLarge { page, limit: too_large.limit };
        }
        match exhausted.refused_wait {
            Some((asked, cap)) => Self::RetryAfterTooLong {
                page,
                asked,
                cap,
                attempts: exhausted.attempts,
                error: Box::new(exhausted.error),
            },
            None => Self::Request { page, attempts: exhausted.attempts, error: Box::new(exhausted.error) },
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        use progenitor_client::Error as E;
        match self {
            Self::InvalidQuery { .. } => ErrorKind::InvalidQuery,
            Self::Stopped { .. } => ErrorKind::Internal,
            Self::BodyTooLarge { .. } => ErrorKind::TooLarge,
            Self::RetryAfterTooLong { .. } => ErrorKind::RateLimited,
            Self::Request { error, .. } => match &**error {
                E::InvalidResponsePayload(..) => ErrorKind::Undecodable,
                E::InvalidRequest(..) => ErrorKind::InvalidQuery,
                E::CommunicationError(_) => ErrorKind::Network,
                _ => match self.status().map(|s| s.as_u16()) {
                    Some(401 | 403) => ErrorKind::Auth,
                    Some(404) => ErrorKind::NotFound,
                    Some(429) => ErrorKind::RateLimited,
                    Some(_) => ErrorKind::Vendor,
                    // A body cut off mid-way.
                    None => ErrorKind::Network,
                },
            },
            _ => ErrorKind::Listing,
        }
    }

    /// The vendor refused the credentials or the permission (401, 403).
    pub fn is_auth(&self) -> bool {
        self.kind() == ErrorKind::Auth
    }

    /// The conversation (or workspace) does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// The vendor's rate limit held (429), or it asked for a longer wait
    /// than the retry policy allows: see [`PagingError::retry_after`].
    pub fn is_rate_limited(&self) -> bool {
        self.kind() == ErrorKind::RateLimited
    }

    /// The HTTP status the vendor answered with, if the error is one.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self.request_error()? {
            progenitor_client::Error::ResponseBodyError(e) => find_in_chain::<ErrorStatus>(e).map(|s| s.status),
            other => other.status(),
        }
    }

    /// How long the vendor asked to wait before the next try
    /// (`Retry-After`, or LeadConnector's rate-limit headers), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        use progenitor_client::Error as E;
        match self {
            Self::RetryAfterTooLong { asked, .. } => Some(*asked),
            Self::Request { error, .. } => match &**error {
                E::ErrorResponse(r) => crate::retry::retry_after(r.headers(), SystemTime::now()),
                E::UnexpectedResponse(r) => crate::retry::retry_after(r.headers(), SystemTime::now()),
                E::ResponseBodyError(e) => find_in_chain::<ErrorStatus>(e).and_then(|s| s.retry_after),
                _ => None,
            },
            _ => None,
        }
    }

    /// How many times the page was asked for (1 for errors of the listing).
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Request { attempts, .. } | Self::RetryAfterTooLong { attempts, .. } => *attempts,
            Self::InvalidQuery { .. } => 0,
            _ => 1,
        }
    }

    /// The page the error happened on; `None` for an invalid query.
    pub fn page(&self) -> Option<&PagePosition> {
        match self {
            Self::Request { page, .. }
            | Self::RetryAfterTooLong { page, .. }
            | Self::BodyTooLarge { page, .. }
            | Self::RepeatedCursor { page, .. }
            | Self::RepeatedPage { page, .. }
            | Self::RepeatedMessage { page, .. }
            | Self::OutOfOrder { page, .. }
            | Self::CursorMismatch { page, .. }
            | Self::WrongPage { page, .. }
            | Self::NoCursor { page }
            | Self::EmptyPageWithMore { page }
            | Self::UnprovenEnd { page }
            | Self::BeyondTotal { page, .. }
            | Self::FewerThanTotal { page, .. }
            | Self::ShortPage { page, .. }
            | Self::PageSizeChanged { page, .. }
            | Self::ListingChanged { page, .. }
            | Self::NoKey { page }
            | Self::Stopped { page } => Some(page),
            Self::InvalidQuery { .. } => None,
        }
    }

    /// The vendor's error body, decoded, when it answered a documented
    /// error status.
    pub fn vendor_error(&self) -> Option<&E> {
        match self.request_error()? {
            progenitor_client::Error::ErrorResponse(response) => Some(response.as_ref()),
            _ => None,
        }
    }

    /// The vendor's own words in its error body, if it sent any.
    pub fn vendor_message(&self) -> Option<String> {
        self.vendor_error().and_then(|body| serde_json::to_value(body).ok()).as_ref().and_then(words)
    }

    /// The request error underneath, if the error is one.
    pub fn request_error(&self) -> Option<&progenitor_client::Error<E>> {
        match self {
            Self::Request { error, .. } | Self::RetryAfterTooLong { error, .. } => Some(&**error),
            _ => None,
        }
    }
}

/// The vendor's own words in an error body: the first `message`, `text`,
/// `description` or `error`, looked for depth first.
fn words(value: &Value) -> Option<String> {
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
            map.values().find_map(words)
        }
        _ => None,
    }
}

/// The one line of a failed request: the page, what happened (the status
/// and the vendor's words, the network failure, the undecodable body), and
/// the tries. Never a header, never a whole body.
fn describe<E: VendorError>(
    page: &PagePosition,
    attempts: u32,
    error: &progenitor_client::Error<E>,
    refused_wait: Option<(Duration, Duration)>,
) -> String {
    use progenitor_client::Error as E2;
    let tries = |n: u32| if n == 1 { "1 try".to_owned() } else { format!("{n} tries") };
    let after = match refused_wait {
        Some((asked, cap)) => format!(
            "; the vendor asked to wait {} s before trying again, longer than the {} s this client waits (RetryPolicy::max_retry_after); gave up after {}",
            asked.as_secs(),
            cap.as_secs(),
            tries(attempts)
        ),
        None if attempts <= 1 => String::new(),
        None => format!(" (after {})", tries(attempts)),
    };
    let what = match error {
        E2::ErrorResponse(response) => {
            let said = serde_json::to_value(response.as_ref()).ok().as_ref().and_then(words);
            match said {
                Some(said) => format!("HTTP {}: {said}", response.status()),
                None => format!("HTTP {}", response.status()),
            }
        }
        E2::UnexpectedResponse(response) => format!("unexpected HTTP {}", response.status()),
        E2::InvalidResponsePayload(body, e) => {
            let end = body.len().min(80);
            let start: String = String::from_utf8_lossy(&body[..end]).escape_debug().collect();
            format!("the response is not the vendor's documented shape: {e} (body starts with \"{start}\")")
        }
        E2::ResponseBodyError(e) => match find_in_chain::<ErrorStatus>(e) {
            Some(status) => status.to_string(),
            None => format!("the response body could not be read: {}", chain(e)),
        },
        E2::CommunicationError(e) => format!("network error: {}", chain(e)),
        E2::InvalidRequest(s) => format!("invalid request: {s}"),
        other => chain(other),
    };
    format!("{page}: {what}{after}")
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
