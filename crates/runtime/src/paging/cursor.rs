//! Cursor paging: each page hands back an opaque cursor for the next one
//! (Bird's `nextPageToken`, LeadConnector's `lastMessageId`), and the last
//! page hands back none.
//!
//! Guarantees, beyond the engine's: a cursor the vendor gave before ends
//! the stream ([`PagingError::RepeatedCursor`]); messages at the start of a
//! page that the page before delivered are dropped (a cursor that starts
//! early), and a page of nothing but such repeats, or of messages that were
//! all delivered further back (a cursor that points back), ends the stream
//! ([`PagingError::RepeatedPage`]); a
//! stream never delivers more messages than the vendor's total
//! ([`PagingError::BeyondTotal`]) nor ends with fewer than its first total
//! ([`PagingError::FewerThanTotal`]: a cursor that skipped), and a total
//! that goes down during the
//! read (a deletion, which makes a cursor that counts from the head skip a
//! message) ends it after that page ([`PagingError::ListingChanged`]); a
//! short page is followed, never taken as the end: only a missing cursor
//! ends the stream.

use std::sync::Arc;

use super::engine::{self, Scheme, Step};
use super::guard::{Cursors, Window};
use super::{Fetch, Listing, Page, PagePosition, PagingError, PagingOptions, Position, Record};
use crate::retry::RetryPolicy;

/// What one page of a cursor listing says.
#[derive(Debug)]
pub struct CursorReply<T> {
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next: Option<String>,
    /// How many messages the whole listing holds, where the vendor says.
    pub total: Option<u64>,
    /// The vendor says more pages follow but hands back no cursor to get
    /// them (`next` is then `None`): the page is delivered, then the stream
    /// ends with [`PagingError::NoCursor`] instead of looking complete.
    pub unfollowable: bool,
}

/// An endpoint paged by cursor.
pub trait CursorEndpoint: Listing {
    /// The vendor documents the next cursor as the id of the page's last
    /// message (LeadConnector's `lastMessageId`): any other value ends the
    /// stream with [`PagingError::CursorMismatch`].
    const CURSOR_IS_LAST_ID: bool = false;
    /// Requests the page at `cursor` (`None`: the first page), `limit`
    /// messages at most.
    fn fetch(&self, cursor: Option<&str>, limit: u64) -> Fetch<CursorReply<Self::Item>, Self::Error>;
}

/// Every page of a cursor listing, checked. `start` is the endpoint and the
/// page size, or why the query was refused before anything was sent.
pub fn pages<Ep: CursorEndpoint>(
    start: Result<(Ep, u64), PagingError<Ep::Error>>,
    options: PagingOptions,
) -> impl futures::Stream<Item = Result<Page<Ep::Item>, PagingError<Ep::Error>>> + Send + Unpin + 'static {
    let start = start.and_then(|(endpoint, limit)| {
        let cursor = match options.resume {
            None => None,
            Some(Position::Cursor(cursor)) => Some(cursor),
            Some(page @ (Position::Page(_) | Position::PageWithCheck { .. })) => {
                return Err(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!("this listing resumes from a cursor, not from {page}"),
                });
            }
        };
        let resumed = cursor.is_some();
        Ok(CursorScheme {
            endpoint: Arc::new(endpoint),
            limit,
            retry: options.retry,
            cursor,
            cursors: Cursors::new(),
            window: Window::new(),
            delivered: 0,
            total: None,
            first_total: None,
            resumed,
        })
    });
    engine::run(start)
}

struct CursorScheme<Ep> {
    endpoint: Arc<Ep>,
    limit: u64,
    retry: RetryPolicy,
    cursor: Option<String>,
    cursors: Cursors,
    window: Window,
    delivered: u64,
    /// The vendor's total, as the last page that gave one said.
    total: Option<u64>,
    /// The vendor's total, as the first page that gave one said.
    first_total: Option<u64>,
    /// The read started from a cursor of an earlier run.
    resumed: bool,
}

impl<Ep: CursorEndpoint> Scheme for CursorScheme<Ep> {
    type Item = Ep::Item;
    type Error = Ep::Error;

    async fn step(&mut self) -> Step<Ep::Item, Ep::Error> {
        let position = self.cursor.clone().map(Position::Cursor);
        let page = PagePosition(position.clone());
        let endpoint = &self.endpoint;
        let (cursor, limit) = (self.cursor.as_deref(), self.limit);
        let reply = match engine::fetch(Ep::VENDOR, &self.retry, &position, || endpoint.fetch(cursor, limit)).await {
            Ok(reply) => reply,
            Err(error) => return Step::Fail(error),
        };
        // A last message that could not be decoded is compared by the id
        // its JSON still holds; one with no id at all cannot be compared:
        // the cursor is followed, and the other checks hold.
        let mismatch = match (&reply.next, reply.items.last().and_then(Record::any_id)) {
            (Some(next), Some(last)) if Ep::CURSOR_IS_LAST_ID && next != last => {
                Some(PagingError::CursorMismatch { page: page.clone(), cursor: next.clone(), last: last.to_owned() })
            }
            _ => None,
        };
        let fresh = match self.window.split::<Ep>(&page, reply.items) {
            Ok(fresh) => fresh,
            Err(error) => return Step::Fail(error),
        };
        self.delivered += fresh.len() as u64;
        let shrunk = match (self.total, reply.total) {
            (Some(before), Some(now)) if now < before => Some(PagingError::ListingChanged {
                page: page.clone(),
                reason: format!(
                    "the vendor's total went from {before} to {now}: a message was deleted, and a cursor that counts from the head would skip one"
                ),
            }),
            _ => None,
        };
        self.total = reply.total.or(self.total);
        self.first_total = self.first_total.or(reply.total);
        if shrunk.is_none()
            && let Some(total) = reply.total.filter(|&total| self.delivered > total)
        {
            return Step::Fail(PagingError::BeyondTotal { page, total_items: total });
        }
        self.window.remember::<Ep>(&fresh);
        if let Some(error) = shrunk {
            // The page is sound; what follows it may not be.
            return Step::PageThen(Page { items: fresh, position, next: None }, error);
        }
        if let Some(error) = mismatch {
            // The page is sound; its cursor cannot be followed.
            return Step::PageThen(Page { items: fresh, position, next: None }, error);
        }
        let Some(next) = reply.next else {
            if reply.unfollowable {
                return Step::PageThen(Page { items: fresh, position, next: None }, PagingError::NoCursor { page });
            }
            // Totals only grow while a conversation is read, unless a message
            // is deleted (which ended the read above): fewer delivered than
            // the first total announced means a cursor skipped some.
            // (A resumed read delivers only the rest: it cannot tell.)
            if let Some(total) = self.first_total.filter(|&total| self.delivered < total && !self.resumed) {
                let error =
                    PagingError::FewerThanTotal { page: page.clone(), delivered: self.delivered, total_items: total };
                return Step::PageThen(Page { items: fresh, position, next: None }, error);
            }
            return Step::Last(Page { items: fresh, position, next: None });
        };
        if fresh.is_empty() {
            return Step::Fail(PagingError::EmptyPageWithMore { page });
        }
        if let Some(current) = &self.cursor {
            self.cursors.insert(current);
        }
        let repeated = !self.cursors.insert(&next);
        self.cursor = Some(next.clone());
        if repeated {
            // The page itself is new; following its cursor would fetch a
            // page already delivered.
            let error = PagingError::RepeatedCursor { page: page.clone(), cursor: next };
            return Step::PageThen(Page { items: fresh, position, next: None }, error);
        }
        Step::Page(Page { items: fresh, position, next: Some(Position::Cursor(next)) })
    }
}
