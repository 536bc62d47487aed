//! Shared runtime for the generated vendor clients.
//!
//! This crate knows no vendor: it holds the pieces every client needs and
//! that the generator does not give us (open enums, raw message capture,
//! lenient timestamps, credential headers, HTTP client setup).

#![warn(missing_docs)]

mod budget;
mod captured;
mod http;
mod limit;
mod open_enum;
pub mod paging;
mod path;
#[doc(hidden)]
pub mod retry;
mod timestamp;

pub use budget::{BudgetStats, RateBudget};
pub use captured::{Captured, MessageError};
pub use http::{ClientOptions, ConfigError};
pub use limit::{DEFAULT_MAX_BODY_BYTES, REDACTED};
pub use paging::{ErrorKind, Page, PagePosition, PagingError, PagingOptions, Position, ReadSoFar, VendorError};
pub use path::{PathSegment, PathSegmentError};
pub use retry::{DEFAULT_MAX_RETRY_AFTER, OnRetry, RetryNotice, RetryPolicy};
pub use timestamp::{Timestamp, TimestampError};

pub use secrecy::{ExposeSecret, SecretString};

// What the vendor crates and the generated code are built from: public so
// that they can use it, hidden because no user of a client needs it.
#[doc(hidden)]
pub use captured::decode_with_path;
#[doc(hidden)]
pub use http::{
    base_url, connect, env_var, header_name, http_client, optional_var, required_var, secret_header, sensitive_header,
};
#[doc(hidden)]
pub use limit::{
    BodyTooLarge, ClientState, ErrorStatus, Secrets, body_too_large, execute_limited, find_in_chain, utf8_text,
    valid_utf8,
};
#[doc(hidden)]
pub use path::encode_path;

#[doc(hidden)]
pub mod __private {
    pub use crate::open_enum::visit_str;
    pub use futures;
    pub use schemars;
    pub use serde;
}
