//! Helpers shared by the end-to-end tests of the `convo` binary: the built
//! binary with a clean environment, servers started in-process (the sandbox,
//! a wiremock server) and checks on what the binary printed.

#![allow(dead_code)]

use std::time::Duration;

use assert_cmd::Command;
use convo_sandbox::{Sandbox, SandboxOptions, Vendor, credentials, ids};
use convo_testkit::wiremock::{Mock, MockServer, ResponseTemplate, matchers};
use serde_json::Value;

/// The four vendors, as named on the command line.
pub const VENDORS: [&str; 4] = ["infobip", "octopush", "leadconnector", "bird"];

/// Every variable `convo` reads: none of the machine's may leak into a test.
const ENVIRONMENT: [&str; 12] = [
    "INFOBIP_API_KEY",
    "INFOBIP_BASE_URL",
    "OCTOPUSH_API_KEY",
    "OCTOPUSH_API_LOGIN",
    "OCTOPUSH_BASE_URL",
    "LEADCONNECTOR_TOKEN",
    "LEADCONNECTOR_VERSION",
    "LEADCONNECTOR_BASE_URL",
    "BIRD_ACCESS_KEY",
    "BIRD_BASE_URL",
    "RUST_LOG",
    "RUST_BACKTRACE",
];

/// The built `convo`, with none of the machine's credentials, base URLs or
/// log settings, and a generous time limit so that a hang fails the test
/// instead of blocking the suite.
pub fn convo() -> Command {
    let mut command = Command::cargo_bin("convo").expect("the convo binary is built");
    for name in ENVIRONMENT {
        command.env_remove(name);
    }
    command.timeout(Duration::from_secs(120));
    command
}

/// The same, as a plain `std::process::Command` (for children the test
/// talks to while they run).
pub fn convo_std() -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("convo"));
    for name in ENVIRONMENT {
        command.env_remove(name);
    }
    command
}

/// What one run printed.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout and stderr together, for searches.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Stdout's lines, each parsed as JSON.
    pub fn ndjson(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
            .collect()
    }

    /// The `id` of every ndjson message on stdout.
    pub fn ids(&self) -> Vec<String> {
        self.ndjson().iter().map(|m| m["id"].as_str().expect("a message id").to_owned()).collect()
    }

    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit code; stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn expect_success(&self) -> &Self {
        self.expect_code(0);
        assert!(self.stderr.is_empty(), "a success prints nothing on stderr, got:\n{}", self.stderr);
        self
    }

    /// The failure was reported as `convo`'s errors are: one line on
    /// stderr, `convo: …`, with no panic and no `Debug` dump. Returns the line.
    pub fn expect_error_line(&self, code: i32) -> &str {
        self.expect_code(code);
        expect_one_error_line(&self.stderr)
    }
}

/// Checks `stderr` is one `convo: …` line with no panic and no `Debug`
/// dump (besides, after messages were written, the line that tells how to
/// go on with `--resume`), and returns the line.
pub fn expect_one_error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("convo: to go on from here, run the same command with --resume "))
        .collect();
    assert_eq!(lines.len(), 1, "expected exactly one line on stderr, got:\n{stderr}");
    let line = lines[0];
    assert!(line.starts_with("convo: "), "the error line starts with `convo: `: {line}");
    assert!(line.len() > "convo: ".len() + 10, "the error line says something: {line}");
    expect_no_panic_or_debug(stderr);
    line
}

/// No panic text and none of the `Debug` renderings of the errors that
/// `convo` wraps.
pub fn expect_no_panic_or_debug(text: &str) {
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "ErrorResponse {",
        "ResponseValue",
        "UnexpectedResponse",
        "Error {",
        "Some(",
        "reqwest::",
    ] {
        assert!(!text.contains(bad), "output holds `{bad}`:\n{text}");
    }
}

