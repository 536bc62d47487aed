//! Page-number paging with no total (Octopush): pages `first, first+1, ...`
//! of `per_page` messages over a listing that can change while it is read.
//!
//! Guarantees, beyond the engine's:
//! - The end is an empty page, never a short one: a server that serves
//!   fewer messages than asked is followed. When the first page is shorter
//!   than asked, the server's size is taken as the page size from then on
//!   (asking for exactly that many, so that page numbers point where the
//!   server counts them whether it caps or truncates); a later page shorter
//!   than that, followed by a page with messages, ends the stream with
//!   [`PagingError::ShortPage`], one longer with
//!   [`PagingError::PageSizeChanged`].
//! - A message added at the head of the listing during the read shifts
//!   every later page by one: the repeats that opens each of them with are
//!   dropped. A page of nothing but repeats (an API that ignored `page`)
//!   ends the stream with [`PagingError::RepeatedPage`].
//! - A message deleted during the read would shift the later pages the
//!   other way, silently skipping one: when more than one page held
//!   messages, the first page is read again at the end; unless it is the
//!   same page (or the same page with messages added at its head), the
//!   stream ends with [`PagingError::ListingChanged`].
//!
//! What no check can see without a total or a stable key: a deletion below
//! the first page while the read is past it. A resumed stream (from
//! [`PagingOptions::resume`]) has no first page to compare and skips the
//! final check.

use std::sync::Arc;

use super::engine::{self, Scheme, Step};
use super::guard::Window;
use super::{Fetch, Listing, Page, PagePosition, PagingError, PagingOptions, Position, Record};
use crate::retry::RetryPolicy;

/// An endpoint paged by page number and page size.
pub trait NumberedEndpoint: Listing {
    /// The number of the first page (Octopush counts from 1).
    const FIRST_PAGE: u64;
    /// Requests page `page` of `per_page` messages.
    fn fetch(&self, page: u64, per_page: u64) -> Fetch<Vec<Self::Item>, Self::Error>;
}

/// Every page of a numbered listing, checked. `start` is the endpoint and
/// the page size asked for, or why the query was refused.
pub fn pages<Ep: NumberedEndpoint>(
    start: Result<(Ep, u64), PagingError<Ep::Error>>,
    options: PagingOptions,
) -> impl futures::Stream<Item = Result<Page<Ep::Item>, PagingError<Ep::Error>>> + Send + 'static {
    let start = start.and_then(|(endpoint, per_page)| {
        let (page, resumed) = match options.resume {
            None => (Ep::FIRST_PAGE, false),
            Some(Position::Page(n)) if n >= Ep::FIRST_PAGE => (n, n > Ep::FIRST_PAGE),
            Some(Position::Page(n)) => {
                return Err(PagingError::InvalidQuery { name: "resume", reason: format!("page {n} is before the first page, {}", Ep::FIRST_PAGE) });
            }
            Some(Position::Cursor(cursor)) => {
                return Err(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!("this listing resumes from a page number, not from cursor `{cursor}`"),
                });
            }
        };
        Ok(NumberedScheme {
            endpoint: Arc::new(endpoint),
            retry: options.retry,
            asked: per_page,
            size: resumed.then_some(per_page),
            page,
            resumed,
            window: Window::new(),
            head: None,
            pages_with_messages: 0,
            short: None,
        })
    });
    engine::run(start)
}

struct NumberedScheme<Ep> {
    endpoint: Arc<Ep>,
    retry: RetryPolicy,
    /// The page size asked for.
    asked: u64,
    /// The page size the server serves, once the first page has told it.
    size: Option<u64>,
    /// The next page to request.
    page: u64,
    resumed: bool,
    window: Window,
    /// The ids of the first page, to compare at the end.
    head: Option<Vec<Option<String>>>,
    pages_with_messages: u64,
    /// A page shorter than the page size: the next one must be empty.
    short: Option<(u64, u64)>,
}

