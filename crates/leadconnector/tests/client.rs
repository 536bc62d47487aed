//! The generated LeadConnector client against a real HTTP server on 127.0.0.1.

use convo_leadconnector::{
    CallStatus, Client, ClientOptions, MessageDirection, MessageSource, MessageStatus, MessageType, MessagesResponse,
    RequestError, SecretString, types,
};
use convo_testkit::wiremock::matchers::any;
use convo_testkit::wiremock::{Mock, MockServer, Request, ResponseTemplate};
use convo_testkit::{only_request, sample, server};

const TOKEN: &str = "pit-test-token-5d1e";

fn client(uri: &str) -> Client {
    Client::new(uri, convo_leadconnector::Credentials::new(SecretString::from(TOKEN))).unwrap()
}

async fn serve_response(response: ResponseTemplate) -> MockServer {
    let server = server().await;
    Mock::given(any()).respond_with(response).mount(&server).await;
    server
}

async fn serve(status: u16, body: Vec<u8>) -> MockServer {
    serve_response(ResponseTemplate::new(status).set_body_raw(body, "application/json")).await
}

/// Every value of header `name` on the request.
fn header_values<'a>(request: &'a Request, name: &str) -> Vec<&'a str> {
    request.headers.get_all(name).iter().map(|v| v.to_str().unwrap()).collect()
}

/// The page the server serves, fetched for conversation `c`.
async fn fetch(server: &MockServer) -> MessagesResponse {
    client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap().into_inner()
}

#[tokio::test]
async fn documented_sample_decodes_and_the_request_has_the_documented_shape() {
    let server = serve(200, sample("leadconnector.yaml", "200")).await;
    let page = client(&server.uri())
        .get_messages()
        .conversation_id("tDtDnQdgm2LXpyiqYvZ6")
        .last_message_id("p1mRSHeLDhAms5q0LMr4")
        .limit(20)
        .type_("TYPE_SMS,TYPE_CALL")
        .send()
        .await
        .unwrap()
        .into_inner();

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/conversations/tDtDnQdgm2LXpyiqYvZ6/messages");
    assert_eq!(
        request.url.query(),
        Some("lastMessageId=p1mRSHeLDhAms5q0LMr4&limit=20&type=TYPE_SMS%2CTYPE_CALL"),
        "`type` is one comma-separated value and `limit` a whole number"
    );
    assert_eq!(header_values(&request, "authorization"), [format!("Bearer {TOKEN}").as_str()]);
    assert_eq!(header_values(&request, "version"), ["2021-07-28"], "the default version, exactly once");
    assert!(request.headers.get("api-version").is_none(), "progenitor's api-version header must not leave");

    assert!(matches!(page, MessagesResponse::Flat(_)));
    assert_eq!(page.last_message_id(), Some("p1mRSHeLDhAms5q0LMr4"));
    assert_eq!(page.next_page(), Some(true));
    assert_eq!(page.trace_id(), None);
    let message = &page.messages()[0];
    assert_eq!(message.value().unwrap().id, "ve9EPM428h8vShlRW1KT");
    assert_eq!(message.value().unwrap().type_, Some(1.0));
    assert_eq!(
        message.value().unwrap().message_type,
        Some(MessageType::Other("SMS".into())),
        "the page's own example value is kept"
    );
    assert_eq!(message.value().unwrap().direction, Some(MessageDirection::Inbound));
    assert_eq!(message.value().unwrap().date_added.unwrap().to_rfc3339(), "2024-03-27T18:13:49Z");
    assert_eq!(message.value().unwrap().body.as_deref(), Some("Hi there"));
    let meta = message.value().unwrap().meta.as_ref().unwrap();
    assert_eq!(meta.call_duration, Some(convo_leadconnector::types::CallDuration::String("120".into())));
    assert_eq!(meta.call_status, Some(CallStatus::Completed));
    assert_eq!(
        meta.email.as_ref().unwrap().message_ids.clone().unwrap(),
        ["ve9EPM428kjkvShlRW1KT", "ve9EPs1028kjkvShlRW1KT"]
    );
    insta::assert_debug_snapshot!("leadconnector_documented_sample", page);
}

