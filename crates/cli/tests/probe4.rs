//! Fourth round of adversarial probes of the built `convo` binary (after
//! `probe.rs`, `probe2.rs`, `probe3.rs`): `sync` over several conversations
//! with one misbehaving, state and out-dir files damaged between runs, two
//! syncs on one state, output formats on a failure mid-read, `--since` with
//! hostile times, envelope drift, `normalize` of hostile bodies, and HTTP
//! statuses, encodings and framings a page request can meet.
//!
//! A comment that says "Was:" tells what convo did before the fix its test
//! came with.
//!
//! The scripted server, the message builders and the promise check are
//! shared with the other probe files, in `tests/scripted/`.

#![allow(dead_code)]

mod common;
mod scripted;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Run, convo, run};
use scripted::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

/// A LeadConnector message of conversation `conv`, index `i` (newest first).
fn lcm(conv: &str, i: usize) -> Value {
    json!({"id": format!("{conv}-{i:04}"), "type": 2, "messageType": "TYPE_SMS", "conversationId": conv,
           "dateAdded": time(10_000 - i as i64), "body": format!("text {i}"), "direction": "inbound", "status": "delivered"})
}

fn conv_ids(conv: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{conv}-{i:04}")).collect()
}

/// The conversation a LeadConnector request names (`/conversations/{id}/messages`).
fn lc_conv(req: &Req) -> String {
    req.path.trim_start_matches("/conversations/").trim_end_matches("/messages").to_owned()
}

/// The index after the request's cursor, in conversation `conv`.
fn lc_after(req: &Req) -> usize {
    req.param("lastMessageId")
        .and_then(|id| id.rsplit('-').next().and_then(|n| n.parse::<usize>().ok()))
        .map_or(0, |n| n + 1)
}

/// An honest LeadConnector page of `conv` (of `n` messages) for `req`.
fn lc_honest(conv: &str, n: usize, req: &Req) -> Value {
    let limit: usize = req.param("limit").unwrap_or("20").parse().unwrap();
    let start = lc_after(req).min(n);
    let end = (start + limit).min(n);
    let messages: Vec<Value> = (start..end).map(|i| lcm(conv, i)).collect();
    let last = (end > start).then(|| format!("{conv}-{:04}", end - 1));
    json!({"messages": messages, "nextPage": end < n, "lastMessageId": last})
}

/// `convo sync` of `convs` with `--state dir/state.json --out-dir dir/out`.
fn sync_convs(vendor: &str, server: &Server, dir: &Path, convs: &[&str], extra: &[&str]) -> Run {
    let list = dir.join("list");
    std::fs::write(&list, convs.join("\n") + "\n").unwrap();
    let mut command = convo();
    command.timeout(Duration::from_secs(90));
    command.args(["sync", vendor, "--base-url", &server.base]);
    command.arg("--conversations").arg(&list).arg("--state").arg(dir.join("state.json"));
    command.arg("--out-dir").arg(dir.join("out"));
    if vendor == "bird" {
        command.args(["--workspace", "ws1"]);
    }
    command.args(extra);
    with_secret(&mut command, vendor);
    run(&mut command)
}

fn out(dir: &Path, conv: &str) -> std::path::PathBuf {
    dir.join("out").join(format!("{conv}.ndjson"))
}

fn no_dupes(what: &str, ids: &[String]) {
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        assert!(seen.insert(id), "{what}: `{id}` twice");
    }
}

fn no_secret_anywhere(what: &str, run: &Run, dir: Option<&Path>) {
    assert!(!run.all().contains(SECRET), "{what}: the secret was printed: {}", show(run));
    if let Some(dir) = dir {
        for entry in walk(dir) {
            let bytes = std::fs::read(&entry).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&bytes).contains(SECRET), "{what}: secret in {}", entry.display());
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

// ---------------------------------------------------------------- 1. sync over several conversations

/// Three LeadConnector conversations `a`, `b`, `c` of 45 messages each (pages
/// of 20); `b` answers with `bad` (given the request and whether it is the
/// second run) from its second page on, during the first run only.
fn sync_one_bad(what: &str, bad: fn(&Req) -> Reply) {
    let dir = tempfile::tempdir().unwrap();
    let second = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = second.clone();
    let server = Server::start(move |_, req| {
        let conv = lc_conv(req);
        if conv == "b" && lc_after(req) > 0 && !flag.load(std::sync::atomic::Ordering::SeqCst) {
            return bad(req);
        }
        Reply::Json(200, lc_honest(&conv, 45, req))
    });
    let convs = ["a", "b", "c"];
    let first = sync_convs("leadconnector", &server, dir.path(), &convs, &["--page-size", "20"]);
    eprintln!("[{what} first] {}", show(&first));
    assert!(!first.stderr.contains("panicked"), "{what}: {}", first.stderr);
    assert_ne!(first.code, Some(0), "{what}: a failed conversation must make the exit code non-zero: {}", show(&first));
    assert!(first.stderr.contains("conversation b failed"), "{what}: names b: {}", show(&first));
    for conv in ["a", "c"] {
        assert_eq!(file_ids(&out(dir.path(), conv)).unwrap(), conv_ids(conv, 0..45), "{what}: {conv} whole");
    }
    let b = file_ids(&out(dir.path(), "b")).unwrap_or_default();
    no_dupes(what, &b);
    second.store(true, std::sync::atomic::Ordering::SeqCst);
    let rerun = sync_convs("leadconnector", &server, dir.path(), &convs, &["--page-size", "20"]);
    eprintln!("[{what} rerun] {}", show(&rerun));
    assert_eq!(rerun.code, Some(0), "{what}: the rerun goes on: {}", show(&rerun));
    for conv in convs {
        assert_eq!(file_ids(&out(dir.path(), conv)).unwrap(), conv_ids(conv, 0..45), "{what}: {conv} once, whole");
    }
    no_secret_anywhere(what, &rerun, Some(dir.path()));
}

#[test]
fn sync_one_conversation_answering_500s_costs_not_the_others_and_a_rerun_completes_it() {
    sync_one_bad("500s", |_| Reply::Json(500, json!({"statusCode": 500, "message": "boom"})));
}

#[test]
fn sync_one_conversation_answering_not_a_page_costs_not_the_others_and_a_rerun_completes_it() {
    sync_one_bad("not a page", |_| Reply::Json(200, json!({"traceId": "x"})));
}

#[test]
fn sync_one_conversation_repeating_its_cursor_costs_not_the_others_and_a_rerun_completes_it() {
    // The first page again, with its cursor: a repeated cursor.
    sync_one_bad("repeat cursor", |req| {
        let mut fake = req.clone();
        fake.query.retain(|(k, _)| k != "lastMessageId");
        Reply::Json(200, lc_honest("b", 45, &fake))
    });
}

#[test]
fn sync_one_conversation_skipping_back_costs_not_the_others_and_a_rerun_completes_it() {
    // A cursor from three pages back, under a fresh cursor value: the messages repeat.
    sync_one_bad("cursor back", |req| {
        let start = lc_after(req);
        let messages: Vec<Value> = (0..20).map(|i| lcm("b", i)).collect();
        let _ = start;
        Reply::Json(200, json!({"messages": messages, "nextPage": true, "lastMessageId": "b-0019"}))
    });
}

/// One conversation with an undecodable message among good ones: every
/// conversation whole, the odd one written in place with `decode_error`.
#[test]
fn sync_an_undecodable_message_in_one_conversation_costs_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(move |_, req| {
        let conv = lc_conv(req);
        let mut page = lc_honest(&conv, 30, req);
        if conv == "b" && lc_after(req) == 0 {
            page["messages"][5]["dateAdded"] = json!({"not": "a time"});
            page["messages"][6]["type"] = json!([1, 2]);
        }
        Reply::Json(200, page)
    });
    let run = sync_convs("leadconnector", &server, dir.path(), &["a", "b", "c"], &["--page-size", "20"]);
    eprintln!("[undecodable] {}", show(&run));
    assert_eq!(run.code, Some(0), "{}", show(&run));
    for conv in ["a", "b", "c"] {
        assert_eq!(file_ids(&out(dir.path(), conv)).unwrap(), conv_ids(conv, 0..30), "{conv}");
    }
}

