//! The Infobip paging stream against a real HTTP server on 127.0.0.1 that
//! serves a generated conversation page by page, as Infobip does: 0-based
//! `page`, `limit`, and `pagination.totalItems` on every page.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use serde_json::{Value, json};

use convo_infobip::types::{ChannelFilter, DirectionFilter};
use convo_infobip::{
    Auth, Client, MAX_PAGE_SIZE, MessagePage, MessagesQuery, PagingError, PagingOptions, Position, RetryPolicy, SecretString,
    StreamError, Timestamp,
};
use convo_testkit::server;
use convo_testkit::wiremock::matchers::{method, path};
use convo_testkit::wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CONVERSATION: &str = "c-1";

/// Changes the body of page `n` before it is sent.
type Tweak = Box<dyn Fn(u64, &mut Value) + Send + Sync>;

/// A conversation of `total` generated messages (`m00000`, `m00001`, ...),
/// served page by page from each request's `page` and `limit`.
struct Conversation {
    total: u64,
    /// How long every response is held back.
    delay: Duration,
    /// When each request arrived, with its page number.
    arrivals: Mutex<Vec<(Instant, u64)>>,
    /// Responses to give for a page before its real one, in order.
    faults: Mutex<HashMap<u64, VecDeque<ResponseTemplate>>>,
    tweak: Option<Tweak>,
}

impl Conversation {
    fn new(total: u64) -> Self {
        Self { total, delay: Duration::ZERO, arrivals: Mutex::default(), faults: Mutex::default(), tweak: None }
    }

    fn delay(self, delay: Duration) -> Self {
        Self { delay, ..self }
    }

    fn tweak(self, tweak: impl Fn(u64, &mut Value) + Send + Sync + 'static) -> Self {
        Self { tweak: Some(Box::new(tweak)), ..self }
    }

    /// Answers the next request for `page` with `response` instead.
    fn fault(self, page: u64, response: ResponseTemplate) -> Self {
        self.faults.lock().unwrap().entry(page).or_default().push_back(response);
        self
    }

    fn body(&self, page: u64, limit: u64) -> Value {
        let start = page.saturating_mul(limit).min(self.total);
        let end = start.saturating_add(limit).min(self.total);
        let messages: Vec<Value> = (start..end)
            .map(|i| {
                json!({
                    "id": id(i), "from": "447492263899", "to": "447496389711", "channel": "SMS", "direction": "INBOUND",
                    "conversationId": CONVERSATION, "createdAt": "2024-01-01T00:00:00.000+0000",
                    "contentType": "TEXT", "content": {"text": format!("message {i}")}
                })
            })
            .collect();
        let mut body = json!({
            "messages": messages,
            "pagination": {"totalItems": self.total, "page": page, "limit": limit, "orderBy": "id:ASC"}
        });
        if let Some(tweak) = &self.tweak {
            tweak(page, &mut body);
        }
        body
    }

    fn pages_requested(&self) -> Vec<u64> {
        self.arrivals.lock().unwrap().iter().map(|(_, page)| *page).collect()
    }

    /// The most requests that were waiting for their response at once.
    fn max_in_flight(&self) -> usize {
        let arrivals = self.arrivals.lock().unwrap();
        arrivals
            .iter()
            .map(|(t, _)| arrivals.iter().filter(|(s, _)| s <= t && *t < *s + self.delay).count())
            .max()
            .unwrap_or(0)
    }
}

fn id(i: u64) -> String {
    format!("m{i:05}")
}

struct Responder(Arc<Conversation>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let param = |name: &str| request.url.query_pairs().find(|(k, _)| k == name).and_then(|(_, v)| v.parse::<u64>().ok());
        let (page, limit) = (param("page").unwrap_or(0), param("limit").unwrap_or(10));
        let conversation = &self.0;
        conversation.arrivals.lock().unwrap().push((Instant::now(), page));
        let fault = conversation.faults.lock().unwrap().get_mut(&page).and_then(VecDeque::pop_front);
        let response = fault.unwrap_or_else(|| ResponseTemplate::new(200).set_body_json(conversation.body(page, limit)));
        response.set_delay(conversation.delay)
    }
}

async fn serve(conversation: Conversation) -> (MockServer, Arc<Conversation>) {
    let server = server().await;
    let conversation = Arc::new(conversation);
    Mock::given(method("GET"))
        .and(path(format!("/ccaas/1/conversations/{CONVERSATION}/messages")))
        .respond_with(Responder(Arc::clone(&conversation)))
        .mount(&server)
        .await;
    (server, conversation)
}

