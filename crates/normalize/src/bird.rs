//! Bird: `results[]` of "List conversation messages".

use base64::Engine;
use convo_bird::types::{self, ContactIdentifier, Recipient};
use convo_bird::{Body, Captured, MessageStatus, SenderType};
use serde_json::Value;

use crate::model::*;

/// Normalizes one raw Bird page (`{"results": [...], "nextPageToken": ...}`).
pub(crate) fn page(body: &str) -> Result<Vec<Message>, crate::PageError> {
    let page: Page = crate::page::decode(Vendor::Bird, body)?;
    // (As the client's paging: no list holds none only where `total` says.)
    match (page.results, page.total) {
        (None, None) => Err(crate::PageError::no_list(Vendor::Bird, "a `results` list or a `total`", body)),
        (results, _) => Ok(results.map(|m| m.0).unwrap_or_default()),
    }
}

/// `types::MessageList`, field for field (the same types, so the same
/// errors), its messages mapped as they are read.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Page {
    #[serde(rename = "nextPageToken")]
    next_page_token: Option<String>,
    results: Option<crate::page::Normalized<Bird>>,
    total: Option<i64>,
    #[serde(rename = "totalType")]
    total_type: Option<String>,
}

struct Bird;

impl crate::page::Mapping for Bird {
    type Raw = types::Message;
    fn map(message: Captured<types::Message>) -> Message {
        from_bird(message)
    }
}

