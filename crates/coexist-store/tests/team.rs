//! The team's layer on a conversation, applied from the relay: assignments (the latest in relay
//! order wins, listed and filtered) and notes (once per entry, shown with the thread). Neither
//! changes the owner, the window or the unread count.

mod common;

use coexist_core::rules::{Owner, WindowState};
use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::{json, Value};

fn entry(seq: i64, kind: RelayKind, payload: Value) -> RelayEvent {
    RelayEvent::new(seq, kind, 1, &payload)
}

fn assignment(seq: i64, contact: &str, assignee: Option<&str>, by: &str) -> RelayEvent {
    let payload = json!({"phone_number_id": PNID, "contact": contact, "assignee": assignee, "by": by, "at_ms": seq * 1000});
    entry(seq, RelayKind::Assignment, payload)
}

fn note(seq: i64, contact: &str, author: &str, text: &str, at_ms: i64) -> RelayEvent {
    let payload = json!({"phone_number_id": PNID, "contact": contact, "author": author, "text": text, "at_ms": at_ms});
    entry(seq, RelayKind::Note, payload)
}

fn done_mark(seq: i64, contact: &str, done: bool) -> RelayEvent {
    let payload = json!({"phone_number_id": PNID, "contact": contact, "done": done, "by": "ana", "at_ms": seq * 1000});
    entry(seq, RelayKind::Done, payload)
}

fn customer_text(seq: i64, wamid: &str, from: &str, ts: i64) -> RelayEvent {
    let payload = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": PNID},
        "messages": [{"from": from, "id": wamid, "timestamp": ts.to_string(), "type": "text", "text": {"body": "thanks!"}}]}}]}]});
    entry(seq, RelayKind::Webhook, payload)
}

fn is_done(store: &Store, contact: &str) -> bool {
    store.conversation(&key(contact), T0).unwrap().unwrap().done
}

fn mine(store: &Store, agent: &str) -> Vec<String> {
    let filter = ConversationFilter { only_mine: Some(agent.into()), ..Default::default() };
    store.conversations(&filter, T0).unwrap().into_iter().map(|c| c.conversation.contact.as_str().to_string()).collect()
}

#[test]
fn the_latest_assignment_wins_and_mine_follows_it() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "hi"), inbound("w2", "222", T0 + 1, "hello")]).unwrap();
    store.apply_events(&[api("a1", "222", T0 + 2, "ben", "on it")]).unwrap();
    assert_eq!(mine(&store, "ben"), ["222"], "unassigned: mine is what I answered");

    let report = store.apply_relay_batch(&[assignment(1, "111", Some("ben"), "ana"), assignment(2, "222", Some("ana"), "ana")]).unwrap();
    assert_eq!(report.conversations_touched, vec![key("111"), key("222")], "both list rows redraw");
    assert_eq!(report.assignments.len(), 2);
    assert_eq!((report.assignments[0].assignee.as_deref(), report.assignments[0].by.as_str()), (Some("ben"), "ana"));
    assert_eq!(mine(&store, "ben"), ["111"], "assigned to ana: no longer ben's though he answered it");
    assert_eq!(mine(&store, "ana"), ["222"]);
    let c = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(c.assignee.as_deref(), Some("ben"));
    assert_eq!(c.owner, Owner::Unowned, "assigning is not answering");
    assert!(matches!(c.window, WindowState::Open { .. }));
    assert_eq!(c.unread, 1);

    store.apply_relay_batch(&[assignment(3, "111", Some("cleo"), "ben"), assignment(4, "111", None, "cleo")]).unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().assignee, None, "the later entry wins");
    let unassigned = store.conversations(&ConversationFilter { unassigned: true, ..Default::default() }, T0).unwrap();
    assert_eq!(unassigned.len(), 1);
    assert_eq!(unassigned[0].conversation, key("111"));
}

#[test]
fn a_conversation_can_be_assigned_before_its_first_message() {
    let (_dir, mut store) = open_store();
    store.apply_relay_batch(&[assignment(1, "+1 (333) 000", Some("ana"), "ana")]).unwrap();
    store.apply_events(&[inbound("w1", "1333000", T0, "hi")]).unwrap();
    let c = store.conversation(&key("1333000"), T0).unwrap().unwrap();
    assert_eq!((c.assignee.as_deref(), c.unread), (Some("ana"), 1), "same conversation, by its key");
}

