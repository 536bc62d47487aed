//! One paging engine for every vendor: the vocabulary (positions, pages,
//! options, typed errors), the guards that make a stream deliver every
//! message exactly once or end with an error, and three paging schemes over
//! it. A vendor crate supplies only an endpoint: how to ask for a position,
//! and what a page says about the next one.
//!
//! - [`cursor`]: an opaque cursor or token handed back by each page (Bird's
//!   `pageToken`, LeadConnector's `lastMessageId`).
//! - [`numbered`]: page numbers until an empty page, no total (Octopush).
//! - [`keyset`]: pages on a stable key, the creation time, with a filter
//!   "created after" (Infobip's `createdAfter` with `orderBy=createdAt:asc`),
//!   so that messages added or deleted during the read cannot shift pages.
//!
//! Every scheme runs on [`engine`]: the retries, the page-boundary repeat
//! check, fusing, and the rule that an error comes after every page before
//! it and ends the stream.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{Stream, TryStreamExt};

use crate::Captured;
use crate::limit::body_too_large;
use crate::retry::{Exhausted, RetryPolicy};

pub mod cursor;
mod engine;
mod guard;
pub mod keyset;
pub mod numbered;

/// Where a page starts: what a caller keeps to resume after a crash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// A page number, as the vendor counts them (Octopush from 1).
    Page(u64),
    /// An opaque cursor or page token, exactly as the vendor sent it, or a
    /// key position of our own (Infobip).
    Cursor(String),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Page(n) => write!(f, "page {n}"),
            Position::Cursor(c) => write!(f, "the page at cursor `{c}`"),
        }
    }
}

/// One page of a conversation.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The page's messages not delivered before, in the vendor's order.
    pub items: Vec<T>,
    /// Where this page started; `None` for the first page of a cursor vendor.
    pub position: Option<Position>,
    /// Where the next page starts; `None` on the last page. Resume from here.
    pub next: Option<Position>,
}

/// How a stream pages.
#[derive(Debug, Clone)]
pub struct PagingOptions {
    /// Messages per page; `None` is the largest the vendor allows.
    pub page_size: Option<u64>,
    /// Pages in flight at once, where a vendor's paging allows it. None of
    /// the exactly-once schemes does today (each page's request depends on
    /// the page before it); kept for the schemes that will. Default 4.
    pub concurrency: usize,
    /// Retries of each page request.
    pub retry: RetryPolicy,
    /// Start here instead of at the beginning (a `next` from an earlier run).
    pub resume: Option<Position>,
}

impl Default for PagingOptions {
    fn default() -> Self {
        Self { page_size: None, concurrency: 4, retry: RetryPolicy::default(), resume: None }
    }
}

