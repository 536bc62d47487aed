//! Typed client for LeadConnector (HighLevel) "Get messages by conversation
//! id" (`GET /conversations/{conversationId}/messages`).
//!
//! Read a whole conversation, every message exactly once, in LeadConnector's
//! order. Runnable as it stands (`convo-sandbox`, `tokio` with `macros` and
//! `rt-multi-thread`, and `futures` as dependencies); the same program is
//! `cargo run -p convo-leadconnector --example read_conversation`:
//!
//! ```
//! use convo_leadconnector::{Client, ClientOptions, MessagesQuery, PagingOptions};
//! use convo_sandbox::{Sandbox, Vendor, ids};
//! use futures::TryStreamExt;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The built-in sandbox stands in for HighLevel; for the real API,
//!     // `Client::from_env()?` reads LEADCONNECTOR_TOKEN (and LEADCONNECTOR_VERSION).
//!     let sandbox = Sandbox::start(Default::default()).await?;
//!     let client = Client::from_vars(sandbox.vars(Vendor::Leadconnector), &ClientOptions::default())?;
//!     let query = MessagesQuery::new(ids::leadconnector::SAMPLE_CONVERSATION);
//!     let messages: Vec<_> = client.messages(query, PagingOptions::default()).try_collect().await?;
//!     for message in &messages {
//!         match message.decoded() {
//!             Ok(m) => println!("{} {:?} {:?}", m.id, m.message_type, m.body),
//!             Err(e) => eprintln!("undecodable ({e}): {}", message.raw()),
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! The client is generated from the crate's OpenAPI spec (`leadconnector.yaml`, written
//! from LeadConnector's page) at build time; the hand-written layer adds the
//! credentials ([`Credentials`], [`Client::new`], [`Client::from_env`]), the
//! open enums, lenient reading (a field that is absent or `null` never costs
//! a message; a message that cannot be decoded is kept as its raw JSON with
//! the reason, [`Captured`]) and the paging stream.
//!
//! # Paging and resuming
//!
//! [`Client::messages`] reads every message of a [`MessagesQuery`], newest
//! first as HighLevel lists them; [`Client::pages`] gives the same as pages
//! ([`MessagePage`]), each with the position of the next. The cursor,
//! `lastMessageId`, must be the id of its page's last message (else the
//! stream ends with a typed error after that page); a cursor seen before,
//! or an empty page that claims more, ends it too. The `Version` header is
//! part of the [`Credentials`] and a default header of the client: no
//! request goes without it. The response envelope accepts both the
//! documented flat page and the live API's nested one
//! ([`MessagesResponse`]).
//!
//! To resume after a crash, keep the `next` of the last page handled and
//! start again with `PagingOptions { resume: Some(position), ..Default::default() }`:
//! each message is delivered once across the two runs (a page is
//! delivered whole or not at all).
//!
//! # Errors
//!
//! A read that stops early ends with one [`Error`] (after every message of
//! the pages before it). Its `Display` is one line: the page, the status,
//! LeadConnector's own words from its error body, and the number of tries; `Debug`
//! prints the same line with the kind, so `fn main() -> Result<(), Box<dyn
//! std::error::Error>>` reports it readably too. Branch on
//! [`Error::kind`] ([`ErrorKind`]) or ask [`Error::is_not_found`],
//! [`Error::is_auth`], [`Error::is_rate_limited`], [`Error::status`],
//! [`Error::retry_after`]; [`Error::vendor_error`] is LeadConnector's decoded error
//! body. A client that cannot be built (a bad base URL, an empty credential,
//! a variable `from_env` needs that is not set) is a [`ConfigError`] naming
//! what is wrong. The request builders of the generated client
//! (`client.get_messages()...send()`, one page, no retries) answer a
//! [`RequestError`].
//!
//! # Retries and rate limits
//!
//! Every page request is retried on 408, 429, 500, 502, 503 and 504, on a
//! failed connection, a timeout and a body cut off mid-way: 5 tries in all,
//! with exponential back-off (250 ms doubling to 30 s, with jitter), or after
//! the wait the response asks for (`Retry-After`, or, once `X-RateLimit-Remaining` is 0, `X-RateLimit-Interval-Milliseconds`). A wait longer
//! than [`RetryPolicy::max_retry_after`] (120 s) is not waited out: the read
//! ends with [`ErrorKind::RateLimited`] and [`Error::retry_after`] says how
//! long LeadConnector asked for. [`RetryPolicy::on_retry`] is told of every retry before
//! its wait (to show "rate limited; retrying in 3 s"); [`RetryPolicy::none`]
//! turns retries off. HighLevel documents 100 requests per 10 seconds and 200,000 a day per location, reported in `X-RateLimit-*` headers.
//!
//! # Logging
//!
//! The client logs through [`tracing`](https://docs.rs/tracing): every page
//! is a `page` span (vendor and position) at debug level, holding one debug
//! line per HTTP request (method, URL, status, milliseconds), a warn line per
//! retry (why, and the wait), and a debug line when a check ends the stream.
//! Nothing logged holds a credential, a header or a response body. Install
//! any subscriber to see them, e.g. `tracing_subscriber::fmt().with_env_filter(
//! "convo_runtime=debug").init()`; the `convo` CLI reads `RUST_LOG`.

#![warn(missing_docs)]

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
    Captured, ClientOptions, ConfigError, ErrorKind, PagingOptions, Position, ReadSoFar, RetryPolicy, SecretString,
    Timestamp,
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
