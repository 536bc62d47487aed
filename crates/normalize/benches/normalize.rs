//! How long the normalizer takes to read one page, against the cost of
//! merely parsing the same bytes into a `serde_json::Value`.
//!
//! For each vendor, one page of 1,000 messages in the vendor's wire form
//! (compact JSON, as the vendors send it) is built from the shapes of the
//! documented sample (`specs/<vendor>.yaml`) and of `tests/fixtures/<vendor>/`,
//! with ids, texts, timestamps, channels and content types varied per
//! message. Two timings per vendor, on the same bytes:
//!
//! - `normalize_page`: `convo_normalize::normalize_page(vendor, &bytes)`, i.e.
//!   decode into the vendor crate's typed messages, keep each message's raw
//!   JSON, and map it into the unified `Message`.
//! - `serde_json_value`: `serde_json::from_slice::<serde_json::Value>(&bytes)`,
//!   the baseline.
//!
//! Run with `cargo bench -p convo-normalize --bench normalize`; `cargo xtask
//! bench` runs it too and reads the ratios out of `target/criterion`.
//! Nothing here asserts on time.

use std::hint::black_box;

use convo_normalize::{Vendor, normalize_page};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

/// Messages per page.
const MESSAGES: usize = 1_000;

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
fn base62_id(mut bits: u64) -> String {
    (0..20)
        .map(|i| {
            if i == 10 {
                bits = mix(bits);
            }
            let digit = BASE62[(bits % 62) as usize];
            bits /= 62;
            char::from(digit)
        })
        .collect()
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

/// Infobip: `{"messages": [...], "pagination": {...}}`, shaped like the
/// spec's sample and `tests/fixtures/infobip/every-content-type.json`.
fn infobip_page() -> Vec<u8> {
    let conversation = "4461ea29-c09e-4ba8-a751-df86cf0a0eb9";
    let messages: Vec<Value> = (0..MESSAGES)
        .map(|i| {
            let h = mix(0x1F0B ^ i as u64);
            let inbound = h % 2 == 0;
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
                    ("EMAIL", json!({"subject": "Re: Your order 1042", "contentText": text(true, h)}))
                } else {
                    ("EMAIL", json!({"subject": "Your order 1042", "contentHtml": format!("<p>{}</p><p>Kind regards,<br>Shop support</p>", text(false, h))}))
                }
            } else {
                match (h >> 12) % 20 {
                    0 => ("IMAGE", json!({"url": format!("https://media.example/photos/IMG_{i:05}.jpg"), "caption": "Your parcel, packed"})),
                    1 => ("DOCUMENT", json!({"url": format!("https://media.example/invoices/invoice-{i}.pdf"), "caption": format!("Invoice {i}")})),
                    2 => ("VIDEO", json!({"url": format!("https://media.example/video/unboxing-{i}.mp4")})),
                    3 => ("LOCATION", json!({"latitude": 45.815 + (i as f64) * 1e-4, "longitude": 15.9819, "locationName": "Home", "address": "Trg bana Jelačića 1, Zagreb"})),
                    _ => ("TEXT", json!({"text": text(inbound, h)})),
                }
            };
            let (date, millis) = time(i * 37, h >> 20);
            let mut m = json!({
                "id": uuid(h),
                "from": from,
                "to": to,
                "channel": channel,
                "direction": if inbound { "INBOUND" } else { "OUTBOUND" },
                "conversationId": conversation,
                "createdAt": format!("{date}.{millis}+00:00"),
                "updatedAt": format!("{date}.{millis}+00:00"),
                "contentType": content_type,
                "content": content,
            });
            if !inbound {
                m["authorId"] = json!(pick(&["agent-7", "agent-12", "bot-1"], h >> 24));
                m["authorType"] = json!(if m["authorId"] == "bot-1" { "BOT" } else { "AGENT" });
            } else if h % 3 == 0 {
                m["authorType"] = json!("CUSTOMER");
            }
            m
        })
        .collect();
    serde_json::to_vec(&json!({
        "messages": messages,
        "pagination": {"totalItems": 10_000, "page": 0, "limit": MESSAGES, "orderBy": "createdAt:ASC"},
    }))
    .expect("serializes")
}