/// Two syncs on one state at once: the second is refused (the state is in
/// use), the first completes, and the files hold every message once.
#[test]
fn sync_two_syncs_on_one_state_at_once_the_second_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(move |_, req| {
        std::thread::sleep(Duration::from_millis(300));
        Reply::Json(200, lc_honest(&lc_conv(req), 60, req))
    });
    let base = server.base.clone();
    let path = dir.path().to_owned();
    let list = path.join("list");
    std::fs::write(&list, "a\nb\n").unwrap();
    let spawn = || {
        let mut c = common::convo_std();
        c.args(["sync", "leadconnector", "--base-url", &base, "--page-size", "10"]);
        c.arg("--conversations").arg(&list).arg("--state").arg(path.join("state.json"));
        c.arg("--out-dir").arg(path.join("out"));
        c.env("LEADCONNECTOR_TOKEN", SECRET);
        c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let first = spawn();
    std::thread::sleep(Duration::from_millis(700));
    let second = spawn().wait_with_output().unwrap();
    let first = first.wait_with_output().unwrap();
    let (e1, e2) = (String::from_utf8_lossy(&first.stderr), String::from_utf8_lossy(&second.stderr));
    eprintln!("[first] {:?} {e1}\n[second] {:?} {e2}", first.status.code(), second.status.code());
    assert_eq!(first.status.code(), Some(0), "{e1}");
    assert_eq!(second.status.code(), Some(2), "{e2}");
    assert!(e2.contains("in use"), "{e2}");
    for conv in ["a", "b"] {
        assert_eq!(file_ids(&out(&path, conv)).unwrap(), conv_ids(conv, 0..60), "{conv}");
    }
}

/// The state file replaced between runs by JSON of the right envelope but
/// wrong checkpoints, another format, or a directory: refused, and the
/// files are left as they were.
#[test]
fn sync_a_state_file_of_wrong_shapes_is_refused_and_the_files_stay() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(move |_, req| Reply::Json(200, lc_honest(&lc_conv(req), 25, req)));
    let first = sync_convs("leadconnector", &server, dir.path(), &["a", "b"], &["--page-size", "10"]);
    assert_eq!(first.code, Some(0), "{}", show(&first));
    let state = dir.path().join("state.json");
    let good = std::fs::read_to_string(&state).unwrap();
    let parsed: Value = serde_json::from_str(&good).unwrap();
    let mut wrong_checkpoint = parsed.clone();
    wrong_checkpoint["conversations"]["a"] = json!(42);
    let mut other_format = parsed.clone();
    other_format["format"] = json!("convo-sync/0");
    let mut no_format = parsed.clone();
    no_format.as_object_mut().unwrap().remove("format");
    let mut conversations_array = parsed.clone();
    conversations_array["conversations"] = json!([]);
    for (what, text) in [
        ("wrong checkpoint", wrong_checkpoint.to_string()),
        ("other format", other_format.to_string()),
        ("no format", no_format.to_string()),
        ("conversations an array", conversations_array.to_string()),
        ("garbage bytes", "\u{feff}\0\0garbage".to_owned()),
    ] {
        std::fs::write(&state, &text).unwrap();
        let run = sync_convs("leadconnector", &server, dir.path(), &["a", "b"], &["--page-size", "10"]);
        eprintln!("[state {what}] {}", show(&run));
        assert_ne!(run.code, Some(0), "{what}: {}", show(&run));
        assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
        for conv in ["a", "b"] {
            assert_eq!(file_ids(&out(dir.path(), conv)).unwrap(), conv_ids(conv, 0..25), "{what}: {conv}");
        }
    }
    std::fs::remove_file(&state).unwrap();
    std::fs::create_dir(&state).unwrap();
    let run = sync_convs("leadconnector", &server, dir.path(), &["a", "b"], &["--page-size", "10"]);
    eprintln!("[state a dir] {}", show(&run));
    assert_ne!(run.code, Some(0), "a directory as state: {}", show(&run));
}

