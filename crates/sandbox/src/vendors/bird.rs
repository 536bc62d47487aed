//! Bird: `GET /workspaces/{workspaceId}/conversations/{conversationId}/messages`.
//!
//! `Authorization: AccessKey <key>`; newest first (oldest first with
//! `reverse=true`), paged by an opaque `pageToken` (`limit` 1 to 100,
//! default 10), filtered by `dateFrom` (inclusive: messages created at or
//! after it). The token is, like Bird's, the base64 of a JSON pair
//! `["<created at, RFC 3339 with nanoseconds>", "<message id>"]` naming the
//! last message of the previous page. The body
//! is `{"results": [...], "nextPageToken", "total", "totalType"}`, with no
//! `nextPageToken` on the last page. Errors are `{"code", "message",
//! "details"?}`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use chrono::{DateTime, TimeDelta, Utc};
use hyper::{Method, StatusCode};
use serde::Serialize;

use super::{Conversation, Item};
use crate::generate::{AGENT_TEXTS, CUSTOMER_TEXTS, hash, pick};
use crate::http::{Call, PageFault, Reply, decode_segment, reason};
use crate::samples::Sample;
use crate::select::{Selection, partition_point};
use crate::{Vendor, credentials, ids, time};

const SALT: u64 = 0xB12D;
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;

pub(crate) struct Bird {
    sample: &'static Sample,
}

impl Bird {
    pub fn new(sample: &'static Sample) -> Bird {
        Bird { sample }
    }

    pub fn handle(&self, call: &Call<'_>) -> Reply {
        let Some((workspace, conversation)) = path_params(call.path) else {
            return status(StatusCode::NOT_FOUND);
        };
        if call.method != Method::GET {
            return status(StatusCode::METHOD_NOT_ALLOWED);
        }
        if call.authorization("AccessKey") != Some(credentials::BIRD_ACCESS_KEY) || workspace != ids::bird::WORKSPACE {
            return status(StatusCode::FORBIDDEN);
        }
        let params = match Params::parse(call) {
            Ok(params) => params,
            Err((field, problem)) => return invalid(field, problem),
        };
        let found = if conversation == self.sample.conversation {
            Conversation::Sample(&self.sample.messages)
        } else if let Some(generated) = call.generated.find(Vendor::Bird, &conversation) {
            generated
        } else {
            return status(StatusCode::NOT_FOUND);
        };
        self.page(&found, &params, call.fault)
    }

    fn page(&self, conversation: &Conversation<'_>, params: &Params, fault: Option<PageFault>) -> Reply {
        let len = conversation.len();
        let key = |i: usize| Key::of(conversation, i);
        // The generated conversation's instants grow with the index; a
        // sample's are checked one by one.
        let (range, date_filter) = match (conversation, params.date_from) {
            (Conversation::Generated(..), Some(from)) => (partition_point(len, |i| created(i) < from)..len, false),
            (_, from) => (0..len, from.is_some()),
        };
        let keep = |i: usize| params.date_from.is_none_or(|from| key(i).created >= from);
        let selection = Selection {
            range,
            keep: date_filter.then_some(&keep as &dyn Fn(usize) -> bool),
            descending: !params.reverse,
        };
        let boundary = params.token.as_ref().map(|(_, after)| {
            if params.reverse {
                partition_point(len, |i| key(i).cmp_to(after) != Ordering::Greater)
            } else {
                partition_point(len, |i| key(i).cmp_to(after) == Ordering::Less)
            }
        });
        let (mut indices, more) = selection.after(boundary, params.limit);
        let mut next_page_token = if more { indices.last().map(|&i| key(i).token()) } else { None };
        let given = params.token.as_ref().map(|(text, _)| text.clone());
        match fault {
            Some(PageFault::RepeatCursor) if given.is_some() => next_page_token = given,
            Some(PageFault::EmptyPageWithMore) => {
                indices.clear();
                next_page_token = Some(given.unwrap_or_else(|| before_start(conversation, params.reverse).token()));
            }
            _ => {}
        }
        let body = Body {
            results: indices
                .into_iter()
                .map(|i| match conversation {
                    Conversation::Sample(messages) => Item::Sample(&messages[i].value),
                    Conversation::Generated(_, id) => Item::Generated(Message::generate(i, id)),
                })
                .collect(),
            next_page_token,
            total: selection.count() as u64,
            total_type: "exact",
        };
        Reply::json(StatusCode::OK, &body)
    }
}

