//! The documented samples, served under their own conversation ids, byte
//! for byte as the spec examples write them.

mod common;

use common::*;
use convo_sandbox::{Vendor, ids};
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
    let answer = call(&sandbox, Vendor::Infobip, &infobip_path(ids::infobip::SAMPLE_CONVERSATION), &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(String::from_utf8(answer.body).unwrap(), documented("infobip.yaml", &[]));
}

#[tokio::test]
async fn octopush_serves_its_sample_byte_for_byte() {
    let sandbox = start(0, vec![]).await;
    let query = [("conversation_id", ids::octopush::SAMPLE_CONVERSATION)];
    let answer = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query).await;
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
    let answer = call(&sandbox, Vendor::Leadconnector, &path, &[]).await;
    assert_eq!(answer.status, 200);
    let page: Page<'_> = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(page.messages.get(), documented("leadconnector.yaml", &["messages"]));
    // The envelope is the sandbox's own paging of the one message: the
    // example's `nextPage: true` and foreign `lastMessageId` would point to
    // a page that does not exist.
    let messages: serde_json::Value = serde_json::from_str(page.messages.get()).unwrap();
    let last = messages.as_array().unwrap().last().unwrap();
    assert_eq!(page.last_message_id, last["id"].as_str().unwrap());
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
    let answer = call(&sandbox, Vendor::Bird, &path, &[]).await;
    assert_eq!(answer.status, 200);
    let page: Page<'_> = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(page.results.get(), documented("bird.yaml", &["results"]));
    assert_eq!((page.next_page_token, page.total, page.total_type.as_str()), (None, 2, "exact"));

    // One message a page: the same two, newest first, then the end.
    let first = call(&sandbox, Vendor::Bird, &path, &[("limit", "1")]).await.json();
    let token = first["nextPageToken"].as_str().unwrap().to_owned();
    let second = call(&sandbox, Vendor::Bird, &path, &[("limit", "1"), ("pageToken", &token)]).await.json();
    assert!(second.get("nextPageToken").is_none());
    let documented: serde_json::Value = serde_json::from_str(&documented("bird.yaml", &["results"])).unwrap();
    assert_eq!([&first["results"][0], &second["results"][0]], [&documented[0], &documented[1]]);
}

#[tokio::test]
async fn infobip_pages_its_sample_too() {
    let sandbox = start(0, vec![]).await;
    let path = infobip_path(ids::infobip::SAMPLE_CONVERSATION);
    let documented: serde_json::Value = serde_json::from_str(&documented("infobip.yaml", &["messages"])).unwrap();
    let documented = documented.as_array().unwrap();
    let body = call(&sandbox, Vendor::Infobip, &path, &[("page", "1"), ("limit", "1")]).await.json();
    assert_eq!(body["messages"], serde_json::json!([documented[1]]));
    assert_eq!(body["pagination"]["totalItems"], documented.len());
    // A filter on the second message's channel.
    let channel = documented[1]["channel"].as_str().unwrap();
    let body = call(&sandbox, Vendor::Infobip, &path, &[("channel", channel)]).await.json();
    let expected: Vec<&serde_json::Value> = documented.iter().filter(|m| m["channel"] == channel).collect();
    assert_eq!(body["messages"], serde_json::json!(expected));
    assert_eq!(body["pagination"]["totalItems"], expected.len());
}
