//! `convo sync`: many conversations under one budget, checkpointed in a
//! state file; against the sandbox as a real server (its numbered
//! conversations, its faults, its rate limit), through the built binary.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Secrets, convo, convo_std, fetch_from, generated_conversation, run, sandbox};
use convo_sandbox::{Fault, FaultKind, RateLimit, SandboxOptions, Vendor, ids};

/// `convo sync <vendor>` of the first `count` numbered conversations of
/// the sandbox at `base_url`, with `extra` flags.
fn sync_command(vendor: Vendor, base_url: &str, dir: &Path, count: usize, extra: &[&str]) -> std::process::Command {
    let list = dir.join("conversations.txt");
    let ids: Vec<String> = (0..count).map(|n| ids::numbered(vendor, n)).collect();
    std::fs::write(&list, format!("# the sandbox's numbered conversations\n{}\n", ids.join("\n"))).unwrap();
    let mut command = convo_std();
    command.arg("sync").arg(vendor.as_str()).arg("--base-url").arg(base_url).arg("--conversations").arg(&list);
    command.arg("--state").arg(dir.join("state.json")).arg("--out-dir").arg(dir.join("out"));
    if !extra.contains(&"--page-size") {
        command.args(["--page-size", "50"]);
    }
    command.args(extra);
    if vendor == Vendor::Bird {
        command.args(["--workspace", ids::bird::WORKSPACE]);
    }
    for (name, value) in Secrets::sandbox().env(vendor.as_str()) {
        command.env(name, value);
    }
    command
}

fn sync(vendor: Vendor, base_url: &str, dir: &Path, count: usize, extra: &[&str]) -> common::Run {
    let mut command: assert_cmd::Command = sync_command(vendor, base_url, dir, count, extra).into();
    command.timeout(Duration::from_secs(120));
    run(&mut command)
}

/// The ids in a conversation's output file, in order.
fn file_ids(dir: &Path, vendor: Vendor, n: usize) -> Vec<String> {
    let path: PathBuf = dir.join("out").join(convo_sync_file_name(&ids::numbered(vendor, n)));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(|line| {
            let message: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            message["id"].as_str().expect("an id").to_owned()
        })
        .collect()
}

/// The sandbox's ids are plain: the file is the id and `.ndjson`.
fn convo_sync_file_name(id: &str) -> String {
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");
    format!("{id}.ndjson")
}

/// What `convo fetch` reads of the generated conversation (the numbered
/// ones hold the same messages): the expected ids, in the vendor's order.
fn fetched(vendor: Vendor, base_url: &str) -> Vec<String> {
    let mut command = convo();
    fetch_from(&mut command, vendor.as_str(), base_url, generated_conversation(vendor.as_str()), &Secrets::sandbox());
    let fetched = run(&mut command);
    fetched.expect_success();
    fetched.ids()
}

/// The summary's "N s waiting on the rate budget".
fn waited(stderr: &str) -> f64 {
    let (before, _) = stderr.split_once(" s waiting on the rate budget").expect("a summary");
    before.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("seconds waited")
}

fn no_repeats(ids: &[String]) -> bool {
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    unique.len() == ids.len()
}

