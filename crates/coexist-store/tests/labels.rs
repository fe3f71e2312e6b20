//! The team's labels, applied from the relay: shown on the conversation's row, alphabetically;
//! the latest entry for a label wins; the list filters by one; none changes the rules' state.

mod common;

use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::json;

fn label(seq: i64, contact: &str, name: &str, on: bool) -> RelayEvent {
    let payload = json!({"phone_number_id": PNID, "contact": contact, "label": name, "on": on, "by": "ana", "at_ms": seq * 1000});
    RelayEvent::new(seq, RelayKind::Label, 1, &payload)
}

fn labels_of(store: &Store, contact: &str) -> Vec<String> {
    store.conversation(&key(contact), T0).unwrap().unwrap().labels
}

fn listed(store: &Store, label: &str) -> Vec<String> {
    let filter = ConversationFilter { label: Some(label.into()), ..Default::default() };
    store.conversations(&filter, T0).unwrap().into_iter().map(|c| c.conversation.contact.0).collect()
}

#[test]
fn labels_show_on_the_row_and_the_list_filters_by_one() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "hi"), inbound("w2", "222", T0 + 1, "hello")]).unwrap();
    let before = store.conversation(&key("111"), T0).unwrap().unwrap();
    let report = store
        .apply_relay_batch(&[label(10, "111", "wholesale", true), label(11, "111", "VIP", true), label(12, "222", "VIP", true), label(13, "111", "Refund", true)])
        .unwrap();
    assert_eq!(report.conversations_touched, [key("111"), key("222")], "every open list redraws both rows");
    assert_eq!(labels_of(&store, "111"), ["Refund", "VIP", "wholesale"], "alphabetically, whatever the case");
    assert_eq!(listed(&store, "VIP"), ["222", "111"], "latest activity first");
    assert_eq!(listed(&store, "Refund"), ["111"]);
    assert!(listed(&store, "vip").is_empty(), "a label is its exact name");

    store.apply_relay_batch(&[label(14, "111", "VIP", false), label(15, "222", "VIP", false), label(16, "222", "VIP", true)]).unwrap();
    assert_eq!(labels_of(&store, "111"), ["Refund", "wholesale"]);
    assert_eq!(labels_of(&store, "222"), ["VIP"], "the latest entry wins");
    assert_eq!(
        store.labels().unwrap(),
        [("Refund", 1), ("VIP", 1), ("wholesale", 1)].map(|(label, n)| LabelCount { label: label.into(), conversations: n })
    );

    let after = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!((after.owner, after.window, after.unread), (before.owner, before.window, before.unread), "the rules are the customer's");
    // The same entries again (a resync): nothing changes.
    store.apply_relay_batch(&[label(13, "111", "Refund", true), label(14, "111", "VIP", false)]).unwrap();
    assert_eq!(labels_of(&store, "111"), ["Refund", "wholesale"]);
}

#[test]
fn a_label_can_come_before_the_first_message_and_stays_text() {
    let (_dir, mut store) = open_store();
    let hostile = "<b onclick=x>VIP</b>";
    store.apply_relay_batch(&[label(1, "333", hostile, true)]).unwrap();
    store.apply_events(&[inbound("w1", "333", T0, "hi")]).unwrap();
    assert_eq!(labels_of(&store, "333"), [hostile]);
    assert_eq!(listed(&store, hostile), ["333"]);
    let number = NumberSettings { phone_number_id: PNID.into(), waba_id: "w".into(), display_number: "+1555".into(), mode: NumberMode::Coexistence, tier_mps: 20 };
    store.apply_events(&[Event::Number(number)]).unwrap();
    let fresh = store.new_conversation(&key("444"), T0).unwrap().expect("a number of the team's");
    assert!(fresh.labels.is_empty(), "a conversation nobody wrote in has none");
}

#[test]
fn search_finds_messages_and_notes_within_one_label() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "my parcel is broken"), inbound("w2", "222", T0 + 1, "parcel arrived broken too")]).unwrap();
    let note = json!({"phone_number_id": PNID, "contact": "222", "author": "ben", "text": "broken parcel, refund", "at_ms": (T0 + 2) * 1000});
    store
        .apply_relay_batch(&[label(1, "222", "Refund", true), RelayEvent::new(2, RelayKind::Note, 1, &note)])
        .unwrap();
    let query = |label: Option<&str>| SearchQuery { text: "broken parcel".into(), label: label.map(str::to_string), ..Default::default() };
    let wamids = |label| store.search(&query(label)).unwrap().into_iter().map(|h| h.wamid).collect::<Vec<_>>();
    assert_eq!(wamids(None), ["w2", "w1"]);
    assert_eq!(wamids(Some("Refund")), ["w2"]);
    assert!(wamids(Some("VIP")).is_empty());
    assert_eq!(store.search_notes(&query(Some("Refund"))).unwrap().len(), 1);
    assert!(store.search_notes(&query(Some("VIP"))).unwrap().is_empty());
    let by_contact = SearchQuery { contact: Some(ContactKey::from_wa_id("222")), ..query(Some("Refund")) };
    assert_eq!(store.search(&by_contact).unwrap().len(), 1, "the contact's plan filters by label too");
}
