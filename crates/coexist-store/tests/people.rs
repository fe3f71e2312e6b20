//! Finding a customer by name or number (the search box's "People").

mod common;

use coexist_store::*;
use common::*;

fn found(store: &Store, text: &str) -> Vec<String> {
    store.find_people(text, None, 20, T0 + 100).unwrap().into_iter().map(|c| c.conversation.contact.0).collect()
}

#[test]
fn a_customer_is_found_by_any_word_of_their_name_or_any_run_of_their_number() {
    let (_dir, mut store) = open_store();
    store
        .apply_events(&[
            contact("15551230001", "José Álvarez"),
            inbound("w1", "15551230001", T0, "hello"),
            inbound("w2", "15551239999", T0 + 10, "José told me to write"),
            contact("15551239999", "Maria <b>Lopez</b>"),
            inbound("w3", "4407700900123", T0 + 20, "hi"),
        ])
        .unwrap();

    assert_eq!(found(&store, "jose"), ["15551230001"], "accents and case ignored; a message naming him is not him");
    assert_eq!(found(&store, "Álv"), ["15551230001"], "a word's beginning");
    assert_eq!(found(&store, "jose lopez"), Vec::<String>::new(), "every word must match");
    assert_eq!(found(&store, "lopez"), ["15551239999"], "a name that arrived after the first message");
    assert_eq!(found(&store, "+1 (555) 123-"), ["15551239999", "15551230001"], "typed as a number: latest first");
    assert_eq!(found(&store, "0900123"), ["4407700900123"], "the end of a number, without its country code");
    assert_eq!(found(&store, "12"), Vec::<String>::new(), "too few digits to mean a number; no name has that word");
    assert_eq!(found(&store, ""), Vec::<String>::new());
    assert_eq!(found(&store, "\"; DROP TABLE contacts; -- NEAR(a b) *"), Vec::<String>::new(), "syntax is only text");
    assert_eq!(found(&store, "maria"), ["15551239999"], "the tables are still there");
}

#[test]
fn a_renamed_customer_is_found_by_the_new_name_only_and_within_their_number() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[contact("111", "Max"), inbound("w1", "111", T0, "hi")]).unwrap();
    store.apply_events(&[contact("111", "Maxime Dupont")]).unwrap();
    assert_eq!(found(&store, "dupont"), ["111"]);
    assert_eq!(found(&store, "maxime"), ["111"]);
    assert!(store.find_people("dupont", Some("another-number"), 20, T0).unwrap().is_empty());
    let row = &store.find_people("dupont", Some(PNID), 20, T0 + 100).unwrap()[0];
    assert_eq!(row.contact_name.as_deref(), Some("Maxime Dupont"), "a list row, as the inbox shows it");
    store.check_integrity().unwrap();
}

#[test]
fn names_are_found_whichever_batch_brings_them_and_in_whatever_order() {
    let (dir, mut store) = open_store();
    // A name before any message; a message before any name; a name twice in one batch.
    store.apply_events(&[contact("111", "Ana"), inbound("w1", "222", T0, "hi")]).unwrap();
    store.apply_events(&[inbound("w2", "111", T0 + 1, "hello"), contact("222", "Bruno"), contact("222", "Bruno Costa")]).unwrap();
    store.apply_events(&[contact("333", "Cleo"), inbound("w3", "333", T0 + 2, "hey"), contact("333", "Cléo Martin")]).unwrap();
    assert_eq!(found(&store, "ana"), ["111"]);
    assert_eq!(found(&store, "bruno"), ["222"]);
    assert_eq!(found(&store, "costa"), ["222"]);
    assert_eq!(found(&store, "cleo martin"), ["333"], "the name last written");
    // Named again after a restart (nothing cached: the names are written again, and the index
    // would refuse a second row for one conversation).
    let path = dir.path().join("inbox.db");
    drop(store);
    let mut store = Store::open(&path).unwrap();
    store.apply_events(&[contact("222", "Bruno Costa"), contact("111", "Ana"), contact("111", "Ana")]).unwrap();
    assert_eq!((found(&store, "bruno"), found(&store, "ana")), (vec!["222".to_string()], vec!["111".to_string()]));
}
