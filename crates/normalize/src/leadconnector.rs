//! LeadConnector (HighLevel): `messages[]` of "Get messages by conversation
//! id", in the documented flat page or the live API's nested one.
//!
//! Everything keys on `messageType`: the numeric `type` has no official
//! table. A `TYPE_` prefix is dropped and case is ignored when matching, so
//! the page's own example value `SMS` reads as `TYPE_SMS` does; a value that
//! matches nothing is kept as the vendor's literal. Only where there is no
//! `messageType` are the codes the page itself names read: 3 an e-mail, 1
//! and 10 calls and voicemails (it does not say which is which). An
//! internal comment is its user's, with no recipient, whatever its
//! `direction` says: it is between agents.

use convo_leadconnector::types::{self, CallDuration, MessageMeta};
use convo_leadconnector::{Captured, MessageDirection, MessageSource, MessageStatus, MessagesResponse};

use crate::model::*;

/// Normalizes one raw LeadConnector page, flat
/// (`{"lastMessageId", "nextPage", "messages": [...]}`) or nested
/// (`{"messages": {"lastMessageId", "nextPage", "messages": [...]}, "traceId"}`).
pub(crate) fn page(body: &str) -> Result<Vec<Message>, crate::PageError> {
    let response: MessagesResponse = crate::page::decode(Vendor::Leadconnector, body)?;
    // (As the client's paging: no list holds none only on a last page.)
    if response.page().is_none_or(|page| page.messages.is_none()) && response.next_page() != Some(false) {
        return Err(crate::PageError::no_list(Vendor::Leadconnector, "a `messages` list or `nextPage: false`", body));
    }
    Ok(response.into_page().messages.unwrap_or_default().into_iter().map(from_leadconnector).collect())
}

