//! Infobip Conversations (CCaaS): `GET /ccaas/1/conversations/{conversationId}/messages`.
//!
//! `Authorization: App <key>`; pages by number from 0 (`page`, `limit` up to
//! 999, default 10); filters `messageIds` (repeated keys), `channel`,
//! `direction`, `createdAfter`, `createdBefore` (both exclusive, as "after"
//! and "before" say; the page does not settle it); `orderBy` `id:asc` (the
//! default) or `createdAt`, `asc` or `desc`. The body is
//! `{"messages": [...], "pagination": {"totalItems", "page", "limit", "orderBy"}}`;
//! errors are `{"requestError": {"serviceException": {"messageId", "text"}}}`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use hyper::{Method, StatusCode};
use serde::Serialize;

use super::{Conversation, Item};
use crate::generate::{AGENT_TEXTS, CUSTOMER_TEXTS, hash, pick};
use crate::http::{Call, PageFault, Reply, reason};
use crate::samples::Sample;
use crate::select::{Selection, partition_point};
use crate::{Vendor, credentials, time};

const SALT: u64 = 0x1F0B;
const DEFAULT_LIMIT: u64 = 10;
const MAX_LIMIT: u64 = 999;
const CHANNELS: [&str; 15] = [
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

pub(crate) struct Infobip {
    sample: &'static Sample,
}

impl Infobip {
    pub fn new(sample: &'static Sample) -> Infobip {
        Infobip { sample }
    }

    pub fn handle(&self, call: &Call<'_>) -> Reply {
        let Some(conversation) = call.path_param("/ccaas/1/conversations/", "/messages") else {
            return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Requested URL not found.");
        };
        if call.method != Method::GET {
            return status(StatusCode::METHOD_NOT_ALLOWED);
        }
        if call.authorization("App") != Some(credentials::INFOBIP_API_KEY) {
            return status(StatusCode::UNAUTHORIZED);
        }
        let params = match Params::parse(call) {
            Ok(params) => params,
            Err((field, problem)) => {
                // The documented body has room for one text: it names the field.
                return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &format!("Bad request: {field} {problem}"));
            }
        };
        let found = if conversation == self.sample.conversation {
            Conversation::Sample(&self.sample.messages)
        } else if let Some(generated) = call.generated.find(Vendor::Infobip, &conversation) {
            generated
        } else {
            let text = format!("Conversation with id {conversation} not found.");
            return error(StatusCode::NOT_FOUND, "NOT_FOUND", &text);
        };
        self.page(&found, &params, call.fault)
    }

    /// The page asked for. Both orderings walk the natural order: the
    /// generated ids and instants grow with the index, and the sample is
    /// taken to be listed in id order (as its `"orderBy": "id:ASC"` says),
    /// its messages sharing one instant.
    fn page(&self, conversation: &Conversation<'_>, params: &Params, fault: Option<PageFault>) -> Reply {
        let view = View::new(conversation, params);
        let keep = |i: usize| view.keeps(i);
        let selection = Selection {
            range: view.range(),
            keep: view.filters().then_some(&keep as &dyn Fn(usize) -> bool),
            descending: params.descending,
        };
        let mut page = params.page;
        if fault == Some(PageFault::RepeatCursor) && page > 0 {
            page -= 1;
        }
        let limit = params.limit as usize;
        let indices = match fault {
            Some(PageFault::EmptyPageWithMore) => Vec::new(),
            _ => usize::try_from(page)
                .ok()
                .and_then(|p| p.checked_mul(limit))
                .map(|skip| selection.offset(skip, limit))
                .unwrap_or_default(),
        };
        let messages = indices
            .into_iter()
            .map(|i| match conversation {
                Conversation::Sample(messages) => Item::Sample(&messages[i].value),
                Conversation::Generated(_, id) => Item::Generated(Message::generate(i, id)),
            })
            .collect();
        let body = Body {
            messages,
            pagination: Pagination {
                total_items: selection.count() as u64,
                page,
                limit: params.limit,
                order_by: format!("{}:{}", params.order_field, if params.descending { "DESC" } else { "ASC" }),
            },
        };
        Reply::json(StatusCode::OK, &body)
    }
}

/// Infobip's error response for `status`.
pub(crate) fn status(status: StatusCode) -> Reply {
    match status {
        StatusCode::UNAUTHORIZED => error(status, "UNAUTHORIZED", "Invalid login details"),
        _ => {
            let id = reason(status).to_ascii_uppercase().replace([' ', '-'], "_");
            error(status, &id, reason(status))
        }
    }
}

