//! Retries with exponential back-off and jitter, honouring the vendor's
//! `Retry-After` and rate-limit headers.

use std::future::Future;
use std::time::{Duration, SystemTime};

use progenitor_client::Error;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::limit::{ErrorStatus, body_too_large, find_in_chain};

/// [`RetryPolicy::max_retry_after`] by default: the longest wait a vendor
/// may ask for and have it waited out (also the longest pause a shared
/// [`RateBudget`](crate::RateBudget) takes).
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// When to try a request again, and whom to tell.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Called before every wait between two tries (with why, and how long
    /// the wait is), e.g. to show "rate limited; retrying in 3 s". Every
    /// retry is also a `warn` log line. Default: none.
    pub on_retry: Option<OnRetry>,
    /// Tries in all, the first included. Default 5; 1 disables retries.
    pub max_attempts: u32,
    /// The first back-off; each next one doubles. Default 250 ms.
    pub initial_backoff: Duration,
    /// The longest back-off. Default 30 s.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a vendor asking for more ends
    /// the retries with the error. Default 120 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            on_retry: None,
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The back-off before try `attempt + 1` (attempt counts from 1), with
    /// "equal jitter": between half and all of the exponential delay.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let capped = exp.min(self.max_backoff);
        let half = capped / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// A retry about to happen, as [`OnRetry`] is told of it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryNotice {
    /// The vendor asked (`"Bird"`, `"LeadConnector"`...).
    pub vendor: &'static str,
    /// The page being asked for.
    pub page: crate::PagePosition,
    /// The try that failed, from 1.
    pub attempt: u32,
    /// Tries in all, at most.
    pub max_attempts: u32,
    /// How long the wait before the next try is.
    pub wait: Duration,
    /// The vendor's rate limit (429): the wait is the vendor's own.
    pub rate_limited: bool,
    /// Why the try failed: the status or the kind of failure, never a body
    /// or a header.
    pub reason: String,
}

impl std::fmt::Display for RetryNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let wait = self.wait.as_secs_f64();
        let wait = if wait >= 1.0 { format!("{:.0} s", wait.round()) } else { format!("{} ms", self.wait.as_millis()) };
        if self.rate_limited {
            write!(f, "{}: rate limited; retrying in {wait}", self.vendor)
        } else {
            write!(
                f,
                "{}: {} on {}; retrying in {wait} (try {} of {})",
                self.vendor,
                self.reason,
                self.page,
                self.attempt + 1,
                self.max_attempts
            )
        }
    }
}

/// A callback told of every retry before its wait (see
/// [`RetryPolicy::on_retry`]).
#[derive(Clone)]
pub struct OnRetry(std::sync::Arc<dyn Fn(&RetryNotice) + Send + Sync>);

impl OnRetry {
    /// Calls `f` before every wait between two tries.
    pub fn new(f: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(f))
    }
}

impl std::fmt::Debug for OnRetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnRetry(..)")
    }
}

/// Who is retrying: for the log lines and [`RetryNotice`].
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub vendor: &'static str,
    pub page: &'a crate::PagePosition,
}

/// What to do after a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again, after the vendor's requested delay if it gave one.
    Retry { after: Option<Duration> },
    /// Give up: retrying cannot help.
    Fail,
}

/// Statuses that are retried, as the AWS SDKs' standard retry mode and
/// Stripe's and Google's clients retry idempotent reads: a request timeout
/// (408), rate limits (429) and transient server failures (500, 502, 503,
/// 504). Bird documents its 5xx as safe to retry.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// Decides whether a request error is worth another try: 408, 429, 500,
/// 502, 503, 504, connection failures, timeouts and bodies cut off mid-way are; other
/// statuses, bodies that are not the expected JSON, and bodies over the
/// size limit are not.
pub fn classify<E>(error: &Error<E>) -> Verdict {
    match error {
        Error::CommunicationError(e) => {
            if e.is_builder() || e.is_redirect() {
                Verdict::Fail
            } else {
                Verdict::Retry { after: None }
            }
        }
        Error::ErrorResponse(response) => by_status(response.status(), response.headers()),
        Error::UnexpectedResponse(response) => by_status(response.status(), response.headers()),
        Error::ResponseBodyError(e) => {
            if body_too_large(e).is_some() {
                Verdict::Fail
            } else if let Some(status) = find_in_chain::<ErrorStatus>(e) {
                if is_retryable_status(status.status) {
                    Verdict::Retry { after: status.retry_after }
                } else {
                    Verdict::Fail
                }
            } else {
                // The body was cut off mid-way: the connection failed.
                Verdict::Retry { after: None }
            }
        }
        _ => Verdict::Fail,
    }
}

fn by_status(status: StatusCode, headers: &HeaderMap) -> Verdict {
    if is_retryable_status(status) {
        Verdict::Retry { after: retry_after(headers, SystemTime::now()) }
    } else {
        Verdict::Fail
    }
}

