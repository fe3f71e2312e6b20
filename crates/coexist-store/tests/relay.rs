//! Applying relay batches: Meta-shaped webhooks through the real core parser, idempotency by
//! seq, dedupe by wamid, problems kept, the cursor, outbox reconciliation.

mod common;

use coexist_core::rules::Owner;
use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::{json, Value};

fn envelope(field: &str, value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "waba1", "changes": [{"field": field, "value": value}]}]})
}

fn metadata() -> Value {
    json!({"display_phone_number": "15550100", "phone_number_id": PNID})
}

fn inbound_webhook(wamid: &str, from: &str, name: &str, ts: i64, text: &str) -> Value {
    envelope("messages", json!({
        "messaging_product": "whatsapp", "metadata": metadata(),
        "contacts": [{"profile": {"name": name}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": ts.to_string(), "type": "text", "text": {"body": text}}]
    }))
}

fn echo_webhook(wamid: &str, to: &str, ts: i64, text: &str) -> Value {
    envelope("smb_message_echoes", json!({
        "messaging_product": "whatsapp", "metadata": metadata(),
        "message_echoes": [{"from": "15550100", "to": to, "id": wamid, "timestamp": ts.to_string(), "type": "text", "text": {"body": text}}]
    }))
}

fn status_webhook(wamid: &str, to: &str, status: &str, ts: i64, callback: Option<&str>) -> Value {
    let mut st = json!({"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": to});
    if let Some(cb) = callback {
        st["biz_opaque_callback_data"] = json!(cb);
    }
    envelope("messages", json!({"messaging_product": "whatsapp", "metadata": metadata(), "statuses": [st]}))
}

fn relay(seq: i64, kind: RelayKind, payload: Value) -> RelayEvent {
    RelayEvent::new(seq, kind, 1_700_000_000_000 + seq, &payload)
}

fn hook(seq: i64, payload: Value) -> RelayEvent {
    relay(seq, RelayKind::Webhook, payload)
}

#[test]
fn a_batch_applies_once_and_advances_the_cursor() {
    let (_dir, mut store) = open_store();
    assert_eq!(store.cursor().unwrap(), 0);
    let batch = vec![
        hook(1, inbound_webhook("wamid.1", "111", "Ana", T0, "hi")),
        hook(2, inbound_webhook("wamid.2", "222", "Bea", T0 + 1, "hello")),
        hook(3, echo_webhook("wamid.3", "111", T0 + 2, "hi Ana")),
    ];
    let r = store.apply_relay_batch(&batch).unwrap();
    assert_eq!((r.applied, r.skipped, r.cursor), (3, 0, 3));
    assert_eq!(r.new_inbound.iter().map(|n| n.wamid.as_str()).collect::<Vec<_>>(), ["wamid.1", "wamid.2"]);
    assert_eq!(r.new_inbound[0].contact_name.as_deref(), Some("Ana"));
    assert_eq!(store.cursor().unwrap(), 3);
    let ana = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!((ana.owner, ana.unread, ana.contact_name.as_deref()), (Owner::App, 0, Some("Ana")));

    let again = store.apply_relay_batch(&batch).unwrap();
    assert_eq!((again.applied, again.skipped, again.cursor), (0, 3, 3));
    assert!(again.new_inbound.is_empty() && again.conversations_touched.is_empty());
    assert_eq!(store.messages(&key("111"), None, 10).unwrap().len(), 2);
}

#[test]
fn a_webhook_retried_under_a_new_seq_changes_nothing() {
    let (_dir, mut store) = open_store();
    store.apply_relay_batch(&[hook(1, inbound_webhook("wamid.1", "111", "Ana", T0, "hi"))]).unwrap();
    let r = store.apply_relay_batch(&[hook(2, inbound_webhook("wamid.1", "111", "Ana", T0, "hi"))]).unwrap();
    assert_eq!((r.applied, r.cursor), (1, 2));
    assert!(r.new_inbound.is_empty());
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().unread, 1);
}

#[test]
fn unparseable_entries_are_kept_as_problems_and_the_rest_applies() {
    let (_dir, mut store) = open_store();
    let r = store
        .apply_relay_batch(&[
            hook(1, json!({"hello": "not a webhook"})),
            relay(2, RelayKind::Outbound, json!({"wamid": 5})),
            hook(3, inbound_webhook("wamid.3", "111", "Ana", T0, "still here")),
        ])
        .unwrap();
    assert_eq!(r.problems, vec![1, 2]);
    assert_eq!(r.cursor, 3);
    assert_eq!(r.new_inbound.len(), 1);
    let problems = store.problems().unwrap();
    assert_eq!(problems.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(problems[0].payload, json!({"hello": "not a webhook"}));
    assert_eq!(problems[1].kind, "outbound");
    assert!(!problems[0].error.is_empty());
    // Re-applying does not duplicate them.
    store.apply_relay_batch(&[hook(1, json!({"hello": "not a webhook"}))]).unwrap();
    assert_eq!(store.problems().unwrap().len(), 2);
}

/// The local log keeps the JSON of what is not in the projections (problems, fields we do not
/// model); an entry wholly projected is not written twice (the bridge keeps it as received).
#[test]
fn the_log_keeps_the_json_of_what_the_projections_do_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let mut store = Store::open(&path).unwrap();
    let unmodelled = envelope("business_capability_update", json!({"max_daily_conversation_per_phone": 1000}));
    store
        .apply_relay_batch(&[
            hook(1, inbound_webhook("wamid.1", "111", "Ana", T0, "projected")),
            hook(2, unmodelled.clone()),
            hook(3, json!({"hello": "not a webhook"})),
        ])
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let payload = |seq: i64| -> String {
        conn.query_row("SELECT payload FROM events WHERE seq = ?1", [seq], |r| r.get(0)).unwrap()
    };
    assert_eq!(payload(1), "", "a wholly projected entry");
    assert_eq!(serde_json::from_str::<Value>(&payload(2)).unwrap(), unmodelled);
    assert_eq!(serde_json::from_str::<Value>(&payload(3)).unwrap(), json!({"hello": "not a webhook"}));
    assert_eq!(store.messages(&key("111"), None, 10).unwrap()[0].raw, Value::Null, "a modelled message is not stored twice");
}

/// A message type Coexist does not model keeps Meta's object: the thread shows it as raw JSON.
#[test]
fn an_unsupported_message_keeps_its_own_json() {
    let (_dir, mut store) = open_store();
    let mut hook_json = inbound_webhook("wamid.u", "111", "Ana", T0, "unused");
    let message = json!({"from": "111", "id": "wamid.u", "timestamp": T0.to_string(), "type": "hologram", "hologram": {"frames": 3}});
    hook_json["entry"][0]["changes"][0]["value"]["messages"][0] = message.clone();
    store.apply_relay_batch(&[hook(1, hook_json)]).unwrap();
    let stored = &store.messages(&key("111"), None, 10).unwrap()[0];
    assert!(matches!(stored.body, MessageBody::Unsupported { .. }), "{:?}", stored.body);
    assert_eq!(stored.raw, message);
}

#[test]
fn an_outbound_record_reconciles_the_outbox_and_statuses_follow_it() {
    let (_dir, mut store) = open_store();
    store
        .outbox_enqueue(NewOutboxItem {
            idempotency_key: "key-1".into(),
            phone_number_id: PNID.into(),
            to: "111".into(),
            contact: ContactKey::from_wa_id("111"),
            message: json!({"type": "text", "text": {"body": "Your order shipped"}}),
            campaign: None,
        })
        .unwrap();
    store.outbox_mark_sending("key-1").unwrap();
    let record = OutboundRecord {
        phone_number_id: PNID.into(),
        to: "111".into(),
        wa_id: Some("111".into()),
        wamid: "wamid.out".into(),
        agent: "ana".into(),
        idempotency_key: "key-1".into(),
        timestamp: T0,
        message: json!({"messaging_product": "whatsapp", "to": "111", "type": "text", "text": {"body": "Your order shipped"}}),
    };
    let r = store
        .apply_relay_batch(&[
            relay(1, RelayKind::Outbound, serde_json::to_value(&record).unwrap()),
            hook(2, status_webhook("wamid.out", "111", "delivered", T0 + 3, Some("key-1"))),
            hook(3, status_webhook("wamid.out", "111", "sent", T0 + 2, Some("key-1"))),
        ])
        .unwrap();
    assert_eq!(r.outbox_reconciled, vec!["key-1".to_string()]);
    let item = store.outbox_item("key-1").unwrap().unwrap();
    assert_eq!((item.state, item.wamid.as_deref()), (OutboxState::Sent, Some("wamid.out")));
    assert_eq!(item.delivery_status, Some(StatusKind::Delivered));
    let m = &store.messages(&key("111"), None, 5).unwrap()[0];
    assert_eq!((m.side, m.agent.as_deref(), m.status), (Side::Api, Some("ana"), Some(StatusKind::Delivered)));
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().owner, Owner::Api { agent: "ana".into() });
    assert!(store.outbox_for_conversation(&key("111")).unwrap().is_empty());
}

