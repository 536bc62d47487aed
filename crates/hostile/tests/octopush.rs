//! Octopush's client against a hostile Octopush: every message of the
//! conversation exactly once, in Octopush's order, or a typed error.

mod common;

use std::time::Duration;

use convo_hostile::{Behaviour, End, HostileServer, Options, Outcome, Vendor, read_all};
use convo_octopush::{Captured, Client, ConversationId, MessagesQuery, PagingOptions, SecretString, types};

const VENDOR: Vendor = Vendor::Octopush;
const LOGIN: &str = "hostile-login@example.com";

async fn read(server: &HostileServer, paging: PagingOptions, key: &str) -> Outcome {
    let client = Client::with_options(
        &server.base_url(),
        convo_octopush::Credentials::new(LOGIN, SecretString::from(key)),
        &common::client_options(),
    )
    .expect("a client for the hostile server");
    let id = ConversationId::new(server.options().conversation_id.clone()).expect("a cid_ conversation id");
    let query = MessagesQuery::by_conversation_id(id);
    read_all(
        client.messages(query, paging),
        |m: &Captured<types::Message>| m.value().map(|v| v.message_id.clone()).unwrap_or_default(),
        common::LIMIT,
    )
    .await
}

async fn run(options: Options, page_size: Option<u64>) -> (HostileServer, Outcome) {
    run_with(options, common::paging(page_size), "ordinary-key").await
}

async fn run_with(options: Options, paging: PagingOptions, key: &str) -> (HostileServer, Outcome) {
    let server = HostileServer::start(options).await.expect("the hostile server starts");
    let outcome = read(&server, paging, key).await;
    (server, outcome)
}

every_vendor_faults!(VENDOR, 120, 10);

// The honest vendor.

#[tokio::test]
async fn honest_default_page_size() {
    let (server, outcome) = run(Options::new(VENDOR, 173), None).await;
    common::check("honest, 50 a page", &server, &outcome, common::bound(4));
    assert!(!outcome.failed(), "an honest vendor reads to the end: {:?}", outcome.error);
    for request in server.requests() {
        assert_eq!(request.path, "/v1/public/conversations/messages/list", "{request:?}");
        assert_eq!(request.header("api-key"), Some("ordinary-key"), "{request:?}");
        assert_eq!(request.header("api-login"), Some(LOGIN), "{request:?}");
        assert_eq!(request.param_all("conversation_id"), vec![server.options().conversation_id.clone()], "{request:?}");
    }
}

#[tokio::test]
async fn honest_exact_multiple_of_the_page_size() {
    let (server, outcome) = run(Options::new(VENDOR, 150), None).await;
    common::check("honest, 150 messages, 50 a page", &server, &outcome, common::bound(4));
    assert!(!outcome.failed(), "{:?}", outcome.error);
}

#[tokio::test]
async fn honest_small_odd_pages() {
    let (server, outcome) = run(Options::new(VENDOR, 120), Some(7)).await;
    common::check("honest, 7 a page", &server, &outcome, common::bound(18));
    assert!(!outcome.failed(), "{:?}", outcome.error);
}

// The listing changes during the read.

#[tokio::test]
async fn inserted_at_the_head_after_page_1() {
    let options = Options::new(VENDOR, 173).behaviour(Behaviour::Insert { at: End::Head });
    let (server, outcome) = run(options, None).await;
    common::check("one message inserted at the head after page 1", &server, &outcome, common::bound(4));
}

#[tokio::test]
async fn inserted_at_the_newest_end_after_page_1() {
    let options = Options::new(VENDOR, 173).behaviour(Behaviour::Insert { at: End::Newest });
    let (server, outcome) = run(options, None).await;
    common::check("one message arriving after page 1", &server, &outcome, common::bound(4));
}

#[tokio::test]
async fn deleted_at_the_head_after_page_1() {
    let options = Options::new(VENDOR, 173).behaviour(Behaviour::Delete { at: End::Head });
    let (server, outcome) = run(options, None).await;
    common::check("the head message deleted after page 1", &server, &outcome, common::bound(4));
}

#[tokio::test]
async fn deleted_at_the_newest_end_after_page_1() {
    let options = Options::new(VENDOR, 173).behaviour(Behaviour::Delete { at: End::Newest });
    let (server, outcome) = run(options, None).await;
    common::check("the newest message deleted after page 1", &server, &outcome, common::bound(4));
}

// A vendor that pages differently than asked.

#[tokio::test]
async fn per_page_capped_at_20() {
    let options = Options::new(VENDOR, 173).behaviour(Behaviour::CapPageSize { max: 20 });
    let (server, outcome) = run(options, None).await;
    common::check("per_page 50 capped at 20", &server, &outcome, common::bound(9));
}

#[tokio::test]
async fn a_short_page_of_49_before_the_last() {
    let options = Options::new(VENDOR, 173).behaviour(Behaviour::ShortPage { page: 1, missing: 1 });
    let (server, outcome) = run(options, None).await;
    common::check("page 1 holds 49 where 50 were asked, the rest follows", &server, &outcome, common::bound(4));
}

#[tokio::test]
async fn a_short_page_in_the_middle() {
    let options = Options::new(VENDOR, 173).behaviour(Behaviour::ShortPage { page: 2, missing: 3 });
    let (server, outcome) = run(options, None).await;
    common::check("page 2 holds 47 where 50 were asked, the rest follows", &server, &outcome, common::bound(4));
}

// Identifiers that would escape their query value.

async fn conversation_id_stays_one_query_value(id: &str) {
    let options = Options::new(VENDOR, 30).conversation(id);
    let (server, outcome) = run(options, Some(10)).await;
    common::check(&format!("conversation id {id:?}"), &server, &outcome, common::bound(3));
    assert!(server.request_count() > 0, "{id:?} is a valid cid_ id: the client must ask for it");
    for request in server.requests() {
        assert_eq!(
            request.path, "/v1/public/conversations/messages/list",
            "{id:?} changed the path: {}",
            request.target
        );
        assert_eq!(request.param_all("conversation_id"), vec![id.to_owned()], "{}", request.target);
        let keys: Vec<String> = request.params().into_iter().map(|(k, _)| k).collect();
        for key in &keys {
            assert!(
                ["page", "per_page", "conversation_id"].contains(&key.as_str()),
                "{id:?} added the parameter `{key}`: {}",
                request.target
            );
        }
    }
}

#[tokio::test]
async fn a_conversation_id_with_query_syntax_stays_one_value() {
    conversation_id_stays_one_query_value("cid_a/b?c#d&page=9&x=1").await;
}

#[tokio::test]
async fn a_conversation_id_with_backslashes_stays_one_value() {
    conversation_id_stays_one_query_value("cid_..\\..\\admin").await;
}

#[tokio::test]
async fn a_conversation_id_with_a_plus_and_percent_stays_one_value() {
    conversation_id_stays_one_query_value("cid_a+b%2Fc").await;
}
