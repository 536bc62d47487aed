//! The paging promise through the built `convo` binary, against hostile
//! vendors (crates/hostile): exit 0 only with every message of the
//! conversation exactly once, in the vendor's order; a nonzero exit is fine
//! for a misbehaving vendor, as long as the lines printed before it repeat
//! no id; the credential never appears on stdout or stderr, not even with
//! `RUST_LOG=trace`.

mod common;

use std::time::{Duration, Instant};

use common::{Run, convo, run};
use convo_hostile::{
    Behaviour, BirdTokens, CANARY, End, ErrorText, HostileServer, Options, Outcome, Vendor, assert_promise, one_segment,
};

/// A hostile server on a runtime of its own, for as long as the value lives
/// (the test stays synchronous and runs the binary as a child).
struct Hosted {
    // Dropped first: the server stops before its runtime.
    server: HostileServer,
    _runtime: tokio::runtime::Runtime,
}

impl Hosted {
    fn start(options: Options) -> Hosted {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let server = runtime.block_on(HostileServer::start(options)).expect("the hostile server starts");
        Hosted { server, _runtime: runtime }
    }
}

/// The credential environment of `vendor`, every value built on `secret`.
fn credentials(vendor: Vendor, secret: &str) -> Vec<(&'static str, String)> {
    match vendor {
        Vendor::Infobip => vec![("INFOBIP_API_KEY", secret.to_owned())],
        Vendor::Octopush => {
            vec![("OCTOPUSH_API_LOGIN", format!("login-{secret}")), ("OCTOPUSH_API_KEY", secret.to_owned())]
        }
        Vendor::Leadconnector => vec![("LEADCONNECTOR_TOKEN", secret.to_owned())],
        Vendor::Bird => vec![("BIRD_ACCESS_KEY", secret.to_owned())],
    }
}

/// `convo fetch <vendor> --base-url <server>` for the server's conversation,
/// with `extra` flags, credentials built on `secret`, and `RUST_LOG` when
/// given. Returns the run and how long it took.
fn fetch(hosted: &Hosted, secret: &str, extra: &[&str], rust_log: Option<&str>) -> (Run, Duration) {
    let options = hosted.server.options();
    let vendor = options.vendor;
    let mut command = convo();
    command.timeout(Duration::from_secs(60));
    command.args([
        "fetch",
        vendor.name(),
        "--base-url",
        &hosted.server.base_url(),
        "--conversation",
        &options.conversation_id,
    ]);
    finish(hosted, command, extra, secret, rust_log)
}

/// Adds what every run against the server takes (Bird's workspace,
/// `extra`, credentials built on `secret`, `RUST_LOG` when given), runs it,
/// and returns the run and how long it took.
fn finish(
    hosted: &Hosted,
    mut command: assert_cmd::Command,
    extra: &[&str],
    secret: &str,
    rust_log: Option<&str>,
) -> (Run, Duration) {
    let options = hosted.server.options();
    if options.vendor == Vendor::Bird {
        command.args(["--workspace", &options.workspace_id]);
    }
    command.args(extra);
    for (name, value) in credentials(options.vendor, secret) {
        command.env(name, value);
    }
    if let Some(level) = rust_log {
        command.env("RUST_LOG", level);
    }
    let started = Instant::now();
    let result = run(&mut command);
    (result, started.elapsed())
}

/// The run as an [`Outcome`]: the `id` of every NDJSON line on stdout, and
/// a nonzero exit as the error.
fn outcome(result: &Run, elapsed: Duration) -> Outcome {
    let ids = result
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|message| message["id"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("<not an NDJSON message: {line}>"))
        })
        .collect();
    let error = (result.code != Some(0)).then(|| ErrorText {
        display: format!("exit {:?}: {}", result.code, result.stderr.trim()),
        debug: result.stderr.clone(),
    });
    Outcome { ids, error, after_error: Vec::new(), timed_out: result.code.is_none(), elapsed }
}

