use reqwest::header::HeaderMap;

use convo_runtime::{ClientOptions, ConfigError, SecretString, base_url, http_client, secret_header};

use crate::Client;

/// Bird's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.bird.com";

impl Client {
    /// A client for `base_url` (normally [`DEFAULT_BASE_URL`]) that sends
    /// `Authorization: AccessKey <access_key>` with every request.
    pub fn with_access_key(base_url: &str, access_key: SecretString) -> Result<Self, ConfigError> {
        Self::with_access_key_and_options(base_url, access_key, &ClientOptions::default())
    }

    /// As [`Client::with_access_key`], with explicit HTTP options.
    pub fn with_access_key_and_options(
        base: &str,
        access_key: SecretString,
        options: &ClientOptions,
    ) -> Result<Self, ConfigError> {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, secret_header("Authorization", "AccessKey ", &access_key)?);
        let (http, state) = http_client(headers, options)?;
        Ok(Self::new_with_client(&base_url(base, options)?, http, state))
    }
}
