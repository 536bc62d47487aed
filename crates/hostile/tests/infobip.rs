//! Infobip's client against a hostile Infobip: every message of the
//! conversation exactly once, in Infobip's order, or a typed error.

mod common;

use std::time::Duration;

use convo_hostile::{Behaviour, End, HostileServer, Options, Outcome, Vendor, one_segment, read_all};
use convo_infobip::{Captured, Client, Credentials, MessagesQuery, PagingOptions, SecretString, Timestamp, types};

const VENDOR: Vendor = Vendor::Infobip;

async fn read(server: &HostileServer, query: MessagesQuery, paging: PagingOptions, key: &str) -> Outcome {
    let client = Client::with_options(
        &server.base_url(),
        Credentials::AppKey(SecretString::from(key)),
        &common::client_options(),
    )
    .expect("a client for the hostile server");
    read_all(
        client.messages(query, paging),
        |m: &Captured<types::Message>| m.value().map(|v| v.id.clone()).unwrap_or_default(),
        common::LIMIT,
    )
    .await
}

async fn run_query(
    options: Options,
    page_size: Option<u64>,
    edit: impl FnOnce(&mut MessagesQuery),
) -> (HostileServer, Outcome) {
    let server = HostileServer::start(options).await.expect("the hostile server starts");
    let mut query = MessagesQuery::new(server.options().conversation_id.clone());
    edit(&mut query);
    let outcome = read(&server, query, common::paging(page_size), "ordinary-key").await;
    (server, outcome)
}

async fn run(options: Options, page_size: Option<u64>) -> (HostileServer, Outcome) {
    run_query(options, page_size, |_| {}).await
}

async fn run_with(options: Options, paging: PagingOptions, key: &str) -> (HostileServer, Outcome) {
    let server = HostileServer::start(options).await.expect("the hostile server starts");
    let query = MessagesQuery::new(server.options().conversation_id.clone());
    let outcome = read(&server, query, paging, key).await;
    (server, outcome)
}

every_vendor_faults!(VENDOR, 120, 10);

// The honest vendor: the baseline every hostile case departs from.

#[tokio::test]
async fn honest_default_order_small_pages() {
    let (server, outcome) = run(Options::new(VENDOR, 120), Some(10)).await;
    common::check("honest, id:asc, 10 a page", &server, &outcome, common::bound(12));
    assert!(!outcome.failed(), "an honest vendor reads to the end: {:?}", outcome.error);
    assert_eq!(outcome.ids, server.initial_ids());
    for request in server.requests() {
        assert_eq!(request.header("authorization"), Some("App ordinary-key"), "{request:?}");
        assert_eq!(request.header_count("authorization"), 1, "{request:?}");
        assert_eq!(request.param("limit").as_deref(), Some("10"), "{request:?}");
    }
}

#[tokio::test]
async fn honest_default_page_size() {
    let (server, outcome) = run(Options::new(VENDOR, 250), None).await;
    common::check("honest, the client's default page size", &server, &outcome, common::bound(1));
    assert!(!outcome.failed(), "{:?}", outcome.error);
}

#[tokio::test]
async fn honest_created_at_desc_in_upper_case_with_shared_milliseconds() {
    let options = Options::new(VENDOR, 120).same_millisecond(25);
    let (server, outcome) = run_query(options, Some(10), |q| q.order_by = Some("createdAt:DESC".to_owned())).await;
    common::check("honest, createdAt:DESC, 25 messages a millisecond", &server, &outcome, common::bound(12));
}

#[tokio::test]
async fn honest_created_at_asc_with_shared_milliseconds_and_odd_pages() {
    let options = Options::new(VENDOR, 150).same_millisecond(30);
    let (server, outcome) = run_query(options, Some(7), |q| q.order_by = Some("createdAt:asc".to_owned())).await;
    common::check("honest, createdAt:asc, 30 messages a millisecond, 7 a page", &server, &outcome, common::bound(22));
}

#[tokio::test]
async fn honest_created_after_is_exclusive_with_shared_milliseconds() {
    // Messages 40..=59 share one millisecond; `createdAfter` at it keeps
    // only messages 60 and later.
    let options = Options::new(VENDOR, 140).same_millisecond(20);
    let after = options.message_time(45);
    let (server, outcome) =
        run_query(options, Some(9), |q| q.created_after = Some(Timestamp::parse(&after).expect("a timestamp"))).await;
    common::check("createdAfter inside a shared millisecond", &server, &outcome, common::bound(10));
    let expected = server.expectation();
    assert_eq!(expected.order.len(), 80, "the server's filter keeps messages 60..140");
}

#[tokio::test]
async fn honest_message_ids_filter() {
    let options = Options::new(VENDOR, 120);
    let server = HostileServer::start(options).await.unwrap();
    let wanted: Vec<String> = server.initial_ids().into_iter().step_by(7).collect();
    let mut query = MessagesQuery::new(server.options().conversation_id.clone());
    query.message_ids = wanted.clone();
    let outcome = read(&server, query, common::paging(Some(5)), "ordinary-key").await;
    common::check("messageIds of every 7th message", &server, &outcome, common::bound(4));
    assert_eq!(server.expectation().order, wanted);
    for request in server.requests() {
        let sent: Vec<String> = request
            .param_all("messageIds")
            .iter()
            .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        assert_eq!(sent, wanted, "every page request carries the filter: {request:?}");
    }
}

