//! LeadConnector's client against a hostile LeadConnector: every message of
//! the conversation exactly once, newest first, or a typed error.

mod common;

use std::time::Duration;

use convo_hostile::{Behaviour, End, HostileServer, Options, Outcome, Vendor, one_segment, read_all};
use convo_leadconnector::{Captured, Client, MessagesQuery, PagingOptions, SecretString, types};

const VENDOR: Vendor = Vendor::Leadconnector;

async fn read(server: &HostileServer, paging: PagingOptions, token: &str) -> Outcome {
    let client = Client::with_options(
        &server.base_url(),
        convo_leadconnector::Credentials::new(SecretString::from(token))
            .with_version(convo_leadconnector::DEFAULT_VERSION),
        &common::client_options(),
    )
    .expect("a client for the hostile server");
    let query = MessagesQuery::new(server.options().conversation_id.clone());
    read_all(
        client.messages(query, paging),
        |m: &Captured<types::Message>| m.value().map(|v| v.id.clone()).unwrap_or_default(),
        common::LIMIT,
    )
    .await
}

async fn run(options: Options, page_size: Option<u64>) -> (HostileServer, Outcome) {
    run_with(options, common::paging(page_size), "ordinary-token").await
}

async fn run_with(options: Options, paging: PagingOptions, token: &str) -> (HostileServer, Outcome) {
    let server = HostileServer::start(options).await.expect("the hostile server starts");
    let outcome = read(&server, paging, token).await;
    (server, outcome)
}

every_vendor_faults!(VENDOR, 130, 20);

// The honest vendor.

#[tokio::test]
async fn honest_flat_body_default_page_size() {
    let (server, outcome) = run(Options::new(VENDOR, 130), None).await;
    common::check("honest, the documented flat body", &server, &outcome, common::bound(2));
    assert!(!outcome.failed(), "an honest vendor reads to the end: {:?}", outcome.error);
    for request in server.requests() {
        assert_eq!(request.header("authorization"), Some("Bearer ordinary-token"), "{request:?}");
        assert_eq!(request.header("version"), Some(convo_leadconnector::DEFAULT_VERSION), "{request:?}");
        assert_eq!(request.header_count("version"), 1, "{request:?}");
    }
}

#[tokio::test]
async fn honest_nested_body() {
    let (server, outcome) = run(Options::new(VENDOR, 130).nested(), Some(20)).await;
    common::check("honest, the live API's nested body", &server, &outcome, common::bound(7));
    assert!(!outcome.failed(), "{:?}", outcome.error);
}

#[tokio::test]
async fn honest_shared_milliseconds() {
    let (server, outcome) = run(Options::new(VENDOR, 130).same_millisecond(13), Some(20)).await;
    common::check("honest, 13 messages a millisecond", &server, &outcome, common::bound(7));
    assert!(!outcome.failed(), "{:?}", outcome.error);
}

// The listing changes during the read.

#[tokio::test]
async fn inserted_at_the_head_after_page_1() {
    let options = Options::new(VENDOR, 130).behaviour(Behaviour::Insert { at: End::Head });
    let (server, outcome) = run(options, Some(20)).await;
    common::check("one message arriving at the head after page 1", &server, &outcome, common::bound(8));
}

#[tokio::test]
async fn deleted_at_the_head_after_page_1() {
    let options = Options::new(VENDOR, 130).behaviour(Behaviour::Delete { at: End::Head });
    let (server, outcome) = run(options, Some(20)).await;
    common::check("the head message deleted after page 1", &server, &outcome, common::bound(7));
}

#[tokio::test]
async fn deleted_and_inserted_at_the_head_after_page_1() {
    let options =
        Options::new(VENDOR, 130).behaviour(Behaviour::DeleteAndInsert { delete: End::Head, insert: End::Head });
    let (server, outcome) = run(options, Some(20)).await;
    common::check("one deleted and one arriving at the head after page 1", &server, &outcome, common::bound(8));
}

// A vendor that pages differently than asked.

#[tokio::test]
async fn limit_capped_at_15_while_saying_next_page() {
    let options = Options::new(VENDOR, 130).behaviour(Behaviour::CapPageSize { max: 15 });
    let (server, outcome) = run(options, None).await;
    common::check("limit capped at 15, nextPage true", &server, &outcome, common::bound(9));
}

#[tokio::test]
async fn last_message_id_pointing_into_the_same_page() {
    let options = Options::new(VENDOR, 130).behaviour(Behaviour::CursorIntoSamePage);
    let (server, outcome) = run(options, Some(20)).await;
    common::check("lastMessageId of page 2 is its 2nd message", &server, &outcome, common::bound(8));
}

#[tokio::test]
async fn last_message_id_pointing_into_the_previous_page() {
    let options = Options::new(VENDOR, 130).behaviour(Behaviour::CursorIntoPreviousPage);
    let (server, outcome) = run(options, Some(20)).await;
    common::check("lastMessageId of page 2 is page 1's 2nd message", &server, &outcome, common::bound(9));
}

// Identifiers that would escape their path segment.

async fn conversation_id_stays_in_its_segment(id: &str) {
    let options = Options::new(VENDOR, 30).conversation(id);
    let (server, outcome) = run(options, Some(10)).await;
    common::check(&format!("conversation id {id:?}"), &server, &outcome, common::bound(3));
    for request in server.requests() {
        assert!(request.path.starts_with("/conversations/"), "{id:?} escaped: {}", request.target);
        let segment = one_segment(&request.path, "/conversations/", "/messages")
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
    conversation_id_stays_in_its_segment("..").await;
}