/// Reads the server's conversation through `convo` and checks the promise
/// and the request bound. Returns the run.
fn promise(what: &str, options: Options, extra: &[&str], max_requests: usize) -> Run {
    let hosted = Hosted::start(options);
    let (result, elapsed) = fetch(&hosted, "ordinary-secret", extra, None);
    let read = outcome(&result, elapsed);
    if std::env::var_os("HOSTILE_VERBOSE").is_some() {
        eprintln!(
            "[{what}] {} ids of {} expected, {} requests, {:?}: {}",
            read.ids.len(),
            hosted.server.expectation().order.len(),
            hosted.server.request_count(),
            elapsed,
            read.error.as_ref().map_or("exit 0".to_owned(), |e| e.display.clone())
        );
    }
    assert_promise(what, &read, &hosted.server.expectation());
    let sent = hosted.server.request_count();
    assert!(sent <= max_requests, "{what}: {sent} requests, more than the {max_requests} this read needs: convo loops");
    common::expect_no_panic_or_debug(&result.stderr);
    result
}

/// The most requests a read of `messages` at `size` a page may take.
fn bound(messages: usize, size: usize) -> usize {
    2 * messages.div_ceil(size) + 10
}

macro_rules! promise_tests {
    ($($name:ident: $options:expr, $args:expr, $max:expr;)*) => {
        $(
            #[test]
            fn $name() {
                promise(stringify!($name), $options, $args, $max);
            }
        )*
    };
}

