//! Applying normalized events: dedupe, statuses, ownership, window, unread, edits, reactions.

mod common;

use coexist_core::rules::{ClosedReason, Owner, WindowState};
use coexist_core::*;
use coexist_store::*;
use common::*;
use serde_json::json;

#[test]
fn a_duplicate_message_is_stored_once_and_notified_once() {
    let (_dir, mut store) = open_store();
    let first = store.apply_events(&[inbound("w1", "111", T0, "hello")]).unwrap();
    assert_eq!(first.new_inbound.len(), 1);
    assert_eq!(first.conversations_touched, vec![key("111")]);
    let again = store.apply_events(&[inbound("w1", "111", T0, "hello")]).unwrap();
    assert!(again.new_inbound.is_empty());
    assert!(again.conversations_touched.is_empty());
    assert_eq!(store.messages(&key("111"), None, 50).unwrap().len(), 1);
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().unread, 1);
}

#[test]
fn a_new_message_names_its_sender_whoever_wrote_the_name() {
    let (dir, mut store) = open_store();
    let names = |r: &ApplyReport| r.new_inbound.iter().map(|n| n.contact_name.clone()).collect::<Vec<_>>();
    // Named in the same batch, and a batch later by a profile without a name.
    let r = store.apply_events(&[contact("111", "Ana <b>"), inbound("w1", "111", T0, "hi")]).unwrap();
    assert_eq!(names(&r), [Some("Ana <b>".to_string())]);
    let unnamed = Event::Contact(ContactProfile {
        phone_number_id: PNID.into(),
        contact: ContactKey::from_wa_id("111"),
        name: None,
        wa_id: Some("111".into()),
        user_id: None,
    });
    let r = store.apply_events(&[unnamed, inbound("w2", "111", T0 + 1, "again")]).unwrap();
    assert_eq!(names(&r), [Some("Ana <b>".to_string())], "the stored name, not the nameless profile");
    // Renamed by another writer of the same file: this store's cache is dropped, the file read.
    Store::open(dir.path().join("inbox.db")).unwrap().apply_events(&[contact("111", "Ana Silva")]).unwrap();
    let r = store.apply_events(&[inbound("w3", "111", T0 + 2, "third")]).unwrap();
    assert_eq!(names(&r), [Some("Ana Silva".to_string())]);
}

/// Two wamids whose index keys are the same (found by search; see wamid_key.rs).
const SAME_KEY: [&str; 2] = ["wamid.collide.100594", "wamid.collide.116144"];

#[test]
fn wamids_that_share_an_index_key_are_still_two_messages() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound(SAME_KEY[0], "111", T0, "first"), inbound(SAME_KEY[1], "111", T0 + 1, "second")]).unwrap();
    let again = store.apply_events(&[inbound(SAME_KEY[1], "111", T0 + 1, "second")]).unwrap();
    assert!(again.new_inbound.is_empty(), "still a duplicate");
    store
        .apply_events(&[Event::MessageEdited {
            wamid: SAME_KEY[1].into(),
            conversation: key("111"),
            timestamp: T0 + 5,
            body: MessageBody::Text { body: "second, edited".into() },
        }])
        .unwrap();
    store
        .apply_events(&[
            status(SAME_KEY[0], "111", StatusKind::Read, T0 + 6, None),
            status(SAME_KEY[1], "111", StatusKind::Delivered, T0 + 6, None),
            status(SAME_KEY[1], "111", StatusKind::Sent, T0 + 7, None),
        ])
        .unwrap();
    let shown: Vec<(MessageBody, Option<StatusKind>)> =
        store.messages(&key("111"), None, 10).unwrap().into_iter().map(|m| (m.body, m.status)).collect();
    assert_eq!(
        shown,
        [
            (MessageBody::Text { body: "first".into() }, Some(StatusKind::Read)),
            (MessageBody::Text { body: "second, edited".into() }, Some(StatusKind::Delivered)),
        ],
        "each message and each status found by its own wamid"
    );
    assert_eq!(store.message_position(SAME_KEY[0]).unwrap().map(|p| (p.timestamp, p.newer)), Some((T0, 1)));
}