#[test]
fn notes_are_kept_once_in_time_order_and_touch_only_the_timeline() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "where is my parcel?")]).unwrap();
    let before = store.conversation(&key("111"), T0).unwrap().unwrap();
    let text = "<script>alert(1)</script> VIP — ring after 5";
    let report = store
        .apply_relay_batch(&[note(1, "111", "ana", "second", 5_000), note(2, "111", "ben", text, 3_000)])
        .unwrap();
    assert_eq!(report.timelines_touched, vec![key("111")]);
    assert!(report.conversations_touched.is_empty(), "a note does not move the list row");
    assert_eq!(report.new_notes.iter().map(|n| n.seq).collect::<Vec<_>>(), vec![1, 2]);
    let again = store.apply_relay_batch(&[note(2, "111", "ben", text, 3_000)]).unwrap();
    assert_eq!(again.skipped, 1);
    assert!(again.new_notes.is_empty());

    let notes = store.notes(&key("111"), None, None).unwrap();
    let seen: Vec<(i64, &str, &str)> = notes.iter().map(|n| (n.seq, n.author.as_str(), n.text.as_str())).collect();
    assert_eq!(seen, vec![(2, "ben", text), (1, "ana", "second")], "oldest first, kept as written");
    assert_eq!(store.notes(&key("111"), Some(4_000), None).unwrap().len(), 1);
    assert_eq!(store.notes(&key("111"), None, Some(4_000)).unwrap()[0].seq, 2);
    assert!(store.notes(&key("222"), None, None).unwrap().is_empty());
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap(), before, "owner, window, unread, preview unchanged");
}

#[test]
fn notes_are_found_by_search_with_the_filters_and_never_as_syntax() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[contact("111", "Ana"), inbound("w1", "111", T0, "refund please")]).unwrap();
    let at = |secs: i64| secs * 1000;
    store
        .apply_relay_batch(&[
            note(1, "111", "ben", "Refund approved by Café ops", at(T0 + 10)),
            note(2, "222", "ana", "refunded twice? check \"NEAR(x\" '; DROP TABLE notes; --", at(T0 + 20)),
            note(3, "111", "ana", "<b>VIP</b> customer", at(T0 + 30)),
        ])
        .unwrap();
    let search = |query: SearchQuery| -> Vec<i64> { store.search_notes(&query).unwrap().iter().map(|n| n.seq).collect() };
    let q = |text: &str| SearchQuery { text: text.into(), ..Default::default() };

    assert_eq!(search(q("refund")), [2, 1], "every word as a prefix, newest first");
    assert_eq!(search(q("cafe OPS")), [1], "accents and case ignored");
    assert_eq!(search(q("NEAR(x")), [2]);
    assert_eq!(search(q("'; DROP TABLE notes")), [2]);
    assert_eq!(search(q("vip")), [3]);
    assert!(search(q("please")).is_empty(), "messages are not notes");
    assert_eq!(search(SearchQuery { agent: Some("ana".into()), ..q("refund") }), [2], "the agent filter is the author");
    assert_eq!(search(SearchQuery { contact: Some(key("111").contact), ..q("refund") }), [1]);
    assert_eq!(search(SearchQuery { from_ts: Some(T0 + 11), ..q("refund") }), [2]);
    assert_eq!(search(SearchQuery { to_ts: Some(T0 + 10), ..q("refund") }), [1], "the last second is whole");
    assert_eq!(search(SearchQuery { phone_number_id: Some("other".into()), ..q("refund") }), Vec::<i64>::new());
    assert!(search(SearchQuery { side: Some(Side::Customer), ..q("refund") }).is_empty(), "a note has no side");
    assert_eq!(search(SearchQuery { limit: 1, ..q("refund") }), [2]);

    let hit = &store.search_notes(&q("approved")).unwrap()[0];
    assert_eq!((hit.conversation.clone(), hit.contact_name.as_deref(), hit.author.as_str(), hit.at_ms), (key("111"), Some("Ana"), "ben", at(T0 + 10)));
    let marked: Vec<&str> = hit.snippet.iter().filter(|p| p.matched).map(|p| p.text.as_str()).collect();
    assert_eq!(marked, ["approved"]);
    let tagged = &store.search_notes(&q("customer")).unwrap()[0];
    let text: String = tagged.snippet.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(text, "<b>VIP</b> customer", "kept as written: the UI renders it as text");

    // Where a hit opens: the messages newer than the note (not those of its own second).
    store.apply_events(&[inbound("w2", "111", T0 + 10, "same second"), inbound("w3", "111", T0 + 50, "later")]).unwrap();
    let position = store.note_position(1).unwrap().unwrap();
    assert_eq!((position.conversation, position.at_ms, position.newer), (key("111"), at(T0 + 10), 1));
    assert_eq!(store.note_position(99).unwrap(), None);
}