fn error(status: StatusCode, message_id: &str, text: &str) -> Reply {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ErrorBody<'a> {
        request_error: RequestError<'a>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct RequestError<'a> {
        service_exception: ServiceException<'a>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ServiceException<'a> {
        message_id: &'a str,
        text: &'a str,
    }
    let body = ErrorBody { request_error: RequestError { service_exception: ServiceException { message_id, text } } };
    Reply::json(status, &body)
}

/// The query, checked the way Infobip checks it.
struct Params {
    page: u64,
    limit: u64,
    message_ids: Option<Vec<String>>,
    channel: Option<String>,
    direction: Option<String>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    order_field: &'static str,
    descending: bool,
}

type Invalid = (&'static str, String);

impl Params {
    fn parse(call: &Call<'_>) -> Result<Params, Invalid> {
        let query = &call.query;
        let page = number(query.get("page"), "page", 0)?;
        let limit = number(query.get("limit"), "limit", DEFAULT_LIMIT)?;
        if limit < 1 {
            return Err(("limit", "must be greater than or equal to 1".into()));
        }
        if limit > MAX_LIMIT {
            return Err(("limit", format!("must be less than or equal to {MAX_LIMIT}")));
        }
        let ids: Vec<String> =
            query.all("messageIds").flat_map(|v| v.split(',')).filter(|v| !v.is_empty()).map(str::to_owned).collect();
        let channel = query.get("channel").map(str::to_owned);
        if let Some(channel) = &channel
            && !CHANNELS.contains(&channel.as_str())
        {
            return Err(("channel", format!("must be one of {}", CHANNELS.join(", "))));
        }
        let direction = query.get("direction").map(str::to_owned);
        if let Some(direction) = &direction
            && direction != "INBOUND"
            && direction != "OUTBOUND"
        {
            return Err(("direction", "must be one of INBOUND, OUTBOUND".into()));
        }
        let (order_field, descending) = match query.get("orderBy") {
            None => ("id", false),
            Some(order) => {
                let (field, direction) = order.split_once(':').unwrap_or((order, "asc"));
                let field = match field {
                    "id" => "id",
                    "createdAt" => "createdAt",
                    _ => return Err(("orderBy", format!("cannot order by `{field}`; use id or createdAt"))),
                };
                let descending = match direction.to_ascii_lowercase().as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(("orderBy", format!("unknown direction `{direction}`; use asc or desc"))),
                };
                (field, descending)
            }
        };
        Ok(Params {
            page,
            limit,
            message_ids: (!ids.is_empty()).then_some(ids),
            channel,
            direction,
            created_after: instant(query.get("createdAfter"), "createdAfter")?,
            created_before: instant(query.get("createdBefore"), "createdBefore")?,
            order_field,
            descending,
        })
    }
}

fn number(value: Option<&str>, field: &'static str, default: u64) -> Result<u64, Invalid> {
    match value {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| (field, format!("must be a whole number of 0 or more, not {text:?}"))),
    }
}

fn instant(value: Option<&str>, field: &'static str) -> Result<Option<DateTime<Utc>>, Invalid> {
    value
        .map(|text| {
            time::parse(text)
                .ok_or_else(|| (field, format!("must be a date-time like 2024-01-01T00:00:00.000+0000, not {text:?}")))
        })
        .transpose()
}

/// A conversation as one request's filters see it.
struct View<'a> {
    conversation: &'a Conversation<'a>,
    params: &'a Params,
    /// The indices of the `messageIds` asked for.
    ids: Option<HashSet<usize>>,
}

