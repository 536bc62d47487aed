//! Tenth round of probes (10a), against local scripted servers (127.0.0.1
//! only, every server at most `scripted::BUDGET` requests, every run under
//! the 90 s limit of `fetch_command`): paging when servers behave like live
//! vendors, all four vendors, `convo fetch`, `--resume` and `convo sync`.
//!
//! Each test asserts the promise: exit 0 only with every message once, in
//! the vendor's order; otherwise a non-zero exit with no id twice; never a
//! panic, a hang or the credential printed.
//!
//! Failing when written (bugs), each with its doc comment, fixed the same
//! day:
//! - `infobip_a_delivered_message_served_again_with_a_later_time_is_printed_twice`
//!   (Infobip keyset: a repeat from further back than the last millisecond,
//!   with a new `createdAt`, was printed twice with exit 0, sequentially and
//!   in windows). Now every key with a time delivered is kept (64-bit
//!   hashes, `guard::Delivered`, up to `EXACT_IDS`): a message delivered
//!   before fails its page with `RepeatedMessage`.
//! - `sync_a_message_hours_ahead_never_hides_the_messages_created_after_it_with_exit_0`
//!   (one message a few hours ahead of the clock moved the sync's mark past
//!   every message created before that time: the next runs exited 0
//!   without them: Infobip, LeadConnector, Bird). Now a time more than a
//!   second ahead of the clock does not move the mark; the message is
//!   skipped by id (`Mark::ahead`) until the mark passes it.
//!
//! Found and not fixed (its probe is not kept here, as it fails): a message
//! written by one `sync` run and re-stamped by the server newest before the
//! next is written again by that run (Infobip, LeadConnector, Bird): the
//! mark keeps only the last millisecond's ids, and keeping every id written
//! would make the state grow with the conversation. The closing note of
//! 2026-12-06 describes it.
//!
//! Passing when written (regression probes): every other test here: odd
//! 200 bodies once (all vendors), cut bodies and a dated `Retry-After`
//! once, a same-origin redirect loop, Infobip `pagination.page`
//! missing/null, `createdAfter` ignored on some requests, disorder inside a
//! page, a cap that starts mid-read over a burst, a total that grows, time
//! precision and offsets, windows then `--resume`; LeadConnector cursor
//! oddities; Bird token oddities; an edited repeat on a later page
//! (Octopush, LeadConnector, Bird); `--resume` after the server starts
//! capping; duplicate envelope keys; odd first answers; `sync` reruns after
//! a deletion and additions, with another page size (Octopush), after a
//! full last page (Octopush).
#![allow(dead_code)]
mod common;
mod scripted;

use common::Run;
use scripted::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const N: usize = 25;
const SIZE: usize = 10;

fn expected(vendor: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match vendor {
            "infobip" => format!("ib{i:04}"),
            "octopush" => format!("o{i:04}"),
            "leadconnector" => format!("lc{i:04}"),
            _ => format!("b{i:04}"),
        })
        .collect()
}

/// An honest page of `vendor` over a conversation of `n` messages.
fn honest(vendor: &str, n: usize, req: &Req) -> Value {
    let limit: usize = req.param("limit").or(req.param("per_page")).unwrap_or("10").parse().unwrap();
    match vendor {
        "infobip" => ib_honest(n, req),
        "octopush" => {
            let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
            json!(((page - 1) * limit..(page * limit).min(n)).map(octo_message).collect::<Vec<_>>())
        }
        "leadconnector" => {
            let start = lc_start(req);
            let end = (start + limit).min(n);
            lc_page(&(start..end).collect::<Vec<_>>(), end < n)
        }
        _ => {
            let start: usize = req.param("pageToken").map_or(0, |t| t.trim_start_matches('t').parse().unwrap());
            let end = (start + limit).min(n);
            let mut page = json!({"results": (start..end).map(bird_message).collect::<Vec<_>>(), "total": n, "totalType": "exact"});
            page["nextPageToken"] = if end < n { json!(format!("t{end}")) } else { json!(null) };
            page
        }
    }
}

/// A server of `vendor` honest but for `fault`, which may answer any
/// request (by ordinal) in its own way.
fn faulty(
    vendor: &'static str,
    n: usize,
    fault: impl Fn(usize, &Req) -> Option<Reply> + Send + Sync + 'static,
) -> Server {
    Server::start(move |ordinal, req| fault(ordinal, req).unwrap_or_else(|| Reply::Json(200, honest(vendor, n, req))))
}

fn run_of(vendor: &str, server: &Server, extra: &[&str]) -> Run {
    let size = SIZE.to_string();
    let mut args = vec!["--page-size", size.as_str()];
    args.extend_from_slice(extra);
    fetch(vendor, server, &args, None)
}

fn check(what: &str, vendor: &str, run: &Run, n: usize) {
    promise(what, run, &expected(vendor, n));
    no_secret(what, run);
}

fn none_failed(failures: &[String]) {
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}

/// Runs `body` and turns a panic into a failure line, so a matrix reports
/// every case.
fn case(failures: &mut Vec<String>, what: &str, body: impl FnOnce() + std::panic::UnwindSafe) {
    if let Err(e) = std::panic::catch_unwind(body) {
        let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
        failures.push(format!("{what}: {}", msg.unwrap_or_default().chars().take(600).collect::<String>()));
    }
}

// ------------------------------------------------------------ 1. odd 200 bodies, once

