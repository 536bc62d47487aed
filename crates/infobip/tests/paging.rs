//! The Infobip paging stream against a real HTTP server on 127.0.0.1 that
//! serves a generated conversation as Infobip does: the messages created
//! after `createdAfter` (exclusive) and before `createdBefore`, in
//! `orderBy` order, page `page` (0-based) of `limit`, with
//! `pagination.totalItems` counting the messages the filters match.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures::{Stream, StreamExt};
use serde_json::{Value, json};

use convo_infobip::types::{ChannelFilter, DirectionFilter};
use convo_infobip::{
    Client, Credentials, Error, MAX_PAGE_SIZE, MessagePage, MessagesQuery, PagingOptions, Position, RetryPolicy,
    SecretString, Timestamp,
};
use convo_testkit::server;
use convo_testkit::wiremock::matchers::{method, path};
use convo_testkit::wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CONVERSATION: &str = "c-1";
/// The order the stream must ask for.
const ORDER: &str = "createdAt:asc";

/// One stored message: its id and when it was created.
#[derive(Debug, Clone)]
struct Stored {
    id: String,
    created: DateTime<Utc>,
}

/// What one request asked for.
#[derive(Debug, Clone, PartialEq)]
struct Asked {
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    page: u64,
    limit: u64,
    order_by: Option<String>,
}

/// Changes the listing before request `n` (counted from 0) is answered.
type Change = Box<dyn Fn(usize, &mut Vec<Stored>) + Send + Sync>;
/// Changes the body of request `n` (counted from 0) before it is sent.
type Tweak = Box<dyn Fn(usize, &mut Value) + Send + Sync>;

/// A conversation, answered request by request from its filters.
struct Conversation {
    /// Oldest first; messages of one millisecond in the order they were added.
    listing: Mutex<Vec<Stored>>,
    /// How long every response is held back.
    delay: Duration,
    /// Every page served is page 0 of the filter (reported as the page
    /// asked for), as from a server ignoring `page`.
    ignore_page: bool,
    /// `createdBefore` is ignored, as from a server that does not know it.
    ignore_before: bool,
    /// When each request arrived, with what it asked.
    arrivals: Mutex<Vec<(Instant, Asked)>>,
    /// The ids each request was answered with, by request.
    served: Mutex<Vec<(usize, Vec<String>)>>,
    change: Option<Change>,
    tweak: Option<Tweak>,
    /// Request `n` (counted from 0) is answered 500.
    fail: Option<usize>,
    /// `createdAfter` includes its bound, as from a server that reads it so.
    include_after: bool,
}

/// 2024-01-01T00:00:00Z.
fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

/// When generated message `i` was created: one a second, the first a second after [`base`].
fn created(i: u64) -> DateTime<Utc> {
    base() + TimeDelta::seconds(i as i64 + 1)
}

fn id(i: u64) -> String {
    format!("m{i:05}")
}

/// Infobip's time format, `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`.
fn infobip_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// [`infobip_time`] as it appears in a query string.
fn query_time(time: DateTime<Utc>) -> String {
    infobip_time(time).replace(':', "%3A").replace('+', "%2B")
}

fn parse_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .unwrap_or_else(|e| panic!("`{text}`: {e}"))
        .with_timezone(&Utc)
}

impl Conversation {
    /// `total` generated messages, `m00000` the oldest.
    fn new(total: u64) -> Self {
        Self::of((0..total).map(|i| Stored { id: id(i), created: created(i) }).collect())
    }

    fn of(listing: Vec<Stored>) -> Self {
        Self {
            listing: Mutex::new(listing),
            delay: Duration::ZERO,
            ignore_page: false,
            ignore_before: false,
            arrivals: Mutex::default(),
            served: Mutex::default(),
            change: None,
            tweak: None,
            fail: None,
            include_after: false,
        }
    }

    fn failing(self, n: usize) -> Self {
        Self { fail: Some(n), ..self }
    }

    fn including_created_after(self) -> Self {
        Self { include_after: true, ..self }
    }

    fn delay(self, delay: Duration) -> Self {
        Self { delay, ..self }
    }

    fn ignoring_page(self) -> Self {
        Self { ignore_page: true, ..self }
    }

    fn change(self, change: impl Fn(usize, &mut Vec<Stored>) + Send + Sync + 'static) -> Self {
        Self { change: Some(Box::new(change)), ..self }
    }

    fn ignoring_created_before(self) -> Self {
        Self { ignore_before: true, ..self }
    }

    fn tweak(self, tweak: impl Fn(usize, &mut Value) + Send + Sync + 'static) -> Self {
        Self { tweak: Some(Box::new(tweak)), ..self }
    }

