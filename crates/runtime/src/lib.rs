//! Shared runtime for the generated vendor clients.
//!
//! This crate knows no vendor: it holds the pieces every client needs and
//! that the generator does not give us (open enums, raw message capture,
//! lenient timestamps, credential headers, HTTP client setup).

mod captured;
mod http;
mod limit;
mod open_enum;
pub mod paging;
mod path;
pub mod retry;
mod timestamp;

pub use captured::{Captured, MessageError, decode_with_path};
pub use http::{ClientOptions, ConfigError, base_url, header_name, http_client, secret_header, sensitive_header};
pub use limit::{
    BodyTooLarge, ClientState, DEFAULT_MAX_BODY_BYTES, ErrorStatus, REDACTED, Secrets, body_too_large, execute_limited,
    find_in_chain,
};
pub use paging::{Page, PagingError, PagingOptions, Position};
pub use path::{PathSegment, PathSegmentError, encode_path};
pub use retry::RetryPolicy;
pub use timestamp::{Timestamp, TimestampError};

pub use secrecy::{ExposeSecret, SecretString};

#[doc(hidden)]
pub mod __private {
    pub use crate::open_enum::visit_str;
    pub use futures;
    pub use schemars;
    pub use serde;
}
