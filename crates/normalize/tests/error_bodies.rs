//! Every error status keeps the vendor's body: an error's one-line text
//! shows the status and the vendor's own words, for the statuses the pages
//! list and for those they do not (declared as drift in the specs), and for
//! both of Infobip's error bodies.

use convo_normalize::Vendor;
use convo_normalize::fetch::{FetchError, FetchOptions, Source};
use convo_runtime::{PagingOptions, RetryPolicy, SecretString};
use convo_testkit::wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
use futures::TryStreamExt;
use serde_json::{Value, json};

fn source(vendor: Vendor, base: &str) -> Source {
    let key = || SecretString::from("test-key-0000");
    match vendor {
        Vendor::Infobip => Source::Infobip(
            convo_infobip::Client::new(base, convo_infobip::Credentials::AppKey(key())).unwrap(),
            convo_infobip::MessagesQuery::new("c1"),
        ),
        Vendor::Octopush => Source::Octopush(
            convo_octopush::Client::new(base, convo_octopush::Credentials::new("login", key())).unwrap(),
            convo_octopush::MessagesQuery::by_phone_number("+33600000000"),
        ),
        Vendor::Leadconnector => Source::Leadconnector(
            convo_leadconnector::Client::new(base, convo_leadconnector::Credentials::new(key())).unwrap(),
            convo_leadconnector::MessagesQuery::new("c1"),
        ),
        Vendor::Bird => Source::Bird(
            convo_bird::Client::new(base, convo_bird::Credentials::new(key())).unwrap(),
            convo_bird::MessagesQuery::new("w1", "c1"),
        ),
    }
}

/// The one-line text of the error a fetch ends with when every request is
/// answered with `status` and `body`.
async fn error_text(vendor: Vendor, status: u16, body: Value) -> String {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(status).set_body_json(body)).mount(&server).await;
    let base = if vendor == Vendor::Octopush { format!("{}/v1/public", server.uri()) } else { server.uri() };
    let options =
        FetchOptions { paging: PagingOptions { retry: RetryPolicy::none(), ..PagingOptions::default() }, since: None };
    let error: FetchError =
        convo_normalize::fetch::messages(source(vendor, &base), options).try_collect::<Vec<_>>().await.unwrap_err();
    error.to_string()
}

#[tokio::test]
async fn the_vendors_words_are_in_the_error_for_every_status() {
    let cases = [
        // Documented statuses.
        (
            Vendor::Bird,
            404,
            json!({"code": "NotFound", "message": "conversation not found", "details": {}}),
            "conversation not found",
        ),
        (
            Vendor::Leadconnector,
            401,
            json!({"statusCode": 401, "message": "Invalid token: access token is invalid", "error": "Unauthorized"}),
            "Invalid token",
        ),
        (
            Vendor::Leadconnector,
            422,
            json!({"statusCode": 422, "message": ["limit must be a number"], "error": "Unprocessable Entity"}),
            "limit must be a number",
        ),
        (
            Vendor::Infobip,
            401,
            json!({"requestError": {"serviceException": {"messageId": "UNAUTHORIZED", "text": "Invalid login details"}}}),
            "Invalid login details",
        ),
        // Statuses the pages do not list.
        (
            Vendor::Bird,
            400,
            json!({"code": "InvalidPayload", "message": "limit must be at most 100", "details": {}}),
            "limit must be at most 100",
        ),
        (
            Vendor::Bird,
            401,
            json!({"code": "Unauthorized", "message": "invalid access key", "details": {}}),
            "invalid access key",
        ),
        (
            Vendor::Bird,
            503,
            json!({"code": "Unavailable", "message": "try again later", "details": {}}),
            "try again later",
        ),
        (
            Vendor::Leadconnector,
            403,
            json!({"statusCode": 403, "message": "The token does not have access to this location"}),
            "does not have access",
        ),
        (
            Vendor::Leadconnector,
            404,
            json!({"statusCode": 404, "message": "Conversation not found"}),
            "Conversation not found",
        ),
        (
            Vendor::Leadconnector,
            502,
            json!({"statusCode": 502, "message": "Bad gateway upstream"}),
            "Bad gateway upstream",
        ),
        // Infobip's newer error body.
        (
            Vendor::Infobip,
            429,
            json!({"errorCode": "E429", "description": "Too many requests sent.", "action": "Slow down.", "violations": [], "resources": [{"name": "Rate limits", "url": "https://example.com"}]}),
            "Too many requests sent.",
        ),
        (Vendor::Octopush, 400, json!({"code": 1, "message": "missing selector"}), "missing selector"),
    ];
    for (vendor, status, body, words) in cases {
        let text = error_text(vendor, status, body).await;
        assert!(text.contains(&status.to_string()), "{vendor} {status}: {text}");
        assert!(text.contains(words), "{vendor} {status}: the vendor's words are missing: {text}");
        assert!(
            !text.contains('\n') && !text.contains("Response {"),
            "{vendor} {status}: not one readable line: {text}"
        );
    }
}