#[test]
fn every_vendor_syncs_each_conversation_exactly_once_then_reads_only_what_is_new() {
    const CONVERSATIONS: usize = 5;
    for vendor in Vendor::ALL {
        let name = vendor.as_str();
        let served = sandbox(SandboxOptions { messages: 120, conversations: CONVERSATIONS, ..Default::default() });
        let base = served.base_url(vendor);
        let dir = tempfile::tempdir().unwrap();
        let first = sync(vendor, &base, dir.path(), CONVERSATIONS, &[]);
        first.expect_code(0);
        assert!(first.stdout.is_empty(), "{name}: with --out-dir nothing goes to stdout");
        assert!(first.stderr.contains("5 of 5 conversations read to their end"), "{name}: {}", first.stderr);
        let expected = fetched(vendor, &base);
        assert_eq!(expected.len(), 120, "{name}");
        for n in 0..CONVERSATIONS {
            assert_eq!(file_ids(dir.path(), vendor, n), expected, "{name}: conversation {n}, in the vendor's order");
        }

        // Nothing new: at most one request a conversation, nothing written.
        let files: Vec<Vec<u8>> = (0..CONVERSATIONS)
            .map(|n| {
                std::fs::read(dir.path().join("out").join(format!("{}.ndjson", ids::numbered(vendor, n)))).unwrap()
            })
            .collect();
        let before = served.requests(vendor);
        let again = sync(vendor, &base, dir.path(), CONVERSATIONS, &[]);
        again.expect_code(0);
        let requests = served.requests(vendor) - before;
        // One request each: the page that ends at the newest message (Bird,
        // LeadConnector); Infobip's keyset read asks once more to see the
        // end; Octopush's last page is followed by the empty one that ends
        // it, and read again (the check that nothing shifted under the read).
        let each = match vendor {
            Vendor::Octopush => 3,
            Vendor::Infobip => 2,
            Vendor::Leadconnector | Vendor::Bird => 1,
        };
        assert!(
            requests <= each * CONVERSATIONS,
            "{name}: {requests} requests for {CONVERSATIONS} unchanged conversations"
        );
        assert!(
            again.stderr.contains("(5 with nothing new)") && again.stderr.contains("0 messages written"),
            "{name}: {}",
            again.stderr
        );
        for (n, file) in files.iter().enumerate() {
            let now =
                std::fs::read(dir.path().join("out").join(format!("{}.ndjson", ids::numbered(vendor, n)))).unwrap();
            assert_eq!(&now, file, "{name}: conversation {n} unchanged");
        }

        // New messages: the next run writes exactly those.
        served.set_messages(170).unwrap();
        let grown = sync(vendor, &base, dir.path(), CONVERSATIONS, &[]);
        grown.expect_code(0);
        assert!(grown.stderr.contains(&format!("{} messages written", 50 * CONVERSATIONS)), "{name}: {}", grown.stderr);
        let all = fetched(vendor, &base);
        let mut want = all.clone();
        want.sort();
        for n in 0..CONVERSATIONS {
            let ids = file_ids(dir.path(), vendor, n);
            assert!(no_repeats(&ids), "{name}: conversation {n} repeats a message");
            let mut got = ids.clone();
            got.sort();
            assert_eq!(got, want, "{name}: conversation {n} holds every message once");
            // What was new is in the vendor's order after what was there.
            let new: Vec<&String> = all.iter().filter(|id| !expected.contains(id)).collect();
            assert_eq!(ids[120..].iter().collect::<Vec<_>>(), new, "{name}: conversation {n}'s new messages");
        }
    }
}

#[test]
fn a_failing_conversation_is_reported_the_others_go_on_and_a_rerun_completes_it() {
    for vendor in Vendor::ALL {
        let name = vendor.as_str();
        // The sixth request fails for good (501 is not retried).
        let fault = Fault { vendor, on_request: 6, kind: FaultKind::Status { status: 501, retry_after: None } };
        let options = SandboxOptions { messages: 120, conversations: 4, faults: vec![fault], ..Default::default() };
        let served = sandbox(options);
        let base = served.base_url(vendor);
        let dir = tempfile::tempdir().unwrap();
        let first = sync(vendor, &base, dir.path(), 4, &["--concurrency", "2"]);
        first.expect_code(5);
        assert!(
            first.stderr.contains("3 of 4 conversations read to their end") && first.stderr.contains("1 failed"),
            "{name}: {}",
            first.stderr
        );
        assert_eq!(
            first.stderr.lines().filter(|l| l.contains("failed: ")).count(),
            2,
            "{name}: the failure, then the exit's line: {}",
            first.stderr
        );
        assert!(first.stderr.contains("the same command goes on"), "{name}: {}", first.stderr);
        common::expect_no_panic_or_debug(&first.stderr);
        let second = sync(vendor, &base, dir.path(), 4, &["--concurrency", "2"]);
        second.expect_code(0);
        let expected = fetched(vendor, &base);
        for n in 0..4 {
            assert_eq!(
                file_ids(dir.path(), vendor, n),
                expected,
                "{name}: conversation {n} exactly once across the runs"
            );
        }
    }
}

