//! `convo`'s exit codes, and how it reports a failure: 2 usage, 3 refused
//! credentials, 4 not found, 5 any other vendor or network failure after
//! retries, 6 a body the normalizer could not read. Failures found by
//! `convo` itself are one `convo: …` line on stderr.

mod common;

use common::*;
use convo_sandbox::{Fault, FaultKind, SandboxOptions, ids};

/// A command-line parse error: exit 2, said on stderr, nothing on stdout.
fn expect_parse_error(args: &[&str], mentions: &str) {
    let out = run(convo().args(args));
    out.expect_code(2);
    assert_eq!(out.stdout, "", "{args:?}");
    assert!(out.stderr.contains(mentions), "{args:?}: stderr names `{mentions}`:\n{}", out.stderr);
    expect_no_panic_or_debug(&out.stderr);
}

#[test]
fn a_bad_flag_vendor_or_value_exits_2() {
    expect_parse_error(&["fetch", "bird", "--sandbox", "--bogus"], "--bogus");
    expect_parse_error(&["fetch", "whatsapp", "--sandbox"], "whatsapp");
    expect_parse_error(&["normalize", "whatsapp"], "whatsapp");
    expect_parse_error(&["fetch", "bird", "--sandbox", "--since", "yesterday"], "RFC 3339");
    expect_parse_error(&["fetch", "bird", "--sandbox", "--since", "2024-13-45"], "2024-13-45");
    expect_parse_error(&["fetch", "bird", "--sandbox", "--format", "xml"], "xml");
    expect_parse_error(&["fetch", "bird", "--sandbox", "--page-size", "0"], "--page-size");
    expect_parse_error(&["fetch", "infobip", "--sandbox", "--concurrency", "0"], "--concurrency");
    expect_parse_error(
        &["fetch", "bird", "--sandbox-messages", "10"],
        "required arguments were not provided:\n  --sandbox\n",
    );
    expect_parse_error(&["sandbox", "--port", "70000"], "70000");
}