/// Was: an Infobip `--out-dir` file overwritten between runs by garbage of
/// exactly the same length (ending in a line break), then five new
/// messages: the second sync exited 0 ("1 of 1 conversations read to their
/// end") and appended the five after the garbage. `cut` checked only the
/// file's length and the line break before the checkpoint; now the last
/// line the checkpoint ends must be a JSON object too, or the file is
/// refused (and kept).
#[test]
fn sync_out_dir_file_overwritten_with_same_length_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(25));
    let m = n.clone();
    let server =
        Server::start(move |_, req| Reply::Json(200, ib_honest(m.load(std::sync::atomic::Ordering::SeqCst), req)));
    let first = sync_convs("infobip", &server, dir.path(), &["a"], &["--page-size", "10"]);
    assert_eq!(first.code, Some(0), "{}", show(&first));
    let path = out(dir.path(), "a");
    let len = std::fs::metadata(&path).unwrap().len() as usize;
    let mut garbage = vec![b'x'; len - 1];
    garbage.push(b'\n');
    std::fs::write(&path, &garbage).unwrap();
    n.store(30, std::sync::atomic::Ordering::SeqCst);
    let second = sync_convs("infobip", &server, dir.path(), &["a"], &["--page-size", "10"]);
    eprintln!("[garbage same length] {}", show(&second));
    assert_ne!(second.code, Some(0), "{}", show(&second));
    assert!(second.stderr.contains("changed since"), "{}", show(&second));
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "the file is kept as it was");
}

// ---------------------------------------------------------------- 2. formats on a failure mid-read

/// LeadConnector: two good pages of 20, then 500s forever.
fn lc_fails_on_page3() -> Server {
    Server::start(move |_, req| {
        if lc_after(req) >= 40 {
            return Reply::Json(500, json!({"statusCode": 500, "message": "down"}));
        }
        Reply::Json(200, lc_honest("conv1", 60, req))
    })
}

#[test]
fn json_format_failing_mid_read_exits_non_zero_and_is_not_valid_json() {
    let server = lc_fails_on_page3();
    let run = fetch("leadconnector", &server, &["--page-size", "20", "--format", "json"], None);
    eprintln!("[json partial] {}", show(&run));
    assert_eq!(run.code, Some(5), "{}", show(&run));
    assert!(serde_json::from_str::<Value>(&run.stdout).is_err(), "a partial array must not parse as a whole one");
    assert!(run.stdout.starts_with("[\n"), "{}", run.stdout.chars().take(50).collect::<String>());
    // Closed by hand, it holds the 40 messages delivered, each once.
    let closed: Vec<Value> = serde_json::from_str(&format!("{}]", run.stdout)).unwrap();
    let ids: Vec<String> = closed.iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, conv_ids("conv1", 0..40));
    assert!(run.stderr.contains("--resume"), "{}", run.stderr);
}

#[test]
fn raw_json_format_failing_mid_read_exits_non_zero_and_is_not_valid_json() {
    let server = lc_fails_on_page3();
    let run = fetch("leadconnector", &server, &["--page-size", "20", "--format", "json", "--raw"], None);
    eprintln!("[raw json partial] {}", show(&run));
    assert_eq!(run.code, Some(5), "{}", show(&run));
    assert!(serde_json::from_str::<Value>(&run.stdout).is_err());
    let closed: Vec<Value> = serde_json::from_str(&format!("{}]", run.stdout)).unwrap();
    assert_eq!(closed.len(), 40);
}

#[test]
fn csv_and_table_failing_mid_read_exit_non_zero_with_the_rows_delivered() {
    for (format, header) in [("csv", 1), ("table", 1)] {
        let server = lc_fails_on_page3();
        let run = fetch("leadconnector", &server, &["--page-size", "20", "--format", format], None);
        eprintln!("[{format} partial] {}", show(&run));
        assert_eq!(run.code, Some(5), "{format}: {}", show(&run));
        assert_eq!(run.stdout.lines().count(), 40 + header, "{format}");
    }
}

#[test]
fn raw_with_csv_or_table_is_a_usage_error_before_any_request() {
    let server = lc_fails_on_page3();
    for format in ["csv", "table"] {
        let run = fetch("leadconnector", &server, &["--format", format, "--raw"], None);
        assert_eq!(run.code, Some(2), "{format}: {}", show(&run));
    }
    assert_eq!(server.count(), 0);
}

#[test]
fn json_format_of_an_empty_conversation_is_an_empty_array() {
    let server =
        Server::start(|_, _| Reply::Json(200, json!({"messages": [], "nextPage": false, "lastMessageId": null})));
    let run = fetch("leadconnector", &server, &["--format", "json"], None);
    assert_eq!(run.code, Some(0), "{}", show(&run));
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap(), json!([]));
}

// ---------------------------------------------------------------- 3. --since with hostile times

/// Bird with `--since`: messages with no, null, odd-format and far-future
/// times, out of order, over three pages (the server ignores dateFrom).
/// Every message with a time at or after `since` once, the timeless ones
/// kept (documented), none before it.
#[test]
fn bird_since_with_missing_null_odd_and_future_times_keeps_exactly_the_right_ones() {
    let mut list: Vec<Value> = (0..30).map(bird_message).collect();
    // bird_message(i) is time(10_000 - i): index 0 newest. `since` = time(9_985) keeps 0..=15.
    list[2]["createdAt"] = json!(null);
    list[4].as_object_mut().unwrap().remove("createdAt");
    list[20]["createdAt"] = json!("2999-01-01T00:00:00Z");
    list[22]["createdAt"] = json!(time(9_999));
    list[7]["createdAt"] = json!(time(9_900));
    let sent = list.clone();
    let server = Server::start(move |_, req| {
        let start: usize = req.param("pageToken").map_or(0, |t| t.trim_start_matches('t').parse().unwrap());
        let end = (start + 10).min(sent.len());
        let token = if end < sent.len() { json!(format!("t{end}")) } else { json!("") };
        Reply::Json(200, json!({"results": sent[start..end], "nextPageToken": token, "total": sent.len()}))
    });
    let since = time(9_985);
    let run = fetch("bird", &server, &["--page-size", "10", "--since", &since], None);
    eprintln!("[bird since] {}", show(&run));
    let keep: Vec<String> = (0..30)
        .filter(|&i| match i {
            2 | 4 | 20 | 22 => true,
            7 => false,
            i => i <= 15,
        })
        .map(|i| format!("b{i:04}"))
        .collect();
    promise("bird since", &run, &keep);
    assert_eq!(run.code, Some(0), "{}", show(&run));
}

