//! What the four vendors' hostile tests share: fast retries, a small body
//! limit, the bounds on requests, and the faults every vendor gets.

#![allow(dead_code)]

use std::time::Duration;

use convo_hostile::{CANARY, HostileServer, Outcome, assert_promise};
use convo_runtime::{ClientOptions, PagingOptions, RetryPolicy};

/// No read may take longer.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The body limit of every client in these tests: far above any page
/// served, far below what the gzip bomb expands to.
pub const BODY_LIMIT: u64 = 256 * 1024;

/// What the gzip bomb expands to.
pub const BOMB_BYTES: usize = 4 * 1024 * 1024;

/// Retries that take milliseconds; a `Retry-After` above 2 s is refused.
/// (`..default()` keeps this compiling if the policy grows a field.)
#[allow(clippy::needless_update)]
pub fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
        ..RetryPolicy::default()
    }
}

pub fn paging(page_size: Option<u64>) -> PagingOptions {
    // Infobip's reads in time windows at once (the other vendors read one
    // page after another whatever the concurrency): every hostile behaviour
    // is met by the windowed read too.
    PagingOptions { page_size, retry: retry(), concurrency: 4, ..PagingOptions::default() }
}

pub fn client_options() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        max_body_bytes: BODY_LIMIT,
        ..ClientOptions::default()
    }
}

/// The pages a read of `messages` at `size` a page takes.
pub fn pages(messages: usize, size: usize) -> usize {
    messages.div_ceil(size.max(1)).max(1)
}

/// The most requests a read of `pages` pages may make: each page twice
/// (a retry, a page to see the end, a key page re-read) and some slack.
/// A client that loops goes far past it (the servers answer up to 300).
pub fn bound(pages: usize) -> usize {
    2 * pages + 10
}

/// The promise, and no more than `max_requests` requests.
#[track_caller]
pub fn check(what: &str, server: &HostileServer, outcome: &Outcome, max_requests: usize) {
    if std::env::var_os("HOSTILE_VERBOSE").is_some() {
        eprintln!(
            "[{what}] {} ids of {} expected, {} requests, {:?}: {}",
            outcome.ids.len(),
            server.expectation().order.len(),
            server.request_count(),
            outcome.elapsed,
            outcome.error.as_ref().map_or("success".to_owned(), |e| format!("error: {}", e.display))
        );
    }
    assert_promise(what, outcome, &server.expectation());
    let sent = server.request_count();
    assert!(
        sent <= max_requests,
        "{what}: {sent} requests, more than the {max_requests} this read needs: the client loops"
    );
}

/// The read failed, and its error never shows the credential.
#[track_caller]
pub fn check_no_canary(what: &str, outcome: &Outcome) {
    assert!(
        outcome.failed(),
        "{what}: a server that refuses every request must end the read with an error, got {} ids",
        outcome.ids.len()
    );
    let texts = outcome.error_texts();
    assert!(!texts.contains(CANARY), "{what}: the error shows the credential:\n{texts}");
}

/// The faults every vendor gets, as tests. The invoking file defines
/// `run(options, page_size) -> (HostileServer, Outcome)` and
/// `run_with(options, paging, credential) -> (HostileServer, Outcome)`.
#[macro_export]
macro_rules! every_vendor_faults {
    ($vendor:expr, $messages:expr, $page_size:expr) => {
        async fn status_on_page_3(status: u16) {
            let options = Options::new($vendor, $messages).behaviour(Behaviour::Status { status, page: 3 });
            let (server, outcome) = run(options, Some($page_size)).await;
            let what = format!("HTTP {status} once on page 3");
            common::check(&what, &server, &outcome, common::bound(common::pages($messages, $page_size)));
            assert!(server.request_count() >= 3, "{what}: the read stopped before page 3");
        }

        #[tokio::test]
        async fn http_500_once_on_page_3() {
            status_on_page_3(500).await;
        }

        #[tokio::test]
        async fn http_502_once_on_page_3() {
            status_on_page_3(502).await;
        }

        #[tokio::test]
        async fn http_503_once_on_page_3() {
            status_on_page_3(503).await;
        }

        #[tokio::test]
        async fn http_504_once_on_page_3() {
            status_on_page_3(504).await;
        }

        #[tokio::test]
        async fn http_408_once_on_page_3() {
            status_on_page_3(408).await;
        }

        #[tokio::test]
        async fn dropped_connection_on_page_2() {
            let options = Options::new($vendor, $messages).behaviour(Behaviour::DropConnection { page: 2 });
            let (server, outcome) = run(options, Some($page_size)).await;
            common::check(
                "a dropped connection on page 2",
                &server,
                &outcome,
                common::bound(common::pages($messages, $page_size)),
            );
        }

        #[tokio::test]
        async fn retry_after_an_hour_ends_in_an_error_quickly() {
            // The default policy, as a user gets it: an hour's wait is
            // refused at once, not slept through and not retried in a loop.
            let options =
                Options::new($vendor, $messages).behaviour(Behaviour::RateLimited { retry_after: "3600".to_owned() });
            let paging = PagingOptions { page_size: Some($page_size), ..PagingOptions::default() };
            let (server, outcome) = run_with(options, paging, "ordinary-key").await;
            let what = "429 with Retry-After: 3600 on every request";
            common::check(what, &server, &outcome, 5);
            assert!(outcome.failed(), "{what}: the read must end with an error");
            assert!(outcome.elapsed < Duration::from_secs(10), "{what}: took {:?}", outcome.elapsed);
        }

        #[tokio::test]
        async fn echoed_credential_in_a_401_never_shows_in_the_error() {
            let options = Options::new($vendor, $messages).behaviour(Behaviour::EchoCredential { status: 401 });
            let (server, outcome) = run_with(options, common::paging(Some($page_size)), convo_hostile::CANARY).await;
            common::check("a 401 echoing the credential", &server, &outcome, 5);
            common::check_no_canary("a 401 echoing the credential", &outcome);
        }

        #[tokio::test]
        async fn echoed_credential_in_a_400_never_shows_in_the_error() {
            let options = Options::new($vendor, $messages).behaviour(Behaviour::EchoCredential { status: 400 });
            let (server, outcome) = run_with(options, common::paging(Some($page_size)), convo_hostile::CANARY).await;
            common::check("a 400 echoing the credential", &server, &outcome, 5);
            common::check_no_canary("a 400 echoing the credential", &outcome);
        }

        async fn gzip_bomb_on(page: usize) {
            let options = Options::new($vendor, $messages)
                .behaviour(Behaviour::GzipBomb { page, expanded_bytes: common::BOMB_BYTES });
            let (server, outcome) = run(options, Some($page_size)).await;
            let what = format!("a gzip bomb on page {page}");
            common::check(&what, &server, &outcome, common::bound(common::pages($messages, $page_size)));
            assert!(
                outcome.failed(),
                "{what}: a body expanding to {} bytes, past the limit of {}, must end the read with an error",
                common::BOMB_BYTES,
                common::BODY_LIMIT
            );
        }

        #[tokio::test]
        async fn gzip_bomb_on_page_1_is_refused() {
            gzip_bomb_on(1).await;
        }

        #[tokio::test]
        async fn gzip_bomb_on_page_3_is_refused() {
            gzip_bomb_on(3).await;
        }
    };
}
