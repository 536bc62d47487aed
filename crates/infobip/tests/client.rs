//! The generated Infobip client against a real HTTP server on 127.0.0.1.

use chrono::{TimeZone, Utc};
use convo_infobip::types::{ChannelFilter, DirectionFilter};
use convo_infobip::{
    AuthorType, Channel, Client, ClientInfo, ContentType, Credentials, Direction, RequestError, SecretString,
    Timestamp, types,
};
use convo_testkit::wiremock::matchers::any;
use convo_testkit::wiremock::{Mock, MockServer, Request, ResponseTemplate};
use convo_testkit::{only_request, sample, server};

const KEY: &str = "test-app-key-5c1e";
const PASSWORD: &str = "päss:word";
const TOKEN: &str = "test-token-9d27";
const EMPTY_PAGE: &[u8] = br#"{"messages":[],"pagination":{"totalItems":0,"page":0,"limit":10,"orderBy":"id:asc"}}"#;

fn client(uri: &str) -> Client {
    Client::new(uri, Credentials::AppKey(SecretString::from(KEY))).unwrap()
}

async fn serve(status: u16, body: Vec<u8>) -> MockServer {
    let server = server().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    server
}

/// Sends one request built by `build` to a server answering with an empty
/// page, and returns the request the server saw.
async fn sent(
    build: impl FnOnce(convo_infobip::builder::GetMessages<'_>) -> convo_infobip::builder::GetMessages<'_>,
) -> Request {
    let server = serve(200, EMPTY_PAGE.to_vec()).await;
    let client = client(&server.uri());
    build(client.get_messages().conversation_id("c")).send().await.unwrap();
    only_request(&server).await
}

fn query_pairs(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[tokio::test]
async fn documented_sample_decodes_and_the_request_has_the_documented_shape() {
    let server = serve(200, sample("infobip.yaml", "200")).await;
    let page = client(&server.uri())
        .get_messages()
        .conversation_id("4461ea29-c09e-4ba8-a751-df86cf0a0eb9")
        .message_ids(vec!["c3b94b2f-a3a1-4999-b63b-413800544123".to_owned(), "0224bdbc".to_owned()])
        .channel(ChannelFilter::Sms)
        .direction(DirectionFilter::Inbound)
        .created_after(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap())
        .created_before("2024-01-31T23:59:59.999Z")
        .limit(999)
        .page(1)
        .order_by("createdAt:desc")
        .send()
        .await
        .unwrap()
        .into_inner();

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/ccaas/1/conversations/4461ea29-c09e-4ba8-a751-df86cf0a0eb9/messages");
    assert_eq!(
        request.url.query(),
        Some(
            "channel=SMS&createdAfter=2024-01-01T00%3A00%3A00.000%2B0000&createdBefore=2024-01-31T23%3A59%3A59.999%2B0000\
             &direction=INBOUND&limit=999&messageIds=c3b94b2f-a3a1-4999-b63b-413800544123&messageIds=0224bdbc\
             &orderBy=createdAt%3Adesc&page=1"
        )
    );
    assert_eq!(request.headers["authorization"], format!("App {KEY}").as_str());
    assert_eq!(request.headers["accept"], "application/json");
    assert!(request.headers.get("api-version").is_none(), "progenitor's api-version header must not leave");

    assert_eq!(page.messages.as_ref().unwrap().len(), 2);
    let first = page.messages.as_ref().unwrap()[0].value().unwrap();
    assert_eq!(first.id, "c3b94b2f-a3a1-4999-b63b-413800544123");
    assert_eq!(first.channel, Some(Channel::Sms));
    assert_eq!(first.direction, Some(Direction::Inbound));
    assert_eq!(first.content_type, Some(ContentType::Text));
    assert_eq!(first.content.as_ref().and_then(|c| c.text()), Some("Customer message content"));
    assert_eq!(first.created_at.unwrap().to_string(), "2024-01-01T00:00:00.000+0000");
    assert_eq!(page.messages.as_ref().unwrap()[1].value().unwrap().channel, Some(Channel::Viber));
    assert_eq!(page.messages.as_ref().unwrap()[1].value().unwrap().direction, Some(Direction::Outbound));
    let pagination = page.pagination.as_ref().unwrap();
    assert_eq!((pagination.total_items, pagination.page, pagination.limit), (Some(2), Some(0), Some(10)));
    assert_eq!(pagination.order_by.as_deref(), Some("id:ASC"));
    insta::assert_debug_snapshot!("infobip_documented_sample", page);
}

#[tokio::test]
async fn without_filters_no_query_is_sent() {
    let request = sent(|b| b).await;
    assert_eq!(request.url.path(), "/ccaas/1/conversations/c/messages");
    assert_eq!(request.url.query(), None);
}

#[tokio::test]
async fn the_conversation_id_is_percent_encoded_into_one_segment() {
    let server = serve(200, EMPTY_PAGE.to_vec()).await;
    client(&server.uri()).get_messages().conversation_id("a/../b?c#d ü").send().await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/ccaas/1/conversations/a%2F..%2Fb%3Fc%23d%20%C3%BC/messages");
    assert_eq!(request.url.query(), None);
}

#[tokio::test]
async fn message_ids_go_out_as_repeated_keys() {
    let request = sent(|b| b.message_ids(vec!["m1".to_owned(), "m 2".to_owned(), "m3".to_owned()])).await;
    assert_eq!(request.url.query(), Some("messageIds=m1&messageIds=m+2&messageIds=m3"));
    let ids: Vec<_> = query_pairs(&request).into_iter().filter(|(k, _)| k == "messageIds").map(|(_, v)| v).collect();
    assert_eq!(ids, ["m1", "m 2", "m3"]);
}

#[tokio::test]
async fn created_after_and_before_go_out_in_infobips_form_in_utc_with_milliseconds() {
    let after = Utc.with_ymd_and_hms(2024, 3, 5, 7, 8, 9).unwrap() + chrono::Duration::nanoseconds(123_456_789);
    let request = sent(|b| b.created_after(after).created_before("2024-03-06T01:00:00+01:00")).await;
    assert_eq!(
        request.url.query(),
        Some("createdAfter=2024-03-05T07%3A08%3A09.123%2B0000&createdBefore=2024-03-06T00%3A00%3A00.000%2B0000")
    );
    assert_eq!(
        query_pairs(&request),
        [
            ("createdAfter".to_owned(), "2024-03-05T07:08:09.123+0000".to_owned()),
            ("createdBefore".to_owned(), "2024-03-06T00:00:00.000+0000".to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_unreadable_time_is_refused_before_anything_is_sent() {
    let server = serve(200, EMPTY_PAGE.to_vec()).await;
    let err =
        client(&server.uri()).get_messages().conversation_id("c").created_after("yesterday").send().await.unwrap_err();
    assert!(matches!(&err, RequestError::InvalidRequest(reason) if reason.contains("created_after")), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn order_by_limit_page_channel_and_direction_wire_values() {
    let request =
        sent(|b| b.order_by("createdAt:desc").limit(50).page(0).channel("WHATSAPP").direction("OUTBOUND")).await;
    assert_eq!(
        query_pairs(&request),
        [
            ("channel".to_owned(), "WHATSAPP".to_owned()),
            ("direction".to_owned(), "OUTBOUND".to_owned()),
            ("limit".to_owned(), "50".to_owned()),
            ("orderBy".to_owned(), "createdAt:desc".to_owned()),
            ("page".to_owned(), "0".to_owned()),
        ]
    );
    assert_eq!(
        request.url.query(),
        Some("channel=WHATSAPP&direction=OUTBOUND&limit=50&orderBy=createdAt%3Adesc&page=0")
    );

    // Every documented channel filter goes out exactly as the page spells it.
    let server = serve(200, EMPTY_PAGE.to_vec()).await;
    let client = client(&server.uri());
    let page_values = [
        "SMS",
        "VIBER",
        "FACEBOOK_MESSENGER",
        "WHATSAPP",
        "RCS",
        "LIVE_CHAT",
        "LINE",
        "GOOGLE_BUSINESS_MESSAGES",
        "TELEGRAM",
        "INSTAGRAM_MESSAGING",
        "KAKAO_SANGDAM",
        "TWITTER_DM",
        "VIBER_BOT",
        "APPLE_BUSINESS_CHAT",
        "EMAIL",
    ];
    for value in page_values {
        let channel: ChannelFilter = value.parse().unwrap();
        client.get_messages().conversation_id("c").channel(channel).send().await.unwrap();
    }
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    let expected: Vec<String> = page_values.iter().map(|v| format!("channel={v}")).collect();
    assert_eq!(seen, expected);
    assert!("SIGNAL".parse::<ChannelFilter>().is_err(), "the channel filter is the page's closed set");
}

#[tokio::test]
async fn every_auth_scheme_sends_its_authorization_header() {
    let cases = [
        (Credentials::AppKey(SecretString::from(KEY)), format!("App {KEY}")),
        (
            Credentials::Basic { username: "ib-user".to_owned(), password: SecretString::from(PASSWORD) },
            // base64("ib-user:päss:word"), computed independently.
            "Basic aWItdXNlcjpww6Rzczp3b3Jk".to_owned(),
        ),
        (Credentials::IbSso(SecretString::from(TOKEN)), format!("IBSSO {TOKEN}")),
        (Credentials::Bearer(SecretString::from(TOKEN)), format!("Bearer {TOKEN}")),
    ];
    for (auth, expected) in cases {
        let server = serve(200, EMPTY_PAGE.to_vec()).await;
        Client::new(&server.uri(), auth).unwrap().get_messages().conversation_id("c").send().await.unwrap();
        let request = only_request(&server).await;
        assert_eq!(request.headers["authorization"], expected.as_str());
        assert_eq!(request.headers.get_all("authorization").iter().count(), 1);
        assert!(request.headers.get("api-version").is_none());
    }
}

#[tokio::test]
async fn every_documented_error_status_decodes_into_infobips_error_body() {
    for status in [400u16, 401, 403, 404, 429, 500] {
        let body = format!(
            r#"{{"requestError":{{"serviceException":{{"messageId":"E{status}","text":"failed with {status}"}}}}}}"#
        );
        let server = serve(status, body.into_bytes()).await;
        let err = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap_err();
        let RequestError::ErrorResponse(response) = err else {
            panic!("{status}: expected a typed error response, got {err:?}");
        };
        assert_eq!(response.status().as_u16(), status);
        let body: &types::Error = &response;
        let details = body.request_error.as_ref().and_then(|e| e.service_exception.as_ref()).unwrap();
        assert_eq!(details.message_id.as_deref(), Some(format!("E{status}").as_str()));
        assert_eq!(details.text.as_deref(), Some(format!("failed with {status}").as_str()));
    }
}

#[tokio::test]
async fn the_status_code_and_message_error_form_decodes_too() {
    for body in [
        r#"{"statusCode":400,"message":"Invalid orderBy"}"#,
        r#"{"statusCode":"BAD_REQUEST","message":"Invalid orderBy"}"#,
    ] {
        let server = serve(400, body.as_bytes().to_vec()).await;
        let err = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap_err();
        let RequestError::ErrorResponse(response) = err else { panic!("{err:?}") };
        assert_eq!(response.message.as_deref(), Some("Invalid orderBy"));
        assert!(response.status_code.is_some());
        assert_eq!(response.request_error, None);
    }
}

#[tokio::test]
async fn unknown_enum_values_and_unmodelled_fields_survive_and_are_kept() {
    let page = br#"{"messages":[{"id":"m1","channel":"CARRIER_PIGEON","direction":"SIDEWAYS",
        "contentType":"HOLOGRAM","authorType":"ALIEN","authorId":"a1","createdAt":"2024-01-01T00:00:00.000+0000",
        "content":{"text":{"nested":true},"depth":3},"newField":{"a":null}}],
        "pagination":{"totalItems":1,"page":0,"limit":10,"orderBy":"id:asc","cursor":"x"}}"#;
    let server = serve(200, page.to_vec()).await;
    let page = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap().into_inner();
    let captured = &page.messages.as_ref().unwrap()[0];
    let message = captured.value().unwrap();
    assert_eq!(message.channel, Some(Channel::Other("CARRIER_PIGEON".into())));
    assert_eq!(message.direction, Some(Direction::Other("SIDEWAYS".into())));
    assert_eq!(message.content_type, Some(ContentType::Other("HOLOGRAM".into())));
    assert_eq!(message.author_type, Some(AuthorType::Other("ALIEN".into())));
    let content = message.content.as_ref().unwrap();
    assert_eq!(content.text(), None, "a key with an undocumented shape reads as absent");
    assert_eq!(content.get("depth").unwrap(), 3);
    assert!(captured.raw().get().contains(r#""newField":{"a":null}"#), "the raw message keeps unmodelled fields");
    assert!(captured.raw().get().contains(r#""text":{"nested":true}"#));
}

#[tokio::test]
async fn every_timestamp_form_infobip_sends_decodes() {
    let page = br#"{"messages":[
        {"id":"m1","createdAt":"2024-01-01T00:00:00.000+0000","updatedAt":"2024-01-01T00:00:00.000+00:00"},
        {"id":"m2","createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-01T00:00:00.5Z"},
        {"id":"m3","createdAt":"2024-01-01T00:00:00.123456789Z","updatedAt":"2024-01-01T01:00:00.123456789+0100"}]}"#;
    let server = serve(200, page.to_vec()).await;
    let page = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap().into_inner();
    let midnight = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let nanos = midnight + chrono::Duration::nanoseconds(123_456_789);
    let times: Vec<_> = page
        .messages
        .iter()
        .flatten()
        .map(|m| m.value().unwrap())
        .map(|m| (m.created_at.unwrap().utc(), m.updated_at.map(|t| t.utc())))
        .collect();
    assert_eq!(
        times,
        [
            (midnight, Some(midnight)),
            (midnight, Some(midnight + chrono::Duration::milliseconds(500))),
            (nanos, Some(nanos)),
        ]
    );
    assert_eq!(
        page.messages.as_ref().unwrap()[2].value().unwrap().created_at.unwrap().to_string(),
        "2024-01-01T00:00:00.123+0000"
    );
    assert_eq!(page.pagination, None);
}

#[tokio::test]
async fn a_malformed_page_is_an_error_that_keeps_the_body() {
    let body = br#"{"messages":[],"pagination":{"totalItems":"many"}}"#;
    let server = serve(200, body.to_vec()).await;
    let err = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap_err();
    let RequestError::InvalidResponsePayload(bytes, e) = err else { panic!("{err:?}") };
    assert_eq!(&bytes[..], body);
    assert!(e.to_string().contains("many"), "{e}");
}

#[tokio::test]
async fn a_malformed_message_is_isolated_naming_the_field_and_the_rest_of_the_page_reads() {
    let body = br#"{"messages":[{"id":"m1","createdAt":"last tuesday"},{"id":"m2","createdAt":null}]}"#;
    let server = serve(200, body.to_vec()).await;
    let page = client(&server.uri()).get_messages().conversation_id("c").send().await.unwrap().into_inner();
    let messages = page.messages.unwrap();
    let error = messages[0].error().unwrap();
    assert_eq!(error.path, "createdAt");
    assert!(error.reason.contains("last tuesday"), "{error}");
    assert_eq!(messages[0].raw().get(), r#"{"id":"m1","createdAt":"last tuesday"}"#);
    assert_eq!(messages[1].value().unwrap().created_at, None, "a required field may be null");
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let auths = [
        Credentials::AppKey(SecretString::from(KEY)),
        Credentials::Basic { username: "ib-user".to_owned(), password: SecretString::from(PASSWORD) },
        Credentials::IbSso(SecretString::from(TOKEN)),
        Credentials::Bearer(SecretString::from(TOKEN)),
    ];
    for auth in auths {
        let auth_debug = format!("{auth:?}");
        let client = Client::new("https://xxxxx.api.infobip.com", auth).unwrap();
        for text in [auth_debug, format!("{client:?}")] {
            for secret in [KEY, PASSWORD, TOKEN, "aWItdXNlcjpww6Rzczp3b3Jk"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }
}

#[test]
fn the_base_url_is_required_and_a_bare_host_means_https() {
    let client = Client::new("xxxxx.api.infobip.com", Credentials::AppKey(SecretString::from(KEY))).unwrap();
    assert_eq!(client.baseurl(), "https://xxxxx.api.infobip.com");
    let client = Client::new("https://xxxxx.api.infobip.com/", Credentials::AppKey(SecretString::from(KEY))).unwrap();
    assert_eq!(client.baseurl(), "https://xxxxx.api.infobip.com");
    for bad in ["", "http://xxxxx.api.infobip.com"] {
        let err = Client::new(bad, Credentials::AppKey(SecretString::from(KEY))).unwrap_err();
        assert!(
            matches!(err, convo_infobip::ConfigError::BaseUrl { .. } | convo_infobip::ConfigError::InsecureHttp { .. }),
            "{bad}: {err}"
        );
    }
}

#[test]
fn bad_credentials_are_refused_without_echoing_them() {
    let basic = |username: &str, password: &str| Credentials::Basic {
        username: username.to_owned(),
        password: SecretString::from(password),
    };
    for auth in [
        basic("a:b", PASSWORD),
        basic("", PASSWORD),
        basic("ib-user", ""),
        // Blank is empty too, as for every other credential.
        basic("ib-user", "   "),
        Credentials::AppKey(SecretString::from("")),
        Credentials::Bearer(SecretString::from("tok\nen")),
    ] {
        let err = Client::new("https://xxxxx.api.infobip.com", auth).unwrap_err();
        let text = err.to_string();
        assert!(!text.contains(PASSWORD) && !text.contains("tok"), "{text}");
    }
}

#[test]
fn timestamps_convert_from_chrono_and_strings() {
    let t = Timestamp::from(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    assert_eq!(t.to_string(), "2024-01-01T00:00:00.000+0000");
    assert_eq!("2024-01-01T00:00:00.000+0000".parse::<Timestamp>().unwrap(), t);
    assert!("2024-01-01".parse::<Timestamp>().is_err());
}
