//! Every page of a conversation, as one stream: Octopush's 1-based `page`
//! and `per_page` paging over a bare array, with retries and the safety
//! check that turns an API ignoring `page` into a typed error instead of a
//! loop.

use std::collections::HashSet;

use futures::{Stream, StreamExt};

use convo_runtime::paging::PagePosition;
use convo_runtime::retry::retry;
use convo_runtime::{Captured, Page as ItemsPage, PagingError, PagingOptions, Position};

use crate::{Client, ConversationId, FacebookId, Page, PerPage, types};

/// The page size used when [`PagingOptions::page_size`] is `None`: the
/// documented default of `per_page`, 50.
///
/// Octopush documents no maximum, so this is not a cap: a caller may ask for
/// any size from 1. A larger size is at the caller's risk: the last page is
/// recognised only by being shorter than `per_page`, so an API that silently
/// served fewer items than asked would end the stream after its first page.
/// 50 is the one size the page says the API serves.
pub const MAX_PAGE_SIZE: u64 = 50;

/// Which conversation (or conversations) to read. At least one selector must
/// be set; several may be combined, as the API allows. The prefixed ids are
/// the checked [`ConversationId`] and [`FacebookId`], so a malformed one
/// cannot be built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagesQuery {
    /// One conversation, `cid_{uuid}`.
    pub conversation_id: Option<ConversationId>,
    /// Every sms, rcs and multi_channel conversation of this phone number.
    pub phone_number: Option<String>,
    /// The conversations of the phone number of the contact with this e-mail.
    pub email: Option<String>,
    /// Only the Facebook conversations of this id, `fid_{facebook_id}`.
    pub facebook_id: Option<FacebookId>,
    /// A combination of phone number, e-mail, Facebook id and conversation
    /// id, as the API's `contact` parameter takes it.
    pub contact: Option<String>,
}

impl MessagesQuery {
    /// The messages of one conversation.
    pub fn by_conversation_id(id: ConversationId) -> Self {
        Self { conversation_id: Some(id), ..Self::default() }
    }

    /// The messages of every conversation of a phone number.
    pub fn by_phone_number(phone_number: impl Into<String>) -> Self {
        Self { phone_number: Some(phone_number.into()), ..Self::default() }
    }

    /// The messages of the contact with this e-mail address.
    pub fn by_email(email: impl Into<String>) -> Self {
        Self { email: Some(email.into()), ..Self::default() }
    }

    /// The messages of the Facebook conversations of an id.
    pub fn by_facebook_id(id: FacebookId) -> Self {
        Self { facebook_id: Some(id), ..Self::default() }
    }

    /// The messages found by the API's `contact` parameter.
    pub fn by_contact(contact: impl Into<String>) -> Self {
        Self { contact: Some(contact.into()), ..Self::default() }
    }

    /// Refuses a query the API would answer with the wrong data: one with no
    /// selector (the API would ignore the missing filter) or with an empty
    /// text selector (the API would ignore it too).
    fn check(&self) -> Result<(), PagingError<types::Error>> {
        let texts = [("phone_number", &self.phone_number), ("email", &self.email), ("contact", &self.contact)];
        for (name, value) in texts {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(PagingError::InvalidQuery { name, reason: "the value is empty".to_owned() });
            }
        }
        let any = self.conversation_id.is_some() || self.facebook_id.is_some() || texts.iter().any(|(_, v)| v.is_some());
        if any {
            Ok(())
        } else {
            Err(PagingError::InvalidQuery {
                name: "selector",
                reason: "set at least one of conversation_id, phone_number, email, facebook_id, contact".to_owned(),
            })
        }
    }
}

/// A page of Octopush messages.
pub type MessagePage = ItemsPage<Captured<types::Message>>;
/// Why an Octopush stream ended early.
pub type StreamError = PagingError<types::Error>;

struct State {
    client: Client,
    query: MessagesQuery,
    options: PagingOptions,
    per_page: PerPage,
    /// The next page to fetch.
    page: Page,
    /// The first and last `message_id` of every full page delivered.
    seen: HashSet<(String, String)>,
    pending: Option<StreamError>,
    done: bool,
}

