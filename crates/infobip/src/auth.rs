use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;

use convo_runtime::{
    ClientOptions, ConfigError, ExposeSecret, SecretString, connect, env_var, required_var, secret_header,
};
use convo_vendors::Vendor;

use crate::Client;

/// How the client authenticates: Infobip's credentials. Every form goes out
/// as the `Authorization` header, marked sensitive; `Debug` never shows a
/// secret.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// An API key: `Authorization: App <key>`.
    AppKey(SecretString),
    /// An Infobip username and password: `Authorization: Basic <base64(username:password)>`.
    Basic {
        /// The username; must be non-empty and hold no `:`.
        username: String,
        /// The password.
        password: SecretString,
    },
    /// A session token from Infobip's login: `Authorization: IBSSO <token>`.
    IbSso(SecretString),
    /// An OAuth 2.0 access token: `Authorization: Bearer <token>`.
    Bearer(SecretString),
}

impl Credentials {
    /// An API key (`Authorization: App <key>`), the usual credential.
    pub fn api_key(key: impl Into<SecretString>) -> Self {
        Self::AppKey(key.into())
    }

    /// The API key in `INFOBIP_API_KEY`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(env_var)
    }

    /// As [`Credentials::from_env`], reading the variables through `vars`.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let [key] = Vendor::Infobip.variables().credentials else {
            unreachable!("Infobip has one credential variable")
        };
        Ok(Self::api_key(required_var(&vars, key)?))
    }

    fn header(&self) -> Result<reqwest::header::HeaderValue, ConfigError> {
        const HEADER: &str = "Authorization";
        match self {
            Self::AppKey(key) => secret_header(HEADER, "App ", key),
            Self::IbSso(token) => secret_header(HEADER, "IBSSO ", token),
            Self::Bearer(token) => secret_header(HEADER, "Bearer ", token),
            Self::Basic { username, password } => {
                if username.is_empty() || username.contains(':') {
                    return Err(ConfigError::Parameter {
                        name: "username",
                        reason: "must be non-empty and must not contain `:` (RFC 7617)".to_owned(),
                    });
                }
                if password.expose_secret().trim().is_empty() {
                    return Err(ConfigError::Credential { header: HEADER });
                }
                let pair = SecretString::from(format!("{username}:{}", password.expose_secret()));
                let encoded = SecretString::from(STANDARD.encode(pair.expose_secret()));
                secret_header(HEADER, "Basic ", &encoded)
            }
        }
    }
}

impl Client {
    /// A client for the account's base URL that authenticates every request
    /// with `credentials`.
    ///
    /// Infobip gives every account its own base URL (`xxxxx.api.infobip.com`,
    /// shown in the portal), so there is no default. It may be given as the
    /// bare host, as Infobip shows it (then `https://` is assumed), or as a
    /// full URL.
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, ConfigError> {
        Self::with_options(base_url, credentials, &ClientOptions::default())
    }

    /// As [`Client::new`], with explicit HTTP options.
    pub fn with_options(
        base_url: &str,
        credentials: Credentials,
        options: &ClientOptions,
    ) -> Result<Self, ConfigError> {
        let base = if base_url.contains("://") { base_url.to_owned() } else { format!("https://{base_url}") };
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, credentials.header()?);
        let (base, http, state) = connect(&base, headers, options)?;
        Ok(Self::new_with_client(&base, http, state))
    }

    /// A client from the environment: `INFOBIP_BASE_URL` (the account's;
    /// there is no default) and `INFOBIP_API_KEY`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(env_var, &ClientOptions::default())
    }

    /// As [`Client::from_env`], reading the variables through `vars` and
    /// with explicit HTTP options.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>, options: &ClientOptions) -> Result<Self, ConfigError> {
        let base = required_var(&vars, Vendor::Infobip.variables().base_url)?;
        Self::with_options(&base, Credentials::from_vars(&vars)?, options)
    }
}
