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
//! Every scheme runs on the engine: the retries, the page-boundary repeat
//! check, fusing, and the rule that an error comes after every page before
//! it and ends the stream.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{Stream, TryStreamExt};

use crate::Captured;
use crate::retry::RetryPolicy;

pub use error::{ErrorKind, PagePosition, PagingError, VendorError};

#[doc(hidden)]
pub mod cursor;
mod engine;
mod error;
mod guard;
#[doc(hidden)]
pub mod keyset;
#[doc(hidden)]
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
    /// A page number (Octopush), with what the read delivered before that
    /// page: a read resumed here checks at its end every message from the
    /// first read's first page, not only from here, so that a message
    /// skipped before an earlier run stopped (a deletion during it, before
    /// its own check) is not lost across the two runs. What a page-number
    /// stream gives once a page has been delivered; a plain
    /// [`Position::Page`] still resumes, checking from that page on.
    PageWithCheck {
        /// The page number.
        page: u64,
        /// What the read delivered before it (boxed: a position stays as
        /// small as a cursor, in every error that names one).
        check: Box<ReadSoFar>,
    },
}

impl Position {
    /// The page number, for a position that is one.
    pub fn page_number(&self) -> Option<u64> {
        match self {
            Position::Page(n) | Position::PageWithCheck { page: n, .. } => Some(*n),
            Position::Cursor(_) => None,
        }
    }

    /// The same position without what the read delivered before it: for a
    /// read that ended without error, whose end check covered all it
    /// delivered, so that a later read going on from here (a sync's next
    /// run) checks only what it reads itself.
    pub fn forget_read(self) -> Position {
        match self {
            Position::PageWithCheck { page, .. } => Position::Page(page),
            other => other,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Page(n) | Position::PageWithCheck { page: n, .. } => write!(f, "page {n}"),
            Position::Cursor(c) => write!(f, "the page at cursor `{c}`"),
        }
    }
}

/// What a page-number read delivered before a page, in a few numbers
/// (flat, whatever the conversation's length): the read's first page, how
/// many messages it delivered and a running hash of their keys (stable
/// across builds and runs: SipHash-1-3 with fixed keys), the first one and
/// the last one, and how far messages added at the head had pushed the
/// listing down. Opaque: kept and handed back, never built.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ReadSoFar {
    first_page: u64,
    pages: u64,
    count: u64,
    hash: u64,
    first_key: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_id: Option<String>,
    last_key: u64,
    pushed: u64,
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
    /// Requests in flight at once, where a vendor's paging allows it. The
    /// key scheme (Infobip) reads the rest of a conversation after its first
    /// page in up to this many time windows at once, each costing one
    /// request more (the one that ends it), when each window would hold two
    /// pages or more; 1 reads one page after another. The cursor and
    /// page-number schemes always read one page after another (each
    /// request depends on the page before it). Default 1: the windows buffer
    /// up to `concurrency` windows of pages (memory) and cost requests;
    /// opt in where latency matters more (BENCHMARKS.md has the figures).
    pub concurrency: usize,
    /// Retries of each page request.
    pub retry: RetryPolicy,
    /// Start here instead of at the beginning (a `next` from an earlier run).
    pub resume: Option<Position>,
}

impl Default for PagingOptions {
    fn default() -> Self {
        Self { page_size: None, concurrency: 1, retry: RetryPolicy::default(), resume: None }
    }
}

/// The items of a page stream, in order.
#[doc(hidden)]
pub fn items<T, E>(pages: impl Stream<Item = Result<Page<T>, E>>) -> impl Stream<Item = Result<T, E>> {
    pages.map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok))).try_flatten()
}

/// A page request in flight: what an endpoint's `fetch` returns.
#[doc(hidden)]
pub type Fetch<T, E> = BoxFuture<'static, Result<T, progenitor_client::Error<E>>>;