#[test]
fn statuses_only_move_forward_whatever_the_arrival_order() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[api("out1", "111", T0, "ana", "hi")]).unwrap();
    let r = store
        .apply_events(&[
            status("out1", "111", StatusKind::Read, T0 + 3, None),
            status("out1", "111", StatusKind::Delivered, T0 + 2, None),
            status("out1", "111", StatusKind::Sent, T0 + 1, None),
        ])
        .unwrap();
    assert_eq!(r.statuses.len(), 1, "only the first (read) moved it forward: {:?}", r.statuses);
    let m = &store.messages(&key("111"), None, 10).unwrap()[0];
    assert_eq!(m.status, Some(StatusKind::Read));
    let detail = m.status_detail.as_ref().unwrap();
    assert_eq!(detail.sent_at, Some(T0 + 1));
    assert_eq!(detail.delivered_at, Some(T0 + 2));
}

#[test]
fn a_status_before_its_message_is_kept_and_shown_once_the_message_arrives() {
    let (_dir, mut store) = open_store();
    let r = store.apply_events(&[status("out1", "111", StatusKind::Failed, T0 + 5, Some(131026))]).unwrap();
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].error_code, Some(131026));
    store.apply_events(&[api("out1", "111", T0, "ana", "hi")]).unwrap();
    let m = &store.messages(&key("111"), None, 10).unwrap()[0];
    assert_eq!(m.status, Some(StatusKind::Failed));
    let failure = m.failure.as_ref().expect("failure explained");
    assert_eq!(failure.code, 131026);
    assert_eq!(failure.meta_details.as_deref(), Some("d"));
    assert!(!failure.reason.is_empty());
    // A later "delivered" does not undo a failure.
    store.apply_events(&[status("out1", "111", StatusKind::Delivered, T0 + 9, None)]).unwrap();
    assert_eq!(store.messages(&key("111"), None, 10).unwrap()[0].status, Some(StatusKind::Failed));
}

#[test]
fn ownership_follows_the_latest_business_reply_by_meta_time() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[inbound("w1", "111", T0, "hi")]).unwrap();
    let c = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(c.owner, Owner::Unowned);
    store.apply_events(&[api("a1", "111", T0 + 10, "ana", "hello")]).unwrap();
    let c = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(c.owner, Owner::Api { agent: "ana".into() });
    assert_eq!(c.owner_agent.as_deref(), Some("ana"));
    // An App echo that arrives later but happened earlier does not take over.
    store.apply_events(&[echo("e1", "111", T0 + 5, "from phone")]).unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().owner, Owner::Api { agent: "ana".into() });
    store.apply_events(&[echo("e2", "111", T0 + 20, "from phone again")]).unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().owner, Owner::App);
    // Filters see the same.
    let app = store.conversations(&ConversationFilter { app_owned: true, ..Default::default() }, T0).unwrap();
    assert_eq!(app.len(), 1);
    let mine = store.conversations(&ConversationFilter { only_mine: Some("ana".into()), ..Default::default() }, T0).unwrap();
    assert!(mine.is_empty());
    let health = store.number_health(PNID, T0 + 30).unwrap();
    assert_eq!(health.last_app_activity_at, Some(T0 + 20));
    assert_eq!(health.secs_since_app_activity, Some(10));
}

