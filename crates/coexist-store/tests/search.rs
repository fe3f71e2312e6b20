//! Full-text search: filters, edits, revokes, and hostile input that must never be syntax.

mod common;

use coexist_core::*;
use coexist_store::*;
use common::*;
use proptest::prelude::*;

fn seeded() -> (tempfile::TempDir, Store) {
    let (dir, mut store) = open_store();
    store
        .apply_events(&[
            contact("111", "Ana"),
            inbound("w1", "111", T0, "Where is my order? It was café delivery"),
            api("a1", "111", T0 + 10, "bob", "Your order ships tomorrow"),
            inbound("w2", "222", T0 + 20, "Do you have the red shoes in size 40?"),
            echo("e1", "222", T0 + 30, "Yes, red shoes in stock"),
            inbound("w3", "333", T0 + 40, "he said \"NEAR(order, 5)\" and '; DROP TABLE messages; -- *"),
        ])
        .unwrap();
    (dir, store)
}

fn wamids(hits: &[SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.wamid.as_str()).collect()
}

fn q(text: &str) -> SearchQuery {
    SearchQuery { text: text.into(), ..Default::default() }
}

#[test]
fn finds_words_and_prefixes_newest_first_ignoring_case_and_accents() {
    let (_dir, store) = seeded();
    assert_eq!(wamids(&store.search(&q("ORDER")).unwrap()), ["w3", "a1", "w1"]);
    assert_eq!(wamids(&store.search(&q("red sho")).unwrap()), ["e1", "w2"]);
    assert_eq!(wamids(&store.search(&q("cafe")).unwrap()), ["w1"]);
    let hit = &store.search(&q("tomorrow")).unwrap()[0];
    assert_eq!(hit.conversation, key("111"));
    assert_eq!(hit.contact_name.as_deref(), Some("Ana"));
    assert_eq!(hit.agent.as_deref(), Some("bob"));
    assert!(hit.snippet.iter().any(|p| p.matched && p.text == "tomorrow"), "{:?}", hit.snippet);
}

#[test]
fn filters_narrow_the_hits() {
    let (_dir, store) = seeded();
    let by_side = SearchQuery { side: Some(Side::Customer), ..q("order") };
    assert_eq!(wamids(&store.search(&by_side).unwrap()), ["w3", "w1"]);
    let by_agent = SearchQuery { agent: Some("bob".into()), ..q("order") };
    assert_eq!(wamids(&store.search(&by_agent).unwrap()), ["a1"]);
    let by_contact = SearchQuery { contact: Some(ContactKey::from_wa_id("222")), ..q("red") };
    assert_eq!(wamids(&store.search(&by_contact).unwrap()), ["e1", "w2"]);
    let by_time = SearchQuery { from_ts: Some(T0 + 5), to_ts: Some(T0 + 35), ..q("order red") };
    assert!(store.search(&by_time).unwrap().is_empty(), "all words must match");
    let by_time = SearchQuery { from_ts: Some(T0 + 5), to_ts: Some(T0 + 35), ..q("red") };
    assert_eq!(wamids(&store.search(&by_time).unwrap()), ["e1", "w2"]);
    let by_number = SearchQuery { phone_number_id: Some("other".into()), ..q("red") };
    assert!(store.search(&by_number).unwrap().is_empty());
    let limited = SearchQuery { limit: 1, ..q("order") };
    assert_eq!(store.search(&limited).unwrap().len(), 1);
}

#[test]
fn hostile_strings_are_searched_as_words_never_as_syntax() {
    let (_dir, store) = seeded();
    for hostile in ["\"", "*", "NEAR(", "'; DROP TABLE messages; --", "order OR", "AND", "\"order", "col:order", "^order", "(", ")", "-", "a\"b", "NOT order"] {
        store.search(&q(hostile)).unwrap_or_else(|e| panic!("{hostile:?} failed: {e}"));
    }
    // Operators are ordinary words: "NOT order" means both words, and only w3 has "not"? none has.
    assert!(store.search(&q("NOT order")).unwrap().is_empty());
    assert_eq!(wamids(&store.search(&q("NEAR(")).unwrap()), ["w3"]);
    assert_eq!(wamids(&store.search(&q("'; DROP TABLE")).unwrap()), ["w3"]);
    // The table is still there.
    assert_eq!(store.messages(&key("111"), None, 10).unwrap().len(), 2);
}

#[test]
fn edits_are_searchable_and_revoked_messages_are_not() {
    let (_dir, mut store) = seeded();
    store
        .apply_events(&[
            Event::MessageEdited { wamid: "e1".into(), conversation: key("222"), timestamp: T0 + 31, body: MessageBody::Text { body: "Blue boots only".into() } },
            Event::MessageRevoked { wamid: "w1".into(), conversation: key("111"), timestamp: T0 + 50 },
        ])
        .unwrap();
    assert_eq!(wamids(&store.search(&q("boots")).unwrap()), ["e1"]);
    assert_eq!(wamids(&store.search(&q("red")).unwrap()), ["w2"]);
    assert!(store.search(&q("cafe")).unwrap().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_input_is_a_valid_search(text in any::<String>()) {
        let (_dir, store) = seeded();
        prop_assert!(store.search(&q(&text)).is_ok());
    }
}

#[test]
fn prefixes_work_with_and_without_a_contact() {
    let (_dir, store) = seeded();
    assert_eq!(wamids(&store.search(&q("sh")).unwrap()), ["e1", "w2", "a1"], "shoes, ships");
    let ana = SearchQuery { contact: Some(ContactKey::from_wa_id("111")), ..q("ORD DELIV") };
    assert_eq!(wamids(&store.search(&ana).unwrap()), ["w1"]);
    let ana_none = SearchQuery { contact: Some(ContactKey::from_wa_id("111")), ..q("zzz") };
    assert!(store.search(&ana_none).unwrap().is_empty());
    // Whole words come first: with a limit they fill it before any prefix is tried.
    let whole = SearchQuery { limit: 1, ..q("order") };
    assert_eq!(wamids(&store.search(&whole).unwrap()), ["w3"]);
}

#[test]
fn the_search_index_stays_in_step_through_edits_and_revokes_in_any_batch() {
    let (_dir, mut store) = open_store();
    let edit = |w: &str, c: &str, ts: i64, text: &str| Event::MessageEdited {
        wamid: w.into(),
        conversation: key(c),
        timestamp: ts,
        body: MessageBody::Text { body: text.into() },
    };
    let revoke = |w: &str, c: &str, ts: i64| Event::MessageRevoked { wamid: w.into(), conversation: key(c), timestamp: ts };
    // Same batch: insert, edit, edit, revoke; edits before their message; then later batches.
    store
        .apply_events(&[
            echo("e1", "111", T0, "first draft"),
            edit("e1", "111", T0 + 1, "second draft"),
            edit("e2", "111", T0 + 3, "early edit"),
            echo("e2", "111", T0 + 2, "late original"),
            echo("e3", "111", T0 + 4, "to be deleted"),
            revoke("e3", "111", T0 + 5),
        ])
        .unwrap();
    store.apply_events(&[edit("e1", "111", T0 + 9, "third draft"), revoke("e2", "111", T0 + 9)]).unwrap();
    store.check_integrity().unwrap();
    assert_eq!(wamids(&store.search(&q("third")).unwrap()), ["e1"]);
    assert!(store.search(&q("draft second")).unwrap().is_empty());
    assert!(store.search(&q("early")).unwrap().is_empty());
    assert!(store.search(&q("deleted")).unwrap().is_empty());
}
