//! Probe round 12b: is each vendor's mapping right, field by field, per the
//! vendor pages in `vendor-docs/` and the notes in `notes/vendors.md`?
//!
//! Failing when written (bugs), fixed the same day:
//! - `bird_email_headers_make_an_email_even_without_the_senders_contact`
//!   (e-mail headers in `meta` make an e-mail, as the sides' addresses do)
//! - `leadconnector_type_3_without_message_type_is_not_a_plain_message`
//!   (with no `messageType`, the page's numeric codes: 3 e-mail, 1 and 10
//!   calls)
//! - `leadconnector_internal_comment_is_never_from_the_customer` (a comment
//!   is the user's, with no recipient, whatever its direction)
//! - `a_time_whose_utc_instant_leaves_years_0000_9999_is_not_emitted_against_the_schema`
//!   (such a time is refused: the message is isolated, undecodable)
//!
//! Found and not fixed (their probes are not kept here, as they fail): a
//! Bird `image` body's `text` (a caption) is not mapped to `text`, and a
//! Bird `file` body's files are not mapped to `attachments` (the body is
//! kept whole as `Content::Unknown`, and in `raw`): the page shows only
//! text and html bodies, and the spec's image shape holds only `images`;
//! typing more of Bird's bodies needs their shapes from a source to cite.
//!
//! Passing probes (kept): `offsets_give_the_right_utc_instant_for_every_vendor`
//! (`+02:00`, `-0530`, `-2359`, `+1400`, more than 9 fraction digits,
//! `updated_at` not swapped with `created_at`),
//! `raw_is_each_element_byte_for_byte_in_every_envelope` (whitespace, key
//! order, escapes, big numbers, LeadConnector's nested envelope),
//! `documented_values_map_to_their_meaning` (Infobip media with caption,
//! location, e-mail, author types; LeadConnector calls, e-mails, activity,
//! SMS with attachment from a workflow; Bird sender types, statuses,
//! template instead of body, multiple recipients; Octopush sides),
//! `every_emitted_message_fits_the_schema` (for documented-shape input),
//! `decode_error_only_where_the_typed_view_fails` , `bird_page_sample_with_a_null_result_is_one_isolated_message` (the Bird page's
//! first sample, `"results": [null]`, gives one isolated message, not a page error).

use chrono::{DateTime, Utc};
use convo_normalize::{Content, Direction, Kind, Message, Role, Status, Vendor, normalize_page};
use serde_json::json;

fn one(vendor: Vendor, message: &str) -> Message {
    let body = match vendor {
        Vendor::Octopush => format!("[{message}]"),
        Vendor::Infobip => format!(r#"{{"messages":[{message}]}}"#),
        Vendor::Leadconnector => format!(r#"{{"messages":[{message}],"nextPage":false}}"#),
        Vendor::Bird => format!(r#"{{"results":[{message}]}}"#),
    };
    let mut all = normalize_page(vendor, body.as_bytes()).expect("a page");
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn utc(text: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc))
}

fn schema() -> jsonschema::Validator {
    jsonschema::validator_for(&serde_json::from_str(&convo_normalize::message_schema_json()).unwrap()).unwrap()
}

fn schema_errors(schema: &jsonschema::Validator, m: &Message) -> Vec<String> {
    let value = serde_json::to_value(m).unwrap();
    schema.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path)).collect()
}

// ---------------------------------------------------------------- bugs

