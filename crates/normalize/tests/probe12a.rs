//! Round 12a of probes: `fetch::pages` / `fetch::messages` streams as a
//! library user drives them (polled past their end, dropped and resumed
//! from `NormalizedPage::next`, two at once on one client), against the
//! in-process sandbox on 127.0.0.1, bounded in time.
//!
//! Failing when written (bug), fixed the same day:
//! a_stream_with_since_polled_after_its_end_stays_ended (`since_filter`'s
//! stream is fused).
//!
//! Passing (kept as probes): a_stream_without_since_polled_after_its_end_stays_ended,
//! dropped_midway_then_resumed_from_next_is_exactly_once,
//! two_streams_on_one_client_at_once_each_read_their_own,
//! paging_options_at_their_extremes_read_the_set_or_fail_typed,
//! a_server_that_hangs_mid_body_is_a_typed_error_in_bounded_time,
//! since_at_every_message_time_is_exactly_the_filtered_set,
//! infobip_windows_dropped_midway_then_resumed_from_next_is_exactly_once,
//! debug_of_a_source_s_parts_holds_no_credential,
//! foreign_and_crafted_resume_positions_never_panic.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use convo_normalize::fetch::{self, ClientOptions, FetchOptions, PagingOptions, Selector, Source};
use convo_sandbox::{Fault, FaultKind, Sandbox, SandboxOptions, Vendor, ids};
use futures::StreamExt as _;

const LIMIT: Duration = Duration::from_secs(30);

async fn sandbox(messages: usize, faults: Vec<Fault>) -> Sandbox {
    Sandbox::start(SandboxOptions { messages, faults, ..Default::default() }).await.unwrap()
}

fn source(sandbox: &Sandbox, vendor: Vendor) -> Source {
    let selector = Selector {
        conversation: Some(ids::generated(vendor).to_owned()),
        workspace: ids::workspace(vendor).map(str::to_owned),
        ..Default::default()
    };
    Source::from_vars(vendor, &selector, sandbox.vars(vendor), &ClientOptions::default()).unwrap()
}

fn paging(page_size: u64) -> PagingOptions {
    PagingOptions { page_size: Some(page_size), ..Default::default() }
}

/// Polls `stream` once more, catching a panic.
async fn poll_again<S: futures::Stream + Unpin>(stream: &mut S) -> Result<bool, String> {
    use futures::FutureExt as _;
    match std::panic::AssertUnwindSafe(stream.next()).catch_unwind().await {
        Ok(item) => Ok(item.is_some()),
        Err(p) => Err(p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()),
    }
}