#[tokio::test]
async fn the_version_header_is_the_clients_configurable_and_always_goes_out_once() {
    let server = serve(200, sample("leadconnector.yaml", "200")).await;
    let client = Client::new(
        &server.uri(),
        convo_leadconnector::Credentials::new(SecretString::from(TOKEN)).with_version("2021-04-15"),
    )
    .unwrap();
    client.get_messages().conversation_id("c").send().await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header_values(&request, "version"), ["2021-04-15"]);
    assert_eq!(header_values(&request, "authorization"), [format!("Bearer {TOKEN}").as_str()]);

    // Unless chosen, the version is the one the vendor page allows.
    let server = serve(200, sample("leadconnector.yaml", "200")).await;
    let options = ClientOptions::default();
    let client =
        Client::with_options(&server.uri(), convo_leadconnector::Credentials::new(SecretString::from(TOKEN)), &options)
            .unwrap();
    client.get_messages().conversation_id("c").send().await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header_values(&request, "version"), [convo_leadconnector::DEFAULT_VERSION]);
    assert_eq!(request.url.query(), None, "no optional query parameter goes out unset");
}

#[test]
fn a_bad_version_is_refused_before_any_request() {
    let err = Client::new(
        "https://services.leadconnectorhq.com",
        convo_leadconnector::Credentials::new(SecretString::from(TOKEN)).with_version("2021 07 28"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("invalid Version"), "{err}");
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn the_conversation_id_is_percent_encoded_into_one_segment() {
    let server = serve(200, br#"{"lastMessageId":"","nextPage":false,"messages":[]}"#.to_vec()).await;
    client(&server.uri()).get_messages().conversation_id("a/../b?c#d ü").send().await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/conversations/a%2F..%2Fb%3Fc%23d%20%C3%BC/messages");
}

#[tokio::test]
async fn every_documented_error_status_decodes_into_highlevels_error_body() {
    // 400, 401 and 422 are the page's documented examples, read from the spec;
    // 429 (not on the page) and a longer 422 list are written here.
    /// A status, its body, and the `message` texts and `error` it must decode to.
    type Case = (u16, Vec<u8>, &'static [&'static str], Option<&'static str>);
    let cases: [Case; 5] = [
        (400, sample("leadconnector.yaml", "400"), &["Bad Request"], None),
        (401, sample("leadconnector.yaml", "401"), &["Invalid token: access token is invalid"], Some("Unauthorized")),
        (422, sample("leadconnector.yaml", "422"), &["Unprocessable Entity"], Some("Unprocessable Entity")),
        (
            422,
            br#"{"statusCode":422,"message":["limit must be a number","type is invalid"],"error":"Unprocessable Entity"}"#
                .to_vec(),
            &["limit must be a number", "type is invalid"],
            Some("Unprocessable Entity"),
        ),
        (
            429,
            br#"{"statusCode":429,"message":"Too many requests","error":"Too Many Requests"}"#.to_vec(),
            &["Too many requests"],
            Some("Too Many Requests"),
        ),
    ];
    for (status, body, texts, error_name) in cases {
        let response = ResponseTemplate::new(status)
            .set_body_raw(body, "application/json")
            .insert_header("X-RateLimit-Max", "100")
            .insert_header("X-RateLimit-Remaining", "0")
            .insert_header("X-RateLimit-Interval-Milliseconds", "10000");
        let server = serve_response(response).await;
        let err = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap_err();
        let RequestError::ErrorResponse(response) = err else {
            panic!("{status}: expected a typed error response, got {err:?}");
        };
        assert_eq!(response.status().as_u16(), status);
        let error: &types::Error = &response;
        assert_eq!(error.status_code, Some(f64::from(status)));
        assert_eq!(error.message.as_ref().unwrap().texts(), texts, "{status}");
        assert_eq!(error.error.as_deref(), error_name, "{status}");
        assert_eq!(matches!(error.message, Some(types::ErrorMessage::Array(_))), status == 422, "{status}");
        assert_eq!(response.headers()["x-ratelimit-max"], "100", "the rate-limit headers stay readable");
        assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    }
}

#[tokio::test]
async fn the_nested_envelope_of_the_live_api_decodes_too() {
    let body = br#"{"messages":{"lastMessageId":"m2","nextPage":false,"messages":[
        {"id":"m2","type":2,"messageType":"TYPE_SMS","locationId":"l","contactId":"k","conversationId":"c",
         "dateAdded":"2025-07-01T10:00:00.123Z","body":"Hello","direction":"outbound","status":"delivered",
         "contentType":"text/plain","attachments":["https://example.com/a.png"],"source":"app","userId":"u"}]},
        "traceId":"4f1c2a7e-trace"}"#;
    let server = serve(200, body.to_vec()).await;
    let page = fetch(&server).await;
    assert!(matches!(page, MessagesResponse::Nested(_)));
    assert_eq!(page.trace_id(), Some("4f1c2a7e-trace"));
    assert_eq!(page.last_message_id(), Some("m2"));
    assert_eq!(page.next_page(), Some(false));
    let message = &page.messages()[0];
    assert_eq!(message.value().unwrap().message_type, Some(MessageType::Sms));
    assert_eq!(message.value().unwrap().status, Some(MessageStatus::Delivered));
    assert_eq!(message.value().unwrap().source, Some(MessageSource::App));
    assert_eq!(message.value().unwrap().attachments.clone().unwrap(), ["https://example.com/a.png"]);
}

