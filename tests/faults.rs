//! Faults across the bridge and the desktop store: duplicated and reordered webhooks end in the same
//! inbox as the clean delivery (order by Meta's timestamps, dedupe by wamid, statuses only forward).

mod common;

use coexist_core::{ContactKey, ConversationKey};
use coexist_store::Store;
use common::*;
use serde_json::Value;

const T0: i64 = 1_764_000_000;
const CUSTOMER: &str = "15551230001";

/// One conversation: the customer writes, the phone's Business App answers, statuses follow.
fn conversation() -> Vec<Vec<u8>> {
    vec![
        inbound_text("wamid.C1", CUSTOMER, "Ana", T0, "Hi, where is my order?"),
        app_echo("wamid.E1", CUSTOMER, T0 + 60, "It left this morning"),
        inbound_text("wamid.C2", CUSTOMER, "Ana", T0 + 120, "Thanks! And the invoice?"),
        status("wamid.E1", CUSTOMER, "sent", T0 + 61),
        status("wamid.E1", CUSTOMER, "delivered", T0 + 62),
        status("wamid.E1", CUSTOMER, "read", T0 + 90),
        app_echo("wamid.E2", CUSTOMER, T0 + 180, "Sending it now"),
    ]
}

async fn inbox_after(bodies: Vec<Vec<u8>>, dir: &std::path::Path) -> (Value, Value) {
    let bridge = start_bridge(dir).await;
    for body in bodies {
        assert_eq!(bridge.post_signed(body).await, 200);
    }
    let mut store = Store::open(dir.join("desk.db")).unwrap();
    bridge.sync_into(&mut store).await;
    let key = ConversationKey { phone_number_id: PHONE.into(), contact: ContactKey::from_wa_id(CUSTOMER) };
    let now = T0 + 600;
    let summary = serde_json::to_value(store.conversation(&key, now).unwrap().expect("conversation")).unwrap();
    let messages = serde_json::to_value(store.messages(&key, None, 100).unwrap()).unwrap();
    (essentials_of_summary(&summary), essentials_of_messages(&messages))
}

fn essentials_of_summary(s: &Value) -> Value {
    serde_json::json!({"owner": s["owner"], "window": s["window"], "unread": s["unread"], "last_activity": s["last_activity"]})
}

fn essentials_of_messages(m: &Value) -> Value {
    Value::Array(
        m.as_array()
            .expect("messages")
            .iter()
            .map(|m| serde_json::json!({"wamid": m["wamid"], "side": m["side"], "status": m["status"], "timestamp": m["timestamp"]}))
            .collect(),
    )
}

#[tokio::test]
async fn duplicated_and_reordered_webhooks_give_the_same_inbox() {
    let clean_dir = tempfile::tempdir().unwrap();
    let clean = inbox_after(conversation(), clean_dir.path()).await;

    // Reversed (statuses before their message, the last reply first), with every body delivered twice
    // and a third copy of the first status.
    let mut messy: Vec<Vec<u8>> = conversation().into_iter().rev().flat_map(|b| [b.clone(), b]).collect();
    messy.push(status("wamid.E1", CUSTOMER, "sent", T0 + 61));
    let messy_dir = tempfile::tempdir().unwrap();
    let messy = inbox_after(messy, messy_dir.path()).await;

    assert_eq!(clean, messy);
    let messages = clean.1.as_array().unwrap();
    assert_eq!(messages.len(), 4, "deduped by wamid: {messages:?}");
    let order: Vec<&str> = messages.iter().map(|m| m["wamid"].as_str().unwrap()).collect();
    assert_eq!(order, ["wamid.C1", "wamid.E1", "wamid.C2", "wamid.E2"], "ordered by Meta's timestamps");
    assert_eq!(messages[1]["status"], "read", "a late 'sent' never moves a read message backwards");
}

#[tokio::test]
async fn a_redelivered_webhook_is_stored_once_by_the_bridge() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = start_bridge(dir.path()).await;
    let body = inbound_text("wamid.R1", CUSTOMER, "Ana", T0, "once");
    for _ in 0..3 {
        assert_eq!(bridge.post_signed(body.clone()).await, 200);
    }
    assert_eq!(bridge.events_after(0).await.len(), 1);
}
