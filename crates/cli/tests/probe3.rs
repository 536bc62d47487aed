//! Third round of adversarial probes of the built `convo` binary (after
//! `probe.rs` and `probe2.rs`): undecodable messages at moved page
//! boundaries, cursors past an undecodable last message, Octopush deletions
//! on pages already read, cursor cycles and blank tokens, servers that cap
//! pages, odd per-message fields through `fetch`, and credentials echoed in
//! headers, redirects, error bodies (every status), encoded forms, trace
//! logs and `sync --out-dir` files. A comment that says "Was:" tells what
//! convo did before the fix its test came with (7 of them, in the commit
//! that added this file).
//!
//! The scripted server, the message builders and the promise check are
//! shared with the other probe files, in `tests/scripted/`.

#![allow(dead_code)]

mod common;
mod scripted;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Run, convo, run};
use scripted::*;
use serde_json::{Value, json};

fn octo_ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("o{i:04}")).collect()
}

fn bird_ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("b{i:04}")).collect()
}

fn no_secret_in(what: &str, text: &str, secret: &str) {
    assert!(
        !text.contains(secret),
        "{what}: shows the credential `{secret}`:\n{}",
        text.chars().take(3000).collect::<String>()
    );
}

fn no_secret(what: &str, run: &Run) {
    no_secret_in(&format!("{what} (stdout)"), &run.stdout, SECRET);
    no_secret_in(&format!("{what} (stderr)"), &run.stderr, SECRET);
}

// ---------------------------------------------------------------- 1. undecodable messages at moved boundaries

/// LeadConnector whose cursor starts early (the page at `lastMessageId`
/// includes that message again: a case the cursor scheme documents as
/// handled, its repeats dropped). `lc0009`, the last message of page 1,
/// cannot be decoded (`body` is a number); between the two requests its
/// `status` went from `sent` to `delivered` (as a live message's status
/// does).
///
/// Was: exit 0 with 31 lines, `lc0009` printed twice (once per page).
/// An undecodable message is recognised across pages by its exact JSON text
/// (`Record::key`), not by the id its raw JSON plainly holds, so the same
/// message with one field updated is taken for a new one. It should be
/// printed once (its id is readable: `Message::undecodable` reads it for the
/// output), or the read should fail.
#[test]
fn leadconnector_undecodable_message_repeated_by_an_early_cursor_is_printed_once() {
    let server = Server::start(|_, req| {
        // Inclusive cursor: the page starts at the cursor's message itself.
        let start = req.param("lastMessageId").map_or(0, |id| id.trim_start_matches("lc").parse::<usize>().unwrap());
        let end = (start + 10).min(30);
        let ids: Vec<usize> = (start..end).collect();
        let mut page = lc_page(&ids, end < 30);
        for m in page["messages"].as_array_mut().unwrap() {
            if m["id"] == "lc0009" {
                m["body"] = json!(42);
                m["status"] = json!(if start == 0 { "sent" } else { "delivered" });
            }
        }
        Reply::Json(200, page)
    });
    let run = fetch("leadconnector", &server, &["--page-size", "10"], None);
    eprintln!("[lc undecodable early cursor] {}", show(&run));
    promise("lc undecodable repeated by an early cursor", &run, &lc_ids(0..30));
}

/// Bird, the same with an opaque token that starts one message early (its
/// repeats are documented as dropped): `b0009` cannot be decoded (`sender`
/// is a string) and its `updatedAt` moved between the two requests.
///
/// Was: exit 0, `b0009` printed twice (no `total` given, so nothing
/// else notices). It should be printed once, or the read should fail.
#[test]
fn bird_undecodable_message_repeated_by_an_early_token_is_printed_once() {
    let server = Server::start(|_, req| {
        let start: usize = req.param("pageToken").map_or(0, |t| t.trim_start_matches('t').parse().unwrap());
        let end = (start + 10).min(30);
        let results: Vec<Value> = (start..end)
            .map(|i| {
                let mut m = bird_message(i);
                if i == 9 {
                    m["sender"] = json!("contact-s");
                    m["updatedAt"] = json!(time(if start == 0 { 1 } else { 2 }));
                }
                m
            })
            .collect();
        // The next token starts one early: at this page's last message.
        let next = if end < 30 { format!("t{}", end - 1) } else { String::new() };
        Reply::Json(200, json!({"results": results, "nextPageToken": next}))
    });
    let run = fetch("bird", &server, &["--page-size", "10"], None);
    eprintln!("[bird undecodable early token] {}", show(&run));
    promise("bird undecodable repeated by an early token", &run, &bird_ids(0..30));
}

