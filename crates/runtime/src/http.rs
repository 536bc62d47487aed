use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

/// How a vendor client talks HTTP. The defaults are what a production
/// client wants; tests and the sandbox loosen them explicitly.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed for one whole request, headers and body. Default 30 s.
    pub timeout: Duration,
    /// Time allowed to open the connection. Default 10 s.
    pub connect_timeout: Duration,
    /// Allow plain `http://` to hosts other than loopback. Default `false`:
    /// credentials only travel over TLS, or to this machine.
    pub allow_insecure_http: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The largest response body accepted, in bytes; a larger one is
    /// refused without being read whole. Default 32 MiB.
    pub max_body_bytes: u64,
    /// A rate budget every request of the client waits on (retries
    /// included), shared with the other clients given a clone of it: the
    /// clients of one credential (`convo_vendors::Vendor::rate_limit` has
    /// the vendors' documented limits). Default: none.
    pub rate_budget: Option<crate::RateBudget>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            allow_insecure_http: false,
            user_agent: concat!("convo/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_body_bytes: crate::DEFAULT_MAX_BODY_BYTES,
            rate_budget: None,
        }
    }
}

/// A client could not be set up. Never holds a credential's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL cannot be used: it does not parse, holds credentials, a
    /// query or a fragment, or has a scheme other than `https` and `http`.
    #[error("invalid base URL `{url}`: {reason}")]
    BaseUrl {
        /// The base URL, as given, with what a credential pasted into a URL
        /// would be (its user info, query and fragment) shown as
        /// `[REDACTED]`.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// Plain `http://` to a host that is not this machine, without
    /// [`ClientOptions::allow_insecure_http`].
    #[error(
        "invalid base URL `{url}`: plain http is only allowed to loopback hosts; use https or opt in with allow_insecure_http"
    )]
    InsecureHttp {
        /// The base URL, as given (with no user info, query or fragment:
        /// those are refused first).
        url: String,
    },
    /// A credential is empty (or only whitespace) or holds characters not
    /// allowed in an HTTP header.
    #[error("the credential for `{header}` is empty or holds characters not allowed in an HTTP header")]
    Credential {
        /// The name of the header the credential goes in.
        header: &'static str,
    },
    /// A setting of the client that is not a credential's value is invalid
    /// (LeadConnector's API `Version`, an Infobip username).
    #[error("invalid {name}: {reason}")]
    Parameter {
        /// The setting's name.
        name: &'static str,
        /// Why the value is invalid.
        reason: String,
    },
    /// `from_env`: a variable the client needs is not set (or empty).
    #[error("{variable} is not set: the client reads it from the environment")]
    MissingVariable {
        /// The name of the environment variable.
        variable: &'static str,
    },
    /// reqwest could not build the HTTP client.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// The TLS backend could not be set up (with the `rustls-ring` feature:
    /// no CA certificate could be loaded from the system).
    #[error("cannot set up TLS: {reason}")]
    Tls {
        /// What failed, in the TLS library's words.
        reason: String,
    },
}

#[cfg(not(any(feature = "rustls", feature = "rustls-ring")))]
compile_error!("convo-runtime needs a TLS backend: enable its feature `rustls` (the default) or `rustls-ring`");

/// A header value that holds a secret: marked sensitive, so `Debug` of the
/// header map (and of the reqwest client holding it) prints `Sensitive`.
///
/// Whitespace around the value (a `.env` line's trailing space, a pasted
/// key's newline) is dropped: HTTP drops it from a header value anyway, so
/// the vendor sees, and may echo back, the value without it, and that is
/// the value the responses are scrubbed of.
pub fn sensitive_header(header: &'static str, value: &str) -> Result<HeaderValue, ConfigError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ConfigError::Credential { header });
    }
    let mut value = HeaderValue::from_str(value).map_err(|_| ConfigError::Credential { header })?;
    value.set_sensitive(true);
    Ok(value)
}

/// `sensitive_header` for a `SecretString`, with a scheme prefix (`"App "`).
pub fn secret_header(header: &'static str, prefix: &str, secret: &SecretString) -> Result<HeaderValue, ConfigError> {
    if secret.expose_secret().trim().is_empty() {
        return Err(ConfigError::Credential { header });
    }
    sensitive_header(header, &format!("{prefix}{}", secret.expose_secret().trim()))
}

