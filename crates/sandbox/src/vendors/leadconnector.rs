//! LeadConnector (HighLevel): `GET /conversations/{conversationId}/messages`.
//!
//! `Authorization: Bearer <token>` and a `Version` header; newest first,
//! paged by cursor (`lastMessageId`, `limit` up to 100, default 20), with a
//! `type` filter (one comma-separated string of `TYPE_*`). The body is the
//! page's flat `{"lastMessageId", "nextPage", "messages": [...]}` or, when
//! asked for, the live API's nested
//! `{"messages": {"lastMessageId", "nextPage", "messages": [...]}, "traceId"}`.
//! Errors are `{"statusCode", "message", "error"}` (`message` is a list for
//! 422). Every response carries the `X-RateLimit-*` headers, which count but
//! never refuse, except in the rate-limit mode, where they tell its budget.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, StatusCode};
use serde::Serialize;

use super::{Conversation, Item};
use crate::generate::{AGENT_TEXTS, CUSTOMER_TEXTS, base62, from_base62, hash, pick};
use crate::http::{Call, PageFault, Reply, reason};
use crate::limit::RateState;
use crate::samples::Sample;
use crate::select::Selection;
use crate::{Vendor, credentials, time};

const SALT: u64 = 0x1EAD;
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;
const DAILY_LIMIT: usize = 200_000;
const INTERVAL: Duration = Duration::from_secs(10);
const INTERVAL_MAX: usize = 100;

/// The `type` filter's values, and the `messageType` each selects (the
/// filter spells `TYPE_INTERNAL_COMMENTS`, the messages `TYPE_INTERNAL_COMMENT`).
const TYPE_FILTERS: [(&str, &str); 14] = [
    ("TYPE_CALL", "TYPE_CALL"),
    ("TYPE_SMS", "TYPE_SMS"),
    ("TYPE_EMAIL", "TYPE_EMAIL"),
    ("TYPE_FACEBOOK", "TYPE_FACEBOOK"),
    ("TYPE_GMB", "TYPE_GMB"),
    ("TYPE_INSTAGRAM", "TYPE_INSTAGRAM"),
    ("TYPE_WHATSAPP", "TYPE_WHATSAPP"),
    ("TYPE_ACTIVITY_APPOINTMENT", "TYPE_ACTIVITY_APPOINTMENT"),
    ("TYPE_ACTIVITY_CONTACT", "TYPE_ACTIVITY_CONTACT"),
    ("TYPE_ACTIVITY_INVOICE", "TYPE_ACTIVITY_INVOICE"),
    ("TYPE_ACTIVITY_PAYMENT", "TYPE_ACTIVITY_PAYMENT"),
    ("TYPE_ACTIVITY_OPPORTUNITY", "TYPE_ACTIVITY_OPPORTUNITY"),
    ("TYPE_LIVE_CHAT", "TYPE_LIVE_CHAT"),
    ("TYPE_INTERNAL_COMMENTS", "TYPE_INTERNAL_COMMENT"),
];

pub(crate) struct Leadconnector {
    sample: &'static Sample,
    nested: bool,
    /// When the current rate-limit interval began, and its requests.
    interval: Mutex<(Instant, usize)>,
}

impl Leadconnector {
    pub fn new(sample: &'static Sample, nested: bool) -> Leadconnector {
        Leadconnector { sample, nested, interval: Mutex::new((Instant::now(), 0)) }
    }

    pub fn handle(&self, call: &Call<'_>) -> Reply {
        let reply = self.answer(call);
        self.rate_limited(reply, call.number, call.rate)
    }

    /// LeadConnector's error response for `status`, with the rate-limit
    /// headers.
    pub fn status(&self, status: StatusCode, number: usize, rate: Option<RateState>) -> Reply {
        let message = match status {
            StatusCode::UNAUTHORIZED => "Invalid token: access token is invalid",
            _ => reason(status),
        };
        let reply = if status == StatusCode::UNPROCESSABLE_ENTITY {
            error(status, vec![message.to_owned()])
        } else {
            error(status, message)
        };
        self.rate_limited(reply, number, rate)
    }

