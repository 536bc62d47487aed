//! The published crates as crates.io would get them, and the TLS options.
//!
//! `package`: `cargo package` of every published crate at once. Cargo packs
//! them together, with a local registry standing in for crates.io so that a
//! crate can depend on one not yet published, and builds each from its
//! tarball alone: a vendor crate's `build.rs` must find its spec in the
//! package (`specs/<vendor>.yaml`, a link to the one copy in `specs/`), the
//! sandbox its four samples, and nothing may reach outside the package.
//! Every crate is verified: the vendor crates are the ones that can break
//! (their build scripts), and the others cost little once those are built
//! (the registry dependencies are shared with the test build's).
//!
//! `tls`: the lighter TLS option (`rustls-ring`) compiles for the CLI, keeps
//! aws-lc-rs (a C build) out of its build graph, and sets up a working
//! client (convo-runtime's tests build clients with it).

use std::process::Command;

use crate::{root, run};

/// Every crate that is published, in no particular order (cargo orders them).
pub const PUBLISHED: &[&str] = &[
    "convo-runtime",
    "convo-codegen",
    "convo-infobip",
    "convo-octopush",
    "convo-leadconnector",
    "convo-bird",
    "convo-normalize",
    "convo-sandbox",
    "convo",
];

/// The lighter TLS feature, and the crate it must keep out of the build.
const LIGHT_TLS: &str = "rustls-ring";
const HEAVY_CRATE: &str = "aws-lc-sys";

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// `cargo package` of every published crate, each built from its tarball.
pub fn package() -> Result<(), String> {
    let mut command = cargo();
    command.args(["package", "--locked"]);
    for name in PUBLISHED {
        command.args(["-p", name]);
    }
    // What is checked is the work tree as it is: a developer runs this
    // before committing, and the test suite may leave files behind.
    command.arg("--allow-dirty");
    run(&mut command)
}

/// The lighter TLS option: compiles, has no aws-lc-rs, and builds clients.
pub fn tls() -> Result<(), String> {
    let light = ["--no-default-features", "--features", LIGHT_TLS];
    run(cargo().args(["check", "--locked", "-p", "convo"]).args(light))?;

    let output = cargo()
        .current_dir(root())
        .args(["tree", "--locked", "-p", "convo", "-e", "normal,build", "--prefix", "none", "-f", "{p}"])
        .args(light)
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo tree failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let has = |name: &str| tree.lines().any(|line| line.split_whitespace().next() == Some(name));
    if has(HEAVY_CRATE) {
        return Err(format!("`convo --no-default-features --features {LIGHT_TLS}` still builds {HEAVY_CRATE}"));
    }
    if !has("ring") {
        return Err(format!("`convo --no-default-features --features {LIGHT_TLS}` does not build ring: is it still TLS?"));
    }
    eprintln!("xtask: `--features {LIGHT_TLS}` builds ring and no {HEAVY_CRATE}");

    run(cargo().args(["test", "--locked", "-p", "convo-runtime", "--lib"]).args(light))
}