    fn body(&self, n: usize, request: &Request) -> Value {
        let text = |name: &str| request.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let number = |name: &str, default: u64| text(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(default);
        let (asked_page, limit) = (number("page", 0), number("limit", 10));
        let page = if self.ignore_page { 0 } else { asked_page };
        let after = text("createdAfter").map(|t| parse_time(&t));
        let before = text("createdBefore").map(|t| parse_time(&t)).filter(|_| !self.ignore_before);
        let order_by = text("orderBy").unwrap_or_else(|| "id:asc".to_owned());

        let mut listing = self.listing.lock().unwrap();
        if let Some(change) = &self.change {
            change(n, &mut listing);
        }
        let mut matching: Vec<&Stored> = listing
            .iter()
            .filter(|m| {
                let after_bound = |after| if self.include_after { m.created >= after } else { m.created > after };
                after.is_none_or(after_bound) && before.is_none_or(|before| m.created < before)
            })
            .collect();
        match order_by.to_ascii_lowercase().as_str() {
            "createdat:asc" => matching.sort_by_key(|m| m.created),
            "createdat:desc" => matching.sort_by_key(|m| std::cmp::Reverse(m.created)),
            "id:asc" => matching.sort_by(|a, b| a.id.cmp(&b.id)),
            "id:desc" => matching.sort_by(|a, b| b.id.cmp(&a.id)),
            other => panic!("unknown orderBy `{other}`"),
        }
        let start = (page.saturating_mul(limit) as usize).min(matching.len());
        let end = start.saturating_add(limit as usize).min(matching.len());
        let messages: Vec<Value> = matching[start..end]
            .iter()
            .map(|m| {
                json!({
                    "id": m.id, "from": "447492263899", "to": "447496389711", "channel": "SMS", "direction": "INBOUND",
                    "conversationId": CONVERSATION, "createdAt": infobip_time(m.created),
                    "contentType": "TEXT", "content": {"text": format!("message {}", m.id)}
                })
            })
            .collect();
        let mut body = json!({
            "messages": messages,
            "pagination": {"totalItems": matching.len(), "page": asked_page, "limit": limit, "orderBy": order_by.to_uppercase()}
        });
        if let Some(tweak) = &self.tweak {
            tweak(n, &mut body);
        }
        let ids = body["messages"].as_array().into_iter().flatten();
        let ids = ids.filter_map(|m| m["id"].as_str().map(str::to_owned)).collect();
        self.served.lock().unwrap().push((n, ids));
        body
    }

    /// How many requests brought nothing new: every message of their
    /// answer was also in the answers to requests of an earlier filter
    /// (`createdAfter`, then page number). A key read has one: its end.
    fn requests_bringing_nothing_new(&self) -> usize {
        let asked = self.asked();
        let served = self.served.lock().unwrap();
        let filter = |n: usize| (asked[n].after, asked[n].page);
        served
            .iter()
            .filter(|(n, ids)| {
                let earlier: HashSet<&String> =
                    served.iter().filter(|(m, _)| filter(*m) < filter(*n)).flat_map(|(_, ids)| ids).collect();
                ids.iter().all(|id| earlier.contains(id))
            })
            .count()
    }

    fn asked(&self) -> Vec<Asked> {
        self.arrivals.lock().unwrap().iter().map(|(_, asked)| asked.clone()).collect()
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

struct Responder(Arc<Conversation>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let text = |name: &str| request.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let asked = Asked {
            after: text("createdAfter").map(|t| parse_time(&t)),
            before: text("createdBefore").map(|t| parse_time(&t)),
            page: text("page").and_then(|v| v.parse().ok()).unwrap_or(0),
            limit: text("limit").and_then(|v| v.parse().ok()).unwrap_or(10),
            order_by: text("orderBy"),
        };
        let conversation = &self.0;
        let n = {
            let mut arrivals = conversation.arrivals.lock().unwrap();
            arrivals.push((Instant::now(), asked));
            arrivals.len() - 1
        };
        if conversation.fail == Some(n) {
            let error = json!({"requestError": {"serviceException": {"messageId": "GENERAL_ERROR", "text": "failed"}}});
            return ResponseTemplate::new(500).set_body_json(error).set_delay(conversation.delay);
        }
        let response = ResponseTemplate::new(200).set_body_json(conversation.body(n, request));
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
    Client::new(&server.uri(), Credentials::AppKey(SecretString::from("test-key"))).unwrap()
}

fn options(page_size: u64, concurrency: usize) -> PagingOptions {
    PagingOptions {
        page_size: Some(page_size),
        concurrency,
        retry: RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
        resume: None,
    }
}

async fn collect(stream: impl Stream<Item = Result<MessagePage, Error>>) -> (Vec<MessagePage>, Option<Error>) {
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

/// The key a position holds, as JSON.
fn key(position: &Option<Position>) -> Value {
    match position {
        Some(Position::Cursor(cursor)) => serde_json::from_str(cursor).unwrap_or_else(|e| panic!("`{cursor}`: {e}")),
        other => panic!("an Infobip position is a cursor, not {other:?}"),
    }
}

/// The millisecond before the creation time of the last message of `page`:
/// the filter of the request after it.
fn next_filter(page: &MessagePage) -> DateTime<Utc> {
    let last = page.items.last().expect("a delivered page holds messages");
    DateTime::<Utc>::from(last.value().and_then(|m| m.created_at).expect("a decoded message with a time"))
        - TimeDelta::milliseconds(1)
}

#[tokio::test]
async fn every_message_arrives_once_in_order_paging_on_the_creation_time() {
    // (messages, page size, requests): the first page holds a page size, every
    // next one a page size less the message it starts at again (the newest
    // delivered). A short page that ends at the total the vendor counts for
    // its filter ends the read; otherwise a request bringing nothing new
    // does (10/10: a full page; 1/1: the filter's page 0 is the message
    // again, as full as asked, so its page 1 is asked once though the count
    // says that is all: a count that is short must not end the read).
    for (total, page_size, requests) in
        [(2345, 100, 25), (2000, 100, 22), (2345, MAX_PAGE_SIZE, 4), (10, 10, 2), (7, 10, 2), (1, 1, 3)]
    {
        let (server, conversation) = serve(Conversation::new(total)).await;
        let (pages, error) =
            collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, 1))).await;
        let case = format!("{total}/{page_size}");
        assert!(error.is_none(), "{case}: {error:?}");
        assert_eq!(ids(&pages), expected_ids(0..total), "{case}");
        let asked = conversation.asked();
        assert_eq!(asked.len(), requests, "{case}");
        assert!(
            asked.iter().all(|a| a.order_by.as_deref() == Some(ORDER) && a.limit == page_size),
            "{case}: {asked:?}"
        );
        assert_eq!(
            asked[0],
            Asked { after: None, before: None, page: 0, limit: page_size, order_by: Some(ORDER.to_owned()) },
            "{case}"
        );

        assert_eq!(pages[0].items.len() as u64, page_size.min(total), "{case}");
        let first_key = key(&pages[0].position);
        assert_eq!((first_key.get("after"), &first_key["page"]), (None, &json!(0)), "{case}: {first_key}");
        for (n, pair) in pages.windows(2).enumerate() {
            assert_eq!(pair[0].next, pair[1].position, "{case}: page {n} points at the next");
            if page_size > 1 {
                // The request for each next page: the millisecond before
                // the newest message delivered, page 0 of that filter.
                assert_eq!(asked[n + 1].after, Some(next_filter(&pair[0])), "{case}: request {}", n + 1);
                assert_eq!(asked[n + 1].page, 0, "{case}: request {}", n + 1);
                assert!(
                    (pair[1].items.len() as u64) < page_size,
                    "{case}: page {} starts at a message delivered",
                    n + 1
                );
            }
        }
        let last = pages.last().unwrap();
        if requests == pages.len() {
            assert_eq!(last.next, None, "{case}: the short page ending at the vendor's total is the last");
            assert!((last.items.len() as u64) < page_size, "{case}");
        } else {
            // The read ended on a request after the last page.
            assert!(last.next.is_some(), "{case}");
            if page_size > 1 {
                assert_eq!(asked.last().unwrap().after, Some(next_filter(last)), "{case}");
            }
        }
    }
}

#[tokio::test]
async fn the_default_page_size_is_the_largest_infobip_allows() {
    let (server, conversation) = serve(Conversation::new(1500)).await;
    let options = PagingOptions { retry: RetryPolicy::none(), ..PagingOptions::default() };
    let messages: Vec<_> = client(&server).messages(MessagesQuery::new(CONVERSATION), options).collect().await;
    assert_eq!(messages.len(), 1500);
    assert!(messages.iter().all(Result::is_ok));
    // 999, then 501 new after the newest, then the request that brings
    // nothing new.
    assert_eq!(conversation.asked().len(), 3);
    for request in server.received_requests().await.unwrap() {
        assert!(request.url.query_pairs().any(|(k, v)| k == "limit" && v == "999"), "{}", request.url);
    }
}

#[tokio::test]
async fn an_empty_conversation_takes_one_request_and_gives_one_empty_last_page() {
    let (server, conversation) = serve(Conversation::new(0)).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(pages.len(), 1);
    assert!(pages[0].items.is_empty());
    assert_eq!(key(&pages[0].position)["page"], json!(0));
    assert_eq!(pages[0].next, None);
    assert_eq!(conversation.asked().len(), 1);
}

#[tokio::test]
async fn without_concurrency_pages_are_fetched_one_after_another() {
    // Each request's filter is the newest message of the page before it.
    let (server, conversation) = serve(Conversation::new(1500).delay(Duration::from_millis(50))).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..1500));
    assert_eq!(conversation.asked().len(), 17, "100, then 99 a page, and the request that brings nothing new");
    assert_eq!(conversation.max_in_flight(), 1);
}