impl<'a> View<'a> {
    fn new(conversation: &'a Conversation<'a>, params: &'a Params) -> View<'a> {
        let ids = params.message_ids.as_ref().map(|ids| {
            ids.iter()
                .filter_map(|id| match conversation {
                    Conversation::Sample(messages) => messages.iter().position(|m| &m.id == id),
                    Conversation::Generated(n, _) => index_of(id).filter(|i| i < n),
                })
                .collect()
        });
        View { conversation, params, ids }
    }

    /// Whether a predicate is needed beyond the range.
    fn filters(&self) -> bool {
        let p = self.params;
        let dates = matches!(self.conversation, Conversation::Sample(_))
            && (p.created_after.is_some() || p.created_before.is_some());
        dates || p.message_ids.is_some() || p.channel.is_some() || p.direction.is_some()
    }

    /// The range the date filters leave. The generated conversation's
    /// instants grow with the index; a sample's are checked one by one.
    fn range(&self) -> std::ops::Range<usize> {
        let len = self.conversation.len();
        let Conversation::Generated(..) = self.conversation else { return 0..len };
        let start = match self.params.created_after {
            Some(after) => partition_point(len, |i| created(i) <= after),
            None => 0,
        };
        let end = match self.params.created_before {
            Some(before) => partition_point(len, |i| created(i) < before),
            None => len,
        };
        start..end.max(start)
    }

    fn keeps(&self, i: usize) -> bool {
        let p = self.params;
        if self.ids.as_ref().is_some_and(|ids| !ids.contains(&i)) {
            return false;
        }
        let (channel, direction) = match self.conversation {
            Conversation::Sample(messages) => {
                let m = &messages[i];
                let created = m.created;
                if p.created_after.is_some_and(|after| created.is_none_or(|c| c <= after))
                    || p.created_before.is_some_and(|before| created.is_none_or(|c| c >= before))
                {
                    return false;
                }
                (m.text("channel").unwrap_or(""), m.text("direction").unwrap_or(""))
            }
            Conversation::Generated(..) => (kind(i).channel, kind(i).direction.infobip()),
        };
        p.channel.as_deref().is_none_or(|c| c == channel) && p.direction.as_deref().is_none_or(|d| d == direction)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    messages: Vec<Item<'a, Message<'a>>>,
    pagination: Pagination,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    total_items: u64,
    page: u64,
    limit: u64,
    order_by: String,
}

// ---- The generated conversation. ----

const START: &str = "2024-01-02T08:00:00Z";
const CUSTOMER_PHONE: &str = "447491234567";
const BUSINESS_PHONE: &str = "447496389711";
const CUSTOMER_EMAIL: &str = "olivia.brown@example.com";
const BUSINESS_EMAIL: &str = "support@shop.example.com";
const CUSTOMER_MESSENGER: &str = "6124579981234567";
const BUSINESS_PAGE: &str = "104857600123456";
const CUSTOMER_LIVE_CHAT: &str = "8d1c2f4e-7a3b-4e59-9c61-2f0b5d7e8a13";
const BUSINESS_WIDGET: &str = "3f6a9b2c-1d4e-4f70-8a2b-6c9d0e1f2a3b";
const AGENT_ID: &str = "0b6e2f1a-5c4d-4e3f-9a8b-7c6d5e4f3a2b";
const BOT_ID: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    fn infobip(self) -> &'static str {
        match self {
            Direction::Inbound => "INBOUND",
            Direction::Outbound => "OUTBOUND",
        }
    }
}

#[derive(Clone, Copy)]
enum Content {
    Text,
    Image,
    Video,
    Document,
    Location,
    Email,
}

#[derive(Clone, Copy)]
enum Author {
    Customer,
    Agent,
    Bot,
    System,
}

struct Kind {
    channel: &'static str,
    direction: Direction,
    content: Content,
    author: Author,
}

const fn k(channel: &'static str, direction: Direction, content: Content, author: Author) -> Kind {
    Kind { channel, direction, content, author }
}

/// The generated conversation repeats these kinds of message, in order.
const KINDS: [Kind; 14] = [
    k("WHATSAPP", Direction::Inbound, Content::Text, Author::Customer),
    k("WHATSAPP", Direction::Outbound, Content::Text, Author::Bot),
    k("WHATSAPP", Direction::Inbound, Content::Image, Author::Customer),
    k("WHATSAPP", Direction::Outbound, Content::Text, Author::Agent),
    k("WHATSAPP", Direction::Inbound, Content::Location, Author::Customer),
    k("WHATSAPP", Direction::Outbound, Content::Document, Author::Agent),
    k("SMS", Direction::Inbound, Content::Text, Author::Customer),
    k("SMS", Direction::Outbound, Content::Text, Author::Agent),
    k("EMAIL", Direction::Inbound, Content::Email, Author::Customer),
    k("EMAIL", Direction::Outbound, Content::Email, Author::Agent),
    k("FACEBOOK_MESSENGER", Direction::Inbound, Content::Video, Author::Customer),
    k("VIBER", Direction::Outbound, Content::Text, Author::Agent),
    k("LIVE_CHAT", Direction::Inbound, Content::Text, Author::Customer),
    k("LIVE_CHAT", Direction::Outbound, Content::Text, Author::System),
];

fn kind(index: usize) -> &'static Kind {
    &KINDS[index % KINDS.len()]
}

fn created(index: usize) -> DateTime<Utc> {
    time::plus_seconds(time::utc(START), index)
}

/// The id of generated message `index`: its first eight hex digits are the
/// index, so ids sort like the messages.
pub(crate) fn message_id(index: usize) -> String {
    crate::generate::uuid(index as u32, hash(SALT, index))
}

/// The index of generated message `id`, if it is one.
fn index_of(id: &str) -> Option<usize> {
    let index = usize::try_from(u32::from_str_radix(id.get(..8)?, 16).ok()?).ok()?;
    (message_id(index) == id).then_some(index)
}

