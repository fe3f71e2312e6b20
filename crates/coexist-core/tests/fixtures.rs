//! Realistic webhook bodies (tests/fixtures/*.json, modelled on Meta's documented payloads)
//! parsed into the events the inbox relies on. Also parses every file in
//! /work/shared/meta-samples (../shared/meta-samples from the repo root) when it exists.

use std::fs;
use std::path::{Path, PathBuf};

use coexist_core::*;

const PNID: &str = "106540352242922";
const CUSTOMER: &str = "16505551234";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn parse(name: &str) -> Vec<Event> {
    let path = fixture_dir().join(format!("{name}.json"));
    let body = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse_webhook(&body).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The one message event of a fixture (plus, for `messages`, the contact event).
fn only_message(name: &str) -> Message {
    let messages: Vec<Message> = parse(name)
        .into_iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 1, "{name}: {messages:?}");
    messages.into_iter().next().unwrap()
}

fn customer_conversation() -> ConversationKey {
    ConversationKey { phone_number_id: PNID.into(), contact: ContactKey::from_wa_id(CUSTOMER) }
}

#[test]
fn every_fixture_parses_and_none_is_unreadable_by_accident() {
    let expected_unknown = ["unknown_field_quality", "smb_app_state_sync"];
    let mut count = 0;
    for entry in fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let events = parse(&name);
        assert!(!events.is_empty(), "{name} gave no events");
        let unknown = events.iter().any(|e| matches!(e, Event::Unknown { .. }));
        assert_eq!(unknown, expected_unknown.contains(&name.as_str()), "{name}: {events:#?}");
        // Every event survives a serde round trip (the store persists them as JSON).
        for event in &events {
            let json = serde_json::to_string(event).unwrap();
            let back: Event = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, event, "{name}");
        }
        count += 1;
    }
    assert!(count >= 40, "only {count} fixtures");
}

#[test]
fn inbound_text_with_contact() {
    let events = parse("messages_text");
    assert_eq!(events.len(), 2);
    match &events[0] {
        Event::Contact(c) => {
            assert_eq!(c.name.as_deref(), Some("Sheena Nelson"));
            assert_eq!(c.contact, ContactKey::from_wa_id(CUSTOMER));
            assert_eq!(c.wa_id.as_deref(), Some(CUSTOMER));
        }
        other => panic!("{other:?}"),
    }
    let Event::Message(m) = &events[1] else { panic!("{:?}", events[1]) };
    assert_eq!(m.side, Side::Customer);
    assert!(!m.from_business);
    assert_eq!(m.conversation, customer_conversation());
    assert_eq!(m.timestamp, 1739321024);
    assert_eq!(m.body, MessageBody::Text { body: "Hi! Is the blue jacket still available?".into() });
    assert_eq!(m.raw["type"], "text");
    assert!(m.reply_to.is_none() && m.referral.is_none());
}

#[test]
fn reply_context_is_kept() {
    let m = only_message("messages_text_reply");
    assert_eq!(m.reply_to.as_deref(), Some("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJPUklHSU5BTAA="));
}

