//! Small surprises a new user met, each now a clear answer: the vendor's
//! other name, a date for `--since`, a page size of 0, a base URL beside
//! `--sandbox`.

mod common;

use common::{convo, run};

#[test]
fn highlevel_is_a_name_for_leadconnector() {
    let out = run(convo().args(["fetch", "highlevel", "--sandbox"]));
    out.expect_success();
    assert!(out.ndjson().iter().all(|m| m["vendor"] == "leadconnector"), "{}", out.stdout);
    assert!(!out.ndjson().is_empty());
}

#[test]
fn since_takes_a_date_as_midnight_utc() {
    // Bird's documented sample: two messages of 2024-11-25.
    let day = run(convo().args(["fetch", "bird", "--sandbox", "--since", "2024-11-25"]));
    day.expect_success();
    assert_eq!(day.ndjson().len(), 2, "{}", day.stdout);
    let after = run(convo().args(["fetch", "bird", "--sandbox", "--since", "2024-11-26"]));
    after.expect_success();
    assert_eq!(after.ndjson().len(), 0, "{}", after.stdout);
}

#[test]
fn a_page_size_of_0_and_a_base_url_beside_the_sandbox_are_refused_clearly() {
    let zero = run(convo().args(["fetch", "bird", "--sandbox", "--page-size", "0"]));
    assert_eq!(zero.code, Some(2));
    assert!(
        zero.stderr.contains("at least 1 message") && !zero.stderr.contains("18446744073709551615"),
        "{}",
        zero.stderr
    );

    let both = run(convo().args(["fetch", "bird", "--sandbox", "--base-url", "http://127.0.0.1:9"]));
    assert_eq!(both.code, Some(2));
    assert!(both.stderr.contains("--base-url") && both.stderr.contains("--sandbox"), "{}", both.stderr);
}

#[test]
fn an_empty_table_still_has_its_header() {
    // Bird's sample is of 2024-11-25: nothing is newer than 2030.
    let out = run(convo().args(["fetch", "bird", "--sandbox", "--format", "table", "--since", "2030-01-01"]));
    out.expect_success();
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(out.stdout.starts_with("CREATED (UTC)"), "{}", out.stdout);
}

#[test]
fn an_octopush_conversation_id_with_a_search_selector_is_refused() {
    let out = run(convo().args([
        "fetch",
        "octopush",
        "--sandbox",
        "--conversation",
        "cid_3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "--phone",
        "+33612345678",
    ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("give one or the other"), "{}", out.stderr);
}

#[test]
fn a_plain_http_base_url_to_another_host_names_no_library_field() {
    let out = run(convo()
        .args(["fetch", "bird", "--workspace", "w", "--conversation", "c", "--base-url", "http://api.example.com"])
        .env("BIRD_ACCESS_KEY", "k-1234"));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("use https") && !out.stderr.contains("allow_insecure_http"), "{}", out.stderr);
}

#[test]
fn raw_fetch_output_normalizes_later_as_the_fetch_would() {
    for vendor in common::VENDORS {
        let raw = run(convo().args(["fetch", vendor, "--sandbox", "--sandbox-messages", "30", "--raw"]));
        raw.expect_success();
        let fetched = run(convo().args(["fetch", vendor, "--sandbox", "--sandbox-messages", "30"]));
        let later = run(convo().args(["normalize", vendor]).write_stdin(raw.stdout.clone()));
        later.expect_success();
        assert_eq!(later.ids(), fetched.ids(), "{vendor}");
        assert_eq!(later.ids().len(), 30, "{vendor}");
    }
}
