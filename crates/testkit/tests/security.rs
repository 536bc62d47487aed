//! What the four clients promise about security (SECURITY.md), each checked
//! against what a real local server received or what the client returned:
//!
//! - identifiers and cursors are percent-encoded into one path segment or
//!   one query value;
//! - TLS certificates are verified by default;
//! - plain `http://` goes to loopback hosts only, unless opted in;
//! - a redirect to another origin never carries the credential;
//! - a response body over the limit is refused without being read whole;
//! - deeply nested JSON is an error, not a stack overflow;
//! - no credential appears in any `Debug` / `Display` or panic message.
//!
//! The servers here are raw TCP (or TLS) listeners on 127.0.0.1 that record
//! the request head exactly as it arrived, before any URL normalization.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use convo_runtime::{ClientOptions, PagingError, PagingOptions, RetryPolicy, SecretString};

// ---------------------------------------------------------------------------
// A recording HTTP/1.1 server

/// One request head as it arrived.
#[derive(Debug, Clone)]
struct Seen {
    /// The request target exactly as sent (`/a%2Fb?x=1`).
    target: String,
    /// Header names lowercased, values as sent.
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
    /// The decoded values of query parameter `name`.
    fn query_values(&self, name: &str) -> Vec<String> {
        self.query()
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| decode(v, true))
            .collect()
    }
}

/// Decodes `%XX` escapes; in a query value (`plus_is_space`) `+` is a space.
fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ASCII");
                out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("`%{hex}` in `{text}`")));
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// What the server answers.
#[derive(Clone)]
enum Reply {
    /// A status with a JSON body.
    Json(u16, &'static str),
    /// A redirect to this absolute URL.
    Redirect(String),
    /// `200` with a chunked body that never ends (until the client hangs up,
    /// or 256 MiB at most).
    Endless,
    /// `200` declaring a body of this many bytes, sending none of it.
    Declared(u64),
}

/// A server that records every request head and answers with `reply(target)`.
struct Server {
    base: String,
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Body bytes written by `Reply::Endless`, over all connections.
    streamed: Arc<AtomicU64>,
}

impl Server {
    async fn start(reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let streamed = Arc::new(AtomicU64::new(0));
        let reply = Arc::new(reply);
        let (s, b) = (Arc::clone(&seen), Arc::clone(&streamed));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (seen, streamed, reply) = (Arc::clone(&s), Arc::clone(&b), Arc::clone(&reply));
                tokio::spawn(async move { handle(stream, &seen, &streamed, &*reply).await });
            }
        });
        Self { base: format!("http://127.0.0.1:{port}"), port, seen, streamed }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn only(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "expected one request, got {seen:#?}");
        seen.into_iter().next().unwrap()
    }
}

async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Seen> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let target = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Seen { target, headers })
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    seen: &Mutex<Vec<Seen>>,
    streamed: &AtomicU64,
    reply: &(dyn Fn(&str) -> Reply + Send + Sync),
) {
    let Some(head) = read_head(&mut stream).await else { return };
    let answer = reply(&head.target);
    seen.lock().unwrap().push(head);
    let result = match answer {
        Reply::Json(status, body) => {
            let text = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(text.as_bytes()).await
        }
        Reply::Redirect(location) => {
            let text =
                format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            stream.write_all(text.as_bytes()).await
        }
        Reply::Declared(len) => {
            let text = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
            );
            let result = stream.write_all(text.as_bytes()).await.and(stream.flush().await);
            // Hold the connection open without a byte of the body.
            tokio::time::sleep(Duration::from_secs(30)).await;
            result
        }
        Reply::Endless => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            let chunk_data = vec![b'['; 64 * 1024];
            let mut chunk = format!("{:x}\r\n", chunk_data.len()).into_bytes();
            chunk.extend_from_slice(&chunk_data);
            chunk.extend_from_slice(b"\r\n");
            let mut result = stream.write_all(head.as_bytes()).await;
            while result.is_ok() && streamed.load(Ordering::Relaxed) < 256 * 1024 * 1024 {
                result = stream.write_all(&chunk).await;
                if result.is_ok() {
                    streamed.fetch_add(chunk_data.len() as u64, Ordering::Relaxed);
                }
            }
            result
        }
    };
    let _ = result;
    let _ = stream.shutdown().await;
}

fn no_retry() -> PagingOptions {
    PagingOptions { retry: RetryPolicy::none(), ..PagingOptions::default() }
}

// ---------------------------------------------------------------------------
// The four clients, built the same way

const SECRET: &str = "s3cr3t-Cr3d3nt1al-value-9f2c";
const LOGIN: &str = "login-s3cr3t-4471@example.com";

