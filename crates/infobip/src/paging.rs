//! Every page of a conversation, as one stream: Infobip's numbered pages
//! (0-based, with the total count on every page), fetched several at a time,
//! with retries and the safety checks that turn a misbehaving vendor into a
//! typed error instead of lost or repeated messages.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::FuturesOrdered;
use futures::{FutureExt, Stream, StreamExt};

use convo_runtime::paging::PagePosition;
use convo_runtime::retry::{Exhausted, RetryPolicy, retry};
use convo_runtime::{Captured, Page, PagingError, PagingOptions, Position};

use crate::{Client, Timestamp, types};

/// Infobip's largest page: `limit` is documented as `<= 999`.
pub const MAX_PAGE_SIZE: u64 = 999;

/// Which conversation to read, with Infobip's own filters. Every filter goes
/// out on every page request.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesQuery {
    /// The conversation to read.
    pub conversation_id: String,
    /// Only these messages (`messageIds`, sent as repeated keys); empty for
    /// no such filter.
    pub message_ids: Vec<String>,
    /// Only messages of this channel.
    pub channel: Option<types::ChannelFilter>,
    /// Only messages of this direction.
    pub direction: Option<types::DirectionFilter>,
    /// Only messages created after this time.
    pub created_after: Option<Timestamp>,
    /// Only messages created before this time.
    pub created_before: Option<Timestamp>,
    /// The order, as `field:asc` or `field:desc`; Infobip's default is `id:asc`.
    pub order_by: Option<String>,
}

impl MessagesQuery {
    /// Every message of the conversation, in Infobip's default order.
    pub fn new(conversation_id: impl Into<String>) -> Self {
        Self {
            conversation_id: conversation_id.into(),
            message_ids: Vec::new(),
            channel: None,
            direction: None,
            created_after: None,
            created_before: None,
            order_by: None,
        }
    }
}

/// A page of Infobip messages.
pub type MessagePage = Page<Captured<types::Message>>;
/// Why an Infobip stream ended early.
pub type StreamError = PagingError<types::Error>;

/// What every page request shares.
struct Shared {
    client: Client,
    query: MessagesQuery,
    retry: RetryPolicy,
    limit: u64,
}

/// A page number and what its request gave, after retries.
type Fetched = (u64, Result<types::MessageList, Exhausted<types::Error>>);

impl Shared {
    /// Requests page `page`, with retries.
    fn fetch(self: &Arc<Self>, page: u64) -> BoxFuture<'static, Fetched> {
        let shared = Arc::clone(self);
        async move {
            let fetched = retry(&shared.retry, || {
                let query = &shared.query;
                let mut request = shared
                    .client
                    .get_messages()
                    .conversation_id(query.conversation_id.clone())
                    .limit(shared.limit)
                    .page(page);
                if !query.message_ids.is_empty() {
                    request = request.message_ids(query.message_ids.clone());
                }
                if let Some(channel) = query.channel {
                    request = request.channel(channel);
                }
                if let Some(direction) = query.direction {
                    request = request.direction(direction);
                }
                if let Some(after) = query.created_after {
                    request = request.created_after(after);
                }
                if let Some(before) = query.created_before {
                    request = request.created_before(before);
                }
                if let Some(order_by) = &query.order_by {
                    request = request.order_by(order_by.clone());
                }
                request.send()
            })
            .await;
            (page, fetched.map(|response| response.into_inner()))
        }
        .boxed()
    }
}

/// What the first page said about the whole conversation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Total {
    /// The first page has not come back yet.
    NotYet,
    /// The first page reported `totalItems`.
    Items(u64),
    /// The first page reported no `totalItems`: pages are then read one at
    /// a time until a short or empty one.
    Unknown,
}

struct State {
    shared: Arc<Shared>,
    concurrency: usize,
    in_flight: FuturesOrdered<BoxFuture<'static, Fetched>>,
    /// The next page number to request.
    next_request: u64,
    /// The highest page number that may be requested now.
    allowed_through: u64,
    total: Total,
    pending: Option<StreamError>,
    done: bool,
}

impl State {
    /// Starts requests until `concurrency` are in flight or every allowed
    /// page has been requested.
    fn fill(&mut self) {
        while self.in_flight.len() < self.concurrency && self.next_request <= self.allowed_through {
            self.in_flight.push_back(self.shared.fetch(self.next_request));
            self.next_request += 1;
        }
    }