/// Every misbehaviour of the hostile server the CLI is read against, with
/// the flags and the request bound of each: `convo fetch` once
/// (`promise_tests`), `convo sync` twice (`sync_promise_tests`).
macro_rules! hostile_cases {
    ($tests:ident) => {
        $tests! {
    // Infobip, 10 a page.
    infobip_honest: Options::new(Vendor::Infobip, 120), &["--page-size", "10"], bound(120, 10);
    infobip_inserted_at_the_head: Options::new(Vendor::Infobip, 120).behaviour(Behaviour::Insert { at: End::Head }), &["--page-size", "10"], bound(121, 10);
    infobip_deleted_at_the_head: Options::new(Vendor::Infobip, 120).behaviour(Behaviour::Delete { at: End::Head }), &["--page-size", "10"], bound(120, 10);
    infobip_one_deleted_one_arriving_same_total:
        Options::new(Vendor::Infobip, 120).behaviour(Behaviour::DeleteAndInsert { delete: End::Head, insert: End::Newest }),
        &["--page-size", "10"], bound(121, 10);
    infobip_one_deleted_newest_one_inserted_at_the_head_same_total:
        Options::new(Vendor::Infobip, 120).behaviour(Behaviour::DeleteAndInsert { delete: End::Newest, insert: End::Head }),
        &["--page-size", "10"], bound(121, 10);
    infobip_capped_at_100_without_pagination: Options::new(Vendor::Infobip, 250).behaviour(Behaviour::CapPageSize { max: 100 }), &[], bound(250, 100);
    infobip_total_items_understated: Options::new(Vendor::Infobip, 242).behaviour(Behaviour::UnderstateTotal { by: 2 }), &["--page-size", "10"], bound(242, 10);
    infobip_short_page: Options::new(Vendor::Infobip, 120).behaviour(Behaviour::ShortPage { page: 2, missing: 1 }), &["--page-size", "10"], bound(120, 10);
    infobip_shared_milliseconds: Options::new(Vendor::Infobip, 150).same_millisecond(30), &["--page-size", "7"], bound(150, 7);
    infobip_503_once_on_page_3: Options::new(Vendor::Infobip, 120).behaviour(Behaviour::Status { status: 503, page: 3 }), &["--page-size", "10"], bound(120, 10);
    infobip_500_once_on_page_3: Options::new(Vendor::Infobip, 120).behaviour(Behaviour::Status { status: 500, page: 3 }), &["--page-size", "10"], bound(120, 10);
    infobip_dropped_connection_on_page_2: Options::new(Vendor::Infobip, 120).behaviour(Behaviour::DropConnection { page: 2 }), &["--page-size", "10"], bound(120, 10);

    // Octopush, its default 50 a page.
    octopush_honest: Options::new(Vendor::Octopush, 173), &[], bound(173, 50);
    octopush_exact_multiple: Options::new(Vendor::Octopush, 150), &[], bound(150, 50);
    octopush_inserted_at_the_head: Options::new(Vendor::Octopush, 173).behaviour(Behaviour::Insert { at: End::Head }), &[], bound(174, 50);
    octopush_deleted_at_the_head: Options::new(Vendor::Octopush, 173).behaviour(Behaviour::Delete { at: End::Head }), &[], bound(173, 50);
    octopush_capped_at_20: Options::new(Vendor::Octopush, 173).behaviour(Behaviour::CapPageSize { max: 20 }), &[], bound(173, 20);
    octopush_short_page_of_49: Options::new(Vendor::Octopush, 173).behaviour(Behaviour::ShortPage { page: 1, missing: 1 }), &[], bound(173, 49);
    octopush_503_once_on_page_3: Options::new(Vendor::Octopush, 173).behaviour(Behaviour::Status { status: 503, page: 3 }), &[], bound(173, 50);
    octopush_dropped_connection_on_page_2: Options::new(Vendor::Octopush, 173).behaviour(Behaviour::DropConnection { page: 2 }), &[], bound(173, 50);

    // LeadConnector, 20 a page.
    leadconnector_honest: Options::new(Vendor::Leadconnector, 130), &["--page-size", "20"], bound(130, 20);
    leadconnector_nested: Options::new(Vendor::Leadconnector, 130).nested(), &["--page-size", "20"], bound(130, 20);
    leadconnector_inserted_at_the_head: Options::new(Vendor::Leadconnector, 130).behaviour(Behaviour::Insert { at: End::Head }), &["--page-size", "20"], bound(131, 20);
    leadconnector_deleted_at_the_head: Options::new(Vendor::Leadconnector, 130).behaviour(Behaviour::Delete { at: End::Head }), &["--page-size", "20"], bound(130, 20);
    leadconnector_capped_at_15: Options::new(Vendor::Leadconnector, 130).behaviour(Behaviour::CapPageSize { max: 15 }), &[], bound(130, 15);
    leadconnector_cursor_into_the_same_page: Options::new(Vendor::Leadconnector, 130).behaviour(Behaviour::CursorIntoSamePage), &["--page-size", "20"], bound(130, 18);
    leadconnector_cursor_into_the_previous_page: Options::new(Vendor::Leadconnector, 130).behaviour(Behaviour::CursorIntoPreviousPage), &["--page-size", "20"], bound(130, 18);
    leadconnector_503_once_on_page_3: Options::new(Vendor::Leadconnector, 130).behaviour(Behaviour::Status { status: 503, page: 3 }), &["--page-size", "20"], bound(130, 20);
    leadconnector_dropped_connection_on_page_2: Options::new(Vendor::Leadconnector, 130).behaviour(Behaviour::DropConnection { page: 2 }), &["--page-size", "20"], bound(130, 20);

    // Bird, 10 a page.
    bird_honest: Options::new(Vendor::Bird, 125), &["--page-size", "10"], bound(125, 10);
    bird_inserted_at_the_head_offset_tokens:
        Options::new(Vendor::Bird, 125).bird_tokens(BirdTokens::Offset).behaviour(Behaviour::Insert { at: End::Head }),
        &["--page-size", "10"], bound(126, 10);
    bird_deleted_at_the_head_offset_tokens:
        Options::new(Vendor::Bird, 125).bird_tokens(BirdTokens::Offset).behaviour(Behaviour::Delete { at: End::Head }),
        &["--page-size", "10"], bound(125, 10);
    bird_deleted_at_the_head_keyset_tokens: Options::new(Vendor::Bird, 125).behaviour(Behaviour::Delete { at: End::Head }), &["--page-size", "10"], bound(125, 10);
    bird_capped_at_7: Options::new(Vendor::Bird, 125).behaviour(Behaviour::CapPageSize { max: 7 }), &[], bound(125, 7);
    bird_token_one_message_early: Options::new(Vendor::Bird, 125).behaviour(Behaviour::TokenOneEarly), &["--page-size", "10"], bound(125, 9);
    bird_same_page_with_a_fresh_token: Options::new(Vendor::Bird, 125).behaviour(Behaviour::SamePageFreshToken), &["--page-size", "10"], 10;
    bird_503_once_on_page_3: Options::new(Vendor::Bird, 125).behaviour(Behaviour::Status { status: 503, page: 3 }), &["--page-size", "10"], bound(125, 10);
    bird_dropped_connection_on_page_2: Options::new(Vendor::Bird, 125).behaviour(Behaviour::DropConnection { page: 2 }), &["--page-size", "10"], bound(125, 10);
        }
    };
}

