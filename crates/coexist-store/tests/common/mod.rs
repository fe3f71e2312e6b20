//! Event builders for the store's integration tests.
#![allow(dead_code)]

use coexist_core::*;
use coexist_store::Store;
use serde_json::json;

pub const PNID: &str = "1000";
pub const T0: i64 = 1_700_000_000;

pub fn key(contact: &str) -> ConversationKey {
    ConversationKey { phone_number_id: PNID.into(), contact: ContactKey::from_wa_id(contact) }
}

pub fn open_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("inbox.db")).unwrap();
    (dir, store)
}

pub fn msg(wamid: &str, contact: &str, side: Side, ts: i64, text: &str) -> Message {
    Message {
        wamid: wamid.into(),
        conversation: key(contact),
        side,
        from_business: matches!(side, Side::Api | Side::App),
        timestamp: ts,
        body: MessageBody::Text { body: text.into() },
        reply_to: None,
        referral: None,
        agent: (side == Side::Api).then(|| "ana".to_string()),
        idempotency_key: None,
        raw: json!({"id": wamid, "type": "text", "text": {"body": text}}),
    }
}

pub fn inbound(wamid: &str, contact: &str, ts: i64, text: &str) -> Event {
    Event::Message(msg(wamid, contact, Side::Customer, ts, text))
}

pub fn echo(wamid: &str, contact: &str, ts: i64, text: &str) -> Event {
    Event::Message(msg(wamid, contact, Side::App, ts, text))
}

pub fn api(wamid: &str, contact: &str, ts: i64, agent: &str, text: &str) -> Event {
    let mut m = msg(wamid, contact, Side::Api, ts, text);
    m.agent = Some(agent.into());
    Event::Message(m)
}

pub fn history(wamid: &str, contact: &str, ts: i64, from_business: bool, text: &str) -> Event {
    let mut m = msg(wamid, contact, Side::History, ts, text);
    m.from_business = from_business;
    Event::Message(m)
}

pub fn status(wamid: &str, contact: &str, kind: StatusKind, ts: i64, error: Option<i64>) -> Event {
    Event::Status(StatusUpdate {
        wamid: wamid.into(),
        conversation: key(contact),
        status: kind,
        timestamp: ts,
        errors: error
            .map(|code| vec![MetaError { code, title: Some("t".into()), message: Some("m".into()), details: Some("d".into()) }])
            .unwrap_or_default(),
        biz_opaque_callback_data: None,
        conversation_info: None,
        pricing: None,
    })
}

pub fn contact(contact: &str, name: &str) -> Event {
    Event::Contact(ContactProfile {
        phone_number_id: PNID.into(),
        contact: ContactKey::from_wa_id(contact),
        name: Some(name.into()),
        wa_id: Some(contact.into()),
        user_id: None,
    })
}
