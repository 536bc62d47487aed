//! Every page of a conversation, as one stream: Octopush's 1-based `page`
//! and `per_page` over a bare array, as an endpoint of the runtime's
//! numbered paging (which holds the loop, the retries and every check).

use chrono::{DateTime, Utc};
use futures::{FutureExt, Stream};

use convo_runtime::paging::numbered::NumberedEndpoint;
use convo_runtime::paging::{self, Fetch, Record};
use convo_runtime::{PagingError, PagingOptions};

use crate::{Client, ConversationId, FacebookId, Page, PerPage, types};

/// The page size used when [`PagingOptions::page_size`] is `None`: the
/// documented default of `per_page`, 50.
///
/// Octopush documents no maximum, so this is not a cap: a caller may ask for
/// any size from 1. A server that serves fewer than asked is followed at its
/// own size (the end is always an empty page), so a larger size costs at
/// most nothing; 50 is the one size the page says the API serves.
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
        let any =
            self.conversation_id.is_some() || self.facebook_id.is_some() || texts.iter().any(|(_, v)| v.is_some());
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

convo_runtime::paged_endpoint!("Octopush", Client, MessagesQuery, types::Message, types::Error);

impl Record for types::Message {
    fn id(&self) -> Option<&str> {
        Some(&self.message_id)
    }
    /// Octopush messages carry no time.
    fn time(&self) -> Option<DateTime<Utc>> {
        None
    }
    /// The documented sample masks its ids (`***`): different records
    /// share one, and are known apart by their JSON.
    fn id_is_masked(&self) -> bool {
        !self.message_id.is_empty() && self.message_id.bytes().all(|b| b == b'*')
    }
    /// Two different records with one id on a page are both delivered: the
    /// vendor's own sample shares ids, and nothing it sent is dropped.
    const IDS_UNIQUE: bool = false;
    const ID_FIELD: &'static str = "message_id";
}

impl NumberedEndpoint for Endpoint {
    const FIRST_PAGE: u64 = 1;

    fn fetch(&self, page: u64, per_page: u64) -> Fetch<Vec<Self::Item>, Self::Error> {
        let (client, query) = (self.client.clone(), self.query.clone());
        async move {
            let mut request = client.list_conversation_messages();
            // Both were checked when the stream started (page >= 1, size >= 1).
            if let (Ok(page), Ok(per_page)) = (Page::new(page), PerPage::new(per_page)) {
                request = request.page(page).per_page(per_page);
            }
            if let Some(id) = query.conversation_id {
                request = request.conversation_id(id);
            }
            if let Some(phone_number) = query.phone_number {
                request = request.phone_number(phone_number);
            }
            if let Some(email) = query.email {
                request = request.email(email);
            }
            if let Some(id) = query.facebook_id {
                request = request.facebook_id(id);
            }
            if let Some(contact) = query.contact {
                request = request.contact(contact);
            }
            Ok(request.send().await?.into_inner())
        }
        .boxed()
    }
}

impl Client {
    /// Every page of the query's messages, in Octopush's order, each fetched
    /// with retries, from page 1 (or [`PagingOptions::resume`]: a page's
    /// `next` or `position`, a [`convo_runtime::Position::PageWithCheck`]
    /// whose check the resumed stream takes over, or a plain
    /// [`convo_runtime::Position::Page`]) onwards, through the runtime's
    /// numbered paging (see [`convo_runtime::paging::numbered`] for every
    /// check). The API gives no total, so the end is an empty page; a
    /// server that serves fewer messages a page than asked is followed at
    /// its own page size (a resumed stream must use the page size of the
    /// pages it resumes from). A listing that shifts during the read (a
    /// message added at its head) has its repeats dropped; one that shifts
    /// the other way (a message deleted above the read) is found when the
    /// listing is read again at the end, and ends the stream with
    /// [`PagingError::ListingChanged`]. An invalid query, page size or
    /// resume position is [`PagingError::InvalidQuery`], before any request.
    pub fn pages(
        &self,
        query: MessagesQuery,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<MessagePage, Error>> + Send + Unpin + 'static {
        let start = (|| {
            query.check()?;
            let size = options.page_size.unwrap_or(MAX_PAGE_SIZE);
            PerPage::new(size)
                .map_err(|e| PagingError::InvalidQuery { name: "page size", reason: e.problem.to_string() })?;
            Ok((Endpoint { client: self.clone(), query }, size))
        })();
        paging::numbered::pages(start, options)
    }
}