/// An Octopush listing of `n` messages, newest first, that a test can change
/// while it is read.
struct OctoListing {
    ids: Vec<String>,
    /// Messages whose `text` is a number (undecodable).
    odd: Vec<String>,
    /// Their `delivery_status`.
    status: &'static str,
}

fn octo_json(listing: &OctoListing, id: &str) -> Value {
    let mut m = json!({"message_id": id, "text": format!("t {id}"), "direction": "inbound", "channel": "sms",
                       "delivery_status": listing.status});
    if listing.odd.iter().any(|o| o == id) {
        m["text"] = json!(42);
    }
    m
}

/// An honest Octopush server over `listing`, honouring `page`/`per_page`;
/// `change` runs once, just before the first request for `at_page` is
/// answered.
fn octo_changing(listing: Arc<Mutex<OctoListing>>, at_page: usize, change: fn(&mut OctoListing)) -> Server {
    let changed = AtomicBool::new(false);
    Server::start(move |_, req| {
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per_page: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
        let mut l = listing.lock().unwrap();
        if page == at_page && !changed.swap(true, Ordering::SeqCst) {
            change(&mut l);
        }
        let served: Vec<Value> =
            l.ids.iter().skip((page - 1) * per_page).take(per_page).map(|id| octo_json(&l, id)).collect();
        Reply::Json(200, Value::Array(served))
    })
}

/// Octopush, pages of 10 over 30 messages, `o0019` (the last of page 2)
/// undecodable. Before page 3 is served a message is added at the head
/// (which shifts `o0019` onto page 3: a repeat the numbered scheme
/// documents as dropped), and `o0019`'s `delivery_status` moves on.
///
/// Was: exit 0 with 31 lines, `o0019` printed twice; the final check of
/// page 1 passes (the head only grew). It should be printed once, or the
/// read should fail.
#[test]
fn octopush_undecodable_message_at_a_shifted_boundary_is_printed_once() {
    let listing = Arc::new(Mutex::new(OctoListing { ids: octo_ids(0..30), odd: vec!["o0019".into()], status: "sent" }));
    let server = octo_changing(listing, 3, |l| {
        l.ids.insert(0, "n0000".into());
        l.status = "delivered";
    });
    let run = fetch("octopush", &server, &["--page-size", "10"], None);
    eprintln!("[octopush undecodable shifted] {}", show(&run));
    promise("octopush undecodable at a shifted boundary", &run, &octo_ids(0..30));
}

/// Infobip (keyset on `createdAt`), pages of 10 over 25 messages a second
/// apart; `ib0009`, the newest of page 1, cannot be decoded (`direction` is
/// a number), so the next `createdAfter` comes from `ib0008` and the
/// server serves `ib0009` again, as it should. Nothing about the message
/// changed: only the server's later answers are pretty-printed (another
/// node, another serializer), so its exact JSON text differs.
///
/// Was: exit 0 with 26 lines, `ib0009` printed twice. Recognising an
/// undecodable message by its exact bytes breaks on any reformatting of an
/// unchanged message. It should be printed once (by its readable id, or
/// its JSON compared as a value), or the read should fail.
#[test]
fn infobip_undecodable_newest_message_reformatted_by_the_server_is_printed_once() {
    let server = Server::start(|ordinal, req| {
        let mut page = ib_honest(25, req);
        for m in page["messages"].as_array_mut().unwrap() {
            if m["id"] == "ib0009" {
                m["direction"] = json!(5);
            }
        }
        let body = if ordinal == 1 { serde_json::to_vec(&page) } else { serde_json::to_vec_pretty(&page) };
        Reply::Raw(200, vec![], body.unwrap())
    });
    let run = fetch("infobip", &server, &["--page-size", "10"], None);
    eprintln!("[infobip undecodable reformatted] {}", show(&run));
    assert!(run.stderr.contains("could not be decoded"), "ib0009 is undecodable: {}", show(&run));
    promise("infobip undecodable reformatted", &run, &(0..25).map(|i| format!("ib{i:04}")).collect::<Vec<_>>());
}