/// The checked page size and first page, or why the options are refused.
fn start(query: &MessagesQuery, options: &PagingOptions) -> Result<(PerPage, Page), StreamError> {
    query.check()?;
    let size = options.page_size.unwrap_or(MAX_PAGE_SIZE);
    let per_page = PerPage::new(size)
        .map_err(|e| PagingError::InvalidQuery { name: "page size", reason: e.problem.to_string() })?;
    let first = match &options.resume {
        None => Page::default(),
        Some(Position::Page(n)) => {
            Page::new(*n).map_err(|e| PagingError::InvalidQuery { name: "resume", reason: e.problem.to_string() })?
        }
        Some(Position::Cursor(cursor)) => {
            return Err(PagingError::InvalidQuery {
                name: "resume",
                reason: format!("Octopush resumes from a page number, not from cursor `{cursor}`"),
            });
        }
    };
    Ok((per_page, first))
}

impl Client {
    /// Every page of the query's messages, in Octopush's order, each fetched
    /// with retries, from page 1 (or [`PagingOptions::resume`], a
    /// [`Position::Page`]) onwards. Pages are read one at a time: the API
    /// gives no total, so the only end is a page shorter than `per_page` (or
    /// empty). A resumed stream must use the page size of the run it resumes.
    ///
    /// The API ignores parameters it cannot read instead of refusing them, so
    /// a full page whose first and last `message_id` are those of a page
    /// already delivered ends the stream with [`PagingError::RepeatedCursor`]
    /// (the cursor is the page number) instead of looping. An invalid query,
    /// page size or resume position is [`PagingError::InvalidQuery`], before
    /// any request.
    pub fn pages(&self, query: MessagesQuery, options: PagingOptions) -> impl Stream<Item = Result<MessagePage, StreamError>> + Send + 'static {
        let (per_page, page, pending) = match start(&query, &options) {
            Ok((per_page, first)) => (per_page, first, None),
            Err(error) => (PerPage::default(), Page::default(), Some(error)),
        };
        let state = State { client: self.clone(), query, options, per_page, page, seen: HashSet::new(), done: false, pending };
        futures::stream::unfold(state, |mut state| async move {
            if let Some(error) = state.pending.take() {
                state.done = true;
                return Some((Err(error), state));
            }
            if state.done {
                return None;
            }
            let page = state.page;
            let position = Some(Position::Page(page.get()));
            let fetched = retry(&state.options.retry, || {
                let query = &state.query;
                let mut request = state.client.list_conversation_messages().page(page).per_page(state.per_page);
                if let Some(id) = &query.conversation_id {
                    request = request.conversation_id(id.clone());
                }
                if let Some(phone_number) = &query.phone_number {
                    request = request.phone_number(phone_number.clone());
                }
                if let Some(email) = &query.email {
                    request = request.email(email.clone());
                }
                if let Some(id) = &query.facebook_id {
                    request = request.facebook_id(id.clone());
                }
                if let Some(contact) = &query.contact {
                    request = request.contact(contact.clone());
                }
                request.send()
            })
            .await;
            let items = match fetched {
                Ok(response) => response.into_inner(),
                Err(exhausted) => {
                    state.done = true;
                    return Some((Err(PagingError::request(position, exhausted)), state));
                }
            };
            let full = items.len() as u64 >= state.per_page.get();
            if !full {
                state.done = true;
                return Some((Ok(ItemsPage { items, position, next: None }), state));
            }
            if let (Some(first), Some(last)) = (items.first(), items.last()) {
                let ends = (first.message_id.clone(), last.message_id.clone());
                if !state.seen.insert(ends) {
                    state.done = true;
                    let error = PagingError::RepeatedCursor { page: PagePosition(position), cursor: page.to_string() };
                    return Some((Err(error), state));
                }
            }
            let next = page.get().checked_add(1).and_then(|n| Page::new(n).ok());
            match next {
                Some(next) => state.page = next,
                None => state.done = true,
            }
            let next = next.map(|n| Position::Page(n.get()));
            Some((Ok(ItemsPage { items, position, next }), state))
        })
        // Fused: polling again after the end (or after an error) gives `None`.
        .fuse()
    }

    /// Every message of the query, in Octopush's order: [`Client::pages`],
    /// flattened.
    pub fn messages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<Captured<types::Message>, StreamError>> + Send + 'static {
        convo_runtime::paging::items(self.pages(query, options))
    }
}
