//! Every page of a conversation, as one stream: Infobip's listing paged on
//! the creation time, as an endpoint of the runtime's key paging (which
//! holds the loop, the retries and every check).

use chrono::{DateTime, Utc};
use futures::{FutureExt, Stream};

use convo_runtime::paging::keyset::{KeysetEndpoint, KeysetReply};
use convo_runtime::paging::{self, Fetch, Record};
use convo_runtime::{PagingError, PagingOptions};

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
    /// The order, as `field:asc` or `field:desc`; Infobip's default is
    /// `id:asc`. The paging stream reads in `createdAt:asc` only, and refuses
    /// any other; the generated request builder takes any.
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

/// The order the stream asks for: the key it pages on.
pub const ORDER_BY: &str = "createdAt:asc";

convo_runtime::paged_endpoint!("Infobip", Client, MessagesQuery, types::Message, types::Error);

impl Record for types::Message {
    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
    /// `None` when `createdAt` is missing.
    fn time(&self) -> Option<DateTime<Utc>> {
        self.created_at.map(Into::into)
    }
}

impl KeysetEndpoint for Endpoint {
    fn fetch(
        &self,
        after: Option<DateTime<Utc>>,
        before: Option<DateTime<Utc>>,
        page: u64,
        limit: u64,
    ) -> Fetch<KeysetReply<Self::Item>, Self::Error> {
        let (client, query) = (self.client.clone(), self.query.clone());
        async move {
            let mut request = client
                .get_messages()
                .conversation_id(query.conversation_id)
                .limit(limit)
                .page(page)
                .order_by(ORDER_BY.to_owned());
            if !query.message_ids.is_empty() {
                request = request.message_ids(query.message_ids);
            }
            if let Some(channel) = query.channel {
                request = request.channel(channel);
            }
            if let Some(direction) = query.direction {
                request = request.direction(direction);
            }
            if let Some(after) = after {
                request = request.created_after(Timestamp::from(after));
            }
            // The stream's bound: the query's own, or a window's end within it.
            if let Some(before) = before {
                request = request.created_before(Timestamp::from(before));
            }
            let list = request.send().await?.into_inner();
            let pagination = list.pagination.as_ref();
            let total = pagination.and_then(|p| p.total_items).and_then(|t| u64::try_from(t).ok());
            // A page without `messages` (or with `null`) holds none only
            // where its count says how many match (the read checks that
            // count); with neither, the body is not a page.
            if list.messages.is_none() && total.is_none() {
                return Err(convo_runtime::paging::not_a_page("a `messages` list or `pagination.totalItems`", &list));
            }
            Ok(KeysetReply { total, page: pagination.and_then(|p| p.page), items: list.messages.unwrap_or_default() })
        }
        .boxed()
    }
}

impl Client {
    /// Every page of the conversation, oldest first, each fetched with
    /// retries, through the runtime's key paging (see
    /// [`convo_runtime::paging::keyset`] for every check).
    ///
    /// Infobip's page numbers count from the head of a listing that changes
    /// while it is read (and its default order, `id:asc`, puts a new message
    /// anywhere), so page numbers alone would skip or repeat messages. The
    /// stream pages on the creation time instead: it asks for
    /// `orderBy=createdAt:asc` with `createdAfter` just before the newest
    /// message delivered, so messages added or deleted during the read
    /// cannot shift what comes next. With [`PagingOptions::concurrency`]
    /// above 1 the rest after the first page is read in time windows at once
    /// (`createdBefore` bounds each), delivered in order.
    ///
    /// A query's `created_after` is where the stream starts; an `order_by`
    /// other than `createdAt:asc` is refused with [`PagingError::InvalidQuery`]
    /// (use the generated request builder for other orders), and so is a
    /// page size of 0 or above [`MAX_PAGE_SIZE`], before anything is sent.
    /// [`PagingOptions::resume`] takes a `next` position of an earlier run.
    pub fn pages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<MessagePage, Error>> + Send + Unpin + 'static {
        let start = (|| {
            let limit = paging::page_size(&options, MAX_PAGE_SIZE, "Infobip")?;
            paging::path_id("conversation id", &query.conversation_id)?;
            if let Some(order) = query.order_by.as_deref().filter(|order| !order.eq_ignore_ascii_case(ORDER_BY)) {
                return Err(PagingError::InvalidQuery {
                    name: "order_by",
                    reason: format!(
                        "a whole read pages on the creation time, `{ORDER_BY}`; `{order}` cannot be read exactly once"
                    ),
                });
            }
            let after = query.created_after.map(DateTime::<Utc>::from);
            let before = query.created_before.map(DateTime::<Utc>::from);
            Ok((Endpoint { client: self.clone(), query }, limit, after, before))
        })();
        paging::keyset::pages(start, options)
    }
}