// The listing changes during the read.

#[tokio::test]
async fn inserted_at_the_head_after_page_1() {
    let options = Options::new(VENDOR, 120).behaviour(Behaviour::Insert { at: End::Head });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("one message inserted at the head after page 1", &server, &outcome, common::bound(13));
}

#[tokio::test]
async fn inserted_at_the_newest_end_after_page_1() {
    let options = Options::new(VENDOR, 120).behaviour(Behaviour::Insert { at: End::Newest });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("one message arriving after page 1", &server, &outcome, common::bound(13));
}

#[tokio::test]
async fn deleted_at_the_head_after_page_1() {
    let options = Options::new(VENDOR, 120).behaviour(Behaviour::Delete { at: End::Head });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("the head message deleted after page 1", &server, &outcome, common::bound(12));
}

#[tokio::test]
async fn deleted_at_the_newest_end_after_page_1() {
    let options = Options::new(VENDOR, 120).behaviour(Behaviour::Delete { at: End::Newest });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("the newest message deleted after page 1", &server, &outcome, common::bound(12));
}

#[tokio::test]
async fn one_deleted_at_the_head_and_one_arriving_same_total() {
    let options =
        Options::new(VENDOR, 120).behaviour(Behaviour::DeleteAndInsert { delete: End::Head, insert: End::Newest });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("one deleted at the head, one arriving, totalItems unchanged", &server, &outcome, common::bound(13));
}

#[tokio::test]
async fn one_deleted_at_the_newest_end_and_one_inserted_at_the_head_same_total() {
    let options =
        Options::new(VENDOR, 120).behaviour(Behaviour::DeleteAndInsert { delete: End::Newest, insert: End::Head });
    let (server, outcome) = run(options, Some(10)).await;
    common::check(
        "one deleted at the newest end, one inserted at the head, totalItems unchanged",
        &server,
        &outcome,
        common::bound(13),
    );
}

#[tokio::test]
async fn created_at_desc_with_one_arriving_after_page_1() {
    let options = Options::new(VENDOR, 120).behaviour(Behaviour::Insert { at: End::Newest });
    let (server, outcome) = run_query(options, Some(10), |q| q.order_by = Some("createdAt:desc".to_owned())).await;
    common::check("createdAt:desc, one message arriving after page 1", &server, &outcome, common::bound(13));
}

// A vendor that pages differently than asked.

#[tokio::test]
async fn page_size_capped_at_100_without_pagination() {
    let options = Options::new(VENDOR, 250).behaviour(Behaviour::CapPageSize { max: 100 });
    let (server, outcome) = run(options, None).await;
    common::check("limit capped at 100 and no pagination", &server, &outcome, common::bound(3));
}

#[tokio::test]
async fn page_size_capped_at_100_when_asking_for_150() {
    let options = Options::new(VENDOR, 250).behaviour(Behaviour::CapPageSize { max: 100 });
    let (server, outcome) = run(options, Some(150)).await;
    common::check("limit 150 capped at 100 and no pagination", &server, &outcome, common::bound(3));
}

#[tokio::test]
async fn total_items_understated_by_two() {
    // 242 messages, 10 a page, totalItems 240: the last 2 are on page 24,
    // which the total says does not exist.
    let options = Options::new(VENDOR, 242).behaviour(Behaviour::UnderstateTotal { by: 2 });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("totalItems 2 fewer than the messages", &server, &outcome, common::bound(25));
}

#[tokio::test]
async fn a_short_page_before_the_last() {
    let options = Options::new(VENDOR, 120).behaviour(Behaviour::ShortPage { page: 2, missing: 1 });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("page 2 one message short, the rest following", &server, &outcome, common::bound(12));
}

// Identifiers that would escape their path segment.

async fn conversation_id_stays_in_its_segment(id: &str) {
    let options = Options::new(VENDOR, 30).conversation(id);
    let (server, outcome) = run(options, Some(10)).await;
    common::check(&format!("conversation id {id:?}"), &server, &outcome, common::bound(3));
    for request in server.requests() {
        assert!(!request.path.contains("/ccaas/admin"), "{id:?} escaped its segment: {}", request.target);
        let segment = one_segment(&request.path, "/ccaas/1/conversations/", "/messages")
            .unwrap_or_else(|e| panic!("conversation id {id:?}: {e}"));
        assert_eq!(segment, id, "{}", request.target);
    }
}

#[tokio::test]
async fn a_dot_dot_backslash_conversation_id_stays_in_its_segment() {
    conversation_id_stays_in_its_segment("..\\..\\admin").await;
}

#[tokio::test]
async fn a_backslash_conversation_id_stays_in_its_segment() {
    conversation_id_stays_in_its_segment("a\\b").await;
}

#[tokio::test]
async fn a_slash_query_and_fragment_conversation_id_stays_in_its_segment() {
    conversation_id_stays_in_its_segment("a/b?c#d").await;
}

#[tokio::test]
async fn a_dot_dot_conversation_id_is_never_sent_as_a_dot_segment() {
    let (server, outcome) = run(Options::new(VENDOR, 30).conversation(".."), Some(10)).await;
    common::check("conversation id `..`", &server, &outcome, common::bound(3));
    for request in server.requests() {
        one_segment(&request.path, "/ccaas/1/conversations/", "/messages").unwrap_or_else(|e| panic!("`..`: {e}"));
    }
}
