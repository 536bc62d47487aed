//! Tolerant reading, over every documented sample and every fixture of
//! `tests/fixtures/`: a field that is `null` or missing never costs a
//! message, and a message that cannot be decoded never costs its page.

use convo_normalize::{Message, Vendor, normalize_page};
use convo_testkit::{root, sample};
use serde_json::{Value, json};

/// Every page we have of `vendor`: its documented sample and its fixtures,
/// by name.
fn pages(vendor: Vendor) -> Vec<(String, Value)> {
    let mut pages = vec![(
        "documented sample".to_owned(),
        serde_json::from_slice(&sample(&format!("{vendor}.yaml"), "200")).unwrap(),
    )];
    let dir = root().join("tests/fixtures").join(vendor.as_str());
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        pages.push((name, serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap()));
    }
    pages
}

/// The page's message list (LeadConnector's in either envelope).
fn list(vendor: Vendor, page: &mut Value) -> &mut Vec<Value> {
    let list = match vendor {
        Vendor::Infobip => &mut page["messages"],
        Vendor::Bird => &mut page["results"],
        Vendor::Octopush => page,
        Vendor::Leadconnector if page["messages"].is_object() => &mut page["messages"]["messages"],
        Vendor::Leadconnector => &mut page["messages"],
    };
    list.as_array_mut().expect("a message list")
}

