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
        let errors: Vec<String> =
            schema.iter_errors(message).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{what}: message {} breaks the committed schema: {errors:#?}", message["id"]);
    }
}

#[test]
fn documented_samples() {
    let schema = schema();
    for vendor in Vendor::ALL {
        let messages = normalized(vendor, &sample(&spec_of(vendor), "200"));
        assert!(!messages.as_array().unwrap().is_empty(), "{vendor}: the sample has messages");
        assert_valid(&schema, &messages, &format!("{vendor} sample"));
        insta::assert_yaml_snapshot!(format!("{vendor}__documented_sample"), messages);
    }
}

/// One snapshot a fixture, through insta's `glob!`: a new fixture under
/// `tests/fixtures/<vendor>/` is picked up (and must be reviewed) by itself.
#[test]
fn fixtures() {
    let schema = schema();
    let mut seen = std::collections::BTreeSet::new();
    insta::glob!("../../../tests/fixtures", "*/*.json", |path| {
        let vendor_dir = path.parent().and_then(|p| p.file_name()).unwrap().to_string_lossy().into_owned();
        let vendor: Vendor = vendor_dir.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen.insert(vendor);
        let messages = normalized(vendor, &std::fs::read(path).unwrap());
        assert_valid(&schema, &messages, &path.display().to_string());
        insta::assert_yaml_snapshot!(messages);
    });
    assert_eq!(seen.len(), Vendor::ALL.len(), "every vendor has fixtures: {seen:?}");
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
    let err = normalize_page(Vendor::Bird, br#"{"results":[],"total":"yesterday"}"#).unwrap_err();
    assert_eq!(err.vendor, Vendor::Bird);
    assert_eq!(err.path, "total");
    assert!(err.reason.contains("yesterday"), "{err}");
    assert!(err.snippet.starts_with(r#""{\"results\""#), "{err}");

    let err = normalize_page(Vendor::Bird, b"<html>502 Bad Gateway</html>").unwrap_err();
    assert_eq!(err.path, ".");
    assert!(err.to_string().contains("<html>502"), "{err}");

    let err = normalize_page(Vendor::Bird, br#"{"results": 3}"#).unwrap_err();
    assert_eq!(err.path, "results");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary JSON, biased towards the shapes vendors use.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
            "[a-zA-Z_:+.0-9-]{0,24}".prop_map(serde_json::Value::from),
            prop_oneof![Just("2024-01-01T00:00:00.000+0000"), Just("text"), Just("TYPE_CALL"), Just("inbound")]
                .prop_map(serde_json::Value::from),
        ];
        let keys = prop_oneof![
            Just("results".to_owned()),
            Just("messages".to_owned()),
            Just("id".to_owned()),
            Just("type".to_owned()),
            Just("body".to_owned()),
            Just("text".to_owned()),
            Just("sender".to_owned()),
            Just("createdAt".to_owned()),
            Just("conversationId".to_owned()),
            Just("pagination".to_owned()),
            Just("meta".to_owned()),
            Just("content".to_owned()),
            "[a-z]{1,8}",
        ];
        leaf.prop_recursive(5, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::btree_map(keys.clone(), inner, 0..8)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_json_never_panics_any_vendor(value in json()) {
            let bytes = serde_json::to_vec(&value).unwrap();
            for vendor in Vendor::ALL {
                let _ = normalize_page(vendor, &bytes);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_any_vendor(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            for vendor in Vendor::ALL {
                let _ = normalize_page(vendor, &bytes);
            }
        }
    }
}
