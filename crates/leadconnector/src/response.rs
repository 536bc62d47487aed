use serde::Serialize;
use serde::de::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use convo_runtime::{Captured, decode_with_path};

use crate::types::{Message, MessagesPage, NestedMessagesPage};

/// The body of a successful "Get messages by conversation id".
///
/// The vendor page documents a flat page, `{lastMessageId, nextPage,
/// messages: [...]}`; the live API has also been seen to nest the same page
/// under `messages`, sometimes with a sibling `traceId`:
/// `{"messages": {"lastMessageId", "nextPage", "messages": [...]}, "traceId"}`.
/// Both decode; the accessors read the page whichever form arrived. The two
/// are told apart by `messages`: an array in the flat form, an object in the
/// nested one. Every field is read leniently (see `convo-codegen`): a body
/// without `messages`, or with `null`, reads as a flat page of none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessagesResponse {
    /// The form the vendor page documents.
    Flat(MessagesPage),
    /// The nested form seen on the live API.
    Nested(NestedMessagesPage),
}

impl MessagesResponse {
    /// The page, whichever form it arrived in; `None` for a nested form
    /// whose inner page is missing or `null`.
    pub fn page(&self) -> Option<&MessagesPage> {
        match self {
            Self::Flat(page) => Some(page),
            Self::Nested(nested) => nested.messages.as_ref(),
        }
    }

    /// The page, dropping the envelope (an empty one where the nested form
    /// has none).
    pub fn into_page(self) -> MessagesPage {
        match self {
            Self::Flat(page) => page,
            Self::Nested(nested) => {
                nested.messages.unwrap_or(MessagesPage { last_message_id: None, messages: None, next_page: None })
            }
        }
    }

    /// The messages of this page, each with the JSON it came as (and its
    /// typed view, or why it has none); empty when the page has none.
    pub fn messages(&self) -> &[Captured<Message>] {
        self.page().and_then(|page| page.messages.as_deref()).unwrap_or_default()
    }

    /// The id of the last message of this page, where the page gives it:
    /// pass it back as `last_message_id` to get the next page.
    pub fn last_message_id(&self) -> Option<&str> {
        self.page().and_then(|page| page.last_message_id.as_deref())
    }

    /// Whether more messages follow this page, where the page says.
    pub fn next_page(&self) -> Option<bool> {
        self.page().and_then(|page| page.next_page)
    }

    /// HighLevel's trace id, sent beside the nested form only (a value that
    /// is not a string, as its JSON text).
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Flat(_) => None,
            Self::Nested(nested) => nested.trace_id.as_deref(),
        }
    }
}

// Read in one pass: the body's map is walked once, `messages` (an array in
// the flat form, an object in the nested one, `null` or absent for none) is
// decoded where it stands, and each message is captured from the page's own
// text. The few scalar fields beside it are kept as their raw text until the
// form is known (the flat form reads `lastMessageId` and `nextPage` there,
// the nested one `traceId`), then decoded with the path they failed at.

/// The top-level keys this envelope reads; every other is skipped.
enum Key {
    LastMessageId,
    NextPage,
    Messages,
    TraceId,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "lastMessageId" => Key::LastMessageId,
                    "nextPage" => Key::NextPage,
                    "messages" => Key::Messages,
                    "traceId" => Key::TraceId,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// A field kept as its text until the form says whether it is read.
type Pending = Option<Box<RawValue>>;

/// Decodes a kept field, naming `path` (from the body's top) on failure.
fn pending<T: serde::de::DeserializeOwned, E: serde::de::Error>(raw: Pending, path: &str) -> Result<Option<T>, E> {
    let Some(raw) = raw else { return Ok(None) };
    decode_with_path::<Option<T>>(raw.get()).map_err(|e| {
        let inner = if e.path == "." { path.to_owned() } else { format!("{path}.{}", e.path) };
        E::custom(format!("at `{inner}`: {}", e.reason))
    })
}

/// `traceId` as text: a string as it is, any other JSON value (a number,
/// an object) as its JSON text. It decides nothing about paging, so a
/// shape the page does not document costs nothing, and nothing is dropped.
fn trace_text(raw: Pending) -> Option<String> {
    let raw = raw?;
    match serde_json::from_str::<Option<String>>(raw.get()) {
        Ok(text) => text,
        Err(_) => Some(raw.get().to_owned()),
    }
}

/// Stores `value` in `slot`, refusing a field sent twice.
fn once<T, E: serde::de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

/// What `messages` held at the top.
enum Messages {
    /// `null`: a flat page of none.
    Null,
    /// An array: the flat page's messages.
    Flat(Vec<Captured<Message>>),
    /// An object: the nested page.
    Nested(MessagesPage),
}

/// The messages of a page, an array read element by element (`null` reads
/// as none); `path` names the field in errors.
struct MessageList {
    path: &'static str,
}

impl<'de> serde::de::DeserializeSeed<'de> for MessageList {
    type Value = Option<Vec<Captured<Message>>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MessageList {
    type Value = Option<Vec<Captured<Message>>>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut messages = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(message) = seq.next_element::<Captured<Message>>()? {
            messages.push(message);
        }
        Ok(Some(messages))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.wrong(serde::de::Unexpected::Map))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Err(self.wrong(serde::de::Unexpected::Bool(v)))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(self.wrong(serde::de::Unexpected::Signed(v)))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Err(self.wrong(serde::de::Unexpected::Unsigned(v)))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(self.wrong(serde::de::Unexpected::Float(v)))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Err(self.wrong(serde::de::Unexpected::Str(v)))
    }
}

