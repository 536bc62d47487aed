use reqwest::header::{HeaderMap, HeaderValue};

use convo_runtime::{
    ClientOptions, ConfigError, SecretString, connect, env_var, header_name, optional_var, required_var, secret_header,
};
use convo_vendors::Vendor;

use crate::Client;

/// HighLevel's API host.
pub const DEFAULT_BASE_URL: &str = "https://services.leadconnectorhq.com";

/// The `Version` header sent unless another is chosen: the value the vendor
/// page allows. HighLevel's published spec names `2021-04-15` and their SDK
/// sends `2023-02-21`; either can be chosen with
/// [`Credentials::with_version`].
pub const DEFAULT_VERSION: &str = "2021-07-28";

/// LeadConnector's credential: a private integration or OAuth access token,
/// sent as `Authorization: Bearer <token>`, with the API version the token
/// is used at, sent as the `Version` header. `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct Credentials {
    token: SecretString,
    version: String,
}

impl Credentials {
    /// A token, used at [`DEFAULT_VERSION`].
    pub fn new(token: impl Into<SecretString>) -> Self {
        Self { token: token.into(), version: DEFAULT_VERSION.to_owned() }
    }

    /// The same token at another API version (`Version` header).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The `Version` header these credentials send.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The token in `LEADCONNECTOR_TOKEN`, at the version in
    /// `LEADCONNECTOR_VERSION` if set (else [`DEFAULT_VERSION`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(env_var)
    }

    /// As [`Credentials::from_env`], reading the variables through `vars`.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let variables = Vendor::Leadconnector.variables();
        let ([token], [version]) = (variables.credentials, variables.optional) else {
            unreachable!("LeadConnector has one credential variable and one optional")
        };
        let credentials = Self::new(required_var(&vars, token)?);
        Ok(match optional_var(&vars, version) {
            Some(version) => credentials.with_version(version),
            None => credentials,
        })
    }
}

impl Client {
    /// A client for `base_url` (normally [`DEFAULT_BASE_URL`]) that sends
    /// `Authorization: Bearer <token>` and the credentials' `Version`
    /// ([`DEFAULT_VERSION`] unless chosen) with every request, as default
    /// headers: no request of this client can go without them.
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, ConfigError> {
        Self::with_options(base_url, credentials, &ClientOptions::default())
    }

    /// As [`Client::new`], with explicit HTTP options.
    pub fn with_options(
        base_url: &str,
        credentials: Credentials,
        options: &ClientOptions,
    ) -> Result<Self, ConfigError> {
        let version = checked_version(&credentials.version)?;
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, secret_header("Authorization", "Bearer ", &credentials.token)?);
        headers.insert(header_name("version"), version);
        let (base, http, state) = connect(base_url, headers, options)?;
        Ok(Self::new_with_client(&base, http, state))
    }

    /// A client from the environment: `LEADCONNECTOR_TOKEN`,
    /// `LEADCONNECTOR_VERSION` if set (else [`DEFAULT_VERSION`]), and
    /// `LEADCONNECTOR_BASE_URL` if set (else [`DEFAULT_BASE_URL`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(env_var, &ClientOptions::default())
    }

    /// As [`Client::from_env`], reading the variables through `vars` and
    /// with explicit HTTP options.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>, options: &ClientOptions) -> Result<Self, ConfigError> {
        let base = optional_var(&vars, Vendor::Leadconnector.variables().base_url);
        Self::with_options(base.as_deref().unwrap_or(DEFAULT_BASE_URL), Credentials::from_vars(&vars)?, options)
    }
}

/// A version must be a non-empty header value without spaces or controls
/// (HighLevel's versions are dates such as `2021-07-28`).
fn checked_version(version: &str) -> Result<HeaderValue, ConfigError> {
    let bad = |reason: &str| ConfigError::Parameter { name: "Version", reason: reason.to_owned() };
    if version.is_empty() {
        return Err(bad("the API version is empty"));
    }
    if !version.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(&format!("`{}` holds characters other than visible ASCII", version.escape_debug())));
    }
    HeaderValue::from_str(version).map_err(|e| bad(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked_and_named_in_the_error() {
        assert_eq!(checked_version("2023-02-21").unwrap(), "2023-02-21");
        let err = Client::new(DEFAULT_BASE_URL, Credentials::new("pit-1").with_version("2021 07 28")).unwrap_err();
        assert!(err.to_string().starts_with("invalid Version: "), "{err}");
        for bad in ["", "2021 07 28", "2021-07-28\n", "versión"] {
            let err = checked_version(bad).unwrap_err();
            assert!(err.to_string().starts_with("invalid Version: "), "{err}");
        }
    }

    #[test]
    fn an_empty_token_is_refused() {
        let err = Client::new(DEFAULT_BASE_URL, Credentials::new("")).unwrap_err();
        assert!(matches!(err, ConfigError::Credential { header: "Authorization" }), "{err}");
    }
}
