use std::fmt;

use futures::TryStreamExt;

/// The per-client settings the generated clients carry (progenitor's
/// "inner type"): read by the request hooks.
#[derive(Debug, Clone)]
pub struct ClientState {
    /// The largest response body accepted, in bytes, after decompression. A
    /// larger body is refused as soon as its size is known (from
    /// `Content-Length`, or while it streams in), never read whole.
    pub max_body_bytes: u64,
    /// The credentials' values, scrubbed from every response (headers and
    /// body) before anything else sees it: a vendor that echoes a key in an
    /// error body cannot put it into an error's text, a log line or the CLI.
    pub secrets: Secrets,
    /// The rate budget every request waits on, if any.
    pub budget: Option<crate::RateBudget>,
}

/// 32 MiB: about thirty times the largest page any of the vendors sends.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

impl Default for ClientState {
    fn default() -> Self {
        Self { max_body_bytes: DEFAULT_MAX_BODY_BYTES, secrets: Secrets::default(), budget: None }
    }
}

/// `body` as valid UTF-8 JSON text as far as its strings go: bytes that
/// are not UTF-8 (which no JSON string may hold) are replaced by U+FFFD, and
/// control characters written raw inside a string (a tab, a NUL, an ESC,
/// which JSON allows only escaped) are escaped (`\u0009`), each with a
/// warning. Either would otherwise fail the whole page, every message on
/// it; so only the message holding them reads differently from what was
/// sent.
pub fn valid_utf8(body: std::borrow::Cow<'_, [u8]>) -> std::borrow::Cow<'_, [u8]> {
    let body =
        if std::str::from_utf8(&body).is_ok() { body } else { std::borrow::Cow::Owned(lossy(&body).into_bytes()) };
    match escape_controls(&body) {
        Some(escaped) => std::borrow::Cow::Owned(escaped),
        None => body,
    }
}

/// [`valid_utf8`] for a body read as text: `body` itself when it is UTF-8
/// (checked once) with no raw control character in a string, else its
/// repaired reading, with the same warnings.
pub fn utf8_text(body: &[u8]) -> std::borrow::Cow<'_, str> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(lossy(body)),
    };
    match escape_controls(text.as_bytes()) {
        // Only ASCII bytes were replaced, by ASCII: still UTF-8.
        Some(escaped) => std::borrow::Cow::Owned(String::from_utf8_lossy(&escaped).into_owned()),
        None => text,
    }
}

fn lossy(body: &[u8]) -> String {
    tracing::warn!("the response held bytes that are not UTF-8: each is read as U+FFFD");
    String::from_utf8_lossy(body).into_owned()
}

/// Whether `bytes` holds a byte under 0x20. In blocks of 64 with no early
/// exit inside one, which the compiler vectorises: about 25 times as fast
/// as a byte-by-byte search over a page (it runs on every body).
fn has_control(bytes: &[u8]) -> bool {
    bytes.chunks(64).any(|block| block.iter().fold(false, |found, &b| found | (b < 0x20)))
}

