//! The release-mode measurements behind `cargo xtask bench`. Prints one JSON
//! object per line, for the xtask to read; nothing here judges the numbers.
//!
//! ```text
//! convo-bench decode [--rounds 30] [--iterations 10] [--vendor NAME]... [--only normalize|value]
//! convo-bench fetch [--messages 10000] [--delay-ms 20] [--runs 3] [--vendor NAME]...
//! convo-bench rss -- COMMAND [ARG]...
//! convo-bench e2e --convo PATH [--messages 10000] [--runs 5]
//! convo-bench get BASE_URL TARGET...
//! convo-bench wire
//! ```
//!
//! `decode` times `normalize_page` against a `serde_json::Value` parse of the
//! same page (the criterion bench's pages, `crates/normalize/benches/pages`)
//! in this thread's CPU time, the two interleaved round by round, so that a
//! busy machine slows both alike: the ratio is what it is read for.
//!
//! `fetch` starts the sandbox (every response taking `--delay-ms` from its
//! arrival) with a generated conversation of `--messages` messages, reads it
//! whole through `convo_normalize::fetch::messages` with the default options
//! (each vendor's largest page; Infobip's windows `CONVO_BENCH_CONCURRENCY`
//! at a time), once to have the sandbox make its answers and then from
//! those answers (`SandboxOptions::replay`), and reports the wall time of each
//! run, the requests the sandbox counted, the fewest requests that can read
//! the conversation and the fewest of them that must follow one another; then
//! the same runs with no delay at all, whose wall time is the work itself.
//!
//! `rss` runs a command with its standard output thrown away and reports the
//! command's peak resident set size (`getrusage(RUSAGE_CHILDREN)`, in KiB).
//!
//! `e2e` measures the CLI end to end against a bytes-only client over the
//! same URLs: it renders LeadConnector's generated conversation of
//! `--messages` messages (100 a page) from the sandbox once, serves those
//! pages from a small local HTTP/1.1 server (keep-alive, no compression,
//! no delay), runs `CONVO fetch leadconnector --base-url ...` as a child
//! process with its output thrown away, and then `convo-bench get` (one
//! reqwest client, the CLI's HTTP stack, reading each body as bytes) and
//! `curl` (when on `PATH`) over exactly the URLs the CLI asked for, each on
//! one connection. Each child's CPU time is user + system from
//! `getrusage(RUSAGE_CHILDREN)` around it; the three alternate run by run.
//! It also reports the `Accept-Encoding` the CLI sent.
//!
//! `wire` reports, per vendor, the bytes of the decode benchmark's page of
//! 1,000 messages as sent, and gzip-compressed at flate2's default level.
// The CPU-time and memory readings call libc (`clock_gettime`,
// `getrusage`), which std does not wrap; each call is one `unsafe` block.
#![allow(unsafe_code)]

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;

use convo_normalize::fetch::{ClientOptions, FetchOptions, PagingOptions, Selector, Source};
use convo_normalize::{Vendor, normalize_page};
use convo_sandbox::{Replay, Sandbox, SandboxOptions, ids};

mod e2e;
#[path = "../../normalize/benches/pages/mod.rs"]
mod pages;
mod sync;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("decode") => decode_command(&args[1..]),
        Some("fetch") => fetch_command(&args[1..]),
        Some("rss") => rss_command(&args[1..]),
        Some("e2e") => e2e::command(&args[1..]),
        Some("get") => e2e::get_command(&args[1..]),
        Some("wire") => wire_command(),
        Some("sync") => sync::command(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("convo-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) const USAGE: &str = "usage: convo-bench decode [--rounds N] [--iterations N] [--vendor NAME]... [--only normalize|value] | convo-bench fetch [--messages N] [--delay-ms MS] [--runs N] [--vendor NAME]... | convo-bench rss -- COMMAND [ARG]... | convo-bench e2e --convo PATH [--messages N] [--runs N] | convo-bench get BASE_URL TARGET... | convo-bench wire | convo-bench sync [--conversations N] [--messages N] [--delay-ms MS] [--concurrency N]";

/// The decode benchmark's pages, as sent and gzip-compressed.
fn wire_command() -> Result<(), String> {
    use std::io::Write;
    for (vendor, bytes) in pages::pages() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&bytes).map_err(|e| e.to_string())?;
        let gzip = encoder.finish().map_err(|e| e.to_string())?;
        println!(
            "{}",
            json!({
                "vendor": vendor.as_str(),
                "messages": pages::MESSAGES,
                "bytes": bytes.len(),
                "gzip_bytes": gzip.len(),
                "gzip_level": flate2::Compression::default().level(),
            })
        );
    }
    Ok(())
}

