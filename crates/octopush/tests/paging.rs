//! The Octopush paging stream against a real HTTP server on 127.0.0.1 that
//! serves a generated conversation from each request's `page` and `per_page`.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

use convo_octopush::{
    Client, ConversationId, FacebookId, MAX_PAGE_SIZE, MessagePage, MessagesQuery, PagingError, PagingOptions, Position,
    RetryPolicy, SecretString, StreamError,
};
use convo_runtime::paging::PagePosition;
use convo_testkit::server;
use convo_testkit::wiremock::matchers::{any, query_param};
use convo_testkit::wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CONVERSATION: &str = "cid_3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// A conversation of `len` messages, served page by page as Octopush does:
/// a bare array of at most `per_page` messages (default 50) from 1-based
/// `page` (default 1). With `ignore_page`, every request gets page 1, as
/// from an API ignoring a parameter it cannot read.
struct Conversation {
    len: usize,
    ignore_page: bool,
}

fn message_id(i: usize) -> String {
    format!("msg-{i:05}")
}

fn message(i: usize) -> Value {
    json!({
        "message_id": message_id(i),
        "text": format!("message {i}"),
        "direction": if i.is_multiple_of(2) { "inbound" } else { "outbound" },
        "delivery_status": if i.is_multiple_of(2) { Value::Null } else { json!("sending") },
        "channel": "sms",
        "user_identifier": "acc_1",
        "user_identifiers": {"phone_number": "+33700000001", "email": null, "facebook_page_id": null},
        "agent_assigned_to": null,
        "contact_name": "Jeanne Dupont",
        "contact_identifiers": {"phone_number": "+33612345678", "email": null, "facebook_id": null}
    })
}

fn param(request: &Request, name: &str) -> Option<String> {
    request.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

impl Respond for Conversation {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let number = |name: &str, default: usize| param(request, name).and_then(|v| v.parse().ok()).unwrap_or(default);
        let page = if self.ignore_page { 1 } else { number("page", 1) };
        let per_page = number("per_page", 50);
        let start = page.saturating_sub(1).saturating_mul(per_page).min(self.len);
        let end = start.saturating_add(per_page).min(self.len);
        let items: Vec<Value> = (start..end).map(message).collect();
        ResponseTemplate::new(200).set_body_json(items)
    }
}

/// A server holding a conversation of `len` messages, and the base URL to
/// give the client.
async fn serve(len: usize) -> (MockServer, String) {
    let server = server().await;
    Mock::given(any()).respond_with(Conversation { len, ignore_page: false }).mount(&server).await;
    let uri = format!("{}/v1/public", server.uri());
    (server, uri)
}

fn client(uri: &str) -> Client {
    Client::with_credentials(uri, "login@example.com", SecretString::from("key")).unwrap()
}

fn query() -> MessagesQuery {
    MessagesQuery::by_conversation_id(ConversationId::new(CONVERSATION).unwrap())
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() }
}

fn options(page_size: Option<u64>) -> PagingOptions {
    PagingOptions { page_size, retry: fast_retries(), ..PagingOptions::default() }
}

/// Every item the stream yields, errors included, until it ends.
async fn drain(client: &Client, query: MessagesQuery, options: PagingOptions) -> Vec<Result<MessagePage, StreamError>> {
    client.pages(query, options).collect().await
}

fn ids(pages: &[MessagePage]) -> Vec<String> {
    pages.iter().flat_map(|p| p.items.iter().map(|m| m.value().unwrap().message_id.clone())).collect()
}

fn expected_ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(message_id).collect()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording is on")
}

/// Requests a stream over `len` messages makes with `per_page`: one per page,
/// plus the empty page that ends it when the last page is full.
fn expected_requests(len: usize, per_page: usize) -> usize {
    len / per_page + 1
}

#[tokio::test]
async fn every_message_arrives_once_in_order_with_one_request_per_page() {
    const LEN: usize = 2345;
    // 2345 = 7 * 335: with 7 the last page is full and an empty page ends it.
    for per_page in [7usize, 100, 1000, 2345, 5000] {
        let (server, uri) = serve(LEN).await;
        let pages: Vec<MessagePage> =
            client(&uri).pages(query(), options(Some(per_page as u64))).try_collect().await.unwrap();
        assert_eq!(ids(&pages), expected_ids(0..LEN), "per_page {per_page}");

        let requests = requests(&server).await;
        assert_eq!(requests.len(), expected_requests(LEN, per_page), "per_page {per_page}");
        assert_eq!(pages.len(), requests.len(), "every response is one page, the empty last one included");
        for (i, (page, request)) in pages.iter().zip(&requests).enumerate() {
            let number = i as u64 + 1;
            assert_eq!(param(request, "page"), Some(number.to_string()));
            assert_eq!(param(request, "per_page"), Some(per_page.to_string()));
            assert_eq!(param(request, "conversation_id").as_deref(), Some(CONVERSATION));
            assert_eq!(page.position, Some(Position::Page(number)));
            let last = i + 1 == pages.len();
            assert_eq!(page.next, (!last).then_some(Position::Page(number + 1)), "per_page {per_page}, page {number}");
        }
    }
}