/// A generated message, in the field order of the documented sample.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Message<'a> {
    id: String,
    from: &'static str,
    to: &'static str,
    channel: &'static str,
    direction: &'static str,
    conversation_id: &'a str,
    created_at: String,
    updated_at: String,
    content_type: &'static str,
    content: MessageContent,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_id: Option<&'static str>,
    author_type: &'static str,
}

#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum MessageContent {
    Text {
        text: &'static str,
    },
    Media {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        caption: Option<&'static str>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        location_name: &'static str,
        address: &'static str,
    },
    EmailText {
        subject: &'static str,
        content_text: &'static str,
    },
    EmailHtml {
        subject: &'static str,
        content_html: String,
    },
}

impl Message<'_> {
    fn generate(index: usize, conversation_id: &str) -> Message<'_> {
        let kind = kind(index);
        let h = hash(SALT, index);
        let (customer, business) = match kind.channel {
            "EMAIL" => (CUSTOMER_EMAIL, BUSINESS_EMAIL),
            "FACEBOOK_MESSENGER" => (CUSTOMER_MESSENGER, BUSINESS_PAGE),
            "LIVE_CHAT" => (CUSTOMER_LIVE_CHAT, BUSINESS_WIDGET),
            _ => (CUSTOMER_PHONE, BUSINESS_PHONE),
        };
        let (from, to) = match kind.direction {
            Direction::Inbound => (customer, business),
            Direction::Outbound => (business, customer),
        };
        let texts = match kind.direction {
            Direction::Inbound => &CUSTOMER_TEXTS,
            Direction::Outbound => &AGENT_TEXTS,
        };
        let (content_type, content) = match kind.content {
            Content::Text => ("TEXT", MessageContent::Text { text: pick(texts, h) }),
            Content::Image => (
                "IMAGE",
                MessageContent::Media {
                    url: format!("https://example.com/media/photo-{index}.jpg"),
                    caption: h.is_multiple_of(2).then_some("This is the parcel I received"),
                },
            ),
            Content::Video => (
                "VIDEO",
                MessageContent::Media { url: format!("https://example.com/media/video-{index}.mp4"), caption: None },
            ),
            Content::Document => (
                "DOCUMENT",
                MessageContent::Media {
                    url: format!("https://example.com/media/invoice-{index}.pdf"),
                    caption: Some("Your invoice"),
                },
            ),
            Content::Location => (
                "LOCATION",
                MessageContent::Location {
                    latitude: 51.5072,
                    longitude: -0.1276,
                    location_name: "Home",
                    address: "10 Downing Street, London SW1A 2AA",
                },
            ),
            Content::Email => match kind.direction {
                Direction::Inbound => {
                    ("EMAIL", MessageContent::EmailText { subject: "Where is my order?", content_text: pick(texts, h) })
                }
                Direction::Outbound => (
                    "EMAIL",
                    MessageContent::EmailHtml {
                        subject: "Re: Where is my order?",
                        content_html: format!("<p>{}</p>", pick(texts, h)),
                    },
                ),
            },
        };
        let (author_id, author_type) = match kind.author {
            Author::Customer => (None, "CUSTOMER"),
            Author::Agent => (Some(AGENT_ID), "AGENT"),
            Author::Bot => (Some(BOT_ID), "BOT"),
            Author::System => (None, "SYSTEM"),
        };
        let created_at = created(index);
        let updated_at = match kind.direction {
            Direction::Inbound => created_at,
            Direction::Outbound => {
                created_at.checked_add_signed(chrono::TimeDelta::milliseconds(750)).unwrap_or(created_at)
            }
        };
        Message {
            id: message_id(index),
            from,
            to,
            channel: kind.channel,
            direction: kind.direction.infobip(),
            conversation_id,
            created_at: infobip_instant(created_at, index),
            updated_at: infobip_instant(updated_at, index),
            content_type,
            content,
            author_id,
            author_type,
        }
    }
}

/// Infobip writes instants in several forms (`+00:00`, `+0000`, `Z`); the
/// generated messages use each in turn.
fn infobip_instant(t: DateTime<Utc>, index: usize) -> String {
    let format = match index % 3 {
        0 => "%Y-%m-%dT%H:%M:%S%.3f+00:00",
        1 => "%Y-%m-%dT%H:%M:%S%.3f+0000",
        _ => "%Y-%m-%dT%H:%M:%S%.3fZ",
    };
    t.format(format).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_sort_like_their_index() {
        let ids: Vec<String> = (0..300).map(message_id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        assert_eq!(index_of(&ids[123]), Some(123));
        assert_eq!(index_of("4461ea29-c09e-4ba8-a751-df86cf0a0eb9"), None);
    }
}