/// Maps one LeadConnector message (or call, e-mail, activity row or internal
/// comment).
pub fn from_leadconnector(message: Captured<types::Message>) -> Message {
    let (m, raw) = message.into_parts();
    let mut m = match m {
        Ok(m) => m,
        Err(error) => return Message::undecodable(Vendor::Leadconnector, "id", error, raw),
    };
    let message_type = m.message_type.as_ref().map_or("", |t| t.as_str());
    let (channel, kind) = match (message_type.trim(), m.type_) {
        // No `messageType` to key on: the page's own numeric codes, where it
        // names them ("message type 3 (email)"; "Call and Voicemails, type 1
        // and 10", which does not say which is which: no channel).
        ("", Some(code)) if code == 3.0 => (Some(Channel::Email), Kind::Email),
        ("", Some(code)) if code == 1.0 || code == 10.0 => (None, Kind::Call),
        _ => classify(message_type),
    };
    let direction = m.direction.as_ref().map(|direction| match direction {
        MessageDirection::Inbound => Direction::Inbound,
        MessageDirection::Outbound => Direction::Outbound,
        other => Direction::Other(other.as_str().to_owned()),
    });
    // The two ids are moved out: nothing else reads them.
    let (sender, recipients) =
        participants(m.contact_id.take(), m.user_id.take(), m.source.as_ref(), direction.as_ref(), kind);

    // An empty body is treated as no body: it carries nothing to read.
    let body = m.body.filter(|b| !b.is_empty());
    let attachments: Vec<Attachment> = m.attachments.iter().flatten().map(|url| attachment(url)).collect();
    let subject = match kind {
        Kind::Email => m.meta.as_ref().and_then(|meta| meta.email.as_ref()).and_then(|e| e.subject.clone()),
        _ => None,
    };
    let (content, text) = match kind {
        Kind::Call => (call(m.meta.as_ref()), body),
        Kind::Email => {
            let is_html = m.content_type.as_deref().is_some_and(is_html);
            let (text, html) = if is_html { (None, body) } else { (body, None) };
            (Content::Email { subject: subject.clone(), text: text.clone(), html }, text)
        }
        Kind::Activity => (Content::Activity { activity: message_type.to_owned(), text: body.clone() }, body),
        Kind::Message | Kind::Comment => match body {
            _ if !attachments.is_empty() => (Content::Media { media: attachments.clone(), text: body.clone() }, body),
            Some(text) => (Content::Text { text: text.clone() }, Some(text)),
            None => (Content::Empty, None),
        },
    };

    Message {
        vendor: Vendor::Leadconnector,
        id: Some(m.id),
        conversation_id: m.conversation_id,
        channel,
        direction,
        kind: Some(kind),
        created_at: m.date_added.map(|t| t.utc()),
        updated_at: None,
        status: m.status.map(status),
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

/// The channel and kind a `messageType` says, with the `TYPE_` prefix
/// dropped and case ignored. Activity rows and internal comments are no
/// channel's messages: they get none (their kind says what they are, and
/// `raw` keeps the literal). An unknown type keeps the vendor's literal as
/// its channel; an empty `messageType` says nothing, so it gives no channel.
fn classify(message_type: &str) -> (Option<Channel>, Kind) {
    // Upper-cased on the stack: every known type is short, and this runs
    // once a message.
    let mut buffer = [0u8; 48];
    let trimmed = message_type.trim();
    let upper: std::borrow::Cow<'_, str> = match buffer.get_mut(..trimmed.len()) {
        Some(bytes) => {
            bytes.copy_from_slice(trimmed.as_bytes());
            bytes.make_ascii_uppercase();
            // ASCII case changes keep UTF-8 valid.
            std::borrow::Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default())
        }
        None => std::borrow::Cow::Owned(trimmed.to_ascii_uppercase()),
    };
    let key = upper.strip_prefix("TYPE_").unwrap_or(&upper);
    let (channel, kind) = match key {
        "SMS"
        | "CAMPAIGN_SMS"
        | "CUSTOM_SMS"
        | "CUSTOM_PROVIDER_SMS"
        | "SMS_REVIEW_REQUEST"
        | "SMS_NO_SHOW_REQUEST"
        | "CAMPAIGN_MANUAL_SMS" => (Channel::Sms, Kind::Message),
        "CALL" | "CAMPAIGN_CALL" | "CAMPAIGN_MANUAL_CALL" | "IVR_CALL" | "CUSTOM_CALL" => (Channel::Call, Kind::Call),
        "CAMPAIGN_VOICEMAIL" => (Channel::Voicemail, Kind::Call),
        "EMAIL" | "CAMPAIGN_EMAIL" | "CUSTOM_EMAIL" | "CUSTOM_PROVIDER_EMAIL" => (Channel::Email, Kind::Email),
        "WEBCHAT" => (Channel::Webchat, Kind::Message),
        "FACEBOOK" | "CAMPAIGN_FACEBOOK" => (Channel::FacebookMessenger, Kind::Message),
        "FACEBOOK_COMMENT" => (Channel::FacebookComment, Kind::Message),
        "INSTAGRAM" => (Channel::Instagram, Kind::Message),
        "INSTAGRAM_COMMENT" => (Channel::InstagramComment, Kind::Message),
        "GMB" | "CAMPAIGN_GMB" => (Channel::GoogleBusinessMessages, Kind::Message),
        "WHATSAPP" => (Channel::Whatsapp, Kind::Message),
        "LIVE_CHAT" | "LIVE_CHAT_INFO_MESSAGE" => (Channel::LiveChat, Kind::Message),
        "REVIEW" => (Channel::Review, Kind::Message),
        _ => {
            return match key {
                // The request's `type` filter spells the same kind in the plural.
                "INTERNAL_COMMENT" | "INTERNAL_COMMENTS" => (None, Kind::Comment),
                _ if key.starts_with("ACTIVITY_") => (None, Kind::Activity),
                _ => ((!message_type.is_empty()).then(|| Channel::Other(message_type.to_owned())), Kind::Message),
            };
        }
    };
    (Some(channel), kind)
}

fn status(status: MessageStatus) -> Status {
    match status {
        MessageStatus::Pending => Status::Pending,
        MessageStatus::Scheduled => Status::Scheduled,
        MessageStatus::Sent => Status::Sent,
        MessageStatus::Delivered => Status::Delivered,
        MessageStatus::Undelivered => Status::Undelivered,
        MessageStatus::Read => Status::Read,
        MessageStatus::Opened => Status::Opened,
        MessageStatus::Clicked => Status::Clicked,
        MessageStatus::Failed => Status::Failed,
        MessageStatus::OptOut => Status::OptOut,
        MessageStatus::Connected => Status::Connected,
        other => Status::Other(other.as_str().to_owned()),
    }
}

