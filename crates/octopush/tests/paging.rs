//! The Octopush paging stream against a real HTTP server on 127.0.0.1 that
//! serves a generated conversation from each request's `page` and `per_page`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

use convo_octopush::{
    Client, ConversationId, Error, FacebookId, MAX_PAGE_SIZE, MessagePage, MessagesQuery, PagingOptions, Position,
    RetryPolicy, SecretString,
};
use convo_runtime::paging::PagePosition;
use convo_testkit::server;
use convo_testkit::wiremock::matchers::any;
use convo_testkit::wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CONVERSATION: &str = "cid_3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// Changes the listing before the request numbered (from 0) is answered.
type Change = Box<dyn Fn(usize, &mut Vec<usize>) + Send + Sync>;
/// Changes the messages served for page `page` (1-based) before they are sent.
type Tweak = Box<dyn Fn(usize, &mut Vec<Value>) + Send + Sync>;

/// A conversation, served page by page as Octopush does: a bare array of at
/// most `per_page` messages (default 50) from 1-based `page` (default 1).
/// The listing holds message numbers (`msg-00000`, ...), `len` of them at
/// first. With `ignore_page`, every request gets page 1, as from an API
/// ignoring a parameter it cannot read; with `cap`, no page holds more than
/// that many, as from a server with a smaller page size than asked.
struct Conversation {
    listing: Mutex<Vec<usize>>,
    ignore_page: bool,
    overlap: bool,
    cap: Option<usize>,
    requests: AtomicUsize,
    change: Option<Change>,
    tweak: Option<Tweak>,
}

impl Conversation {
    fn new(len: usize) -> Self {
        Self {
            listing: Mutex::new((0..len).collect()),
            ignore_page: false,
            overlap: false,
            cap: None,
            requests: AtomicUsize::new(0),
            change: None,
            tweak: None,
        }
    }

    fn ignoring_page(self) -> Self {
        Self { ignore_page: true, ..self }
    }

    /// Each page opens with the message that ended the page before (pages
    /// start every `per_page - 1` messages).
    fn overlapping(self) -> Self {
        Self { overlap: true, ..self }
    }

    fn capped(self, cap: usize) -> Self {
        Self { cap: Some(cap), ..self }
    }

    fn change(self, change: impl Fn(usize, &mut Vec<usize>) + Send + Sync + 'static) -> Self {
        Self { change: Some(Box::new(change)), ..self }
    }

    fn tweak(self, tweak: impl Fn(usize, &mut Vec<Value>) + Send + Sync + 'static) -> Self {
        Self { tweak: Some(Box::new(tweak)), ..self }
    }
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
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        let mut listing = self.listing.lock().unwrap();
        if let Some(change) = &self.change {
            change(n, &mut listing);
        }
        let number = |name: &str, default: usize| param(request, name).and_then(|v| v.parse().ok()).unwrap_or(default);
        let page = if self.ignore_page { 1 } else { number("page", 1) };
        let per_page = number("per_page", 50).min(self.cap.unwrap_or(usize::MAX));
        let stride = if self.overlap { per_page.saturating_sub(1).max(1) } else { per_page };
        let start = page.saturating_sub(1).saturating_mul(stride).min(listing.len());
        let end = start.saturating_add(per_page).min(listing.len());
        let mut items: Vec<Value> = listing[start..end].iter().copied().map(message).collect();
        if let Some(tweak) = &self.tweak {
            tweak(page, &mut items);
        }
        ResponseTemplate::new(200).set_body_json(items)
    }
}

/// A server holding `conversation`, and the base URL to give the client.
async fn serve_conversation(conversation: Conversation) -> (MockServer, String) {
    let server = server().await;
    Mock::given(any()).respond_with(conversation).mount(&server).await;
    let uri = format!("{}/v1/public", server.uri());
    (server, uri)
}

/// A server holding a conversation of `len` messages, and the base URL to
/// give the client.
async fn serve(len: usize) -> (MockServer, String) {
    serve_conversation(Conversation::new(len)).await
}

