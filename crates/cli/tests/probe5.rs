//! Fifth round of adversarial probes of the built `convo` binary: Octopush's
//! page-number paging (crates/runtime/src/paging/numbered.rs) over a live
//! listing that changes at scripted moments (head and tail additions,
//! deletions, page-size caps, duplicate and masked records, id-less
//! records), the final read-again check, `--resume` and `sync --out-dir`.
//!
//! Written by a helper against 3aac9c5; its thirteen failures are either
//! fixed (marked "Was:") or, where the fix is larger, named in the closing
//! note of 2026-12-03 (masked and repeated ids across pages, resumes after
//! a run whose check never ran) and not kept here as failing tests.
//!
//! The scripted server, the message builders and the promise check are
//! shared with the other probe files, in `tests/scripted/`.

#![allow(dead_code)]

mod common;
mod scripted;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Run, convo, run};
use scripted::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

const CONV: &str = "cid_6c0e7f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6";

fn octo_ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("o{i:04}")).collect()
}

fn msgs(range: std::ops::Range<usize>) -> Vec<Value> {
    range.map(octo_message).collect()
}

fn masked(text: &str) -> Value {
    json!({"message_id": "***", "text": text, "direction": "inbound", "channel": "sms"})
}

fn idless(text: &str) -> Value {
    json!({"text": text, "direction": "inbound", "channel": "sms"})
}

type Listing = Arc<Mutex<Vec<Value>>>;

/// A live Octopush listing: before request `ordinal` (from 1) is served,
/// `hook(ordinal, &mut listing)` may change it and returns the server's cap
/// on `per_page` for that request (`None`: none). Pages are counted at the
/// size served: `(page - 1) * min(per_page, cap)`.
fn live(
    initial: Vec<Value>,
    hook: impl Fn(usize, &mut Vec<Value>) -> Option<usize> + Send + Sync + 'static,
) -> (Server, Listing) {
    let listing: Listing = Arc::new(Mutex::new(initial));
    let l = listing.clone();
    let server = Server::start(move |ordinal, req| {
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
        let mut listing = l.lock().unwrap();
        let cap = hook(ordinal, &mut listing);
        let size = cap.map_or(per, |c| per.min(c));
        let served: Vec<Value> = listing.iter().skip((page - 1) * size).take(size).cloned().collect();
        Reply::Json(200, Value::Array(served))
    });
    (server, listing)
}

