//! Typed client for Octopush's "Retrieve the conversation messages list"
//! (`GET /conversations/messages/list`).
//!
//! Read a whole conversation, every message exactly once, in Octopush's
//! order. Runnable as it stands (`convo-sandbox`, `tokio` with `macros` and
//! `rt-multi-thread`, and `futures` as dependencies); the same program is
//! `cargo run -p convo-octopush --example read_conversation`:
//!
//! ```
//! use convo_octopush::{Client, ClientOptions, ConversationId, MessagesQuery, PagingOptions};
//! use convo_sandbox::{Sandbox, Vendor, ids};
//! use futures::TryStreamExt;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The built-in sandbox stands in for Octopush; for the real API,
//!     // `Client::from_env()?` reads OCTOPUSH_API_LOGIN and OCTOPUSH_API_KEY.
//!     let sandbox = Sandbox::start(Default::default()).await?;
//!     let client = Client::from_vars(sandbox.vars(Vendor::Octopush), &ClientOptions::default())?;
//!     let query = MessagesQuery::by_conversation_id(ConversationId::new(ids::octopush::SAMPLE_CONVERSATION)?);
//!     let messages: Vec<_> = client.messages(query, PagingOptions::default()).try_collect().await?;
//!     for message in &messages {
//!         match message.decoded() {
//!             Ok(m) => println!("{}: {:?}", m.message_id, m.text),
//!             Err(e) => eprintln!("undecodable ({e}): {}", message.raw()),
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! The client is generated from the crate's OpenAPI spec (`octopush.yaml`, written
//! from Octopush's page) at build time; the hand-written layer adds the
//! credentials ([`Credentials`], [`Client::new`], [`Client::from_env`]), the
//! open enums, lenient reading (a field that is absent or `null` never costs
//! a message; a message that cannot be decoded is kept as its raw JSON with
//! the reason, [`Captured`]) and the paging stream.
//!
//! # Paging and resuming
//!
//! [`Client::messages`] reads every message of a [`MessagesQuery`] in the
//! order Octopush lists them; [`Client::pages`] gives the same as pages
//! ([`MessagePage`]), each with the position of the next. Octopush has only
//! page numbers (no total, no cursor), over a listing that can shift, so the
//! stream ends on an empty page (never a short one), follows a smaller page
//! size than asked, drops messages added at the head as repeats, and reads
//! the listing again at the end (as many requests once more): unless it
//! holds exactly the messages delivered, in order (pushed down whole by
//! messages added at its head, or not at all), a message deleted during the
//! read could have pulled another back onto a page already read, and the
//! stream ends with a typed error instead of a silently incomplete read.
//!
//! To resume after a crash, keep the `next` of the last page handled and
//! start again with `PagingOptions { resume: Some(position), ..Default::default() }`:
//! each message is delivered once across the two runs (a page is
//! delivered whole or not at all). The position carries the first run's
//! check ([`Position::PageWithCheck`]): the resumed stream reads the listing
//! again from the first run's first page at its end, so a message skipped
//! before the crash (a deletion the first run's own check never saw) ends
//! it with a typed error too.
//!
//! # Errors
//!
//! A read that stops early ends with one [`Error`] (after every message of
//! the pages before it). Its `Display` is one line: the page, the status,
//! Octopush's own words from its error body, and the number of tries; `Debug`
//! prints the same line with the kind, so `fn main() -> Result<(), Box<dyn
//! std::error::Error>>` reports it readably too. Branch on
//! [`Error::kind`] ([`ErrorKind`]) or ask [`Error::is_not_found`],
//! [`Error::is_auth`], [`Error::is_rate_limited`], [`Error::status`],
//! [`Error::retry_after`]; [`Error::vendor_error`] is Octopush's decoded error
//! body. A client that cannot be built (a bad base URL, an empty credential,
//! a variable `from_env` needs that is not set) is a [`ConfigError`] naming
//! what is wrong. The request builders of the generated client
//! (`client.list_conversation_messages()...send()`, one page, no retries) answer a
//! [`RequestError`].
//!
//! # Retries and rate limits
//!
//! Every page request is retried on 408, 429, 500, 502, 503 and 504, on a
//! failed connection, a timeout and a body cut off mid-way: 5 tries in all,
//! with exponential back-off (250 ms doubling to 30 s, with jitter), or after
//! the wait the response asks for (`Retry-After`). A wait longer
//! than [`RetryPolicy::max_retry_after`] (120 s) is not waited out: the read
//! ends with [`ErrorKind::RateLimited`] and [`Error::retry_after`] says how
//! long Octopush asked for. [`RetryPolicy::on_retry`] is told of every retry before
//! its wait (to show "rate limited; retrying in 3 s"); [`RetryPolicy::none`]
//! turns retries off. Octopush's page documents no rate limit; a 429 is retried like the other statuses.
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
//!
//! # Checked parameters
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

#![warn(missing_docs)]

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
    Captured, ClientOptions, ConfigError, ErrorKind, PagingOptions, Position, ReadSoFar, RetryPolicy, SecretString,
};
pub use enums::{Channel, DeliveryStatus, Direction};
pub use paging::{Error, MAX_PAGE_SIZE, MessagePage, MessagesQuery};
pub use params::{ConversationId, FacebookId, InvalidParameter, Page, PerPage, Problem};
// The runtime's `Page` is not re-exported: `Page` here is the checked `page`
// parameter, and [`MessagePage`] names a page of messages.

/// The error of every request: an error status (any 4xx or 5xx) carries
/// whatever JSON error body Octopush sent as `types::Error`.
pub type RequestError = progenitor_client::Error<types::Error>;
