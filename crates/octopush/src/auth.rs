use reqwest::header::HeaderMap;

use convo_runtime::{
    ClientOptions, ConfigError, SecretString, connect, env_var, header_name, optional_var, required_var, secret_header,
    sensitive_header,
};
use convo_vendors::Vendor;

use crate::Client;

/// Octopush's public API root. The generated client ignores the spec's
/// `servers`, so the `/v1/public` prefix is part of the base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.octopush.com/v1/public";

/// Octopush's credentials: the account's login (its e-mail address) and
/// API key, sent as the `api-login` and `api-key` headers. Both header
/// values are marked sensitive; `Debug` never shows the key.
#[derive(Debug, Clone)]
pub struct Credentials {
    api_login: String,
    api_key: SecretString,
}

impl Credentials {
    /// The account's login and API key (Octopush's dashboard: API & Integrations).
    pub fn new(api_login: impl Into<String>, api_key: impl Into<SecretString>) -> Self {
        Self { api_login: api_login.into(), api_key: api_key.into() }
    }

    /// The login in `OCTOPUSH_API_LOGIN` and the key in `OCTOPUSH_API_KEY`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(env_var)
    }

    /// As [`Credentials::from_env`], reading the variables through `vars`.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let [login, key] = Vendor::Octopush.variables().credentials else {
            unreachable!("Octopush has two credential variables")
        };
        // The key first: without it, the login alone is no use.
        let api_key = required_var(&vars, key)?;
        Ok(Self::new(required_var(&vars, login)?, api_key))
    }
}

impl Client {
    /// A client for `base_url` (normally [`DEFAULT_BASE_URL`]) that sends the
    /// `api-login` and `api-key` headers with every request.
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, ConfigError> {
        Self::with_options(base_url, credentials, &ClientOptions::default())
    }

    /// As [`Client::new`], with explicit HTTP options.
    pub fn with_options(
        base_url: &str,
        credentials: Credentials,
        options: &ClientOptions,
    ) -> Result<Self, ConfigError> {
        let mut headers = HeaderMap::new();
        headers.insert(header_name("api-login"), sensitive_header("api-login", &credentials.api_login)?);
        headers.insert(header_name("api-key"), secret_header("api-key", "", &credentials.api_key)?);
        let (base, http, state) = connect(base_url, headers, options)?;
        Ok(Self::new_with_client(&base, http, state))
    }

    /// A client from the environment: `OCTOPUSH_API_LOGIN`,
    /// `OCTOPUSH_API_KEY`, and `OCTOPUSH_BASE_URL` if set (else
    /// [`DEFAULT_BASE_URL`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(env_var, &ClientOptions::default())
    }

    /// As [`Client::from_env`], reading the variables through `vars` and
    /// with explicit HTTP options.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>, options: &ClientOptions) -> Result<Self, ConfigError> {
        let base = optional_var(&vars, Vendor::Octopush.variables().base_url);
        Self::with_options(base.as_deref().unwrap_or(DEFAULT_BASE_URL), Credentials::from_vars(&vars)?, options)
    }
}
