//! SIGINT and SIGTERM stop an export between two messages: the output ends
//! with whole lines, flushed, and the exit code is 130.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::convo_std;

/// Starts a long export to a pipe that is read slowly, signals it after the
/// first lines, then reads the rest: every line must be whole JSON.
fn interrupted_export(signal: &str) {
    let mut child = convo_std()
        .args(["fetch", "bird", "--sandbox", "--sandbox-messages", "20000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("convo starts");
    let mut stdout = BufReader::with_capacity(64, child.stdout.take().expect("piped"));
    // Read a few lines, slowly: the pipe fills and convo blocks mid-write.
    let mut first = String::new();
    for _ in 0..3 {
        first.clear();
        stdout.read_line(&mut first).expect("a line");
        assert!(first.ends_with('\n'), "{first:?}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let status =
        std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let mut rest = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    stdout.read_to_string(&mut rest).expect("the rest of the output");
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        assert!(Instant::now() < deadline, "convo did not stop after {signal}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).expect("stderr");
    assert_eq!(code, Some(130), "{signal}: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(
        rest.is_empty() || rest.ends_with('\n'),
        "{signal}: the output ends mid-line: …{:?}",
        &rest[rest.len().saturating_sub(80)..]
    );
    let lines: Vec<&str> = rest.lines().collect();
    assert!(lines.len() < 20_000, "{signal}: the export was not stopped");
    for line in lines {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("{signal}: not a whole JSON line ({e}): {line}"));
    }
}

#[test]
fn sigint_finishes_the_line_flushes_and_exits_130() {
    interrupted_export("-INT");
}

#[test]
fn sigterm_finishes_the_line_flushes_and_exits_130() {
    interrupted_export("-TERM");
}
