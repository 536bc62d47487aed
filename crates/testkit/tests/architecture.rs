//! ARCHITECTURE.md's dependency invariants, checked against the manifests
//! with `cargo metadata`: a crate that starts depending on what it must never
//! know fails here, naming the edge.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each workspace crate's normal (not dev, not build) dependencies on other
/// workspace crates.
fn workspace_edges() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(convo_testkit::root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    packages
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|name| names.contains(name))
                .collect();
            (package["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

const VENDOR_CRATES: [&str; 4] = ["convo-infobip", "convo-octopush", "convo-leadconnector", "convo-bird"];

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn every_crate_depends_only_on_what_architecture_md_allows() {
    let edges = workspace_edges();
    let deps = |name: &str| edges.get(name).unwrap_or_else(|| panic!("{name} is a workspace member")).clone();
    // The registry and the runtime know no other crate of ours.
    assert_eq!(deps("convo-vendors"), set(&[]), "convo-vendors depends on nothing of ours");
    assert_eq!(deps("convo-runtime"), set(&[]), "convo-runtime knows no vendor");
    // A vendor crate knows the runtime and the registry, no other vendor, not the model.
    for vendor in VENDOR_CRATES {
        assert_eq!(deps(vendor), set(&["convo-runtime", "convo-vendors"]), "{vendor}");
    }
    // Only the normalizer knows both sides.
    let mut normalizer = set(&VENDOR_CRATES);
    normalizer.extend(set(&["convo-runtime", "convo-vendors"]));
    assert_eq!(deps("convo-normalize"), normalizer, "convo-normalize");
    // The sync reads through the normalizer's sources: no vendor crate, no runtime.
    assert_eq!(deps("convo-sync"), set(&["convo-normalize"]), "convo-sync");
    // The CLI builds its sources through the normalizer: no vendor crate.
    assert_eq!(deps("convo"), set(&["convo-normalize", "convo-sandbox", "convo-sync"]), "convo");
    // The servers are servers: never a client.
    for server in ["convo-sandbox", "convo-hostile"] {
        let known = deps(server);
        assert!(known.iter().all(|d| d == "convo-vendors"), "{server} depends on {known:?}");
    }
}
