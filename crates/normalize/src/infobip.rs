//! Infobip: `messages[]` of Conversations (CCaaS) "Get messages".
//!
//! An Infobip message names its two sides by address only: `from` is the
//! sender's and `to` the recipient's address on the channel. `authorType`
//! and `authorId` say who wrote it, when Infobip sends them. Infobip's
//! message carries no delivery status, so `status` stays null. What
//! `content` holds depends on `contentType`; a content type this mapping does
//! not know, or a known one whose content lacks what the type needs (a TEXT
//! without a `text` string, a media message without a `url`), is kept as
//! [`Content::Unknown`] with Infobip's content object, so nothing is lost.

use convo_infobip::types;
use convo_infobip::{AuthorType, Captured, Channel as InfobipChannel, ContentType, Direction as InfobipDirection};
use serde_json::Value;

use crate::model::*;

/// Normalizes one raw Infobip page (`{"messages": [...], "pagination": {...}}`).
pub(crate) fn page(body: &str) -> Result<Vec<Message>, crate::PageError> {
    let page: Page = crate::page::decode(Vendor::Infobip, body)?;
    // (As the client's paging: no list holds none only where the count says.)
    let counted = page.pagination.as_ref().is_some_and(|p| p.total_items.is_some());
    match page.messages {
        None if !counted => {
            Err(crate::PageError::no_list(Vendor::Infobip, "a `messages` list or `pagination.totalItems`", body))
        }
        messages => Ok(messages.map(|m| m.0).unwrap_or_default()),
    }
}

/// `types::MessageList`, field for field, its messages mapped as they are read.
#[derive(serde::Deserialize)]
struct Page {
    messages: Option<crate::page::Normalized<Infobip>>,
    pagination: Option<types::Pagination>,
}

struct Infobip;

impl crate::page::Mapping for Infobip {
    type Raw = types::Message;
    fn map(message: Captured<types::Message>) -> Message {
        from_infobip(message)
    }
}

/// Maps one Infobip message.
pub fn from_infobip(message: Captured<types::Message>) -> Message {
    let (m, raw) = message.into_parts();
    let m = match m {
        Ok(m) => m,
        Err(error) => return Message::undecodable(Vendor::Infobip, "id", error, raw),
    };
    let channel = m.channel.as_ref().map(channel);
    let direction = m.direction.as_ref().map(direction);
    let is_email =
        matches!(m.channel, Some(InfobipChannel::Email)) || matches!(m.content_type, Some(ContentType::Email));
    let kind = if is_email { Kind::Email } else { Kind::Message };
    let address_type = m.channel.as_ref().map(address_type);

    let role = match (&m.author_type, &direction) {
        (Some(author), _) => Some(role(author)),
        (None, Some(Direction::Inbound)) => Some(Role::Customer),
        (None, _) => None,
    };
    let recipients: Vec<Participant> =
        m.to.into_iter()
            .map(|to| Participant {
                id: None,
                address: Some(to),
                address_type: address_type.clone(),
                name: None,
                // The other side of an outbound message is the customer.
                role: matches!(direction, Some(Direction::Outbound)).then_some(Role::Customer),
            })
            .collect();
    let sender = Participant {
        id: m.author_id,
        address_type: m.from.as_ref().and(address_type),
        address: m.from,
        name: None,
        role,
    };
    let sender = (!sender.is_empty()).then_some(sender);

    let Mapped { content, text, subject, attachments } = content(m.content_type.as_ref(), m.content);
    Message {
        vendor: Vendor::Infobip,
        id: Some(m.id),
        conversation_id: m.conversation_id,
        channel,
        direction,
        kind: Some(kind),
        created_at: m.created_at.map(|t| t.utc()),
        updated_at: m.updated_at.map(|t| t.utc()),
        status: None,
        sender,
        recipients,
        text,
        subject,
        attachments,
        content,
        decode_error: None,
        raw,
    }
}