fn client(server: &MockServer) -> Client {
    Client::with_auth(&server.uri(), Auth::AppKey(SecretString::from("test-key"))).unwrap()
}

fn options(page_size: u64, concurrency: usize) -> PagingOptions {
    PagingOptions {
        page_size: Some(page_size),
        concurrency,
        retry: RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
        resume: None,
    }
}

fn error_body(status: u16) -> Value {
    json!({"requestError": {"serviceException": {"messageId": format!("E{status}"), "text": "failed"}}})
}

async fn collect(stream: impl Stream<Item = Result<MessagePage, StreamError>>) -> (Vec<MessagePage>, Option<StreamError>) {
    let mut stream = std::pin::pin!(stream);
    let mut pages = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(page) => pages.push(page),
            Err(error) => {
                assert!(stream.next().await.is_none(), "the stream ends after an error");
                return (pages, Some(error));
            }
        }
    }
    (pages, None)
}

fn ids(pages: &[MessagePage]) -> Vec<String> {
    pages.iter().flat_map(|p| p.items.iter().map(|m| m.value().unwrap().id.clone())).collect()
}

fn expected_ids(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(id).collect()
}

fn sorted(mut pages: Vec<u64>) -> Vec<u64> {
    pages.sort_unstable();
    pages
}

#[tokio::test]
async fn every_message_arrives_once_in_order_with_the_fewest_requests() {
    for (total, page_size, requests) in [(2345, 100, 24), (2000, 100, 20), (2345, MAX_PAGE_SIZE, 3), (7, 10, 1), (1, 1, 1)] {
        let (server, conversation) = serve(Conversation::new(total)).await;
        let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, 4))).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(ids(&pages), expected_ids(0..total), "{total}/{page_size}");
        assert_eq!(sorted(conversation.pages_requested()), (0..requests).collect::<Vec<_>>(), "{total}/{page_size}");
        for (n, page) in pages.iter().enumerate() {
            let n = n as u64;
            assert_eq!(page.position, Some(Position::Page(n)));
            let next = (n + 1 < requests).then_some(Position::Page(n + 1));
            assert_eq!(page.next, next, "{total}/{page_size}: page {n}");
        }
    }
}

#[tokio::test]
async fn the_default_page_size_is_the_largest_infobip_allows() {
    let (server, conversation) = serve(Conversation::new(1500)).await;
    let options = PagingOptions { retry: RetryPolicy::none(), ..PagingOptions::default() };
    let messages: Vec<_> = client(&server).messages(MessagesQuery::new(CONVERSATION), options).collect().await;
    assert_eq!(messages.len(), 1500);
    assert_eq!(conversation.pages_requested().len(), 2);
    for request in server.received_requests().await.unwrap() {
        assert!(request.url.query_pairs().any(|(k, v)| k == "limit" && v == "999"), "{}", request.url);
    }
}

#[tokio::test]
async fn an_empty_conversation_takes_one_request_and_gives_one_empty_last_page() {
    let (server, conversation) = serve(Conversation::new(0)).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(pages.len(), 1);
    assert!(pages[0].items.is_empty());
    assert_eq!((pages[0].position.clone(), pages[0].next.clone()), (Some(Position::Page(0)), None));
    assert_eq!(conversation.pages_requested(), [0]);
}

#[tokio::test]
async fn concurrency_is_bounded_and_real() {
    for concurrency in [1, 3] {
        let (server, conversation) = serve(Conversation::new(1500).delay(Duration::from_millis(100))).await;
        let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, concurrency))).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(ids(&pages), expected_ids(0..1500));
        assert_eq!(conversation.pages_requested().len(), 15);
        let max = conversation.max_in_flight();
        assert!(max <= concurrency, "{max} requests in flight with concurrency {concurrency}");
        if concurrency > 1 {
            assert!(max > 1, "pages after the first are fetched concurrently (max in flight {max})");
        }
        // The first page is always fetched alone: only it tells the total.
        assert_eq!(conversation.pages_requested()[0], 0);
    }
}