/// With concurrency, the rest of the conversation after the first page is
/// read in time windows at once (each bounded by `createdBefore`, the last
/// open-ended), and delivered in order: every message once, in order.
#[tokio::test]
async fn with_concurrency_time_windows_are_read_at_once_and_delivered_in_order() {
    for (total, page_size) in [(1500, 100), (2345, 100), (5000, 999), (250, 100), (120, 100)] {
        // (Well over what the test server takes to answer a page of 999 in
        // a debug build on a loaded machine, one request at a time, and the
        // client to decode it on the same thread: requests sent at once then
        // arrive while the one before is held back.)
        let (server, conversation) = serve(Conversation::new(total).delay(Duration::from_millis(100))).await;
        let (pages, error) =
            collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, 4))).await;
        let case = format!("{total}/{page_size}");
        assert!(error.is_none(), "{case}: {error:?}");
        assert_eq!(ids(&pages), expected_ids(0..total), "{case}: every message once, in order");
        let asked = conversation.asked();
        let windows = asked.iter().filter(|a| a.page == 0).count();
        assert!(conversation.max_in_flight() <= 4, "{case}: at most the concurrency in flight");
        // More than a page left after the first is read in windows at once
        // (each window holds something: fewer windows than pages left); a
        // page or less, one page after another.
        let pages_left = total.saturating_sub(page_size).div_ceil(page_size - 1);
        if pages_left > 1 {
            assert!(conversation.max_in_flight() > 1, "{case}: windows are read at once");
        } else {
            assert_eq!(conversation.max_in_flight(), 1, "{case}: one window: one page after another");
        }
        // Never more than the windows of about three pages sent their end
        // as `createdBefore` took: the first page, then each window's pages
        // (its last may be short) and the request that ended it.
        let bound = 1 + pages_left + 2 * pages_left.div_ceil(3) + 1;
        assert!(asked.len() as u64 <= bound, "{case}: {} requests, at most {bound}", asked.len());
        assert!(windows >= 1, "{case}");
        for (n, pair) in pages.windows(2).enumerate() {
            assert!(pair[0].next.is_some(), "{case}: page {n} has a next position");
        }
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
        order_by: Some(ORDER.to_owned()),
        ..MessagesQuery::new(CONVERSATION)
    };
    let (pages, error) = collect(client(&server).pages(query, options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..250));
    assert_eq!(pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(), [100, 99, 51]);
    let queries: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    // The query's createdAfter first, then the millisecond before the newest
    // message delivered: m00099, m00198, m00249 (the request after that
    // nothing of what it brings is new: the end).
    let afters = [base(), created(99), created(198), created(249)];
    let expected: Vec<String> = afters
        .iter()
        .enumerate()
        .map(|(n, &after)| {
            let after = if n == 0 { after } else { after - TimeDelta::milliseconds(1) };
            format!(
                "channel=WHATSAPP&createdAfter={}&createdBefore=2024-02-01T00%3A00%3A00.000%2B0000\
                 &direction=OUTBOUND&limit=100&messageIds=m1&messageIds=m+2&orderBy=createdAt%3Aasc&page=0",
                query_time(after)
            )
        })
        .collect();
    assert_eq!(queries, expected);
    assert!(queries[1].contains("createdAfter=2024-01-01T00%3A01%3A39.999%2B0000"), "{}", queries[1]);
}

#[tokio::test]
async fn the_querys_created_after_is_where_the_stream_starts() {
    let (server, conversation) = serve(Conversation::new(300)).await;
    // m00049 was created at exactly this time: the filter is exclusive.
    let query = MessagesQuery { created_after: Some(Timestamp::from(created(49))), ..MessagesQuery::new(CONVERSATION) };
    let (pages, error) = collect(client(&server).pages(query, options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(50..300));
    assert_eq!(conversation.asked()[0].after, Some(created(49)));
    assert!(
        server.received_requests().await.unwrap().iter().all(|r| r
            .url
            .query()
            .unwrap()
            .contains("orderBy=createdAt%3Aasc"))
    );
}

#[tokio::test]
async fn a_stream_resumes_from_the_next_position_of_an_earlier_run() {
    let (server, conversation) = serve(Conversation::new(2345)).await;
    let c = client(&server);
    let first: Vec<MessagePage> =
        c.pages(MessagesQuery::new(CONVERSATION), options(100, 1)).take(3).map(Result::unwrap).collect().await;
    assert_eq!(ids(&first), expected_ids(0..298));
    assert_eq!(conversation.asked().len(), 3, "a dropped stream fetches nothing more");
    let resume = first.last().unwrap().next.clone();
    assert!(matches!(resume, Some(Position::Cursor(_))), "{resume:?}");

    let resumed = PagingOptions { resume: resume.clone(), ..options(100, 1) };
    let (rest, error) = collect(c.pages(MessagesQuery::new(CONVERSATION), resumed)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&rest), expected_ids(298..2345), "every message after the first run's, once");
    assert_eq!(rest[0].position, resume);
    assert_eq!(
        conversation.asked()[3].after,
        Some(next_filter(&first[2])),
        "the resumed read asks where the first left off"
    );

    // Resuming from where a whole read ended brings nothing more. (Without
    // a total the read ends on a request after its last page, which the
    // last page points at.)
    let bare = Conversation::new(2345).tweak(|_, body| {
        body.as_object_mut().unwrap().remove("pagination");
    });
    let (server, _) = serve(bare).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    let past_the_end = PagingOptions { resume: pages.last().unwrap().next.clone(), ..options(100, 1) };
    assert!(past_the_end.resume.is_some());
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), past_the_end)).await;
    assert!(error.is_none(), "{error:?}");
    assert!(ids(&pages).is_empty(), "{:?}", ids(&pages));
}

