//! One rate budget shared by every client that uses the same credential:
//! each request, retries included, waits for a token first, and a vendor
//! that says to slow down (a 429, `Retry-After`, `X-RateLimit-Remaining: 0`)
//! pauses every client sharing the budget, not only the one that was told.
//!
//! The token bucket is `governor`'s (GCRA): at most `burst` requests at
//! once, then one per `per / requests`.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// A rate budget: clone it into the `ClientOptions` of every client that
/// shares a credential (clones share one bucket).
#[derive(Clone)]
pub struct RateBudget(Arc<Inner>);

struct Inner {
    /// `None`: no limit of its own (a vendor that documents none); the
    /// vendor's own answers still pause it.
    limiter: Option<DefaultDirectRateLimiter>,
    stats: Stats,
    /// No request before this instant: the vendor asked to wait.
    paused_until: Mutex<Option<Instant>>,
    requests: u32,
    per: Duration,
    burst: u32,
}

impl fmt::Debug for RateBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inner { requests, per, burst, .. } = &*self.0;
        match self.0.limiter {
            Some(_) => write!(f, "RateBudget({requests} requests per {per:?}, burst {burst})"),
            None => f.write_str("RateBudget(unlimited)"),
        }
    }
}

impl RateBudget {
    /// The longest pause a vendor's answer sets off: what a request's retry
    /// policy waits at most by default.
    pub const MAX_PAUSE: Duration = crate::retry::DEFAULT_MAX_RETRY_AFTER;

    /// At most `requests` per `per`, and at most `burst` at once (all at
    /// least 1). Over any span `t`, at most `burst + t / (per / requests)`
    /// requests leave: to stay within a vendor's "N per window" whatever the
    /// phase, choose `burst` small or `requests` a little under N.
    pub fn new(requests: u32, per: Duration, burst: u32) -> Self {
        let requests = requests.max(1);
        let period = (per / requests).max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
        Self(Arc::new(Inner {
            limiter: Some(RateLimiter::direct(quota)),
            stats: Stats::default(),
            paused_until: Mutex::new(None),
            requests,
            per,
            burst: burst.get(),
        }))
    }

    /// A budget with no limit of its own, for a vendor that documents none:
    /// requests leave at once, except while the vendor has asked to wait
    /// (which pauses every client sharing it, as with any budget), and they
    /// are counted ([`RateBudget::stats`]).
    pub fn unlimited() -> Self {
        Self(Arc::new(Inner {
            limiter: None,
            stats: Stats::default(),
            paused_until: Mutex::new(None),
            requests: 0,
            per: Duration::ZERO,
            burst: 0,
        }))
    }

    /// What the clients sharing this budget have done so far.
    pub fn stats(&self) -> BudgetStats {
        let stats = &self.0.stats;
        BudgetStats {
            requests: stats.requests.load(Ordering::Relaxed),
            rate_limited: stats.rate_limited.load(Ordering::Relaxed),
            waited: Duration::from_nanos(stats.waited_nanos.load(Ordering::Relaxed)),
        }
    }

    /// Waits until a request may leave: after any pause the vendor asked
    /// for, and when the bucket has a token.
    pub async fn acquire(&self) {
        let started = Instant::now();
        loop {
            let pause = *self.0.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until.into()).await,
                _ => break,
            }
        }
        if let Some(limiter) = &self.0.limiter {
            limiter.until_ready().await;
        }
        let stats = &self.0.stats;
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let waited = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        stats.waited_nanos.fetch_add(waited, Ordering::Relaxed);
    }

    /// Reads what a response says of the budget: a 429 or 503 with a wait
    /// (`Retry-After`, or LeadConnector's rate-limit headers), or
    /// `X-RateLimit-Remaining: 0` with its interval, pauses every client
    /// sharing this budget for that long.
    ///
    /// A wait longer than [`RateBudget::MAX_PAUSE`] (a day's quota spent, an
    /// interval of hours) pauses nothing: the request told so gives up on
    /// its own ([`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after)),
    /// and the other clients go on, each told by the vendor itself if the
    /// limit is theirs too, so that every read ends, with its own error, in
    /// bounded time instead of all of them waiting out the vendor's hours.
    pub fn observe(&self, status: reqwest::StatusCode, headers: &reqwest::header::HeaderMap) {
        if status.as_u16() == 429 {
            self.0.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        let Some(wait) = crate::retry::retry_after(headers, SystemTime::now()) else { return };
        let limited = status.as_u16() == 429 || status.as_u16() == 503;
        let exhausted = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            == Some(0);
        if !(limited || exhausted) {
            return;
        }
        if wait > Self::MAX_PAUSE {
            tracing::warn!(
                wait_s = wait.as_secs(),
                "the vendor asked to wait longer than the budget pauses ({} s): not paused",
                Self::MAX_PAUSE.as_secs()
            );
            return;
        }
        let until = Instant::now() + wait;
        let mut paused = self.0.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|current| current < until) {
            tracing::debug!(wait_ms = wait.as_millis() as u64, "the vendor asked to slow down: the budget pauses");
            *paused = Some(until);
        }
    }
}

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    waited_nanos: AtomicU64,
}

/// What the clients sharing a [`RateBudget`] have done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BudgetStats {
    /// Requests sent (each try of a retried request counts).
    pub requests: u64,
    /// Responses that were 429 Too Many Requests.
    pub rate_limited: u64,
    /// Time spent waiting for the budget, summed over the requests (two
    /// requests waiting one second at once count two seconds).
    pub waited: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    /// How long the budget holds every request back from now.
    fn paused(budget: &RateBudget) -> Option<Duration> {
        let until = *budget.0.paused_until.lock().unwrap();
        until.map(|until| until.saturating_duration_since(Instant::now()))
    }

    #[test]
    fn a_wait_the_retry_policy_takes_pauses_every_client_and_a_longer_one_pauses_none() {
        assert_eq!(RateBudget::MAX_PAUSE, crate::RetryPolicy::default().max_retry_after);
        let budget = RateBudget::unlimited();
        // A day's quota spent, and a 200 announcing an interval of 28 hours.
        budget.observe(StatusCode::TOO_MANY_REQUESTS, &headers(&[("retry-after", "100000")]));
        assert_eq!(paused(&budget), None);
        let interval = [("x-ratelimit-remaining", "0"), ("x-ratelimit-interval-milliseconds", "100000000")];
        budget.observe(StatusCode::OK, &headers(&interval));
        assert_eq!(paused(&budget), None);
        // Within the cap: every client sharing the budget waits.
        budget.observe(StatusCode::TOO_MANY_REQUESTS, &headers(&[("retry-after", "30")]));
        let pause = paused(&budget).expect("paused");
        assert!(pause > Duration::from_secs(29) && pause <= Duration::from_secs(30), "{pause:?}");
        let interval = [("x-ratelimit-remaining", "0"), ("x-ratelimit-interval-milliseconds", "60000")];
        budget.observe(StatusCode::OK, &headers(&interval));
        assert!(paused(&budget).expect("paused") > Duration::from_secs(59));
    }
}
