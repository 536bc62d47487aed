//! Whole conversations through the unified stream, from the sandbox (a real
//! server on 127.0.0.1 speaking each vendor's paging), with faults injected:
//! every message arrives exactly once and in order, with the fewest
//! requests; unrecoverable faults end in a typed error naming the page,
//! after the messages before it.

use std::time::Duration;

use std::sync::{Arc, Mutex};

use convo_normalize::fetch::{
    ClientOptions, ErrorKind, FetchError, FetchOptions, OnRetry, PagingOptions, RetryPolicy, Selector, Source, pages,
};
use convo_normalize::{Message, Vendor};
use convo_runtime::PagingError;
use convo_sandbox::{Fault, FaultKind, Sandbox, SandboxOptions, ids};
use futures::StreamExt;

const MESSAGES: usize = 3_000;
const PAGE: u64 = 100;

/// The generated conversation of `vendor`, read with the sandbox's keys:
/// the same variables `Client::from_env` reads, from the sandbox.
fn source(vendor: Vendor, sandbox: &Sandbox) -> Source {
    let selector = Selector {
        conversation: Some(ids::generated(vendor).to_owned()),
        workspace: ids::workspace(vendor).map(str::to_owned),
        ..Selector::default()
    };
    Source::from_vars(vendor, &selector, sandbox.vars(vendor), &ClientOptions::default()).unwrap()
}

/// One page after another (Infobip reads its time windows at once with a
/// concurrency above 1, which moves the request a fault lands on; its
/// windowed read is the table's second half).
fn options() -> FetchOptions {
    FetchOptions {
        paging: PagingOptions {
            concurrency: 1,
            page_size: Some(PAGE),
            retry: RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
            ..PagingOptions::default()
        },
        since: None,
    }
}