#[test]
fn only_customer_messages_open_the_window_and_131047_closes_it() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[echo("e1", "111", T0, "hi from the app"), api("a1", "111", T0 + 1, "ana", "x")]).unwrap();
    let c = store.conversation(&key("111"), T0 + 2).unwrap().unwrap();
    assert_eq!(c.window, WindowState::Closed { reason: ClosedReason::NeverOpened });
    assert!(c.window_explanation.is_some());

    store.apply_events(&[inbound("w1", "111", T0 + 100, "hello")]).unwrap();
    let c = store.conversation(&key("111"), T0 + 100).unwrap().unwrap();
    assert_eq!(c.window, WindowState::Open { expires_at: T0 + 100 + 86_400, remaining_secs: 86_400 });
    let closing = ConversationFilter { window_closing_within_secs: Some(3600), ..Default::default() };
    assert!(store.conversations(&closing, T0 + 100).unwrap().is_empty());
    assert_eq!(store.conversations(&closing, T0 + 100 + 86_400 - 60).unwrap().len(), 1);
    assert_eq!(store.closing_conversations(T0 + 100 + 86_400 - 60, 3600).unwrap().len(), 1);

    store.apply_events(&[status("a2", "111", StatusKind::Failed, T0 + 200, Some(131047))]).unwrap();
    let c = store.conversation(&key("111"), T0 + 201).unwrap().unwrap();
    assert_eq!(c.window, WindowState::Closed { reason: ClosedReason::RejectedByMeta { at: T0 + 200 } });
    assert!(store.conversations(&closing, T0 + 100 + 86_400 - 60).unwrap().is_empty());

    store.apply_events(&[inbound("w2", "111", T0 + 300, "again")]).unwrap();
    assert!(matches!(store.conversation(&key("111"), T0 + 301).unwrap().unwrap().window, WindowState::Open { .. }));
}

#[test]
fn a_referral_gives_72_hours() {
    let (_dir, mut store) = open_store();
    let mut m = msg("w1", "111", Side::Customer, T0, "from the ad");
    m.referral = Some(json!({"source_type": "ad"}));
    store.apply_events(&[Event::Message(m)]).unwrap();
    let c = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(c.window, WindowState::Open { expires_at: T0 + 72 * 3600, remaining_secs: 72 * 3600 });
    assert!(store.messages(&key("111"), None, 5).unwrap()[0].referral.is_some());
}

#[test]
fn unread_counts_inbound_after_the_read_mark_and_the_latest_reply() {
    let (_dir, mut store) = open_store();
    store
        .apply_events(&[inbound("w1", "111", T0, "1"), inbound("w2", "111", T0 + 10, "2"), inbound("w3", "111", T0 + 20, "3")])
        .unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().unread, 3);
    assert!(store.conversation(&key("111"), T0).unwrap().unwrap().unanswered);
    store.mark_read(&key("111"), T0 + 10).unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().unread, 1);
    // Marks never go back.
    store.mark_read(&key("111"), T0).unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().unread, 1);
    let unread = ConversationFilter { unread_only: true, ..Default::default() };
    assert_eq!(store.conversations(&unread, T0).unwrap().len(), 1);
    // A reply (even from the phone) answers everything before it.
    store.apply_events(&[echo("e1", "111", T0 + 30, "ok")]).unwrap();
    let c = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(c.unread, 0);
    assert!(!c.unanswered);
    assert!(store.conversations(&unread, T0).unwrap().is_empty());
    assert!(store.mark_read(&key("999"), T0).is_err(), "unknown conversation is reported");
}

#[test]
fn reading_a_conversation_names_the_customer_message_to_mark_read_at_meta_once() {
    let (_dir, mut store) = open_store();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    store.apply_events(&[inbound("w1", "111", now - 20, "1"), inbound("w2", "111", now - 10, "2")]).unwrap();
    assert_eq!(store.mark_read(&key("111"), now).unwrap().as_deref(), Some("w2"), "the latest covers the earlier");
    assert_eq!(store.mark_read(&key("111"), now + 1).unwrap(), None, "marked read already");
    store.apply_events(&[inbound("w3", "111", now + 2, "3")]).unwrap();
    assert_eq!(store.mark_read(&key("111"), now + 3).unwrap().as_deref(), Some("w3"));
    store.apply_events(&[history("h1", "222", now - 5, false, "old")]).unwrap();
    assert_eq!(store.mark_read(&key("222"), now).unwrap(), None, "history is never marked read at Meta");
    store.apply_events(&[inbound("w4", "333", T0, "long ago")]).unwrap();
    assert_eq!(store.mark_read(&key("333"), now).unwrap(), None, "Meta refuses messages older than 30 days");
}

