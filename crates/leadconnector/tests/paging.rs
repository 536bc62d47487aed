//! The paging stream against a real HTTP server on 127.0.0.1 that serves a
//! generated conversation, newest first, by `lastMessageId` and `limit`, the
//! way Client pages.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;

use convo_leadconnector::{
    Client, Error, MAX_PAGE_SIZE, MessagePage, MessagesQuery, PagingOptions, Position, RetryPolicy, SecretString,
};
use convo_runtime::paging::PagePosition;
use convo_testkit::wiremock::matchers::{method, path};
use convo_testkit::wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};
use serde_json::{Value, json};

const CONVERSATION: &str = "cv-1";

/// The id of message `i` of a conversation, `0` being the newest.
fn id(i: usize) -> String {
    format!("msg-{i:05}")
}

/// Message `i`: one second older than message `i - 1`.
fn message(i: usize) -> Value {
    let seconds = 86_399 - (i % 86_400);
    let date = format!("2024-11-15T{:02}:{:02}:{:02}.000Z", seconds / 3600, seconds / 60 % 60, seconds % 60);
    json!({
        "id": id(i), "type": 2, "messageType": "TYPE_SMS", "locationId": "loc-1", "contactId": "ct-1",
        "conversationId": CONVERSATION, "dateAdded": date, "body": format!("message {i}"),
        "direction": if i.is_multiple_of(2) { "inbound" } else { "outbound" }, "contentType": "text/plain",
    })
}

/// A page body in the documented flat form, or the live API's nested one.
fn body(messages: Vec<Value>, last_message_id: &str, next_page: bool, nested: bool) -> ResponseTemplate {
    let page = json!({ "lastMessageId": last_message_id, "nextPage": next_page, "messages": messages });
    let body = if nested { json!({ "messages": page, "traceId": "trace-1" }) } else { page };
    ResponseTemplate::new(200).set_body_json(body)
}

/// A request's query parameter `name`.
fn param(request: &Request, name: &str) -> Option<String> {
    request.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Answers a request with `Some` response instead of the page, by request
/// number (from 0).
type Fault = Box<dyn Fn(usize, &Request) -> Option<ResponseTemplate> + Send + Sync>;

/// A conversation of `len` messages, served newest first.
struct Conversation {
    len: usize,
    nested: bool,
    fault: Fault,
    requests: AtomicUsize,
    /// When each request arrived.
    times: Arc<Mutex<Vec<Instant>>>,
}

impl Conversation {
    fn new(len: usize) -> Self {
        Self { len, nested: false, fault: Box::new(|_, _| None), requests: AtomicUsize::new(0), times: Arc::default() }
    }

    fn nested(self) -> Self {
        Self { nested: true, ..self }
    }

    fn fault(self, fault: impl Fn(usize, &Request) -> Option<ResponseTemplate> + Send + Sync + 'static) -> Self {
        Self { fault: Box::new(fault), ..self }
    }

    /// The page after `lastMessageId` (or the first), `limit` long (20 by
    /// default); `nextPage` is false on the last page.
    fn page(&self, request: &Request) -> ResponseTemplate {
        let start = match param(request, "lastMessageId") {
            None => 0,
            Some(last) => match (0..self.len).find(|&i| id(i) == last) {
                Some(i) => i + 1,
                None => {
                    return ResponseTemplate::new(400)
                        .set_body_json(json!({ "statusCode": 400, "message": "Bad Request" }));
                }
            },
        };
        let limit = param(request, "limit").map_or(20, |l| l.parse::<usize>().expect("a whole-number limit"));
        let end = (start + limit).min(self.len);
        let last = if end > start { id(end - 1) } else { String::new() };
        body((start..end).map(message).collect(), &last, end < self.len, self.nested)
    }
}

impl Respond for Conversation {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        self.times.lock().unwrap().push(Instant::now());
        (self.fault)(n, request).unwrap_or_else(|| self.page(request))
    }
}

