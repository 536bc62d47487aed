use serde::de::{Deserialize, Deserializer, Error as _};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::types::{HtmlBody, ImageBody, TextBody};

/// A message body. Bird names the kind in `type` and puts the payload under
/// the key of the same name: `{"type": "text", "text": {"text": "Hi"}}`.
///
/// The kinds below are typed: the two the page shows and image, whose
/// payload Bird's published spec gives. Every other kind (file, gif,
/// location, carousel, list, section, authentication, template, action, and
/// any Bird adds later), and a known
/// kind whose payload does not have the documented shape, is kept whole in
/// [`Body::Other`] instead of failing the page; so is a body whose `type` is
/// missing or `null` (its `kind` is then empty).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// A `text` body: plain text.
    Text(TextBody),
    /// An `html` body: HTML and its plain-text alternative, each optional.
    Html(HtmlBody),
    /// An `image` body: the images, each by its media URL.
    Image(ImageBody),
    /// A body this version does not type: `kind` is its `type` (empty when
    /// the body has none), `body` the whole object as sent (including `type`).
    Other {
        /// The body's `type`; empty when it has none.
        kind: String,
        /// The whole body object as sent, `type` included.
        body: Map<String, Value>,
    },
}

impl Body {
    /// The body's `type`, as Bird spells it.
    pub fn kind(&self) -> &str {
        match self {
            Self::Text(_) => "text",
            Self::Html(_) => "html",
            Self::Image(_) => "image",
            Self::Other { kind, .. } => kind,
        }
    }
}

impl std::fmt::Display for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} body", self.kind())
    }
}

fn typed<T: for<'a> Deserialize<'a>>(body: &Map<String, Value>, key: &str) -> Option<T> {
    body.get(key).and_then(|payload| T::deserialize(payload).ok())
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let body = Map::<String, Value>::deserialize(d)?;
        let kind = match body.get("type") {
            Some(Value::String(kind)) => kind.clone(),
            // Read leniently, like every response field: no kind to type it by.
            None | Some(Value::Null) => String::new(),
            Some(other) => return Err(D::Error::custom(format!("body `type` must be a string, found {other}"))),
        };
        let known = match kind.as_str() {
            "text" => typed(&body, "text").map(Self::Text),
            "html" => typed(&body, "html").map(Self::Html),
            "image" => typed(&body, "image").map(Self::Image),
            _ => None,
        };
        Ok(known.unwrap_or(Self::Other { kind, body }))
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fn pair<S: Serializer, T: Serialize>(s: S, kind: &str, payload: &T) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry("type", kind)?;
            map.serialize_entry(kind, payload)?;
            map.end()
        }
        match self {
            Self::Text(p) => pair(s, "text", p),
            Self::Html(p) => pair(s, "html", p),
            Self::Image(p) => pair(s, "image", p),
            Self::Other { body, .. } => body.serialize(s),
        }
    }
}

impl schemars::JsonSchema for Body {
    fn schema_name() -> String {
        "MessageBody".to_owned()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        <Map<String, Value>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Body {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn text_and_html_are_typed_and_round_trip() {
        let text = r#"{"type":"text","text":{"text":"Hey"}}"#;
        assert!(matches!(body(text), Body::Text(ref t) if t.text.as_deref() == Some("Hey")));
        assert_eq!(serde_json::to_string(&body(text)).unwrap(), text);
        let html = body(r#"{"type":"html","html":{"text":"t","html":"<p>t</p>"}}"#);
        assert!(matches!(html, Body::Html(ref h) if h.html.as_deref() == Some("<p>t</p>")));
    }

    #[test]
    fn an_unknown_kind_is_kept_whole() {
        let json = r#"{"type":"carousel","carousel":{"items":[{"title":"a"}]},"x":1}"#;
        let b = body(json);
        assert_eq!(b.kind(), "carousel");
        assert!(matches!(b, Body::Other { ref body, .. } if body["carousel"]["items"][0]["title"] == "a"));
        assert_eq!(serde_json::to_value(&b).unwrap(), serde_json::from_str::<Value>(json).unwrap());
    }

    #[test]
    fn a_known_kind_with_an_unexpected_payload_is_kept_whole() {
        let b = body(r#"{"type":"text","text":"not an object"}"#);
        assert!(matches!(b, Body::Other { ref kind, .. } if kind == "text"));
    }

    #[test]
    fn a_body_without_type_is_kept_whole_and_one_of_another_type_is_refused() {
        for json in [r#"{"text":{"text":"a"}}"#, r#"{"type":null,"text":{"text":"a"}}"#] {
            assert!(
                matches!(body(json), Body::Other { ref kind, ref body } if kind.is_empty() && body["text"]["text"] == "a"),
                "{json}"
            );
        }
        let err = serde_json::from_str::<Body>(r#"{"type":3}"#).unwrap_err();
        assert!(err.to_string().contains("body `type` must be a string, found 3"), "{err}");
    }
}
