//! Each vendor pages through its generated conversation its own way, over
//! real HTTP, and gets every message exactly once, in order.

mod common;

use common::*;
use convo_sandbox::{Vendor, ids};

#[tokio::test]
async fn infobip_pages_by_number_from_zero() {
    let sandbox = start(MESSAGES, vec![]).await;
    let path = infobip_path(ids::infobip::GENERATED_CONVERSATION);
    let mut seen = Vec::new();
    for page in 0.. {
        let answer = call(&sandbox, Vendor::Infobip, &path, &[("page", &page.to_string()), ("limit", "999")]).await;
        assert_eq!(answer.status, 200);
        let body = answer.json();
        let pagination = &body["pagination"];
        assert_eq!(pagination["totalItems"], MESSAGES);
        assert_eq!(pagination["page"], page);
        assert_eq!(pagination["limit"], 999);
        assert_eq!(pagination["orderBy"], "id:ASC");
        let messages = body["messages"].as_array().unwrap();
        for message in messages {
            assert_eq!(message["conversationId"], ids::infobip::GENERATED_CONVERSATION);
        }
        seen.extend(common::ids(&body["messages"], "id"));
        if page * 999 + messages.len() >= MESSAGES {
            break;
        }
    }
    let expected: Vec<String> = (0..MESSAGES).map(ids::infobip::generated_message).collect();
    assert_eq!(seen, expected);
    assert_eq!(sandbox.requests(Vendor::Infobip), 3);
}

#[tokio::test]
async fn infobip_orders_filters_and_defaults() {
    let sandbox = start(MESSAGES, vec![]).await;
    let path = infobip_path(ids::infobip::GENERATED_CONVERSATION);

    let body = call(&sandbox, Vendor::Infobip, &path, &[]).await.json();
    assert_eq!(body["messages"].as_array().unwrap().len(), 10, "the default limit is 10");
    assert_eq!(body["pagination"]["page"], 0);

    let body = call(&sandbox, Vendor::Infobip, &path, &[("orderBy", "createdAt:desc"), ("limit", "3")]).await.json();
    let newest: Vec<String> = (MESSAGES - 3..MESSAGES).rev().map(ids::infobip::generated_message).collect();
    assert_eq!(common::ids(&body["messages"], "id"), newest);
    assert_eq!(body["pagination"]["orderBy"], "createdAt:DESC");

    // Filters: every message returned matches, and the total counts them all.
    let body =
        call(&sandbox, Vendor::Infobip, &path, &[("channel", "EMAIL"), ("direction", "OUTBOUND"), ("limit", "999")])
            .await
            .json();
    let messages = body["messages"].as_array().unwrap();
    assert!(!messages.is_empty());
    assert!(
        messages.iter().all(|m| m["channel"] == "EMAIL" && m["direction"] == "OUTBOUND" && m["contentType"] == "EMAIL")
    );
    assert_eq!(body["pagination"]["totalItems"], messages.len());

    let wanted = [ids::infobip::generated_message(7), ids::infobip::generated_message(2_000)];
    let query = [("messageIds", wanted[0].as_str()), ("messageIds", wanted[1].as_str()), ("messageIds", "unknown")];
    let body = call(&sandbox, Vendor::Infobip, &path, &query).await.json();
    assert_eq!(common::ids(&body["messages"], "id"), wanted);

    // The generated messages are one second apart from 2024-01-02T08:00:00Z.
    let query = [("createdAfter", "2024-01-02T08:00:04.000+0000"), ("createdBefore", "2024-01-02T08:00:08Z")];
    let body = call(&sandbox, Vendor::Infobip, &path, &query).await.json();
    let expected: Vec<String> = (5..8).map(ids::infobip::generated_message).collect();
    assert_eq!(common::ids(&body["messages"], "id"), expected);

    // The content types vary with the channel.
    let body = call(&sandbox, Vendor::Infobip, &path, &[("limit", "14")]).await.json();
    let types: Vec<&str> =
        body["messages"].as_array().unwrap().iter().map(|m| m["contentType"].as_str().unwrap()).collect();
    for wanted in ["TEXT", "IMAGE", "DOCUMENT", "LOCATION", "EMAIL", "VIDEO"] {
        assert!(types.contains(&wanted), "{wanted} in {types:?}");
    }
}

#[tokio::test]
async fn octopush_pages_by_number_from_one_until_a_short_page() {
    let sandbox = start(MESSAGES, vec![]).await;
    let mut seen = Vec::new();
    for page in 1.. {
        let query = [
            ("conversation_id", ids::octopush::GENERATED_CONVERSATION),
            ("page", &page.to_string()),
            ("per_page", "100"),
        ];
        let answer = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query).await;
        assert_eq!(answer.status, 200);
        let body = answer.json();
        let items = body.as_array().expect("a bare array");
        for item in items {
            assert!(item.get("created_at").is_none() && item.get("createdAt").is_none(), "no timestamps: {item}");
        }
        seen.extend(common::ids(&body, "message_id"));
        if items.len() < 100 {
            break;
        }
    }
    let expected: Vec<String> = (0..MESSAGES).map(ids::octopush::generated_message).collect();
    assert_eq!(seen, expected);
    assert_eq!(sandbox.requests(Vendor::Octopush), 24);
}

