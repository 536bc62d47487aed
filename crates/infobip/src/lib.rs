//! Typed client for Infobip Conversations (CCaaS) "Get messages"
//! (`GET /ccaas/1/conversations/{conversationId}/messages`).
//!
//! The client is generated from `specs/infobip.yaml` at build time; this
//! crate adds the credentials, open enums, the lenient message content and
//! Infobip's timestamp form by hand.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use convo_infobip::{Credentials, Client, SecretString};
//!
//! let client = Client::new("xxxxx.api.infobip.com", convo_infobip::Credentials::AppKey(SecretString::from("my-api-key")))?;
//! let page = client
//!     .get_messages()
//!     .conversation_id("4461ea29-c09e-4ba8-a751-df86cf0a0eb9")
//!     .limit(100)
//!     .send()
//!     .await?
//!     .into_inner();
//! for message in page.messages.iter().flatten() {
//!     match message.decoded() {
//!         Ok(m) => println!("{}: {:?}", m.id, m.content.as_ref().and_then(|c| c.text())),
//!         Err(e) => eprintln!("a message that could not be decoded ({e}): {}", message.raw()),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

/// The code progenitor generates from `specs/infobip.yaml` at build time (a
/// readable copy is committed as `generated/infobip.rs`). Its lint allowances
/// stay in this module; the hand-written code around it is linted in full.
mod generated {
    #![allow(clippy::all, missing_docs, unused_imports, unreachable_pub)]
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

pub use generated::{Client, ClientInfo, ResponseValue, builder, types};

// Every request goes through the runtime: body-size limit.
convo_runtime::client_hooks!(Client);

mod auth;
mod content;
mod enums;
mod paging;
mod timestamp;

pub use auth::Credentials;
pub use content::Content;
pub use convo_runtime::{
    Captured, ClientOptions, ConfigError, ErrorKind, PagingOptions, Position, RetryPolicy, SecretString,
};
pub use enums::{AuthorType, Channel, ContentType, Direction};
pub use paging::{Error, MAX_PAGE_SIZE, MessagePage, MessagesQuery};
pub use timestamp::{Timestamp, TimestampError};

/// The error of every request: a documented error status carries Infobip's
/// error body as `types::Error`.
pub type RequestError = progenitor_client::Error<types::Error>;
