//! Unsent replies: kept per conversation across restarts, exactly as typed, removed once empty,
//! never touched by the relay.

mod common;

use coexist_store::*;
use common::*;

fn texts(store: &Store) -> Vec<(String, String)> {
    store.drafts().unwrap().into_iter().map(|d| (d.conversation.contact.0, d.text)).collect()
}

#[test]
fn a_draft_is_kept_per_conversation_and_survives_a_restart() {
    let (dir, mut store) = open_store();
    store.save_draft(&key("111"), "Let me check with the ware").unwrap();
    store.save_draft(&key("222"), "Your refund").unwrap();
    store.save_draft(&key("111"), "Let me check with the warehouse").unwrap();
    drop(store);

    let store = Store::open(dir.path().join("inbox.db")).unwrap();
    let mut kept = texts(&store);
    kept.sort();
    assert_eq!(kept, vec![("111".into(), "Let me check with the warehouse".into()), ("222".into(), "Your refund".into())]);
}

#[test]
fn an_empty_draft_removes_it_and_whitespace_is_kept_as_typed() {
    let (_dir, mut store) = open_store();
    store.save_draft(&key("111"), "Hello").unwrap();
    store.save_draft(&key("111"), "").unwrap();
    assert!(store.drafts().unwrap().is_empty());
    store.save_draft(&key("111"), "").unwrap(); // removing what is not there is fine

    store.save_draft(&key("222"), "  two lines\n\n").unwrap();
    assert_eq!(texts(&store), vec![("222".into(), "  two lines\n\n".into())]);
}

#[test]
fn drafts_list_the_latest_edited_first() {
    let (_dir, mut store) = open_store();
    store.save_draft(&key("111"), "first").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    store.save_draft(&key("222"), "second").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    store.save_draft(&key("111"), "first, edited").unwrap();
    let order: Vec<_> = texts(&store).into_iter().map(|(contact, _)| contact).collect();
    assert_eq!(order, vec!["111", "222"]);
}

#[test]
fn a_hostile_or_huge_draft_is_text_or_refused_in_words() {
    let (_dir, mut store) = open_store();
    let hostile = "<img src=x onerror=alert(1)> '; DROP TABLE drafts; -- \"quoted\" NEAR(a b)";
    store.save_draft(&key("111"), hostile).unwrap();
    assert_eq!(texts(&store), vec![("111".into(), hostile.into())]);

    let huge = "é".repeat(MAX_DRAFT_CHARS + 1);
    let err = store.save_draft(&key("111"), &huge).unwrap_err().to_string();
    assert!(err.contains("at most 65536 characters"), "{err}");
    assert_eq!(texts(&store), vec![("111".into(), hostile.into())], "the refused draft leaves the last one kept");
    store.save_draft(&key("111"), &"é".repeat(MAX_DRAFT_CHARS)).unwrap();
}

#[test]
fn a_draft_needs_no_stored_conversation_and_the_relay_leaves_it_alone() {
    let (_dir, mut store) = open_store();
    store.save_draft(&key("333"), "Hi, following up on your order").unwrap();
    store.apply_events(&[inbound("wamid.A", "333", T0, "any news?")]).unwrap();
    assert_eq!(texts(&store), vec![("333".into(), "Hi, following up on your order".into())]);
}