#[test]
fn history_is_never_unread_never_notified_and_never_opens_the_window() {
    let (_dir, mut store) = open_store();
    let r = store
        .apply_events(&[history("h1", "111", T0, false, "old question"), history("h2", "111", T0 + 5, true, "old answer")])
        .unwrap();
    assert!(r.new_inbound.is_empty());
    let c = store.conversation(&key("111"), T0 + 10).unwrap().unwrap();
    assert_eq!(c.unread, 0);
    assert_eq!(c.owner, Owner::Unowned);
    assert_eq!(c.window, WindowState::Closed { reason: ClosedReason::NeverOpened });
    assert_eq!(c.last_activity, Some(T0 + 5));
    assert_eq!(c.preview.as_deref(), Some("old answer"));
    store
        .apply_events(&[Event::HistoryProgress { phone_number_id: PNID.into(), phase: Some(1), chunk_order: Some(2), progress: Some(40), error: None }])
        .unwrap();
    let progress = store.history_progress().unwrap();
    assert_eq!(progress.len(), 1);
    assert_eq!(progress[0].progress, Some(40));
    assert_eq!(progress[0].imported_messages, 2);
}

#[test]
fn the_timeline_is_ordered_by_meta_time_then_arrival_and_pages_backwards() {
    let (_dir, mut store) = open_store();
    store
        .apply_events(&[
            inbound("w3", "111", T0 + 30, "third"),
            inbound("w1", "111", T0 + 10, "first"),
            inbound("w2a", "111", T0 + 20, "second-a"),
            inbound("w2b", "111", T0 + 20, "second-b"),
        ])
        .unwrap();
    let all: Vec<String> = store.messages(&key("111"), None, 10).unwrap().into_iter().map(|m| m.wamid).collect();
    assert_eq!(all, ["w1", "w2a", "w2b", "w3"]);
    let last_two = store.messages(&key("111"), None, 2).unwrap();
    assert_eq!(last_two.iter().map(|m| m.wamid.as_str()).collect::<Vec<_>>(), ["w2b", "w3"]);
    let before = Some((last_two[0].timestamp, last_two[0].arrival));
    let older: Vec<String> = store.messages(&key("111"), before, 10).unwrap().into_iter().map(|m| m.wamid).collect();
    assert_eq!(older, ["w1", "w2a"]);
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().preview.as_deref(), Some("third"));
}