/// The sender and recipients. The contact is the customer; the user side is
/// the agent (`userId`) or, for a message an automation sent without a user,
/// the system. An inbound message goes from the contact to the user side (if
/// known); an outbound one the other way. An internal comment is not sent to
/// the contact, so it has no recipients; a direction LeadConnector did not
/// document, or none, says neither who sent nor who received.
fn participants(
    contact_id: Option<String>,
    user_id: Option<String>,
    source: Option<&MessageSource>,
    direction: Option<&Direction>,
    kind: Kind,
) -> (Option<Participant>, Vec<Participant>) {
    let contact = Participant { id: contact_id, role: Some(Role::Customer), ..Participant::default() };
    let user = match (user_id, source) {
        (Some(user_id), _) => {
            Some(Participant { id: Some(user_id), role: Some(Role::Agent), ..Participant::default() })
        }
        (
            None,
            Some(MessageSource::Workflow | MessageSource::Campaign | MessageSource::BulkActions | MessageSource::Api),
        ) => Some(Participant { id: None, role: Some(Role::System), ..Participant::default() }),
        (None, _) => None,
    };
    match direction {
        // A comment is between agents: never from, nor to, the contact,
        // whatever its direction says.
        _ if kind == Kind::Comment => (user, Vec::new()),
        Some(Direction::Inbound) => (Some(contact), user.into_iter().collect()),
        Some(Direction::Outbound) => (user, vec![contact]),
        _ => (None, Vec::new()),
    }
}

/// A call's content: the documented `meta.callDuration` / `meta.callStatus`,
/// else the live API's `meta.call {duration, status}`.
fn call(meta: Option<&MessageMeta>) -> Content {
    let call = meta.and_then(|meta| meta.call.as_ref());
    let documented = meta.and_then(|meta| meta.call_duration.as_ref()).and_then(|duration| match duration {
        CallDuration::String(text) => seconds_text(text),
        CallDuration::Number(value) => seconds(*value),
    });
    let duration_seconds = documented.or_else(|| call.and_then(|c| c.duration).and_then(seconds));
    let status = meta
        .and_then(|meta| meta.call_status.as_ref())
        .or_else(|| call.and_then(|c| c.status.as_ref()))
        .map(|s| s.as_str().to_owned());
    Content::Call { duration_seconds, status }
}

/// Whole seconds from a duration sent as text (`"120"`, `"12.5"`).
fn seconds_text(text: &str) -> Option<u64> {
    let text = text.trim();
    text.parse::<u64>().ok().or_else(|| text.parse::<f64>().ok().and_then(seconds))
}

/// Whole seconds (rounded) from a duration sent as a number; nothing for a
/// negative or non-finite one.
fn seconds(value: f64) -> Option<u64> {
    // The cast saturates at u64::MAX, which no real call reaches.
    (value.is_finite() && value >= 0.0).then(|| value.round() as u64)
}

/// Whether a `contentType` names HTML (`text/html`, with or without
/// parameters).
fn is_html(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("text/html")
}

fn attachment(url: &str) -> Attachment {
    Attachment { content_type: content_type_of(url).map(str::to_owned), ..Attachment::url(url) }
}

/// The MIME type an attachment URL's file extension makes obvious; nothing
/// for any other URL.
fn content_type_of(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or_default();
    let (stem, extension) = file.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    Some(match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obvious_extensions_give_a_content_type_and_nothing_else_does() {
        assert_eq!(content_type_of("https://x.test/a/photo.JPG?token=1.png"), Some("image/jpeg"));
        assert_eq!(content_type_of("https://x.test/doc.pdf#page=2"), Some("application/pdf"));
        assert_eq!(content_type_of("https://x.test/file"), None);
        assert_eq!(content_type_of("https://x.test/.png"), None);
        assert_eq!(content_type_of("https://x.test/archive.tar.gz"), None);
        assert_eq!(content_type_of("https://files.example.png/download"), None);
    }

    #[test]
    fn durations_read_as_whole_seconds() {
        assert_eq!(seconds_text("120"), Some(120));
        assert_eq!(seconds_text(" 12.5 "), Some(13));
        assert_eq!(seconds_text("soon"), None);
        assert_eq!(seconds_text("-3"), None);
        assert_eq!(seconds(f64::NAN), None);
        assert_eq!(seconds(42.0), Some(42));
    }

    #[test]
    fn html_content_types_are_recognized_with_parameters() {
        assert!(is_html("text/html"));
        assert!(is_html("TEXT/HTML; charset=utf-8"));
        assert!(!is_html("text/plain"));
    }
}
