//! One page of 1,000 messages per vendor, in the vendor's wire form (compact
//! JSON, keys in the vendor's order), built from the shapes of the documented
//! sample (`specs/<vendor>.yaml`) and of `tests/fixtures/<vendor>/`, with ids,
//! texts (escapes and non-ASCII included), timestamps, channels and content
//! types varied per message. Deterministic: the same bytes on every run.
//!
//! Shared by the criterion bench (`benches/normalize.rs`) and by
//! `convo-bench decode` (`crates/bench`), which includes this file by path.

use convo_normalize::Vendor;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// Messages per page.
pub const MESSAGES: usize = 1_000;

/// SplitMix64: deterministic variety from a message's index.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<T: Copy>(choices: &[T], value: u64) -> T {
    choices[(value % choices.len() as u64) as usize]
}

fn uuid(bits: u64) -> String {
    let more = mix(bits);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        bits >> 32,
        (bits >> 16) & 0xffff,
        bits & 0xfff,
        8 + (more >> 62),
        (more >> 40) & 0xfff,
        more & 0xffff_ffff_ffff
    )
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A 20-character id like LeadConnector's (`ve9EPM428h8vShlRW1KT`).
fn base62_id(bits: u64) -> String {
    let digits = |mut value: u64| {
        (0..10).map(move |_| {
            let digit = BASE62[(value % 62) as usize];
            value /= 62;
            char::from(digit)
        })
    };
    digits(bits).chain(digits(mix(bits))).collect()
}

/// A time `seconds` after 2024-11-15T09:00:00, with `millis` milliseconds.
fn time(seconds: usize, millis: u64) -> (String, String) {
    let day = 15 + seconds / 86_400;
    let rest = seconds % 86_400;
    let (h, m, s) = (9 + rest / 3600, (rest / 60) % 60, rest % 60);
    let (day, h) = (day + h / 24, h % 24);
    (format!("2024-11-{day:02}T{h:02}:{m:02}:{s:02}"), format!("{:03}", millis % 1000))
}

const CUSTOMER_TEXTS: [&str; 12] = [
    "Hi, I ordered a jacket last week and it has not arrived yet.",
    "My order number is 48213.",
    "Can I change the delivery address?",
    "Thanks, that was quick!",
    "Is the store open on Sunday?",
    "The tracking link does not work for me.",
    "I would like to return the shoes, they are too small. Can you send me a \"return label\"?",
    "Yes, tomorrow morning works.",
    "Could you send me the invoice again?\nThe first one went to spam.",
    "Great, thank you for your help \u{1F642}",
    "Merci beaucoup ! \u{C0} demain.",
    "Hello?",
];

const AGENT_TEXTS: [&str; 12] = [
    "Hello! Thanks for reaching out, let me check that for you.",
    "Your parcel left our warehouse yesterday and should arrive within two days.",
    "I have updated the delivery address on your order.",
    "You can return the item free of charge within 30 days.",
    "Our store is open on Sundays from 10:00 to 16:00.",
    "Here is a new tracking link: https://example.com/track/48213?utm_source=chat&utm_medium=sms",
    "I have sent the invoice to your e-mail address again.",
    "Is there anything else I can help you with?",
    "Have a great day!",
    "Sorry for the delay, we are looking into it.",
    "Your appointment is confirmed for Tuesday at 14:30.\r\nReply C to cancel.",
    "Please reply STOP to unsubscribe from these messages.",
];

fn text(inbound: bool, h: u64) -> &'static str {
    pick(if inbound { &CUSTOMER_TEXTS } else { &AGENT_TEXTS }, h >> 8)
}

/// JSON whose objects keep their keys in the order written (the vendors'
/// order), unlike `serde_json::Value`, whose map sorts them.
enum J {
    V(Value),
    O(Vec<(&'static str, J)>),
    A(Vec<J>),
}

impl J {
    /// Adds a key at the end of an object.
    fn push(&mut self, key: &'static str, value: impl ToJ) {
        if let J::O(fields) = self {
            fields.push((key, value.j()));
        }
    }

    fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serializes")
    }
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            J::V(value) => value.serialize(s),
            J::O(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            J::A(items) => items.serialize(s),
        }
    }
}

trait ToJ {
    fn j(self) -> J;
}

impl ToJ for J {
    fn j(self) -> J {
        self
    }
}

macro_rules! to_j {
    ($($t:ty),*) => { $(impl ToJ for $t { fn j(self) -> J { J::V(Value::from(self)) } })* };
}
to_j!(&str, String, u64, usize, f64, bool, Value);

