//! Octopush: `GET /v1/public/conversations/messages/list`.
//!
//! Headers `api-key` and `api-login`; pages by number from 1 (`page`,
//! `per_page` default 50); the conversation is selected by
//! `conversation_id` (`cid_{uuid}`), `phone_number`, `email`,
//! `facebook_id` (`fid_{id}`) or `contact` (any of those values). The body
//! is a bare array with no paging envelope and no timestamps: the last page
//! is the one shorter than `per_page`, or empty. Like Octopush, the sandbox
//! never refuses a parameter: a value it cannot read is replaced by the
//! default, and a selector that matches nothing gives `[]`.

use hyper::{Method, StatusCode};
use serde::Serialize;

use super::{Conversation, Item};
use crate::generate::{AGENT_TEXTS, CUSTOMER_TEXTS, hash, pick};
use crate::http::{Call, PageFault, Reply, reason};
use crate::samples::Sample;
use crate::select::Selection;
use crate::{Vendor, credentials, ids};

const SALT: u64 = 0x0C70;
const DEFAULT_PER_PAGE: usize = 50;

pub(crate) struct Octopush {
    sample: &'static Sample,
}

impl Octopush {
    pub fn new(sample: &'static Sample) -> Octopush {
        Octopush { sample }
    }

    pub fn handle(&self, call: &Call<'_>) -> Reply {
        if call.path != "/v1/public/conversations/messages/list" {
            return status(StatusCode::NOT_FOUND);
        }
        if call.method != Method::GET {
            return status(StatusCode::METHOD_NOT_ALLOWED);
        }
        if call.header("api-login") != Some(credentials::OCTOPUSH_API_LOGIN)
            || call.header("api-key") != Some(credentials::OCTOPUSH_API_KEY)
        {
            return status(StatusCode::UNAUTHORIZED);
        }
        let page = lenient_number(call.query.get("page")).unwrap_or(1);
        let per_page = lenient_number(call.query.get("per_page")).unwrap_or(DEFAULT_PER_PAGE);
        let Some(conversation) = self.select(call) else {
            return Reply::json(StatusCode::OK, &[(); 0]);
        };
        let page = match call.fault {
            Some(PageFault::RepeatCursor) => page.saturating_sub(1).max(1),
            _ => page,
        };
        let selection = Selection { range: 0..conversation.len(), keep: None, descending: false };
        let indices = match call.fault {
            Some(PageFault::EmptyPageWithMore) => Vec::new(),
            _ => (page - 1).checked_mul(per_page).map(|skip| selection.offset(skip, per_page)).unwrap_or_default(),
        };
        let items: Vec<Item<'_, Message>> = indices
            .into_iter()
            .map(|i| match conversation {
                Conversation::Sample(messages) => Item::Sample(&messages[i].value),
                Conversation::Generated(..) => Item::Generated(Message::generate(i)),
            })
            .collect();
        Reply::json(StatusCode::OK, &items)
    }

    /// The conversation every selector given matches; `None` when no
    /// selector is given or they match no conversation. A numbered
    /// conversation has no contact of its own: it is selected by its
    /// `conversation_id` (or that value in `contact`) only.
    fn select<'a>(&self, call: &'a Call<'_>) -> Option<Conversation<'a>> {
        let selectors: Vec<(&str, &str)> = ["conversation_id", "phone_number", "email", "facebook_id", "contact"]
            .into_iter()
            .filter_map(|key| call.query.get(key).map(str::trim).filter(|v| !v.is_empty()).map(|v| (key, v)))
            .collect();
        if selectors.is_empty() {
            return None;
        }
        let sample =
            |key: &str, value: &str| matches!(key, "conversation_id" | "contact") && value == self.sample.conversation;
        if selectors.iter().all(|&(key, value)| sample(key, value)) {
            return Some(Conversation::Sample(&self.sample.messages));
        }
        let generated = |key: &str, value: &str| match key {
            "conversation_id" => value == ids::octopush::GENERATED_CONVERSATION,
            "phone_number" => same_phone(value, ids::octopush::GENERATED_PHONE_NUMBER),
            "email" => value.eq_ignore_ascii_case(ids::octopush::GENERATED_EMAIL),
            "facebook_id" => value == ids::octopush::GENERATED_FACEBOOK_ID,
            _ => {
                value == ids::octopush::GENERATED_CONVERSATION
                    || same_phone(value, ids::octopush::GENERATED_PHONE_NUMBER)
                    || value.eq_ignore_ascii_case(ids::octopush::GENERATED_EMAIL)
                    || value == ids::octopush::GENERATED_FACEBOOK_ID
            }
        };
        if selectors.iter().all(|&(key, value)| generated(key, value)) {
            return call.generated.find(Vendor::Octopush, ids::octopush::GENERATED_CONVERSATION);
        }
        let &(_, id) = selectors.first()?;
        let numbered = |key: &str, value: &str| matches!(key, "conversation_id" | "contact") && value == id;
        match ids::numbered_index(Vendor::Octopush, id) {
            Some(_) if selectors.iter().all(|&(key, value)| numbered(key, value)) => {
                call.generated.find(Vendor::Octopush, id)
            }
            _ => None,
        }
    }
}