fn client(uri: &str) -> Client {
    Client::new(uri, convo_octopush::Credentials::new("login@example.com", SecretString::from("key"))).unwrap()
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
async fn drain(client: &Client, query: MessagesQuery, options: PagingOptions) -> Vec<Result<MessagePage, Error>> {
    client.pages(query, options).collect().await
}

/// The pages before the error, and the error (which must be the last item).
fn split(mut items: Vec<Result<MessagePage, Error>>) -> (Vec<MessagePage>, Option<Error>) {
    let error = match items.last() {
        Some(Err(_)) => items.pop().and_then(Result::err),
        _ => None,
    };
    let pages = items.into_iter().map(|item| item.expect("only the last item is an error")).collect();
    (pages, error)
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

/// The `(page, per_page)` of every request, in order.
async fn asked(server: &MockServer) -> Vec<(u64, u64)> {
    requests(server)
        .await
        .iter()
        .map(|r| (param(r, "page").unwrap().parse().unwrap(), param(r, "per_page").unwrap().parse().unwrap()))
        .collect()
}

/// The `(page, per_page)` of every request a stream over an unchanging
/// conversation of `len` messages makes asking `per_page`: the first page
/// tells the server's size (fewer than asked when the conversation is
/// smaller), every page with messages is followed, an empty page ends the
/// read, and whenever page 1 held messages the listing is read again, up
/// to the page that shows it ends (a short one, or the empty one after a
/// full last page).
fn expected_requests(len: u64, per_page: u64) -> Vec<(u64, u64)> {
    if len == 0 {
        return vec![(1, per_page)];
    }
    let size = per_page.min(len);
    let pages = len.div_ceil(size);
    let mut asked = vec![(1, per_page)];
    asked.extend((2..=pages + 1).map(|n| (n, size)));
    asked.extend((1..=again(len, size)).map(|n| (n, size)));
    asked
}

/// How many pages the listing of `len` messages is read again at `size` a
/// page: up to the last one with messages, and the empty one after it
/// when that one is full.
fn again(len: u64, size: u64) -> u64 {
    len.div_ceil(size) + u64::from(len.is_multiple_of(size))
}

#[tokio::test]
async fn every_message_arrives_once_in_order_ending_on_an_empty_page_and_the_listing_read_again() {
    const LEN: usize = 2345;
    // 2345 = 7 * 335: with 7 the last page is full; with 100 and 1000 it is
    // short; with 2345 and 5000 there is one page, 5000 telling the server
    // serves only 2345 a page.
    for per_page in [7usize, 100, 1000, 2345, 5000] {
        let (server, uri) = serve(LEN).await;
        let pages: Vec<MessagePage> =
            client(&uri).pages(query(), options(Some(per_page as u64))).try_collect().await.unwrap();
        assert_eq!(ids(&pages), expected_ids(0..LEN), "per_page {per_page}");

        let expected = expected_requests(LEN as u64, per_page as u64);
        assert_eq!(asked(&server).await, expected, "per_page {per_page}");
        let with_messages = LEN.div_ceil(per_page.min(LEN));
        assert_eq!(pages.len(), with_messages, "per_page {per_page}: only pages with messages are delivered");
        for request in requests(&server).await {
            assert_eq!(param(&request, "conversation_id").as_deref(), Some(CONVERSATION));
        }
        for (i, page) in pages.iter().enumerate() {
            let number = i as u64 + 1;
            assert!(!page.items.is_empty(), "per_page {per_page}, page {number}");
            assert_eq!(page.position.as_ref().and_then(Position::page_number), Some(number));
            // The first page starts the read; every later one carries what
            // was delivered before it, for a read resumed there to check.
            assert_eq!(
                matches!(page.position, Some(Position::PageWithCheck { .. })),
                number > 1,
                "per_page {per_page}, page {number}"
            );
            // The last page with messages points at the empty page that ended the read.
            assert!(
                matches!(page.next, Some(Position::PageWithCheck { page, .. }) if page == number + 1),
                "per_page {per_page}, page {number}"
            );
        }
    }
}

#[tokio::test]
async fn an_empty_page_ends_the_read_whether_the_last_page_is_full_or_short() {
    // 2300 fills its last page: page 24 is empty.
    let (server, uri) = serve(2300).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..2300));
    assert_eq!(pages.len(), 23);
    let pages_asked: Vec<u64> = asked(&server).await.iter().map(|(page, _)| *page).collect();
    assert_eq!(
        pages_asked,
        (1..=24).chain(1..=24).collect::<Vec<_>>(),
        "23 pages, the empty page 24, then again: the check too ends on the empty page"
    );
    let last = pages.last().unwrap();
    let numbers =
        (last.position.as_ref().and_then(Position::page_number), last.next.as_ref().and_then(Position::page_number));
    assert_eq!(numbers, (Some(23), Some(24)));

    // 2345 leaves page 24 short: it is not taken as the end, page 25 is asked.
    let (server, uri) = serve(2345).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..2345));
    assert_eq!(pages.last().unwrap().items.len(), 45);
    let pages_asked: Vec<u64> = asked(&server).await.iter().map(|(page, _)| *page).collect();
    assert_eq!(
        pages_asked,
        (1..=25).chain(1..=24).collect::<Vec<_>>(),
        "a short page is confirmed by an empty one; read again, the short page 24 ends the check"
    );
}

#[tokio::test]
async fn an_empty_conversation_is_one_empty_page() {
    let (server, uri) = serve(0).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(None)).try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].items.is_empty());
    assert_eq!(pages[0].position, Some(Position::Page(1)));
    assert_eq!(pages[0].next, None);
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_single_page_conversation_costs_one_empty_page_and_the_page_read_again() {
    let (server, uri) = serve(30).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..30));
    assert_eq!(pages.len(), 1);
    // The first page tells the server's size: page 2 is asked at 30 a page;
    // then page 1 again, since a message deleted from it would have pushed
    // a 31st onto it unseen: full at 30, it is followed by page 2 again.
    assert_eq!(asked(&server).await, [(1, 100), (2, 30), (1, 30), (2, 30)]);
}