#[tokio::test]
async fn an_invalid_page_size_resume_position_order_or_conversation_is_refused_without_a_request() {
    let (server, conversation) = serve(Conversation::new(10)).await;
    let query = || MessagesQuery::new(CONVERSATION);
    let ordered = |order: &str| MessagesQuery { order_by: Some(order.to_owned()), ..query() };
    let invalid = [
        (query(), options(0, 1), "page size"),
        (query(), options(MAX_PAGE_SIZE + 1, 4), "page size"),
        (query(), PagingOptions { resume: Some(Position::Cursor("abc".to_owned())), ..options(10, 1) }, "resume"),
        (query(), PagingOptions { resume: Some(Position::Page(5)), ..options(10, 1) }, "resume"),
        (query(), PagingOptions { resume: Some(Position::Page(0)), ..options(10, 1) }, "resume"),
        (query(), PagingOptions { resume: Some(Position::Page(u64::MAX)), ..options(10, 1) }, "resume"),
        (ordered("createdAt:desc"), options(10, 1), "order_by"),
        (ordered("id:asc"), options(10, 1), "order_by"),
        (MessagesQuery::new(".."), options(10, 1), "conversation id"),
        (MessagesQuery::new(""), options(10, 1), "conversation id"),
    ];
    for (query, options, expected) in invalid {
        let (pages, error) = collect(client(&server).pages(query, options)).await;
        assert!(pages.is_empty());
        assert!(matches!(error, Some(Error::InvalidQuery { name, .. }) if name == expected), "{expected}: {error:?}");
    }
    assert!(conversation.asked().is_empty());
    assert!(server.received_requests().await.unwrap().is_empty());

    // The one order the stream reads in is accepted however it is spelt.
    let (pages, error) = collect(client(&server).pages(ordered("CREATEDAT:ASC"), options(10, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..10));
    assert!(conversation.asked().iter().all(|a| a.order_by.as_deref() == Some(ORDER)));
}

#[tokio::test]
async fn messages_added_or_deleted_during_the_read_are_neither_skipped_nor_repeated() {
    // Before the fourth request (the total it reports changes with it): a
    // delivered message and one not yet read are deleted, and a new one
    // comes at the end.
    let changing = Conversation::new(2345).change(|n, listing| {
        if n == 3 {
            listing.retain(|m| m.id != id(50) && m.id != id(1000));
            listing.push(Stored { id: "new-1".to_owned(), created: created(10_000) });
        }
    });
    let (server, _) = serve(changing).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    let mut expected: Vec<String> = expected_ids(0..2345).into_iter().filter(|m| *m != id(1000)).collect();
    expected.push("new-1".to_owned());
    assert_eq!(ids(&pages), expected);
}

#[tokio::test]
async fn a_server_capping_the_page_size_is_followed_to_the_end() {
    // A vendor that applies a smaller page size than asked: every page is
    // read from the newest message delivered, so nothing is skipped.
    let capped = Conversation::new(2345).tweak(|_, body| {
        body["messages"].as_array_mut().unwrap().truncate(50);
    });
    let (server, conversation) = serve(capped).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..2345));
    assert_eq!(pages[0].items.len(), 50);
    assert_eq!(conversation.asked().len(), 49, "50, then 49 a page, and the request that brings nothing new");
}

#[tokio::test]
async fn a_short_page_is_never_the_end_by_itself() {
    // 7 of 7, counted right: a server that caps its pages and counts only
    // what it served would look the same, so the next request tells.
    let (server, conversation) = serve(Conversation::new(7)).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(10, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..7));
    assert!(pages[0].next.is_some());
    assert_eq!(conversation.asked().len(), 2);
    assert_eq!(conversation.asked()[1].after, Some(created(6) - TimeDelta::milliseconds(1)));

    // A server capping at 5 that counts what it served: followed to the end.
    let capped = Conversation::new(7).tweak(|_, body| {
        body["messages"].as_array_mut().unwrap().truncate(5);
        let served = body["messages"].as_array().unwrap().len();
        body["pagination"]["totalItems"] = json!(served);
    });
    let (server, _) = serve(capped).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(10, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..7));

    // 7 where the vendor counts 8: followed until nothing new comes.
    let understated = Conversation::new(7).tweak(|_, body| body["pagination"]["totalItems"] = json!(8));
    let (server, conversation) = serve(understated).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(10, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..7));
    assert_eq!(conversation.asked().len(), 2);

    // A later short page: 52 matching its filter, counted 51 or 53 by the
    // vendor, does not add up; the next request tells there is nothing more.
    for counted in [51, 53] {
        let misstated = Conversation::new(250).tweak(move |n, body| {
            if n == 2 {
                body["pagination"]["totalItems"] = json!(counted);
            }
        });
        let (server, conversation) = serve(misstated).await;
        let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(ids(&pages), expected_ids(0..250), "{counted}");
        assert_eq!(conversation.asked().len(), 4, "{counted}");
        assert!(pages.last().unwrap().next.is_some(), "{counted}");
    }
}

#[tokio::test]
async fn an_empty_page_mid_read_whose_total_says_more_ends_the_stream() {
    let empty = Conversation::new(2345).tweak(|n, body| {
        if n == 4 {
            body["messages"] = json!([]);
        }
    });
    let (server, conversation) = serve(empty).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(matches!(error, Some(Error::EmptyPageWithMore { .. })), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..100 + 3 * 99), "the pages before it, once each");
    assert_eq!(conversation.asked().len(), 5);
}

