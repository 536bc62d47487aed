//! `convo fetch`: the documented samples through the in-process sandbox,
//! every output format, `--raw`, paging, `--page-size` and `--since`.

mod common;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use common::*;
use convo_sandbox::SandboxOptions;
use serde_json::Value;

/// The CSV columns, in order.
const CSV_HEADER: [&str; 19] = [
    "vendor",
    "id",
    "conversation_id",
    "channel",
    "direction",
    "kind",
    "created_at",
    "updated_at",
    "status",
    "sender_id",
    "sender_address",
    "sender_name",
    "sender_role",
    "recipients",
    "text",
    "subject",
    "attachments",
    "content_type",
    "attachment_count",
];

fn fetch_sandbox(vendor: &str, extra: &[&str]) -> Run {
    run(convo().args(["fetch", vendor, "--sandbox"]).args(extra))
}

#[test]
fn fetch_sandbox_prints_each_vendors_documented_sample_normalized_as_ndjson() {
    for vendor in VENDORS {
        let out = fetch_sandbox(vendor, &[]);
        out.expect_success();
        let messages = out.ndjson();
        let expected = sample_ids(vendor);
        assert!(!expected.is_empty());
        assert_eq!(messages.len(), expected.len(), "{vendor}: one line per sample message:\n{}", out.stdout);
        for message in &messages {
            assert_eq!(message["vendor"], vendor, "{vendor}: {message}");
            assert!(message["raw"].is_object(), "{vendor}: the message keeps the vendor's JSON: {message}");
            if vendor != "octopush" {
                // Octopush's messages carry no conversation id.
                assert_eq!(message["conversation_id"], sample_conversation(vendor), "{vendor}: {message}");
            }
        }
        assert_eq!(out.ids(), expected, "{vendor}: the sample's ids, in the sample's order");
    }
}

#[test]
fn fetch_format_json_prints_one_array_of_the_ndjson_messages() {
    for vendor in VENDORS {
        let ndjson = fetch_sandbox(vendor, &[]);
        ndjson.expect_success();
        let out = fetch_sandbox(vendor, &["--format", "json"]);
        out.expect_success();
        let array: Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{vendor}: not JSON ({e}):\n{}", out.stdout));
        assert_eq!(array, Value::Array(ndjson.ndjson()), "{vendor}");
    }
}

#[test]
fn fetch_format_json_prints_an_empty_array_when_no_message_matches() {
    // Nothing in Bird's sample is from 2030 on: an empty (complete) export.
    let out = fetch_sandbox("bird", &["--format", "json", "--since", "2030-01-01T00:00:00Z"]);
    out.expect_success();
    assert_eq!(out.stdout.trim(), "[]");
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).expect("JSON"), Value::Array(vec![]));

    let out = fetch_sandbox("bird", &["--since", "2030-01-01T00:00:00Z"]);
    out.expect_success();
    assert_eq!(out.stdout, "", "ndjson: no line at all");

    let out = fetch_sandbox("bird", &["--format", "csv", "--since", "2030-01-01T00:00:00Z"]);
    out.expect_success();
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    assert_eq!(reader.headers().expect("a header row").iter().collect::<Vec<_>>(), CSV_HEADER);
    assert_eq!(reader.records().count(), 0, "csv: the header row only");
}

#[test]
fn fetch_format_csv_prints_a_header_row_and_one_row_per_message() {
    for vendor in VENDORS {
        let messages = fetch_sandbox(vendor, &[]).ndjson();
        let out = fetch_sandbox(vendor, &["--format", "csv"]);
        out.expect_success();
        let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
        let header: Vec<String> = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
        assert_eq!(header, CSV_HEADER, "{vendor}");
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a CSV record")).collect();
        assert_eq!(rows.len(), messages.len(), "{vendor}: one row per message:\n{}", out.stdout);
        for (row, message) in rows.iter().zip(&messages) {
            assert_eq!(row.len(), CSV_HEADER.len(), "{vendor}: every row has every column");
            let column = |name: &str| &row[CSV_HEADER.iter().position(|c| *c == name).expect("a column")];
            assert_eq!(column("vendor"), vendor);
            assert_eq!(column("id"), message["id"].as_str().expect("an id"));
            assert_eq!(column("direction"), message["direction"].as_str().unwrap_or(""));
            // Texts with commas, quotes and line breaks come back whole.
            assert_eq!(column("text"), message["text"].as_str().unwrap_or(""), "{vendor}");
        }
    }
}

