//! The vendors convo reads, in one place: their names (and aliases), the
//! order each one lists a conversation's messages in, and the environment
//! variables its client reads.
//!
//! This crate depends on no vendor client, so that the sandbox can use it
//! too and still cannot agree with the clients' mistakes: what a vendor
//! does on the wire is each side's own code.

#![warn(missing_docs)]

use std::fmt;

/// The vendors a message can come from.
// The variants' notes are comments, not doc comments: the model's JSON
// Schema stays a plain string enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Vendor {
    // Infobip Conversations.
    #[allow(missing_docs)]
    Infobip,
    #[allow(missing_docs)]
    Octopush,
    // LeadConnector, HighLevel's API.
    #[allow(missing_docs)]
    Leadconnector,
    #[allow(missing_docs)]
    Bird,
}

/// The environment variables a vendor's client reads (`Client::from_env`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variables {
    /// The base URL; where a vendor has a default, optional.
    pub base_url: &'static str,
    /// The credential's variables, every one required.
    pub credentials: &'static [&'static str],
    /// Optional settings beyond the credential.
    pub optional: &'static [&'static str],
}

/// A vendor's documented request rate limit, per credential: at most
/// `requests` per `per`; `burst` is how many a bucket of that size allows
/// at once (a value for `convo_runtime::RateBudget::new` that stays within
/// the limit whatever the phase of the vendor's own window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests a window.
    pub requests: u32,
    /// The window.
    pub per: std::time::Duration,
    /// Requests at once.
    pub burst: u32,
}

/// The order a vendor lists a conversation's messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    OldestFirst,
    /// Newest first.
    NewestFirst,
    /// As the API lists them; the vendor page does not say.
    AsListed,
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Order::OldestFirst => "oldest first",
            Order::NewestFirst => "newest first",
            Order::AsListed => "in the order the API lists them",
        })
    }
}

impl Vendor {
    /// Every vendor, in a fixed order (the order of [`Vendor::index`]).
    pub const ALL: [Vendor; 4] = [Vendor::Infobip, Vendor::Octopush, Vendor::Leadconnector, Vendor::Bird];

    /// The vendor's name as used on the command line, in JSON and as the
    /// sandbox's path prefix.
    pub const fn as_str(self) -> &'static str {
        match self {
            Vendor::Infobip => "infobip",
            Vendor::Octopush => "octopush",
            Vendor::Leadconnector => "leadconnector",
            Vendor::Bird => "bird",
        }
    }

    /// The vendor's name for people.
    pub const fn display_name(self) -> &'static str {
        match self {
            Vendor::Infobip => "Infobip",
            Vendor::Octopush => "Octopush",
            Vendor::Leadconnector => "LeadConnector (HighLevel)",
            Vendor::Bird => "Bird",
        }
    }

    /// Other names accepted for the vendor.
    pub const fn aliases(self) -> &'static [&'static str] {
        match self {
            Vendor::Leadconnector => &["highlevel"],
            _ => &[],
        }
    }

    /// The vendor's position in [`Vendor::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Vendor::Infobip => 0,
            Vendor::Octopush => 1,
            Vendor::Leadconnector => 2,
            Vendor::Bird => 3,
        }
    }

    /// The order a read of a conversation delivers its messages in (the
    /// clients' default queries).
    pub const fn order(self) -> Order {
        match self {
            // Read on its creation time, `orderBy=createdAt:asc`.
            Vendor::Infobip => Order::OldestFirst,
            Vendor::Octopush => Order::AsListed,
            Vendor::Leadconnector => Order::NewestFirst,
            // Bird's page does not say (`reverse` reverses it).
            Vendor::Bird => Order::AsListed,
        }
    }

    /// The vendor's documented rate limit, where it documents one:
    /// LeadConnector 100 requests per 10 seconds per location (and 200,000 a
    /// day); Bird 50 GET requests a second per workspace and access key (its
    /// own bucket allows a burst of 250). Infobip throttles each endpoint
    /// without documenting its numbers, Octopush documents none: `None`.
    /// The bursts given here are small, so that a budget started at any
    /// moment of the vendor's window stays within it.
    pub const fn rate_limit(self) -> Option<RateLimit> {
        match self {
            Vendor::Leadconnector => {
                Some(RateLimit { requests: 95, per: std::time::Duration::from_secs(10), burst: 5 })
            }
            Vendor::Bird => Some(RateLimit { requests: 50, per: std::time::Duration::from_secs(1), burst: 10 }),
            Vendor::Infobip | Vendor::Octopush => None,
        }
    }

    /// The environment variables the vendor's client reads.
    pub const fn variables(self) -> Variables {
        match self {
            Vendor::Infobip => {
                Variables { base_url: "INFOBIP_BASE_URL", credentials: &["INFOBIP_API_KEY"], optional: &[] }
            }
            Vendor::Octopush => Variables {
                base_url: "OCTOPUSH_BASE_URL",
                credentials: &["OCTOPUSH_API_LOGIN", "OCTOPUSH_API_KEY"],
                optional: &[],
            },
            Vendor::Leadconnector => Variables {
                base_url: "LEADCONNECTOR_BASE_URL",
                credentials: &["LEADCONNECTOR_TOKEN"],
                optional: &["LEADCONNECTOR_VERSION"],
            },
            Vendor::Bird => Variables { base_url: "BIRD_BASE_URL", credentials: &["BIRD_ACCESS_KEY"], optional: &[] },
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no vendor's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVendor(pub String);

impl fmt::Display for UnknownVendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown vendor `{}` (expected one of infobip, octopush, leadconnector or highlevel, bird)", self.0)
    }
}

impl std::error::Error for UnknownVendor {}

impl std::str::FromStr for Vendor {
    type Err = UnknownVendor;
    /// A vendor's name or alias, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Vendor::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s) || v.aliases().iter().any(|a| a.eq_ignore_ascii_case(s)))
            .ok_or_else(|| UnknownVendor(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_parse_back_in_any_case() {
        for vendor in Vendor::ALL {
            assert_eq!(vendor.as_str().parse::<Vendor>(), Ok(vendor));
            assert_eq!(vendor.as_str().to_uppercase().parse::<Vendor>(), Ok(vendor));
            assert_eq!(Vendor::ALL[vendor.index()], vendor);
        }
        assert_eq!("HighLevel".parse::<Vendor>(), Ok(Vendor::Leadconnector));
        let err = "sinch".parse::<Vendor>().unwrap_err();
        assert!(err.to_string().contains("`sinch`"), "{err}");
    }

    #[test]
    fn a_documented_limit_is_never_exceeded_in_any_window() {
        // A bucket of `burst` refilling `requests` per `per` lets at most
        // `burst + requests` through in any window of `per`.
        let documented = [(Vendor::Leadconnector, 100), (Vendor::Bird, 50 + 250)];
        for (vendor, most) in documented {
            let limit = vendor.rate_limit().expect("documented");
            assert!(limit.burst + limit.requests <= most, "{vendor}: {limit:?}");
        }
        assert_eq!(Vendor::Infobip.rate_limit(), None);
        assert_eq!(Vendor::Octopush.rate_limit(), None);
    }

    #[test]
    fn every_variable_is_prefixed_with_the_vendors_name() {
        for vendor in Vendor::ALL {
            let v = vendor.variables();
            let prefix = format!("{}_", vendor.as_str().to_uppercase());
            for name in
                std::iter::once(v.base_url).chain(v.credentials.iter().copied()).chain(v.optional.iter().copied())
            {
                assert!(name.starts_with(&prefix), "{vendor}: {name}");
            }
        }
    }
}
