//! `convo schema`, `convo sandbox` and `--help` on every command.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use common::*;
use serde_json::Value;

#[test]
fn schema_prints_the_committed_message_schema() {
    let out = run(convo().arg("schema"));
    out.expect_success();
    let printed: Value = serde_json::from_str(&out.stdout).expect("the schema is JSON");
    let committed_text = std::fs::read_to_string(convo_testkit::root().join("generated/message.schema.json"))
        .expect("the committed schema");
    let committed: Value = serde_json::from_str(&committed_text).expect("the committed schema is JSON");
    assert_eq!(printed, committed);
    assert_eq!(out.stdout.trim_end(), committed_text.trim_end(), "byte for byte, too");
    assert_eq!(printed["title"], "Message");
}

#[test]
fn help_works_on_every_command() {
    for args in [
        &["--help"][..],
        &["help"],
        &["fetch", "--help"],
        &["normalize", "--help"],
        &["sandbox", "--help"],
        &["schema", "--help"],
        &["help", "fetch"],
    ] {
        let out = run(convo().args(args));
        out.expect_success();
        assert!(out.stdout.contains("Usage: convo"), "{args:?}: a usage line:\n{}", out.stdout);
    }
    let top = run(convo().arg("--help"));
    for command in ["fetch", "normalize", "sandbox", "schema"] {
        assert!(top.stdout.contains(command), "`convo --help` lists {command}");
    }
    let fetch = run(convo().args(["fetch", "--help"]));
    for flag in
        ["--conversation", "--workspace", "--format", "--since", "--page-size", "--raw", "--base-url", "--sandbox"]
    {
        assert!(fetch.stdout.contains(flag), "`convo fetch --help` documents {flag}");
    }
    let version = run(convo().arg("--version"));
    version.expect_success();
    assert!(version.stdout.starts_with("convo "), "{}", version.stdout);
}

#[test]
fn no_command_is_a_usage_error() {
    let out = run(&mut convo());
    out.expect_code(2);
    assert!(out.stderr.contains("Usage: convo"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

/// The sandbox as a child process, killed when dropped (even when the test
/// fails half-way).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sandbox_command_serves_on_the_printed_urls_with_the_printed_keys() {
    let child = convo_std()
        .args(["sandbox", "--port", "0", "--messages", "10"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("convo sandbox starts");
    let mut child = KillOnDrop(child);
    let mut stdout = BufReader::new(child.0.stdout.take().expect("piped"));

    // Read until the last line it prints before serving.
    let mut printed = Vec::new();
    loop {
        let mut line = String::new();
        let read = stdout.read_line(&mut line).expect("stdout is readable");
        assert!(read > 0, "convo sandbox stopped before saying where it listens:\n{}", printed.join(""));
        let done = line.starts_with("Press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let field = |prefix: &str| -> String {
        let line = printed
            .iter()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no line `{prefix}…` in:\n{}", printed.join("")));
        line.trim_start()[prefix.len()..].trim().to_owned()
    };
    let listening = field("convo sandbox listening on ");
    let port: u16 = listening.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port in the address");
    assert_ne!(port, 0, "--port 0 prints the port actually bound: {listening}");
    let bird_url = field("bird ");
    let infobip_url = field("infobip ");
    assert_eq!(bird_url, format!("{listening}/bird"));
    let bird_key = field("BIRD_ACCESS_KEY=");
    let infobip_key = field("INFOBIP_API_KEY=");
    let generated = field("Generated:");
    let bird_generated = generated.split("bird ").nth(1).expect("bird's generated conversation").trim().to_owned();

    // `convo fetch` against the printed URL, with the printed key.
    let out = run(convo()
        .args(["fetch", "bird", "--base-url", &bird_url, "--workspace", convo_sandbox::ids::bird::WORKSPACE])
        .args(["--conversation", convo_sandbox::ids::bird::SAMPLE_CONVERSATION])
        .env("BIRD_ACCESS_KEY", &bird_key));
    out.expect_success();
    assert_eq!(out.ids(), sample_ids("bird"));
    let out = run(convo()
        .args(["fetch", "bird", "--base-url", &bird_url, "--workspace", convo_sandbox::ids::bird::WORKSPACE])
        .args(["--conversation", &bird_generated])
        .env("BIRD_ACCESS_KEY", &bird_key));
    out.expect_success();
    assert_eq!(out.ids().len(), 10, "--messages 10 generates 10 messages");

    // A plain HTTP request, as any other client would make it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let (status, body) = runtime.block_on(async {
        let url = format!(
            "{infobip_url}/ccaas/1/conversations/{}/messages",
            convo_sandbox::ids::infobip::SAMPLE_CONVERSATION
        );
        let client = reqwest::Client::builder().build().expect("an HTTP client");
        let response =
            client.get(&url).header("authorization", format!("App {infobip_key}")).send().await.expect("a response");
        let status = response.status().as_u16();
        (status, response.bytes().await.expect("a body"))
    });
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    let ids: Vec<&str> =
        body["messages"].as_array().expect("messages").iter().map(|m| m["id"].as_str().expect("id")).collect();
    assert_eq!(ids, sample_ids("infobip"));

    // Still serving until it is stopped.
    assert!(child.0.try_wait().expect("a status").is_none(), "convo sandbox serves until interrupted");
}

#[test]
fn sandbox_command_on_a_port_in_use_exits_5_in_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("its address").port().to_string();
    let out = run(convo().args(["sandbox", "--port", &port]));
    let line = out.expect_error_line(5);
    assert!(line.contains(&format!("127.0.0.1:{port}")), "names the address: {line}");
}