#[test]
fn fetch_format_table_prints_a_header_and_one_row_per_message() {
    for vendor in VENDORS {
        let messages = fetch_sandbox(vendor, &[]).ndjson();
        let out = fetch_sandbox(vendor, &["--format", "table"]);
        out.expect_success();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), messages.len() + 1, "{vendor}: a header and a row per message:\n{}", out.stdout);
        for column in ["CREATED (UTC)", "DIR", "CHANNEL", "KIND", "SENDER", "TEXT"] {
            assert!(lines[0].contains(column), "{vendor}: header names {column}: {}", lines[0]);
        }
        for (line, message) in lines[1..].iter().zip(&messages) {
            let first_word = message["text"].as_str().and_then(|t| t.split_whitespace().next()).expect("a text");
            assert!(line.contains(first_word), "{vendor}: the row shows the text `{first_word}`: {line}");
            assert!(line.contains(message["direction"].as_str().expect("a direction")), "{vendor}: {line}");
        }
    }
}

#[test]
fn fetch_raw_prints_each_vendor_message_exactly_as_in_the_sample() {
    for vendor in VENDORS {
        let out = fetch_sandbox(vendor, &["--raw"]);
        out.expect_success();
        let lines: Vec<&str> = out.stdout.lines().collect();
        let expected = sample_messages(vendor);
        assert_eq!(lines.len(), expected.len(), "{vendor}:\n{}", out.stdout);
        for (line, message) in lines.iter().zip(&expected) {
            let parsed: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{vendor}: not JSON ({e}): {line}"));
            assert_eq!(&parsed, message, "{vendor}: the vendor's message, not a normalized one");
        }
        // Byte for byte, keys in the vendor's order: the lines are the
        // sample's message list, minus its whitespace.
        let sample = minify(std::str::from_utf8(&sample(vendor)).expect("UTF-8"));
        let list = format!("[{}]", lines.join(","));
        assert!(
            sample.contains(&list),
            "{vendor}: raw lines\n{list}\nare not the sample's messages as written:\n{sample}"
        );

        let out = fetch_sandbox(vendor, &["--raw", "--format", "json"]);
        out.expect_success();
        assert_eq!(
            serde_json::from_str::<Value>(&out.stdout).expect("a JSON array"),
            Value::Array(expected),
            "{vendor}"
        );
    }
}

#[test]
fn fetch_sandbox_messages_2500_pages_through_2500_distinct_messages() {
    for vendor in VENDORS {
        let out = fetch_sandbox(vendor, &["--sandbox-messages", "2500"]);
        out.expect_success();
        let messages = out.ndjson();
        assert_eq!(messages.len(), 2500, "{vendor}");
        assert!(messages.iter().all(|m| m["vendor"] == vendor), "{vendor}");
        let ids: HashSet<String> = out.ids().into_iter().collect();
        assert_eq!(ids.len(), 2500, "{vendor}: every message once");
    }
}

#[test]
fn fetch_page_size_7_asks_for_pages_of_7_and_loses_nothing() {
    let sandbox = sandbox(SandboxOptions { messages: 50, ..SandboxOptions::default() });
    for vendor in VENDORS {
        let base_url = sandbox.base_url(sandbox_vendor(vendor));
        let conversation = generated_conversation(vendor);

        let mut command = convo();
        fetch_from(&mut command, vendor, &base_url, conversation, &Secrets::sandbox());
        let whole = run(&mut command);
        whole.expect_success();
        let before = sandbox.requests(sandbox_vendor(vendor));

        let mut command = convo();
        fetch_from(&mut command, vendor, &base_url, conversation, &Secrets::sandbox());
        let paged = run(command.args(["--page-size", "7"]));
        paged.expect_success();
        let requests = sandbox.requests(sandbox_vendor(vendor)) - before;

        assert_eq!(paged.ids().len(), 50, "{vendor}");
        assert_eq!(paged.ids(), whole.ids(), "{vendor}: the same messages in the same order, whatever the page size");
        // 50 messages in pages of 7 take at least 8 requests (and the end
        // of the conversation at most one or two more); Octopush's 8 pages,
        // the empty page, and the 8 pages again (the last is short).
        let expected = if vendor == "octopush" { 17..=17 } else { 8..=10 };
        assert!(expected.contains(&requests), "{vendor}: {requests} requests for 50 messages in pages of 7");
    }
}

