//! The spec lint: Redocly CLI, an OpenAPI validator we did not write, over
//! every spec. It is installed from npm, at a pinned version, into
//! `target/xtask-tools` the first time it is needed.

use std::path::PathBuf;
use std::process::Command;

use crate::{root, run};

const REDOCLY: &str = "@redocly/cli@2.77.0";

fn tools() -> PathBuf {
    root().join("target").join("xtask-tools")
}

fn redocly() -> Result<PathBuf, String> {
    let bin = tools().join("node_modules").join(".bin").join("redocly");
    if !bin.exists() {
        std::fs::create_dir_all(tools()).map_err(|e| e.to_string())?;
        eprintln!("xtask: installing {REDOCLY} into target/xtask-tools");
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(tools())
            .arg(REDOCLY))
        .map_err(|e| format!("{e}. The lint needs Node.js >= 20.19 and npm."))?;
    }
    Ok(bin)
}

/// Lints every spec; warnings fail too.
pub fn lint() -> Result<(), String> {
    let bin = redocly()?;
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("specs"))
        .map_err(|e| e.to_string())?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    run(Command::new(bin)
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .args(["lint", "--format=stylish", "--max-problems=200", "--config"])
        .arg(root().join("redocly.yaml"))
        .args(&specs))
}
