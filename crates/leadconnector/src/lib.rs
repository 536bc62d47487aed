//! Typed client for LeadConnector (HighLevel) "Get messages by conversation
//! id" (`GET /conversations/{conversationId}/messages`).
//!
//! The client is generated from `specs/leadconnector.yaml` at build time;
//! this crate adds by hand the credential and `Version` header
//! ([`LeadConnector`]), the open enums, and the response envelope that
//! accepts both the documented flat page and the live API's nested one
//! ([`MessagesResponse`]), and a stream of every page of a conversation
//! ([`LeadConnector::pages`], [`LeadConnector::messages`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use convo_leadconnector::{DEFAULT_BASE_URL, LeadConnector, SecretString};
//!
//! let client = LeadConnector::with_token(DEFAULT_BASE_URL, SecretString::from("pit-..."))?;
//! let page = client
//!     .get_messages()
//!     .conversation_id("tDtDnQdgm2LXpyiqYvZ6")
//!     .type_("TYPE_SMS,TYPE_CALL")
//!     .send()
//!     .await?
//!     .into_inner();
//! for message in page.messages().iter().filter_map(|m| m.value()) {
//!     let kind = message.message_type.as_ref().map(|t| t.as_str()).unwrap_or("?");
//!     println!("{kind} {}", message.body.as_deref().unwrap_or(""));
//! }
//! # Ok(())
//! # }
//! ```

#![allow(clippy::all)]

include!(concat!(env!("OUT_DIR"), "/client.rs"));

// Every request goes through the runtime: body-size limit.
convo_runtime::client_hooks!(Client);

mod auth;
mod enums;
mod paging;
mod response;

pub use auth::{DEFAULT_BASE_URL, DEFAULT_VERSION, LeadConnector};
pub use convo_runtime::{Captured, ClientOptions, ConfigError, SecretString, Timestamp};
pub use convo_runtime::{Page, PagingError, PagingOptions, Position, RetryPolicy};
pub use enums::{CallStatus, MessageDirection, MessageSource, MessageStatus, MessageType, TypeFilter};
pub use paging::{MAX_PAGE_SIZE, MessagePage, MessagesQuery, StreamError};
pub use response::MessagesResponse;

/// The error of every request: a documented error status (400, 401, 422,
/// 429) carries HighLevel's error body as [`types::Error`].
pub type RequestError = progenitor_client::Error<types::Error>;

impl types::ErrorMessage {
    /// The message's texts: one for a 400 or 401, the list of a 422.
    pub fn texts(&self) -> &[String] {
        match self {
            Self::String(text) => std::slice::from_ref(text),
            Self::Array(texts) => texts,
        }
    }
}