/// `body` with every control character (U+0000 to U+001F) that stands raw
/// inside a JSON string written as a `\u00XX` escape; `None` when there is
/// none (the common case, found by one pass for any byte under 0x20, then,
/// only where there is one, by jumping from quote to quote). Control
/// characters between tokens (the whitespace of a pretty-printed body) are
/// left as they are.
fn escape_controls(body: &[u8]) -> Option<Vec<u8>> {
    if !has_control(body) {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let (mut at, mut copied) = (0, 0);
    while let Some(open) = memchr::memchr(b'"', &body[at..]).map(|i| at + i) {
        let mut end = open + 1;
        let close = loop {
            match memchr::memchr2(b'"', b'\\', &body[end..]).map(|i| end + i) {
                Some(quote) if body[quote] == b'"' => break quote,
                Some(backslash) => end = backslash + 2,
                None => break body.len(),
            }
            if end >= body.len() {
                break body.len();
            }
        };
        let contents = open + 1..close;
        if has_control(&body[contents.clone()]) {
            let out = out.get_or_insert_with(|| Vec::with_capacity(body.len() + 64));
            out.extend_from_slice(&body[copied..contents.start]);
            for &b in &body[contents.clone()] {
                if b < 0x20 {
                    out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                } else {
                    out.push(b);
                }
            }
            copied = contents.end;
        }
        at = close + 1;
        if at >= body.len() {
            break;
        }
    }
    let mut out = out?;
    tracing::warn!("the response held control characters written raw inside strings: each is read as its escape");
    out.extend_from_slice(&body[copied..]);
    Some(out)
}

/// The text of a JSON string's contents (between its quotes), its escapes
/// decoded, never refused: a `\u` escape that is a lone surrogate, or not
/// four hex digits, reads as U+FFFD; an unknown escape as the character
/// after the backslash; raw control characters and bytes that are not
/// UTF-8 (U+FFFD) as they stand. For the scrubber only: what a lenient
/// JSON reader would make of the string.
fn json_string_lossy(contents: &[u8]) -> String {
    /// The code unit of the four hex digits `chars` starts with, taking
    /// them; `None` (nothing taken) when they are not four hex digits.
    fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
        let digits: String = chars.clone().take(4).collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        chars.nth(3);
        u32::from_str_radix(&digits, 16).ok()
    }
    /// The low surrogate escape `chars` starts with, taking it.
    fn low_surrogate(chars: &mut std::str::Chars<'_>) -> Option<u32> {
        let mut ahead = chars.clone();
        if ahead.next() != Some('\\') || ahead.next() != Some('u') {
            return None;
        }
        let low = hex4(&mut ahead).filter(|low| (0xDC00..0xE000).contains(low))?;
        *chars = ahead;
        Some(low)
    }
    let text = String::from_utf8_lossy(contents);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(escape) = chars.next() else { break };
        let decoded = match escape {
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'u' => hex4(&mut chars).and_then(|unit| match unit {
                // A high surrogate and the low one after it make one char.
                0xD800..0xDC00 => low_surrogate(&mut chars)
                    .and_then(|low| char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))),
                _ => char::from_u32(unit),
            }),
            // `"`, `\`, `/`, and any escape JSON does not define.
            other => Some(other),
        };
        out.push(decoded.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    out
}

/// What replaces a credential's value in a response.
pub const REDACTED: &str = "[REDACTED]";

/// Credential values to scrub from responses. `Debug` shows only how many.
#[derive(Clone, Default)]
pub struct Secrets(std::sync::Arc<Forms>);

/// Every form of every value, longest first, and one automaton that finds
/// them all in a single pass over a body (`aho-corasick`, by the author of
/// `memchr`: a body is searched once, not once a form).
#[derive(Default)]
struct Forms {
    values: Vec<Vec<u8>>,
    finder: Option<aho_corasick::AhoCorasick>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} values, not shown)", self.0.values.len())
    }
}

/// `value` percent-encoded (every byte but RFC 3986's unreserved ones), in
/// upper- and lower-case hex, as an echoed request URL spells it.
fn percent_encoded(value: &[u8]) -> [Vec<u8>; 2] {
    let encode = |hex: &[u8; 16]| {
        let mut out = Vec::with_capacity(value.len() * 3);
        for &b in value {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b);
            } else {
                out.extend_from_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]]);
            }
        }
        out
    };
    [encode(b"0123456789ABCDEF"), encode(b"0123456789abcdef")]
}

/// What every base64 text holding `value` holds, wherever `value` starts
/// in it: for each of the three alignments, the characters that only
/// `value`'s bits make (standard and URL-safe alphabets). Values under 8
/// bytes give none (a few characters would match ordinary text).
fn base64_cores(value: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    if value.len() < 8 {
        return Vec::new();
    }
    let mut cores = Vec::new();
    for shift in 0..3usize {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(value);
        let bits = shifted.len() * 8;
        // Characters before `first` hold bits of the bytes before `value`;
        // from `end` on, bits of the bytes after it.
        let (first, end) = ((shift * 8).div_ceil(6), bits / 6);
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let text = engine.encode(&shifted).into_bytes();
            cores.push(text[first..end.min(text.len())].to_vec());
        }
    }
    cores
}