#[tokio::test]
async fn live_rows_the_page_does_not_show_decode() {
    // Newest first, as the live API lists them: an unanswered call with
    // `meta.call`, an activity row, and an inbound e-mail without `body`.
    let body = br#"{"lastMessageId":"e1","nextPage":false,"messages":[
        {"id":"call1","altId":"CA123","type":1,"messageType":"TYPE_CALL","locationId":"l","contactId":"k",
         "conversationId":"c","dateAdded":"2025-07-03T09:00:00.000Z","direction":"outbound","status":"failed",
         "contentType":"text/plain","attachments":[],"meta":{"call":{"duration":null,"status":"no-answer"}},
         "source":"app","userId":"u"},
        {"id":"act1","type":30,"messageType":"TYPE_ACTIVITY_OPPORTUNITY","locationId":"l","contactId":"k",
         "conversationId":"c","dateAdded":"2025-07-02T09:00:00.000Z","body":"Opportunity created",
         "direction":"outbound","contentType":"text/plain"},
        {"id":"e1","type":3,"messageType":"TYPE_EMAIL","locationId":"l","contactId":"k","conversationId":"c",
         "dateAdded":"2025-07-01T09:00:00.000Z","direction":"inbound","status":"delivered","contentType":"text/html",
         "meta":{"email":{"messageIds":["em1"],"subject":"Re: quote"}}}]}"#;
    let server = serve(200, body.to_vec()).await;
    let page = fetch(&server).await;
    let [call, activity, email] = page.messages() else { panic!("{page:?}") };

    assert_eq!(call.value().unwrap().message_type, Some(MessageType::Call));
    assert_eq!(call.value().unwrap().alt_id.as_deref(), Some("CA123"));
    let call_meta = call.value().unwrap().meta.as_ref().unwrap().call.as_ref().unwrap();
    assert_eq!(call_meta.duration, None);
    assert_eq!(call_meta.status, Some(CallStatus::NoAnswer));
    assert!(call.raw().get().contains(r#""duration":null"#), "the explicit null is kept in the raw message");

    assert_eq!(activity.value().unwrap().message_type, Some(MessageType::ActivityOpportunity));
    assert_eq!(activity.value().unwrap().type_, Some(30.0));

    assert_eq!(email.value().unwrap().message_type, Some(MessageType::Email));
    assert_eq!(email.value().unwrap().body, None);
    assert_eq!(email.value().unwrap().direction, Some(MessageDirection::Inbound));
    assert_eq!(
        email.value().unwrap().meta.as_ref().unwrap().email.as_ref().unwrap().subject.as_deref(),
        Some("Re: quote")
    );
    assert!(
        email.value().unwrap().date_added < activity.value().unwrap().date_added
            && activity.value().unwrap().date_added < call.value().unwrap().date_added
    );
}

#[tokio::test]
async fn unknown_enum_values_survive_and_unmodelled_fields_are_kept() {
    let body = br#"{"lastMessageId":"m1","nextPage":false,"messages":[
        {"id":"m1","type":99,"messageType":"TYPE_HOLOGRAM","locationId":"l","contactId":"k","conversationId":"c",
         "dateAdded":"2025-07-01T09:00:00+02:00","direction":"sideways","status":"teleported","contentType":"x/y",
         "meta":{"callStatus":"on-hold","call":{"duration":12,"status":"ringing"},"newMeta":true},
         "source":"pigeon","chatWidgetId":"w1","newField":{"a":null}}]}"#;
    let server = serve(200, body.to_vec()).await;
    let page = fetch(&server).await;
    let message = &page.messages()[0];
    assert_eq!(message.value().unwrap().message_type, Some(MessageType::Other("TYPE_HOLOGRAM".into())));
    assert_eq!(message.value().unwrap().direction, Some(MessageDirection::Other("sideways".into())));
    assert_eq!(message.value().unwrap().status, Some(MessageStatus::Other("teleported".into())));
    assert_eq!(message.value().unwrap().source, Some(MessageSource::Other("pigeon".into())));
    let meta = message.value().unwrap().meta.as_ref().unwrap();
    assert_eq!(meta.call_status, Some(CallStatus::Other("on-hold".into())));
    let call = meta.call.as_ref().unwrap();
    assert_eq!(call.status, Some(CallStatus::Other("ringing".into())));
    assert_eq!(call.duration, Some(12.0));
    assert_eq!(message.value().unwrap().date_added.unwrap().to_rfc3339(), "2025-07-01T07:00:00Z");
    let raw = message.raw().get();
    assert!(raw.contains(r#""newField":{"a":null}"#) && raw.contains(r#""chatWidgetId":"w1""#), "{raw}");
    assert!(raw.contains(r#""newMeta":true"#), "{raw}");
}

#[tokio::test]
async fn a_malformed_page_is_an_error_that_keeps_the_body_and_names_the_field() {
    let body = br#"{"lastMessageId":"m1","nextPage":"no","messages":[{"id":"m1"}]}"#;
    let server = serve(200, body.to_vec()).await;
    let err = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap_err();
    let RequestError::InvalidResponsePayload(bytes, e) = err else { panic!("{err:?}") };
    assert_eq!(&bytes[..], body);
    assert!(e.to_string().contains("nextPage") && e.to_string().contains("invalid type"), "{e}");
}

#[tokio::test]
async fn a_message_without_its_id_is_isolated_and_one_with_only_its_id_reads() {
    let body = br#"{"lastMessageId":"m1","nextPage":false,"messages":[{"type":1},{"id":"m1"}]}"#;
    let server = serve(200, body.to_vec()).await;
    let page = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap().into_inner();
    let error = page.messages()[0].error().unwrap();
    assert_eq!((error.path.as_str(), error.reason.as_str()), (".", "missing field `id`"));
    let message = page.messages()[1].value().unwrap();
    assert_eq!((message.id.as_str(), &message.message_type, &message.date_added), ("m1", &None, &None));
}

#[test]
fn the_token_never_appears_in_debug_output() {
    let client = client("https://services.leadconnectorhq.com");
    assert!(!format!("{client:?}").contains(TOKEN));
    let credentials = convo_leadconnector::Credentials::new(SecretString::from(TOKEN));
    assert!(!format!("{credentials:?}").contains(TOKEN));
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let err = Client::new(
        "http://services.leadconnectorhq.com",
        convo_leadconnector::Credentials::new(SecretString::from(TOKEN)),
    )
    .unwrap_err();
    assert!(err.to_string().contains("http"), "{err}");
}
