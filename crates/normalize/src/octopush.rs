//! octopush: placeholder until the mapping lands (being written now).

use crate::model::*;

/// Maps one octopush message.
pub fn from_octopush() {}

pub(crate) fn page(body: &[u8]) -> Result<Vec<Message>, crate::PageError> {
    Err(crate::PageError { vendor: Vendor::Octopush, path: ".".into(), reason: "not mapped yet".into(), snippet: String::from_utf8_lossy(&body[..body.len().min(8)]).into_owned() })
}