/// The second request of an honest read answered once with a 200 whose body
/// is no page: empty, `null`, `{}`, `[]`, a string, a number, `true`, an
/// HTML page. Then the server is honest again. Never a wrong set with exit
/// 0 (Octopush's `[]` is an empty page served once by mistake: the read
/// must go on, or fail).
#[test]
fn odd_200_bodies_once_on_the_second_request_are_never_a_wrong_set() {
    let bodies: [&[u8]; 8] = [
        b"",
        b"null",
        b"{}",
        b"[]",
        b"\"\"",
        b"0",
        b"true",
        b"<html><body>Service temporarily unavailable</body></html>",
    ];
    let mut failures = Vec::new();
    for vendor in common::VENDORS {
        for body in bodies {
            let what = format!("{vendor} body {:?}", String::from_utf8_lossy(body));
            let server =
                faulty(vendor, N, move |ordinal, _| (ordinal == 2).then(|| Reply::Raw(200, vec![], body.to_vec())));
            let run = run_of(vendor, &server, &[]);
            eprintln!("[{what}] {}", show(&run).chars().take(300).collect::<String>());
            case(&mut failures, &what, || check(&what, vendor, &run, N));
        }
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 2. HTTP framings, once

/// The second request answered once with a body cut short (Content-Length
/// larger than sent; chunked cut mid-chunk), or once with a 503 whose
/// `Retry-After` is an HTTP-date two seconds ahead: retried, then the whole
/// conversation with exit 0.
#[test]
fn cut_bodies_and_a_dated_retry_after_once_are_retried_and_read_whole() {
    let mut failures = Vec::new();
    for vendor in common::VENDORS {
        for kind in ["content-length", "chunked", "503-date"] {
            let what = format!("{vendor} {kind}");
            let server = faulty(vendor, N, move |ordinal, req| {
                if ordinal != 2 {
                    return None;
                }
                let page = serde_json::to_vec(&honest(vendor, N, req)).unwrap();
                Some(match kind {
                    "content-length" => {
                        let mut bytes = format!(
                            "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            page.len() + 50
                        )
                        .into_bytes();
                        bytes.extend_from_slice(&page);
                        Reply::Bytes(bytes)
                    }
                    "chunked" => {
                        let mut bytes = format!(
                            "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
                            page.len()
                        )
                        .into_bytes();
                        bytes.extend_from_slice(&page[..page.len() / 2]);
                        Reply::Bytes(bytes)
                    }
                    _ => {
                        let date = (chrono::Utc::now() + chrono::Duration::seconds(2))
                            .format("%a, %d %b %Y %H:%M:%S GMT")
                            .to_string();
                        Reply::Raw(503, vec![("retry-after".into(), date)], b"{\"message\":\"busy\"}".to_vec())
                    }
                })
            });
            let run = run_of(vendor, &server, &[]);
            eprintln!("[{what}] {}", show(&run).chars().take(300).collect::<String>());
            case(&mut failures, &what, || {
                check(&what, vendor, &run, N);
                assert_eq!(run.code, Some(0), "{what}: a cut body or a 503 once is retried: {}", show(&run));
            });
        }
    }
    none_failed(&failures);
}

/// A same-origin redirect on every request after the first (to the very
/// same URL): bounded, a typed error, the first page once.
#[test]
fn a_same_origin_redirect_loop_ends_typed_and_bounded() {
    let mut failures = Vec::new();
    for vendor in common::VENDORS {
        let what = format!("{vendor} redirect loop");
        let server = faulty(vendor, N, move |ordinal, req| {
            (ordinal >= 2).then(|| {
                let q: Vec<String> = req
                    .query
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B").replace(':', "%3A")))
                    .collect();
                let location = format!("{}?{}", req.path, q.join("&"));
                Reply::Raw(307, vec![("location".into(), location)], vec![])
            })
        });
        let run = run_of(vendor, &server, &[]);
        eprintln!("[{what}] {} after {} requests", show(&run).chars().take(300).collect::<String>(), server.count());
        case(&mut failures, &what, || {
            check(&what, vendor, &run, N);
            assert_ne!(run.code, Some(0), "{what}: {}", show(&run));
            assert!(server.count() < 100, "{what}: {} requests", server.count());
        });
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 3. Infobip

/// Infobip messages of a listing given by times (ms offsets, ascending),
/// honest but for `tweak(ordinal, req, page)`.
fn ib_times_server(times: Vec<i64>, tweak: impl Fn(usize, &Req, &mut Value) + Send + Sync + 'static) -> Server {
    Server::start(move |ordinal, req| {
        let after = req.param("createdAfter").map(|a| {
            chrono::DateTime::parse_from_rfc3339(&a.replace("+0000", "Z")).unwrap().timestamp_millis()
                - 1_767_225_600_000
        });
        let limit: usize = req.param("limit").unwrap_or("10").parse().unwrap();
        let page: usize = req.param("page").unwrap_or("0").parse().unwrap();
        let all: Vec<usize> = (0..times.len()).filter(|&i| after.is_none_or(|a| times[i] > a)).collect();
        let served: Vec<Value> = all
            .iter()
            .skip(page * limit)
            .take(limit)
            .map(|&i| {
                let mut m = ib_message(i);
                m["createdAt"] = json!(ib_time(times[i]));
                m
            })
            .collect();
        let mut body = json!({"messages": served, "pagination": {"totalItems": all.len(), "page": page, "limit": limit, "orderBy": "createdAt:ASC"}});
        tweak(ordinal, req, &mut body);
        Reply::Json(200, body)
    })
}

/// A time `ms` milliseconds after the probe epoch, Infobip's wire form.
fn ib_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(1_767_225_600_000 + ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

fn steps(n: usize) -> Vec<i64> {
    (0..n as i64).map(|i| i * 1000).collect()
}

/// Infobip: `pagination.page` missing, `null`, or `pagination` missing on
/// every page of an honest listing: the messages are the set (exit 0).
#[test]
fn infobip_page_number_missing_or_null_is_read_whole() {
    let mut failures = Vec::new();
    for variant in ["missing", "null", "no-pagination-but-total", "no-pagination"] {
        let what = format!("infobip pagination {variant}");
        let server = ib_times_server(steps(N), move |_, _, body| match variant {
            "missing" => {
                body["pagination"].as_object_mut().unwrap().remove("page");
            }
            "null" => body["pagination"]["page"] = json!(null),
            "no-pagination-but-total" => {
                let total = body["pagination"]["totalItems"].clone();
                body.as_object_mut().unwrap().remove("pagination");
                body["totalItems"] = total;
            }
            _ => {
                body.as_object_mut().unwrap().remove("pagination");
            }
        });
        let run = run_of("infobip", &server, &[]);
        eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(300).collect::<String>(), server.count());
        case(&mut failures, &what, || check(&what, "infobip", &run, N));
    }
    none_failed(&failures);
}

/// Infobip: the server ignores `createdAfter` on one request only (the
/// third), answering that page number of the whole listing; or on every
/// request after the first. Never a wrong set with exit 0.
#[test]
fn infobip_created_after_ignored_on_some_requests_is_never_a_wrong_set() {
    let mut failures = Vec::new();
    for which in [3usize, 2, 0] {
        for concurrency in ["1", "3"] {
            let what = format!(
                "infobip createdAfter ignored on request {which} (0: every one after the first), concurrency {concurrency}"
            );
            let times = steps(45);
            let all = times.clone();
            let server = ib_times_server(times, move |ordinal, req, body| {
                if (which == 0 && ordinal > 1) || ordinal == which {
                    let limit: usize = req.param("limit").unwrap_or("10").parse().unwrap();
                    let page: usize = req.param("page").unwrap_or("0").parse().unwrap();
                    let served: Vec<Value> = (0..all.len())
                        .skip(page * limit)
                        .take(limit)
                        .map(|i| {
                            let mut m = ib_message(i);
                            m["createdAt"] = json!(ib_time(all[i]));
                            m
                        })
                        .collect();
                    body["messages"] = json!(served);
                    body["pagination"]["totalItems"] = json!(all.len());
                }
            });
            let run = run_of("infobip", &server, &["--concurrency", concurrency]);
            eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(300).collect::<String>(), server.count());
            case(&mut failures, &what, || check(&what, "infobip", &run, 45));
        }
    }
    none_failed(&failures);
}

/// Infobip: two messages swapped inside the second page (out of order by
/// time): never a wrong set with exit 0. (Passes: `OutOfOrder`.)
#[test]
fn infobip_disorder_inside_a_page_is_never_a_wrong_set() {
    let server = ib_times_server(steps(N), move |ordinal, _, body| {
        if ordinal == 2 {
            body["messages"].as_array_mut().unwrap().swap(3, 4);
        }
    });
    let run = run_of("infobip", &server, &[]);
    check("infobip swap", "infobip", &run, N);
}

/// Was a bug (fixed 2026-12-06: `RepeatedMessage` now). Infobip: a
/// message delivered on page one (`ib0003`, created at
/// 3 s) is served again on a later page with a later `createdAt` (14.5 s,
/// or 9.5 s right after the boundary repeat), in time order among new
/// messages, as a server that re-stamps an edited message would; the rest
/// is honest. convo prints `ib0003` twice and exits 0 (26 lines for 25
/// messages), sequentially and in time windows. ARCHITECTURE.md says every
/// scheme shares "a delivered message after new ones on the same page,
/// from any page back, ends it (`RepeatedMessage`: every id delivered is
/// kept as a 64-bit hash ...)"; the keyset scheme
/// (crates/runtime/src/paging/keyset.rs, `KeyScheme::step`) checks only
/// `key.seen`, the ids of the filter's last millisecond, so a repeat from
/// further back with a new time passes as new. The promise: every message
/// exactly once, or a typed error.
#[test]
fn infobip_a_delivered_message_served_again_with_a_later_time_is_printed_twice() {
    let mut failures = Vec::new();
    for variant in ["among-new", "after-the-boundary"] {
        for concurrency in ["1", "4"] {
            let what = format!("infobip {variant}, concurrency {concurrency}");
            let server = ib_times_server(steps(N), move |_, req, body| {
                // Every answer whose filter is past 3 s (the later pages).
                let after = req.param("createdAfter");
                if after.is_none() {
                    return;
                }
                let at = if variant == "among-new" { 14_500 } else { 9_500 };
                let after_ms = chrono::DateTime::parse_from_rfc3339(&after.unwrap().replace("+0000", "Z"))
                    .unwrap()
                    .timestamp_millis()
                    - 1_767_225_600_000;
                let list = body["messages"].as_array_mut().unwrap();
                let times: Vec<i64> = list
                    .iter()
                    .map(|m| {
                        chrono::DateTime::parse_from_rfc3339(&m["createdAt"].as_str().unwrap().replace("+0000", "Z"))
                            .unwrap()
                            .timestamp_millis()
                            - 1_767_225_600_000
                    })
                    .collect();
                if at > after_ms && times.first().is_some_and(|&f| f < at) && times.last().is_some_and(|&l| l > at) {
                    let pos = times.iter().position(|&t| t > at).unwrap();
                    let mut m = ib_message(3);
                    m["createdAt"] = json!(ib_time(at));
                    list.insert(pos, m);
                    list.pop();
                }
            });
            let run = run_of("infobip", &server, &["--concurrency", concurrency]);
            eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(400).collect::<String>(), server.count());
            case(&mut failures, &what, || {
                let got = ids(&run);
                let twice = got.iter().filter(|i| *i == "ib0003").count();
                assert!(twice <= 1, "{what}: `ib0003` printed {twice} times, exit {:?}, {} lines", run.code, got.len());
                check(&what, "infobip", &run, N);
            });
        }
    }
    none_failed(&failures);
}

/// The other vendors: a message of page one served again in the middle of
/// page two, edited (another text), among new messages: no message twice
/// (cursor vendors: `RepeatedMessage`). (Regression probe.)
#[test]
fn a_delivered_message_served_again_edited_on_a_later_page_is_never_printed_twice() {
    let mut failures = Vec::new();
    for vendor in ["octopush", "leadconnector", "bird"] {
        let what = format!("{vendor} edited repeat");
        let server = faulty(vendor, N, move |ordinal, req| {
            (ordinal == 2).then(|| {
                let mut page = honest(vendor, N, req);
                let list = match vendor {
                    "octopush" => page.as_array_mut().unwrap(),
                    "leadconnector" => page["messages"].as_array_mut().unwrap(),
                    _ => page["results"].as_array_mut().unwrap(),
                };
                let mut m = match vendor {
                    "octopush" => octo_message(3),
                    "leadconnector" => lc_message(3),
                    _ => bird_message(3),
                };
                m[if vendor == "leadconnector" {
                    "body"
                } else if vendor == "octopush" {
                    "text"
                } else {
                    "reference"
                }] = json!("edited");
                list.insert(5, m);
                list.pop();
                if vendor == "leadconnector" {
                    let last = list.last().unwrap()["id"].clone();
                    page["lastMessageId"] = last;
                }
                Reply::Json(200, page)
            })
        });
        let run = run_of(vendor, &server, &[]);
        eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(400).collect::<String>(), server.count());
        case(&mut failures, &what, || check(&what, vendor, &run, N));
    }
    none_failed(&failures);
}

/// Infobip: a server that caps its pages at 4 from the third request on
/// (the cap changing mid-read), over a listing with a burst of 12 messages
/// in one millisecond in its middle; with and without `totalItems`.
#[test]
fn infobip_a_cap_that_starts_mid_read_over_a_burst_is_never_a_wrong_set() {
    let mut failures = Vec::new();
    for with_total in [true, false] {
        for from in [2usize, 3, 4] {
            let what = format!("infobip cap 4 from request {from}, total {with_total}");
            let mut times = steps(8);
            times.extend(std::iter::repeat_n(8_000, 12));
            times.extend((0..10).map(|i| 9_000 + i * 1000));
            let n = times.len();
            let server = ib_times_server(times.clone(), move |ordinal, req, body| {
                if ordinal >= from {
                    // Serve the page as a server with a cap of 4 counts it.
                    let after = req.param("createdAfter").map(|a| {
                        chrono::DateTime::parse_from_rfc3339(&a.replace("+0000", "Z")).unwrap().timestamp_millis()
                            - 1_767_225_600_000
                    });
                    let page: usize = req.param("page").unwrap_or("0").parse().unwrap();
                    let all: Vec<usize> = (0..times.len()).filter(|&i| after.is_none_or(|a| times[i] > a)).collect();
                    let served: Vec<Value> = all
                        .iter()
                        .skip(page * 4)
                        .take(4)
                        .map(|&i| {
                            let mut m = ib_message(i);
                            m["createdAt"] = json!(ib_time(times[i]));
                            m
                        })
                        .collect();
                    body["messages"] = json!(served);
                    body["pagination"]["limit"] = json!(4);
                }
                if !with_total {
                    body["pagination"].as_object_mut().unwrap().remove("totalItems");
                }
            });
            let run = run_of("infobip", &server, &[]);
            eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(400).collect::<String>(), server.count());
            case(&mut failures, &what, || check(&what, "infobip", &run, n));
        }
    }
    none_failed(&failures);
}