/// Checks a base URL and returns it in the form the generated client wants
/// (no trailing slash). `https` always; `http` only to loopback hosts unless
/// `allow_insecure_http` is set.
pub fn base_url(url: &str, options: &ClientOptions) -> Result<String, ConfigError> {
    let bad = |reason: &str| ConfigError::BaseUrl { url: shown(url), reason: reason.to_owned() };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("credentials go in the client's constructor, not in the URL"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment"));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if options.allow_insecure_http || is_loopback(&parsed) => {}
        "http" => return Err(ConfigError::InsecureHttp { url: url.to_owned() }),
        other => return Err(bad(&format!("unsupported scheme `{other}`"))),
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// `url` as an error may show it: its user info, query and fragment, where
/// a credential pasted into a URL would sit, as `[REDACTED]`. Text that does
/// not parse as a URL loses what stands before its last `@`, after the
/// scheme.
fn shown(url: &str) -> String {
    const REDACTED: &str = crate::limit::REDACTED;
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        let start = url.find("://").map_or(0, |scheme| scheme + 3);
        return match url.rfind('@') {
            Some(at) if at >= start => format!("{}{REDACTED}{}", &url[..start], &url[at..]),
            _ => url.to_owned(),
        };
    };
    let userinfo = !parsed.username().is_empty() || parsed.password().is_some();
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    let query = parsed.query().is_some();
    let fragment = parsed.fragment().is_some();
    parsed.set_query(None);
    parsed.set_fragment(None);
    let mut text = parsed.to_string();
    if userinfo && let Some(scheme) = text.find("://") {
        text.insert_str(scheme + 3, &format!("{REDACTED}@"));
    }
    if query {
        text.push_str(&format!("?{REDACTED}"));
    }
    if fragment {
        text.push_str(&format!("#{REDACTED}"));
    }
    text
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Builds the reqwest client a vendor client runs on: the vendor's
/// credential headers as sensitive default headers, timeouts, TLS verified,
/// and redirects followed only within the same origin (a redirect to another
/// host would otherwise carry custom credential headers along).
///
/// Returns the client with the state its requests carry: the body limit and
/// the credentials' values, which are scrubbed from everything that comes
/// back (see [`crate::ClientState`]).
pub fn http_client(
    headers: HeaderMap,
    options: &ClientOptions,
) -> Result<(reqwest::Client, crate::ClientState), ConfigError> {
    let state = crate::ClientState {
        max_body_bytes: options.max_body_bytes,
        secrets: crate::Secrets::from_headers(&headers),
        budget: options.rate_budget.clone(),
    };
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt.previous().first().is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() >= 5 || !same_origin { attempt.stop() } else { attempt.follow() }
    });
    let builder = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .user_agent(options.user_agent.clone())
        .redirect(policy);
    #[cfg(feature = "rustls-ring")]
    let builder = builder.tls_backend_preconfigured(ring_tls_config()?);
    builder.build().map(|client| (client, state)).map_err(ConfigError::Http)
}

/// The TLS setup of the `rustls-ring` feature: what reqwest's `rustls`
/// feature sets up (TLS 1.2 and 1.3, the platform's certificate verifier,
/// HTTP/1.1 by ALPN), with the ring crypto provider in place of aws-lc-rs.
/// The provider is given to this configuration only, never installed as the
/// process-wide default, so an application's own choice stays its own.
#[cfg(feature = "rustls-ring")]
fn ring_tls_config() -> Result<rustls::ClientConfig, ConfigError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let tls = |e: rustls::Error| ConfigError::Tls { reason: e.to_string() };
    let mut config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(tls)?
            .with_platform_verifier()
            .map_err(tls)?
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A variable `Client::from_env` needs: set and not blank, or
/// [`ConfigError::MissingVariable`] naming it.
#[doc(hidden)]
pub fn required_var(vars: &dyn Fn(&str) -> Option<String>, variable: &'static str) -> Result<String, ConfigError> {
    optional_var(vars, variable).ok_or(ConfigError::MissingVariable { variable })
}