/// What the paging checks read of a message: its id and creation time.
/// Implemented by each vendor crate for its message type (and so for the
/// [`Captured`] wrapper around it).
#[doc(hidden)]
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
    /// The id, or for a message that could not be decoded, the one its
    /// JSON still holds (see [`Record::ID_FIELD`]): what a cursor naming
    /// the page's last message is compared with.
    fn any_id(&self) -> Option<&str> {
        self.id()
    }
    /// The exact JSON the message came as, where it is kept: two records of
    /// one page with the same key and the same text are one message sent
    /// twice.
    fn raw(&self) -> Option<&str> {
        None
    }
    /// Whether the id is masked and names no message (Octopush's documented
    /// sample writes every id as `***`, so different records share it): the
    /// repeat checks then know the record by its exact JSON instead (see
    /// the [`Captured`] implementation), and an id that is not masked is
    /// one message's.
    fn id_is_masked(&self) -> bool {
        false
    }
    /// Whether two different records with one id on one page are an error
    /// (`RepeatedMessage`) or, where the vendor is seen to send such pairs
    /// (Octopush, whose documented sample shares its ids), two messages,
    /// both delivered.
    const IDS_UNIQUE: bool = true;
    /// The JSON field that holds the id (what [`Record::id`] reads), for a
    /// message that could not be decoded: the repeat checks still know it
    /// by that id where it is a string.
    const ID_FIELD: &'static str = "id";
}

/// The string under `field` of the JSON object `raw`, as it is written
/// there (a slice of `raw`); `None` when `raw` is not an object, the field
/// is missing or not a string, or is written with escapes (then the text
/// is the key).
fn undecoded_id<'a>(raw: &'a str, field: &str) -> Option<&'a str> {
    let fields: HashMap<&str, &serde_json::value::RawValue> = serde_json::from_str(raw).ok()?;
    let value = fields.get(field)?.get();
    let id = value.strip_prefix('"')?.strip_suffix('"')?;
    (!id.contains('\\')).then_some(id)
}

/// A message whose id is masked ([`Record::id_is_masked`]) is recognised
/// by its exact JSON text. A message that could not be decoded has no typed
/// id and no time; the
/// repeat checks recognise it by the string its JSON holds under
/// [`Record::ID_FIELD`] (as they would had it decoded, so a repeat that
/// the server wrote out differently is still a repeat), or, with none, by
/// its exact JSON text, so a page boundary that moves cannot deliver it
/// twice either.
impl<T: Record> Record for Captured<T> {
    fn id(&self) -> Option<&str> {
        self.value().and_then(Record::id)
    }
    fn time(&self) -> Option<DateTime<Utc>> {
        self.value().and_then(Record::time)
    }
    fn key(&self) -> Option<&str> {
        match self.value() {
            Some(value) if value.id_is_masked() => Some(self.raw().get()),
            Some(value) => value.key(),
            None => Some(self.any_id().unwrap_or(self.raw().get())),
        }
    }
    fn any_id(&self) -> Option<&str> {
        match self.value() {
            Some(value) => value.id(),
            None => undecoded_id(self.raw().get(), T::ID_FIELD),
        }
    }
    fn raw(&self) -> Option<&str> {
        Some(Captured::raw(self).get())
    }
    fn id_is_masked(&self) -> bool {
        self.value().is_some_and(Record::id_is_masked)
    }
    const IDS_UNIQUE: bool = T::IDS_UNIQUE;
}

/// What every paged endpoint lists.
#[doc(hidden)]
pub trait Listing: Send + Sync + 'static {
    /// The vendor's name, for logs and retry notices.
    const VENDOR: &'static str;
    /// One message, as the vendor crate decodes it.
    type Item: Record + Send + 'static;
    /// The vendor's error body.
    type Error: VendorError;
}

/// What a vendor crate's `fetch` answers for a 200 whose body carries
/// neither the page's list of messages nor what would say it has none (a
/// gateway's `{}`, an envelope that changed): not a page, so a read never
/// takes it for the end of the conversation. `missing` names what was
/// looked for; the error shows `body` (the decoded, scrubbed response).
#[doc(hidden)]
pub fn not_a_page<E>(missing: &str, body: &impl serde::Serialize) -> progenitor_client::Error<E> {
    let text = serde_json::to_vec(body).unwrap_or_default();
    let reason = not_a_page_reason(missing);
    progenitor_client::Error::InvalidResponsePayload(
        text.into(),
        <serde_json::Error as serde::de::Error>::custom(reason),
    )
}

