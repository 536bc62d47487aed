//! Typed client for Octopush's "Retrieve the conversation messages list"
//! (`GET /conversations/messages/list`).
//!
//! The client is generated from `specs/octopush.yaml` at build time; this
//! crate adds the credentials, open enums and the checked parameter types by
//! hand.
//!
//! Octopush answers a malformed parameter with a 200 and the wrong data
//! instead of an error, so the parameters with a documented format only
//! accept values built by their checking constructors ([`Page::new`],
//! [`PerPage::new`], [`FacebookId::new`], [`ConversationId::new`]), which
//! return a typed [`InvalidParameter`]. A raw value does not compile:
//!
//! ```compile_fail
//! # async fn f(client: convo_octopush::Client) {
//! client.list_conversation_messages().conversation_id("3fa85f64").send().await;
//! # }
//! ```
//!
//! ```compile_fail
//! # async fn f(client: convo_octopush::Client) {
//! client.list_conversation_messages().page(0u64).send().await;
//! # }
//! ```
//!
//! The checked way:
//!
//! ```no_run
//! use convo_octopush::{Client, ConversationId, DEFAULT_BASE_URL, PerPage, SecretString};
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(DEFAULT_BASE_URL, convo_octopush::Credentials::new("login@example.com", SecretString::from("key")))?;
//! let messages = client
//!     .list_conversation_messages()
//!     .conversation_id(ConversationId::new("cid_3fa85f64-5717-4562-b3fc-2c963f66afa6")?)
//!     .per_page(PerPage::new(100)?)
//!     .send()
//!     .await?
//!     .into_inner();
//! for message in &messages {
//!     match message.value() {
//!         Some(m) => println!("{}: {:?}", m.message_id, m.text),
//!         None => println!("undecodable: {}", message.raw()),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`Client::messages`] reads every page of a query as one stream, with
//! retries, and stops with a typed [`PagingError`] instead of looping when
//! the API ignores `page`:
//!
//! ```no_run
//! use convo_octopush::{Client, ConversationId, DEFAULT_BASE_URL, MessagesQuery, PagingOptions, SecretString};
//! use futures::TryStreamExt;
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(DEFAULT_BASE_URL, convo_octopush::Credentials::new("login@example.com", SecretString::from("key")))?;
//! let query = MessagesQuery::by_conversation_id(ConversationId::new("cid_3fa85f64-5717-4562-b3fc-2c963f66afa6")?);
//! let messages: Vec<_> = client.messages(query, PagingOptions::default()).try_collect().await?;
//! println!("{} messages", messages.len());
//! # Ok(())
//! # }
//! ```

/// The code progenitor generates from `specs/octopush.yaml` at build time (a
/// readable copy is committed as `generated/octopush.rs`). Its lint allowances
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
mod params;

pub use auth::{Credentials, DEFAULT_BASE_URL};
pub use convo_runtime::{
    Captured, ClientOptions, ConfigError, ErrorKind, PagingOptions, Position, RetryPolicy, SecretString,
};
pub use enums::{Channel, DeliveryStatus, Direction};
pub use paging::{Error, MAX_PAGE_SIZE, MessagePage, MessagesQuery};
pub use params::{ConversationId, FacebookId, InvalidParameter, Page, PerPage, Problem};
// The runtime's `Page` is not re-exported: `Page` here is the checked `page`
// parameter, and [`MessagePage`] names a page of messages.

/// The error of every request: an error status (any 4xx or 5xx) carries
/// whatever JSON error body Octopush sent as `types::Error`.
pub type RequestError = progenitor_client::Error<types::Error>;