/// One LeadConnector page holds `lc0001` twice: once well-formed, once
/// with `body` a number (undecodable). Two different records with one id
/// are refused on a page (probe.rs: the read fails), but not when one of
/// them is undecodable.
///
/// Was: exit 0 with 4 lines, `lc0001` printed twice (the undecodable one
/// with `decode_error`). It should fail the read as for two decodable
/// records (or print one).
#[test]
fn leadconnector_a_record_and_an_undecodable_record_with_one_id_on_a_page_end_the_read() {
    let server = Server::start(|_, _| {
        let mut page = lc_page(&[0, 1, 1, 2], false);
        page["messages"][2]["body"] = json!(42);
        Reply::Json(200, page)
    });
    let run = fetch("leadconnector", &server, &["--page-size", "20"], None);
    eprintln!("[lc decodable + undecodable one id] {}", show(&run));
    promise("lc decodable and undecodable with one id", &run, &lc_ids(0..3));
}

// ---------------------------------------------------------------- 2. a cursor past an undecodable last message

/// LeadConnector page 1 holds `lc0000`..`lc0009`, and `lc0009` cannot be
/// decoded (`body` is a number; its raw `"id": "lc0009"` is plain); the
/// page says `nextPage: true, lastMessageId: "lc0014"`, a cursor past its
/// last message. The honest server then serves after `lc0014`.
///
/// Was: exit 0 with 25 lines, `lc0010`..`lc0014` never printed. The
/// `CursorMismatch` check (lastMessageId must be the page's last id) is
/// skipped whenever the last message is undecodable, though its id is
/// readable from its raw JSON (and is printed). With a decodable last
/// message the same page is refused. It should fail the read (non-zero)
/// after page 1.
#[test]
fn leadconnector_cursor_past_an_undecodable_last_message_ends_the_read() {
    let server = Server::start(|_, req| {
        let start = lc_start(req);
        if start == 0 {
            let mut page = lc_page(&(0..10).collect::<Vec<_>>(), true);
            page["messages"][9]["body"] = json!(42);
            page["lastMessageId"] = json!("lc0014");
            return Reply::Json(200, page);
        }
        let end = (start + 10).min(30);
        Reply::Json(200, lc_page(&(start..end).collect::<Vec<_>>(), end < 30))
    });
    let run = fetch("leadconnector", &server, &["--page-size", "10"], None);
    eprintln!("[lc cursor past undecodable] {}", show(&run));
    promise("lc cursor past an undecodable last message", &run, &lc_ids(0..30));
    assert_ne!(run.code, Some(0), "a cursor that is not the page's last message is refused: {}", show(&run));
}

// ---------------------------------------------------------------- 3. Octopush deletions on pages already read

// A deletion on a page below the first, already read, while the read is
// past it, shifts the pages after it up by one and skips a message with
// exit 0: Octopush has no total, no time and no cursor, and only reading
// each page again after the next one would tell (twice the requests). It
// is the limit ARCHITECTURE.md states; this round's probe of it is in the
// closing note, not kept as a test that passes on a wrong set.

/// A deletion on page 1 (after it was read): the final re-read of
/// page 1 sees it, and the read fails instead of skipping `o0010`.
#[test]
fn octopush_deletion_on_the_first_page_after_it_was_read_fails_the_read() {
    let listing = Arc::new(Mutex::new(OctoListing { ids: octo_ids(0..35), odd: vec![], status: "sent" }));
    let server = octo_changing(listing, 3, |l| l.ids.retain(|id| id != "o0005"));
    let run = fetch("octopush", &server, &["--page-size", "10"], None);
    eprintln!("[octopush deletion on page 1] {}", show(&run));
    promise("octopush deletion on page 1", &run, &octo_ids(0..35));
    assert_ne!(run.code, Some(0), "{}", show(&run));
}

/// An Octopush server that caps every page at 7 and counts its pages in
/// that size, whatever `per_page` asks: every message once, in order.
#[test]
fn octopush_server_capping_pages_and_counting_in_its_own_size_is_read_whole() {
    let server = Server::start(|_, req| {
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let served: Vec<Value> = (0..30).skip((page - 1) * 7).take(7).map(octo_message).collect();
        Reply::Json(200, Value::Array(served))
    });
    let run = fetch("octopush", &server, &["--page-size", "50"], None);
    eprintln!("[octopush cap 7] {}", show(&run));
    assert_eq!(run.code, Some(0), "{}", show(&run));
    promise("octopush cap 7", &run, &octo_ids(0..30));
}