/// An object, keys in the order given.
macro_rules! obj {
    ($($key:literal : $value:expr),* $(,)?) => { J::O(vec![$(($key, ToJ::j($value))),*]) };
}

/// An array.
macro_rules! arr {
    ($($value:expr),* $(,)?) => { J::A(vec![$(ToJ::j($value)),*]) };
}

const NULL: Value = Value::Null;

/// Infobip: `{"messages": [...], "pagination": {...}}`, shaped like the
/// spec's sample and `tests/fixtures/infobip/every-content-type.json`.
fn infobip_page() -> Vec<u8> {
    let conversation = "4461ea29-c09e-4ba8-a751-df86cf0a0eb9";
    let messages: Vec<J> = (0..MESSAGES)
        .map(|i| {
            let h = mix(0x1F0B ^ i as u64);
            let inbound = h.is_multiple_of(2);
            let channel = pick(
                &["SMS", "SMS", "WHATSAPP", "WHATSAPP", "WHATSAPP", "VIBER", "FACEBOOK_MESSENGER", "LIVE_CHAT", "TELEGRAM", "EMAIL"],
                h >> 4,
            );
            let (customer, business) = match channel {
                "EMAIL" => ("kim@customer.example", "support@shop.example"),
                "FACEBOOK_MESSENGER" => ("6543210987654321", "1234567890"),
                "LIVE_CHAT" => ("c7f9a0e2-livechat-visitor", "widget-42"),
                "TELEGRAM" => ("tg-5550001", "tg-bot-42"),
                _ => ("447492263899", "447496389711"),
            };
            let (from, to) = if inbound { (customer, business) } else { (business, customer) };
            let (content_type, content) = if channel == "EMAIL" {
                if inbound {
                    ("EMAIL", obj! {"subject": "Re: Your order 1042", "contentText": text(true, h)})
                } else {
                    let html = format!("<p>{}</p><p>Kind regards,<br>Shop support</p>", text(false, h));
                    ("EMAIL", obj! {"subject": "Your order 1042", "contentHtml": html})
                }
            } else {
                match (h >> 12) % 20 {
                    0 => ("IMAGE", obj! {"url": format!("https://media.example/photos/IMG_{i:05}.jpg"), "caption": "Your parcel, packed"}),
                    1 => ("DOCUMENT", obj! {"url": format!("https://media.example/invoices/invoice-{i}.pdf"), "caption": format!("Invoice {i}")}),
                    2 => ("VIDEO", obj! {"url": format!("https://media.example/video/unboxing-{i}.mp4")}),
                    3 => (
                        "LOCATION",
                        obj! {"latitude": 45.815 + (i as f64) * 1e-4, "longitude": 15.9819, "locationName": "Home", "address": "Trg bana Jelačića 1, Zagreb"},
                    ),
                    _ => ("TEXT", obj! {"text": text(inbound, h)}),
                }
            };
            let (date, millis) = time(i * 37, h >> 20);
            // The sample's `+00:00`, and the `+0000` and `Z` the live API
            // also sends (specs/infobip.yaml, `createdAt`).
            let offset = pick(&["+00:00", "+0000", "Z"], h >> 28);
            let mut m = obj! {
                "id": uuid(h),
                "from": from,
                "to": to,
                "channel": channel,
                "direction": if inbound { "INBOUND" } else { "OUTBOUND" },
                "conversationId": conversation,
                "createdAt": format!("{date}.{millis}{offset}"),
                "updatedAt": format!("{date}.{millis}{offset}"),
                "contentType": content_type,
                "content": content,
            };
            if !inbound {
                let author = pick(&["agent-7", "agent-12", "bot-1"], h >> 24);
                m.push("authorId", author);
                m.push("authorType", if author == "bot-1" { "BOT" } else { "AGENT" });
            } else if h.is_multiple_of(3) {
                m.push("authorType", "CUSTOMER");
            }
            m
        })
        .collect();
    obj! {
        "messages": J::A(messages),
        "pagination": obj! {"totalItems": 10_000u64, "page": 0u64, "limit": MESSAGES, "orderBy": "createdAt:ASC"},
    }
    .bytes()
}