#[test]
fn reply_buttons_we_sent_keep_their_choices_and_the_list_shows_the_question() {
    let (_dir, mut store) = open_store();
    let record = OutboundRecord {
        phone_number_id: PNID.into(),
        to: "111".into(),
        wa_id: Some("111".into()),
        wamid: "wamid.buttons".into(),
        agent: "ana".into(),
        idempotency_key: "key-b".into(),
        timestamp: T0,
        message: json!({"messaging_product": "whatsapp", "to": "111", "type": "interactive", "interactive": {"type": "button",
            "body": {"text": "Deliver on <b>Saturday</b>?"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "button-1", "title": "Yes"}},
                                   {"type": "reply", "reply": {"id": "button-2", "title": "Another weekday"}}]}}}),
    };
    store.apply_relay_batch(&[relay(1, RelayKind::Outbound, serde_json::to_value(&record).unwrap())]).unwrap();
    let m = &store.messages(&key("111"), None, 5).unwrap()[0];
    assert_eq!(m.body, MessageBody::Choices { body: "Deliver on <b>Saturday</b>?".into(), choices: vec!["Yes".into(), "Another weekday".into()] });
    let summary = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(summary.preview.as_deref(), Some("Deliver on <b>Saturday</b>?"), "the question, not its buttons");
    let hits = store.search(&SearchQuery { text: "weekday".into(), ..Default::default() }).unwrap();
    assert_eq!(hits.len(), 1, "a button's title is searchable");
}

