//! Every page of a conversation, as one stream: Bird's opaque `pageToken`,
//! as an endpoint of the runtime's cursor paging (which holds the loop, the
//! retries and every check).

use std::num::NonZeroU64;

use chrono::{DateTime, Utc};
use futures::{FutureExt, Stream};

use convo_runtime::paging::cursor::{CursorEndpoint, CursorReply};
use convo_runtime::paging::{self, Fetch, Record};
use convo_runtime::{PagingOptions, Timestamp};

use crate::{Client, types};

/// Bird's largest page: "a maximum of 100 messages per page".
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which conversation to read, with Bird's own filters.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesQuery {
    /// The workspace the conversation belongs to (Bird's `workspaceId`).
    pub workspace_id: String,
    /// The conversation to read (Bird's `conversationId`).
    pub conversation_id: String,
    /// Bird's `reverse`: the reverse of its default order (a parameter of
    /// Bird's published spec; the page says neither order).
    pub reverse: Option<bool>,
    /// Only messages created after this time (server-side).
    pub date_from: Option<Timestamp>,
}

impl MessagesQuery {
    /// Every message of `conversation_id` in `workspace_id`, in Bird's
    /// default order.
    pub fn new(workspace_id: impl Into<String>, conversation_id: impl Into<String>) -> Self {
        Self {
            workspace_id: workspace_id.into(),
            conversation_id: conversation_id.into(),
            reverse: None,
            date_from: None,
        }
    }
}

convo_runtime::paged_endpoint!("Bird", Client, MessagesQuery, types::Message, types::Error);

impl Record for types::Message {
    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
    /// `None` when `createdAt` is missing.
    fn time(&self) -> Option<DateTime<Utc>> {
        self.created_at.as_ref().map(Timestamp::utc)
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
            // A page without `results` (or with `null`, as a Go server
            // writes an empty list) holds none only where its `total` says
            // how many there are (the read checks it); with neither, the
            // body is not a page.
            if page.results.is_none() && page.total.is_none() {
                return Err(convo_runtime::paging::not_a_page("a `results` list or a `total`", &page));
            }
            Ok(CursorReply {
                items: page.results.unwrap_or_default(),
                // A missing or empty token marks the last page.
                next: page.next_page_token.filter(|token| !token.is_empty()),
                // A count the checks can hold the read to only where Bird
                // does not say it is something else (`totalType` empty, as
                // on the page, or `exact`): an estimate proves nothing.
                total: page
                    .total
                    .filter(|_| {
                        page.total_type.as_deref().is_none_or(|t| t.is_empty() || t.eq_ignore_ascii_case("exact"))
                    })
                    .and_then(|total| u64::try_from(total).ok()),
                unfollowable: false,
            })
        }
        .boxed()
    }
}

impl Client {
    /// Every page of the conversation, in Bird's order (reversed with
    /// `reverse`), each fetched with retries, through the runtime's cursor
    /// paging (every check is listed in the crate docs).
    /// Pages follow `nextPageToken` until it is missing or empty; a token
    /// that starts early has its repeats dropped; a token Bird already gave,
    /// a page of nothing but repeats (or of messages delivered further
    /// back), an empty page with a token, more messages than Bird's `total`,
    /// or a `total` that goes down during the read end the stream with a
    /// typed error after the messages before it. A page
    /// size outside `1..=`[`MAX_PAGE_SIZE`] or an empty, `.` or `..` id is
    /// refused before anything is sent.
    pub fn pages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<MessagePage, Error>> + Send + Unpin + 'static {
        let start = (|| {
            let limit = paging::page_size(&options, MAX_PAGE_SIZE, "Bird")?;
            paging::path_id("workspace id", &query.workspace_id)?;
            paging::path_id("conversation id", &query.conversation_id)?;
            Ok((Endpoint { client: self.clone(), query }, limit))
        })();
        paging::cursor::pages(start, options)
    }
}