#[test]
fn the_list_is_sorted_by_latest_activity_and_shows_names_and_numbers() {
    let (_dir, mut store) = open_store();
    store
        .apply_events(&[
            Event::Number(NumberSettings {
                phone_number_id: PNID.into(),
                waba_id: "waba1".into(),
                display_number: "+1 555 0100".into(),
                mode: NumberMode::Coexistence,
                tier_mps: 20,
            }),
            contact("222", "Bea"),
            inbound("w1", "111", T0 + 50, "a"),
            inbound("w2", "222", T0 + 10, "b"),
            inbound("w3", "333", T0 + 30, "c"),
        ])
        .unwrap();
    let list = store.conversations(&ConversationFilter::default(), T0).unwrap();
    let order: Vec<&str> = list.iter().map(|c| c.conversation.contact.as_str()).collect();
    assert_eq!(order, ["111", "333", "222"]);
    assert_eq!(list[2].contact_name.as_deref(), Some("Bea"));
    assert_eq!(list[0].number_mode, Some(NumberMode::Coexistence));
    let page = store.conversations(&ConversationFilter { limit: 1, offset: 1, ..Default::default() }, T0).unwrap();
    assert_eq!(page[0].conversation, key("333"));
    let other = ConversationFilter { phone_number_id: Some("other".into()), ..Default::default() };
    assert!(store.conversations(&other, T0).unwrap().is_empty());
    assert_eq!(store.numbers().unwrap().len(), 1);

    // A conversation nobody wrote in yet: shown as it will be, without a row in the list.
    store.apply_events(&[contact("444", "Dan <b>")]).unwrap();
    let fresh = store.new_conversation(&key("444"), T0).unwrap().expect("the number is ours");
    assert_eq!((fresh.contact_name.as_deref(), fresh.display_number.as_deref()), (Some("Dan <b>"), Some("+1 555 0100")));
    assert_eq!(fresh.owner, Owner::Unowned);
    assert!(matches!(fresh.window, WindowState::Closed { reason: ClosedReason::NeverOpened }), "{:?}", fresh.window);
    assert_eq!((fresh.unread, fresh.unanswered, fresh.preview, fresh.last_activity), (0, false, None, None));
    assert_eq!(store.new_conversation(&key("555"), T0).unwrap().unwrap().contact_name, None);
    let elsewhere = ConversationKey { phone_number_id: "other".into(), contact: key("444").contact };
    assert_eq!(store.new_conversation(&elsewhere, T0).unwrap(), None, "not a number of ours");
    assert_eq!(store.conversations(&ConversationFilter::default(), T0).unwrap().len(), 3, "nothing was added to the list");
}

#[test]
fn edits_revokes_and_reactions_change_the_message_in_place() {
    let (_dir, mut store) = open_store();
    // The edit arrives before its message: kept and applied when the message comes.
    store
        .apply_events(&[Event::MessageEdited {
            wamid: "e1".into(),
            conversation: key("111"),
            timestamp: T0 + 5,
            body: MessageBody::Text { body: "fixed typo".into() },
        }])
        .unwrap();
    store.apply_events(&[echo("e1", "111", T0, "fixd typo"), inbound("w1", "111", T0 + 1, "hi")]).unwrap();
    let msgs = store.messages(&key("111"), None, 10).unwrap();
    assert_eq!(msgs[0].body, MessageBody::Text { body: "fixed typo".into() });
    assert!(msgs[0].edited);

    store
        .apply_events(&[Event::MessageRevoked { wamid: "w1".into(), conversation: key("111"), timestamp: T0 + 9 }])
        .unwrap();
    let msgs = store.messages(&key("111"), None, 10).unwrap();
    assert!(msgs[1].revoked);
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().preview.as_deref(), Some("Message deleted"));

    let mut reaction = msg("r1", "111", Side::Customer, T0 + 20, "");
    reaction.body = MessageBody::Reaction { message_id: "e1".into(), emoji: "👍".into() };
    let mut older = msg("r0", "111", Side::Customer, T0 + 15, "");
    older.body = MessageBody::Reaction { message_id: "e1".into(), emoji: "😡".into() };
    let r = store.apply_events(&[Event::Message(reaction), Event::Message(older)]).unwrap();
    assert!(r.new_inbound.is_empty(), "reactions do not notify");
    let msgs = store.messages(&key("111"), None, 10).unwrap();
    assert_eq!(msgs.len(), 2, "reactions are attached, not listed");
    assert_eq!(msgs[0].reactions, vec![ReactionView { emoji: "👍".into(), by: "customer".into(), timestamp: T0 + 20, failure: None }]);

    // Our own reaction that Meta failed says so on the message it reacts to; the one before it,
    // which the customer still sees, shows beside it.
    let ours = |wamid: &str, ts: i64, emoji: &str| {
        let mut m = msg(wamid, "111", Side::Api, ts, "");
        m.body = MessageBody::Reaction { message_id: "e1".into(), emoji: emoji.into() };
        Event::Message(m)
    };
    let business = |store: &Store| -> Vec<(String, Option<i64>)> {
        let msgs = store.messages(&key("111"), None, 10).unwrap();
        msgs[0].reactions.iter().filter(|r| r.by == "business").map(|r| (r.emoji.clone(), r.failure.as_ref().map(|f| f.code))).collect()
    };
    store.apply_events(&[ours("r2", T0 + 25, "👍"), status("r2", "111", StatusKind::Delivered, T0 + 26, None)]).unwrap();
    store.apply_events(&[ours("r3", T0 + 30, "🙏"), status("r3", "111", StatusKind::Sent, T0 + 31, None)]).unwrap();
    assert_eq!(business(&store), [("🙏".to_string(), None)], "sent: it replaced the 👍");
    store.apply_events(&[status("r3", "111", StatusKind::Failed, T0 + 32, Some(131_026))]).unwrap();
    assert_eq!(business(&store), [("👍".to_string(), None), ("🙏".to_string(), Some(131_026))]);
    let failure = store.messages(&key("111"), None, 10).unwrap()[0].reactions.iter().find_map(|r| r.failure.clone()).unwrap();
    assert!(!failure.reason.is_empty());
    // Taking it back fails too: the 👍 stays, as it does on the customer's phone.
    store.apply_events(&[ours("r4", T0 + 40, ""), status("r4", "111", StatusKind::Failed, T0 + 41, Some(131_026))]).unwrap();
    assert_eq!(business(&store), [("👍".to_string(), None)]);
    // Taken back for real: nothing of ours shows.
    store.apply_events(&[ours("r5", T0 + 50, ""), status("r5", "111", StatusKind::Delivered, T0 + 51, None)]).unwrap();
    assert!(business(&store).is_empty());
}

