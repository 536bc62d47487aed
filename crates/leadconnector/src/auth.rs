use reqwest::header::{HeaderMap, HeaderValue};

use convo_runtime::{ClientOptions, ConfigError, SecretString, base_url, http_client, secret_header};

use crate::{Client, builder};

/// HighLevel's API host.
pub const DEFAULT_BASE_URL: &str = "https://services.leadconnectorhq.com";

/// The `Version` header sent unless another is chosen: the value the vendor
/// page allows. HighLevel's published spec names `2021-04-15` and their SDK
/// sends `2023-02-21`; either can be chosen with
/// [`LeadConnector::with_token_and_version`].
pub const DEFAULT_VERSION: &str = "2021-07-28";

/// A LeadConnector client with its credential and API version configured
/// once.
///
/// Every request carries `Authorization: Bearer <token>` (a sensitive default
/// header of the HTTP client) and the configured `Version` header, which
/// [`LeadConnector::get_messages`] fills into the generated request builder,
/// so that callers never pass it themselves and it goes out exactly once.
#[derive(Debug, Clone)]
pub struct LeadConnector {
    client: Client,
    version: String,
}

impl LeadConnector {
    /// A client for `base_url` (normally [`DEFAULT_BASE_URL`]) that sends
    /// `Authorization: Bearer <token>` and `Version: 2021-07-28`
    /// ([`DEFAULT_VERSION`]) with every request.
    pub fn with_token(base_url: &str, token: SecretString) -> Result<Self, ConfigError> {
        Self::with_token_and_version(base_url, token, DEFAULT_VERSION)
    }

    /// As [`LeadConnector::with_token`], sending `version` as the `Version`
    /// header instead of [`DEFAULT_VERSION`].
    pub fn with_token_and_version(base_url: &str, token: SecretString, version: &str) -> Result<Self, ConfigError> {
        Self::with_token_and_options(base_url, token, version, &ClientOptions::default())
    }

    /// As [`LeadConnector::with_token_and_version`], with explicit HTTP
    /// options.
    pub fn with_token_and_options(
        base: &str,
        token: SecretString,
        version: &str,
        options: &ClientOptions,
    ) -> Result<Self, ConfigError> {
        let version = checked_version(version)?;
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, secret_header("Authorization", "Bearer ", &token)?);
        let (http, state) = http_client(headers, options)?;
        let client = Client::new_with_client(&base_url(base, options)?, http, state);
        Ok(Self { client, version })
    }

    /// The request builder of "Get messages by conversation id", with the
    /// configured `Version` already set. Set `conversation_id` and any of
    /// `last_message_id`, `limit` and `type_`, then `send()`.
    pub fn get_messages(&self) -> builder::GetMessages<'_> {
        self.client.get_messages().version(self.version.as_str())
    }

    /// The `Version` header this client sends.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The generated client underneath. Its builders do not know the
    /// configured version: prefer [`LeadConnector::get_messages`].
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// A version must be a non-empty header value without spaces or controls
/// (HighLevel's versions are dates such as `2021-07-28`).
fn checked_version(version: &str) -> Result<String, ConfigError> {
    let bad = |reason: &str| ConfigError::Parameter { name: "Version", reason: reason.to_owned() };
    if version.is_empty() {
        return Err(bad("the API version is empty"));
    }
    if !version.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(&format!("`{}` holds characters other than visible ASCII", version.escape_debug())));
    }
    HeaderValue::from_str(version).map_err(|e| bad(&e.to_string()))?;
    Ok(version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked_and_named_in_the_error() {
        assert_eq!(checked_version("2023-02-21").unwrap(), "2023-02-21");
        for bad in ["", "2021 07 28", "2021-07-28\n", "versión"] {
            let err = checked_version(bad).unwrap_err();
            assert!(err.to_string().starts_with("invalid Version: "), "{err}");
        }
    }

    #[test]
    fn an_empty_token_is_refused() {
        let err = LeadConnector::with_token(DEFAULT_BASE_URL, SecretString::from("")).unwrap_err();
        assert!(matches!(err, ConfigError::Credential { header: "Authorization" }), "{err}");
    }
}
