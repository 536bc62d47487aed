//! The scripted server the probe tests (`probe.rs`, `probe2.rs`) read the
//! built `convo` against: a few lines of std, one thread a connection,
//! `Connection: close`, and a script `Fn(ordinal, &Req) -> Reply`, so that a
//! test controls the bytes (a lying Content-Length, a trickle, ...). Every
//! server answers at most `BUDGET` requests, then 400s. Also the vendors'
//! message builders and the promise check those tests share.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{Run, convo, run};
use serde_json::{Value, json};

pub const BUDGET: usize = 400;
pub const SECRET: &str = "PROBE-SECRET-9f8e7d";

#[derive(Debug, Clone)]
pub struct Req {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
}

impl Req {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub enum Reply {
    Json(u16, Value),
    /// Status, extra headers, body; Content-Length is the body's.
    Raw(u16, Vec<(String, String)>, Vec<u8>),
    /// Exact bytes written, then the connection is closed.
    Bytes(Vec<u8>),
    /// These bytes at once, then the rest one byte every `Duration`.
    Trickle(Vec<u8>, Vec<u8>, Duration),
}

pub type Script = dyn Fn(usize, &Req) -> Reply + Send + Sync;

pub struct Server {
    pub base: String,
    pub count: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Req>>>,
    pub stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}

impl Server {
    pub fn start(script: impl Fn(usize, &Req) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let (c, r, s) = (count.clone(), requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (c, r, script) = (c.clone(), r.clone(), script.clone());
                std::thread::spawn(move || serve(stream, &c, &r, &*script));
            }
        });
        Server { base, count, requests, stop }
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

pub fn serve(mut stream: TcpStream, count: &AtomicUsize, requests: &Mutex<Vec<Req>>, script: &Script) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let mut lines = text.split("\r\n");
    let target = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("/").to_owned();
    let headers: Vec<(String, String)> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())))
        .collect();
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let query = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let req = Req { path: path.to_owned(), query, headers };
    requests.lock().unwrap().push(req.clone());
    let ordinal = count.fetch_add(1, Ordering::SeqCst) + 1;
    let reply = if ordinal > BUDGET {
        Reply::Json(400, json!({"message": "probe budget spent"}))
    } else {
        script(ordinal, &req)
    };
    let bytes = match reply {
        Reply::Json(status, value) => response(status, &[], &serde_json::to_vec(&value).unwrap()),
        Reply::Raw(status, headers, body) => response(status, &headers, &body),
        Reply::Bytes(bytes) => bytes,
        Reply::Trickle(head, rest, every) => {
            let _ = stream.write_all(&head);
            for b in rest {
                if stream.write_all(&[b]).and_then(|()| stream.flush()).is_err() {
                    return;
                }
                std::thread::sleep(every);
            }
            return;
        }
    };
    let _ = stream.write_all(&bytes);
    let _ = stream.flush();
}