hostile_cases!(promise_tests);

/// The faults every vendor gets through the CLI: an hour's `Retry-After`,
/// error bodies and headers echoing the credential, a gzip bomb.
macro_rules! fault_tests {
    ($module:ident, $vendor:expr, $messages:expr, $args:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn retry_after_an_hour_exits_nonzero_quickly() {
                let options = Options::new($vendor, $messages)
                    .behaviour(Behaviour::RateLimited { retry_after: "3600".to_owned() });
                let hosted = Hosted::start(options);
                let (result, elapsed) = fetch(&hosted, "ordinary-secret", $args, None);
                assert_ne!(result.code, Some(0), "429 on every request cannot end in success:\n{}", result.stdout);
                assert!(result.code.is_some(), "convo did not end");
                assert!(
                    elapsed < Duration::from_secs(15),
                    "an hour's Retry-After must end the run at once, took {elapsed:?}"
                );
                assert!(hosted.server.request_count() <= 5, "{} requests", hosted.server.request_count());
                assert_promise("429 Retry-After 3600", &outcome(&result, elapsed), &hosted.server.expectation());
                common::expect_one_error_line(&result.stderr);
            }

            fn echo(status: u16, rust_log: Option<&str>) {
                let options = Options::new($vendor, $messages).behaviour(Behaviour::EchoCredential { status });
                let hosted = Hosted::start(options);
                let (result, elapsed) = fetch(&hosted, CANARY, $args, rust_log);
                let what = format!("HTTP {status} echoing the credential (RUST_LOG={rust_log:?})");
                assert_ne!(result.code, Some(0), "{what}: a refusal cannot end in success");
                assert_promise(&what, &outcome(&result, elapsed), &hosted.server.expectation());
                assert!(!result.stdout.contains(CANARY), "{what}: stdout shows the credential:\n{}", result.stdout);
                assert!(!result.stderr.contains(CANARY), "{what}: stderr shows the credential:\n{}", result.stderr);
                assert!(hosted.server.request_count() <= 5, "{what}: {} requests", hosted.server.request_count());
            }

            #[test]
            fn echoed_credential_in_a_401_never_printed() {
                echo(401, None);
            }

            #[test]
            fn echoed_credential_in_a_400_never_printed() {
                echo(400, None);
            }

            #[test]
            fn echoed_credential_in_a_401_never_printed_even_with_trace_logs() {
                echo(401, Some("trace"));
            }

            #[test]
            fn echoed_credential_in_a_400_never_printed_even_with_trace_logs() {
                echo(400, Some("trace"));
            }

            #[test]
            fn gzip_bomb_past_the_default_body_limit_exits_nonzero() {
                // The CLI keeps the default limit (32 MiB): the bomb expands to 40.
                let options = Options::new($vendor, $messages)
                    .behaviour(Behaviour::GzipBomb { page: 1, expanded_bytes: 40 * 1024 * 1024 });
                let hosted = Hosted::start(options);
                let (result, elapsed) = fetch(&hosted, "ordinary-secret", $args, None);
                assert_ne!(
                    result.code,
                    Some(0),
                    "a 40 MiB body must be refused:\n{}",
                    result.stdout.chars().take(500).collect::<String>()
                );
                assert_promise("gzip bomb", &outcome(&result, elapsed), &hosted.server.expectation());
                common::expect_one_error_line(&result.stderr);
            }
        }
    };
}

fault_tests!(infobip_faults, Vendor::Infobip, 60, &["--page-size", "10"]);
fault_tests!(octopush_faults, Vendor::Octopush, 60, &["--page-size", "10"]);
fault_tests!(leadconnector_faults, Vendor::Leadconnector, 60, &["--page-size", "10"]);
fault_tests!(bird_faults, Vendor::Bird, 60, &["--page-size", "10"]);

// Identifiers that would escape their path segment.