/// An Octopush server that caps pages at 7 but counts its offsets in the
/// size asked (`(page - 1) * per_page`): convo asks for 7 from page 2 on,
/// so it is read whole too.
#[test]
fn octopush_server_capping_pages_but_counting_in_the_asked_size_is_read_whole() {
    let server = Server::start(|_, req| {
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per_page: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
        let served: Vec<Value> = (0..30).skip((page - 1) * per_page).take(per_page.min(7)).map(octo_message).collect();
        Reply::Json(200, Value::Array(served))
    });
    let run = fetch("octopush", &server, &["--page-size", "50"], None);
    eprintln!("[octopush cap 7, asked offsets] {}", show(&run));
    promise("octopush cap 7 asked offsets", &run, &octo_ids(0..30));
}

// ---------------------------------------------------------------- 4. cursors

/// Bird tokens that cycle: none → `A` → `B` → `A`. Each page is new, but
/// following `A` again would fetch page 2 again: the read fails after
/// page 3, nothing printed twice.
#[test]
fn bird_token_cycle_a_b_a_fails_after_the_third_page() {
    let server = Server::start(|_, req| {
        let (range, next) = match req.param("pageToken") {
            None => (0..10, "A"),
            Some("A") => (10..20, "B"),
            _ => (20..30, "A"),
        };
        Reply::Json(200, json!({"results": range.map(bird_message).collect::<Vec<_>>(), "nextPageToken": next}))
    });
    let run = fetch("bird", &server, &["--page-size", "10"], None);
    eprintln!("[bird cycle] {}", show(&run));
    promise("bird cycle", &run, &bird_ids(0..40));
    assert_ne!(run.code, Some(0), "{}", show(&run));
    assert_eq!(run.stdout.lines().count(), 30, "{}", show(&run));
    assert!(server.count() <= 4, "{} requests", server.count());
}

/// LeadConnector cursors that come back to an early page after many pages:
/// page 13 (at `lc0119`) answers page 2 again, with its own cursor.
#[test]
fn leadconnector_cursor_back_to_page_two_after_twelve_pages_fails_the_read() {
    let server = Server::start(|_, req| {
        let start = lc_start(req);
        let start = if start == 120 { 10 } else { start };
        let end = (start + 10).min(200);
        Reply::Json(200, lc_page(&(start..end).collect::<Vec<_>>(), end < 200))
    });
    let run = fetch("leadconnector", &server, &["--page-size", "10"], None);
    eprintln!("[lc back to page 2] {}", show(&run));
    promise("lc back to page 2", &run, &lc_ids(0..200));
    assert_ne!(run.code, Some(0), "{}", show(&run));
    assert_eq!(run.stdout.lines().count(), 120, "{}", show(&run));
}

/// A Bird `nextPageToken` of blanks, which the server reads as no token
/// (page 1 again): a page of repeats, the read fails after page 1.
#[test]
fn bird_blank_token_served_as_the_first_page_fails_the_read() {
    let server = Server::start(|_, req| {
        let start: usize = match req.param("pageToken").map(str::trim) {
            None | Some("") => 0,
            Some(t) => t.trim_start_matches('t').parse().unwrap(),
        };
        let end = (start + 10).min(30);
        let next = if start == 0 {
            "   ".to_owned()
        } else if end < 30 {
            format!("t{end}")
        } else {
            String::new()
        };
        Reply::Json(200, json!({"results": (start..end).map(bird_message).collect::<Vec<_>>(), "nextPageToken": next}))
    });
    let run = fetch("bird", &server, &["--page-size", "10"], None);
    eprintln!("[bird blank token] {}", show(&run));
    promise("bird blank token", &run, &bird_ids(0..30));
    assert_ne!(run.code, Some(0), "{}", show(&run));
}

/// LeadConnector `nextPage: false` with a `lastMessageId` (the page's own
/// last): the end, exit 0, no further request.
#[test]
fn leadconnector_next_page_false_with_a_cursor_is_the_end() {
    let server = Server::start(|_, _| Reply::Json(200, lc_page(&(0..10).collect::<Vec<_>>(), false)));
    let run = fetch("leadconnector", &server, &["--page-size", "10"], None);
    assert_eq!(run.code, Some(0), "{}", show(&run));
    promise("lc nextPage false", &run, &lc_ids(0..10));
    assert_eq!(server.count(), 1);
}