/// The Bird page's second sample message is an inbound e-mail: an `html`
/// body and `meta.extraInformation.email_headers` (base64 of
/// `{"Subject":["test"]}`). vendors.md lists the sender as `{id, type,
/// displayName, contact?}`: `contact` is optional. Take that very message
/// without `sender.contact` (and with no recipients, as in the sample).
///
/// convo reads the subject from the e-mail headers (`subject: "test"`) yet
/// calls the row `kind: "message"`, `channel: null`, with `content.type:
/// "html"`, so the same message is an e-mail or not depending on whether an
/// optional identifier block is present. A row that carries e-mail headers
/// and a subject is an e-mail; `kind: message` is a wrong value (the model:
/// `subject` is "the subject, for e-mails"; `Kind::Email` is "an e-mail").
/// Fix area: `bird.rs`, `is_email` (let the decoded e-mail headers count).
#[test]
fn bird_email_headers_make_an_email_even_without_the_senders_contact() {
    let m = one(
        Vendor::Bird,
        r#"{"id":"3e75a9d2-2a54-45ac-856a-bbe02f874332","conversationId":"16e1df9e-c6ac-406b-b1ce-13f34d0dea08",
            "sender":{"id":"8f0b5377-2edc-4116-a8e8-6a475f245a04","type":"contact","status":"active","displayName":"John Doe","avatarUrl":""},
            "draft":false,"status":"delivered","source":"channels",
            "body":{"type":"html","html":{"text":"test\r\n","html":"<p>test</p>"}},
            "interactions":null,"createdAt":"2024-11-25T19:31:47.264Z","updatedAt":"2024-11-25T19:31:47.264Z",
            "meta":{"extraInformation":{"email_headers":"eyJTdWJqZWN0IjpbInRlc3QiXX0="}},"receiverTypes":["to"]}"#,
    );
    assert_eq!(m.subject.as_deref(), Some("test"));
    assert_eq!(m.kind, Some(Kind::Email), "a row with e-mail headers and a subject is an e-mail");
    assert!(matches!(m.content, Content::Email { .. }), "content: {:?}", m.content);
}

/// LeadConnector's page documents the numeric `type` for three values: "meta
/// will contain email, for message type 3 (email)" and "Attachments will be
/// empty for Call and Voicemails, type 1 and 10". A row with `type: 3` and
/// `meta.email` but no (or an empty) `messageType` is, by the page's own
/// words, an e-mail.
///
/// convo gives `kind: "message"` (and drops the subject it reads for
/// e-mails, `meta.email.subject`): a positive claim that the row is a
/// messaging-channel message, which the page contradicts. vendors.md says to
/// key on `messageType` because numeric codes have no *official table*; the
/// three codes the page itself names are not guesses. Expected: `kind:
/// email` for type 3 (or at least not `message`). Fix area:
/// `leadconnector.rs`, `classify` (fall back on the page's documented
/// codes 1, 3, 10 when `messageType` is missing or empty).
#[test]
fn leadconnector_type_3_without_message_type_is_not_a_plain_message() {
    for message_type in ["", r#","messageType":"""#] {
        let m = one(
            Vendor::Leadconnector,
            &format!(
                r#"{{"id":"e3","type":3{message_type},"locationId":"L","contactId":"C","conversationId":"V",
                    "dateAdded":"2024-03-27T18:13:49.000Z","direction":"inbound","contentType":"text/plain",
                    "meta":{{"email":{{"messageIds":["m1"],"subject":"Hi"}}}}}}"#
            ),
        );
        assert_ne!(m.kind, Some(Kind::Message), "type 3 is documented as e-mail ({message_type:?})");
    }
}

/// LeadConnector's `messageType` enum lists `TYPE_INTERNAL_COMMENT`, and
/// `userId` is the "User Id"; the model defines `Kind::Comment` as "an
/// internal comment between agents, not seen by the customer", and
/// `participants()` says "an internal comment is not sent to the contact".
/// LeadConnector rows carry `direction` on every row (required on the page);
/// take a comment row whose `direction` is `inbound`, written by user `U`.
///
/// convo gives `sender: {id: "C", role: "customer"}` and `recipients: [{id:
/// "U", role: "agent"}]`: the customer is named as the author of an internal
/// note they never see, and the agent who wrote it as its recipient. Only
/// the outbound case is special-cased. Expected: the user side as sender (or
/// no sender), never the contact; no recipients. Fix area:
/// `leadconnector.rs` `participants` (treat `Kind::Comment` the same in
/// either direction).
#[test]
fn leadconnector_internal_comment_is_never_from_the_customer() {
    let m = one(
        Vendor::Leadconnector,
        r#"{"id":"a","type":36,"messageType":"TYPE_INTERNAL_COMMENT","locationId":"L","contactId":"C","conversationId":"V",
            "dateAdded":"2024-03-27T18:13:49.000Z","direction":"inbound","contentType":"text/plain","userId":"U","body":"note"}"#,
    );
    assert_eq!(m.kind, Some(Kind::Comment));
    assert_ne!(m.sender.as_ref().and_then(|s| s.role.clone()), Some(Role::Customer), "sender {:?}", m.sender);
    assert!(
        m.recipients.iter().all(|r| r.role != Some(Role::Customer) && r.id.as_deref() != Some("U")),
        "recipients {:?}",
        m.recipients
    );
}