#[tokio::test]
async fn without_a_page_size_the_documented_default_of_50_is_asked() {
    assert_eq!(MAX_PAGE_SIZE, 50);
    let (server, uri) = serve(2345).await;
    let messages: Vec<_> = client(&uri).messages(query(), options(None)).try_collect().await.unwrap();
    let got: Vec<String> = messages.iter().map(|m| m.value().unwrap().message_id.clone()).collect();
    assert_eq!(got, expected_ids(0..2345));
    let requests = requests(&server).await;
    assert_eq!(requests.len(), 48 + 47, "47 pages, the empty page 48, then pages 1 to 47 again");
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
    // Pages 1 to 3, the empty page 4, and pages 1 to 3 again.
    let pages_asked = [1, 2, 3, 4, 1, 2, 3];
    assert_eq!(requests.len(), pages_asked.len());
    for (request, page) in requests.iter().zip(pages_asked) {
        let mut pairs: Vec<(String, String)> =
            request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        pairs.sort();
        let expected = [
            ("contact", "jane.doe@example.com"),
            ("conversation_id", CONVERSATION),
            ("email", "jane.doe+tag@example.com"),
            ("facebook_id", "fid_1234567890"),
            ("page", &page.to_string()),
            ("per_page", "100"),
            ("phone_number", "+33 6 12 34 56 78"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(pairs, expected);
    }
}

#[tokio::test]
async fn a_stream_resumes_from_the_next_page_of_an_earlier_run_and_checks_from_that_run_s_first_page() {
    let (server, uri) = serve(2345).await;
    let c = client(&uri);
    let first: Vec<MessagePage> = c.pages(query(), options(Some(100))).take(3).try_collect().await.unwrap();
    assert_eq!(ids(&first), expected_ids(0..300));
    let resume = first.last().unwrap().next.clone();
    assert_eq!(resume.as_ref().and_then(Position::page_number), Some(4));
    assert_eq!(requests(&server).await.len(), 3, "a dropped stream fetches nothing more");

    let resumed_with = |resume: Option<Position>| PagingOptions { resume, ..options(Some(100)) };
    let rest: Vec<MessagePage> = c.pages(query(), resumed_with(resume.clone())).try_collect().await.unwrap();
    assert_eq!(rest[0].position, resume);
    assert_eq!(ids(&rest), expected_ids(300..2345));
    // Page 4, then page 3 (the first run's last message is not on page 4:
    // it still ends page 3, so nothing moved), pages 5 to 24, the empty
    // page 25, and the listing read again from the first run's first page:
    // what that run delivered is checked too.
    let resumed: Vec<u64> = asked(&server).await.into_iter().skip(3).map(|(page, _)| page).collect();
    assert_eq!(resumed, [4, 3].into_iter().chain(5..=25).chain(1..=24).collect::<Vec<_>>());

    // A plain page number resumes too, checking from that page on.
    let (server, uri) = serve(2345).await;
    let rest: Vec<MessagePage> =
        client(&uri).pages(query(), resumed_with(Some(Position::Page(4)))).try_collect().await.unwrap();
    assert_eq!(ids(&rest), expected_ids(300..2345));
    let resumed: Vec<u64> = asked(&server).await.into_iter().map(|(page, _)| page).collect();
    assert_eq!(resumed, (4..=25).chain(4..=24).collect::<Vec<_>>());
}

/// Two runs over `conversation`, in pages of 100: the first reads `pages`
/// pages and stops (a crash, an error) before its check; the second
/// resumes from the last one's `next`. The first run's pages, the second
/// run's pages and error, and the pages asked by both.
async fn two_runs(
    conversation: Conversation,
    pages: usize,
) -> (Vec<MessagePage>, Vec<MessagePage>, Option<Error>, Vec<u64>) {
    let (server, uri) = serve_conversation(conversation).await;
    let c = client(&uri);
    let first: Vec<MessagePage> = c.pages(query(), options(Some(100))).take(pages).try_collect().await.unwrap();
    let options = PagingOptions { resume: first.last().unwrap().next.clone(), ..options(Some(100)) };
    let (rest, error) = split(drain(&c, query(), options).await);
    let pages_asked = asked(&server).await.iter().map(|(page, _)| *page).collect();
    (first, rest, error, pages_asked)
}

#[tokio::test]
async fn messages_added_at_the_head_between_two_runs_push_nothing_into_the_resumed_read_twice() {
    // The first run reads pages 1 and 2 of 350; two messages are added at
    // the head before the resumed run reads page 3, which now opens with
    // 198 and 199, delivered already: they are dropped, and the check from
    // the first run's first page finds the listing pushed down whole.
    let conversation = Conversation::new(350).change(|n, listing| {
        if n == 2 {
            listing.splice(0..0, [1000, 1001]);
        }
    });
    let (_, rest, error, pages_asked) = two_runs(conversation, 2).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&rest), expected_ids(200..350));
    assert_eq!(pages_asked, [1, 2, 3, 4, 5, 1, 2, 3, 4], "read to the empty page 5, then checked from page 1");
}

#[tokio::test]
async fn messages_added_at_the_head_between_two_runs_by_a_page_or_more_are_not_delivered_twice() {
    // 250 messages added at the head before the resumed run reads page 3:
    // pages 3 and 4 now hold only messages the first run delivered, and
    // page 5 holds 199, its last (at 449). Page 1 shows the listing grew;
    // the resumed read skips the pages up to 199 and goes on after it.
    let conversation = Conversation::new(350).change(|n, listing| {
        if n == 2 {
            listing.splice(0..0, 1000..1250);
        }
    });
    let (_, rest, error, pages_asked) = two_runs(conversation, 2).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&rest), expected_ids(200..350));
    assert_eq!(
        pages_asked[..7],
        [1, 2, 3, 2, 3, 4, 5],
        "page 3 without 199, page 2 without it, page 3 again, page 4, then 199 on page 5"
    );
}