/// Octopush: a bare array, shaped like the spec's sample and
/// `tests/fixtures/octopush/facebook-agent-assigned.json`.
fn octopush_page() -> Vec<u8> {
    let messages: Vec<J> = (0..MESSAGES)
        .map(|i| {
            let h = mix(0x0C70 ^ i as u64);
            let inbound = h.is_multiple_of(2);
            let channel = pick(&["sms", "sms", "sms", "rcs", "whatsapp", "facebook"], h >> 4);
            let status = if inbound {
                NULL
            } else {
                Value::from(pick(&["sending", "sent", "delivered", "delivered", "read", "not_delivered"], h >> 8))
            };
            let facebook = channel == "facebook";
            let agent = if h.is_multiple_of(4) {
                J::V(NULL)
            } else {
                obj! {"id": 40 + (h >> 16) % 5, "name": pick(&["Camille Martin", "Hugo Bernard", "Léa Petit"], h >> 20)}
            };
            let or_null = |yes: bool, value: &str| if yes { Value::from(value) } else { NULL };
            obj! {
                "message_id": uuid(h),
                "text": text(inbound, h),
                "direction": if inbound { "inbound" } else { "outbound" },
                "delivery_status": status,
                "channel": channel,
                "user_identifier": "acc_5f1e2d3c",
                "user_identifiers": obj! {
                    "phone_number": or_null(!facebook, "+33700000001"),
                    "email": "support@boutique.example",
                    "facebook_page_id": or_null(facebook, "104857600123456"),
                },
                "agent_assigned_to": agent,
                "contact_name": "Jeanne Dupont",
                "contact_identifiers": obj! {
                    "phone_number": "+33612345678",
                    "email": or_null(h.is_multiple_of(3), "jeanne.dupont@example.com"),
                    "facebook_id": or_null(facebook, "6234567890123456"),
                },
            }
        })
        .collect();
    J::A(messages).bytes()
}

/// LeadConnector: `{"lastMessageId", "nextPage", "messages": [...]}`, shaped
/// like the spec's sample and `tests/fixtures/leadconnector/*.json`. Newest
/// first, as LeadConnector lists them.
fn leadconnector_page() -> Vec<u8> {
    let conversation = base62_id(mix(0xC0));
    let location = base62_id(mix(0x10C));
    let contact = base62_id(mix(0xC7));
    let mut last_id = String::new();
    let messages: Vec<J> = (0..MESSAGES)
        .rev()
        .map(|i| {
            let h = mix(0x1EAD ^ i as u64);
            let inbound = h.is_multiple_of(2);
            let id = base62_id(h);
            last_id.clone_from(&id);
            let (date, millis) = time(i * 41, h >> 20);
            // What kind of row: (type, messageType, contentType, body).
            let body = text(inbound, h).to_owned();
            let (kind, message_type, content_type, body) = match (h >> 12) % 25 {
                0 => (1u64, "TYPE_CALL", "text/plain", None),
                1 => (3, "TYPE_EMAIL", "text/html", Some(format!("<p>Hello Kim,</p><p>{}</p>", text(false, h)))),
                2 => (19, "TYPE_WHATSAPP", "text/plain", Some(body)),
                3 => {
                    (28, "TYPE_ACTIVITY_OPPORTUNITY", "text/plain", Some("Opportunity created: Roof repair".to_owned()))
                }
                _ => (2, "TYPE_SMS", "text/plain", Some(body)),
            };
            let inbound = inbound && kind != 28;
            let mut m = obj! {"id": id};
            if kind == 19 {
                m.push("altId", format!("wamid.HBgLMzE2MTIzNDU2NzgVAgARGBI{h:016X}"));
            }
            m.push("type", kind);
            m.push("messageType", message_type);
            m.push("locationId", location.as_str());
            m.push("contactId", contact.as_str());
            m.push("conversationId", conversation.as_str());
            m.push("dateAdded", format!("{date}.{millis}Z"));
            if let Some(body) = body {
                m.push("body", body);
            }
            m.push("direction", if inbound { "inbound" } else { "outbound" });
            if kind == 1 {
                m.push("status", "completed");
            } else if !inbound {
                m.push("status", pick(&["sent", "delivered", "delivered", "read"], h >> 8));
            }
            m.push("contentType", content_type);
            if kind == 2 && (h >> 40).is_multiple_of(12) {
                m.push("attachments", arr![format!("https://storage.example/mms/IMG_{i:04}.JPEG")]);
            }
            match kind {
                1 => m.push("meta", obj! {"callDuration": (h >> 32) % 600, "callStatus": "completed"}),
                3 => m.push(
                    "meta",
                    obj! {"email": obj! {"messageIds": arr![format!("em-{i}")], "subject": "Your quote"}},
                ),
                _ => {}
            }
            if !inbound {
                m.push("source", if kind == 28 { "workflow" } else { pick(&["app", "workflow", "api"], h >> 16) });
                m.push("userId", "ve9EPM428kjkvShlRW1KT");
            }
            if h.is_multiple_of(7) {
                m.push("conversationProviderId", "ve9EPM428kjkvShlRW1KT");
            }
            m
        })
        .collect();
    obj! {"lastMessageId": last_id, "nextPage": true, "messages": J::A(messages)}.bytes()
}

