//! Sixth round of adversarial probes: Octopush's page-number paging across
//! runs (c502291, 1aa50ce): `--resume` tokens carrying the check's state
//! (`Position::PageWithCheck`), chains of failed runs, changes during and
//! between runs, caps, forged tokens, and `convo sync` reruns.
//!
//! Each server is a live listing (`Live`): a vector the test may change
//! between runs, a hook that may change it before a request (by ordinal,
//! counted over the server's whole life, so across runs), a set of
//! ordinals answered 501 (not retried) and a cap on `per_page`.
//!
//! Written against 1aa50ce; what they found and was fixed is marked `Was:`,
//! the rest is in the closing note of 2026-12-03. The
//! matrices (`..._keep_the_promise`) assert only the promise (no wrong set
//! with exit 0, no duplicate, no panic, no hang) and print the needless
//! failures they meet on stderr (`--nocapture`).

#![allow(dead_code)]

mod common;
mod scripted;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
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

type Listing = Arc<Mutex<Vec<Value>>>;
type Hook = Box<dyn Fn(usize, &mut Vec<Value>) + Send + Sync>;

struct Live {
    server: Server,
    listing: Listing,
    fail: Arc<Mutex<HashSet<usize>>>,
    cap: Arc<Mutex<Option<usize>>>,
    hook: Arc<Mutex<Hook>>,
}

impl Live {
    fn new(initial: Vec<Value>) -> Live {
        let listing: Listing = Arc::new(Mutex::new(initial));
        let fail = Arc::new(Mutex::new(HashSet::new()));
        let cap = Arc::new(Mutex::new(None));
        let hook: Arc<Mutex<Hook>> = Arc::new(Mutex::new(Box::new(|_, _| {})));
        let (l, f, c, h) = (listing.clone(), fail.clone(), cap.clone(), hook.clone());
        let server = Server::start(move |ordinal, req| {
            let mut listing = l.lock().unwrap();
            (h.lock().unwrap())(ordinal, &mut listing);
            if f.lock().unwrap().contains(&ordinal) {
                return Reply::Json(501, json!({"code": 1, "message": "not implemented"}));
            }
            let page: u64 = req.param("page").unwrap_or("1").parse().unwrap_or(1);
            let per: u64 = req.param("per_page").unwrap_or("50").parse().unwrap_or(50);
            let size = c.lock().unwrap().map_or(per, |cap| per.min(cap as u64));
            let skip = page.saturating_sub(1).saturating_mul(size);
            let served: Vec<Value> = if skip >= listing.len() as u64 {
                Vec::new()
            } else {
                listing.iter().skip(skip as usize).take(size as usize).cloned().collect()
            };
            Reply::Json(200, Value::Array(served))
        });
        Live { server, listing, fail, cap, hook }
    }
    fn fail_at(&self, ordinals: &[usize]) {
        let mut f = self.fail.lock().unwrap();
        f.clear();
        f.extend(ordinals.iter().copied());
    }
    fn hook(&self, hook: impl Fn(usize, &mut Vec<Value>) + Send + Sync + 'static) {
        *self.hook.lock().unwrap() = Box::new(hook);
    }
    fn cap(&self, cap: Option<usize>) {
        *self.cap.lock().unwrap() = cap;
    }
    fn change(&self, f: impl FnOnce(&mut Vec<Value>)) {
        f(&mut self.listing.lock().unwrap());
    }
    fn count(&self) -> usize {
        self.server.count()
    }
}

