use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;

use convo_runtime::{ClientOptions, ConfigError, ExposeSecret, SecretString, base_url, http_client, secret_header};

use crate::Client;

/// How the client authenticates. Every form goes out as the `Authorization`
/// header, marked sensitive; `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub enum Auth {
    /// An API key: `Authorization: App <key>`.
    AppKey(SecretString),
    /// An Infobip username and password: `Authorization: Basic <base64(username:password)>`.
    Basic { username: String, password: SecretString },
    /// A session token from Infobip's login: `Authorization: IBSSO <token>`.
    IbSso(SecretString),
    /// An OAuth 2.0 access token: `Authorization: Bearer <token>`.
    Bearer(SecretString),
}

impl Auth {
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
                if password.expose_secret().is_empty() {
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
    /// with `auth`.
    ///
    /// Infobip gives every account its own base URL (`xxxxx.api.infobip.com`,
    /// shown in the portal), so there is no default. It may be given as the
    /// bare host, as Infobip shows it (then `https://` is assumed), or as a
    /// full URL.
    pub fn with_auth(base_url: &str, auth: Auth) -> Result<Self, ConfigError> {
        Self::with_auth_and_options(base_url, auth, &ClientOptions::default())
    }

    /// As [`Client::with_auth`], with explicit HTTP options.
    pub fn with_auth_and_options(base: &str, auth: Auth, options: &ClientOptions) -> Result<Self, ConfigError> {
        let base = if base.contains("://") { base.to_owned() } else { format!("https://{base}") };
        let base = base_url(&base, options)?;
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth.header()?);
        let (http, state) = http_client(headers, options)?;
        Ok(Self::new_with_client(&base, http, state))
    }
}