    fn answer(&self, call: &Call<'_>) -> Reply {
        let Some(conversation) = call.path_param("/conversations/", "/messages") else {
            return error(StatusCode::NOT_FOUND, format!("Cannot {} {}", call.method, call.path));
        };
        if call.method != Method::GET {
            return error(StatusCode::NOT_FOUND, format!("Cannot {} {}", call.method, call.path));
        }
        if call.authorization("Bearer") != Some(credentials::LEADCONNECTOR_TOKEN) {
            return error(StatusCode::UNAUTHORIZED, "Invalid token: access token is invalid");
        }
        match call.header("version") {
            None => return error(StatusCode::BAD_REQUEST, "Version header was not found"),
            Some(v) if !credentials::LEADCONNECTOR_VERSIONS.contains(&v) => {
                return error(StatusCode::BAD_REQUEST, format!("Version header {v:?} is not supported"));
            }
            Some(_) => {}
        }
        let limit = match call.query.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                Ok(n) if n > MAX_LIMIT => {
                    return error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        vec![format!("limit must not be greater than {MAX_LIMIT}")],
                    );
                }
                _ => {
                    return error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        vec!["limit must be a positive integer".to_owned()],
                    );
                }
            },
        };
        let mut types = Vec::new();
        for filter in call.query.get("type").unwrap_or("").split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match TYPE_FILTERS.iter().find(|(name, _)| *name == filter) {
                Some((_, message_type)) => types.push(*message_type),
                None => {
                    let allowed: Vec<&str> = TYPE_FILTERS.iter().map(|(name, _)| *name).collect();
                    let message = format!("type must be one of the following values: {}", allowed.join(", "));
                    return error(StatusCode::UNPROCESSABLE_ENTITY, vec![message]);
                }
            }
        }
        let conversation = if conversation == self.sample.conversation {
            Conversation::Sample(&self.sample.messages)
        } else if let Some(generated) = call.generated.find(Vendor::Leadconnector, &conversation) {
            generated
        } else {
            return error(StatusCode::BAD_REQUEST, "Conversation not found");
        };
        let cursor = call.query.get("lastMessageId").filter(|c| !c.is_empty());
        let boundary = match cursor {
            None => None,
            Some(id) => match index_in(&conversation, id) {
                Some(index) => Some(index),
                None => return error(StatusCode::BAD_REQUEST, format!("Message {id} not found in this conversation")),
            },
        };

        let message_type = |i: usize| match &conversation {
            Conversation::Sample(messages) => messages[i].text("messageType").unwrap_or(""),
            Conversation::Generated(..) => kind(i).message_type,
        };
        let keep = |i: usize| types.contains(&message_type(i));
        let selection = Selection {
            range: 0..conversation.len(),
            keep: (!types.is_empty()).then_some(&keep as &dyn Fn(usize) -> bool),
            descending: true,
        };
        let (mut indices, mut next_page) = selection.after(boundary, limit);
        let mut last_message_id = indices.last().map(|&i| id_at(&conversation, i));
        match call.fault {
            Some(PageFault::RepeatCursor) if cursor.is_some() => {
                last_message_id = cursor.map(str::to_owned);
                next_page = true;
            }
            Some(PageFault::EmptyPageWithMore) => {
                indices.clear();
                last_message_id = None;
                next_page = true;
            }
            _ => {}
        }
        let page = Page {
            // An empty page names the cursor it was asked for.
            last_message_id: last_message_id.or(cursor.map(str::to_owned)).unwrap_or_default(),
            next_page,
            messages: indices
                .into_iter()
                .map(|i| match &conversation {
                    Conversation::Sample(messages) => Item::Sample(&messages[i].value),
                    Conversation::Generated(_, id) => Item::Generated(Message::generate(i, id)),
                })
                .collect(),
        };
        if self.nested {
            let trace_id = crate::generate::uuid(hash(SALT, call.number) as u32, hash(!SALT, call.number));
            Reply::json(StatusCode::OK, &Nested { messages: page, trace_id })
        } else {
            Reply::json(StatusCode::OK, &page)
        }
    }

    /// Adds the `X-RateLimit-*` headers: the day's budget counts this
    /// vendor's requests; the interval's is the rate-limit mode's budget
    /// (`rate`) or, without it, counts those of the current 10 seconds
    /// against HighLevel's 100, never refusing.
    fn rate_limited(&self, reply: Reply, number: usize, rate: Option<RateState>) -> Reply {
        let (max, remaining, interval) = match rate {
            Some(rate) => (rate.limit as usize, rate.remaining as usize, rate.interval),
            None => {
                let in_interval = match self.interval.lock() {
                    Ok(mut interval) => {
                        if interval.0.elapsed() >= INTERVAL {
                            *interval = (Instant::now(), 0);
                        }
                        interval.1 += 1;
                        interval.1
                    }
                    Err(_) => 1,
                };
                (INTERVAL_MAX, INTERVAL_MAX.saturating_sub(in_interval), INTERVAL)
            }
        };
        let remaining = if reply.status == StatusCode::TOO_MANY_REQUESTS { 0 } else { remaining };
        let interval = usize::try_from(interval.as_millis()).unwrap_or(usize::MAX);
        let headers = [
            ("x-ratelimit-limit-daily", DAILY_LIMIT),
            ("x-ratelimit-daily-remaining", DAILY_LIMIT.saturating_sub(number)),
            ("x-ratelimit-interval-milliseconds", interval),
            ("x-ratelimit-limit", max),
            ("x-ratelimit-max", max),
            ("x-ratelimit-remaining", remaining),
        ];
        headers.into_iter().fold(reply, |reply, (name, value)| {
            reply.with_header(HeaderName::from_static(name), HeaderValue::from(value))
        })
    }
}

