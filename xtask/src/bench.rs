//! `cargo xtask bench [--write] [--no-criterion] [--runs N]`: the project's
//! performance numbers, as the markdown of `BENCHMARKS.md`.
//!
//! 1. The normalizer against a plain `serde_json::Value` parse of the same
//!    page: criterion (`cargo bench -p convo-normalize --bench normalize`,
//!    skipped with `--no-criterion`; the estimates are then read from an
//!    earlier run in `target/criterion`), and `convo-bench decode`, the same
//!    pages timed in CPU time with the two interleaved, which a busy machine
//!    disturbs less.
//! 2. Each vendor's whole generated conversation of 10,000 messages, read
//!    through `convo_normalize::fetch` from the sandbox with 20 ms added to
//!    every response (`convo-bench fetch`, release build), against the
//!    fewest requests and the fewest sequential round trips.
//! 3. `convo fetch leadconnector` of 10,000 messages end to end, its CPU
//!    time against a bytes-only client over the same URLs (`convo-bench
//!    e2e`), and the bytes of a 1,000-message page of each vendor with and
//!    without gzip (`convo-bench wire`).
//! 4. The peak memory of `convo fetch <vendor> --sandbox` streaming 100,000
//!    and 1,000,000 messages to `/dev/null` (`convo-bench rss`).
//! 5. Many conversations under one rate budget (`convo-bench sync`, issue
//!    11): 200 Bird conversations of 250 messages at 20 ms a response
//!    against the sandbox's enforced 50 requests/s, concurrent and one after
//!    another, then a rerun with the state and nothing new.
//!
//! The numbers are printed as markdown; `--write` also puts them into
//! `BENCHMARKS.md` between its markers. Nothing here fails on a number: a
//! missed target is reported, not asserted.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::{root, run};

const BEGIN: &str = "<!-- bench:begin (written by `cargo xtask bench --write`) -->";
const END: &str = "<!-- bench:end -->";

const VENDORS: [&str; 4] = ["infobip", "octopush", "leadconnector", "bird"];
const FETCH_MESSAGES: u64 = 10_000;
const FETCH_DELAY_MS: u64 = 20;
/// The vendors and sizes of the memory measurement.
const MEMORY_VENDORS: [&str; 4] = ["infobip", "octopush", "leadconnector", "bird"];
const MEMORY_MESSAGES: [u64; 2] = [100_000, 1_000_000];
/// Runs of each client in the end-to-end measurement (after one not kept).
const E2E_RUNS: u64 = 5;
/// The normalizer's target: at most this fraction of a `Value` parse.
const NORMALIZER_TARGET: f64 = 0.6;
/// The CLI's end-to-end target: at most this many times the bytes-only client.
const E2E_TARGET: f64 = 2.0;
/// The sync's target: wall at most this many times `requests / 50 per s`.
const SYNC_TARGET: f64 = 1.1;

struct Options {
    write: bool,
    criterion: bool,
    runs: u64,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut options = Options { write: false, criterion: true, runs: 3 };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--write" => options.write = true,
            "--no-criterion" => options.criterion = false,
            "--runs" => {
                options.runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs needs a whole number above 0")?;
            }
            other => {
                return Err(format!("bench: unknown argument `{other}` (expected --write, --no-criterion, --runs N)"));
            }
        }
    }
    Ok(options)
}

