//! Typed client for Bird's "List conversation messages"
//! (`GET /workspaces/{workspaceId}/conversations/{conversationId}/messages`).
//!
//! The client is generated from `specs/bird.yaml` at build time; this crate
//! adds the credential, open enums and the body enum by hand.

/// The code progenitor generates from `specs/bird.yaml` at build time (a
/// readable copy is committed as `generated/bird.rs`). Its lint allowances
/// stay in this module; the hand-written code around it is linted in full.
mod generated {
    #![allow(clippy::all, missing_docs, unused_imports, unreachable_pub)]
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

pub use generated::{Client, ClientInfo, ResponseValue, builder, types};

// Every request goes through the runtime: body-size limit.
convo_runtime::client_hooks!(Client);

mod auth;
mod body;
mod enums;
mod paging;

pub use auth::{Credentials, DEFAULT_BASE_URL};
pub use body::Body;
pub use convo_runtime::{
    Captured, ClientOptions, ConfigError, ErrorKind, PagingOptions, Position, RetryPolicy, SecretString, Timestamp,
};
pub use enums::{MessageSource, MessageStatus, SenderType};
pub use paging::{Error, MAX_PAGE_SIZE, MessagePage, MessagesQuery};

/// The error of every request: a documented error status carries Bird's
/// error body as `types::Error`.
pub type RequestError = progenitor_client::Error<types::Error>;

/// The README's example, compiled as a doc-test of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExample;
