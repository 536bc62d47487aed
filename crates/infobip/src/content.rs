use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A message's `content`: a JSON object whose shape depends on the message's
/// `contentType`.
///
/// Infobip documents well over a hundred content types, and the same key can
/// mean different things in different ones, so the object is kept whole (the
/// message's `raw()` has its exact text); the accessors read the documented
/// keys leniently. An
/// accessor returns `None` when the key is missing or holds another JSON type
/// than documented, which never fails the page.
///
/// | content type | keys |
/// | --- | --- |
/// | TEXT | [`text`](Content::text) |
/// | IMAGE, VIDEO, AUDIO, DOCUMENT | [`url`](Content::url), [`caption`](Content::caption) |
/// | LOCATION | [`latitude`](Content::latitude), [`longitude`](Content::longitude), [`location_name`](Content::location_name), [`address`](Content::address) |
/// | EMAIL | [`subject`](Content::subject), [`content_html`](Content::content_html), [`content_text`](Content::content_text) |
///
/// Any other key is available through [`Content::get`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Content(Map<String, Value>);

impl Content {
    /// The value under `key`, as sent.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The whole object, as sent.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The whole object, as sent.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.0.get(key).and_then(Value::as_f64)
    }

    /// The text of a TEXT message.
    pub fn text(&self) -> Option<&str> {
        self.str("text")
    }

    /// The media URL of an IMAGE, VIDEO, AUDIO or DOCUMENT message.
    pub fn url(&self) -> Option<&str> {
        self.str("url")
    }

    /// The caption of a media message.
    pub fn caption(&self) -> Option<&str> {
        self.str("caption")
    }

    /// The latitude of a LOCATION message.
    pub fn latitude(&self) -> Option<f64> {
        self.number("latitude")
    }

    /// The longitude of a LOCATION message.
    pub fn longitude(&self) -> Option<f64> {
        self.number("longitude")
    }

    /// The place name of a LOCATION message.
    pub fn location_name(&self) -> Option<&str> {
        self.str("locationName")
    }

    /// The address of a LOCATION message.
    pub fn address(&self) -> Option<&str> {
        self.str("address")
    }

    /// The subject of an EMAIL message.
    pub fn subject(&self) -> Option<&str> {
        self.str("subject")
    }

    /// The HTML body of an EMAIL message.
    pub fn content_html(&self) -> Option<&str> {
        self.str("contentHtml")
    }

    /// The plain-text body of an EMAIL message.
    pub fn content_text(&self) -> Option<&str> {
        self.str("contentText")
    }
}

impl From<Map<String, Value>> for Content {
    fn from(value: Map<String, Value>) -> Self {
        Self(value)
    }
}

impl std::fmt::Display for Content {
    /// The object as compact JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Value::Object(self.0.clone()).to_string())
    }
}

impl schemars::JsonSchema for Content {
    fn schema_name() -> String {
        "MessageContent".to_owned()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        <Map<String, Value>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(json: &str) -> Content {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn documented_keys_are_read() {
        let location = content(r#"{"latitude":45.8,"longitude":15.97,"locationName":"Zagreb","address":"Trg 1"}"#);
        assert_eq!(location.latitude(), Some(45.8));
        assert_eq!(location.longitude(), Some(15.97));
        assert_eq!(location.location_name(), Some("Zagreb"));
        assert_eq!(location.address(), Some("Trg 1"));
        let email = content(r#"{"subject":"Hi","contentHtml":"<p>Hi</p>"}"#);
        assert_eq!(
            (email.subject(), email.content_html(), email.content_text()),
            (Some("Hi"), Some("<p>Hi</p>"), None)
        );
        let image = content(r#"{"url":"https://x/y.png","caption":"y"}"#);
        assert_eq!((image.url(), image.caption()), (Some("https://x/y.png"), Some("y")));
    }

    #[test]
    fn an_unexpected_shape_is_kept_whole() {
        let json = r#"{"text":{"body":"nested"},"buttons":[{"title":"a"}]}"#;
        let c = content(json);
        assert_eq!(c.text(), None);
        assert_eq!(c.get("buttons").unwrap()[0]["title"], "a");
        let expected: Value = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap(), expected);
        assert_eq!(c.to_string().parse::<Value>().unwrap(), expected);
    }

    #[test]
    fn content_that_is_not_an_object_is_refused_with_a_type_error() {
        let err = serde_json::from_str::<Content>("\"text\"").unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
