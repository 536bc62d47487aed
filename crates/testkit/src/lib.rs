//! Test support shared by the workspace's tests. Never a dependency of
//! library code.

use std::path::PathBuf;

use serde_norway::Value;

pub use wiremock;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The parsed spec `specs/<name>`.
pub fn spec(name: &str) -> Value {
    let path = root().join("specs").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON bytes of the `application/json` example of response `status` of
/// the one operation in `specs/<name>`: the documented sample, from the one
/// place it is kept. Keys keep the spec's order.
pub fn sample(name: &str, status: &str) -> Vec<u8> {
    let spec = spec(name);
    let paths = spec["paths"].as_mapping().expect("paths");
    let (_, item) = paths.iter().next().expect("one path");
    let example = &item["get"]["responses"][status]["content"]["application/json"]["example"];
    assert!(!example.is_null(), "specs/{name} has no example for {status}");
    serde_json::to_vec_pretty(example).expect("the example is JSON")
}

/// Starts a local HTTP server on 127.0.0.1.
pub async fn server() -> wiremock::MockServer {
    wiremock::MockServer::start().await
}

/// The one request the server received (panics if it was not exactly one).
pub async fn only_request(server: &wiremock::MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:#?}");
    requests.remove(0)
}
