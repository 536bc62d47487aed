use reqwest::header::HeaderMap;

use convo_runtime::{
    ClientOptions, ConfigError, SecretString, base_url, header_name, http_client, secret_header, sensitive_header,
};

use crate::Client;

/// Octopush's public API root. The generated client ignores the spec's
/// `servers`, so the `/v1/public` prefix is part of the base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.octopush.com/v1/public";

impl Client {
    /// A client for `base_url` (normally [`DEFAULT_BASE_URL`]) that sends the
    /// `api-login` and `api-key` headers with every request. Both header
    /// values are marked sensitive, so neither is ever printed by `Debug`.
    pub fn with_credentials(
        base_url: &str,
        api_login: impl AsRef<str>,
        api_key: SecretString,
    ) -> Result<Self, ConfigError> {
        Self::with_credentials_and_options(base_url, api_login, api_key, &ClientOptions::default())
    }

    /// As [`Client::with_credentials`], with explicit HTTP options.
    pub fn with_credentials_and_options(
        base: &str,
        api_login: impl AsRef<str>,
        api_key: SecretString,
        options: &ClientOptions,
    ) -> Result<Self, ConfigError> {
        let mut headers = HeaderMap::new();
        headers.insert(header_name("api-login"), sensitive_header("api-login", api_login.as_ref())?);
        headers.insert(header_name("api-key"), secret_header("api-key", "", &api_key)?);
        let (http, state) = http_client(headers, options)?;
        Ok(Self::new_with_client(&base_url(base, options)?, http, state))
    }
}