pub fn bench(args: &[String]) -> Result<(), String> {
    let options = options(args)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target = target_dir();

    if options.criterion {
        run(Command::new(&cargo).args(["bench", "-p", "convo-normalize", "--bench", "normalize"]))?;
    }
    run(Command::new(&cargo).args(["build", "--release", "-p", "convo", "-p", "convo-bench"]))?;
    let bench_bin = target.join("release").join("convo-bench");
    let convo_bin = target.join("release").join("convo");

    let decode = output_lines(Command::new(&bench_bin).arg("decode"))?;
    let normalizer = normalizer_table(&target, &decode);

    let runs = options.runs.to_string();
    let messages = FETCH_MESSAGES.to_string();
    let delay = FETCH_DELAY_MS.to_string();
    let fetch = output_lines(Command::new(&bench_bin).args([
        "fetch",
        "--messages",
        &messages,
        "--delay-ms",
        &delay,
        "--runs",
        &runs,
    ]))?;

    let e2e_runs = E2E_RUNS.to_string();
    let e2e = output_lines(
        Command::new(&bench_bin)
            .args(["e2e", "--messages", &messages, "--runs", &e2e_runs])
            .arg("--convo")
            .arg(&convo_bin),
    )?;
    let wire = output_lines(Command::new(&bench_bin).arg("wire"))?;

    let sync = output_lines(Command::new(&bench_bin).arg("sync"))?;

    let mut memory = Vec::new();
    for vendor in MEMORY_VENDORS {
        for n in MEMORY_MESSAGES {
            let n = n.to_string();
            let mut command = Command::new(&bench_bin);
            command.arg("rss").arg("--").arg(&convo_bin).args(["fetch", vendor, "--sandbox", "--sandbox-messages", &n]);
            let mut lines = output_lines(&mut command)?;
            let line = lines.pop().ok_or("convo-bench rss printed nothing")?;
            memory.push((vendor, n, line));
        }
    }

    let markdown = [
        environment(),
        normalizer,
        fetch_table(&fetch, options.runs),
        e2e_table(&e2e),
        wire_table(&wire),
        memory_table(&memory),
        sync_table(&sync),
    ]
    .join("\n");
    println!("{markdown}");
    if options.write {
        write(&markdown)?;
    }
    Ok(())
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { root().join(dir) }
        }
        None => root().join("target"),
    }
}

/// Runs a command at the workspace root and reads each line of its standard
/// output as JSON.
fn output_lines(command: &mut Command) -> Result<Vec<Value>, String> {
    command.current_dir(root()).stderr(Stdio::inherit());
    let shown = format!("{command:?}");
    eprintln!("xtask: running {shown}");
    let output = command.output().map_err(|e| format!("cannot start {shown}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{shown} failed ({})", output.status));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).map_err(|e| format!("{shown} printed `{line}`, not JSON: {e}")))
        .collect()
}

fn read_json(path: &std::path::Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::trim).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn environment() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get().to_string()).unwrap_or_else(|_| "?".to_owned());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| format!("{:.0} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_else(|| "?".to_owned());
    let date = first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let rustc = first_line("rustc", &["--version"]);
    let kernel = first_line("uname", &["-sr"]);
    let root = root();
    let root = root.to_string_lossy();
    let commit = first_line("git", &["-C", &root, "rev-parse", "--short", "HEAD"]);
    // Read-only: no index refresh, no lock.
    let changed: Vec<String> = Command::new("git")
        .args(["--no-optional-locks", "-C", &root, "status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).lines().filter_map(|l| l.get(3..)).map(|p| format!("`{p}`")).collect()
        })
        .unwrap_or_default();
    let commit = match changed.len() {
        0 => commit,
        n if n <= 6 => format!("{commit} with uncommitted changes to {}", changed.join(", ")),
        n => format!("{commit} with uncommitted changes to {n} files"),
    };
    format!(
        "Measured {date} at commit {commit}, on {cores} cores ({cpu}), {memory} of memory, {kernel}; {rustc}.\n\n\
         Commands: `cargo xtask bench --write` (all of the below), which runs \
         `cargo bench -p convo-normalize --bench normalize`, then `target/release/convo-bench decode`, then \
         `target/release/convo-bench fetch --messages {FETCH_MESSAGES} --delay-ms {FETCH_DELAY_MS} --runs N`, then \
         `target/release/convo-bench e2e --messages {FETCH_MESSAGES} --runs {E2E_RUNS} --convo target/release/convo`, then \
         `target/release/convo-bench wire`, then \
         `target/release/convo-bench rss -- target/release/convo fetch <vendor> --sandbox --sandbox-messages <N>`, then \
         `target/release/convo-bench sync`.\n"
    )
}

