//! Every page of a conversation, as one stream: Bird's opaque `pageToken`
//! paging, with retries and the safety checks that turn a misbehaving
//! vendor into a typed error instead of a loop.

use std::collections::HashSet;
use std::num::NonZeroU64;

use futures::{Stream, StreamExt};

use convo_runtime::retry::retry;
use convo_runtime::{Captured, Page, PagingError, PagingOptions, Position, Timestamp};

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

struct State {
    client: Client,
    query: MessagesQuery,
    options: PagingOptions,
    limit: NonZeroU64,
    token: Option<String>,
    seen: HashSet<String>,
    pending: Option<StreamError>,
    done: bool,
}

impl Client {
    /// Every page of the conversation, in Bird's order, each fetched with
    /// retries. Pages follow `nextPageToken` until it is missing or empty. A
    /// token Bird already gave, or an empty page that claims a next one, ends
    /// the stream with an error after the messages before it.
    pub fn pages(&self, query: MessagesQuery, options: PagingOptions) -> impl Stream<Item = Result<MessagePage, StreamError>> + Send + 'static {
        let size = options.page_size.unwrap_or(MAX_PAGE_SIZE);
        let (limit, mut pending) = match NonZeroU64::new(size).filter(|n| n.get() <= MAX_PAGE_SIZE) {
            Some(limit) => (limit, None),
            None => (
                NonZeroU64::MIN,
                Some(PagingError::InvalidQuery { name: "page size", reason: format!("{size} is outside Bird's 1..={MAX_PAGE_SIZE}") }),
            ),
        };
        for (name, id) in [("workspace id", &query.workspace_id), ("conversation id", &query.conversation_id)] {
            if let Err(e) = convo_runtime::PathSegment::new(id.as_str()) {
                pending.get_or_insert(PagingError::InvalidQuery { name, reason: e.to_string() });
            }
        }
        let token = match &options.resume {
            Some(Position::Cursor(token)) => Some(token.clone()),
            _ => None,
        };
        let state = State { client: self.clone(), query, options, limit, token, seen: HashSet::new(), done: pending.is_some(), pending };
        futures::stream::unfold(state, |mut state| async move {
            if let Some(error) = state.pending.take() {
                state.done = true;
                return Some((Err(error), state));
            }
            if state.done {
                return None;
            }
            let position = state.token.clone().map(Position::Cursor);
            let fetched = retry(&state.options.retry, || {
                let mut request = state
                    .client
                    .list_conversation_messages()
                    .workspace_id(state.query.workspace_id.clone())
                    .conversation_id(state.query.conversation_id.clone())
                    .limit(state.limit);
                if let Some(token) = &state.token {
                    request = request.page_token(token.clone());
                }
                if let Some(reverse) = state.query.reverse {
                    request = request.reverse(reverse);
                }
                if let Some(date_from) = state.query.date_from {
                    request = request.date_from(date_from);
                }
                request.send()
            })
            .await;
            let page = match fetched {
                Ok(response) => response.into_inner(),
                Err(exhausted) => {
                    state.done = true;
                    return Some((Err(PagingError::request(position, exhausted)), state));
                }
            };
            let next = page.next_page_token.filter(|token| !token.is_empty());
            match &next {
                None => state.done = true,
                Some(_) if page.results.is_empty() => {
                    state.done = true;
                    return Some((Err(PagingError::EmptyPageWithMore { page: convo_runtime::paging::PagePosition(position) }), state));
                }
                Some(token) => {
                    if let Some(current) = &state.token {
                        state.seen.insert(current.clone());
                    }
                    if !state.seen.insert(token.clone()) {
                        // The page itself is new; following its token would
                        // fetch a page already delivered.
                        state.pending = Some(PagingError::RepeatedCursor {
                            page: convo_runtime::paging::PagePosition(position.clone()),
                            cursor: token.clone(),
                        });
                    }
                    state.token = Some(token.clone());
                }
            }
            let next = if state.done || state.pending.is_some() { None } else { next.map(Position::Cursor) };
            Some((Ok(Page { items: page.results, position, next }), state))
        })
        // Fused: polling again after the end (or after an error) gives `None`.
        .fuse()
    }

    /// Every message of the conversation, in Bird's order: [`Client::pages`],
    /// flattened.
    pub fn messages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<Captured<types::Message>, StreamError>> + Send + 'static {
        convo_runtime::paging::items(self.pages(query, options))
    }
}
