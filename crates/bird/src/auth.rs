use reqwest::header::HeaderMap;

use convo_runtime::{
    ClientOptions, ConfigError, SecretString, connect, env_var, optional_var, required_var, secret_header,
};
use convo_vendors::Vendor;

use crate::Client;

/// Bird's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.bird.com";

/// Bird's credential: an access key, sent as `Authorization: AccessKey
/// <key>`. `Debug` never shows it.
#[derive(Debug, Clone)]
pub struct Credentials {
    access_key: SecretString,
}

impl Credentials {
    /// An access key (Bird's dashboard: Settings, Security, Access keys).
    pub fn new(access_key: impl Into<SecretString>) -> Self {
        Self { access_key: access_key.into() }
    }

    /// The access key in `BIRD_ACCESS_KEY`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(env_var)
    }

    /// As [`Credentials::from_env`], reading the variables through `vars`.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let [key] = Vendor::Bird.variables().credentials else { unreachable!("Bird has one credential variable") };
        Ok(Self::new(required_var(&vars, key)?))
    }
}

impl Client {
    /// A client for `base_url` (normally [`DEFAULT_BASE_URL`]) that sends
    /// `Authorization: AccessKey <access_key>` with every request.
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
        headers.insert(
            reqwest::header::AUTHORIZATION,
            secret_header("Authorization", "AccessKey ", &credentials.access_key)?,
        );
        let (base, http, state) = connect(base_url, headers, options)?;
        Ok(Self::new_with_client(&base, http, state))
    }

    /// A client from the environment: `BIRD_ACCESS_KEY`, and `BIRD_BASE_URL`
    /// if set (else [`DEFAULT_BASE_URL`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(env_var, &ClientOptions::default())
    }

    /// As [`Client::from_env`], reading the variables through `vars` and
    /// with explicit HTTP options.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>, options: &ClientOptions) -> Result<Self, ConfigError> {
        let base = optional_var(&vars, Vendor::Bird.variables().base_url);
        Self::with_options(base.as_deref().unwrap_or(DEFAULT_BASE_URL), Credentials::from_vars(&vars)?, options)
    }
}
