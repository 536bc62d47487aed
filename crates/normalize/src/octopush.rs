//! Octopush: the bare array of "Retrieve the conversation messages list".
//!
//! Octopush items carry no conversation id and no timestamp, so both stay
//! null. Each item names two sides: the contact (`contact_name`,
//! `contact_identifiers`) and the account side (`user_identifier`,
//! `user_identifiers`, and `agent_assigned_to` when an agent holds the
//! conversation). `direction` says which side sent the message.

use convo_octopush::types;
use convo_octopush::{Captured, Channel as OctopushChannel, DeliveryStatus, Direction as OctopushDirection};
use serde_json::Value;

use crate::model::*;

/// Normalizes one raw Octopush page: a bare JSON array of messages.
pub(crate) fn page(body: &str) -> Result<Vec<Message>, crate::PageError> {
    let messages: crate::page::Normalized<Octopush> = crate::page::decode(Vendor::Octopush, body)?;
    Ok(messages.0)
}

pub(crate) struct Octopush;

impl crate::page::Mapping for Octopush {
    type Raw = types::Message;
    fn map(message: Captured<types::Message>) -> Message {
        from_octopush(message)
    }
}

/// Maps one Octopush message.
pub fn from_octopush(message: Captured<types::Message>) -> Message {
    let (m, raw) = message.into_parts();
    let mut m = match m {
        Ok(m) => m,
        Err(error) => return Message::undecodable(Vendor::Octopush, "message_id", error, raw),
    };
    let preferred = Preferred::for_channel(m.channel.as_ref());
    let contact = contact(&mut m, preferred);
    let account = account(&mut m, preferred);
    let direction = m.direction.as_ref().map(direction);
    // Which side sent the message is only known from the direction; with no
    // known direction neither side is named sender or recipient.
    let (sender, recipients) = match direction {
        Some(Direction::Inbound) => (Some(contact), vec![account]),
        Some(Direction::Outbound) => (Some(account), vec![contact]),
        _ => (None, Vec::new()),
    };
    let content = match &m.text {
        Some(text) => Content::Text { text: text.clone() },
        None => Content::Empty,
    };
    Message {
        vendor: Vendor::Octopush,
        id: Some(m.message_id),
        conversation_id: None,
        channel: m.channel.as_ref().map(channel),
        direction,
        kind: Some(Kind::Message),
        created_at: None,
        updated_at: None,
        status: m.delivery_status.as_ref().map(status),
        sender,
        recipients,
        text: m.text,
        subject: None,
        attachments: Vec::new(),
        content,
        decode_error: None,
        raw,
    }
}

fn channel(channel: &OctopushChannel) -> Channel {
    match channel.as_str() {
        "sms" => Channel::Sms,
        "rcs" => Channel::Rcs,
        // Every value the page does not show keeps
        // their literal; one that already is a unified word (`email`) reads
        // as that word, as the same JSON would deserialize.
        other => Channel::from(other),
    }
}

fn direction(direction: &OctopushDirection) -> Direction {
    match direction.as_str() {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => Direction::from(other),
    }
}

/// The page documents only `sending`; the other statuses matched here are the
/// usual delivery-report words, matched exactly as spelled. Any other value
/// keeps its literal (a unified word such as `sent` reads as that word).
fn status(status: &DeliveryStatus) -> Status {
    match status.as_str() {
        "sending" => Status::Pending,
        "delivered" => Status::Delivered,
        "read" => Status::Read,
        "failed" => Status::Failed,
        "not_delivered" => Status::Undelivered,
        other => Status::from(other),
    }
}

/// Which of a side's identifiers is its address on the message's channel.
#[derive(Debug, Clone, Copy)]
enum Preferred {
    Phone,
    Email,
    Facebook,
}

impl Preferred {
    fn for_channel(channel: Option<&OctopushChannel>) -> Self {
        match channel.map(OctopushChannel::as_str) {
            Some("facebook") => Preferred::Facebook,
            Some("email") => Preferred::Email,
            // sms, rcs, multi_channel and the rest are phone-number channels.
            _ => Preferred::Phone,
        }
    }
}

/// The first non-empty identifier in the channel's order of preference, with
/// its address type (moved out: nothing else reads them).
fn address(
    preferred: Preferred,
    phone_number: Option<String>,
    email: Option<String>,
    facebook: (Option<String>, &'static str),
) -> (Option<String>, Option<String>) {
    let phone_number = (phone_number, "phone_number");
    let email = (email, "email");
    let order = match preferred {
        Preferred::Phone => [phone_number, email, facebook],
        Preferred::Email => [email, phone_number, facebook],
        Preferred::Facebook => [facebook, phone_number, email],
    };
    order
        .into_iter()
        .find_map(|(value, kind)| value.filter(|v| !v.is_empty()).map(|v| (Some(v), Some(kind.to_owned()))))
        .unwrap_or((None, None))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// The contact: the customer side of the conversation. Takes what it reads
/// out of `m`.
fn contact(m: &mut types::Message, preferred: Preferred) -> Participant {
    let ids = m.contact_identifiers.take().unwrap_or_default();
    let (address, address_type) = address(preferred, ids.phone_number, ids.email, (ids.facebook_id, "facebook_id"));
    Participant { id: None, address, address_type, name: non_empty(m.contact_name.take()), role: Some(Role::Customer) }
}

/// The account side: the assigned agent when there is one, else the account
/// itself (`user_identifier`), addressed by `user_identifiers`. Takes what
/// it reads out of `m`.
fn account(m: &mut types::Message, preferred: Preferred) -> Participant {
    let ids = m.user_identifiers.take().unwrap_or_default();
    let (address, address_type) =
        address(preferred, ids.phone_number, ids.email, (ids.facebook_page_id, "facebook_page_id"));
    let user = non_empty(m.user_identifier.take());
    match m.agent_assigned_to.as_ref().and_then(agent) {
        Some(agent) => {
            Participant { id: agent.id.or(user), address, address_type, name: agent.name, role: Some(Role::Agent) }
        }
        None => Participant { id: user, address, address_type, name: None, role: Some(Role::System) },
    }
}

/// What `agent_assigned_to` says of the agent.
struct Agent {
    id: Option<String>,
    name: Option<String>,
}

/// The assigned agent, if `agent_assigned_to` names one. The page only shows
/// `null`, so every shape is read leniently: a non-empty string or a number is
/// the agent's id; an object gives its `id` (string or number) and `name`;
/// any other non-empty object still says an agent is assigned. Null, `""`,
/// `{}`, booleans and arrays name no agent (the value stays in `raw`).
fn agent(value: &Value) -> Option<Agent> {
    let id = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::String(_) | Value::Number(_) => id(value).map(|id| Agent { id: Some(id), name: None }),
        Value::Object(fields) if !fields.is_empty() => Some(Agent {
            id: fields.get("id").and_then(id),
            name: fields.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).map(str::to_owned),
        }),
        _ => None,
    }
}
