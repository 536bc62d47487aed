//! The published crates as crates.io would get them, and the TLS options.
//!
//! `package`: `cargo package` of every published crate at once. Cargo packs
//! them together, with a local registry standing in for crates.io so that a
//! crate can depend on one not yet published, and builds each from its
//! tarball alone: a vendor crate's `build.rs` must find its spec in the
//! package (`specs/<vendor>.yaml`, a link to the one copy in `specs/`), the
//! sandbox its four samples, and nothing may reach outside the package.
//!
//! Every crate is verified, the CLI too (it is what `cargo install convo`
//! builds), but with the lighter TLS option, `rustls-ring`: which files a
//! package holds does not depend on the TLS feature, and the default one is
//! built and tested by `cargo test --workspace` already. Verifying with the
//! default would build aws-lc-rs (about a minute of C on two cores) once
//! more for nothing. Even so, each crate is resolved alone, so the shared
//! dependencies are built again under other feature sets. Measured on the
//! shared 2-core machine (2026-12-01, load 4–5): about 9 minutes from an
//! empty target directory, about 1 minute on one that has run it before.
//! That is the price of the CLI and convo-normalize being checked too (what
//! `cargo install` and a user's build compile); verifying only the crates
//! that read files at build time (the four clients and the sandbox, with
//! runtime and codegen under them) would save the CLI's and normalize's
//! share, about a third of the cold run. This is also the check that every
//! published crate builds alone with `rustls-ring`.
//!
//! `tls`: the lighter TLS option (`rustls-ring`) leaves aws-lc-rs (a C build)
//! out of the CLI's build graph and builds working clients that verify
//! certificates (convo-runtime's unit tests and `tests/tls.rs` with it); run alone, it also checks that the CLI
//! compiles with it (`test` has `package` build every crate with it instead).

use std::process::Command;

use crate::{root, run};

/// Every crate that is published, in no particular order (cargo orders them).
pub const PUBLISHED: &[&str] = &[
    "convo-vendors",
    "convo-runtime",
    "convo-codegen",
    "convo-infobip",
    "convo-octopush",
    "convo-leadconnector",
    "convo-bird",
    "convo-normalize",
    "convo-sandbox",
    "convo-sync",
    "convo",
];

/// The lighter TLS feature, and the crate it must keep out of the build.
const LIGHT_TLS: &str = "rustls-ring";
const HEAVY_CRATE: &str = "aws-lc-sys";

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// `cargo package` of every published crate, each built from its tarball
/// with the lighter TLS option.
pub fn package() -> Result<(), String> {
    let (published, target) = same_as_manifests()?;
    forget_earlier_tarballs(&published)?;
    forget_earlier_builds(&published, &target)?;
    let mut command = cargo();
    // The features apply to each selected crate that has them (all but
    // convo-codegen and convo-sandbox, which have no TLS).
    command.args(["package", "--locked", "--no-default-features", "--features", LIGHT_TLS]);
    for name in PUBLISHED {
        command.args(["-p", name]);
    }
    // What is checked is the work tree as it is: a developer runs this
    // before committing, and the test suite may leave files behind.
    command.arg("--allow-dirty");
    run(&mut command)
}