fn infobip(base: &str, options: &ClientOptions) -> convo_infobip::Client {
    convo_infobip::Client::with_options(base, convo_infobip::Credentials::AppKey(SecretString::from(SECRET)), options)
        .unwrap()
}
fn octopush(base: &str, options: &ClientOptions) -> convo_octopush::Client {
    convo_octopush::Client::with_options(
        base,
        convo_octopush::Credentials::new(LOGIN, SecretString::from(SECRET)),
        options,
    )
    .unwrap()
}
fn leadconnector(base: &str, options: &ClientOptions) -> convo_leadconnector::Client {
    convo_leadconnector::Client::with_options(
        base,
        convo_leadconnector::Credentials::new(SecretString::from(SECRET))
            .with_version(convo_leadconnector::DEFAULT_VERSION),
        options,
    )
    .unwrap()
}
fn bird(base: &str, options: &ClientOptions) -> convo_bird::Client {
    convo_bird::Client::with_options(base, convo_bird::Credentials::new(SecretString::from(SECRET)), options).unwrap()
}

/// Whether a request head carries any of the credentials.
fn carries_credentials(seen: &Seen) -> bool {
    seen.headers.iter().any(|(name, value)| {
        name == "authorization"
            || name == "api-key"
            || name == "api-login"
            || value.contains(SECRET)
            || value.contains(LOGIN)
    })
}

// ---------------------------------------------------------------------------
// Encoding: one identifier, one path segment; one cursor, one query value

/// Identifiers that would escape their path segment or query value if they
/// were not encoded. (`...` is an ordinary segment; `.` and `..` cannot be
/// path segments at all: see the test below.)
const HOSTILE: [&str; 9] =
    ["a/b", "x?y=1", "x#frag", "100%25", "two words", "ünï/cödé", "../../admin?x=1#y", "a/./b/../c", "..."];

/// Ids that a URL would read as dot-segments (or an empty segment), which
/// would change the request's path: refused by every client, nothing sent.
const NOT_A_SEGMENT: [&str; 3] = [".", "..", ""];

#[tokio::test]
async fn dot_segment_and_empty_ids_are_refused_before_anything_is_sent() {
    let server = Server::start(|_| Reply::Json(200, EMPTY_INFOBIP)).await;
    let options = ClientOptions::default();
    for id in NOT_A_SEGMENT {
        let err = infobip(&server.base, &options).get_messages().conversation_id(id).send().await.unwrap_err();
        assert!(
            matches!(err, convo_infobip::RequestError::InvalidRequest(ref m) if m.contains("conversation_id")),
            "infobip {id:?}: {err:?}"
        );
        let err = leadconnector(&server.base, &options).get_messages().conversation_id(id).send().await.unwrap_err();
        assert!(
            matches!(err, convo_leadconnector::RequestError::InvalidRequest(ref m) if m.contains("conversation_id")),
            "leadconnector {id:?}: {err:?}"
        );
        for (workspace, conversation) in [(id, "c"), ("w", id)] {
            let err = bird(&server.base, &options)
                .list_conversation_messages()
                .workspace_id(workspace)
                .conversation_id(conversation)
                .send()
                .await
                .unwrap_err();
            assert!(
                matches!(err, convo_bird::RequestError::InvalidRequest(_)),
                "bird {workspace:?}/{conversation:?}: {err:?}"
            );
        }
        // The paging streams say which id and why.
        let err = bird(&server.base, &options)
            .messages(convo_bird::MessagesQuery::new("w", id), no_retry())
            .collect::<Vec<_>>()
            .await
            .remove(0)
            .unwrap_err();
        assert!(matches!(err, PagingError::InvalidQuery { name: "conversation id", .. }), "{err:?}");
        let err = infobip(&server.base, &options)
            .messages(convo_infobip::MessagesQuery::new(id), no_retry())
            .collect::<Vec<_>>()
            .await
            .remove(0)
            .unwrap_err();
        assert!(matches!(err, PagingError::InvalidQuery { name: "conversation id", .. }), "{err:?}");
        let err = leadconnector(&server.base, &options)
            .messages(convo_leadconnector::MessagesQuery::new(id), no_retry())
            .collect::<Vec<_>>()
            .await
            .remove(0)
            .unwrap_err();
        assert!(matches!(err, PagingError::InvalidQuery { name: "conversation id", .. }), "{err:?}");
    }
    assert!(server.seen().is_empty(), "nothing may be sent: {:#?}", server.seen());
}

const EMPTY_INFOBIP: &str = r#"{"messages":[],"pagination":{"totalItems":0,"page":0,"limit":999}}"#;