fn path_stays_in_its_segment(vendor: Vendor, id: &str) {
    let options = Options::new(vendor, 30).conversation(id);
    let hosted = Hosted::start(options);
    let (result, elapsed) = fetch(&hosted, "ordinary-secret", &["--page-size", "10"], None);
    let what = format!("{vendor} conversation id {id:?}");
    assert_promise(&what, &outcome(&result, elapsed), &hosted.server.expectation());
    let (prefix, suffix) = match vendor {
        Vendor::Infobip => ("/ccaas/1/conversations/".to_owned(), "/messages"),
        Vendor::Leadconnector => ("/conversations/".to_owned(), "/messages"),
        Vendor::Bird => (format!("/workspaces/{}/conversations/", hosted.server.options().workspace_id), "/messages"),
        Vendor::Octopush => unreachable!("Octopush takes the id as a query value"),
    };
    for request in hosted.server.requests() {
        assert!(!request.path.contains("/admin"), "{what}: escaped its segment: {}", request.target);
        let segment = one_segment(&request.path, &prefix, suffix).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(segment, id, "{what}: {}", request.target);
    }
}

#[test]
fn infobip_dot_dot_backslash_conversation_id_stays_in_its_segment() {
    path_stays_in_its_segment(Vendor::Infobip, "..\\..\\admin");
}

#[test]
fn infobip_slash_query_fragment_conversation_id_stays_in_its_segment() {
    path_stays_in_its_segment(Vendor::Infobip, "a/b?c#d");
}

#[test]
fn leadconnector_dot_dot_backslash_conversation_id_stays_in_its_segment() {
    path_stays_in_its_segment(Vendor::Leadconnector, "..\\..\\admin");
}

#[test]
fn leadconnector_backslash_conversation_id_stays_in_its_segment() {
    path_stays_in_its_segment(Vendor::Leadconnector, "a\\b");
}

#[test]
fn bird_dot_dot_backslash_conversation_id_stays_in_its_segment() {
    path_stays_in_its_segment(Vendor::Bird, "..\\..\\admin");
}

#[test]
fn bird_slash_query_fragment_conversation_id_stays_in_its_segment() {
    path_stays_in_its_segment(Vendor::Bird, "a/b?c#d");
}

#[test]
fn octopush_conversation_id_with_query_syntax_stays_one_value() {
    let id = "cid_a/b?c#d&page=9";
    let hosted = Hosted::start(Options::new(Vendor::Octopush, 30).conversation(id));
    let (result, elapsed) = fetch(&hosted, "ordinary-secret", &["--page-size", "10"], None);
    assert_promise(
        "octopush conversation id with query syntax",
        &outcome(&result, elapsed),
        &hosted.server.expectation(),
    );
    assert!(hosted.server.request_count() > 0, "a valid cid_ id must be asked for");
    for request in hosted.server.requests() {
        assert_eq!(request.path, "/v1/public/conversations/messages/list", "{}", request.target);
        assert_eq!(request.param_all("conversation_id"), vec![id.to_owned()], "{}", request.target);
        assert_eq!(request.param_all("page").len(), 1, "{}", request.target);
    }
}

/// `convo sync` of the server's conversation (merged NDJSON on stdout),
/// with `state` as its state file and `extra` flags.
fn sync(hosted: &Hosted, state: &std::path::Path, extra: &[&str]) -> (Run, Duration) {
    sync_as(hosted, state, extra, "ordinary-secret", None)
}

/// [`sync`] with credentials built on `secret`, and `RUST_LOG` when given.
fn sync_as(
    hosted: &Hosted,
    state: &std::path::Path,
    extra: &[&str],
    secret: &str,
    rust_log: Option<&str>,
) -> (Run, Duration) {
    let options = hosted.server.options();
    let vendor = options.vendor;
    let list = state.with_extension("conversations");
    std::fs::write(&list, &options.conversation_id).expect("the conversation list");
    let mut command = convo();
    command.timeout(Duration::from_secs(60));
    command.args(["sync", vendor.name(), "--base-url", &hosted.server.base_url()]);
    command.arg("--conversations").arg(&list).arg("--state").arg(state);
    finish(hosted, command, extra, secret, rust_log)
}

