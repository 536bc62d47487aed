//! `convo-bench e2e`: the CLI's CPU time end to end against a bytes-only
//! client over the same URLs; `convo-bench get`: that client.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use convo_sandbox::{Sandbox, SandboxOptions, Vendor as SandboxVendor, credentials, ids};

use crate::{USAGE, number};

/// The pre-rendered pages, by the cursor that asks for them (`""`: the
/// first page), and what was asked.
struct Served {
    pages: HashMap<String, Vec<u8>>,
    /// Every request target, with its `Accept-Encoding`.
    log: Mutex<Vec<(String, Option<String>)>>,
}

pub fn command(args: &[String]) -> Result<(), String> {
    let (mut messages, mut runs, mut convo) = (10_000u64, 5u64, None);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--messages" => messages = number(flag, args.next())?.max(1),
            "--runs" => runs = number(flag, args.next())?.max(1),
            "--convo" => convo = args.next().cloned(),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let convo = convo.ok_or_else(|| format!("e2e needs --convo PATH (the release `convo` binary)\n{USAGE}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let pages = runtime.block_on(render(messages as usize))?;
    let page_count = pages.len();
    let body_bytes: usize = pages.values().map(Vec::len).sum();
    let served = Arc::new(Served { pages, log: Mutex::new(Vec::new()) });

    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot listen: {e}"))?;
    let base = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    {
        let served = served.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let served = served.clone();
                std::thread::spawn(move || serve(stream, &served));
            }
        });
    }
    let curl = Command::new("curl").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    let me = std::env::current_exe().map_err(|e| e.to_string())?;

    let (mut convo_ms, mut get_ms, mut curl_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut accept_encoding = None;
    // A first round to warm the caches, not kept.
    for round in 0..=runs {
        served.log.lock().unwrap().clear();
        let mut fetch = Command::new(&convo);
        fetch
            .args(["fetch", "leadconnector", "--base-url", &base, "--conversation"])
            .arg(ids::leadconnector::GENERATED_CONVERSATION)
            .env("LEADCONNECTOR_TOKEN", credentials::LEADCONNECTOR_TOKEN);
        let (cpu, out) = child_cpu(&mut fetch)?;
        let lines = out.iter().filter(|&&b| b == b'\n').count();
        if lines as u64 != messages {
            return Err(format!("convo fetch printed {lines} messages of {messages}"));
        }
        let log = std::mem::take(&mut *served.log.lock().unwrap());
        if log.len() != page_count {
            return Err(format!("convo fetch made {} requests for {page_count} pages", log.len()));
        }
        accept_encoding = log[0].1.clone();
        let targets: Vec<String> = log.into_iter().map(|(target, _)| target).collect();

        let (get_cpu, out) = child_cpu(Command::new(&me).arg("get").arg(&base).args(&targets))?;
        let read: Value = serde_json::from_slice(&out).map_err(|e| format!("convo-bench get: {e}"))?;
        if read["bytes"].as_u64() != Some(body_bytes as u64) {
            return Err(format!("convo-bench get read {} bytes of {body_bytes}", read["bytes"]));
        }
        let curl_cpu = if curl {
            let mut command = Command::new("curl");
            command.args(["--silent", "--show-error", "--fail"]);
            for target in &targets {
                command.args(["--output", "/dev/null"]).arg(format!("{base}{target}"));
            }
            Some(child_cpu(&mut command)?.0)
        } else {
            None
        };
        if round > 0 {
            convo_ms.push(cpu);
            get_ms.push(get_cpu);
            curl_ms.extend(curl_cpu);
        }
    }
    let (convo_min, get_min) = (min(&convo_ms), min(&get_ms));
    let curl_min = (!curl_ms.is_empty()).then(|| min(&curl_ms));
    println!(
        "{}",
        json!({
            "vendor": "leadconnector",
            "messages": messages,
            "pages": page_count,
            "body_bytes": body_bytes,
            "runs": runs,
            "accept_encoding": accept_encoding,
            "convo_cpu_ms": convo_ms,
            "get_cpu_ms": get_ms,
            "curl_cpu_ms": curl_ms,
            "convo_min_ms": convo_min,
            "get_min_ms": get_min,
            "curl_min_ms": curl_min,
            "ratio_get": convo_min / get_min,
            "ratio_curl": curl_min.map(|c| convo_min / c),
        })
    );
    Ok(())
}

