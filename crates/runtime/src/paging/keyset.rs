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
//!   again, or an empty first page of a query with no time filter of its
//!   own, ends the stream with
//!   [`PagingError::EmptyPageWithMore`] when the vendor's total says more
//!   match; otherwise (after the first page) it is asked for once more
//!   before it is taken as the end (that message was deleted) where the
//!   vendor counted what matches, and ends the stream with
//!   [`PagingError::UnprovenEnd`] where it did not.
//! - A page of nothing but messages delivered, as full as asked, is
//!   followed by the next page number once even where the total says that
//!   is all (a short count would end the read before its newest messages).
//! - Messages with no creation time are delivered without these checks.
//!
//! Read in time windows at once ([`PagingOptions::concurrency`] above 1), a
//! window before the last ends on the first message at or past its end,
//! which its last page brings (it sends only the query's own "created
//! before", never its end): that message proves, oldest first, that the
//! window holds nothing more, so the window needs no request of its own to
//! end; a message inside the window after it ends the stream with
//! [`PagingError::OutOfOrder`]. The last window ends as a sequential read.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::engine::{self, Scheme, Step};
use super::guard::Delivered;
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

/// An endpoint that filters on "created after" and "created before" and
/// lists oldest first.
pub trait KeysetEndpoint: Listing {
    /// Requests page `page` (0-based) of `limit` messages created after
    /// `after` and before `before` (`None`: no such filter), oldest first.
    fn fetch(
        &self,
        after: Option<DateTime<Utc>>,
        before: Option<DateTime<Utc>>,
        page: u64,
        limit: u64,
    ) -> Fetch<KeysetReply<Self::Item>, Self::Error>;
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
    /// A window's start: messages of an earlier millisecond belong to the
    /// window before (only a server whose filter includes its bound sends
    /// them) and are skipped. Kept in the position, so a resumed read skips
    /// them too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    floor: Option<DateTime<Utc>>,
}

impl Key {
    fn position(&self) -> Position {
        Position::Cursor(serde_json::to_string(self).unwrap_or_default())
    }
}

/// Where a key listing starts: the endpoint, the page size, and the query's
/// own "created after" and "created before", if any.
pub type Start<Ep> = (Ep, u64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Every page of a key listing, checked. `start` is where it starts, or
/// why the query was refused.
pub fn pages<Ep: KeysetEndpoint>(
    start: Result<Start<Ep>, PagingError<Ep::Error>>,
    options: PagingOptions,
) -> impl futures::Stream<Item = Result<Page<Ep::Item>, PagingError<Ep::Error>>> + Send + Unpin + 'static {
    let resumed = options.resume.is_some();
    let concurrency = if resumed { 1 } else { options.concurrency.max(1) };
    let start = start.and_then(|(endpoint, limit, after, before)| {
        let key = match options.resume {
            // A server whose filter includes its bound would send the
            // messages of the query's own "created after" millisecond: the
            // floor skips them (a bound within a millisecond cannot be).
            None => Key {
                after: after.map(millisecond),
                // (At the last millisecond there is, nothing is after it.)
                floor: after
                    .filter(|after| millisecond(*after) == *after)
                    .and_then(|after| after.checked_add_signed(TimeDelta::milliseconds(1))),
                ..Key::default()
            },
            Some(Position::Cursor(cursor)) => serde_json::from_str(&cursor).map_err(|e| PagingError::InvalidQuery {
                name: "resume",
                reason: format!("`{cursor}` is not a position this stream gave: {e}"),
            })?,
            Some(page @ (Position::Page(_) | Position::PageWithCheck { .. })) => {
                return Err(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!("this listing resumes from the cursor its pages give, not from {page}"),
                });
            }
        };
        let newest = key.seen.values().max().copied();
        let mut scheme = KeyScheme::new(Arc::new(endpoint), limit, options.retry, key, newest, before);
        // A resumed read is not at the conversation's start: an empty first
        // page is the end only as any later page's is (its count agrees,
        // and asked again).
        scheme.first = !resumed;
        Ok(Windowed {
            first: Some(scheme),
            concurrency,
            windows: VecDeque::new(),
            pending: VecDeque::new(),
            tasks: Tasks::default(),
            timeless: HashSet::new(),
            delivered: Delivered::new(),
        })
    });
    engine::run(start)
}