#[tokio::test]
async fn every_filter_goes_out_on_every_page_request() {
    let (server, _) = serve(Conversation::new(250)).await;
    let query = MessagesQuery {
        message_ids: vec!["m1".to_owned(), "m 2".to_owned()],
        channel: Some(ChannelFilter::Whatsapp),
        direction: Some(DirectionFilter::Outbound),
        created_after: Some("2024-01-01T00:00:00Z".parse::<Timestamp>().unwrap()),
        created_before: Some("2024-02-01T01:00:00+01:00".parse::<Timestamp>().unwrap()),
        order_by: Some("createdAt:desc".to_owned()),
        ..MessagesQuery::new(CONVERSATION)
    };
    let (pages, error) = collect(client(&server).pages(query, options(100, 4))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(pages.len(), 3);
    let mut queries: Vec<String> =
        server.received_requests().await.unwrap().iter().map(|r| r.url.query().unwrap_or_default().to_owned()).collect();
    queries.sort();
    let expected: Vec<String> = (0..3)
        .map(|n| {
            format!(
                "channel=WHATSAPP&createdAfter=2024-01-01T00%3A00%3A00.000%2B0000&createdBefore=2024-02-01T00%3A00%3A00.000%2B0000\
                 &direction=OUTBOUND&limit=100&messageIds=m1&messageIds=m+2&orderBy=createdAt%3Adesc&page={n}"
            )
        })
        .collect();
    assert_eq!(queries, expected);
}

#[tokio::test]
async fn a_stream_resumes_from_a_page() {
    let (server, conversation) = serve(Conversation::new(2345)).await;
    let resumed = PagingOptions { resume: Some(Position::Page(5)), ..options(100, 4) };
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), resumed)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(500..2345));
    assert_eq!(pages[0].position, Some(Position::Page(5)));
    assert_eq!(sorted(conversation.pages_requested()), (5..24).collect::<Vec<_>>());
    assert_eq!(conversation.pages_requested()[0], 5, "the resume page comes first");

    // Resuming past the end gives one empty last page.
    let (server, conversation) = serve(Conversation::new(2345)).await;
    let past_the_end = PagingOptions { resume: Some(Position::Page(40)), ..options(100, 4) };
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), past_the_end)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!((pages.len(), pages[0].items.len(), pages[0].next.clone()), (1, 0, None));
    assert_eq!(conversation.pages_requested(), [40]);
}

