//! Muted conversations: kept by this desktop, shown on the summary until their time, and lifted
//! by unmuting; a mute needs no stored conversation and survives a restart.

mod common;

use coexist_store::*;
use common::*;

fn summary(store: &Store, contact: &str, now: i64) -> ConversationSummary {
    store.conversation(&key(contact), now).unwrap().unwrap()
}

#[test]
fn a_mute_lasts_until_its_time_or_until_unmuted() {
    let (dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "hi"), inbound("w2", "222", T0, "hello")]).unwrap();
    let until = (T0 + 3600) * 1000;
    store.mute(&key("111"), Some(until)).unwrap();
    store.mute(&key("222"), None).unwrap();
    assert!(store.is_muted(&key("111"), T0 * 1000).unwrap());
    assert!(!store.is_muted(&key("111"), until).unwrap(), "over at its time");
    let muted = summary(&store, "111", T0);
    assert_eq!((muted.muted, muted.muted_until_ms), (true, Some(until)));
    let later = summary(&store, "111", T0 + 3600);
    assert_eq!((later.muted, later.muted_until_ms), (false, None));
    assert_eq!(summary(&store, "111", T0).unread, 1, "its messages still count as unread");

    drop(store);
    let mut store = Store::open(dir.path().join("inbox.db")).unwrap();
    let kept = summary(&store, "222", T0 + 86_400 * 365);
    assert_eq!((kept.muted, kept.muted_until_ms), (true, None), "until unmuted, across a restart");
    store.unmute(&key("222")).unwrap();
    assert!(!store.is_muted(&key("222"), T0 * 1000).unwrap());
    assert!(!summary(&store, "222", T0).muted);
    store.mute(&key("333"), None).unwrap();
    assert!(store.is_muted(&key("333"), T0 * 1000).unwrap(), "no stored conversation needed");
}