#[test]
fn template_catalogs_and_number_settings_arrive_through_the_relay() {
    let (_dir, mut store) = open_store();
    let catalog = TemplateCatalog {
        phone_number_id: PNID.into(),
        waba_id: "waba1".into(),
        templates: vec![
            json!({"id": "1", "name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "components": []}),
            json!({"id": "2", "name": "draft", "language": "en_US", "status": "PENDING", "components": []}),
        ],
    };
    let number = NumberSettings {
        phone_number_id: PNID.into(),
        waba_id: "waba1".into(),
        display_number: "+1 555 0100".into(),
        mode: NumberMode::Coexistence,
        tier_mps: 20,
    };
    let r = store
        .apply_relay_batch(&[
            relay(1, RelayKind::Templates, serde_json::to_value(&catalog).unwrap()),
            relay(2, RelayKind::Number, serde_json::to_value(&number).unwrap()),
        ])
        .unwrap();
    assert_eq!(r.numbers_touched, vec![PNID.to_string()]);
    assert_eq!(store.templates(PNID).unwrap().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["order_update"]);
    assert_eq!(store.numbers().unwrap(), vec![number]);
}

#[test]
fn large_batches_and_reopening_give_the_same_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let events: Vec<RelayEvent> = (1..=600)
        .map(|seq| {
            let contact = format!("{}", 100 + seq % 7);
            let ts = T0 + seq;
            match seq % 5 {
                0 => hook(seq, echo_webhook(&format!("wamid.e{seq}"), &contact, ts, "answer")),
                _ => hook(seq, inbound_webhook(&format!("wamid.i{seq}"), &contact, "C", ts, "question")),
            }
        })
        .collect();
    // Once in one big batch (the pipelined path) ...
    let (_d1, mut whole) = open_store();
    let r = whole.apply_relay_batch(&events).unwrap();
    assert_eq!(r.applied, 600);
    // ... and in uneven pieces, closing the store in between (cold cache).
    for chunk in events.chunks(77) {
        let mut store = Store::open(&path).unwrap();
        store.apply_relay_batch(chunk).unwrap();
    }
    let pieces = Store::open(&path).unwrap();
    let now = T0 + 1000;
    assert_eq!(pieces.conversations(&ConversationFilter::default(), now).unwrap(), whole.conversations(&ConversationFilter::default(), now).unwrap());
    assert_eq!(pieces.cursor().unwrap(), 600);
    let total_unread: i64 = whole.conversations(&ConversationFilter::default(), now).unwrap().iter().map(|c| c.unread).sum();
    assert!(total_unread > 0);
}

#[test]
fn a_large_batch_with_problems_and_repeated_seqs_applies_each_entry_once() {
    let (_dir, mut store) = open_store();
    let mut batch: Vec<RelayEvent> = (1..=300)
        .map(|seq| match seq % 50 {
            0 => hook(seq, json!(["not", "an", "envelope"])),
            _ => hook(seq, inbound_webhook(&format!("wamid.{seq}"), &format!("{}", 200 + seq % 9), "C", T0 + seq, "hi")),
        })
        .collect();
    batch.extend(batch[..40].to_vec()); // the relay resent the start
    let r = store.apply_relay_batch(&batch).unwrap();
    assert_eq!((r.applied, r.skipped, r.cursor), (300, 40, 300));
    assert_eq!(r.problems, vec![50, 100, 150, 200, 250, 300]);
    assert_eq!(r.new_inbound.len(), 294);
    let total: usize = (0..9).map(|c| store.messages(&key(&format!("{}", 200 + c)), None, 1000).unwrap().len()).sum();
    assert_eq!(total, 294);
}

/// The UI reads through its own connection: it sees what is committed and never waits for a
/// batch being written.
#[test]
fn a_reader_sees_committed_batches_without_waiting_for_a_writer() {
    let (dir, mut store) = open_store();
    let path = dir.path().join("inbox.db");
    store.apply_relay_batch(&[hook(1, inbound_webhook("wamid.1", "111", "Ana", T0, "hi"))]).unwrap();
    let reader = Store::open_reader(&path).unwrap();
    let all = ConversationFilter { limit: 50, ..Default::default() };
    assert_eq!(reader.conversations(&all, T0).unwrap().len(), 1);

    // Another connection holds the write lock mid-transaction: the reader answers at once,
    // with the last committed state.
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE; INSERT INTO conversations (phone_number_id, contact) VALUES ('1000', '999');").unwrap();
    let started = std::time::Instant::now();
    assert_eq!(reader.conversations(&all, T0).unwrap().len(), 1, "uncommitted changes are not seen");
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "the reader did not wait for the writer");
    writer.execute_batch("ROLLBACK").unwrap();

    store.apply_relay_batch(&[hook(2, inbound_webhook("wamid.2", "222", "Bea", T0 + 1, "hello"))]).unwrap();
    assert_eq!(reader.conversations(&all, T0).unwrap().len(), 2, "a committed batch is seen at once");
    let query = SearchQuery { text: "hello".into(), limit: 10, ..Default::default() };
    assert_eq!(reader.search(&query).unwrap().len(), 1);
}