#[test]
fn a_reply_shows_the_quoted_message() {
    let (_dir, mut store) = open_store();
    let mut reply = msg("w2", "111", Side::Customer, T0 + 5, "yes that one");
    reply.reply_to = Some("a1".into());
    let mut orphan = msg("w3", "111", Side::Customer, T0 + 6, "and this");
    orphan.reply_to = Some("unknown".into());
    store.apply_events(&[api("a1", "111", T0, "ana", "Want the red one?"), Event::Message(reply), Event::Message(orphan)]).unwrap();
    let msgs = store.messages(&key("111"), None, 10).unwrap();
    let quoted = msgs[1].quoted.as_ref().unwrap();
    assert_eq!(quoted.preview.as_deref(), Some("Want the red one?"));
    assert_eq!(quoted.side, Some(Side::Api));
    assert_eq!(msgs[2].quoted.as_ref().unwrap().preview, None);
}

#[test]
fn templates_numbers_and_account_state() {
    let (_dir, mut store) = open_store();
    let template = |name: &str, status: &str| Template {
        id: Some(format!("id-{name}")),
        name: name.into(),
        language: "en_US".into(),
        status: status.into(),
        category: Some("UTILITY".into()),
        components: json!([{"type": "BODY", "text": "Hi {{1}}"}]),
    };
    store
        .apply_events(&[Event::TemplatesSynced {
            phone_number_id: PNID.into(),
            waba_id: "waba1".into(),
            templates: vec![template("welcome", "APPROVED"), template("alpha", "APPROVED"), template("promo", "PENDING")],
        }])
        .unwrap();
    let names: Vec<String> = store.templates(PNID).unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["alpha", "welcome"]);
    let reviews = |store: &Store| -> Vec<(String, String, Option<String>)> {
        store.template_reviews(PNID).unwrap().into_iter().map(|t| (t.name, t.status, t.reason)).collect()
    };
    assert_eq!(reviews(&store)[1], ("promo".into(), "PENDING".into(), None), "the admin sees the pending one too");
    store
        .apply_events(&[Event::TemplateStatus {
            waba_id: "waba1".into(),
            template_id: None,
            name: "alpha".into(),
            language: "en_US".into(),
            status: "REJECTED".into(),
            reason: Some("INVALID_FORMAT".into()),
        }])
        .unwrap();
    assert_eq!(reviews(&store)[0], ("alpha".into(), "REJECTED".into(), Some("INVALID_FORMAT".into())), "with Meta's reason");
    let r = store
        .apply_events(&[Event::TemplateStatus {
            waba_id: "waba1".into(),
            template_id: None,
            name: "promo".into(),
            language: "en_US".into(),
            status: "approved".into(),
            reason: None,
        }])
        .unwrap();
    assert_eq!(r.numbers_touched, vec![PNID.to_string()]);
    assert_eq!(store.templates(PNID).unwrap().len(), 2, "alpha rejected, promo approved");
    assert!(store.templates("other").unwrap().is_empty());

    let account = |event: &str| Event::AccountUpdate {
        waba_id: "waba1".into(),
        phone_number_id: None,
        event: event.into(),
        raw: json!({"event": event}),
    };
    store.apply_events(&[account("ACCOUNT_OFFBOARDED")]).unwrap();
    assert!(store.number_health(PNID, T0).unwrap().offboarded);
    store.apply_events(&[account("VERIFIED_ACCOUNT"), account("ACCOUNT_RECONNECTED")]).unwrap();
    let health = store.number_health(PNID, T0).unwrap();
    assert!(!health.offboarded);
    assert_eq!(health.last_account_event.as_deref(), Some("ACCOUNT_RECONNECTED"));
}

