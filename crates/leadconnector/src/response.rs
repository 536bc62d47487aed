use serde::Serialize;
use serde::de::{Deserialize, Deserializer, Error as _};
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

    /// HighLevel's trace id, sent beside the nested form only.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Flat(_) => None,
            Self::Nested(nested) => nested.trace_id.as_deref(),
        }
    }
}

/// Just enough of the body to tell the two forms apart.
#[derive(serde::Deserialize)]
struct Shape<'a> {
    #[serde(borrow, default)]
    messages: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for MessagesResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        if !raw.get().starts_with('{') {
            return Err(D::Error::custom("the messages page is not a JSON object"));
        }
        let shape: Shape<'_> = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
        let first = shape.messages.and_then(|messages| messages.get().trim_start().bytes().next());
        // `decode_with_path` names the JSON path of a field that fails.
        match first {
            // No `messages`, or `null`: a flat page of none.
            None | Some(b'[' | b'n') => {
                decode_with_path::<MessagesPage>(raw.get()).map(Self::Flat).map_err(D::Error::custom)
            }
            Some(b'{') => decode_with_path::<NestedMessagesPage>(raw.get()).map(Self::Nested).map_err(D::Error::custom),
            _ => Err(D::Error::custom(
                "`messages` must be an array (the documented flat page) or an object (the nested page)",
            )),
        }
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
