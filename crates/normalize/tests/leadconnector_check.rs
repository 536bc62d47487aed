//! Focused checks of the LeadConnector mapping: the documented sample and
//! each fixture of `tests/fixtures/leadconnector/`, one behaviour a test.
//! (The shared snapshot test snapshots the same pages whole.)

use convo_normalize::{
    Attachment, Channel, Content, Direction, Kind, Message, Participant, Role, Status, Vendor, normalize_page,
};
use convo_testkit::{root, sample};

fn page(body: &[u8]) -> Vec<Message> {
    normalize_page(Vendor::Leadconnector, body).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture(name: &str) -> Vec<Message> {
    let path = root().join("tests/fixtures/leadconnector").join(format!("{name}.json"));
    page(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn by_id<'a>(messages: &'a [Message], id: &str) -> &'a Message {
    messages.iter().find(|m| m.id.as_deref() == Some(id)).unwrap_or_else(|| panic!("no message {id}"))
}

fn contact(id: &str) -> Participant {
    Participant { id: Some(id.to_owned()), role: Some(Role::Customer), ..Participant::default() }
}

fn agent(id: &str) -> Participant {
    Participant { id: Some(id.to_owned()), role: Some(Role::Agent), ..Participant::default() }
}

fn system() -> Participant {
    Participant { role: Some(Role::System), ..Participant::default() }
}

/// A flat page of one message with `fields` added to the required ones.
fn one(fields: &str) -> Message {
    let body = format!(
        r#"{{"lastMessageId":"m","nextPage":false,"messages":[{{"id":"m","type":1,"locationId":"l","contactId":"c",
        "conversationId":"v","dateAdded":"2024-01-01T00:00:00Z","contentType":"text/plain",{fields}}}]}}"#
    );
    page(body.as_bytes()).remove(0)
}

#[test]
fn documented_sample_is_an_inbound_sms_from_the_contact_to_the_user() {
    let messages = page(&sample("leadconnector.yaml", "200"));
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.vendor, Vendor::Leadconnector);
    assert_eq!(m.id.as_deref(), Some("ve9EPM428h8vShlRW1KT"));
    assert_eq!(m.conversation_id.as_deref(), Some("ve9EPM428h8vShlRW1KT"));
    assert_eq!(m.channel, Some(Channel::Sms), "the page's example value `SMS` reads as TYPE_SMS");
    assert_eq!(m.kind, Some(Kind::Message));
    assert_eq!(m.direction, Some(Direction::Inbound));
    assert_eq!(m.created_at.unwrap().to_rfc3339(), "2024-03-27T18:13:49+00:00");
    assert_eq!(m.updated_at, None);
    assert_eq!(m.status, None);
    assert_eq!(m.sender, Some(contact("ve9EPM428h8vShlRW1KT")));
    assert_eq!(m.recipients, [agent("ve9EPM428kjkvShlRW1KT")]);
    assert_eq!(m.text.as_deref(), Some("Hi there"));
    assert_eq!(m.subject, None, "only e-mails have a subject");
    assert!(m.attachments.is_empty());
    assert_eq!(m.content, Content::Text { text: "Hi there".into() }, "call meta on an SMS does not make it a call");
}

#[test]
fn the_nested_envelope_reads_exactly_as_the_flat_page_it_wraps() {
    let bytes = std::fs::read(root().join("tests/fixtures/leadconnector/nested-envelope.json")).unwrap();
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        messages: &'a serde_json::value::RawValue,
    }
    let inner: Envelope<'_> = serde_json::from_slice(&bytes).unwrap();
    let nested = page(&bytes);
    assert_eq!(nested.len(), 3);
    assert_eq!(nested, page(inner.messages.get().as_bytes()));
    let ids: Vec<&str> = nested.iter().map(|m| m.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["lc-n-3", "lc-n-2", "lc-n-1"], "the vendor's newest-first order is kept");
}

#[test]
fn outbound_messages_go_from_the_user_or_the_automation_to_the_contact() {
    let messages = fixture("nested-envelope");
    let by_user = by_id(&messages, "lc-n-2");
    assert_eq!(by_user.sender, Some(agent("us-ann")));
    assert_eq!(by_user.recipients, [contact("ct-kim")]);
    assert_eq!(by_user.status, Some(Status::Sent));

    let by_workflow = by_id(&messages, "lc-n-3");
    assert_eq!(by_workflow.sender, Some(system()), "no userId and source workflow: the system, with no id");
    assert_eq!(by_workflow.recipients, [contact("ct-kim")]);
    assert_eq!(by_workflow.status, Some(Status::Delivered));

    let inbound = by_id(&messages, "lc-n-1");
    assert_eq!(inbound.sender, Some(contact("ct-kim")));
    assert_eq!(inbound.recipients, [agent("us-ann")]);
    assert_eq!(inbound.status, None);
}