pub(crate) fn number(flag: &str, value: Option<&String>) -> Result<u64, String> {
    value.and_then(|v| v.parse().ok()).ok_or_else(|| format!("{flag} needs a whole number\n{USAGE}"))
}

fn decode_command(args: &[String]) -> Result<(), String> {
    let (mut rounds, mut iterations) = (30u64, 10u64);
    // For profiling: run one side only (`normalize` or `value`), no timings.
    let mut only = None;
    let mut vendors = Vec::new();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--rounds" => rounds = number(flag, args.next())?.max(1),
            "--iterations" => iterations = number(flag, args.next())?.max(1),
            "--only" => only = args.next().cloned(),
            "--vendor" => {
                let name = args.next().ok_or_else(|| format!("--vendor needs a name\n{USAGE}"))?;
                vendors.push(name.parse::<Vendor>().map_err(|e| e.to_string())?);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    for (vendor, bytes) in pages::pages() {
        if !vendors.is_empty() && !vendors.contains(&vendor) {
            continue;
        }
        let read = normalize_page(vendor, &bytes).map_err(|e| format!("{vendor}: {e}"))?;
        if read.len() != pages::MESSAGES {
            return Err(format!("{vendor}: read {} messages of {}", read.len(), pages::MESSAGES));
        }
        let normalize = || drop(std::hint::black_box(normalize_page(vendor, std::hint::black_box(&bytes))));
        let value =
            || drop(std::hint::black_box(serde_json::from_slice::<serde_json::Value>(std::hint::black_box(&bytes))));
        // Milliseconds of CPU time per page, one sample per round.
        let time = |run: &dyn Fn()| {
            let start = thread_cpu_ms();
            for _ in 0..iterations {
                run();
            }
            (thread_cpu_ms() - start) / iterations as f64
        };
        if let Some(only) = &only {
            let run: &dyn Fn() = if only == "value" { &value } else { &normalize };
            for _ in 0..rounds * iterations {
                run();
            }
            continue;
        }
        // A round to warm up, not kept.
        time(&normalize);
        time(&value);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                a.push(time(&normalize));
                b.push(time(&value));
            } else {
                b.push(time(&value));
                a.push(time(&normalize));
            }
        }
        let (a, b) = (summary(a), summary(b));
        println!(
            "{}",
            json!({
                "vendor": vendor.as_str(),
                "bytes": bytes.len(),
                "messages": pages::MESSAGES,
                "rounds": rounds,
                "iterations": iterations,
                "normalize_ms": a,
                "value_ms": b,
                "ratio_min": a["min"].as_f64().unwrap_or(f64::NAN) / b["min"].as_f64().unwrap_or(f64::NAN),
                "ratio_median": a["median"].as_f64().unwrap_or(f64::NAN) / b["median"].as_f64().unwrap_or(f64::NAN),
            })
        );
    }
    Ok(())
}

/// The least and the median of `samples`.
fn summary(mut samples: Vec<f64>) -> serde_json::Value {
    samples.sort_by(f64::total_cmp);
    json!({ "min": samples[0], "median": samples[samples.len() / 2] })
}

/// The CPU time this thread has used, in milliseconds.
fn thread_cpu_ms() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `clock_gettime` only writes the `timespec` it is given.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0;
    if ok { t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6 } else { f64::NAN }
}

