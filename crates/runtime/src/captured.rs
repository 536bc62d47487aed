use std::fmt;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A vendor's message: the exact JSON text it came as, and its typed view,
/// or why it has none.
///
/// The generated clients decode every message as `Captured<Message>`. The
/// raw text is always there: it keeps what the typed view does not model
/// (new fields, explicit `null`s, number spelling), so nothing a vendor sent
/// is lost, and serializing writes it back unchanged.
///
/// A message that cannot be decoded at all (no id, a field of a type the
/// view cannot read, not an object) does not fail its page: it is captured
/// with a [`MessageError`] naming the JSON path that failed, beside its raw
/// text, and the page's other messages decode as usual. Read the typed view
/// with [`Captured::value`] or [`Captured::decoded`].
///
/// Decoding needs a `serde_json` deserializer over text or bytes (which is
/// what every client uses); other deserializers are refused with an error.
#[derive(Clone)]
pub struct Captured<T> {
    value: Result<T, MessageError>,
    raw: Box<RawValue>,
}

/// Why one message could not be decoded: where inside the message, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("at `{path}`: {reason}")]
pub struct MessageError {
    /// The JSON path inside the message that failed (`createdAt`,
    /// `sender.id`, `recipients[2]`); `.` for the message itself (one that
    /// is not an object, or lacks its id).
    pub path: String,
    /// What was wrong there, in serde's words.
    pub reason: String,
}

impl<T> Captured<T> {
    /// The typed view; `None` when the message could not be decoded.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref().ok()
    }

    /// The typed view, or why there is none.
    pub fn decoded(&self) -> Result<&T, &MessageError> {
        self.value.as_ref()
    }

    /// Why the message could not be decoded; `None` when it was.
    pub fn error(&self) -> Option<&MessageError> {
        self.value.as_ref().err()
    }

    /// The JSON exactly as the vendor sent it.
    pub fn raw(&self) -> &RawValue {
        &self.raw
    }

    /// Both halves.
    pub fn into_parts(self) -> (Result<T, MessageError>, Box<RawValue>) {
        (self.value, self.raw)
    }

    /// The typed view (or why there is none), dropping the raw text.
    pub fn into_inner(self) -> Result<T, MessageError> {
        self.value
    }
}

impl<T: serde::de::DeserializeOwned> Captured<T> {
    /// Decodes `raw`, keeping it. Never fails: a message that does not
    /// decode is kept with the error naming the JSON path that failed.
    pub fn from_raw(raw: Box<RawValue>) -> Self {
        Self { value: decode_with_path(raw.get()), raw }
    }
}

/// Decodes `text` as `T`; on failure, the error names the JSON path that
/// failed (`.` for the top).
///
/// The fast path decodes without tracking; only a failure pays for a
/// second, tracked decode that names the path.
pub fn decode_with_path<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, MessageError> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut de, &mut track);
    match T::deserialize(tracked) {
        // Cannot happen (the same text failed untracked); kept total.
        Ok(value) => Ok(value),
        Err(e) => {
            let path = track.path().to_string();
            let path = path.trim_start_matches('.');
            let path = if path.is_empty() { ".".to_owned() } else { path.to_owned() };
            Err(MessageError { path, reason: without_position(&e) })
        }
    }
}

/// serde_json's message without its ` at line 1 column 5` suffix: the
/// position counts inside the message's own text, not the page's, so it
/// would only mislead.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => text[..at].to_owned(),
        _ => text,
    }
}

impl<T: fmt::Debug> fmt::Debug for Captured<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The typed view only (the raw text is the same data once more),
        // or, for a message that did not decode, the error and the text.
        match &self.value {
            Ok(value) => value.fmt(f),
            Err(error) => f.debug_struct("Undecodable").field("error", error).field("raw", &self.raw.get()).finish(),
        }
    }
}

impl<T: PartialEq> PartialEq for Captured<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.raw.get() == other.raw.get()
    }
}

impl<T> Serialize for Captured<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Captured<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only text that is not JSON at all fails here (and then the page
        // is not JSON either); a message of the wrong shape is captured.
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(Self::from_raw(raw))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Captured<T> {
    fn schema_name() -> String {
        T::schema_name()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        T::json_schema(generator)
    }
    fn is_referenceable() -> bool {
        T::is_referenceable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Msg {
        id: String,
        n: Option<u32>,
    }

    #[test]
    fn keeps_fields_and_nulls_the_type_does_not_model() {
        let text = r#"[{"id":"a","n":null,"extra":{"x":1.50}}]"#;
        let page: Vec<Captured<Msg>> = serde_json::from_str(text).unwrap();
        assert_eq!(page[0].value().unwrap().id, "a");
        assert_eq!(page[0].raw().get(), r#"{"id":"a","n":null,"extra":{"x":1.50}}"#);
        assert_eq!(serde_json::to_string(&page).unwrap(), text);
    }

    #[test]
    fn a_message_that_does_not_decode_is_isolated_with_its_path_and_text() {
        let text = r#"[{"id":"a","n":"x"},{"n":1},7,{"id":"b"}]"#;
        let page: Vec<Captured<Msg>> = serde_json::from_str(text).unwrap();
        let errors: Vec<Option<(&str, &str)>> =
            page.iter().map(|m| m.error().map(|e| (e.path.as_str(), e.reason.as_str()))).collect();
        assert_eq!(errors[0].map(|e| e.0), Some("n"));
        assert!(errors[0].unwrap().1.starts_with("invalid type: string \"x\""), "{errors:?}");
        assert_eq!(errors[1], Some((".", "missing field `id`")));
        assert_eq!(errors[2].map(|e| e.0), Some("."));
        assert!(errors[2].unwrap().1.starts_with("invalid type: integer `7`"), "{errors:?}");
        assert_eq!(errors[3], None);
        assert_eq!(page[2].raw().get(), "7");
        assert_eq!(page[3].value(), Some(&Msg { id: "b".into(), n: None }));
        // The page serializes back as it came, the isolated messages included.
        assert_eq!(serde_json::to_string(&page).unwrap(), text);
    }

    #[test]
    fn text_that_is_not_json_still_fails() {
        assert!(serde_json::from_str::<Vec<Captured<Msg>>>("[{\"id\":").is_err());
    }
}