fn path_params(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/workspaces/")?.strip_suffix("/messages")?;
    let (workspace, conversation) = rest.split_once("/conversations/")?;
    Some((decode_segment(workspace)?, decode_segment(conversation)?))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    results: Vec<Item<'a, Message<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
    total: u64,
    total_type: &'static str,
}

/// Bird's error response for `status`.
pub(crate) fn status(status: StatusCode) -> Reply {
    let message = match status {
        StatusCode::FORBIDDEN => "User has no access to the requested resource",
        StatusCode::NOT_FOUND => "The resource specified in the URL was not found",
        StatusCode::CONFLICT => "The resource is in a conflicting state",
        _ => reason(status),
    };
    let code: String = reason(status).split([' ', '-']).collect();
    error(status, &code, message, None)
}

/// Bird's refusal of an invalid query parameter.
fn invalid(field: &'static str, problem: String) -> Reply {
    let details = BTreeMap::from([(field, vec![problem])]);
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "InvalidPayload",
        "One or more fields provided in the request are malformed",
        Some(details),
    )
}

fn error(status: StatusCode, code: &str, message: &str, details: Option<BTreeMap<&str, Vec<String>>>) -> Reply {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        code: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        details: Option<BTreeMap<&'a str, Vec<String>>>,
    }
    Reply::json(status, &ErrorBody { code, message, details })
}

/// The query, checked the way Bird checks it.
struct Params {
    limit: usize,
    /// The token as given, and the position it names.
    token: Option<(String, Key)>,
    reverse: bool,
    date_from: Option<DateTime<Utc>>,
}

impl Params {
    fn parse(call: &Call<'_>) -> Result<Params, (&'static str, String)> {
        let query = &call.query;
        let limit = match query.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(("limit", format!("must be a whole number from 1 to {MAX_LIMIT}, not {text:?}"))),
            },
        };
        let token = match query.get("pageToken").filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => match Key::from_token(text) {
                Some(key) => Some((text.to_owned(), key)),
                None => return Err(("pageToken", "is not a valid page token".to_owned())),
            },
        };
        let reverse = match query.get("reverse") {
            None => false,
            Some("true") => true,
            Some("false") => false,
            Some(text) => return Err(("reverse", format!("must be true or false, not {text:?}"))),
        };
        let date_from = match query.get("dateFrom") {
            None => None,
            Some(text) => match time::parse(text) {
                Some(t) => Some(t),
                None => return Err(("dateFrom", format!("must be an RFC 3339 date-time, not {text:?}"))),
            },
        };
        Ok(Params { limit, token, reverse, date_from })
    }
}

/// Where a message sits in a conversation: when it was created, then its id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    created: DateTime<Utc>,
    id: String,
}

impl Key {
    fn of(conversation: &Conversation<'_>, index: usize) -> Key {
        match conversation {
            Conversation::Sample(messages) => {
                Key { created: messages[index].created.unwrap_or_default(), id: messages[index].id.clone() }
            }
            Conversation::Generated(..) => Key { created: created(index), id: message_id(index) },
        }
    }

    fn cmp_to(&self, other: &Key) -> Ordering {
        self.created.cmp(&other.created).then_with(|| self.id.cmp(&other.id))
    }

    fn token(&self) -> String {
        let pair = [time::nanos_z(self.created), self.id.clone()];
        STANDARD.encode(serde_json::to_vec(&pair).unwrap_or_default())
    }

    fn from_token(token: &str) -> Option<Key> {
        let bytes = STANDARD.decode(token).or_else(|_| URL_SAFE.decode(token)).ok()?;
        let [created, id]: [String; 2] = serde_json::from_slice(&bytes).ok()?;
        Some(Key { created: time::parse(&created)?, id })
    }
}

