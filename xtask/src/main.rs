//! Project automation. Run as `cargo xtask <command>`:
//!
//! - `regen`: rewrites every committed file derived from the specs.
//! - `check`: fails, naming the command to run, when any of them is stale;
//!   then checks formatting (`cargo fmt --check`) and lints (`cargo clippy
//!   -D warnings`), then lints the specs with an independent OpenAPI
//!   validator.
//! - `lint`: the spec lint alone (Redocly CLI, installed on first use).
//! - `test`: `check`, then the whole test suite, then `package` and `tls`,
//!   then `contract`. This is the README's test command and what CI runs.
//! - `package`: `cargo package` of every published crate, each built from
//!   its tarball alone (with the lighter TLS option, `rustls-ring`).
//! - `tls`: the lighter TLS option compiles for the CLI, leaves aws-lc-rs
//!   out and builds working clients (in `test`, without the compile check:
//!   `package` has built every crate with it).
//! - `contract`: the generated clients against Prism mock servers of the
//!   specs (Prism installed on first use).
//! - `fuzz [--seconds N] [--target NAME]...`: fuzzes every vendor's
//!   `normalize_page` (cargo-fuzz, installed on first use).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod artifacts;
mod bench;
mod contract;
mod fuzz;
mod lint;
mod package;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("regen") => artifacts::regen(),
        Some("check") => artifacts::check().and_then(|()| tidy()).and_then(|()| lint::lint()),
        Some("lint") => lint::lint(),
        Some("contract") => contract::contract(),
        Some("package") => package::package(),
        Some("tls") => package::tls(true),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("test") => artifacts::check()
            .and_then(|()| lint::lint())
            .and_then(|()| test())
            .and_then(|()| package::package())
            .and_then(|()| package::tls(false))
            .and_then(|()| contract::contract()),
        _ => {
            eprintln!("usage: cargo xtask <regen | check | lint | test | package | tls | contract | fuzz | bench>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

/// Runs a command at the workspace root, failing with its name if it fails.
pub fn run(command: &mut Command) -> Result<(), String> {
    command.current_dir(root());
    let shown = format!("{command:?}");
    eprintln!("xtask: running {shown}");
    let status = command.status().map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{shown} failed ({status})")) }
}

/// The code is formatted (`rustfmt.toml`) and lint-free: `cargo fmt
/// --check`, then clippy on every target with warnings as errors (the
/// workspace's `[workspace.lints]` included), then `cargo doc` with warnings
/// as errors.
fn tidy() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run(Command::new(&cargo).args(["fmt", "--all", "--check"])).map_err(|e| format!("{e}; run `cargo fmt --all`"))?;
    run(Command::new(&cargo).args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]))?;
    // The crate pages build without a warning (broken links, missing docs).
    run(Command::new(&cargo).args(["doc", "--workspace", "--no-deps", "--locked"]).env("RUSTDOCFLAGS", "-D warnings"))
}

fn test() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run(Command::new(&cargo).args(["test", "--workspace", "--locked"]))?;
    // Every vendor crate's example reads its conversation from the sandbox,
    // as a newcomer runs it.
    for vendor in ["infobip", "octopush", "leadconnector", "bird"] {
        let package = format!("convo-{vendor}");
        run(Command::new(&cargo).args(["run", "--locked", "-q", "-p", &package, "--example", "read_conversation"]))?;
    }
    Ok(())
}