#[test]
fn payment_failures_are_listed_while_recent() {
    let (_dir, mut store) = open_store();
    store.apply_events(&[status("o1", "111", StatusKind::Failed, T0, Some(131042))]).unwrap();
    let health = store.number_health(PNID, T0 + 3600).unwrap();
    assert_eq!(health.recent_payment_failures.len(), 1);
    assert_eq!(health.recent_payment_failures[0].wamid, "o1");
    assert!(store.number_health(PNID, T0 + 8 * 86_400).unwrap().recent_payment_failures.is_empty());
}

#[test]
fn hostile_text_is_stored_verbatim_but_previewed_plain() {
    let (_dir, mut store) = open_store();
    let evil = "<script>alert(1)</script>\u{202E}\u{0}\u{E000}x";
    store.apply_events(&[inbound("w1", "111", T0, evil), contact("111", "Robert'); DROP TABLE contacts;--")]).unwrap();
    let c = store.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(c.preview.as_deref(), Some("<script>alert(1)</script>x"));
    assert_eq!(c.contact_name.as_deref(), Some("Robert'); DROP TABLE contacts;--"));
    let m = &store.messages(&key("111"), None, 1).unwrap()[0];
    assert_eq!(m.body, MessageBody::Text { body: evil.into() });
}

#[test]
fn meta_system_notices_are_neither_unread_nor_notified() {
    let (_dir, mut store) = open_store();
    let mut notice = msg("s1", "111", Side::Customer, T0, "");
    notice.body = MessageBody::System { body: "Customer changed their number".into() };
    let r = store.apply_events(&[Event::Message(notice)]).unwrap();
    assert!(r.new_inbound.is_empty());
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().unread, 0);
    // Also after a recount (the read mark moves the threshold).
    store.apply_events(&[inbound("w1", "111", T0 + 5, "hi")]).unwrap();
    store.mark_read(&key("111"), T0 + 1).unwrap();
    assert_eq!(store.conversation(&key("111"), T0).unwrap().unwrap().unread, 1);
}

#[test]
fn two_stores_on_one_file_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let mut desktop = Store::open(&path).unwrap();
    let mut cli = Store::open(&path).unwrap();
    desktop.apply_events(&[inbound("w1", "111", T0, "a"), inbound("w2", "111", T0 + 10, "b")]).unwrap();
    // The other process reads the conversation, marks it read, and records a reply.
    cli.mark_read(&key("111"), T0 + 10).unwrap();
    cli.apply_events(&[api("a1", "111", T0 + 20, "bob", "hi")]).unwrap();
    // The desktop's cached state must not overwrite those.
    desktop.apply_events(&[inbound("w3", "111", T0 + 30, "c")]).unwrap();
    let c = desktop.conversation(&key("111"), T0).unwrap().unwrap();
    assert_eq!(c.unread, 1);
    assert_eq!(c.owner, Owner::Api { agent: "bob".into() });
    assert_eq!(desktop.conversation_state(&key("111")).unwrap().unwrap().read_mark, Some(T0 + 10));
}