fn channel(channel: &InfobipChannel) -> Channel {
    match channel {
        InfobipChannel::Sms => Channel::Sms,
        InfobipChannel::Whatsapp => Channel::Whatsapp,
        InfobipChannel::Viber | InfobipChannel::ViberBot => Channel::Viber,
        InfobipChannel::FacebookMessenger => Channel::FacebookMessenger,
        InfobipChannel::InstagramMessaging => Channel::Instagram,
        InfobipChannel::Telegram => Channel::Telegram,
        InfobipChannel::Line => Channel::Line,
        InfobipChannel::Rcs => Channel::Rcs,
        InfobipChannel::LiveChat => Channel::LiveChat,
        InfobipChannel::Email => Channel::Email,
        InfobipChannel::GoogleBusinessMessages => Channel::GoogleBusinessMessages,
        InfobipChannel::AppleBusinessChat => Channel::AppleBusinessChat,
        InfobipChannel::KakaoSangdam => Channel::Kakao,
        InfobipChannel::TwitterDm => Channel::TwitterDm,
        // A value the page does not document keeps Infobip's literal: no
        // guess at what it is.
        other => Channel::Other(other.as_str().to_owned()),
    }
}

fn direction(direction: &InfobipDirection) -> Direction {
    match direction {
        InfobipDirection::Inbound => Direction::Inbound,
        InfobipDirection::Outbound => Direction::Outbound,
        other => Direction::Other(other.as_str().to_owned()),
    }
}

fn role(author: &AuthorType) -> Role {
    match author {
        AuthorType::Customer => Role::Customer,
        AuthorType::Agent => Role::Agent,
        AuthorType::Bot => Role::Bot,
        AuthorType::System => Role::System,
        other => Role::Other(other.as_str().to_owned()),
    }
}

/// What kind of address `from` and `to` are on `channel`: a phone number on
/// the phone-number channels, an e-mail address on e-mail, and otherwise the
/// channel's own user id, named by the channel (`telegram`, `live_chat`, or
/// Infobip's literal for a channel with no unified name).
fn address_type(channel: &InfobipChannel) -> String {
    match channel {
        InfobipChannel::Sms | InfobipChannel::Whatsapp | InfobipChannel::Viber | InfobipChannel::Rcs => {
            "phone_number".to_owned()
        }
        InfobipChannel::Email => "email".to_owned(),
        other => self::channel(other).as_str().to_owned(),
    }
}

/// The content of one message and what is read from it.
struct Mapped {
    content: Content,
    text: Option<String>,
    subject: Option<String>,
    attachments: Vec<Attachment>,
}

impl Mapped {
    fn content(content: Content) -> Self {
        Self { content, text: None, subject: None, attachments: Vec::new() }
    }
}

fn content(content_type: Option<&ContentType>, content: Option<convo_infobip::Content>) -> Mapped {
    let Some(content) = content else {
        return Mapped::content(Content::Empty);
    };
    let unknown = |vendor_type: &str, content: convo_infobip::Content| {
        Mapped::content(Content::Unknown {
            vendor_type: vendor_type.to_owned(),
            value: Value::Object(content.into_map()),
        })
    };
    let Some(content_type) = content_type else {
        // Content with no `contentType` cannot be read by its type.
        return unknown("", content);
    };
    match content_type {
        ContentType::Text => match content.text() {
            Some(_) => {
                // Moved out of the object, which nothing reads after.
                let text = match content.into_map().remove("text") {
                    Some(Value::String(text)) => text,
                    // Not reached: `text()` read a string there.
                    _ => String::new(),
                };
                Mapped { text: Some(text.clone()), ..Mapped::content(Content::Text { text }) }
            }
            None => unknown(content_type.as_str(), content),
        },
        ContentType::Image | ContentType::Video | ContentType::Audio | ContentType::Document => {
            let Some(url) = content.url() else {
                return unknown(content_type.as_str(), content);
            };
            let caption = content.caption().map(str::to_owned);
            let attachment = Attachment {
                content_type: Some(content_type.as_str().to_ascii_lowercase()),
                caption: caption.clone(),
                ..Attachment::url(url)
            };
            Mapped {
                content: Content::Media { media: vec![attachment.clone()], text: caption.clone() },
                text: caption,
                subject: None,
                attachments: vec![attachment],
            }
        }
        ContentType::Location => Mapped::content(Content::Location {
            latitude: content.latitude(),
            longitude: content.longitude(),
            name: content.location_name().map(str::to_owned),
            address: content.address().map(str::to_owned),
        }),
        ContentType::Email => {
            let subject = content.subject().map(str::to_owned);
            let text = content.content_text().map(str::to_owned);
            let html = content.content_html().map(str::to_owned);
            Mapped {
                content: Content::Email { subject: subject.clone(), text: text.clone(), html },
                text,
                subject,
                attachments: Vec::new(),
            }
        }
        other => unknown(other.as_str(), content),
    }
}