/// Runs `command` to its end.
pub fn run(command: &mut Command) -> Run {
    let output = command.output().expect("convo runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// A server that runs in the background for as long as the value lives,
/// on a runtime of its own (the test itself stays synchronous and runs the
/// binary as a child process).
pub struct Served<T> {
    // Dropped first: the server stops before its runtime.
    pub server: T,
    _runtime: tokio::runtime::Runtime,
}

impl<T> std::ops::Deref for Served<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.server
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
}

/// The sandbox, started in-process.
pub fn sandbox(options: SandboxOptions) -> Served<Sandbox> {
    let runtime = runtime();
    let server = runtime.block_on(Sandbox::start(options)).expect("the sandbox starts");
    Served { server, _runtime: runtime }
}

/// A wiremock server answering every request with `status` and `body`.
pub fn wiremock(status: u16, body: &[u8]) -> Served<MockServer> {
    let runtime = runtime();
    let server = runtime.block_on(async {
        let server = convo_testkit::server().await;
        Mock::given(matchers::any())
            .respond_with(ResponseTemplate::new(status).set_body_raw(body.to_vec(), "application/json"))
            .mount(&server)
            .await;
        server
    });
    Served { server, _runtime: runtime }
}

/// A wiremock server answering the first request with `status` and
/// `body`, and every later one with 200 and `then`: a conversation of one
/// page for a vendor (Octopush) whose read ends only on an empty page.
pub fn wiremock_then(status: u16, body: &[u8], then: &[u8]) -> Served<MockServer> {
    let runtime = runtime();
    let server = runtime.block_on(async {
        let server = convo_testkit::server().await;
        Mock::given(matchers::any())
            .respond_with(ResponseTemplate::new(status).set_body_raw(body.to_vec(), "application/json"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_raw(then.to_vec(), "application/json"))
            .with_priority(2)
            .mount(&server)
            .await;
        server
    });
    Served { server, _runtime: runtime }
}

/// The requests a read of a vendor's one-page conversation makes: one for
/// the cursor vendors; for Infobip, the page and the request after its
/// newest message (which brings nothing new); for Octopush, the page, the
/// empty page that ends the read, and both again (the listing read again;
/// its one page is full at the size it set, so the empty page shows the end).
pub fn one_page_requests(vendor: &str) -> usize {
    match vendor {
        "infobip" => 2,
        "octopush" => 4,
        _ => 1,
    }
}

/// A wiremock server holding a one-page conversation the way the vendor
/// pages it: `body` for every request but Octopush's page 2, which is empty.
pub fn one_page(body: &[u8]) -> Served<MockServer> {
    let runtime = runtime();
    let server = runtime.block_on(async {
        let server = convo_testkit::server().await;
        Mock::given(matchers::query_param("page", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(b"[]".to_vec(), "application/json"))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_vec(), "application/json"))
            .with_priority(2)
            .mount(&server)
            .await;
        server
    });
    Served { server, _runtime: runtime }
}

/// A wiremock server answering its first request with `first` and every
/// later one with `later` (both 200).
pub fn wiremock_pages(first: &[u8], later: &[u8]) -> Served<MockServer> {
    wiremock_then(200, first, later)
}

impl Served<MockServer> {
    /// The requests the server received so far.
    pub fn requests(&self) -> Vec<convo_testkit::wiremock::Request> {
        self._runtime.block_on(self.server.received_requests()).expect("recording is on")
    }
}

pub fn sandbox_vendor(vendor: &str) -> Vendor {
    match vendor {
        "infobip" => Vendor::Infobip,
        "octopush" => Vendor::Octopush,
        "leadconnector" => Vendor::Leadconnector,
        "bird" => Vendor::Bird,
        other => panic!("no vendor {other}"),
    }
}

/// The documented sample of `vendor`, from its spec.
pub fn sample(vendor: &str) -> Vec<u8> {
    convo_testkit::sample(&format!("{vendor}.yaml"), "200")
}

/// The vendor's messages in its documented sample, as the vendor wrote them.
pub fn sample_messages(vendor: &str) -> Vec<Value> {
    let body: Value = serde_json::from_slice(&sample(vendor)).expect("the sample is JSON");
    let list = match vendor {
        "infobip" => &body["messages"],
        "octopush" => &body,
        "leadconnector" => &body["messages"],
        "bird" => &body["results"],
        other => panic!("no vendor {other}"),
    };
    list.as_array().expect("the sample's message list").clone()
}

/// The message ids of the vendor's documented sample, in its order.
pub fn sample_ids(vendor: &str) -> Vec<String> {
    let key = if vendor == "octopush" { "message_id" } else { "id" };
    sample_messages(vendor).iter().map(|m| m[key].as_str().expect("a message id").to_owned()).collect()
}

/// The flags and environment that select `conversation` of `vendor` on a
/// server at `base_url`, with the given credentials.
pub fn fetch_from(command: &mut Command, vendor: &str, base_url: &str, conversation: &str, secrets: &Secrets) {
    command.args(["fetch", vendor, "--base-url", base_url, "--conversation", conversation]);
    if vendor == "bird" {
        command.args(["--workspace", ids::bird::WORKSPACE]);
    }
    for (name, value) in secrets.env(vendor) {
        command.env(name, value);
    }
}

/// One set of credentials for every vendor.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub infobip_api_key: String,
    pub octopush_api_login: String,
    pub octopush_api_key: String,
    pub leadconnector_token: String,
    pub bird_access_key: String,
}

