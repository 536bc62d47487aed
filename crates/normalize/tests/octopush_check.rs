//! Focused checks of the Octopush mapping: the documented sample and each
//! fixture of `tests/fixtures/octopush/`. Their snapshots are taken by the
//! shared snapshot test, not here.

use convo_normalize::{Channel, Content, Direction, Kind, Message, Participant, Role, Status, Vendor, normalize_page};
use convo_testkit::{root, sample};

fn page(body: &[u8]) -> Vec<Message> {
    normalize_page(Vendor::Octopush, body).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture(name: &str) -> Vec<Message> {
    let path = root().join("tests/fixtures/octopush").join(format!("{name}.json"));
    page(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn participant(id: Option<&str>, address: Option<(&str, &str)>, name: Option<&str>, role: Role) -> Participant {
    Participant {
        id: id.map(str::to_owned),
        address: address.map(|(a, _)| a.to_owned()),
        address_type: address.map(|(_, t)| t.to_owned()),
        name: name.map(str::to_owned),
        role: Some(role),
    }
}

/// The raw text of each item of a bare-array page, as the vendor sent it.
fn raw_items(body: &[u8]) -> Vec<String> {
    let items: Vec<Box<serde_json::value::RawValue>> = serde_json::from_slice(body).unwrap();
    items.into_iter().map(|raw| raw.get().to_owned()).collect()
}

#[test]
fn documented_sample_maps_direction_to_sender_and_recipient_sides() {
    let body = sample("octopush.yaml", "200");
    let messages = page(&body);
    assert_eq!(messages.len(), 2);
    let contact = participant(None, Some(("***", "phone_number")), Some("Example name"), Role::Customer);
    let account = participant(Some("***"), Some(("***", "phone_number")), None, Role::System);

    let inbound = &messages[0];
    assert_eq!(inbound.vendor, Vendor::Octopush);
    assert_eq!(inbound.id.as_deref(), Some("***"));
    assert_eq!(inbound.channel, Some(Channel::Rcs));
    assert_eq!(inbound.direction, Some(Direction::Inbound));
    assert_eq!(inbound.status, None);
    assert_eq!(inbound.sender.as_ref(), Some(&contact));
    assert_eq!(inbound.recipients, vec![account.clone()]);
    assert_eq!(inbound.text.as_deref(), Some("Example inbound RCS message"));
    assert_eq!(inbound.content, Content::Text { text: "Example inbound RCS message".into() });

    let outbound = &messages[1];
    assert_eq!(outbound.channel, Some(Channel::Sms));
    assert_eq!(outbound.direction, Some(Direction::Outbound));
    assert_eq!(outbound.status, Some(Status::Pending), "`sending` is pending");
    assert_eq!(outbound.sender.as_ref(), Some(&account));
    assert_eq!(outbound.recipients, vec![contact]);
    assert_eq!(outbound.content, Content::Text { text: "Example outbound SMS message".into() });
}

#[test]
fn documented_sample_has_no_conversation_id_timestamps_subject_or_attachments() {
    for m in page(&sample("octopush.yaml", "200")) {
        assert_eq!(m.conversation_id, None);
        assert_eq!((m.created_at, m.updated_at), (None, None));
        assert_eq!(m.kind, Some(Kind::Message));
        assert_eq!(m.subject, None);
        assert!(m.attachments.is_empty());
    }
}

#[test]
fn raw_is_each_array_item_byte_for_byte() {
    for body in [
        sample("octopush.yaml", "200"),
        std::fs::read(root().join("tests/fixtures/octopush/unknown-values-and-extra-fields.json")).unwrap(),
    ] {
        let raws: Vec<String> = page(&body).iter().map(|m| m.raw.get().to_owned()).collect();
        assert_eq!(raws, raw_items(&body));
    }
}

#[test]
fn a_facebook_conversation_keeps_its_channel_literal_and_is_addressed_by_facebook_ids() {
    let messages = fixture("facebook-agent-assigned");
    assert_eq!(messages.len(), 3);
    for m in &messages {
        // The page never prints a channel value for Facebook: the literal is kept, not mapped by a guess.
        assert_eq!(m.channel, Some(Channel::Other("facebook".to_owned())));
        assert_eq!(m.kind, Some(Kind::Message));
    }
    let contact = participant(None, Some(("6234567890123456", "facebook_id")), Some("Jeanne Dupont"), Role::Customer);
    let agent =
        participant(Some("42"), Some(("104857600123456", "facebook_page_id")), Some("Camille Martin"), Role::Agent);
    assert_eq!(messages[0].direction, Some(Direction::Inbound));
    assert_eq!(messages[0].sender.as_ref(), Some(&contact));
    assert_eq!(messages[0].recipients, vec![agent.clone()]);
    assert_eq!(messages[1].sender.as_ref(), Some(&agent));
    assert_eq!(messages[1].recipients, vec![contact]);
}

#[test]
fn assigned_agent_object_gives_the_account_side_its_id_name_and_agent_role() {
    let messages = fixture("facebook-agent-assigned");
    let sender = messages[2].sender.as_ref().unwrap();
    assert_eq!(sender.id.as_deref(), Some("42"), "a numeric agent id becomes text");
    assert_eq!(sender.name.as_deref(), Some("Camille Martin"));
    assert_eq!(sender.role, Some(Role::Agent));
}

#[test]
fn delivered_and_read_statuses_map_to_their_unified_words() {
    let statuses: Vec<_> = fixture("facebook-agent-assigned").into_iter().map(|m| m.status).collect();
    assert_eq!(statuses, vec![None, Some(Status::Delivered), Some(Status::Read)]);
}

#[test]
fn unknown_channel_direction_and_status_keep_the_vendors_literal() {
    let messages = fixture("unknown-values-and-extra-fields");
    let channels: Vec<_> = messages.iter().map(|m| m.channel.clone()).collect();
    assert_eq!(
        channels,
        vec![
            Some(Channel::Other("multi_channel".into())),
            Some(Channel::Whatsapp),
            Some(Channel::Email),
            Some(Channel::Other("tiktok".into())),
        ]
    );
    let statuses: Vec<_> = messages.iter().map(|m| m.status.clone()).collect();
    assert_eq!(
        statuses,
        vec![Some(Status::Undelivered), None, Some(Status::Other("bounced".into())), Some(Status::Failed)]
    );
    assert_eq!(messages[3].direction, Some(Direction::Other("internal".into())));
}

#[test]
fn unknown_direction_names_neither_sender_nor_recipients() {
    let m = &fixture("unknown-values-and-extra-fields")[3];
    assert_eq!(m.sender, None);
    assert!(m.recipients.is_empty());
    assert_eq!(m.text.as_deref(), Some("Note: customer called about the invoice."));
}

#[test]
fn agent_as_string_or_number_is_the_agent_id_and_other_shapes_fall_back() {
    let messages = fixture("unknown-values-and-extra-fields");
    // A string agent.
    let sender = messages[0].sender.as_ref().unwrap();
    assert_eq!(sender, &participant(Some("agent-7"), Some(("+33700000001", "phone_number")), None, Role::Agent));
    // An object with neither `id` nor `name`: an agent is assigned, the id
    // stays the account's.
    let recipient = &messages[1].recipients[0];
    assert_eq!(
        recipient,
        &participant(Some("acc_5f1e2d3c"), Some(("+33700000002", "phone_number")), None, Role::Agent)
    );
    // A number.
    assert_eq!(messages[2].sender.as_ref().unwrap().id.as_deref(), Some("7"));
}

#[test]
fn undocumented_literals_that_are_unified_words_read_as_those_words() {
    let m = &fixture("unknown-values-and-extra-fields")[2];
    assert_eq!(m.channel, Some(Channel::Email));
    assert_eq!(serde_json::to_value(&m.channel).unwrap(), "email");
    assert_eq!(m.kind, Some(Kind::Message), "the channel does not make it an e-mail row");
    let sent =
        br#"[{"message_id": "m", "direction": "outbound", "delivery_status": "sent", "channel": "multi_channel"}]"#;
    let m = &page(sent)[0];
    assert_eq!(m.status, Some(Status::Sent));
    assert_eq!(m.channel, Some(Channel::Other("multi_channel".into())));
}

#[test]
fn email_channel_prefers_email_addresses() {
    let m = &fixture("unknown-values-and-extra-fields")[2];
    assert_eq!(
        m.sender.as_ref().unwrap(),
        &participant(Some("7"), Some(("billing@boutique.example", "email")), None, Role::Agent)
    );
    assert_eq!(
        m.recipients,
        vec![participant(None, Some(("paul.martin@example.com", "email")), Some("Paul Martin"), Role::Customer)]
    );
}

#[test]
fn unmodelled_fields_stay_in_raw() {
    let messages = fixture("unknown-values-and-extra-fields");
    assert!(messages[0].raw.get().contains(r#""sent_at": "2024-11-15T13:34:45+01:00""#));
    assert!(messages[0].raw.get().contains(r#""instagram_id": "17841400000000000""#));
    assert!(messages[1].raw.get().contains(r#""reply_to""#));
    assert!(messages[3].raw.get().contains(r#""score": 1.50"#), "number spelling is kept");
    assert!(messages[3].raw.get().contains(r#"["agent-7", "agent-9"]"#));
}

#[test]
fn an_item_with_only_an_id_maps_to_nulls_and_empty_content() {
    let m = &fixture("nulls-everywhere")[0];
    assert_eq!(m.id.as_deref(), Some("2ce93a6b-c18a-4daf-867a-8f9eadbcc1d8"));
    assert_eq!((m.channel.clone(), m.direction.clone(), m.status.clone()), (None, None, None));
    assert_eq!((m.sender.clone(), m.recipients.clone()), (None, vec![]));
    assert_eq!((m.text.clone(), m.content.clone()), (None, Content::Empty));
    assert_eq!(m.conversation_id, None);
}

#[test]
fn explicit_nulls_read_as_absent_values() {
    let messages = fixture("nulls-everywhere");
    let (only_id, nulls) = (&messages[0], &messages[1]);
    assert_eq!(
        (
            nulls.channel.clone(),
            nulls.direction.clone(),
            nulls.status.clone(),
            nulls.sender.clone(),
            nulls.text.clone()
        ),
        (
            only_id.channel.clone(),
            only_id.direction.clone(),
            only_id.status.clone(),
            only_id.sender.clone(),
            only_id.text.clone()
        )
    );
    assert_eq!(nulls.content, Content::Empty);
}

#[test]
fn empty_strings_and_empty_agent_object_name_nobody() {
    let messages = fixture("nulls-everywhere");
    let inbound = &messages[2];
    assert_eq!(inbound.direction, Some(Direction::Inbound));
    assert_eq!(inbound.sender.as_ref(), Some(&participant(None, None, None, Role::Customer)), "`\"\"` is no name");
    assert_eq!(inbound.recipients, vec![participant(None, None, None, Role::System)], "`\"\"` is no agent");
    assert_eq!(inbound.content, Content::Empty);

    let outbound = &messages[3];
    assert_eq!(outbound.status, Some(Status::Pending));
    assert_eq!(outbound.channel, Some(Channel::Rcs));
    assert_eq!(
        outbound.sender.as_ref(),
        Some(&participant(Some("acc_5f1e2d3c"), None, None, Role::System)),
        "`{{}}` is no agent"
    );
    assert_eq!(
        outbound.recipients,
        vec![participant(None, Some(("+33622222222", "phone_number")), None, Role::Customer)]
    );
    assert_eq!((outbound.text.clone(), outbound.content.clone()), (None, Content::Empty));
}

#[test]
fn a_body_that_is_not_a_bare_array_names_the_path() {
    let err = normalize_page(Vendor::Octopush, br#"{"messages": []}"#).unwrap_err();
    assert_eq!((err.vendor, err.path.as_str()), (Vendor::Octopush, "."));

    // A message of the wrong shape is isolated, naming its path; the
    // page goes on.
    let messages = normalize_page(Vendor::Octopush, br#"[{"message_id": "m1"}, {"text": "no id"}]"#).unwrap();
    assert_eq!(messages[0].decode_error, None);
    let error = messages[1].decode_error.as_ref().unwrap();
    assert_eq!((error.path.as_str(), error.reason.as_str()), (".", "missing field `message_id`"));

    let messages =
        normalize_page(Vendor::Octopush, br#"[{"message_id": "m1", "contact_identifiers": {"email": 5}}]"#).unwrap();
    assert_eq!(messages[0].decode_error.as_ref().unwrap().path, "contact_identifiers.email");
    assert_eq!(messages[0].id.as_deref(), Some("m1"));
}

#[test]
fn an_empty_array_is_an_empty_page() {
    assert!(page(b"[]").is_empty());
}

#[test]
fn every_page_fits_the_committed_schema() {
    let text = std::fs::read_to_string(root().join("generated/message.schema.json")).expect("committed schema");
    let schema = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("a valid JSON Schema");
    let mut bodies = vec![("documented sample".to_owned(), sample("octopush.yaml", "200"))];
    let dir = root().join("tests/fixtures/octopush");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        bodies.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    for (what, body) in bodies {
        for message in page(&body) {
            let value = serde_json::to_value(&message).unwrap();
            let errors: Vec<String> =
                schema.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path)).collect();
            assert!(errors.is_empty(), "{what}: message {:?} breaks the schema: {errors:#?}", message.id);
        }
    }
}