/// Rounds down to the millisecond, the filter's precision.
fn millisecond(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(time)
}

struct KeyScheme<Ep> {
    /// The window's end (exclusive): in an oldest-first listing the first
    /// message at or past it ends the window.
    ceiling: Option<DateTime<Utc>>,
    /// The "created before" sent: the query's own. It is the ceiling of a
    /// read in one window and of the last window; a window before the last
    /// sends it too, not its own end, so that its last page goes on past its
    /// end and ends it (no request that brings nothing new).
    before: Option<DateTime<Utc>>,
    /// The window ended (a message at or past its end was seen).
    done: bool,
    /// The oldest creation time delivered, and how many messages were.
    oldest: Option<DateTime<Utc>>,
    delivered: u64,
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
    /// The vendor's count on the read's first page: what the windows are
    /// split by.
    first_total: Option<u64>,
    /// The page asked for is past what the vendor's count says: asked once
    /// because the page before was as full as asked and all delivered (a
    /// count that is short would otherwise end the read before its newest
    /// messages). Nothing new there (an empty page, or the same messages
    /// from a server that ignores the page number) is the end.
    past_count: bool,
}

impl<Ep: KeysetEndpoint> KeyScheme<Ep> {
    fn new(
        endpoint: Arc<Ep>,
        limit: u64,
        retry: RetryPolicy,
        key: Key,
        newest: Option<DateTime<Utc>>,
        ceiling: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            oldest: None,
            delivered: 0,
            ceiling,
            before: ceiling,
            done: false,
            endpoint,
            limit,
            retry,
            key,
            newest,
            served: 0,
            first: true,
            repeated_pages: 0,
            asked_again: false,
            filter_total: None,
            first_total: None,
            past_count: false,
        }
    }
}

impl<Ep: KeysetEndpoint> Scheme for KeyScheme<Ep> {
    type Item = Ep::Item;
    type Error = Ep::Error;