#[tokio::test]
async fn an_empty_page_without_a_total_is_asked_for_again_before_it_is_the_end() {
    // Where the newest message delivered should have come again, nothing
    // came, and no total says why: asked once more, the page is there.
    let lost = Conversation::new(2345).tweak(|n, body| {
        if n == 4 {
            body["messages"] = json!([]);
            body.as_object_mut().unwrap().remove("pagination");
        }
    });
    let (server, conversation) = serve(lost).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..2345));
    let asked = conversation.asked();
    assert_eq!(asked[4], asked[5], "the same request, once more");
}

#[tokio::test]
async fn empty_pages_without_a_total_after_messages_end_the_stream_with_an_error_not_as_the_end() {
    // Was: asked once more, then taken for the end, with exit 0 and the
    // first page of 2,345 messages. Without a count, "the newest message
    // was deleted and nothing followed" looks the same as a server that
    // stopped listing: the read cannot show it is whole.
    let stopped = Conversation::new(2345).tweak(|n, body| {
        if n >= 1 {
            body["messages"] = json!([]);
            body.as_object_mut().unwrap().remove("pagination");
        }
    });
    let (server, conversation) = serve(stopped).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(matches!(error, Some(Error::UnprovenEnd { .. })), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..100), "the page before it, once");
    let asked = conversation.asked();
    assert_eq!(asked.len(), 3, "the first page, the empty one, and it once more");
    assert_eq!(asked[1], asked[2]);
}

#[tokio::test]
async fn the_newest_message_deleted_at_the_end_is_the_end_where_counted_and_an_error_where_not() {
    // Deleted after the last page delivered it: the request after it finds
    // nothing. With Infobip's count of 0 that is the end; without a count
    // it cannot be told from a server that stopped listing.
    for counted in [true, false] {
        let deleted = Conversation::new(250)
            .change(|n, listing| {
                if n == 3 {
                    listing.retain(|m| m.id != id(249));
                }
            })
            .tweak(move |_, body| {
                if !counted {
                    body.as_object_mut().unwrap().remove("pagination");
                }
            });
        let (server, conversation) = serve(deleted).await;
        let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
        assert_eq!(ids(&pages), expected_ids(0..250), "counted: {counted}");
        if counted {
            assert!(error.is_none(), "{error:?}");
        } else {
            assert!(matches!(error, Some(Error::UnprovenEnd { .. })), "{error:?}");
        }
        assert_eq!(conversation.asked().len(), 5, "counted: {counted}: the empty page is asked for twice");
    }
}

#[tokio::test]
async fn a_message_before_the_filter_or_out_of_creation_order_ends_the_stream() {
    // A message created before the filter asked for: the vendor ignored it.
    let ghost = Conversation::new(250).tweak(|n, body| {
        if n == 1 {
            let ghost = json!({"id": "ghost", "createdAt": "2023-12-31T00:00:00.000+0000"});
            body["messages"].as_array_mut().unwrap().insert(0, ghost);
        }
    });
    let (server, _) = serve(ghost).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert_eq!(ids(&pages), expected_ids(0..100));
    let Some(Error::OutOfOrder { page, id: bad, reason }) = &error else { panic!("{error:?}") };
    assert_eq!((&page.0, bad.as_str()), (&pages[0].next, "ghost"));
    assert!(reason.contains("filter"), "{reason}");

    // Two messages of the first page in the wrong order: the vendor ignored `orderBy`.
    let swapped = Conversation::new(250).tweak(|n, body| {
        if n == 0 {
            body["messages"].as_array_mut().unwrap().swap(50, 51);
        }
    });
    let (server, _) = serve(swapped).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert!(pages.is_empty(), "{:?}", ids(&pages));
    let Some(Error::OutOfOrder { page, id: bad, reason }) = &error else { panic!("{error:?}") };
    assert_eq!((key(&page.0)["page"].clone(), bad.as_str()), (json!(0), id(50).as_str()));
    assert!(reason.contains("already delivered"), "{reason}");
}

#[tokio::test]
async fn without_a_total_pages_are_read_one_at_a_time_until_a_request_brings_nothing_new() {
    for (total, requests) in [(250, 4), (200, 4), (7, 2), (0, 1)] {
        let bare = Conversation::new(total).delay(Duration::from_millis(20)).tweak(|_, body| {
            body.as_object_mut().unwrap().remove("pagination");
        });
        let (server, conversation) = serve(bare).await;
        let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(ids(&pages), expected_ids(0..total));
        assert_eq!(conversation.asked().len(), requests, "{total}");
        assert_eq!(conversation.max_in_flight(), 1);
        // The last page points at the request that brought nothing new (an
        // empty conversation's one page points nowhere).
        assert_eq!(pages.last().unwrap().next.is_some(), total > 0, "{total}");
    }
}

#[tokio::test]
async fn a_page_that_says_it_is_another_page_ends_the_stream_with_wrong_page() {
    let ignoring = Conversation::new(2345).tweak(|n, body| {
        if n == 2 {
            body["pagination"]["page"] = json!(1);
        }
    });
    let (server, _) = serve(ignoring).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 1))).await;
    assert_eq!(ids(&pages), expected_ids(0..199));
    let Some(Error::WrongPage { page, served }) = &error else { panic!("{error:?}") };
    assert_eq!((&page.0, *served), (&pages[1].next, 1));
}

/// 25 messages of one millisecond, then 5 a second apart.
fn one_millisecond_then_more() -> Vec<Stored> {
    let tie = base() + TimeDelta::milliseconds(500);
    (0..30).map(|i| Stored { id: id(i), created: if i < 25 { tie } else { created(i) } }).collect()
}

#[tokio::test]
async fn messages_sharing_a_millisecond_are_read_on_the_next_pages_of_the_same_filter() {
    let (server, conversation) = serve(Conversation::of(one_millisecond_then_more())).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(10, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..30));
    let tie_filter = Some(base() + TimeDelta::milliseconds(499));
    let asked: Vec<(Option<DateTime<Utc>>, u64)> = conversation.asked().iter().map(|a| (a.after, a.page)).collect();
    assert_eq!(
        asked,
        [
            (None, 0),
            (tie_filter, 0),
            (tie_filter, 1),
            (tie_filter, 2),
            (Some(created(29) - TimeDelta::milliseconds(1)), 0)
        ],
        "page 0 of the tie brings nothing new: its pages 1 and 2 are asked"
    );

    // A server that ignores `page` there would loop: page 1 of the tie,
    // served as page 0 again, holds messages already delivered, and the
    // stream ends.
    let (server, conversation) = serve(Conversation::of(one_millisecond_then_more()).ignoring_page()).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(10, 1))).await;
    assert_eq!(ids(&pages), expected_ids(0..10));
    assert!(matches!(&error, Some(Error::RepeatedMessage { .. })), "{error:?}");
    let asked: Vec<(Option<DateTime<Utc>>, u64)> = conversation.asked().iter().map(|a| (a.after, a.page)).collect();
    assert_eq!(asked, [(None, 0), (tie_filter, 0), (tie_filter, 1)]);
}