/// What: `fetch::pages` with `since` set (2000-01-01), read to its end
/// (`None`), then polled once more; and `fetch::messages` with `since`
/// after its error (a 401 on request 2) and `None`, then polled twice
/// more; Infobip, LeadConnector and Bird. Observed: a panic each time,
/// "Unfold must not be polled after it returned `Poll::Ready(None)`" (the
/// `since` filter is a `futures::stream::unfold`, not fused). Why a bug:
/// never a panic; the runtime's paging streams are documented fused ("one
/// error, then nothing"), and `pages` without `since` stays ended, so the
/// same stream type panicking only when `since` is set is a trap.
#[tokio::test]
async fn a_stream_with_since_polled_after_its_end_stays_ended() {
    let mut failures = Vec::new();
    for vendor in [Vendor::Infobip, Vendor::Leadconnector, Vendor::Bird] {
        let faults = vec![Fault { vendor, on_request: 2, kind: FaultKind::Status { status: 401, retry_after: None } }];
        let clean = sandbox(12, Vec::new()).await;
        let sandbox = sandbox(12, faults).await;
        let since = Some(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap());
        // Read to its end.
        let mut pages = fetch::pages(source(&clean, vendor), FetchOptions { paging: paging(50), since });
        let n = tokio::time::timeout(LIMIT, async {
            let mut n = 0;
            while let Some(p) = pages.next().await {
                p.unwrap();
                n += 1;
            }
            n
        })
        .await
        .unwrap();
        assert!(n >= 1);
        match poll_again(&mut pages).await {
            Ok(false) => {}
            Ok(true) => failures.push(format!("{vendor:?}: pages: an item after the end")),
            Err(p) => failures.push(format!("{vendor:?}: pages polled after None: panic: {p}")),
        }
        // After an error: page size 5, request 2 is a 401.
        let mut messages = fetch::messages(source(&sandbox, vendor), FetchOptions { paging: paging(5), since });
        let mut got_error = false;
        while let Some(m) = tokio::time::timeout(LIMIT, messages.next()).await.unwrap() {
            assert!(!got_error, "{vendor:?}: an item after the error");
            got_error = m.is_err();
        }
        assert!(got_error, "{vendor:?}: the 401 is an error");
        for _ in 0..2 {
            match poll_again(&mut messages).await {
                Ok(false) => {}
                Ok(true) => failures.push(format!("{vendor:?}: messages: an item after the error and None")),
                Err(p) => failures.push(format!("{vendor:?}: messages polled after None: panic: {p}")),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Probe: without `since`, every vendor's `pages` and `messages` stay
/// ended after `None` and after an error (polled three more times).
#[tokio::test]
async fn a_stream_without_since_polled_after_its_end_stays_ended() {
    for vendor in Vendor::ALL {
        let faults = vec![Fault { vendor, on_request: 2, kind: FaultKind::Status { status: 401, retry_after: None } }];
        let sandbox = sandbox(12, faults).await;
        let mut messages = fetch::messages(source(&sandbox, vendor), FetchOptions { paging: paging(5), since: None });
        let mut error = false;
        while let Some(m) = tokio::time::timeout(LIMIT, messages.next()).await.unwrap() {
            assert!(!error, "{vendor:?}: an item after the error");
            error = m.is_err();
        }
        assert!(error, "{vendor:?}");
        for _ in 0..3 {
            assert_eq!(poll_again(&mut messages).await, Ok(false), "{vendor:?}");
        }
        let mut pages = fetch::pages(source(&sandbox, vendor), FetchOptions { paging: paging(50), since: None });
        while let Some(p) = tokio::time::timeout(LIMIT, pages.next()).await.unwrap() {
            p.unwrap();
        }
        for _ in 0..3 {
            assert_eq!(poll_again(&mut pages).await, Ok(false), "{vendor:?}");
        }
    }
}

/// Probe: a `pages` stream dropped after k whole pages, and a new one
/// resumed at the last page's `next`: across both, every message exactly
/// once, in order, for every vendor and every k (page size 4, 30 messages).
#[tokio::test]
async fn dropped_midway_then_resumed_from_next_is_exactly_once() {
    for vendor in Vendor::ALL {
        let sandbox = sandbox(30, Vec::new()).await;
        let whole: Vec<String> =
            fetch::messages(source(&sandbox, vendor), FetchOptions { paging: paging(4), since: None })
                .map(|m| m.unwrap().id.unwrap())
                .collect()
                .await;
        assert_eq!(whole.len(), 30);
        for k in 1..=8 {
            let mut ids = Vec::new();
            let mut pages = fetch::pages(source(&sandbox, vendor), FetchOptions { paging: paging(4), since: None });
            let mut next = None;
            for _ in 0..k {
                let Some(p) = tokio::time::timeout(LIMIT, pages.next()).await.unwrap() else { break };
                let p = p.unwrap();
                ids.extend(p.messages.iter().map(|m| m.id.clone().unwrap()));
                next = p.next;
            }
            drop(pages);
            if let Some(next) = next {
                let options = FetchOptions { paging: PagingOptions { resume: Some(next), ..paging(4) }, since: None };
                let rest =
                    tokio::time::timeout(LIMIT, fetch::messages(source(&sandbox, vendor), options).collect::<Vec<_>>())
                        .await
                        .unwrap();
                for m in rest {
                    ids.push(m.unwrap_or_else(|e| panic!("{vendor:?} k={k}: {e}")).id.unwrap());
                }
            }
            assert_eq!(ids, whole, "{vendor:?}: dropped after {k} pages, resumed from next");
        }
    }
}

/// Probe: two streams on one client (`Source::other`) read at once, the
/// generated conversation and the sample: each exactly its own set.
#[tokio::test]
async fn two_streams_on_one_client_at_once_each_read_their_own() {
    for vendor in Vendor::ALL {
        let sandbox = sandbox(40, Vec::new()).await;
        let a = source(&sandbox, vendor);
        let selector = Selector {
            conversation: Some(ids::sample(vendor).to_owned()),
            workspace: ids::workspace(vendor).map(str::to_owned),
            ..Default::default()
        };
        let b = a.other(&selector).unwrap();
        let read = |s: Source| async move {
            fetch::messages(s, FetchOptions { paging: paging(3), since: None })
                .map(|m| m.unwrap().raw.to_string())
                .collect::<Vec<_>>()
                .await
        };
        let (x, y) = tokio::time::timeout(LIMIT, futures::future::join(read(a), read(b))).await.unwrap();
        assert_eq!(x.len(), 40, "{vendor:?}");
        assert_eq!(x.iter().collect::<HashSet<_>>().len(), 40, "{vendor:?}");
        assert!(!y.is_empty() && y.iter().all(|m| !x.contains(m)), "{vendor:?}");
    }
}

/// Drains `stream` catching a panic: (ids delivered, errored, panic).
async fn drain(
    stream: futures::stream::BoxStream<'static, Result<convo_normalize::Message, fetch::FetchError>>,
) -> Result<(Vec<String>, Option<String>), String> {
    use futures::FutureExt as _;
    let run = async move {
        let mut stream = stream;
        let mut ids = Vec::new();
        let mut error = None;
        while let Some(m) = stream.next().await {
            assert!(error.is_none(), "an item after an error");
            match m {
                Ok(m) => ids.push(m.id.unwrap_or_default()),
                Err(e) => error = Some(e.to_string()),
            }
        }
        (ids, error)
    };
    match tokio::time::timeout(LIMIT, std::panic::AssertUnwindSafe(run).catch_unwind()).await {
        Err(_) => Err("timed out".into()),
        Ok(Ok(r)) => Ok(r),
        Ok(Err(p)) => Err(p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()),
    }
}

/// Probe: `PagingOptions` at their extremes (page size 0, 1, u64::MAX;
/// concurrency 0, 2, 64, 1000, usize::MAX) on every vendor's 30-message
/// conversation: the whole set in order, or a typed error; never a panic.
#[tokio::test]
async fn paging_options_at_their_extremes_read_the_set_or_fail_typed() {
    let mut failures = Vec::new();
    for vendor in Vendor::ALL {
        let sandbox = sandbox(30, Vec::new()).await;
        let whole: Vec<String> =
            fetch::messages(source(&sandbox, vendor), FetchOptions { paging: paging(7), since: None })
                .map(|m| m.unwrap().id.unwrap())
                .collect()
                .await;
        for page_size in [Some(0), Some(1), Some(u64::MAX), None] {
            for concurrency in [0usize, 1, 2, 64, 1000, usize::MAX] {
                let options = FetchOptions {
                    paging: PagingOptions { page_size, concurrency, ..Default::default() },
                    since: None,
                };
                match drain(fetch::messages(source(&sandbox, vendor), options)).await {
                    Ok((ids, None)) if ids == whole => {}
                    Ok((ids, None)) => failures.push(format!(
                        "{vendor:?} size {page_size:?} concurrency {concurrency}: success with {} of 30 (wrong set)",
                        ids.len()
                    )),
                    Ok((ids, Some(e))) => {
                        if !ids.is_empty() && page_size != Some(0) {
                            eprintln!("{vendor:?} {page_size:?} {concurrency}: {} then {e}", ids.len());
                        }
                    }
                    Err(p) => failures.push(format!("{vendor:?} size {page_size:?} concurrency {concurrency}: {p}")),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A server on 127.0.0.1 that answers every request with headers and
/// half a body, then holds the connection open without a byte more.
async fn hanging_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n{\"results\": [")
                    .await;
                tokio::time::sleep(Duration::from_secs(120)).await;
            });
        }
    });
    (format!("http://{addr}"), count)
}

/// Probe: a server that hangs mid-body: every vendor's stream ends with
/// one typed error within the client's timeout and its retries, bounded
/// requests, never a hang.
#[tokio::test]
async fn a_server_that_hangs_mid_body_is_a_typed_error_in_bounded_time() {
    for vendor in Vendor::ALL {
        let (base, count) = hanging_server().await;
        let vars = {
            let sandbox = sandbox(0, Vec::new()).await;
            let v = sandbox.vars(vendor);
            let names = vendor.variables();
            let base_name = names.base_url;
            move |name: &str| if name == base_name { Some(base.clone()) } else { v(name) }
        };
        let selector = Selector {
            conversation: Some(ids::generated(vendor).to_owned()),
            workspace: ids::workspace(vendor).map(str::to_owned),
            ..Default::default()
        };
        let options = ClientOptions { timeout: Duration::from_millis(300), ..Default::default() };
        let source = Source::from_vars(vendor, &selector, vars, &options).unwrap();
        let started = std::time::Instant::now();
        let result = drain(fetch::messages(source, FetchOptions::default())).await;
        let (ids, error) = result.unwrap_or_else(|p| panic!("{vendor:?}: {p}"));
        assert!(ids.is_empty() && error.is_some(), "{vendor:?}: {ids:?} {error:?}");
        assert!(started.elapsed() < Duration::from_secs(25), "{vendor:?}: {:?}", started.elapsed());
        assert!(count.load(std::sync::atomic::Ordering::SeqCst) <= 10, "{vendor:?}: bounded requests");
    }
}

/// Probe: `since` at, just before and just after every message's time of a
/// 12-message conversation, page sizes 1, 2 and 5: the stream is exactly
/// the whole read's messages at or after `since`, in order (Infobip,
/// LeadConnector, Bird; Octopush refuses `since`, typed).
#[tokio::test]
async fn since_at_every_message_time_is_exactly_the_filtered_set() {
    let mut failures = Vec::new();
    for vendor in [Vendor::Infobip, Vendor::Leadconnector, Vendor::Bird] {
        let sandbox = sandbox(12, Vec::new()).await;
        let whole: Vec<(String, chrono::DateTime<Utc>)> =
            fetch::messages(source(&sandbox, vendor), FetchOptions { paging: paging(50), since: None })
                .map(|m| {
                    let m = m.unwrap();
                    (m.id.unwrap(), m.created_at.unwrap())
                })
                .collect()
                .await;
        let mut times: Vec<_> = whole.iter().map(|(_, t)| *t).collect();
        times.sort();
        times.dedup();
        let mut sinces = Vec::new();
        for t in &times {
            for d in [-1i64, 0, 1] {
                sinces.push(*t + chrono::Duration::milliseconds(d));
            }
        }
        for page_size in [1u64, 2, 5] {
            for since in &sinces {
                let expected: Vec<String> = whole.iter().filter(|(_, t)| t >= since).map(|(i, _)| i.clone()).collect();
                match drain(fetch::messages(
                    source(&sandbox, vendor),
                    FetchOptions { paging: paging(page_size), since: Some(*since) },
                ))
                .await
                {
                    Ok((ids, None)) if ids == expected => {}
                    other => failures.push(format!(
                        "{vendor:?} size {page_size} since {since}: {other:?}, expected {}",
                        expected.len()
                    )),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Probe: Infobip read in time windows (`concurrency` 2, 4, 16; page
/// sizes 1, 2 and 3; 40 messages), dropped after k whole pages and resumed
/// at the last page's `next` (sequentially and in windows again): across
/// both, every message exactly once, in order.
#[tokio::test]
async fn infobip_windows_dropped_midway_then_resumed_from_next_is_exactly_once() {
    let vendor = Vendor::Infobip;
    let sandbox = sandbox(40, Vec::new()).await;
    let whole: Vec<String> = fetch::messages(source(&sandbox, vendor), FetchOptions { paging: paging(7), since: None })
        .map(|m| m.unwrap().id.unwrap())
        .collect()
        .await;
    assert_eq!(whole.len(), 40);
    let mut failures = Vec::new();
    for concurrency in [2usize, 4, 16] {
        for page_size in [1u64, 2, 3] {
            for k in 1..=14 {
                for resumed_concurrency in [1usize, concurrency] {
                    let options = PagingOptions { page_size: Some(page_size), concurrency, ..Default::default() };
                    let mut pages =
                        fetch::pages(source(&sandbox, vendor), FetchOptions { paging: options.clone(), since: None });
                    let mut ids = Vec::new();
                    let mut next = None;
                    let mut ended = false;
                    for _ in 0..k {
                        match tokio::time::timeout(LIMIT, pages.next()).await.unwrap() {
                            None => {
                                ended = true;
                                break;
                            }
                            Some(p) => {
                                let p = p.unwrap();
                                ids.extend(p.messages.iter().map(|m| m.id.clone().unwrap()));
                                next = p.next;
                            }
                        }
                    }
                    drop(pages);
                    if !ended && let Some(next) = next {
                        let options = FetchOptions {
                            paging: PagingOptions { resume: Some(next), concurrency: resumed_concurrency, ..options },
                            since: None,
                        };
                        match drain(fetch::messages(source(&sandbox, vendor), options)).await {
                            Ok((rest, None)) => ids.extend(rest),
                            other => {
                                failures.push(format!(
                                    "c{concurrency} s{page_size} k{k} rc{resumed_concurrency}: {other:?}"
                                ));
                                continue;
                            }
                        }
                    }
                    if ids != whole {
                        let set: HashSet<_> = ids.iter().collect();
                        failures.push(format!(
                            "c{concurrency} s{page_size} k{k} rc{resumed_concurrency}: {} delivered, {} distinct, of 40",
                            ids.len(),
                            set.len()
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Probe: the Debug of every vendor's client and query inside a `Source`
/// (and of the `FetchOptions`) holds no credential.
#[tokio::test]
async fn debug_of_a_source_s_parts_holds_no_credential() {
    let sandbox = sandbox(1, Vec::new()).await;
    for vendor in Vendor::ALL {
        let text = match source(&sandbox, vendor) {
            Source::Infobip(c, q) => format!("{c:?} {q:?}"),
            Source::Octopush(c, q) => format!("{c:?} {q:?}"),
            Source::Leadconnector(c, q) => format!("{c:?} {q:?}"),
            Source::Bird(c, q) => format!("{c:?} {q:?}"),
        };
        for secret in [
            convo_sandbox::credentials::INFOBIP_API_KEY,
            convo_sandbox::credentials::OCTOPUSH_API_KEY,
            convo_sandbox::credentials::LEADCONNECTOR_TOKEN,
            convo_sandbox::credentials::BIRD_ACCESS_KEY,
        ] {
            assert!(!text.contains(secret), "{vendor:?}: {text}");
        }
    }
}

/// Probe: `PagingOptions::resume` with positions that are not this read's
/// (another vendor's, crafted: page 0 and u64::MAX, empty and odd cursors,
/// Octopush's check with its numbers edited to 0 and u64::MAX): every
/// vendor's stream ends (typed error or success), never a panic or a hang.
#[tokio::test]
async fn foreign_and_crafted_resume_positions_never_panic() {
    use convo_normalize::fetch::Position;
    let sandbox = sandbox(20, Vec::new()).await;
    let mut positions: Vec<(String, Position)> = Vec::new();
    for vendor in Vendor::ALL {
        let pages: Vec<_> =
            fetch::pages(source(&sandbox, vendor), FetchOptions { paging: paging(4), since: None }).collect().await;
        for p in pages.into_iter().take(3) {
            if let Some(next) = p.unwrap().next {
                positions.push((format!("{vendor:?} next"), next));
            }
        }
    }
    for p in [Position::Page(0), Position::Page(1), Position::Page(u64::MAX), Position::Cursor(String::new())] {
        positions.push(("crafted".into(), p));
    }
    for c in [
        "\u{0}",
        "%",
        "../../x",
        "é",
        "{\"after\":\"x\"}",
        "{\"after\":\"9999-12-31T23:59:59.999Z\",\"page\":18446744073709551615}",
        "{}",
        "[]",
        "null",
    ] {
        positions.push((format!("cursor {c:?}"), Position::Cursor(c.to_owned())));
    }
    // Octopush's check, its numbers edited.
    let octo: Vec<_> = positions
        .iter()
        .filter(|(w, p)| w.starts_with("Octopush") && matches!(p, Position::PageWithCheck { .. }))
        .map(|(_, p)| p.clone())
        .collect();
    for p in octo {
        let json = serde_json::to_value(&p).unwrap();
        fn edit(
            v: &serde_json::Value,
            to: u64,
            out: &mut Vec<serde_json::Value>,
            root: &serde_json::Value,
            path: &mut Vec<String>,
        ) {
            match v {
                serde_json::Value::Number(_) => {
                    let mut copy = root.clone();
                    let mut at = &mut copy;
                    for k in path.iter() {
                        at = if let Ok(i) = k.parse::<usize>() { &mut at[i] } else { &mut at[k.as_str()] };
                    }
                    *at = serde_json::json!(to);
                    out.push(copy);
                }
                serde_json::Value::Object(o) => {
                    for (k, v) in o {
                        path.push(k.clone());
                        edit(v, to, out, root, path);
                        path.pop();
                    }
                }
                serde_json::Value::Array(a) => {
                    for (i, v) in a.iter().enumerate() {
                        path.push(i.to_string());
                        edit(v, to, out, root, path);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        let mut edited = Vec::new();
        for to in [0u64, 1, u64::MAX] {
            edit(&json, to, &mut edited, &json, &mut Vec::new());
        }
        for e in edited {
            if let Ok(p) = serde_json::from_value::<Position>(e.clone()) {
                positions.push((format!("edited {e}"), p));
            }
        }
    }
    let mut failures = Vec::new();
    for vendor in Vendor::ALL {
        for (what, position) in &positions {
            for page_size in [1u64, 4] {
                let options = FetchOptions {
                    paging: PagingOptions { resume: Some(position.clone()), ..paging(page_size) },
                    since: None,
                };
                if let Err(p) = drain(fetch::messages(source(&sandbox, vendor), options)).await {
                    failures.push(format!("{vendor:?} size {page_size} resumed at {what}: {p}"));
                }
            }
        }
    }
    eprintln!("{} positions tried", positions.len());
    assert!(failures.is_empty(), "{failures:#?}");
}