#[tokio::test]
async fn messages_added_at_the_end_of_a_short_last_page_between_two_runs_are_read() {
    // The first run reads pages 1 to 3 of 250 (page 3 short, 200 to 249) and
    // stops before its check; 120 messages come at the end. Page 4 does not
    // hold 249; page 3 holds it with 50 new ones after it: the resumed read
    // goes on from page 3, after 249.
    let conversation = Conversation::new(250).change(|n, listing| {
        if n == 3 {
            listing.extend(250..370);
        }
    });
    let (first, rest, error, pages_asked) = two_runs(conversation, 3).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&first), expected_ids(0..250));
    assert_eq!(ids(&rest), expected_ids(250..370));
    assert_eq!(pages_asked[..8], [1, 2, 3, 4, 3, 3, 4, 5], "page 4, page 3 (249 not last), on from page 3");
}

#[tokio::test]
async fn a_deletion_above_the_read_before_an_earlier_run_stopped_fails_the_resumed_read() {
    // The first run reads pages 1 and 2 of 350 and stops (a crash, an
    // error) before its check. Then a message of page 1 is deleted, which
    // pulls page 3's first message, 200, onto page 2: read on from page 3,
    // it is skipped. The read resumed from page 3 carries the first run's
    // check and sees it.
    let conversation = Conversation::new(350).change(|n, listing| {
        if n == 2 {
            listing.retain(|&i| i != 7);
        }
    });
    let (first, rest, error, pages_asked) = two_runs(conversation, 2).await;
    assert_eq!(ids(&first), expected_ids(0..200));
    // Page 3 does not hold 199, the first run's last message, and page 2
    // no longer ends with it: 200 was pulled back after it. The resumed
    // read goes on from page 2, after 199 (200 is not skipped); its check
    // sees the deletion (7 was delivered and is gone).
    assert_eq!(ids(&rest), expected_ids(200..350));
    assert!(listing_changed_at_page_1(&error), "{error:?}");
    assert_eq!(pages_asked[..6], [1, 2, 3, 2, 2, 3], "the first run, then pages 3 and 2, and on from page 2");
}

#[tokio::test]
async fn a_deletion_above_the_read_during_the_resumed_read_fails_its_check() {
    // The first run reads pages 1 and 2 of 350 and stops; the resumed read
    // reads page 3 (and page 2: nothing moved), then a message of page 1 is
    // deleted, which pulls 300 back onto page 3: the check from the first
    // run's first page sees it.
    let conversation = Conversation::new(350).change(|n, listing| {
        if n == 4 {
            listing.retain(|&i| i != 7);
        }
    });
    let (_, rest, error, _) = two_runs(conversation, 2).await;
    assert!(!ids(&rest).contains(&message_id(300)), "skipped by the shift");
    assert!(listing_changed_at_page_1(&error), "{error:?}");
}

#[tokio::test]
async fn a_one_message_conversation_with_a_message_added_at_its_head_is_read_once() {
    // Page 1 holds one message, so pages are taken to be of 1; one message
    // added at the head before page 2 makes page 2 a full page of nothing
    // but that message again: the listing pushed down, not an API that
    // ignores `page`.
    let grown = Conversation::new(1).change(|request, listing| {
        if request == 1 {
            listing.insert(0, 9999);
        }
    });
    let (delivered, error, pages_asked) = read_changing(grown).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(delivered, expected_ids(0..1));
    assert_eq!(pages_asked, [1, 2, 1, 3, 1, 2, 3], "page 2 of repeats, page 1 (grown), the empty page 3, the check");
}

#[tokio::test]
async fn pages_that_overlap_fail_the_check_as_pages_that_lose_messages_would() {
    // Every page opens with the message that ended the page before. The
    // read drops those repeats; read again, the listing holds them, and a
    // server that lost the messages the overlap stands for would look the
    // same: ListingChanged, never a read taken for complete on a guess.
    let (_server, uri) = serve_conversation(Conversation::new(1000).overlapping()).await;
    let (pages, error) = split(drain(&client(&uri), query(), options(Some(100))).await);
    assert_eq!(ids(&pages), expected_ids(0..1000), "each message once");
    assert!(listing_changed_at_page_1(&error), "{error:?}");
}

#[tokio::test]
async fn a_page_served_as_the_page_before_it_again_fails_the_check() {
    // Page 3 is always page 2 again (a stale cache), and the listing holds
    // still: page 1, asked again, shows it was not pushed down.
    let conversation = Conversation::new(450).tweak(|page, items| {
        if page == 3 {
            *items = (100..200).map(message).collect();
        }
    });
    let (_server, uri) = serve_conversation(conversation).await;
    let (pages, error) = split(drain(&client(&uri), query(), options(Some(100))).await);
    assert_eq!(ids(&pages), expected_ids(0..200));
    assert!(matches!(error, Some(Error::RepeatedPage { .. })), "{error:?}");
}

