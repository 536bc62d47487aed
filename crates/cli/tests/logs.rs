//! Retries are visible: with `RUST_LOG=warn` every retry is one log line on
//! stderr saying why and how long it waits, never the credential.

mod common;

use std::time::Duration;

use common::{convo, run};
use convo_hostile::{Behaviour, CANARY, HostileServer, Options, Vendor};

#[test]
fn a_retry_is_logged_with_its_reason_and_wait_and_no_credential() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let options = Options::new(Vendor::Bird, 30).behaviour(Behaviour::Status { status: 503, page: 2 });
    let server = runtime.block_on(HostileServer::start(options)).unwrap();
    let options = server.options();
    let mut command = convo();
    command.timeout(Duration::from_secs(60));
    command.args(["fetch", "bird", "--base-url", &server.base_url(), "--page-size", "10"]);
    command.args(["--workspace", &options.workspace_id, "--conversation", &options.conversation_id]);
    command.env("BIRD_ACCESS_KEY", CANARY).env("RUST_LOG", "warn");
    let result = run(&mut command);
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    assert_eq!(result.stdout.lines().count(), 30);
    let retries: Vec<&str> = result.stderr.lines().filter(|line| line.contains("trying again")).collect();
    assert_eq!(retries.len(), 1, "{}", result.stderr);
    assert!(retries[0].contains("HTTP 503") && retries[0].contains("wait_ms"), "{}", retries[0]);
    assert!(!result.stderr.contains(CANARY) && !result.stdout.contains(CANARY));
    drop(server);
}

/// `RUST_LOG=debug` shows every request (method, URL, status, time), every
/// retry with its wait, and how each page went; never the credential.
#[test]
fn debug_logs_show_every_request_retry_and_wait() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let options = Options::new(Vendor::Bird, 30).behaviour(Behaviour::Status { status: 429, page: 2 });
    let server = runtime.block_on(HostileServer::start(options)).unwrap();
    let options = server.options();
    let mut command = convo();
    command.timeout(Duration::from_secs(60));
    command.args(["fetch", "bird", "--base-url", &server.base_url(), "--page-size", "10"]);
    command.args(["--workspace", &options.workspace_id, "--conversation", &options.conversation_id]);
    command.env("BIRD_ACCESS_KEY", CANARY).env("RUST_LOG", "debug");
    let result = run(&mut command);
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    assert_eq!(result.stdout.lines().count(), 30);
    let lines: Vec<&str> = result.stderr.lines().collect();
    let requests: Vec<&&str> = lines.iter().filter(|l| l.contains("convo_runtime::limit: request ")).collect();
    // Three pages, the last one telling the end, plus one retry of page 2
    // (429); the hostile server may serve an end page too.
    assert!(requests.len() >= 4, "every request is a line:\n{}", result.stderr);
    assert!(requests.iter().any(|l| l.contains("status=429")), "{}", result.stderr);
    assert!(requests.iter().all(|l| l.contains("url=") && l.contains("elapsed_ms=")), "{}", result.stderr);
    let retry = lines.iter().find(|l| l.contains("trying again")).expect("the retry is a line");
    assert!(retry.contains("HTTP 429") && retry.contains("wait_ms") && retry.contains("vendor=\"Bird\""), "{retry}");
    assert!(lines.iter().any(|l| l.contains("page read")), "{}", result.stderr);
    assert!(!result.stderr.contains(CANARY) && !result.stdout.contains(CANARY));
    drop(server);
}