/// A position before every message of the walk, for an empty page that
/// has to point back to the first one.
fn before_start(conversation: &Conversation<'_>, reverse: bool) -> Key {
    let len = conversation.len();
    let nanosecond = TimeDelta::nanoseconds(1);
    let created = match (len, reverse) {
        (0, _) => DateTime::<Utc>::default(),
        (_, false) => Key::of(conversation, len - 1).created.checked_add_signed(nanosecond).unwrap_or_default(),
        (_, true) => Key::of(conversation, 0).created.checked_sub_signed(nanosecond).unwrap_or_default(),
    };
    Key { created, id: String::new() }
}

// ---- The generated conversation. ----

const START: &str = "2024-11-26T08:00:00.125Z";
const CONTACT_ID: &str = "8f0b5377-2edc-4116-a8e8-6a475f245a05";
const CONTACT_NAME: &str = "Jane Doe";
const CONTACT_PHONE: &str = "+31612345678";
const CONTACT_EMAIL: &str = "jane.doe@example.com";
const AGENT_ID: &str = "3c1d9e7a-6b2f-4a8c-9d0e-1f2a3b4c5d6e";
const KEY_ID: &str = "68b80b8d-8060-42df-bda3-73505a8fdb85";
const FLOW_ID: &str = "c0ffee00-1a2b-4c3d-8e4f-5a6b7c8d9e0f";

fn created(index: usize) -> DateTime<Utc> {
    time::plus_seconds(time::utc(START), index)
}

/// The id of generated message `index`.
pub(crate) fn message_id(index: usize) -> String {
    let h = hash(SALT, index);
    crate::generate::uuid((h >> 32) as u32, h)
}

#[derive(Clone, Copy)]
enum Content {
    Text,
    Html,
    Image,
    File,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SenderKind {
    Contact,
    User,
    AccessKey,
    Flow,
}

struct Kind {
    sender: SenderKind,
    content: Content,
    email: bool,
    status: &'static str,
}

const fn k(sender: SenderKind, content: Content, email: bool, status: &'static str) -> Kind {
    Kind { sender, content, email, status }
}

/// The generated conversation repeats these kinds of message, in order.
const KINDS: [Kind; 8] = [
    k(SenderKind::Contact, Content::Text, false, "delivered"),
    k(SenderKind::User, Content::Text, false, "delivered"),
    k(SenderKind::Contact, Content::Image, false, "delivered"),
    k(SenderKind::AccessKey, Content::Html, true, "sent"),
    k(SenderKind::Contact, Content::File, false, "delivered"),
    k(SenderKind::Flow, Content::Text, false, "accepted"),
    k(SenderKind::User, Content::Text, false, "delivery_failed"),
    k(SenderKind::Contact, Content::Html, true, "delivered"),
];

/// A generated message, in the field order of the documented sample.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Message<'a> {
    id: String,
    conversation_id: &'a str,
    reference: String,
    sender: Sender,
    draft: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipients: Option<Vec<Recipient>>,
    status: &'static str,
    source: &'static str,
    body: MessageBody,
    interactions: Option<Vec<()>>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receiver_types: Option<Vec<&'static str>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sender {
    id: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    status: &'static str,
    display_name: &'static str,
    avatar_url: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<Identifier>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identifier {
    identifier_key: &'static str,
    identifier_value: &'static str,
    platform_address: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'static str,
    #[serde(flatten)]
    identifier: Identifier,
    contact_annotation: Annotation,
}

#[derive(Serialize)]
struct Annotation {
    name: &'static str,
}

/// The payload sits under the key named by `type`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum MessageBody {
    Text { text: TextBody },
    Html { html: HtmlBody },
    Image { image: ImageBody },
    File { file: FileBody },
}

#[derive(Serialize)]
struct TextBody {
    text: &'static str,
}

#[derive(Serialize)]
struct HtmlBody {
    text: String,
    html: String,
}

#[derive(Serialize)]
struct ImageBody {
    images: Vec<Media>,
}

