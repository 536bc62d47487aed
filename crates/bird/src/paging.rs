//! Every page of a conversation, as one stream: Bird's opaque `pageToken`,
//! as an endpoint of the runtime's cursor paging (which holds the loop, the
//! retries and every check).

use std::num::NonZeroU64;

use chrono::{DateTime, Utc};
use futures::{FutureExt, Stream};

use convo_runtime::paging::cursor::{CursorEndpoint, CursorReply};
use convo_runtime::paging::{self, Fetch, Listing};
use convo_runtime::{Captured, Page, PagingError, PagingOptions, Timestamp};

use crate::{Client, types};

/// Bird's largest page: "a maximum of 100 messages per page".
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which conversation to read, with Bird's own filters.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesQuery {
    pub workspace_id: String,
    pub conversation_id: String,
    /// Oldest first instead of Bird's default order.
    pub reverse: Option<bool>,
    /// Only messages created after this time (server-side).
    pub date_from: Option<Timestamp>,
}

impl MessagesQuery {
    pub fn new(workspace_id: impl Into<String>, conversation_id: impl Into<String>) -> Self {
        Self { workspace_id: workspace_id.into(), conversation_id: conversation_id.into(), reverse: None, date_from: None }
    }
}

/// A page of Bird messages.
pub type MessagePage = Page<Captured<types::Message>>;
/// Why a Bird stream ended early.
pub type StreamError = PagingError<types::Error>;

/// The endpoint the runtime's cursor paging drives.
struct Endpoint {
    client: Client,
    query: MessagesQuery,
}

impl Listing for Endpoint {
    type Item = Captured<types::Message>;
    type Error = types::Error;
    /// `None` for a message that could not be decoded.
    fn id(item: &Self::Item) -> Option<&str> {
        item.value().map(|m| m.id.as_str())
    }
    /// `None` when `createdAt` is missing, or the message could not be decoded.
    fn time(item: &Self::Item) -> Option<DateTime<Utc>> {
        item.value().and_then(|m| m.created_at.as_ref()).map(Timestamp::utc)
    }
}

impl CursorEndpoint for Endpoint {
    fn fetch(&self, cursor: Option<&str>, limit: u64) -> Fetch<CursorReply<Self::Item>, Self::Error> {
        let limit = NonZeroU64::new(limit).unwrap_or(NonZeroU64::MIN);
        let (client, query, cursor) = (self.client.clone(), self.query.clone(), cursor.map(str::to_owned));
        async move {
            let mut request = client
                .list_conversation_messages()
                .workspace_id(query.workspace_id)
                .conversation_id(query.conversation_id)
                .limit(limit);
            if let Some(token) = cursor {
                request = request.page_token(token);
            }
            if let Some(reverse) = query.reverse {
                request = request.reverse(reverse);
            }
            if let Some(date_from) = query.date_from {
                request = request.date_from(date_from);
            }
            let page = request.send().await?.into_inner();
            Ok(CursorReply {
                // A page without `results` (or with `null`) holds none.
                items: page.results.unwrap_or_default(),
                // A missing or empty token marks the last page.
                next: page.next_page_token.filter(|token| !token.is_empty()),
                total: page.total.and_then(|total| u64::try_from(total).ok()),
                unfollowable: false,
            })
        }
        .boxed()
    }
}

impl Client {
    /// Every page of the conversation, in Bird's order (newest first unless
    /// `reverse`), each fetched with retries, through the runtime's cursor
    /// paging (see [`convo_runtime::paging::cursor`] for every check).
    /// Pages follow `nextPageToken` until it is missing or empty; a token
    /// that starts early has its repeats dropped; a token Bird already gave,
    /// a page of nothing but repeats,
    /// an empty page with a token, or more messages than Bird's `total` end
    /// the stream with a typed error after the messages before it. A page
    /// size outside `1..=`[`MAX_PAGE_SIZE`] or an empty, `.` or `..` id is
    /// refused before anything is sent.
    pub fn pages(&self, query: MessagesQuery, options: PagingOptions) -> impl Stream<Item = Result<MessagePage, StreamError>> + Send + 'static {
        let start = (|| {
            let limit = paging::page_size(&options, MAX_PAGE_SIZE, "Bird")?;
            paging::path_id("workspace id", &query.workspace_id)?;
            paging::path_id("conversation id", &query.conversation_id)?;
            Ok((Endpoint { client: self.clone(), query }, limit))
        })();
        paging::cursor::pages(start, options)
    }

    /// Every message of the conversation, in Bird's order: [`Client::pages`],
    /// flattened.
    pub fn messages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<Captured<types::Message>, StreamError>> + Send + 'static {
        paging::items(self.pages(query, options))
    }
}