/// LeadConnector cursors that are empty or blank strings with
/// `nextPage: true` (the page's last message is `lc0009`): not followed as
/// a cursor, the read fails after page 1.
#[test]
fn leadconnector_empty_or_blank_cursor_with_next_page_true_fails_after_the_page() {
    for cursor in ["", "   "] {
        let c = cursor.to_owned();
        let server = Server::start(move |_, req| {
            let start = req
                .param("lastMessageId")
                .map_or(0, |id| id.trim().trim_start_matches("lc").parse::<usize>().unwrap_or(0) + 1);
            let start = if req.param("lastMessageId").is_some_and(|id| id.trim().is_empty()) { 0 } else { start };
            let end = (start + 10).min(30);
            let mut page = lc_page(&(start..end).collect::<Vec<_>>(), end < 30);
            if start == 0 {
                page["lastMessageId"] = json!(c);
            }
            Reply::Json(200, page)
        });
        let run = fetch("leadconnector", &server, &["--page-size", "10"], None);
        eprintln!("[lc cursor {cursor:?}] {}", show(&run));
        promise("lc blank cursor", &run, &lc_ids(0..30));
        assert_ne!(run.code, Some(0), "cursor {cursor:?}: {}", show(&run));
        assert_eq!(run.stdout.lines().count(), 10, "cursor {cursor:?}: {}", show(&run));
    }
}

/// LeadConnector `lastMessageId` as a number (`9`) instead of a string:
/// never a wrong set with exit 0.
#[test]
fn leadconnector_last_message_id_a_number_is_never_a_wrong_set() {
    let server = Server::start(|_, req| {
        let start = lc_start(req);
        let end = (start + 10).min(20);
        let mut page = lc_page(&(start..end).collect::<Vec<_>>(), end < 20);
        if start == 0 {
            page["lastMessageId"] = json!(9);
        }
        Reply::Json(200, page)
    });
    let run = fetch("leadconnector", &server, &["--page-size", "10"], None);
    eprintln!("[lc numeric cursor] {}", show(&run));
    promise("lc numeric cursor", &run, &lc_ids(0..20));
}

/// Bird, oldest first with a `total`: a message added at the end while
/// the read is on page 2 (the total grows from 30 to 31): every message
/// once, the new one included, or an error.
#[test]
fn bird_insertion_at_the_end_during_the_read_is_read_whole() {
    let n = Arc::new(AtomicUsize::new(30));
    let server = Server::start(move |_, req| {
        let start: usize = req.param("pageToken").map_or(0, |t| t.trim_start_matches('t').parse().unwrap());
        if start == 10 {
            n.store(31, Ordering::SeqCst);
        }
        let len = n.load(Ordering::SeqCst);
        let end = (start + 10).min(len);
        let next = if end < len { format!("t{end}") } else { String::new() };
        Reply::Json(
            200,
            json!({"results": (start..end).map(bird_message).collect::<Vec<_>>(), "nextPageToken": next, "total": len}),
        )
    });
    let run = fetch("bird", &server, &["--page-size", "10"], None);
    eprintln!("[bird insertion at end] {}", show(&run));
    promise("bird insertion at the end", &run, &bird_ids(0..31));
}

// ---------------------------------------------------------------- 5. odd per-message fields through fetch

/// Every field of a good message, replaced in turn by `null`, a number, a
/// string, an array, an object, and left out: one message per variant, with
/// good messages between them.
fn variants(good: impl Fn(usize) -> Value) -> Vec<Value> {
    let template = good(0);
    let fields: Vec<String> = template.as_object().unwrap().keys().cloned().collect();
    let mut out = Vec::new();
    let mut i = 0;
    for field in &fields {
        for value in
            [Some(Value::Null), Some(json!(7)), Some(json!("seven")), Some(json!([1])), Some(json!({"x": 1})), None]
        {
            out.push(good(i));
            i += 1;
            let mut m = good(i);
            i += 1;
            match value {
                Some(v) => m[field.as_str()] = v,
                None => {
                    m.as_object_mut().unwrap().remove(field.as_str());
                }
            }
            out.push(m);
        }
    }
    out.push(good(i));
    out
}