pub fn response(status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} X\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        head.push_str("content-type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

pub fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------- vendors

pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(1_767_225_600_000 + ms * 1000)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub fn lc_message(i: usize) -> Value {
    json!({"id": format!("lc{i:04}"), "type": 2, "messageType": "TYPE_SMS", "conversationId": "conv1",
           "dateAdded": time(10_000 - i as i64), "body": format!("text {i}"), "direction": "inbound", "status": "delivered"})
}

pub fn lc_page(ids: &[usize], next: bool) -> Value {
    let messages: Vec<Value> = ids.iter().map(|&i| lc_message(i)).collect();
    let last = ids.last().map(|&i| format!("lc{i:04}"));
    json!({"messages": messages, "nextPage": next, "lastMessageId": last})
}

/// The index of the first LeadConnector message after the request's cursor.
pub fn lc_start(req: &Req) -> usize {
    req.param("lastMessageId").map_or(0, |id| id.trim_start_matches("lc").parse::<usize>().unwrap() + 1)
}

pub fn bird_message(i: usize) -> Value {
    json!({"id": format!("b{i:04}"), "conversationId": "c", "reference": "", "draft": false, "status": "delivered",
           "source": "channels", "sender": {"id": "s", "type": "contact"},
           "body": {"type": "text", "text": {"text": format!("t{i}")}},
           "createdAt": time(10_000 - i as i64), "updatedAt": time(10_000 - i as i64)})
}

pub fn octo_message(i: usize) -> Value {
    json!({"message_id": format!("o{i:04}"), "text": format!("t{i}"), "direction": "inbound", "channel": "sms"})
}

pub fn ib_message(i: usize) -> Value {
    json!({"id": format!("ib{i:04}"), "from": "1", "to": "2", "channel": "SMS", "direction": "INBOUND",
           "conversationId": "conv", "createdAt": time(i as i64), "contentType": "TEXT", "content": {"text": format!("t{i}")}})
}

/// An honest Infobip listing of `n` messages (createdAt:asc, createdAfter
/// exclusive, page/limit), as a function of the request.
pub fn ib_honest(n: usize, req: &Req) -> Value {
    let after = req.param("createdAfter").map(|a| {
        let a = a.replace("+0000", "Z");
        chrono::DateTime::parse_from_rfc3339(&a).unwrap().timestamp_millis()
    });
    let limit: usize = req.param("limit").unwrap_or("10").parse().unwrap();
    let page: usize = req.param("page").unwrap_or("0").parse().unwrap();
    let all: Vec<usize> = (0..n).filter(|&i| after.is_none_or(|a| 1_767_225_600_000 + i as i64 * 1000 > a)).collect();
    let served: Vec<Value> = all.iter().skip(page * limit).take(limit).map(|&i| ib_message(i)).collect();
    json!({"messages": served, "pagination": {"totalItems": all.len(), "page": page, "limit": limit, "orderBy": "createdAt:ASC"}})
}

// ---------------------------------------------------------------- running

/// The vendor's credential variables, set to the probe secret.
pub fn with_secret(command: &mut assert_cmd::Command, vendor: &str) {
    match vendor {
        "infobip" => command.env("INFOBIP_API_KEY", SECRET),
        "octopush" => command.env("OCTOPUSH_API_KEY", SECRET).env("OCTOPUSH_API_LOGIN", format!("login-{SECRET}")),
        "leadconnector" => command.env("LEADCONNECTOR_TOKEN", SECRET),
        _ => command.env("BIRD_ACCESS_KEY", SECRET),
    };
}

/// The ids of an NDJSON file of messages, or why a line is not JSON.
pub fn file_ids(path: &std::path::Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    text.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .map_err(|e| format!("not a JSON line ({e}): {l:?}"))
                .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// `convo fetch` of `conversation` from `server`, with the vendor's
/// credential (the probe secret) and `extra` flags, not yet run.
pub fn fetch_command(vendor: &str, server: &Server, conversation: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut command = convo();
    command.timeout(Duration::from_secs(90));
    command.args(["fetch", vendor, "--base-url", &server.base, "--conversation", conversation]);
    if vendor == "bird" {
        command.args(["--workspace", "ws1"]);
    }
    command.args(extra);
    with_secret(&mut command, vendor);
    command
}

/// `convo fetch` of the probe conversation (Octopush's `cid_…`, else
/// `conv1`), with `RUST_LOG` set to `rust_log` where given.
pub fn fetch(vendor: &str, server: &Server, extra: &[&str], rust_log: Option<&str>) -> Run {
    let conversation = match vendor {
        "octopush" => "cid_6c0e7f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
        _ => "conv1",
    };
    let mut command = fetch_command(vendor, server, conversation, extra);
    if let Some(level) = rust_log {
        command.env("RUST_LOG", level);
    }
    run(&mut command)
}

pub fn ids(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).ok().and_then(|v| v["id"].as_str().map(str::to_owned)).unwrap_or_default()
        })
        .collect()
}

pub fn show(run: &Run) -> String {
    format!("exit {:?}; {} lines; stderr: {}", run.code, run.stdout.lines().count(), run.stderr.trim())
}

/// The promise for a read whose conversation is `expected`: exit 0 only
/// with exactly these ids in this order; otherwise no id twice.
pub fn promise(what: &str, run: &Run, expected: &[String]) {
    let got = ids(run);
    let mut seen = std::collections::HashSet::new();
    for id in &got {
        assert!(seen.insert(id), "{what}: `{id}` printed twice ({})", show(run));
    }
    assert!(run.code.is_some(), "{what}: convo hung");
    if run.code == Some(0) {
        assert_eq!(got, expected, "{what}: exit 0 with a wrong set ({})", show(run));
    }
    assert!(!run.stderr.contains("panicked"), "{what}: panic: {}", run.stderr);
}

/// A read refused on a body that is not a page: exit 6 (a body that is not
/// the vendor's documented shape), after the `delivered` messages before it.
pub fn not_a_page(what: &str, run: &Run, delivered: usize) {
    assert_eq!(run.code, Some(6), "{what}: {}", show(run));
    assert!(run.stderr.contains("not a page of messages"), "{what}: {}", show(run));
    assert_eq!(run.stdout.lines().count(), delivered, "{what}: the pages before it stay written");
}

pub fn lc_ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("lc{i:04}")).collect()
}

/// Neither stdout nor stderr of `run` shows [`SECRET`].
pub fn no_secret(what: &str, run: &Run) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains(SECRET),
            "{what} ({name}) shows the credential: {}",
            text.chars().take(3000).collect::<String>()
        );
    }
}