    async fn step(&mut self) -> Step<Ep::Item, Ep::Error> {
        if self.done {
            return Step::End;
        }
        loop {
            let position = Some(self.key.position());
            let page = PagePosition(position.clone());
            let endpoint = &self.endpoint;
            let (after, before, n, limit) = (self.key.after, self.before, self.key.page, self.limit);
            let fetch = || endpoint.fetch(after, before, n, limit);
            let reply = match engine::fetch(Ep::VENDOR, &self.retry, &position, fetch).await {
                Ok(reply) => reply,
                Err(error) => return Step::Fail(error),
            };
            if let Some(served) = reply.page.filter(|&served| i64::try_from(n).ok() != Some(served)) {
                return Step::Fail(PagingError::WrongPage { page, served });
            }
            let len = reply.items.len() as u64;
            let first = std::mem::replace(&mut self.first, false);
            self.served = self.served.max(len);
            let mut fresh: Vec<Ep::Item> = Vec::with_capacity(reply.items.len());
            // The page's new ids, and where each is in `fresh`: one twice on
            // a page is that message sent twice (the same record: delivered
            // once) or two messages with one id (an error where ids are
            // unique), never one of them dropped unseen.
            let mut on_page: HashMap<String, usize> = HashMap::new();
            // Whether any message of the page, new or not, has a time.
            let mut timed = false;
            for item in reply.items {
                let id = item.key();
                let time = item.time();
                if let Some(&earlier) = id.and_then(|id| on_page.get(id)) {
                    let same = fresh[earlier].raw().is_some() && fresh[earlier].raw() == item.raw();
                    if same {
                        continue;
                    }
                    if <Ep::Item as Record>::IDS_UNIQUE {
                        let id = id.unwrap_or_default().to_owned();
                        return Step::Fail(PagingError::RepeatedMessage { page, id });
                    }
                }
                if self.done && time.is_none() {
                    // After the first message past the window's end, oldest
                    // first: the next window's (which delivers it), or past
                    // the query's own end.
                    continue;
                }
                if let Some(time) = time {
                    let past_end = self.ceiling.is_some_and(|ceiling| time >= ceiling);
                    if self.done && !past_end {
                        // Oldest first, a message past the window's end came
                        // before this one: the listing is not in order, and
                        // this message would fall between two windows.
                        let id = id.unwrap_or("(no id)").to_owned();
                        let reason = "created before a message at or past the end of its time window";
                        return Step::Fail(PagingError::OutOfOrder { page, id, reason });
                    }
                    if past_end {
                        // The next window delivers it, and everything after.
                        self.done = true;
                        continue;
                    }
                    // The window's first millisecond is one after its filter;
                    // a server whose filter includes its bound sends the
                    // bound's messages too: the window before delivers them.
                    // Anything earlier is out of order (checked below).
                    let at_bound = after.is_some_and(|after| millisecond(time) == after);
                    if at_bound && self.key.floor.is_some_and(|floor| millisecond(time) < floor) {
                        continue;
                    }
                }
                timed |= time.is_some();
                if id.is_some_and(|id| self.key.seen.contains_key(id)) {
                    // Delivered already: the filter's last millisecond,
                    // asked for again on purpose, or (on a later page of one
                    // millisecond) a listing that moved.
                    if n > 0 && !self.past_count {
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
                    self.oldest = Some(self.oldest.map_or(time, |oldest| oldest.min(time)));
                }
                if let Some(id) = id {
                    // A message with no time is remembered at the newest time
                    // so far: it stays in `seen` while the filter can still
                    // bring it back.
                    let at = time.or(self.newest).or(after).unwrap_or(DateTime::<Utc>::MIN_UTC);
                    self.key.seen.insert(id.to_owned(), at);
                    on_page.insert(id.to_owned(), fresh.len());
                }
                fresh.push(item);
            }
            self.delivered += fresh.len() as u64;
            if n == 0 {
                // The count the later pages of this filter are held to.
                self.filter_total = reply.total;
            }
            if first {
                self.first_total = reply.total;
            }
            // An empty page that the vendor's own count says is not the end:
            // on the conversation's first page too ("5 messages", none
            // listed, is not an empty conversation), where the query has no
            // time filter of its own (a count that ignores the filter would
            // make every empty answer to it look so).
            let unfiltered = after.is_none() && before.is_none();
            if len == 0
                && (!first || unfiltered)
                && reply.total.is_some_and(|total| total > n.saturating_mul(self.limit))
            {
                return Step::Fail(PagingError::EmptyPageWithMore { page });
            }
            if len == 0 && !first {
                // The filter starts a millisecond before the newest message
                // delivered, so its first page should hold that message again.
                // A window's start has nothing delivered to come again: its
                // empty answer is asked for again too (a count of 0 is not
                // trusted: a page lost on the way would lose the window).
                let unproven = !self.key.seen.is_empty() || self.key.floor.is_some();
                if n == 0 && unproven && !self.asked_again {
                    // Deleted, or a page lost on the way: ask once more.
                    self.asked_again = true;
                    continue;
                }
                // Without a count, an empty first page of a filter after
                // messages were delivered cannot tell "that message was
                // deleted, and nothing came after it" from a server that
                // stopped listing: it is not taken for the end. (A later
                // page number's is: the page before held the newest
                // message again.)
                if n == 0 && reply.total.is_none() && !self.key.seen.is_empty() {
                    return Step::Fail(PagingError::UnprovenEnd { page });
                }
                return Step::End;
            }
            if fresh.is_empty() && self.done {
                return Step::End;
            }
            if fresh.is_empty() {
                // Full as the server fills its pages, and (where it counts)
                // with more behind it than this page.
                let more = reply.total.is_none_or(|total| total > n.saturating_mul(self.served).saturating_add(len));
                let full = len > 0 && len >= self.served;
                if full && !more && !self.past_count && len >= self.limit {
                    // The count says this is all, but the page is as full
                    // as asked: the next one is asked once (see `past_count`).
                    self.past_count = true;
                    self.key.page = self.key.page.saturating_add(1);
                    continue;
                }
                if full && more {
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
            if !timed && !self.done {
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
            self.repeated_pages = 0;
            self.asked_again = false;
            self.past_count = false;
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
                // A new filter: its own page 0 gives its count.
                self.filter_total = None;
                if let Some(after) = next_after {
                    self.key.seen.retain(|_, time| *time >= after);
                }
            } else {
                // The whole page shares the filter's last millisecond.
                self.key.page = self.key.page.saturating_add(1);
            }
            // A window before the last that ended on a message past its end
            // goes on where the next window starts (a millisecond its
            // bounds were set on): the messages after the ones delivered
            // are on this page, past the end, where the next page number of
            // this filter would skip them on a resumed read.
            let next = match (self.done, self.ceiling) {
                (true, Some(ceiling)) if self.ceiling != self.before => ceiling
                    .checked_sub_signed(TimeDelta::milliseconds(1))
                    .map(|after| Key { after: Some(after), floor: Some(ceiling), ..Key::default() }),
                _ => None,
            };
            let next = next.as_ref().unwrap_or(&self.key).position();
            return Step::Page(Page { items: fresh, position, next: Some(next) });
        }
    }
}

/// The most pages a time window holds when the windows take more than one
/// wave of `concurrency`, and (with its crossing page and its end) how many
/// steps of a window are buffered at most.
const WINDOW_PAGES: u64 = 3;

/// The most time windows one read splits into.
const MAX_WINDOWS: u64 = 64;

/// A key read with its remaining pages read in time windows at once.
///
/// The first page is read as a sequential read's; if more than a page
/// follows, the time from its newest message to the conversation's probable
/// end (the first page's pace over the vendor's count) is split into
/// windows, each read by a key read of its own that ends at its bound (the
/// last one at the query's own "created before", or open-ended, so messages
/// added during the read are in it). Every window sends only the query's
/// own "created before": a window before the last ends on the page that
/// crosses its end (c pages of content cost floor(c) + 1 requests), the
/// last on a request that brings nothing new (floor(c) + 2). So the last is
/// given a page less: W windows of (P + 1) / W pages each, P the pages left,
/// the last one of a page less, all cost the same rounds; W is the fewest
/// that take the rounds of one wave of `concurrency` windows, or, beyond
/// [`WINDOW_PAGES`] rounds, waves of `concurrency` windows of at most
/// [`WINDOW_PAGES`] pages (at most [`MAX_WINDOWS`], and fewer than the pages
/// left, so that the last holds something). Up to `concurrency` windows run
/// at once, started in order, each buffering at most [`WINDOW_PAGES`] + 2
/// steps (memory: `concurrency` windows, whatever the conversation's
/// length). Windows are disjoint (a message belongs to the window of its
/// millisecond) and delivered in order, so the guarantees of the sequential
/// read hold across them: each window ends on the first message past its
/// end, or on a request that brings nothing new.
/// Messages with no creation time can come in any window; each is delivered
/// once, by the first window that has it.
struct Windowed<Ep: KeysetEndpoint> {
    /// The read of the first page, until it has given it.
    first: Option<KeyScheme<Ep>>,
    concurrency: usize,
    /// The running windows' pages, in order.
    windows: VecDeque<(WindowSteps<Ep>, PagePosition)>,
    /// The windows not started yet, in order.
    pending: VecDeque<KeyScheme<Ep>>,
    tasks: Tasks,
    /// The keys of the messages without a time delivered so far.
    timeless: HashSet<String>,
    /// The keys of the messages with a time delivered so far: one that
    /// comes again past the filter's last millisecond (which the key read
    /// asks for again on purpose, and drops) was moved to a later time
    /// while the conversation was read (re-stamped), and would be
    /// delivered twice.
    delivered: Delivered,
}

/// A running window's steps, as its task sends them.
type WindowSteps<Ep> = tokio::sync::mpsc::Receiver<Step<<Ep as Listing>::Item, <Ep as Listing>::Error>>;

/// The windows' tasks, stopped when the stream is dropped.
#[derive(Default)]
struct Tasks(Vec<tokio::task::AbortHandle>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl<Ep: KeysetEndpoint> Windowed<Ep> {
    /// Starts the windows after the first page, or gives the scheme back to
    /// go on one page after another (one window, or no time to split).
    fn split(&mut self, mut scheme: KeyScheme<Ep>) -> Option<KeyScheme<Ep>> {
        // Where the rest of the conversation probably ends: the first page's
        // pace, over the messages the vendor's total says are left. The
        // windows need not be even: the last one is open-ended, so a wrong
        // guess costs speed, never a message.
        let (Some(oldest), Some(newest), Some(total)) = (scheme.oldest, scheme.newest, scheme.first_total) else {
            return Some(scheme);
        };
        if scheme.done {
            // The first page went past the query's own end: nothing is left.
            return Some(scheme);
        }
        let (start, delivered) = (millisecond(newest), scheme.delivered.max(1));
        let left = total.saturating_sub(delivered);
        let pace = (millisecond(newest) - millisecond(oldest)).num_milliseconds();
        let span = i64::try_from(u128::from(left) * pace as u128 / u128::from(delivered)).unwrap_or(i64::MAX / 2);
        let span = match scheme.ceiling {
            Some(ceiling) => span.min((millisecond(ceiling) - start).num_milliseconds()),
            None => span,
        };
        // A count that lies (10^15 messages) must not carry a bound past
        // the last time there is.
        let span = span.min((DateTime::<Utc>::MAX_UTC - start).num_milliseconds());
        // The rest in pages as a sequential read's: `left` over `page` new
        // messages a page, P = left / page (fractional).
        let page = scheme.limit.saturating_sub(1).max(1);
        let (left, page) = (u128::from(left), u128::from(page));
        let concurrency = self.concurrency.max(1) as u128;
        // A window before the last ends on the page that crosses its end: c
        // pages of content cost floor(c) + 1 requests. The last pays the
        // request that brings nothing new, floor(c) + 2: it is given a page
        // less. W windows of x = (P + 1) / W, the last of x - 1, all cost
        // floor(x) + 1. `rest` is P + 1 in messages.
        let rest = left + page;
        // One wave of at most `concurrency` windows where each takes at most
        // WINDOW_PAGES rounds: the fewest windows that take the rounds
        // ceil((P + 1) / C). Longer reads: waves of `concurrency` windows of
        // at most WINDOW_PAGES pages, each started as one before it ends. A
        // window's steps then fit its buffer (WINDOW_PAGES + 2: its pages,
        // the one that crosses its end, its end), so none waits on it, and
        // memory stays `concurrency` windows whatever the length.
        let rounds = rest.div_ceil(page * concurrency);
        let windows = if rounds <= u128::from(WINDOW_PAGES) {
            rest.div_ceil(page * rounds)
        } else {
            rest.div_ceil(page * concurrency * u128::from(WINDOW_PAGES)) * concurrency
        };
        // The last window holds something (x - 1 > 0: W < P + 1, so at most
        // P rounded up). At most MAX_WINDOWS: a vendor's count that lies
        // cannot make the read ask for many windows that hold nothing (each
        // costs a request or two); longer windows are buffered a few pages
        // ahead at most. And a millisecond a window at least.
        let windows = windows.min(left.div_ceil(page)).min(u128::from(MAX_WINDOWS)).min(span.max(0) as u128) as usize;
        if windows < 2 || self.concurrency < 2 {
            return Some(scheme);
        }
        // Window i (from 0) ends x (i + 1) pages into the rest: at
        // span · x (i + 1) / P by the first page's pace, x / P being
        // rest / (W · left).
        let bounds: Option<Vec<DateTime<Utc>>> = (1..windows as u128)
            .map(|i| {
                let w = windows as u128;
                // (A count so large the product overflows: even windows.)
                let at = (span as u128 * i).checked_mul(rest).map_or(span as u128 * i / w, |at| at / (w * left));
                start.checked_add_signed(TimeDelta::try_milliseconds(i64::try_from(at).ok()?)?)
            })
            .collect();
        // (None: a bound past the last time there is; read one page after
        // another.)
        let Some(bounds) = bounds else { return Some(scheme) };
        // The query's own end: the last window's, and the filter every
        // window sends (a window before the last ends on its first message
        // past its end, with no request of its own).
        let ceiling = scheme.ceiling;
        scheme.ceiling = Some(bounds[0]);
        let mut schemes = vec![scheme];
        for (i, floor) in bounds.iter().enumerate() {
            let after = floor.checked_sub_signed(TimeDelta::milliseconds(1));
            let key = Key { after, floor: Some(*floor), ..Key::default() };
            let first = &schemes[0];
            let (endpoint, limit, retry) = (first.endpoint.clone(), first.limit, first.retry.clone());
            let window_ceiling = bounds.get(i + 1).copied().or(ceiling);
            let mut window = KeyScheme::new(endpoint, limit, retry, key, None, window_ceiling);
            // Only the query's own end is sent: a window before the last
            // ends on its first message past its end, with no request of
            // its own.
            window.before = ceiling;
            // Not the read's first page: an empty one is the window's end
            // (when the vendor's count agrees), not an empty conversation.
            window.first = false;
            schemes.push(window);
        }
        self.pending = schemes.into();
        self.start();
        None
    }

    /// Starts the next windows, in order, until `concurrency` run.
    fn start(&mut self) {
        while self.windows.len() < self.concurrency {
            let Some(mut scheme) = self.pending.pop_front() else { break };
            let begins = PagePosition(Some(scheme.key.position()));
            // A window's pages (at most WINDOW_PAGES, but for MAX_WINDOWS),
            // the one that crosses its end, and its end.
            let (sender, receiver) = tokio::sync::mpsc::channel(WINDOW_PAGES as usize + 2);
            let task = tokio::spawn(async move {
                loop {
                    let step = scheme.step().await;
                    let last = !matches!(step, Step::Page(_));
                    if sender.send(step).await.is_err() || last {
                        break;
                    }
                }
            });
            self.tasks.0.retain(|task| !task.is_finished());
            self.tasks.0.push(task.abort_handle());
            self.windows.push_back((receiver, begins));
        }
    }

    /// Drops the messages without a time that a page before delivered (a
    /// server may list them under any filter); a message with a time that
    /// was delivered before fails the page with
    /// [`PagingError::RepeatedMessage`], none of it delivered (a resumed
    /// read starts at it).
    fn once(&mut self, mut page: Page<Ep::Item>) -> Result<Page<Ep::Item>, PagingError<Ep::Error>> {
        let mut repeated = None;
        page.items.retain(|item| match (item.time(), item.key()) {
            (None, Some(key)) => self.timeless.insert(key.to_owned()),
            (Some(_), Some(key)) => {
                if !self.delivered.first_time(key) && repeated.is_none() {
                    repeated = Some(key.to_owned());
                }
                true
            }
            (_, None) => true,
        });
        match repeated {
            Some(id) => Err(PagingError::RepeatedMessage { page: PagePosition(page.position), id }),
            None => Ok(page),
        }
    }
}

impl<Ep: KeysetEndpoint> Scheme for Windowed<Ep> {
    type Item = Ep::Item;
    type Error = Ep::Error;

    async fn step(&mut self) -> Step<Ep::Item, Ep::Error> {
        if let Some(mut scheme) = self.first.take() {
            let step = scheme.step().await;
            return match step {
                Step::Page(page) => {
                    if self.concurrency > 1 {
                        self.first = self.split(scheme);
                    } else {
                        self.first = Some(scheme);
                    }
                    self.once(page).map_or_else(Step::Fail, Step::Page)
                }
                Step::Last(page) => self.once(page).map_or_else(Step::Fail, Step::Last),
                Step::PageThen(page, error) => {
                    self.once(page).map_or_else(Step::Fail, |page| Step::PageThen(page, error))
                }
                other => other,
            };
        }
        while let Some((window, _)) = self.windows.front_mut() {
            match window.recv().await {
                Some(Step::Page(page)) => return self.once(page).map_or_else(Step::Fail, Step::Page),
                Some(Step::Last(page)) => {
                    // A window's one page; the read goes on with the next window.
                    self.windows.pop_front();
                    self.start();
                    if !page.items.is_empty() {
                        let last = self.windows.is_empty();
                        return match self.once(page) {
                            Ok(page) if last => Step::Last(page),
                            Ok(page) => Step::Page(page),
                            Err(error) => Step::Fail(error),
                        };
                    }
                }
                Some(Step::PageThen(page, error)) => {
                    return self.once(page).map_or_else(Step::Fail, |page| Step::PageThen(page, error));
                }
                Some(Step::Fail(error)) => return Step::Fail(error),
                Some(Step::End) => {
                    self.windows.pop_front();
                    self.start();
                }
                None => {
                    // Its task ended without its last step: it panicked. The
                    // window's messages were not all delivered.
                    let page = self.windows.pop_front().map_or(PagePosition(None), |(_, begins)| begins);
                    return Step::Fail(PagingError::Stopped { page });
                }
            }
        }
        Step::End
    }
}