#[tokio::test]
async fn octopush_selects_the_conversation_by_any_identifier_and_casts_parameters() {
    let sandbox = start(MESSAGES, vec![]).await;
    let first = ids::octopush::generated_message(0);
    for selector in [
        ("phone_number", "33612345678"),
        ("email", ids::octopush::GENERATED_EMAIL),
        ("facebook_id", ids::octopush::GENERATED_FACEBOOK_ID),
        ("contact", ids::octopush::GENERATED_PHONE_NUMBER),
        ("contact", ids::octopush::GENERATED_CONVERSATION),
    ] {
        let body = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &[selector]).await.json();
        assert_eq!(body.as_array().unwrap().len(), 50, "{selector:?}: the default per_page is 50");
        assert_eq!(body[0]["message_id"], first.as_str(), "{selector:?}");
    }
    // Nothing selected, or nothing matching: an empty array, not an error.
    for query in [vec![], vec![("conversation_id", "cid_unknown")], vec![("phone_number", "+1555")]] {
        let answer = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query).await;
        assert_eq!((answer.status, answer.body.as_slice()), (200, b"[]".as_slice()), "{query:?}");
    }
    // Unreadable numbers fall back to the defaults.
    let query = [("conversation_id", ids::octopush::GENERATED_CONVERSATION), ("page", "first"), ("per_page", "2.0")];
    let body = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query).await.json();
    assert_eq!(common::ids(&body, "message_id"), vec![first, ids::octopush::generated_message(1)]);
}

async fn walk_leadconnector(nested: bool) {
    let sandbox = convo_sandbox::Sandbox::start(convo_sandbox::SandboxOptions {
        messages: MESSAGES,
        leadconnector_nested: nested,
        ..Default::default()
    })
    .await
    .unwrap();
    let path = leadconnector_path(ids::leadconnector::GENERATED_CONVERSATION);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "100".to_owned())];
        if let Some(cursor) = &cursor {
            query.push(("lastMessageId", cursor.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = call(&sandbox, Vendor::Leadconnector, &path, &query).await;
        assert_eq!(answer.status, 200);
        let body = answer.json();
        let page = if nested {
            assert!(body["traceId"].is_string());
            &body["messages"]
        } else {
            &body
        };
        let ids = common::ids(&page["messages"], "id");
        assert_eq!(page["lastMessageId"], ids.last().unwrap().as_str());
        seen.extend(ids);
        if page["nextPage"] == false {
            break;
        }
        assert_eq!(page["nextPage"], true);
        cursor = Some(page["lastMessageId"].as_str().unwrap().to_owned());
    }
    let newest_first: Vec<String> = (0..MESSAGES).rev().map(ids::leadconnector::generated_message).collect();
    assert_eq!(seen, newest_first);
    assert_eq!(sandbox.requests(Vendor::Leadconnector), 24);
}

#[tokio::test]
async fn leadconnector_pages_newest_first_by_last_message_id() {
    walk_leadconnector(false).await;
}

#[tokio::test]
async fn leadconnector_serves_the_live_nested_envelope_when_asked() {
    walk_leadconnector(true).await;
}

#[tokio::test]
async fn leadconnector_filters_by_type_and_sends_rate_limit_headers() {
    let sandbox = start(MESSAGES, vec![]).await;
    let path = leadconnector_path(ids::leadconnector::GENERATED_CONVERSATION);

    let answer = call(&sandbox, Vendor::Leadconnector, &path, &[]).await;
    assert_eq!(answer.json()["messages"].as_array().unwrap().len(), 20, "the default limit is 20");
    assert_eq!(answer.header("x-ratelimit-limit-daily"), Some("200000"));
    assert_eq!(answer.header("x-ratelimit-daily-remaining"), Some("199999"));
    assert_eq!(answer.header("x-ratelimit-interval-milliseconds"), Some("10000"));
    assert_eq!(answer.header("x-ratelimit-max"), Some("100"));
    assert_eq!(answer.header("x-ratelimit-remaining"), Some("99"));

    let query = [("type", "TYPE_CALL,TYPE_INTERNAL_COMMENTS"), ("limit", "100")];
    let body = call(&sandbox, Vendor::Leadconnector, &path, &query).await.json();
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 100);
    assert!(messages.iter().all(|m| m["messageType"] == "TYPE_CALL" || m["messageType"] == "TYPE_INTERNAL_COMMENT"));
    // Calls carry `meta.call`; a missed one has a null duration.
    let calls: Vec<_> = messages.iter().filter(|m| m["messageType"] == "TYPE_CALL").collect();
    assert!(calls.iter().all(|m| m["meta"]["call"]["status"].is_string()));
    assert!(calls.iter().any(|m| m["meta"]["call"]["duration"].is_null()));
    assert!(calls.iter().any(|m| m["meta"]["call"]["duration"].is_u64() && m["meta"]["callDuration"].is_string()));
    assert!(calls.iter().any(|m| m["meta"]["callDuration"].is_u64()), "callDuration is also sent as a number");

    // Activity rows and an inbound e-mail without a body are mixed in.
    let body = call(&sandbox, Vendor::Leadconnector, &path, &[("limit", "100")]).await.json();
    let messages = body["messages"].as_array().unwrap();
    assert!(messages.iter().any(|m| m["messageType"].as_str().unwrap().starts_with("TYPE_ACTIVITY_")));
    assert!(messages.iter().any(|m| m["messageType"] == "TYPE_EMAIL"
        && m.get("body").is_none()
        && m["meta"]["email"]["subject"].is_string()));
}