/// Every message of a one-page conversation is written, in order, each
/// with its raw JSON; the well-formed ones without a `decode_error`.
fn all_written(vendor: &str, run: &Run, sent: &[Value]) {
    assert_eq!(run.code, Some(0), "{vendor}: {}", show(run));
    let lines = run.ndjson();
    assert_eq!(lines.len(), sent.len(), "{vendor}: every message written: {}", show(run));
    for (i, (line, raw)) in lines.iter().zip(sent).enumerate() {
        assert_eq!(&line["raw"], raw, "{vendor} #{i}: not the message sent there");
        if i % 2 == 0 {
            assert!(line["decode_error"].is_null(), "{vendor} #{i}: a good message undecodable: {line}");
        }
    }
}

#[test]
fn leadconnector_every_odd_field_costs_only_its_message() {
    let sent = variants(lc_message);
    let body = json!({"messages": sent.clone(), "nextPage": false, "lastMessageId": Value::Null});
    let server = Server::start(move |_, _| Reply::Json(200, body.clone()));
    let run = fetch("leadconnector", &server, &["--page-size", "100"], None);
    all_written("leadconnector", &run, &sent);
    // And as CSV: one record a message, the ids readable from the raw JSON.
    let run = fetch("leadconnector", &server, &["--page-size", "100", "--format", "csv"], None);
    assert_eq!(run.code, Some(0), "csv: {}", show(&run));
    let records = csv::Reader::from_reader(run.stdout.as_bytes()).records().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(records.len(), sent.len(), "csv: one record a message");
}

#[test]
fn bird_every_odd_field_costs_only_its_message() {
    let sent = variants(bird_message);
    let body = json!({"results": sent.clone(), "nextPageToken": "", "total": sent.len()});
    let server = Server::start(move |_, _| Reply::Json(200, body.clone()));
    let run = fetch("bird", &server, &["--page-size", "100"], None);
    all_written("bird", &run, &sent);
}

#[test]
fn octopush_every_odd_field_costs_only_its_message() {
    let sent = variants(octo_message);
    let body = Value::Array(sent.clone());
    let server = Server::start(move |_, req| match req.param("page") {
        Some("1") | None => Reply::Json(200, body.clone()),
        _ => Reply::Json(200, json!([])),
    });
    let run = fetch("octopush", &server, &["--page-size", "50"], None);
    all_written("octopush", &run, &sent);
}

#[test]
fn infobip_every_odd_field_costs_only_its_message() {
    let sent = variants(ib_message);
    let body = json!({"messages": sent.clone(), "pagination": {"totalItems": sent.len(), "page": 0, "limit": 100}});
    let server = Server::start(move |_, req| {
        if req.param("createdAfter").is_some() {
            Reply::Json(200, json!({"messages": [], "pagination": {"totalItems": 0, "page": 0, "limit": 100}}))
        } else {
            Reply::Json(200, body.clone())
        }
    });
    let run = fetch("infobip", &server, &["--page-size", "100"], None);
    all_written("infobip", &run, &sent);
}

// ---------------------------------------------------------------- 6. credentials

/// Headers a hostile vendor echoes the key in.
fn echo_headers(secret: &str) -> Vec<(String, String)> {
    vec![
        ("set-cookie".into(), format!("session={secret}; Path=/; HttpOnly")),
        ("www-authenticate".into(), format!("Bearer realm=\"api\", error=\"invalid_token\", token=\"{secret}\"")),
        ("location".into(), format!("http://127.0.0.1:1/login?key={secret}")),
        ("x-request-key".into(), secret.to_owned()),
        ("link".into(), format!("<http://127.0.0.1:1/next?api-key={secret}>; rel=\"next\"")),
    ]
}

/// The vendor's error body, echoing the key.
fn error_body(vendor: &str, status: u16, secret: &str) -> Value {
    let text = format!("key {secret} refused (Authorization: Bearer {secret})");
    match vendor {
        "infobip" => json!({"requestError": {"serviceException": {"messageId": "UNAUTHORIZED", "text": text}}}),
        "octopush" => json!({"code": status, "message": text}),
        "leadconnector" => json!({"statusCode": status, "message": text, "error": "Unauthorized"}),
        _ => json!({"code": "Unauthorized", "message": text}),
    }
}

const FORMATS: [&str; 4] = ["ndjson", "table", "csv", "json"];

