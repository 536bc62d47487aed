//! Files derived from the specs and committed, so that every change to a
//! spec or to the generator shows up as a reviewable diff.

use std::path::PathBuf;

use convo_codegen::{Customization, generate};

use crate::root;

mod bird {
    use convo_codegen::Customization;
    include!("../../crates/bird/codegen.rs");
}
mod infobip {
    use convo_codegen::Customization;
    include!("../../crates/infobip/codegen.rs");
}
mod leadconnector {
    use convo_codegen::Customization;
    include!("../../crates/leadconnector/codegen.rs");
}
mod octopush {
    use convo_codegen::Customization;
    include!("../../crates/octopush/codegen.rs");
}

/// One derived file: where it lives and how to make its contents.
struct Artifact {
    path: PathBuf,
    make: Box<dyn Fn() -> Result<String, String>>,
}

fn client_view(spec: &'static str, custom: fn() -> Customization) -> Artifact {
    let stem = spec.trim_end_matches(".yaml");
    Artifact {
        path: root().join("generated").join(format!("{stem}.rs")),
        make: Box::new(move || generate(&root().join("specs").join(spec), &custom()).map_err(|e| e.to_string())),
    }
}

fn artifacts() -> Vec<Artifact> {
    vec![
        client_view("bird.yaml", bird::customization),
        client_view("infobip.yaml", infobip::customization),
        client_view("leadconnector.yaml", leadconnector::customization),
        client_view("octopush.yaml", octopush::customization),
        Artifact {
            path: root().join("generated").join("message.schema.json"),
            make: Box::new(|| Ok(convo_normalize::message_schema_json())),
        },
    ]
}

/// Rewrites every derived file.
pub fn regen() -> Result<(), String> {
    for artifact in artifacts() {
        let contents = (artifact.make)()?;
        if std::fs::read_to_string(&artifact.path).ok().as_deref() != Some(contents.as_str()) {
            std::fs::create_dir_all(artifact.path.parent().expect("has a parent")).map_err(|e| e.to_string())?;
            std::fs::write(&artifact.path, contents).map_err(|e| format!("{}: {e}", artifact.path.display()))?;
            eprintln!("xtask: wrote {}", relative(&artifact.path));
        }
    }
    Ok(())
}

/// Fails when a derived file is missing or differs from what `regen` writes.
pub fn check() -> Result<(), String> {
    let mut stale = Vec::new();
    for artifact in artifacts() {
        let contents = (artifact.make)()?;
        if std::fs::read_to_string(&artifact.path).ok().as_deref() != Some(contents.as_str()) {
            stale.push(relative(&artifact.path));
        }
    }
    if stale.is_empty() {
        eprintln!("xtask: generated files are up to date");
        Ok(())
    } else {
        Err(format!("stale generated files: {}. Run `cargo xtask regen` and commit the result.", stale.join(", ")))
    }
}

fn relative(path: &std::path::Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}