#[derive(Serialize)]
struct FileBody {
    files: Vec<Media>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Media {
    media_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    alt_text: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filename: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    extra_information: ExtraInformation,
}

#[derive(Serialize)]
struct ExtraInformation {
    /// Base64 of the e-mail's headers as JSON, as Bird sends them.
    email_headers: String,
}

impl Message<'_> {
    fn generate(index: usize, conversation_id: &str) -> Message<'_> {
        let kind = &KINDS[index % KINDS.len()];
        let h = hash(SALT, index);
        let id = message_id(index);
        let inbound = kind.sender == SenderKind::Contact;
        let texts = if inbound { &CUSTOMER_TEXTS } else { &AGENT_TEXTS };
        let text = pick(texts, h);
        let identifier = if kind.email {
            Identifier {
                identifier_key: "emailaddress",
                identifier_value: CONTACT_EMAIL,
                platform_address: CONTACT_EMAIL,
            }
        } else {
            Identifier {
                identifier_key: "phonenumber",
                identifier_value: CONTACT_PHONE,
                platform_address: CONTACT_PHONE,
            }
        };
        let (sender_id, sender_kind, display_name) = match kind.sender {
            SenderKind::Contact => (CONTACT_ID, "contact", CONTACT_NAME),
            SenderKind::User => (AGENT_ID, "user", "Sam Agent"),
            SenderKind::AccessKey => (KEY_ID, "accessKey", "Sandbox e-mail key"),
            SenderKind::Flow => (FLOW_ID, "flow", "Order updates flow"),
        };
        let (sender_contact, recipients) = if inbound {
            (Some(identifier), None)
        } else {
            let recipient = Recipient {
                kind: "to",
                id: CONTACT_ID,
                identifier,
                contact_annotation: Annotation { name: CONTACT_NAME },
            };
            (None, Some(vec![recipient]))
        };
        let body = match kind.content {
            Content::Text => MessageBody::Text { text: TextBody { text } },
            Content::Html => {
                MessageBody::Html { html: HtmlBody { text: format!("{text}\r\n"), html: format!("<p>{text}</p>") } }
            }
            Content::Image => MessageBody::Image {
                image: ImageBody {
                    images: vec![Media {
                        media_url: format!("https://media.example.com/photo-{index}.jpg"),
                        alt_text: Some("A photo of the parcel"),
                        content_type: Some("image/jpeg"),
                        filename: None,
                    }],
                },
            },
            Content::File => MessageBody::File {
                file: FileBody {
                    files: vec![Media {
                        media_url: format!("https://media.example.com/receipt-{index}.pdf"),
                        alt_text: None,
                        content_type: Some("application/pdf"),
                        filename: Some("receipt.pdf"),
                    }],
                },
            },
        };
        let meta = kind.email.then(|| {
            let subject = if inbound { "Re: Your order 48213" } else { "Your order 48213" };
            let headers = serde_json::json!({ "Subject": [subject] }).to_string();
            Meta { extra_information: ExtraInformation { email_headers: STANDARD.encode(headers) } }
        });
        let created_at = created(index);
        let updated_at = if inbound {
            created_at
        } else {
            created_at.checked_add_signed(TimeDelta::milliseconds(840)).unwrap_or(created_at)
        };
        Message {
            reference: if inbound { id.clone() } else { String::new() },
            id,
            conversation_id,
            sender: Sender {
                id: sender_id,
                kind: sender_kind,
                status: "active",
                display_name,
                avatar_url: "",
                contact: sender_contact,
            },
            draft: false,
            recipients,
            status: kind.status,
            source: if inbound { "channels" } else { "conversations" },
            body,
            interactions: None,
            created_at: time::millis_z(created_at),
            updated_at: time::millis_z(updated_at),
            meta,
            receiver_types: (inbound && kind.email).then(|| vec!["to"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_like_birds() {
        // The token printed on Bird's page.
        let page =
            "WyIyMDI0LTExLTE1VDEzOjM0OjQ1Ljc3NTYzMDE0OVoiLCJhMGEwM2IxOS03NTQ5LTRlZmUtOTBjZS1jNzdlYzI0ZjZmN2YiXQ==";
        let key = Key::from_token(page).expect("the page's token decodes");
        assert_eq!(time::nanos_z(key.created), "2024-11-15T13:34:45.775630149Z");
        assert_eq!(key.id, "a0a03b19-7549-4efe-90ce-c77ec24f6f7f");
        assert_eq!(key.token(), page);
        assert_eq!(Key::from_token("not a token"), None);
    }
}