/// The single segment of `path` after `prefix` and before `suffix`, decoded.
fn segment_between(path: &str, prefix: &str, suffix: &str) -> String {
    let inner = path
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .unwrap_or_else(|| panic!("`{path}` is not `{prefix}<one segment>{suffix}`"));
    assert!(!inner.contains('/'), "`{inner}` spans more than one segment of `{path}`");
    decode(inner, false)
}

#[tokio::test]
async fn infobip_conversation_ids_stay_in_one_path_segment() {
    for id in HOSTILE {
        let server = Server::start(|_| Reply::Json(200, EMPTY_INFOBIP)).await;
        let result = infobip(&server.base, &ClientOptions::default()).get_messages().conversation_id(id).send().await;
        assert!(result.is_ok(), "{id}: {result:?}");
        let seen = server.only();
        assert_eq!(segment_between(seen.path(), "/ccaas/1/conversations/", "/messages"), id, "{seen:?}");
        assert_eq!(seen.query(), None, "{id}: {seen:?}");
    }
}

#[tokio::test]
async fn infobip_filter_values_stay_in_one_query_value() {
    let server = Server::start(|_| Reply::Json(200, EMPTY_INFOBIP)).await;
    let ids: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    let order = "createdAt:desc&limit=1#x";
    infobip(&server.base, &ClientOptions::default())
        .get_messages()
        .conversation_id("c")
        .message_ids(ids.clone())
        .order_by(order)
        .send()
        .await
        .unwrap();
    let seen = server.only();
    assert_eq!(seen.query_values("messageIds"), ids, "{seen:?}");
    assert_eq!(seen.query_values("orderBy"), [order], "{seen:?}");
    assert_eq!(seen.query_values("limit"), Vec::<String>::new(), "{seen:?}");
}

#[tokio::test]
async fn bird_workspace_and_conversation_ids_and_cursors_stay_in_their_place() {
    for id in HOSTILE {
        let server = Server::start(|_| Reply::Json(200, r#"{"results":[]}"#)).await;
        let result = bird(&server.base, &ClientOptions::default())
            .list_conversation_messages()
            .workspace_id(id)
            .conversation_id(id)
            .page_token(id)
            .send()
            .await;
        assert!(result.is_ok(), "{id}: {result:?}");
        let seen = server.only();
        let path = seen.path();
        let rest = path.strip_prefix("/workspaces/").unwrap_or_else(|| panic!("{id}: {path}"));
        let (workspace, rest) = rest.split_once("/conversations/").unwrap_or_else(|| panic!("{id}: {path}"));
        let conversation = rest.strip_suffix("/messages").unwrap_or_else(|| panic!("{id}: {path}"));
        assert!(!workspace.contains('/') && !conversation.contains('/'), "{id}: {path}");
        assert_eq!((decode(workspace, false), decode(conversation, false)), (id.to_owned(), id.to_owned()), "{seen:?}");
        assert_eq!(seen.query_values("pageToken"), [id], "{seen:?}");
    }
}

#[tokio::test]
async fn bird_paging_sends_the_vendors_cursor_back_as_one_query_value() {
    // The cursor is the vendor's: whatever it holds goes back unchanged.
    let cursor = "ab/../c?d=1&limit=1#e f%20ü";
    let body: &'static str = Box::leak(format!(r#"{{"results":[{{"id":"m","conversationId":"c","sender":{{"id":"s"}},"createdAt":"2024-01-01T00:00:00Z"}}],"nextPageToken":"{cursor}"}}"#).into_boxed_str());
    let server = Server::start(move |target| {
        if target.contains("pageToken") { Reply::Json(200, r#"{"results":[]}"#) } else { Reply::Json(200, body) }
    })
    .await;
    let query = convo_bird::MessagesQuery::new("w", "c");
    let pages: Vec<_> = bird(&server.base, &ClientOptions::default()).pages(query, no_retry()).collect().await;
    assert!(pages.iter().all(Result::is_ok), "{pages:?}");
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[1].path(), "/workspaces/w/conversations/c/messages");
    assert_eq!(seen[1].query_values("pageToken"), [cursor], "{:?}", seen[1]);
    assert_eq!(seen[1].query_values("limit"), ["100"], "{:?}", seen[1]);
}

#[tokio::test]
async fn leadconnector_conversation_ids_and_cursors_stay_in_their_place() {
    const EMPTY: &str = r#"{"lastMessageId":"","nextPage":false,"messages":[]}"#;
    for id in HOSTILE {
        let server = Server::start(|_| Reply::Json(200, EMPTY)).await;
        let result = leadconnector(&server.base, &ClientOptions::default())
            .get_messages()
            .conversation_id(id)
            .last_message_id(id)
            .type_(id)
            .send()
            .await;
        assert!(result.is_ok(), "{id}: {result:?}");
        let seen = server.only();
        assert_eq!(segment_between(seen.path(), "/conversations/", "/messages"), id, "{seen:?}");
        assert_eq!(seen.query_values("lastMessageId"), [id], "{seen:?}");
        assert_eq!(seen.query_values("type"), [id], "{seen:?}");
        assert_eq!(seen.header("version"), Some(convo_leadconnector::DEFAULT_VERSION));
    }
}

#[tokio::test]
async fn octopush_query_values_stay_in_one_query_value() {
    for id in HOSTILE {
        let server = Server::start(|_| Reply::Json(200, "[]")).await;
        let client = octopush(&format!("{}/v1/public", server.base), &ClientOptions::default());
        let mut request = client.list_conversation_messages().contact(id).email(id).phone_number(id);
        // The checked identifiers refuse whitespace (Octopush strips it);
        // every other hostile character is accepted and must be encoded.
        if !id.contains(' ') {
            request = request
                .conversation_id(convo_octopush::ConversationId::new(format!("cid_{id}")).unwrap())
                .facebook_id(convo_octopush::FacebookId::new(format!("fid_{id}")).unwrap());
        }
        let result = request.send().await;
        assert!(result.is_ok(), "{id}: {result:?}");
        let seen = server.only();
        assert_eq!(seen.path(), "/v1/public/conversations/messages/list", "{seen:?}");
        for name in ["contact", "email", "phone_number"] {
            assert_eq!(seen.query_values(name), [id], "{name}: {seen:?}");
        }
        if !id.contains(' ') {
            assert_eq!(seen.query_values("conversation_id"), [format!("cid_{id}")], "{seen:?}");
            assert_eq!(seen.query_values("facebook_id"), [format!("fid_{id}")], "{seen:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// TLS is verified by default

/// A TLS server on 127.0.0.1 with a fresh self-signed certificate for
/// `127.0.0.1` and `localhost`. Counts completed handshakes and requests.
async fn tls_server() -> (u16, Arc<AtomicU64>, Arc<Mutex<Vec<Seen>>>) {
    use tokio_rustls::rustls;
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (Arc::clone(&handshakes), Arc::clone(&seen));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, h, s) = (acceptor.clone(), Arc::clone(&h), Arc::clone(&s));
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    h.fetch_add(1, Ordering::Relaxed);
                    handle(tls, &s, &AtomicU64::new(0), &|_| Reply::Json(200, "{}")).await;
                }
            });
        }
    });
    (port, handshakes, seen)
}