/// Octopush: a bare array, shaped like the spec's sample and
/// `tests/fixtures/octopush/facebook-agent-assigned.json`.
fn octopush_page() -> Vec<u8> {
    let messages: Vec<Value> = (0..MESSAGES)
        .map(|i| {
            let h = mix(0x0C70 ^ i as u64);
            let inbound = h % 2 == 0;
            let channel = pick(&["sms", "sms", "sms", "rcs", "whatsapp", "facebook"], h >> 4);
            let status = if inbound {
                Value::Null
            } else {
                json!(pick(&["sending", "sent", "delivered", "delivered", "read", "not_delivered"], h >> 8))
            };
            let facebook = channel == "facebook";
            let agent = if h % 4 == 0 { Value::Null } else { json!({"id": 40 + (h >> 16) % 5, "name": pick(&["Camille Martin", "Hugo Bernard", "Léa Petit"], h >> 20)}) };
            json!({
                "message_id": uuid(h),
                "text": text(inbound, h),
                "direction": if inbound { "inbound" } else { "outbound" },
                "delivery_status": status,
                "channel": channel,
                "user_identifier": "acc_5f1e2d3c",
                "user_identifiers": {
                    "phone_number": if facebook { Value::Null } else { json!("+33700000001") },
                    "email": "support@boutique.example",
                    "facebook_page_id": if facebook { json!("104857600123456") } else { Value::Null },
                },
                "agent_assigned_to": agent,
                "contact_name": "Jeanne Dupont",
                "contact_identifiers": {
                    "phone_number": "+33612345678",
                    "email": if h % 3 == 0 { json!("jeanne.dupont@example.com") } else { Value::Null },
                    "facebook_id": if facebook { json!("6234567890123456") } else { Value::Null },
                },
            })
        })
        .collect();
    serde_json::to_vec(&messages).expect("serializes")
}

/// LeadConnector: `{"lastMessageId", "nextPage", "messages": [...]}`, shaped
/// like the spec's sample and `tests/fixtures/leadconnector/*.json`. Newest
/// first, as LeadConnector lists them.
fn leadconnector_page() -> Vec<u8> {
    let conversation = base62_id(0xC0);
    let location = base62_id(0x10C);
    let contact = base62_id(0xC7);
    let messages: Vec<Value> = (0..MESSAGES)
        .rev()
        .map(|i| {
            let h = mix(0x1EAD ^ i as u64);
            let inbound = h % 2 == 0;
            let (date, millis) = time(i * 41, h >> 20);
            let mut m = json!({
                "id": base62_id(h),
                "type": 2,
                "messageType": "TYPE_SMS",
                "locationId": location,
                "contactId": contact,
                "conversationId": conversation,
                "dateAdded": format!("{date}.{millis}Z"),
                "body": text(inbound, h),
                "direction": if inbound { "inbound" } else { "outbound" },
                "contentType": "text/plain",
            });
            match (h >> 12) % 25 {
                0 => {
                    m["type"] = json!(1);
                    m["messageType"] = json!("TYPE_CALL");
                    m.as_object_mut().unwrap().remove("body");
                    m["status"] = json!("completed");
                    m["meta"] = json!({"callDuration": (h >> 32) % 600, "callStatus": "completed"});
                }
                1 => {
                    m["type"] = json!(3);
                    m["messageType"] = json!("TYPE_EMAIL");
                    m["contentType"] = json!("text/html");
                    m["body"] = json!(format!("<p>Hello Kim,</p><p>{}</p>", text(false, h)));
                    m["meta"] = json!({"email": {"messageIds": [format!("em-{i}")], "subject": "Your quote"}});
                }
                2 => {
                    m["type"] = json!(19);
                    m["messageType"] = json!("TYPE_WHATSAPP");
                    m["altId"] = json!(format!("wamid.HBgLMzE2MTIzNDU2NzgVAgARGBI{:016X}", h));
                }
                3 => {
                    m["attachments"] = json!([format!("https://storage.example/mms/IMG_{i:04}.JPEG")]);
                }
                4 => {
                    m["type"] = json!(28);
                    m["messageType"] = json!("TYPE_ACTIVITY_OPPORTUNITY");
                    m["body"] = json!("Opportunity created: Roof repair");
                    m["direction"] = json!("outbound");
                    m["source"] = json!("workflow");
                }
                _ => {}
            }
            if !inbound {
                m["status"] = json!(pick(&["sent", "delivered", "delivered", "read"], h >> 8));
                m["source"] = json!(pick(&["app", "workflow", "api"], h >> 16));
                m["userId"] = json!("ve9EPM428kjkvShlRW1KT");
            }
            if h % 7 == 0 {
                m["conversationProviderId"] = json!("ve9EPM428kjkvShlRW1KT");
            }
            m
        })
        .collect();
    serde_json::to_vec(&json!({
        "lastMessageId": messages.last().map(|m| m["id"].clone()).unwrap_or_default(),
        "nextPage": true,
        "messages": messages,
    }))
    .expect("serializes")
}

