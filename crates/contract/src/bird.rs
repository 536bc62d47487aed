//! Bird: every query parameter, the opaque page token, `dateFrom`.

use std::num::NonZeroU64;

use convo_bird::{Client, ClientOptions, SecretString, Timestamp, types};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::{Contract, error_statuses, example, parameter_example, spec};

const KEY: &str = "contract-access-key";
/// A token of Bird's form (base64 of a JSON pair): `+`, `/` and `=` included.
const TOKEN: &str = "WyIyMDI0LTExLTE1VDEzOjM0OjQ1Ljc3NTYzMDE0OVoiLCJhYj8/Il0+/w==";

pub async fn run(c: &mut Contract) {
    let spec = spec("bird");
    let expected: types::MessageList = example("bird", "200");
    let workspace = parameter_example(&spec, "workspaceId");
    let conversation = parameter_example(&spec, "conversationId");
    let client =
        Client::new(&c.base, convo_bird::Credentials::new(SecretString::from(KEY))).expect("a loopback base URL");
    let get = || client.list_conversation_messages().workspace_id(&workspace).conversation_id(&conversation);

    c.ok("bird: no query parameters", get().send().await, &expected);
    for limit in [1u64, 10, 100] {
        let result = get().limit(NonZeroU64::new(limit).expect("non-zero")).send().await;
        c.ok(&format!("bird: limit={limit}"), result, &expected);
    }
    c.ok("bird: pageToken", get().page_token(TOKEN).send().await, &expected);
    for reverse in [true, false] {
        c.ok(&format!("bird: reverse={reverse}"), get().reverse(reverse).send().await, &expected);
    }
    for date in ["2024-11-25T19:31:47.264Z", "2024-11-15T13:34:45.775630149Z", "2024-11-25T21:31:47+02:00"] {
        let from: Timestamp = date.parse().expect("a date-time");
        c.ok(&format!("bird: dateFrom={from}"), get().date_from(from).send().await, &expected);
    }
    let from: Timestamp = "2024-11-25T19:31:47.264Z".parse().expect("a date-time");
    let result = get()
        .limit(NonZeroU64::new(100).expect("non-zero"))
        .page_token(TOKEN)
        .reverse(true)
        .date_from(from)
        .send()
        .await;
    c.ok("bird: every parameter at once", result, &expected);

    for (status, has_example) in error_statuses(&spec) {
        let expected: Option<types::Error> = has_example.then(|| example("bird", &status.to_string()));
        let result = prefer(c, status)
            .list_conversation_messages()
            .workspace_id(&workspace)
            .conversation_id(&conversation)
            .send()
            .await;
        c.error(&format!("bird: documented {status}"), result, status, expected.as_ref());
    }
    for status in [500u16, 503] {
        let result = prefer(c, status)
            .list_conversation_messages()
            .workspace_id(&workspace)
            .conversation_id(&conversation)
            .send()
            .await;
        c.error(&format!("bird: {status} (from the 5XX range)"), result, status, None);
    }

    let http = c.raw.clone();
    let url = format!("{}/workspaces/{workspace}/conversations/{conversation}/messages", c.base);
    let raw = |query: &[(&str, &str)]| http.get(&url).header(AUTHORIZATION, format!("AccessKey {KEY}")).query(query);
    c.accepted("bird: raw limit=100", raw(&[("limit", "100")])).await;
    c.rejected("bird: raw limit=101 (maximum 100)", raw(&[("limit", "101")]), "limit").await;
    c.rejected("bird: raw limit=0 (minimum 1)", raw(&[("limit", "0")]), "limit").await;
    c.rejected("bird: raw reverse=maybe", raw(&[("reverse", "maybe")]), "reverse").await;
    c.rejected("bird: raw dateFrom=yesterday", raw(&[("dateFrom", "yesterday")]), "dateFrom").await;
    c.rejected("bird: raw request without Authorization", http.get(&url), "security").await;
}

fn prefer(c: &Contract, status: u16) -> Client {
    let options = ClientOptions::default();
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_static("AccessKey contract-access-key"));
    headers.insert("prefer", HeaderValue::from_str(&format!("code={status}")).expect("a header value"));
    let (http, state) = convo_runtime::http_client(headers, &options).expect("an HTTP client");
    Client::new_with_client(&c.base, http, state)
}
