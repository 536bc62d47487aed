//! What every vendor's paging stream shares: positions to resume from,
//! pages, options, and the typed errors that end a stream instead of a loop.

use std::fmt;

use futures::{Stream, TryStreamExt};

use crate::limit::body_too_large;
use crate::retry::{Exhausted, RetryPolicy};

/// Where a page starts: what a caller keeps to resume after a crash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// A page number, as the vendor counts them (Infobip from 0, Octopush from 1).
    Page(u64),
    /// An opaque cursor or page token, exactly as the vendor sent it.
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
    /// Pages in flight at once, where the vendor's paging allows it
    /// (Infobip, whose total is known after the first page). Default 4.
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
/// of the pages before it have been delivered.
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
    /// The response body was larger than the client's limit.
    #[error("{page}: the response body is larger than the limit of {limit} bytes; it was not read")]
    BodyTooLarge { page: PagePosition, limit: u64 },
    /// The vendor handed back a cursor it had already given.
    #[error("{page}: the vendor repeated cursor `{cursor}`; stopping instead of looping")]
    RepeatedCursor { page: PagePosition, cursor: String },
    /// The vendor said more pages follow but sent no messages.
    #[error("{page}: the vendor said more pages follow but sent an empty page")]
    EmptyPageWithMore { page: PagePosition },
    /// The vendor's pages go past the total it announced.
    #[error("{page}: more pages than the {total_items} items the vendor announced allow")]
    BeyondTotal { page: PagePosition, total_items: u64 },
    /// The vendor's total changed while the conversation was read: page
    /// numbers no longer point at the messages they did.
    #[error("{page}: the vendor now counts {now} items, not the {first} it announced; the conversation changed while it was read")]
    TotalChanged { page: PagePosition, first: u64, now: u64 },
    /// A page before the last held fewer messages than the page size: the
    /// next page would start past messages never delivered.
    #[error("{page}: {len} messages where {limit} were asked for, before the last page; messages would be skipped")]
    ShortPage { page: PagePosition, len: u64, limit: u64 },
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
        Self::Request { page, attempts: exhausted.attempts, source: exhausted.error }
    }

    /// The HTTP status the vendor answered with, if the error is one.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Self::Request { source: progenitor_client::Error::ResponseBodyError(e), .. } => {
                crate::limit::find_in_chain::<crate::limit::ErrorStatus>(e).map(|s| s.status)
            }
            Self::Request { source, .. } => source.status(),
            _ => None,
        }
    }
}

/// The items of a page stream, in order.
pub fn items<T, E>(pages: impl Stream<Item = Result<Page<T>, E>>) -> impl Stream<Item = Result<T, E>> {
    pages
        .map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
}