/// The delay a response asks for: `Retry-After` in seconds or as an HTTP
/// date; else, when LeadConnector's `X-RateLimit-Remaining` is 0, its
/// `X-RateLimit-Interval-Milliseconds`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(value) = text("retry-after") {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(date) = httpdate::parse_http_date(value) {
            return Some(date.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    if text("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok()) == Some(0)
        && let Some(ms) = text("x-ratelimit-interval-milliseconds").and_then(|v| v.parse::<u64>().ok())
    {
        return Some(Duration::from_millis(ms));
    }
    None
}

/// A request that failed for good, with how many tries were made.
#[derive(Debug)]
pub struct Exhausted<E> {
    pub error: Error<E>,
    pub attempts: u32,
    /// Set when the retries stopped because the vendor asked to wait
    /// longer than [`RetryPolicy::max_retry_after`]: what it asked for, and
    /// the cap.
    pub refused_wait: Option<(Duration, Duration)>,
}

/// Runs `op` until it succeeds, fails for good, or runs out of tries.
pub async fn retry<T, E, F, Fut>(policy: &RetryPolicy, context: Context<'_>, mut op: F) -> Result<T, Exhausted<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error<E>>>,
{
    let mut attempt = 1;
    loop {
        let error = match op().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let (delay, refused_wait) = match classify(&error) {
            Verdict::Retry { after: Some(after) } if after > policy.max_retry_after => {
                (None, Some((after, policy.max_retry_after)))
            }
            Verdict::Retry { after } => (Some(after.unwrap_or_else(|| policy.backoff(attempt))), None),
            Verdict::Fail => (None, None),
        };
        match delay {
            Some(delay) if attempt < policy.max_attempts => {
                let reason = Reason(&error).to_string();
                // The vendor and the page are the fields of the `page` span around.
                tracing::warn!(attempt, of = policy.max_attempts, wait_ms = delay.as_millis() as u64, %reason, "request failed; trying again");
                if let Some(on_retry) = &policy.on_retry {
                    (on_retry.0)(&RetryNotice {
                        vendor: context.vendor,
                        page: context.page.clone(),
                        attempt,
                        max_attempts: policy.max_attempts,
                        wait: delay,
                        rate_limited: is_rate_limit(&error),
                        reason,
                    });
                }
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            _ => return Err(Exhausted { error, attempts: attempt, refused_wait }),
        }
    }
}

/// A 429, the vendor's rate limit.
fn is_rate_limit<E>(error: &Error<E>) -> bool {
    let status = match error {
        Error::ErrorResponse(r) => Some(r.status()),
        Error::UnexpectedResponse(r) => Some(r.status()),
        Error::ResponseBodyError(e) => find_in_chain::<ErrorStatus>(e).map(|s| s.status),
        _ => None,
    };
    status == Some(StatusCode::TOO_MANY_REQUESTS)
}

/// Why a try failed, for a log line: the status or the kind of failure,
/// never a body or a header (which could echo a credential).
struct Reason<'a, E>(&'a Error<E>);

impl<E> std::fmt::Display for Reason<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Error::ErrorResponse(r) => write!(f, "HTTP {}", r.status()),
            Error::UnexpectedResponse(r) => write!(f, "HTTP {}", r.status()),
            Error::ResponseBodyError(e) => match find_in_chain::<ErrorStatus>(e) {
                Some(status) => write!(f, "HTTP {}", status.status),
                None => f.write_str("the response body was cut off"),
            },
            Error::CommunicationError(e) if e.is_timeout() => f.write_str("timed out"),
            Error::CommunicationError(e) if e.is_connect() => f.write_str("could not connect"),
            Error::CommunicationError(_) => f.write_str("the connection failed"),
            _ => f.write_str("the request failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (reqwest::header::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_rate_limit_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(&headers(&[("retry-after", "7")]), now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(3));
        assert_eq!(retry_after(&headers(&[("retry-after", &date)]), now), Some(Duration::from_secs(3)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(3));
        assert_eq!(retry_after(&headers(&[("retry-after", &past)]), now), Some(Duration::ZERO));
        let limited = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-interval-milliseconds", "10000")]);
        assert_eq!(retry_after(&limited, now), Some(Duration::from_secs(10)));
        let not_yet = headers(&[("x-ratelimit-remaining", "5"), ("x-ratelimit-interval-milliseconds", "10000")]);
        assert_eq!(retry_after(&not_yet, now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
    }

    #[test]
    fn backoff_grows_exponentially_within_jitter_and_cap() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100), "{first:?}");
            let third = policy.backoff(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400), "{third:?}");
            assert!(policy.backoff(30) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn only_timeouts_rate_limits_and_transient_server_failures_are_retryable() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }
}
