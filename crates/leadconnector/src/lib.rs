//! Typed client for LeadConnector (HighLevel) "Get messages by conversation
//! id" (`GET /conversations/{conversationId}/messages`).
//!
//! The client is generated from `specs/leadconnector.yaml` at build time;
//! this crate adds by hand the credential and `Version` header
//! ([`Credentials`], [`Client::new`]), the open enums, and the response envelope that
//! accepts both the documented flat page and the live API's nested one
//! ([`MessagesResponse`]), and a stream of every page of a conversation
//! ([`Client::pages`], [`Client::messages`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use convo_leadconnector::{DEFAULT_BASE_URL, Client, SecretString};
//!
//! let client = Client::new(DEFAULT_BASE_URL, convo_leadconnector::Credentials::new(SecretString::from("pit-...")))?;
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

/// The code progenitor generates from `specs/leadconnector.yaml` at build time (a
/// readable copy is committed as `generated/leadconnector.rs`). Its lint allowances
/// stay in this module; the hand-written code around it is linted in full.
mod generated {
    #![allow(clippy::all, missing_docs, unused_imports, unreachable_pub)]
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

pub use generated::{Client, ClientInfo, ResponseValue, builder, types};

// Every request goes through the runtime: body-size limit.
convo_runtime::client_hooks!(Client);

mod auth;
mod enums;
mod paging;
mod response;

pub use auth::{Credentials, DEFAULT_BASE_URL, DEFAULT_VERSION};
pub use convo_runtime::{
    Captured, ClientOptions, ConfigError, ErrorKind, PagingOptions, Position, RetryPolicy, SecretString, Timestamp,
};
pub use enums::{CallStatus, MessageDirection, MessageSource, MessageStatus, MessageType, TypeFilter};
pub use paging::{Error, MAX_PAGE_SIZE, MessagePage, MessagesQuery};
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