/// Whether the error's source chain says the certificate was refused.
fn is_certificate_error(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string().to_lowercase();
        if text.contains("certificate") || text.contains("unknownissuer") {
            return true;
        }
        current = e.source();
    }
    false
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_by_every_client() {
    let (port, handshakes, seen) = tls_server().await;
    let base = format!("https://127.0.0.1:{port}");
    let options = ClientOptions::default();
    let errors: Vec<(&str, Box<dyn std::error::Error>)> = vec![
        ("infobip", Box::new(infobip(&base, &options).get_messages().conversation_id("c").send().await.unwrap_err())),
        (
            "octopush",
            Box::new(
                octopush(&format!("{base}/v1/public"), &options).list_conversation_messages().send().await.unwrap_err(),
            ),
        ),
        (
            "leadconnector",
            Box::new(leadconnector(&base, &options).get_messages().conversation_id("c").send().await.unwrap_err()),
        ),
        (
            "bird",
            Box::new(
                bird(&base, &options)
                    .list_conversation_messages()
                    .workspace_id("w")
                    .conversation_id("c")
                    .send()
                    .await
                    .unwrap_err(),
            ),
        ),
    ];
    for (vendor, error) in &errors {
        let chain = error_chain(error.as_ref());
        assert!(is_certificate_error(error.as_ref()), "{vendor}: not a certificate error: {chain}");
        assert!(!chain.contains(SECRET), "{vendor}: {chain}");
    }
    assert_eq!(handshakes.load(Ordering::Relaxed), 0, "a client completed the handshake");
    assert!(seen.lock().unwrap().is_empty(), "a request went out over the unverified connection");

    // The server is sound: a client that trusts everything gets through,
    // so the refusals above are the certificate check and nothing else.
    let trusting = reqwest::Client::builder().tls_danger_accept_invalid_certs(true).build().unwrap();
    let response = trusting.get(format!("{base}/probe")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(handshakes.load(Ordering::Relaxed), 1);
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![format!("{error}")];
    let mut current = error.source();
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    parts.join(": ")
}

// ---------------------------------------------------------------------------
// Plain http only to loopback

#[test]
fn plain_http_to_other_hosts_is_refused_by_every_constructor_unless_opted_in() {
    let strict = ClientOptions::default();
    let open = ClientOptions { allow_insecure_http: true, ..ClientOptions::default() };
    type Build = fn(&str, &ClientOptions) -> Result<(), convo_runtime::ConfigError>;
    let constructors: [(&str, Build); 4] = [
        ("infobip", |b, o| {
            convo_infobip::Client::with_options(b, convo_infobip::Credentials::AppKey(SecretString::from(SECRET)), o)
                .map(drop)
        }),
        ("octopush", |b, o| {
            convo_octopush::Client::with_options(
                b,
                convo_octopush::Credentials::new(LOGIN, SecretString::from(SECRET)),
                o,
            )
            .map(drop)
        }),
        ("leadconnector", |b, o| {
            convo_leadconnector::Client::with_options(
                b,
                convo_leadconnector::Credentials::new(SecretString::from(SECRET)).with_version("2021-07-28"),
                o,
            )
            .map(drop)
        }),
        ("bird", |b, o| {
            convo_bird::Client::with_options(b, convo_bird::Credentials::new(SecretString::from(SECRET)), o).map(drop)
        }),
    ];
    let remote = [
        "http://api.example.com",
        "http://10.0.0.1:8080",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://[2001:db8::1]",
    ];
    let local = ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "http://127.8.9.10"];
    for (vendor, build) in constructors {
        for url in remote {
            let err = build(url, &strict).expect_err(&format!("{vendor}: {url} was accepted"));
            assert!(matches!(err, convo_runtime::ConfigError::InsecureHttp { .. }), "{vendor} {url}: {err}");
            assert!(err.to_string().contains("plain http"), "{vendor} {url}: {err}");
            assert!(build(url, &open).is_ok(), "{vendor}: {url} refused despite allow_insecure_http");
        }
        for url in local {
            assert!(build(url, &strict).is_ok(), "{vendor}: loopback {url} refused");
        }
        assert!(build("https://api.example.com", &strict).is_ok(), "{vendor}: https refused");
        for url in ["ftp://api.example.com", "file:///etc/passwd", "https://user:pw@api.example.com"] {
            assert!(build(url, &open).is_err(), "{vendor}: {url} accepted");
        }
    }
}

