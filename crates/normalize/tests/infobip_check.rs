//! Infobip's mapping into the unified model: the documented sample and every
//! fixture of `tests/fixtures/infobip/`, checked value by value.

use chrono::{DateTime, TimeZone, Utc};
use convo_normalize::{
    Attachment, Channel, Content, Direction, Kind, Message, Participant, Role, Vendor, from_infobip, normalize_page,
};
use convo_testkit::{root, sample};
use serde_json::json;

fn page(body: &[u8]) -> Vec<Message> {
    normalize_page(Vendor::Infobip, body).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture(name: &str) -> Vec<Message> {
    let path = root().join("tests/fixtures/infobip").join(format!("{name}.json"));
    page(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn by_id<'a>(messages: &'a [Message], id: &str) -> &'a Message {
    messages.iter().find(|m| m.id.as_deref() == Some(id)).unwrap_or_else(|| panic!("no message {id}"))
}

/// One message, mapped from its wire JSON.
fn one(message: serde_json::Value) -> Message {
    let text = serde_json::to_string(&message).unwrap();
    from_infobip(serde_json::from_str(&text).unwrap())
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn participant(address: &str, address_type: &str, role: Option<Role>) -> Participant {
    Participant {
        id: None,
        address: Some(address.to_owned()),
        address_type: Some(address_type.to_owned()),
        name: None,
        role,
    }
}

#[test]
fn documented_sample_maps_an_inbound_sms_and_an_outbound_viber_text() {
    let messages = page(&sample("infobip.yaml", "200"));
    assert_eq!(messages.len(), 2);

    let inbound = &messages[0];
    assert_eq!(inbound.vendor, Vendor::Infobip);
    assert_eq!(inbound.id.as_deref(), Some("c3b94b2f-a3a1-4999-b63b-413800544123"));
    assert_eq!(inbound.conversation_id.as_deref(), Some("4461ea29-c09e-4ba8-a751-df86cf0a0eb9"));
    assert_eq!(inbound.channel, Some(Channel::Sms));
    assert_eq!(inbound.direction, Some(Direction::Inbound));
    assert_eq!(inbound.kind, Some(Kind::Message));
    assert_eq!(inbound.created_at, Some(utc("2024-01-01T00:00:00Z")));
    assert_eq!(inbound.updated_at, Some(utc("2024-01-01T00:00:00Z")));
    assert_eq!(inbound.status, None, "Infobip's message has no status");
    assert_eq!(inbound.sender, Some(participant("447492263899", "phone_number", Some(Role::Customer))));
    assert_eq!(inbound.recipients, [participant("447496389711", "phone_number", None)]);
    assert_eq!(inbound.text.as_deref(), Some("Customer message content"));
    assert_eq!(inbound.content, Content::Text { text: "Customer message content".to_owned() });
    assert_eq!(inbound.subject, None);
    assert!(inbound.attachments.is_empty());
    let sample: serde_json::Value = serde_json::from_slice(&sample("infobip.yaml", "200")).unwrap();
    let raw: serde_json::Value = serde_json::from_str(inbound.raw.get()).unwrap();
    assert_eq!(raw, sample["messages"][0], "raw is the vendor's message");

    let outbound = &messages[1];
    assert_eq!(outbound.channel, Some(Channel::Viber));
    assert_eq!(outbound.direction, Some(Direction::Outbound));
    // Without authorType the sender of an outbound message is not known to
    // be an agent, a bot or the system; the recipient is the customer.
    assert_eq!(outbound.sender, Some(participant("447492263899", "phone_number", None)));
    assert_eq!(outbound.recipients, [participant("447496389711", "phone_number", Some(Role::Customer))]);
    assert_eq!(outbound.text.as_deref(), Some("Agent message content"));
}

#[test]
fn every_content_type_maps_to_its_unified_content() {
    let messages = fixture("every-content-type");
    assert_eq!(messages.len(), 9);

    let text = by_id(&messages, "ib-text");
    assert_eq!(text.content, Content::Text { text: "Hi, is my order on its way?".to_owned() });
    assert_eq!(text.text.as_deref(), Some("Hi, is my order on its way?"));

    let image = by_id(&messages, "ib-image");
    let parcel = Attachment {
        content_type: Some("image".to_owned()),
        caption: Some("Your parcel, packed".to_owned()),
        ..Attachment::url("https://media.example/parcel.jpg")
    };
    assert_eq!(
        image.content,
        Content::Media { media: vec![parcel.clone()], text: Some("Your parcel, packed".to_owned()) }
    );
    assert_eq!(image.attachments, [parcel]);
    assert_eq!(image.text.as_deref(), Some("Your parcel, packed"));
    assert_eq!(image.channel, Some(Channel::Whatsapp));

    for (id, kind, url) in [
        ("ib-video", "video", "https://media.example/unboxing.mp4"),
        ("ib-audio", "audio", "https://media.example/voice-note.ogg"),
        ("ib-document", "document", "https://media.example/invoice-1042.pdf"),
    ] {
        let m = by_id(&messages, id);
        assert_eq!(m.attachments.len(), 1, "{id}");
        assert_eq!(m.attachments[0].url, url, "{id}");
        assert_eq!(m.attachments[0].content_type.as_deref(), Some(kind), "{id}");
        let Content::Media { media, text } = &m.content else { panic!("{id}: {:?}", m.content) };
        assert_eq!(media, &m.attachments, "{id}");
        assert_eq!(text, &m.text, "{id}");
    }
    assert_eq!(by_id(&messages, "ib-video").text, None, "no caption, no text");
    assert_eq!(by_id(&messages, "ib-document").text.as_deref(), Some("Invoice 1042"));

    let location = by_id(&messages, "ib-location");
    assert_eq!(
        location.content,
        Content::Location {
            latitude: Some(45.815),
            longitude: Some(15.9819),
            name: Some("Home".to_owned()),
            address: Some("Trg bana Jelačića 1, Zagreb".to_owned()),
        }
    );
    assert_eq!(location.text, None);

    let html = by_id(&messages, "ib-email-html");
    assert_eq!(html.kind, Some(Kind::Email));
    assert_eq!(html.channel, Some(Channel::Email));
    assert_eq!(html.subject.as_deref(), Some("Your order 1042"));
    assert_eq!(
        html.content,
        Content::Email {
            subject: Some("Your order 1042".to_owned()),
            text: None,
            html: Some("<p>Your order <b>1042</b> has shipped.</p>".to_owned()),
        }
    );
    assert_eq!(html.text, None, "HTML is not turned into text");
    assert_eq!(
        html.sender,
        Some(Participant {
            id: Some("agent-7".to_owned()),
            ..participant("support@shop.example", "email", Some(Role::Agent))
        })
    );
    assert_eq!(html.recipients, [participant("kim@customer.example", "email", Some(Role::Customer))]);

    let plain = by_id(&messages, "ib-email-text");
    assert_eq!(plain.kind, Some(Kind::Email));
    assert_eq!(plain.subject.as_deref(), Some("Re: Your order 1042"));
    assert_eq!(
        plain.content,
        Content::Email {
            subject: Some("Re: Your order 1042".to_owned()),
            text: Some("Thanks, got it.".to_owned()),
            html: None
        }
    );
    assert_eq!(plain.text.as_deref(), Some("Thanks, got it."));

    let template = by_id(&messages, "ib-template");
    assert_eq!(
        template.content,
        Content::Unknown {
            vendor_type: "TEMPLATE".to_owned(),
            value: json!({"templateName": "order_shipped", "language": "en", "templateData": {"body": {"placeholders": ["Kim", "1042"]}}})
        }
    );
    assert_eq!(template.text, None);
    assert_eq!(template.sender.as_ref().unwrap().role, Some(Role::Bot));
    assert_eq!(template.sender.as_ref().unwrap().id.as_deref(), Some("bot-1"));

    for m in &messages {
        let expected = if m.channel == Some(Channel::Email) { Kind::Email } else { Kind::Message };
        assert_eq!(m.kind, Some(expected), "{:?}", m.id);
        assert_eq!(m.status, None, "{:?}", m.id);
    }
}

#[test]
fn timestamp_drift_is_read_into_utc_with_full_precision() {
    let messages = fixture("timestamp-drift");
    let times: Vec<_> = messages.iter().map(|m| (m.id.as_deref().unwrap(), m.created_at, m.updated_at)).collect();
    let nanos = |base: &str, n: i64| utc(base) + chrono::Duration::nanoseconds(n);
    assert_eq!(
        times,
        [
            ("ib-colon-offset", Some(utc("2024-01-01T00:00:00Z")), Some(utc("2024-01-01T00:00:05Z"))),
            ("ib-compact-offset", Some(utc("2024-01-01T00:01:00Z")), Some(utc("2024-01-01T00:01:05Z"))),
            ("ib-zulu-no-fraction", Some(utc("2024-01-01T00:02:00Z")), Some(utc("2024-01-01T00:02:00Z"))),
            (
                "ib-nine-digits",
                Some(nanos("2024-01-01T00:03:00Z", 123_456_789)),
                Some(nanos("2024-01-01T00:03:00Z", 987_654_321))
            ),
            (
                "ib-no-updated-at",
                Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 4, 0).unwrap() + chrono::Duration::milliseconds(500)),
                None
            ),
        ]
    );
    // Serialized as RFC 3339 in UTC, keeping the nanoseconds.
    let json = serde_json::to_value(&messages[3]).unwrap();
    assert_eq!(json["created_at"], "2024-01-01T00:03:00.123456789Z");
}