impl MessageList {
    /// The error serde gives a field of the wrong type, with its path.
    fn wrong<E: serde::de::Error>(&self, unexpected: serde::de::Unexpected<'_>) -> E {
        let reason = <serde_json::Error as serde::de::Error>::invalid_type(unexpected, &"a sequence");
        E::custom(format!("at `{}`: {reason}", self.path))
    }
}

/// The top-level `messages`, whichever form it takes.
struct MessagesField;

impl<'de> serde::de::DeserializeSeed<'de> for MessagesField {
    type Value = Messages;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Messages, D::Error> {
        d.deserialize_any(self)
    }
}

const WRONG_MESSAGES: &str = "`messages` must be an array (the documented flat page) or an object (the nested page)";

impl<'de> serde::de::Visitor<'de> for MessagesField {
    type Value = Messages;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(WRONG_MESSAGES)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Messages, E> {
        Ok(Messages::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Messages, A::Error> {
        let messages = MessageList { path: "messages" }.visit_seq(seq)?;
        Ok(Messages::Flat(messages.unwrap_or_default()))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Messages, A::Error> {
        let (mut last_message_id, mut next_page, mut messages): (Pending, Pending, Option<_>) = (None, None, None);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::LastMessageId => once(&mut last_message_id, map.next_value()?, "lastMessageId")?,
                Key::NextPage => once(&mut next_page, map.next_value()?, "nextPage")?,
                Key::Messages => {
                    once(&mut messages, map.next_value_seed(MessageList { path: "messages.messages" })?, "messages")?
                }
                Key::TraceId | Key::Other => drop(map.next_value::<serde::de::IgnoredAny>()?),
            }
        }
        Ok(Messages::Nested(MessagesPage {
            last_message_id: pending(last_message_id, "messages.lastMessageId")?,
            messages: messages.flatten(),
            next_page: pending(next_page, "messages.nextPage")?,
        }))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Messages, E> {
        Err(E::custom(WRONG_MESSAGES))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Messages, E> {
        Err(E::custom(WRONG_MESSAGES))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Messages, E> {
        Err(E::custom(WRONG_MESSAGES))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Messages, E> {
        Err(E::custom(WRONG_MESSAGES))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Messages, E> {
        Err(E::custom(WRONG_MESSAGES))
    }
}

/// The body: a JSON object, anything else is not a messages page.
struct Body;

const NOT_AN_OBJECT: &str = "the messages page is not a JSON object";

impl<'de> serde::de::Visitor<'de> for Body {
    type Value = MessagesResponse;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object (the messages page)")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<MessagesResponse, A::Error> {
        let (mut last_message_id, mut next_page, mut trace_id, mut messages): (Pending, Pending, Pending, Option<_>) =
            (None, None, None, None);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::LastMessageId => once(&mut last_message_id, map.next_value()?, "lastMessageId")?,
                Key::NextPage => once(&mut next_page, map.next_value()?, "nextPage")?,
                Key::TraceId => once(&mut trace_id, map.next_value()?, "traceId")?,
                Key::Messages => once(&mut messages, map.next_value_seed(MessagesField)?, "messages")?,
                Key::Other => drop(map.next_value::<serde::de::IgnoredAny>()?),
            }
        }
        let flat = |messages| {
            Ok(MessagesResponse::Flat(MessagesPage {
                last_message_id: pending(last_message_id, "lastMessageId")?,
                messages,
                next_page: pending(next_page, "nextPage")?,
            }))
        };
        match messages {
            None | Some(Messages::Null) => flat(None),
            Some(Messages::Flat(messages)) => flat(Some(messages)),
            Some(Messages::Nested(page)) => Ok(MessagesResponse::Nested(NestedMessagesPage {
                messages: Some(page),
                trace_id: trace_text(trace_id),
            })),
        }
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<MessagesResponse, A::Error> {
        Err(serde::de::Error::custom(NOT_AN_OBJECT))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<MessagesResponse, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<MessagesResponse, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<MessagesResponse, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<MessagesResponse, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<MessagesResponse, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<MessagesResponse, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
}

impl<'de> Deserialize<'de> for MessagesResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &str = r#"{"id":"m1","type":2,"messageType":"TYPE_SMS","locationId":"l","contactId":"c",
        "conversationId":"v","dateAdded":"2024-03-27T18:13:49.000Z","direction":"outbound","contentType":"text/plain"}"#;

    fn decode(json: &str) -> Result<MessagesResponse, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn the_flat_and_the_nested_form_read_the_same() {
        let flat = decode(&format!(r#"{{"lastMessageId":"m1","nextPage":false,"messages":[{MESSAGE}]}}"#)).unwrap();
        let nested = decode(&format!(
            r#" {{"messages":{{"lastMessageId":"m1","nextPage":false,"messages":[{MESSAGE}]}},"traceId":"t-1"}}"#
        ))
        .unwrap();
        assert!(matches!(flat, MessagesResponse::Flat(_)));
        assert!(matches!(nested, MessagesResponse::Nested(_)));
        assert_eq!(flat.page(), nested.page());
        assert_eq!(nested.trace_id(), Some("t-1"));
        assert_eq!(flat.trace_id(), None);
    }

    #[test]
    fn a_trace_id_that_is_not_a_string_is_kept_as_its_json_text() {
        for (trace, kept) in [("42", Some("42")), (r#"{"id":"t"}"#, Some(r#"{"id":"t"}"#)), ("null", None)] {
            let nested = decode(&format!(
                r#"{{"messages":{{"lastMessageId":"m1","nextPage":false,"messages":[{MESSAGE}]}},"traceId":{trace}}}"#
            ))
            .unwrap();
            assert_eq!(nested.trace_id(), kept, "traceId {trace}");
            assert_eq!(nested.page().map(|p| p.messages.as_ref().map(Vec::len)), Some(Some(1)));
        }
    }

    #[test]
    fn both_forms_serialize_back_as_they_came() {
        for json in [
            format!(r#"{{"lastMessageId":"m1","nextPage":true,"messages":[{MESSAGE}]}}"#),
            format!(r#"{{"messages":{{"lastMessageId":"m1","nextPage":true,"messages":[{MESSAGE}]}},"traceId":"t"}}"#),
        ] {
            let back = serde_json::to_value(decode(&json).unwrap()).unwrap();
            assert_eq!(back, serde_json::from_str::<serde_json::Value>(&json).unwrap());
        }
    }

    #[test]
    fn a_bad_message_is_isolated_with_its_path_in_either_form() {
        let bad = MESSAGE.replace("2024-03-27T18:13:49.000Z", "yesterday");
        for json in [
            format!(r#"{{"lastMessageId":"m1","nextPage":true,"messages":[{bad},{MESSAGE}]}}"#),
            format!(r#"{{"messages":{{"lastMessageId":"m1","nextPage":true,"messages":[{bad},{MESSAGE}]}}}}"#),
        ] {
            let page = decode(&json).unwrap();
            let error = page.messages()[0].error().expect("isolated");
            assert_eq!(error.path, "dateAdded");
            assert!(error.reason.starts_with("`yesterday`"), "{error}");
            assert!(page.messages()[1].value().is_some());
        }
    }

    #[test]
    fn a_bad_page_field_is_named_by_its_path_in_either_form() {
        let flat = decode(r#"{"lastMessageId":"m1","nextPage":"yes","messages":[]}"#).unwrap_err();
        assert!(flat.to_string().starts_with("at `nextPage`: invalid type"), "{flat}");
        let nested = decode(r#"{"messages":{"nextPage":"yes"}}"#).unwrap_err();
        assert!(nested.to_string().starts_with("at `messages.nextPage`: invalid type"), "{nested}");
    }

    #[test]
    fn a_body_without_messages_is_a_page_of_none() {
        for json in [r#"{"traceId":"t"}"#, r#"{"messages":null,"nextPage":false}"#, r#"{"messages":{}}"#] {
            let page = decode(json).unwrap();
            assert!(page.messages().is_empty(), "{json}");
            assert_eq!(page.last_message_id(), None);
        }
    }

    #[test]
    fn a_body_of_another_shape_is_an_error_that_says_so() {
        let wrong = decode(r#"{"messages":"none"}"#).unwrap_err();
        assert!(wrong.to_string().contains("`messages` must be an array"), "{wrong}");
        let not_object = decode("[]").unwrap_err();
        assert!(not_object.to_string().contains("not a JSON object"), "{not_object}");
    }
}