    /// Checks page `n` against the total and says whether it is the last.
    fn check(&mut self, n: u64, list: &types::MessageList) -> Result<bool, StreamError> {
        let limit = self.shared.limit;
        let len = list.messages.len() as u64;
        let reported = list.pagination.as_ref().and_then(|p| p.total_items).and_then(|t| u64::try_from(t).ok());
        let page = || PagePosition(Some(Position::Page(n)));
        // A page that says it is another page (the vendor ignored `page`,
        // or served an earlier one again) would deliver messages twice.
        if let Some(served) = list.pagination.as_ref().and_then(|p| p.page) {
            if u64::try_from(served).ok() != Some(n) {
                return Err(PagingError::RepeatedCursor { page: page(), cursor: served.to_string() });
            }
        }
        match self.total {
            Total::NotYet => match reported {
                Some(total) => {
                    self.total = Total::Items(total);
                    // Pages 0..pages hold `total` items; never ask beyond.
                    let pages = total.div_ceil(limit);
                    self.allowed_through = pages.saturating_sub(1).max(n);
                }
                None => self.total = Total::Unknown,
            },
            Total::Items(first) => {
                if let Some(total) = reported.filter(|&total| total != first) {
                    // The conversation changed while it was read: page
                    // numbers no longer point at the items they did.
                    return Err(PagingError::TotalChanged { page: page(), first, now: total });
                }
            }
            Total::Unknown => {}
        }
        let Total::Items(total) = self.total else {
            // No total: a short or empty page is the last; after a full
            // one, the next page may be requested.
            let last = len < limit;
            if !last {
                self.allowed_through = n + 1;
            }
            return Ok(last);
        };
        let offset = n.saturating_mul(limit);
        if len == 0 {
            if offset < total {
                return Err(PagingError::EmptyPageWithMore { page: page() });
            }
            return Ok(true);
        }
        if offset >= total {
            return Err(PagingError::BeyondTotal { page: page(), total_items: total });
        }
        if offset.saturating_add(len) >= total {
            return Ok(true);
        }
        if len != limit {
            // A page before the last that is not full: the next page would
            // start at an offset this one did not reach, and messages
            // between them would be lost.
            return Err(PagingError::ShortPage { page: page(), len, limit });
        }
        Ok(false)
    }
}

impl Client {
    /// Every page of the conversation, in Infobip's order, each fetched with
    /// retries.
    ///
    /// The first page (page 0, or `options.resume`, which must be a
    /// [`Position::Page`]) is fetched alone; its `totalItems` gives the number
    /// of pages, and the rest are then fetched up to `options.concurrency` at
    /// a time (0 counts as 1) and delivered strictly in order. No page beyond
    /// what `totalItems` allows is requested. A page is the last when
    /// `page * limit + len >= totalItems`, or when it is empty. A page before
    /// the last that comes back empty ends the stream with
    /// [`PagingError::EmptyPageWithMore`], one that is not full with
    /// [`PagingError::ShortPage`]; a page that reports another `totalItems`
    /// than the first (the conversation changed while it was read) ends it
    /// with [`PagingError::TotalChanged`], and one holding messages past the
    /// total with [`PagingError::BeyondTotal`]. A page whose
    /// `pagination.page` is not the page asked for (the vendor ignored
    /// `page`) ends it with [`PagingError::RepeatedCursor`]. A page whose request fails for good ends
    /// it with [`PagingError::Request`]. Every error names its page and comes
    /// after all earlier pages. When the first page reports no total, pages
    /// are read one at a time until a short or empty one.
    ///
    /// A page size of 0 or above [`MAX_PAGE_SIZE`] is refused with
    /// [`PagingError::InvalidQuery`] before anything is sent.
    pub fn pages(&self, query: MessagesQuery, options: PagingOptions) -> impl Stream<Item = Result<MessagePage, StreamError>> + Send + 'static {
        let size = options.page_size.unwrap_or(MAX_PAGE_SIZE);
        let mut pending = None;
        if size == 0 || size > MAX_PAGE_SIZE {
            pending = Some(PagingError::InvalidQuery {
                name: "page size",
                reason: format!("{size} is outside Infobip's 1..={MAX_PAGE_SIZE}"),
            });
        }
        let start = match &options.resume {
            None => 0,
            Some(Position::Page(n)) if i64::try_from(*n).is_ok() => *n,
            Some(Position::Page(n)) => {
                pending.get_or_insert(PagingError::InvalidQuery { name: "resume", reason: format!("page {n} is beyond Infobip's page numbers") });
                0
            }
            Some(Position::Cursor(cursor)) => {
                pending.get_or_insert(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!("Infobip resumes from a page number, not from cursor `{cursor}`"),
                });
                0
            }
        };
        if let Err(e) = convo_runtime::PathSegment::new(query.conversation_id.as_str()) {
            pending.get_or_insert(PagingError::InvalidQuery { name: "conversation id", reason: e.to_string() });
        }
        let shared = Arc::new(Shared { client: self.clone(), query, retry: options.retry, limit: size });
        let state = State {
            shared,
            concurrency: options.concurrency.max(1),
            in_flight: FuturesOrdered::new(),
            next_request: start,
            allowed_through: start,
            total: Total::NotYet,
            pending,
            done: false,
        };
        futures::stream::unfold(state, |mut state| async move {
            if let Some(error) = state.pending.take() {
                state.done = true;
                return Some((Err(error), state));
            }
            if state.done {
                return None;
            }
            state.fill();
            let (n, fetched) = state.in_flight.next().await?;
            let list = match fetched {
                Ok(list) => list,
                Err(exhausted) => {
                    state.done = true;
                    return Some((Err(PagingError::request(Some(Position::Page(n)), exhausted)), state));
                }
            };
            match state.check(n, &list) {
                Err(error) => {
                    state.done = true;
                    Some((Err(error), state))
                }
                Ok(last) => {
                    if last {
                        state.done = true;
                        state.in_flight = FuturesOrdered::new();
                    }
                    let next = (!last).then_some(Position::Page(n + 1));
                    Some((Ok(Page { items: list.messages, position: Some(Position::Page(n)), next }), state))
                }
            }
        })
        // Fused: polling again after the end (or after an error) gives `None`.
        .fuse()
    }

    /// Every message of the conversation, in Infobip's order:
    /// [`Client::pages`], flattened.
    pub fn messages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<Captured<types::Message>, StreamError>> + Send + 'static {
        convo_runtime::paging::items(self.pages(query, options))
    }
}