fn created_at(message: &Value) -> DateTime<Utc> {
    let text = message["created_at"].as_str().unwrap_or_else(|| panic!("a creation time: {message}"));
    DateTime::parse_from_rfc3339(text).expect("RFC 3339").with_timezone(&Utc)
}

/// Fetches the generated conversation of 100 messages, then again with
/// `--since` set to `pick(sorted creation times)`, and returns what
/// `--since` should have kept and what it kept, by id.
fn since_cut(vendor: &str, pick: impl Fn(&[DateTime<Utc>]) -> DateTime<Utc>) -> (String, Vec<String>, Vec<String>) {
    let all = fetch_sandbox(vendor, &["--sandbox-messages", "100"]);
    all.expect_success();
    let messages = all.ndjson();
    let mut times: Vec<DateTime<Utc>> = messages.iter().map(created_at).collect();
    times.sort();
    let since = pick(&times);
    let expected: Vec<String> = messages
        .iter()
        .filter(|m| created_at(m) >= since)
        .map(|m| m["id"].as_str().expect("an id").to_owned())
        .collect();
    assert!(!expected.is_empty() && expected.len() < messages.len(), "{vendor}: the test needs a real cut");
    let since_text = since.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let out = fetch_sandbox(vendor, &["--sandbox-messages", "100", "--since", &since_text]);
    out.expect_success();
    (since_text, expected, out.ids())
}

#[test]
fn fetch_since_keeps_only_messages_created_after_it() {
    for vendor in ["infobip", "bird", "leadconnector"] {
        // Half-way between two messages' times: no message sits on the boundary.
        let (since, expected, got) = since_cut(vendor, |times| {
            let (a, b) = (times[40], times[41]);
            assert!(b > a, "{vendor}: distinct times");
            a + (b - a) / 2
        });
        assert_eq!(got, expected, "{vendor}: --since {since}");
    }
}

/// A LeadConnector page of messages built from the documented sample's
/// first one, with these ids and times, in this order.
fn leadconnector_page(messages: &[(&str, &str)], next: Option<&str>) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&sample("leadconnector")).unwrap();
    let template = body["messages"][0].clone();
    let list: Vec<Value> = messages
        .iter()
        .map(|(id, at)| {
            let mut message = template.clone();
            message["id"] = (*id).into();
            message["dateAdded"] = (*at).into();
            message
        })
        .collect();
    body["messages"] = list.into();
    body["nextPage"] = next.is_some().into();
    body["lastMessageId"] = next.map_or(Value::Null, Into::into);
    serde_json::to_vec(&body).unwrap()
}

#[test]
fn since_stops_early_only_where_the_listing_was_seen_newest_first() {
    // LeadConnector lists newest first, and `--since` stops at the first
    // older message. A server that lists oldest first instead must not
    // make that stop lose the newer messages on its later pages.
    let since = "2024-03-01T00:00:02Z";
    let oldest_first = wiremock_pages(
        &leadconnector_page(&[("m0", "2024-03-01T00:00:00Z"), ("m1", "2024-03-01T00:00:01Z")], Some("m1")),
        &leadconnector_page(&[("m2", "2024-03-01T00:00:02Z"), ("m3", "2024-03-01T00:00:03Z")], None),
    );
    let mut command = convo();
    fetch_from(&mut command, "leadconnector", &oldest_first.uri(), "conv1", &Secrets::sandbox());
    let out = run(command.args(["--since", since]));
    out.expect_success();
    assert_eq!(out.ids(), ["m2", "m3"], "the messages at or after --since, on the second page");
    assert_eq!(oldest_first.requests().len(), 2, "read to its end: the order did not hold");

    // Newest first, as documented: older messages, two in a row, end the
    // read (one older message ending a page may be back-dated: the page
    // after it is read, here older too).
    let newest_first = wiremock_pages(
        &leadconnector_page(&[("m3", "2024-03-01T00:00:03Z"), ("m1", "2024-03-01T00:00:01Z")], Some("m1")),
        &leadconnector_page(&[("m0", "2024-03-01T00:00:00Z")], None),
    );
    let mut command = convo();
    fetch_from(&mut command, "leadconnector", &newest_first.uri(), "conv1", &Secrets::sandbox());
    let out = run(command.args(["--since", since]));
    out.expect_success();
    assert_eq!(out.ids(), ["m3"]);
    assert_eq!(newest_first.requests().len(), 2, "no request after two older messages in a row");
}