/// A variable that may be absent; a blank value counts as absent.
#[doc(hidden)]
pub fn optional_var(vars: &dyn Fn(&str) -> Option<String>, variable: &str) -> Option<String> {
    vars(variable).filter(|v| !v.trim().is_empty())
}

/// The process environment, as `from_vars` reads it.
#[doc(hidden)]
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Everything a vendor's `Client` is made of: the checked base URL, the
/// HTTP client with `headers` as its default headers, and the state its
/// requests carry.
#[doc(hidden)]
pub fn connect(
    base: &str,
    headers: HeaderMap,
    options: &ClientOptions,
) -> Result<(String, reqwest::Client, crate::ClientState), ConfigError> {
    let base = base_url(base, options)?;
    let (http, state) = http_client(headers, options)?;
    Ok((base, http, state))
}

/// Builds a header name known to be valid.
pub fn header_name(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_trimmed_and_checked() {
        let o = ClientOptions::default();
        assert_eq!(base_url("https://api.bird.com/", &o).unwrap(), "https://api.bird.com");
        assert_eq!(base_url("http://127.0.0.1:8080", &o).unwrap(), "http://127.0.0.1:8080");
        assert_eq!(base_url("http://localhost:1/v1/public/", &o).unwrap(), "http://localhost:1/v1/public");
        assert!(matches!(base_url("http://api.bird.com", &o), Err(ConfigError::InsecureHttp { .. })));
        assert!(base_url("ftp://x", &o).is_err());
        assert!(base_url("https://user:pw@x", &o).is_err());
        assert!(base_url("not a url", &o).is_err());
        let open = ClientOptions { allow_insecure_http: true, ..o };
        assert_eq!(base_url("http://api.bird.com", &open).unwrap(), "http://api.bird.com");
    }

    #[test]
    fn a_refused_base_url_never_shows_the_credential_it_holds() {
        let o = ClientOptions::default();
        for (url, shown) in [
            ("http://user:pa55-word@127.0.0.1:9/v1", "http://[REDACTED]@127.0.0.1:9/v1"),
            ("https://token-only@api.bird.com/", "https://[REDACTED]@api.bird.com/"),
            ("https://api.bird.com/?access_key=pa55-word#frag", "https://api.bird.com/?[REDACTED]#[REDACTED]"),
            ("http://user:pa55-word@host:notaport/", "http://[REDACTED]@host:notaport/"),
        ] {
            let error = base_url(url, &o).unwrap_err().to_string();
            assert!(!error.contains("pa55-word") && !error.contains("token-only"), "{error}");
            assert!(error.contains(shown), "{error}");
        }
    }

    #[test]
    fn credential_headers_are_sensitive_and_never_debug_printed() {
        let secret = SecretString::from("s3cr3t-value");
        let value = secret_header("authorization", "AccessKey ", &secret).unwrap();
        assert!(value.is_sensitive());
        let mut map = HeaderMap::new();
        map.insert("authorization", value);
        let (client, state) = http_client(map.clone(), &ClientOptions::default()).unwrap();
        for text in [format!("{map:?}"), format!("{client:?}"), format!("{secret:?}"), format!("{state:?}")] {
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }

    #[test]
    fn whitespace_around_a_credential_is_not_sent_and_its_echo_is_scrubbed() {
        assert_eq!(sensitive_header("api-key", "k3y-s3cr3t \t").unwrap().as_bytes(), b"k3y-s3cr3t");
        let secret = SecretString::from(" t0k3n-s3cr3t\n");
        let value = secret_header("authorization", "Bearer ", &secret).unwrap();
        assert_eq!(value.as_bytes(), b"Bearer t0k3n-s3cr3t");
        let mut map = HeaderMap::new();
        map.insert("authorization", value);
        let secrets = crate::Secrets::from_headers(&map);
        let echoed = secrets.scrub(b"{\"message\":\"bad token t0k3n-s3cr3t\"}".to_vec());
        assert_eq!(String::from_utf8(echoed).unwrap(), "{\"message\":\"bad token [REDACTED]\"}");
    }

    #[test]
    fn empty_or_malformed_credentials_are_refused_without_echoing_them() {
        let err = sensitive_header("api-key", "bad\nvalue").unwrap_err();
        assert!(!err.to_string().contains("bad"), "{err}");
        assert!(sensitive_header("api-key", "  ").is_err());
    }
}