/// Removes what an earlier `cargo package` of this workspace unpacked from
/// its local registry into `$CARGO_HOME/registry/src`.
///
/// Cargo unpacks each crate it verifies, and every crate that crate depends
/// on, from the local registry that stands in for crates.io into
/// `registry/src/-<hash of that registry's path>/<name>-<version>`, and
/// never unpacks a `<name>-<version>` again once it is there (it trusts the
/// `.cargo-ok` file left in it). The version does not change between
/// commits, so on a machine whose `CARGO_HOME` outlives the checkout (CI
/// runs each checkout at one path with one home), the next run built a
/// crate against the last run's copy of the crates under it, and failed
/// (`ID_FIELD is not a member of trait Record`: the runtime of an earlier
/// commit) or, worse, could pass against code that is no longer there.
/// Only the directories of local registries (named `-<hash>`, where one on
/// the network is `<host>-<hash>`) and only this workspace's crates at this
/// version are removed; cargo unpacks them again from the new tarballs.
fn forget_earlier_tarballs(published: &[(String, String)]) -> Result<(), String> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(home) => std::path::PathBuf::from(home),
        None => match std::env::var_os("HOME") {
            Some(home) => std::path::PathBuf::from(home).join(".cargo"),
            None => return Ok(()),
        },
    };
    let Ok(registries) = std::fs::read_dir(home.join("registry").join("src")) else {
        return Ok(()); // nothing unpacked yet
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for (name, version) in published {
            let unpacked = registry.path().join(format!("{name}-{version}"));
            if unpacked.exists() {
                std::fs::remove_dir_all(&unpacked)
                    .map_err(|e| format!("cannot remove {} (an earlier run's copy): {e}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

/// Removes the fingerprints of what an earlier `cargo package` built from
/// those unpacked copies, so that cargo builds them again.
///
/// Removing the copies is not enough: the verify builds share the
/// workspace's target directory, and cargo takes a registry crate's build
/// as fresh while its source files are no newer than the build. The files
/// of a package have a fixed, old modification time, so a crate of this
/// workspace built from the stand-in registry by an earlier run (say
/// convo-runtime 0.1.0, under convo-octopush's verify build) was linked
/// again as it was, without what changed since (`id_is_masked is not a
/// member of trait Record`). Such a build is known by its dep-info file
/// (`deps/*.d`, `build/*/*.d`), which names the unpacked sources by path:
/// its unit's fingerprint directory (same name and hash) is removed. The
/// workspace's own builds, and every other crate's, are left alone.
fn forget_earlier_builds(published: &[(String, String)], target: &std::path::Path) -> Result<(), String> {
    let unpacked: Vec<String> = published.iter().map(|(name, version)| format!("/{name}-{version}/")).collect();
    let from_stand_in = |dep_info: &std::path::Path| {
        std::fs::read_to_string(dep_info).is_ok_and(|text| {
            text.split_whitespace().any(|path| {
                path.contains("/registry/src/-") && unpacked.iter().any(|crate_dir| path.contains(crate_dir.as_str()))
            })
        })
    };
    let Ok(profiles) = std::fs::read_dir(target) else {
        return Ok(()); // nothing built yet
    };
    for profile in profiles.flatten() {
        let fingerprints = profile.path().join(".fingerprint");
        if !fingerprints.is_dir() {
            continue;
        }
        let mut dep_infos: Vec<std::path::PathBuf> = Vec::new();
        let mut gather = |dir: &std::path::Path| {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.path().extension().is_some_and(|e| e == "d") {
                    dep_infos.push(entry.path());
                }
            }
        };
        gather(&profile.path().join("deps"));
        for build in std::fs::read_dir(profile.path().join("build")).into_iter().flatten().flatten() {
            gather(&build.path());
        }
        for dep_info in dep_infos.iter().filter(|d| from_stand_in(d)) {
            // `<crate>-<hash>.d`; the unit's fingerprint is `<package>-<hash>`.
            let Some(hash) = dep_info.file_stem().and_then(|s| s.to_str()).and_then(|s| s.rsplit_once('-')) else {
                continue;
            };
            let hash = hash.1;
            for fingerprint in std::fs::read_dir(&fingerprints).into_iter().flatten().flatten() {
                if fingerprint.file_name().to_string_lossy().ends_with(&format!("-{hash}")) {
                    std::fs::remove_dir_all(fingerprint.path()).map_err(|e| {
                        format!("cannot remove {} (an earlier run's build): {e}", fingerprint.path().display())
                    })?;
                }
            }
            std::fs::remove_file(dep_info)
                .map_err(|e| format!("cannot remove {} (an earlier run's build): {e}", dep_info.display()))?;
        }
    }
    Ok(())
}

/// Fails when the list above and the manifests disagree: a crate made
/// publishable (no `publish = false`) must be packaged here, and a crate
/// packaged here must be publishable. Gives each one's name and version,
/// and the target directory.
fn same_as_manifests() -> Result<(Vec<(String, String)>, std::path::PathBuf), String> {
    let output = cargo()
        .current_dir(root())
        .args(["metadata", "--no-deps", "--format-version", "1", "--locked"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let mut versions: Vec<(String, String)> = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata: no packages")?
        .iter()
        // `publish` is null when any registry may have the crate, a list of
        // registries otherwise (empty for `publish = false`).
        .filter(|p| p["publish"].as_array().is_none_or(|registries| !registries.is_empty()))
        .filter_map(|p| Some((p["name"].as_str()?.to_owned(), p["version"].as_str()?.to_owned())))
        .collect();
    versions.sort_unstable();
    let publishable: Vec<&str> = versions.iter().map(|(name, _)| name.as_str()).collect();
    let mut listed = PUBLISHED.to_vec();
    listed.sort_unstable();
    let target = metadata["target_directory"].as_str().ok_or("cargo metadata: no target_directory")?;
    if publishable == listed {
        Ok((versions, std::path::PathBuf::from(target)))
    } else {
        Err(format!(
            "the publishable crates ({}) are not the ones xtask/src/package.rs packages ({}): \
             add the crate to PUBLISHED, or give it `publish = false`",
            publishable.join(", "),
            listed.join(", ")
        ))
    }
}

/// The lighter TLS option: has no aws-lc-rs, builds clients, and (with
/// `check`) compiles for the CLI.
pub fn tls(check: bool) -> Result<(), String> {
    let light = ["--no-default-features", "--features", LIGHT_TLS];
    if check {
        run(cargo().args(["check", "--locked", "-p", "convo"]).args(light))?;
    }

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
        return Err(format!(
            "`convo --no-default-features --features {LIGHT_TLS}` does not build ring: is it still TLS?"
        ));
    }
    eprintln!("xtask: `--features {LIGHT_TLS}` builds ring and no {HEAVY_CRATE}");

    // The unit tests build clients; tests/tls.rs has one refuse a
    // self-signed certificate.
    run(cargo().args(["test", "--locked", "-p", "convo-runtime", "--lib", "--test", "tls"]).args(light))
}