/// The ids of a merged sync stream, line by line.
fn synced_ids(result: &Run) -> Vec<String> {
    result
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|line| line["message"]["id"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("<not a sync line: {line}>"))
        })
        .collect()
}

/// `convo sync` keeps the paging promise against the hostile server, and a
/// second run with the same state (the listing now still) adds exactly
/// what the first did not write: across the two, no message twice, none
/// the conversation never held, and when the second succeeds, every
/// message that existed throughout. To the merged stream (what each run
/// printed, together) or to a directory (the file after each run).
fn sync_promise(what: &str, options: Options, extra: &[&str], max_requests: usize, to_dir: bool) {
    let hosted = Hosted::start(options);
    let dir = tempfile::tempdir().expect("a directory");
    let state = dir.path().join("state.json");
    let out = dir.path().join("out");
    let mut extra = extra.to_vec();
    let out_arg = out.to_str().expect("a UTF-8 path").to_owned();
    if to_dir {
        extra.extend(["--out-dir", &out_arg]);
    }
    let file = out.join(format!("{}.ndjson", hosted.server.options().conversation_id));
    let file_ids = || -> Vec<String> {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|message| message["id"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("<not an NDJSON message: {line}>"))
            })
            .collect()
    };
    let (first, elapsed) = sync(&hosted, &state, &extra);
    let written = if to_dir { file_ids() } else { synced_ids(&first) };
    let read = Outcome { ids: written, ..outcome(&first, elapsed) };
    assert_promise(&format!("{what}, first sync"), &read, &hosted.server.expectation());
    common::expect_no_panic_or_debug(&first.stderr);
    let (second, _) = sync(&hosted, &state, &extra);
    common::expect_no_panic_or_debug(&second.stderr);
    let both = if to_dir {
        file_ids()
    } else {
        let mut both = read.ids.clone();
        both.extend(synced_ids(&second));
        both
    };
    let expectation = hosted.server.expectation();
    let mut seen = std::collections::HashSet::new();
    for id in &both {
        assert!(seen.insert(id), "{what}: `{id}` written twice across the two syncs");
        assert!(expectation.order.contains(id), "{what}: `{id}` written, which the conversation never held");
    }
    if second.code == Some(0) {
        let missing: Vec<&String> = expectation.required.iter().filter(|id| !seen.contains(id)).collect();
        assert!(missing.is_empty(), "{what}: the second sync succeeded, missing {missing:?}");
    }
    let sent = hosted.server.request_count();
    assert!(sent <= 2 * max_requests, "{what}: {sent} requests for two syncs: convo loops");
}

macro_rules! sync_promise_tests {
    ($($name:ident: $options:expr, $args:expr, $max:expr;)*) => {
        mod sync_promise {
            use super::*;
            $(
                mod $name {
                    use super::*;

                    #[test]
                    fn merged_stream() {
                        sync_promise(stringify!($name), $options, $args, $max, false);
                    }

                    #[test]
                    fn out_dir() {
                        sync_promise(stringify!($name), $options, $args, $max, true);
                    }
                }
            )*
        }
    };
}

hostile_cases!(sync_promise_tests);

#[test]
fn sync_never_prints_an_echoed_credential_nor_keeps_it_in_its_state() {
    for vendor in [Vendor::Infobip, Vendor::Octopush, Vendor::Leadconnector, Vendor::Bird] {
        for status in [401, 400] {
            let hosted = Hosted::start(Options::new(vendor, 30).behaviour(Behaviour::EchoCredential { status }));
            let dir = tempfile::tempdir().expect("a directory");
            let state = dir.path().join("state.json");
            let out = dir.path().join("out");
            let extra = ["--out-dir", out.to_str().expect("a UTF-8 path")];
            let (result, _) = sync_as(&hosted, &state, &extra, CANARY, Some("trace"));
            let what = format!("{vendor:?}: HTTP {status} echoing the credential");
            assert_ne!(result.code, Some(0), "{what}: a refusal cannot end in success");
            assert!(!result.stdout.contains(CANARY) && !result.stderr.contains(CANARY), "{what}:\n{}", result.stderr);
            for entry in walk(dir.path()) {
                let bytes = std::fs::read(&entry).unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains(CANARY), "{what}: {} holds the credential", entry.display());
            }
        }
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
