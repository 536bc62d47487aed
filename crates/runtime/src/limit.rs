use std::fmt;

use futures::TryStreamExt;

/// The per-client settings the generated clients carry (progenitor's
/// "inner type"): read by the request hooks.
#[derive(Debug, Clone)]
pub struct ClientState {
    /// The largest response body accepted, in bytes. A larger body is
    /// refused as soon as its size is known (from `Content-Length`, or while
    /// it streams in), never read whole.
    pub max_body_bytes: u64,
}

/// 32 MiB: about thirty times the largest page any of the vendors sends.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

impl Default for ClientState {
    fn default() -> Self {
        Self { max_body_bytes: DEFAULT_MAX_BODY_BYTES }
    }
}

/// A response body was larger than the client's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLarge {
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
/// bytes: reading a larger body fails with [`BodyTooLarge`] in the error's
/// source chain, as soon as the excess is seen.
pub async fn execute_limited(
    client: &reqwest::Client,
    request: reqwest::Request,
    limit: u64,
) -> reqwest::Result<reqwest::Response> {
    let response = client.execute(request).await?;
    let status = response.status();
    let declared_too_large = response.content_length().is_some_and(|len| len > limit);
    let mut builder = http::Response::builder().status(status).version(response.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = response.headers().clone();
    }
    let headers = response.headers().clone();
    let mut seen: u64 = 0;
    let stream = response.bytes_stream().map_err(|e| Box::new(e) as BoxError).and_then(move |chunk| {
        seen += chunk.len() as u64;
        let result = if seen > limit { Err(Box::new(BodyTooLarge { limit }) as BoxError) } else { Ok(chunk) };
        futures::future::ready(result)
    });
    let body = if declared_too_large {
        // Refused on its declared size: not a byte of it is read.
        failing_body(BodyTooLarge { limit })
    } else if status.is_client_error() || status.is_server_error() {
        // Error bodies are small: read them here, so that one that is not
        // JSON keeps its status instead of becoming a decoding error.
        match stream.try_collect::<Vec<bytes::Bytes>>().await {
            Ok(chunks) => {
                let bytes: Vec<u8> = chunks.concat();
                if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
                    reqwest::Body::from(bytes)
                } else {
                    let end = bytes.len().min(120);
                    failing_body(ErrorStatus {
                        status,
                        retry_after: crate::retry::retry_after(&headers, std::time::SystemTime::now()),
                        body_start: String::from_utf8_lossy(&bytes[..end]).escape_debug().collect(),
                    })
                }
            }
            Err(e) => reqwest::Body::wrap_stream(futures::stream::once(async move { Err::<bytes::Bytes, BoxError>(e) })),
        }
    } else {
        reqwest::Body::wrap_stream(stream)
    };
    let response = builder.body(body).expect("status, version and headers came from a valid response");
    Ok(reqwest::Response::from(response))
}

/// Implements progenitor's `ClientHooks` for a generated `Client` whose inner
/// type is [`ClientState`]: every request goes through [`execute_limited`].
/// Must be invoked in the crate that includes the generated code.
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
                $crate::execute_limited(self.client(), request, self.inner().max_body_bytes).await
            }
        }
    };
}
