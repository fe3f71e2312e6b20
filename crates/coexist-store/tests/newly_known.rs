//! Entries of a kind this build cannot read (a newer bridge's) are logged under their kind's name;
//! the version that reads that kind applies them when it first opens the inbox, in log order,
//! before anything newer — so a desktop upgraded late still shows what the team did meanwhile.

mod common;

use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::json;

fn logged_kind(path: &std::path::Path, seq: i64) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT kind FROM events WHERE seq = ?1", [seq], |r| r.get(0)).unwrap()
}

#[test]
fn an_unknown_kind_is_logged_by_name_and_applied_once_a_version_reads_it() {
    let (dir, mut store) = open_store();
    let path = dir.path().join("inbox.db");
    store.apply_events(&[inbound("w1", "111", T0, "hi")]).unwrap();
    let future: RelayEvent = serde_json::from_value(json!({"seq": 1, "kind": "poll_vote", "received_at_ms": 1, "payload": {"x": 1}})).unwrap();
    let report = store.apply_relay_batch(&[future]).unwrap();
    assert_eq!((report.applied, report.problems.len()), (1, 0), "kept, not a problem");
    drop(store);
    assert_eq!(logged_kind(&path, 1), "unknown:poll_vote", "its name kept for the version that reads it");

    // As this build would have logged a `block` entry had it not known the kind yet.
    let block = json!({"phone_number_id": PNID, "contact": "111", "blocked": true, "by": "ana", "at_ms": 2000});
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("INSERT INTO events (seq, kind, received_at_ms, payload) VALUES (2, 'unknown:block', 2, ?1)", [block.to_string()]).unwrap();
    drop(conn);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().blocked_by.as_deref(), Some("ana"), "applied on open");
    drop(store);
    assert_eq!((logged_kind(&path, 1), logged_kind(&path, 2)), ("unknown:poll_vote".into(), "block".into()), "once");
    store = Store::open(&path).unwrap();
    let unblock = json!({"phone_number_id": PNID, "contact": "111", "blocked": false, "by": "ben", "at_ms": 3000});
    store.apply_relay_batch(&[RelayEvent::new(3, RelayKind::Block, 3, &unblock)]).unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().blocked_by, None, "what came after still wins");
}