/// Every vendor, answering 400, 401, 403, 404, 429 and 500 (each with the
/// key in five headers and in its body, 429 and 500 with `Retry-After: 0`),
/// at RUST_LOG=trace and debug, in every format: the key is never printed,
/// and the read fails.
#[test]
fn error_statuses_echoing_the_key_in_headers_and_bodies_never_print_it_at_any_log_level_or_format() {
    let mut round = 0;
    for vendor in ["infobip", "octopush", "leadconnector", "bird"] {
        for status in [400u16, 401, 403, 404, 429, 500] {
            let v = vendor.to_owned();
            let server = Server::start(move |_, _| {
                let mut headers = echo_headers(SECRET);
                if status == 429 || status == 500 {
                    headers.push(("retry-after".into(), "0".into()));
                }
                Reply::Raw(status, headers, serde_json::to_vec(&error_body(&v, status, SECRET)).unwrap())
            });
            let format = FORMATS[round % 4];
            let level = if round % 2 == 0 { "trace" } else { "debug" };
            round += 1;
            let run = fetch(vendor, &server, &["--page-size", "10", "--format", format], Some(level));
            let what = format!("{vendor} {status} {format} {level}");
            assert_ne!(run.code, Some(0), "{what}: {}", show(&run));
            no_secret(&what, &run);
        }
    }
}

/// A 200 page whose headers echo the key (the five above), every vendor,
/// RUST_LOG=trace, every format: a good read, and the key never printed.
#[test]
fn good_pages_with_the_key_in_response_headers_never_print_it_at_trace() {
    for (round, vendor) in ["infobip", "octopush", "leadconnector", "bird"].into_iter().enumerate() {
        let v = vendor.to_owned();
        let server = Server::start(move |_, req| {
            let body = match v.as_str() {
                "infobip" if req.param("createdAfter").is_some() => {
                    json!({"messages": [], "pagination": {"totalItems": 0, "page": 0, "limit": 10}})
                }
                "infobip" => json!({"messages": (0..5).map(ib_message).collect::<Vec<_>>(),
                                    "pagination": {"totalItems": 5, "page": 0, "limit": 10}}),
                "octopush" if req.param("page") != Some("1") => json!([]),
                "octopush" => Value::Array((0..5).map(octo_message).collect()),
                "leadconnector" => lc_page(&[0, 1, 2, 3, 4], false),
                _ => json!({"results": (0..5).map(bird_message).collect::<Vec<_>>(), "nextPageToken": "", "total": 5}),
            };
            Reply::Raw(200, echo_headers(SECRET), serde_json::to_vec(&body).unwrap())
        });
        for format in FORMATS {
            let run = fetch(vendor, &server, &["--page-size", "10", "--format", format], Some("trace"));
            let what = format!("{vendor} 200 {format} trace (round {round})");
            assert_eq!(run.code, Some(0), "{what}: {}", show(&run));
            no_secret(&what, &run);
        }
    }
}

