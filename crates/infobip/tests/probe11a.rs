//! Probe round 11a: Infobip's paging stream given extreme inputs by a Rust
//! user.
//!
//! Failing when written (bug), fixed the same day:
//! `a_created_after_at_the_last_millisecond_is_a_typed_error_not_a_panic`
//! (the floor a millisecond after the query's own `createdAfter` is
//! checked arithmetic).
//!
//! Passing probes: `garbage_resume_positions_are_typed_errors`,
//! `page_size_extremes_are_typed_errors`.

use chrono::{DateTime, Utc};
use futures::StreamExt;

use convo_infobip::{
    Client, Credentials, MessagesQuery, PagingOptions, Position, RetryPolicy, SecretString, Timestamp,
};

fn client() -> Client {
    // Nothing listens on port 9: no request must be needed for these.
    Client::new("http://127.0.0.1:9", Credentials::api_key(SecretString::from("probe-key-1234"))).unwrap()
}

fn opts() -> PagingOptions {
    PagingOptions { retry: RetryPolicy::none(), ..Default::default() }
}

/// What: `MessagesQuery { created_after: Some(t) }` with `t` the last whole
/// millisecond chrono can hold (`DateTime::<Utc>::MAX_UTC` truncated to
/// milliseconds), then `client.pages(query, options)`.
/// Observed: panics inside `pages()` itself ("`DateTime + TimeDelta`
/// overflowed", `convo_runtime::paging::keyset::pages`, the floor
/// `after + TimeDelta::milliseconds(1)`).
/// Why a bug: the promise is "Bad input gets a clear typed error, never a
/// panic"; the same code path uses `checked_sub_signed` elsewhere. Expected
/// `PagingError::InvalidQuery` (or an empty read), not a panic.
#[tokio::test]
async fn a_created_after_at_the_last_millisecond_is_a_typed_error_not_a_panic() {
    let last = DateTime::<Utc>::from_timestamp_millis(DateTime::<Utc>::MAX_UTC.timestamp_millis()).unwrap();
    let mut query = MessagesQuery::new("c-1");
    query.created_after = Some(Timestamp::from(last));
    let c = client();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _stream = c.pages(query, opts());
    }));
    assert!(outcome.is_ok(), "Client::pages panicked on created_after = {last}");
}

#[tokio::test]
async fn garbage_resume_positions_are_typed_errors() {
    for resume in [
        Position::Cursor(String::new()),
        Position::Cursor("not json".into()),
        Position::Cursor("{\"after\":\"garbage\"}".into()),
        Position::Cursor("{\"page\":-1}".into()),
        Position::Cursor("[1,2]".into()),
        Position::Page(3),
    ] {
        let mut stream =
            client().pages(MessagesQuery::new("c-1"), PagingOptions { resume: Some(resume.clone()), ..opts() });
        let first = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next()).await.expect("bounded");
        match first {
            Some(Err(e)) => assert!(e.to_string().contains("resume"), "{resume:?}: {e}"),
            other => panic!("{resume:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn page_size_extremes_are_typed_errors() {
    for size in [0, 1000, u64::MAX] {
        let mut stream = client().pages(MessagesQuery::new("c-1"), PagingOptions { page_size: Some(size), ..opts() });
        let first = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next()).await.expect("bounded");
        assert!(matches!(first, Some(Err(ref e)) if e.to_string().contains("page size")), "{size}: {first:?}");
    }
}