/// Maps one Bird message.
pub fn from_bird(message: Captured<types::Message>) -> Message {
    let (m, raw) = message.into_parts();
    let mut m = match m {
        Ok(m) => m,
        Err(error) => return Message::undecodable(Vendor::Bird, "id", error, raw),
    };
    let sender_type = m.sender.as_mut().and_then(|s| s.type_.take());
    let direction = match sender_type {
        Some(SenderType::Contact) => Some(Direction::Inbound),
        Some(SenderType::User | SenderType::AccessKey | SenderType::Flow) => Some(Direction::Outbound),
        _ => None,
    };
    let role = sender_type.as_ref().and_then(|t| match t {
        SenderType::Contact => Some(Role::Customer),
        SenderType::User => Some(Role::Agent),
        SenderType::Flow => Some(Role::Bot),
        SenderType::AccessKey => Some(Role::System),
        _ => None,
    });
    // Bird's messages carry no channel; an e-mail identifier says e-mail.
    let identifier_keys = m
        .sender
        .iter()
        .filter_map(|s| s.contact.as_ref())
        .filter_map(|c| c.identifier_key.as_deref())
        .chain(m.recipients.iter().flatten().filter_map(|r| r.identifier_key.as_deref()));
    // An e-mail by its sides' addresses, or by the e-mail headers Bird puts
    // in its `meta` (the page's e-mail sample; a sender's `contact` is
    // optional).
    let has_email_headers =
        m.meta.as_ref().is_some_and(|meta| meta.get("extraInformation").and_then(|e| e.get("email_headers")).is_some());
    let is_email = identifier_keys.into_iter().any(|k| k == "emailaddress") || has_email_headers;

    // The sides are moved out of `m`: nothing reads them after.
    let sender = m.sender.take().map(|s| {
        let (address, address_type) = address(s.contact);
        Participant { id: s.id, address, address_type, name: s.display_name.filter(|n| !n.is_empty()), role }
    });
    let recipients: Vec<Participant> =
        m.recipients.take().into_iter().flatten().map(|r| recipient(r, direction.as_ref())).collect();
    let channel = is_email.then_some(Channel::Email);
    let kind = if is_email { Kind::Email } else { Kind::Message };
    let subject = m.meta.as_ref().and_then(email_subject);

    let (content, text, attachments) = content(m.body, m.template.unwrap_or_default(), is_email, subject.clone());
    Message {
        vendor: Vendor::Bird,
        id: Some(m.id),
        conversation_id: m.conversation_id,
        channel,
        direction,
        kind: Some(kind),
        created_at: m.created_at.map(|t| t.utc()),
        updated_at: m.updated_at.map(|t| t.utc()),
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

fn address(identifier: Option<ContactIdentifier>) -> (Option<String>, Option<String>) {
    let Some(identifier) = identifier else { return (None, None) };
    let address = identifier.platform_address.or(identifier.identifier_value);
    (address, identifier.identifier_key.as_deref().map(address_type))
}

fn address_type(key: &str) -> String {
    match key {
        "emailaddress" => "email".to_owned(),
        "phonenumber" => "phone_number".to_owned(),
        other => other.to_owned(),
    }
}

fn recipient(r: Recipient, direction: Option<&Direction>) -> Participant {
    Participant {
        id: r.id,
        address: r.platform_address.or(r.identifier_value),
        address_type: r.identifier_key.as_deref().map(address_type),
        name: r.contact_annotation.and_then(|a| a.name),
        // Bird's recipients are contacts: the customer, when the message goes out.
        role: matches!(direction, Some(Direction::Outbound)).then_some(Role::Customer),
    }
}

fn status(status: MessageStatus) -> Status {
    match status {
        MessageStatus::Accepted => Status::Accepted,
        MessageStatus::Processing => Status::Pending,
        MessageStatus::Sent => Status::Sent,
        MessageStatus::SendingFailed => Status::Failed,
        MessageStatus::Delivered => Status::Delivered,
        MessageStatus::DeliveryFailed => Status::Undelivered,
        other => Status::Other(other.as_str().to_owned()),
    }
}

/// The subject of an e-mail, from `meta.extraInformation.email_headers`
/// (base64 of a JSON object of header lists: `{"Subject": ["test"]}`).
fn email_subject(meta: &serde_json::Map<String, Value>) -> Option<String> {
    let encoded = meta.get("extraInformation")?.get("email_headers")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let headers: serde_json::Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    let subject = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("subject"))?.1;
    match subject {
        Value::Array(values) => values.first()?.as_str().map(str::to_owned),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The attachments of a media body. An item without a `mediaUrl` points at
/// nothing to fetch and is left out (it stays in `raw`).
fn media(items: Option<&Vec<types::Media>>, default_type: &str) -> Vec<Attachment> {
    items
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some(Attachment {
                url: m.media_url.clone()?,
                content_type: Some(default_type.to_owned()),
                name: None,
                caption: None,
                size: None,
            })
        })
        .collect()
}

fn content(
    body: Option<Body>,
    template: serde_json::Map<String, Value>,
    is_email: bool,
    subject: Option<String>,
) -> (Content, Option<String>, Vec<Attachment>) {
    let Some(body) = body else {
        if template.is_empty() {
            return (Content::Empty, None, Vec::new());
        }
        return (Content::Template { template: Value::Object(template) }, None, Vec::new());
    };
    match body {
        Body::Text(types::TextBody { text: Some(text), .. }) => {
            (Content::Text { text: text.clone() }, Some(text), Vec::new())
        }
        // A text body without its text: kept whole, as an unknown body is.
        text @ Body::Text(_) => {
            let value = serde_json::to_value(&text).unwrap_or(Value::Null);
            (Content::Unknown { vendor_type: text.kind().to_owned(), value }, None, Vec::new())
        }
        Body::Html(h) if is_email => {
            let text = h.text.clone();
            (Content::Email { subject, text: h.text, html: h.html }, text, Vec::new())
        }
        Body::Html(h) => {
            let text = h.text.clone();
            (Content::Html { html: h.html.unwrap_or_default(), text: h.text }, text, Vec::new())
        }
        Body::Image(i) => {
            let media = media(i.images.as_ref(), "image");
            (Content::Media { media: media.clone(), text: None }, None, media)
        }
        Body::Other { kind, body } => {
            (Content::Unknown { vendor_type: kind, value: Value::Object(body) }, None, Vec::new())
        }
        other => {
            // A body kind added to the client after this mapping was written.
            let kind = other.kind().to_owned();
            let value = serde_json::to_value(&other).unwrap_or(Value::Null);
            (Content::Unknown { vendor_type: kind, value }, None, Vec::new())
        }
    }
}
