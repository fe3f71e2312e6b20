//! The "Waiting" list: customers who wrote last, longest waiting first (Meta time); a reply from
//! either side takes them off, their next message puts them back; blocked customers are not
//! listed (nobody can answer them). (Its query plan is tested beside the schema.)

mod common;

use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::json;

fn waiting(store: &Store) -> Vec<(String, Option<i64>)> {
    let filter = ConversationFilter { waiting: true, ..Default::default() };
    store.conversations(&filter, T0 + 3600).unwrap().into_iter().map(|c| (c.conversation.contact.0, c.waiting_since)).collect()
}

#[test]
fn customers_who_wrote_last_are_listed_longest_waiting_first_until_answered() {
    let (_dir, mut store) = open_store();
    // Arrival order is not Meta's: 333 wrote first, 111 last.
    store
        .apply_events(&[
            inbound("w1", "111", T0 + 30, "hello?"),
            inbound("w2", "222", T0 + 20, "my order"),
            inbound("w3", "333", T0 + 10, "refund"),
            inbound("w4", "333", T0 + 40, "anyone?"),
            inbound("w5", "444", T0 + 5, "hi"),
            api("w6", "444", T0 + 6, "ana", "hello, how can I help?"),
        ])
        .unwrap();
    assert_eq!(
        waiting(&store),
        [("222".to_string(), Some(T0 + 20)), ("111".into(), Some(T0 + 30)), ("333".into(), Some(T0 + 40))],
        "since each one's latest message; 444 was answered"
    );
    let all = store.conversations(&ConversationFilter::default(), T0).unwrap();
    let answered = all.iter().find(|c| c.conversation.contact.0 == "444").unwrap();
    assert_eq!((answered.waiting_since, answered.unanswered), (None, false));

    // The phone's Business App answers 222; 444 writes again.
    store.apply_events(&[echo("w7", "222", T0 + 50, "on its way"), inbound("w8", "444", T0 + 60, "thanks, one more thing")]).unwrap();
    assert_eq!(waiting(&store).iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), ["111", "333", "444"]);
    // History is no reply.
    store.apply_events(&[history("w9", "111", T0 + 70, true, "old reply")]).unwrap();
    assert!(waiting(&store).iter().any(|(c, _)| c == "111"));
}

#[test]
fn a_blocked_customer_is_not_waiting_for_anyone() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "spam"), inbound("w2", "222", T0 + 1, "question")]).unwrap();
    let block = json!({"phone_number_id": PNID, "contact": "111", "blocked": true, "by": "ana", "at_ms": 1});
    store.apply_relay_batch(&[RelayEvent::new(1, RelayKind::Block, 1, &block)]).unwrap();
    assert_eq!(waiting(&store), [("222".to_string(), Some(T0 + 1))]);
}
