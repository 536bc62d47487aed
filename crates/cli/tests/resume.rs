//! `--resume`: an export that fails halfway prints the flag that goes on,
//! and the resumed run writes the rest: across the two runs every message
//! exactly once, in the vendor's order.

mod common;

use common::{Secrets, convo, fetch_from, generated_conversation, run, sandbox};
use convo_sandbox::{Fault, FaultKind, SandboxOptions, Vendor};

const MESSAGES: usize = 400;

/// `--resume <token>` from the stderr of a failed export.
fn resume_token(stderr: &str) -> String {
    let line = stderr.lines().find(|l| l.contains("--resume ")).unwrap_or_else(|| panic!("no resume hint: {stderr}"));
    line.rsplit(' ').next().expect("a token").to_owned()
}

fn export(vendor: &str, base_url: &str, extra: &[&str]) -> common::Run {
    let mut command = convo();
    fetch_from(&mut command, vendor, base_url, generated_conversation(vendor), &Secrets::sandbox());
    if !extra.contains(&"--page-size") {
        command.args(["--page-size", "50"]);
    }
    command.args(extra);
    run(&mut command)
}

#[test]
fn a_failed_export_resumes_where_it_stopped_and_writes_each_message_once() {
    for vendor in Vendor::ALL {
        let name = vendor.as_str();
        let clean = sandbox(SandboxOptions { messages: MESSAGES, ..SandboxOptions::default() });
        let expected = export(name, &clean.base_url(vendor), &[]);
        expected.expect_success();
        let expected = expected.ids();
        assert_eq!(expected.len(), MESSAGES, "{name}");

        // The fourth request fails for good (501 is not retried) ...
        let fault = Fault { vendor, on_request: 4, kind: FaultKind::Status { status: 501, retry_after: None } };
        let served = sandbox(SandboxOptions { messages: MESSAGES, faults: vec![fault], ..SandboxOptions::default() });
        let first = export(name, &served.base_url(vendor), &[]);
        first.expect_code(5);
        let token = resume_token(&first.stderr);
        assert!(token.starts_with("r2."), "{name}: {token}");
        // ... and the same command with the token writes the rest.
        let second = export(name, &served.base_url(vendor), &["--resume", &token]);
        second.expect_success();
        let mut both = first.ids();
        assert!(!both.is_empty() && both.len() < MESSAGES, "{name}: the first run stopped halfway");
        both.extend(second.ids());
        assert_eq!(both, expected, "{name}: every message exactly once, in order, across the two runs");
    }
}

#[test]
fn a_token_that_is_no_position_is_a_usage_error_naming_it() {
    let served = sandbox(SandboxOptions::default());
    let out = export("bird", &served.base_url(Vendor::Bird), &["--resume", "page:3"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--resume `page:3` is not a position convo printed"), "{}", out.stderr);
}

#[test]
fn a_token_goes_on_only_with_the_page_size_it_was_made_with() {
    // A position is a page of its size: Octopush's page 3 of 30 is not its
    // page 3 of 50.
    let vendor = Vendor::Octopush;
    let fault = Fault { vendor, on_request: 3, kind: FaultKind::Status { status: 501, retry_after: None } };
    let served = sandbox(SandboxOptions { messages: MESSAGES, faults: vec![fault], ..SandboxOptions::default() });
    let base = served.base_url(vendor);
    let first = export("octopush", &base, &[]);
    first.expect_code(5);
    let token = resume_token(&first.stderr);
    let resized = export("octopush", &base, &["--resume", &token, "--page-size", "30"]);
    resized.expect_code(2);
    assert!(resized.stderr.contains("pages of --page-size 50, not --page-size 30"), "{}", resized.stderr);
    assert!(resized.stdout.is_empty(), "nothing written");
    let defaulted = export("octopush", &base, &["--resume", &token, "--page-size", "50"]);
    defaulted.expect_success();
    let mut both = first.ids();
    both.extend(defaulted.ids());
    let unique: std::collections::HashSet<&String> = both.iter().collect();
    assert_eq!((both.len(), unique.len()), (MESSAGES, MESSAGES), "every message once across the runs");
}

#[test]
fn behind_a_page_size_cap_a_token_goes_on_in_the_pages_the_vendor_counts() {
    // Octopush serving at most 20 a page whatever is asked, numbering its
    // pages by 20. The first server refuses the third request (its request
    // budget), the second serves the same conversation: the resumed read
    // must ask for pages of 20, or page 3 of 50 would be another page.
    use convo_hostile::{Behaviour, HostileServer, Options};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let options = || Options::new(convo_hostile::Vendor::Octopush, 70).behaviour(Behaviour::CapPageSize { max: 20 });
    let failing = runtime.block_on(HostileServer::start(options().budget(2))).unwrap();
    let serving = runtime.block_on(HostileServer::start(options())).unwrap();
    let conversation = options().conversation_id;
    let export = |base_url: &str, extra: &[&str]| {
        let mut command = convo();
        command.args(["fetch", "octopush", "--base-url", base_url, "--conversation", &conversation]);
        command.args(["--page-size", "50"]).args(extra);
        command.env("OCTOPUSH_API_LOGIN", "login").env("OCTOPUSH_API_KEY", "key");
        run(&mut command)
    };
    let first = export(&failing.base_url(), &[]);
    first.expect_code(5);
    assert_eq!(first.ids().len(), 40, "two pages of 20 before the refusal");
    let token = resume_token(&first.stderr);
    let second = export(&serving.base_url(), &["--resume", &token]);
    second.expect_success();
    let mut both = first.ids();
    both.extend(second.ids());
    assert_eq!(both, serving.initial_ids(), "every message once, in order, across the two runs");
}