/// A server that ignores `createdBefore` sends each window's messages on
/// past its end: the window ends at its first message past the end, and
/// the next window delivers it. Every message once, in order.
#[tokio::test]
async fn a_server_ignoring_created_before_is_still_read_in_windows_exactly_once() {
    let (server, _) = serve(Conversation::new(2345).ignoring_created_before()).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..2345));
}

/// Past a window's end, oldest first, nothing may come that is inside the
/// window: a server that ignores `createdBefore` and serves the second half
/// of each page backwards puts a message past a window's end before
/// messages inside it, which would otherwise fall between two windows. The
/// read ends with an error after a prefix, never a set with holes.
#[tokio::test]
async fn a_message_inside_a_window_after_one_past_its_end_ends_the_read() {
    let backwards_tail = |n: usize, body: &mut Value| {
        if n == 0 {
            return;
        }
        if let Some(messages) = body["messages"].as_array_mut() {
            let half = messages.len() / 2;
            messages[half..].reverse();
        }
    };
    let (server, _) = serve(Conversation::new(2345).ignoring_created_before().tweak(backwards_tail)).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    let error = error.expect("a listing out of order ends the read");
    assert!(matches!(error, Error::OutOfOrder { .. }), "{error:?}");
    let got = ids(&pages);
    assert!(got.len() < 2345);
    assert_eq!(got, expected_ids(0..got.len() as u64), "a prefix, in order, nothing repeated or skipped");
}

/// A window's first page that comes back empty with a count of 0 (a page
/// lost on the way) is asked for again before the window is taken as empty:
/// the count alone never ends a window, as it never ends a read.
#[tokio::test]
async fn an_empty_first_page_of_a_window_is_asked_for_again_whatever_its_count() {
    let lost = |n: usize, body: &mut Value| {
        if (1..=4).contains(&n) {
            body["messages"] = json!([]);
            body["pagination"]["totalItems"] = json!(0);
        }
    };
    let (server, _) = serve(Conversation::new(2345).tweak(lost)).await;
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(100, 4))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..2345), "every message once, in order");
}

/// 1,000 messages a second apart, read 100 a page with concurrency 4.
///
/// How the read is laid out (`Windowed::split`): the first page holds
/// m00000–m00099 and its count is 1,000, so 900 are left, P = 900 / 99 =
/// 9.09 pages of 99 new messages. With the window before the last ending on
/// the page that crosses its end (floor(c) + 1 requests for c pages) and the
/// last paying the request that brings nothing new (floor(c) + 2), P + 1 =
/// 10.09 pages over 4 is 3 rounds a window: W = ceil(10.09 / 3) = 4 windows
/// of x = 2.52 pages, the last one of 1.52. The first page's pace is 99 s
/// over 100 messages, so the rest probably spans 891 s after m00099; the
/// windows end at 891 s × x·i / P = 247.252 s, 494.505 s and 741.757 s after
/// it: m00100–m00346, m00347–m00593, m00594–m00840 (247 each) and
/// m00841–m00999 (159).
/// - The first window starts at m00099 again: 99, 99, then m00297–m00396,
///   which crosses its end at m00347: 3 requests, none after the crossing.
/// - The second and third start at their floor: 100, 99, then a page that
///   brings their last 48 and crosses their end: 3 requests each.
/// - The last: 100, 59 (short, never the end by itself), and the request
///   that brings nothing new: 3.
///
/// 1 + 4 × 3 = 13 requests, 4 rounds of round trips, against 17 (5 rounds)
/// when each window sent its end as `createdBefore` and ended on a request
/// of its own, and the sequential read's 12 (1 + 10 pages + its end).
const WINDOWED: (u64, u64, usize, usize) = (1000, 100, 4, 13);

/// The end of the first of [`WINDOWED`]'s windows, the second's start.
fn first_window_end() -> DateTime<Utc> {
    created(99) + TimeDelta::milliseconds(247_252)
}

/// Every page points at the next one: within a window as a sequential read
/// does, and across windows the crossing page points at the next window's
/// start (where a resumed read goes on).
fn assert_pages_chain(pages: &[MessagePage], case: &str) {
    for (n, pair) in pages.windows(2).enumerate() {
        assert_eq!(pair[0].next, pair[1].position, "{case}: page {n} points at the next");
    }
}

#[tokio::test]
async fn windows_before_the_last_send_only_the_querys_created_before_and_end_on_the_crossing_page() {
    let (total, page_size, concurrency, requests) = WINDOWED;
    let (server, conversation) = serve(Conversation::new(total).delay(Duration::from_millis(20))).await;
    let (pages, error) =
        collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, concurrency))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..total), "every message once, in order");
    let asked = conversation.asked();
    assert!(asked.iter().all(|a| a.before.is_none()), "no window sends its end: {asked:?}");
    // The four windows' starts: the first page's newest, then each floor.
    // (Every other request starts a millisecond before a message's whole second.)
    let starts = asked.iter().filter(|a| a.page == 0 && a.after.is_some_and(|t| t.timestamp_subsec_millis() != 999));
    let floors: Vec<DateTime<Utc>> = starts.map(|a| a.after.unwrap() + TimeDelta::milliseconds(1)).collect();
    assert_eq!(floors.len(), 3, "three windows after the first: {asked:?}");
    assert!(floors.contains(&first_window_end()), "{floors:?}");
    assert_eq!(asked.len(), requests, "{asked:?}");
    assert_eq!(conversation.requests_bringing_nothing_new(), 1, "only the last window's end brings nothing new");
    assert!(conversation.max_in_flight() <= concurrency);
    assert_pages_chain(&pages, "windows");
}