/// Bird: `{"results": [...], "nextPageToken": ...}`, shaped like the spec's
/// sample and `tests/fixtures/bird/every-body-type.json`. Newest first.
fn bird_page() -> Vec<u8> {
    let conversation = "16e1df9e-c6ac-406b-b1ce-13f34d0dea08";
    let contact_id = "8f0b5377-2edc-4116-a8e8-6a475f245a04";
    let messages: Vec<J> = (0..MESSAGES)
        .rev()
        .map(|i| {
            let h = mix(0xB12D ^ i as u64);
            let inbound = h.is_multiple_of(2);
            let email = (h >> 4).is_multiple_of(10);
            let (key, address) =
                if email { ("emailaddress", "john.doe@example.com") } else { ("phonenumber", "+31612345678") };
            let (date, millis) = time(i * 29, h >> 20);
            let id = uuid(h);
            let sender = if inbound {
                obj! {"id": contact_id, "type": "contact", "status": "active", "displayName": "John Doe", "avatarUrl": "",
                      "contact": obj! {"identifierKey": key, "identifierValue": address, "platformAddress": address}}
            } else {
                let (kind, name) = pick(&[("user", "Agent Ann"), ("flow", "Welcome flow"), ("accessKey", "My first email key")], h >> 8);
                obj! {"id": uuid(mix(h ^ 7)), "type": kind, "status": "active", "displayName": name, "avatarUrl": ""}
            };
            let body = if email && inbound {
                obj! {"type": "html", "html": obj! {"text": format!("{}\r\n", text(true, h)), "html": format!("<p>{}</p>", text(true, h))}}
            } else {
                match (h >> 12) % 20 {
                    0 => obj! {"type": "image", "image": obj! {"text": "Our menu", "images": arr![obj! {"mediaUrl": format!("https://media.example/menu-{i}.png"), "altText": "menu"}]}},
                    1 => obj! {"type": "file", "file": obj! {"files": arr![obj! {"mediaUrl": format!("https://media.example/invoice-{i}.pdf"), "contentType": "application/pdf", "filename": format!("invoice-{i}.pdf")}]}},
                    2 => obj! {"type": "location", "location": obj! {"coordinates": obj! {"latitude": 52.37, "longitude": 4.89}, "location": obj! {"label": "Office", "address": "Dam 1, Amsterdam"}}},
                    _ => obj! {"type": "text", "text": obj! {"text": text(inbound, h)}},
                }
            };
            let mut m = obj! {
                "id": id.as_str(),
                "conversationId": conversation,
                "reference": if inbound { id.as_str() } else { "" },
                "sender": sender,
                "draft": false,
            };
            if !inbound {
                m.push("recipients", arr![obj! {"type": "to", "id": contact_id, "identifierKey": key, "identifierValue": address,
                                                "platformAddress": address, "contactAnnotation": obj! {"name": "John Doe"}}]);
            }
            m.push("status", pick(&["delivered", "delivered", "sent", "accepted", "read"], h >> 16));
            m.push("source", if inbound { "channels" } else { "conversations" });
            m.push("body", body);
            m.push("interactions", NULL);
            m.push("createdAt", format!("{date}.{millis}Z"));
            m.push("updatedAt", format!("{date}.{millis}Z"));
            if inbound && email {
                // {"Subject":["Where is my order?"]}
                m.push("meta", obj! {"extraInformation": obj! {"email_headers": "eyJTdWJqZWN0IjpbIldoZXJlIGlzIG15IG9yZGVyPyJdfQ=="}});
            }
            if inbound {
                m.push("receiverTypes", arr!["to"]);
            }
            m
        })
        .collect();
    obj! {
        "results": J::A(messages),
        "nextPageToken": "WyIyMDI0LTExLTE1VDEzOjM0OjQ1Ljc3NTYzMDE0OVoiXQ==",
        "total": 10_000u64,
        "totalType": "exact",
    }
    .bytes()
}

/// Each vendor's page, in a fixed order.
pub fn pages() -> [(Vendor, Vec<u8>); 4] {
    [
        (Vendor::Infobip, infobip_page()),
        (Vendor::Octopush, octopush_page()),
        (Vendor::Leadconnector, leadconnector_page()),
        (Vendor::Bird, bird_page()),
    ]
}
