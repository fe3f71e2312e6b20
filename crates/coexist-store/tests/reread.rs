//! What an earlier version kept but could not read is read again when a version opens the inbox:
//! a message it stored as unsupported (Meta's JSON kept beside it) gets its body, preview and
//! search text; a relay entry it could not parse (a problem) is applied, when applying it late
//! changes nothing that came after.

mod common;

use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::{json, Value};

/// A message as a version that did not know its type stored it.
fn unreadable_then(wamid: &str, ts: i64, raw: Value) -> Event {
    let mut m = msg(wamid, "111", Side::Customer, ts, "");
    let type_name = raw["type"].as_str().unwrap().to_string();
    m.body = MessageBody::Unsupported { type_name, reason: "not read by this version".into() };
    m.raw = raw;
    Event::Message(m)
}

fn body_of(store: &Store, wamid: &str) -> MessageBody {
    store.messages(&key("111"), None, 50).unwrap().into_iter().find(|m| m.wamid == wamid).unwrap().body
}

fn search(store: &Store, text: &str) -> Vec<String> {
    store.search(&SearchQuery { text: text.into(), ..Default::default() }).unwrap().into_iter().map(|h| h.wamid).collect()
}

#[test]
fn messages_shown_as_unsupported_get_their_body_when_a_version_reads_them() {
    let (dir, mut store) = open_store();
    let location = json!({"from": "111", "id": "w.loc", "timestamp": T0.to_string(), "type": "location",
        "location": {"latitude": 38.7, "longitude": -9.1, "name": "Lisbon harbour", "address": "Cais do Sodré"}});
    let metas_own = json!({"from": "111", "id": "w.meta", "timestamp": (T0 - 2).to_string(), "type": "unsupported",
        "errors": [{"code": 131051, "title": "Message type unknown"}]});
    let reaction = json!({"from": "111", "id": "w.react", "timestamp": (T0 - 1).to_string(), "type": "reaction",
        "reaction": {"message_id": "w.meta", "emoji": "👍"}});
    store.apply_events(&[
        unreadable_then("w.meta", T0 - 2, metas_own),
        unreadable_then("w.react", T0 - 1, reaction),
        unreadable_then("w.loc", T0, location),
    ])
    .unwrap();
    assert!(matches!(body_of(&store, "w.loc"), MessageBody::Unsupported { .. }));
    let preview = |store: &Store| store.conversation(&key("111"), T0).unwrap().unwrap().preview;
    assert_eq!(preview(&store).as_deref(), Some("Message type not supported"));
    assert!(search(&store, "harbour").is_empty());
    drop(store);

    let store = Store::open(dir.path().join("inbox.db")).unwrap();
    match body_of(&store, "w.loc") {
        MessageBody::Location { name, latitude, .. } => assert_eq!((name.as_deref(), latitude), (Some("Lisbon harbour"), 38.7)),
        other => panic!("still {other:?}"),
    }
    assert_ne!(preview(&store).as_deref(), Some("Message type not supported"), "the list shows it too");
    assert_eq!(search(&store, "harbour"), vec!["w.loc".to_string()], "and search finds it");
    let view = store.messages(&key("111"), None, 50).unwrap().into_iter().find(|m| m.wamid == "w.loc").unwrap();
    assert_eq!(view.raw, Value::Null, "stored as a message read on arrival is");
    assert!(matches!(body_of(&store, "w.meta"), MessageBody::Unsupported { .. }), "Meta's own `unsupported` has nothing to read");
    assert!(matches!(body_of(&store, "w.react"), MessageBody::Unsupported { .. }), "a reaction is not put in the thread");
}

#[test]
fn problem_entries_of_messages_are_applied_and_team_entries_stay_problems() {
    let (dir, store) = open_store();
    let path = dir.path().join("inbox.db");
    drop(store);
    let webhook = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": PNID},
        "messages": [{"from": "111", "id": "w.kept", "timestamp": T0.to_string(), "type": "text", "text": {"body": "kept for later"}}]}}]}]});
    let assignment = json!({"phone_number_id": PNID, "contact": "111", "assignee": "ben", "by": "ana", "at_ms": 1});
    // As an earlier version left them: a parser crash on the webhook, a team entry it could not read.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let insert = "INSERT INTO events (seq, kind, received_at_ms, payload, parse_error) VALUES (?1, ?2, 1, ?3, 'the parser crashed on this entry')";
    conn.execute(insert, rusqlite::params![1, "webhook", webhook.to_string()]).unwrap();
    conn.execute(insert, rusqlite::params![2, "assignment", assignment.to_string()]).unwrap();
    conn.execute("UPDATE sync_state SET cursor = 2", []).unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    assert!(matches!(body_of(&store, "w.kept"), MessageBody::Text { body } if body == "kept for later"));
    let problems: Vec<i64> = store.problems().unwrap().into_iter().map(|p| p.seq).collect();
    assert_eq!(problems, vec![2], "the assignment, applied after what came since, could undo it: it stays a problem");
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.messages(&key("111"), None, 50).unwrap().len(), 1, "read once");
}
