//! `convo normalize`: a captured page of each vendor, from a file or from
//! stdin, in every format; bodies of another shape.

mod common;

use std::io::Write;

use common::*;
use serde_json::Value;

/// The vendor's documented sample, written to a temporary file.
fn sample_file(vendor: &str) -> tempfile::NamedTempFile {
    let mut file =
        tempfile::Builder::new().prefix(&format!("{vendor}-page-")).suffix(".json").tempfile().expect("a temp file");
    file.write_all(&sample(vendor)).expect("written");
    file.flush().expect("flushed");
    file
}

#[test]
fn normalize_file_prints_the_samples_messages_normalized() {
    for vendor in VENDORS {
        let file = sample_file(vendor);
        let out = run(convo().args(["normalize", vendor]).arg(file.path()));
        out.expect_success();
        assert!(out.ndjson().iter().all(|m| m["vendor"] == vendor), "{vendor}:\n{}", out.stdout);
        assert_eq!(out.ids(), sample_ids(vendor), "{vendor}");
    }
}

#[test]
fn normalize_prints_what_fetch_prints_for_the_same_page() {
    for vendor in VENDORS {
        let file = sample_file(vendor);
        let normalized = run(convo().args(["normalize", vendor]).arg(file.path()));
        normalized.expect_success();
        let fetched = run(convo().args(["fetch", vendor, "--sandbox"]));
        fetched.expect_success();
        assert_eq!(normalized.ndjson(), fetched.ndjson(), "{vendor}");
    }
}

#[test]
fn normalize_reads_stdin_with_a_dash_or_without_a_file() {
    for vendor in VENDORS {
        for format in ["ndjson", "json", "csv", "table"] {
            let file = sample_file(vendor);
            let from_file = run(convo().args(["normalize", vendor, "--format", format]).arg(file.path()));
            from_file.expect_success();
            assert!(!from_file.stdout.is_empty(), "{vendor} {format}");
            let dash = run(convo().args(["normalize", vendor, "-", "--format", format]).write_stdin(sample(vendor)));
            dash.expect_success();
            assert_eq!(dash.stdout, from_file.stdout, "{vendor} {format}: `-` reads stdin");
            let bare = run(convo().args(["normalize", vendor, "--format", format]).write_stdin(sample(vendor)));
            bare.expect_success();
            assert_eq!(bare.stdout, from_file.stdout, "{vendor} {format}: no FILE reads stdin");
        }
    }
}

#[test]
fn normalize_formats_json_csv_and_table_hold_every_message() {
    for vendor in VENDORS {
        let file = sample_file(vendor);
        let ids = sample_ids(vendor);

        let json = run(convo().args(["normalize", vendor, "--format", "json"]).arg(file.path()));
        json.expect_success();
        let array: Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{vendor}: not JSON ({e})"));
        let array = array.as_array().expect("a JSON array");
        assert_eq!(array.iter().map(|m| m["id"].as_str().expect("an id")).collect::<Vec<_>>(), ids, "{vendor}");

        let csv = run(convo().args(["normalize", vendor, "--format", "csv"]).arg(file.path()));
        csv.expect_success();
        let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
        let header = reader.headers().expect("a header row").clone();
        assert_eq!(&header[0], "vendor");
        assert_eq!(&header[1], "id");
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
        assert_eq!(rows.iter().map(|r| r[1].to_owned()).collect::<Vec<_>>(), ids, "{vendor}");
        assert!(rows.iter().all(|r| &r[0] == vendor && r.len() == header.len()), "{vendor}");

        let table = run(convo().args(["normalize", vendor, "--format", "table"]).arg(file.path()));
        table.expect_success();
        let lines: Vec<&str> = table.stdout.lines().collect();
        assert_eq!(lines.len(), ids.len() + 1, "{vendor}: a header and a row per message:\n{}", table.stdout);
        assert!(lines[0].starts_with("CREATED (UTC)") && lines[0].ends_with("TEXT"), "{vendor}: {}", lines[0]);
    }
}

#[test]
fn normalize_an_empty_page_prints_an_empty_json_array() {
    for (vendor, body) in [("octopush", "[]"), ("bird", r#"{"results": []}"#)] {
        let out = run(convo().args(["normalize", vendor, "--format", "json"]).write_stdin(body));
        out.expect_success();
        assert_eq!(out.stdout.trim(), "[]", "{vendor}");
    }
}

#[test]
fn normalize_a_body_of_another_shape_exits_6_naming_the_json_path() {
    let cases = [
        // A message of the wrong shape is isolated (tests/undecodable.rs);
        // a page of the wrong shape is not a page.
        ("infobip", r#"{"messages": {"id": 5}}"#, "messages"),
        // (One object a line is read as messages, as `fetch --raw` prints
        // them; an object holding a list is a page, and Octopush's is a list.)
        ("octopush", r#"{"messages": [{"message_id": "m"}]}"#, "."),
        ("leadconnector", r#"{"messages": [], "nextPage": "no"}"#, "nextPage"),
        ("bird", r#"{"results": 5}"#, "results"),
    ];
    for (vendor, body, path) in cases {
        let out = run(convo().args(["normalize", vendor]).write_stdin(body));
        let line = out.expect_error_line(6);
        assert!(line.contains(vendor), "{vendor}: names the vendor: {line}");
        assert!(line.contains(&format!("`{path}")), "{vendor}: names the JSON path `{path}`: {line}");
        assert_eq!(out.stdout, "", "{vendor}: nothing on stdout");

        // Not JSON at all, or another vendor's page: exit 6 too.
        let out = run(convo().args(["normalize", vendor]).write_stdin("<html>not json</html>"));
        out.expect_error_line(6);
    }
    // Another vendor's page of another shape. (One whose shape fits, e.g.
    // an object without Bird's `results`, reads as a page of no messages:
    // every field of a page is read leniently, its message list included.)
    let out = run(convo().args(["normalize", "octopush"]).write_stdin(sample("infobip")));
    let line = out.expect_error_line(6);
    assert!(line.contains("expected a sequence"), "says what is wrong: {line}");
}

#[test]
fn normalize_a_missing_file_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let missing = dir.path().join("no-such-page.json");
    let out = run(convo().args(["normalize", "bird"]).arg(&missing));
    let line = out.expect_error_line(2);
    assert!(line.contains("no-such-page.json"), "names the file: {line}");
}
