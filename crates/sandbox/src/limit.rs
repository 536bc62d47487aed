//! The rate-limit mode: a sliding log of each vendor's admitted requests.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::RateLimit;

/// Where a vendor's budget stands after a request, as the headers that
/// report it say (LeadConnector's `X-RateLimit-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateState {
    /// Requests admitted per window.
    pub limit: u32,
    /// Requests still admitted in the window that ends `interval` after the
    /// oldest one in it.
    pub remaining: u32,
    pub interval: Duration,
}

/// A refused request: the budget, and how long until a request is
/// admitted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    pub state: RateState,
    pub wait: Duration,
}

impl Refused {
    /// The wait in whole seconds, rounded up, at least 1 (for `Retry-After`).
    pub fn retry_after_seconds(&self) -> u64 {
        let nanos = self.wait.as_nanos().div_ceil(1_000_000_000);
        u64::try_from(nanos).unwrap_or(u64::MAX).max(1)
    }
}

/// One vendor's budget: at most `limit.requests` admitted in any window of
/// `limit.per`, kept exactly as the instants of the admitted requests of the
/// last `per` (a sliding log). Refused requests take nothing from it.
pub(crate) struct Limiter {
    limit: RateLimit,
    log: Mutex<VecDeque<Instant>>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        Limiter { limit, log: Mutex::new(VecDeque::new()) }
    }

    /// Admits a request arriving at `now`, or refuses it.
    pub fn admit(&self, now: Instant) -> Result<RateState, Refused> {
        let RateLimit { requests, per } = self.limit;
        let state = |remaining| RateState { limit: requests, remaining, interval: per };
        // A poisoned log still holds instants; the sandbox goes on with it.
        let mut log = self.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while log.front().is_some_and(|&first| now.saturating_duration_since(first) >= per) {
            log.pop_front();
        }
        let admitted = u32::try_from(log.len()).unwrap_or(u32::MAX);
        if admitted < requests {
            log.push_back(now);
            return Ok(state(requests - admitted - 1));
        }
        let oldest = log.front().copied().unwrap_or(now);
        Err(Refused { state: state(0), wait: per.saturating_sub(now.saturating_duration_since(oldest)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sliding_log_admits_requests_per_window() {
        let per = Duration::from_secs(10);
        let limiter = Limiter::new(RateLimit { requests: 2, per });
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        assert_eq!(limiter.admit(at(0)).map(|s| s.remaining), Ok(1));
        assert_eq!(limiter.admit(at(4_000)).map(|s| s.remaining), Ok(0));
        let refused = limiter.admit(at(6_000)).unwrap_err();
        assert_eq!(refused.wait, Duration::from_secs(4));
        assert_eq!(refused.retry_after_seconds(), 4);
        assert_eq!(refused.state, RateState { limit: 2, remaining: 0, interval: per });
        // The first request leaves the window 10 s after it came.
        assert_eq!(limiter.admit(at(10_000)).map(|s| s.remaining), Ok(0));
        let refused = limiter.admit(start + Duration::from_micros(13_999_500)).unwrap_err();
        assert_eq!(refused.wait, Duration::from_micros(500));
        assert_eq!(refused.retry_after_seconds(), 1, "rounded up, at least 1");
        assert!(limiter.admit(at(20_000)).is_ok());
    }
}