#[test]
fn the_store_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Store>();
}

#[test]
fn opening_an_impossible_path_says_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path().join("missing-folder").join("inbox.db")).err().expect("cannot open");
    let text = err.to_string();
    assert!(text.contains("missing-folder") && text.contains("folder exists"), "{text}");
}

#[test]
fn a_new_inbox_gets_large_pages_and_an_older_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let page_size = |path: &std::path::Path| -> u32 {
        rusqlite::Connection::open(path).unwrap().query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap()
    };
    let fresh = dir.path().join("fresh.db");
    drop(Store::open(&fresh).unwrap());
    assert_eq!(page_size(&fresh), PAGE_SIZE);

    // An inbox made with 4 KiB pages (before this setting) opens, migrates and keeps them.
    let older = dir.path().join("older.db");
    let conn = rusqlite::Connection::open(&older).unwrap();
    conn.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE before_us (x);").unwrap();
    drop(conn);
    let mut store = Store::open(&older).unwrap();
    store.apply_events(&[inbound("w1", "111", T0, "still works")]).unwrap();
    drop(store);
    assert_eq!(page_size(&older), 4096);
}

#[test]
fn the_latest_edit_wins_and_a_revoke_is_final() {
    let (_dir, mut store) = open_store();
    let edit = |ts: i64, text: &str| Event::MessageEdited {
        wamid: "e1".into(),
        conversation: key("111"),
        timestamp: T0 + ts,
        body: MessageBody::Text { body: text.into() },
    };
    store.apply_events(&[echo("e1", "111", T0, "v0"), edit(20, "v2"), edit(10, "v1")]).unwrap();
    let m = &store.messages(&key("111"), None, 5).unwrap()[0];
    assert_eq!((m.body.clone(), m.edited_at), (MessageBody::Text { body: "v2".into() }, Some(T0 + 20)));
    store
        .apply_events(&[Event::MessageRevoked { wamid: "e1".into(), conversation: key("111"), timestamp: T0 + 30 }, edit(40, "v3")])
        .unwrap();
    let m = &store.messages(&key("111"), None, 5).unwrap()[0];
    assert!(m.revoked);
    assert_eq!(m.text, None);
    assert!(store.search(&SearchQuery { text: "v3".into(), ..Default::default() }).unwrap().is_empty());
}

#[test]
fn history_media_arriving_after_its_placeholder_replaces_it_without_an_edited_mark() {
    let (_dir, mut store) = open_store();
    let media = MessageBody::Image { media: Media { id: Some("m1".into()), caption: Some("receipt".into()), ..Default::default() } };
    let follow_up = Event::MessageEdited { wamid: "h1".into(), conversation: key("111"), timestamp: T0, body: media.clone() };
    // Either order ends with the media.
    store.apply_events(&[history("h1", "111", T0, false, "<media placeholder>"), follow_up]).unwrap();
    let early = Event::MessageEdited { wamid: "h2".into(), conversation: key("222"), timestamp: T0, body: media.clone() };
    store.apply_events(&[early]).unwrap();
    store.apply_events(&[history("h2", "222", T0, false, "<media placeholder>")]).unwrap();
    let late = &store.messages(&key("222"), None, 5).unwrap()[0];
    assert_eq!((late.body.clone(), late.edited), (media.clone(), false));
    let m = &store.messages(&key("111"), None, 5).unwrap()[0];
    assert_eq!((m.body.clone(), m.edited), (media, false));
}
