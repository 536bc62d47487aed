//! Each fault happens once, on the request it names, as specified; faulty
//! requests are counted.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;
use convo_sandbox::{FaultKind, Replay, Sandbox, SandboxOptions, Vendor, credentials, ids};
use serde_json::json;

fn status(status: u16, retry_after: Option<&str>) -> FaultKind {
    FaultKind::Status { status, retry_after: retry_after.map(str::to_owned) }
}

#[tokio::test]
async fn status_faults_send_the_vendors_error_body_and_retry_after() {
    let sandbox = start(
        MESSAGES,
        vec![
            fault(Vendor::Bird, 2, status(503, Some("7"))),
            fault(Vendor::Infobip, 1, status(429, None)),
            fault(Vendor::Octopush, 1, status(500, None)),
            fault(Vendor::Leadconnector, 1, status(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"))),
        ],
    )
    .await;

    let path = bird_path(ids::bird::GENERATED_CONVERSATION);
    assert_eq!(call(&sandbox, Vendor::Bird, &path, &[]).await.status, 200);
    let answer = call(&sandbox, Vendor::Bird, &path, &[]).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("retry-after"), Some("7"));
    assert_eq!(answer.json(), json!({"code": "ServiceUnavailable", "message": "Service Unavailable"}));
    assert_eq!(call(&sandbox, Vendor::Bird, &path, &[]).await.status, 200, "a fault happens once");
    assert_eq!(sandbox.requests(Vendor::Bird), 3);

    let answer = call(&sandbox, Vendor::Infobip, &infobip_path(ids::infobip::GENERATED_CONVERSATION), &[]).await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.header("retry-after"), None);
    assert_eq!(
        answer.json(),
        json!({"requestError": {"serviceException": {"messageId": "TOO_MANY_REQUESTS", "text": "Too Many Requests"}}})
    );

    let query = [("conversation_id", ids::octopush::GENERATED_CONVERSATION)];
    let answer = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json(), json!({"code": 500, "message": "Internal Server Error"}));

    let answer =
        call(&sandbox, Vendor::Leadconnector, &leadconnector_path(ids::leadconnector::GENERATED_CONVERSATION), &[])
            .await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.header("retry-after"), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    assert_eq!(answer.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(answer.json(), json!({"statusCode": 429, "message": "Too Many Requests", "error": "Too Many Requests"}));
}

#[tokio::test]
async fn a_status_fault_comes_before_the_credentials_are_checked() {
    let sandbox = start(0, vec![fault(Vendor::Bird, 1, status(502, None))]).await;
    let url = format!("{}{}", sandbox.base_url(Vendor::Bird), bird_path(ids::bird::SAMPLE_CONVERSATION));
    assert_eq!(get(&url, &[], &[]).await.status, 502);
    assert_eq!(get(&url, &[], &[]).await.status, 403);
}

#[tokio::test]
async fn a_dropped_connection_gets_no_response() {
    let sandbox = start(0, vec![fault(Vendor::Leadconnector, 1, FaultKind::DropConnection)]).await;
    let url = format!(
        "{}{}",
        sandbox.base_url(Vendor::Leadconnector),
        leadconnector_path(ids::leadconnector::SAMPLE_CONVERSATION)
    );
    let headers = auth(Vendor::Leadconnector);
    let mut request = client().get(&url);
    for (name, value) in &headers {
        request = request.header(*name, value);
    }
    let error = request.send().await.expect_err("the connection closes unanswered");
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(sandbox.requests(Vendor::Leadconnector), 1);
    // The next request is answered.
    assert_eq!(
        call(&sandbox, Vendor::Leadconnector, &leadconnector_path(ids::leadconnector::SAMPLE_CONVERSATION), &[])
            .await
            .status,
        200
    );
    assert_eq!(sandbox.requests(Vendor::Leadconnector), 2);
}

#[tokio::test]
async fn a_truncated_body_announces_its_full_length_and_sends_half() {
    let sandbox = start(MESSAGES, vec![fault(Vendor::Infobip, 1, FaultKind::TruncatedBody)]).await;
    let addr = sandbox.addr();
    let path = format!("/infobip{}?limit=999", infobip_path(ids::infobip::GENERATED_CONVERSATION));
    // A plain socket, to see exactly what arrives before the connection closes.
    let raw = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: App {}\r\n\r\n",
            credentials::INFOBIP_API_KEY
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        raw
    })
    .await
    .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse().unwrap()))
        .expect("a Content-Length");
    assert_eq!(body.len(), length / 2, "half of the announced {length} bytes");

    // Through a client, the next (untouched) response is whole.
    let path = infobip_path(ids::infobip::GENERATED_CONVERSATION);
    let answer = call(&sandbox, Vendor::Infobip, &path, &[("limit", "999")]).await;
    assert_eq!(answer.body.len(), length);
    assert!(length > 100_000, "a body larger than one write: {length}");
    assert_eq!(sandbox.requests(Vendor::Infobip), 2);
}

