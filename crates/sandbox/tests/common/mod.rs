//! Helpers shared by the sandbox's tests: a started sandbox and plain HTTP
//! requests against it.

#![allow(dead_code)]

use std::sync::OnceLock;

use convo_sandbox::{Fault, FaultKind, Sandbox, SandboxOptions, Vendor, credentials};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// The size of the generated conversations the paging tests walk.
pub const MESSAGES: usize = 2_345;

pub async fn start(messages: usize, faults: Vec<Fault>) -> Sandbox {
    Sandbox::start(SandboxOptions { messages, faults, ..SandboxOptions::default() }).await.expect("the sandbox starts")
}

pub fn fault(vendor: Vendor, on_request: usize, kind: FaultKind) -> Fault {
    Fault { vendor, on_request, kind }
}

/// A response, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("a text header"))
    }
}

/// One HTTP client for all tests: building one loads the TLS roots, which
/// is slow. It keeps no idle connections, so no connection outlives the
/// test (and the runtime) that opened it.
pub fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("an HTTP client"))
}

/// GETs `url` with `headers` and the query pairs `query`.
pub async fn get(url: &str, headers: &[(&str, &str)], query: &[(&str, &str)]) -> Answer {
    let mut request = client().get(url).query(query);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap_or_else(|e| panic!("GET {url}: the body: {e}")).to_vec();
    Answer { status, headers, body }
}

/// Each vendor's credentials, as the headers its clients send.
pub fn auth(vendor: Vendor) -> Vec<(&'static str, String)> {
    match vendor {
        Vendor::Infobip => vec![("authorization", format!("App {}", credentials::INFOBIP_API_KEY))],
        Vendor::Octopush => vec![
            ("api-login", credentials::OCTOPUSH_API_LOGIN.to_owned()),
            ("api-key", credentials::OCTOPUSH_API_KEY.to_owned()),
        ],
        Vendor::Leadconnector => vec![
            ("authorization", format!("Bearer {}", credentials::LEADCONNECTOR_TOKEN)),
            ("version", "2021-07-28".to_owned()),
        ],
        Vendor::Bird => vec![("authorization", format!("AccessKey {}", credentials::BIRD_ACCESS_KEY))],
    }
}

/// GETs `path` (appended to the vendor's base URL) with the vendor's
/// credentials.
pub async fn call(sandbox: &Sandbox, vendor: Vendor, path: &str, query: &[(&str, &str)]) -> Answer {
    let headers = auth(vendor);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    get(&format!("{}{path}", sandbox.base_url(vendor)), &headers, query).await
}

pub fn infobip_path(conversation: &str) -> String {
    format!("/ccaas/1/conversations/{conversation}/messages")
}

pub const OCTOPUSH_PATH: &str = "/conversations/messages/list";

pub fn leadconnector_path(conversation: &str) -> String {
    format!("/conversations/{conversation}/messages")
}

pub fn bird_path(conversation: &str) -> String {
    format!("/workspaces/{}/conversations/{conversation}/messages", convo_sandbox::ids::bird::WORKSPACE)
}

/// The ids of the messages of a page.
pub fn ids(messages: &Value, key: &str) -> Vec<String> {
    messages
        .as_array()
        .expect("a message list")
        .iter()
        .map(|m| m[key].as_str().expect("a message id").to_owned())
        .collect()
}