#[tokio::test]
async fn a_page_served_again_while_the_listing_grew_at_its_head_fails_the_check() {
    // Page 3 is page 2 again (a stale answer) and a message is added at the
    // head, so page 1 shows a listing that grew: page 3 is skipped as if
    // pushed down. Read again, the listing holds what page 3 hid.
    let conversation = Conversation::new(450)
        .change(|request, listing| {
            if request == 2 {
                listing.insert(0, 9999);
            }
        })
        .tweak(|page, items| {
            if page == 3 {
                *items = (100..200).map(message).collect();
            }
        });
    let (_server, uri) = serve_conversation(conversation).await;
    let (pages, error) = split(drain(&client(&uri), query(), options(Some(100))).await);
    assert!(!ids(&pages).contains(&message_id(250)), "hidden by the stale page");
    assert!(listing_changed_at_page_1(&error), "{error:?}");
}

#[tokio::test]
async fn a_push_down_by_a_whole_page_during_the_read_is_taken_as_one() {
    // 100 messages added at the head before page 3: page 3 is page 2 again,
    // a full page of repeats; page 4 goes on where page 3 was.
    let grown = Conversation::new(450).change(|request, listing| {
        if request == 2 {
            listing.splice(0..0, 1000..1100);
        }
    });
    let (delivered, error, pages_asked) = read_changing(grown).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(delivered, expected_ids(0..450));
    assert_eq!(pages_asked[..8], [1, 2, 3, 1, 4, 5, 6, 7], "page 3 of repeats, then page 1: it grew");
}

#[tokio::test]
async fn a_server_ignoring_page_ends_with_repeated_page_after_page_1_once() {
    let (server, uri) = serve_conversation(Conversation::new(2345).ignoring_page()).await;

    let items = drain(&client(&uri), query(), options(Some(100))).await;
    assert_eq!(items.len(), 2);
    let first = items[0].as_ref().unwrap();
    assert_eq!(ids(std::slice::from_ref(first)), expected_ids(0..100));
    // Page 2 could be the listing pushed down by a whole page (100
    // messages added at the head): page 1, asked again, shows it was not.
    let Err(Error::RepeatedPage { page, count }) = &items[1] else { panic!("{:?}", items[1]) };
    assert_eq!(page, &PagePosition(Some(Position::Page(2))));
    assert_eq!(*count, 100);
    assert_eq!(requests(&server).await.len(), 3);

    // The flattened stream: page 1's messages once, then the error.
    let messages: Vec<_> = client(&uri).messages(query(), options(Some(100))).collect().await;
    assert_eq!(messages.len(), 101);
    assert!(messages[..100].iter().all(Result::is_ok));
    assert!(matches!(messages[100], Err(Error::RepeatedPage { .. })));
}

#[tokio::test]
async fn a_server_capping_the_page_size_is_followed_at_its_own_size() {
    let (server, uri) = serve_conversation(Conversation::new(95).capped(30)).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..95));
    assert_eq!(pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(), [30, 30, 30, 5]);
    let at_30 = [(2, 30), (3, 30), (4, 30)];
    let expected: Vec<(u64, u64)> =
        [(1, 100)].into_iter().chain(at_30).chain([(5, 30), (1, 30)]).chain(at_30).collect();
    assert_eq!(asked(&server).await, expected, "read, then read again, at the server's size");
}

#[tokio::test]
async fn a_short_page_followed_by_more_ends_the_stream_naming_the_short_page() {
    let short = Conversation::new(2345).tweak(|page, items| {
        if page == 3 {
            items.truncate(60);
        }
    });
    let (server, uri) = serve_conversation(short).await;
    let (pages, error) = split(drain(&client(&uri), query(), options(Some(100))).await);
    // Page 3 is delivered (its messages are sound); page 4 shows messages
    // after it. Page 3 is read again twice, short each time: messages
    // between them would be skipped.
    assert_eq!(ids(&pages), expected_ids(0..260));
    let Some(Error::ShortPage { page, len, limit }) = &error else { panic!("{error:?}") };
    assert_eq!((page, *len, *limit), (&PagePosition(Some(Position::Page(3))), 60, 100));
    assert!(error.as_ref().unwrap().to_string().starts_with("page 3: "), "{error:?}");
    let pages_asked: Vec<u64> = asked(&server).await.iter().map(|(page, _)| *page).collect();
    assert_eq!(pages_asked, [1, 2, 3, 4, 3, 4, 3, 4]);
}

#[tokio::test]
async fn a_page_served_short_once_is_read_again_and_the_read_goes_on() {
    let served = AtomicUsize::new(0);
    let short_once = Conversation::new(450).tweak(move |page, items| {
        if page == 3 && served.fetch_add(1, Ordering::SeqCst) == 0 {
            items.truncate(60);
        }
    });
    let (server, uri) = serve_conversation(short_once).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..450), "each message once");
    let pages_asked: Vec<u64> = asked(&server).await.iter().map(|(page, _)| *page).collect();
    assert_eq!(pages_asked[..7], [1, 2, 3, 4, 3, 4, 5], "page 3 again once page 4 showed more");
}

#[tokio::test]
async fn messages_added_after_a_short_last_page_are_read() {
    // Page 3 is the short last page (50 of 100); 70 messages come at the
    // end before page 4 is asked: page 3 is read again, its 50 new ones
    // delivered, and the read goes on.
    let grown = Conversation::new(250).change(|request, listing| {
        if request == 3 {
            listing.extend(250..320);
        }
    });
    let (delivered, error, pages_asked) = read_changing(grown).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(delivered, expected_ids(0..320));
    assert_eq!(pages_asked[..6], [1, 2, 3, 4, 3, 4]);
}