// ---------------------------------------------------------------------------
// Redirects to another origin do not carry the credential

async fn redirect_case(to: &str) {
    let target = Server::start(|_| Reply::Json(200, "{}")).await;
    let location = format!("http://{to}:{}/stolen", target.port);
    let source = Server::start(move |_| Reply::Redirect(location.clone())).await;
    let options = ClientOptions::default();
    let results: Vec<(&str, bool)> = vec![
        ("infobip", infobip(&source.base, &options).get_messages().conversation_id("c").send().await.is_err()),
        ("octopush", octopush(&source.base, &options).list_conversation_messages().send().await.is_err()),
        (
            "leadconnector",
            leadconnector(&source.base, &options).get_messages().conversation_id("c").send().await.is_err(),
        ),
        (
            "bird",
            bird(&source.base, &options)
                .list_conversation_messages()
                .workspace_id("w")
                .conversation_id("c")
                .send()
                .await
                .is_err(),
        ),
    ];
    for (vendor, failed) in results {
        assert!(failed, "{vendor}: a cross-origin redirect to {to} ended in success");
    }
    let at_source = source.seen();
    assert_eq!(at_source.len(), 4, "{at_source:#?}");
    assert!(at_source.iter().all(carries_credentials), "the first server must see the credentials: {at_source:#?}");
    let leaked: Vec<Seen> = target.seen().into_iter().filter(carries_credentials).collect();
    assert!(leaked.is_empty(), "credentials reached {to}:{}: {leaked:#?}", target.port);
}

#[tokio::test]
async fn a_redirect_to_another_port_does_not_carry_the_credential() {
    redirect_case("127.0.0.1").await;
}

#[tokio::test]
async fn a_redirect_to_another_host_name_does_not_carry_the_credential() {
    // `localhost` is another origin than `127.0.0.1`, though the same machine.
    redirect_case("localhost").await;
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_with_the_credential() {
    // The positive control: this server does see headers after a redirect.
    let same = self_redirecting_server().await;
    bird(&same.base, &ClientOptions::default())
        .list_conversation_messages()
        .workspace_id("w")
        .conversation_id("c")
        .send()
        .await
        .unwrap();
    let seen = same.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[1].target, "/moved");
    assert!(carries_credentials(&seen[1]), "{seen:#?}");
}