#[test]
fn over_the_sandboxs_rate_limit_429s_are_waited_out_and_within_it_none_come() {
    for vendor in [Vendor::Bird, Vendor::Leadconnector, Vendor::Infobip] {
        let name = vendor.as_str();
        let sandbox_limited_to = |requests| {
            let limit = RateLimit { requests, per: Duration::from_secs(1) };
            sandbox(SandboxOptions { messages: 100, conversations: 6, rate_limit: Some(limit), ..Default::default() })
        };
        // A budget far above the server's limit (5 a second): the six
        // conversations' first requests leave at once (the budget's burst
        // is 20), so 429s come on any machine, and are waited out.
        let served = sandbox_limited_to(5);
        let base = served.base_url(vendor);
        let dir = tempfile::tempdir().unwrap();
        let over = sync(vendor, &base, dir.path(), 6, &["--requests-per-second", "100"]);
        over.expect_code(0);
        let refused = served.rate_limited(vendor);
        assert!(
            over.stderr.contains(&format!(" {refused} answered 429,")),
            "{name}: the summary counts the {refused} refused: {}",
            over.stderr
        );
        if vendor == Vendor::Leadconnector {
            // LeadConnector's answers say what is left (`X-RateLimit-Remaining`),
            // and the budget pauses at 0: whether a 429 still comes depends on
            // what was in flight then. Either way the run waited.
            let waited = waited(&over.stderr);
            assert!(refused > 0 || waited > 0.0, "{name}: neither refused nor paused: {}", over.stderr);
        } else {
            // The others say nothing before the 429.
            assert!(refused > 0, "{name}: the sandbox refused some");
        }
        std::thread::sleep(Duration::from_millis(1100));
        let expected = fetched(vendor, &base);
        for n in 0..6 {
            assert_eq!(file_ids(dir.path(), vendor, n), expected, "{name}: conversation {n}");
        }
        // A budget within the server's 10 a second: none. At most 2 in
        // flight and 8 new a second (the burst is 1) is at most 10 arriving
        // in any second, however the requests are scheduled; at least 12
        // requests (two pages each), so a budget that ignored the flag would
        // draw 429s.
        let served = sandbox_limited_to(10);
        let base = served.base_url(vendor);
        let dir = tempfile::tempdir().unwrap();
        let within = sync(vendor, &base, dir.path(), 6, &["--requests-per-second", "8", "--concurrency", "2"]);
        within.expect_code(0);
        assert!(within.stderr.contains(" 0 answered 429"), "{name}: {}", within.stderr);
        assert_eq!(served.rate_limited(vendor), 0, "{name}: no request was refused");
        for n in 0..6 {
            assert_eq!(file_ids(dir.path(), vendor, n), expected, "{name}: conversation {n}, within the budget");
        }
    }
}