#[tokio::test]
async fn a_page_longer_than_the_page_size_ends_the_stream_with_page_size_changed() {
    let long = Conversation::new(2345).tweak(|page, items| {
        if page == 2 {
            items.push(message(9000));
        }
    });
    let (server, uri) = serve_conversation(long).await;
    let (pages, error) = split(drain(&client(&uri), query(), options(Some(100))).await);
    assert_eq!(ids(&pages), expected_ids(0..100));
    let Some(Error::PageSizeChanged { page, len, limit }) = &error else { panic!("{error:?}") };
    assert_eq!((page, *len, *limit), (&PagePosition(Some(Position::Page(2))), 101, 100));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_message_added_at_the_head_during_the_read_loses_and_repeats_nothing() {
    // Before page 3 is asked, a new message comes at the head: every later
    // page starts with a message already delivered.
    let grown = Conversation::new(2345).change(|request, listing| {
        if request == 2 {
            listing.insert(0, 9999);
        }
    });
    let (server, uri) = serve_conversation(grown).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..2345), "each message of the read once, in order");
    let pages_asked: Vec<u64> = asked(&server).await.iter().map(|(page, _)| *page).collect();
    assert_eq!(
        pages_asked,
        (1..=25).chain(1..=24).collect::<Vec<_>>(),
        "read again, the listing is the one delivered pushed down by one, whole: page 24 ends it"
    );

    // The same when the shift pushes the end onto a page of its own: page 24,
    // short, holds only a message already delivered; page 25, empty,
    // confirms the end, as after any short page.
    let grown = Conversation::new(2300).change(|request, listing| {
        if request == 23 {
            listing.insert(0, 9999);
        }
    });
    let (server, uri) = serve_conversation(grown).await;
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options(Some(100))).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..2300));
    let pages_asked: Vec<u64> = asked(&server).await.iter().map(|(page, _)| *page).collect();
    assert_eq!(pages_asked, (1..=25).chain(1..=24).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_message_deleted_during_the_read_ends_the_stream_with_listing_changed() {
    // Deleting at the head, or anywhere on page 1, shifts later pages up by
    // one: a message would be skipped without a word.
    for deleted in [0, 50] {
        let shrunk = Conversation::new(2345).change(move |request, listing| {
            if request == 2 {
                listing.retain(|&i| i != deleted);
            }
        });
        let (server, uri) = serve_conversation(shrunk).await;
        let (pages, error) = split(drain(&client(&uri), query(), options(Some(100))).await);
        assert_eq!(pages.len(), 24, "deleted {deleted}: every page is delivered, then the error");
        let delivered = ids(&pages);
        assert!(!delivered.contains(&message_id(200)), "deleted {deleted}: message 200 was skipped by the shift");
        let Some(Error::ListingChanged { page, .. }) = &error else { panic!("deleted {deleted}: {error:?}") };
        assert_eq!(page, &PagePosition(Some(Position::Page(1))));
        assert!(error.as_ref().unwrap().to_string().starts_with("page 1: "), "{error:?}");
        let pages_asked: Vec<u64> = asked(&server).await.iter().map(|(page, _)| *page).collect();
        // Read again once (the check never saw the listing pushed down
        // while it read, so the difference is not its timing): the first
        // message delivered gone from page 1 is seen on page 1; one gone
        // from inside it, by the count, up to the end.
        let again: Vec<u64> = if deleted == 0 { vec![1] } else { (1..=24).collect() };
        let expected: Vec<u64> = (1..=25).chain(again).collect();
        assert_eq!(pages_asked, expected, "deleted {deleted}");
    }
}

/// Drains a stream over `conversation` at 100 a page: the messages
/// delivered, the error that ended it, and the pages asked.
async fn read_changing(conversation: Conversation) -> (Vec<String>, Option<Error>, Vec<u64>) {
    let (server, uri) = serve_conversation(conversation).await;
    let (pages, error) = split(drain(&client(&uri), query(), options(Some(100))).await);
    let pages_asked = asked(&server).await.iter().map(|(page, _)| *page).collect();
    (ids(&pages), error, pages_asked)
}

fn listing_changed_at_page_1(error: &Option<Error>) -> bool {
    matches!(error, Some(Error::ListingChanged { page, .. }) if page == &PagePosition(Some(Position::Page(1))))
}

#[tokio::test]
async fn a_message_deleted_below_the_first_page_once_the_read_passed_it_ends_with_listing_changed() {
    // Pages 1 to 5 are read; then message 150 (page 2) is deleted: page 6
    // starts at 501, and 500 would be skipped with page 1 unchanged.
    let shrunk = Conversation::new(2345).change(|request, listing| {
        if request == 5 {
            listing.retain(|&i| i != 150);
        }
    });
    let (delivered, error, _) = read_changing(shrunk).await;
    assert!(delivered.contains(&message_id(150)), "delivered before it was deleted");
    assert!(!delivered.contains(&message_id(500)), "skipped by the shift");
    assert!(listing_changed_at_page_1(&error), "{error:?}");
    let reason = error.unwrap().to_string();
    assert!(reason.contains("its 2344 messages from the first delivered on are not the ones delivered"), "{reason}");
}

#[tokio::test]
async fn a_deletion_made_up_for_by_an_addition_at_the_head_still_ends_with_listing_changed() {
    // 150 deleted after page 5 (page 6 skips 500), then a message added at
    // the head after page 7 (page 8 repeats 700, dropped): as many messages
    // now as delivered, but not the same ones.
    let changed = Conversation::new(2345).change(|request, listing| {
        if request == 5 {
            listing.retain(|&i| i != 150);
        }
        if request == 7 {
            listing.insert(0, 9999);
        }
    });
    let (delivered, error, _) = read_changing(changed).await;
    assert_eq!(delivered.len(), 2344);
    assert!(!delivered.contains(&message_id(500)));
    assert!(listing_changed_at_page_1(&error), "{error:?}");
    assert!(error.unwrap().to_string().contains("not the ones delivered"));
}

#[tokio::test]
async fn a_message_pulled_back_by_an_addition_then_deleted_is_not_skipped_silently() {
    // Added at the head after page 1 (page 2 opens with 99 again), deleted
    // after page 2: page 3 starts one further on, and 199 is never served.
    let pulled = |len: usize| {
        Conversation::new(len).change(|request, listing| {
            if request == 1 {
                listing.insert(0, 9999);
            }
            if request == 2 {
                listing.retain(|&i| i != 9999);
            }
        })
    };
    // In the middle of the listing: the listing read again holds one more.
    let (delivered, error, _) = read_changing(pulled(250)).await;
    assert!(!delivered.contains(&message_id(199)));
    assert_eq!(delivered.len(), 249);
    assert!(listing_changed_at_page_1(&error), "{error:?}");
    // At its very end (page 3 comes back empty): the message after the last
    // one delivered is found.
    let (delivered, error, pages_asked) = read_changing(pulled(200)).await;
    assert_eq!(delivered, expected_ids(0..199));
    assert!(listing_changed_at_page_1(&error), "{error:?}");
    assert_eq!(pages_asked, [1, 2, 3, 1, 2], "the check reads up to the page that must end it");
}

#[tokio::test]
async fn messages_added_at_the_end_are_read_too_even_after_the_read_ended() {
    // A listing that grows at its end (oldest first): the read ended on the
    // empty page 25 (request 24); two messages come at the end as the
    // check starts. It finds every message delivered, in order, then more,
    // in a listing that never grew at its head: the read goes on from page
    // 24 (its 45 messages already delivered dropped), to the empty page 25,
    // and the listing is read again once more.
    let appended = Conversation::new(2345).change(|request, listing| {
        if request == 25 {
            listing.extend([9998, 9999]);
        }
    });
    let (delivered, error, pages_asked) = read_changing(appended).await;
    assert!(error.is_none(), "{error:?}");
    let expected: Vec<String> = (0..2345).chain([9998, 9999]).map(message_id).collect();
    assert_eq!(delivered, expected);
    let again: Vec<u64> = (1..=24).collect();
    let expected: Vec<u64> = (1..=25).chain(again.clone()).chain([24, 25]).chain(again).collect();
    assert_eq!(pages_asked, expected);

    // Added during the read, they are read: page 24 holds them.
    let appended = Conversation::new(2345).change(|request, listing| {
        if request == 10 {
            listing.extend([9998, 9999]);
        }
    });
    let (delivered, error, _) = read_changing(appended).await;
    assert!(error.is_none(), "{error:?}");
    let expected: Vec<String> = (0..2345).chain([9998, 9999]).map(message_id).collect();
    assert_eq!(delivered, expected);
}

#[tokio::test]
async fn a_page_served_empty_or_short_once_by_mistake_costs_no_message() {
    // Page 3 served empty once, or the last page (24, of 45) with 20: the
    // read ends there, and the listing read again holds the rest after the
    // last message delivered, in a listing that never grew at its head: the
    // read goes on from there. (Page 3 cut to 40 is a short page before
    // more: ShortPage, in another test.)
    for (cut, truncate) in [(3, 0usize), (24, 20)] {
        let once = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = once.clone();
        let conversation = Conversation::new(2345).tweak(move |page, items| {
            if page == cut && !flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
                items.truncate(truncate);
            }
        });
        let (delivered, error, _) = read_changing(conversation).await;
        assert!(error.is_none(), "page {cut} cut to {truncate} once: {error:?}");
        assert_eq!(delivered, expected_ids(0..2345), "page {cut} cut to {truncate} once");
    }
}

