//! The generated Bird client against a real HTTP server on 127.0.0.1.

use convo_bird::{Body, Client, MessageSource, MessageStatus, SecretString, SenderType, types};
use convo_testkit::wiremock::matchers::any;
use convo_testkit::wiremock::{Mock, ResponseTemplate};
use convo_testkit::{only_request, sample, server};

const KEY: &str = "test-access-key-7f3a";

fn client(uri: &str) -> Client {
    Client::new(uri, convo_bird::Credentials::new(SecretString::from(KEY))).unwrap()
}

async fn serve(status: u16, body: Vec<u8>) -> convo_testkit::wiremock::MockServer {
    let server = server().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn documented_sample_decodes_and_the_request_has_the_documented_shape() {
    let server = serve(200, sample("bird.yaml", "200")).await;
    let page = client(&server.uri())
        .list_conversation_messages()
        .workspace_id("b4e02c85-c6d2-4b15-8885-e09671799c61")
        .conversation_id("67e4d358-ca94-421e-98b7-448860df9d33")
        .limit(std::num::NonZeroU64::new(100).unwrap())
        .page_token("WyIyMDI0LTExLTE1VDEzOjM0OjQ1Ljc3NTYzMDE0OVoiXQ==")
        .reverse(true)
        .date_from("2024-11-25T19:31:47.264Z".parse::<convo_bird::Timestamp>().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(
        request.url.path(),
        "/workspaces/b4e02c85-c6d2-4b15-8885-e09671799c61/conversations/67e4d358-ca94-421e-98b7-448860df9d33/messages"
    );
    assert_eq!(
        request.url.query(),
        Some(
            "dateFrom=2024-11-25T19%3A31%3A47.264Z&limit=100&pageToken=WyIyMDI0LTExLTE1VDEzOjM0OjQ1Ljc3NTYzMDE0OVoiXQ%3D%3D&reverse=true"
        )
    );
    assert_eq!(request.headers["authorization"], format!("AccessKey {KEY}").as_str());
    assert!(request.headers.get("api-version").is_none(), "progenitor's api-version header must not leave");

    assert_eq!(page.results.as_ref().unwrap().len(), 2);
    assert_eq!(
        page.results.as_ref().unwrap()[0].value().unwrap().sender.as_ref().unwrap().type_,
        Some(SenderType::AccessKey)
    );
    assert_eq!(page.results.as_ref().unwrap()[1].value().unwrap().status, Some(MessageStatus::Delivered));
    assert_eq!(page.results.as_ref().unwrap()[1].value().unwrap().source, Some(MessageSource::Channels));
    assert!(matches!(page.results.as_ref().unwrap()[1].value().unwrap().body, Some(Body::Html(_))));
    insta::assert_debug_snapshot!("bird_documented_sample", page);
}

#[tokio::test]
async fn path_parameters_are_percent_encoded_into_one_segment() {
    let server = serve(200, br#"{"results":[]}"#.to_vec()).await;
    client(&server.uri())
        .list_conversation_messages()
        .workspace_id("a/../b?c#d")
        .conversation_id("ü %2F x")
        .send()
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/workspaces/a%2F..%2Fb%3Fc%23d/conversations/%C3%BC%20%252F%20x/messages");
    assert_eq!(request.url.query(), None);
}

#[tokio::test]
async fn every_documented_error_status_decodes_into_birds_error_body() {
    for status in [403u16, 404, 409, 429, 500, 503] {
        let body = format!(r#"{{"code":"E{status}","message":"failed with {status}","details":{{"k":"v"}}}}"#);
        let server = serve(status, body.into_bytes()).await;
        let err = client(&server.uri())
            .list_conversation_messages()
            .workspace_id("w")
            .conversation_id("c")
            .send()
            .await
            .unwrap_err();
        let convo_bird::RequestError::ErrorResponse(response) = err else {
            panic!("{status}: expected a typed error response, got {err:?}");
        };
        assert_eq!(response.status().as_u16(), status);
        let body: &types::Error = &response;
        assert_eq!(body.code.as_deref(), Some(format!("E{status}").as_str()));
        assert_eq!(body.message.as_deref(), Some(format!("failed with {status}").as_str()));
    }
}

#[tokio::test]
async fn unknown_enum_values_and_body_types_survive_and_are_kept() {
    let page = br#"{"results":[{"id":"m1","conversationId":"c","sender":{"id":"s","type":"robot"},
        "status":"teleported","source":"pigeon","createdAt":"2024-11-15T13:34:45.775630149Z",
        "body":{"type":"hologram","hologram":{"depth":3}},"newField":{"a":null}}],"nextPageToken":""}"#;
    let server = serve(200, page.to_vec()).await;
    let page = client(&server.uri())
        .list_conversation_messages()
        .workspace_id("w")
        .conversation_id("c")
        .send()
        .await
        .unwrap()
        .into_inner();
    let captured = &page.results.as_ref().unwrap()[0];
    let message = captured.value().unwrap();
    assert_eq!(message.sender.as_ref().unwrap().type_, Some(SenderType::Other("robot".into())));
    assert_eq!(message.status, Some(MessageStatus::Other("teleported".into())));
    assert_eq!(message.source, Some(MessageSource::Other("pigeon".into())));
    assert!(
        matches!(&message.body, Some(Body::Other { kind, body }) if kind == "hologram" && body["hologram"]["depth"] == 3)
    );
    assert_eq!(message.created_at.unwrap().to_rfc3339(), "2024-11-15T13:34:45.775630149Z");
    assert!(captured.raw().get().contains(r#""newField":{"a":null}"#), "the raw message keeps unmodelled fields");
}

#[tokio::test]
async fn a_malformed_page_is_an_error_that_keeps_the_body() {
    let server = serve(200, br#"{"results":{"id":"m1"}}"#.to_vec()).await;
    let err = client(&server.uri())
        .list_conversation_messages()
        .workspace_id("w")
        .conversation_id("c")
        .send()
        .await
        .unwrap_err();
    let convo_bird::RequestError::InvalidResponsePayload(body, e) = err else { panic!("{err:?}") };
    assert_eq!(&body[..], br#"{"results":{"id":"m1"}}"#);
    assert!(e.to_string().contains("expected a sequence"), "{e}");
}

#[tokio::test]
async fn a_message_without_its_id_is_isolated_and_the_rest_of_the_page_reads() {
    let server = serve(200, br#"{"results":[{"conversationId":"c"},{"id":"m2"},"m3"]}"#.to_vec()).await;
    let page = client(&server.uri())
        .list_conversation_messages()
        .workspace_id("w")
        .conversation_id("c")
        .send()
        .await
        .unwrap()
        .into_inner();
    let results = page.results.unwrap();
    let error = results[0].error().unwrap();
    assert_eq!((error.path.as_str(), error.reason.as_str()), (".", "missing field `id`"));
    assert_eq!(results[0].raw().get(), r#"{"conversationId":"c"}"#);
    assert_eq!(results[1].value().unwrap().id, "m2");
    assert_eq!(results[1].value().unwrap().created_at, None, "a required field may be missing");
    assert_eq!(results[2].error().unwrap().path, ".");
}

#[test]
fn the_access_key_never_appears_in_debug_output() {
    let client = client("https://api.bird.com");
    assert!(!format!("{client:?}").contains(KEY));
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let err = Client::new("http://api.bird.com", convo_bird::Credentials::new(SecretString::from(KEY))).unwrap_err();
    assert!(err.to_string().contains("http"), "{err}");
}

#[tokio::test]
async fn a_body_over_the_size_limit_is_refused_unread() {
    let server = serve(200, sample("bird.yaml", "200")).await;
    let options = convo_bird::ClientOptions { max_body_bytes: 1_000, ..Default::default() };
    let client =
        Client::with_options(&server.uri(), convo_bird::Credentials::new(SecretString::from(KEY)), &options).unwrap();
    let err = client.list_conversation_messages().workspace_id("w").conversation_id("c").send().await.unwrap_err();
    let convo_bird::RequestError::ResponseBodyError(e) = &err else { panic!("{err:?}") };
    assert_eq!(convo_runtime::body_too_large(e), Some(convo_runtime::BodyTooLarge { limit: 1_000 }));
    assert_eq!(convo_runtime::retry::classify(&err), convo_runtime::retry::Verdict::Fail);
}

#[tokio::test]
async fn an_error_status_with_a_body_that_is_not_json_keeps_its_status() {
    let server = server().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(502).set_body_raw("<html>Bad Gateway</html>", "text/html"))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .list_conversation_messages()
        .workspace_id("w")
        .conversation_id("c")
        .send()
        .await
        .unwrap_err();
    let convo_bird::RequestError::ResponseBodyError(e) = &err else { panic!("{err:?}") };
    let status = convo_runtime::find_in_chain::<convo_runtime::ErrorStatus>(e).expect("the status is kept");
    assert_eq!(status.status.as_u16(), 502);
    assert_eq!(status.body_start, "<html>Bad Gateway</html>");
    assert_eq!(convo_runtime::retry::classify(&err), convo_runtime::retry::Verdict::Retry { after: None });
}