impl<Ep: NumberedEndpoint> NumberedScheme<Ep> {
    async fn request(&self, page: u64, per_page: u64) -> Result<Vec<Ep::Item>, PagingError<Ep::Error>> {
        let endpoint = &self.endpoint;
        engine::fetch(&self.retry, &Some(Position::Page(page)), || endpoint.fetch(page, per_page)).await
    }

    /// Reads the first page again and compares it with the one delivered.
    async fn check_head(&self, size: u64) -> Result<(), PagingError<Ep::Error>> {
        let Some(head) = &self.head else { return Ok(()) };
        let first = Ep::FIRST_PAGE;
        let now: Vec<Option<String>> =
            self.request(first, size).await?.iter().map(|item| item.id().map(str::to_owned)).collect();
        if &now == head {
            return Ok(());
        }
        // Messages added at the head push the old head down by as many:
        // the page read then is still the one delivered, shifted. Each of
        // those shifts opened a later page with repeats, which were dropped.
        let added = now.iter().position(|id| id.is_some() && head.first() == Some(id));
        if let Some(added) = added.filter(|&n| n > 0) {
            let kept = now.len() - added;
            if now[added..] == head[..kept.min(head.len())] {
                return Ok(());
            }
        }
        let reason = format!("page {first} read again at the end no longer starts with the messages it started with");
        Err(PagingError::ListingChanged { page: PagePosition(Some(Position::Page(first))), reason })
    }
}

impl<Ep: NumberedEndpoint> NumberedScheme<Ep> {
    /// The end, confirmed by a page with nothing new: the final head check.
    async fn end(&self) -> Step<Ep::Item, Ep::Error> {
        if self.pages_with_messages > 1 && !self.resumed {
            if let Err(error) = self.check_head(self.size.unwrap_or(self.asked)).await {
                return Step::Fail(error);
            }
        }
        Step::End
    }
}

impl<Ep: NumberedEndpoint> Scheme for NumberedScheme<Ep> {
    type Item = Ep::Item;
    type Error = Ep::Error;

    async fn step(&mut self) -> Step<Ep::Item, Ep::Error> {
        let n = self.page;
        let position = Some(Position::Page(n));
        let page = PagePosition(position.clone());
        let items = match self.request(n, self.size.unwrap_or(self.asked)).await {
            Ok(items) => items,
            Err(error) => return Step::Fail(error),
        };
        let len = items.len() as u64;
        if len == 0 {
            if self.pages_with_messages == 0 {
                // Nothing at all: the stream still has its one (empty) page.
                return Step::Last(Page { items: Vec::new(), position, next: None });
            }
            return self.end().await;
        }
        if let Some((short, short_len)) = self.short {
            let limit = self.size.unwrap_or(self.asked);
            return Step::Fail(PagingError::ShortPage { page: PagePosition(Some(Position::Page(short))), len: short_len, limit });
        }
        match self.size {
            // The first page tells the server's page size: fewer than asked
            // is a cap (or the only page; the next request tells which),
            // more is a server that ignores `per_page`.
            None => self.size = Some(len),
            Some(size) if len > size => return Step::Fail(PagingError::PageSizeChanged { page, len, limit: size }),
            Some(size) if len < size => self.short = Some((n, len)),
            Some(_) => {}
        }
        let size = self.size.unwrap_or(len);
        let fresh = match self.window.split::<Ep>(&page, items) {
            Ok(fresh) => fresh,
            // A short page of nothing but repeats: the end of the listing,
            // pushed down by messages added at its head.
            Err(PagingError::RepeatedPage { .. }) if len < size => return self.end().await,
            Err(error) => return Step::Fail(error),
        };
        if n == Ep::FIRST_PAGE && !self.resumed {
            self.head = Some(fresh.iter().map(|item| item.id().map(str::to_owned)).collect());
        }
        self.window.remember::<Ep>(&fresh);
        self.pages_with_messages += 1;
        match n.checked_add(1) {
            Some(next) => {
                self.page = next;
                Step::Page(Page { items: fresh, position, next: Some(Position::Page(next)) })
            }
            None => Step::Last(Page { items: fresh, position, next: None }),
        }
    }
}