/// A server that redirects every request to `/moved` on itself.
async fn self_redirecting_server() -> Server {
    let port = Arc::new(Mutex::new(None::<u16>));
    let known = Arc::clone(&port);
    let server = Server::start(move |target| {
        if target.starts_with("/moved") {
            Reply::Json(200, r#"{"results":[]}"#)
        } else {
            Reply::Redirect(format!("http://127.0.0.1:{}/moved", known.lock().unwrap().expect("the port is known")))
        }
    })
    .await;
    *port.lock().unwrap() = Some(server.port);
    server
}

// ---------------------------------------------------------------------------
// Bodies over the limit are refused without being read whole

fn small_limit() -> ClientOptions {
    ClientOptions { max_body_bytes: 256 * 1024, timeout: Duration::from_secs(20), ..ClientOptions::default() }
}

fn assert_too_large<E: convo_runtime::paging::VendorError>(
    vendor: &str,
    pages: Vec<Result<impl std::fmt::Debug, PagingError<E>>>,
    limit: u64,
) {
    assert_eq!(pages.len(), 1, "{vendor}: {pages:?}");
    match &pages[0] {
        Err(PagingError::BodyTooLarge { limit: l, .. }) => assert_eq!(*l, limit, "{vendor}"),
        other => panic!("{vendor}: expected BodyTooLarge, got {other:?}"),
    }
}

async fn all_pages_too_large(base: &str, options: &ClientOptions) {
    let limit = options.max_body_bytes;
    let pages: Vec<_> =
        infobip(base, options).pages(convo_infobip::MessagesQuery::new("c"), no_retry()).collect().await;
    assert_too_large("infobip", pages, limit);
    let query =
        convo_octopush::MessagesQuery::by_conversation_id(convo_octopush::ConversationId::new("cid_1").unwrap());
    let pages: Vec<_> = octopush(base, options).pages(query, no_retry()).collect().await;
    assert_too_large("octopush", pages, limit);
    let pages: Vec<_> =
        leadconnector(base, options).pages(convo_leadconnector::MessagesQuery::new("c"), no_retry()).collect().await;
    assert_too_large("leadconnector", pages, limit);
    let pages: Vec<_> = bird(base, options).pages(convo_bird::MessagesQuery::new("w", "c"), no_retry()).collect().await;
    assert_too_large("bird", pages, limit);
}

#[tokio::test]
async fn an_endless_body_is_refused_by_every_client_without_being_read_whole() {
    let server = Server::start(|_| Reply::Endless).await;
    let options = small_limit();
    tokio::time::timeout(Duration::from_secs(60), all_pages_too_large(&server.base, &options))
        .await
        .expect("every client gave up in time");
    assert_eq!(server.seen().len(), 4);
    // The server could write at most the limit plus what socket buffers
    // hold before each client hung up, far from its 256 MiB.
    let streamed = server.streamed.load(Ordering::Relaxed);
    assert!(streamed < 4 * (options.max_body_bytes + 16 * 1024 * 1024), "{streamed} bytes were streamed");
}

#[tokio::test]
async fn the_default_limit_stops_an_endless_body_too() {
    let server = Server::start(|_| Reply::Endless).await;
    let options = ClientOptions::default();
    let pages: Vec<_> = tokio::time::timeout(
        Duration::from_secs(60),
        bird(&server.base, &options).pages(convo_bird::MessagesQuery::new("w", "c"), no_retry()).collect(),
    )
    .await
    .expect("the client gave up in time");
    assert_too_large("bird", pages, convo_runtime::DEFAULT_MAX_BODY_BYTES);
    assert!(server.streamed.load(Ordering::Relaxed) < convo_runtime::DEFAULT_MAX_BODY_BYTES + 16 * 1024 * 1024);
}

#[tokio::test]
async fn a_declared_oversized_body_is_refused_before_any_of_it_is_read() {
    // The server declares a terabyte and sends nothing: waiting for the body
    // would hang until the timeout; refusing on the declared size is immediate.
    let server = Server::start(|_| Reply::Declared(1 << 40)).await;
    let options = ClientOptions { timeout: Duration::from_secs(30), ..small_limit() };
    tokio::time::timeout(Duration::from_secs(10), all_pages_too_large(&server.base, &options))
        .await
        .expect("refused without waiting for the body");
}

// ---------------------------------------------------------------------------
// Deeply nested JSON is an error, not a stack overflow

#[test]
fn deeply_nested_json_is_an_error_for_every_vendor() {
    let depth = 100_000;
    let open_arrays = "[".repeat(depth);
    let open_objects = r#"{"a":"#.repeat(depth);
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let message_with = |vendor: convo_normalize::Vendor, field: &str| -> String {
        match vendor {
            convo_normalize::Vendor::Bird => {
                format!(
                    r#"{{"results":[{{"id":"m","conversationId":"c","sender":{{"id":"s"}},"createdAt":"2024-01-01T00:00:00Z",{field}}}]}}"#
                )
            }
            convo_normalize::Vendor::Infobip => {
                format!(r#"{{"messages":[{{"id":"m","createdAt":"2024-01-01T00:00:00Z",{field}}}]}}"#)
            }
            convo_normalize::Vendor::Octopush => format!(r#"[{{"message_id":"m",{field}}}]"#),
            convo_normalize::Vendor::Leadconnector => format!(
                r#"{{"lastMessageId":"m","nextPage":false,"messages":[{{"id":"m","type":1,"messageType":"TYPE_SMS","locationId":"l","contactId":"c","conversationId":"c","dateAdded":"2024-01-01T00:00:00Z","direction":"inbound","contentType":"text/plain",{field}}}]}}"#
            ),
        }
    };
    // A field each vendor decodes as free-form JSON.
    let decoded_field = |vendor: convo_normalize::Vendor| match vendor {
        convo_normalize::Vendor::Bird => format!(r#""meta":{{"x":{nested}}}"#),
        convo_normalize::Vendor::Infobip => format!(r#""content":{{"x":{nested}}}"#),
        convo_normalize::Vendor::Octopush => format!(r#""agent_assigned_to":{nested}"#),
        // LeadConnector models no free-form field: a typed one stands in.
        convo_normalize::Vendor::Leadconnector => format!(r#""attachments":{nested}"#),
    };
    // On a thread with the default 2 MiB stack: recursion over 100,000
    // levels would overflow it and abort the whole test binary.
    let check = || {
        for vendor in convo_normalize::Vendor::ALL {
            for (what, body) in
                [("open arrays", &open_arrays), ("open objects", &open_objects), ("closed arrays", &nested)]
            {
                let result = convo_normalize::normalize_page(vendor, body.as_bytes());
                match result {
                    Err(_) => {}
                    // Octopush's page is a bare array: closed arrays are
                    // a page of one message that is no object, isolated.
                    Ok(messages) if vendor == convo_normalize::Vendor::Octopush && what == "closed arrays" => {
                        assert_eq!(messages.len(), 1);
                        assert!(messages[0].decode_error.is_some(), "{vendor} {what}");
                    }
                    Ok(messages) => panic!("{vendor} {what}: {} messages", messages.len()),
                }
            }
            // Where the value is decoded, serde_json's recursion limit
            // (128 levels) refuses it, naming the limit (or, for a typed
            // field, the type refuses it first): the message is isolated
            // with that error, and its page still decodes.
            let body = message_with(vendor, &decoded_field(vendor));
            let messages =
                convo_normalize::normalize_page(vendor, body.as_bytes()).unwrap_or_else(|e| panic!("{vendor}: {e}"));
            let error = messages[0].decode_error.as_ref().expect("decoded nesting is refused");
            let expected =
                if vendor == convo_normalize::Vendor::Leadconnector { "invalid type" } else { "recursion limit" };
            assert!(error.reason.contains(expected), "{vendor}: {error}");
            assert!(messages[0].raw.get().contains(&nested), "{vendor}: the isolated message keeps its raw JSON");
            // A field no schema models is kept whole in `raw` (nothing a
            // vendor sent is dropped) and never recursed into: capturing
            // it, and writing it back as text, are iterative.
            let body = message_with(vendor, &format!(r#""unmodelled":{nested}"#));
            let messages =
                convo_normalize::normalize_page(vendor, body.as_bytes()).unwrap_or_else(|e| panic!("{vendor}: {e}"));
            assert!(messages[0].raw.get().contains(&nested), "{vendor}: the raw message keeps the field");
            let text = serde_json::to_string(&messages).expect("written back as text");
            assert!(text.len() > 2 * depth);
            // Turning it into a tree is refused by the limit, not a crash.
            assert!(serde_json::to_value(&messages).is_err(), "{vendor}");
        }
    };
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn_scoped(scope, check).unwrap();
        thread.join().expect("no stack overflow, no panic");
    });
}

// ---------------------------------------------------------------------------
// No credential in Debug, Display, errors or panic messages

fn assert_clean(what: &str, text: &str) {
    use base64::Engine as _;
    // The Basic credential as it goes out, base64 of `user:<password>`.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("user:{SECRET}"));
    for secret in [SECRET, LOGIN, basic.as_str()] {
        assert!(!text.contains(secret), "{what} shows a credential: {text}");
    }
}

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("it panics");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[tokio::test]
async fn no_credential_in_any_debug_display_error_or_panic() {
    let server = Server::start(|target| {
        if target.starts_with("/v1/public") {
            Reply::Json(401, r#"{"code":401,"message":"Unauthorized"}"#)
        } else if target.starts_with("/ccaas") {
            Reply::Json(
                401,
                r#"{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}"#,
            )
        } else if target.starts_with("/workspaces") {
            Reply::Json(403, r#"{"code":"Forbidden","message":"no access"}"#)
        } else {
            Reply::Json(
                401,
                r#"{"statusCode":401,"message":"Invalid token: access token is invalid","error":"Unauthorized"}"#,
            )
        }
    })
    .await;
    let options = ClientOptions::default();
    let octopush_base = format!("{}/v1/public", server.base);
    let basic = convo_infobip::Credentials::Basic { username: "user".to_owned(), password: SecretString::from(SECRET) };
    let clients: Vec<(&str, String)> = vec![
        ("infobip client", format!("{:?}", infobip(&server.base, &options))),
        (
            "infobip basic client",
            format!("{:?}", convo_infobip::Client::with_options(&server.base, basic.clone(), &options).unwrap()),
        ),
        ("infobip auth", format!("{basic:?}")),
        ("octopush client", format!("{:?}", octopush(&octopush_base, &options))),
        ("leadconnector client", format!("{:?}", leadconnector(&server.base, &options))),
        ("bird client", format!("{:?}", bird(&server.base, &options))),
    ];
    for (what, text) in &clients {
        assert_clean(what, text);
    }

    let infobip_err = infobip(&server.base, &options).get_messages().conversation_id("c").send().await.unwrap_err();
    let basic_err = convo_infobip::Client::with_options(&server.base, basic, &options)
        .unwrap()
        .get_messages()
        .conversation_id("c")
        .send()
        .await
        .unwrap_err();
    let octopush_err = octopush(&octopush_base, &options).list_conversation_messages().send().await.unwrap_err();
    let leadconnector_err =
        leadconnector(&server.base, &options).get_messages().conversation_id("c").send().await.unwrap_err();
    let bird_err = bird(&server.base, &options)
        .list_conversation_messages()
        .workspace_id("w")
        .conversation_id("c")
        .send()
        .await
        .unwrap_err();
    assert_eq!(infobip_err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(bird_err.status().map(|s| s.as_u16()), Some(403));
    for (what, debug, display) in [
        ("infobip 401", format!("{infobip_err:?}"), infobip_err.to_string()),
        ("infobip basic 401", format!("{basic_err:?}"), basic_err.to_string()),
        ("octopush 401", format!("{octopush_err:?}"), octopush_err.to_string()),
        ("leadconnector 401", format!("{leadconnector_err:?}"), leadconnector_err.to_string()),
        ("bird 403", format!("{bird_err:?}"), bird_err.to_string()),
    ] {
        assert_clean(what, &debug);
        assert_clean(what, &display);
    }
    assert_clean("panic", &panic_message(|| std::hint::black_box(Err::<(), _>(infobip_err)).unwrap()));
    assert_clean("panic", &panic_message(|| std::hint::black_box(Err::<(), _>(leadconnector_err)).unwrap()));

    // Paging errors, and a connection that fails outright.
    let stream: Vec<_> = octopush(&octopush_base, &options)
        .pages(
            convo_octopush::MessagesQuery::by_conversation_id(convo_octopush::ConversationId::new("cid_1").unwrap()),
            no_retry(),
        )
        .collect()
        .await;
    let paging_err = stream.into_iter().next().unwrap().unwrap_err();
    assert_clean("octopush paging error", &format!("{paging_err} {paging_err:?}"));
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let refused = bird(&dead, &options)
        .list_conversation_messages()
        .workspace_id("w")
        .conversation_id("c")
        .send()
        .await
        .unwrap_err();
    assert_clean("connection refused", &format!("{refused} {refused:?} {}", error_chain(&refused)));
    assert_clean("panic", &panic_message(|| std::hint::black_box(Err::<(), _>(refused)).unwrap()));

    // Credentials refused at construction are not echoed either (a line
    // break inside; one at the end is trimmed, as HTTP would).
    let bad = SecretString::from(format!("{SECRET}\n{SECRET}"));
    let err = convo_bird::Client::new(&server.base, convo_bird::Credentials::new(bad)).unwrap_err();
    assert_clean("credential error", &format!("{err} {err:?}"));
}