fn error(status: StatusCode, message: impl Serialize) -> Reply {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ErrorBody<M> {
        status_code: u16,
        message: M,
        error: &'static str,
    }
    Reply::json(status, &ErrorBody { status_code: status.as_u16(), message, error: reason(status) })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    last_message_id: String,
    next_page: bool,
    messages: Vec<Item<'a, Message<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Nested<'a> {
    messages: Page<'a>,
    trace_id: String,
}

fn index_in(conversation: &Conversation<'_>, id: &str) -> Option<usize> {
    match conversation {
        Conversation::Sample(messages) => messages.iter().position(|m| m.id == id),
        Conversation::Generated(n, _) => index_of(id).filter(|i| i < n),
    }
}

fn id_at(conversation: &Conversation<'_>, index: usize) -> String {
    match conversation {
        Conversation::Sample(messages) => messages[index].id.clone(),
        Conversation::Generated(..) => message_id(index),
    }
}

// ---- The generated conversation. ----

const START: &str = "2024-03-28T09:00:00.000Z";
const LOCATION_ID: &str = "sbxLocation000000001";
const CONTACT_ID: &str = "sbxContact0000000001";
const USER_ID: &str = "sbxUser0000000000001";
const PROVIDER_ID: &str = "sbxProvider000000001";

/// The id of generated message `index`: 20 base-62 characters, the first
/// six of which are the index.
pub(crate) fn message_id(index: usize) -> String {
    base62(index as u64, 6) + &base62(hash(SALT, index), 14)
}

fn index_of(id: &str) -> Option<usize> {
    let index = usize::try_from(from_base62(id.get(..6)?)?).ok()?;
    (message_id(index) == id).then_some(index)
}

/// The numeric `type` of a `messageType`. HighLevel publishes no table; the
/// codes follow the order of the page's `messageType` list (`TYPE_CALL` is
/// 1, `TYPE_EMAIL` 3, `TYPE_CAMPAIGN_VOICEMAIL` 10, as the page's notes on
/// types 1, 3 and 10 confirm).
fn type_code(message_type: &str) -> u32 {
    const ORDER: [&str; 35] = [
        "TYPE_CALL",
        "TYPE_SMS",
        "TYPE_EMAIL",
        "TYPE_SMS_REVIEW_REQUEST",
        "TYPE_WEBCHAT",
        "TYPE_SMS_NO_SHOW_REQUEST",
        "TYPE_CAMPAIGN_SMS",
        "TYPE_CAMPAIGN_CALL",
        "TYPE_CAMPAIGN_EMAIL",
        "TYPE_CAMPAIGN_VOICEMAIL",
        "TYPE_FACEBOOK",
        "TYPE_CAMPAIGN_FACEBOOK",
        "TYPE_CAMPAIGN_MANUAL_CALL",
        "TYPE_CAMPAIGN_MANUAL_SMS",
        "TYPE_GMB",
        "TYPE_CAMPAIGN_GMB",
        "TYPE_REVIEW",
        "TYPE_INSTAGRAM",
        "TYPE_WHATSAPP",
        "TYPE_CUSTOM_SMS",
        "TYPE_CUSTOM_EMAIL",
        "TYPE_CUSTOM_PROVIDER_SMS",
        "TYPE_CUSTOM_PROVIDER_EMAIL",
        "TYPE_IVR_CALL",
        "TYPE_ACTIVITY_CONTACT",
        "TYPE_ACTIVITY_INVOICE",
        "TYPE_ACTIVITY_PAYMENT",
        "TYPE_ACTIVITY_OPPORTUNITY",
        "TYPE_LIVE_CHAT",
        "TYPE_LIVE_CHAT_INFO_MESSAGE",
        "TYPE_ACTIVITY_APPOINTMENT",
        "TYPE_FACEBOOK_COMMENT",
        "TYPE_INSTAGRAM_COMMENT",
        "TYPE_CUSTOM_CALL",
        "TYPE_INTERNAL_COMMENT",
    ];
    ORDER.iter().position(|t| *t == message_type).map_or(0, |p| p as u32 + 1)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Row {
    Text,
    Mms,
    AnsweredCall,
    MissedCall,
    Email,
    /// An inbound e-mail with no `body`: its subject is under `meta.email`.
    EmailWithoutBody,
    Activity(&'static str),
    Comment,
}

struct Kind {
    message_type: &'static str,
    inbound: bool,
    row: Row,
    status: Option<&'static str>,
    source: Option<&'static str>,
}

const fn k(
    message_type: &'static str,
    inbound: bool,
    row: Row,
    status: Option<&'static str>,
    source: Option<&'static str>,
) -> Kind {
    Kind { message_type, inbound, row, status, source }
}

/// The generated conversation repeats these kinds of row, in order.
const KINDS: [Kind; 13] = [
    k("TYPE_SMS", true, Row::Text, None, None),
    k("TYPE_SMS", false, Row::Text, Some("delivered"), Some("app")),
    k("TYPE_CALL", true, Row::AnsweredCall, Some("completed"), None),
    k("TYPE_EMAIL", false, Row::Email, Some("opened"), Some("workflow")),
    k("TYPE_EMAIL", true, Row::EmailWithoutBody, None, None),
    k("TYPE_ACTIVITY_APPOINTMENT", false, Row::Activity("Appointment booked for Tuesday 14:30"), None, None),
    k("TYPE_CALL", false, Row::MissedCall, Some("no-answer"), Some("app")),
    k("TYPE_WHATSAPP", true, Row::Mms, Some("read"), None),
    k("TYPE_SMS", false, Row::Text, Some("failed"), Some("workflow")),
    k("TYPE_ACTIVITY_OPPORTUNITY", false, Row::Activity("Opportunity moved to stage Won"), None, None),
    k("TYPE_INTERNAL_COMMENT", false, Row::Comment, None, Some("app")),
    k("TYPE_FACEBOOK", true, Row::Text, None, None),
    k("TYPE_SMS", false, Row::Text, Some("sent"), Some("api")),
];

fn kind(index: usize) -> &'static Kind {
    &KINDS[index % KINDS.len()]
}

/// A generated row, in the field order of the documented sample.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Message<'a> {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    alt_id: Option<String>,
    #[serde(rename = "type")]
    type_code: u32,
    message_type: &'static str,
    location_id: &'static str,
    contact_id: &'static str,
    conversation_id: &'a str,
    date_added: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    direction: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    content_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachments: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation_provider_id: Option<&'static str>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    call_duration: Option<CallDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call: Option<CallMeta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<EmailMeta>,
}

/// The page types `meta.callDuration` as a string; HighLevel's published
/// spec, and the live API at times, send a number. Calls alternate.
#[derive(Serialize)]
#[serde(untagged)]
enum CallDuration {
    Text(String),
    Seconds(u32),
}

#[derive(Serialize)]
struct CallMeta {
    duration: Option<u32>,
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmailMeta {
    message_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'static str>,
}

impl Message<'_> {
    fn generate(index: usize, conversation_id: &str) -> Message<'_> {
        let kind = kind(index);
        let h = hash(SALT, index);
        let id = message_id(index);
        let texts = if kind.inbound { &CUSTOMER_TEXTS } else { &AGENT_TEXTS };
        let mut body = None;
        let mut attachments = None;
        let mut meta = None;
        let mut alt_id = None;
        let mut content_type = "text/plain";
        match kind.row {
            Row::Text => body = Some(pick(texts, h).to_owned()),
            Row::Mms => {
                body = Some(pick(texts, h).to_owned());
                attachments = Some(vec![format!("https://example.com/media/photo-{index}.jpg")]);
            }
            Row::AnsweredCall => {
                let duration = 30 + (h % 570) as u32;
                attachments = Some(Vec::new());
                alt_id = Some(format!("CA{:032x}", u128::from(h) << 64 | u128::from(!h)));
                meta = Some(Meta {
                    call_duration: Some(if (index / KINDS.len()).is_multiple_of(2) {
                        CallDuration::Text(duration.to_string())
                    } else {
                        CallDuration::Seconds(duration)
                    }),
                    call_status: Some("completed"),
                    call: Some(CallMeta { duration: Some(duration), status: "completed" }),
                    email: None,
                });
            }
            Row::MissedCall => {
                attachments = Some(Vec::new());
                meta = Some(Meta { call: Some(CallMeta { duration: None, status: "no-answer" }), ..Meta::default() });
            }
            Row::Email => {
                content_type = "text/html";
                body = Some(format!("<p>{}</p>", pick(texts, h)));
                meta = Some(Meta {
                    email: Some(EmailMeta { message_ids: vec![id.clone()], subject: Some("Your order 48213") }),
                    ..Meta::default()
                });
            }
            Row::EmailWithoutBody => {
                content_type = "text/html";
                meta = Some(Meta {
                    email: Some(EmailMeta { message_ids: vec![id.clone()], subject: Some("Re: Your order 48213") }),
                    ..Meta::default()
                });
            }
            Row::Activity(text) => body = Some(text.to_owned()),
            Row::Comment => body = Some("Customer prefers to be called after 17:00.".to_owned()),
        }
        if kind.message_type == "TYPE_SMS" && !kind.inbound {
            alt_id = Some(format!("SM{:032x}", u128::from(h) << 64 | u128::from(!h)));
        }
        Message {
            id,
            alt_id,
            type_code: type_code(kind.message_type),
            message_type: kind.message_type,
            location_id: LOCATION_ID,
            contact_id: CONTACT_ID,
            conversation_id,
            date_added: time::millis_z(time::plus_seconds(time::utc(START), index)),
            body,
            direction: if kind.inbound { "inbound" } else { "outbound" },
            status: kind.status,
            content_type,
            attachments,
            meta,
            source: kind.source,
            user_id: (kind.source == Some("app")).then_some(USER_ID),
            conversation_provider_id: (kind.message_type == "TYPE_SMS").then_some(PROVIDER_ID),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_decode_to_their_index() {
        for index in [0, 1, 61, 62, 2_344, 999_999] {
            let id = message_id(index);
            assert_eq!(id.len(), 20, "{id}");
            assert_eq!(index_of(&id), Some(index), "{id}");
        }
        assert_eq!(index_of("ve9EPM428h8vShlRW1KT"), None);
    }

    #[test]
    fn type_codes_follow_the_page() {
        assert_eq!(type_code("TYPE_CALL"), 1);
        assert_eq!(type_code("TYPE_EMAIL"), 3);
        assert_eq!(type_code("TYPE_CAMPAIGN_VOICEMAIL"), 10);
        assert_eq!(type_code("TYPE_INTERNAL_COMMENT"), 35);
    }
}