#[test]
fn bird_is_asked_from_the_whole_second_before_since_and_the_rest_is_filtered_here() {
    // Bird documents `dateFrom` as "created date after this date", without
    // its precision or whether it includes its bound: the request starts a
    // whole second earlier, and what it brings before `since` is dropped.
    let mut body: Value = serde_json::from_slice(&sample("bird")).unwrap();
    let template = body["results"][0].clone();
    let at = |id: &str, time: &str| {
        let mut message = template.clone();
        message["id"] = id.into();
        message["createdAt"] = time.into();
        message
    };
    body["results"] = vec![at("after", "2024-03-01T12:00:00.800Z"), at("before", "2024-03-01T12:00:00.100Z")].into();
    let server = one_page(&serde_json::to_vec(&body).unwrap());
    let mut command = convo();
    fetch_from(&mut command, "bird", &server.uri(), "conv1", &Secrets::sandbox());
    let out = run(command.args(["--since", "2024-03-01T12:00:00.700Z"]));
    out.expect_success();
    assert_eq!(out.ids(), ["after"]);
    let requests = server.requests();
    let date_from: Vec<String> = requests[0]
        .url
        .query_pairs()
        .filter(|(name, _)| name == "dateFrom")
        .map(|(_, value)| value.into_owned())
        .collect();
    let sent: Vec<DateTime<Utc>> = date_from.iter().map(|v| v.parse().unwrap()).collect();
    assert_eq!(sent, ["2024-03-01T11:59:59Z".parse::<DateTime<Utc>>().unwrap()], "sent {date_from:?}");
}

