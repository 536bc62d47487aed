//! A credential echoed inside a JSON string, escaped as encoders write it,
//! never reaches an error's Display or Debug.

use convo_octopush::{Client, ConversationId, MessagesQuery, PagingOptions, RetryPolicy, SecretString};
use convo_testkit::server;
use convo_testkit::wiremock::matchers::any;
use convo_testkit::wiremock::{Mock, ResponseTemplate};
use futures::StreamExt;
use std::time::Duration;

const CONVERSATION: &str = "cid_3fa85f64-5717-4562-b3fc-2c963f66afa6";

#[tokio::test]
async fn a_json_escaped_echo_of_the_key_is_scrubbed_too() {
    let key = "octo/secret/key1";
    // What any JSON encoder writes for it (PHP also escapes the slash).
    let escaped = r#"octo\/secret\/key1"#;
    let server = server().await;
    let body = format!(r#"{{"code":401,"message":"Invalid api-key {escaped}"}}"#);
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let client = Client::new(
        &format!("{}/v1/public", server.uri()),
        convo_octopush::Credentials::new("login@example.com", SecretString::from(key)),
    )
    .unwrap();
    let opts = PagingOptions {
        retry: RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
        ..PagingOptions::default()
    };
    let items: Vec<_> = client
        .pages(MessagesQuery::by_conversation_id(ConversationId::new(CONVERSATION).unwrap()), opts)
        .collect()
        .await;
    let err = items.into_iter().find_map(Result::err).unwrap();
    let (display, debug) = (err.to_string(), format!("{err:?}"));
    let alt = key;
    assert!(!display.contains(alt) && !debug.contains(alt) && !debug.contains(escaped), "credential leaked");
}
