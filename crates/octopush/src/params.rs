//! Query parameters that are checked before they can be sent.
//!
//! Octopush never refuses a bad parameter: it casts it, strips characters,
//! or ignores it, and answers 200 with the wrong data. So every parameter
//! with a documented format has a type here whose only constructor checks
//! it, and the generated builder accepts nothing else: a wrong value is a
//! typed [`InvalidParameter`] before any request exists.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A parameter value this client refuses to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{parameter}`: {problem}")]
pub struct InvalidParameter {
    /// The parameter's name on the wire, e.g. `conversation_id`.
    pub parameter: &'static str,
    /// What is wrong with the value.
    pub problem: Problem,
}

/// What is wrong with a parameter value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The value does not start with the documented prefix.
    #[error("`{value}` does not start with `{prefix}`")]
    MissingPrefix {
        /// The documented prefix.
        prefix: &'static str,
        /// The value, as given.
        value: String,
    },
    /// Nothing follows the documented prefix.
    #[error("nothing follows the `{prefix}` prefix")]
    EmptyAfterPrefix {
        /// The documented prefix.
        prefix: &'static str,
    },
    /// The value holds whitespace, which the API would silently strip.
    #[error("`{value}` contains whitespace")]
    Whitespace {
        /// The value, as given.
        value: String,
    },
    /// The number is below the documented minimum.
    #[error("{value} is below the minimum of {minimum}")]
    BelowMinimum {
        /// The number, as given.
        value: u64,
        /// The documented minimum.
        minimum: u64,
    },
}

/// Checks `value` against the documented `<prefix><id>` format.
fn prefixed(parameter: &'static str, prefix: &'static str, value: String) -> Result<String, InvalidParameter> {
    let problem = if value.chars().any(char::is_whitespace) {
        Problem::Whitespace { value }
    } else {
        match value.strip_prefix(prefix) {
            Some("") => Problem::EmptyAfterPrefix { prefix },
            Some(_) => return Ok(value),
            None => Problem::MissingPrefix { prefix, value },
        }
    };
    Err(InvalidParameter { parameter, problem })
}

/// Checks `value` against the documented minimum of 1.
fn at_least_one(parameter: &'static str, value: u64) -> Result<u64, InvalidParameter> {
    if value >= 1 {
        Ok(value)
    } else {
        Err(InvalidParameter { parameter, problem: Problem::BelowMinimum { value, minimum: 1 } })
    }
}

macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $parameter:literal, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Checks that `value` is `", $prefix, "` followed by a non-empty ID without whitespace.")]
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidParameter> {
                prefixed($parameter, $prefix, value.into()).map(Self)
            }

            /// The value as it is sent, prefix included.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidParameter;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::new(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

prefixed_id! {
    /// The `facebook_id` filter: `fid_{facebook_id}`. It restricts the
    /// search to Facebook conversations.
    FacebookId, "facebook_id", "fid_"
}

prefixed_id! {
    /// The `conversation_id` filter: `cid_{uuid}`.
    ConversationId, "conversation_id", "cid_"
}

macro_rules! positive {
    ($(#[$meta:meta])* $name:ident, $parameter:literal, $default:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u64);

        impl $name {
            /// Checks that `value` is at least 1.
            pub fn new(value: u64) -> Result<Self, InvalidParameter> {
                at_least_one($parameter, value).map(Self)
            }

            /// The number as it is sent.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl Default for $name {
            #[doc = concat!("The documented default, ", $default, ".")]
            fn default() -> Self {
                Self($default)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u64(self.0)
            }
        }
    };
}

positive! {
    /// The `page` parameter: the page number, from 1.
    Page, "page", 1
}

positive! {
    /// The `per_page` parameter: the page size, at least 1. The page states
    /// no maximum, so none is enforced.
    PerPage, "per_page", 50
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_values_are_kept_as_given() {
        assert_eq!(ConversationId::new("cid_3fa85f64").unwrap().as_str(), "cid_3fa85f64");
        assert_eq!("fid_123".parse::<FacebookId>().unwrap().to_string(), "fid_123");
        assert_eq!(Page::new(1).unwrap().get(), 1);
        assert_eq!(PerPage::default().get(), 50);
        assert_eq!(Page::default().get(), 1);
    }

    #[test]
    fn each_refusal_names_the_parameter_and_the_problem() {
        let cases = [
            (
                ConversationId::new("3fa85f64").unwrap_err(),
                "invalid `conversation_id`: `3fa85f64` does not start with `cid_`",
            ),
            (ConversationId::new("cid_").unwrap_err(), "invalid `conversation_id`: nothing follows the `cid_` prefix"),
            (
                ConversationId::new("cid_abc\n").unwrap_err(),
                "invalid `conversation_id`: `cid_abc\n` contains whitespace",
            ),
            (FacebookId::new("CID_1").unwrap_err(), "invalid `facebook_id`: `CID_1` does not start with `fid_`"),
            (FacebookId::new("fid_").unwrap_err(), "invalid `facebook_id`: nothing follows the `fid_` prefix"),
            (Page::new(0).unwrap_err(), "invalid `page`: 0 is below the minimum of 1"),
            (PerPage::new(0).unwrap_err(), "invalid `per_page`: 0 is below the minimum of 1"),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }
}
