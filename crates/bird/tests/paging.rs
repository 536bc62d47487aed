//! Bird's paging stream against a local server that pages a generated
//! conversation by `pageToken`, the way Bird does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use convo_bird::{Client, Error, MessagesQuery, PagingOptions, Position, RetryPolicy, SecretString};
use convo_testkit::wiremock::{Mock, Request, Respond, ResponseTemplate, matchers::any};
use futures::TryStreamExt;

/// Serves `total` messages, newest first, `limit` a page; the token of the
/// next page is the index of its first message. (Faults: the fault table of
/// `convo-normalize`'s `tests/faults.rs`, against the sandbox.)
struct Conversation {
    total: usize,
    requests: Arc<AtomicUsize>,
}

fn message(i: usize) -> serde_json::Value {
    serde_json::json!({
        "id": format!("m{i:05}"), "conversationId": "c", "sender": {"id": "s", "type": if i.is_multiple_of(2) { "contact" } else { "user" }},
        "status": "delivered", "body": {"type": "text", "text": {"text": format!("message {i}")}},
        "createdAt": format!("2024-11-15T13:34:{:02}.{:09}Z", i % 60, i),
    })
}

impl Respond for Conversation {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let query: std::collections::HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let start: usize = query.get("pageToken").map(|t| t.trim_start_matches("tok").parse().unwrap()).unwrap_or(0);
        let limit: usize = query.get("limit").map(|l| l.parse().unwrap()).unwrap_or(10);
        let end = (start + limit).min(self.total);
        let next = (end < self.total).then(|| format!("tok{end}"));
        let results: Vec<_> = (start..end).map(message).collect();
        let mut body = serde_json::json!({"results": results, "total": self.total, "totalType": "exact"});
        if let Some(next) = next {
            body["nextPageToken"] = next.into();
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

async fn conversation(total: usize) -> (convo_testkit::wiremock::MockServer, Arc<AtomicUsize>) {
    let server = convo_testkit::server().await;
    let requests = Arc::new(AtomicUsize::new(0));
    Mock::given(any()).respond_with(Conversation { total, requests: requests.clone() }).mount(&server).await;
    (server, requests)
}

fn client(server: &convo_testkit::wiremock::MockServer) -> Client {
    Client::new(&server.uri(), convo_bird::Credentials::new(SecretString::from("k"))).unwrap()
}

fn fast() -> PagingOptions {
    PagingOptions {
        retry: RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
        ..PagingOptions::default()
    }
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("m{i:05}")).collect()
}

#[tokio::test]
async fn every_message_once_in_order_with_the_fewest_requests() {
    let (server, requests) = conversation(2_345).await;
    let messages: Vec<_> = client(&server).messages(MessagesQuery::new("w", "c"), fast()).try_collect().await.unwrap();
    assert_eq!(messages.iter().map(|m| m.value().unwrap().id.clone()).collect::<Vec<_>>(), ids(0..2_345));
    assert_eq!(requests.load(Ordering::SeqCst), 24, "ceil(2345 / 100) pages at Bird's largest page size");
    let received = server.received_requests().await.unwrap();
    assert!(received.iter().all(|r| r.url.query_pairs().any(|(k, v)| k == "limit" && v == "100")));
    assert_eq!(received[1].url.query_pairs().find(|(k, _)| k == "pageToken").unwrap().1, "tok100");
}

#[tokio::test]
async fn an_empty_conversation_is_one_request() {
    let (server, requests) = conversation(0).await;
    let pages: Vec<_> = client(&server).pages(MessagesQuery::new("w", "c"), fast()).try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].items.is_empty() && pages[0].next.is_none());
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn pages_report_where_to_resume_and_resuming_continues_there() {
    let (server, _) = conversation(250).await;
    let pages: Vec<_> = client(&server).pages(MessagesQuery::new("w", "c"), fast()).try_collect().await.unwrap();
    assert_eq!(
        pages.iter().map(|p| p.next.clone()).collect::<Vec<_>>(),
        vec![Some(Position::Cursor("tok100".into())), Some(Position::Cursor("tok200".into())), None]
    );
    let resumed = PagingOptions { resume: pages[0].next.clone(), ..fast() };
    let rest: Vec<_> = client(&server).messages(MessagesQuery::new("w", "c"), resumed).try_collect().await.unwrap();
    assert_eq!(rest.iter().map(|m| m.value().unwrap().id.clone()).collect::<Vec<_>>(), ids(100..250));
}

#[tokio::test]
async fn filters_and_page_size_go_out_on_every_request() {
    let (server, _) = conversation(25).await;
    let query = MessagesQuery {
        reverse: Some(true),
        date_from: Some("2024-11-15T00:00:00Z".parse().unwrap()),
        ..MessagesQuery::new("w/1", "c 2")
    };
    let options = PagingOptions { page_size: Some(10), ..fast() };
    let n = client(&server).messages(query, options).try_collect::<Vec<_>>().await.unwrap().len();
    assert_eq!(n, 25);
    for request in server.received_requests().await.unwrap() {
        assert_eq!(request.url.path(), "/workspaces/w%2F1/conversations/c%202/messages");
        let query = request.url.query().unwrap();
        assert!(
            query.contains("limit=10")
                && query.contains("reverse=true")
                && query.contains("dateFrom=2024-11-15T00%3A00%3A00Z"),
            "{query}"
        );
    }
}

#[tokio::test]
async fn retries_are_bounded() {
    let (server, requests) = conversation(50).await;
    server.reset().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let options = PagingOptions {
        retry: RetryPolicy { max_attempts: 3, initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
        ..fast()
    };
    let err =
        client(&server).messages(MessagesQuery::new("w", "c"), options).try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(err, Error::Request { attempts: 3, .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    let _ = requests;
}

#[tokio::test]
async fn an_invalid_page_size_is_refused_before_sending() {
    let (server, requests) = conversation(10).await;
    for size in [0, 101] {
        let options = PagingOptions { page_size: Some(size), ..fast() };
        let err =
            client(&server).messages(MessagesQuery::new("w", "c"), options).try_collect::<Vec<_>>().await.unwrap_err();
        assert!(matches!(err, Error::InvalidQuery { name: "page size", .. }), "{err:?}");
    }
    assert_eq!(requests.load(Ordering::SeqCst), 0);
}
