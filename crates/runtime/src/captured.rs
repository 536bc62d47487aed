use std::fmt;
use std::ops::Deref;

use serde::de::{Deserialize, Deserializer, Error as _};
use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A typed value together with the exact JSON text it was decoded from.
///
/// The generated clients decode every message as `Captured<Message>`: the
/// typed view is there to read (`Deref`), and the raw text keeps what the
/// typed view does not model (new fields, explicit `null`s, number
/// spelling), so nothing a vendor sent is lost. Serializing writes the raw
/// text back unchanged.
///
/// Decoding needs a `serde_json` deserializer over text or bytes (which is
/// what every client uses); other deserializers are refused with an error.
#[derive(Clone)]
pub struct Captured<T> {
    value: T,
    raw: Box<RawValue>,
}

impl<T> Captured<T> {
    /// The typed view.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The JSON exactly as the vendor sent it.
    pub fn raw(&self) -> &RawValue {
        &self.raw
    }

    /// Both halves.
    pub fn into_parts(self) -> (T, Box<RawValue>) {
        (self.value, self.raw)
    }

    /// The typed view, dropping the raw text.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: serde::de::DeserializeOwned> Captured<T> {
    /// Decodes `raw`, keeping it. The error names the JSON path that failed.
    pub fn from_raw(raw: Box<RawValue>) -> Result<Self, serde_json::Error> {
        // The fast path decodes without tracking; only a failure pays for a
        // second, tracked decode that names the path.
        if let Ok(value) = serde_json::from_str(raw.get()) {
            return Ok(Self { value, raw });
        }
        let mut de = serde_json::Deserializer::from_str(raw.get());
        let value = match serde_path_to_error(&mut de) {
            Ok(value) => value,
            Err((path, e)) if path.is_empty() => return Err(e),
            Err((path, e)) => return Err(serde_json::Error::custom(format!("at `{path}`: {e}"))),
        };
        Ok(Self { value, raw })
    }
}

/// A small path tracker: decodes `T` and, on failure, reports the object keys
/// and array indexes that led to the error.
fn serde_path_to_error<'de, T: Deserialize<'de>>(
    de: &mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
) -> Result<T, (String, serde_json::Error)> {
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut *de, &mut track);
    match T::deserialize(tracked) {
        Ok(value) => Ok(value),
        Err(e) => Err((track.path().to_string().trim_start_matches('.').to_owned(), e)),
    }
}

impl<T> Deref for Captured<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Captured<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The typed view only: the raw text is the same data once more.
        self.value.fmt(f)
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
        let raw = Box::<RawValue>::deserialize(d)?;
        Self::from_raw(raw).map_err(D::Error::custom)
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
        assert_eq!(page[0].id, "a");
        assert_eq!(page[0].raw().get(), r#"{"id":"a","n":null,"extra":{"x":1.50}}"#);
        assert_eq!(serde_json::to_string(&page).unwrap(), text);
    }

    #[test]
    fn a_bad_field_is_named_by_its_path() {
        let err = serde_json::from_str::<Vec<Captured<Msg>>>(r#"[{"id":"a","n":"x"}]"#).unwrap_err();
        assert!(err.to_string().contains("at `n`"), "{err}");
    }
}
