//! Every page of a conversation, as one stream: LeadConnector's
//! `lastMessageId` cursor, as an endpoint of the runtime's cursor paging
//! (which holds the loop, the retries and every check).

use chrono::{DateTime, Utc};
use futures::{FutureExt, Stream};

use convo_runtime::paging::cursor::{CursorEndpoint, CursorReply};
use convo_runtime::paging::{self, Fetch, Record};
use convo_runtime::{Captured, PagingOptions};

use crate::{Client, types};

/// The largest page this client asks for, and the size used when none is
/// chosen.
///
/// The vendor page documents only the default of 20 and no maximum.
/// HighLevel is commonly reported to cap `limit` at 100, so this client asks
/// for at most 100 messages a page: a larger `limit` would at best be
/// capped silently and at worst be refused.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which conversation to read, with LeadConnector's own filter.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesQuery {
    /// The conversation to read (LeadConnector's `conversationId`).
    pub conversation_id: String,
    /// Only these types (empty: every type). They go out on every page as
    /// LeadConnector's one comma-separated `type` value (`TYPE_SMS,TYPE_CALL`).
    pub types: Vec<crate::TypeFilter>,
}

impl MessagesQuery {
    /// Every message of `conversation_id`, of every type.
    pub fn new(conversation_id: impl Into<String>) -> Self {
        Self { conversation_id: conversation_id.into(), types: Vec::new() }
    }
}

convo_runtime::paged_endpoint!("LeadConnector", Client, MessagesQuery, types::Message, types::Error);

impl Record for types::Message {
    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
    /// `None` when `dateAdded` is missing.
    fn time(&self) -> Option<DateTime<Utc>> {
        self.date_added.as_ref().map(convo_runtime::Timestamp::utc)
    }
}

impl CursorEndpoint for Endpoint {
    /// The page documents `lastMessageId` as the "Id of the last message in
    /// the messages array".
    const CURSOR_IS_LAST_ID: bool = true;

    fn fetch(&self, cursor: Option<&str>, limit: u64) -> Fetch<CursorReply<Self::Item>, Self::Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (client, query, cursor) = (self.client.clone(), self.query.clone(), cursor.map(str::to_owned));
        async move {
            let mut request = client.get_messages().conversation_id(query.conversation_id).limit(limit);
            if let Some(cursor) = cursor {
                request = request.last_message_id(cursor);
            }
            if !query.types.is_empty() {
                let types: Vec<&str> = query.types.iter().map(crate::TypeFilter::as_str).collect();
                request = request.type_(types.join(","));
            }
            let response = request.send().await?.into_inner();
            // No list of messages proves nothing, unless the page says it is
            // the last: a body with neither is not a page.
            if response.page().is_none_or(|page| page.messages.is_none()) && response.next_page() != Some(false) {
                return Err(convo_runtime::paging::not_a_page("a `messages` list or `nextPage: false`", &response));
            }
            let page = response.into_page();
            let items = page.messages.unwrap_or_default();
            let (next, unfollowable) = match next_cursor(page.next_page, page.last_message_id, &items) {
                Next::Last => (None, false),
                Next::Cursor(cursor) => (Some(cursor), false),
                Next::Unfollowable => (None, true),
            };
            Ok(CursorReply { items, next, total: None, unfollowable })
        }
        .boxed()
    }
}

/// What a page says of the next one.
#[derive(Debug, PartialEq)]
enum Next {
    /// This is the last page.
    Last,
    /// The next page is at this cursor.
    Cursor(String),
    /// More follow, but the page gives no cursor to get them.
    Unfollowable,
}

/// Where the next page is, read conservatively from what the page has.
///
/// - `nextPage: false` ends the stream.
/// - `nextPage: true` is followed: to `lastMessageId`, or, where that is
///   missing, to the id of the page's last message (which the page documents
///   it to be). With neither, the page is delivered and the stream ends with
///   [`PagingError::NoCursor`] instead of pretending to be complete.
/// - `nextPage` missing or `null` says nothing: an empty page is the end; a
///   page with messages is taken to have more after it (a wrong guess costs
///   one request that comes back empty; the other guess could silently
///   drop the rest of the conversation).
fn next_cursor(next_page: Option<bool>, last_message_id: Option<String>, items: &[Captured<types::Message>]) -> Next {
    let more = match next_page {
        Some(more) => more,
        None => !items.is_empty(),
    };
    if !more {
        return Next::Last;
    }
    match last_message_id.or_else(|| items.last().and_then(Record::id).map(str::to_owned)) {
        Some(cursor) => Next::Cursor(cursor),
        None => Next::Unfollowable,
    }
}

impl Client {
    /// Every page of the conversation, in LeadConnector's order (newest
    /// first), each fetched with retries and the configured `Version`
    /// header, through the runtime's cursor paging (see
    /// [`convo_runtime::paging::cursor`] for every check).
    ///
    /// Pages follow `lastMessageId` while `nextPage` is true, in either the
    /// documented flat body or the live API's nested one (a missing
    /// `nextPage` or `lastMessageId` is read conservatively: see
    /// `next_cursor`). A `lastMessageId`
    /// that is not the id of its page's last message, a cursor LeadConnector
    /// already gave, a page of nothing but repeats (or of messages delivered
    /// further back), or an empty page that claims a next one end the
    /// stream with a typed error after the messages before it. A page size
    /// outside `1..=`[`MAX_PAGE_SIZE`] or an empty, `.` or `..` id is
    /// refused before any request is made.
    pub fn pages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<MessagePage, Error>> + Send + Unpin + 'static {
        let start = (|| {
            let limit = paging::page_size(&options, MAX_PAGE_SIZE, "LeadConnector (its reported cap)")?;
            paging::path_id("conversation id", &query.conversation_id)?;
            Ok((Endpoint { client: self.clone(), query }, limit))
        })();
        paging::cursor::pages(start, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str) -> Vec<Captured<types::Message>> {
        serde_json::from_str(json).unwrap()
    }

    const TWO: &str = r#"[{"id":"a"},{"id":"b"}]"#;

    #[test]
    fn next_page_false_ends_and_true_follows_the_cursor_or_the_last_id() {
        assert_eq!(next_cursor(Some(false), Some("b".into()), &page(TWO)), Next::Last);
        assert_eq!(next_cursor(Some(true), Some("b".into()), &page(TWO)), Next::Cursor("b".into()));
        assert_eq!(next_cursor(Some(true), None, &page(TWO)), Next::Cursor("b".into()));
    }

    #[test]
    fn a_missing_next_page_follows_a_page_with_messages_and_ends_an_empty_one() {
        assert_eq!(next_cursor(None, None, &page(TWO)), Next::Cursor("b".into()));
        assert_eq!(next_cursor(None, Some("b".into()), &page("[]")), Next::Last);
    }

    #[test]
    fn more_without_any_cursor_is_unfollowable() {
        // The last message could not be decoded, and no `lastMessageId`.
        assert_eq!(next_cursor(Some(true), None, &page(r#"[{"id":"a"},7]"#)), Next::Unfollowable);
        assert_eq!(next_cursor(None, None, &page(r#"[{"id":"a"},{"type":1}]"#)), Next::Unfollowable);
        assert_eq!(next_cursor(Some(true), None, &page("[]")), Next::Unfollowable);
    }
}