#[tokio::test]
async fn a_conversation_filling_its_last_page_costs_one_empty_page_more() {
    let (server, uri) = serve(2300).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..2300));
    assert_eq!(requests(&server).await.len(), 24);
    let last = pages.last().unwrap();
    assert!(last.items.is_empty());
    assert_eq!((last.position.clone(), last.next.clone()), (Some(Position::Page(24)), None));
}

#[tokio::test]
async fn an_empty_conversation_is_one_empty_page() {
    let (server, uri) = serve(0).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(None)).try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].items.is_empty());
    assert_eq!(pages[0].next, None);
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn without_a_page_size_the_documented_default_of_50_is_asked() {
    assert_eq!(MAX_PAGE_SIZE, 50);
    let (server, uri) = serve(2345).await;
    let messages: Vec<_> = client(&uri).messages(query(), options(None)).try_collect().await.unwrap();
    let got: Vec<String> = messages.iter().map(|m| m.value().unwrap().message_id.clone()).collect();
    assert_eq!(got, expected_ids(0..2345));
    let requests = requests(&server).await;
    assert_eq!(requests.len(), 47);
    assert!(requests.iter().all(|r| param(r, "per_page").as_deref() == Some("50")));
}

#[tokio::test]
async fn every_selector_goes_out_on_every_request() {
    let (server, uri) = serve(250).await;
    let query = MessagesQuery {
        conversation_id: Some(ConversationId::new(CONVERSATION).unwrap()),
        phone_number: Some("+33 6 12 34 56 78".to_owned()),
        email: Some("jane.doe+tag@example.com".to_owned()),
        facebook_id: Some(FacebookId::new("fid_1234567890").unwrap()),
        contact: Some("jane.doe@example.com".to_owned()),
    };
    let messages: Vec<_> = client(&uri).messages(query, options(Some(100))).try_collect().await.unwrap();
    assert_eq!(messages.len(), 250);
    let requests = requests(&server).await;
    assert_eq!(requests.len(), 3);
    for (i, request) in requests.iter().enumerate() {
        let mut pairs: Vec<(String, String)> = request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        pairs.sort();
        let expected = [
            ("contact", "jane.doe@example.com"),
            ("conversation_id", CONVERSATION),
            ("email", "jane.doe+tag@example.com"),
            ("facebook_id", "fid_1234567890"),
            ("page", &(i + 1).to_string()),
            ("per_page", "100"),
            ("phone_number", "+33 6 12 34 56 78"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(pairs, expected);
    }
}

#[tokio::test]
async fn a_stream_resumes_from_the_next_page_of_an_earlier_run() {
    let (server, uri) = serve(2345).await;
    let c = client(&uri);
    let first: Vec<MessagePage> = c.pages(query(), options(Some(100))).take(3).try_collect().await.unwrap();
    assert_eq!(ids(&first), expected_ids(0..300));
    let resume = first.last().unwrap().next.clone();
    assert_eq!(resume, Some(Position::Page(4)));
    assert_eq!(requests(&server).await.len(), 3, "a dropped stream fetches nothing more");

    let options = PagingOptions { resume, ..options(Some(100)) };
    let rest: Vec<MessagePage> = c.pages(query(), options).try_collect().await.unwrap();
    assert_eq!(rest[0].position, Some(Position::Page(4)));
    assert_eq!(ids(&rest), expected_ids(300..2345));
    let pages_asked: Vec<String> = requests(&server).await.iter().skip(3).map(|r| param(r, "page").unwrap()).collect();
    assert_eq!(pages_asked, (4..=24).map(|n| n.to_string()).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_503_is_retried_and_its_page_delivered_once() {
    let (server, uri) = serve(2345).await;
    Mock::given(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"code": 503, "message": "busy"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..2345));
    let asked: Vec<String> = requests(&server).await.iter().map(|r| param(r, "page").unwrap()).collect();
    let mut expected: Vec<String> = (1..=24).map(|n| n.to_string()).collect();
    expected.insert(1, "2".to_owned());
    assert_eq!(asked, expected, "page 2 is asked twice, every other page once");
}

#[tokio::test]
async fn a_429_waits_the_retry_after_it_names() {
    let (server, uri) = serve(120).await;
    Mock::given(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_json(json!({"message": "slow down"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let messages: Vec<_> = client(&uri).messages(query(), options(Some(100))).try_collect().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(messages.len(), 120);
    assert!(elapsed >= Duration::from_secs(1), "the 1 s Retry-After was not honoured: {elapsed:?}");
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_500_on_page_3_ends_the_stream_after_pages_1_and_2() {
    let (server, uri) = serve(2345).await;
    Mock::given(query_param("page", "3"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"code": 500, "message": "internal"})))
        .with_priority(1)
        .mount(&server)
        .await;
    let mut items = drain(&client(&uri), query(), options(Some(100))).await;
    assert_eq!(items.len(), 3, "two pages, then the error, then the end");
    let error = items.pop().unwrap().unwrap_err();
    let delivered: Vec<MessagePage> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(ids(&delivered), expected_ids(0..200));

    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    let PagingError::Request { page, attempts, .. } = &error else { panic!("{error:?}") };
    assert_eq!(page, &PagePosition(Some(Position::Page(3))));
    assert_eq!(*attempts, 1, "a 500 is not retried");
    assert!(error.to_string().starts_with("page 3: "), "{error}");
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_server_ignoring_page_ends_with_repeated_cursor_after_page_1_once() {
    let server = server().await;
    Mock::given(any()).respond_with(Conversation { len: 2345, ignore_page: true }).mount(&server).await;
    let uri = format!("{}/v1/public", server.uri());

    let items = drain(&client(&uri), query(), options(Some(100))).await;
    assert_eq!(items.len(), 2);
    let first = items[0].as_ref().unwrap();
    assert_eq!(ids(std::slice::from_ref(first)), expected_ids(0..100));
    let Err(PagingError::RepeatedCursor { page, cursor }) = &items[1] else { panic!("{:?}", items[1]) };
    assert_eq!(page, &PagePosition(Some(Position::Page(2))));
    assert_eq!(cursor, "2");
    assert_eq!(requests(&server).await.len(), 2);

    // The flattened stream: page 1's messages once, then the error.
    let messages: Vec<_> = client(&uri).messages(query(), options(Some(100))).collect().await;
    assert_eq!(messages.len(), 101);
    assert!(messages[..100].iter().all(Result::is_ok));
    assert!(matches!(messages[100], Err(PagingError::RepeatedCursor { .. })));
}

#[tokio::test]
async fn invalid_options_and_queries_are_refused_before_any_request() {
    let (server, uri) = serve(10).await;
    let c = client(&uri);
    let empty = MessagesQuery::default();
    let blank_phone = MessagesQuery::by_phone_number(" ");
    let cases: [(MessagesQuery, PagingOptions, &str); 5] = [
        (query(), options(Some(0)), "page size"),
        (query(), PagingOptions { resume: Some(Position::Page(0)), ..options(None) }, "resume"),
        (query(), PagingOptions { resume: Some(Position::Cursor("abc".into())), ..options(None) }, "resume"),
        (empty, options(None), "selector"),
        (blank_phone, options(None), "phone_number"),
    ];
    for (query, options, expected) in cases {
        let items = drain(&c, query, options).await;
        assert_eq!(items.len(), 1, "{expected}: one error, then the end");
        let Err(PagingError::InvalidQuery { name, reason }) = &items[0] else { panic!("{expected}: {:?}", items[0]) };
        assert_eq!(*name, expected, "{reason}");
    }
    assert!(requests(&server).await.is_empty(), "no invalid query may reach the server");
}

#[tokio::test]
async fn each_selector_alone_is_a_valid_query() {
    let (server, uri) = serve(3).await;
    let c = client(&uri);
    let queries = [
        MessagesQuery::by_conversation_id(ConversationId::new("cid_1").unwrap()),
        MessagesQuery::by_phone_number("+33612345678"),
        MessagesQuery::by_email("jane@example.com"),
        MessagesQuery::by_facebook_id(FacebookId::new("fid_1").unwrap()),
        MessagesQuery::by_contact("+33612345678"),
    ];
    for query in queries {
        let messages: Vec<_> = c.messages(query, options(None)).try_collect().await.unwrap();
        assert_eq!(messages.len(), 3);
    }
    let queries: Vec<String> = requests(&server).await.iter().map(|r| r.url.query().unwrap().to_owned()).collect();
    assert_eq!(
        queries,
        [
            "conversation_id=cid_1&page=1&per_page=50",
            "page=1&per_page=50&phone_number=%2B33612345678",
            "email=jane%40example.com&page=1&per_page=50",
            "facebook_id=fid_1&page=1&per_page=50",
            "contact=%2B33612345678&page=1&per_page=50",
        ]
    );
}
