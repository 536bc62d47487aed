//! The generated Octopush client against a real HTTP server on 127.0.0.1.

use convo_octopush::{
    Channel, Client, ConversationId, DeliveryStatus, Direction, FacebookId, InvalidParameter, Page, PerPage, Problem,
    RequestError, SecretString,
};
use convo_testkit::wiremock::matchers::any;
use convo_testkit::wiremock::{Mock, MockServer, ResponseTemplate};
use convo_testkit::{only_request, sample, server};

const LOGIN: &str = "login-9c2e@example.com";
const KEY: &str = "test-api-key-7f3a";

fn client(uri: &str) -> Client {
    Client::new(uri, convo_octopush::Credentials::new(LOGIN, SecretString::from(KEY))).unwrap()
}

/// A server answering every request with `status` and `body`; `uri` is what
/// the client is given, with the `/v1/public` prefix the real API has.
async fn serve(status: u16, body: Vec<u8>) -> (MockServer, String) {
    let server = server().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let uri = format!("{}/v1/public", server.uri());
    (server, uri)
}

#[tokio::test]
async fn documented_sample_decodes_and_the_request_has_the_documented_shape() {
    let (server, uri) = serve(200, sample("octopush.yaml", "200")).await;
    let messages = client(&uri)
        .list_conversation_messages()
        .page(Page::new(2).unwrap())
        .per_page(PerPage::new(100).unwrap())
        .contact("+33612345678")
        .phone_number("+33612345678")
        .email("jane.doe+tag@example.com")
        .facebook_id(FacebookId::new("fid_1234567890").unwrap())
        .conversation_id(ConversationId::new("cid_3fa85f64-5717-4562-b3fc-2c963f66afa6").unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/v1/public/conversations/messages/list");
    assert_eq!(
        request.url.query(),
        Some(
            "contact=%2B33612345678\
             &conversation_id=cid_3fa85f64-5717-4562-b3fc-2c963f66afa6\
             &email=jane.doe%2Btag%40example.com\
             &facebook_id=fid_1234567890\
             &page=2\
             &per_page=100\
             &phone_number=%2B33612345678"
        )
    );
    assert_eq!(request.headers["api-login"], LOGIN);
    assert_eq!(request.headers["api-key"], KEY);
    assert_eq!(request.headers["accept"], "application/json");
    assert!(request.headers.get("api-version").is_none(), "progenitor's api-version header must not leave");
    assert!(request.headers.get("authorization").is_none());

    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].value().unwrap().message_id, "***");
    assert_eq!(messages[0].value().unwrap().direction, Some(Direction::Inbound));
    assert_eq!(messages[0].value().unwrap().channel, Some(Channel::Rcs));
    assert_eq!(messages[0].value().unwrap().delivery_status, None);
    assert_eq!(messages[1].value().unwrap().direction, Some(Direction::Outbound));
    assert_eq!(messages[1].value().unwrap().channel, Some(Channel::Sms));
    assert_eq!(messages[1].value().unwrap().delivery_status, Some(DeliveryStatus::Sending));
    assert_eq!(messages[1].value().unwrap().text.as_deref(), Some("Example outbound SMS message"));
    let contact = messages[1].value().unwrap().contact_identifiers.as_ref().unwrap();
    assert_eq!((contact.phone_number.as_deref(), contact.email.as_deref()), (Some("***"), None));
    let user = messages[1].value().unwrap().user_identifiers.as_ref().unwrap();
    assert_eq!((user.email.as_deref(), user.facebook_page_id.as_deref()), (Some("***"), None));
    assert!(messages[1].raw().get().contains(r#""agent_assigned_to": null"#));
    insta::assert_debug_snapshot!("octopush_documented_sample", messages);
}

#[tokio::test]
async fn each_parameter_has_its_own_wire_form_and_unset_ones_are_not_sent() {
    let (server, uri) = serve(200, b"[]".to_vec()).await;
    let c = client(&uri);
    let list = || c.list_conversation_messages();
    list().send().await.unwrap();
    list().page(Page::new(1).unwrap()).send().await.unwrap();
    list().per_page(PerPage::new(50).unwrap()).send().await.unwrap();
    list().contact("jane.doe@example.com").send().await.unwrap();
    list().phone_number("+33 6 12 34 56 78").send().await.unwrap();
    list().email("jane.doe@example.com").send().await.unwrap();
    list().facebook_id(FacebookId::new("fid_98765").unwrap()).send().await.unwrap();
    list().conversation_id(ConversationId::new("cid_ab/cd&e=f").unwrap()).send().await.unwrap();

    let queries: Vec<Option<String>> =
        server.received_requests().await.unwrap().iter().map(|r| r.url.query().map(str::to_owned)).collect();
    let expected = [
        None,
        Some("page=1"),
        Some("per_page=50"),
        Some("contact=jane.doe%40example.com"),
        Some("phone_number=%2B33+6+12+34+56+78"),
        Some("email=jane.doe%40example.com"),
        Some("facebook_id=fid_98765"),
        Some("conversation_id=cid_ab%2Fcd%26e%3Df"),
    ];
    assert_eq!(queries, expected.map(|q| q.map(str::to_owned)));
}

/// What a caller writes: build the checked parameters with `?`, then send.
async fn list_with(
    client: &Client,
    page: u64,
    per_page: u64,
    facebook_id: Option<&str>,
    conversation_id: Option<&str>,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut request = client.list_conversation_messages().page(Page::new(page)?).per_page(PerPage::new(per_page)?);
    if let Some(id) = facebook_id {
        request = request.facebook_id(FacebookId::new(id)?);
    }
    if let Some(id) = conversation_id {
        request = request.conversation_id(ConversationId::new(id)?);
    }
    Ok(request.send().await?.into_inner().len())
}

#[tokio::test]
async fn invalid_parameters_are_refused_before_anything_is_sent() {
    let (server, uri) = serve(200, b"[]".to_vec()).await;
    let c = client(&uri);
    // (page, per_page, facebook_id, conversation_id, the parameter refused, why)
    type Case = (u64, u64, Option<&'static str>, Option<&'static str>, &'static str, Problem);
    let cases: [Case; 8] = [
        (0, 50, None, None, "page", Problem::BelowMinimum { value: 0, minimum: 1 }),
        (1, 0, None, None, "per_page", Problem::BelowMinimum { value: 0, minimum: 1 }),
        (
            1,
            50,
            Some("1234567890"),
            None,
            "facebook_id",
            Problem::MissingPrefix { prefix: "fid_", value: "1234567890".into() },
        ),
        (
            1,
            50,
            Some("cid_123"),
            None,
            "facebook_id",
            Problem::MissingPrefix { prefix: "fid_", value: "cid_123".into() },
        ),
        (1, 50, Some("fid_"), None, "facebook_id", Problem::EmptyAfterPrefix { prefix: "fid_" }),
        (
            1,
            50,
            None,
            Some("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            "conversation_id",
            Problem::MissingPrefix { prefix: "cid_", value: "3fa85f64-5717-4562-b3fc-2c963f66afa6".into() },
        ),
        (1, 50, None, Some("cid_"), "conversation_id", Problem::EmptyAfterPrefix { prefix: "cid_" }),
        (1, 50, None, Some("cid_abc "), "conversation_id", Problem::Whitespace { value: "cid_abc ".into() }),
    ];
    for (page, per_page, fid, cid, parameter, problem) in cases {
        let err = list_with(&c, page, per_page, fid, cid).await.unwrap_err();
        let err =
            err.downcast::<InvalidParameter>().unwrap_or_else(|e| panic!("{parameter}: not an InvalidParameter: {e}"));
        assert_eq!(*err, InvalidParameter { parameter, problem });
        assert!(err.to_string().starts_with(&format!("invalid `{parameter}`: ")), "{err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty(), "no invalid request may reach the server");

    // The same calls with valid values do reach it.
    assert_eq!(list_with(&c, 1, 50, Some("fid_1"), Some("cid_1")).await.unwrap(), 0);
    assert_eq!(
        only_request(&server).await.url.query(),
        Some("conversation_id=cid_1&facebook_id=fid_1&page=1&per_page=50")
    );
}

#[tokio::test]
async fn every_error_status_decodes_into_the_error_body() {
    for status in [400u16, 401, 403, 404, 429, 500] {
        let body = format!(r#"{{"code":{status}1,"message":"failed with {status}","error_tracking_id":"t-{status}"}}"#);
        let (_server, uri) = serve(status, body.into_bytes()).await;
        let err = client(&uri).list_conversation_messages().send().await.unwrap_err();
        let RequestError::ErrorResponse(response) = err else {
            panic!("{status}: expected a typed error response, got {err:?}");
        };
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.code, Some(serde_json::json!(status as u64 * 10 + 1)));
        assert_eq!(response.message.as_deref(), Some(format!("failed with {status}").as_str()));
        assert_eq!(response.extra["error_tracking_id"], format!("t-{status}").as_str(), "unmodelled fields are kept");
    }
}

#[tokio::test]
async fn a_string_error_code_is_kept_too() {
    let (_server, uri) = serve(503, br#"{"code":"maintenance","message":"back soon"}"#.to_vec()).await;
    let err = client(&uri).list_conversation_messages().send().await.unwrap_err();
    let RequestError::ErrorResponse(response) = err else { panic!("{err:?}") };
    assert_eq!(response.code, Some(serde_json::json!("maintenance")));
}

#[tokio::test]
async fn unknown_enum_values_and_unmodelled_fields_survive() {
    let page = br#"[{"message_id":"m1","direction":"sideways","delivery_status":"teleported",
        "channel":"pigeon","agent_assigned_to":{"id":7},"user_identifiers":null,"sent_at":"2024-01-01T00:00:00Z"}]"#;
    let (_server, uri) = serve(200, page.to_vec()).await;
    let messages = client(&uri).list_conversation_messages().send().await.unwrap().into_inner();
    let message = &messages[0];
    assert_eq!(message.value().unwrap().direction, Some(Direction::Other("sideways".into())));
    assert_eq!(message.value().unwrap().delivery_status, Some(DeliveryStatus::Other("teleported".into())));
    assert_eq!(message.value().unwrap().channel, Some(Channel::Other("pigeon".into())));
    assert_eq!(message.value().unwrap().agent_assigned_to, Some(serde_json::json!({"id": 7})));
    assert_eq!(message.value().unwrap().user_identifiers, None);
    assert!(
        message.raw().get().contains(r#""sent_at":"2024-01-01T00:00:00Z""#),
        "the raw message keeps unmodelled fields"
    );
}

#[tokio::test]
async fn a_malformed_page_is_an_error_that_keeps_the_body() {
    let (_server, uri) = serve(200, br#"{"message_id":"not a list"}"#.to_vec()).await;
    let err = client(&uri).list_conversation_messages().send().await.unwrap_err();
    let RequestError::InvalidResponsePayload(body, e) = err else { panic!("{err:?}") };
    assert_eq!(&body[..], br#"{"message_id":"not a list"}"#);
    assert!(e.to_string().contains("expected a sequence"), "{e}");
}

#[tokio::test]
async fn a_message_without_its_id_is_isolated_and_the_rest_of_the_page_reads() {
    let (_server, uri) = serve(200, br#"[{"text":"no id"},{"message_id":"m2","text":null}]"#.to_vec()).await;
    let messages = client(&uri).list_conversation_messages().send().await.unwrap().into_inner();
    let error = messages[0].error().unwrap();
    assert_eq!((error.path.as_str(), error.reason.as_str()), (".", "missing field `message_id`"));
    assert_eq!(messages[0].raw().get(), r#"{"text":"no id"}"#);
    assert_eq!(messages[1].value().unwrap().message_id, "m2");
}

#[test]
fn neither_credential_appears_in_debug_output() {
    let text = format!("{:?}", client(convo_octopush::DEFAULT_BASE_URL));
    assert!(!text.contains(KEY), "{text}");
    assert!(!text.contains(LOGIN), "{text}");
}

#[test]
fn empty_or_malformed_credentials_are_refused_without_echoing_them() {
    let url = convo_octopush::DEFAULT_BASE_URL;
    let err = Client::new(url, convo_octopush::Credentials::new("", SecretString::from(KEY))).unwrap_err();
    assert!(err.to_string().contains("api-login"), "{err}");
    let err = Client::new(url, convo_octopush::Credentials::new(LOGIN, SecretString::from("bad\nkey"))).unwrap_err();
    assert!(err.to_string().contains("api-key") && !err.to_string().contains("bad"), "{err}");
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let err = Client::new(
        "http://api.octopush.com/v1/public",
        convo_octopush::Credentials::new(LOGIN, SecretString::from(KEY)),
    )
    .unwrap_err();
    assert!(err.to_string().contains("http"), "{err}");
}