#[tokio::test]
async fn across_windows_every_message_comes_once_in_order_when_pages_go_past_a_windows_end() {
    // Every window before the last reads past its end on its last page; a
    // server that caps its pages (the windows are then longer than planned)
    // changes nothing but the request count.
    for (total, page_size, concurrency) in
        [(1000, 100, 4), (2345, 100, 4), (5000, 999, 4), (1500, 100, 2), (250, 100, 3)]
    {
        for capped in [false, true] {
            let conversation = Conversation::new(total);
            let conversation = if capped {
                conversation.tweak(|_, body| body["messages"].as_array_mut().unwrap().truncate(60))
            } else {
                conversation
            };
            let (server, conversation) = serve(conversation).await;
            let (pages, error) =
                collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, concurrency))).await;
            let case = format!("{total}/{page_size}/{concurrency} capped {capped}");
            assert!(error.is_none(), "{case}: {error:?}");
            assert_eq!(ids(&pages), expected_ids(0..total), "{case}: every message once, in order");
            // One request brings nothing new: the last window's end. (And
            // the last window's first page, when the page that crossed the
            // end of the window before brought all of it: 250 messages, a
            // last window of 27, shorter than the page of 100 that crossed;
            // capped at 60, that page brings only part of it.)
            let nothing_new = conversation.requests_bringing_nothing_new();
            let expected = if total == 250 && !capped { 2 } else { 1 };
            assert_eq!(nothing_new, expected, "{case}: the last window's end");
            // Never more than windows of about three pages that sent their
            // end took (as in the test of the windows above).
            let first = if capped { 60 } else { page_size };
            let pages_left = (total - first).div_ceil(first - 1);
            let bound = 1 + pages_left + 2 * pages_left.div_ceil(3) + 1;
            let asked = conversation.asked().len() as u64;
            assert!(asked <= bound, "{case}: {asked} requests, at most {bound}");
            assert_pages_chain(&pages, &case);
        }
    }
}

#[tokio::test]
async fn messages_added_during_a_windowed_read_come_once_at_the_end() {
    // New messages while the windows are read (before the first window's
    // request is answered, once the windows' bounds are set from the first
    // page): after every message so far, so in the last (open-ended)
    // window; the windows before it see them past their end and leave them
    // to it.
    let (total, page_size, concurrency, _) = WINDOWED;
    let adding = Conversation::new(total).change(move |n, listing| {
        if n >= 1 && listing.len() as u64 == total {
            listing.extend((total..total + 3).map(|k| Stored { id: id(k), created: created(k) }));
        }
    });
    let (server, conversation) = serve(adding).await;
    let (pages, error) =
        collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, concurrency))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..total + 3), "every message once, in order, the new ones last");
    assert_eq!(conversation.requests_bringing_nothing_new(), 1);
    assert_pages_chain(&pages, "adding");
}

#[tokio::test]
async fn messages_sharing_the_millisecond_of_a_window_boundary_come_once_in_order() {
    // [`WINDOWED`]'s first window ends at `end` (its bounds are set from the
    // first page, before these are added): 150 messages in its last
    // millisecond and 150 at `end` itself, each more than a page. The first
    // window reads its 150 by page number and crosses on the page that
    // brings the first of `end`'s; the second starts with `end`'s.
    let (total, page_size, concurrency, _) = WINDOWED;
    let end = first_window_end();
    let ties = move |listing: &mut Vec<Stored>| {
        if listing.iter().any(|m| m.id.starts_with("tie")) {
            return;
        }
        let at = listing.iter().position(|m| m.created > end).unwrap();
        let last = (0..150).map(|i| Stored { id: format!("tie-a{i:03}"), created: end - TimeDelta::milliseconds(1) });
        let first = (0..150).map(|i| Stored { id: format!("tie-b{i:03}"), created: end });
        listing.splice(at..at, last.chain(first));
    };
    let conversation = Conversation::new(total).change(move |n, listing| {
        if n >= 1 {
            ties(listing);
        }
    });
    let (server, conversation) = serve(conversation).await;
    let (pages, error) =
        collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, concurrency))).await;
    assert!(error.is_none(), "{error:?}");
    let expected: Vec<String> = conversation.listing.lock().unwrap().iter().map(|m| m.id.clone()).collect();
    assert_eq!(expected.len() as u64, total + 300);
    assert_eq!(ids(&pages), expected, "every message once, in order");
    let asked = conversation.asked();
    let boundary = end - TimeDelta::milliseconds(1);
    assert!(asked.iter().any(|a| a.after == Some(boundary) && a.page == 0), "a window starts at `end`: {asked:?}");
    assert!(asked.iter().any(|a| a.after == Some(boundary) && a.page == 1), "`end`'s 150 take two pages");
    assert!(
        asked.iter().any(|a| a.after == Some(boundary - TimeDelta::milliseconds(1)) && a.page == 1),
        "the first window's last 150 take two pages"
    );

    // Each page's next position, resumed one page after another, gives
    // the rest once: across the boundary too (where the page that crossed
    // holds `end`'s first 50, which its filter's next page number skips).
    let mut before = 0;
    for page in &pages {
        before += page.items.len();
        let options = PagingOptions { resume: page.next.clone(), ..options(page_size, 1) };
        let (rest, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options)).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(ids(&rest), expected[before..], "resumed after {before}");
    }
    assert_pages_chain(&pages, "ties");
}

#[tokio::test]
async fn a_windowed_read_ends_at_the_querys_own_created_before() {
    // The query's bound between m00699 and m00700: every window sends it,
    // the last ends at it, and nothing past it is delivered, from a server
    // that applies it or not, with messages added past it during the read.
    let (total, page_size, concurrency, _) = WINDOWED;
    let bound = created(699) + TimeDelta::milliseconds(500);
    for ignoring in [false, true] {
        let conversation = Conversation::new(total).change(|n, listing| {
            if n == 2 {
                listing.push(Stored { id: "late".to_owned(), created: created(5000) });
            }
        });
        let conversation = if ignoring { conversation.ignoring_created_before() } else { conversation };
        let (server, conversation) = serve(conversation).await;
        let query = MessagesQuery { created_before: Some(Timestamp::from(bound)), ..MessagesQuery::new(CONVERSATION) };
        let (pages, error) = collect(client(&server).pages(query, options(page_size, concurrency))).await;
        assert!(error.is_none(), "{ignoring}: {error:?}");
        assert_eq!(ids(&pages), expected_ids(0..700), "{ignoring}: up to the bound, once, in order");
        let asked = conversation.asked();
        assert!(asked.iter().all(|a| a.before == Some(bound)), "{ignoring}: {asked:?}");
        assert!(asked.iter().filter(|a| a.page == 0).count() > 2, "{ignoring}: read in windows: {asked:?}");
        // The last window ends on a request that brings nothing new, or on
        // the first message past the bound from a server that ignores it.
        assert_eq!(conversation.requests_bringing_nothing_new(), usize::from(!ignoring), "{ignoring}");
    }
}