/// Infobip with `--since`: the server honours createdAfter, but one message
/// in the answer has a time in an odd format (no zone): it is either
/// delivered once or the read fails; never a message before `since`.
#[test]
fn infobip_since_with_an_odd_time_format_in_the_answer_is_never_a_wrong_set() {
    let server = Server::start(move |_, req| {
        let mut page = ib_honest(30, req);
        if let Some(first) = page["messages"].get_mut(1) {
            first["createdAt"] = json!("2026-01-01 00:00:12");
        }
        Reply::Json(200, page)
    });
    let since = time(10);
    let run = fetch("infobip", &server, &["--page-size", "10", "--since", &since], None);
    eprintln!("[infobip since odd] {}", show(&run));
    let got = ids(&run);
    no_dupes("infobip since", &got);
    for id in &got {
        let n: i64 = id.trim_start_matches("ib").parse().unwrap_or(99);
        assert!(n >= 10, "a message before since: {id}");
    }
    promise("infobip since odd", &run, &(10..30).map(|i| format!("ib{i:04}")).collect::<Vec<_>>());
}

#[test]
fn octopush_since_is_refused_before_any_request() {
    let server = Server::start(|_, _| Reply::Json(200, json!([])));
    let run = fetch("octopush", &server, &["--since", "2024-01-01"], None);
    assert_ne!(run.code, Some(0), "{}", show(&run));
    assert!(run.stdout.is_empty());
}

// ---------------------------------------------------------------- 4. envelope drift

#[test]
fn leadconnector_flat_and_nested_envelopes_mixed_across_pages_are_read_whole() {
    let server = Server::start(move |_, req| {
        let page = lc_honest("conv1", 65, req);
        if (lc_after(req) / 20) % 2 == 1 {
            Reply::Json(200, json!({"messages": page, "traceId": "t"}))
        } else {
            Reply::Json(200, page)
        }
    });
    let run = fetch("leadconnector", &server, &["--page-size", "20"], None);
    eprintln!("[lc mixed] {}", show(&run));
    promise("lc mixed", &run, &conv_ids("conv1", 0..65));
    assert_eq!(run.code, Some(0), "{}", show(&run));
}

#[test]
fn leadconnector_next_page_the_string_true_and_a_null_cursor_are_never_a_wrong_set() {
    for variant in 0..3 {
        let server = Server::start(move |_, req| {
            let mut page = lc_honest("conv1", 50, req);
            match variant {
                0 => page["nextPage"] = json!(page["nextPage"].as_bool().unwrap().to_string()),
                1 => page["lastMessageId"] = json!(null),
                _ => page["nextPage"] = json!(if page["nextPage"].as_bool().unwrap() { 1 } else { 0 }),
            }
            Reply::Json(200, page)
        });
        let run = fetch("leadconnector", &server, &["--page-size", "20"], None);
        eprintln!("[lc drift {variant}] {}", show(&run));
        promise(&format!("lc drift {variant}"), &run, &conv_ids("conv1", 0..50));
        if variant == 1 {
            assert_eq!(run.code, Some(0), "a null cursor follows the last message's id: {}", show(&run));
        }
    }
}

/// Bird: `total` negative, or a number on the first page and a string on
/// the next, or null; `nextPageToken` at the end null, absent or "".
#[test]
fn bird_total_and_token_drift_is_never_a_wrong_set() {
    for variant in 0..6 {
        let server = Server::start(move |_, req| {
            let start: usize = req.param("pageToken").map_or(0, |t| t.trim_start_matches('t').parse().unwrap());
            let end = (start + 10).min(25);
            let results: Vec<Value> = (start..end).map(bird_message).collect();
            let mut page = json!({"results": results, "total": 25});
            if end < 25 {
                page["nextPageToken"] = json!(format!("t{end}"));
            }
            match variant {
                0 => page["total"] = json!(-1),
                1 if start > 0 => page["total"] = json!("25"),
                2 => page["total"] = json!(null),
                3 if end == 25 => page["nextPageToken"] = json!(null),
                4 if end == 25 => page["nextPageToken"] = json!(""),
                _ => {}
            }
            Reply::Json(200, page)
        });
        let run = fetch("bird", &server, &["--page-size", "10"], None);
        eprintln!("[bird drift {variant}] {}", show(&run));
        let expected: Vec<String> = (0..25).map(|i| format!("b{i:04}")).collect();
        promise(&format!("bird drift {variant}"), &run, &expected);
        if variant >= 3 {
            assert_eq!(run.code, Some(0), "variant {variant}: the end token forms: {}", show(&run));
        }
    }
}

/// Infobip: `totalItems` negative, `pagination` a string, `page` other than
/// asked: never a wrong set.
#[test]
fn infobip_pagination_drift_is_never_a_wrong_set() {
    for variant in 0..4 {
        let server = Server::start(move |_, req| {
            let mut page = ib_honest(25, req);
            match variant {
                0 => page["pagination"]["totalItems"] = json!(-5),
                1 => page["pagination"] = json!("page 0 of 3"),
                2 => page["pagination"]["page"] = json!(7),
                _ => page["pagination"]["limit"] = json!("ten"),
            }
            Reply::Json(200, page)
        });
        let run = fetch("infobip", &server, &["--page-size", "10"], None);
        eprintln!("[infobip drift {variant}] {}", show(&run));
        promise(&format!("infobip drift {variant}"), &run, &(0..25).map(|i| format!("ib{i:04}")).collect::<Vec<_>>());
    }
}