fn id_field(vendor: Vendor) -> &'static str {
    if vendor == Vendor::Octopush { "message_id" } else { "id" }
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The path of every object member in `value`, at every depth (array
/// elements are walked into, but are not fields themselves).
fn fields(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                prefix.push(Step::Key(key.clone()));
                out.push(prefix.clone());
                fields(inner, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                prefix.push(Step::Index(i));
                fields(inner, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn show(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => format!(".{k}"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// Sets the field at `path` to `null`, or removes it.
fn change(message: &mut Value, path: &[Step], remove: bool) {
    let (last, parents) = path.split_last().unwrap();
    let mut parent = message;
    for step in parents {
        parent = match step {
            Step::Key(k) => &mut parent[k.as_str()],
            Step::Index(i) => &mut parent[*i],
        };
    }
    let Step::Key(key) = last else { unreachable!("fields are object members") };
    let object = parent.as_object_mut().unwrap();
    if remove {
        object.remove(key);
    } else {
        object.insert(key.clone(), Value::Null);
    }
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("generated/message.schema.json")).expect("committed schema");
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("a valid JSON Schema")
}

fn assert_valid(schema: &jsonschema::Validator, message: &Message, what: &str) {
    let value = serde_json::to_value(message).unwrap();
    let errors: Vec<String> = schema.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{what}: the message breaks the committed schema: {errors:#?}\n{value}");
}

#[test]
fn every_field_null_or_missing_still_gives_every_message_with_its_raw_json() {
    let schema = schema();
    let mut variants = 0;
    for vendor in Vendor::ALL {
        for (name, page) in pages(vendor) {
            let count = list(vendor, &mut page.clone()).len();
            for index in 0..count {
                let message = list(vendor, &mut page.clone())[index].clone();
                let mut paths = Vec::new();
                fields(&message, &mut Vec::new(), &mut paths);
                paths.retain(|p| !matches!(p.as_slice(), [Step::Key(k)] if k == id_field(vendor)));
                for path in &paths {
                    for remove in [false, true] {
                        let what = format!(
                            "{vendor} {name}, message {index}: {} {}",
                            show(path),
                            if remove { "removed" } else { "null" }
                        );
                        let mut variant = page.clone();
                        change(&mut list(vendor, &mut variant)[index], path, remove);
                        let changed = serde_json::to_string(&list(vendor, &mut variant)[index]).unwrap();
                        let body = serde_json::to_vec(&variant).unwrap();
                        let messages = normalize_page(vendor, &body).unwrap_or_else(|e| panic!("{what}: {e}"));
                        assert_eq!(messages.len(), count, "{what}");
                        let m = &messages[index];
                        assert_eq!(m.raw.get(), changed, "{what}: raw is the vendor's message as sent");
                        assert_eq!(m.decode_error, None, "{what}: a null or missing field is read, not isolated");
                        assert!(m.id.is_some(), "{what}");
                        assert_valid(&schema, m, &what);
                        variants += 1;
                    }
                }
            }
        }
    }
    // The sweep itself is not empty (every page has fields to change).
    assert!(variants > 1000, "{variants} variants");
}

/// The page with, after its first message, that message without its id and
/// the number 7.
fn with_undecodable(vendor: Vendor, page: &Value) -> Value {
    let mut page = page.clone();
    let messages = list(vendor, &mut page);
    let mut without_id = messages[0].clone();
    without_id.as_object_mut().unwrap().remove(id_field(vendor));
    messages.splice(1..1, [without_id, json!(7)]);
    page
}

#[test]
fn a_page_with_undecodable_messages_gives_all_the_others_and_the_isolated_ones() {
    let schema = schema();
    for vendor in Vendor::ALL {
        for (name, page) in pages(vendor) {
            let clean = normalize_page(vendor, &serde_json::to_vec(&page).unwrap()).unwrap();
            let odd = with_undecodable(vendor, &page);
            let messages = normalize_page(vendor, &serde_json::to_vec(&odd).unwrap())
                .unwrap_or_else(|e| panic!("{vendor} {name}: {e}"));
            assert_eq!(messages.len(), clean.len() + 2, "{vendor} {name}");
            // Every other message is exactly what it is on the clean page.
            let others: Vec<&Message> =
                messages.iter().enumerate().filter(|(i, _)| !(1..=2).contains(i)).map(|(_, m)| m).collect();
            assert_eq!(others, clean.iter().collect::<Vec<_>>(), "{vendor} {name}");

            let (without_id, number) = (&messages[1], &messages[2]);
            let expected = list(vendor, &mut odd.clone())[1].clone();
            assert_eq!(without_id.raw.get(), serde_json::to_string(&expected).unwrap(), "{vendor} {name}");
            let error = without_id.decode_error.as_ref().expect("isolated");
            assert_eq!(
                (error.path.as_str(), error.reason.as_str()),
                (".", &*format!("missing field `{}`", id_field(vendor)))
            );
            assert_eq!(number.raw.get(), "7");
            assert_eq!(number.decode_error.as_ref().unwrap().path, ".");
            for m in [without_id, number] {
                assert_eq!((m.vendor, &m.id, m.kind), (vendor, &None, None), "{vendor} {name}");
            }
            for m in &messages {
                assert_valid(&schema, m, &format!("{vendor} {name}"));
            }
        }
    }
}

#[test]
fn the_isolated_form() {
    let schema = schema();
    for vendor in Vendor::ALL {
        let (id, wrong) = match vendor {
            Vendor::Octopush => ("message_id", "text"),
            Vendor::Leadconnector => ("id", "dateAdded"),
            _ => ("id", "createdAt"),
        };
        let odd =
            json!([{ "conversationId": "c" }, 7, "text", null, { id: "m-3", wrong: { "no": "time" } }, { id: 42 }]);
        let body = match vendor {
            Vendor::Infobip => json!({ "messages": odd }),
            Vendor::Octopush => odd,
            Vendor::Leadconnector => json!({ "messages": odd, "nextPage": false }),
            Vendor::Bird => json!({ "results": odd }),
        };
        let messages = normalize_page(vendor, &serde_json::to_vec(&body).unwrap()).unwrap();
        assert!(messages.iter().all(|m| m.decode_error.is_some()), "{vendor}");
        assert_eq!(messages[4].id.as_deref(), Some("m-3"), "{vendor}: the id is read from the raw JSON");
        for m in &messages {
            assert_valid(&schema, m, &format!("{vendor} isolated"));
        }
        insta::assert_yaml_snapshot!(format!("{vendor}__isolated"), serde_json::to_value(&messages).unwrap());
    }
}