impl Secrets {
    /// The secret values of the sensitive headers: each whole value, the
    /// token after its scheme (`App <key>`: the key), and for `Basic` the
    /// decoded `user:password` and password. Values under 4 bytes are not
    /// scrubbed (they would match ordinary text).
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Self {
        use base64::Engine as _;
        let mut values: Vec<Vec<u8>> = Vec::new();
        for value in headers.values().filter(|v| v.is_sensitive()) {
            let bytes = value.as_bytes().to_vec();
            if let Some(space) = bytes.iter().position(|b| *b == b' ') {
                let (scheme, token) = (&bytes[..space], bytes[space + 1..].to_vec());
                if scheme.eq_ignore_ascii_case(b"basic")
                    && let Ok(pair) = base64::engine::general_purpose::STANDARD.decode(&token)
                {
                    if let Some(colon) = pair.iter().position(|b| *b == b':') {
                        values.push(pair[colon + 1..].to_vec());
                    }
                    values.push(pair);
                }
                // (`App  key`: the token without the space a vendor may
                // not echo.)
                values.push(token.trim_ascii().to_vec());
                values.push(token);
            }
            values.push(bytes);
        }
        // Each value as an echoed URL or a base64 text (of a request, a
        // header, a token) would hold it.
        let encoded: Vec<Vec<u8>> = values
            .iter()
            .flat_map(|v| {
                let mut forms = percent_encoded(v).to_vec();
                forms.extend(base64_cores(v));
                forms
            })
            .collect();
        // Each value upper- and lower-cased, as a gateway that normalises
        // its error text echoes it (nothing is lost of a key whose letters
        // are hex digits). Listed forms, not a case-insensitive search: that
        // would take about 25 times as long over every body.
        let cased: Vec<Vec<u8>> = values
            .iter()
            .flat_map(|v| [v.to_ascii_uppercase(), v.to_ascii_lowercase()])
            .filter(|v| !values.contains(v))
            .collect();
        values.extend(encoded);
        values.extend(cased);
        // The same values as a JSON string spells them (`"` and `\` escaped,
        // and `/` as `\/`, as PHP's encoder writes it): an error body that
        // echoes a key inside a JSON string holds it in that form.
        let escaped: Vec<Vec<u8>> = values
            .iter()
            .filter_map(|v| std::str::from_utf8(v).ok())
            .flat_map(|v| {
                let json = serde_json::to_string(v).unwrap_or_default();
                let json = json[1..json.len().saturating_sub(1).max(1)].to_owned();
                let slashes = json.replace('/', "\\/");
                [json, slashes]
            })
            .map(String::into_bytes)
            .collect();
        values.extend(escaped);
        values.retain(|v| v.len() >= 4);
        // Longest first, so that a whole value is replaced before its token.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        // Leftmost-longest: where forms overlap, the longest is replaced.
        let finder = (!values.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    // Not the DFA the builder picks for few patterns: its
                    // build grows with the patterns' length times the
                    // alphabet (measured, release: 93 ms for a 1 KiB token,
                    // 58 s for a 16 KiB one; this NFA 0.4 ms and 5.6 ms),
                    // and a body is searched as fast (the prefilter does
                    // most of it: 22 µs a page either way).
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .build(&values)
                    .ok()
            })
            .flatten();
        Self(std::sync::Arc::new(Forms { values, finder }))
    }

    /// Whether `bytes` holds any of the values.
    pub fn found_in(&self, bytes: &[u8]) -> bool {
        match &self.0.finder {
            Some(finder) => finder.is_match(bytes),
            None => self.0.values.iter().any(|secret| memchr::memmem::find(bytes, secret).is_some()),
        }
    }

    /// `bytes` with every value replaced by [`REDACTED`]: as it stands, in
    /// the JSON-escaped forms [`Secrets::from_headers`] lists, and inside any
    /// JSON string that spells it with `\u` escapes (`\u0050` for `P`, as
    /// encoders that escape `<`, `&` or non-ASCII write it), which no fixed
    /// list of forms can cover: such a string is decoded, and re-encoded
    /// scrubbed when the decoded text holds a value.
    pub fn scrub(&self, bytes: Vec<u8>) -> Vec<u8> {
        if self.0.values.is_empty() {
            return bytes;
        }
        let text = self.scrub_literal(bytes);
        if memchr::memmem::find(&text, b"\\u").is_some() { self.scrub_unicode_escaped(text) } else { text }
    }

    /// The strings of a JSON text that hold a `\u` escape, decoded: where
    /// one holds a value, it is written back scrubbed (and re-encoded, so
    /// JSON stays JSON). A string that is not valid JSON (a lone surrogate
    /// escape, a raw control character, an unknown escape) is decoded as
    /// far as it can be, by [`json_string_lossy`], since a reader more
    /// lenient than serde_json would still read the value in it.
    fn scrub_unicode_escaped(&self, text: Vec<u8>) -> Vec<u8> {
        let mut out: Option<Vec<u8>> = None;
        let (mut at, mut copied) = (0, 0);
        while let Some(open) = memchr::memchr(b'"', &text[at..]).map(|i| at + i) {
            // The closing quote: the first one no backslash escapes.
            let mut end = open + 1;
            let mut unicode = false;
            let close = loop {
                match memchr::memchr2(b'"', b'\\', &text[end..]).map(|i| end + i) {
                    Some(quote) if text[quote] == b'"' => break Some(quote),
                    Some(backslash) => {
                        unicode |= text.get(backslash + 1) == Some(&b'u');
                        end = backslash + 2;
                        if end > text.len() {
                            break None;
                        }
                    }
                    None => break None,
                }
            };
            let Some(close) = close else { break };
            if unicode
                && let decoded = json_string_lossy(&text[open + 1..close])
                && self.found_in(decoded.as_bytes())
            {
                let scrubbed = String::from_utf8_lossy(&self.scrub_literal(decoded.into_bytes())).into_owned();
                let out = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
                out.extend_from_slice(&text[copied..open]);
                out.extend_from_slice(serde_json::to_string(&scrubbed).unwrap_or_default().as_bytes());
                copied = close + 1;
            }
            at = close + 1;
        }
        match out {
            Some(mut out) => {
                out.extend_from_slice(&text[copied..]);
                out
            }
            None => text,
        }
    }

    /// `bytes` with every listed form of a value replaced by [`REDACTED`].
    fn scrub_literal(&self, bytes: Vec<u8>) -> Vec<u8> {
        if !self.found_in(&bytes) {
            return bytes;
        }
        if let Some(finder) = &self.0.finder {
            // Again until nothing is found: a replacement can join the
            // text around it into another form.
            let with = vec![REDACTED.as_bytes(); self.0.values.len()];
            let mut text = finder.replace_all_bytes(&bytes, &with);
            for _ in 0..8 {
                if !finder.is_match(&text) {
                    break;
                }
                text = finder.replace_all_bytes(&text, &with);
            }
            return text;
        }
        let mut text = bytes;
        for secret in self.0.values.iter() {
            let finder = memchr::memmem::Finder::new(secret);
            if finder.find(&text).is_none() {
                continue;
            }
            let mut out = Vec::with_capacity(text.len());
            let mut rest = &text[..];
            while let Some(at) = finder.find(rest) {
                out.extend_from_slice(&rest[..at]);
                out.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[at + secret.len()..];
            }
            out.extend_from_slice(rest);
            text = out;
        }
        text
    }

    /// `text` with every value replaced by [`REDACTED`].
    pub fn scrub_str(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.scrub(text.as_bytes().to_vec())).into_owned()
    }

    fn scrub_headers(&self, headers: &mut reqwest::header::HeaderMap) {
        if self.0.values.is_empty() {
            return;
        }
        for value in headers.values_mut() {
            if self.found_in(value.as_bytes()) {
                let scrubbed = self.scrub(value.as_bytes().to_vec());
                *value = reqwest::header::HeaderValue::from_bytes(&scrubbed)
                    .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(REDACTED));
            }
        }
    }
}