#[tokio::test]
async fn a_crossing_page_whose_messages_inside_the_window_have_no_time_still_ends_the_window() {
    // [`WINDOWED`]'s first window crosses its end on the page that starts
    // at m00297 (delivered already) and brings m00298–m00346, then m00347
    // past the end. Without their times there is nothing on the page to
    // page on, but nothing is left to page for: the message past the end
    // ends the window, and the read goes on with the next one.
    let (total, page_size, concurrency, _) = WINDOWED;
    let end = first_window_end();
    let timeless = move |_: usize, body: &mut Value| {
        let messages = body["messages"].as_array_mut().unwrap();
        if messages.first().is_some_and(|m| m["id"] == id(297)) {
            for message in messages.iter_mut().filter(|m| parse_time(m["createdAt"].as_str().unwrap()) < end) {
                message.as_object_mut().unwrap().remove("createdAt");
            }
        }
    };
    let (server, conversation) = serve(Conversation::new(total).tweak(timeless)).await;
    let (pages, error) =
        collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, concurrency))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..total), "every message once, in order");
    let asked = conversation.asked();
    assert!(asked.iter().any(|a| a.after == Some(created(297) - TimeDelta::milliseconds(1))), "{asked:?}");
    assert_eq!(asked.len(), WINDOWED.3, "no request more");
    assert_pages_chain(&pages, "timeless");
}

#[tokio::test]
async fn a_window_that_stops_on_a_bug_ends_the_read_with_an_error_not_with_fewer_messages() {
    // A window's task panics (here its retry callback, on a 500): the read
    // must not take the window's silence for its end.
    let (total, page_size, concurrency, _) = WINDOWED;
    let (server, _) = serve(Conversation::new(total).failing(2)).await;
    let retry = RetryPolicy {
        on_retry: Some(convo_runtime::OnRetry::new(|_| panic!("a bug in a retry callback"))),
        ..RetryPolicy::default()
    };
    let options = PagingOptions { retry, ..options(page_size, concurrency) };
    let (pages, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options)).await;
    let error = error.expect("an error, not a shorter conversation");
    assert!(matches!(error, Error::Stopped { .. }), "{error:?}");
    assert_eq!(error.kind(), convo_runtime::ErrorKind::Internal);
    let delivered = ids(&pages);
    assert!(delivered.len() < total as usize);
    assert_eq!(delivered, expected_ids(0..delivered.len() as u64), "what came before, once, in order");
}

#[tokio::test]
async fn a_count_past_the_last_time_there_is_costs_requests_not_a_panic() {
    let (total, page_size, concurrency, _) = WINDOWED;
    let lie = |n: usize, body: &mut Value| {
        if n == 0 {
            body["pagination"]["totalItems"] = json!(1_000_000_000_000_000u64);
        }
    };
    let (server, conversation) = serve(Conversation::new(total).tweak(lie)).await;
    let (pages, error) =
        collect(client(&server).pages(MessagesQuery::new(CONVERSATION), options(page_size, concurrency))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..total), "every message once, in order");
    assert!(conversation.asked().len() <= 200, "{} requests", conversation.asked().len());
}

#[tokio::test]
async fn a_message_without_a_time_after_a_windows_end_comes_once_in_order_and_resumes_once() {
    // m00350 has no `createdAt` on any page: it comes on the first window's
    // crossing page after m00347, which is past that window's end, so it is
    // the next window's.
    let (total, page_size, concurrency, _) = WINDOWED;
    let timeless = |_: usize, body: &mut Value| {
        for message in body["messages"].as_array_mut().unwrap() {
            if message["id"] == id(350) {
                message.as_object_mut().unwrap().remove("createdAt");
            }
        }
    };
    let (server, _) = serve(Conversation::new(total).tweak(timeless)).await;
    let c = client(&server);
    let (pages, error) = collect(c.pages(MessagesQuery::new(CONVERSATION), options(page_size, concurrency))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(0..total), "every message once, in order");
    // From every page's next position, the rest once.
    for (n, page) in pages.iter().enumerate() {
        let resumed = PagingOptions { resume: page.next.clone(), ..options(page_size, 1) };
        let (rest, error) = collect(c.pages(MessagesQuery::new(CONVERSATION), resumed)).await;
        assert!(error.is_none(), "after page {n}: {error:?}");
        let mut both = ids(&pages[..=n]);
        both.extend(ids(&rest));
        assert_eq!(both, expected_ids(0..total), "resumed after page {n}");
    }
}

#[tokio::test]
async fn a_resumed_read_does_not_take_an_empty_first_answer_for_the_end() {
    let (server, _) = serve(Conversation::new(2345)).await;
    let first: Vec<MessagePage> = client(&server)
        .pages(MessagesQuery::new(CONVERSATION), options(100, 1))
        .take(3)
        .map(Result::unwrap)
        .collect()
        .await;
    let resume = first.last().unwrap().next.clone();
    // Another server of the same conversation, whose first answer is lost.
    let lost = |n: usize, body: &mut Value| {
        if n == 0 {
            body["messages"] = json!([]);
        }
    };
    let (server, _) = serve(Conversation::new(2345).tweak(lost)).await;
    let resumed = PagingOptions { resume, ..options(100, 1) };
    let (rest, error) = collect(client(&server).pages(MessagesQuery::new(CONVERSATION), resumed)).await;
    assert!(matches!(error, Some(Error::EmptyPageWithMore { .. })), "{error:?}: not a quiet end");
    assert!(ids(&rest).is_empty());
}

#[tokio::test]
async fn a_server_whose_created_after_includes_its_bound_still_starts_after_it() {
    let (server, _) = serve(Conversation::new(300).including_created_after()).await;
    let query = MessagesQuery { created_after: Some(Timestamp::from(created(49))), ..MessagesQuery::new(CONVERSATION) };
    let (pages, error) = collect(client(&server).pages(query, options(100, 1))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&pages), expected_ids(50..300), "m00049, created at the bound itself, is not after it");
}
