/// Declares an open enumeration: one variant per documented value plus
/// `Other(String)`, which keeps any value the vendor sends that this version
/// does not know. It (de)serializes as the plain string, so an unknown value
/// never fails a page and is written back exactly as it came.
///
/// ```
/// convo_runtime::open_enum! {
///     /// A colour.
///     pub enum Colour { Red = "red", Green = "green" }
/// }
/// let c: Colour = serde_json::from_str("\"mauve\"").unwrap();
/// assert_eq!(c, Colour::Other("mauve".into()));
/// assert_eq!(serde_json::to_string(&c).unwrap(), "\"mauve\"");
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $lit:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* #[doc = concat!("`", $lit, "`")] $variant, )*
            /// A value this version does not know, kept exactly as the vendor sent it.
            Other(::std::string::String),
        }

        impl $name {
            /// Every documented value, as the vendor spells it.
            pub const KNOWN: &'static [&'static str] = &[$($lit),*];

            /// The value as the vendor spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $lit, )*
                    Self::Other(value) => value.as_str(),
                }
            }

            /// Whether the value is one of the documented ones.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $lit => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    $( $lit => Self::$variant, )*
                    _ => Self::Other(value),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                $crate::__private::visit_str(d, |v: &str| Self::from(v), |v: ::std::string::String| Self::from(v))
            }
        }

        impl $crate::__private::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::string::String {
                stringify!($name).to_owned()
            }
            fn json_schema(_: &mut $crate::__private::schemars::r#gen::SchemaGenerator) -> $crate::__private::schemars::schema::Schema {
                use $crate::__private::schemars::schema::*;
                let mut schema = SchemaObject {
                    instance_type: Some(InstanceType::String.into()),
                    ..Default::default()
                };
                schema.metadata().description = Some(format!(
                    "Open enumeration: one of {:?}, or any other string the vendor sends.",
                    Self::KNOWN
                ));
                schema.extensions.insert(
                    "x-extensible-enum".to_owned(),
                    ::serde_json::Value::from(Self::KNOWN.to_vec()),
                );
                Schema::Object(schema)
            }
        }
    };
}

/// Reads a JSON string without allocating when the text can be borrowed or
/// is handed over for a moment (`map_str`), taking it whole when it is
/// already owned (`map_string`). What `Cow<str>` reads, without its copy
/// (serde's `Cow` always copies); the same "a string" in a type error.
#[doc(hidden)]
pub fn visit_str<'de, D, T>(d: D, map_str: fn(&str) -> T, map_string: fn(String) -> T) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Visitor<T> {
        map_str: fn(&str) -> T,
        map_string: fn(String) -> T,
    }
    impl<T> serde::de::Visitor<'_> for Visitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            Ok((self.map_str)(v))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<T, E> {
            Ok((self.map_string)(v))
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<T, E> {
            match std::str::from_utf8(v) {
                Ok(s) => Ok((self.map_str)(s)),
                Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(v), &self)),
            }
        }
    }
    d.deserialize_str(Visitor { map_str, map_string })
}

#[cfg(test)]
mod tests {
    open_enum! {
        enum Fruit { Apple = "apple", Pear = "PEAR" }
    }

    #[test]
    fn known_values_map_to_their_variant() {
        let f: Fruit = serde_json::from_str("\"PEAR\"").unwrap();
        assert_eq!(f, Fruit::Pear);
        assert!(f.is_known());
        assert_eq!(serde_json::to_string(&Fruit::Apple).unwrap(), "\"apple\"");
    }

    #[test]
    fn unknown_values_are_kept_verbatim() {
        let f: Fruit = serde_json::from_str("\"pear\"").unwrap();
        assert_eq!(f, Fruit::Other("pear".into()));
        assert!(!f.is_known());
        assert_eq!(f.to_string(), "pear");
        assert_eq!(serde_json::to_string(&f).unwrap(), "\"pear\"");
    }

    #[test]
    fn non_strings_are_refused_with_a_type_error() {
        let err = serde_json::from_str::<Fruit>("3").unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