#[test]
fn killing_a_sync_halfway_and_running_it_again_writes_every_message_exactly_once() {
    for vendor in [Vendor::Bird, Vendor::Octopush] {
        let name = vendor.as_str();
        let options =
            SandboxOptions { messages: 300, conversations: 8, delay: Duration::from_millis(15), ..Default::default() };
        let served = sandbox(options);
        let base = served.base_url(vendor);
        let dir = tempfile::tempdir().unwrap();
        let mut child = sync_command(vendor, &base, dir.path(), 8, &["--concurrency", "3"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Killed (SIGKILL: no chance to tidy up) once a few pages are in.
        let deadline = Instant::now() + Duration::from_secs(60);
        while served.requests(vendor) < 10 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let total: usize = (0..8).map(|n| file_ids(dir.path(), vendor, n).len()).sum();
        assert!(total < 8 * 300, "{name}: killed halfway ({total} lines written)");
        let again = sync(vendor, &base, dir.path(), 8, &["--concurrency", "3"]);
        again.expect_code(0);
        let expected = fetched(vendor, &base);
        for n in 0..8 {
            assert_eq!(
                file_ids(dir.path(), vendor, n),
                expected,
                "{name}: conversation {n} exactly once across the runs"
            );
        }
    }
}

#[test]
fn refused_credentials_fail_every_conversation_with_exit_3_and_never_print_them() {
    let served = sandbox(SandboxOptions { messages: 10, conversations: 2, ..Default::default() });
    for vendor in Vendor::ALL {
        let name = vendor.as_str();
        let dir = tempfile::tempdir().unwrap();
        let mut command = sync_command(vendor, &served.base_url(vendor), dir.path(), 2, &[]);
        for (variable, value) in Secrets::canaries().env(name) {
            command.env(variable, value);
        }
        let mut command: assert_cmd::Command = command.into();
        let failed = run(&mut command);
        failed.expect_code(3);
        for form in Secrets::canaries().leak_forms(name) {
            assert!(!failed.all().contains(&form), "{name}: the credential leaked");
        }
        common::expect_no_panic_or_debug(&failed.stderr);
    }
}

#[test]
fn the_merged_stream_names_each_lines_conversation_and_bad_lists_are_usage_errors() {
    let out =
        run(convo().args(["sync", "bird", "--sandbox", "--sandbox-conversations", "3", "--sandbox-messages", "40"]));
    out.expect_code(0);
    let lines = out.ndjson();
    assert_eq!(lines.len(), 120);
    for n in 0..3 {
        let id = ids::numbered(Vendor::Bird, n);
        let of: Vec<_> = lines.iter().filter(|l| l["conversation"] == id.as_str()).collect();
        assert_eq!(of.len(), 40, "conversation {n}");
        assert!(of.iter().all(|l| l["message"]["vendor"] == "bird"));
    }
    let missing = run(convo().args(["sync", "bird", "--workspace", "w"]));
    assert!(missing.expect_error_line(2).contains("--conversations"), "{}", missing.stderr);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("ids.txt");
    std::fs::write(&list, "not-a-cid\n").unwrap();
    let bad = run(convo()
        .args(["sync", "octopush", "--base-url", "http://127.0.0.1:9", "--conversations"])
        .arg(&list)
        .envs(Secrets::sandbox().env("octopush")));
    let line = bad.expect_error_line(2);
    assert!(line.contains("not-a-cid"), "{line}");
}

#[test]
fn a_listing_that_cannot_be_read_exactly_once_goes_back_and_the_rerun_writes_it_once() {
    // Bird's third request points back: the read cannot go on from a
    // checkpoint; the conversation goes back to before the run, its file too.
    let vendor = Vendor::Bird;
    let fault = Fault { vendor, on_request: 3, kind: FaultKind::RepeatCursor };
    let served = sandbox(SandboxOptions { messages: 200, conversations: 1, faults: vec![fault], ..Default::default() });
    let base = served.base_url(vendor);
    let dir = tempfile::tempdir().unwrap();
    let first = sync(vendor, &base, dir.path(), 1, &[]);
    first.expect_code(5);
    let again = sync(vendor, &base, dir.path(), 1, &[]);
    again.expect_code(0);
    assert_eq!(file_ids(dir.path(), vendor, 0), fetched(vendor, &base), "exactly once across the runs");
}

#[test]
fn a_read_in_progress_goes_on_only_with_the_page_size_it_was_checkpointed_at() {
    // The second request fails for good: the first page (of 50) is checkpointed.
    let vendor = Vendor::Bird;
    let fault = Fault { vendor, on_request: 2, kind: FaultKind::Status { status: 501, retry_after: None } };
    let served = sandbox(SandboxOptions { messages: 200, conversations: 1, faults: vec![fault], ..Default::default() });
    let base = served.base_url(vendor);
    let dir = tempfile::tempdir().unwrap();
    sync(vendor, &base, dir.path(), 1, &[]).expect_code(5);
    let resized = sync(vendor, &base, dir.path(), 1, &["--page-size", "30"]);
    resized.expect_code(5);
    assert!(resized.stderr.contains("page size of 50, not 30"), "{}", resized.stderr);
    sync(vendor, &base, dir.path(), 1, &[]).expect_code(0);
    assert_eq!(file_ids(dir.path(), vendor, 0), fetched(vendor, &base), "exactly once across the runs");
}

#[test]
fn a_conversation_whose_checkpoint_no_longer_holds_is_read_again_from_its_start_with_restart() {
    // Octopush's messages carry no time: a later run asks for its last page
    // again and must find it as it was. Here the newest 20 are removed, so
    // that page is not: the run fails with a typed error naming the way on.
    let vendor = Vendor::Octopush;
    let served = sandbox(SandboxOptions { messages: 120, conversations: 2, ..Default::default() });
    let base = served.base_url(vendor);
    let dir = tempfile::tempdir().unwrap();
    sync(vendor, &base, dir.path(), 2, &[]).expect_code(0);
    served.set_messages(100).unwrap();
    let shifted = sync(vendor, &base, dir.path(), 2, &[]);
    shifted.expect_code(5);
    assert!(shifted.stderr.contains("--restart"), "the error names the way on: {}", shifted.stderr);
    let expected = fetched(vendor, &base);
    assert_eq!(expected.len(), 100);

    let restarted = sync(vendor, &base, dir.path(), 2, &["--restart"]);
    restarted.expect_code(0);
    assert!(restarted.stderr.contains("200 messages written"), "{}", restarted.stderr);
    for n in 0..2 {
        assert_eq!(
            file_ids(dir.path(), vendor, n),
            expected,
            "conversation {n}: its file holds what is listed now, once"
        );
    }
    // And the state goes on from there.
    let again = sync(vendor, &base, dir.path(), 2, &[]);
    again.expect_code(0);
    assert!(again.stderr.contains("0 messages written"), "{}", again.stderr);

    // Without a state there is nothing to restart.
    let mut command: assert_cmd::Command = convo_std().into();
    let usage = run(command.args(["sync", "octopush", "--sandbox", "--restart"]));
    usage.expect_code(2);
    assert!(usage.stderr.contains("--state"), "{}", usage.stderr);
}

/// A one-page conversation of `vendor` (LeadConnector or Bird) built from
/// its documented sample's first message: one message for each of `times`
/// (`None`: a `null` creation time), ids `m0`, `m1`, …, then one message
/// that cannot be decoded (no id, no time).
fn page_with_times(vendor: &str, times: &[Option<&str>]) -> Vec<u8> {
    let (list, time_key) = if vendor == "bird" { ("results", "createdAt") } else { ("messages", "dateAdded") };
    let mut body: serde_json::Value = serde_json::from_slice(&common::sample(vendor)).unwrap();
    let template = body[list][0].clone();
    let mut messages: Vec<serde_json::Value> = times
        .iter()
        .enumerate()
        .map(|(n, time)| {
            let mut message = template.clone();
            message["id"] = format!("m{n}").into();
            message[time_key] = time.map_or(serde_json::Value::Null, Into::into);
            message
        })
        .collect();
    messages.push(serde_json::json!({ "not": "a message" }));
    body[list] = messages.into();
    if vendor == "leadconnector" {
        body["nextPage"] = false.into();
    }
    serde_json::to_vec(&body).unwrap()
}

#[test]
fn messages_without_a_time_are_written_once_across_runs() {
    // A later run reads from the newest time written: a message with no
    // time (or no id either) cannot be placed by it, and the server (this
    // one ignores every filter) sends it again. It must not be written again.
    for vendor in [Vendor::Leadconnector, Vendor::Bird] {
        let name = vendor.as_str();
        for times in [
            &[Some("2024-03-27T18:13:49.000Z"), None, None][..],
            &[None, None][..], // no time at all: every later read is the whole conversation
        ] {
            let server = common::one_page(&page_with_times(name, times));
            let dir = tempfile::tempdir().unwrap();
            let lines = || {
                let path = dir.path().join("out").join(convo_sync_file_name(&ids::numbered(vendor, 0)));
                let text = std::fs::read_to_string(path).unwrap();
                text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).collect::<Vec<_>>()
            };
            let first = sync(vendor, &server.uri(), dir.path(), 1, &[]);
            first.expect_code(0);
            let written = lines();
            assert_eq!(written.len(), times.len() + 1, "{name} {times:?}: every message once: {written:?}");
            assert!(
                written.last().unwrap()["decode_error"].is_object(),
                "{name}: the odd one is kept, raw: {:?}",
                written.last()
            );
            for _ in 0..2 {
                let again = sync(vendor, &server.uri(), dir.path(), 1, &[]);
                again.expect_code(0);
                assert!(again.stderr.contains("0 messages written"), "{name} {times:?}: {}", again.stderr);
                assert_eq!(lines(), written, "{name} {times:?}: the file is unchanged");
            }
        }
    }
}

#[test]
fn an_octopush_page_ending_in_a_message_without_an_id_or_with_a_repeated_id_is_not_written_again() {
    // Octopush's messages carry no time: a later run reads the last page
    // again and skips what it listed then. A message there without an id
    // (it cannot be decoded), or two records with one id, must be told
    // apart by more than the id.
    let sample = common::sample_messages("octopush");
    let with_id = |id: &str| {
        let mut message = sample[0].clone();
        message["message_id"] = id.into();
        message
    };
    let mut without_id = sample[0].clone();
    without_id["message_id"] = serde_json::Value::Null;
    // Two different records with one id (as the documented sample's masked
    // ids are): both are messages. (Byte for byte the same, they would be
    // one message sent twice, delivered once.)
    let mut other_m0 = with_id("m0");
    other_m0["text"] = "another record with the id m0".into();
    for page in [vec![with_id("m0"), with_id("m1"), without_id.clone()], vec![with_id("m0"), with_id("m1"), other_m0]] {
        let server = common::one_page(&serde_json::to_vec(&page).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let vendor = Vendor::Octopush;
        let file = dir.path().join("out").join(convo_sync_file_name(&ids::numbered(vendor, 0)));
        sync(vendor, &server.uri(), dir.path(), 1, &[]).expect_code(0);
        let written = std::fs::read(&file).unwrap();
        assert_eq!(written.iter().filter(|&&b| b == b'\n').count(), 3, "every message once");
        for _ in 0..2 {
            let again = sync(vendor, &server.uri(), dir.path(), 1, &[]);
            again.expect_code(0);
            assert!(again.stderr.contains("0 messages written"), "{page:?}: {}", again.stderr);
            assert_eq!(std::fs::read(&file).unwrap(), written, "{page:?}: the file is unchanged");
        }
    }
}

#[test]
fn a_conversation_written_to_the_merged_stream_is_not_continued_in_a_file_that_lacks_its_start() {
    let vendor = Vendor::Bird;
    let served = sandbox(SandboxOptions { messages: 120, conversations: 1, ..Default::default() });
    let base = served.base_url(vendor);
    let dir = tempfile::tempdir().unwrap();
    // The same state, once to the merged stream on stdout ...
    let list = dir.path().join("conversations.txt");
    std::fs::write(&list, ids::numbered(vendor, 0)).unwrap();
    let mut merged: assert_cmd::Command = convo_std().into();
    merged.args(["sync", "bird", "--base-url", &base, "--workspace", ids::bird::WORKSPACE, "--page-size", "50"]);
    merged.arg("--conversations").arg(&list).arg("--state").arg(dir.path().join("state.json"));
    for (name, value) in Secrets::sandbox().env("bird") {
        merged.env(name, value);
    }
    let first = run(&mut merged);
    first.expect_code(0);
    assert_eq!(first.stdout.lines().count(), 120);
    // ... then to a directory: its file would hold only what is new.
    let to_dir = sync(vendor, &base, dir.path(), 1, &[]);
    to_dir.expect_code(2);
    assert!(to_dir.stderr.contains("--restart"), "{}", to_dir.stderr);
    let restarted = sync(vendor, &base, dir.path(), 1, &["--restart"]);
    restarted.expect_code(0);
    assert_eq!(file_ids(dir.path(), vendor, 0), fetched(vendor, &base), "the whole conversation, once");
    // Back to the merged stream with nothing new: the file still holds
    // everything, and goes on.
    run(&mut merged).expect_code(0);
    sync(vendor, &base, dir.path(), 1, &[]).expect_code(0);
    // With new messages to the merged stream, the file lacks them: refused.
    served.set_messages(150).unwrap();
    let grown = run(&mut merged);
    grown.expect_code(0);
    assert_eq!(grown.stdout.lines().count(), 30);
    sync(vendor, &base, dir.path(), 1, &[]).expect_code(2);
}

#[test]
fn octopush_capping_its_pages_is_read_for_what_is_new_in_the_pages_it_counts() {
    // The server serves at most 20 messages a page whatever is asked, and
    // numbers its pages by 20. A later run goes on from the last page's
    // number: asked for pages of 50 again, that number would point
    // elsewhere. It asks for pages of the size served.
    use convo_hostile::{Behaviour, End, HostileServer, Options};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let options = Options::new(convo_hostile::Vendor::Octopush, 70).behaviour(Behaviour::CapPageSize { max: 20 });
    let conversation = options.conversation_id.clone();
    let server = runtime.block_on(HostileServer::start(options)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("conversations.txt");
    std::fs::write(&list, &conversation).unwrap();
    let file = dir.path().join("out").join(format!("{conversation}.ndjson"));
    let run_sync = || {
        let mut command: assert_cmd::Command = convo_std().into();
        command.args(["sync", "octopush", "--base-url", &server.base_url(), "--page-size", "50"]);
        command.arg("--conversations").arg(&list);
        command.arg("--state").arg(dir.path().join("state.json")).arg("--out-dir").arg(dir.path().join("out"));
        command.env("OCTOPUSH_API_LOGIN", "login").env("OCTOPUSH_API_KEY", "key");
        command.timeout(Duration::from_secs(60));
        run(&mut command)
    };
    let ids = || -> Vec<String> {
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
            .collect()
    };
    run_sync().expect_code(0);
    assert_eq!(ids(), server.initial_ids(), "the first run: every message once, in order");
    // 25 new messages: the last page of 10 fills, and two more pages follow.
    let added: Vec<String> = (0..25).map(|_| server.add(End::Newest)).collect();
    let again = run_sync();
    again.expect_code(0);
    assert!(again.stderr.contains("25 messages written"), "{}", again.stderr);
    let mut expected = server.initial_ids();
    expected.extend(added);
    assert_eq!(ids(), expected, "the new ones once, after the others, in the vendor's order");
}