/// The pages asked for, in order (`page/per_page`).
fn asked(server: &Server) -> String {
    server
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| format!("{}/{}", r.param("page").unwrap_or("-"), r.param("per_page").unwrap_or("-")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn octo(server: &Server, extra: &[&str]) -> Run {
    let mut args = vec!["--page-size", "10"];
    args.extend_from_slice(extra);
    fetch("octopush", server, &args, None)
}

fn texts(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .map(|l| {
            let v = serde_json::from_str::<Value>(l).unwrap();
            // An undecodable message has its text only in `raw`.
            v["text"].as_str().or_else(|| v["raw"]["text"].as_str()).unwrap_or_default().to_owned()
        })
        .collect()
}

/// The promise by message text (for masked or id-less records, whose ids
/// cannot tell them apart): no text twice; exit 0 only with `expected`.
fn promise_texts(what: &str, run: &Run, expected: &[String]) {
    let got = texts(run);
    let mut seen = std::collections::HashSet::new();
    for t in &got {
        assert!(seen.insert(t), "{what}: `{t}` printed twice ({})", show(run));
    }
    assert!(run.code.is_some(), "{what}: convo hung");
    assert!(!run.stderr.contains("panicked"), "{what}: panic: {}", run.stderr);
    if run.code == Some(0) {
        assert_eq!(got, expected, "{what}: exit 0 with a wrong set ({})", show(run));
    }
}

fn t(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("t{i}")).collect()
}

fn resume_token(run: &Run) -> String {
    let line =
        run.stderr.lines().find(|l| l.contains("--resume ")).unwrap_or_else(|| panic!("no resume hint: {}", show(run)));
    line.rsplit("--resume ").next().unwrap().trim().to_owned()
}

fn sync_octo(server: &Server, dir: &Path, extra: &[&str]) -> Run {
    let list = dir.join("list");
    std::fs::write(&list, format!("{CONV}\n")).unwrap();
    let mut command = convo();
    command.timeout(Duration::from_secs(90));
    command.args(["sync", "octopush", "--base-url", &server.base, "--page-size", "10"]);
    command.arg("--conversations").arg(&list).arg("--state").arg(dir.join("state.json"));
    command.arg("--out-dir").arg(dir.join("out"));
    command.args(extra);
    with_secret(&mut command, "octopush");
    run(&mut command)
}

fn out_ids(dir: &Path) -> Vec<String> {
    file_ids(&dir.join("out").join(format!("{CONV}.ndjson"))).unwrap_or_default()
}

// ------------------------------------------------------------- baseline

/// 25 messages at 10 a page: pages 1-4 (4 empty), then the check reads
/// pages 1-3 again: 7 requests.
#[test]
fn octopush_static_listing_reads_once_and_checks_once() {
    let (server, _) = live(msgs(0..25), |_, _| None);
    let run = octo(&server, &[]);
    promise("static", &run, &octo_ids(0..25));
    assert_eq!(run.code, Some(0), "{}", show(&run));
    assert_eq!(server.count(), 7, "{}", asked(&server));
}

// ------------------------------------------------------- head additions

/// One message added at the head before request k, for every k from the
/// second page to the last page of the check (k = 5..7 are the check).
#[test]
fn octopush_one_head_addition_at_any_moment_is_benign() {
    for n in [25, 30] {
        for k in 2..=9 {
            let (server, _) = live(msgs(0..n), move |o, l| {
                if o == k {
                    l.insert(0, octo_message(1000));
                }
                None
            });
            let run = octo(&server, &[]);
            let what = format!("n={n} head add before request {k}");
            eprintln!("[{what}] {} ; {}", show(&run), asked(&server));
            promise(&what, &run, &octo_ids(0..n));
            assert_eq!(run.code, Some(0), "{what}: {} ; {}", show(&run), asked(&server));
        }
    }
}

/// One message added at the head before every request of the read.
#[test]
fn octopush_head_additions_before_every_read_request_are_benign() {
    let (server, _) = live(msgs(0..25), |o, l| {
        if (2..=4).contains(&o) {
            l.insert(0, octo_message(1000 + o));
        }
        None
    });
    let run = octo(&server, &[]);
    promise("head add every request", &run, &octo_ids(0..25));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

/// Two messages added at the head at once during the read.
#[test]
fn octopush_two_head_additions_at_once_during_the_read_are_benign() {
    let (server, _) = live(msgs(0..25), |o, l| {
        if o == 2 {
            l.insert(0, octo_message(1000));
            l.insert(0, octo_message(1001));
        }
        None
    });
    let run = octo(&server, &[]);
    promise("two head adds in read", &run, &octo_ids(0..25));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

// BUG (needless failure): two messages added at the head at once while the
// check reads the listing again (before its second page, request 6) shift
// the check's page 2 by two: it opens with the second-to-last key of page 1,
// not the last, so `moved` is never set and with concurrency 1 the first
// difference is final: exit 5 on a listing that only grew at its head.
/// Was: exit 5 (only a page opening with the very last message of the page before was seen as a push).
#[test]
fn octopush_two_head_additions_at_once_during_the_check_are_benign() {
    let (server, _) = live(msgs(0..25), |o, l| {
        if o == 6 {
            l.insert(0, octo_message(1000));
            l.insert(0, octo_message(1001));
        }
        None
    });
    let run = octo(&server, &[]);
    eprintln!("[two head adds in check] {} ; {}", show(&run), asked(&server));
    promise("two head adds in check", &run, &octo_ids(0..25));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

/// One head addition in each attempt of the check (requests 6 and 9):
/// by design only one re-check; a typed error is allowed, never a wrong set.
#[test]
fn octopush_head_addition_in_each_check_attempt_keeps_the_promise() {
    let (server, _) = live(msgs(0..25), |o, l| {
        if o == 6 || o == 9 {
            l.insert(0, octo_message(1000 + o));
        }
        None
    });
    let run = octo(&server, &[]);
    eprintln!("[head add each attempt] {} ; {}", show(&run), asked(&server));
    promise("head add each attempt", &run, &octo_ids(0..25));
}

/// Many head additions between the end of the read and the check: more
/// than the pages read. Allowed to fail (typed), never a wrong set.
#[test]
fn octopush_many_head_additions_before_the_check_keep_the_promise() {
    let (server, _) = live(msgs(0..5), |o, l| {
        if o == 3 {
            for i in 0..12 {
                l.insert(0, octo_message(1000 + i));
            }
        }
        None
    });
    let run = octo(&server, &[]);
    eprintln!("[12 head adds before check of 5] {} ; {}", show(&run), asked(&server));
    promise("many head adds before check", &run, &octo_ids(0..5));
}

// ------------------------------------------------------- tail additions

/// A message added at the end after the read (before or during the
/// check): the check finds it after the last one delivered, in a listing
/// that never grew at its head, and the read goes on to deliver it.
/// Was: exit 0 without the message added (the check accepted it unread).
#[test]
fn octopush_tail_addition_after_the_read_is_read_too() {
    for (n, k) in [(30, 5), (30, 7), (30, 8), (25, 5), (25, 7)] {
        let (server, _) = live(msgs(0..n), move |o, l| {
            if o == k {
                l.push(octo_message(500));
            }
            None
        });
        let run = octo(&server, &[]);
        let what = format!("n={n} tail add before request {k}");
        eprintln!("[{what}] {} ; {}", show(&run), asked(&server));
        let expected: Vec<String> = octo_ids(0..n).into_iter().chain(["o0500".to_owned()]).collect();
        promise(&what, &run, &expected);
        assert_eq!(run.code, Some(0), "{what}: {} ; {}", show(&run), asked(&server));
    }
}

/// A message added at the end during the read is read with it.
#[test]
fn octopush_tail_addition_during_the_read_is_delivered() {
    let (server, _) = live(msgs(0..25), |o, l| {
        if o == 2 {
            l.push(octo_message(25));
        }
        None
    });
    let run = octo(&server, &[]);
    promise("tail add in read", &run, &octo_ids(0..26));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

/// Head addition during the read, tail addition after it: refused by the
/// tail rule (design); never a wrong set.
#[test]
fn octopush_head_during_read_and_tail_after_keep_the_promise() {
    let (server, _) = live(msgs(0..30), |o, l| {
        if o == 2 {
            l.insert(0, octo_message(1000));
        }
        if o == 6 {
            l.push(octo_message(500));
        }
        None
    });
    let run = octo(&server, &[]);
    eprintln!("[head in read, tail after] {} ; {}", show(&run), asked(&server));
    promise("head in read, tail after", &run, &octo_ids(0..30));
}

// ----------------------------------------------------------------- caps

#[test]
fn octopush_server_cap_on_per_page_is_followed() {
    let (server, _) = live(msgs(0..23), |_, _| Some(7));
    let run = octo(&server, &[]);
    promise("cap 7", &run, &octo_ids(0..23));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

#[test]
fn octopush_server_cap_with_head_additions_is_benign() {
    let (server, _) = live(msgs(0..23), |o, l| {
        if o == 2 || o == 7 {
            l.insert(0, octo_message(1000 + o));
        }
        Some(7)
    });
    let run = octo(&server, &[]);
    promise("cap 7 + head", &run, &octo_ids(0..23));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

/// The cap drops from 7 to 5 mid-read, or during the check.
#[test]
fn octopush_cap_changing_mid_read_or_check_keeps_the_promise() {
    for from in [2, 3, 5, 6, 7] {
        let (server, _) = live(msgs(0..23), move |o, _| Some(if o >= from { 5 } else { 7 }));
        let run = octo(&server, &[]);
        let what = format!("cap 7->5 from request {from}");
        eprintln!("[{what}] {} ; {}", show(&run), asked(&server));
        promise(&what, &run, &octo_ids(0..23));
    }
    for from in [2, 3, 6] {
        // 5 -> 7: a server that now serves more than the size it told.
        let (server, _) = live(msgs(0..23), move |o, _| Some(if o >= from { 7 } else { 5 }));
        let run = octo(&server, &[]);
        let what = format!("cap 5->7 from request {from}");
        eprintln!("[{what}] {} ; {}", show(&run), asked(&server));
        promise(&what, &run, &octo_ids(0..23));
    }
}

// ------------------------------------------------ duplicates and masks

/// A record twice, byte for byte, inside page 2 (a static listing).
#[test]
fn octopush_record_twice_inside_a_page_is_printed_once() {
    let mut listing = msgs(0..25);
    listing.insert(15, octo_message(14));
    let (server, _) = live(listing, |_, _| None);
    let run = octo(&server, &[]);
    promise("twice in page", &run, &octo_ids(0..25));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

/// Masked ids (`***`) on one page, different records: both printed.
#[test]
fn octopush_masked_ids_within_one_page_are_all_printed() {
    let mut listing = msgs(0..15);
    listing[3] = masked("t3");
    listing[5] = masked("t5");
    let (server, _) = live(listing, |_, _| None);
    let run = octo(&server, &[]);
    promise_texts("masked in page", &run, &t(0..15));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

/// Records without `message_id` (printed with `decode_error`), inside
/// pages and at a page boundary, with head additions during the read.
#[test]
fn octopush_messages_without_an_id_are_printed_once() {
    for head in [false, true] {
        let mut listing = msgs(0..25);
        listing[5] = idless("t5");
        listing[9] = idless("t9");
        listing[10] = idless("t10");
        let (server, _) = live(listing, move |o, l| {
            if head && o == 2 {
                l.insert(0, octo_message(1000));
            }
            None
        });
        let run = octo(&server, &[]);
        let what = format!("idless head={head}");
        eprintln!("[{what}] {} ; {}", show(&run), asked(&server));
        promise_texts(&what, &run, &t(0..25));
        assert_eq!(run.code, Some(0), "{what}: {} ; {}", show(&run), asked(&server));
    }
}

// ------------------------------------------------------------ deletions

/// Message `deleted` removed before request `k`, for deletions on every
/// page and moments from the read to the end of the check.
#[test]
fn octopush_deletions_at_any_moment_keep_the_promise() {
    for deleted in [0, 5, 9, 10, 15, 22, 24] {
        for k in 2..=7 {
            let (server, _) = live(msgs(0..25), move |o, l| {
                if o == k {
                    l.retain(|m| m["message_id"] != format!("o{deleted:04}"));
                }
                None
            });
            let run = octo(&server, &[]);
            let what = format!("delete o{deleted:04} before request {k}");
            eprintln!("[{what}] {}", show(&run));
            let page_of = deleted / 10 + 1;
            let expected: Vec<String> = if k <= page_of {
                // Deleted before its page was read: not part of the read.
                octo_ids(0..25).into_iter().filter(|id| *id != format!("o{deleted:04}")).collect()
            } else {
                octo_ids(0..25)
            };
            promise(&what, &run, &expected);
            if k <= page_of && k <= 4 {
                assert_eq!(run.code, Some(0), "{what}: {} ; {}", show(&run), asked(&server));
            }
        }
    }
}

/// A head addition then its deletion during the read (a message pulled
/// back past the read), at many moments.
#[test]
fn octopush_head_addition_then_deletion_never_loses_a_message_with_exit_0() {
    for n in [20, 25, 30] {
        for (add, del) in [(2, 3), (2, 4), (3, 4), (2, 5), (3, 5), (4, 5), (4, 6), (5, 6)] {
            let (server, _) = live(msgs(0..n), move |o, l| {
                if o == add {
                    l.insert(0, octo_message(1000));
                }
                if o == del {
                    l.remove(0);
                }
                None
            });
            let run = octo(&server, &[]);
            let what = format!("n={n} head add before {add}, removed before {del}");
            eprintln!("[{what}] {}", show(&run));
            promise(&what, &run, &octo_ids(0..n));
        }
    }
}

/// A deletion above the read plus a head addition at once (no net shift).
#[test]
fn octopush_deletion_and_head_addition_at_once_keep_the_promise() {
    for k in 2..=7 {
        let (server, _) = live(msgs(0..30), move |o, l| {
            if o == k {
                l.remove(3);
                l.insert(0, octo_message(1000));
            }
            None
        });
        let run = octo(&server, &[]);
        let what = format!("delete o0003 + head add before {k}");
        eprintln!("[{what}] {}", show(&run));
        promise(&what, &run, &octo_ids(0..30));
    }
}

// ----------------------------------------------------- concurrency > 1

#[test]
fn octopush_check_with_concurrency_keeps_the_promise() {
    for k in [2, 5, 6, 7] {
        let (server, _) = live(msgs(0..45), move |o, l| {
            if o == k {
                l.insert(0, octo_message(1000));
            }
            None
        });
        let run = octo(&server, &["--concurrency", "4"]);
        let what = format!("concurrency 4, head add before {k}");
        eprintln!("[{what}] {} ; {}", show(&run), asked(&server));
        promise(&what, &run, &octo_ids(0..45));
        assert_eq!(run.code, Some(0), "{what}: {} ; {}", show(&run), asked(&server));
    }
}

/// A listing at most one page long: the first page, short, sets the page
/// size to its length (here 1), and one message added at the head before
/// the confirming page 2 makes page 2 a page of nothing but a repeat.
// Was (needless failure): a one-message conversation that gets one new
// message at its head between page 1 and page 2: page 2 (per_page=1) holds
// only o0000 again, a full page of repeats: RepeatedPage, nonzero exit,
// though the read was complete and the listing only grew at its head.
// Now up to two full pages of repeats in a row are taken for a push-down.
#[test]
fn octopush_one_message_conversation_with_a_head_addition_is_benign() {
    let (server, _) = live(msgs(0..1), |o, l| {
        if o == 2 {
            l.insert(0, octo_message(1000));
        }
        None
    });
    let run = octo(&server, &[]);
    eprintln!("[one message + head] {} ; {}", show(&run), asked(&server));
    promise("one message + head", &run, &octo_ids(0..1));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

// ----------------------------------------------------------------- resume

/// A live listing that fails with 501 (not retried) on the requests in
/// `fail` (ordinals).
fn live_failing(
    initial: Vec<Value>,
    fail: Arc<Mutex<Vec<usize>>>,
    hook: impl Fn(usize, &mut Vec<Value>) + Send + Sync + 'static,
) -> Server {
    let listing: Listing = Arc::new(Mutex::new(initial));
    Server::start(move |ordinal, req| {
        if fail.lock().unwrap().contains(&ordinal) {
            return Reply::Json(501, json!({"code": 1, "message": "not implemented"}));
        }
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
        let mut listing = listing.lock().unwrap();
        hook(ordinal, &mut listing);
        let served: Vec<Value> = listing.iter().skip((page - 1) * per).take(per).cloned().collect();
        Reply::Json(200, Value::Array(served))
    })
}

/// A first run of `len` messages during which o0003 is deleted after page 1
/// (before request 2), so page 2 starts at o0011 and o0010 is skipped, and
/// that stops with a 501 on request `fails`; then the run resumed with its
/// token: it must see the skip (exit 5), never exit 0 without o0010.
fn resume_after_a_skip(len: usize, fails: usize) {
    let fail = Arc::new(Mutex::new(vec![fails]));
    let server = live_failing(msgs(0..len), fail, |o, l| {
        if o == 2 {
            l.retain(|m| m["message_id"] != "o0003");
        }
    });
    let first = octo(&server, &[]);
    assert_ne!(first.code, Some(0), "{}", show(&first));
    let token = resume_token(&first);
    let second = octo(&server, &["--resume", &token]);
    eprintln!("[skip, 501 at {fails}, resumed] {} ; then {} ; {}", show(&first), show(&second), asked(&server));
    let mut both = ids(&first);
    both.extend(ids(&second));
    assert!(!both.contains(&"o0010".to_owned()), "{both:?}");
    // The resumed run checks from the first run's first page: the skip is seen.
    assert_eq!(second.code, Some(5), "{}", show(&second));
    assert!(second.stderr.contains("changed while it was read"), "{}", show(&second));
}

/// 25 messages: the read ends (page 4 empty) and the final check, which
/// would see the skip, gets the 501 on its first request (request 5).
// Was (wrong set with exit 0, across runs): the resumed run's check
// covered only the pages it read, and it exited 0: the two runs together
// never wrote o0010. The token now carries the first run's check, and the
// resumed run checks from page 1.
#[test]
fn octopush_resume_after_the_check_was_cut_short_never_loses_a_message() {
    resume_after_a_skip(25, 5);
}

/// 35 messages: the 501 is on page 3.
// Was (wrong set with exit 0, across runs): the token resumed at page 2
// after o0020; the resumed run read pages 2-5 and checked only from page
// 2: exit 0, o0010 never written. Now it checks from page 1 with the first
// run's check (exit 5).
#[test]
fn octopush_resume_after_a_skip_in_the_first_run_never_loses_a_message() {
    resume_after_a_skip(35, 3);
}

// ------------------------------------------------------------------- sync

/// Sync over a listing whose check is cut short by a 501 (after a
/// deletion above the read skipped o0010), then a rerun: the file must not
/// end without o0010 with exit 0.
// Was (wrong file with exit 0, across sync runs): first sync: o0003
// deleted before request 2 (o0010 skipped), pages 1-4 read and written (24
// messages), the check's first request (5) a 501: the conversation fails
// (exit 5) but its checkpoint is kept past the last page. The rerun read
// only its last page (3 requests), "1 with nothing new", exit 0: the file
// held o0000-o0009, o0011-o0024 and never got o0010. The checkpoint now
// carries the first run's check.
#[test]
fn octopush_sync_rerun_after_the_check_was_cut_short_never_loses_a_message() {
    let fail = Arc::new(Mutex::new(vec![5]));
    let server = live_failing(msgs(0..25), fail.clone(), |o, l| {
        if o == 2 {
            l.retain(|m| m["message_id"] != "o0003");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let first = sync_octo(&server, dir.path(), &[]);
    eprintln!("[sync check cut short] {} ; file {}", show(&first), out_ids(dir.path()).len());
    let second = sync_octo(&server, dir.path(), &[]);
    let file = out_ids(dir.path());
    eprintln!("[sync check cut short, rerun] {} ; file {:?}", show(&second), file);
    let mut seen = std::collections::HashSet::new();
    for id in &file {
        assert!(seen.insert(id), "`{id}` twice in the file: {}", show(&second));
    }
    assert!(!file.contains(&"o0010".to_owned()), "{file:?}");
    // The rerun checks from the first run's first page: the skip is seen.
    assert_eq!(second.code, Some(5), "{}", show(&second));
    assert!(second.stderr.contains("changed while it was read"), "{}", show(&second));
}

/// `sync --out-dir` over a listing with head additions during the read
/// and the check: the file holds every message once, exit 0.
#[test]
fn octopush_sync_with_head_additions_writes_every_message_once() {
    let (server, _) = live(msgs(0..25), |o, l| {
        if o == 2 || o == 6 {
            l.insert(0, octo_message(1000 + o));
        }
        None
    });
    let dir = tempfile::tempdir().unwrap();
    let run = sync_octo(&server, dir.path(), &[]);
    eprintln!("[sync head adds] {} ; {}", show(&run), asked(&server));
    assert_eq!(run.code, Some(0), "{}", show(&run));
    assert_eq!(out_ids(dir.path()), octo_ids(0..25));
}

/// The first sync meets a deletion above the read (o0015 deleted once
/// page 4 was served: o0040 skipped); its check fails (listing changed,
/// exit 5). The second sync with the same state reads it again from the
/// start and rewrites the file: exit 0 with the current listing.
#[test]
fn octopush_sync_rerun_after_a_listing_change_never_loses_a_message() {
    let (server, _) = live(msgs(0..60), |o, l| {
        if o == 5 {
            l.retain(|m| m["message_id"] != "o0015");
        }
        None
    });
    let dir = tempfile::tempdir().unwrap();
    let first = sync_octo(&server, dir.path(), &[]);
    eprintln!("[sync deletion, first] {} ; file {}", show(&first), out_ids(dir.path()).len());
    assert_ne!(first.code, Some(0), "{}", show(&first));
    let second = sync_octo(&server, dir.path(), &[]);
    let file = out_ids(dir.path());
    eprintln!("[sync deletion, second] {} ; file {} ids", show(&second), file.len());
    let mut seen = std::collections::HashSet::new();
    for id in &file {
        assert!(seen.insert(id), "`{id}` twice in the file: {}", show(&second));
    }
    assert!(
        second.code != Some(0) || file.contains(&"o0040".to_owned()),
        "the rerun exits 0 and the file never got o0040 ({})",
        show(&second)
    );
}

/// Sync rerun after head additions between the runs: refused (shifted)
/// or exact, never a wrong file with exit 0.
#[test]
fn octopush_sync_rerun_after_tail_growth_appends_exactly_once() {
    let grow = Arc::new(AtomicBool::new(false));
    let g = grow.clone();
    let (server, _) = live(msgs(0..25), move |_, l| {
        if g.swap(false, Ordering::SeqCst) {
            l.extend(msgs(25..32));
        }
        None
    });
    let dir = tempfile::tempdir().unwrap();
    let first = sync_octo(&server, dir.path(), &[]);
    assert_eq!(first.code, Some(0), "{}", show(&first));
    grow.store(true, Ordering::SeqCst);
    let second = sync_octo(&server, dir.path(), &[]);
    eprintln!("[sync tail growth] {} ; {}", show(&second), asked(&server));
    let file = out_ids(dir.path());
    if second.code == Some(0) {
        assert_eq!(file, octo_ids(0..32), "{}", show(&second));
    }
    let _ = AtomicUsize::new(0);
}

/// A first run stopped by a 501 on page 3 of a server that caps per_page
/// at 7 (asked 10); the resumed run asks for the served size and goes on
/// exactly once, with a head addition during the resumed run.
#[test]
fn octopush_resume_with_a_server_cap_is_exactly_once() {
    let listing: Listing = Arc::new(Mutex::new(msgs(0..30)));
    let l = listing.clone();
    let server = Server::start(move |ordinal, req| {
        if ordinal == 3 {
            return Reply::Json(501, json!({"code": 1, "message": "not implemented"}));
        }
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per: usize = req.param("per_page").unwrap_or("50").parse::<usize>().unwrap().min(7);
        let mut listing = l.lock().unwrap();
        if ordinal == 5 {
            listing.insert(0, octo_message(1000));
        }
        let served: Vec<Value> = listing.iter().skip((page - 1) * per).take(per).cloned().collect();
        Reply::Json(200, Value::Array(served))
    });
    let first = octo(&server, &[]);
    assert_ne!(first.code, Some(0), "{}", show(&first));
    let token = resume_token(&first);
    let second = octo(&server, &["--resume", &token]);
    eprintln!("[resume cap] {} ; then {} ; {}", show(&first), show(&second), asked(&server));
    let fake =
        Run { code: second.code, stdout: format!("{}{}", first.stdout, second.stdout), stderr: second.stderr.clone() };
    promise("resume cap", &fake, &octo_ids(0..30));
    assert_eq!(second.code, Some(0), "{}", show(&second));
}

/// A sync rerun after a new message at the head of the listing (between
/// the runs): refused (the listing shifted) or exact; never exit 0 with
/// the file missing a message the listing holds.
#[test]
fn octopush_sync_rerun_after_a_head_addition_never_writes_a_wrong_file_with_exit_0() {
    let grow = Arc::new(AtomicBool::new(false));
    let g = grow.clone();
    let (server, _) = live(msgs(0..25), move |_, l| {
        if g.swap(false, Ordering::SeqCst) {
            l.insert(0, octo_message(1000));
        }
        None
    });
    let dir = tempfile::tempdir().unwrap();
    let first = sync_octo(&server, dir.path(), &[]);
    assert_eq!(first.code, Some(0), "{}", show(&first));
    grow.store(true, Ordering::SeqCst);
    let second = sync_octo(&server, dir.path(), &[]);
    let file = out_ids(dir.path());
    eprintln!("[sync head between runs] {} ; file {:?}", show(&second), file.len());
    let mut seen = std::collections::HashSet::new();
    for id in &file {
        assert!(seen.insert(id), "`{id}` twice in the file: {}", show(&second));
    }
    if second.code == Some(0) {
        assert!(file.contains(&"o1000".to_owned()), "exit 0, the file lacks o1000: {}", show(&second));
    }
}

// BUG (wrong set with exit 0): a static listing of 25 whose page 2 is
// answered once with `[]` (a flaky backend, a cache; request 2 only). The
// read takes it for the end; the check reads page 1 again, then page 2,
// which now holds 10 messages after the last one delivered. With no repeat
// and o0000 still first, the tail rule accepts them as "added at its end
// after the read": exit 0 with 10 of 25 messages.
/// Was: exit 0 with 10 of 25 (the check took the rest for messages added at the end).
#[test]
fn octopush_one_transient_empty_page_never_ends_the_read_with_exit_0() {
    for k in [2, 3] {
        let listing: Listing = Arc::new(Mutex::new(msgs(0..25)));
        let server = Server::start(move |ordinal, req| {
            let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
            let per: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
            if ordinal == k {
                return Reply::Json(200, json!([]));
            }
            let listing = listing.lock().unwrap();
            Reply::Json(200, Value::Array(listing.iter().skip((page - 1) * per).take(per).cloned().collect()))
        });
        let run = octo(&server, &[]);
        let what = format!("transient empty page at request {k}");
        eprintln!("[{what}] {} ; {}", show(&run), asked(&server));
        promise(&what, &run, &octo_ids(0..25));
    }
}

// BUG (wrong set with exit 0): the last page (3) of a static listing of
// 25 is answered once with only its first 3 of 5 messages (request 3).
// A short page must be followed by an empty one, and it is; the check then
// finds o0023 and o0024 after the last one delivered and accepts them as
// added at the end: exit 0 without o0023, o0024.
/// Was: exit 0 with 23 of 25.
#[test]
fn octopush_one_truncated_last_page_never_ends_the_read_with_exit_0() {
    let listing: Listing = Arc::new(Mutex::new(msgs(0..25)));
    let server = Server::start(move |ordinal, req| {
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
        let listing = listing.lock().unwrap();
        let take = if ordinal == 3 { 3 } else { per };
        Reply::Json(200, Value::Array(listing.iter().skip((page - 1) * per).take(take).cloned().collect()))
    });
    let run = octo(&server, &[]);
    eprintln!("[truncated last page] {} ; {}", show(&run), asked(&server));
    promise("truncated last page", &run, &octo_ids(0..25));
}

/// Whole pages of head additions between the end of the read and the
/// check (9, 10, 11, 20, 25 at once before request 5): the check looks for
/// the first message delivered on later pages.
#[test]
fn octopush_whole_pages_of_head_additions_before_the_check_are_benign() {
    for adds in [9, 10, 11, 20, 25] {
        let (server, _) = live(msgs(0..25), move |o, l| {
            if o == 5 {
                for i in 0..adds {
                    l.insert(0, octo_message(1000 + i));
                }
            }
            None
        });
        let run = octo(&server, &[]);
        let what = format!("{adds} head adds before the check");
        eprintln!("[{what}] {} ; {}", show(&run), asked(&server));
        promise(&what, &run, &octo_ids(0..25));
        assert_eq!(run.code, Some(0), "{what}: {} ; {}", show(&run), asked(&server));
    }
}

/// A head addition during the first run (before page 2), then a 501 on
/// page 3: the resumed run goes on exactly once.
#[test]
fn octopush_resume_after_a_head_addition_in_the_first_run_is_exactly_once() {
    let fail = Arc::new(Mutex::new(vec![3]));
    let server = live_failing(msgs(0..25), fail.clone(), |o, l| {
        if o == 2 {
            l.insert(0, octo_message(1000));
        }
    });
    let first = octo(&server, &[]);
    assert_ne!(first.code, Some(0), "{}", show(&first));
    let token = resume_token(&first);
    let second = octo(&server, &["--resume", &token]);
    eprintln!("[resume head in first] {} ; then {} ; {}", show(&first), show(&second), asked(&server));
    let fake =
        Run { code: second.code, stdout: format!("{}{}", first.stdout, second.stdout), stderr: second.stderr.clone() };
    promise("resume head in first run", &fake, &octo_ids(0..25));
    assert_eq!(second.code, Some(0), "{}", show(&second));
}

/// Fixed (wrong set with exit 0): masked records end page 1 (`t9`) and open
/// page 2 (`t10`). Page 2's `***` is dropped as a repeat of page 1's, so t10
/// is never printed; then `t9` is deleted before the check (request 4, the
/// empty page). The check compares keys only: the listing now reads
/// o0..o8, ***(t10), o11.. — the same keys as delivered (o0..o8, ***(t9),
/// o11..). Exit 0 without t10, a message listed from start to end.
/// Was: exit 0 without t10 (a masked record was dropped as a repeat of another).
#[test]
fn octopush_masked_ids_at_a_page_boundary_never_lose_a_message_with_exit_0() {
    let mut listing = msgs(0..20);
    listing[9] = masked("t9");
    listing[10] = masked("t10");
    let (server, _) = live(listing, |o, l| {
        if o == 4 {
            l.remove(9);
        }
        None
    });
    let run = octo(&server, &[]);
    eprintln!("[masked boundary + delete] {} ; {}", show(&run), asked(&server));
    assert!(
        run.code != Some(0) || texts(&run).contains(&"t10".to_owned()),
        "exit 0 without t10: {:?} ({})",
        texts(&run),
        show(&run)
    );
}

/// Static: masked records at the page boundary (no deletion).
/// Fixed (needless failure): page 2's `***` (t10) is dropped as a repeat of
/// page 1's last (t9), then the check finds the listing (unchanged) holds
/// one `***` more than delivered: exit 5 "changed while it was read".
/// Was: exit 5 on an unchanged listing.
#[test]
fn octopush_masked_ids_at_a_page_boundary_static_keep_the_promise() {
    let mut listing = msgs(0..20);
    listing[9] = masked("t9");
    listing[10] = masked("t10");
    let (server, _) = live(listing, |_, _| None);
    let run = octo(&server, &[]);
    eprintln!("[masked boundary static] {} ; {}", show(&run), asked(&server));
    promise_texts("masked boundary static", &run, &t(0..20));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}

/// Fixed (needless failure): the vendor's documented masked ids (`***`) on
/// two different pages of a static listing (positions 3 and 15): the second
/// `***` is taken for a message repeated from a page back: nonzero exit.
/// Was: exit 5, `***` came again after new messages.
#[test]
fn octopush_masked_ids_on_two_pages_are_all_printed() {
    let mut listing = msgs(0..25);
    listing[3] = masked("t3");
    listing[15] = masked("t15");
    let (server, _) = live(listing, |_, _| None);
    let run = octo(&server, &[]);
    eprintln!("[masked on two pages] {} ; {}", show(&run), asked(&server));
    promise_texts("masked two pages", &run, &t(0..25));
    assert_eq!(run.code, Some(0), "{} ; {}", show(&run), asked(&server));
}