/// A 302 to another port (another origin) with the key in the Location:
/// not followed (the other server gets no request at all), the read fails,
/// the key never printed; every vendor, at trace.
#[test]
fn a_redirect_to_another_origin_is_not_followed_and_never_prints_the_key() {
    for vendor in ["infobip", "octopush", "leadconnector", "bird"] {
        let other = Server::start(|_, _| Reply::Json(200, json!({"messages": []})));
        let target = format!("{}/steal?key={SECRET}", other.base);
        let server = Server::start(move |_, _| {
            Reply::Raw(302, vec![("location".into(), target.clone())], b"{\"message\":\"moved\"}".to_vec())
        });
        let run = fetch(vendor, &server, &["--page-size", "10"], Some("trace"));
        eprintln!("[{vendor} redirect] {}", show(&run).chars().take(400).collect::<String>());
        assert_ne!(run.code, Some(0), "{vendor}: {}", show(&run));
        assert_eq!(other.count(), 0, "{vendor}: the redirect to another origin was followed");
        no_secret(&format!("{vendor} redirect"), &run);
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A Bird access key with `+`, `/` and `=` (as base64-made keys have),
/// which a 401 echoes URL-encoded (in an echoed request URL) and base64
/// encoded, in its body and its headers.
///
/// Was: exit 3, and stderr's error line prints the body's message with
/// the key in both encodings (`Pr0be%2BKey%2F9f8e%3D7d-SECRET` and its
/// base64): the scrubber knows the key as sent and JSON-escaped only. It
/// should scrub (at least) the URL-encoded and base64 forms too.
#[test]
fn bird_key_echoed_url_encoded_or_base64_is_never_printed() {
    const KEY: &str = "Pr0be+Key/9f8e=7d-SECRET";
    let (url, b64) = (percent(KEY), base64(KEY.as_bytes()));
    assert_eq!(url, "Pr0be%2BKey%2F9f8e%3D7d-SECRET");
    let (u, b) = (url.clone(), b64.clone());
    let server = Server::start(move |_, _| {
        let body = json!({"code": "Unauthorized",
                          "message": format!("GET /workspaces/ws1/messages?accessKey={u} refused; key (base64) {b}")});
        Reply::Raw(
            401,
            vec![("x-echo-url".into(), format!("/x?accessKey={u}")), ("x-echo-b64".into(), b.clone())],
            serde_json::to_vec(&body).unwrap(),
        )
    });
    let mut command = fetch_command("bird", &server, "conv1", &["--page-size", "10"]);
    command.env("BIRD_ACCESS_KEY", KEY).env("RUST_LOG", "trace");
    let run = run(&mut command);
    eprintln!("[bird encoded echoes] {}", show(&run).chars().take(600).collect::<String>());
    assert_ne!(run.code, Some(0), "{}", show(&run));
    for (form, text) in [("plain", KEY.to_owned()), ("url-encoded", url), ("base64", b64)] {
        no_secret_in(&format!("{form} (stdout)"), &run.stdout, &text);
        no_secret_in(&format!("{form} (stderr)"), &run.stderr, &text);
    }
}

/// Every file under `dir`, as text.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                out.push((path, text));
            }
        }
    }
    out
}

/// `convo sync --out-dir` of one LeadConnector conversation at
/// RUST_LOG=trace, twice (the second run resumes from the state), with the
/// key echoed in every response's headers and in one message's text and
/// attachment URL, and a 401 echoing it on the third page of the first run:
/// no output, log or file (messages, state) ever holds the key.
#[test]
fn sync_out_dir_with_echoes_at_trace_never_writes_the_key_anywhere() {
    let failed_once = AtomicBool::new(false);
    let server = Server::start(move |_, req| {
        let start = lc_start(req);
        if start == 20 && !failed_once.swap(true, Ordering::SeqCst) {
            return Reply::Raw(
                401,
                echo_headers(SECRET),
                serde_json::to_vec(&error_body("leadconnector", 401, SECRET)).unwrap(),
            );
        }
        let end = (start + 10).min(35);
        let mut page = lc_page(&(start..end).collect::<Vec<_>>(), end < 35);
        for m in page["messages"].as_array_mut().unwrap() {
            if m["id"] == "lc0003" {
                m["body"] = json!(format!("my token is {SECRET}"));
                m["attachments"] = json!([format!("https://files.example/x.png?token={SECRET}")]);
            }
        }
        Reply::Raw(200, echo_headers(SECRET), serde_json::to_vec(&page).unwrap())
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("list"), "conv1\n").unwrap();
    let sync = || {
        let mut command = convo();
        command.timeout(Duration::from_secs(90));
        command.args(["sync", "leadconnector", "--base-url", &server.base, "--page-size", "10"]);
        command.arg("--conversations").arg(dir.path().join("list"));
        command.arg("--state").arg(dir.path().join("state.json"));
        command.arg("--out-dir").arg(dir.path().join("out"));
        command.env("LEADCONNECTOR_TOKEN", SECRET).env("RUST_LOG", "trace");
        run(&mut command)
    };
    let first = sync();
    eprintln!("[sync 1] exit {:?}", first.code);
    assert_ne!(first.code, Some(0), "the 401 fails the conversation: {}", show(&first));
    no_secret("sync first run", &first);
    let second = sync();
    eprintln!("[sync 2] exit {:?}", second.code);
    assert_eq!(second.code, Some(0), "{}", show(&second));
    no_secret("sync second run", &second);
    let files = files_under(dir.path());
    assert!(files.iter().any(|(p, _)| p.extension().is_some_and(|e| e == "ndjson")), "{files:?}");
    for (path, text) in &files {
        no_secret_in(&path.display().to_string(), text, SECRET);
    }
    let out = files.iter().find(|(p, _)| p.extension().is_some_and(|e| e == "ndjson")).unwrap();
    let got: Vec<String> =
        out.1.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, lc_ids(0..35), "the out-dir file across the two runs");
}
