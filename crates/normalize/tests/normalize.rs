//! Every documented sample and every fixture of `tests/fixtures/`,
//! normalized and snapshotted; the committed JSON Schema validates each.

use convo_normalize::{Vendor, normalize_page};
use convo_testkit::{root, sample};

fn spec_of(vendor: Vendor) -> String {
    format!("{vendor}.yaml")
}

/// The normalized page as plain JSON, `raw` included.
fn normalized(vendor: Vendor, body: &[u8]) -> serde_json::Value {
    let messages = normalize_page(vendor, body).unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_value(&messages).expect("messages serialize")
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("generated/message.schema.json")).expect("committed schema");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn assert_valid(schema: &jsonschema::Validator, messages: &serde_json::Value, what: &str) {
    for message in messages.as_array().expect("a list") {
        let errors: Vec<String> = schema.iter_errors(message).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{what}: message {} breaks the committed schema: {errors:#?}", message["id"]);
    }
}

fn supported() -> Vec<Vendor> {
    vec![Vendor::Bird]
}

#[test]
fn documented_samples() {
    let schema = schema();
    for vendor in supported() {
        let messages = normalized(vendor, &sample(&spec_of(vendor), "200"));
        assert!(!messages.as_array().unwrap().is_empty(), "{vendor}: the sample has messages");
        assert_valid(&schema, &messages, &format!("{vendor} sample"));
        insta::assert_yaml_snapshot!(format!("{vendor}__documented_sample"), messages);
    }
}

#[test]
fn fixtures() {
    let schema = schema();
    for vendor in supported() {
        let dir = root().join("tests/fixtures").join(vendor.as_str());
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "{vendor}: no fixtures in {}", dir.display());
        for file in files {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            let messages = normalized(vendor, &std::fs::read(&file).unwrap());
            assert_valid(&schema, &messages, &name);
            insta::assert_yaml_snapshot!(format!("{vendor}__{name}"), messages);
        }
    }
}

#[test]
fn the_committed_schema_is_the_models_schema() {
    let committed = std::fs::read_to_string(root().join("generated/message.schema.json")).unwrap();
    assert_eq!(committed, convo_normalize::message_schema_json(), "run `cargo xtask regen`");
}

#[test]
fn raw_is_the_vendors_message_byte_for_byte() {
    let body = br#"{"results":[{"id":"m","conversationId":"c","sender":{"id":"s"},"createdAt":"2024-01-01T00:00:00Z","x":  [1.50, null]}]}"#;
    let messages = normalize_page(Vendor::Bird, body).unwrap();
    assert_eq!(
        messages[0].raw.get(),
        r#"{"id":"m","conversationId":"c","sender":{"id":"s"},"createdAt":"2024-01-01T00:00:00Z","x":  [1.50, null]}"#
    );
}

#[test]
fn a_body_of_another_shape_names_the_path_and_shows_the_first_bytes() {
    let err = normalize_page(Vendor::Bird, br#"{"results":[{"id":"m","conversationId":"c","sender":{"id":"s"},"createdAt":"yesterday"}]}"#)
        .unwrap_err();
    assert_eq!(err.vendor, Vendor::Bird);
    assert_eq!(err.path, "results[0].createdAt");
    assert!(err.reason.contains("yesterday"), "{err}");
    assert!(err.snippet.starts_with(r#""{\"results\""#), "{err}");

    let err = normalize_page(Vendor::Bird, b"<html>502 Bad Gateway</html>").unwrap_err();
    assert_eq!(err.path, ".");
    assert!(err.to_string().contains("<html>502"), "{err}");

    let err = normalize_page(Vendor::Bird, br#"{"results": 3}"#).unwrap_err();
    assert_eq!(err.path, "results");
}
