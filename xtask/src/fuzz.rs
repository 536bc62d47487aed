//! `cargo xtask fuzz [--seconds N] [--target NAME]...`: coverage-guided
//! fuzzing of `convo_normalize::normalize_page`, one libFuzzer target per
//! vendor (`fuzz/fuzz_targets/normalize_<vendor>.rs`).
//!
//! Each target's corpus, `fuzz/corpus/<target>/`, is seeded with every
//! spec's documented 200 sample and every fixture page (its own vendor's
//! and the others', for shapes it must refuse), then the target runs for N
//! seconds (default 60). A crash fails the command and leaves the input in
//! `fuzz/artifacts/<target>/`; it becomes a test in
//! `crates/normalize/tests/fuzz_regressions.rs`.
//!
//! cargo-fuzz is installed with `cargo install` on first use. It needs
//! nightly-only flags (`-Zsanitizer=address`); no nightly toolchain can be
//! fetched here, so the stable one is run with `RUSTC_BOOTSTRAP=1`, which
//! lets it accept them.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::{root, run};

const CARGO_FUZZ: &str = "0.13.2";
const VENDORS: [&str; 4] = ["bird", "infobip", "leadconnector", "octopush"];

struct Options {
    seconds: u64,
    targets: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { seconds: 60, targets: Vec::new() };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a number")?;
                options.seconds =
                    value.parse().map_err(|_| format!("--seconds: `{value}` is not a number of seconds"))?;
            }
            "--target" => {
                let value = args.next().ok_or("--target needs a name")?;
                if !VENDORS.iter().any(|v| format!("normalize_{v}") == *value) {
                    return Err(format!(
                        "unknown target `{value}`; the targets are normalize_{{{}}}",
                        VENDORS.join(",")
                    ));
                }
                options.targets.push(value.clone());
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: cargo xtask fuzz [--seconds N] [--target NAME]..."
                ));
            }
        }
    }
    if options.targets.is_empty() {
        options.targets = VENDORS.iter().map(|v| format!("normalize_{v}")).collect();
    }
    Ok(options)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new(cargo()).args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("xtask: installing cargo-fuzz {CARGO_FUZZ}");
        run(Command::new(cargo()).args(["install", "--locked", "cargo-fuzz", "--version", CARGO_FUZZ]))?;
    }
    Ok(())
}

/// The documented 200 sample of `specs/<vendor>.yaml`, as JSON bytes.
fn sample(vendor: &str) -> Result<Vec<u8>, String> {
    let path = root().join("specs").join(format!("{vendor}.yaml"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec: serde_json::Value = serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let operation = spec["paths"].as_object().and_then(|p| p.values().next()).map(|item| &item["get"]);
    let example = operation
        .and_then(|op| op.pointer("/responses/200/content/application~1json/example"))
        .ok_or_else(|| format!("{}: no 200 example", path.display()))?;
    serde_json::to_vec_pretty(example).map_err(|e| e.to_string())
}

/// Every seed: `(file name, bytes)`, the target's own vendor first.
fn seeds() -> Result<Vec<(String, String, Vec<u8>)>, String> {
    let mut seeds = Vec::new();
    for vendor in VENDORS {
        seeds.push((vendor.to_owned(), format!("{vendor}-documented-sample.json"), sample(vendor)?));
        let dir = root().join("tests").join("fixtures").join(vendor);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().expect("a file").to_string_lossy().into_owned();
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            seeds.push((vendor.to_owned(), format!("{vendor}-fixture-{name}"), bytes));
        }
    }
    Ok(seeds)
}

/// Writes the seeds into `fuzz/corpus/<target>/` (what the fuzzer found
/// before is kept).
fn seed(target: &str) -> Result<usize, String> {
    let dir = root().join("fuzz").join("corpus").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let seeds = seeds()?;
    for (_, name, bytes) in &seeds {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(seeds.len())
}

pub fn fuzz(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    ensure_cargo_fuzz()?;
    let fuzz = |extra: &[&str]| {
        let mut command = Command::new(cargo());
        command.arg("fuzz").args(extra).env("RUSTC_BOOTSTRAP", "1");
        command
    };
    run(&mut fuzz(&["build"]))?;
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for target in &options.targets {
        let seeded = seed(target)?;
        eprintln!("xtask: {target}: {seeded} seeds in fuzz/corpus/{target}; fuzzing for {} s", options.seconds);
        let started = Instant::now();
        let corpus = format!("fuzz/corpus/{target}");
        let result = run(&mut fuzz(&[
            "run",
            target,
            &corpus,
            "--",
            &format!("-max_total_time={}", options.seconds),
            "-max_len=65536",
            "-timeout=10",
            "-rss_limit_mb=4096",
            "-print_final_stats=1",
        ]));
        let elapsed = started.elapsed().as_secs();
        match result {
            Ok(()) => report.push(format!("{target}: no crash in {elapsed} s")),
            Err(e) => {
                report
                    .push(format!("{target}: FAILED after {elapsed} s: {e}; the input is in fuzz/artifacts/{target}/"));
                failed.push(target.clone());
            }
        }
    }
    for line in &report {
        eprintln!("xtask: {line}");
    }
    if failed.is_empty() { Ok(()) } else { Err(format!("fuzzing found crashes in {}", failed.join(", "))) }
}
