//! One lossless message model for every vendor.
//!
//! Each vendor module maps that vendor's typed message (as its client crate
//! decodes it, raw JSON included) into [`Message`]. [`normalize_page`] takes
//! one raw response body, the bytes a vendor sends for one page, and returns
//! the normalized messages. This crate holds no HTTP code.

#![warn(missing_docs)]

mod bird;
pub mod fetch;
mod infobip;
mod leadconnector;
mod model;
mod octopush;
mod page;

pub use bird::from_bird;
pub use infobip::from_infobip;
pub use leadconnector::from_leadconnector;
pub use model::*;
pub use octopush::from_octopush;
pub use page::{PageError, normalize_page, page_of_messages};

/// The JSON Schema of [`Message`], as committed in
/// `generated/message.schema.json`.
pub fn message_schema() -> schemars::schema::RootSchema {
    schemars::schema_for!(Message)
}

/// The JSON Schema of [`Message`] as pretty JSON text with a final newline.
pub fn message_schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&message_schema()).expect("a schema serializes");
    text.push('\n');
    text
}