#[tokio::test]
async fn a_503_is_retried_and_a_429_waits_for_retry_after() {
    let unavailable = ResponseTemplate::new(503).set_body_string("upstream unavailable");
    let (server, conversation) = serve(Conversation::new(2345).fault(2, unavailable)).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..2345));
    let requested = conversation.pages_requested();
    assert_eq!(requested.len(), 25, "24 pages and one retry");
    assert_eq!(requested.iter().filter(|&&p| p == 2).count(), 2);

    let limited = ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_json(error_body(429));
    let (server, conversation) = serve(Conversation::new(2345).fault(1, limited)).await;
    let started = Instant::now();
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert!(error.is_none(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured ({:?})", started.elapsed());
    assert_eq!(ids(&pages), expected_ids(0..2345));
    assert_eq!(conversation.pages_requested().iter().filter(|&&p| p == 1).count(), 2);
}

#[tokio::test]
async fn a_500_on_page_3_ends_the_stream_after_pages_0_to_2() {
    let failure = ResponseTemplate::new(500).set_body_json(error_body(500));
    let (server, conversation) = serve(Conversation::new(2345).fault(3, failure)).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert_eq!(ids(&pages), expected_ids(0..300));
    let Some(PagingError::Request { page, attempts, source }) = &error else { panic!("{error:?}") };
    assert_eq!(page.0, Some(Position::Page(3)));
    assert_eq!(*attempts, 1, "a 500 is not retried");
    assert_eq!(source.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(error.as_ref().unwrap().to_string().split(':').next(), Some("page 3"));
    assert_eq!(conversation.pages_requested().iter().filter(|&&p| p == 3).count(), 1);

    // The same through `messages`: every message before the failure, then the error.
    let failure = ResponseTemplate::new(500).set_body_json(error_body(500));
    let (server, _) = serve(Conversation::new(2345).fault(3, failure)).await;
    let items: Vec<_> = client(&server).messages(MessagesQuery::new(CONVERSATION), options(100, 4)).collect().await;
    assert_eq!(items.len(), 301);
    assert!(items[..300].iter().all(Result::is_ok));
    assert!(matches!(&items[300], Err(PagingError::Request { page, .. }) if page.0 == Some(Position::Page(3))));
}

#[tokio::test]
async fn an_invalid_page_size_or_resume_position_is_refused_without_a_request() {
    let (server, conversation) = serve(Conversation::new(10)).await;
    let invalid = [
        (options(0, 4), "page size"),
        (options(MAX_PAGE_SIZE + 1, 4), "page size"),
        (PagingOptions { resume: Some(Position::Cursor("abc".to_owned())), ..options(10, 4) }, "resume"),
        (PagingOptions { resume: Some(Position::Page(u64::MAX)), ..options(10, 4) }, "resume"),
    ];
    for (options, expected) in invalid {
        let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options)).await;
        assert!(pages.is_empty());
        assert!(matches!(error, Some(PagingError::InvalidQuery { name, .. }) if name == expected), "{error:?}");
    }
    assert!(conversation.pages_requested().is_empty());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_total_that_changes_mid_stream_ends_it_naming_the_page() {
    let grown = Conversation::new(2345).tweak(|page, body| {
        if page == 2 {
            body["pagination"]["totalItems"] = json!(2346);
        }
    });
    let (server, _) = serve(grown).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert_eq!(ids(&pages), expected_ids(0..200));
    assert!(
        matches!(&error, Some(PagingError::TotalChanged { page, first: 2345, now: 2346 }) if page.0 == Some(Position::Page(2))),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_empty_or_short_page_before_the_last_ends_the_stream_naming_the_page() {
    let empty = Conversation::new(2345).tweak(|page, body| {
        if page == 4 {
            body["messages"] = json!([]);
        }
    });
    let (server, _) = serve(empty).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert_eq!(ids(&pages), expected_ids(0..400));
    assert!(matches!(&error, Some(PagingError::EmptyPageWithMore { page }) if page.0 == Some(Position::Page(4))), "{error:?}");

    // A vendor that applies a smaller page size than asked would make every
    // later page skip messages.
    let capped = Conversation::new(2345).tweak(|_, body| {
        let messages = body["messages"].as_array_mut().unwrap();
        messages.truncate(50);
    });
    let (server, _) = serve(capped).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert!(pages.is_empty());
    assert!(
        matches!(&error, Some(PagingError::ShortPage { page, len: 50, limit: 100 }) if page.0 == Some(Position::Page(0))),
        "{error:?}"
    );
}

#[tokio::test]
async fn messages_on_a_page_past_the_total_end_the_stream() {
    let past = Conversation::new(250).tweak(|page, body| {
        if page == 5 {
            body["messages"] = json!([{"id": "ghost", "createdAt": "2024-01-01T00:00:00Z"}]);
        }
    });
    let (server, _) = serve(past).await;
    let resumed = PagingOptions { resume: Some(Position::Page(5)), ..options(100, 4) };
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), resumed)).await;
    assert!(pages.is_empty());
    assert!(
        matches!(&error, Some(PagingError::BeyondTotal { page, total_items: 250 }) if page.0 == Some(Position::Page(5))),
        "{error:?}"
    );
}

#[tokio::test]
async fn without_a_total_pages_are_read_one_at_a_time_until_a_short_or_empty_one() {
    for (total, requests) in [(250, 3), (200, 3), (0, 1)] {
        let bare = Conversation::new(total).delay(Duration::from_millis(20)).tweak(|_, body| {
            body.as_object_mut().unwrap().remove("pagination");
        });
        let (server, conversation) = serve(bare).await;
        let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(ids(&pages), expected_ids(0..total));
        assert_eq!(conversation.pages_requested(), (0..requests).collect::<Vec<_>>(), "{total}");
        assert_eq!(conversation.max_in_flight(), 1);
        assert_eq!(pages.last().unwrap().next, None);
    }
}

#[tokio::test]
async fn a_page_that_says_it_is_another_page_ends_the_stream_instead_of_repeating_messages() {
    let ignoring = Conversation::new(2345).tweak(|page, body| {
        if page == 2 {
            body["pagination"]["page"] = json!(1);
        }
    });
    let (server, _) = serve(ignoring).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert_eq!(ids(&pages), expected_ids(0..200));
    assert!(
        matches!(&error, Some(PagingError::RepeatedCursor { page, cursor }) if page.0 == Some(Position::Page(2)) && cursor == "1"),
        "{error:?}"
    );
}