/// A response body was larger than the client's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLarge {
    /// The client's limit, in bytes.
    pub limit: u64,
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the response body is larger than the limit of {} bytes", self.limit)
    }
}

impl std::error::Error for BodyTooLarge {}

/// An error status whose body is not JSON (a gateway's HTML page, or
/// nothing at all), so the vendor's error type cannot describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorStatus {
    /// The HTTP status of the response.
    pub status: reqwest::StatusCode,
    /// What the response's `Retry-After` or rate-limit headers asked for.
    pub retry_after: Option<std::time::Duration>,
    /// The first bytes of the body, escaped.
    pub body_start: String,
}

impl fmt::Display for ErrorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if self.body_start.is_empty() {
            write!(f, " with an empty body")
        } else {
            write!(f, " with a body that is not JSON: \"{}\"", self.body_start)
        }
    }
}

impl std::error::Error for ErrorStatus {}

/// Finds an error of type `T` anywhere in an error's source chain.
pub fn find_in_chain<T: std::error::Error + Clone + 'static>(error: &(dyn std::error::Error + 'static)) -> Option<T> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found.clone());
        }
        current = e.source();
    }
    None
}

/// Finds a [`BodyTooLarge`] anywhere in an error's source chain.
pub fn body_too_large(error: &(dyn std::error::Error + 'static)) -> Option<BodyTooLarge> {
    find_in_chain(error)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn failing_body<E: std::error::Error + Send + Sync + 'static>(error: E) -> reqwest::Body {
    reqwest::Body::wrap_stream(futures::stream::once(async move { Err::<bytes::Bytes, BoxError>(Box::new(error)) }))
}

/// Sends `request` and returns the response with its body capped at `limit`
/// bytes (decoded: a compressed body is counted as it inflates, so a gzip
/// bomb is refused) and every value of `secrets` scrubbed from its headers
/// and body. Reading a larger body fails with [`BodyTooLarge`] in the
/// error's source chain, as soon as the excess is seen. The body is read
/// whole here (a page is a few hundred kilobytes at most), so that it can be
/// scrubbed before anything decodes it.
pub async fn execute_limited(
    client: &reqwest::Client,
    request: reqwest::Request,
    state: &ClientState,
) -> reqwest::Result<reqwest::Response> {
    use reqwest::ResponseBuilderExt as _;
    let (limit, secrets) = (state.max_body_bytes, &state.secrets);
    if let Some(budget) = &state.budget {
        budget.acquire().await;
    }
    let (method, url) = (request.method().clone(), request.url().clone());
    let started = std::time::Instant::now();
    let response = match client.execute(request).await {
        Ok(response) => response,
        Err(e) => {
            let failure = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            tracing::debug!(%method, %url, elapsed_ms = started.elapsed().as_millis() as u64, failure, "request");
            return Err(e);
        }
    };
    let status = response.status();
    if let Some(budget) = &state.budget {
        budget.observe(status, response.headers());
    }
    // The URL holds ids, filters and cursors, never a credential (those go
    // in headers); no header or body is logged.
    tracing::debug!(%method, %url, status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    let declared_too_large = response.content_length().is_some_and(|len| len > limit);
    let mut headers = response.headers().clone();
    secrets.scrub_headers(&mut headers);
    let mut builder = http::Response::builder().status(status).version(response.version()).url(response.url().clone());
    if let Some(map) = builder.headers_mut() {
        *map = headers.clone();
    }
    let mut seen: u64 = 0;
    let stream = response.bytes_stream().map_err(|e| Box::new(e) as BoxError).and_then(move |chunk| {
        seen += chunk.len() as u64;
        let result = if seen > limit { Err(Box::new(BodyTooLarge { limit }) as BoxError) } else { Ok(chunk) };
        futures::future::ready(result)
    });
    let body = if declared_too_large {
        // Refused on its declared size: not a byte of it is read.
        failing_body(BodyTooLarge { limit })
    } else {
        match stream.try_collect::<Vec<bytes::Bytes>>().await {
            Ok(chunks) => {
                let bytes = secrets.scrub(valid_utf8(chunks.concat().into()).into_owned());
                let is_error = status.is_client_error() || status.is_server_error();
                // An error body that is not JSON keeps its status instead of
                // becoming a decoding error.
                if is_error && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
                    let end = bytes.len().min(120);
                    failing_body(ErrorStatus {
                        status,
                        retry_after: crate::retry::retry_after(&headers, std::time::SystemTime::now()),
                        body_start: String::from_utf8_lossy(&bytes[..end]).escape_debug().collect(),
                    })
                } else {
                    reqwest::Body::from(bytes)
                }
            }
            Err(e) => {
                reqwest::Body::wrap_stream(futures::stream::once(async move { Err::<bytes::Bytes, BoxError>(e) }))
            }
        }
    };
    let response = builder.body(body).expect("status, version and headers came from a valid response");
    Ok(reqwest::Response::from(response))
}

/// Implements progenitor's `ClientHooks` for a generated `Client` whose inner
/// type is [`ClientState`]: every request goes through [`execute_limited`].
/// Must be invoked in the crate that includes the generated code.
#[doc(hidden)]
#[macro_export]
macro_rules! client_hooks {
    ($client:ty) => {
        impl ::progenitor_client::ClientHooks<$crate::ClientState> for $client {
            async fn exec(
                &self,
                request: ::reqwest::Request,
                _info: &::progenitor_client::OperationInfo,
            ) -> ::reqwest::Result<::reqwest::Response> {
                use ::progenitor_client::ClientInfo;
                $crate::execute_limited(self.client(), request, self.inner()).await
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn secrets(pairs: &[(&'static str, &str)]) -> Secrets {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            let mut value = HeaderValue::from_str(value).unwrap();
            value.set_sensitive(true);
            headers.append(*name, value);
        }
        headers.append("api-login", HeaderValue::from_static("login@example.com"));
        Secrets::from_headers(&headers)
    }

    #[test]
    fn a_unicode_escaped_key_is_scrubbed_in_strings_serde_json_refuses_and_in_any_case() {
        let s = secrets(&[("authorization", "App key-abcdef12")]);
        // \u006b is `k`; beside a lone surrogate, a raw tab, an unknown escape.
        for tail in [r"\ud800", "\t", r"\x41", r"\u12", r"\udc00\ud83d\ude00"] {
            let body = format!(r#"{{"text":"\u006bey-abcdef12 {tail}"}}"#);
            let scrubbed = String::from_utf8(s.scrub(body.clone().into_bytes())).unwrap();
            assert!(!scrubbed.contains("ey-abcdef12"), "{body} -> {scrubbed}");
            assert!(scrubbed.contains("[REDACTED]"), "{body} -> {scrubbed}");
        }
        assert_eq!(s.scrub_str("bad key KEY-ABCDEF12"), "bad key [REDACTED]");
        assert_eq!(json_string_lossy(br"a\ud83d\ude00\u0041\n\/"), "a\u{1F600}A\n/");
        assert_eq!(json_string_lossy(br"\ud800x\uzz"), "\u{FFFD}x\u{FFFD}zz");
    }

    #[test]
    fn raw_control_characters_inside_strings_are_escaped_and_nothing_else() {
        let body = "{\n\t\"a\": \"x\ty\u{0}z\",\n \"b\": \"q\\\"\u{1b}\", \"c\": \"\\\\\"}\r\n";
        let fixed = String::from_utf8(escape_controls(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(fixed, "{\n\t\"a\": \"x\\u0009y\\u0000z\",\n \"b\": \"q\\\"\\u001b\", \"c\": \"\\\\\"}\r\n");
        let value: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(value["a"], "x\ty\u{0}z");
        assert_eq!(value["b"], "q\"\u{1b}");
        // Pretty-printed JSON with no control character inside a string,
        // and compact JSON, are left alone.
        assert_eq!(escape_controls(b"{\n  \"a\": \"x\\ty\"\n}\n"), None);
        assert_eq!(escape_controls(br#"{"a":"x"}"#), None);
        assert_eq!(&*utf8_text(b"[\"a\x01\"]"), "[\"a\\u0001\"]");
        assert_eq!(&*valid_utf8(b"[\"\xff\t\"]".as_slice().into()), "[\"\u{FFFD}\\u0009\"]".as_bytes());
    }

    #[test]
    fn every_form_of_a_credential_is_scrubbed_and_nothing_else() {
        let s = secrets(&[("authorization", "App key-123456"), ("api-key", "octo-secret")]);
        let body = br#"{"text":"Invalid App key-123456; key key-123456; octo-secret; login@example.com"}"#.to_vec();
        let scrubbed = String::from_utf8(s.scrub(body)).unwrap();
        assert_eq!(scrubbed, r#"{"text":"Invalid [REDACTED]; key [REDACTED]; [REDACTED]; login@example.com"}"#);
        assert!(serde_json::from_str::<serde_json::Value>(&scrubbed).is_ok(), "JSON stays JSON");
        assert!(!format!("{s:?}").contains("key-123456"));
    }

    #[test]
    fn basic_credentials_are_scrubbed_encoded_and_decoded() {
        // base64("user:pa55word") = dXNlcjpwYTU1d29yZA==
        let s = secrets(&[("authorization", "Basic dXNlcjpwYTU1d29yZA==")]);
        let text = s.scrub_str("got dXNlcjpwYTU1d29yZA== for user:pa55word, password pa55word");
        assert_eq!(text, "got [REDACTED] for [REDACTED], password [REDACTED]");
    }

    #[test]
    fn a_credential_echoed_inside_a_json_string_is_scrubbed_in_its_escaped_forms() {
        let s = secrets(&[("api-key", r#"octo/se"cret\key1"#)]);
        let body = br#"{"message":"Invalid api-key octo\/se\"cret\\key1 or octo/se\"cret\\key1"}"#.to_vec();
        let scrubbed = String::from_utf8(s.scrub(body)).unwrap();
        assert_eq!(scrubbed, r#"{"message":"Invalid api-key [REDACTED] or [REDACTED]"}"#);
    }

    #[test]
    fn a_credential_spelled_with_unicode_escapes_inside_a_json_string_is_scrubbed() {
        let s = secrets(&[("authorization", "Bearer tok-abcdef")]);
        // `tok-abcdef` with its `t`, `-` and `f` as `\u` escapes, twice in one
        // string, once in another beside a plain escaped quote.
        let body = br#"{"message":"Invalid token: \u0074ok\u002dabcde\u0066 (\u0074ok-abcdef)","n":[1,"x\"y"],"e":"a \"\u0074ok-abcdef\""}"#;
        let scrubbed = String::from_utf8(s.scrub(body.to_vec())).unwrap();
        assert_eq!(
            scrubbed,
            r#"{"message":"Invalid token: [REDACTED] ([REDACTED])","n":[1,"x\"y"],"e":"a \"[REDACTED]\""}"#
        );
        // Strings that do not hold it, escaped or not, are left byte for byte.
        let other = br#"{"text":"caf\u00e9 \u0074ok","x":"\\u0074ok-abcdef"}"#;
        assert_eq!(s.scrub(other.to_vec()), other.to_vec());
        // Not JSON (a string never closed): left as it is, without a panic.
        let broken = br#"{"text":"\u0074ok-abcdef"#;
        assert_eq!(s.scrub(broken.to_vec()), broken.to_vec());
        let trailing = br#""\"#;
        assert_eq!(s.scrub(trailing.to_vec()), trailing.to_vec());
    }

    #[test]
    fn a_credential_echoed_url_encoded_or_inside_base64_is_scrubbed() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        const KEY: &str = "Pr0be+Key/9f8e=7d-SECRET";
        let s = secrets(&[("authorization", &format!("AccessKey {KEY}"))]);
        let echoes = [
            "GET /x?accessKey=Pr0be%2BKey%2F9f8e%3D7d-SECRET".to_owned(),
            "key=Pr0be%2bKey%2f9f8e%3d7d-SECRET".to_owned(),
            // Wherever the key starts in a base64 text: at each of the
            // three alignments, in both alphabets.
            STANDARD.encode(format!("AccessKey {KEY}")),
            STANDARD.encode(format!("{{\"key\":\"{KEY}\"}}")),
            URL_SAFE_NO_PAD.encode(format!("k={KEY}&")),
            STANDARD.encode(KEY),
        ];
        for echo in echoes {
            let scrubbed = s.scrub_str(&format!("refused: {echo} (again)"));
            assert!(scrubbed.contains("[REDACTED]"), "{echo} -> {scrubbed}");
            let decoded = |text: &str| {
                text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_=%".contains(c)))
                    .filter_map(|word| STANDARD.decode(word).or_else(|_| URL_SAFE_NO_PAD.decode(word)).ok())
                    .any(|bytes| String::from_utf8_lossy(&bytes).contains(KEY))
            };
            assert!(!scrubbed.contains(KEY) && !decoded(&scrubbed), "{echo} -> {scrubbed}");
            assert!(!scrubbed.to_ascii_lowercase().contains("pr0be%2bkey"), "{scrubbed}");
        }
        // Ordinary base64 and URLs are left alone.
        let other = format!("ok {} /x?a=b%2Bc", STANDARD.encode("an ordinary message body"));
        assert_eq!(s.scrub_str(&other), other);
    }

    #[test]
    fn headers_echoing_a_credential_are_scrubbed() {
        let s = secrets(&[("authorization", "Bearer tok-abcdef")]);
        let mut headers = HeaderMap::new();
        headers.insert("x-echo", HeaderValue::from_static("Bearer tok-abcdef"));
        headers.insert("x-other", HeaderValue::from_static("fine"));
        s.scrub_headers(&mut headers);
        assert_eq!(headers["x-echo"], "[REDACTED]");
        assert_eq!(headers["x-other"], "fine");
    }
}