fn min(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Runs `command` to its end, its standard output captured: the CPU time
/// (user + system) it used, in milliseconds, and what it printed.
fn child_cpu(command: &mut Command) -> Result<(f64, Vec<u8>), String> {
    let before = children_cpu_ms()?;
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let after = children_cpu_ms()?;
    if !output.status.success() {
        return Err(format!("{command:?} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr)));
    }
    Ok((after - before, output.stdout))
}

/// User + system CPU time of every child waited for so far, in milliseconds.
fn children_cpu_ms() -> Result<f64, String> {
    // SAFETY: `getrusage` only writes the `rusage` it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) != 0 {
            return Err(format!("getrusage: {}", std::io::Error::last_os_error()));
        }
        usage
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    Ok(ms(usage.ru_utime) + ms(usage.ru_stime))
}

/// LeadConnector's generated conversation, page by page as the sandbox
/// serves it (100 messages a page), keyed by the cursor that asks for each.
async fn render(messages: usize) -> Result<HashMap<String, Vec<u8>>, String> {
    let sandbox = Sandbox::start(SandboxOptions { messages, ..SandboxOptions::default() })
        .await
        .map_err(|e| format!("cannot start the sandbox: {e}"))?;
    let url = format!(
        "{}/conversations/{}/messages",
        sandbox.base_url(SandboxVendor::Leadconnector),
        ids::leadconnector::GENERATED_CONVERSATION
    );
    let client = reqwest::Client::new();
    let (mut pages, mut cursor, mut read) = (HashMap::new(), String::new(), 0usize);
    loop {
        let mut request = client
            .get(&url)
            .bearer_auth(credentials::LEADCONNECTOR_TOKEN)
            .header("Version", convo_leadconnector::DEFAULT_VERSION)
            .query(&[("limit", "100")]);
        if !cursor.is_empty() {
            request = request.query(&[("lastMessageId", cursor.as_str())]);
        }
        let body = request.send().await.and_then(|r| r.error_for_status()).map_err(|e| e.to_string())?;
        let body = body.bytes().await.map_err(|e| e.to_string())?.to_vec();
        let page: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        read += page["messages"].as_array().map_or(0, Vec::len);
        let next = page["lastMessageId"].as_str().unwrap_or_default().to_owned();
        let more = page["nextPage"].as_bool() == Some(true);
        pages.insert(std::mem::replace(&mut cursor, next), body);
        if !more || cursor.is_empty() {
            break;
        }
    }
    sandbox.shutdown().await;
    if read != messages {
        return Err(format!("the sandbox served {read} messages of {messages}"));
    }
    Ok(pages)
}

/// One connection: HTTP/1.1 requests, kept alive, each answered with the
/// page its `lastMessageId` names.
fn serve(stream: TcpStream, served: &Served) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).map_or(true, |n| n == 0) {
            return;
        }
        let mut accept_encoding = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).map_or(true, |n| n == 0) {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.trim().eq_ignore_ascii_case("accept-encoding")
            {
                accept_encoding = Some(value.trim().to_owned());
            }
        }
        let target = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
        let cursor = target
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("lastMessageId="))
            .unwrap_or_default();
        let page = served.pages.get(cursor);
        served.log.lock().unwrap().push((target.clone(), accept_encoding));
        let written = match page {
            Some(body) => write!(
                writer,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .and_then(|()| writer.write_all(body)),
            None => writer.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
        };
        if written.and_then(|()| writer.flush()).is_err() {
            return;
        }
    }
}

/// `convo-bench get BASE_URL TARGET...`: the bytes-only client. One reqwest
/// client (the CLI's HTTP stack and features, gzip included), one request
/// after another, each body read whole as bytes and dropped. Prints the
/// bytes read.
pub fn get_command(args: &[String]) -> Result<(), String> {
    let (base, targets) = args.split_first().ok_or_else(|| USAGE.to_owned())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let bytes = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut bytes = 0usize;
        for target in targets {
            let response = client.get(format!("{base}{target}")).send().await.map_err(|e| e.to_string())?;
            let response = response.error_for_status().map_err(|e| e.to_string())?;
            bytes += response.bytes().await.map_err(|e| e.to_string())?.len();
        }
        Ok::<_, String>(bytes)
    })?;
    println!("{}", json!({ "requests": targets.len(), "bytes": bytes }));
    Ok(())
}