#[tokio::test]
async fn a_truncated_body_fails_to_read_in_a_client() {
    let sandbox = start(0, vec![fault(Vendor::Octopush, 1, FaultKind::TruncatedBody)]).await;
    let url = format!("{}{OCTOPUSH_PATH}", sandbox.base_url(Vendor::Octopush));
    let response = client()
        .get(&url)
        .query(&[("conversation_id", ids::octopush::SAMPLE_CONVERSATION)])
        .header("api-login", credentials::OCTOPUSH_API_LOGIN)
        .header("api-key", credentials::OCTOPUSH_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body ends early");
}

#[tokio::test]
async fn repeat_cursor_points_back_to_the_previous_page() {
    let sandbox = start(
        MESSAGES,
        vec![
            fault(Vendor::Bird, 2, FaultKind::RepeatCursor),
            fault(Vendor::Leadconnector, 2, FaultKind::RepeatCursor),
            fault(Vendor::Infobip, 2, FaultKind::RepeatCursor),
            fault(Vendor::Octopush, 2, FaultKind::RepeatCursor),
        ],
    )
    .await;

    // Bird: the second page carries the token that fetched it.
    let path = bird_path(ids::bird::GENERATED_CONVERSATION);
    let first = call(&sandbox, Vendor::Bird, &path, &[]).await.json();
    let token = first["nextPageToken"].as_str().unwrap();
    let second = call(&sandbox, Vendor::Bird, &path, &[("pageToken", token)]).await.json();
    assert_eq!(second["nextPageToken"], token);
    assert_eq!(
        second["results"][0]["id"],
        ids::bird::generated_message(MESSAGES - 11).as_str(),
        "the page itself is served"
    );

    // LeadConnector: the second page names the cursor it was asked with.
    let path = leadconnector_path(ids::leadconnector::GENERATED_CONVERSATION);
    let first = call(&sandbox, Vendor::Leadconnector, &path, &[]).await.json();
    let cursor = first["lastMessageId"].as_str().unwrap();
    let second = call(&sandbox, Vendor::Leadconnector, &path, &[("lastMessageId", cursor)]).await.json();
    assert_eq!((&second["lastMessageId"], &second["nextPage"]), (&json!(cursor), &json!(true)));
    assert_eq!(second["messages"].as_array().unwrap().len(), 20);

    // Infobip: page 1 comes back as page 0 again.
    let path = infobip_path(ids::infobip::GENERATED_CONVERSATION);
    let first = call(&sandbox, Vendor::Infobip, &path, &[("page", "0")]).await.json();
    let second = call(&sandbox, Vendor::Infobip, &path, &[("page", "1")]).await.json();
    assert_eq!(second, first);

    // Octopush: page 2 comes back as the full page 1 again.
    let query = |page: &'static str| [("conversation_id", ids::octopush::GENERATED_CONVERSATION), ("page", page)];
    let first = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query("1")).await.json();
    let second = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query("2")).await.json();
    assert_eq!(second.as_array().unwrap().len(), 50);
    assert_eq!(second, first);
}

