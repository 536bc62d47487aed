//! Bird's paging stream against a local server that pages a generated
//! conversation by `pageToken`, the way Bird does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use convo_bird::{Client, Error, MessagesQuery, PagingOptions, Position, RetryPolicy, SecretString};
use convo_testkit::wiremock::{Mock, Request, Respond, ResponseTemplate, matchers::any};
use futures::{StreamExt, TryStreamExt};

/// Serves `total` messages, newest first, `limit` a page; the token of the
/// next page is the index of its first message. Faults by request number.
struct Conversation {
    total: usize,
    requests: Arc<AtomicUsize>,
    fault: Option<(usize, Fault)>,
}

#[derive(Clone, Copy)]
enum Fault {
    Status(u16),
    RepeatToken,
    EmptyWithToken,
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
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let query: std::collections::HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let start: usize = query.get("pageToken").map(|t| t.trim_start_matches("tok").parse().unwrap()).unwrap_or(0);
        let limit: usize = query.get("limit").map(|l| l.parse().unwrap()).unwrap_or(10);
        let end = (start + limit).min(self.total);
        let mut next = (end < self.total).then(|| format!("tok{end}"));
        let mut results: Vec<_> = (start..end).map(message).collect();
        match self.fault {
            Some((at, Fault::Status(status))) if at == n => {
                return ResponseTemplate::new(status)
                    .insert_header("retry-after", "0")
                    .set_body_json(serde_json::json!({"code": "x", "message": "fault"}));
            }
            Some((at, Fault::RepeatToken)) if at == n => next = Some(format!("tok{start}")),
            Some((at, Fault::EmptyWithToken)) if at == n => results.clear(),
            _ => {}
        }
        let mut body = serde_json::json!({"results": results, "total": self.total, "totalType": "exact"});
        if let Some(next) = next {
            body["nextPageToken"] = next.into();
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

async fn conversation(
    total: usize,
    fault: Option<(usize, Fault)>,
) -> (convo_testkit::wiremock::MockServer, Arc<AtomicUsize>) {
    let server = convo_testkit::server().await;
    let requests = Arc::new(AtomicUsize::new(0));
    Mock::given(any()).respond_with(Conversation { total, requests: requests.clone(), fault }).mount(&server).await;
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
    let (server, requests) = conversation(2_345, None).await;
    let messages: Vec<_> = client(&server).messages(MessagesQuery::new("w", "c"), fast()).try_collect().await.unwrap();
    assert_eq!(messages.iter().map(|m| m.value().unwrap().id.clone()).collect::<Vec<_>>(), ids(0..2_345));
    assert_eq!(requests.load(Ordering::SeqCst), 24, "ceil(2345 / 100) pages at Bird's largest page size");
    let received = server.received_requests().await.unwrap();
    assert!(received.iter().all(|r| r.url.query_pairs().any(|(k, v)| k == "limit" && v == "100")));
    assert_eq!(received[1].url.query_pairs().find(|(k, _)| k == "pageToken").unwrap().1, "tok100");
}

#[tokio::test]
async fn an_empty_conversation_is_one_request() {
    let (server, requests) = conversation(0, None).await;
    let pages: Vec<_> = client(&server).pages(MessagesQuery::new("w", "c"), fast()).try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].items.is_empty() && pages[0].next.is_none());
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn pages_report_where_to_resume_and_resuming_continues_there() {
    let (server, _) = conversation(250, None).await;
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
    let (server, _) = conversation(25, None).await;
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
async fn timeouts_rate_limits_and_transient_server_failures_are_retried() {
    for status in [408, 429, 500, 502, 503, 504] {
        let (server, requests) = conversation(150, Some((2, Fault::Status(status)))).await;
        let messages: Vec<_> =
            client(&server).messages(MessagesQuery::new("w", "c"), fast()).try_collect().await.unwrap();
        assert_eq!(messages.len(), 150, "{status}");
        assert_eq!(requests.load(Ordering::SeqCst), 3, "{status}: two pages and one retry");
    }
}

#[tokio::test]
async fn a_server_error_ends_the_stream_naming_the_page_after_the_pages_before_it() {
    let (server, requests) = conversation(450, Some((3, Fault::Status(501)))).await;
    let items: Vec<_> = client(&server).messages(MessagesQuery::new("w", "c"), fast()).collect().await;
    let (ok, err): (Vec<_>, Vec<_>) = items.into_iter().partition(Result::is_ok);
    assert_eq!(ok.len(), 200);
    assert_eq!(err.len(), 1);
    match &err[0] {
        Err(Error::Request { page, attempts: 1, error: source }) => {
            assert_eq!(page.0, Some(Position::Cursor("tok200".into())));
            assert_eq!(source.status().map(|s| s.as_u16()), Some(501));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(requests.load(Ordering::SeqCst), 3, "a 501 is not retried");
    assert!(err[0].as_ref().unwrap_err().to_string().starts_with("the page at cursor `tok200`: HTTP 501"));
}

#[tokio::test]
async fn retries_are_bounded() {
    let (server, requests) = conversation(50, None).await;
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
async fn a_repeated_token_ends_the_stream_instead_of_looping() {
    let (server, requests) = conversation(450, Some((2, Fault::RepeatToken))).await;
    let items: Vec<_> = client(&server).messages(MessagesQuery::new("w", "c"), fast()).collect().await;
    let ids_ok: Vec<_> = items.iter().filter_map(|r| r.as_ref().ok().map(|m| m.value().unwrap().id.clone())).collect();
    assert_eq!(ids_ok, ids(0..200), "both pages delivered once");
    assert!(matches!(items.last(), Some(Err(Error::RepeatedCursor { cursor, .. })) if cursor == "tok100"));
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_empty_page_that_claims_more_ends_the_stream() {
    let (server, requests) = conversation(450, Some((2, Fault::EmptyWithToken))).await;
    let items: Vec<_> = client(&server).messages(MessagesQuery::new("w", "c"), fast()).collect().await;
    assert_eq!(items.iter().filter(|r| r.is_ok()).count(), 100);
    assert!(matches!(items.last(), Some(Err(Error::EmptyPageWithMore { .. }))));
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_invalid_page_size_is_refused_before_sending() {
    let (server, requests) = conversation(10, None).await;
    for size in [0, 101] {
        let options = PagingOptions { page_size: Some(size), ..fast() };
        let err =
            client(&server).messages(MessagesQuery::new("w", "c"), options).try_collect::<Vec<_>>().await.unwrap_err();
        assert!(matches!(err, Error::InvalidQuery { name: "page size", .. }), "{err:?}");
    }
    assert_eq!(requests.load(Ordering::SeqCst), 0);
}
