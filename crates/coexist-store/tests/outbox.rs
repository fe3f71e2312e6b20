//! The outbox: idempotent enqueue, crash recovery, retries, reconciliation with the relay.

mod common;

use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::json;

fn item(key: &str) -> NewOutboxItem {
    NewOutboxItem {
        idempotency_key: key.into(),
        phone_number_id: PNID.into(),
        to: "111".into(),
        contact: ContactKey::from_wa_id("111"),
        message: json!({"type": "text", "text": {"body": "Hello\u{0} there"}}),
        campaign: None,
    }
}

#[test]
fn the_same_key_twice_is_one_item() {
    let (_dir, mut store) = open_store();
    let first = store.outbox_enqueue(item("k1")).unwrap();
    assert_eq!(first.state, OutboxState::Queued);
    assert_eq!(first.preview, "Hello there");
    let mut changed = item("k1");
    changed.message = json!({"type": "text", "text": {"body": "different"}});
    let second = store.outbox_enqueue(changed).unwrap();
    assert_eq!(second, first);
    assert_eq!(store.outbox_ready_at(10, 0).unwrap().len(), 1);
    assert!(store.outbox_enqueue(item(" ")).is_err());
}

#[test]
fn an_item_left_sending_by_a_crash_is_ready_again_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    {
        let mut store = Store::open(&path).unwrap();
        store.outbox_enqueue(item("k1")).unwrap();
        store.outbox_enqueue(item("k2")).unwrap();
        store.outbox_mark_sending("k1").unwrap();
        store.outbox_mark_sending("k2").unwrap();
        store.outbox_mark_sent("k2", "wamid.2").unwrap();
        // The process dies here: the store is dropped without any cleanup.
    }
    let mut store = Store::open(&path).unwrap();
    let ready = store.outbox_ready(10).unwrap();
    assert_eq!(ready.iter().map(|i| i.idempotency_key.as_str()).collect::<Vec<_>>(), ["k1"]);
    assert_eq!(ready[0].state, OutboxState::Sending);
    assert_eq!(ready[0].attempts, 1);
    let again = store.outbox_mark_sending("k1").unwrap();
    assert_eq!(again.attempts, 2);
    assert_eq!(again.idempotency_key, "k1", "the retry keeps the key the bridge deduplicates by");
}

#[test]
fn failed_items_wait_for_their_retry_time_or_the_agent() {
    let (_dir, mut store) = open_store();
    store.outbox_enqueue(item("k1")).unwrap();
    store.outbox_enqueue(item("k2")).unwrap();
    store.outbox_mark_sending("k1").unwrap();
    let failed = store.outbox_mark_failed("k1", Some(130429), "rate limited", Some(5_000)).unwrap();
    assert_eq!(failed.state, OutboxState::Failed);
    assert_eq!(failed.error_code, Some(130429));
    store.outbox_mark_failed("k2", Some(131047), "window closed", None).unwrap();
    assert!(store.outbox_ready_at(10, 4_999).unwrap().is_empty());
    let ready = store.outbox_ready_at(10, 5_000).unwrap();
    assert_eq!(ready.iter().map(|i| i.idempotency_key.as_str()).collect::<Vec<_>>(), ["k1"]);
    assert_eq!(store.outbox_retry("k2").unwrap().state, OutboxState::Queued);
    assert_eq!(store.outbox_ready_at(10, 0).unwrap().len(), 1, "k2 is queued again, k1 still waits");
    assert!(store.outbox_retry("nope").is_err());
    assert!(store.outbox_mark_sent("nope", "w").is_err());
}

#[test]
fn the_relay_reconciles_sends_the_app_did_not_mark() {
    let (_dir, mut store) = open_store();
    store.outbox_enqueue(item("k1")).unwrap();
    store.outbox_enqueue(item("k2")).unwrap();
    store.outbox_mark_sending("k1").unwrap();
    assert_eq!(store.outbox_for_conversation(&key("111")).unwrap().len(), 2);

    // Crash after the bridge sent k1: the relay's outbound record tells us.
    let mut sent = msg("wamid.k1", "111", Side::Api, T0, "Hello there");
    sent.idempotency_key = Some("k1".into());
    let r = store.apply_events(&[Event::Message(sent)]).unwrap();
    assert_eq!(r.outbox_reconciled, vec!["k1".to_string()]);
    let k1 = store.outbox_item("k1").unwrap().unwrap();
    assert_eq!((k1.state, k1.wamid.as_deref()), (OutboxState::Sent, Some("wamid.k1")));
    // Now in the timeline, so no longer listed as pending for the conversation.
    let pending: Vec<String> = store.outbox_for_conversation(&key("111")).unwrap().into_iter().map(|i| i.idempotency_key).collect();
    assert_eq!(pending, ["k2"]);

    // A status carrying k2 as biz_opaque_callback_data also proves the send.
    let Event::Status(mut st) = status("wamid.k2", "111", StatusKind::Delivered, T0 + 5, None) else { unreachable!() };
    st.biz_opaque_callback_data = Some("k2".into());
    let r = store.apply_events(&[Event::Status(st)]).unwrap();
    assert_eq!(r.outbox_reconciled, vec!["k2".to_string()]);
    assert_eq!(r.statuses[0].idempotency_key.as_deref(), Some("k2"));
    let k2 = store.outbox_item("k2").unwrap().unwrap();
    assert_eq!((k2.state, k2.delivery_status), (OutboxState::Sent, Some(StatusKind::Delivered)));
    assert!(store.outbox_ready_at(10, i64::MAX).unwrap().is_empty());
    // A late failure report does not un-send it.
    assert_eq!(store.outbox_mark_failed("k1", None, "timeout", None).unwrap().state, OutboxState::Sent);
}

#[test]
fn campaigns_are_listed_together() {
    let (_dir, mut store) = open_store();
    for k in ["c1", "c2"] {
        store.outbox_enqueue(NewOutboxItem { campaign: Some("spring".into()), ..item(k) }).unwrap();
    }
    store.outbox_enqueue(item("solo")).unwrap();
    assert_eq!(store.outbox_for_campaign("spring").unwrap().len(), 2);
}

#[test]
fn a_send_that_did_not_go_out_is_queued_again_after_its_delay() {
    let (_dir, mut store) = open_store();
    store.outbox_enqueue(item("k1")).unwrap();
    store.outbox_mark_sending("k1").unwrap();
    let requeued = store.outbox_requeue("k1", Some(9_000)).unwrap();
    assert_eq!((requeued.state, requeued.attempts, requeued.next_attempt_at_ms), (OutboxState::Queued, 1, Some(9_000)));
    assert!(store.outbox_ready_at(10, 8_999).unwrap().is_empty());
    assert_eq!(store.outbox_ready_at(10, 9_000).unwrap().len(), 1);
    // Only a sending item moves.
    store.outbox_mark_sending("k1").unwrap();
    store.outbox_mark_sent("k1", "wamid.1").unwrap();
    assert_eq!(store.outbox_requeue("k1", None).unwrap().state, OutboxState::Sent);
    assert!(store.outbox_requeue("missing", None).is_err());
}