#[tokio::test]
async fn a_listing_that_keeps_growing_at_its_end_is_read_on_twice_then_refused() {
    // A message comes at the end before every request of each check: the
    // read goes on twice, then ends with ListingChanged (never exit 0 with a
    // listing that has not stopped moving).
    let growing = Conversation::new(250).change(|request, listing| {
        if request >= 4 {
            let next = 1000 + request;
            listing.push(next);
        }
    });
    let (delivered, error, pages_asked) = read_changing(growing).await;
    assert!(listing_changed_at_page_1(&error), "{error:?}");
    let reason = error.unwrap().to_string();
    assert!(reason.contains("after the read went on 2 times"), "{reason}");
    assert!(delivered.starts_with(&expected_ids(0..250)));
    let mut unique = delivered.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), delivered.len(), "nothing twice");
    assert!(pages_asked.len() < 40, "{pages_asked:?}");
}

#[tokio::test]
async fn a_message_added_at_the_head_while_the_listing_is_read_again_fails_nothing() {
    // Pages 1 to 25 are requests 0 to 24; the check reads page 1 (25) and
    // page 2 (26), then a message comes at the head: its pages 3 to 24 are
    // pushed down by one (page 3 opens with the message that ended page 2).
    // Read once more, the listing is the one delivered, pushed down whole.
    let grown = Conversation::new(2345).change(|request, listing| {
        if request == 27 {
            listing.insert(0, 9999);
        }
    });
    let (delivered, error, pages_asked) = read_changing(grown).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(delivered, expected_ids(0..2345));
    assert_eq!(pages_asked, (1..=25).chain(1..=24).chain(1..=24).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_listing_read_again_goes_at_the_concurrency_asked_and_in_order() {
    let (server, uri) = serve(2345).await;
    let options = PagingOptions { concurrency: 4, ..options(Some(100)) };
    let pages: Vec<MessagePage> = client(&uri).pages(query(), options).try_collect().await.unwrap();
    assert_eq!(ids(&pages), expected_ids(0..2345));
    let mut again: Vec<u64> = asked(&server).await.iter().skip(25).map(|(page, _)| *page).collect();
    again.sort_unstable();
    assert_eq!(again, (1..=24).collect::<Vec<_>>(), "each page once, none past the end");
}

#[tokio::test]
async fn invalid_options_and_queries_are_refused_before_any_request() {
    let (server, uri) = serve(10).await;
    let c = client(&uri);
    let empty = MessagesQuery::default();
    let blank_phone = MessagesQuery::by_phone_number(" ");
    // A position with a check that no read gives: its first page after it.
    let check = json!({"first_page": 5, "pages": 1, "count": 3, "hash": 1, "first_key": 2, "last_key": 3, "pushed": 0});
    let after_itself: Position =
        serde_json::from_value(json!({"page_with_check": {"page": 2, "check": check}})).unwrap();
    // One that counts more messages than its pages can hold (its check
    // would ask for pages past the end).
    let check =
        json!({"first_page": 1, "pages": 1, "count": 1_000_000, "hash": 1, "first_key": 2, "last_key": 3, "pushed": 0});
    let too_many: Position = serde_json::from_value(json!({"page_with_check": {"page": 2, "check": check}})).unwrap();
    // One whose counts overflow (pages × page size past u64).
    let check = json!({"first_page": 1, "pages": u64::MAX, "count": u64::MAX, "hash": 1, "first_key": 2, "last_key": 3, "pushed": 0});
    let overflowing: Position =
        serde_json::from_value(json!({"page_with_check": {"page": 2, "check": check}})).unwrap();
    let cases: [(MessagesQuery, PagingOptions, &str); 8] = [
        (query(), options(Some(0)), "page size"),
        (query(), PagingOptions { resume: Some(Position::Page(0)), ..options(None) }, "resume"),
        (query(), PagingOptions { resume: Some(Position::Cursor("abc".into())), ..options(None) }, "resume"),
        (query(), PagingOptions { resume: Some(after_itself), ..options(None) }, "resume"),
        (query(), PagingOptions { resume: Some(too_many), ..options(None) }, "resume"),
        (query(), PagingOptions { resume: Some(overflowing), ..options(None) }, "resume"),
        (empty, options(None), "selector"),
        (blank_phone, options(None), "phone_number"),
    ];
    for (query, options, expected) in cases {
        let items = drain(&c, query, options).await;
        assert_eq!(items.len(), 1, "{expected}: one error, then the end");
        let Err(Error::InvalidQuery { name, reason }) = &items[0] else { panic!("{expected}: {:?}", items[0]) };
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
    // Each query: page 1 at the default size, then page 2 at the 3 page 1
    // held, empty, then pages 1 and 2 again at that size (page 1 is full).
    assert_eq!(
        queries,
        [
            "conversation_id=cid_1&page=1&per_page=50",
            "conversation_id=cid_1&page=2&per_page=3",
            "conversation_id=cid_1&page=1&per_page=3",
            "conversation_id=cid_1&page=2&per_page=3",
            "page=1&per_page=50&phone_number=%2B33612345678",
            "page=2&per_page=3&phone_number=%2B33612345678",
            "page=1&per_page=3&phone_number=%2B33612345678",
            "page=2&per_page=3&phone_number=%2B33612345678",
            "email=jane%40example.com&page=1&per_page=50",
            "email=jane%40example.com&page=2&per_page=3",
            "email=jane%40example.com&page=1&per_page=3",
            "email=jane%40example.com&page=2&per_page=3",
            "facebook_id=fid_1&page=1&per_page=50",
            "facebook_id=fid_1&page=2&per_page=3",
            "facebook_id=fid_1&page=1&per_page=3",
            "facebook_id=fid_1&page=2&per_page=3",
            "contact=%2B33612345678&page=1&per_page=50",
            "contact=%2B33612345678&page=2&per_page=3",
            "contact=%2B33612345678&page=1&per_page=3",
            "contact=%2B33612345678&page=2&per_page=3",
        ]
    );
}