impl Secrets {
    /// The sandbox's own keys: accepted.
    pub fn sandbox() -> Self {
        Self {
            infobip_api_key: credentials::INFOBIP_API_KEY.to_owned(),
            octopush_api_login: credentials::OCTOPUSH_API_LOGIN.to_owned(),
            octopush_api_key: credentials::OCTOPUSH_API_KEY.to_owned(),
            leadconnector_token: credentials::LEADCONNECTOR_TOKEN.to_owned(),
            bird_access_key: credentials::BIRD_ACCESS_KEY.to_owned(),
        }
    }

    /// Distinctive values no output may ever hold: refused by the sandbox.
    pub fn canaries() -> Self {
        Self {
            infobip_api_key: "s3cr3t-infobip-canary".to_owned(),
            octopush_api_login: "s3cr3t-octopush-login-canary".to_owned(),
            octopush_api_key: "s3cr3t-octopush-canary".to_owned(),
            leadconnector_token: "s3cr3t-leadconnector-canary".to_owned(),
            bird_access_key: "s3cr3t-bird-canary".to_owned(),
        }
    }

    /// The environment variables holding `vendor`'s credentials.
    pub fn env(&self, vendor: &str) -> Vec<(&'static str, String)> {
        match vendor {
            "infobip" => vec![("INFOBIP_API_KEY", self.infobip_api_key.clone())],
            "octopush" => vec![
                ("OCTOPUSH_API_LOGIN", self.octopush_api_login.clone()),
                ("OCTOPUSH_API_KEY", self.octopush_api_key.clone()),
            ],
            "leadconnector" => vec![("LEADCONNECTOR_TOKEN", self.leadconnector_token.clone())],
            "bird" => vec![("BIRD_ACCESS_KEY", self.bird_access_key.clone())],
            other => panic!("no vendor {other}"),
        }
    }

    /// Every form in which `vendor`'s credentials could leak: the values,
    /// and their base64 forms (alone and as a Basic `login:key` pair).
    pub fn leak_forms(&self, vendor: &str) -> Vec<String> {
        use base64::Engine as _;
        let values: Vec<String> = self.env(vendor).into_iter().map(|(_, v)| v).collect();
        let mut forms = values.clone();
        for value in &values {
            forms.push(base64::engine::general_purpose::STANDARD.encode(value));
            forms.push(base64::engine::general_purpose::STANDARD_NO_PAD.encode(value));
        }
        if let [login, key] = values.as_slice() {
            forms.push(base64::engine::general_purpose::STANDARD.encode(format!("{login}:{key}")));
        }
        forms
    }
}

/// The conversation each vendor's sandbox serves its documented sample under.
pub fn sample_conversation(vendor: &str) -> &'static str {
    match vendor {
        "infobip" => ids::infobip::SAMPLE_CONVERSATION,
        "octopush" => ids::octopush::SAMPLE_CONVERSATION,
        "leadconnector" => ids::leadconnector::SAMPLE_CONVERSATION,
        "bird" => ids::bird::SAMPLE_CONVERSATION,
        other => panic!("no vendor {other}"),
    }
}

/// The conversation each vendor's sandbox generates with `messages` > 0.
pub fn generated_conversation(vendor: &str) -> &'static str {
    match vendor {
        "infobip" => ids::infobip::GENERATED_CONVERSATION,
        "octopush" => ids::octopush::GENERATED_CONVERSATION,
        "leadconnector" => ids::leadconnector::GENERATED_CONVERSATION,
        "bird" => ids::bird::GENERATED_CONVERSATION,
        other => panic!("no vendor {other}"),
    }
}

/// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// JSON text without the whitespace between tokens (strings kept as they
/// are), so that a vendor's pretty-printed sample can be compared byte for
/// byte with the compact JSON a server sends.
pub fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}