#[test]
fn unknown_channel_direction_content_type_and_author_type_keep_infobips_literals() {
    let messages = fixture("unknown-values-and-fields");

    let unknown = by_id(&messages, "ib-unknown-everything");
    assert_eq!(unknown.channel, Some(Channel::Other("SIGNAL".to_owned())));
    assert_eq!(unknown.direction, Some(Direction::Other("INTERNAL".to_owned())));
    assert_eq!(unknown.kind, Some(Kind::Message));
    assert_eq!(
        unknown.content,
        Content::Unknown {
            vendor_type: "HOLOGRAM".to_owned(),
            value: json!({"depth": 3, "frames": [{"url": "https://media.example/h/1"}]}),
        }
    );
    assert_eq!(unknown.text, None);
    assert!(unknown.attachments.is_empty());
    assert_eq!(
        unknown.sender,
        Some(Participant {
            id: Some("sup-2".to_owned()),
            address: Some("sig-user-1".to_owned()),
            address_type: Some("SIGNAL".to_owned()),
            name: None,
            role: Some(Role::Other("SUPERVISOR".to_owned())),
        })
    );
    assert_eq!(unknown.recipients, [participant("sig-agent-9", "SIGNAL", None)]);
    let raw = unknown.raw.get();
    assert!(raw.contains(r#""singleSendMessage": {"id": "s-1", "from": null}"#), "{raw}");
    assert!(raw.contains(r#""metadata": {"campaign": "spring"}"#), "{raw}");

    let unmapped = by_id(&messages, "ib-known-unmapped");
    assert_eq!(unmapped.channel, Some(Channel::Other("ZALO_FOLLOWER".to_owned())));
    assert_eq!(
        unmapped.content,
        Content::Unknown {
            vendor_type: "STICKER".to_owned(),
            value: json!({"url": "https://media.example/sticker.webp"})
        }
    );
    assert!(unmapped.attachments.is_empty(), "only the mapped media types carry attachments");
    assert_eq!(unmapped.sender.as_ref().unwrap().role, Some(Role::Customer), "inbound without authorType");

    let shape = by_id(&messages, "ib-text-of-another-shape");
    assert_eq!(
        shape.channel,
        Some(Channel::Other("MMS".to_owned())),
        "a channel the page does not document keeps its literal"
    );
    assert_eq!(
        shape.content,
        Content::Unknown { vendor_type: "TEXT".to_owned(), value: json!({"text": {"body": "nested"}}) }
    );
    assert_eq!(shape.text, None);
    assert_eq!(shape.sender.as_ref().unwrap().address_type.as_deref(), Some("MMS"));

    let empty = by_id(&messages, "ib-no-content");
    assert_eq!(empty.content, Content::Empty);
    assert_eq!(empty.channel, Some(Channel::LiveChat));
    assert_eq!(
        empty.sender,
        Some(Participant {
            id: Some("sys".to_owned()),
            address: None,
            address_type: None,
            name: None,
            role: Some(Role::System)
        })
    );
    assert!(empty.recipients.is_empty());
    assert!(empty.raw.get().contains(r#""newTopLevel": [1.50, null]"#), "numbers keep their spelling");
}

#[test]
fn every_infobip_channel_maps_to_the_unified_vocabulary() {
    let table = [
        ("SMS", Channel::Sms, "phone_number"),
        ("MMS", Channel::Other("MMS".to_owned()), "MMS"),
        ("WHATSAPP", Channel::Whatsapp, "phone_number"),
        ("VIBER", Channel::Viber, "phone_number"),
        ("VIBER_BM", Channel::Other("VIBER_BM".to_owned()), "VIBER_BM"),
        ("VIBER_BOT", Channel::Viber, "viber"),
        ("RCS", Channel::Rcs, "phone_number"),
        ("FACEBOOK_MESSENGER", Channel::FacebookMessenger, "facebook_messenger"),
        ("MESSENGER", Channel::Other("MESSENGER".to_owned()), "MESSENGER"),
        ("INSTAGRAM_MESSAGING", Channel::Instagram, "instagram"),
        ("INSTAGRAM_DM", Channel::Other("INSTAGRAM_DM".to_owned()), "INSTAGRAM_DM"),
        ("TELEGRAM", Channel::Telegram, "telegram"),
        ("LINE", Channel::Line, "line"),
        ("LINE_OA", Channel::Other("LINE_OA".to_owned()), "LINE_OA"),
        ("LIVE_CHAT", Channel::LiveChat, "live_chat"),
        ("EMAIL", Channel::Email, "email"),
        ("GOOGLE_BUSINESS_MESSAGES", Channel::GoogleBusinessMessages, "google_business_messages"),
        ("APPLE_BUSINESS_CHAT", Channel::AppleBusinessChat, "apple_business_chat"),
        ("APPLE_MB", Channel::Other("APPLE_MB".to_owned()), "APPLE_MB"),
        ("KAKAO_SANGDAM", Channel::Kakao, "kakao"),
        ("TWITTER_DM", Channel::TwitterDm, "twitter_dm"),
        ("OPEN_CHANNEL", Channel::Other("OPEN_CHANNEL".to_owned()), "OPEN_CHANNEL"),
        ("TIKTOK_BM", Channel::Other("TIKTOK_BM".to_owned()), "TIKTOK_BM"),
        ("sms", Channel::Other("sms".to_owned()), "sms"),
    ];
    for (literal, expected, address_type) in table {
        let m =
            one(json!({"id": "m", "channel": literal, "from": "a", "to": "b", "createdAt": "2024-01-01T00:00:00Z"}));
        assert_eq!(m.channel.as_ref(), Some(&expected), "{literal}");
        assert_eq!(m.sender.unwrap().address_type.as_deref(), Some(address_type), "{literal}");
        assert_eq!(m.recipients[0].address_type.as_deref(), Some(address_type), "{literal}");
        let kind = if literal == "EMAIL" { Kind::Email } else { Kind::Message };
        assert_eq!(m.kind, Some(kind), "{literal}");
    }
    let m = one(json!({"id": "m", "from": "a", "createdAt": "2024-01-01T00:00:00Z"}));
    assert_eq!((m.channel, m.sender.unwrap().address_type), (None, None), "no channel, no address type");
}

#[test]
fn author_type_gives_the_senders_role_else_inbound_means_customer() {
    for (author_type, direction, expected) in [
        (Some("CUSTOMER"), "OUTBOUND", Some(Role::Customer)),
        (Some("AGENT"), "INBOUND", Some(Role::Agent)),
        (Some("BOT"), "OUTBOUND", Some(Role::Bot)),
        (Some("SYSTEM"), "OUTBOUND", Some(Role::System)),
        (Some("SUPERVISOR"), "OUTBOUND", Some(Role::Other("SUPERVISOR".to_owned()))),
        (None, "INBOUND", Some(Role::Customer)),
        (None, "OUTBOUND", None),
        (None, "SIDEWAYS", None),
    ] {
        let mut message = json!({"id": "m", "direction": direction, "from": "a", "createdAt": "2024-01-01T00:00:00Z", "authorId": "who"});
        if let Some(author_type) = author_type {
            message["authorType"] = json!(author_type);
        }
        let sender = one(message).sender.unwrap();
        assert_eq!(sender.role, expected, "{author_type:?} {direction}");
        assert_eq!(sender.id.as_deref(), Some("who"));
    }
}

#[test]
fn an_email_content_type_makes_an_email_on_any_channel_and_a_bare_message_has_no_sender() {
    let m = one(
        json!({"id": "m", "channel": "LIVE_CHAT", "contentType": "EMAIL", "content": {"subject": "S"}, "createdAt": "2024-01-01T00:00:00Z"}),
    );
    assert_eq!(m.kind, Some(Kind::Email));
    assert_eq!(m.subject.as_deref(), Some("S"));
    assert_eq!(m.sender, None);
    assert!(m.recipients.is_empty());

    let m = one(json!({"id": "m", "content": {"text": "no type"}, "createdAt": "2024-01-01T00:00:00Z"}));
    assert_eq!(m.content, Content::Unknown { vendor_type: String::new(), value: json!({"text": "no type"}) });
    let m = one(
        json!({"id": "m", "contentType": "IMAGE", "content": {"caption": "no url"}, "createdAt": "2024-01-01T00:00:00Z"}),
    );
    assert_eq!(m.content, Content::Unknown { vendor_type: "IMAGE".to_owned(), value: json!({"caption": "no url"}) });
    assert!(m.attachments.is_empty());
}

#[test]
fn every_fixture_and_the_sample_satisfy_the_committed_schema() {
    let text = std::fs::read_to_string(root().join("generated/message.schema.json")).unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let mut pages = vec![("sample".to_owned(), sample("infobip.yaml", "200"))];
    for name in ["every-content-type", "timestamp-drift", "unknown-values-and-fields"] {
        pages.push((
            name.to_owned(),
            std::fs::read(root().join(format!("tests/fixtures/infobip/{name}.json"))).unwrap(),
        ));
    }
    for (name, body) in pages {
        for message in serde_json::to_value(page(&body)).unwrap().as_array().unwrap() {
            let errors: Vec<String> =
                schema.iter_errors(message).map(|e| format!("{e} at {}", e.instance_path)).collect();
            assert!(errors.is_empty(), "{name}: {}: {errors:#?}", message["id"]);
        }
    }
}

#[test]
fn a_page_of_another_shape_names_the_path_and_a_bad_message_is_isolated() {
    let messages = normalize_page(Vendor::Infobip, br#"{"messages":[{"id":"m","createdAt":"last tuesday"}]}"#).unwrap();
    let error = messages[0].decode_error.as_ref().expect("isolated");
    assert_eq!(error.path, "createdAt");
    assert!(error.reason.contains("last tuesday"), "{error}");

    let err = normalize_page(Vendor::Infobip, br#"{"messages":[],"pagination":{"page":"first"}}"#).unwrap_err();
    assert_eq!(err.vendor, Vendor::Infobip);
    assert_eq!(err.path, "pagination.page");
    // No `messages` at all is a page of none only where the count says so
    // (the clients' paging rule): else not a page, never an empty one.
    let err = normalize_page(Vendor::Infobip, br#"{"results":[]}"#).unwrap_err();
    assert_eq!(err.path, ".");
    assert!(err.reason.contains("without a `messages` list or `pagination.totalItems`"), "{err}");
    assert!(normalize_page(Vendor::Infobip, br#"{"pagination":{"totalItems":0}}"#).unwrap().is_empty());
}