/// Octopush: the second page an array of non-objects (numbers, strings,
/// nulls): never a wrong set with exit 0 (either refused or each written
/// as undecodable in its place, with the good ones whole).
#[test]
fn octopush_a_page_of_non_objects_is_never_a_wrong_set() {
    let server = Server::start(move |_, req| {
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        match page {
            1 => Reply::Json(200, json!((0..10).map(octo_message).collect::<Vec<_>>())),
            2 => Reply::Json(200, json!([1, "two", null, [3], true, 6, 7, 8, 9, 10])),
            _ => Reply::Json(200, json!([])),
        }
    });
    let run = fetch("octopush", &server, &["--page-size", "10"], None);
    eprintln!("[octo non-objects] {}", show(&run));
    assert!(!run.stderr.contains("panicked"));
    let lines = run.stdout.lines().count();
    if run.code == Some(0) {
        assert_eq!(lines, 20, "exit 0: each item written once in its place: {}", show(&run));
        let decoded = run.ndjson().iter().filter(|m| m["decode_error"].is_null()).count();
        assert_eq!(decoded, 10, "only the real messages decode");
    } else {
        assert_eq!(lines, 10, "{}", show(&run));
    }
}

// ---------------------------------------------------------------- 5. normalize with hostile input

fn normalize(vendor: &str, body: &[u8], extra: &[&str]) -> Run {
    let mut command = convo();
    command.timeout(Duration::from_secs(60));
    command.args(["normalize", vendor]).args(extra).write_stdin(body.to_vec());
    run(&mut command)
}

