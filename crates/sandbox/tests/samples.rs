//! The documented samples, served under their own conversation ids, byte
//! for byte as the spec examples write them.

mod common;

use common::*;
use convo_sandbox::{SandboxVendor, ids};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The spec's 200 example, or the part of it under `keys`, as compact JSON
/// in the spec's key order.
fn documented(spec: &str, keys: &[&str]) -> String {
    let mut example: serde_norway::Value =
        serde_norway::from_slice(&convo_testkit::sample(spec, "200")).expect("the sample is JSON");
    for key in keys {
        example = example[*key].clone();
    }
    serde_json::to_string(&example).unwrap()
}

#[test]
fn the_sample_ids_are_the_specs_own() {
    let first = |spec: &str, keys: &[&str]| {
        let messages: serde_json::Value = serde_json::from_str(&documented(spec, keys)).unwrap();
        messages[0]["conversationId"].as_str().unwrap().to_owned()
    };
    assert_eq!(first("infobip.yaml", &["messages"]), ids::infobip::SAMPLE_CONVERSATION);
    assert_eq!(first("leadconnector.yaml", &["messages"]), ids::leadconnector::SAMPLE_CONVERSATION);
    assert_eq!(first("bird.yaml", &["results"]), ids::bird::SAMPLE_CONVERSATION);
}

#[tokio::test]
async fn infobip_serves_its_sample_byte_for_byte() {
    let sandbox = start(0, vec![]).await;
    let answer = call(&sandbox, SandboxVendor::Infobip, &infobip_path(ids::infobip::SAMPLE_CONVERSATION), &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(String::from_utf8(answer.body).unwrap(), documented("infobip.yaml", &[]));
}

#[tokio::test]
async fn octopush_serves_its_sample_byte_for_byte() {
    let sandbox = start(0, vec![]).await;
    let query = [("conversation_id", ids::octopush::SAMPLE_CONVERSATION)];
    let answer = call(&sandbox, SandboxVendor::Octopush, OCTOPUSH_PATH, &query).await;
    assert_eq!(answer.status, 200);
    assert_eq!(String::from_utf8(answer.body).unwrap(), documented("octopush.yaml", &[]));
}

#[tokio::test]
async fn leadconnector_serves_its_sample_messages_byte_for_byte() {
    #[derive(Deserialize)]
    struct Page<'a> {
        #[serde(rename = "lastMessageId")]
        last_message_id: String,
        #[serde(rename = "nextPage")]
        next_page: bool,
        #[serde(borrow)]
        messages: &'a RawValue,
    }
    let sandbox = start(0, vec![]).await;
    let path = leadconnector_path(ids::leadconnector::SAMPLE_CONVERSATION);
    let answer = call(&sandbox, SandboxVendor::Leadconnector, &path, &[]).await;
    assert_eq!(answer.status, 200);
    let page: Page<'_> = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(page.messages.get(), documented("leadconnector.yaml", &["messages"]));
    // The envelope is the sandbox's own paging of the one message: the
    // example's `nextPage: true` and foreign `lastMessageId` would point to
    // a page that does not exist.
    assert_eq!(page.last_message_id, "ve9EPM428h8vShlRW1KT");
    assert!(!page.next_page);
}

#[tokio::test]
async fn bird_serves_its_sample_results_byte_for_byte_and_pages_them() {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Page<'a> {
        #[serde(borrow)]
        results: &'a RawValue,
        next_page_token: Option<String>,
        total: u64,
        total_type: String,
    }
    let sandbox = start(0, vec![]).await;
    let path = bird_path(ids::bird::SAMPLE_CONVERSATION);
    let answer = call(&sandbox, SandboxVendor::Bird, &path, &[]).await;
    assert_eq!(answer.status, 200);
    let page: Page<'_> = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(page.results.get(), documented("bird.yaml", &["results"]));
    assert_eq!((page.next_page_token, page.total, page.total_type.as_str()), (None, 2, "exact"));

    // One message a page: the same two, newest first, then the end.
    let first = call(&sandbox, SandboxVendor::Bird, &path, &[("limit", "1")]).await.json();
    let token = first["nextPageToken"].as_str().unwrap().to_owned();
    let second = call(&sandbox, SandboxVendor::Bird, &path, &[("limit", "1"), ("pageToken", &token)]).await.json();
    assert!(second.get("nextPageToken").is_none());
    let documented: serde_json::Value = serde_json::from_str(&documented("bird.yaml", &["results"])).unwrap();
    assert_eq!([&first["results"][0], &second["results"][0]], [&documented[0], &documented[1]]);
}

#[tokio::test]
async fn infobip_pages_its_sample_too() {
    let sandbox = start(0, vec![]).await;
    let path = infobip_path(ids::infobip::SAMPLE_CONVERSATION);
    let body = call(&sandbox, SandboxVendor::Infobip, &path, &[("page", "1"), ("limit", "1")]).await.json();
    assert_eq!(body["messages"][0]["id"], "0224bdbc-8693-4ce5-8eb1-c8046d44d09f");
    assert_eq!(body["pagination"]["totalItems"], 2);
    let body = call(&sandbox, SandboxVendor::Infobip, &path, &[("channel", "VIBER")]).await.json();
    assert_eq!(common::ids(&body["messages"], "id"), ["0224bdbc-8693-4ce5-8eb1-c8046d44d09f"]);
    assert_eq!(body["pagination"]["totalItems"], 1);
}