#[test]
fn fetch_since_keeps_a_message_created_exactly_at_since() {
    // `--since` is documented as "created at or after this time".
    let mut wrong = Vec::new();
    for vendor in ["infobip", "bird", "leadconnector"] {
        let (since, expected, got) = since_cut(vendor, |times| times[40]);
        if got != expected {
            let missing: Vec<&String> = expected.iter().filter(|id| !got.contains(id)).collect();
            wrong.push(format!(
                "{vendor}: --since {since} kept {} of {} messages; missing {missing:?}",
                got.len(),
                expected.len()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn fetch_since_on_octopush_is_refused_because_its_messages_carry_no_time() {
    let out = fetch_sandbox("octopush", &["--since", "2024-11-25T00:00:00Z"]);
    let line = out.expect_error_line(2);
    assert!(line.contains("octopush") && line.contains("since") && line.contains("time"), "says why: {line}");
    assert_eq!(out.stdout, "", "nothing is printed");
}

/// The vendor's documented sample as a server would send it pretty-printed,
/// as the last page (LeadConnector's sample says more follow: not here).
fn pretty_last_page(vendor: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&sample(vendor)).expect("JSON");
    if vendor == "leadconnector" {
        body["nextPage"] = Value::Bool(false);
    }
    serde_json::to_vec_pretty(&body).expect("JSON")
}

#[test]
fn fetch_prints_one_line_per_message_even_when_the_vendor_pretty_prints() {
    for vendor in VENDORS {
        for raw in [false, true] {
            // The only page, then (Octopush) the empty page that ends the read.
            let server = one_page(&pretty_last_page(vendor));
            let mut command = convo();
            fetch_from(&mut command, vendor, &server.uri(), sample_conversation(vendor), &Secrets::sandbox());
            if raw {
                command.arg("--raw");
            }
            let out = run(&mut command);
            out.expect_success();
            // Each line is one whole JSON document.
            let lines = out.ndjson();
            assert_eq!(
                lines.len(),
                sample_ids(vendor).len(),
                "{vendor} raw={raw}: one line per message:\n{}",
                out.stdout
            );
            if raw {
                assert_eq!(lines, sample_messages(vendor), "{vendor}: the vendor's messages");
            } else {
                assert_eq!(out.ids(), sample_ids(vendor), "{vendor}");
                let raws: Vec<Value> = lines.iter().map(|m| m["raw"].clone()).collect();
                assert_eq!(raws, sample_messages(vendor), "{vendor}: `raw` is the vendor's message");
            }
            assert_eq!(server.requests().len(), one_page_requests(vendor), "{vendor} raw={raw}");
        }
    }
}

fn base_url_variable(vendor: &str) -> String {
    format!("{}_BASE_URL", vendor.to_uppercase())
}

#[test]
fn fetch_reads_the_base_url_from_the_vendors_variable_and_the_flag_wins() {
    let sandbox = sandbox(SandboxOptions::default());
    let closed = format!("http://127.0.0.1:{}", closed_port());
    for vendor in VENDORS {
        let base_url = sandbox.base_url(sandbox_vendor(vendor));
        let mut command = convo();
        command.args(["fetch", vendor, "--conversation", sample_conversation(vendor)]);
        if vendor == "bird" {
            command.args(["--workspace", convo_sandbox::ids::bird::WORKSPACE]);
        }
        command.envs(Secrets::sandbox().env(vendor)).env(base_url_variable(vendor), &base_url);
        let out = run(&mut command);
        out.expect_success();
        assert_eq!(out.ids(), sample_ids(vendor), "{vendor}: {} is used", base_url_variable(vendor));

        let mut command = convo();
        fetch_from(&mut command, vendor, &base_url, sample_conversation(vendor), &Secrets::sandbox());
        let out = run(command.env(base_url_variable(vendor), &closed));
        out.expect_success();
        assert_eq!(out.ids(), sample_ids(vendor), "{vendor}: --base-url wins over {}", base_url_variable(vendor));
    }
}

#[test]
fn fetch_leadconnector_sends_the_version_from_its_variable() {
    let sandbox = sandbox(SandboxOptions::default());
    let base_url = sandbox.base_url(sandbox_vendor("leadconnector"));
    let fetch = |version: Option<&str>| {
        let mut command = convo();
        fetch_from(&mut command, "leadconnector", &base_url, sample_conversation("leadconnector"), &Secrets::sandbox());
        if let Some(version) = version {
            command.env("LEADCONNECTOR_VERSION", version);
        }
        run(&mut command)
    };
    fetch(None).expect_success();
    let out = fetch(Some("2023-02-21"));
    out.expect_success();
    assert_eq!(out.ids(), sample_ids("leadconnector"));
    // A version the API does not know is sent as given, and refused by it.
    let out = fetch(Some("1999-01-01"));
    let line = out.expect_error_line(5);
    assert!(line.contains("1999-01-01"), "{line}");
}

#[test]
fn fetch_octopush_selects_the_generated_conversation_by_contact() {
    let sandbox = sandbox(SandboxOptions { messages: 30, ..SandboxOptions::default() });
    let base_url = sandbox.base_url(sandbox_vendor("octopush"));
    let by_id = {
        let mut command = convo();
        fetch_from(&mut command, "octopush", &base_url, generated_conversation("octopush"), &Secrets::sandbox());
        run(&mut command)
    };
    by_id.expect_success();
    assert_eq!(by_id.ids().len(), 30);
    use convo_sandbox::ids::octopush;
    for selector in [
        ["--phone", octopush::GENERATED_PHONE_NUMBER],
        ["--email", octopush::GENERATED_EMAIL],
        ["--facebook-id", octopush::GENERATED_FACEBOOK_ID],
    ] {
        let out = run(convo()
            .args(["fetch", "octopush", "--base-url", &base_url])
            .args(selector)
            .envs(Secrets::sandbox().env("octopush")));
        out.expect_success();
        assert_eq!(out.ids(), by_id.ids(), "{selector:?}");
    }
}