#[test]
fn an_unanswered_call_has_no_duration_and_keeps_its_call_status() {
    let m = by_id(&fixture("calls"), "lc-call-1").clone();
    assert_eq!((m.channel, m.kind), (Some(Channel::Call), Some(Kind::Call)));
    assert_eq!(m.content, Content::Call { duration_seconds: None, status: Some("no-answer".into()) });
    assert_eq!(m.text, None);
    assert_eq!(m.sender, Some(contact("ct-kim")));
}

#[test]
fn the_documented_call_duration_and_status_are_read() {
    let m = by_id(&fixture("calls"), "lc-call-2").clone();
    assert_eq!(m.content, Content::Call { duration_seconds: Some(95), status: Some("completed".into()) });
    assert_eq!(m.status, Some(Status::Connected));
    assert_eq!(m.sender, Some(agent("us-ann")));
}

#[test]
fn the_live_call_meta_gives_duration_and_status() {
    let m = by_id(&fixture("calls"), "lc-call-3").clone();
    assert_eq!((m.channel, m.kind), (Some(Channel::Call), Some(Kind::Call)), "TYPE_IVR_CALL is a call");
    assert_eq!(m.content, Content::Call { duration_seconds: Some(42), status: Some("completed".into()) });
    assert_eq!(m.recipients, [], "an inbound call with no userId has no known recipient");
}

#[test]
fn a_campaign_voicemail_is_a_call_on_the_voicemail_channel_sent_by_the_system() {
    let m = by_id(&fixture("calls"), "lc-call-4").clone();
    assert_eq!((m.channel, m.kind), (Some(Channel::Voicemail), Some(Kind::Call)));
    assert_eq!(m.content, Content::Call { duration_seconds: None, status: Some("voicemail".into()) });
    assert_eq!(m.sender, Some(system()));
    assert!(m.attachments.is_empty());
}

#[test]
fn the_documented_duration_wins_over_the_live_call_meta() {
    let m = one(
        r#""messageType":"TYPE_CALL","direction":"outbound","meta":{"callDuration":"12.4","call":{"duration":99,"status":"busy"}}"#,
    );
    assert_eq!(m.content, Content::Call { duration_seconds: Some(12), status: Some("busy".into()) });
}

#[test]
fn an_inbound_email_without_body_is_an_email_with_only_its_subject() {
    let m = by_id(&fixture("emails"), "lc-mail-1").clone();
    assert_eq!((m.channel, m.kind), (Some(Channel::Email), Some(Kind::Email)));
    assert_eq!(m.subject.as_deref(), Some("Re: Roof repair"));
    assert_eq!(m.content, Content::Email { subject: Some("Re: Roof repair".into()), text: None, html: None });
    assert_eq!(m.text, None);
    assert_eq!(m.sender, Some(contact("ct-kim")));
}

#[test]
fn an_html_email_keeps_its_html_subject_and_attachment() {
    let m = by_id(&fixture("emails"), "lc-mail-2").clone();
    let html = "<p>Hello Kim,</p><p>Please find the quote attached.</p>";
    assert_eq!(m.content, Content::Email { subject: Some("Your quote".into()), text: None, html: Some(html.into()) });
    assert_eq!(m.text, None, "HTML is not plain text");
    assert_eq!(m.status, Some(Status::Opened));
    assert_eq!(
        m.attachments,
        [Attachment {
            content_type: Some("application/pdf".into()),
            ..Attachment::url("https://storage.example/quotes/quote-1042.pdf")
        }]
    );
}

#[test]
fn a_plain_campaign_email_has_text_and_no_subject() {
    let m = by_id(&fixture("emails"), "lc-mail-3").clone();
    assert_eq!((m.channel, m.kind), (Some(Channel::Email), Some(Kind::Email)));
    let text = "Our winter offers are here.";
    assert_eq!(m.content, Content::Email { subject: None, text: Some(text.into()), html: None });
    assert_eq!(m.text.as_deref(), Some(text));
    assert_eq!(m.status, Some(Status::Clicked));
    assert_eq!(m.sender, Some(system()), "bulk actions without a user are the system");
}