#[test]
fn bird_page_sample_with_a_null_result_is_one_isolated_message() {
    let body = br#"{"results":[null],"nextPageToken":"WyIyMDI0LTExLTE1VDEzOjM0OjQ1Ljc3NTYzMDE0OVoiLCJhMGEwM2IxOS03NTQ5LTRlZmUtOTBjZS1jNzdlYzI0ZjZmN2YiXQ==","total":1,"totalType":""}"#;
    let out = normalize_page(Vendor::Bird, body).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].raw.get(), "null");
    assert!(out[0].decode_error.is_some());
}

/// Each timestamp is parsed in the vendor's offset and emitted in UTC. An
/// instant near the edge of the four-digit years moves past them when
/// converted: Infobip `createdAt: "9999-12-31T23:00:00.000-05:00"` is
/// 10000-01-01T04:00Z; `"0000-01-01T00:30:00+01:00"` is year -1.
///
/// convo emits `created_at: "+10000-01-01T04:00:00Z"` and
/// `"-0001-12-31T23:30:00Z"`: neither is RFC 3339, which the model's doc
/// promises ("RFC 3339 in UTC") and the schema's `format: date-time`
/// requires, so the emitted message breaks its own JSON Schema. Expected:
/// a valid date-time, or null with the message still decoded / a
/// `decode_error` at `createdAt`. Fix area: the shared timestamp reading
/// (`convo_runtime::Timestamp`), refusing instants outside 0000..=9999 UTC.
#[test]
fn a_time_whose_utc_instant_leaves_years_0000_9999_is_not_emitted_against_the_schema() {
    let schema = schema();
    for at in ["9999-12-31T23:00:00.000-05:00", "0000-01-01T00:30:00+01:00"] {
        let m = one(Vendor::Infobip, &format!(r#"{{"id":"y","createdAt":"{at}"}}"#));
        let errors = schema_errors(&schema, &m);
        assert!(errors.is_empty(), "{at}: created_at {:?} breaks the schema: {errors:?}", m.created_at);
    }
}

// ---------------------------------------------------------------- passing probes

#[test]
fn offsets_give_the_right_utc_instant_for_every_vendor() {
    let m = one(
        Vendor::Infobip,
        r#"{"id":"i","createdAt":"2024-01-01T02:00:00.000+02:00","updatedAt":"2024-01-01T00:00:00.1234567891-0530"}"#,
    );
    assert_eq!(m.created_at, utc("2024-01-01T00:00:00Z"));
    assert_eq!(m.updated_at, utc("2024-01-01T05:30:00.123456789Z"));
    let m = one(
        Vendor::Infobip,
        r#"{"id":"i","createdAt":"2024-01-01T23:30:00.0-2359","updatedAt":"2024-01-01T00:00:00.5+0530"}"#,
    );
    assert_eq!(m.created_at, utc("2024-01-02T23:29:00Z"));
    assert_eq!(m.updated_at, utc("2023-12-31T18:30:00.5Z"));
    let m = one(
        Vendor::Bird,
        r#"{"id":"b","conversationId":"c","sender":{"id":"s"},"createdAt":"2024-11-25T20:12:10.514+02:00","updatedAt":"2024-01-01T00:00:00.1+1400"}"#,
    );
    assert_eq!(m.created_at, utc("2024-11-25T18:12:10.514Z"));
    assert_eq!(m.updated_at, utc("2023-12-31T10:00:00.1Z"));
    let m = one(Vendor::Leadconnector, r#"{"id":"l","dateAdded":"2024-03-27T18:13:49.0000000000-08:00"}"#);
    assert_eq!(m.created_at, utc("2024-03-28T02:13:49Z"));
    assert_eq!(m.updated_at, None);
}

#[test]
fn raw_is_each_element_byte_for_byte_in_every_envelope() {
    let cases: [(Vendor, &str, &[&str]); 4] = [
        (
            Vendor::Bird,
            "{\"results\" : [ \n {\"id\":\"b\" , \"conversationId\":\"c\",\"sender\":{\"id\":\"s\"},\"zz\":1.50,\"aa\":\"\\u00e9\\/\",\"createdAt\":\"2024-01-01T00:00:00Z\"}\t,\n{\"sender\":{\"id\":\"s\"}, \"id\":\"b2\",\"createdAt\":\"2024-01-01T00:00:00Z\",\"conversationId\":\"c\"} ] , \"total\":2}",
            &[
                "{\"id\":\"b\" , \"conversationId\":\"c\",\"sender\":{\"id\":\"s\"},\"zz\":1.50,\"aa\":\"\\u00e9\\/\",\"createdAt\":\"2024-01-01T00:00:00Z\"}",
                "{\"sender\":{\"id\":\"s\"}, \"id\":\"b2\",\"createdAt\":\"2024-01-01T00:00:00Z\",\"conversationId\":\"c\"}",
            ],
        ),
        (
            Vendor::Infobip,
            "{\"pagination\":{\"totalItems\":2},\"messages\":[{\"id\" :\"i\",\"n\":1e5,\"createdAt\":\"2024-01-01T00:00:00Z\"} ,\r\n {\"id\":\"j\", \"x\": [ 1 , 2 ]}]}",
            &["{\"id\" :\"i\",\"n\":1e5,\"createdAt\":\"2024-01-01T00:00:00Z\"}", "{\"id\":\"j\", \"x\": [ 1 , 2 ]}"],
        ),
        (
            Vendor::Octopush,
            "[ {\"message_id\":\"o\" ,\"text\":\"a\\nb\"}\n, {\"message_id\":\"p\",\"big\":123456789012345678901234567890} ]",
            &[
                "{\"message_id\":\"o\" ,\"text\":\"a\\nb\"}",
                "{\"message_id\":\"p\",\"big\":123456789012345678901234567890}",
            ],
        ),
        (
            Vendor::Leadconnector,
            "{\"traceId\":\"t\",\"messages\":{ \"nextPage\":false , \"messages\" :[ {\"id\":\"l\" , \"body\":\"x\\ty\",\"dateAdded\":\"2024-01-01T00:00:00.000Z\"} , {\"id\":\"m\",\"weird\":-0.0} ] ,\"lastMessageId\":\"m\"}}",
            &[
                "{\"id\":\"l\" , \"body\":\"x\\ty\",\"dateAdded\":\"2024-01-01T00:00:00.000Z\"}",
                "{\"id\":\"m\",\"weird\":-0.0}",
            ],
        ),
    ];
    for (vendor, body, raws) in cases {
        let out = normalize_page(vendor, body.as_bytes()).unwrap();
        let got: Vec<&str> = out.iter().map(|m| m.raw.get()).collect();
        assert_eq!(got, raws, "{vendor:?}");
        assert!(out.iter().all(|m| m.decode_error.is_none()), "{vendor:?}");
    }
}

#[test]
fn documented_values_map_to_their_meaning() {
    // Infobip: outbound WhatsApp image with caption from a bot.
    let m = one(
        Vendor::Infobip,
        r#"{"id":"i1","from":"a","to":"b","channel":"WHATSAPP","direction":"OUTBOUND","contentType":"IMAGE","content":{"url":"https://x/a.png","caption":"cap"},"authorType":"BOT","authorId":"bot1"}"#,
    );
    assert_eq!(m.direction, Some(Direction::Outbound));
    let s = m.sender.as_ref().unwrap();
    assert_eq!((s.address.as_deref(), s.id.as_deref(), s.role.clone()), (Some("a"), Some("bot1"), Some(Role::Bot)));
    assert_eq!(m.recipients[0].address.as_deref(), Some("b"));
    assert_eq!(m.text.as_deref(), Some("cap"));
    assert_eq!(m.attachments[0].caption.as_deref(), Some("cap"));
    // Infobip: inbound e-mail; location.
    let m = one(
        Vendor::Infobip,
        r#"{"id":"i2","from":"a@x","to":"b@y","channel":"EMAIL","direction":"INBOUND","contentType":"EMAIL","content":{"subject":"S","contentText":"T","contentHtml":"<p>T</p>"}}"#,
    );
    assert_eq!((m.kind, m.subject.as_deref(), m.text.as_deref()), (Some(Kind::Email), Some("S"), Some("T")));
    assert_eq!(m.sender.unwrap().role, Some(Role::Customer));
    let m = one(
        Vendor::Infobip,
        r#"{"id":"i3","contentType":"LOCATION","content":{"latitude":1.5,"longitude":2.5,"locationName":"N","address":"A"}}"#,
    );
    assert_eq!(
        m.content,
        Content::Location {
            latitude: Some(1.5),
            longitude: Some(2.5),
            name: Some("N".into()),
            address: Some("A".into())
        }
    );
    // LeadConnector: outbound call by a user, string duration; unanswered live call meta.
    let m = one(
        Vendor::Leadconnector,
        r#"{"id":"l1","type":1,"messageType":"TYPE_CALL","contactId":"C","dateAdded":"2024-03-27T18:13:49Z","direction":"outbound","meta":{"callDuration":"120","callStatus":"completed"},"userId":"U"}"#,
    );
    assert_eq!(m.kind, Some(Kind::Call));
    assert_eq!(m.content, Content::Call { duration_seconds: Some(120), status: Some("completed".into()) });
    assert_eq!(m.sender.as_ref().unwrap().id.as_deref(), Some("U"));
    assert_eq!(m.recipients[0].id.as_deref(), Some("C"));
    let m = one(
        Vendor::Leadconnector,
        r#"{"id":"l5","messageType":"TYPE_CALL","contactId":"C","direction":"inbound","meta":{"call":{"duration":null,"status":"no-answer"}}}"#,
    );
    assert_eq!(m.content, Content::Call { duration_seconds: None, status: Some("no-answer".into()) });
    assert_eq!(m.sender.unwrap().id.as_deref(), Some("C"));
    // LeadConnector: inbound e-mail without body; SMS with attachment from a workflow.
    let m = one(
        Vendor::Leadconnector,
        r#"{"id":"l2","messageType":"TYPE_EMAIL","contactId":"C","direction":"inbound","meta":{"email":{"messageIds":["m1"],"subject":"Hello"}}}"#,
    );
    assert_eq!((m.kind, m.subject.as_deref(), m.text.as_deref()), (Some(Kind::Email), Some("Hello"), None));
    let m = one(
        Vendor::Leadconnector,
        r#"{"id":"l3","messageType":"TYPE_SMS","contactId":"C","direction":"outbound","body":"Hi","status":"delivered","attachments":["https://x/a.png"],"source":"workflow"}"#,
    );
    assert_eq!((m.status, m.text.as_deref()), (Some(Status::Delivered), Some("Hi")));
    assert_eq!(m.sender.unwrap().role, Some(Role::System));
    assert_eq!(m.attachments[0].url, "https://x/a.png");
    // Bird: sender types, statuses, template instead of body, two recipients.
    for (ty, dir, role) in [
        ("contact", Direction::Inbound, Role::Customer),
        ("user", Direction::Outbound, Role::Agent),
        ("flow", Direction::Outbound, Role::Bot),
        ("accessKey", Direction::Outbound, Role::System),
    ] {
        let m = one(Vendor::Bird, &format!(r#"{{"id":"b","conversationId":"c","sender":{{"id":"s","type":"{ty}"}}}}"#));
        assert_eq!((m.direction, m.sender.unwrap().role), (Some(dir), Some(role)), "{ty}");
    }
    for (st, unified) in [
        ("accepted", Status::Accepted),
        ("processing", Status::Pending),
        ("sent", Status::Sent),
        ("sending_failed", Status::Failed),
        ("delivered", Status::Delivered),
        ("delivery_failed", Status::Undelivered),
    ] {
        let m =
            one(Vendor::Bird, &format!(r#"{{"id":"b","conversationId":"c","sender":{{"id":"s"}},"status":"{st}"}}"#));
        assert_eq!(m.status, Some(unified), "{st}");
    }
    let m = one(
        Vendor::Bird,
        r#"{"id":"b4","conversationId":"c","sender":{"id":"s","type":"accessKey"},"recipients":[{"type":"to","id":"r1","identifierKey":"phonenumber","identifierValue":"+1"},{"type":"to","id":"r2","identifierKey":"phonenumber","identifierValue":"+2"}],"template":{"projectId":"p","version":"v","locale":"en","parameters":[]}}"#,
    );
    assert_eq!(
        m.content,
        Content::Template { template: json!({"projectId":"p","version":"v","locale":"en","parameters":[]}) }
    );
    assert_eq!(m.recipients.iter().map(|r| r.address.as_deref()).collect::<Vec<_>>(), [Some("+1"), Some("+2")]);
    // Octopush: the page's inbound RCS sample item: contact to account.
    let m = one(
        Vendor::Octopush,
        r#"{"message_id":"o1","text":"Example inbound RCS message","direction":"inbound","delivery_status":null,"channel":"rcs","user_identifier":"u","user_identifiers":{"phone_number":"+33","email":"e@x","facebook_page_id":null},"agent_assigned_to":null,"contact_name":"Example name","contact_identifiers":{"phone_number":"+44","email":null,"facebook_id":null}}"#,
    );
    let s = m.sender.unwrap();
    assert_eq!((s.address.as_deref(), s.name.as_deref()), (Some("+44"), Some("Example name")));
    assert_eq!(m.recipients[0].address.as_deref(), Some("+33"));
    assert_eq!(m.text.as_deref(), Some("Example inbound RCS message"));
}

#[test]
fn every_emitted_message_fits_the_schema() {
    let schema = schema();
    let cases = [
        (
            Vendor::Bird,
            r#"{"id":"b","conversationId":"c","sender":{"id":"s","type":"contact"},"body":{"type":"gif","gif":{"mediaUrl":"https://x/a.gif"}},"createdAt":"2016-12-31T23:59:60Z"}"#,
        ),
        (
            Vendor::Infobip,
            r#"{"id":"i","channel":"SOMETHING","direction":"SIDEWAYS","contentType":"CAROUSEL","content":{"x":1},"authorType":"ROBOT"}"#,
        ),
        (
            Vendor::Leadconnector,
            r#"{"id":"l","messageType":"TYPE_NEW","status":"bounced","direction":"up","meta":{"callDuration":"x"}}"#,
        ),
        (
            Vendor::Octopush,
            r#"{"message_id":"o","channel":"multi_channel","delivery_status":"sending","direction":"outbound"}"#,
        ),
        (Vendor::Octopush, r#"{"message_id":7}"#),
    ];
    for (vendor, m) in cases {
        let m = one(vendor, m);
        assert!(schema_errors(&schema, &m).is_empty(), "{vendor:?}: {:?}", schema_errors(&schema, &m));
    }
}

#[test]
fn decode_error_only_where_the_typed_view_fails() {
    let ok = one(Vendor::Leadconnector, r#"{"id":"l","meta":{"callDuration":120}}"#);
    assert!(ok.decode_error.is_none());
    let ok = one(
        Vendor::Bird,
        r#"{"id":"b","conversationId":"c","sender":{"id":"s"},"body":{"type":"carousel","carousel":{}},"interactions":null}"#,
    );
    assert!(ok.decode_error.is_none());
    let bad = one(Vendor::Bird, r#"{"id":"b","conversationId":"c","sender":{"id":5}}"#);
    assert_eq!(bad.decode_error.as_ref().map(|e| e.path.as_str()), Some("sender.id"));
    assert_eq!(bad.id.as_deref(), Some("b"));
}
