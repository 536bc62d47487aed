use std::marker::PhantomData;

use convo_runtime::Captured;
use serde::de::{Deserialize, DeserializeOwned, Deserializer, SeqAccess, Visitor};

use crate::{Message, Vendor};

/// How one vendor's captured message becomes a [`Message`].
pub(crate) trait Mapping {
    /// The vendor crate's typed message.
    type Raw: DeserializeOwned;
    fn map(message: Captured<Self::Raw>) -> Message;
}

/// A page's array of messages, each mapped as soon as it is read: no array
/// of the vendor's typed messages is built first. Reads what a
/// `Vec<Captured<M::Raw>>` reads, with the same errors.
pub(crate) struct Normalized<M>(pub(crate) Vec<Message>, PhantomData<M>);

impl<'de, M: Mapping> Deserialize<'de> for Normalized<M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Messages<M>(PhantomData<M>);
        impl<'de, M: Mapping> Visitor<'de> for Messages<M> {
            type Value = Normalized<M>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut messages = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(message) = seq.next_element::<Captured<M::Raw>>()? {
                    messages.push(M::map(message));
                }
                Ok(Normalized(messages, PhantomData))
            }
        }
        d.deserialize_seq(Messages(PhantomData))
    }
}

/// A response body that is not the vendor's page shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a page of {vendor}'s: {reason} at `{path}` (body starts with {snippet})")]
pub struct PageError {
    /// The vendor whose page shape the body was decoded as.
    pub vendor: Vendor,
    /// The JSON path that failed (`results[3].createdAt`); `.` for the top.
    pub path: String,
    /// Why decoding failed at `path`, in serde's words.
    pub reason: String,
    /// The first bytes of the body, escaped.
    pub snippet: String,
}

impl PageError {
    /// A body that decodes but holds neither the page's list of messages
    /// nor what says it has none (`what`): the same rule, and words, as the
    /// clients' paging, so that `{}` or a misspelt key is never an empty
    /// page.
    pub(crate) fn no_list(vendor: Vendor, what: &str, body: &str) -> Self {
        PageError {
            vendor,
            path: ".".to_owned(),
            reason: convo_runtime::paging::not_a_page_reason(what),
            snippet: snippet(body.as_bytes()),
        }
    }
}

const SNIPPET_BYTES: usize = 80;

fn snippet(body: &[u8]) -> String {
    let end = body.len().min(SNIPPET_BYTES);
    let mut text: String = String::from_utf8_lossy(&body[..end]).escape_debug().collect();
    if body.len() > SNIPPET_BYTES {
        text.push('…');
    }
    format!("\"{text}\"")
}

/// Decodes a whole page, naming the JSON path on failure.
///
/// The fast path decodes without tracking; only a page that fails pays for
/// a second, tracked decode that names the path.
pub(crate) fn decode<T: DeserializeOwned>(vendor: Vendor, body: &str) -> Result<T, PageError> {
    // From text, not bytes: the body is known to be UTF-8, so neither the
    // page's strings nor each message's raw text are checked once more.
    if let Ok(value) = serde_json::from_str(body) {
        return Ok(value);
    }
    let fail = |path: String, reason: String| {
        // Errors inside captured values carry their own inner path, once per
        // level of capture: join them all into one path. An inner path that
        // already starts with the tracked one (an envelope that names its
        // fields from the body's top, as LeadConnector's does) replaces it.
        let (mut path, mut reason) = (path, reason);
        while let Some((inner, tail)) = reason.strip_prefix("at `").and_then(|rest| rest.split_once("`: ")) {
            let from_top = inner == path
                || inner.strip_prefix(path.as_str()).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['));
            path = if path == "." || from_top { inner.to_owned() } else { format!("{path}.{inner}") };
            reason = tail.to_owned();
        }
        PageError { vendor, path, reason, snippet: snippet(body.as_bytes()) }
    };
    let mut de = serde_json::Deserializer::from_str(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        fail(path, e.into_inner().to_string())
    })?;
    de.end().map_err(|e| fail(".".to_owned(), e.to_string()))?;
    Ok(value)
}

/// Normalizes one raw response body of `vendor`: the bytes the vendor sends
/// for one page of a conversation's messages.
pub fn normalize_page(vendor: Vendor, body: &[u8]) -> Result<Vec<Message>, PageError> {
    // Bytes that are not UTF-8 cost only the message holding them.
    let body = &*convo_runtime::utf8_text(body);
    match vendor {
        Vendor::Bird => crate::bird::page(body),
        Vendor::Infobip => crate::infobip::page(body),
        Vendor::Octopush => crate::octopush::page(body),
        Vendor::Leadconnector => crate::leadconnector::page(body),
    }
}

/// A page body holding `messages` (each one vendor message, as `convo fetch
/// --raw` prints them) in the vendor's page envelope, for
/// [`normalize_page`].
pub fn page_of_messages(vendor: Vendor, messages: &[&serde_json::value::RawValue]) -> Vec<u8> {
    let list = format!("[{}]", messages.iter().map(|m| m.get()).collect::<Vec<_>>().join(","));
    match vendor {
        Vendor::Octopush => list.into_bytes(),
        Vendor::Infobip => format!(r#"{{"messages":{list}}}"#).into_bytes(),
        Vendor::Leadconnector => format!(r#"{{"messages":{list},"nextPage":false}}"#).into_bytes(),
        Vendor::Bird => format!(r#"{{"results":{list}}}"#).into_bytes(),
    }
}