fn lc_body(messages: &[String]) -> Vec<u8> {
    format!(r#"{{"messages":[{}],"nextPage":false,"lastMessageId":null}}"#, messages.join(",")).into_bytes()
}

fn good(i: usize) -> String {
    lcm("conv1", i).to_string()
}

#[test]
fn normalize_a_huge_number_in_one_message_costs_only_that_message() {
    let odd = r#"{"id":"conv1-0001","type":1e400,"messageType":"TYPE_SMS","dateAdded":"2026-01-01T00:00:00Z","body":"x","extra":123456789012345678901234567890}"#;
    let body = lc_body(&[good(0), odd.to_owned(), good(2)]);
    let run = normalize("leadconnector", &body, &[]);
    eprintln!("[huge number] {}", show(&run));
    assert_eq!(run.code, Some(0), "{}", show(&run));
    // Not parsed here: the raw `1e400` is kept verbatim, beyond serde_json's f64.
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", show(&run));
    assert!(lines[0].contains("\"conv1-0000\"") && !lines[0].contains("decode_error"));
    assert!(lines[1].contains("decode_error") && lines[1].contains("1e400"), "{}", lines[1]);
    assert!(lines[2].contains("\"conv1-0002\"") && !lines[2].contains("decode_error"));
}

/// One message with an unknown field nested 200 deep (valid JSON; beyond
/// serde_json's default recursion limit of 128): every message decoded, the
/// nesting kept in `raw`.
#[test]
fn normalize_one_deeply_nested_message_costs_nothing() {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let odd = format!(
        r#"{{"id":"conv1-0001","type":2,"messageType":"TYPE_SMS","dateAdded":"2026-01-01T00:00:00Z","body":"x","meta":{{"deep":{deep}}}}}"#
    );
    let body = lc_body(&[good(0), odd, good(2)]);
    let run = normalize("leadconnector", &body, &[]);
    eprintln!("[deep nesting] {}", show(&run));
    assert_eq!(run.code, Some(0), "one odd message must not cost the others: {}", show(&run));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", show(&run));
    assert!(lines[1].contains(&"[".repeat(200)), "the nesting kept in raw");
}

/// Was: a LeadConnector page of three messages, the second with one
/// invalid UTF-8 byte (0xFF) in its `body` text: `convo normalize` exits 6
/// ("not a page of leadconnector's: invalid unicode code point … at
/// `messages[1]`") and writes nothing, the two good messages lost. The page
/// is parsed with serde_json from bytes, and each message is captured as a
/// `RawValue` (crates/runtime/src/captured.rs, crates/normalize/src/page.rs
/// `decode`), which must be valid UTF-8: one bad byte fails the whole body.
/// It should write the good messages and the odd one in its place with
/// `decode_error` (or its text with U+FFFD), exit 0, as for a lone surrogate.
#[test]
fn normalize_invalid_utf8_in_one_message_costs_only_that_message() {
    let mut odd = lcm("conv1", 1).to_string().into_bytes();
    let at = odd.windows(6).position(|w| w == b"text 1").unwrap();
    odd[at] = 0xff;
    let mut body = br#"{"messages":["#.to_vec();
    body.extend_from_slice(good(0).as_bytes());
    body.push(b',');
    body.extend_from_slice(&odd);
    body.push(b',');
    body.extend_from_slice(good(2).as_bytes());
    body.extend_from_slice(br#"],"nextPage":false}"#);
    let run = normalize("leadconnector", &body, &[]);
    eprintln!("[invalid utf-8] {}", show(&run));
    assert_eq!(run.code, Some(0), "one odd message must not cost the others: {}", show(&run));
    let lines = run.ndjson();
    assert_eq!(lines.len(), 3, "{}", show(&run));
    assert!(lines[0]["decode_error"].is_null() && lines[2]["decode_error"].is_null());
}

/// Was: the same through `convo fetch leadconnector`: the first page
/// of 20 with one 0xFF byte in message 3's text fails the read with exit 6
/// ("the first page: the response is not leadconnector's documented shape:
/// invalid unicode code point … at `messages[3]`"), nothing written, the
/// 29 other messages never read. Same cause (the page's whole-body serde
/// decode into `Captured` `RawValue`s). It should deliver all 30, the odd
/// one with `decode_error` (or U+FFFD), exit 0.
#[test]
fn fetch_invalid_utf8_in_one_message_costs_only_that_message() {
    let server = Server::start(move |_, req| {
        let page = lc_honest("conv1", 30, req);
        let mut bytes = serde_json::to_vec(&page).unwrap();
        if lc_after(req) == 0 {
            let at = bytes.windows(6).position(|w| w == b"text 3").unwrap();
            bytes[at] = 0xff;
        }
        Reply::Raw(200, vec![], bytes)
    });
    let run = fetch("leadconnector", &server, &["--page-size", "20"], None);
    eprintln!("[fetch invalid utf-8] {}", show(&run));
    promise("invalid utf-8", &run, &conv_ids("conv1", 0..30));
    assert_eq!(run.code, Some(0), "one odd message must not cost the others: {}", show(&run));
}

#[test]
fn normalize_a_bom_before_the_page_is_read_or_refused_cleanly() {
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend_from_slice(&lc_body(&[good(0), good(1)]));
    let run = normalize("leadconnector", &body, &[]);
    eprintln!("[bom] {}", show(&run));
    assert!(!run.stderr.contains("panicked"));
    match run.code {
        Some(0) => assert_eq!(run.ndjson().len(), 2),
        Some(6) => assert!(run.stdout.is_empty()),
        other => panic!("exit {other:?}: {}", show(&run)),
    }
}

#[test]
fn normalize_duplicate_keys_in_one_message_cost_only_that_message() {
    let odd = r#"{"id":"conv1-0001","id":"other","type":2,"messageType":"TYPE_SMS","dateAdded":"2026-01-01T00:00:00Z","body":"x"}"#;
    let body = lc_body(&[good(0), odd.to_owned(), good(2)]);
    let run = normalize("leadconnector", &body, &[]);
    eprintln!("[dup keys] {}", show(&run));
    assert_eq!(run.code, Some(0), "{}", show(&run));
    let lines = run.ndjson();
    assert_eq!(lines.len(), 3);
    assert!(lines[0]["decode_error"].is_null() && lines[2]["decode_error"].is_null());
}

/// Was: two captured LeadConnector pages, one compact page a line
/// (as `curl … >> pages` leaves them): `convo normalize` takes each line
/// for one vendor message (`raw_messages` in crates/cli/src/fetch.rs checks
/// for a page envelope only when there is a single line), prints two
/// undecodable "messages" (`missing field id`) and exits 0: the four real
/// messages are lost. It should normalize both pages' messages, or refuse
/// (exit 6: several page envelopes are not `--raw` output).
#[test]
fn normalize_two_pages_one_a_line_are_never_taken_for_two_messages() {
    let p1 = String::from_utf8(lc_body(&[good(0), good(1)])).unwrap();
    let p2 = String::from_utf8(lc_body(&[good(2), good(3)])).unwrap();
    let body = format!("{p1}\n{p2}\n");
    let run = normalize("leadconnector", body.as_bytes(), &[]);
    eprintln!("[two pages a line] {} {}", show(&run), run.stdout.chars().take(300).collect::<String>());
    if run.code == Some(0) {
        let got: Vec<String> = run.ndjson().iter().map(|m| m["id"].as_str().unwrap_or("").to_owned()).collect();
        assert_eq!(got, conv_ids("conv1", 0..4), "exit 0 must mean the pages' messages");
    }
}

// ---------------------------------------------------------------- 6. HTTP level

/// LeadConnector: page 1 good, page 2 answered by `reply` once (then
/// honest): the promise.
fn lc_second(what: &str, reply: impl Fn() -> Reply + Send + Sync + 'static, must_succeed: bool) -> Run {
    let once = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = Server::start(move |_, req| {
        if lc_after(req) == 20 && !once.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return reply();
        }
        Reply::Json(200, lc_honest("conv1", 45, req))
    });
    let started = Instant::now();
    let run = fetch("leadconnector", &server, &["--page-size", "20"], None);
    eprintln!("[{what}] {} in {:?}", show(&run), started.elapsed());
    promise(what, &run, &conv_ids("conv1", 0..45));
    if must_succeed {
        assert_eq!(run.code, Some(0), "{what}: {}", show(&run));
    } else if run.code != Some(0) {
        assert_eq!(run.stdout.lines().count(), 20, "{what}: the first page stays: {}", show(&run));
    }
    run
}

fn head(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n{headers}\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

#[test]
fn http_204_304_206_on_a_page_are_never_a_wrong_set() {
    lc_second("204", || Reply::Bytes(head("204 No Content", "", b"")), false);
    lc_second("304", || Reply::Bytes(head("304 Not Modified", "", b"")), false);
    let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
    let half = page[..page.len() / 2].to_vec();
    lc_second(
        "206",
        move || {
            Reply::Raw(
                206,
                vec![("content-range".into(), format!("bytes 0-{}/{}", half.len() - 1, half.len() * 2))],
                half.clone(),
            )
        },
        false,
    );
}

/// A 206 with a whole, valid page: if taken as a page, it must be the page.
#[test]
fn http_206_with_a_whole_page_is_never_a_wrong_set() {
    let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
    lc_second("206 whole", move || Reply::Raw(206, vec![], page.clone()), false);
}

fn req_after(last: usize) -> Req {
    Req {
        path: "/conversations/conv1/messages".into(),
        query: vec![("lastMessageId".into(), format!("conv1-{last:04}")), ("limit".into(), "20".into())],
        headers: vec![],
    }
}

#[test]
fn http_100_continue_before_the_page_is_read_whole() {
    let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
    lc_second(
        "100 continue",
        move || {
            let mut bytes = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
            bytes.extend(response(200, &[], &page));
            Reply::Bytes(bytes)
        },
        false,
    );
}

#[test]
fn content_encodings_br_deflate_unknown_over_a_plain_page_are_never_a_wrong_set() {
    for encoding in ["br", "deflate", "x-unknown", "gzip, br", "identity"] {
        let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
        lc_second(
            &format!("content-encoding {encoding}"),
            move || Reply::Raw(200, vec![("content-encoding".into(), encoding.into())], page.clone()),
            false,
        );
    }
}

#[test]
fn a_chunked_body_cut_mid_chunk_is_retried_or_refused() {
    let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
    lc_second(
        "chunked cut",
        move || {
            let cut = &page[..page.len() / 2];
            let mut bytes =
                format!("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n", page.len()).into_bytes();
            bytes.extend_from_slice(cut);
            Reply::Bytes(bytes)
        },
        false,
    );
}

#[test]
fn a_chunked_body_whose_last_chunk_ends_on_a_json_boundary_but_lacks_the_terminator_is_never_a_wrong_set() {
    // The first chunk is a whole page of fewer messages (nextPage false);
    // the connection closes before the terminating chunk.
    lc_second(
        "chunked no terminator",
        move || {
            let short = serde_json::to_vec(
                &json!({"messages": [lcm("conv1", 20)], "nextPage": false, "lastMessageId": "conv1-0020"}),
            )
            .unwrap();
            let mut bytes =
                format!("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n", short.len()).into_bytes();
            bytes.extend_from_slice(&short);
            bytes.extend_from_slice(b"\r\n");
            Reply::Bytes(bytes)
        },
        false,
    );
}

#[test]
fn a_200_typed_text_html_holding_a_json_page_is_never_a_wrong_set() {
    let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
    lc_second(
        "text/html json",
        move || Reply::Raw(200, vec![("content-type".into(), "text/html".into())], page.clone()),
        false,
    );
}

#[test]
fn slow_headers_then_the_page_are_read_whole() {
    let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
    let bytes = response(200, &[], &page);
    lc_second("slow headers", move || Reply::Trickle(vec![], bytes.clone(), Duration::from_millis(1)), false);
}

#[test]
fn retry_after_on_a_200_is_ignored_and_the_page_is_read() {
    let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
    let started = Instant::now();
    lc_second(
        "retry-after on 200",
        move || Reply::Raw(200, vec![("retry-after".into(), "3600".into())], page.clone()),
        true,
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_503_then_200_is_read_whole() {
    lc_second("503 then 200", || Reply::Json(503, json!({"statusCode": 503, "message": "later"})), true);
}

/// 429 on every request after the first page: bounded retries, then a
/// clear error (exit 5), the first page kept, within bounded time.
#[test]
fn a_429_forever_ends_in_bounded_retries_with_a_clear_error() {
    let server = Server::start(move |_, req| {
        if lc_after(req) >= 20 {
            return Reply::Raw(
                429,
                vec![("retry-after".into(), "1".into())],
                br#"{"statusCode":429,"message":"slow down"}"#.to_vec(),
            );
        }
        Reply::Json(200, lc_honest("conv1", 45, req))
    });
    let started = Instant::now();
    let run = fetch("leadconnector", &server, &["--page-size", "20"], None);
    eprintln!("[429 forever] {} in {:?}, {} requests", show(&run), started.elapsed(), server.count());
    assert_eq!(run.code, Some(5), "{}", show(&run));
    assert_eq!(run.stdout.lines().count(), 20);
    assert!(run.stderr.contains("429"), "{}", run.stderr);
    assert!(server.count() <= 20, "bounded retries: {}", server.count());
    assert!(started.elapsed() < Duration::from_secs(60));
    no_secret_anywhere("429", &run, None);
}

// ---------------------------------------------------------------- more

/// 101 Switching Protocols is no page; 103 Early Hints before the 200 is
/// fine (hyper skips 1xx).
#[test]
fn http_101_and_103_on_a_page_are_never_a_wrong_set() {
    lc_second("101", || Reply::Bytes(head("101 Switching Protocols", "upgrade: websocket\r\n", b"")), false);
    let page = serde_json::to_vec(&lc_honest("conv1", 45, &req_after(19))).unwrap();
    lc_second(
        "103 then 200",
        move || {
            let mut bytes = b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n".to_vec();
            bytes.extend(response(200, &[], &page));
            Reply::Bytes(bytes)
        },
        false,
    );
}

/// A conversation id with `/../`, `?` or `#` in it: it is sent as one path
/// segment (percent-encoded), never resolved into another conversation's
/// path or a query.
#[test]
fn a_conversation_id_with_path_characters_stays_one_path_segment() {
    for id in ["x/../a", "a?limit=1", "a#frag", "..", "a/b"] {
        let server = Server::start(move |_, req| Reply::Json(200, lc_honest("conv1", 5, req)));
        let mut command = fetch_command("leadconnector", &server, id, &[]);
        let run = run(&mut command);
        let paths: Vec<String> = server.requests.lock().unwrap().iter().map(|r| r.path.clone()).collect();
        eprintln!("[id {id:?}] {} paths {paths:?}", show(&run));
        for path in &paths {
            let segment = path.trim_start_matches("/conversations/").trim_end_matches("/messages");
            assert!(path.starts_with("/conversations/") && path.ends_with("/messages"), "{id:?}: {path}");
            assert!(!segment.contains('/') && !segment.is_empty(), "{id:?}: not one segment: {path}");
            assert_ne!(segment, "a", "{id:?}: resolved into conversation a: {path}");
        }
        for r in server.requests.lock().unwrap().iter() {
            assert!(r.param("limit") != Some("1"), "{id:?}: the id became a query: {:?}", r.query);
        }
    }
}

/// To the merged stream (no --out-dir): `b` fails on its second page (a
/// repeated cursor: no checkpoint can go on from it), `a` and `c` whole;
/// the rerun writes the rest of `b`: across the two runs each message once.
#[test]
fn sync_merged_stream_one_conversation_failing_then_rerun_writes_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let second = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = second.clone();
    let server = Server::start(move |_, req| {
        let conv = lc_conv(req);
        if conv == "b" && lc_after(req) > 0 && !flag.load(std::sync::atomic::Ordering::SeqCst) {
            let mut fake = req.clone();
            fake.query.retain(|(k, _)| k != "lastMessageId");
            return Reply::Json(200, lc_honest("b", 45, &fake));
        }
        Reply::Json(200, lc_honest(&conv, 45, req))
    });
    let list = dir.path().join("list");
    std::fs::write(&list, "a\nb\nc\n").unwrap();
    let sync = || {
        let mut command = convo();
        command.timeout(Duration::from_secs(90));
        command.args(["sync", "leadconnector", "--base-url", &server.base, "--page-size", "20"]);
        command.arg("--conversations").arg(&list).arg("--state").arg(dir.path().join("state.json"));
        command.env("LEADCONNECTOR_TOKEN", SECRET);
        run(&mut command)
    };
    let merged = |run: &Run, conv: &str| -> Vec<String> {
        run.stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["conversation"] == conv)
            .map(|v| v["message"]["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let first = sync();
    eprintln!("[merged first] {}", show(&first));
    assert_ne!(first.code, Some(0));
    second.store(true, std::sync::atomic::Ordering::SeqCst);
    let rerun = sync();
    eprintln!("[merged rerun] {}", show(&rerun));
    assert_eq!(rerun.code, Some(0), "{}", show(&rerun));
    for conv in ["a", "b", "c"] {
        let mut all = merged(&first, conv);
        all.extend(merged(&rerun, conv));
        assert_eq!(all, conv_ids(conv, 0..45), "{conv}: across the two runs each once, in order");
    }
}

/// `--out-dir` naming a file, and `--conversations` naming a missing file:
/// usage errors before any request.
#[test]
fn sync_out_dir_a_file_or_a_missing_list_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(move |_, req| Reply::Json(200, lc_honest(&lc_conv(req), 5, req)));
    std::fs::write(dir.path().join("out"), "not a dir").unwrap();
    let run1 = sync_convs("leadconnector", &server, dir.path(), &["a"], &[]);
    eprintln!("[out-dir a file] {}", show(&run1));
    assert_ne!(run1.code, Some(0), "{}", show(&run1));
    let mut command = convo();
    command.args(["sync", "leadconnector", "--base-url", &server.base, "--conversations"]);
    command.arg(dir.path().join("missing"));
    command.env("LEADCONNECTOR_TOKEN", SECRET);
    let run2 = run(&mut command);
    assert_eq!(run2.code, Some(2), "{}", show(&run2));
}

/// Octopush in sync across two runs where the server's last page the
/// second time is an object, not an array: the conversation fails, the
/// file keeps the first run's messages once.
#[test]
fn sync_octopush_rerun_answered_with_an_object_fails_and_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let second = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = second.clone();
    let server = Server::start(move |_, req| {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            return Reply::Json(200, json!({"messages": []}));
        }
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
        let ids: Vec<Value> = ((page - 1) * per..(page * per).min(25)).map(octo_message).collect();
        Reply::Json(200, json!(ids))
    });
    let conv = "cid_6c0e7f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6";
    let first = sync_convs("octopush", &server, dir.path(), &[conv], &["--page-size", "10"]);
    assert_eq!(first.code, Some(0), "{}", show(&first));
    second.store(true, std::sync::atomic::Ordering::SeqCst);
    let rerun = sync_convs("octopush", &server, dir.path(), &[conv], &["--page-size", "10"]);
    eprintln!("[octo object rerun] {}", show(&rerun));
    assert_ne!(rerun.code, Some(0), "{}", show(&rerun));
    let expected: Vec<String> = (0..25).map(|i| format!("o{i:04}")).collect();
    assert_eq!(file_ids(&out(dir.path(), conv)).unwrap(), expected);
}

/// Bird: after the first page of 10 (of a `total` of 25), a
/// `nextPageToken` that is "", null or absent ends the listing early:
/// fewer than the total, so the read fails rather than exit 0 with 10.
#[test]
fn bird_an_end_token_before_the_total_is_reached_fails_the_read() {
    for variant in 0..3 {
        let server = Server::start(move |_, _| {
            let results: Vec<Value> = (0..10).map(bird_message).collect();
            let mut page = json!({"results": results, "total": 25});
            match variant {
                0 => page["nextPageToken"] = json!(""),
                1 => page["nextPageToken"] = json!(null),
                _ => {}
            }
            Reply::Json(200, page)
        });
        let run = fetch("bird", &server, &["--page-size", "10"], None);
        eprintln!("[bird early end {variant}] {}", show(&run));
        assert_ne!(run.code, Some(0), "variant {variant}: 10 of 25 with exit 0: {}", show(&run));
        assert_eq!(run.stdout.lines().count(), 10);
    }
}

// ------------------------------------- Octopush: deletions above the read

fn octo_ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("o{i:04}")).collect()
}

