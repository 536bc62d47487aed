//! Key paging on the creation time (Infobip): every request asks for the
//! messages created after the newest one delivered, oldest first, so that
//! messages added or deleted while the conversation is read cannot shift
//! what the next request returns.
//!
//! The filter counts milliseconds and is exclusive, and several messages
//! can share a millisecond: each request asks for the messages created
//! after the millisecond *before* the newest one delivered, and drops the
//! ones it delivered already (the ids of that last millisecond are kept:
//! memory stays bounded by how many messages share one millisecond). When a
//! whole page shares one millisecond, the next page number of the same
//! filter is asked for instead.
//!
//! Guarantees, beyond the engine's:
//! - The end is a request that brings nothing new, never a short page or a
//!   total (a server that caps the page size and counts only what it served
//!   would otherwise end the read early): a server that caps, omits the
//!   total or misstates it is followed to the real end. That costs one
//!   request a read.
//! - A message created before the filter, or before a message already
//!   delivered, ends the stream with [`PagingError::OutOfOrder`] (the server
//!   ignored the filter or the order); a page that reports another page
//!   number than asked ends it with [`PagingError::WrongPage`].
//! - An empty page where the newest message delivered should have come
//!   again ends the stream with [`PagingError::EmptyPageWithMore`] when the
//!   vendor's total says more match; otherwise it is asked for once more
//!   before it is taken as the end (that message was deleted).
//! - Messages with no creation time are delivered without these checks.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::engine::{self, Scheme, Step};
use super::{Fetch, Listing, Page, PagePosition, PagingError, PagingOptions, Position, Record};
use crate::retry::RetryPolicy;

/// What one page of a key listing says.
#[derive(Debug)]
pub struct KeysetReply<T> {
    pub items: Vec<T>,
    /// How many messages match the filter in all, where the vendor says.
    pub total: Option<u64>,
    /// The page number the vendor says it served.
    pub page: Option<i64>,
}

/// An endpoint that filters on "created after" and lists oldest first.
pub trait KeysetEndpoint: Listing {
    /// Requests page `page` (0-based) of `limit` messages created after
    /// `after` (`None`: no such filter), oldest first.
    fn fetch(&self, after: Option<DateTime<Utc>>, page: u64, limit: u64)
    -> Fetch<KeysetReply<Self::Item>, Self::Error>;
}

/// Where a key read stands: what [`Position::Cursor`] holds, as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Key {
    /// The filter: created after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<DateTime<Utc>>,
    /// The page of that filter.
    #[serde(default)]
    page: u64,
    /// Messages delivered that the filter still matches, with their times.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    seen: HashMap<String, DateTime<Utc>>,
}

impl Key {
    fn position(&self) -> Position {
        Position::Cursor(serde_json::to_string(self).unwrap_or_default())
    }
}

/// Where a key listing starts: the endpoint, the page size and the first
/// filter (the query's own "created after", if any).
pub type Start<Ep> = (Ep, u64, Option<DateTime<Utc>>);

/// Every page of a key listing, checked. `start` is where it starts, or
/// why the query was refused.
pub fn pages<Ep: KeysetEndpoint>(
    start: Result<Start<Ep>, PagingError<Ep::Error>>,
    options: PagingOptions,
) -> impl futures::Stream<Item = Result<Page<Ep::Item>, PagingError<Ep::Error>>> + Send + Unpin + 'static {
    let start = start.and_then(|(endpoint, limit, after)| {
        let key = match options.resume {
            None => Key { after: after.map(millisecond), ..Key::default() },
            Some(Position::Cursor(cursor)) => serde_json::from_str(&cursor).map_err(|e| PagingError::InvalidQuery {
                name: "resume",
                reason: format!("`{cursor}` is not a position this stream gave: {e}"),
            })?,
            Some(Position::Page(n)) => {
                return Err(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!("this listing resumes from the cursor its pages give, not from page {n}"),
                });
            }
        };
        let newest = key.seen.values().max().copied();
        Ok(KeyScheme {
            endpoint: Arc::new(endpoint),
            limit,
            retry: options.retry,
            key,
            newest,
            served: 0,
            first: true,
            repeated_pages: 0,
            asked_again: false,
            filter_total: None,
        })
    });
    engine::run(start)
}

/// Rounds down to the millisecond, the filter's precision.
fn millisecond(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(time)
}

struct KeyScheme<Ep> {
    endpoint: Arc<Ep>,
    limit: u64,
    retry: RetryPolicy,
    key: Key,
    /// The newest creation time delivered.
    newest: Option<DateTime<Utc>>,
    /// The most messages one page has held.
    served: u64,
    first: bool,
    /// Pages in a row that brought nothing new.
    repeated_pages: u64,
    /// An empty page was asked for again (once) before it is taken as the end.
    asked_again: bool,
    /// The vendor's count for the current filter, from its page 0.
    filter_total: Option<u64>,
}

impl<Ep: KeysetEndpoint> Scheme for KeyScheme<Ep> {
    type Item = Ep::Item;
    type Error = Ep::Error;

