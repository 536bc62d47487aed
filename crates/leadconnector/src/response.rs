use serde::Serialize;
use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::value::RawValue;

use convo_runtime::Captured;

use crate::types::{Message, MessagesPage, NestedMessagesPage};

/// The body of a successful "Get messages by conversation id".
///
/// The vendor page documents a flat page, `{lastMessageId, nextPage,
/// messages: [...]}`; the live API has also been seen to nest the same page
/// under `messages`, sometimes with a sibling `traceId`:
/// `{"messages": {"lastMessageId", "nextPage", "messages": [...]}, "traceId"}`.
/// Both decode; the accessors read the page whichever form arrived. The two
/// are told apart by `messages`: an array in the flat form, an object in the
/// nested one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessagesResponse {
    /// The form the vendor page documents.
    Flat(MessagesPage),
    /// The nested form seen on the live API.
    Nested(NestedMessagesPage),
}

impl MessagesResponse {
    /// The page, whichever form it arrived in.
    pub fn page(&self) -> &MessagesPage {
        match self {
            Self::Flat(page) => page,
            Self::Nested(nested) => &nested.messages,
        }
    }

    /// The page, dropping the envelope.
    pub fn into_page(self) -> MessagesPage {
        match self {
            Self::Flat(page) => page,
            Self::Nested(nested) => nested.messages,
        }
    }

    /// The messages of this page, each with the JSON it was decoded from.
    pub fn messages(&self) -> &[Captured<Message>] {
        &self.page().messages
    }

    /// The id of the last message of this page: pass it back as
    /// `last_message_id` to get the next page.
    pub fn last_message_id(&self) -> &str {
        &self.page().last_message_id
    }

    /// Whether more messages follow this page.
    pub fn next_page(&self) -> bool {
        self.page().next_page
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
        let first = match shape.messages {
            Some(messages) => messages.get().trim_start().bytes().next(),
            None => return Err(D::Error::missing_field("messages")),
        };
        // `Captured::from_raw` names the JSON path of a field that fails.
        match first {
            Some(b'[') => Captured::<MessagesPage>::from_raw(raw)
                .map(|page| Self::Flat(page.into_inner()))
                .map_err(D::Error::custom),
            Some(b'{') => Captured::<NestedMessagesPage>::from_raw(raw)
                .map(|nested| Self::Nested(nested.into_inner()))
                .map_err(D::Error::custom),
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
    fn a_bad_message_is_named_by_its_path_in_either_form() {
        let bad = MESSAGE.replace("2024-03-27T18:13:49.000Z", "yesterday");
        let flat = decode(&format!(r#"{{"lastMessageId":"m1","nextPage":true,"messages":[{bad}]}}"#)).unwrap_err();
        assert!(flat.to_string().starts_with("at `messages[0]`: at `dateAdded`: `yesterday`"), "{flat}");
        let nested = decode(&format!(r#"{{"messages":{{"lastMessageId":"m1","nextPage":true,"messages":[{bad}]}}}}"#))
            .unwrap_err();
        assert!(nested.to_string().starts_with("at `messages.messages[0]`: at `dateAdded`: `yesterday`"), "{nested}");
    }

    #[test]
    fn a_body_without_messages_or_of_another_shape_is_an_error_that_says_so() {
        let missing = decode(r#"{"traceId":"t"}"#).unwrap_err();
        assert!(missing.to_string().contains("missing field `messages`"), "{missing}");
        let wrong = decode(r#"{"messages":"none"}"#).unwrap_err();
        assert!(wrong.to_string().contains("`messages` must be an array"), "{wrong}");
        let not_object = decode("[]").unwrap_err();
        assert!(not_object.to_string().contains("not a JSON object"), "{not_object}");
    }
}