/// A whole number of 1 or more, read the way Octopush casts parameters
/// (`"2"`, `" 2 "`, `"2.0"`); `None` for anything else.
fn lenient_number(value: Option<&str>) -> Option<usize> {
    let text = value?.trim();
    let number = match text.parse::<usize>() {
        Ok(n) => n,
        Err(_) => {
            let float: f64 = text.parse().ok()?;
            if !float.is_finite() || float < 1.0 || float > usize::MAX as f64 {
                return None;
            }
            float as usize
        }
    };
    (number >= 1).then_some(number)
}

/// Phone numbers compared by their digits (Octopush drops other characters).
fn same_phone(a: &str, b: &str) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let a = digits(a);
    !a.is_empty() && a == digits(b)
}

/// Octopush's error response for `status`.
pub(crate) fn status(status: StatusCode) -> Reply {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        code: u16,
        message: &'a str,
    }
    let message = match status {
        StatusCode::UNAUTHORIZED => "Authentication failed: wrong api-login or api-key",
        _ => reason(status),
    };
    Reply::json(status, &ErrorBody { code: status.as_u16(), message })
}

// ---- The generated conversation. ----

const ACCOUNT_PHONE: &str = "+33644601234";
const ACCOUNT_EMAIL: &str = "support@shop.example.com";
const FACEBOOK_PAGE: &str = "104857600123456";
const CONTACT_NAME: &str = "Camille Martin";
const AGENT: &str = "lea.dupont@shop.example.com";

struct Kind {
    channel: &'static str,
    inbound: bool,
    delivery_status: Option<&'static str>,
}

const fn k(channel: &'static str, inbound: bool, delivery_status: Option<&'static str>) -> Kind {
    Kind { channel, inbound, delivery_status }
}

/// The generated conversation repeats these kinds of message, in order.
const KINDS: [Kind; 9] = [
    k("sms", true, None),
    k("sms", false, Some("delivered")),
    k("rcs", true, None),
    k("rcs", false, Some("sending")),
    k("facebook", true, None),
    k("facebook", false, Some("delivered")),
    k("sms", false, Some("sent")),
    k("sms", true, None),
    k("sms", false, Some("not_delivered")),
];

/// The `message_id` of generated message `index`.
pub(crate) fn message_id(index: usize) -> String {
    let h = hash(SALT, index);
    crate::generate::uuid((h >> 32) as u32, h)
}

/// A generated message, in the field order of the documented sample.
#[derive(Serialize)]
pub(crate) struct Message {
    message_id: String,
    text: &'static str,
    direction: &'static str,
    delivery_status: Option<&'static str>,
    channel: &'static str,
    user_identifier: &'static str,
    user_identifiers: UserIdentifiers,
    agent_assigned_to: Option<&'static str>,
    contact_name: &'static str,
    contact_identifiers: ContactIdentifiers,
}

#[derive(Serialize)]
struct UserIdentifiers {
    phone_number: Option<&'static str>,
    email: Option<&'static str>,
    facebook_page_id: Option<&'static str>,
}

#[derive(Serialize)]
struct ContactIdentifiers {
    phone_number: Option<&'static str>,
    email: Option<&'static str>,
    facebook_id: Option<&'static str>,
}

impl Message {
    fn generate(index: usize) -> Message {
        let kind = &KINDS[index % KINDS.len()];
        let facebook = kind.channel == "facebook";
        let texts = if kind.inbound { &CUSTOMER_TEXTS } else { &AGENT_TEXTS };
        Message {
            message_id: message_id(index),
            text: pick(texts, hash(SALT, index)),
            direction: if kind.inbound { "inbound" } else { "outbound" },
            delivery_status: kind.delivery_status,
            channel: kind.channel,
            user_identifier: if facebook { FACEBOOK_PAGE } else { ACCOUNT_PHONE },
            user_identifiers: UserIdentifiers {
                phone_number: Some(ACCOUNT_PHONE),
                email: Some(ACCOUNT_EMAIL),
                facebook_page_id: facebook.then_some(FACEBOOK_PAGE),
            },
            agent_assigned_to: (!kind.inbound).then_some(AGENT),
            contact_name: CONTACT_NAME,
            contact_identifiers: ContactIdentifiers {
                phone_number: Some(ids::octopush::GENERATED_PHONE_NUMBER),
                email: Some(ids::octopush::GENERATED_EMAIL),
                facebook_id: ids::octopush::GENERATED_FACEBOOK_ID.strip_prefix("fid_"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_cast_not_refused() {
        assert_eq!(lenient_number(Some("3")), Some(3));
        assert_eq!(lenient_number(Some(" 3 ")), Some(3));
        assert_eq!(lenient_number(Some("3.0")), Some(3));
        assert_eq!(lenient_number(Some("0")), None);
        assert_eq!(lenient_number(Some("-2")), None);
        assert_eq!(lenient_number(Some("many")), None);
        assert_eq!(lenient_number(None), None);
    }

    #[test]
    fn phone_numbers_compare_by_digits() {
        assert!(same_phone("33612345678", "+33612345678"));
        assert!(same_phone("+33 6 12 34 56 78", "+33612345678"));
        assert!(!same_phone("+", "+"));
    }
}