/// Everything the stream gave: the messages, and the error that ended it.
async fn run(vendor: Vendor, faults: Vec<Fault>) -> (Vec<Message>, Option<FetchError>, usize) {
    let sandbox =
        Sandbox::start(SandboxOptions { messages: MESSAGES, faults, ..SandboxOptions::default() }).await.unwrap();
    let mut stream = pages(source(vendor, &sandbox), options());
    let (mut messages, mut error) = (Vec::new(), None);
    while let Some(page) = stream.next().await {
        match page {
            Ok(page) => messages.extend(page.messages),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert!(stream.next().await.is_none(), "{vendor}: nothing after the end");
    let requests = sandbox.requests(vendor);
    (messages, error, requests)
}

fn ids_of(messages: &[Message]) -> Vec<String> {
    messages.iter().map(|m| m.id.clone().expect("an id")).collect()
}

/// The fewest requests. Cursor vendors: one per page. Octopush: one per
/// page, the empty page that always ends the read, and the listing read
/// again to check it did not shift (up to its last page with messages, and
/// the empty one after it when that one is full). Infobip, paged on the creation time: the
/// first page, then pages that start again at the newest message delivered
/// (one message fewer that is new), the last one short and ending at the
/// total the vendor counts for its filter.
fn minimum_requests(vendor: Vendor) -> usize {
    let (messages, page) = (MESSAGES, PAGE as usize);
    match vendor {
        Vendor::Octopush => 2 * messages.div_ceil(page) + 1 + usize::from(messages.is_multiple_of(page)),
        // Every page after the first starts at the newest message delivered;
        // the read ends on a request that brings nothing new.
        Vendor::Infobip => 2 + (messages - page).div_ceil(page - 1),
        Vendor::Leadconnector | Vendor::Bird => messages.div_ceil(page),
    }
}

/// The messages of the first two pages (what comes before a third request).
fn two_pages(vendor: Vendor) -> usize {
    let page = PAGE as usize;
    // Infobip's second page starts again at the first's newest message.
    if vendor == Vendor::Infobip { page + page - 1 } else { 2 * page }
}

fn fault(vendor: Vendor, on_request: usize, kind: FaultKind) -> Fault {
    Fault { vendor, on_request, kind }
}

#[tokio::test]
async fn a_clean_conversation_arrives_whole_with_the_fewest_requests() {
    for vendor in Vendor::ALL {
        let (messages, error, requests) = run(vendor, Vec::new()).await;
        assert!(error.is_none(), "{vendor}: {error:?}");
        let ids = ids_of(&messages);
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((ids.len(), unique.len()), (MESSAGES, MESSAGES), "{vendor}: every message exactly once");
        assert_eq!(requests, minimum_requests(vendor), "{vendor}: requests");
    }
}

#[tokio::test]
async fn recoverable_faults_are_retried_and_lose_or_repeat_nothing() {
    for vendor in Vendor::ALL {
        let (clean, _, _) = run(vendor, Vec::new()).await;
        let faults = vec![
            fault(vendor, 2, FaultKind::Status { status: 429, retry_after: Some("1".into()) }),
            fault(vendor, 4, FaultKind::Status { status: 503, retry_after: None }),
            fault(vendor, 6, FaultKind::DropConnection),
            fault(vendor, 8, FaultKind::TruncatedBody),
            fault(vendor, 10, FaultKind::Status { status: 502, retry_after: None }),
            fault(vendor, 12, FaultKind::Status { status: 500, retry_after: None }),
            fault(vendor, 14, FaultKind::Status { status: 504, retry_after: None }),
        ];
        let (messages, error, requests) = run(vendor, faults).await;
        assert!(error.is_none(), "{vendor}: {error:?}");
        assert_eq!(ids_of(&messages), ids_of(&clean), "{vendor}: the same messages, once each, in the same order");
        assert_eq!(requests, minimum_requests(vendor) + 7, "{vendor}: one retry per fault");
    }
}

#[tokio::test]
async fn a_server_error_ends_the_stream_naming_the_page_after_the_pages_before_it() {
    for vendor in Vendor::ALL {
        let (clean, _, _) = run(vendor, Vec::new()).await;
        // 500 is retried; 501 is a server error that is not.
        let (messages, error, requests) =
            run(vendor, vec![fault(vendor, 3, FaultKind::Status { status: 501, retry_after: None })]).await;
        let error = error.unwrap_or_else(|| panic!("{vendor}: a 501 is not retried"));
        assert_eq!(error.kind(), ErrorKind::Vendor, "{vendor}");
        let text = error.to_string();
        assert!(text.starts_with(&format!("{vendor}: ")) && text.contains("HTTP 501"), "{vendor}: {text}");
        assert!(text.contains("page"), "{vendor}: the error names the page: {text}");
        assert_eq!(ids_of(&messages), ids_of(&clean)[..messages.len()], "{vendor}: a prefix, in order");
        // Every vendor reads one page after another: exactly the two pages
        // before the failed third request.
        assert_eq!(messages.len(), two_pages(vendor), "{vendor}");
        assert_eq!(requests, 3, "{vendor}");
    }
}

#[tokio::test]
async fn a_repeated_cursor_or_page_ends_the_stream_instead_of_looping() {
    for vendor in Vendor::ALL {
        let (clean, _, _) = run(vendor, Vec::new()).await;
        // The third response points back: Octopush serves page 2 again,
        // Bird hands back the token it was given, LeadConnector the cursor
        // it was given as `lastMessageId`. Infobip's fault serves the page
        // before the one asked; the read asks page 0 of a filter that moves
        // on, so there is none to point back to.
        let (messages, error, _) = run(vendor, vec![fault(vendor, 3, FaultKind::RepeatCursor)]).await;
        let ids = ids_of(&messages);
        assert_eq!(ids, ids_of(&clean)[..ids.len()], "{vendor}: nothing repeated, nothing out of order");
        if vendor == Vendor::Infobip {
            assert!(error.is_none(), "{vendor}: {error:?}");
            assert_eq!(ids, ids_of(&clean), "{vendor}: the whole conversation, once");
            continue;
        }
        let error = error.unwrap_or_else(|| panic!("{vendor}: a repeated cursor or page must end the stream"));
        let (repeated, delivered) = match &error {
            // The repeated page itself is not delivered.
            FetchError::Octopush(PagingError::RepeatedPage { .. }) => (true, 2),
            // The page is sound and delivered; its cursor cannot be followed.
            FetchError::Bird(PagingError::RepeatedCursor { .. }) => (true, 3),
            FetchError::Leadconnector(PagingError::CursorMismatch { .. }) => (true, 3),
            _ => (false, 0),
        };
        assert!(repeated, "{vendor}: {error:?}");
        assert_eq!(ids.len(), delivered * PAGE as usize, "{vendor}");
    }
}

#[tokio::test]
async fn an_empty_page_that_claims_more_ends_the_stream() {
    for vendor in [Vendor::Leadconnector, Vendor::Bird] {
        let (messages, error, requests) = run(vendor, vec![fault(vendor, 3, FaultKind::EmptyPageWithMore)]).await;
        let error = error.unwrap_or_else(|| panic!("{vendor}: an empty page claiming more must end the stream"));
        let empty = matches!(
            &error,
            FetchError::Leadconnector(PagingError::EmptyPageWithMore { .. })
                | FetchError::Bird(PagingError::EmptyPageWithMore { .. })
        );
        assert!(empty, "{vendor}: {error:?}");
        assert_eq!(messages.len(), two_pages(vendor), "{vendor}");
        assert_eq!(requests, 3, "{vendor}");
    }
}

#[tokio::test]
async fn an_empty_page_whose_total_says_more_ends_a_listing_read_on_the_creation_time() {
    // Infobip's read asks for the messages created after the newest one
    // delivered: an empty answer whose `totalItems` still counts messages is
    // an error after the messages before it, never a quiet end.
    let vendor = Vendor::Infobip;
    let (clean, _, _) = run(vendor, Vec::new()).await;
    let (messages, error, requests) = run(vendor, vec![fault(vendor, 3, FaultKind::EmptyPageWithMore)]).await;
    assert!(matches!(&error, Some(FetchError::Infobip(PagingError::EmptyPageWithMore { .. }))), "{vendor}: {error:?}");
    assert_eq!(ids_of(&messages), ids_of(&clean)[..two_pages(vendor)], "{vendor}");
    assert_eq!(requests, 3, "{vendor}");
}

#[tokio::test]
async fn since_keeps_only_newer_messages_and_stops_early_where_the_order_allows() {
    for vendor in [Vendor::Infobip, Vendor::Leadconnector, Vendor::Bird] {
        let (clean, _, _) = run(vendor, Vec::new()).await;
        let mut times: Vec<_> = clean.iter().map(|m| m.created_at.expect("generated messages have times")).collect();
        times.sort();
        let since = times[MESSAGES - 250];
        let expected: Vec<String> =
            clean.iter().filter(|m| m.created_at.unwrap() >= since).map(|m| m.id.clone().expect("an id")).collect();
        assert_eq!(expected.len(), 250, "{vendor}");

        let sandbox = Sandbox::start(SandboxOptions { messages: MESSAGES, ..SandboxOptions::default() }).await.unwrap();
        let options = FetchOptions { since: Some(since), ..options() };
        let got: Vec<Message> = convo_normalize::fetch::messages(source(vendor, &sandbox), options)
            .map(|m| m.unwrap_or_else(|e| panic!("{vendor}: {e}")))
            .collect()
            .await;
        let got = ids_of(&got);
        assert_eq!(
            got.len(),
            expected.len(),
            "{vendor}: first {:?}, expected first {:?}",
            got.first(),
            expected.first()
        );
        assert_eq!(got, expected, "{vendor}");
        let requests = sandbox.requests(vendor);
        // Server-side filters (Infobip, Bird) and LeadConnector's newest-first
        // order (stop at the first older message) all avoid reading the rest.
        // Infobip ends on one more request that brings nothing new.
        let most = if vendor == Vendor::Infobip { 4 } else { 3 };
        assert!(requests <= most, "{vendor}: {requests} requests for 250 new messages");
    }

    let sandbox = Sandbox::start(SandboxOptions { messages: 10, ..SandboxOptions::default() }).await.unwrap();
    let options = FetchOptions { since: Some(chrono::Utc::now()), ..options() };
    let results: Vec<_> = convo_normalize::fetch::messages(source(Vendor::Octopush, &sandbox), options).collect().await;
    assert!(
        matches!(results.as_slice(), [Err(FetchError::SinceUnsupported { vendor: Vendor::Octopush })]),
        "{results:?}"
    );
    assert_eq!(sandbox.requests(Vendor::Octopush), 0);
}

/// A rate limit's wait reaches the caller before it is waited out, in words
/// a progress line can show, and the read goes on exactly once.
#[tokio::test]
async fn every_retry_is_told_to_the_caller_before_its_wait() {
    for vendor in Vendor::ALL {
        let sandbox = Sandbox::start(SandboxOptions {
            messages: MESSAGES,
            faults: vec![fault(vendor, 2, FaultKind::Status { status: 429, retry_after: Some("1".into()) })],
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let notices = Arc::new(Mutex::new(Vec::new()));
        let told = notices.clone();
        let mut options = options();
        options.paging.retry.on_retry = Some(OnRetry::new(move |n| told.lock().unwrap().push(n.clone())));
        let messages: Vec<_> = convo_normalize::fetch::messages(source(vendor, &sandbox), options).collect().await;
        assert!(messages.iter().all(Result::is_ok), "{vendor}");
        assert_eq!(messages.len(), MESSAGES, "{vendor}");
        let notices = notices.lock().unwrap();
        assert_eq!(notices.len(), 1, "{vendor}: {notices:?}");
        let notice = &notices[0];
        assert!(notice.rate_limited && notice.attempt == 1, "{vendor}: {notice:?}");
        assert_eq!(notice.wait, Duration::from_secs(1), "{vendor}: the vendor's Retry-After");
        assert!(notice.to_string().ends_with("rate limited; retrying in 1 s"), "{vendor}: {notice}");
    }
}

/// What a fault must lead to.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// The whole conversation, once each, in order, with this many requests
    /// beyond the fewest.
    Whole { retries: usize },
    /// The stream ends with this kind of error after this many whole pages
    /// (the messages of the pages before the fault).
    Ends { kind: ErrorKind, pages: usize },
}

/// One fault table for every vendor: the sandbox injects each fault into the
/// vendor's own protocol (its statuses, error bodies and headers), and the
/// vendor's stream must answer it as the row says.
#[tokio::test]
async fn the_fault_table_holds_for_every_vendor() {
    let status = |status: u16, retry_after: Option<&str>| FaultKind::Status {
        status,
        retry_after: retry_after.map(str::to_owned),
    };
    let table: Vec<(&str, usize, FaultKind, Outcome)> = vec![
        ("408 is retried", 2, status(408, None), Outcome::Whole { retries: 1 }),
        ("429 waits its Retry-After", 2, status(429, Some("0")), Outcome::Whole { retries: 1 }),
        ("500 is retried", 2, status(500, None), Outcome::Whole { retries: 1 }),
        ("502 is retried", 2, status(502, None), Outcome::Whole { retries: 1 }),
        ("503 is retried", 3, status(503, None), Outcome::Whole { retries: 1 }),
        ("504 is retried", 3, status(504, None), Outcome::Whole { retries: 1 }),
        ("a dropped connection is retried", 2, FaultKind::DropConnection, Outcome::Whole { retries: 1 }),
        ("a cut-off body is retried", 2, FaultKind::TruncatedBody, Outcome::Whole { retries: 1 }),
        ("501 ends the read", 3, status(501, None), Outcome::Ends { kind: ErrorKind::Vendor, pages: 2 }),
        (
            "a Retry-After over the cap ends the read",
            2,
            status(429, Some("600")),
            Outcome::Ends { kind: ErrorKind::RateLimited, pages: 1 },
        ),
        ("401 is an auth error", 1, status(401, None), Outcome::Ends { kind: ErrorKind::Auth, pages: 0 }),
        ("404 is not found", 1, status(404, None), Outcome::Ends { kind: ErrorKind::NotFound, pages: 0 }),
    ];
    for vendor in Vendor::ALL {
        let (clean, _, _) = run(vendor, Vec::new()).await;
        let clean = ids_of(&clean);
        for (name, on_request, kind, outcome) in &table {
            let (messages, error, requests) = run(vendor, vec![fault(vendor, *on_request, kind.clone())]).await;
            let ids = ids_of(&messages);
            let row = format!("{vendor}: {name}");
            match *outcome {
                Outcome::Whole { retries } => {
                    assert!(error.is_none(), "{row}: {error:?}");
                    assert_eq!(ids, clean, "{row}: the whole conversation, once each, in order");
                    assert_eq!(requests, minimum_requests(vendor) + retries, "{row}: requests");
                }
                Outcome::Ends { kind, pages } => {
                    let error = error.unwrap_or_else(|| panic!("{row}: the read must end with an error"));
                    assert_eq!(error.kind(), kind, "{row}: {error}");
                    let delivered = match pages {
                        0 => 0,
                        1 => PAGE as usize,
                        _ => two_pages(vendor),
                    };
                    assert_eq!(ids, clean[..delivered], "{row}: the pages before the fault, in order");
                    let line = error.to_string();
                    assert!(!line.contains('\n') && line.starts_with(&format!("{vendor}: ")), "{row}: {line}");
                }
            }
        }
    }
}

/// Infobip's windowed read (concurrency 4: the time after the first page in
/// windows read at once) under the same faults: wherever a fault lands, the
/// read is whole and exactly once, or ends with the row's kind of error
/// after a prefix of the conversation, in order.
#[tokio::test]
async fn the_fault_table_holds_for_infobips_windowed_read() {
    let vendor = Vendor::Infobip;
    let windowed = || FetchOptions { paging: PagingOptions { concurrency: 4, ..options().paging }, ..options() };
    let read = |faults: Vec<Fault>| async move {
        let sandbox =
            Sandbox::start(SandboxOptions { messages: MESSAGES, faults, ..SandboxOptions::default() }).await.unwrap();
        let results: Vec<_> = convo_normalize::fetch::messages(source(vendor, &sandbox), windowed()).collect().await;
        let ids: Vec<String> = results.iter().filter_map(|r| r.as_ref().ok()).map(|m| m.id.clone().unwrap()).collect();
        let error = results.into_iter().find_map(Result::err);
        (ids, error, sandbox.requests(vendor))
    };
    let (clean, error, requests) = read(Vec::new()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clean.len(), MESSAGES);
    let sequential = ids_of(&run(vendor, Vec::new()).await.0);
    assert_eq!(clean, sequential, "the same messages, in the same order, as one page after another");
    // Windows of about three pages; each costs its end request, and its
    // last page may be short.
    let windows = (MESSAGES - PAGE as usize).div_ceil(PAGE as usize - 1).div_ceil(3);
    assert!(requests <= minimum_requests(vendor) + 2 * windows, "{requests} requests: at most two more a window");
    let status = |status: u16, retry_after: Option<&str>| FaultKind::Status {
        status,
        retry_after: retry_after.map(str::to_owned),
    };
    for on_request in [2, 3, 5, 8] {
        for (kind, ends) in [
            (status(503, None), None),
            (FaultKind::DropConnection, None),
            (FaultKind::TruncatedBody, None),
            (status(501, None), Some(ErrorKind::Vendor)),
            (FaultKind::EmptyPageWithMore, Some(ErrorKind::Listing)),
        ] {
            let row = format!("request {on_request}: {kind:?}");
            let (ids, error, _) = read(vec![fault(vendor, on_request, kind)]).await;
            match ends {
                None => {
                    assert!(error.is_none(), "{row}: {error:?}");
                    assert_eq!(ids, clean, "{row}: whole, once each, in order");
                }
                Some(kind) => {
                    let error = error.unwrap_or_else(|| panic!("{row}: must end with an error"));
                    assert_eq!(error.kind(), kind, "{row}: {error}");
                    assert!(ids.len() < clean.len(), "{row}");
                    assert_eq!(ids, clean[..ids.len()], "{row}: a prefix, in order");
                }
            }
        }
    }
}
