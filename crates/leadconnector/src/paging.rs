//! Every page of a conversation, as one stream: LeadConnector's
//! `lastMessageId` cursor paging, with retries and the safety checks that
//! turn a misbehaving vendor into a typed error instead of a loop.

use std::collections::HashSet;
use std::num::NonZeroU64;

use futures::{Stream, StreamExt};

use convo_runtime::paging::PagePosition;
use convo_runtime::retry::retry;
use convo_runtime::{Captured, Page, PagingError, PagingOptions, Position};

use crate::{LeadConnector, types};

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
    pub conversation_id: String,
    /// Only these types, as LeadConnector's comma-separated `type` filter
    /// (`TYPE_SMS,TYPE_CALL`); sent as one value on every page. Note that the
    /// filter spells internal comments `TYPE_INTERNAL_COMMENTS`.
    pub types: Option<String>,
}

impl MessagesQuery {
    /// Every message of `conversation_id`, of every type.
    pub fn new(conversation_id: impl Into<String>) -> Self {
        Self { conversation_id: conversation_id.into(), types: None }
    }
}

/// A page of LeadConnector messages.
pub type MessagePage = Page<Captured<types::Message>>;
/// Why a LeadConnector stream ended early.
pub type StreamError = PagingError<types::Error>;

struct State {
    client: LeadConnector,
    query: MessagesQuery,
    options: PagingOptions,
    limit: NonZeroU64,
    cursor: Option<String>,
    seen: HashSet<String>,
    pending: Option<StreamError>,
    done: bool,
}

impl LeadConnector {
    /// Every page of the conversation, in LeadConnector's order (newest
    /// first), each fetched with retries and the configured `Version` header.
    ///
    /// Pages follow `lastMessageId` while `nextPage` is true, in either the
    /// documented flat body or the live API's nested one. A cursor
    /// LeadConnector already gave (an empty one counts as the start of the
    /// conversation), or an empty page that claims a next one, ends the
    /// stream with an error after the messages before it. A page size
    /// outside `1..=`[`MAX_PAGE_SIZE`] ends it with
    /// [`PagingError::InvalidQuery`] before any request is made.
    pub fn pages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<MessagePage, StreamError>> + Send + 'static {
        let size = options.page_size.unwrap_or(MAX_PAGE_SIZE);
        let (limit, mut pending) = match NonZeroU64::new(size).filter(|n| n.get() <= MAX_PAGE_SIZE) {
            Some(limit) => (limit, None),
            None => (
                NonZeroU64::MIN,
                Some(PagingError::InvalidQuery {
                    name: "page size",
                    reason: format!("{size} is outside 1..={MAX_PAGE_SIZE} (LeadConnector's reported cap)"),
                }),
            ),
        };
        if let Err(e) = convo_runtime::PathSegment::new(query.conversation_id.as_str()) {
            pending.get_or_insert(PagingError::InvalidQuery { name: "conversation id", reason: e.to_string() });
        }
        let cursor = match &options.resume {
            Some(Position::Cursor(cursor)) => Some(cursor.clone()),
            _ => None,
        };
        // An empty `lastMessageId` would start over from the newest message.
        let seen = HashSet::from([String::new()]);
        let state = State { client: self.clone(), query, options, limit, cursor, seen, done: pending.is_some(), pending };
        futures::stream::unfold(state, |mut state| async move {
            if let Some(error) = state.pending.take() {
                state.done = true;
                return Some((Err(error), state));
            }
            if state.done {
                return None;
            }
            let position = state.cursor.clone().map(Position::Cursor);
            let limit = i64::try_from(state.limit.get()).unwrap_or(i64::MAX);
            let fetched = retry(&state.options.retry, || {
                let mut request = state.client.get_messages().conversation_id(state.query.conversation_id.clone()).limit(limit);
                if let Some(cursor) = &state.cursor {
                    request = request.last_message_id(cursor.clone());
                }
                if let Some(types) = &state.query.types {
                    request = request.type_(types.clone());
                }
                request.send()
            })
            .await;
            let page = match fetched {
                Ok(response) => response.into_inner().into_page(),
                Err(exhausted) => {
                    state.done = true;
                    return Some((Err(PagingError::request(position, exhausted)), state));
                }
            };
            if !page.next_page {
                state.done = true;
            } else if page.messages.is_empty() {
                state.done = true;
                return Some((Err(PagingError::EmptyPageWithMore { page: PagePosition(position) }), state));
            } else {
                if let Some(current) = &state.cursor {
                    state.seen.insert(current.clone());
                }
                if !state.seen.insert(page.last_message_id.clone()) {
                    // The page itself is new; following its cursor would
                    // fetch a page already delivered.
                    state.pending = Some(PagingError::RepeatedCursor {
                        page: PagePosition(position.clone()),
                        cursor: page.last_message_id.clone(),
                    });
                }
                state.cursor = Some(page.last_message_id.clone());
            }
            let next = match &state.cursor {
                Some(cursor) if !state.done && state.pending.is_none() => Some(Position::Cursor(cursor.clone())),
                _ => None,
            };
            Some((Ok(Page { items: page.messages, position, next }), state))
        })
        // Fused: polling again after the end (or after an error) gives `None`.
        .fuse()
    }

    /// Every message of the conversation, in LeadConnector's order (newest
    /// first): [`LeadConnector::pages`], flattened.
    pub fn messages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<Captured<types::Message>, StreamError>> + Send + 'static {
        convo_runtime::paging::items(self.pages(query, options))
    }
}