/// Why a 200 without `missing` (the page's list, or what says it holds
/// none) is refused: the clients' paging and the normalizer say it alike.
#[doc(hidden)]
pub fn not_a_page_reason(missing: &str) -> String {
    format!("a 200 without {missing}, so not a page of messages (nor the end of the listing)")
}

/// Checks a page size against a vendor's range; `None` takes the maximum.
#[doc(hidden)]
pub fn page_size<E: VendorError>(options: &PagingOptions, max: u64, vendor: &str) -> Result<u64, PagingError<E>> {
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
#[doc(hidden)]
pub fn path_id<E: VendorError>(name: &'static str, value: &str) -> Result<(), PagingError<E>> {
    crate::PathSegment::new(value).map(drop).map_err(|e| PagingError::InvalidQuery { name, reason: e.to_string() })
}

/// What every vendor crate's `paging.rs` declares around its endpoint: the
/// page and error types, the endpoint struct (`client` and `query`), its
/// [`Listing`], and `messages()`, the pages flattened. The vendor writes the
/// scheme's endpoint trait and `pages()` by hand.
#[doc(hidden)]
#[macro_export]
macro_rules! paged_endpoint {
    ($vendor:literal, $client:ident, $query:ty, $message:ty, $error:ty) => {
        #[doc = concat!("A page of ", $vendor, " messages.")]
        pub type MessagePage = $crate::Page<$crate::Captured<$message>>;
        #[doc = concat!("Why reading ", $vendor, " messages stopped early: one readable line (the page, the status, ", $vendor, "'s own words, the tries), with [`kind()`](", "convo_runtime::PagingError::kind), `is_not_found()`, `is_auth()`, `status()` and `retry_after()`.")]
        pub type Error = $crate::PagingError<$error>;

        /// The endpoint the runtime's paging drives.
        struct Endpoint {
            client: $client,
            query: $query,
        }

        impl $crate::paging::Listing for Endpoint {
            const VENDOR: &'static str = $vendor;
            type Item = $crate::Captured<$message>;
            type Error = $error;
        }

        impl $client {
            #[doc = concat!("Every message of the query, in ", $vendor, "'s order: [`", stringify!($client), "::pages`], flattened.")]
            pub fn messages(
                &self,
                query: $query,
                options: $crate::PagingOptions,
            ) -> impl $crate::__private::futures::Stream<Item = Result<$crate::Captured<$message>, Error>> + Send + Unpin + 'static {
                $crate::paging::items(self.pages(query, options))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Msg {
        id: String,
        #[allow(dead_code)]
        n: u32,
    }

    impl Record for Msg {
        fn id(&self) -> Option<&str> {
            Some(&self.id)
        }
        fn time(&self) -> Option<DateTime<Utc>> {
            None
        }
    }

    fn captured(text: &str) -> Captured<Msg> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_message_that_did_not_decode_is_known_by_the_id_its_json_holds_else_by_its_text() {
        let decoded = captured(r#"{"id": "a", "n": 1}"#);
        let undecoded = captured(r#"{ "n" : "x", "id" : "a" }"#);
        assert!(undecoded.value().is_none());
        assert_eq!((decoded.key(), undecoded.key()), (Some("a"), Some("a")), "written out differently, one key");
        assert_eq!((undecoded.id(), undecoded.any_id()), (None, Some("a")));
        for text in [r#"{"id": 7, "n": "x"}"#, r#"{"id": "a\u0062", "n": "x"}"#, r#"{"n": "x"}"#, "[1]", "null"] {
            let undecoded = captured(text);
            assert_eq!((undecoded.key(), undecoded.any_id()), (Some(text), None), "{text}");
        }
    }
}