#[test]
fn a_malformed_team_entry_is_a_problem_not_a_lost_batch() {
    let (_dir, mut store) = open_store();
    let broken = entry(1, RelayKind::Assignment, json!({"phone_number_id": PNID}));
    let report = store.apply_relay_batch(&[broken, assignment(2, "111", Some("ana"), "ana")]).unwrap();
    assert_eq!(report.problems, vec![1]);
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().assignee.as_deref(), Some("ana"));
    assert_eq!(store.cursor().unwrap(), 2);
}

#[test]
fn done_holds_until_the_customer_writes_again_in_relay_order() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "where is it?"), inbound("w2", "222", T0, "hi")]).unwrap();
    let report = store.apply_relay_batch(&[done_mark(1, "111", true)]).unwrap();
    assert_eq!(report.conversations_touched, vec![key("111")]);
    assert!(is_done(&store, "111") && !is_done(&store, "222"));
    let listed = |done| {
        let filter = ConversationFilter { done: Some(done), ..Default::default() };
        store.conversations(&filter, T0).unwrap().into_iter().map(|c| c.conversation).collect::<Vec<_>>()
    };
    assert_eq!((listed(true), listed(false)), (vec![key("111")], vec![key("222")]));

    // A message that reached the bridge after the mark reopens, even stamped before it by Meta
    // (a delayed webhook the teammate had not seen).
    store.apply_relay_batch(&[customer_text(2, "w3", "111", T0 - 60)]).unwrap();
    assert!(!is_done(&store, "111"));

    // In one batch: a message before the mark was seen; one after it reopens.
    store.apply_relay_batch(&[customer_text(3, "w4", "111", T0 + 1), done_mark(4, "111", true)]).unwrap();
    assert!(is_done(&store, "111"), "written before the mark");
    store.apply_relay_batch(&[done_mark(5, "222", true), customer_text(6, "w5", "222", T0 + 2)]).unwrap();
    assert!(!is_done(&store, "222"), "written after the mark");

    // Our own reply, an echo from the phone or a duplicate of a seen message do not reopen.
    store.apply_events(&[api("a1", "111", T0 + 3, "ana", "you're welcome"), echo("e1", "111", T0 + 4, "bye")]).unwrap();
    store.apply_relay_batch(&[customer_text(7, "w4", "111", T0 + 1)]).unwrap();
    assert!(is_done(&store, "111"));
    store.apply_relay_batch(&[done_mark(8, "111", false)]).unwrap();
    assert!(!is_done(&store, "111"), "taken up again");
}

#[test]
fn quick_replies_follow_the_relay_latest_first() {
    let (_dir, mut store) = open_store();
    let saved = |seq: i64, shortcut: &str, text: Option<&str>| {
        entry(seq, RelayKind::QuickReply, json!({"shortcut": shortcut, "text": text, "by": "ana", "at_ms": seq}))
    };
    let report = store.apply_relay_batch(&[saved(1, "thanks", Some("Thank you!")), saved(2, "hours", Some("9 to 5"))]).unwrap();
    assert!(report.quick_replies_changed);
    store.apply_relay_batch(&[saved(3, "hours", Some("9 to 6, Mon–Sat")), saved(4, "thanks", None)]).unwrap();
    let replies: Vec<(String, String)> = store.quick_replies().unwrap().into_iter().map(|q| (q.shortcut, q.text)).collect();
    assert_eq!(replies, vec![("hours".to_string(), "9 to 6, Mon–Sat".to_string())]);
    let unrelated = store.apply_relay_batch(&[note(5, "111", "ana", "x", 1)]).unwrap();
    assert!(!unrelated.quick_replies_changed);
}