#[tokio::test]
async fn empty_pages_that_claim_more() {
    let sandbox = start(
        MESSAGES,
        vec![
            fault(Vendor::Leadconnector, 2, FaultKind::EmptyPageWithMore),
            fault(Vendor::Bird, 1, FaultKind::EmptyPageWithMore),
            fault(Vendor::Infobip, 1, FaultKind::EmptyPageWithMore),
            fault(Vendor::Octopush, 1, FaultKind::EmptyPageWithMore),
        ],
    )
    .await;

    let path = leadconnector_path(ids::leadconnector::GENERATED_CONVERSATION);
    let first = call(&sandbox, Vendor::Leadconnector, &path, &[]).await.json();
    let cursor = first["lastMessageId"].as_str().unwrap();
    let empty = call(&sandbox, Vendor::Leadconnector, &path, &[("lastMessageId", cursor)]).await.json();
    assert_eq!(empty, json!({"lastMessageId": cursor, "nextPage": true, "messages": []}));

    // Bird's token leads back to the page that was asked for.
    let path = bird_path(ids::bird::GENERATED_CONVERSATION);
    let empty = call(&sandbox, Vendor::Bird, &path, &[]).await.json();
    assert_eq!(empty["results"], json!([]));
    let token = empty["nextPageToken"].as_str().expect("a token although the page is empty");
    assert!(!token.is_empty());
    let next = call(&sandbox, Vendor::Bird, &path, &[("pageToken", token)]).await.json();
    assert_eq!(next["results"][0]["id"], ids::bird::generated_message(MESSAGES - 1).as_str());

    let path = infobip_path(ids::infobip::GENERATED_CONVERSATION);
    let empty = call(&sandbox, Vendor::Infobip, &path, &[]).await.json();
    assert_eq!(empty["messages"], json!([]));
    assert_eq!(empty["pagination"]["totalItems"], MESSAGES);

    let query = [("conversation_id", ids::octopush::GENERATED_CONVERSATION)];
    let answer = call(&sandbox, Vendor::Octopush, OCTOPUSH_PATH, &query).await;
    assert_eq!(answer.body, b"[]");
}

#[tokio::test]
async fn every_response_is_delayed() {
    let delay = Duration::from_millis(150);
    let sandbox = Sandbox::start(SandboxOptions { delay, ..SandboxOptions::default() }).await.unwrap();
    let started = Instant::now();
    let answer = call(&sandbox, Vendor::Bird, &bird_path(ids::bird::SAMPLE_CONVERSATION), &[]).await;
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_replay_answers_each_request_as_first_answered_across_sandboxes_and_refuses_faults() {
    let replay = Replay::default();
    let options = || SandboxOptions { messages: MESSAGES, replay: Some(replay.clone()), ..SandboxOptions::default() };
    let path = infobip_path(ids::infobip::GENERATED_CONVERSATION);
    let first = Sandbox::start(options()).await.unwrap();
    let made = call(&first, Vendor::Infobip, &path, &[("limit", "7")]).await;
    let unauthorized = get(&format!("{}{path}", first.base_url(Vendor::Infobip)), &[], &[]).await;
    assert_eq!((made.status, unauthorized.status), (200, 401));
    assert_eq!(replay.len(), 2, "each distinct request made once");
    // Another sandbox on another port, another size: the same request is
    // answered as it was, counted as usual; another one is made.
    let second = Sandbox::start(options()).await.unwrap();
    second.set_messages(MESSAGES + 5).unwrap();
    let grown = call(&second, Vendor::Infobip, &path, &[("limit", "7")]).await;
    assert_eq!(replay.len(), 3, "the size is part of the request");
    second.set_messages(MESSAGES).unwrap();
    let again = call(&second, Vendor::Infobip, &path, &[("limit", "7")]).await;
    assert_eq!((again.status, again.body.as_slice()), (made.status, made.body.as_slice()));
    assert_eq!(again.header("content-type"), made.header("content-type"));
    assert_ne!(grown.json()["pagination"]["totalItems"], made.json()["pagination"]["totalItems"]);
    assert_eq!(replay.len(), 3);
    assert_eq!(second.requests(Vendor::Infobip), 2);
    let refused =
        Sandbox::start(SandboxOptions { faults: vec![fault(Vendor::Bird, 1, FaultKind::DropConnection)], ..options() })
            .await;
    assert!(refused.is_err_and(|e| e.to_string().contains("replay")));
}

#[tokio::test]
async fn invalid_options_are_refused_at_start() {
    for faults in [
        vec![fault(Vendor::Bird, 0, FaultKind::DropConnection)],
        vec![fault(Vendor::Bird, 1, status(200, None))],
        vec![fault(Vendor::Bird, 1, status(503, Some("7\n")))],
    ] {
        let error = Sandbox::start(SandboxOptions { faults: faults.clone(), ..SandboxOptions::default() })
            .await
            .expect_err("refused");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{faults:?}");
    }
}

#[tokio::test]
async fn shutdown_frees_the_port() {
    let sandbox = start(0, vec![]).await;
    let addr = sandbox.addr();
    sandbox.shutdown().await;
    let again = Sandbox::start(SandboxOptions { port: addr.port(), ..SandboxOptions::default() }).await.unwrap();
    assert_eq!(again.addr(), addr);
}
