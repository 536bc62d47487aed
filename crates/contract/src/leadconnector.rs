//! LeadConnector: the `Version` header (default and the other published
//! values), every query parameter, every `type` filter value, and the
//! documented error examples.

use convo_leadconnector::{Client, ClientOptions, DEFAULT_VERSION, MessagesResponse, SecretString, types};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::{Contract, error_statuses, example, parameter_example, spec};

const TOKEN: &str = "contract-token";

/// The `type` filter's allowed values, as the spec's description lists them
/// ("Allowed values: TYPE_CALL, ..., TYPE_INTERNAL_COMMENTS.").
fn type_values(spec: &serde_json::Value) -> Vec<String> {
    let parameters = crate::operation(spec)["parameters"].as_array().expect("parameters");
    let description =
        parameters.iter().find(|p| p["name"] == "type").and_then(|p| p["description"].as_str()).expect("type");
    let list = description
        .split("Allowed values:")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .expect("an allowed-values list");
    let values: Vec<String> = list.split(',').map(|v| v.trim().to_owned()).collect();
    assert!(values.len() >= 10 && values.iter().all(|v| v.starts_with("TYPE_")), "{values:?}");
    values
}

pub async fn run(c: &mut Contract) {
    let spec = spec("leadconnector");
    let expected: MessagesResponse = example("leadconnector", "200");
    let id = parameter_example(&spec, "conversationId");
    for version in [DEFAULT_VERSION, "2021-04-15", "2023-02-21"] {
        let client = Client::new(
            &c.base,
            convo_leadconnector::Credentials::new(SecretString::from(TOKEN)).with_version(version),
        )
        .expect("a loopback base URL");
        let result = client.get_messages().conversation_id(&id).send().await;
        c.ok(&format!("leadconnector: Version {version}"), result, &expected);
    }

    let client = Client::new(&c.base, convo_leadconnector::Credentials::new(SecretString::from(TOKEN)))
        .expect("a loopback base URL");
    let get = || client.get_messages().conversation_id(&id);
    let cursor = parameter_example(&spec, "lastMessageId");
    c.ok("leadconnector: lastMessageId", get().last_message_id(&cursor).send().await, &expected);
    for limit in [1i64, 20, 100] {
        c.ok(&format!("leadconnector: limit={limit}"), get().limit(limit).send().await, &expected);
    }
    let types = type_values(&spec);
    for value in &types {
        c.ok(&format!("leadconnector: type={value}"), get().type_(value).send().await, &expected);
    }
    let documented = parameter_example(&spec, "type");
    c.ok(&format!("leadconnector: type={documented}"), get().type_(&documented).send().await, &expected);
    c.ok("leadconnector: type=<every value, comma-separated>", get().type_(types.join(",")).send().await, &expected);
    let result = get().last_message_id(&cursor).limit(100).type_(&documented).send().await;
    c.ok("leadconnector: every parameter at once", result, &expected);

    for (status, has_example) in error_statuses(&spec) {
        let expected: Option<types::Error> = has_example.then(|| example("leadconnector", &status.to_string()));
        let result = prefer(c, status).get_messages().conversation_id(&id).send().await;
        c.error(&format!("leadconnector: documented {status}"), result, status, expected.as_ref());
    }

    let http = c.raw.clone();
    let url = format!("{}/conversations/{id}/messages", c.base);
    let authorized = || http.get(&url).header(AUTHORIZATION, format!("Bearer {TOKEN}"));
    c.accepted("leadconnector: raw request with Version", authorized().header("Version", DEFAULT_VERSION)).await;
    c.rejected("leadconnector: raw request without Version", authorized(), "version").await;
    let bad = authorized().header("Version", DEFAULT_VERSION).query(&[("limit", "twenty")]);
    c.rejected("leadconnector: raw limit=twenty", bad, "limit").await;
    let bad = http.get(&url).header("Version", DEFAULT_VERSION);
    c.rejected("leadconnector: raw request without Authorization", bad, "security").await;
}

fn prefer(c: &Contract, status: u16) -> Client {
    let options = ClientOptions::default();
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer contract-token"));
    headers.insert("version", HeaderValue::from_static(DEFAULT_VERSION));
    headers.insert("prefer", HeaderValue::from_str(&format!("code={status}")).expect("a header value"));
    let (http, state) = convo_runtime::http_client(headers, &options).expect("an HTTP client");
    Client::new_with_client(&c.base, http, state)
}
