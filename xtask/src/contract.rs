//! Contract checks: the generated clients against Prism, a mock server of
//! each spec that validates every request against it (a tool we did not
//! write). Prism is installed from npm, at a pinned version, into
//! `target/xtask-tools/prism` the first time it is needed; then, for each
//! vendor, `prism mock specs/<vendor>.yaml --errors` is started on a free
//! loopback port and `cargo run -p convo-contract -- <vendor> <url>` runs the
//! client through every documented parameter set against it. Any violation
//! fails the command.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{root, run};

const PRISM: &str = "@stoplight/prism-cli@5.16.0";
const VENDORS: [&str; 4] = ["bird", "infobip", "leadconnector", "octopush"];
/// How long Prism may take to start listening.
const STARTUP: Duration = Duration::from_secs(120);

fn tools() -> PathBuf {
    root().join("target").join("xtask-tools").join("prism")
}

fn prism() -> Result<PathBuf, String> {
    let bin = tools().join("node_modules").join(".bin").join("prism");
    let installed = tools().join("node_modules").join("@stoplight").join("prism-cli").join("package.json");
    let version = PRISM.rsplit('@').next().expect("a pinned version");
    let current = std::fs::read_to_string(&installed).unwrap_or_default();
    if !bin.exists() || !current.contains(&format!("\"version\": \"{version}\"")) {
        std::fs::create_dir_all(tools()).map_err(|e| e.to_string())?;
        eprintln!("xtask: installing {PRISM} into target/xtask-tools/prism (a minute or two)");
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(tools())
            .arg(PRISM))
        .map_err(|e| format!("{e}. The contract checks need Node.js >= 18 and npm."))?;
    }
    Ok(bin)
}

/// A running Prism, stopped when dropped.
struct Mock {
    child: Child,
    log: PathBuf,
    url: String,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mock {
    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = file.seek(SeekFrom::Start(len.saturating_sub(4000)));
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Starts Prism on `specs/<vendor>.yaml` and waits until it listens.
fn start(bin: &Path, vendor: &str) -> Result<Mock, String> {
    let port = free_port()?;
    let log = root().join("target").join("xtask-tools").join(format!("prism-{vendor}.log"));
    let out = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let spec = root().join("specs").join(format!("{vendor}.yaml"));
    eprintln!("xtask: starting Prism on specs/{vendor}.yaml at 127.0.0.1:{port} (log: {})", log.display());
    let child = Command::new(bin)
        .arg("mock")
        .arg(&spec)
        .args(["--port", &port.to_string(), "-h", "127.0.0.1", "--errors"])
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut mock = Mock { child, log, url: format!("http://127.0.0.1:{port}") };
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    loop {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(mock);
        }
        if let Ok(Some(status)) = mock.child.try_wait() {
            return Err(format!("Prism exited ({status}) before listening:\n{}", mock.log_tail()));
        }
        if started.elapsed() > STARTUP {
            return Err(format!("Prism did not listen within {STARTUP:?}:\n{}", mock.log_tail()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs every vendor's contract; fails naming the vendors with violations.
pub fn contract() -> Result<(), String> {
    let bin = prism()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run(Command::new(&cargo).args(["build", "--quiet", "--locked", "-p", "convo-contract"]))?;
    let mut failed = Vec::new();
    for vendor in VENDORS {
        let mock = start(&bin, vendor)?;
        let result = run(Command::new(&cargo).args([
            "run",
            "--quiet",
            "--locked",
            "-p",
            "convo-contract",
            "--",
            vendor,
            &mock.url,
        ]));
        if let Err(e) = result {
            eprintln!("xtask: {e}\nxtask: the end of Prism's log for {vendor}:\n{}", mock.log_tail());
            failed.push(vendor);
        }
    }
    if failed.is_empty() {
        eprintln!("xtask: every client honours its spec under Prism");
        Ok(())
    } else {
        Err(format!("contract violations for {}", failed.join(", ")))
    }
}