/// Why a paging stream ended early. Every variant names the page. Messages
/// of the pages before it have been delivered, each exactly once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError<E: fmt::Debug + 'static> {
    /// The request for a page failed for good (after `attempts` tries).
    #[error("{page}: request failed after {attempts} {}: {source}", if *attempts == 1 { "try" } else { "tries" })]
    Request {
        page: PagePosition,
        attempts: u32,
        #[source]
        source: progenitor_client::Error<E>,
    },
    /// The vendor asked to wait longer than the retry policy allows.
    #[error("{page}: the vendor asked to wait {}s before trying again, longer than the {}s this client waits (RetryPolicy::max_retry_after); gave up after {attempts} {}", asked.as_secs(), cap.as_secs(), if *attempts == 1 { "try" } else { "tries" })]
    RetryAfterTooLong {
        page: PagePosition,
        asked: Duration,
        cap: Duration,
        attempts: u32,
        #[source]
        source: progenitor_client::Error<E>,
    },
    /// The response body was larger than the client's limit.
    #[error("{page}: the response body is larger than the limit of {limit} bytes; it was not read")]
    BodyTooLarge { page: PagePosition, limit: u64 },
    /// The vendor handed back a cursor it had already given.
    #[error("{page}: the vendor repeated cursor `{cursor}`; stopping instead of looping")]
    RepeatedCursor { page: PagePosition, cursor: String },
    /// Every message of a page had been delivered already: the cursor or
    /// page number pointed back.
    #[error(
        "{page}: all {count} messages of the page had already been delivered; the vendor pointed back, stopping instead of repeating them"
    )]
    RepeatedPage { page: PagePosition, count: usize },
    /// A message already delivered came again after new ones: the listing
    /// is not in a stable order.
    #[error("{page}: message `{id}` came again after new messages; the listing changed order while it was read")]
    RepeatedMessage { page: PagePosition, id: String },
    /// A message sorts before messages already delivered (or outside the
    /// filter asked for): the vendor pointed back, or ignored the filter.
    #[error(
        "{page}: message `{id}` is out of the listing's order ({reason}); the vendor pointed back or ignored the filter"
    )]
    OutOfOrder { page: PagePosition, id: String, reason: &'static str },
    /// The cursor a page handed back is not what the vendor documents it
    /// to be (LeadConnector: the id of the page's last message).
    #[error("{page}: the next cursor `{cursor}` is not the id of the page's last message `{last}`")]
    CursorMismatch { page: PagePosition, cursor: String, last: String },
    /// The vendor served another page than the one asked for.
    #[error("{page}: the vendor served page {served} instead")]
    WrongPage { page: PagePosition, served: i64 },
    /// The vendor said more pages follow but gave no cursor to get them.
    #[error("{page}: the vendor said more pages follow but gave no cursor to get them; the stream cannot go on")]
    NoCursor { page: PagePosition },
    /// The vendor said more pages follow but sent no messages.
    #[error("{page}: the vendor said more pages follow but sent an empty page")]
    EmptyPageWithMore { page: PagePosition },
    /// The vendor's pages go past the total it announced.
    #[error("{page}: more messages than the {total_items} the vendor announced")]
    BeyondTotal { page: PagePosition, total_items: u64 },
    /// The last page came with fewer messages delivered than the vendor's
    /// total announced: a cursor skipped some.
    #[error(
        "{page}: the last page leaves {delivered} messages delivered, fewer than the {total_items} the vendor announced; a cursor skipped some"
    )]
    FewerThanTotal { page: PagePosition, delivered: u64, total_items: u64 },
    /// A page before the last held fewer messages than the pages before it:
    /// messages between it and the next page would be skipped.
    #[error(
        "{page}: {len} messages where {limit} were served per page, and more pages follow; messages would be skipped"
    )]
    ShortPage { page: PagePosition, len: u64, limit: u64 },
    /// A page held more messages than the vendor's page size so far.
    #[error("{page}: {len} messages where pages so far held {limit}; page numbers no longer point where they did")]
    PageSizeChanged { page: PagePosition, len: u64, limit: u64 },
    /// The listing changed while it was read in a way that shifts page
    /// numbers: messages may have been skipped.
    #[error(
        "{page}: the conversation changed while it was read ({reason}); messages may have been skipped, read it again"
    )]
    ListingChanged { page: PagePosition, reason: String },
    /// No message of the page carries the key the listing is read by (its
    /// creation time): the next request could not start after them.
    #[error("{page}: no message of the page has a creation time, so the read cannot go on after it exactly once")]
    NoKey { page: PagePosition },
    /// A parameter of the query is invalid; nothing was sent.
    #[error("invalid {name}: {reason}")]
    InvalidQuery { name: &'static str, reason: String },
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

impl<E: fmt::Debug + 'static> PagingError<E> {
    /// The error of a page request that failed for good.
    pub fn request(page: Option<Position>, exhausted: Exhausted<E>) -> Self {
        let page = PagePosition(page);
        if let progenitor_client::Error::ResponseBodyError(e) = &exhausted.error {
            if let Some(too_large) = body_too_large(e) {
                return Self::BodyTooLarge { page, limit: too_large.limit };
            }
        }
        match exhausted.refused_wait {
            Some((asked, cap)) => {
                Self::RetryAfterTooLong { page, asked, cap, attempts: exhausted.attempts, source: exhausted.error }
            }
            None => Self::Request { page, attempts: exhausted.attempts, source: exhausted.error },
        }
    }

    /// The HTTP status the vendor answered with, if the error is one.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Self::Request { source, .. } | Self::RetryAfterTooLong { source, .. } => match source {
                progenitor_client::Error::ResponseBodyError(e) => {
                    crate::limit::find_in_chain::<crate::limit::ErrorStatus>(e).map(|s| s.status)
                }
                other => other.status(),
            },
            _ => None,
        }
    }

    /// The request error underneath, if the error is one.
    pub fn request_error(&self) -> Option<&progenitor_client::Error<E>> {
        match self {
            Self::Request { source, .. } | Self::RetryAfterTooLong { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The items of a page stream, in order.
pub fn items<T, E>(pages: impl Stream<Item = Result<Page<T>, E>>) -> impl Stream<Item = Result<T, E>> {
    pages.map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok))).try_flatten()
}

