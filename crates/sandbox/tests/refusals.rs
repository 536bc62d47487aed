//! Wrong credentials and invalid parameters get each vendor's own status
//! and error body.

mod common;

use common::*;
use convo_sandbox::{Vendor, credentials, ids};
use serde_json::json;

#[tokio::test]
async fn infobip_refuses_like_infobip() {
    let sandbox = start(MESSAGES, vec![]).await;
    let url = format!("{}{}", sandbox.base_url(Vendor::Infobip), infobip_path(ids::infobip::GENERATED_CONVERSATION));
    let unauthorized =
        json!({"requestError": {"serviceException": {"messageId": "UNAUTHORIZED", "text": "Invalid login details"}}});
    for headers in
        [vec![], vec![("authorization", "App wrong-key")], vec![("authorization", "Basic c2FuZGJveDpzYW5kYm94")]]
    {
        let answer = get(&url, &headers, &[]).await;
        assert_eq!((answer.status, answer.json()), (401, unauthorized.clone()), "{headers:?}");
    }
    // The scheme is not case-sensitive.
    let key = format!("app {}", credentials::INFOBIP_API_KEY);
    assert_eq!(get(&url, &[("authorization", &key)], &[]).await.status, 200);

    let answer =
        call(&sandbox, Vendor::Infobip, &infobip_path(ids::infobip::GENERATED_CONVERSATION), &[("limit", "1000")])
            .await;
    assert_eq!(answer.status, 400);
    let body = answer.json();
    assert_eq!(body["requestError"]["serviceException"]["messageId"], "BAD_REQUEST");
    assert_eq!(
        body["requestError"]["serviceException"]["text"],
        "Bad request: limit must be less than or equal to 999"
    );
    for query in [("page", "-1"), ("orderBy", "size:asc"), ("channel", "PIGEON"), ("createdAfter", "yesterday")] {
        let answer =
            call(&sandbox, Vendor::Infobip, &infobip_path(ids::infobip::GENERATED_CONVERSATION), &[query]).await;
        assert_eq!(answer.status, 400, "{query:?}");
        let text = answer.json()["requestError"]["serviceException"]["text"].as_str().unwrap_or_default().to_owned();
        assert!(text.starts_with(&format!("Bad request: {}", query.0)), "{query:?}: {text}");
    }

    let answer = call(&sandbox, Vendor::Infobip, &infobip_path("no-such-conversation"), &[]).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["requestError"]["serviceException"]["messageId"], "NOT_FOUND");
}

