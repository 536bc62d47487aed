//! A message that cannot be decoded: `convo fetch` and `convo normalize`
//! print it (its raw JSON and `decode_error`), warn once per such message on
//! stderr and exit 0; with `--strict` it is fatal (exit 6).

mod common;

use common::*;
use serde_json::{Value, json};

/// The vendor's message list inside a page body.
fn list<'a>(vendor: &str, body: &'a mut Value) -> &'a mut Vec<Value> {
    let list = match vendor {
        "infobip" | "leadconnector" => &mut body["messages"],
        "bird" => &mut body["results"],
        _ => body,
    };
    list.as_array_mut().expect("the message list")
}

/// The id field, and a field given a type no reading accepts.
fn id_and_wrong_field(vendor: &str) -> (&'static str, &'static str) {
    match vendor {
        "octopush" => ("message_id", "text"),
        "leadconnector" => ("id", "dateAdded"),
        _ => ("id", "createdAt"),
    }
}

/// The documented sample with three messages that cannot be decoded after
/// its first: the first without its id, a number, and the first with a
/// field of the wrong type (its id readable). Also: an empty page of the
/// vendor, for the request after it.
fn odd_page(vendor: &str) -> (Vec<u8>, Vec<u8>) {
    let mut body: Value = serde_json::from_slice(&sample(vendor)).unwrap();
    let (id, wrong) = id_and_wrong_field(vendor);
    let messages = list(vendor, &mut body);
    let mut without_id = messages[0].clone();
    without_id.as_object_mut().unwrap().remove(id);
    let mut wrong_type = messages[0].clone();
    wrong_type[wrong] = json!(false);
    wrong_type[id] = json!("odd-3");
    messages.splice(1..1, [without_id, json!(7), wrong_type]);
    if vendor == "infobip" {
        body["pagination"]["totalItems"] = json!(messages_len(vendor, &body));
    }
    if vendor == "leadconnector" {
        // The only page of the conversation.
        body["nextPage"] = json!(false);
    }
    let empty = match vendor {
        "infobip" => json!({"messages": []}),
        "octopush" => json!([]),
        "leadconnector" => json!({"messages": [], "nextPage": false}),
        _ => json!({"results": []}),
    };
    (serde_json::to_vec(&body).unwrap(), serde_json::to_vec(&empty).unwrap())
}

fn messages_len(vendor: &str, body: &Value) -> usize {
    let mut body = body.clone();
    list(vendor, &mut body).len()
}

/// Checks the printed messages and the warnings of a page from [`odd_page`].
fn check(vendor: &str, out: &Run, which: &str) {
    out.expect_code(0);
    let printed = out.ndjson();
    let sample = sample_messages(vendor);
    assert_eq!(printed.len(), sample.len() + 3, "{vendor}: every message is printed:\n{}", out.stdout);
    let decode_errors: Vec<&Value> = printed.iter().map(|m| &m["decode_error"]).collect();
    assert!(
        decode_errors[0].is_null() && decode_errors[4..].iter().all(|e| e.is_null()),
        "{vendor}: {decode_errors:?}"
    );
    assert_eq!(printed[1]["decode_error"]["path"], ".", "{vendor}");
    assert_eq!(printed[1]["id"], Value::Null, "{vendor}");
    assert_eq!(printed[2]["raw"], json!(7), "{vendor}");
    let (_, wrong) = id_and_wrong_field(vendor);
    assert_eq!(printed[3]["decode_error"]["path"], wrong, "{vendor}");
    assert_eq!(printed[3]["id"], "odd-3", "{vendor}: the id is read from the raw JSON");
    for message in &printed[1..4] {
        assert_eq!(message["vendor"], vendor);
    }

    let warnings: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 3, "{vendor}: one warning line per undecodable message:\n{}", out.stderr);
    for (n, line) in warnings.iter().enumerate() {
        let number = n + 2;
        assert!(line.starts_with(&format!("convo: warning: {vendor} message {number} {which}")), "{vendor}: {line}");
        assert!(line.contains("could not be decoded at `"), "{vendor}: names the path: {line}");
    }
    assert!(warnings[0].contains("without a readable id") && warnings[2].contains("`odd-3`"), "{vendor}: {warnings:?}");
    expect_no_panic_or_debug(&out.stderr);
}

#[test]
fn normalize_prints_an_undecodable_message_warns_and_exits_0() {
    for vendor in VENDORS {
        let (page, _) = odd_page(vendor);
        let out = run(convo().args(["normalize", vendor]).write_stdin(page));
        check(vendor, &out, "of the page");
    }
}

#[test]
fn fetch_prints_an_undecodable_message_warns_and_goes_on() {
    for vendor in VENDORS {
        let (page, _) = odd_page(vendor);
        let server = one_page(&page);
        let mut command = convo();
        fetch_from(&mut command, vendor, &server.uri(), sample_conversation(vendor), &Secrets::sandbox());
        let out = run(&mut command);
        check(vendor, &out, "(on ");
    }
}

#[test]
fn strict_makes_an_undecodable_message_fatal_after_the_messages_before_it() {
    for vendor in VENDORS {
        let (page, _) = odd_page(vendor);
        let normalized = run(convo().args(["normalize", vendor, "--strict"]).write_stdin(page.clone()));
        let server = one_page(&page);
        let mut command = convo();
        fetch_from(&mut command, vendor, &server.uri(), sample_conversation(vendor), &Secrets::sandbox());
        let fetched = run(command.arg("--strict"));
        for out in [&normalized, &fetched] {
            let line = out.expect_error_line(6);
            assert!(line.contains(&format!("{vendor} message 2")) && line.contains("--strict"), "{vendor}: {line}");
            assert_eq!(out.ndjson().len(), 1, "{vendor}: the message before it is printed:\n{}", out.stdout);
        }
    }
}