#[test]
fn the_workload_counts_open_conversations_per_assignee() {
    let (_dir, mut store) = open_store();
    store
        .apply_events(&[inbound("w1", "111", T0, "a"), inbound("w2", "222", T0, "b"), inbound("w3", "333", T0, "c"), inbound("w4", "444", T0, "d")])
        .unwrap();
    store
        .apply_relay_batch(&[assignment(1, "111", Some("ana"), "ana"), assignment(2, "222", Some("ana"), "ben"), done_mark(3, "333", true)])
        .unwrap();
    store.mark_read(&key("222"), T0 + 1).unwrap();
    let query = MetricsQuery { from_ts: T0 - 86_400, to_ts: T0 + 86_400, ..Default::default() };
    let workload: Vec<(Option<String>, i64, i64)> =
        store.metrics(&query, T0 + 10).unwrap().workload.into_iter().map(|w| (w.assignee, w.open, w.unread)).collect();
    assert_eq!(workload, vec![(Some("ana".to_string()), 2, 1), (None, 1, 1)], "done (333) is nobody's work");
}

#[test]
fn a_snoozed_conversation_is_done_until_its_time() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "call me tomorrow")]).unwrap();
    let until_ms = (T0 + 3600) * 1000;
    let snooze = json!({"phone_number_id": PNID, "contact": "111", "done": true, "until_ms": until_ms, "by": "ana", "at_ms": T0 * 1000});
    store.apply_relay_batch(&[entry(1, RelayKind::Done, snooze)]).unwrap();
    let at = |store: &Store, now: i64| store.conversation(&key("111"), now).unwrap().unwrap();
    assert!(at(&store, T0 + 60).done);
    assert_eq!(at(&store, T0 + 60).snoozed_until_ms, Some(until_ms));
    assert!(!at(&store, T0 + 3600).done, "back at its time");
    assert_eq!(at(&store, T0 + 3600).snoozed_until_ms, None);
    let done_at = |store: &Store, now: i64| store.conversations(&ConversationFilter { done: Some(true), ..Default::default() }, now).unwrap().len();
    assert_eq!((done_at(&store, T0 + 60), done_at(&store, T0 + 3601)), (1, 0));

    let ended = |store: &Store, after: i64, until: i64| store.snoozes_ended(after * 1000, until * 1000).unwrap().len();
    assert_eq!((ended(&store, T0, T0 + 3599), ended(&store, T0 + 3599, T0 + 3600), ended(&store, T0 + 3600, T0 + 7200)), (0, 1, 0), "each end seen once");
    let query = MetricsQuery { from_ts: T0 - 86_400, to_ts: T0 + 86_400, ..Default::default() };
    assert!(store.metrics(&query, T0 + 60).unwrap().workload.is_empty(), "snoozed: nobody's work yet");
    assert_eq!(store.metrics(&query, T0 + 3601).unwrap().workload.len(), 1);

    // The customer writing reopens it before its time; an ended snooze is not reported then.
    store.apply_relay_batch(&[customer_text(2, "w2", "111", T0 + 120)]).unwrap();
    assert!(!at(&store, T0 + 130).done);
    assert_eq!(ended(&store, T0 + 3599, T0 + 3600), 0);
}

#[test]
fn a_conversation_marked_unread_stays_so_until_read_again() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "hello"), inbound("w2", "222", T0, "hi")]).unwrap();
    store.mark_read(&key("111"), T0 + 5).unwrap();
    let unread_listed = |store: &Store| -> Vec<ConversationKey> {
        let filter = ConversationFilter { unread_only: true, ..Default::default() };
        store.conversations(&filter, T0).unwrap().into_iter().map(|c| c.conversation).collect()
    };
    assert_eq!(unread_listed(&store), vec![key("222")]);
    assert_eq!(store.unread_conversations().unwrap(), 1, "the window's title counts conversations, not messages");
    store.mark_unread(&key("111")).unwrap();
    let c = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!((c.marked_unread, c.unread), (true, 0), "marked, not counted as a message");
    assert_eq!(unread_listed(&store).len(), 2);
    assert_eq!(store.unread_conversations().unwrap(), 2, "a conversation marked unread counts");
    store.mark_read(&key("111"), T0 + 6).unwrap();
    assert!(!store.conversation(&key("111"), T0).unwrap().unwrap().marked_unread, "read again");
    assert_eq!(store.unread_conversations().unwrap(), 1);
    assert!(store.mark_unread(&key("999")).is_err());
}
