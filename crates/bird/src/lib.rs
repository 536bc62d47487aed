//! Typed client for Bird's "List conversation messages"
//! (`GET /workspaces/{workspaceId}/conversations/{conversationId}/messages`).
//!
//! The client is generated from `specs/bird.yaml` at build time; this crate
//! adds the credential, open enums and the body enum by hand.

#![allow(clippy::all)]

include!(concat!(env!("OUT_DIR"), "/client.rs"));

// Every request goes through the runtime: body-size limit.
convo_runtime::client_hooks!(Client);

mod auth;
mod body;
mod enums;
mod paging;

pub use auth::DEFAULT_BASE_URL;
pub use body::Body;
pub use convo_runtime::{Captured, ClientOptions, ConfigError, SecretString, Timestamp};
pub use convo_runtime::{Page, PagingError, PagingOptions, Position, RetryPolicy};
pub use enums::{MessageSource, MessageStatus, SenderType};
pub use paging::{MAX_PAGE_SIZE, MessagePage, MessagesQuery, StreamError};

/// The error of every request: a documented error status carries Bird's
/// error body as `types::Error`.
pub type RequestError = progenitor_client::Error<types::Error>;

/// The README's example, compiled as a doc-test of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExample;