async fn walk_bird(reverse: bool) {
    let sandbox = start(MESSAGES, vec![]).await;
    let path = bird_path(ids::bird::GENERATED_CONVERSATION);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![("limit", "100".to_owned()), ("reverse", reverse.to_string())];
        if let Some(token) = &token {
            query.push(("pageToken", token.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = call(&sandbox, Vendor::Bird, &path, &query).await;
        assert_eq!(answer.status, 200);
        let body = answer.json();
        assert_eq!(body["total"], MESSAGES);
        assert_eq!(body["totalType"], "exact");
        seen.extend(common::ids(&body["results"], "id"));
        match body.get("nextPageToken").and_then(|t| t.as_str()).filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<String> = (0..MESSAGES).map(ids::bird::generated_message).collect();
    if !reverse {
        expected.reverse();
    }
    assert_eq!(seen, expected);
    assert_eq!(sandbox.requests(Vendor::Bird), 24);
}

#[tokio::test]
async fn bird_pages_newest_first_by_page_token() {
    walk_bird(false).await;
}

#[tokio::test]
async fn bird_pages_oldest_first_in_reverse() {
    walk_bird(true).await;
}

#[tokio::test]
async fn bird_tokens_look_like_birds_and_date_from_filters() {
    let sandbox = start(MESSAGES, vec![]).await;
    let path = bird_path(ids::bird::GENERATED_CONVERSATION);
    let body = call(&sandbox, Vendor::Bird, &path, &[]).await.json();
    assert_eq!(body["results"].as_array().unwrap().len(), 10, "the default limit is 10");
    let token = body["nextPageToken"].as_str().unwrap();
    use base64::Engine;
    let pair: (String, String) =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(token).unwrap()).unwrap();
    let last = &body["results"][9];
    assert_eq!(pair.1, last["id"].as_str().unwrap());
    // The generated messages are one second apart from 2024-11-26T08:00:00.125Z.
    assert_eq!(last["createdAt"], "2024-11-26T08:38:55.125Z");
    assert_eq!(pair.0, "2024-11-26T08:38:55.125000000Z");

    let body =
        call(&sandbox, Vendor::Bird, &path, &[("dateFrom", "2024-11-26T08:38:55.125Z"), ("limit", "100")]).await.json();
    assert_eq!(body["total"], 10);
    assert_eq!(body["results"].as_array().unwrap().len(), 10);
    assert!(body.get("nextPageToken").is_none());

    // Bodies of several types.
    let types: Vec<String> =
        body["results"].as_array().unwrap().iter().map(|m| m["body"]["type"].as_str().unwrap().to_owned()).collect();
    for wanted in ["text", "html", "image", "file"] {
        assert!(types.iter().any(|t| t == wanted), "{wanted} in {types:?}");
    }
}

#[tokio::test]
async fn a_million_messages_are_generated_on_demand() {
    let sandbox = start(1_000_000, vec![]).await;
    let path = infobip_path(ids::infobip::GENERATED_CONVERSATION);
    let body = call(&sandbox, Vendor::Infobip, &path, &[("page", "1001"), ("limit", "999")]).await.json();
    assert_eq!(body["pagination"]["totalItems"], 1_000_000);
    assert_eq!(body["messages"][0]["id"], ids::infobip::generated_message(999_999).as_str());
    let path = leadconnector_path(ids::leadconnector::GENERATED_CONVERSATION);
    let body = call(&sandbox, Vendor::Leadconnector, &path, &[("limit", "1")]).await.json();
    assert_eq!(body["messages"][0]["id"], ids::leadconnector::generated_message(999_999).as_str());
}

#[tokio::test]
async fn generated_conversations_exist_only_when_asked_for() {
    let sandbox = start(0, vec![]).await;
    let answer = call(&sandbox, Vendor::Infobip, &infobip_path(ids::infobip::GENERATED_CONVERSATION), &[]).await;
    assert_eq!(answer.status, 404);
    let answer = call(&sandbox, Vendor::Bird, &bird_path(ids::bird::GENERATED_CONVERSATION), &[]).await;
    assert_eq!(answer.status, 404);
    let query = [("conversation_id", ids::octopush::GENERATED_CONVERSATION)];
    let answer = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query).await;
    assert_eq!(answer.body, b"[]");
}
