//! Probe round 11a: the clients' constructors as a Rust user calls them.
//!
//! Failing when written (bugs), fixed the same day:
//! `a_refused_base_url_never_echoes_the_password_it_holds`,
//! `a_refused_base_url_never_echoes_a_key_in_its_query` (a refused base URL
//! is shown with its user info, query and fragment as `[REDACTED]`),
//! `a_long_credential_builds_a_client_quickly` (the scrubber's automaton is
//! a contiguous NFA, not a DFA whose build grew with the token's length).
//!
//! Passing probes: `odd_credentials_are_typed_errors_never_panics`,
//! `base_url_forms_are_accepted_or_typed_errors`.

use convo_runtime::{ClientOptions, ConfigError, SecretString};

type Build = fn(&str, &str, &ClientOptions) -> Result<(), ConfigError>;

fn constructors() -> Vec<(&'static str, Build)> {
    vec![
        ("infobip", |u, k, o| {
            convo_infobip::Client::with_options(u, convo_infobip::Credentials::api_key(SecretString::from(k)), o)
                .map(drop)
        }),
        ("infobip basic", |u, k, o| {
            convo_infobip::Client::with_options(
                u,
                convo_infobip::Credentials::Basic { username: "user".into(), password: SecretString::from(k) },
                o,
            )
            .map(drop)
        }),
        ("octopush", |u, k, o| {
            convo_octopush::Client::with_options(
                u,
                convo_octopush::Credentials::new("me@example.com", SecretString::from(k)),
                o,
            )
            .map(drop)
        }),
        ("leadconnector", |u, k, o| {
            convo_leadconnector::Client::with_options(
                u,
                convo_leadconnector::Credentials::new(SecretString::from(k)),
                o,
            )
            .map(drop)
        }),
        ("bird", |u, k, o| {
            convo_bird::Client::with_options(u, convo_bird::Credentials::new(SecretString::from(k)), o).map(drop)
        }),
    ]
}

fn texts(err: &ConfigError) -> Vec<String> {
    let mut out = vec![err.to_string(), format!("{err:?}"), format!("{err:#?}")];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push(s.to_string());
        source = s.source();
    }
    out
}

/// What: a base URL with a password in its userinfo
/// (`https://user:Pa55-S3cret-w0rd@api.example.com`), given to every
/// client's `with_options`.
/// Observed: refused (good), but `ConfigError::BaseUrl`'s `Display` and
/// `Debug` print the URL "as given", password included.
/// Why a bug: SECURITY.md, "No credential value appears ... in the
/// `Display` or `Debug` of any error"; the refusal exists precisely because
/// the URL holds a credential, and then echoes it (into logs, the CLI's
/// stderr via `*_BASE_URL`).
#[test]
fn a_refused_base_url_never_echoes_the_password_it_holds() {
    let secret = "Pa55-S3cret-w0rd";
    let mut leaks = Vec::new();
    for (vendor, build) in constructors() {
        for url in [format!("https://user:{secret}@api.example.com"), format!("http://user:{secret}@127.0.0.1:9")] {
            let err = build(&url, "a-valid-key-123", &ClientOptions::default()).expect_err("userinfo accepted");
            for t in texts(&err) {
                if t.contains(secret) {
                    leaks.push(format!("{vendor}: {t}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "password echoed:\n{}", leaks.join("\n"));
}

/// What: a base URL carrying the key in its query
/// (`https://api.example.com/?access_key=K3y-S3cret-value`).
/// Observed: refused as "a base URL has no query or fragment", with the
/// whole URL, key included, in the error's `Display`/`Debug`.
/// Why a bug: a key in a query string is the classic way a credential is
/// (wrongly) passed; the error refusing it must not print it.
#[test]
fn a_refused_base_url_never_echoes_a_key_in_its_query() {
    let secret = "K3y-S3cret-value";
    let mut leaks = Vec::new();
    for (vendor, build) in constructors() {
        for url in [
            format!("https://api.example.com/?access_key={secret}"),
            format!("https://api.example.com/#token={secret}"),
        ] {
            let err = build(&url, "a-valid-key-123", &ClientOptions::default()).expect_err("query accepted");
            for t in texts(&err) {
                if t.contains(secret) {
                    leaks.push(format!("{vendor}: {t}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "key echoed:\n{}", leaks.join("\n"));
}

#[test]
fn odd_credentials_are_typed_errors_never_panics() {
    let long = "k".repeat(16 << 10);
    let odd = ["", " ", "\n", "key\nwith-newline", "kéy-non-ascii", "key\0nul", "key\r\nX-Injected: 1", "\u{7f}del"];
    for (vendor, build) in constructors() {
        for key in odd {
            let r = std::panic::catch_unwind(|| build("https://api.example.com", key, &ClientOptions::default()));
            let r = r.unwrap_or_else(|_| panic!("{vendor}: panic on {:?}", &key[..key.len().min(20)]));
            if let Err(e) = &r {
                for t in texts(e) {
                    assert!(key.len() < 4 || !t.contains(key.trim()), "{vendor}: echoed {t}");
                }
            }
            if *vendor != *"infobip basic" && key.trim().contains('\n') {
                assert!(r.is_err(), "{vendor}: inner newline accepted");
            }
        }
    }
}

#[test]
fn base_url_forms_are_accepted_or_typed_errors() {
    let o = ClientOptions::default();
    for (vendor, build) in constructors() {
        for url in ["http://127.0.0.1:9/", "http://127.0.0.1:9/prefix/", "http://[::1]:9", "http://localhost:9/a/b"] {
            assert!(build(url, "a-valid-key-123", &o).is_ok(), "{vendor}: {url}");
        }
        for url in
            ["", " ", "http://", "https://", "http://[::1", "http://127.0.0.1:99999", "mailto:x@y", "//api.example.com"]
        {
            let r = std::panic::catch_unwind(|| build(url, "a-valid-key-123", &o))
                .unwrap_or_else(|_| panic!("{vendor}: panic on {url:?}"));
            // Infobip takes a bare host, so "" etc. may become https://...
            if vendor.starts_with("infobip") {
                continue;
            }
            assert!(r.is_err(), "{vendor}: {url:?} accepted");
        }
    }
}

/// What: `convo_bird::Client::new` with a long credential (visible ASCII,
/// header-valid; OAuth/JWT bearer tokens Infobip and LeadConnector take are
/// commonly 1-2 KiB; 16 KiB here).
/// Was (debug build, this machine): 16.3 s to build one client with a
/// 1 KiB key, a 16 KiB one did not finish within minutes (release: 58 s):
/// `Secrets::from_headers` built every form of the value into one
/// aho-corasick DFA, whose build grows with the patterns' length times the
/// alphabet. Fixed the same day: a contiguous NFA (5.6 ms in release for
/// 16 KiB, searched as fast).
/// The bound is a hang guard, generous for a debug build on a loaded
/// machine, not a speed target (BENCHMARKS.md holds those).
#[test]
fn a_long_credential_builds_a_client_quickly() {
    let key = "k".repeat(16 << 10);
    let start = std::time::Instant::now();
    convo_bird::Client::new("https://api.example.com", convo_bird::Credentials::new(SecretString::from(key.as_str())))
        .unwrap();
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(60), "16 KiB key: client built in {took:?}");
}
