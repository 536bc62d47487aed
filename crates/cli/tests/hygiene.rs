//! What `convo` must never print: a credential (in any form, at any log
//! level), and an error when the reader of its output goes away.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::*;
use convo_sandbox::SandboxOptions;
use serde_json::Value;

/// Checks that nothing `out` printed holds any form of `vendor`'s `secrets`.
fn expect_no_secret(out: &Run, secrets: &Secrets, vendor: &str, context: &str) {
    let all = out.all();
    for form in secrets.leak_forms(vendor) {
        assert!(!all.contains(&form), "{context}: the output holds the credential form `{form}`:\n{all}");
    }
}

fn with_log(command: &mut assert_cmd::Command, trace: bool) {
    if trace {
        command.env("RUST_LOG", "trace");
    }
}

#[test]
fn refused_credentials_never_appear_in_the_output_even_at_trace_level() {
    let sandbox = sandbox(SandboxOptions::default());
    let secrets = Secrets::canaries();
    for vendor in VENDORS {
        for trace in [false, true] {
            let mut command = convo();
            fetch_from(
                &mut command,
                vendor,
                &sandbox.base_url(sandbox_vendor(vendor)),
                sample_conversation(vendor),
                &secrets,
            );
            with_log(&mut command, trace);
            let out = run(&mut command);
            out.expect_code(3);
            if trace {
                assert!(out.stderr.lines().count() > 1, "{vendor}: RUST_LOG=trace logs something:\n{}", out.stderr);
            }
            expect_no_secret(&out, &secrets, vendor, &format!("{vendor} refused, trace={trace}"));
        }
    }
}

/// The vendor's documented sample as its last page.
fn last_page(vendor: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&sample(vendor)).expect("JSON");
    if vendor == "leadconnector" {
        body["nextPage"] = Value::Bool(false);
    }
    serde_json::to_vec(&body).expect("JSON")
}

/// Whether any header of any request the server received holds `secret`.
fn sent(server: &Served<convo_testkit::wiremock::MockServer>, secret: &str) -> bool {
    server.requests().iter().any(|request| {
        request.headers.values().any(|value| value.as_bytes().windows(secret.len()).any(|w| w == secret.as_bytes()))
    })
}

#[test]
fn accepted_credentials_never_appear_in_the_output_even_at_trace_level() {
    let secrets = Secrets::canaries();
    for vendor in VENDORS {
        for trace in [false, true] {
            // A server that takes any credentials: the export succeeds (the
            // only page, then Octopush's empty page that ends the read).
            let server = one_page(&last_page(vendor));
            let mut command = convo();
            fetch_from(&mut command, vendor, &server.uri(), sample_conversation(vendor), &secrets);
            with_log(&mut command, trace);
            let out = run(&mut command);
            out.expect_code(0);
            assert_eq!(out.ids(), sample_ids(vendor), "{vendor}");
            assert_eq!(server.requests().len(), one_page_requests(vendor), "{vendor}");
            for (name, value) in secrets.env(vendor) {
                assert!(sent(&server, &value), "{vendor}: {name} was sent to the server");
            }
            expect_no_secret(&out, &secrets, vendor, &format!("{vendor} accepted, trace={trace}"));

            // Accepted, then a server failure.
            let server = wiremock(500, br#"{"message": "boom"}"#);
            let mut command = convo();
            fetch_from(&mut command, vendor, &server.uri(), sample_conversation(vendor), &secrets);
            with_log(&mut command, trace);
            let out = run(&mut command);
            out.expect_code(5);
            expect_no_secret(&out, &secrets, vendor, &format!("{vendor} server error, trace={trace}"));
        }
    }
}

#[test]
fn the_sandbox_keys_never_appear_in_fetch_output_even_at_trace_level() {
    let sandbox = sandbox(SandboxOptions::default());
    let secrets = Secrets::sandbox();
    for vendor in VENDORS {
        let mut command = convo();
        fetch_from(
            &mut command,
            vendor,
            &sandbox.base_url(sandbox_vendor(vendor)),
            sample_conversation(vendor),
            &secrets,
        );
        command.env("RUST_LOG", "trace");
        let out = run(&mut command);
        out.expect_code(0);
        assert_eq!(out.ids(), sample_ids(vendor));
        expect_no_secret(&out, &secrets, vendor, &format!("{vendor} with the sandbox's keys"));

        let out = run(convo().args(["fetch", vendor, "--sandbox"]).env("RUST_LOG", "trace"));
        out.expect_code(0);
        expect_no_secret(&out, &secrets, vendor, &format!("{vendor} --sandbox"));
    }
}

/// Runs `convo` with `args`, reads the first line of its stdout, closes the
/// pipe, and returns that line, the exit code and stderr.
fn read_one_line_then_close(args: &[&str]) -> (String, Option<i32>, String) {
    let mut child = convo_std()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("convo starts");
    let mut first = String::new();
    {
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        stdout.read_line(&mut first).expect("a first line");
        // Dropping the reader closes the pipe.
    }
    let output = child.wait_with_output().expect("convo ends");
    (first, output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_closed_stdout_pipe_ends_the_export_quietly() {
    for vendor in VENDORS {
        let (first, code, stderr) =
            read_one_line_then_close(&["fetch", vendor, "--sandbox", "--sandbox-messages", "5000"]);
        let message: Value =
            serde_json::from_str(&first).unwrap_or_else(|e| panic!("{vendor}: not JSON ({e}): {first}"));
        assert_eq!(message["vendor"], vendor);
        assert!(!stderr.contains("convo:"), "{vendor}: no error for a closed pipe:\n{stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{vendor}:\n{stderr}");
        assert_eq!(code, Some(0), "{vendor}: a reader that stopped reading is not a failure:\n{stderr}");
    }
    for format in ["json", "csv", "table"] {
        let (first, code, stderr) =
            read_one_line_then_close(&["fetch", "bird", "--sandbox", "--sandbox-messages", "5000", "--format", format]);
        assert!(!first.is_empty(), "{format}");
        assert!(!stderr.contains("convo:") && !stderr.contains("panicked"), "{format}:\n{stderr}");
        assert_eq!(code, Some(0), "{format}:\n{stderr}");
    }
    let (first, code, stderr) =
        read_one_line_then_close(&["fetch", "infobip", "--sandbox", "--sandbox-messages", "5000", "--raw"]);
    assert!(serde_json::from_str::<Value>(&first).is_ok(), "{first}");
    assert!(!stderr.contains("convo:") && !stderr.contains("panicked"), "--raw:\n{stderr}");
    assert_eq!(code, Some(0), "--raw:\n{stderr}");
}
