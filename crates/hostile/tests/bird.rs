//! Bird's client against a hostile Bird: every message of the conversation
//! exactly once, newest first, or a typed error.

mod common;

use std::time::Duration;

use convo_bird::{Captured, Client, MessagesQuery, PagingOptions, SecretString, types};
use convo_hostile::{Behaviour, BirdTokens, End, HostileServer, Options, Outcome, Vendor, one_segment, read_all};

const VENDOR: Vendor = Vendor::Bird;

async fn read_query(server: &HostileServer, query: MessagesQuery, paging: PagingOptions, key: &str) -> Outcome {
    let client = Client::with_options(
        &server.base_url(),
        convo_bird::Credentials::new(SecretString::from(key)),
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

fn query(server: &HostileServer) -> MessagesQuery {
    MessagesQuery::new(server.options().workspace_id.clone(), server.options().conversation_id.clone())
}

async fn run(options: Options, page_size: Option<u64>) -> (HostileServer, Outcome) {
    run_with(options, common::paging(page_size), "ordinary-key").await
}

async fn run_with(options: Options, paging: PagingOptions, key: &str) -> (HostileServer, Outcome) {
    let server = HostileServer::start(options).await.expect("the hostile server starts");
    let outcome = read_query(&server, query(&server), paging, key).await;
    (server, outcome)
}

every_vendor_faults!(VENDOR, 125, 10);

// The honest vendor.

#[tokio::test]
async fn honest_default_page_size() {
    let (server, outcome) = run(Options::new(VENDOR, 125), None).await;
    common::check("honest, the client's default page size", &server, &outcome, common::bound(2));
    assert!(!outcome.failed(), "an honest vendor reads to the end: {:?}", outcome.error);
    for request in server.requests() {
        assert_eq!(request.header("authorization"), Some("AccessKey ordinary-key"), "{request:?}");
    }
}

#[tokio::test]
async fn honest_small_pages() {
    let (server, outcome) = run(Options::new(VENDOR, 125), Some(10)).await;
    common::check("honest, 10 a page", &server, &outcome, common::bound(13));
    assert!(!outcome.failed(), "{:?}", outcome.error);
}

#[tokio::test]
async fn honest_reverse_order() {
    let server = HostileServer::start(Options::new(VENDOR, 125)).await.unwrap();
    let mut q = query(&server);
    q.reverse = Some(true);
    let outcome = read_query(&server, q, common::paging(Some(10)), "ordinary-key").await;
    common::check("honest, reverse=true", &server, &outcome, common::bound(13));
    assert!(!outcome.failed(), "{:?}", outcome.error);
    for request in server.requests() {
        assert_eq!(request.param("reverse").as_deref(), Some("true"), "{request:?}");
    }
}

#[tokio::test]
async fn honest_offset_tokens() {
    let (server, outcome) = run(Options::new(VENDOR, 125).bird_tokens(BirdTokens::Offset), Some(10)).await;
    common::check("honest, offset tokens", &server, &outcome, common::bound(13));
    assert!(!outcome.failed(), "{:?}", outcome.error);
}

#[tokio::test]
async fn honest_shared_milliseconds() {
    let (server, outcome) = run(Options::new(VENDOR, 125).same_millisecond(25), Some(10)).await;
    common::check("honest, 25 messages a millisecond", &server, &outcome, common::bound(13));
    assert!(!outcome.failed(), "{:?}", outcome.error);
}

// The listing changes during the read.

#[tokio::test]
async fn inserted_at_the_head_after_page_1_keyset_tokens() {
    let options = Options::new(VENDOR, 125).behaviour(Behaviour::Insert { at: End::Head });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("one arriving at the head after page 1, key tokens", &server, &outcome, common::bound(14));
}

#[tokio::test]
async fn inserted_at_the_head_after_page_1_offset_tokens() {
    let options =
        Options::new(VENDOR, 125).bird_tokens(BirdTokens::Offset).behaviour(Behaviour::Insert { at: End::Head });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("one arriving at the head after page 1, offset tokens", &server, &outcome, common::bound(14));
}

#[tokio::test]
async fn deleted_at_the_head_after_page_1_keyset_tokens() {
    let options = Options::new(VENDOR, 125).behaviour(Behaviour::Delete { at: End::Head });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("the head deleted after page 1, key tokens", &server, &outcome, common::bound(13));
}

#[tokio::test]
async fn deleted_at_the_head_after_page_1_offset_tokens() {
    let options =
        Options::new(VENDOR, 125).bird_tokens(BirdTokens::Offset).behaviour(Behaviour::Delete { at: End::Head });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("the head deleted after page 1, offset tokens", &server, &outcome, common::bound(13));
}

#[tokio::test]
async fn one_deleted_one_inserted_at_the_head_same_total_offset_tokens() {
    let options = Options::new(VENDOR, 125)
        .bird_tokens(BirdTokens::Offset)
        .behaviour(Behaviour::DeleteAndInsert { delete: End::Head, insert: End::Head });
    let (server, outcome) = run(options, Some(10)).await;
    common::check(
        "one deleted and one arriving at the head, total unchanged, offset tokens",
        &server,
        &outcome,
        common::bound(14),
    );
}

// A vendor that pages differently than asked.

#[tokio::test]
async fn limit_capped_at_7() {
    let options = Options::new(VENDOR, 125).behaviour(Behaviour::CapPageSize { max: 7 });
    let (server, outcome) = run(options, None).await;
    common::check("limit 100 capped at 7", &server, &outcome, common::bound(18));
}

#[tokio::test]
async fn next_page_token_one_message_early_keyset_tokens() {
    let options = Options::new(VENDOR, 125).behaviour(Behaviour::TokenOneEarly);
    let (server, outcome) = run(options, Some(10)).await;
    common::check("every nextPageToken one message early, key tokens", &server, &outcome, common::bound(15));
}

#[tokio::test]
async fn next_page_token_one_message_early_offset_tokens() {
    let options = Options::new(VENDOR, 125).bird_tokens(BirdTokens::Offset).behaviour(Behaviour::TokenOneEarly);
    let (server, outcome) = run(options, Some(10)).await;
    common::check("every nextPageToken one message early, offset tokens", &server, &outcome, common::bound(15));
}

#[tokio::test]
async fn the_same_page_with_a_fresh_token_every_time() {
    let options = Options::new(VENDOR, 125).behaviour(Behaviour::SamePageFreshToken);
    let (server, outcome) = run(options, Some(10)).await;
    common::check("page 1 again and again, each time with a new token", &server, &outcome, 10);
}

#[tokio::test]
async fn total_understated_by_two() {
    let options = Options::new(VENDOR, 122).behaviour(Behaviour::UnderstateTotal { by: 2 });
    let (server, outcome) = run(options, Some(10)).await;
    common::check("total 2 fewer than the messages", &server, &outcome, common::bound(13));
}

// Identifiers that would escape their path segment.

async fn ids_stay_in_their_segments(workspace: &str, conversation: &str) {
    let options = Options::new(VENDOR, 30).workspace(workspace).conversation(conversation);
    let (server, outcome) = run(options, Some(10)).await;
    common::check(
        &format!("workspace {workspace:?}, conversation {conversation:?}"),
        &server,
        &outcome,
        common::bound(3),
    );
    for request in server.requests() {
        let path = &request.path;
        assert!(path.starts_with("/workspaces/"), "escaped: {}", request.target);
        let rest = &path["/workspaces/".len()..];
        let (ws, conv) = rest
            .split_once("/conversations/")
            .unwrap_or_else(|| panic!("{workspace:?}/{conversation:?} changed the path: {}", request.target));
        let ws = one_segment(&format!("/{ws}/"), "/", "/").unwrap_or_else(|e| panic!("workspace {workspace:?}: {e}"));
        let conv = one_segment(&format!("/{conv}"), "/", "/messages")
            .unwrap_or_else(|e| panic!("conversation {conversation:?}: {e}"));
        assert_eq!((ws.as_str(), conv.as_str()), (workspace, conversation), "{}", request.target);
    }
}

#[tokio::test]
async fn a_dot_dot_backslash_conversation_id_stays_in_its_segment() {
    ids_stay_in_their_segments(convo_hostile::DEFAULT_BIRD_WORKSPACE, "..\\..\\admin").await;
}

#[tokio::test]
async fn a_backslash_conversation_id_stays_in_its_segment() {
    ids_stay_in_their_segments(convo_hostile::DEFAULT_BIRD_WORKSPACE, "a\\b").await;
}

#[tokio::test]
async fn a_slash_query_and_fragment_conversation_id_stays_in_its_segment() {
    ids_stay_in_their_segments(convo_hostile::DEFAULT_BIRD_WORKSPACE, "a/b?c#d").await;
}

#[tokio::test]
async fn a_hostile_workspace_id_stays_in_its_segment() {
    ids_stay_in_their_segments("..\\ws/x?y#z", "c1").await;
}

#[tokio::test]
async fn a_dot_dot_workspace_id_is_never_sent_as_a_dot_segment() {
    ids_stay_in_their_segments("..", "c1").await;
}