    async fn step(&mut self) -> Step<Ep::Item, Ep::Error> {
        loop {
            let position = Some(self.key.position());
            let page = PagePosition(position.clone());
            let endpoint = &self.endpoint;
            let (after, n, limit) = (self.key.after, self.key.page, self.limit);
            let reply =
                match engine::fetch(Ep::VENDOR, &self.retry, &position, || endpoint.fetch(after, n, limit)).await {
                    Ok(reply) => reply,
                    Err(error) => return Step::Fail(error),
                };
            if let Some(served) = reply.page.filter(|&served| i64::try_from(n).ok() != Some(served)) {
                return Step::Fail(PagingError::WrongPage { page, served });
            }
            let len = reply.items.len() as u64;
            let first = std::mem::replace(&mut self.first, false);
            self.served = self.served.max(len);
            let mut fresh = Vec::with_capacity(reply.items.len());
            // Whether any message of the page, new or not, has a time.
            let mut timed = false;
            for item in reply.items {
                let id = item.key();
                let time = item.time();
                timed |= time.is_some();
                if id.is_some_and(|id| self.key.seen.contains_key(id)) {
                    // Delivered already: the filter's last millisecond,
                    // asked for again on purpose, or (on a later page of one
                    // millisecond) a listing that moved.
                    if n > 0 {
                        let id = id.unwrap_or_default().to_owned();
                        return Step::Fail(PagingError::RepeatedMessage { page, id });
                    }
                    continue;
                }
                if let Some(time) = time {
                    // A server whose filter includes its bound gives back
                    // messages at `after` itself: they were delivered, and
                    // are in `seen`.
                    let reason = if after.is_some_and(|after| time < after) {
                        Some("created before the filter `created after` asked for")
                    } else if self.newest.is_some_and(|newest| millisecond(time) < millisecond(newest)) {
                        Some("created before a message already delivered, in an oldest-first listing")
                    } else {
                        None
                    };
                    if let Some(reason) = reason {
                        let id = id.unwrap_or("(no id)").to_owned();
                        return Step::Fail(PagingError::OutOfOrder { page, id, reason });
                    }
                    self.newest = Some(self.newest.map_or(time, |newest| newest.max(time)));
                }
                if let Some(id) = id {
                    // A message with no time is remembered at the newest time
                    // so far: it stays in `seen` while the filter can still
                    // bring it back.
                    let at = time.or(self.newest).or(after).unwrap_or(DateTime::<Utc>::MIN_UTC);
                    self.key.seen.insert(id.to_owned(), at);
                }
                fresh.push(item);
            }
            if len == 0 && !first {
                // The filter starts a millisecond before the newest message
                // delivered, so its first page should hold that message again.
                if reply.total.is_some_and(|total| total > n.saturating_mul(self.limit)) {
                    return Step::Fail(PagingError::EmptyPageWithMore { page });
                }
                if n == 0 && !self.key.seen.is_empty() && !self.asked_again {
                    // Deleted, or a page lost on the way: ask once more.
                    self.asked_again = true;
                    continue;
                }
                return Step::End;
            }
            if fresh.is_empty() {
                // Full as the server fills its pages, and (where it counts)
                // with more behind it than this page.
                let more = reply.total.is_none_or(|total| total > n.saturating_mul(self.served).saturating_add(len));
                if len > 0 && len >= self.served && more {
                    // A full page of one millisecond's messages, all
                    // delivered: the rest of that millisecond is on the
                    // next page of the same filter. There are no more such
                    // pages than `seen` can fill: beyond that, the vendor
                    // is ignoring the page number.
                    self.repeated_pages += 1;
                    if self.repeated_pages > self.key.seen.len() as u64 / self.served + 1 {
                        return Step::Fail(PagingError::RepeatedPage { page, count: len as usize });
                    }
                    self.key.page = self.key.page.saturating_add(1);
                    continue;
                }
                if first {
                    // Nothing at all: the stream still has its one page.
                    return Step::Last(Page { items: fresh, position, next: None });
                }
                return Step::End;
            }
            if !timed {
                // Nothing on the page to page on: the next request could not
                // start after it. Its messages are delivered; the read ends.
                return Step::PageThen(Page { items: fresh, position, next: None }, PagingError::NoKey { page });
            }
            // Within one millisecond the read pages by number: a deletion
            // there would shift the next page.
            let shrunk = match (self.filter_total, reply.total) {
                (Some(before), Some(now)) if n > 0 && now < before => Some((before, now)),
                _ => None,
            };
            if let Some((before, now)) = shrunk {
                let reason = format!(
                    "the count of the filter's messages went from {before} to {now} between two pages of one millisecond"
                );
                return Step::Fail(PagingError::ListingChanged { page, reason });
            }
            if n == 0 {
                self.filter_total = reply.total;
            }
            self.repeated_pages = 0;
            self.asked_again = false;
            let next_after =
                match self.newest.map(|newest| millisecond(newest).checked_sub_signed(TimeDelta::milliseconds(1))) {
                    Some(None) => {
                        let reason = "created at a time no filter can be set before";
                        return Step::Fail(PagingError::OutOfOrder {
                            page,
                            id: String::from("(the newest message)"),
                            reason,
                        });
                    }
                    other => other.flatten(),
                };
            if next_after > self.key.after {
                self.key.after = next_after;
                self.key.page = 0;
                if let Some(after) = next_after {
                    self.key.seen.retain(|_, time| *time >= after);
                }
            } else {
                // The whole page shares the filter's last millisecond.
                self.key.page = self.key.page.saturating_add(1);
            }
            return Step::Page(Page { items: fresh, position, next: Some(self.key.position()) });
        }
    }
}