#[test]
fn a_missing_credential_exits_2_naming_the_variable() {
    let base_url = format!("http://127.0.0.1:{}", closed_port());
    // (vendor, the variables set, the variable the error names)
    type Case = (&'static str, &'static [(&'static str, &'static str)], &'static str);
    let cases: [Case; 6] = [
        ("infobip", &[], "INFOBIP_API_KEY"),
        ("octopush", &[], "OCTOPUSH_API_KEY"),
        ("octopush", &[("OCTOPUSH_API_KEY", "k")], "OCTOPUSH_API_LOGIN"),
        ("leadconnector", &[], "LEADCONNECTOR_TOKEN"),
        ("bird", &[], "BIRD_ACCESS_KEY"),
        // Set but empty is missing too.
        ("bird", &[("BIRD_ACCESS_KEY", "  ")], "BIRD_ACCESS_KEY"),
    ];
    for (vendor, env, variable) in cases {
        let mut command = convo();
        command.args(["fetch", vendor, "--base-url", &base_url, "--conversation", sample_conversation(vendor)]);
        command.args(["--workspace", ids::bird::WORKSPACE].iter().filter(|_| vendor == "bird"));
        command.envs(env.iter().copied());
        let out = run(&mut command);
        let line = out.expect_error_line(2);
        assert!(line.contains(variable), "{vendor}: names {variable}: {line}");
        assert_eq!(out.stdout, "");
    }
    // Infobip has no default base URL: its variable is named too.
    let out = run(convo().args(["fetch", "infobip", "--conversation", "c"]).env("INFOBIP_API_KEY", "k"));
    let line = out.expect_error_line(2);
    assert!(line.contains("INFOBIP_BASE_URL") && line.contains("--base-url"), "{line}");
}

#[test]
fn an_incomplete_or_inconsistent_selection_exits_2() {
    let out = run(convo().args(["fetch", "bird", "--conversation", "c"]).env("BIRD_ACCESS_KEY", "k"));
    let line = out.expect_error_line(2);
    assert!(line.contains("--workspace"), "Bird needs a workspace outside the sandbox: {line}");

    // Octopush conversation ids start with `cid_`, with or without the sandbox.
    let out = run(convo().args(["fetch", "octopush", "--sandbox", "--conversation", "0c7a5e1d-3b9f-4d2a"]));
    let line = out.expect_error_line(2);
    assert!(line.contains("cid_"), "{line}");
    let out = run(convo()
        .args(["fetch", "octopush", "--conversation", "abc", "--base-url", "http://127.0.0.1:9"])
        .env("OCTOPUSH_API_KEY", "k")
        .env("OCTOPUSH_API_LOGIN", "l"));
    let line = out.expect_error_line(2);
    assert!(line.contains("cid_"), "{line}");

    let out = run(convo().args(["fetch", "octopush", "--sandbox", "--facebook-id", "12345"]));
    let line = out.expect_error_line(2);
    assert!(line.contains("fid_"), "{line}");
    let out = run(convo()
        .args(["fetch", "octopush", "--base-url", "http://127.0.0.1:9"])
        .env("OCTOPUSH_API_KEY", "k")
        .env("OCTOPUSH_API_LOGIN", "l"));
    let line = out.expect_error_line(2);
    assert!(line.contains("--conversation"), "Octopush needs a selector: {line}");
    let out = run(convo()
        .args(["fetch", "leadconnector", "--base-url", "http://127.0.0.1:9"])
        .env("LEADCONNECTOR_TOKEN", "t"));
    let line = out.expect_error_line(2);
    assert!(line.contains("--conversation"), "{line}");

    let out = run(convo().args(["fetch", "bird", "--sandbox", "--phone", "+33612345678"]));
    let line = out.expect_error_line(2);
    assert!(line.contains("Octopush"), "{line}");
    let out = run(convo().args(["fetch", "bird", "--sandbox", "--raw", "--format", "csv"]));
    let line = out.expect_error_line(2);
    assert!(line.contains("--raw"), "{line}");
    let out = run(convo()
        .args(["fetch", "bird", "--base-url", "http://example.com/bird", "--workspace", "w", "--conversation", "c"])
        .env("BIRD_ACCESS_KEY", "k"));
    let line = out.expect_error_line(2);
    assert!(line.contains("http://example.com"), "a plain-HTTP base URL off this machine is refused: {line}");
}

#[test]
fn refused_credentials_exit_3_for_every_vendor() {
    let sandbox = sandbox(SandboxOptions::default());
    for vendor in VENDORS {
        let mut command = convo();
        let base_url = sandbox.base_url(sandbox_vendor(vendor));
        fetch_from(&mut command, vendor, &base_url, sample_conversation(vendor), &Secrets::canaries());
        let out = run(&mut command);
        let line = out.expect_error_line(3);
        assert!(line.starts_with(&format!("convo: {vendor}: ")), "names the vendor: {line}");
        assert!(line.contains("401") || line.contains("403"), "says the status: {line}");
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn an_unknown_conversation_exits_4_or_as_the_vendor_answers_it() {
    let sandbox = sandbox(SandboxOptions::default());
    let fetch = |vendor: &str, conversation: &str, format: &str| {
        let mut command = convo();
        fetch_from(&mut command, vendor, &sandbox.base_url(sandbox_vendor(vendor)), conversation, &Secrets::sandbox());
        run(command.args(["--format", format]))
    };

    // Infobip and Bird answer 404.
    for (vendor, conversation) in
        [("infobip", "4461ea29-0000-0000-0000-000000000000"), ("bird", "16e1df9e-0000-0000-0000-000000000000")]
    {
        let out = fetch(vendor, conversation, "ndjson");
        let line = out.expect_error_line(4);
        assert!(line.contains("404"), "{vendor}: {line}");
        assert_eq!(out.stdout, "");
    }

    // Octopush has no "not found": a conversation id it does not know
    // selects no message, a complete and empty export.
    let out = fetch("octopush", "cid_00000000-0000-0000-0000-000000000000", "ndjson");
    out.expect_success();
    assert_eq!(out.stdout, "");
    let out = fetch("octopush", "cid_00000000-0000-0000-0000-000000000000", "json");
    out.expect_success();
    assert_eq!(out.stdout.trim(), "[]");

    // LeadConnector documents no 404: the sandbox answers 400 "Conversation
    // not found", which `convo` reports as a vendor failure (5), not 4.
    let out = fetch("leadconnector", "noSuchConversation01", "ndjson");
    let line = out.expect_error_line(5);
    assert!(line.contains("400") && line.contains("Conversation not found"), "{line}");
}

#[test]
fn a_vendor_that_cannot_be_reached_exits_5_after_retries() {
    let base_url = format!("http://127.0.0.1:{}/bird", closed_port());
    let mut command = convo();
    fetch_from(&mut command, "bird", &base_url, ids::bird::SAMPLE_CONVERSATION, &Secrets::sandbox());
    let out = run(&mut command);
    let line = out.expect_error_line(5);
    assert!(line.contains("tries"), "says it retried: {line}");
    assert_eq!(out.stdout, "");
}

#[test]
fn a_server_error_mid_conversation_exits_5_keeping_the_pages_before_it() {
    let faults = VENDORS
        .iter()
        .map(|v| Fault {
            vendor: sandbox_vendor(v),
            on_request: 3,
            // 500 is retried; 501 is a server error that is not.
            kind: FaultKind::Status { status: 501, retry_after: None },
        })
        .collect();
    let faulty = sandbox(SandboxOptions { messages: 500, faults, ..SandboxOptions::default() });
    let healthy = sandbox(SandboxOptions { messages: 500, ..SandboxOptions::default() });
    // The cursor and page-number vendors read one page after another
    // whatever the concurrency; Infobip reads time windows at once.
    let flags = ["--page-size", "10", "--concurrency", "4"];
    for vendor in VENDORS {
        let fetch = |sandbox: &Served<convo_sandbox::Sandbox>| {
            let mut command = convo();
            let base_url = sandbox.base_url(sandbox_vendor(vendor));
            fetch_from(&mut command, vendor, &base_url, generated_conversation(vendor), &Secrets::sandbox());
            run(command.args(flags))
        };
        let whole = fetch(&healthy);
        whole.expect_success();
        assert_eq!(whole.ids().len(), 500, "{vendor}");

        let out = fetch(&faulty);
        let line = out.expect_error_line(5);
        assert!(line.contains("501"), "{vendor}: says the status: {line}");
        if vendor == "infobip" {
            // Infobip reads its time windows at once: the failed request is
            // one window's, and what came before it, in order, is on stdout.
            let ids = out.ids();
            assert!(!ids.is_empty() && ids.len() < 500, "{vendor}: {} messages", ids.len());
            assert_eq!(ids, whole.ids()[..ids.len()], "{vendor}: a prefix of the conversation, in order");
        } else {
            assert_eq!(out.ids(), whole.ids()[..20], "{vendor}: the two pages before the failure are on stdout");
        }
    }
}

#[test]
fn a_page_of_another_shape_exits_6() {
    for (vendor, body) in [
        ("infobip", r#"{"messages": "none", "pagination": {}}"#),
        ("octopush", r#"{"messages": []}"#),
        ("leadconnector", r#"{"messages": 42}"#),
        ("bird", r#"{"results": {"id": 1}}"#),
    ] {
        let server = wiremock(200, body.as_bytes());
        let mut command = convo();
        fetch_from(&mut command, vendor, &server.uri(), sample_conversation(vendor), &Secrets::sandbox());
        let out = run(&mut command);
        let line = out.expect_error_line(6);
        assert!(line.starts_with(&format!("convo: {vendor}: ")), "names the vendor: {line}");
        assert!(line.contains(&format!("not {vendor}'s documented shape")), "{vendor}: says what is wrong: {line}");
        assert!(line.contains(" at `"), "{vendor}: names the JSON path: {line}");
        assert_eq!(out.stdout, "", "{vendor}");
    }
}

#[test]
fn an_error_status_with_a_body_of_any_shape_is_one_line() {
    // Bodies that are not the vendor's error shape, with line breaks and
    // HTML: still one line, no `Debug` dump.
    let html = "<html>\n<body>\n<h1>502 Bad Gateway</h1>\n</body>\n</html>\n";
    for (status, code) in [(401, 3), (403, 3), (404, 4), (400, 5), (500, 5)] {
        for vendor in VENDORS {
            let server = wiremock(status, html.as_bytes());
            let mut command = convo();
            fetch_from(&mut command, vendor, &server.uri(), sample_conversation(vendor), &Secrets::sandbox());
            let out = run(&mut command);
            let line = out.expect_error_line(code);
            assert!(line.contains(&status.to_string()), "{vendor} {status}: {line}");
        }
    }
}