#[tokio::test]
async fn octopush_refuses_without_both_headers() {
    let sandbox = start(0, vec![]).await;
    let url = format!("{}{OCTOPUSH_PATH}", sandbox.base_url(Vendor::Octopush));
    assert!(url.ends_with("/octopush/v1/public/conversations/messages/list"), "{url}");
    let login = ("api-login", credentials::OCTOPUSH_API_LOGIN);
    let key = ("api-key", credentials::OCTOPUSH_API_KEY);
    for headers in [vec![], vec![login], vec![key], vec![login, ("api-key", "wrong")]] {
        let answer = get(&url, &headers, &[("conversation_id", ids::octopush::SAMPLE_CONVERSATION)]).await;
        assert_eq!(answer.status, 401, "{headers:?}");
        let body = answer.json();
        assert_eq!(body["code"], 401);
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn leadconnector_refuses_bad_tokens_versions_and_parameters() {
    let sandbox = start(MESSAGES, vec![]).await;
    let url = format!(
        "{}{}",
        sandbox.base_url(Vendor::Leadconnector),
        leadconnector_path(ids::leadconnector::GENERATED_CONVERSATION)
    );
    let bearer = format!("Bearer {}", credentials::LEADCONNECTOR_TOKEN);

    let unauthorized =
        json!({"statusCode": 401, "message": "Invalid token: access token is invalid", "error": "Unauthorized"});
    for headers in [vec![("version", "2021-07-28")], vec![("authorization", "Bearer wrong"), ("version", "2021-07-28")]]
    {
        let answer = get(&url, &headers, &[]).await;
        assert_eq!((answer.status, answer.json()), (401, unauthorized.clone()), "{headers:?}");
        assert!(answer.header("x-ratelimit-remaining").is_some());
    }

    for version in [None, Some("2020-01-01")] {
        let mut headers = vec![("authorization", bearer.as_str())];
        headers.extend(version.map(|v| ("version", v)));
        let answer = get(&url, &headers, &[]).await;
        assert_eq!(answer.status, 400, "{version:?}");
        let body = answer.json();
        assert_eq!((body["statusCode"].as_u64(), body["error"].as_str()), (Some(400), Some("Bad Request")));
        assert!(body["message"].as_str().unwrap().contains("Version"), "{body}");
    }
    for version in credentials::LEADCONNECTOR_VERSIONS {
        assert_eq!(get(&url, &[("authorization", &bearer), ("version", version)], &[]).await.status, 200, "{version}");
    }

    for query in [("limit", "101"), ("limit", "0"), ("type", "TYPE_SMS,TYPE_PIGEON")] {
        let answer = call(
            &sandbox,
            Vendor::Leadconnector,
            &leadconnector_path(ids::leadconnector::GENERATED_CONVERSATION),
            &[query],
        )
        .await;
        assert_eq!(answer.status, 422, "{query:?}");
        let body = answer.json();
        assert_eq!(body["statusCode"], 422);
        assert_eq!(body["error"], "Unprocessable Entity");
        assert!(body["message"].is_array(), "422 lists its messages: {body}");
    }
}

#[tokio::test]
async fn bird_refuses_like_bird() {
    let sandbox = start(MESSAGES, vec![]).await;
    let url = format!("{}{}", sandbox.base_url(Vendor::Bird), bird_path(ids::bird::GENERATED_CONVERSATION));
    let forbidden = json!({"code": "Forbidden", "message": "User has no access to the requested resource"});
    for headers in
        [vec![], vec![("authorization", "AccessKey wrong")], vec![("authorization", "Bearer sandbox-bird-access-key")]]
    {
        let answer = get(&url, &headers, &[]).await;
        assert_eq!((answer.status, answer.json()), (403, forbidden.clone()), "{headers:?}");
    }
    // Another workspace is not the key's.
    let other = format!(
        "{}/workspaces/b4e02c85-c6d2-4b15-8885-e09671799c61/conversations/{}/messages",
        sandbox.base_url(Vendor::Bird),
        ids::bird::GENERATED_CONVERSATION
    );
    let key = format!("AccessKey {}", credentials::BIRD_ACCESS_KEY);
    assert_eq!(get(&other, &[("authorization", &key)], &[]).await.status, 403);

    for query in [
        ("limit", "0"),
        ("limit", "101"),
        ("pageToken", "bm90IGEgdG9rZW4="),
        ("reverse", "maybe"),
        ("dateFrom", "soon"),
    ] {
        let answer = get(&url, &[("authorization", &key)], &[query]).await;
        assert_eq!(answer.status, 422, "{query:?}");
        let body = answer.json();
        assert_eq!(body["code"], "InvalidPayload");
        assert!(body["message"].is_string());
        assert!(body["details"][query.0].is_array(), "{body}");
    }

    let answer = call(&sandbox, Vendor::Bird, &bird_path("00000000-0000-4000-8000-000000000000"), &[]).await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.json(),
        json!({"code": "NotFound", "message": "The resource specified in the URL was not found"})
    );
}

#[tokio::test]
async fn unknown_paths_are_not_counted() {
    let sandbox = start(0, vec![]).await;
    let answer = get(&format!("http://{}/elsewhere", sandbox.addr()), &[], &[]).await;
    assert_eq!(answer.status, 404);
    for vendor in Vendor::ALL {
        assert_eq!(sandbox.requests(vendor), 0);
    }
}
