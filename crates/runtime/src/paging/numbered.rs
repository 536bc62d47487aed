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
//!   other way, silently skipping one: whenever the first page held
//!   messages, it is read again at the end; unless it is the same page, or
//!   the same page pushed down whole by messages added at its head (checked
//!   across the first two pages), the stream ends with
//!   [`PagingError::ListingChanged`].
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
) -> impl futures::Stream<Item = Result<Page<Ep::Item>, PagingError<Ep::Error>>> + Send + Unpin + 'static {
    let start = start.and_then(|(endpoint, per_page)| {
        let (page, resumed) = match options.resume {
            None => (Ep::FIRST_PAGE, false),
            Some(Position::Page(n)) if n >= Ep::FIRST_PAGE => (n, n > Ep::FIRST_PAGE),
            Some(Position::Page(n)) => {
                return Err(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!("page {n} is before the first page, {}", Ep::FIRST_PAGE),
                });
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
        engine::fetch(Ep::VENDOR, &self.retry, &Some(Position::Page(page)), || endpoint.fetch(page, per_page)).await
    }

    /// The keys of page `page` as it is now.
    async fn keys(&self, page: u64, size: u64) -> Result<Vec<Option<String>>, PagingError<Ep::Error>> {
        Ok(self.request(page, size).await?.iter().map(|item| item.key().map(str::to_owned)).collect())
    }

    /// Reads the first page again and compares it with the one delivered.
    async fn check_head(&self, size: u64) -> Result<(), PagingError<Ep::Error>> {
        let Some(head) = &self.head else { return Ok(()) };
        let first = Ep::FIRST_PAGE;
        let now = self.keys(first, size).await?;
        if &now == head {
            return Ok(());
        }
        // Messages added at the head push the old head down by as many:
        // the first page delivered must then stand, whole and unbroken,
        // right after them, across the first two pages as they are now (a
        // deletion among its last messages would otherwise hide behind the
        // additions). Each of those shifts opened a later page with repeats,
        // which were dropped.
        let added = now.iter().position(|key| key.is_some() && head.first() == Some(key));
        if let Some(added) = added.filter(|&n| n > 0) {
            let mut now = now;
            if now.len() < added + head.len() {
                now.extend(self.keys(first.saturating_add(1), size).await?);
            }
            if now.get(added..added + head.len()) == Some(&head[..]) {
                return Ok(());
            }
        }
        let reason = format!("page {first} read again at the end no longer holds the messages it held, in their order");
        Err(PagingError::ListingChanged { page: PagePosition(Some(Position::Page(first))), reason })
    }

    /// The end, confirmed by a page with nothing new: the final head check.
    /// It is made whenever the first page of this run held messages, even
    /// when it was the only one: a message deleted from it would have
    /// pushed the next one onto it, unseen.
    async fn end(&self) -> Step<Ep::Item, Ep::Error> {
        if let Err(error) = self.check_head(self.size.unwrap_or(self.asked)).await {
            return Step::Fail(error);
        }
        Step::End
    }
}

impl<Ep: NumberedEndpoint> Scheme for NumberedScheme<Ep> {
    type Item = Ep::Item;
    type Error = Ep::Error;

    async fn step(&mut self) -> Step<Ep::Item, Ep::Error> {
        loop {
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
                return Step::Fail(PagingError::ShortPage {
                    page: PagePosition(Some(Position::Page(short))),
                    len: short_len,
                    limit,
                });
            }
            match self.size {
                // The first page tells the server's page size: fewer than
                // asked is a cap (or the only page; the next request tells
                // which), more is a server that ignores `per_page`.
                None => self.size = Some(len),
                Some(size) if len > size => return Step::Fail(PagingError::PageSizeChanged { page, len, limit: size }),
                Some(size) if len < size => self.short = Some((n, len)),
                Some(_) => {}
            }
            let size = self.size.unwrap_or(len);
            let next = n.saturating_add(1);
            // The first page's keys as served (a record it holds twice
            // included), to compare with the page read again at the end.
            let head = (n == Ep::FIRST_PAGE && !self.resumed)
                .then(|| items.iter().map(|item| item.key().map(str::to_owned)).collect::<Vec<_>>());
            let fresh = match self.window.split::<Ep>(&page, items) {
                Ok(fresh) => fresh,
                // A short page of nothing but repeats: the end of the
                // listing, pushed down by messages added at its head, if the
                // next page confirms it (it must be empty, as after any short
                // page).
                Err(PagingError::RepeatedPage { .. }) if len < size => {
                    self.page = next;
                    continue;
                }
                Err(error) => return Step::Fail(error),
            };
            if head.is_some() {
                self.head = head;
            }
            self.window.remember::<Ep>(&fresh);
            self.pages_with_messages += 1;
            self.page = next;
            return Step::Page(Page { items: fresh, position, next: Some(Position::Page(next)) });
        }
    }
}