fn ms(ns: f64) -> String {
    format!("{:.2} ms", ns / 1e6)
}

fn normalizer_table(target: &std::path::Path, decode: &[Value]) -> String {
    let mut out = format!(
        "### Normalizer: one page of 1,000 messages\n\n\
         `normalize_page` decodes the vendor's page into its typed messages, keeps each message's raw JSON, \
         and maps it to the unified model; the baseline parses the same bytes into a `serde_json::Value`. \
         Criterion: mean wall time and 95% confidence interval, the two measured one after the other. CPU \
         time: `convo-bench decode`, the least of 30 rounds of 10 pages, the two alternating round by round \
         (less disturbed by other work on the machine). Target (issue 14): ratio at most {NORMALIZER_TARGET}.\n\n\
         | vendor | page | `normalize_page` | `serde_json::Value` | ratio (criterion) | CPU time: `normalize_page` / `Value` | ratio (CPU time) | target ≤ {NORMALIZER_TARGET} |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for vendor in VENDORS {
        let cpu = decode.iter().find(|row| row["vendor"] == vendor);
        let cpu_ratio = cpu.and_then(|row| row["ratio_min"].as_f64());
        let cpu_times = cpu
            .and_then(|row| Some((row["normalize_ms"]["min"].as_f64()?, row["value_ms"]["min"].as_f64()?)))
            .map(|(a, b)| format!("{a:.2} ms / {b:.2} ms"))
            .unwrap_or_else(|| "?".to_owned());
        let cpu_shown = cpu_ratio.map(|r| format!("{r:.2}")).unwrap_or_else(|| "?".to_owned());
        let dir = target.join("criterion").join(vendor);
        let estimate = |bench: &str| {
            let e = read_json(&dir.join(bench).join("new").join("estimates.json"))?;
            let mean = &e["mean"];
            Some((
                mean["point_estimate"].as_f64()?,
                mean["confidence_interval"]["lower_bound"].as_f64()?,
                mean["confidence_interval"]["upper_bound"].as_f64()?,
            ))
        };
        let bytes = read_json(&dir.join("normalize_page").join("new").join("benchmark.json"))
            .and_then(|b| b["throughput"]["Bytes"].as_u64())
            .map(|b| format!("{:.0} KiB", b as f64 / 1024.0))
            .unwrap_or_else(|| "?".to_owned());
        match (estimate("normalize_page"), estimate("serde_json_value")) {
            (Some(a), Some(b)) => {
                let ratio = a.0 / b.0;
                let verdict = match (ratio <= NORMALIZER_TARGET, cpu_ratio.map(|r| r <= NORMALIZER_TARGET)) {
                    (true, Some(true) | None) => "met",
                    (false, Some(false) | None) => "**missed**",
                    _ => "borderline: the two disagree",
                };
                out.push_str(&format!(
                    "| {vendor} | {bytes} | {} [{} – {}] | {} [{} – {}] | {ratio:.2} | {cpu_times} | {cpu_shown} | {verdict} |\n",
                    ms(a.0),
                    ms(a.1),
                    ms(a.2),
                    ms(b.0),
                    ms(b.1),
                    ms(b.2),
                ));
            }
            _ => out.push_str(&format!(
                "| {vendor} | {bytes} | no estimate in `target/criterion` | | | {cpu_times} | {cpu_shown} | |\n"
            )),
        }
    }
    out
}