/// A server with `conversation` mounted at its path; any other request gets
/// a 404, which fails the stream.
async fn serve(conversation: Conversation) -> MockServer {
    let server = convo_testkit::server().await;
    Mock::given(method("GET"))
        .and(path(format!("/conversations/{CONVERSATION}/messages")))
        .respond_with(conversation)
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> Client {
    Client::new(&server.uri(), convo_leadconnector::Credentials::new(SecretString::from("pit-test"))).unwrap()
}

/// Options with a fast retry policy.
fn options(page_size: Option<u64>) -> PagingOptions {
    PagingOptions {
        page_size,
        retry: RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
        ..PagingOptions::default()
    }
}

async fn pages(client: &Client, query: MessagesQuery, options: PagingOptions) -> Vec<Result<MessagePage, Error>> {
    client.pages(query, options).collect().await
}

/// The ids of the delivered pages, in order, and the error that ended the
/// stream, if one did (it must be the last item).
fn split(results: Vec<Result<MessagePage, Error>>) -> (Vec<String>, Option<Error>) {
    let mut ids = Vec::new();
    let mut error = None;
    for result in results {
        assert!(error.is_none(), "nothing follows an error");
        match result {
            Ok(page) => ids.extend(page.items.iter().map(|m| m.value().unwrap().id.clone())),
            Err(e) => error = Some(e),
        }
    }
    (ids, error)
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording is on")
}

#[tokio::test]
async fn every_message_comes_exactly_once_in_order_in_ceil_n_over_limit_requests() {
    for (len, page_size) in [(2_345, None), (2_345, Some(20)), (200, Some(100)), (1, Some(7))] {
        let server = serve(Conversation::new(len)).await;
        let results = pages(&client(&server), MessagesQuery::new(CONVERSATION), options(page_size)).await;

        let limit = page_size.unwrap_or(MAX_PAGE_SIZE) as usize;
        let pages: Vec<MessagePage> = results.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(pages.len(), len.div_ceil(limit), "{len}/{limit}");
        assert_eq!(
            requests(&server).await.len(),
            len.div_ceil(limit),
            "{len}/{limit}: one request a page, none after the last"
        );
        let ids: Vec<String> =
            pages.iter().flat_map(|p| p.items.iter().map(|m| m.value().unwrap().id.clone())).collect();
        assert_eq!(ids, (0..len).map(id).collect::<Vec<_>>(), "{len}/{limit}");

        assert_eq!(pages[0].position, None, "the first page has no cursor");
        for pair in pages.windows(2) {
            assert_eq!(pair[0].next, pair[1].position, "a page's next is where the following one starts");
            assert_eq!(pair[0].next, Some(Position::Cursor(pair[0].items.last().unwrap().value().unwrap().id.clone())));
        }
        assert_eq!(pages.last().unwrap().next, None, "the last page has no next");
    }
}

#[tokio::test]
async fn messages_flattens_the_pages() {
    let server = serve(Conversation::new(250)).await;
    let messages: Vec<_> = client(&server).messages(MessagesQuery::new(CONVERSATION), options(None)).collect().await;
    let ids: Vec<String> = messages.into_iter().map(|m| m.unwrap().value().unwrap().id.clone()).collect();
    assert_eq!(ids, (0..250).map(id).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_type_filter_limit_and_version_header_go_out_on_every_page() {
    let server = serve(Conversation::new(250)).await;
    let client = Client::new(
        &server.uri(),
        convo_leadconnector::Credentials::new(SecretString::from("pit-test")).with_version("2023-02-21"),
    )
    .unwrap();
    let query = MessagesQuery {
        conversation_id: CONVERSATION.into(),
        types: vec![convo_leadconnector::TypeFilter::Sms, convo_leadconnector::TypeFilter::Call],
    };
    let (ids, error) = split(pages(&client, query, options(None)).await);
    assert!(error.is_none());
    assert_eq!(ids.len(), 250);

    let requests = requests(&server).await;
    assert_eq!(requests.len(), 3);
    for (n, request) in requests.iter().enumerate() {
        let versions: Vec<_> = request.headers.get_all("version").iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(versions, ["2023-02-21"], "request {n}: the configured version, exactly once");
        assert_eq!(request.headers.get("authorization").unwrap(), "Bearer pit-test", "request {n}");
        assert_eq!(
            param(request, "type").as_deref(),
            Some("TYPE_SMS,TYPE_CALL"),
            "request {n}: one comma-separated value"
        );
        assert!(request.url.query().unwrap().contains("type=TYPE_SMS%2CTYPE_CALL"), "request {n}");
        assert_eq!(param(request, "limit").as_deref(), Some("100"), "request {n}: the largest page by default");
    }
    let cursors: Vec<_> = requests.iter().map(|r| param(r, "lastMessageId")).collect();
    assert_eq!(cursors, [None, Some(id(99)), Some(id(199))]);
}

#[tokio::test]
async fn the_nested_envelope_pages_too() {
    let server = serve(Conversation::new(250).nested()).await;
    let (ids, error) = split(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids, (0..250).map(id).collect::<Vec<_>>());
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_stream_resumes_from_a_cursor() {
    let server = serve(Conversation::new(2_345)).await;
    let resume = Some(Position::Cursor(id(499)));
    let results =
        pages(&client(&server), MessagesQuery::new(CONVERSATION), PagingOptions { resume, ..options(None) }).await;
    let first = results[0].as_ref().unwrap();
    assert_eq!(first.position, Some(Position::Cursor(id(499))), "the first page starts where we resumed");
    let (ids, error) = split(results);
    assert!(error.is_none());
    assert_eq!(ids, (500..2_345).map(id).collect::<Vec<_>>());
    let requests = requests(&server).await;
    assert_eq!(requests.len(), 1_845usize.div_ceil(100));
    assert_eq!(param(&requests[0], "lastMessageId"), Some(id(499)));
}

#[tokio::test]
async fn a_429_waits_for_the_rate_limit_interval() {
    let conversation = Conversation::new(150).fault(|n, _| {
        (n == 1).then(|| {
            ResponseTemplate::new(429)
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Interval-Milliseconds", "300")
                .set_body_json(json!({ "statusCode": 429, "message": "Too many requests" }))
        })
    });
    let times = conversation.times.clone();
    let server = serve(conversation).await;
    let (ids, error) = split(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids.len(), 150);
    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), 3);
    let waited = times[2] - times[1];
    assert!(waited >= Duration::from_millis(300), "waited {waited:?}, not the interval the vendor asked for");
}

#[tokio::test]
async fn a_cursor_that_is_not_the_last_id_of_its_page_ends_the_stream_after_the_page() {
    // The third page hands back the first page's cursor.
    let conversation = Conversation::new(2_345)
        .fault(|n, _| (n == 2).then(|| body((200..300).map(message).collect(), &id(99), true, false)));
    let server = serve(conversation).await;
    let (ids, error) = split(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
    assert_eq!(ids, (0..300).map(id).collect::<Vec<_>>(), "the third page itself is delivered");
    match error {
        Some(Error::CursorMismatch { page, cursor, last }) => {
            assert_eq!(page, PagePosition(Some(Position::Cursor(id(199)))));
            assert_eq!((cursor, last), (id(99), id(299)));
        }
        other => panic!("expected a cursor mismatch, got {other:?}"),
    }
    assert_eq!(requests(&server).await.len(), 3, "the wrong cursor is not followed");
}

#[tokio::test]
async fn a_cursor_repeating_the_current_one_or_empty_ends_the_stream() {
    // The second page points back at itself.
    let same = Conversation::new(500)
        .fault(|n, _| (n == 1).then(|| body((100..200).map(message).collect(), &id(99), true, false)));
    let server = serve(same).await;
    let (ids, error) = split(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
    assert_eq!(ids.len(), 200);
    assert!(matches!(&error, Some(Error::CursorMismatch { cursor, .. }) if *cursor == id(99)), "{error:?}");
    assert_eq!(requests(&server).await.len(), 2);

    // An empty cursor would start over from the newest message.
    let empty =
        Conversation::new(500).fault(|n, _| (n == 0).then(|| body((0..100).map(message).collect(), "", true, false)));
    let server = serve(empty).await;
    let (ids, error) = split(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
    assert_eq!(ids.len(), 100);
    assert!(
        matches!(&error, Some(Error::CursorMismatch { page: PagePosition(None), cursor, .. }) if cursor.is_empty()),
        "{error:?}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn an_empty_last_page_ends_the_stream_quietly() {
    let conversation = Conversation::new(0);
    let server = serve(conversation).await;
    let results = pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await;
    assert_eq!(results.len(), 1);
    let page = results.into_iter().next().unwrap().unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next, None);
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_page_size_outside_1_to_max_is_refused_before_any_request() {
    let server = serve(Conversation::new(10)).await;
    for size in [0, MAX_PAGE_SIZE + 1] {
        let results = pages(&client(&server), MessagesQuery::new(CONVERSATION), options(Some(size))).await;
        assert_eq!(results.len(), 1, "{size}: the error alone");
        match &results[0] {
            Err(Error::InvalidQuery { name: "page size", reason }) => {
                assert!(reason.contains(&size.to_string()), "{reason}")
            }
            other => panic!("{size}: expected an invalid query, got {other:?}"),
        }
    }
    assert!(requests(&server).await.is_empty(), "nothing was sent");
}

/// The ids of the delivered messages (`?` for one that could not be
/// decoded), and the error that ended the stream.
fn ids_or_undecodable(results: Vec<Result<MessagePage, Error>>) -> (Vec<String>, Option<Error>) {
    let mut ids = Vec::new();
    let mut error = None;
    for result in results {
        match result {
            Ok(page) => ids.extend(page.items.iter().map(|m| m.value().map_or("?".to_owned(), |m| m.id.clone()))),
            Err(e) => error = Some(e),
        }
    }
    (ids, error)
}

#[tokio::test]
async fn an_undecodable_last_message_is_delivered_and_its_cursor_followed() {
    let mut without_id = message(1);
    without_id.as_object_mut().unwrap().remove("id");
    let server = serve(
        Conversation::new(5)
            .fault(move |n, _| (n == 0).then(|| body(vec![message(0), without_id.clone()], &id(1), true, false))),
    )
    .await;
    let (ids, error) =
        ids_or_undecodable(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
    assert!(error.is_none(), "no CursorMismatch for a last message without an id: {error:?}");
    assert_eq!(ids, ["msg-00000", "?", "msg-00002", "msg-00003", "msg-00004"]);
}

#[tokio::test]
async fn a_missing_next_page_or_cursor_is_read_conservatively() {
    // No `nextPage` on a page with messages: followed (to `lastMessageId`).
    // No `lastMessageId` with `nextPage: true`: followed to the last id.
    let first = |page: Value| ResponseTemplate::new(200).set_body_json(page);
    for page in [
        json!({ "lastMessageId": id(1), "messages": [message(0), message(1)] }),
        json!({ "nextPage": true, "messages": [message(0), message(1)] }),
        json!({ "nextPage": null, "lastMessageId": null, "messages": [message(0), message(1)] }),
    ] {
        let response = first(page.clone());
        let server = serve(Conversation::new(5).fault(move |n, _| (n == 0).then(|| response.clone()))).await;
        let (ids, error) =
            ids_or_undecodable(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
        assert!(error.is_none(), "{page}: {error:?}");
        assert_eq!(ids, (0..5).map(id).collect::<Vec<_>>(), "{page}");
    }
    // An empty page without `nextPage` is the end.
    let response = first(json!({ "messages": [] }));
    let server = serve(Conversation::new(5).fault(move |_, _| Some(response.clone()))).await;
    let (ids, error) =
        ids_or_undecodable(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
    assert!(ids.is_empty() && error.is_none(), "{ids:?} {error:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn more_without_any_cursor_delivers_the_page_then_ends_naming_it() {
    let response = ResponseTemplate::new(200).set_body_json(json!({ "nextPage": true, "messages": [message(0), 7] }));
    let server = serve(Conversation::new(5).fault(move |_, _| Some(response.clone()))).await;
    let (ids, error) =
        ids_or_undecodable(pages(&client(&server), MessagesQuery::new(CONVERSATION), options(None)).await);
    assert_eq!(ids, ["msg-00000", "?"]);
    assert!(matches!(&error, Some(Error::NoCursor { page }) if *page == PagePosition(None)), "{error:?}");
    assert_eq!(requests(&server).await.len(), 1);
}
