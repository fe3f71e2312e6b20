//! A customer the team blocked, applied from the relay: the conversation says who blocked them
//! until an unblock entry comes; the rules' state is untouched; a resync changes nothing.

mod common;

use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::json;

fn block(seq: i64, contact: &str, blocked: bool, by: &str) -> RelayEvent {
    let payload = json!({"phone_number_id": PNID, "contact": contact, "blocked": blocked, "by": by, "at_ms": seq * 1000});
    RelayEvent::new(seq, RelayKind::Block, 1, &payload)
}

fn blocked_by(store: &Store, contact: &str) -> Option<String> {
    store.conversation(&key(contact), T0).unwrap().unwrap().blocked_by
}

#[test]
fn a_block_shows_who_blocked_until_an_unblock_and_leaves_the_rules_alone() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "hi"), inbound("w2", "222", T0 + 1, "hello")]).unwrap();
    let before = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(before.blocked_by, None);

    let report = store.apply_relay_batch(&[block(10, "111", true, "ana")]).unwrap();
    assert_eq!(report.conversations_touched, [key("111")], "every open list redraws the row");
    assert_eq!(blocked_by(&store, "111").as_deref(), Some("ana"));
    assert_eq!(blocked_by(&store, "222"), None, "one customer, not the number");
    let after = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!((after.owner, after.window, after.unread), (before.owner, before.window, before.unread), "the rules are the customer's");

    store.apply_relay_batch(&[block(11, "111", false, "ben"), block(12, "222", true, "ben"), block(13, "222", true, "ana")]).unwrap();
    assert_eq!(blocked_by(&store, "111"), None, "unblocked");
    assert_eq!(blocked_by(&store, "222").as_deref(), Some("ana"), "the latest entry wins");

    // The same entries again (a resync): nothing changes.
    store.apply_relay_batch(&[block(10, "111", true, "ana"), block(11, "111", false, "ben")]).unwrap();
    assert_eq!(blocked_by(&store, "111"), None);
}

#[test]
fn a_block_survives_a_restart_and_shows_on_the_list_row() {
    let (dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "333", T0, "<script>x</script>")]).unwrap();
    store.apply_relay_batch(&[block(1, "333", true, "<b>ana</b>")]).unwrap();
    drop(store);
    let store = Store::open(dir.path().join("inbox.db")).unwrap();
    assert_eq!(blocked_by(&store, "333").as_deref(), Some("<b>ana</b>"), "kept, as text");
    let listed = store.conversations(&ConversationFilter::default(), T0).unwrap();
    assert_eq!(listed[0].blocked_by.as_deref(), Some("<b>ana</b>"), "the list row says it too");
}