fn fetch_table(rows: &[Value], runs: u64) -> String {
    let mut out = format!(
        "### Fetch: {FETCH_MESSAGES} generated messages, {FETCH_DELAY_MS} ms added to every response\n\n\
         `convo_normalize::fetch::messages` with the default options (each vendor's largest page), against \
         the sandbox in the same process, each response taking the delay from its arrival. The sandbox \
         makes each distinct answer once, in a round not kept, and answers the measured rounds from \
         those (`SandboxOptions::replay`: a vendor makes its answers on its own machines, not on the \
         client's cores). Wall time: median of {runs} runs (min – max). Ideal: the fewest \
         round trips that must follow one another × {FETCH_DELAY_MS} ms; the cursor and page-number vendors \
         read one page after another (Octopush ends on an empty page and reads the listing again, up to the page that ends it; with `CONVO_BENCH_CONCURRENCY` above 1, that check after its first page that many at a time). \
         Infobip pages on its creation time (each page asks again for the newest message of the page \
         before); with `CONVO_BENCH_CONCURRENCY` above 1 it reads the rest after its first page in time \
         windows at once, and its ideal is then the concurrent one (the first page, then the rest of \
         the sequential read that many at a time), its minimum still the sequential read's (a window \
         may cost a request more: its last page carries the start of the next window). No delay: the same fetch with 0 ms added, i.e. \
         the work alone (the sandbox sending its kept answers, the client decoding and normalizing), median of \
         {runs}. Targets: requests = minimum; wall ≤ 1.3 × ideal.\n\n\
         | vendor | page size | requests | minimum | sequential round trips | ideal | wall | wall / ideal | wall / sequential ideal | no delay | targets |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
    );
    for row in rows {
        let f = |key: &str| row[key].as_f64().unwrap_or(f64::NAN);
        let walls: Vec<f64> = row["wall_ms"].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
        let min = walls.iter().copied().fold(f64::INFINITY, f64::min);
        let max = walls.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let requests: Vec<u64> = row["requests"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
        let min_requests = row["min_requests"].as_u64().unwrap_or(0);
        let shown_requests = if requests.windows(2).all(|w| w[0] == w[1]) {
            requests.first().map(u64::to_string).unwrap_or_default()
        } else {
            format!("{requests:?}")
        };
        let ideal = row["ideal_concurrent_ms"].as_f64().unwrap_or_else(|| f("ideal_ms"));
        let ratio = f("median_wall_ms") / ideal;
        let sequential_ratio = f("median_wall_ms") / f("ideal_ms");
        let requests_met = requests.iter().all(|&r| r == min_requests);
        let wall_met = ratio <= 1.3;
        let verdict = match (requests_met, wall_met) {
            (true, true) => "both met".to_owned(),
            (r, w) => format!(
                "requests {}, wall {}",
                if r { "met" } else { "**missed**" },
                if w { "met" } else { "**missed**" }
            ),
        };
        out.push_str(&format!(
            "| {} | {} | {shown_requests} | {min_requests} | {} | {:.0} ms | {:.0} ms ({:.0} – {:.0}) | {ratio:.2} | {sequential_ratio:.2} | {:.0} ms | {verdict} |\n",
            row["vendor"].as_str().unwrap_or("?"),
            row["page_size"],
            row["sequential_round_trips"],
            ideal,
            f("median_wall_ms"),
            min,
            max,
            f("median_no_delay_wall_ms"),
        ));
    }
    out
}

fn e2e_table(rows: &[Value]) -> String {
    let Some(row) = rows.first() else { return "### End to end\n\n`convo-bench e2e` printed nothing.\n".to_owned() };
    let f = |key: &str| row[key].as_f64().unwrap_or(f64::NAN);
    let all = |key: &str| {
        let samples: Vec<String> =
            row[key].as_array().into_iter().flatten().filter_map(Value::as_f64).map(|v| format!("{v:.0}")).collect();
        samples.join(", ")
    };
    let ratio = f("ratio_get");
    let verdict = if ratio <= E2E_TARGET { "met" } else { "**missed**" };
    let mut out = format!(
        "### End to end: `convo fetch` of {} LeadConnector messages\n\n\
         `convo-bench e2e` renders the sandbox's generated LeadConnector conversation once ({} pages of 100, \
         {:.1} MiB), serves those bytes from a small local HTTP/1.1 server (keep-alive, no compression, no \
         delay), and runs, as child processes, one after another, {} times after one round not kept: \
         `target/release/convo fetch leadconnector --base-url http://127.0.0.1:PORT --conversation ID` (default \
         ndjson output, read through a pipe and counted), then the bytes-only client `convo-bench get` (one \
         reqwest client, i.e. the CLI's HTTP stack and features, reading each body whole as bytes) and `curl` \
         over exactly the URLs the CLI asked for, each on one connection. CPU time: user + system of the child, \
         from `getrusage(RUSAGE_CHILDREN)` around it; the least of the runs (all runs in brackets). The CLI sent \
         `Accept-Encoding: {}`. Target (issue 14): `convo fetch` at most {E2E_TARGET} × the bytes-only client.\n\n\
         | client | CPU time | runs | × bytes-only client |\n\
         | --- | ---: | --- | ---: |\n",
        thousands(row["messages"].as_u64().unwrap_or(0)),
        row["pages"],
        f("body_bytes") / 1024.0 / 1024.0,
        row["runs"],
        row["accept_encoding"].as_str().unwrap_or("(none)"),
    );
    out.push_str(&format!(
        "| `convo fetch leadconnector` | {:.1} ms | {} | {ratio:.2} ({verdict}) |\n",
        f("convo_min_ms"),
        all("convo_cpu_ms")
    ));
    out.push_str(&format!(
        "| `convo-bench get` (reqwest, bytes only) | {:.1} ms | {} | 1.00 |\n",
        f("get_min_ms"),
        all("get_cpu_ms")
    ));
    match row["curl_min_ms"].as_f64() {
        Some(curl) => out.push_str(&format!(
            "| `curl` (bytes only) | {curl:.1} ms | {} | {:.2} |\n",
            all("curl_cpu_ms"),
            curl / f("get_min_ms")
        )),
        None => out.push_str("| `curl` | not on `PATH` | | |\n"),
    }
    if let Some(curl_ratio) = row["ratio_curl"].as_f64() {
        out.push_str(&format!("\n`convo fetch` / `curl`: {curl_ratio:.2}.\n"));
    }
    out
}

fn wire_table(rows: &[Value]) -> String {
    let mut out = String::from(
        "### Bytes on the wire: one page of 1,000 messages\n\n\
         The decode benchmark's pages (`crates/normalize/benches/pages`), as sent and gzip-compressed at \
         flate2's default level (`convo-bench wire`). The clients ask for gzip (reqwest's `gzip` feature: \
         `Accept-Encoding: gzip`, seen by the end-to-end server above) and decompress what comes so; the body \
         limit counts the decompressed bytes.\n\n\
         | vendor | as sent | gzip | gzip / as sent |\n\
         | --- | ---: | ---: | ---: |\n",
    );
    for row in rows {
        let bytes = row["bytes"].as_f64().unwrap_or(f64::NAN);
        let gzip = row["gzip_bytes"].as_f64().unwrap_or(f64::NAN);
        out.push_str(&format!(
            "| {} | {:.0} KiB | {:.0} KiB | {:.3} |\n",
            row["vendor"].as_str().unwrap_or("?"),
            bytes / 1024.0,
            gzip / 1024.0,
            gzip / bytes
        ));
    }
    out
}

fn memory_table(rows: &[(&str, String, Value)]) -> String {
    let mut out = String::from(
        "### Memory: streaming a long conversation\n\n\
         Peak resident set size of `target/release/convo fetch <vendor> --sandbox --sandbox-messages N > /dev/null` \
         (the CLI with its in-process sandbox, which serves and counts too; default ndjson output), read with \
         `getrusage(RUSAGE_CHILDREN)` by `convo-bench rss`. Flat means the 1,000,000-message run needs no more \
         memory than the 100,000-message one, give or take allocator noise.\n\n\
         | vendor | messages | peak RSS | wall |\n\
         | --- | ---: | ---: | ---: |\n",
    );
    for (vendor, n, row) in rows {
        let kib = row["max_rss_kib"].as_f64().unwrap_or(f64::NAN);
        let n: u64 = n.parse().unwrap_or(0);
        out.push_str(&format!(
            "| {vendor} | {} | {:.1} MiB | {:.1} s |\n",
            thousands(n),
            kib / 1024.0,
            row["wall_ms"].as_f64().unwrap_or(f64::NAN) / 1e3
        ));
    }
    for vendor in MEMORY_VENDORS {
        let peak = |n: u64| {
            rows.iter()
                .find(|(v, m, _)| *v == vendor && m.parse() == Ok(n))
                .and_then(|(_, _, row)| row["max_rss_kib"].as_f64())
        };
        if let (Some(small), Some(large)) = (peak(MEMORY_MESSAGES[0]), peak(MEMORY_MESSAGES[1])) {
            out.push_str(&format!(
                "\n{vendor}: {}× the messages, {:.2}× the peak memory.",
                MEMORY_MESSAGES[1] / MEMORY_MESSAGES[0],
                large / small
            ));
        }
    }
    out.push('\n');
    out
}

fn sync_table(rows: &[Value]) -> String {
    let Some(setup) = rows.first().map(|row| &row["setup"]) else {
        return "### Many conversations\n\n`convo-bench sync` printed nothing.\n".to_owned();
    };
    let min_requests = setup["min_requests"].as_u64().unwrap_or(0);
    let conversations = setup["conversations"].as_u64().unwrap_or(0);
    let mut out = format!(
        "### Many conversations under one budget: `convo-bench sync`\n\n\
         `convo_sync::sync` of {} Bird conversations of {} messages from the in-process sandbox, {} ms added to \
         every response, the sandbox enforcing {} requests in any 1 s sliding window (a 429 beyond it); one \
         `RateBudget` of 49 requests a second with a burst of 1 shared by all, concurrency 16; then a rerun with the \
         same state and nothing new; then the same conversations one after another with a new state. Floor: \
         requests / {} per s. Targets (issue 11): requests = the sum of each conversation's minimum ({min_requests}), \
         no 429 received, wall ≤ {SYNC_TARGET} × floor; the rerun at most one request a conversation and nothing \
         written.\n\n\
         | run | concurrency | requests | 429s received | messages written | complete | wall | wall / floor | targets |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
        thousands(conversations),
        setup["messages"],
        setup["delay_ms"],
        setup["sandbox_limit_per_s"],
        setup["sandbox_limit_per_s"],
    );
    for row in rows {
        let run = row["run"].as_str().unwrap_or("?");
        let requests = row["requests"].as_u64().unwrap_or(0);
        let received = row["rate_limited_received"].as_u64().unwrap_or(u64::MAX);
        let written = row["messages_written"].as_u64().unwrap_or(u64::MAX);
        let ratio = row["wall_over_floor"].as_f64().unwrap_or(f64::NAN);
        let complete = row["complete"].as_u64() == row["conversations"].as_u64();
        let verdict = |met: bool| if met { "met" } else { "**missed**" };
        let targets = match run {
            "concurrent" => format!(
                "requests {}, 429s {}, wall {}",
                verdict(requests == min_requests),
                verdict(received == 0),
                verdict(ratio <= SYNC_TARGET)
            ),
            "rerun" => format!(
                "≤ 1 request a conversation {}, nothing written {}",
                verdict(requests <= conversations),
                verdict(written == 0)
            ),
            _ => "for comparison".to_owned(),
        };
        let targets = if complete { targets } else { format!("{targets}; **not every conversation complete**") };
        out.push_str(&format!(
            "| {run} | {} | {requests} | {received} | {} | {} of {} | {:.2} s | {ratio:.2} | {targets} |\n",
            row["concurrency"],
            thousands(written),
            row["complete"],
            row["conversations"],
            row["wall_s"].as_f64().unwrap_or(f64::NAN),
        ));
    }
    out
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn write(markdown: &str) -> Result<(), String> {
    let path = root().join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        return Err(format!("{} has no `{BEGIN}` … `{END}` markers to write between", path.display()));
    };
    if end < begin {
        return Err(format!("{}: `{END}` comes before `{BEGIN}`", path.display()));
    }
    let updated = format!("{}{BEGIN}\n\n{markdown}\n{}", &text[..begin], &text[end..]);
    std::fs::write(&path, updated).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("xtask: wrote the numbers into {}", path.display());
    Ok(())
}