#[test]
fn activity_rows_are_activities_named_by_their_message_type() {
    let messages = fixture("activities-and-comment");
    for (id, activity, text) in [
        ("lc-act-1", "TYPE_ACTIVITY_APPOINTMENT", "Appointment booked for Tue, Nov 19, 10:00"),
        ("lc-act-2", "TYPE_ACTIVITY_OPPORTUNITY", "Opportunity created: Roof repair"),
    ] {
        let m = by_id(&messages, id);
        assert_eq!(m.kind, Some(Kind::Activity), "{id}");
        assert_eq!(m.channel, None, "{id}: an activity row is no channel's message");
        assert_eq!(m.content, Content::Activity { activity: activity.into(), text: Some(text.into()) }, "{id}");
        assert_eq!(m.text.as_deref(), Some(text), "{id}");
    }
    assert_eq!(by_id(&messages, "lc-act-1").sender, Some(agent("us-ann")));
    assert_eq!(by_id(&messages, "lc-act-2").sender, Some(system()));
}

#[test]
fn an_internal_comment_is_a_comment_the_contact_does_not_receive() {
    let m = by_id(&fixture("activities-and-comment"), "lc-act-3").clone();
    assert_eq!(m.kind, Some(Kind::Comment));
    assert_eq!(m.channel, None, "an internal comment is no channel's message");
    assert_eq!(m.content, Content::Text { text: "Call her back after 5pm.".into() });
    assert_eq!(m.sender, Some(agent("us-ann")));
    assert_eq!(m.recipients, []);
}

#[test]
fn attachments_become_media_with_a_content_type_only_where_the_extension_is_obvious() {
    let messages = fixture("attachments-and-alt-id");
    let mms = by_id(&messages, "lc-att-1");
    let expected = [
        Attachment {
            content_type: Some("image/jpeg".into()),
            ..Attachment::url("https://storage.example/mms/IMG_0042.JPEG")
        },
        Attachment::url("https://storage.example/mms/download?id=77"),
    ];
    assert_eq!(mms.channel, Some(Channel::Sms));
    assert_eq!(mms.attachments, expected);
    assert_eq!(
        mms.content,
        Content::Media { media: expected.to_vec(), text: Some("Here is the photo of the leak".into()) }
    );
    assert_eq!(mms.text.as_deref(), Some("Here is the photo of the leak"));

    let sticker = by_id(&messages, "lc-att-2");
    assert_eq!(sticker.channel, Some(Channel::FacebookMessenger));
    let url = "https://scontent.example/v/sticker_369239263222822.png?stp=dst-png&oh=00";
    let media = vec![Attachment { content_type: Some("image/png".into()), ..Attachment::url(url) }];
    assert_eq!(sticker.content, Content::Media { media, text: None });
    assert_eq!(sticker.text, None);
}

#[test]
fn a_message_without_body_or_attachments_is_empty() {
    let m = by_id(&fixture("attachments-and-alt-id"), "lc-att-4").clone();
    assert_eq!(m.channel, Some(Channel::Webchat));
    assert_eq!(m.content, Content::Empty);
    assert_eq!(m.text, None);
}