/// Infobip: `totalItems` that grows by 7 on every answer (a count of
/// something else) over a static listing: never a wrong set.
#[test]
fn infobip_a_total_that_grows_every_answer_is_never_a_wrong_set() {
    let mut failures = Vec::new();
    for concurrency in ["1", "4"] {
        let what = format!("infobip growing total, concurrency {concurrency}");
        let server = ib_times_server(steps(N), |ordinal, _, body| {
            let t = body["pagination"]["totalItems"].as_u64().unwrap();
            body["pagination"]["totalItems"] = json!(t + 7 * ordinal as u64);
        });
        let run = run_of("infobip", &server, &["--concurrency", concurrency]);
        eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(400).collect::<String>(), server.count());
        case(&mut failures, &what, || check(&what, "infobip", &run, N));
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 4. LeadConnector

/// LeadConnector: the second page empty with `nextPage: true` and the
/// previous cursor; `lastMessageId` naming a message of the first page on
/// an otherwise honest second page; neither `nextPage` nor
/// `lastMessageId` on any page; a cap of 4 from the second request.
#[test]
fn leadconnector_cursor_oddities_are_never_a_wrong_set() {
    let mut failures = Vec::new();
    for variant in ["empty-more", "cursor-back", "no-fields", "cap", "nested-no-fields"] {
        let what = format!("lc {variant}");
        let server = Server::start(move |ordinal, req| {
            let start = lc_start(req);
            let limit: usize = req.param("limit").unwrap_or("20").parse().unwrap();
            let limit = if variant == "cap" && ordinal >= 2 { limit.min(4) } else { limit };
            let end = (start + limit).min(N);
            let mut page = lc_page(&(start..end).collect::<Vec<_>>(), end < N);
            match variant {
                "empty-more" if ordinal == 2 => {
                    page = json!({"messages": [], "nextPage": true, "lastMessageId": format!("lc{:04}", start - 1)})
                }
                "cursor-back" if ordinal == 2 => page["lastMessageId"] = json!("lc0005"),
                "no-fields" | "nested-no-fields" => {
                    page.as_object_mut().unwrap().remove("nextPage");
                    page.as_object_mut().unwrap().remove("lastMessageId");
                    if variant == "nested-no-fields" {
                        page = json!({"messages": page, "traceId": "x"});
                    }
                }
                _ => {}
            }
            Reply::Json(200, page)
        });
        let run = run_of("leadconnector", &server, &[]);
        eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(400).collect::<String>(), server.count());
        case(&mut failures, &what, || {
            check(&what, "leadconnector", &run, N);
            if matches!(variant, "no-fields" | "cap" | "nested-no-fields") {
                assert_eq!(run.code, Some(0), "{what}: {}", show(&run));
            }
            if matches!(variant, "empty-more" | "cursor-back") {
                assert_ne!(run.code, Some(0), "{what}: {}", show(&run));
            }
        });
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 5. Bird

/// Bird: a token equal to the one just sent; a cap of 4 from the second
/// request; a token that is an object or an array; a token with spaces
/// or `+`/`/`/`=` (base64) that must go back exactly as given.
#[test]
fn bird_token_oddities_are_never_a_wrong_set() {
    let mut failures = Vec::new();
    for variant in ["same-token", "cap", "object-token", "array-token", "base64-token"] {
        let what = format!("bird {variant}");
        let server = Server::start(move |ordinal, req| {
            let token = req.param("pageToken").map(str::to_owned);
            let start: usize = match (variant, &token) {
                (_, None) => 0,
                ("base64-token", Some(t)) => {
                    // "a+b/c= d" + the offset
                    match t.strip_prefix("a+b/c= d&x=") {
                        Some(rest) => rest.parse().unwrap(),
                        None => {
                            return Reply::Json(400, json!({"code": "BadToken", "message": format!("token {t:?}")}));
                        }
                    }
                }
                (_, Some(t)) => t.trim_start_matches('t').parse().unwrap(),
            };
            let limit: usize = req.param("limit").unwrap_or("10").parse().unwrap();
            let limit = if variant == "cap" && ordinal >= 2 { limit.min(4) } else { limit };
            let end = (start + limit).min(N);
            let mut page = json!({"results": (start..end).map(bird_message).collect::<Vec<_>>(), "total": N, "totalType": "exact"});
            page["nextPageToken"] = match variant {
                _ if end >= N => json!(null),
                "same-token" if ordinal == 2 => json!(token.clone().unwrap()),
                "object-token" if ordinal == 2 => json!({"t": end}),
                "array-token" if ordinal == 2 => json!([end]),
                "base64-token" => json!(format!("a+b/c= d&x={end}")),
                _ => json!(format!("t{end}")),
            };
            Reply::Json(200, page)
        });
        let run = run_of("bird", &server, &[]);
        eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(400).collect::<String>(), server.count());
        case(&mut failures, &what, || {
            check(&what, "bird", &run, N);
            if matches!(variant, "cap" | "base64-token") {
                assert_eq!(run.code, Some(0), "{what}: {}", show(&run));
            }
        });
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 6. --resume

fn resume_token(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|l| l.contains("--resume "))?;
    Some(line.rsplit(' ').next()?.to_owned())
}

/// Every vendor: a first run that fails on its third request (a 501, not
/// retried), then, between the runs, the server starts capping its pages
/// at 4 (and Infobip's resumed run asks `--concurrency 4`); the resumed
/// run: across both, every message once in order, or the resumed run
/// fails typed.
#[test]
fn resume_after_the_server_starts_capping_pages_is_never_a_wrong_set() {
    let mut failures = Vec::new();
    for vendor in common::VENDORS {
        for cap_second in [false, true] {
            let what = format!("{vendor} resume, cap between runs {cap_second}");
            let capped = Arc::new(Mutex::new(false));
            let c = capped.clone();
            let server = Server::start(move |ordinal, req| {
                if ordinal == 3 {
                    return Reply::Json(501, json!({"message": "nope"}));
                }
                let mut req = req.clone();
                if *c.lock().unwrap() {
                    for (k, v) in req.query.iter_mut() {
                        if (k == "limit" || k == "per_page") && v.parse::<usize>().unwrap() > 4 {
                            *v = "4".into();
                        }
                    }
                }
                Reply::Json(200, honest(vendor, N, &req))
            });
            let first = run_of(vendor, &server, &[]);
            let Some(token) = resume_token(&first.stderr) else {
                failures.push(format!("{what}: no token: {}", show(&first)));
                continue;
            };
            *capped.lock().unwrap() = cap_second;
            let mut extra = vec!["--resume", token.as_str()];
            if vendor == "infobip" {
                extra.extend(["--concurrency", "4"]);
            }
            let second = run_of(vendor, &server, &extra);
            eprintln!(
                "[{what}] first {} | second {}",
                show(&first).chars().take(200).collect::<String>(),
                show(&second).chars().take(300).collect::<String>()
            );
            let both = Run {
                code: second.code,
                stdout: format!("{}{}", first.stdout, second.stdout),
                stderr: second.stderr.clone(),
            };
            case(&mut failures, &what, || check(&what, vendor, &both, N));
        }
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 7. sync

fn sync_dir(
    vendor: &str,
    server: &Server,
    list: &str,
    state: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) -> Run {
    let path = state.with_extension("list");
    std::fs::write(&path, list).unwrap();
    let mut command = common::convo();
    command.timeout(std::time::Duration::from_secs(60));
    command.args(["sync", vendor, "--base-url", &server.base, "--conversations", path.to_str().unwrap()]);
    command.args(["--state", state.to_str().unwrap(), "--out-dir", out.to_str().unwrap(), "--page-size", "10"]);
    if vendor == "bird" {
        command.args(["--workspace", "ws1"]);
    }
    command.args(extra);
    with_secret(&mut command, vendor);
    common::run(&mut command)
}

/// Every vendor but Octopush, in `sync --out-dir` over two runs: between
/// them the newest message written is deleted and three new ones arrive
/// (at the vendor's end of the listing); the server honours the vendor's
/// time filter or ignores it. The file after the second run: every
/// message of the first run once, then the three new ones, or the second
/// run fails (non-zero) leaving the file a prefix with no repeat.
#[test]
fn sync_rerun_after_the_newest_written_is_deleted_and_new_ones_arrive() {
    let mut failures = Vec::new();
    for vendor in ["infobip", "leadconnector", "bird"] {
        for honour in [true, false] {
            let what = format!("{vendor} sync rerun, filter honoured {honour}");
            // The listing in the vendor's order of message numbers; times
            // from the builders (Infobip ascending, the others descending
            // with the number: the newest has the lowest number).
            let list: Arc<Mutex<Vec<usize>>> = Arc::new(Mutex::new(match vendor {
                "infobip" => (0..N).collect(),
                _ => (100..100 + N).collect(),
            }));
            let l = list.clone();
            let server = Server::start(move |_, req| {
                let list = l.lock().unwrap().clone();
                let limit: usize = req.param("limit").unwrap_or("10").parse().unwrap();
                match vendor {
                    "infobip" => {
                        let after = req.param("createdAfter").filter(|_| honour).map(|a| {
                            chrono::DateTime::parse_from_rfc3339(&a.replace("+0000", "Z")).unwrap().timestamp_millis()
                        });
                        let page: usize = req.param("page").unwrap_or("0").parse().unwrap();
                        let all: Vec<usize> = list
                            .iter()
                            .copied()
                            .filter(|&i| after.is_none_or(|a| 1_767_225_600_000 + i as i64 * 1000 > a))
                            .collect();
                        let served: Vec<Value> =
                            all.iter().skip(page * limit).take(limit).map(|&i| ib_message(i)).collect();
                        Reply::Json(
                            200,
                            json!({"messages": served, "pagination": {"totalItems": all.len(), "page": page, "limit": limit}}),
                        )
                    }
                    "leadconnector" => {
                        let start = req.param("lastMessageId").map_or(0, |id| {
                            list.iter().position(|&i| format!("lc{i:04}") == id).map_or(list.len(), |p| p + 1)
                        });
                        let end = (start + limit).min(list.len());
                        Reply::Json(200, lc_page(&list[start..end], end < list.len()))
                    }
                    _ => {
                        let from = req
                            .param("dateFrom")
                            .filter(|_| honour)
                            .map(|a| chrono::DateTime::parse_from_rfc3339(a).unwrap().timestamp_millis());
                        let all: Vec<usize> = list
                            .iter()
                            .copied()
                            .filter(|&i| from.is_none_or(|f| 1_767_225_600_000 + (10_000 - i as i64) * 1000 >= f))
                            .collect();
                        let start: usize =
                            req.param("pageToken").map_or(0, |t| t.trim_start_matches('t').parse().unwrap());
                        let end = (start + limit).min(all.len());
                        let mut page = json!({"results": all[start..end].iter().map(|&i| bird_message(i)).collect::<Vec<_>>(), "total": all.len()});
                        page["nextPageToken"] = if end < all.len() { json!(format!("t{end}")) } else { json!(null) };
                        Reply::Json(200, page)
                    }
                }
            });
            let dir = tempfile::tempdir().unwrap();
            let (state, out) = (dir.path().join("state.json"), dir.path().join("out"));
            let first = sync_dir(vendor, &server, "conv1\n", &state, &out, &[]);
            let id = |i: usize| match vendor {
                "infobip" => format!("ib{i:04}"),
                "leadconnector" => format!("lc{i:04}"),
                _ => format!("b{i:04}"),
            };
            let first_ids: Vec<String> = list.lock().unwrap().iter().map(|&i| id(i)).collect();
            // Between the runs: the newest deleted, three newer ones added.
            let added: Vec<usize> = {
                let mut l = list.lock().unwrap();
                match vendor {
                    "infobip" => {
                        l.pop();
                        l.extend([N + 1, N + 2, N + 3]);
                        vec![N + 1, N + 2, N + 3]
                    }
                    "leadconnector" => {
                        l.remove(0);
                        for i in [99, 98, 97] {
                            l.insert(0, i);
                        }
                        vec![97, 98, 99]
                    }
                    _ => {
                        // Bird's order as listed here: newest first, like LC.
                        l.remove(0);
                        for i in [99, 98, 97] {
                            l.insert(0, i);
                        }
                        vec![97, 98, 99]
                    }
                }
            };
            let second = sync_dir(vendor, &server, "conv1\n", &state, &out, &[]);
            let file = out.join("conv1.ndjson");
            let got = file_ids(&file).unwrap_or_else(|e| vec![e]);
            eprintln!(
                "[{what}] first {} | second {} | file {:?}",
                show(&first).chars().take(200).collect::<String>(),
                show(&second).chars().take(300).collect::<String>(),
                got
            );
            case(&mut failures, &what, || {
                if vendor == "infobip" && !honour {
                    // A filter ignored is `OutOfOrder`, documented.
                    assert_ne!(first.code, Some(0), "{what}: {}", show(&first));
                    return;
                }
                assert_eq!(first.code, Some(0), "{what}: first run: {}", show(&first));
                let mut seen = std::collections::HashSet::new();
                for i in &got {
                    assert!(seen.insert(i.clone()), "{what}: {i} twice in the file: {got:?}");
                }
                assert!(
                    got.starts_with(&first_ids),
                    "{what}: the first run's messages are not the file's start: {got:?}"
                );
                if second.code == Some(0) {
                    let mut rest: Vec<String> = got[first_ids.len()..].to_vec();
                    rest.sort();
                    let mut want: Vec<String> = added.iter().map(|&i| id(i)).collect();
                    want.sort();
                    assert_eq!(rest, want, "{what}: exit 0, but the second run wrote {:?}", &got[first_ids.len()..]);
                }
            });
        }
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 8. Infobip windows, then --resume

/// Infobip read in time windows (`--concurrency 4`) over 120 messages at
/// 10 a page: the request numbered `fail_at` answers 501 (not retried);
/// the resumed run (with `--concurrency 4` or 1): across both runs every
/// message once in order, or the resumed run fails typed.
#[test]
fn infobip_resume_after_a_window_failed_is_never_a_wrong_set() {
    let mut failures = Vec::new();
    for fail_at in [2usize, 3, 4, 5, 6, 8] {
        for second_concurrency in ["4", "1"] {
            let what = format!("infobip windows fail at {fail_at}, resumed at concurrency {second_concurrency}");
            let n = 120;
            let server = Server::start(move |ordinal, req| {
                if ordinal == fail_at {
                    return Reply::Json(501, json!({"requestError": {"serviceException": {"text": "nope"}}}));
                }
                Reply::Json(200, ib_honest(n, req))
            });
            let first = run_of("infobip", &server, &["--concurrency", "4"]);
            let token = resume_token(&first.stderr);
            let second = match &token {
                Some(token) => run_of("infobip", &server, &["--resume", token, "--concurrency", second_concurrency]),
                None => Run { code: first.code, stdout: String::new(), stderr: String::new() },
            };
            eprintln!(
                "[{what}] first {} | second {}",
                show(&first).chars().take(300).collect::<String>(),
                show(&second).chars().take(300).collect::<String>()
            );
            let both = Run {
                code: second.code,
                stdout: format!("{}{}", first.stdout, second.stdout),
                stderr: second.stderr.clone(),
            };
            case(&mut failures, &what, || {
                assert_ne!(first.code, Some(0), "{what}: the first run had a 501");
                check(&what, "infobip", &both, n)
            });
        }
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 9. Octopush sync, another page size on the rerun

/// Octopush in `sync --out-dir`: the first run reads 25 messages at
/// `--page-size 10` to the end; three messages are added at the end; the
/// second run asks another page size (5, 7, 50, the default), or the
/// server starts capping at 4. The file: the 25 then the 3, each once, or
/// the second run fails (non-zero) and the file is the 25.
#[test]
fn octopush_sync_rerun_with_another_page_size_is_never_a_wrong_set() {
    let mut failures = Vec::new();
    for second in ["5", "7", "50", "default", "cap4"] {
        let what = format!("octopush sync rerun, second {second}");
        let len = Arc::new(Mutex::new(N));
        let cap = Arc::new(Mutex::new(usize::MAX));
        let (l, c) = (len.clone(), cap.clone());
        let server = Server::start(move |_, req| {
            let n = *l.lock().unwrap();
            let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
            let per: usize = req.param("per_page").unwrap_or("50").parse::<usize>().unwrap().min(*c.lock().unwrap());
            Reply::Json(200, json!(((page - 1) * per..(page * per).min(n)).map(octo_message).collect::<Vec<_>>()))
        });
        let dir = tempfile::tempdir().unwrap();
        let (state, out) = (dir.path().join("state.json"), dir.path().join("out"));
        let conv = "cid_6c0e7f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6";
        let first = sync_dir("octopush", &server, &format!("{conv}\n"), &state, &out, &[]);
        *len.lock().unwrap() = N + 3;
        let mut extra: Vec<&str> = Vec::new();
        match second {
            "default" => {}
            "cap4" => {
                *cap.lock().unwrap() = 4;
            }
            size => extra.extend(["--page-size", size]),
        }
        // sync_dir passes --page-size 10 first; a later one overrides it
        // only if clap takes the last: pass the second run by hand instead.
        let path = state.with_extension("list");
        let mut command = common::convo();
        command.timeout(std::time::Duration::from_secs(60));
        command.args(["sync", "octopush", "--base-url", &server.base, "--conversations", path.to_str().unwrap()]);
        command.args(["--state", state.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);
        if second == "cap4" {
            command.args(["--page-size", "10"]);
        }
        command.args(&extra);
        with_secret(&mut command, "octopush");
        let run2 = common::run(&mut command);
        let file = out.join(format!("{conv}.ndjson"));
        let got = file_ids(&file).unwrap_or_else(|e| vec![e]);
        eprintln!(
            "[{what}] first {} | second {} | file {} ids",
            show(&first),
            show(&run2).chars().take(400).collect::<String>(),
            got.len()
        );
        case(&mut failures, &what, || {
            assert_eq!(first.code, Some(0), "{what}: {}", show(&first));
            let want_all = expected("octopush", N + 3);
            let want_first = expected("octopush", N);
            if run2.code == Some(0) {
                assert_eq!(got, want_all, "{what}: exit 0 with the file {got:?} ({})", show(&run2));
            } else {
                assert_eq!(got, want_first, "{what}: failed, but the file is {got:?}");
            }
        });
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 10. Infobip time precision and offsets

/// Infobip times written with microseconds (several messages a
/// millisecond, distinct microseconds, page boundaries inside a
/// millisecond), with 0 fraction digits (several a second), or in another
/// offset (`+0200`, `-05:30`) on some answers; the server filters by the
/// instant, to the microsecond. Read whole with exit 0, or typed.
#[test]
fn infobip_time_precision_and_offsets_are_never_a_wrong_set() {
    let mut failures = Vec::new();
    for variant in ["micros", "seconds", "offsets"] {
        for concurrency in ["1", "4"] {
            let what = format!("infobip {variant}, concurrency {concurrency}");
            // Times in microseconds from the epoch of the probe.
            let times: Vec<i64> = match variant {
                // 3 messages a millisecond, 100 µs apart.
                "micros" => (0..45).map(|i| (i / 3) * 1000 + (i % 3) * 100).map(|us| us * 1000 / 1000).collect(),
                // 4 a second.
                "seconds" => (0..45).map(|i| (i / 4) * 1_000_000).collect(),
                _ => (0..45).map(|i| i * 1_000_000).collect(),
            };
            let n = times.len();
            let server = Server::start(move |ordinal, req| {
                let after_us = req.param("createdAfter").map(|a| {
                    chrono::DateTime::parse_from_rfc3339(&a.replace("+0000", "Z")).unwrap().timestamp_micros()
                        - 1_767_225_600_000_000
                });
                let limit: usize = req.param("limit").unwrap_or("10").parse().unwrap();
                let page: usize = req.param("page").unwrap_or("0").parse().unwrap();
                let all: Vec<usize> = (0..n).filter(|&i| after_us.is_none_or(|a| times[i] > a)).collect();
                let served: Vec<Value> = all
                    .iter()
                    .skip(page * limit)
                    .take(limit)
                    .map(|&i| {
                        let at = chrono::DateTime::from_timestamp_micros(1_767_225_600_000_000 + times[i]).unwrap();
                        let text = match variant {
                            "micros" => at.format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string(),
                            "seconds" => at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                            _ if ordinal % 2 == 0 => at
                                .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap())
                                .format("%Y-%m-%dT%H:%M:%S%.3f+0200")
                                .to_string(),
                            _ if ordinal % 3 == 0 => at
                                .with_timezone(&chrono::FixedOffset::west_opt(5 * 3600 + 1800).unwrap())
                                .format("%Y-%m-%dT%H:%M:%S%.3f-05:30")
                                .to_string(),
                            _ => at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
                        };
                        let mut m = ib_message(i);
                        m["createdAt"] = json!(text);
                        m
                    })
                    .collect();
                Reply::Json(
                    200,
                    json!({"messages": served, "pagination": {"totalItems": all.len(), "page": page, "limit": limit}}),
                )
            });
            let run = run_of("infobip", &server, &["--concurrency", concurrency]);
            eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(400).collect::<String>(), server.count());
            case(&mut failures, &what, || check(&what, "infobip", &run, n));
        }
    }
    none_failed(&failures);
}

// ------------------------------------------------------------ 11. duplicate keys in the page envelope

/// The first page's envelope with its list (or its cursor) given twice:
/// the full list then a later part of it (or the cursor then `null`), as
/// a gateway that merges two bodies would write. Never a wrong set with
/// exit 0: the body is refused, or both lists are the page.
#[test]
fn a_page_envelope_with_a_key_twice_is_never_a_wrong_set() {
    let mut failures = Vec::new();
    for vendor in common::VENDORS {
        for variant in ["list", "cursor"] {
            if vendor == "octopush" || (variant == "cursor" && vendor == "infobip") {
                continue;
            }
            let what = format!("{vendor} duplicate {variant}");
            let server = faulty(vendor, N, move |ordinal, req| {
                if ordinal != 1 {
                    return None;
                }
                let page = honest(vendor, N, req);
                let text = serde_json::to_string(&page).unwrap();
                let (key, dup) = match (vendor, variant) {
                    ("infobip", _) => ("\"messages\":", json!(page["messages"].as_array().unwrap()[7..].to_vec())),
                    ("leadconnector", "list") => {
                        ("\"messages\":", json!(page["messages"].as_array().unwrap()[7..].to_vec()))
                    }
                    ("leadconnector", _) => ("\"nextPage\":", json!(false)),
                    (_, "list") => ("\"results\":", json!(page["results"].as_array().unwrap()[7..].to_vec())),
                    _ => ("\"nextPageToken\":", json!(null)),
                };
                // Insert `key: dup,` right after the opening brace: the
                // duplicate comes first or ... append it last instead.
                let body = format!("{},{}{}}}", &text[..text.len() - 1], key, dup);
                assert!(text.contains(key));
                Some(Reply::Raw(200, vec![], body.into_bytes()))
            });
            let run = run_of(vendor, &server, &[]);
            eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(400).collect::<String>(), server.count());
            case(&mut failures, &what, || check(&what, vendor, &run, N));
        }
    }
    none_failed(&failures);
}

/// The very first request answered once with a 204, a 200 with an empty
/// body, `null`, `{}` or a 202 with `[]`, then honestly: never an empty (or
/// short) conversation with exit 0.
#[test]
fn odd_answers_to_the_first_request_are_never_an_empty_conversation_with_exit_0() {
    let mut failures = Vec::new();
    for vendor in common::VENDORS {
        for (status, body) in
            [(204u16, &b""[..]), (200, b""), (200, b"null"), (200, b"{}"), (202, b"[]"), (200, b"{\"messages\":{}}")]
        {
            let what = format!("{vendor} first answer {status} {:?}", String::from_utf8_lossy(body));
            let server =
                faulty(vendor, N, move |ordinal, _| (ordinal == 1).then(|| Reply::Raw(status, vec![], body.to_vec())));
            let run = run_of(vendor, &server, &[]);
            eprintln!("[{what}] {} ({} requests)", show(&run).chars().take(300).collect::<String>(), server.count());
            case(&mut failures, &what, || check(&what, vendor, &run, N));
        }
    }
    none_failed(&failures);
}

/// Octopush in `sync --out-dir` at `--page-size 10` over a conversation of
/// exactly 20 (its last page full), then 0, 1, 10 or 13 messages added at
/// the end, then a third run with nothing new: the file holds every
/// message once, in order, after each exit 0.
#[test]
fn octopush_sync_reruns_after_a_full_last_page_append_exactly_once() {
    let mut failures = Vec::new();
    for added in [0usize, 1, 10, 13] {
        let what = format!("octopush full last page, {added} added");
        let len = Arc::new(Mutex::new(20usize));
        let l = len.clone();
        let server = Server::start(move |_, req| {
            let n = *l.lock().unwrap();
            let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
            let per: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
            Reply::Json(200, json!(((page - 1) * per..(page * per).min(n)).map(octo_message).collect::<Vec<_>>()))
        });
        let dir = tempfile::tempdir().unwrap();
        let (state, out) = (dir.path().join("state.json"), dir.path().join("out"));
        let conv = "cid_6c0e7f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6";
        let file = out.join(format!("{conv}.ndjson"));
        let mut runs = Vec::new();
        for step in 0..3 {
            if step == 1 {
                *len.lock().unwrap() = 20 + added;
            }
            let run = sync_dir("octopush", &server, &format!("{conv}\n"), &state, &out, &[]);
            let got = file_ids(&file).unwrap_or_else(|e| vec![e]);
            runs.push((run, got));
        }
        for (i, (run, got)) in runs.iter().enumerate() {
            eprintln!("[{what}] run {i}: {} | file {} ids", show(run).chars().take(300).collect::<String>(), got.len());
        }
        case(&mut failures, &what, || {
            for (i, (run, got)) in runs.iter().enumerate() {
                let n = if i == 0 { 20 } else { 20 + added };
                if run.code == Some(0) {
                    assert_eq!(got, &expected("octopush", n), "{what}: run {i} exit 0 with {} ids: {got:?}", got.len());
                } else {
                    let mut seen = std::collections::HashSet::new();
                    assert!(got.iter().all(|g| seen.insert(g.clone())), "{what}: run {i}: a repeat: {got:?}");
                }
            }
        });
    }
    none_failed(&failures);
}

/// Was a bug (fixed 2026-12-06: `Mark::ahead`). `sync` over a
/// conversation whose newest message carries a
/// creation time six hours ahead of this machine's clock (a vendor's clock,
/// a local time written as UTC, a scheduled message; within the day that
/// `Mark::AHEAD` still takes as a time); three messages created now arrive
/// between the runs. The second run asks from that future time less 1 ms
/// (Infobip `createdAfter`, Bird `dateFrom`, LeadConnector's client-side
/// bound), writes nothing and exits 0
/// ("1 with nothing new"): the three are never written, by this run or any
/// later one until the clock passes that time. A wrong set with exit 0.
/// ARCHITECTURE.md keeps a message more than a day ahead by id "which
/// would hide every message still to come"; under a day the same happens
/// (crates/sync/src/store.rs, `Mark::wrote` / `Mark::next_read`: the bound
/// should not pass this machine's clock at the time of the read, or the
/// ahead-of-now messages should be kept by id like the timeless ones).
#[test]
fn sync_a_message_hours_ahead_never_hides_the_messages_created_after_it_with_exit_0() {
    let mut failures = Vec::new();
    for vendor in ["infobip", "leadconnector", "bird"] {
        let what = format!("{vendor} sync, a message six hours ahead");
        let now = chrono::Utc::now().timestamp_millis();
        // (number, absolute ms)
        let mut start: Vec<(usize, i64)> = (0..N - 1).map(|i| (i, now - 3_600_000 + i as i64 * 1000)).collect();
        start.push((N - 1, now + 6 * 3_600_000));
        let list = Arc::new(Mutex::new(start));
        let l = list.clone();
        let server = Server::start(move |_, req| {
            let mut list = l.lock().unwrap().clone();
            list.sort_by_key(|&(_, t)| t);
            let limit: usize = req.param("limit").unwrap_or("10").parse().unwrap();
            let stamp = |t: i64| {
                chrono::DateTime::from_timestamp_millis(t).unwrap().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            };
            if vendor == "infobip" {
                let after = req.param("createdAfter").map(|a| {
                    chrono::DateTime::parse_from_rfc3339(&a.replace("+0000", "Z")).unwrap().timestamp_millis()
                });
                let page: usize = req.param("page").unwrap_or("0").parse().unwrap();
                let all: Vec<(usize, i64)> = list.into_iter().filter(|&(_, t)| after.is_none_or(|a| t > a)).collect();
                let served: Vec<Value> = all
                    .iter()
                    .skip(page * limit)
                    .take(limit)
                    .map(|&(i, t)| {
                        let mut m = ib_message(i);
                        m["createdAt"] = json!(stamp(t));
                        m
                    })
                    .collect();
                Reply::Json(
                    200,
                    json!({"messages": served, "pagination": {"totalItems": all.len(), "page": page, "limit": limit}}),
                )
            } else if vendor == "leadconnector" {
                list.reverse();
                let start = req.param("lastMessageId").map_or(0, |id| {
                    list.iter().position(|&(i, _)| format!("lc{i:04}") == id).map_or(list.len(), |p| p + 1)
                });
                let end = (start + limit).min(list.len());
                let msgs: Vec<Value> = list[start..end]
                    .iter()
                    .map(|&(i, t)| {
                        let mut m = lc_message(i);
                        m["dateAdded"] = json!(stamp(t));
                        m
                    })
                    .collect();
                let last = msgs.last().map(|m| m["id"].clone());
                Reply::Json(200, json!({"messages": msgs, "nextPage": end < list.len(), "lastMessageId": last}))
            } else {
                list.reverse();
                let from =
                    req.param("dateFrom").map(|a| chrono::DateTime::parse_from_rfc3339(a).unwrap().timestamp_millis());
                let all: Vec<(usize, i64)> = list.into_iter().filter(|&(_, t)| from.is_none_or(|f| t >= f)).collect();
                let start: usize = req.param("pageToken").map_or(0, |t| t.trim_start_matches('t').parse().unwrap());
                let end = (start + limit).min(all.len());
                let results: Vec<Value> = all[start..end]
                    .iter()
                    .map(|&(i, t)| {
                        let mut m = bird_message(i);
                        m["createdAt"] = json!(stamp(t));
                        m
                    })
                    .collect();
                let mut page = json!({"results": results, "total": all.len()});
                page["nextPageToken"] = if end < all.len() { json!(format!("t{end}")) } else { json!(null) };
                Reply::Json(200, page)
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let (state, out) = (dir.path().join("state.json"), dir.path().join("out"));
        let first = sync_dir(vendor, &server, "conv1\n", &state, &out, &[]);
        let now = chrono::Utc::now().timestamp_millis();
        list.lock().unwrap().extend([(N, now), (N + 1, now + 1), (N + 2, now + 2)]);
        let second = sync_dir(vendor, &server, "conv1\n", &state, &out, &[]);
        let got = file_ids(&out.join("conv1.ndjson")).unwrap_or_else(|e| vec![e]);
        eprintln!(
            "[{what}] first {} | second {} | file {got:?}",
            show(&first).chars().take(200).collect::<String>(),
            show(&second).chars().take(300).collect::<String>()
        );
        case(&mut failures, &what, || {
            assert_eq!(first.code, Some(0), "{what}: {}", show(&first));
            let new: Vec<String> = expected(vendor, N + 3)[N..].to_vec();
            if second.code == Some(0) {
                for id in &new {
                    assert!(
                        got.contains(id),
                        "{what}: second run exit 0 without `{id}` (created between the runs): file {got:?}"
                    );
                }
            }
        });
    }
    none_failed(&failures);
}
