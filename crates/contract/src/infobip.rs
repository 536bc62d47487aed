//! Infobip: every auth form, every filter value, repeated `messageIds`, and
//! the `.SSS+0000` date-times.

use convo_infobip::{Client, ClientOptions, Credentials, SecretString, Timestamp, types};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::{Contract, enum_values, error_statuses, example, parameter_example, spec};

const PATH: &str = "/ccaas/1/conversations";

pub async fn run(c: &mut Contract) {
    let spec = spec("infobip");
    let expected: types::MessageList = example("infobip", "200");
    let id = parameter_example(&spec, "conversationId");
    let auths = [
        ("App", Credentials::AppKey(SecretString::from("contract-app-key"))),
        (
            "Basic",
            Credentials::Basic {
                username: "contract-user".to_owned(),
                password: SecretString::from("contract-password"),
            },
        ),
        ("IBSSO", Credentials::IbSso(SecretString::from("contract-ibsso-token"))),
        ("Bearer", Credentials::Bearer(SecretString::from("contract-oauth-token"))),
    ];
    for (name, auth) in auths {
        let client = Client::new(&c.base, auth).expect("a loopback base URL");
        let result = client.get_messages().conversation_id(&id).send().await;
        c.ok(&format!("infobip: auth {name}"), result, &expected);
    }

    let client =
        Client::new(&c.base, Credentials::AppKey(SecretString::from("contract-app-key"))).expect("a loopback base URL");
    let get = || client.get_messages().conversation_id(&id);

    let result = get().message_ids(vec!["c3b94b2f-a3a1-4999-b63b-413800544123".to_owned()]).send().await;
    c.ok("infobip: messageIds, one", result, &expected);
    let ids: Vec<String> = ["a1", "b2", "c3"].map(String::from).to_vec();
    let result = get().message_ids(ids).send().await;
    c.ok("infobip: messageIds, three as repeated keys", result, &expected);

    for channel in enum_values(&spec, "ChannelFilter") {
        let value = types::ChannelFilter::try_from(channel.as_str()).expect("a documented channel");
        let result = get().channel(value).send().await;
        c.ok(&format!("infobip: channel={channel}"), result, &expected);
    }
    for direction in enum_values(&spec, "DirectionFilter") {
        let value = types::DirectionFilter::try_from(direction.as_str()).expect("a documented direction");
        let result = get().direction(value).send().await;
        c.ok(&format!("infobip: direction={direction}"), result, &expected);
    }

    let documented = parameter_example(&spec, "createdAfter");
    let after: Timestamp = documented.parse().expect("the documented form parses");
    let before: Timestamp = "2024-11-25T20:12:10.514123456Z".parse().expect("RFC 3339 parses");
    let result = get().created_after(after).send().await;
    c.ok(&format!("infobip: createdAfter={after} (the documented .SSS+0000 form)"), result, &expected);
    let result = get().created_before(before).send().await;
    c.ok(&format!("infobip: createdBefore={before} (nanoseconds truncated)"), result, &expected);

    for limit in [1i64, 10, 999] {
        let result = get().limit(limit).send().await;
        c.ok(&format!("infobip: limit={limit}"), result, &expected);
    }
    for page in [0i64, 7] {
        let result = get().page(page).send().await;
        c.ok(&format!("infobip: page={page}"), result, &expected);
    }
    for order_by in [parameter_example(&spec, "orderBy"), "id:asc".to_owned()] {
        let result = get().order_by(&order_by).send().await;
        c.ok(&format!("infobip: orderBy={order_by}"), result, &expected);
    }
    let result = get()
        .message_ids(vec!["a1".to_owned(), "b2".to_owned()])
        .channel(types::ChannelFilter::Whatsapp)
        .direction(types::DirectionFilter::Outbound)
        .created_after(after)
        .created_before(before)
        .limit(999)
        .page(1)
        .order_by("createdAt:desc")
        .send()
        .await;
    c.ok("infobip: every parameter at once", result, &expected);

    // Every documented error status: Prism serves it on `Prefer: code=`, and
    // its body decodes into Infobip's error type.
    for (status, has_example) in error_statuses(&spec) {
        let client = prefer(c, status);
        let expected: Option<types::Error> = has_example.then(|| example("infobip", &status.to_string()));
        let result = client.get_messages().conversation_id(&id).send().await;
        c.error(&format!("infobip: documented {status}"), result, status, expected.as_ref());
    }

    // Deliberately wrong requests: Prism must flag them.
    let http = c.raw.clone();
    let url = format!("{}{PATH}/{id}/messages", c.base);
    let raw = |query: &[(&str, &str)]| http.get(&url).header(AUTHORIZATION, "App contract-app-key").query(query);
    let (good, bad) = (raw(&[("channel", "SMS")]), raw(&[("channel", "NOT_A_CHANNEL")]));
    c.accepted("infobip: raw channel=SMS", good).await;
    c.rejected("infobip: raw channel=NOT_A_CHANNEL", bad, "channel").await;
    let bad = raw(&[("direction", "SIDEWAYS")]);
    c.rejected("infobip: raw direction=SIDEWAYS", bad, "direction").await;
    let bad = raw(&[("limit", "1000")]);
    c.rejected("infobip: raw limit=1000 (maximum 999)", bad, "limit").await;
    let bad = raw(&[("page", "first")]);
    c.rejected("infobip: raw page=first", bad, "page").await;
    let bad = http.get(&url);
    c.rejected("infobip: raw request without Authorization", bad, "security").await;
}

/// A client that asks Prism for response `status` (`Prefer: code=<status>`).
fn prefer(c: &Contract, status: u16) -> Client {
    let options = ClientOptions::default();
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_static("App contract-app-key"));
    headers.insert("prefer", HeaderValue::from_str(&format!("code={status}")).expect("a header value"));
    let (http, state) = convo_runtime::http_client(headers, &options).expect("an HTTP client");
    Client::new_with_client(&c.base, http, state)
}