#[test]
fn alt_id_and_unmodelled_fields_survive_in_raw() {
    let messages = fixture("attachments-and-alt-id");
    let whatsapp = by_id(&messages, "lc-att-3");
    assert_eq!(whatsapp.channel, Some(Channel::Whatsapp));
    assert_eq!(whatsapp.status, Some(Status::Read));
    assert!(whatsapp.raw.get().contains(r#""altId": "wamid.HBgLMzE2MTIzNDU2NzgVAgARGBI5QTNCRDY1""#));
    let unknown = by_id(&fixture("unknown-values"), "lc-unk-1").clone();
    assert!(unknown.raw.get().ends_with(r#""futureField": {"nested": [1, null]}}"#), "{}", unknown.raw.get());
}

#[test]
fn unknown_message_type_status_and_direction_are_kept_as_sent() {
    let m = by_id(&fixture("unknown-values"), "lc-unk-1").clone();
    assert_eq!(m.channel, Some(Channel::Other("TYPE_TELEGRAM".into())));
    assert_eq!(m.kind, Some(Kind::Message));
    assert_eq!(m.status, Some(Status::Other("beamed".into())));
    assert_eq!(m.direction, Some(Direction::Other("sideways".into())));
    assert_eq!(m.sender, None, "an unknown direction says nobody is the sender");
    assert_eq!(m.recipients, []);
    assert_eq!(m.content, Content::Text { text: "Hello from a new channel".into() });
}

#[test]
fn the_type_prefix_and_case_do_not_matter() {
    let messages = fixture("unknown-values");
    assert_eq!(by_id(&messages, "lc-unk-3").channel, Some(Channel::Sms));
    assert_eq!(by_id(&messages, "lc-unk-3").status, Some(Status::OptOut));
    assert_eq!(by_id(&messages, "lc-unk-4").channel, Some(Channel::InstagramComment));
    assert_eq!(by_id(&messages, "lc-unk-4").recipients, []);
}

#[test]
fn an_undocumented_activity_type_is_still_an_activity() {
    let m = by_id(&fixture("unknown-values"), "lc-unk-5").clone();
    assert_eq!(m.kind, Some(Kind::Activity));
    assert_eq!(m.channel, None);
    assert_eq!(
        m.content,
        Content::Activity {
            activity: "TYPE_ACTIVITY_EMPLOYEE_ACTION_LOG".into(),
            text: Some("Ann reassigned the conversation".into())
        }
    );
}

#[test]
fn api_sends_without_a_user_come_from_the_system() {
    let m = by_id(&fixture("unknown-values"), "lc-unk-2").clone();
    assert_eq!(m.sender, Some(system()));
    assert_eq!(m.status, Some(Status::Scheduled));
}

#[test]
fn every_documented_message_type_maps_to_its_channel_and_kind() {
    use Channel::*;
    let table: &[(&str, Option<Channel>, Kind)] = &[
        ("TYPE_SMS", Some(Sms), Kind::Message),
        ("TYPE_CAMPAIGN_SMS", Some(Sms), Kind::Message),
        ("TYPE_CUSTOM_SMS", Some(Sms), Kind::Message),
        ("TYPE_CUSTOM_PROVIDER_SMS", Some(Sms), Kind::Message),
        ("TYPE_SMS_REVIEW_REQUEST", Some(Sms), Kind::Message),
        ("TYPE_SMS_NO_SHOW_REQUEST", Some(Sms), Kind::Message),
        ("TYPE_CAMPAIGN_MANUAL_SMS", Some(Sms), Kind::Message),
        ("TYPE_CALL", Some(Call), Kind::Call),
        ("TYPE_CAMPAIGN_CALL", Some(Call), Kind::Call),
        ("TYPE_CAMPAIGN_MANUAL_CALL", Some(Call), Kind::Call),
        ("TYPE_IVR_CALL", Some(Call), Kind::Call),
        ("TYPE_CUSTOM_CALL", Some(Call), Kind::Call),
        ("TYPE_CAMPAIGN_VOICEMAIL", Some(Voicemail), Kind::Call),
        ("TYPE_EMAIL", Some(Email), Kind::Email),
        ("TYPE_CAMPAIGN_EMAIL", Some(Email), Kind::Email),
        ("TYPE_CUSTOM_EMAIL", Some(Email), Kind::Email),
        ("TYPE_CUSTOM_PROVIDER_EMAIL", Some(Email), Kind::Email),
        ("TYPE_WEBCHAT", Some(Webchat), Kind::Message),
        ("TYPE_FACEBOOK", Some(FacebookMessenger), Kind::Message),
        ("TYPE_CAMPAIGN_FACEBOOK", Some(FacebookMessenger), Kind::Message),
        ("TYPE_FACEBOOK_COMMENT", Some(FacebookComment), Kind::Message),
        ("TYPE_INSTAGRAM", Some(Instagram), Kind::Message),
        ("TYPE_INSTAGRAM_COMMENT", Some(InstagramComment), Kind::Message),
        ("TYPE_GMB", Some(GoogleBusinessMessages), Kind::Message),
        ("TYPE_CAMPAIGN_GMB", Some(GoogleBusinessMessages), Kind::Message),
        ("TYPE_WHATSAPP", Some(Whatsapp), Kind::Message),
        ("TYPE_LIVE_CHAT", Some(LiveChat), Kind::Message),
        ("TYPE_LIVE_CHAT_INFO_MESSAGE", Some(LiveChat), Kind::Message),
        ("TYPE_REVIEW", Some(Review), Kind::Message),
        ("TYPE_ACTIVITY_CONTACT", None, Kind::Activity),
        ("TYPE_ACTIVITY_INVOICE", None, Kind::Activity),
        ("TYPE_ACTIVITY_PAYMENT", None, Kind::Activity),
        ("TYPE_ACTIVITY_OPPORTUNITY", None, Kind::Activity),
        ("TYPE_ACTIVITY_APPOINTMENT", None, Kind::Activity),
        ("TYPE_INTERNAL_COMMENT", None, Kind::Comment),
    ];
    assert_eq!(
        table.len(),
        convo_leadconnector::MessageType::KNOWN.len(),
        "every documented messageType is in the table"
    );
    for (message_type, channel, kind) in table {
        let m = one(&format!(r#""messageType":"{message_type}","direction":"inbound","body":"x""#));
        assert_eq!((m.channel.as_ref(), m.kind), (channel.as_ref(), Some(*kind)), "{message_type}");
    }
}

#[test]
fn every_documented_status_maps_to_the_same_unified_word() {
    for status in convo_leadconnector::MessageStatus::KNOWN {
        let m = one(&format!(r#""messageType":"TYPE_SMS","direction":"outbound","status":"{status}""#));
        let status_ = m.status.unwrap();
        assert!(status_.is_known(), "{status} has a unified equivalent");
        assert_eq!(status_.as_str(), *status);
    }
}

#[test]
fn an_empty_body_counts_as_no_body() {
    let m = one(r#""messageType":"TYPE_SMS","direction":"inbound","body":"""#);
    assert_eq!(m.content, Content::Empty);
    assert_eq!(m.text, None);
}

#[test]
fn raw_is_the_vendors_message_byte_for_byte() {
    let message = r#"{"id":"m","type":2.0,"messageType":"TYPE_SMS","locationId":"l","contactId":"c","conversationId":"v",
        "dateAdded":"2024-01-01T00:00:00.000Z","direction":"inbound","contentType":"text/plain","x":  [1.50, null]}"#;
    for body in [
        format!(r#"{{"lastMessageId":"m","nextPage":false,"messages":[{message}]}}"#),
        format!(r#"{{"messages":{{"lastMessageId":"m","nextPage":false,"messages":[{message}]}},"traceId":"t"}}"#),
    ] {
        assert_eq!(page(body.as_bytes())[0].raw.get(), message);
    }
}

#[test]
fn a_bad_message_is_isolated_naming_its_path_in_either_envelope() {
    let bad = r#"{"id":"m","type":2,"messageType":"TYPE_SMS","locationId":"l","contactId":"c","conversationId":"v",
        "dateAdded":"yesterday","direction":"inbound","contentType":"text/plain"}"#;
    let flat = format!(r#"{{"lastMessageId":"m","nextPage":false,"messages":[{bad}]}}"#);
    let nested = format!(r#"{{"messages":{{"lastMessageId":"m","nextPage":false,"messages":[{bad}]}}}}"#);
    for body in [flat, nested] {
        let messages = normalize_page(Vendor::Leadconnector, body.as_bytes()).unwrap();
        let error = messages[0].decode_error.as_ref().expect("isolated");
        assert_eq!(error.path, "dateAdded");
        assert!(error.reason.contains("yesterday"), "{error}");
        assert_eq!((messages[0].id.as_deref(), messages[0].raw.get()), (Some("m"), bad));
    }
    // A page field of the wrong type is a page of another shape.
    let err = normalize_page(Vendor::Leadconnector, br#"{"messages":{"nextPage":"no"}}"#).unwrap_err();
    assert_eq!(err.vendor, Vendor::Leadconnector);
    assert_eq!(err.path, "messages.nextPage", "{err}");
    let err = normalize_page(Vendor::Leadconnector, b"<html>502 Bad Gateway</html>").unwrap_err();
    assert!(err.to_string().contains("<html>502"), "{err}");
}

#[test]
fn a_call_duration_sent_as_a_number_is_read_like_the_documented_string() {
    let messages = fixture("calls");
    let call = messages.iter().find(|m| m.id.as_deref() == Some("lc-call-5")).expect("the numeric-duration row");
    assert_eq!(call.content, Content::Call { duration_seconds: Some(120), status: Some("completed".into()) });
}