#[test]
fn media_messages() {
    match only_message("messages_image").body {
        MessageBody::Image { media } => {
            assert_eq!(media.id.as_deref(), Some("1003383421387256"));
            assert_eq!(media.caption.as_deref(), Some("This one"));
            assert_eq!(media.mime_type.as_deref(), Some("image/jpeg"));
        }
        other => panic!("{other:?}"),
    }
    match only_message("messages_document").body {
        MessageBody::Document { media } => assert_eq!(media.filename.as_deref(), Some("invoice-0042.pdf")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(only_message("messages_audio_voice").body, MessageBody::Audio { voice: true, .. }));
    assert!(matches!(only_message("messages_video").body, MessageBody::Video { .. }));
    assert!(matches!(only_message("messages_sticker").body, MessageBody::Sticker { .. }));
}

#[test]
fn location_contacts_reaction_interactive_button_order_system() {
    match only_message("messages_location").body {
        MessageBody::Location { latitude, longitude, name, .. } => {
            assert!((latitude - 37.483307).abs() < 1e-9 && (longitude + 122.148981).abs() < 1e-9);
            assert_eq!(name.as_deref(), Some("Meta Headquarters"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(only_message("messages_contacts").body, MessageBody::Contacts { names: vec!["Barbara J. Johnson".into()] });
    assert_eq!(
        only_message("messages_reaction").body,
        MessageBody::Reaction { message_id: "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJPUklHSU5BTAA=".into(), emoji: "👍".into() }
    );
    assert_eq!(
        only_message("messages_interactive_button_reply").body,
        MessageBody::Interactive { reply_id: "track-order".into(), title: "Track my order".into() }
    );
    assert_eq!(
        only_message("messages_interactive_list_reply").body,
        MessageBody::Interactive { reply_id: "size-m".into(), title: "Size M".into() }
    );
    assert_eq!(
        only_message("messages_button").body,
        MessageBody::Button { text: "Stop promotions".into(), payload: Some("STOP_PROMOS".into()) }
    );
    assert_eq!(
        only_message("messages_order").body,
        MessageBody::Order {
            catalog_id: Some("194836987003835".into()),
            items: 2,
            text: Some("Please deliver after 5pm".into())
        }
    );
    let system = only_message("messages_system");
    assert!(matches!(&system.body, MessageBody::System { body } if body.contains("changed from")));
    assert!(!rules::is_customer_writing(&system));
}

#[test]
fn unsupported_messages_have_plain_reasons() {
    assert_eq!(
        only_message("messages_unsupported_voice").body,
        MessageBody::Unsupported {
            type_name: "voice".into(),
            reason: "Voice message — not available through the Cloud API; open the WhatsApp Business App".into()
        }
    );
    assert_eq!(
        only_message("messages_unsupported_location").body,
        MessageBody::Unsupported {
            type_name: "location".into(),
            reason: "Location — not available through the Cloud API; open the WhatsApp Business App".into()
        }
    );
    match only_message("messages_unsupported_unavailable").body {
        MessageBody::Unsupported { reason, .. } => assert!(reason.contains("not available yet"), "{reason}"),
        other => panic!("{other:?}"),
    }
    match only_message("messages_unknown_errors").body {
        MessageBody::Unsupported { type_name, reason } => {
            assert_eq!(type_name, "unknown");
            assert!(reason.contains("open the WhatsApp Business App"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn referral_opens_a_72_hour_window() {
    let m = only_message("messages_referral");
    let referral = m.referral.as_ref().expect("referral kept");
    assert_eq!(referral["source_type"], "ad");
    assert_eq!(rules::window_length(&m), 72 * 3600);
    let mut state = rules::ConversationState::new();
    state.apply(&Event::Message(m.clone()));
    assert_eq!(
        state.window(m.timestamp + 48 * 3600),
        rules::WindowState::Open { expires_at: m.timestamp + 72 * 3600, remaining_secs: 24 * 3600 }
    );
}

#[test]
fn customer_edit_and_revoke() {
    match &parse("messages_edit")[1] {
        Event::MessageEdited { wamid, conversation, body, timestamp } => {
            assert_eq!(wamid, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZBQ0TEXTAA=");
            assert_eq!(conversation, &customer_conversation());
            assert_eq!(*timestamp, 1739321024);
            assert_eq!(body, &MessageBody::Text { body: "Hi! Is the RED jacket still available?".into() });
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&parse("messages_revoke")[1],
        Event::MessageRevoked { wamid, .. } if wamid == "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZBQ0TEXTAA="));
}

#[test]
fn bsuid_only_contact_is_keyed_by_user_id() {
    let events = parse("messages_bsuid_only");
    let key = ContactKey::from_user_id("US.13491208655302741918");
    assert!(matches!(&events[0], Event::Contact(c) if c.contact == key && c.wa_id.is_none()
        && c.user_id.as_deref() == Some("US.13491208655302741918")));
    assert!(matches!(&events[1], Event::Message(m) if m.conversation.contact == key));
}

fn only_status(name: &str) -> StatusUpdate {
    match &parse(name)[..] {
        [Event::Status(s)] => s.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn statuses() {
    let sent = only_status("statuses_sent");
    assert_eq!(sent.status, StatusKind::Sent);
    assert_eq!(sent.conversation, customer_conversation());
    assert_eq!(sent.biz_opaque_callback_data.as_deref(), Some("coexist:idem-7f3a"));
    assert_eq!(sent.pricing.as_ref().unwrap()["category"], "service");
    assert_eq!(sent.conversation_info.as_ref().unwrap()["origin"]["type"], "service");
    assert_eq!(only_status("statuses_delivered").status, StatusKind::Delivered);
    assert_eq!(only_status("statuses_read").status, StatusKind::Read);

    let failed = only_status("statuses_failed_131047");
    assert_eq!(failed.status, StatusKind::Failed);
    assert_eq!(failed.errors[0].code, 131047);
    assert_eq!(failed.errors[0].title.as_deref(), Some("Re-engagement message"));
    assert!(failed.errors[0].details.as_deref().unwrap().contains("24 hours"));
    assert!(rules::closes_window(&failed));
    let payment = only_status("statuses_failed_131042");
    assert!(!rules::closes_window(&payment));
    assert!(explain_meta_error(payment.errors[0].code).what_to_do.contains("Payment Settings"));
}

#[test]
fn app_echoes_belong_to_the_customer_conversation() {
    let m = only_message("smb_message_echoes_text");
    assert_eq!(m.side, Side::App);
    assert!(m.from_business);
    assert_eq!(m.conversation, customer_conversation());
    // `to` written as "+16505551234" lands in the same conversation.
    assert_eq!(only_message("smb_message_echoes_image").conversation, customer_conversation());
    match &parse("smb_message_echoes_edit")[..] {
        [Event::MessageEdited { wamid, conversation, body, .. }] => {
            assert_eq!(wamid, "wamid.ECHO_TEXT_1");
            assert_eq!(conversation, &customer_conversation());
            assert_eq!(body, &MessageBody::Text { body: "Here's the info you requested (updated)".into() });
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&parse("smb_message_echoes_revoke")[..],
        [Event::MessageRevoked { wamid, conversation, timestamp: 1739321500 }]
            if wamid == "wamid.ECHO_IMAGE_1" && conversation == &customer_conversation()));
}

#[test]
fn history_messages_know_who_sent_them() {
    let events = parse("history");
    assert!(matches!(&events[0], Event::HistoryProgress { phase: Some(0), chunk_order: Some(1), progress: Some(55), error: None, .. }));
    let messages: Vec<&Message> = events.iter().filter_map(|e| if let Event::Message(m) = e { Some(m) } else { None }).collect();
    assert_eq!(messages.len(), 3);
    assert!(messages.iter().all(|m| m.side == Side::History && m.conversation == customer_conversation()));
    assert_eq!(messages.iter().map(|m| m.from_business).collect::<Vec<_>>(), vec![false, true, false]);
    assert!(matches!(&messages[2].body, MessageBody::Unsupported { type_name, .. } if type_name == "media_placeholder"));
    // The business-sent one carries its delivery status.
    assert!(events.iter().any(|e| matches!(e, Event::Status(s) if s.wamid == "wamid.HIST_OUT_1" && s.status == StatusKind::Delivered)));
    // History never opens the window nor owns the conversation.
    let mut state = rules::ConversationState::new();
    for e in &events {
        state.apply(e);
    }
    assert_eq!(state.owner(), rules::Owner::Unowned);
    assert!(matches!(state.window(1739231100), rules::WindowState::Closed { reason: rules::ClosedReason::NeverOpened }));
}

#[test]
fn history_media_followup_replaces_the_placeholder() {
    match &parse("history_media_followup")[..] {
        [Event::Message(m), Event::MessageEdited { wamid, body, conversation, .. }] => {
            assert_eq!(m.side, Side::History);
            assert!(m.from_business, "sent by the business (`to` present)");
            assert_eq!(conversation, &customer_conversation());
            assert_eq!(wamid, "wamid.HIST_MEDIA_1");
            assert!(matches!(body, MessageBody::Image { media } if media.caption.as_deref() == Some("Our catalogue")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn history_declined_is_progress_with_error() {
    match &parse("history_declined")[..] {
        [Event::HistoryProgress { error: Some(e), phone_number_id, .. }] => {
            assert_eq!(e.code, 2593109);
            assert_eq!(phone_number_id, PNID);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn app_address_book() {
    let events = parse("smb_app_state_sync");
    assert!(matches!(&events[0], Event::Contact(c)
        if c.name.as_deref() == Some("Pablo Morales") && c.contact == ContactKey::from_wa_id(CUSTOMER)));
    assert!(matches!(&events[1], Event::Unknown { field, raw }
        if field == "smb_app_state_sync" && raw["reason"].as_str().unwrap().contains("removed")));
}

#[test]
fn template_status_and_account_updates() {
    assert_eq!(
        parse("message_template_status_update"),
        vec![Event::TemplateStatus {
            waba_id: "102290129340398".into(),
            template_id: Some("1689556908129832".into()),
            name: "order_confirmation".into(),
            language: "en_US".into(),
            status: "APPROVED".into(),
            reason: None,
        }]
    );
    assert!(matches!(&parse("message_template_status_update_rejected")[0],
        Event::TemplateStatus { status, reason: Some(r), .. } if status == "REJECTED" && r == "INVALID_FORMAT"));
    for (name, expected) in [
        ("account_update_partner_removed", "PARTNER_REMOVED"),
        ("account_update_offboarded", "ACCOUNT_OFFBOARDED"),
        ("account_update_reconnected", "ACCOUNT_RECONNECTED"),
    ] {
        match &parse(name)[..] {
            [Event::AccountUpdate { event, waba_id, raw, .. }] => {
                assert_eq!(event, expected);
                assert_eq!(waba_id, "102290129340398");
                assert_eq!(raw["phone_number"], "15550783881");
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Real samples shared by the lead (skipped cleanly when absent).
#[test]
fn shared_meta_samples_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/meta-samples");
    let Ok(entries) = fs::read_dir(&dir) else {
        eprintln!("no {} — skipping", dir.display());
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let body = fs::read(&path).unwrap();
        // A sample may be a webhook body or something else Meta sends; it must never panic, and a
        // WABA envelope must parse.
        let looks_like_envelope = serde_json::from_slice::<serde_json::Value>(&body)
            .map(|v| v.get("object").is_some() && v.get("entry").is_some())
            .unwrap_or(false);
        let result = parse_webhook(&body);
        if looks_like_envelope {
            result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}
