//! Octopush: both credential headers, every query parameter, the checked
//! `fid_` / `cid_` / page parameters.

use convo_octopush::{Captured, Client, ClientOptions, ConversationId, FacebookId, Page, PerPage, SecretString, types};
use reqwest::header::{HeaderMap, HeaderValue};

use crate::{Contract, error_statuses, example, spec};

const PATH: &str = "/conversations/messages/list";
const LOGIN: &str = "contract@example.com";
const KEY: &str = "contract-api-key";

fn schema_example(spec: &serde_json::Value, name: &str) -> String {
    spec["components"]["schemas"][name]["example"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has no example"))
        .to_owned()
}

pub async fn run(c: &mut Contract) {
    let spec = spec("octopush");
    let expected: Vec<Captured<types::Message>> = example("octopush", "200");
    let client = Client::new(&c.base, convo_octopush::Credentials::new(LOGIN, SecretString::from(KEY)))
        .expect("a loopback base URL");
    let get = || client.list_conversation_messages();

    c.ok("octopush: no parameters", get().send().await, &expected);
    for page in [1u64, 3] {
        let result = get().page(Page::new(page).expect("a page")).send().await;
        c.ok(&format!("octopush: page={page}"), result, &expected);
    }
    for per_page in [1u64, 50, 1000] {
        let result = get().per_page(PerPage::new(per_page).expect("a page size")).send().await;
        c.ok(&format!("octopush: per_page={per_page}"), result, &expected);
    }
    c.ok("octopush: contact", get().contact("+33600000000").send().await, &expected);
    c.ok("octopush: phone_number", get().phone_number("+33600000000").send().await, &expected);
    c.ok("octopush: email", get().email("someone@example.com").send().await, &expected);
    let facebook = FacebookId::new(schema_example(&spec, "FacebookId")).expect("the documented form");
    c.ok(&format!("octopush: facebook_id={facebook}"), get().facebook_id(facebook.clone()).send().await, &expected);
    let conversation = ConversationId::new(schema_example(&spec, "ConversationId")).expect("the documented form");
    let result = get().conversation_id(conversation.clone()).send().await;
    c.ok(&format!("octopush: conversation_id={conversation}"), result, &expected);
    let result = get()
        .page(Page::new(2).expect("a page"))
        .per_page(PerPage::new(100).expect("a size"))
        .contact("+33600000000")
        .phone_number("+33600000000")
        .email("someone@example.com")
        .facebook_id(facebook)
        .conversation_id(conversation)
        .send()
        .await;
    c.ok("octopush: every parameter at once", result, &expected);

    // Error statuses: the spec declares ranges only (4XX, 5XX); Prism serves
    // them on `Prefer: code=`, and the body decodes into the error type.
    assert!(error_statuses(&spec).is_empty(), "octopush documents explicit error statuses now: check them here");
    for status in [400u16, 401, 404, 429, 500, 503] {
        let result = prefer(c, status).list_conversation_messages().send().await;
        c.error(
            &format!("octopush: {status} (from the {}XX range)", status / 100),
            result,
            status,
            None::<&types::Error>,
        );
    }

    let http = c.raw.clone();
    let url = format!("{}{PATH}", c.base);
    let raw = |query: &[(&str, &str)]| http.get(&url).header("api-login", LOGIN).header("api-key", KEY).query(query);
    c.accepted("octopush: raw page=1", raw(&[("page", "1")])).await;
    c.rejected("octopush: raw page=0 (minimum 1)", raw(&[("page", "0")]), "page").await;
    c.rejected("octopush: raw per_page=0 (minimum 1)", raw(&[("per_page", "0")]), "per_page").await;
    c.rejected(
        "octopush: raw conversation_id without cid_",
        raw(&[("conversation_id", "3fa85f64")]),
        "conversation_id",
    )
    .await;
    c.rejected("octopush: raw facebook_id without fid_", raw(&[("facebook_id", "1234567890")]), "facebook_id").await;
    let bad = http.get(&url).header("api-login", LOGIN);
    c.rejected("octopush: raw request without api-key", bad, "security").await;
}

fn prefer(c: &Contract, status: u16) -> Client {
    let options = ClientOptions::default();
    let mut headers = HeaderMap::new();
    headers.insert("api-login", HeaderValue::from_static(LOGIN));
    headers.insert("api-key", HeaderValue::from_static(KEY));
    headers.insert("prefer", HeaderValue::from_str(&format!("code={status}")).expect("a header value"));
    let (http, state) = convo_runtime::http_client(headers, &options).expect("an HTTP client");
    Client::new_with_client(&c.base, http, state)
}