/// A page request in flight: what an endpoint's `fetch` returns.
pub type Fetch<T, E> = BoxFuture<'static, Result<T, progenitor_client::Error<E>>>;

/// What the paging checks read of a message: its id and creation time.
/// Implemented by each vendor crate for its message type (and so for the
/// [`Captured`] wrapper around it).
pub trait Record {
    /// The message's id, where it has one.
    fn id(&self) -> Option<&str>;
    /// When the message was created, where the vendor says.
    fn time(&self) -> Option<DateTime<Utc>>;
    /// What the repeat checks recognise the message by: its id. `None`
    /// only for a message with nothing to recognise it by.
    fn key(&self) -> Option<&str> {
        self.id()
    }
}

/// A message that could not be decoded has no id and no time; the repeat
/// checks recognise it by its exact JSON text instead, so a page boundary
/// that moves cannot deliver it twice either.
impl<T: Record> Record for Captured<T> {
    fn id(&self) -> Option<&str> {
        self.value().and_then(Record::id)
    }
    fn time(&self) -> Option<DateTime<Utc>> {
        self.value().and_then(Record::time)
    }
    fn key(&self) -> Option<&str> {
        match self.value() {
            Some(value) => value.key(),
            None => Some(self.raw().get()),
        }
    }
}

/// What every paged endpoint lists.
pub trait Listing: Send + Sync + 'static {
    /// One message, as the vendor crate decodes it.
    type Item: Record + Send + 'static;
    /// The vendor's error body.
    type Error: fmt::Debug + Send + 'static;
}

/// Checks a page size against a vendor's range; `None` takes the maximum.
pub fn page_size<E: fmt::Debug>(options: &PagingOptions, max: u64, vendor: &str) -> Result<u64, PagingError<E>> {
    let size = options.page_size.unwrap_or(max);
    if (1..=max).contains(&size) {
        Ok(size)
    } else {
        Err(PagingError::InvalidQuery {
            name: "page size",
            reason: format!("{size} is not between 1 and {vendor}'s largest page, {max}"),
        })
    }
}

/// Checks an id that goes into a URL path (see [`crate::PathSegment`]).
pub fn path_id<E: fmt::Debug>(name: &'static str, value: &str) -> Result<(), PagingError<E>> {
    crate::PathSegment::new(value).map(drop).map_err(|e| PagingError::InvalidQuery { name, reason: e.to_string() })
}

/// What every vendor crate's `paging.rs` declares around its endpoint: the
/// page and error types, the endpoint struct (`client` and `query`), its
/// [`Listing`], and `messages()`, the pages flattened. The vendor writes the
/// scheme's endpoint trait and `pages()` by hand.
#[macro_export]
macro_rules! paged_endpoint {
    ($vendor:literal, $client:ident, $query:ty, $message:ty, $error:ty) => {
        #[doc = concat!("A page of ", $vendor, " messages.")]
        pub type MessagePage = $crate::Page<$crate::Captured<$message>>;
        #[doc = concat!("Why a ", $vendor, " stream ended early.")]
        pub type StreamError = $crate::PagingError<$error>;

        /// The endpoint the runtime's paging drives.
        struct Endpoint {
            client: $client,
            query: $query,
        }

        impl $crate::paging::Listing for Endpoint {
            type Item = $crate::Captured<$message>;
            type Error = $error;
        }

        impl $client {
            #[doc = concat!("Every message of the query, in ", $vendor, "'s order: [`", stringify!($client), "::pages`], flattened.")]
            pub fn messages(
                &self,
                query: $query,
                options: $crate::PagingOptions,
            ) -> impl $crate::__private::futures::Stream<Item = Result<$crate::Captured<$message>, StreamError>> + Send + 'static {
                $crate::paging::items(self.pages(query, options))
            }
        }
    };
}
