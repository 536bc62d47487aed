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