/// Bird: `{"results": [...], "nextPageToken": ...}`, shaped like the spec's
/// sample and `tests/fixtures/bird/every-body-type.json`. Newest first.
fn bird_page() -> Vec<u8> {
    let conversation = "16e1df9e-c6ac-406b-b1ce-13f34d0dea08";
    let contact_id = "8f0b5377-2edc-4116-a8e8-6a475f245a04";
    let messages: Vec<Value> = (0..MESSAGES)
        .rev()
        .map(|i| {
            let h = mix(0xB12D ^ i as u64);
            let inbound = h % 2 == 0;
            let email = (h >> 4) % 10 == 0;
            let (key, address) =
                if email { ("emailaddress", "john.doe@example.com") } else { ("phonenumber", "+31612345678") };
            let (date, millis) = time(i * 29, h >> 20);
            let id = uuid(h);
            let sender = if inbound {
                json!({"id": contact_id, "type": "contact", "status": "active", "displayName": "John Doe", "avatarUrl": "",
                       "contact": {"identifierKey": key, "identifierValue": address, "platformAddress": address}})
            } else {
                let (kind, name) = pick(&[("user", "Agent Ann"), ("flow", "Welcome flow"), ("accessKey", "My first email key")], h >> 8);
                json!({"id": uuid(mix(h ^ 7)), "type": kind, "status": "active", "displayName": name, "avatarUrl": ""})
            };
            let body = if email && inbound {
                json!({"type": "html", "html": {"text": format!("{}\r\n", text(true, h)), "html": format!("<p>{}</p>", text(true, h))}})
            } else {
                match (h >> 12) % 20 {
                    0 => json!({"type": "image", "image": {"text": "Our menu", "images": [{"mediaUrl": format!("https://media.example/menu-{i}.png"), "altText": "menu"}]}}),
                    1 => json!({"type": "file", "file": {"files": [{"mediaUrl": format!("https://media.example/invoice-{i}.pdf"), "contentType": "application/pdf", "filename": format!("invoice-{i}.pdf")}]}}),
                    2 => json!({"type": "location", "location": {"coordinates": {"latitude": 52.37, "longitude": 4.89}, "location": {"label": "Office", "address": "Dam 1, Amsterdam"}}}),
                    _ => json!({"type": "text", "text": {"text": text(inbound, h)}}),
                }
            };
            let mut m = json!({
                "id": id,
                "conversationId": conversation,
                "reference": if inbound { json!(id) } else { json!("") },
                "sender": sender,
                "draft": false,
                "status": pick(&["delivered", "delivered", "sent", "accepted", "read"], h >> 16),
                "source": if inbound { "channels" } else { "conversations" },
                "body": body,
                "interactions": null,
                "createdAt": format!("{date}.{millis}Z"),
                "updatedAt": format!("{date}.{millis}Z"),
            });
            if inbound {
                m["receiverTypes"] = json!(["to"]);
                if email {
                    // {"Subject":["Where is my order?"]}
                    m["meta"] = json!({"extraInformation": {"email_headers": "eyJTdWJqZWN0IjpbIldoZXJlIGlzIG15IG9yZGVyPyJdfQ=="}});
                }
            } else {
                m["recipients"] = json!([{"type": "to", "id": contact_id, "identifierKey": key, "identifierValue": address,
                                          "platformAddress": address, "contactAnnotation": {"name": "John Doe"}}]);
            }
            m
        })
        .collect();
    serde_json::to_vec(&json!({
        "results": messages,
        "nextPageToken": "WyIyMDI0LTExLTE1VDEzOjM0OjQ1Ljc3NTYzMDE0OVoiXQ==",
        "total": 10_000,
        "totalType": "exact",
    }))
    .expect("serializes")
}

fn pages() -> [(Vendor, Vec<u8>); 4] {
    [
        (Vendor::Infobip, infobip_page()),
        (Vendor::Octopush, octopush_page()),
        (Vendor::Leadconnector, leadconnector_page()),
        (Vendor::Bird, bird_page()),
    ]
}

fn normalize(c: &mut Criterion) {
    for (vendor, bytes) in pages() {
        // Not a timing: the page must be one the normalizer reads whole.
        let messages = normalize_page(vendor, &bytes).unwrap_or_else(|e| panic!("{vendor}: {e}"));
        assert_eq!(messages.len(), MESSAGES, "{vendor}");

        let mut group = c.benchmark_group(vendor.as_str());
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("normalize_page", |b| b.iter(|| normalize_page(vendor, black_box(&bytes))));
        group.bench_function("serde_json_value", |b| b.iter(|| serde_json::from_slice::<Value>(black_box(&bytes))));
        group.finish();
    }
}

criterion_group!(benches, normalize);
criterion_main!(benches);