/// The pages asked for, in order (`page/per_page`), 501s marked `!`.
fn asked(live: &Live) -> String {
    let fail = live.fail.lock().unwrap().clone();
    live.server
        .requests
        .lock()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "{}{}/{}",
                if fail.contains(&(i + 1)) { "!" } else { "" },
                r.param("page").unwrap_or("-"),
                r.param("per_page").unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn octo_with(live: &Live, size: Option<&str>, extra: &[&str]) -> Run {
    let mut command = fetch_command("octopush", &live.server, CONV, &[]);
    command.timeout(Duration::from_secs(40));
    if let Some(size) = size {
        command.args(["--page-size", size]);
    }
    command.args(extra);
    run(&mut command)
}

fn octo(live: &Live, extra: &[&str]) -> Run {
    octo_with(live, Some("10"), extra)
}

fn token_of(run: &Run) -> Option<String> {
    let line = run.stderr.lines().find(|l| l.contains("--resume "))?;
    Some(line.rsplit("--resume ").next().unwrap().trim().to_owned())
}

fn decode_token(token: &str) -> Value {
    let (body, _checksum) = token.strip_prefix("r2.").unwrap().rsplit_once('.').unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap()
}

/// A token of `value` with its checksum computed again (FNV-1a, 64 bits,
/// over the JSON): a forger's, which the checksum does not stop.
fn encode_token(value: &Value) -> String {
    let json = serde_json::to_vec(value).unwrap();
    let sum = json.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    format!("r2.{}.{sum:016x}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

/// The runs of one export: stdout of every run together, the last run's
/// exit code and stderr.
struct Chain {
    runs: Vec<Run>,
}

impl Chain {
    fn combined(&self) -> Run {
        let last = self.runs.last().unwrap();
        Run {
            code: last.code,
            stdout: self.runs.iter().map(|r| r.stdout.as_str()).collect(),
            stderr: last.stderr.clone(),
        }
    }
    fn describe(&self) -> String {
        self.runs.iter().enumerate().map(|(i, r)| format!("run {}: {}", i + 1, show(r))).collect::<Vec<_>>().join(" | ")
    }
}

/// Run 1, then runs resumed from the last token while one is printed, up
/// to `most` runs; `between(i)` runs before run i+1 (i from 1).
fn chain(live: &Live, most: usize, mut between: impl FnMut(usize)) -> Chain {
    let mut runs = vec![octo(live, &[])];
    while runs.len() < most {
        let last = runs.last().unwrap();
        if last.code == Some(0) {
            break;
        }
        let Some(token) = token_of(last) else { break };
        between(runs.len());
        runs.push(octo(live, &["--resume", &token]));
    }
    Chain { runs }
}

/// The promise across runs: never an id twice in the combined output, no
/// panic, no hang; the last run exit 0 only with `expected`.
fn promise_chain(what: &str, chain: &Chain, live: &Live, expected: &[String]) {
    for r in &chain.runs {
        assert!(r.code.is_some(), "{what}: convo hung ({})", chain.describe());
        assert!(
            !r.stderr.contains("panicked"),
            "{what}: panic (exit {:?}, {} lines): {}",
            r.code,
            r.stdout.lines().count(),
            r.stderr
        );
    }
    let all = chain.combined();
    let got = ids(&all);
    let mut seen = HashSet::new();
    for id in &got {
        assert!(
            seen.insert(id),
            "{what}: `{id}` printed twice across the runs ({}) ; {}",
            chain.describe(),
            asked(live)
        );
    }
    if all.code == Some(0) {
        assert_eq!(got, expected, "{what}: exit 0 with a wrong set ({}) ; {}", chain.describe(), asked(live));
    }
}

fn sync_octo(live: &Live, dir: &Path, extra: &[&str]) -> Run {
    let list = dir.join("list");
    std::fs::write(&list, format!("{CONV}\n")).unwrap();
    let mut command = convo();
    command.timeout(Duration::from_secs(40));
    command.args(["sync", "octopush", "--base-url", &live.server.base, "--page-size", "10"]);
    command.arg("--conversations").arg(&list).arg("--state").arg(dir.join("state.json"));
    command.arg("--out-dir").arg(dir.join("out"));
    command.args(extra);
    with_secret(&mut command, "octopush");
    run(&mut command)
}

fn out_ids(dir: &Path) -> Vec<String> {
    file_ids(&dir.join("out").join(format!("{CONV}.ndjson"))).unwrap_or_default()
}

/// The file never holds an id twice; a run exiting 0 leaves exactly `expected`.
fn promise_file(what: &str, run: &Run, dir: &Path, expected: &[String], live: &Live) {
    promise_file_any(what, run, dir, &[expected.to_vec()], live);
}

/// The same, where any of `expected` is right (a read from the start
/// again includes the messages added at the head).
fn promise_file_any(what: &str, run: &Run, dir: &Path, expected: &[Vec<String>], live: &Live) {
    assert!(run.code.is_some(), "{what}: convo hung");
    assert!(!run.stderr.contains("panicked"), "{what}: panic: {}", run.stderr);
    let file = out_ids(dir);
    let mut seen = HashSet::new();
    for id in &file {
        assert!(seen.insert(id), "{what}: `{id}` twice in the file ({}) ; {}", show(run), asked(live));
    }
    if run.code == Some(0) {
        assert!(
            expected.contains(&file),
            "{what}: exit 0 with a wrong file {file:?} ({}) ; {}",
            show(run),
            asked(live)
        );
    }
}

fn without(mut v: Vec<String>, id: &str) -> Vec<String> {
    v.retain(|x| x != id);
    v
}

fn with(mut v: Vec<String>, more: &[String]) -> Vec<String> {
    v.extend_from_slice(more);
    v
}

// ------------------------------------------- changes during a failed run

#[derive(Clone, Copy, Debug)]
enum Change {
    Del(usize),
    Head(usize),
    Tail(usize),
}

fn apply(change: Change, l: &mut Vec<Value>, salt: usize) {
    match change {
        Change::Del(d) => l.retain(|m| m["message_id"] != format!("o{d:04}")),
        Change::Head(n) => (0..n).for_each(|i| l.insert(0, octo_message(1000 + salt * 100 + i))),
        Change::Tail(n) => l.extend((0..n).map(|i| octo_message(500 + salt * 20 + i))),
    }
}

fn tail_ids(n: usize, salt: usize) -> Vec<String> {
    (0..n).map(|i| format!("o{:04}", 500 + salt * 20 + i)).collect()
}

/// A change before request `k` of run 1, which stops on a 501 at request
/// `f` (a page read, or a request of the final check); then up to two
/// runs resumed from the last token. 25 messages: run 1 reads pages 1-4
/// (requests 1-4) and checks pages 1-3 (5-7).
#[test]
fn octopush_change_during_a_failed_run_then_resume_keeps_the_promise() {
    let mut needless = Vec::new();
    let changes = [
        Change::Del(0),
        Change::Del(5),
        Change::Del(15),
        Change::Del(22),
        Change::Head(1),
        Change::Head(2),
        Change::Tail(1),
        Change::Tail(6),
    ];
    for change in changes {
        for k in 2..=7 {
            for f in k..=8 {
                let live = Live::new(msgs(0..25));
                live.fail_at(&[f]);
                live.hook(move |o, l| {
                    if o == k {
                        apply(change, l, 0);
                    }
                });
                let chain = chain(&live, 3, |_| {});
                let what = format!("{change:?} before request {k}, 501 at request {f}");
                let expected = match change {
                    Change::Del(d) if d / 10 + 1 < k.min(f) => octo_ids(0..25),
                    Change::Del(d) => without(octo_ids(0..25), &format!("o{d:04}")),
                    Change::Head(_) => octo_ids(0..25),
                    Change::Tail(n) => with(octo_ids(0..25), &tail_ids(n, 0)),
                };
                promise_chain(&what, &chain, &live, &expected);
                let benign = match change {
                    Change::Del(d) => d / 10 + 1 >= k,
                    Change::Head(1) | Change::Tail(_) => true,
                    Change::Head(_) => false,
                };
                if benign && chain.runs.last().unwrap().code != Some(0) {
                    needless.push(format!("[{what}] {} ; {}", chain.describe(), asked(&live)));
                }
            }
        }
    }
    // Needless failures seen here (k == f: the change lands between the
    // runs) are described in the closing note of 2026-12-03.
    eprintln!("{} needless failures:\n{}", needless.len(), needless.join("\n"));
}

// ------------------------------------------------- changes between runs

/// Run 1 (35 messages: pages 1-5, check 1-4 at requests 6-9) stops on a
/// 501 at request `f`; the listing changes between the runs; run 2 (and a
/// run 3 if run 2 prints a token) resumes.
fn between_runs(change: Change, f: usize) -> (Chain, Live, Vec<String>, bool) {
    let live = Live::new(msgs(0..35));
    live.fail_at(&[f]);
    let chain = chain(&live, 3, |i| {
        if i == 1 {
            live.change(|l| apply(change, l, 1));
        }
    });
    let expected = match change {
        Change::Del(d) if d / 10 + 1 < f => octo_ids(0..35),
        Change::Del(d) => without(octo_ids(0..35), &format!("o{d:04}")),
        Change::Head(_) => octo_ids(0..35),
        Change::Tail(n) => with(octo_ids(0..35), &tail_ids(n, 1)),
    };
    let benign = match change {
        Change::Del(d) => d / 10 + 1 >= f,
        Change::Head(_) | Change::Tail(_) => true,
    };
    (chain, live, expected, benign)
}

fn between_runs_matrix(changes: &[Change], fails: &[usize]) -> Vec<String> {
    let mut needless = Vec::new();
    for &change in changes {
        for &f in fails {
            let (chain, live, expected, benign) = between_runs(change, f);
            let what = format!("501 at request {f}, then {change:?} between the runs");
            promise_chain(&what, &chain, &live, &expected);
            if benign && chain.runs.last().unwrap().code != Some(0) {
                needless.push(format!("[{what}] {} ; {}", chain.describe(), asked(&live)));
            }
        }
    }
    needless
}

/// Wrong sets, duplicates, panics, hangs only (needless failures below).
#[test]
fn octopush_changes_between_runs_keep_the_promise() {
    let changes = [
        Change::Del(0),
        Change::Del(5),
        Change::Del(19),
        Change::Del(25),
        Change::Del(33),
        Change::Head(1),
        Change::Head(3),
        Change::Head(9),
        Change::Head(10),
        Change::Head(11),
        Change::Head(25),
        Change::Tail(1),
        Change::Tail(5),
        Change::Tail(6),
        Change::Tail(12),
    ];
    let needless = between_runs_matrix(&changes, &[2, 3, 4, 5, 6, 7, 9]);
    eprintln!("{}", needless.join("\n"));
}

// Was (needless failure): run 1 over 35 messages stops on a 501 at
// request 3 (page 3), after pages 1-2 (o0000-o0019). Its token is page 2
// (`page_with_check`, the last page written) with `after: o0019`. One
// message is added at the head between the runs. Run 2 asks page 2 again
// (requests: 1/10 2/10 !3/10 2/10), which now holds o0009-o0018: the
// scheme drops o0009 (the check's last key before page 2), then the
// token's `after` skip looks for o0019 on that page, pushed to page 3:
// exit 5, 0 lines, "cannot resume exactly once: message `o0019`, the last
// one written, is no longer on the page it was on; export the conversation
// again from the start". Same for any head addition (1, 3, 9, 10, 11, 25)
// after a stop at a page boundary (501 at requests 2-4), and for 9 or more
// after a stop on the empty page or in the check (requests 5-9): the last
// page written is re-read and the earlier run's last message has moved on.
// Now the token of a page written whole is the next page with the check:
// the resumed read finds the last message written where head additions
// pushed it (page 1 tells whether they did), a page or more on too.
#[test]
fn octopush_resume_after_a_head_addition_between_runs_goes_on() {
    for adds in [1, 3, 9, 10, 11, 25] {
        let (chain, live, expected, _) = between_runs(Change::Head(adds), 3);
        let what = format!("501 at page 3, {adds} head additions between the runs");
        promise_chain(&what, &chain, &live, &expected);
        assert_eq!(chain.runs.last().unwrap().code, Some(0), "{what}: {} ; {}", chain.describe(), asked(&live));
    }
}

// Was (needless failure, across runs): 35 messages, page 4 the short last
// page (o0030-o0034). Run 1 reads pages 1-5 and its check's first request
// (6) is a 501. Seven messages arrive at the tail before the resumed run:
// page 4 now holds o0030-o0034 and five of them, page 5 the other two. A
// run resumed at page 5 read only those two, and its check found the five
// on page 4 never delivered: exit 5. (The helper's probe went through a
// second failed run; with the next-page token its request ordinals no
// longer meet, so it is written here directly.) Now the resumed stream,
// not finding the earlier run's last message on page 5, asks page 4, finds
// it there with messages after it, and goes on from page 4.
#[test]
fn octopush_tail_growth_after_a_short_last_page_between_runs_is_read() {
    let live = Live::new(msgs(0..35));
    live.fail_at(&[6]);
    let chain = chain(&live, 2, |i| {
        if i == 1 {
            live.change(|l| apply(Change::Tail(7), l, 0));
        }
    });
    let expected = with(octo_ids(0..35), &tail_ids(7, 0));
    promise_chain("tail growth between the runs", &chain, &live, &expected);
    assert_eq!(chain.runs.len(), 2, "{}", chain.describe());
    assert_eq!(chain.runs[1].code, Some(0), "{} ; {}", chain.describe(), asked(&live));
}

// Was (needless failure, one run): 25 messages; page 3 is short (o0020-
// o0024); 6 or more messages are added at the tail before request 4 (the
// page that must confirm the end). Page 4 now holds them, and the read
// fails: exit 5, 25 lines, "page 3: 5 messages where 10 were served per
// page, and more pages follow; messages would be skipped", no resume
// token (requests 1/10 2/10 3/10 4/10). With 1-5 additions the check finds
// them after the last delivered and reads on (exit 0). A conversation that
// receives messages while it is read is the common case. Now the short
// page is read again and the read goes on from it.
#[test]
fn octopush_tail_additions_after_a_short_last_page_are_read() {
    for adds in [5, 6, 10, 15] {
        let live = Live::new(msgs(0..25));
        live.hook(move |o, l| {
            if o == 4 {
                apply(Change::Tail(adds), l, 0);
            }
        });
        let run = octo(&live, &[]);
        let what = format!("{adds} tail additions before request 4");
        let expected = with(octo_ids(0..25), &tail_ids(adds, 0));
        promise(&what, &run, &expected);
        assert_eq!(run.code, Some(0), "{what}: {} ; {}", show(&run), asked(&live));
    }
}

// ------------------------------------------------------------- chains

/// Two 501s (`a` < `b`, by ordinal across the runs) and a change before
/// request `k`: up to four runs, each resumed from the last one's token.
#[test]
fn octopush_chains_of_failed_runs_keep_the_promise() {
    let mut needless = Vec::new();
    for change in [Change::Del(5), Change::Del(15), Change::Del(27), Change::Head(1), Change::Tail(1), Change::Tail(7)]
    {
        for a in [2, 3, 4, 6] {
            for b in a + 1..=a + 6 {
                for k in [a, a + 1, b, b + 1] {
                    let live = Live::new(msgs(0..35));
                    live.fail_at(&[a, b]);
                    let applied = Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let flag = applied.clone();
                    live.hook(move |o, l| {
                        if o == k {
                            apply(change, l, 0);
                            flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                    });
                    let chain = chain(&live, 4, |_| {});
                    // (Runs that end sooner may never make request `k`.)
                    let applied = applied.load(std::sync::atomic::Ordering::SeqCst);
                    let what = format!("{change:?} before request {k}, 501s at {a} and {b}");
                    // Deleted before its page was served (whichever run): not part of the read.
                    let served_before = |d: usize| {
                        let reqs = live.server.requests.lock().unwrap();
                        reqs.iter().take(k - 1).enumerate().any(|(i, r)| {
                            let page: usize = r.param("page").unwrap_or("1").parse().unwrap();
                            i + 1 != a && i + 1 != b && page == d / 10 + 1
                        })
                    };
                    let expected = match change {
                        _ if !applied => octo_ids(0..35),
                        Change::Del(d) if served_before(d) => octo_ids(0..35),
                        Change::Del(d) => without(octo_ids(0..35), &format!("o{d:04}")),
                        Change::Head(_) => octo_ids(0..35),
                        Change::Tail(n) => with(octo_ids(0..35), &tail_ids(n, 0)),
                    };
                    promise_chain(&what, &chain, &live, &expected);
                    let last = chain.runs.last().unwrap();
                    if last.code != Some(0) {
                        let why = last.stderr.lines().next().unwrap_or_default().to_owned();
                        needless.push(format!(
                            "[{what}] {} runs; last {:?}: {why} ; {}",
                            chain.runs.len(),
                            last.code,
                            asked(&live)
                        ));
                    }
                }
            }
        }
    }
    eprintln!("{}", needless.join("\n"));
}

// -------------------------------------------------- caps and page sizes

/// Run 1 stops on a 501 at page 3 under cap `before`; the cap is `after`
/// for run 2.
#[test]
fn octopush_server_cap_changing_between_runs_keeps_the_promise() {
    let mut needless = Vec::new();
    for (before, after) in
        [(None, Some(5)), (None, Some(7)), (Some(7), None), (Some(7), Some(5)), (Some(5), Some(7)), (Some(7), Some(10))]
    {
        for f in [3, 5, 7] {
            let live = Live::new(msgs(0..33));
            live.cap(before);
            live.fail_at(&[f]);
            let chain = chain(&live, 3, |_| live.cap(after));
            let what = format!("cap {before:?} -> {after:?} between the runs, 501 at request {f}");
            promise_chain(&what, &chain, &live, &octo_ids(0..33));
            if chain.runs.last().unwrap().code != Some(0) {
                needless.push(format!("[{what}] {} ; {}", chain.describe(), asked(&live)));
            }
        }
    }
    eprintln!("{}", needless.join("\n"));
}

/// A resumed run with another --page-size (or none) is refused cleanly,
/// before any request.
#[test]
fn octopush_resume_with_another_page_size_is_refused_before_any_request() {
    let live = Live::new(msgs(0..35));
    live.fail_at(&[3]);
    let first = octo(&live, &[]);
    let token = token_of(&first).expect("a token");
    for size in [Some("5"), Some("20"), None] {
        let before = live.count();
        let run = octo_with(&live, size, &["--resume", &token]);
        let what = format!("--page-size {size:?} on the resumed run");
        assert!(run.code.is_some_and(|c| c != 0), "{what}: {}", show(&run));
        assert!(!run.stderr.contains("panicked"), "{what}: {}", show(&run));
        assert_eq!(run.stdout, "", "{what}");
        assert_eq!(live.count(), before, "{what}: requests were made: {}", asked(&live));
    }
}

// ------------------------------------------------------- forged tokens

/// Run 1 (35 messages) stops on a 501 at request `f`; its token's JSON is
/// edited by `edit`; run 2 resumes with it: a clean error (non-zero, no
/// panic, within the time limit) or, at exit 0, the exact set across both.
fn forged(f: usize, what: &str, edit: impl Fn(&mut Value)) -> (Chain, Live) {
    let live = Live::new(msgs(0..35));
    live.fail_at(&[f]);
    let first = octo(&live, &[]);
    let token = token_of(&first).unwrap_or_else(|| panic!("{what}: no token: {}", show(&first)));
    let mut json = decode_token(&token);
    edit(&mut json);
    let second = octo(&live, &["--resume", &encode_token(&json)]);
    let chain = Chain { runs: vec![first, second] };
    promise_chain(what, &chain, &live, &octo_ids(0..35));
    assert!(live.count() < 100, "{what}: {} requests: {}", live.count(), asked(&live));
    (chain, live)
}

fn check_field(json: &mut Value, field: &str, value: Value) {
    json["page"]["page_with_check"]["check"][field] = value;
}

/// Edited numbers of the check, the page, the sizes: a clean error or the
/// exact set.
#[test]
fn octopush_forged_check_numbers_in_a_token_never_give_a_wrong_set() {
    let big = json!(u64::MAX);
    let half = json!(u64::MAX / 2);
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("count 0", Box::new(|j| check_field(j, "count", json!(0)))),
        ("count 1", Box::new(|j| check_field(j, "count", json!(1)))),
        ("count 19", Box::new(|j| check_field(j, "count", json!(19)))),
        ("count 21", Box::new(|j| check_field(j, "count", json!(21)))),
        ("count max", Box::new(move |j| check_field(j, "count", big.clone()))),
        ("pages 0", Box::new(|j| check_field(j, "pages", json!(0)))),
        (
            "pages and count half",
            Box::new(move |j| {
                check_field(j, "pages", half.clone());
                check_field(j, "count", half.clone());
            }),
        ),
        ("first_page 0", Box::new(|j| check_field(j, "first_page", json!(0)))),
        ("first_page 2", Box::new(|j| check_field(j, "first_page", json!(2)))),
        ("first_page 3 (after page)", Box::new(|j| check_field(j, "first_page", json!(3)))),
        (
            "hash +1",
            Box::new(|j| {
                let h = j["page"]["page_with_check"]["check"]["hash"].as_u64().unwrap();
                check_field(j, "hash", json!(h.wrapping_add(1)));
            }),
        ),
        ("first_key 0", Box::new(|j| check_field(j, "first_key", json!(0)))),
        ("last_key 0", Box::new(|j| check_field(j, "last_key", json!(0)))),
        ("pushed max", Box::new(|j| check_field(j, "pushed", json!(u64::MAX)))),
        ("pushed 5", Box::new(|j| check_field(j, "pushed", json!(5)))),
        ("page 1", Box::new(|j| j["page"]["page_with_check"]["page"] = json!(1))),
        ("page 3", Box::new(|j| j["page"]["page_with_check"]["page"] = json!(3))),
        ("page 4", Box::new(|j| j["page"]["page_with_check"]["page"] = json!(4))),
        ("page max", Box::new(|j| j["page"]["page_with_check"]["page"] = json!(u64::MAX))),
        ("page 0", Box::new(|j| j["page"]["page_with_check"]["page"] = json!(0))),
        ("page -1", Box::new(|j| j["page"]["page_with_check"]["page"] = json!(-1))),
        ("page 2.5", Box::new(|j| j["page"]["page_with_check"]["page"] = json!(2.5))),
        ("page a string", Box::new(|j| j["page"]["page_with_check"]["page"] = json!("2"))),
        ("check null", Box::new(|j| j["page"]["page_with_check"]["check"] = Value::Null)),
        // (Not here: a token made to say that less was written than was,
        // `after` moved back or a plain page before the check's, with its
        // checksum computed again: it writes those messages again. The
        // checksum refuses edits, not forgeries; see the garbage tokens.)
        ("served_page_size 5", Box::new(|j| j["served_page_size"] = json!(5))),
        ("served_page_size 20", Box::new(|j| j["served_page_size"] = json!(20))),
        ("served_page_size 1000", Box::new(|j| j["served_page_size"] = json!(1000))),
        ("served_page_size 0", Box::new(|j| j["served_page_size"] = json!(0))),
        ("served_page_size max", Box::new(|j| j["served_page_size"] = json!(u64::MAX))),
        ("unknown field", Box::new(|j| check_field(j, "zzz", json!(1)))),
        ("cursor", Box::new(|j| j["page"] = json!({"cursor": "x"}))),
    ];
    let mut exits: Vec<String> = Vec::new();
    let mut broken = Vec::new();
    for f in [3, 6] {
        for (what, edit) in &edits {
            let what = format!("501 at {f}, token edited: {what}");
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| forged(f, &what, edit)));
            let Ok((chain, live)) = result else {
                broken.push(what.clone());
                continue;
            };
            let second = &chain.runs[1];
            exits.push(format!(
                "[{what}] exit {:?}, {} lines: {} ; {}",
                second.code,
                second.stdout.lines().count(),
                second.stderr.lines().next().unwrap_or_default(),
                asked(&live)
            ));
        }
    }
    eprintln!("{}", exits.join("\n"));
    assert!(broken.is_empty(), "promise broken (see the panics above) with: {broken:#?}");
}

/// Garbage tokens: a clean usage error, no request, no panic.
#[test]
fn octopush_garbage_tokens_are_refused_cleanly() {
    let live = Live::new(msgs(0..15));
    for token in ["", "r1.", "r1.!!!", "r2.e30", "r1.e30", "r1.bnVsbA", "r1.W10", "x", &"r1.A".repeat(5000)] {
        let run = octo(&live, &["--resume", token]);
        assert!(run.code.is_some_and(|c| c != 0), "{token:?}: {}", show(&run));
        assert!(!run.stderr.contains("panicked"), "{token:?}: {}", show(&run));
        assert_eq!(run.stdout, "", "{token:?}");
    }
    // A token edited without its checksum computed again: refused.
    let first = Live::new(msgs(0..35));
    first.fail_at(&[3]);
    let token = token_of(&octo(&first, &[])).expect("a token");
    let mut edited = decode_token(&token);
    edited["after"] = json!({"id": "o0005"});
    let stale = format!("{}.{}", encode_token(&edited).rsplit_once('.').unwrap().0, token.rsplit_once('.').unwrap().1);
    let old =
        format!("r1.{}", encode_token(&decode_token(&token)).strip_prefix("r2.").unwrap().rsplit_once('.').unwrap().0);
    for (token, why) in [(stale, "checksum does not match"), (old, "an older convo")] {
        let run = octo(&live, &["--resume", &token]);
        assert_eq!(run.code, Some(2), "{token:?}: {}", show(&run));
        assert!(run.stderr.contains(why), "{token:?}: {}", show(&run));
        assert_eq!(run.stdout, "", "{token:?}");
    }
    for json in [
        json!({"page": {"page_with_check": {"page": 2}}}),
        json!({"page": {"page_with_check": {"page": 2, "check": {}}}}),
        json!({"page": {"page": 2, "cursor": "x"}}),
        json!({"page": null, "after": {"raw": 5}}),
    ] {
        let run = octo(&live, &["--resume", &encode_token(&json)]);
        assert!(run.code.is_some_and(|c| c != 0), "{json}: {}", show(&run));
        assert!(!run.stderr.contains("panicked"), "{json}: {}", show(&run));
    }
    assert_eq!(live.count(), 0, "{}", asked(&live));
}

// Was (panic): run 1 (35 messages) stops on a 501 at request 3 (page
// 3); its token's check is edited to `pages` = `count` = u64::MAX (passed
// the bound count <= pages * per_page, saturating). Run 2 reads page
// 2 (o0010-o0019) and pushes its keys onto the count: "thread 'main'
// panicked at crates/runtime/src/paging/numbered.rs:424:9: attempt to add
// with overflow" (`self.count += 1` in Keys::push_hash), exit 101, 0 lines (requests
// 1/10 2/10 !3/10 2/10). Same with the 501 at request 6 (the check).
// A release build would wrap the count to 0 silently instead. Now such a
// position is refused before any request (pages × page size must not
// overflow, pages bounded by the page number), and the count saturates.
#[test]
fn octopush_forged_huge_count_in_a_token_never_panics() {
    for f in [3, 6] {
        let what = format!("501 at {f}, token edited: pages and count u64::MAX");
        let (chain, live) = forged(f, &what, |j| {
            check_field(j, "pages", json!(u64::MAX));
            check_field(j, "count", json!(u64::MAX));
        });
        assert_ne!(chain.runs[1].code, Some(0), "{what}: {} ; {}", chain.describe(), asked(&live));
    }
}

// ------------------------------------------------------------------ sync

/// Runs `convo sync` until one exits 0 or `most` have run; `between(i)`
/// before run i+1.
fn sync_chain(live: &Live, dir: &Path, most: usize, mut between: impl FnMut(usize)) -> Vec<Run> {
    let mut runs = vec![sync_octo(live, dir, &[])];
    while runs.len() < most && runs.last().unwrap().code != Some(0) {
        between(runs.len());
        runs.push(sync_octo(live, dir, &[]));
    }
    runs
}

fn describe_runs(runs: &[Run]) -> String {
    runs.iter().enumerate().map(|(i, r)| format!("run {}: {}", i + 1, show(r))).collect::<Vec<_>>().join(" | ")
}

/// A first sync stopped by a 501 at request `f` (a page, or the check),
/// with a change before request `k` or between the runs; reruns.
#[test]
fn octopush_sync_after_a_failed_first_run_keeps_the_promise() {
    let mut needless = Vec::new();
    let changes =
        [Change::Del(5), Change::Del(27), Change::Head(1), Change::Head(12), Change::Tail(1), Change::Tail(7)];
    for change in changes {
        for f in [2, 3, 4, 5, 6, 8] {
            // k == 0: between the first and second run.
            for k in [0, 2, f, f + 1] {
                let live = Live::new(msgs(0..35));
                live.fail_at(&[f]);
                if k > 0 {
                    live.hook(move |o, l| {
                        if o == k {
                            apply(change, l, 0);
                        }
                    });
                }
                let dir = tempfile::tempdir().unwrap();
                let runs = sync_chain(&live, dir.path(), 3, |i| {
                    if k == 0 && i == 1 {
                        live.change(|l| apply(change, l, 0));
                    }
                });
                let at = if k == 0 { f + 1 } else { k };
                let what = format!(
                    "sync: {change:?} before request {at}{}, 501 at {f}",
                    if k == 0 { " (between)" } else { "" }
                );
                let served_before = |d: usize| {
                    let reqs = live.server.requests.lock().unwrap();
                    reqs.iter().take(at - 1).enumerate().any(|(i, r)| {
                        let page: usize = r.param("page").unwrap_or("1").parse().unwrap();
                        i + 1 != f && page == d / 10 + 1
                    })
                };
                let expected = match change {
                    Change::Del(d) if served_before(d) => octo_ids(0..35),
                    Change::Del(d) => without(octo_ids(0..35), &format!("o{d:04}")),
                    Change::Head(_) => octo_ids(0..35),
                    Change::Tail(n) => with(octo_ids(0..35), &tail_ids(n, 0)),
                };
                let mut alternatives = vec![expected.clone()];
                if let Change::Head(h) = change {
                    let head: Vec<String> = (0..h).rev().map(|i| format!("o{:04}", 1000 + i)).collect();
                    alternatives.push(with(head, &expected));
                }
                // A conversation read again from its start (its file emptied:
                // the listing contradicted what an earlier run wrote) is the
                // conversation as it is then, without what was deleted.
                if let Change::Del(d) = change {
                    alternatives.push(without(octo_ids(0..35), &format!("o{d:04}")));
                }
                let last = runs.last().unwrap();
                for r in &runs {
                    promise_file_any(&what, r, dir.path(), &alternatives, &live);
                }
                if last.code != Some(0) {
                    let why: Vec<String> = runs
                        .iter()
                        .map(|r| format!("{:?} {}", r.code, r.stderr.lines().last().unwrap_or_default()))
                        .collect();
                    needless.push(format!("[{what}] {} runs: {} ; {}", runs.len(), why.join(" | "), asked(&live)));
                }
            }
        }
    }
    eprintln!("{}", needless.join("\n"));
}

/// A complete sync, then a change, then a rerun (and a third run): the
/// file never holds a message twice, and a run exiting 0 leaves the
/// listing's messages (those read before, plus the new ones at the tail).
#[test]
fn octopush_sync_rerun_after_a_complete_read_and_a_change_keeps_the_promise() {
    let mut needless = Vec::new();
    for n in [25, 30] {
        for change in [
            Change::Del(3),
            Change::Del(22),
            Change::Del(n - 1),
            Change::Head(1),
            Change::Head(10),
            Change::Tail(1),
            Change::Tail(5),
            Change::Tail(6),
            Change::Tail(12),
        ] {
            for fail in [None, Some(1), Some(2), Some(3)] {
                let live = Live::new(msgs(0..n));
                let dir = tempfile::tempdir().unwrap();
                let first = sync_octo(&live, dir.path(), &[]);
                assert_eq!(first.code, Some(0), "{}", show(&first));
                live.change(|l| apply(change, l, 0));
                let base = live.count();
                if let Some(f) = fail {
                    live.fail_at(&[base + f]);
                }
                let runs = sync_chain(&live, dir.path(), 3, |_| {});
                let what = format!("sync n={n}: complete, {change:?}, rerun (501 at its request {fail:?})");
                let expected = match change {
                    Change::Tail(t) => with(octo_ids(0..n), &tail_ids(t, 0)),
                    _ => octo_ids(0..n),
                };
                for r in &runs {
                    promise_file(&what, r, dir.path(), &expected, &live);
                }
                if runs.last().unwrap().code != Some(0) && matches!(change, Change::Tail(_)) {
                    let why: Vec<String> = runs
                        .iter()
                        .map(|r| format!("{:?} {}", r.code, r.stderr.lines().last().unwrap_or_default()))
                        .collect();
                    needless.push(format!("[{what}] {} runs: {} ; {}", runs.len(), why.join(" | "), asked(&live)));
                }
            }
        }
    }
    eprintln!("{}", needless.join("\n"));
}

// Was (needless failure, sync stuck): a first sync over 35 messages:
// o0005 is deleted after page 1 (before request 2, so o0010 is skipped),
// page 3 (request 3) is a 501: exit 5, checkpoint page 2 with its check.
// The second sync resumes there (2/10 3/10 4/10 5/10), checks from page 1
// (1/10-4/10) and finds the skip: exit 5 "the conversation changed while
// it was read ... messages may have been skipped, read it again". The
// third sync does exactly the same (requests 2/10 3/10 4/10 5/10 1/10 2/10
// 3/10 4/10 again) and so does every later one: the checkpoint stays at
// page 2, the file never gets o0010, and only `--restart` gets out. (A
// first run whose own check fails is read again from the start by the
// next sync: probe5's octopush_sync_rerun_after_a_listing_change_...)
// Likewise after a head addition between the runs (any count, a stop at a
// page boundary): every rerun fails with "cannot resume exactly once:
// message `o0019`, the last one written, is no longer on the page it was
// on; export the conversation again from the start" (requests 2/10 each).
// Now a read that went on from an earlier run's check and cannot be read
// exactly once restarts the conversation where its output can be cut back
// (its file is emptied and written again by the next run).
#[test]
fn octopush_sync_reruns_after_a_change_seen_by_a_resumed_read_recover() {
    for (change, k) in [(Change::Del(5), 2), (Change::Head(1), 3)] {
        let live = Live::new(msgs(0..35));
        live.fail_at(&[3]);
        live.hook(move |o, l| {
            if o == k {
                apply(change, l, 0);
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let runs = sync_chain(&live, dir.path(), 4, |_| {});
        let what = format!("sync: {change:?} before request {k}, 501 at 3");
        let expected = match change {
            Change::Del(_) => without(octo_ids(0..35), "o0005"),
            _ => octo_ids(0..35),
        };
        let head = with(vec!["o1000".to_owned()], &octo_ids(0..35));
        for r in &runs {
            promise_file_any(&what, r, dir.path(), &[expected.clone(), octo_ids(0..35), head.clone()], &live);
        }
        assert_eq!(
            runs.last().unwrap().code,
            Some(0),
            "{what}: {} runs, none recovers: {} ; {}",
            runs.len(),
            describe_runs(&runs),
            asked(&live)
        );
    }
}

/// Run 2 resumed with --concurrency 4 (its check reads pages at once),
/// after a deletion or tail growth between the runs.
#[test]
fn octopush_resume_with_concurrency_keeps_the_promise() {
    for change in [Change::Del(3), Change::Del(31), Change::Tail(1), Change::Tail(12), Change::Head(10)] {
        for f in [3, 5, 7] {
            let live = Live::new(msgs(0..35));
            live.fail_at(&[f]);
            let first = octo(&live, &[]);
            let token = token_of(&first).expect("a token");
            live.change(|l| apply(change, l, 1));
            let second = octo(&live, &["--resume", &token, "--concurrency", "4"]);
            let expected = match change {
                Change::Del(d) if d / 10 + 1 < f => octo_ids(0..35),
                Change::Del(d) => without(octo_ids(0..35), &format!("o{d:04}")),
                Change::Head(_) => octo_ids(0..35),
                Change::Tail(n) => with(octo_ids(0..35), &tail_ids(n, 1)),
            };
            let what = format!("501 at {f}, {change:?} between, resumed with --concurrency 4");
            promise_chain(&what, &Chain { runs: vec![first, second] }, &live, &expected);
        }
    }
}