/// An Octopush listing of 60 messages at 10 a page, from which, once page
/// `after` was served, message `deleted` is deleted: every later page
/// starts one message further on.
fn octopush_losing(deleted: usize, after: usize) -> Server {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let served_pages = std::sync::Arc::new(AtomicUsize::new(0));
    Server::start(move |_, req| {
        let page: usize = req.param("page").unwrap_or("1").parse().unwrap();
        let per_page: usize = req.param("per_page").unwrap_or("50").parse().unwrap();
        let gone = served_pages.load(Ordering::SeqCst) >= after;
        let listing: Vec<usize> = (0..60).filter(|&i| !(gone && i == deleted)).collect();
        served_pages.fetch_add(1, Ordering::SeqCst);
        let served: Vec<Value> =
            listing.iter().skip((page - 1) * per_page).take(per_page).map(|&i| octo_message(i)).collect();
        Reply::Json(200, Value::Array(served))
    })
}

/// A message deleted from page 2 once the read is on page 4 pulls the
/// first message of page 5 back onto page 4, never served: with page 1
/// unchanged, that was a conversation one message short with exit 0. Was:
/// exit 0 without o0040. Now the listing read again at the end differs
/// (exit 5, the listing changed), and nothing is printed twice.
#[test]
fn octopush_message_deleted_below_the_first_page_after_the_read_passed_it_is_a_listing_change() {
    let server = octopush_losing(15, 4);
    let run = fetch("octopush", &server, &["--page-size", "10"], None);
    promise("octopush deletion on page 2 after page 4", &run, &octo_ids(0..60));
    assert_eq!(run.code, Some(5), "{}", show(&run));
    assert!(run.stderr.contains("changed while it was read"), "{}", show(&run));
    assert!(!ids(&run).contains(&"o0040".to_owned()), "the message skipped by the shift: {}", show(&run));
}

/// The same deletion before page 2 is read is no change to the read: the
/// message is never delivered, and the read and the check see one listing.
#[test]
fn octopush_deletion_before_its_page_is_read_is_no_change() {
    let server = octopush_losing(15, 1);
    let run = fetch("octopush", &server, &["--page-size", "10"], None);
    let expected: Vec<String> = octo_ids(0..60).into_iter().filter(|id| id != "o0015").collect();
    assert_eq!(run.code, Some(0), "{}", show(&run));
    assert_eq!(ids(&run), expected);
}