fn fetch_command(args: &[String]) -> Result<(), String> {
    let (mut messages, mut delay_ms, mut runs, mut vendors) = (10_000u64, 20u64, 3u64, Vec::new());
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--messages" => messages = number(flag, args.next())?,
            "--delay-ms" => delay_ms = number(flag, args.next())?,
            "--runs" => runs = number(flag, args.next())?.max(1),
            "--vendor" => {
                let name = args.next().ok_or_else(|| format!("--vendor needs a name\n{USAGE}"))?;
                vendors.push(name.parse::<Vendor>().map_err(|e| e.to_string())?);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if vendors.is_empty() {
        vendors = Vendor::ALL.to_vec();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let messages = usize::try_from(messages).map_err(|e| e.to_string())?;
    for vendor in vendors {
        let line = runtime.block_on(fetch_vendor(vendor, messages, Duration::from_millis(delay_ms), runs))?;
        println!("{line}");
    }
    Ok(())
}

/// The fewest requests that read `messages` messages exactly once (with the
/// checks that guarantee it), and how many of them must wait for one
/// another, with the default options.
fn minimum(vendor: Vendor, messages: u64) -> (u64, u64, u64) {
    let page_size = match vendor {
        Vendor::Infobip => convo_infobip::MAX_PAGE_SIZE,
        Vendor::Octopush => convo_octopush::MAX_PAGE_SIZE,
        Vendor::Leadconnector => convo_leadconnector::MAX_PAGE_SIZE,
        Vendor::Bird => convo_bird::MAX_PAGE_SIZE,
    };
    let pages = messages.div_ceil(page_size).max(1);
    match vendor {
        // Paged on the creation time, one page after another: every page
        // after the first asks again for the newest message delivered (the
        // filter counts milliseconds), so it brings `page_size - 1` new ones;
        // the read ends on one more request that brings nothing new.
        Vendor::Infobip => {
            let (mut requests, mut covered) = (1, page_size.min(messages));
            while covered < messages {
                covered += (page_size - 1).min(messages - covered);
                requests += 1;
            }
            let requests = if messages == 0 { 1 } else { requests + 1 };
            (page_size, requests, requests)
        }
        // The end is an empty page; then the listing is read again, up to
        // its last page with messages (and the empty one after it when
        // that one is full), to see that nothing shifted under the read.
        Vendor::Octopush => {
            let requests = if messages == 0 { 1 } else { pages + 1 + octopush_again(messages) };
            (page_size, requests, requests)
        }
        // Cursor vendors: each page names the next one, and the last says
        // it is the last.
        Vendor::Leadconnector | Vendor::Bird => (page_size, pages, pages),
    }
}

/// The concurrency the fetch benchmark reads with: `CONVO_BENCH_CONCURRENCY`
/// (Infobip's time windows), else the default, 1.
fn bench_concurrency() -> usize {
    std::env::var("CONVO_BENCH_CONCURRENCY").ok().and_then(|c| c.parse().ok()).unwrap_or(1).max(1)
}

/// The round trips of an ideal concurrent read: the first page, then the
/// rest [`bench_concurrency`] at a time (Infobip, whose windows allow it);
/// the sequential ones for the other vendors.
/// Octopush's check reads its first page alone (to find where the first
/// message delivered stands), then the rest at once.
fn concurrent_round_trips(vendor: Vendor, messages: u64, sequential: u64) -> u64 {
    let at_once = bench_concurrency() as u64;
    match vendor {
        Vendor::Infobip => 1 + sequential.saturating_sub(1).div_ceil(at_once),
        Vendor::Octopush if messages > 0 => {
            let again = octopush_again(messages);
            sequential - again + 1 + (again - 1).div_ceil(at_once)
        }
        _ => sequential,
    }
}

/// The pages Octopush's check reads of an unchanged listing of `messages`.
fn octopush_again(messages: u64) -> u64 {
    let page_size = convo_octopush::MAX_PAGE_SIZE;
    messages.div_ceil(page_size) + u64::from(messages.is_multiple_of(page_size))
}

async fn fetch_vendor(
    vendor: Vendor,
    messages: usize,
    delay: Duration,
    runs: u64,
) -> Result<serde_json::Value, String> {
    let (page_size, min_requests, round_trips) = minimum(vendor, messages as u64);
    // The vendor makes its answers on its own machines: the sandbox makes
    // each once, in a round not kept, and every measured round is answered
    // from those (`SandboxOptions::replay`), so the client's work alone
    // shares this machine's cores with the waiting.
    let replay = Replay::default();
    fetch_once(vendor, messages, Duration::ZERO, &replay).await?;
    let mut walls = Vec::new();
    let mut requests = Vec::new();
    for _ in 0..runs {
        let (wall, count) = fetch_once(vendor, messages, delay, &replay).await?;
        walls.push(wall);
        requests.push(count);
    }
    // The same without any delay: the time the work itself takes (serving
    // the answers again, decoding, normalizing), which no waiting hides.
    let mut floors = Vec::new();
    for _ in 0..runs {
        floors.push(fetch_once(vendor, messages, Duration::ZERO, &replay).await?.0);
    }
    Ok(json!({
        "vendor": vendor.as_str(),
        "messages": messages,
        "delay_ms": delay.as_secs_f64() * 1e3,
        "page_size": page_size,
        // Infobip reads its time windows this many at once; the others
        // read one page after another.
        "concurrency": bench_concurrency(),
        "requests": requests,
        "min_requests": min_requests,
        "sequential_round_trips": round_trips,
        "ideal_ms": round_trips as f64 * delay.as_secs_f64() * 1e3,
        // Issue 14's concurrent ideal: the first page, then the rest of the
        // sequential read's requests 4 at a time.
        "concurrent_round_trips": concurrent_round_trips(vendor, messages as u64, round_trips),
        "ideal_concurrent_ms": concurrent_round_trips(vendor, messages as u64, round_trips) as f64 * delay.as_secs_f64() * 1e3,
        "wall_ms": walls,
        "median_wall_ms": median(walls.clone()),
        // The distinct answers the sandbox made (the rest were replayed).
        "answers_made": replay.len(),
        "no_delay_wall_ms": floors,
        "median_no_delay_wall_ms": median(floors.clone()),
    }))
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Reads the whole generated conversation once from a new sandbox: the wall
/// time in milliseconds and the requests the sandbox counted.
async fn fetch_once(vendor: Vendor, messages: usize, delay: Duration, replay: &Replay) -> Result<(f64, usize), String> {
    let concurrency = bench_concurrency();
    let options = SandboxOptions { messages, delay, replay: Some(replay.clone()), ..SandboxOptions::default() };
    let sandbox = Sandbox::start(options).await.map_err(|e| format!("cannot start the sandbox: {e}"))?;
    let source = source(vendor, &sandbox)?;
    let start = Instant::now();
    let options = FetchOptions { paging: PagingOptions { concurrency, ..PagingOptions::default() }, since: None };
    let mut stream = convo_normalize::fetch::messages(source, options);
    let mut count = 0usize;
    while let Some(message) = stream.next().await {
        let message = message.map_err(|e| format!("{vendor}: {e}"))?;
        std::hint::black_box(&message);
        count += 1;
    }
    let wall = start.elapsed().as_secs_f64() * 1e3;
    if count != messages {
        return Err(format!("{vendor}: read {count} messages of {messages}"));
    }
    let requests = sandbox.requests(vendor);
    sandbox.shutdown().await;
    Ok((wall, requests))
}

/// The generated conversation of `vendor`, read with the sandbox's keys.
fn source(vendor: Vendor, sandbox: &Sandbox) -> Result<Source, String> {
    let selector = Selector {
        conversation: Some(ids::generated(vendor).to_owned()),
        workspace: ids::workspace(vendor).map(str::to_owned),
        ..Selector::default()
    };
    Source::from_vars(vendor, &selector, sandbox.vars(vendor), &ClientOptions::default())
        .map_err(|e| format!("{vendor}: {e}"))
}

fn rss_command(args: &[String]) -> Result<(), String> {
    let command = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let (program, rest) = command.split_first().ok_or_else(|| USAGE.to_owned())?;
    let start = Instant::now();
    let output = Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let wall = start.elapsed();
    if !output.status.success() {
        return Err(format!("{command:?} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr)));
    }
    // SAFETY: `getrusage` only writes the `rusage` it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) != 0 {
            return Err(format!("getrusage: {}", std::io::Error::last_os_error()));
        }
        usage
    };
    // Linux reports `ru_maxrss` in KiB.
    println!("{}", json!({ "command": command, "max_rss_kib": usage.ru_maxrss, "wall_ms": wall.as_secs_f64() * 1e3 }));
    Ok(())
}
