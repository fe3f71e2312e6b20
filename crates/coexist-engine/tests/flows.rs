//! End-to-end flows against the REAL bridge and the REAL sandbox on loopback.

mod common;

use std::time::Duration;

use coexist_core::{MessageBody, StatusKind};
use coexist_engine::{EngineError, SyncMode, TemplateParams};
use coexist_store::OutboxState;
use common::*;

#[tokio::test]
async fn inbound_message_syncs_into_a_conversation_and_notifies_once() {
    let s = stack().await;
    let (engine, notes) = s.engine("inbox", SyncMode::LongPoll);
    let wamid = s.customer_says("14155550111", "Ana Silva", "Do you have the shirt in M?", None).await;
    let key = s.conversation("14155550111");
    sync_until_conversation(&engine, &key).await;

    {
        let store = engine.store().lock().unwrap();
        let summary = store.conversation(&key, now()).unwrap().unwrap();
        assert_eq!(summary.contact_name.as_deref(), Some("Ana Silva"));
        assert_eq!(summary.unread, 1);
        let messages = store.messages(&key, None, 10).unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].wamid, wamid);
    }
    assert_eq!(notes.take(), vec![("Ana Silva".to_string(), "Do you have the shirt in M?".to_string())]);
    s.demo.shutdown().await;
}

#[tokio::test]
async fn a_muted_conversation_stays_quiet_until_unmuted() {
    let s = stack().await;
    let (engine, notes) = s.engine("inbox", SyncMode::LongPoll);
    let key = s.conversation("14155550112");
    engine.mute(&key, None).unwrap();
    s.customer_says("14155550112", "Noisy Ned", "hello", None).await;
    s.customer_says("14155550113", "Quiet Quinn", "hi", None).await;
    sync_until_conversation(&engine, &key).await;
    sync_until_conversation(&engine, &s.conversation("14155550113")).await;
    let shown: Vec<String> = notes.take().into_iter().map(|(title, _)| title).collect();
    assert_eq!(shown, ["Quiet Quinn"], "Ned is muted");
    assert_eq!(engine.store().lock().unwrap().conversation(&key, now()).unwrap().unwrap().unread, 1, "still unread");

    engine.unmute(&key).unwrap();
    s.customer_says("14155550112", "Noisy Ned", "hello??", None).await;
    eventually(15, "Ned notified again", || async {
        engine.sync_once().await.unwrap();
        notes.take().into_iter().any(|(title, _)| title == "Noisy Ned").then_some(())
    })
    .await;
    s.demo.shutdown().await;
}

#[tokio::test]
async fn text_in_window_is_sent_once_and_reaches_read() {
    let s = stack().await;
    let (engine, _) = s.engine("inbox", SyncMode::LongPoll);
    s.customer_says("14155550122", "Ben", "hello?", None).await;
    let key = s.conversation("14155550122");
    sync_until_conversation(&engine, &key).await;

    let item = engine.send_text(&key, "Hi Ben, how can we help?", None).unwrap();
    assert_eq!(item.state, OutboxState::Queued);
    let report = engine.drain_outbox(Duration::from_secs(10)).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let sent_item = engine.store().lock().unwrap().outbox_item(&item.idempotency_key).unwrap().unwrap();
    assert_eq!(sent_item.state, OutboxState::Sent);
    let wamid = sent_item.wamid.clone().unwrap();

    let sent = s.sent().await;
    let ours: Vec<_> = sent.iter().filter(|r| r["biz_opaque_callback_data"] == item.idempotency_key.as_str()).collect();
    assert_eq!(ours.len(), 1, "{sent:?}");
    assert_eq!(ours[0]["wamid"], wamid.as_str());
    assert_eq!(ours[0]["request"]["text"]["body"], "Hi Ben, how can we help?");

    eventually(15, "the read status", || async {
        engine.sync_once().await.unwrap();
        let store = engine.store().lock().unwrap();
        let msgs = store.messages(&key, None, 10).unwrap();
        msgs.iter().find(|m| m.wamid == wamid && m.status == Some(StatusKind::Read)).map(|_| ())
    })
    .await;
    s.demo.shutdown().await;
}

/// A customer who asked `asked` (the conversation at hand) and another who said hi, both synced:
/// the engine, the first conversation, and the wamids of the two messages.
async fn two_customers(s: &Stack, first: &str, asked: &str, second: &str) -> (coexist_engine::Engine, coexist_core::ConversationKey, String, String) {
    let (engine, _) = s.engine("inbox", SyncMode::LongPoll);
    let question = s.customer_says(first, "First", asked, None).await;
    let other = s.customer_says(second, "Second", "hi", None).await;
    let key = s.conversation(first);
    sync_until_conversation(&engine, &key).await;
    sync_until_conversation(&engine, &s.conversation(second)).await;
    (engine, key, question, other)
}

#[tokio::test]
async fn a_reply_quotes_a_message_of_its_own_conversation_only() {
    let s = stack().await;
    let (engine, key, asked, other) = two_customers(&s, "14155550144", "Is the blue one in stock?", "14155550155").await;

    let err = engine.send_text(&key, "yes", Some(&other)).unwrap_err();
    assert!(err.to_string().contains("not in this conversation"), "{err}");
    assert!(engine.store().lock().unwrap().outbox_ready(10).unwrap().is_empty(), "nothing queued");

    let item = engine.send_text(&key, "Yes, in M and L", Some(&asked)).unwrap();
    engine.drain_outbox(Duration::from_secs(10)).await.unwrap();
    let sent = s.sent().await;
    let ours = sent.iter().find(|r| r["biz_opaque_callback_data"] == item.idempotency_key.as_str()).unwrap();
    assert_eq!(ours["request"]["context"]["message_id"], asked.as_str(), "Meta is asked to quote it");
    let reply = eventually(15, "the reply in the thread", || async {
        engine.sync_once().await.unwrap();
        let store = engine.store().lock().unwrap();
        store.messages(&key, None, 10).unwrap().into_iter().find(|m| m.idempotency_key.as_deref() == Some(item.idempotency_key.as_str()))
    })
    .await;
    assert_eq!(reply.reply_to.as_deref(), Some(asked.as_str()));
    assert_eq!(reply.quoted.unwrap().preview.as_deref(), Some("Is the blue one in stock?"), "the thread shows what it answers");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn reply_buttons_go_to_the_customer_and_their_tap_comes_back_quoting_them() {
    let s = stack().await;
    let (engine, key, _asked, _) = two_customers(&s, "14155550166", "Can you deliver on Saturday?", "14155550177").await;
    let titles = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let err = engine.send_buttons(&key, "Saturday works. Shall we?", &titles(&["Yes", "Yes"]), None).unwrap_err();
    assert!(err.to_string().contains("both say \"Yes\""), "{err}");
    assert!(engine.store().lock().unwrap().outbox_ready(10).unwrap().is_empty(), "nothing queued");

    let item = engine.send_buttons(&key, "Saturday works. Shall we?", &titles(&["Yes, Saturday", "No"]), None).unwrap();
    engine.drain_outbox(Duration::from_secs(10)).await.unwrap();
    let sent = s.sent().await;
    let ours = sent.iter().find(|r| r["biz_opaque_callback_data"] == item.idempotency_key.as_str()).unwrap();
    assert_eq!(ours["request"]["interactive"]["action"]["buttons"][1]["reply"]["title"], "No");
    let wamid = ours["wamid"].as_str().unwrap().to_string();

    s.control("/sandbox/customers/tap", serde_json::json!({ "wamid": wamid, "button": 1 })).await;
    let tap = eventually(15, "the customer's tap in the thread", || async {
        engine.sync_once().await.unwrap();
        let store = engine.store().lock().unwrap();
        store.messages(&key, None, 10).unwrap().into_iter().find(|m| m.body == MessageBody::Interactive { reply_id: "button-2".into(), title: "No".into() })
    })
    .await;
    assert_eq!(tap.reply_to.as_deref(), Some(wamid.as_str()), "the tap quotes the buttons it answers");
    {
        let store = engine.store().lock().unwrap();
        let offered = store.messages(&key, None, 10).unwrap().into_iter().find(|m| m.wamid == wamid).unwrap();
        assert_eq!(offered.body, MessageBody::Choices { body: "Saturday works. Shall we?".into(), choices: titles(&["Yes, Saturday", "No"]) });
        assert_eq!(tap.quoted.unwrap().preview.as_deref(), Some("Saturday works. Shall we?"));
    }

    // Four choices go as a list; the customer picks one from it.
    let slots = titles(&["9:00", "11:00", "14:00", "Saturday afternoon 16h"]);
    let item = engine.send_buttons(&key, "Which time on Saturday?", &slots, None).unwrap();
    engine.drain_outbox(Duration::from_secs(10)).await.unwrap();
    let sent = s.sent().await;
    let ours = sent.iter().find(|r| r["biz_opaque_callback_data"] == item.idempotency_key.as_str()).unwrap();
    assert_eq!(ours["request"]["interactive"]["type"], "list", "{ours}");
    let wamid = ours["wamid"].as_str().unwrap().to_string();
    s.control("/sandbox/customers/tap", serde_json::json!({ "wamid": wamid, "button": 3 })).await;
    let picked = MessageBody::Interactive { reply_id: "choice-4".into(), title: "Saturday afternoon 16h".into() };
    eventually(15, "the customer's pick from the list", || async {
        engine.sync_once().await.unwrap();
        let store = engine.store().lock().unwrap();
        store.messages(&key, None, 10).unwrap().into_iter().find(|m| m.body == picked && m.reply_to.as_deref() == Some(wamid.as_str()))
    })
    .await;
    s.demo.shutdown().await;
}

/// Send what is queued, sync, and read the business's reactions on message `wamid`.
async fn business_reactions(engine: &coexist_engine::Engine, key: &coexist_core::ConversationKey, wamid: &str) -> Vec<String> {
    engine.drain_outbox(Duration::from_secs(10)).await.unwrap();
    engine.sync_once().await.unwrap();
    let store = engine.store().lock().unwrap();
    let messages = store.messages(key, None, 10).unwrap();
    let target = messages.iter().find(|m| m.wamid == wamid).expect("the message is stored");
    target.reactions.iter().filter(|r| r.by == "business").map(|r| r.emoji.clone()).collect()
}

#[tokio::test]
async fn an_agent_reacts_to_a_message_and_takes_the_reaction_back() {
    let s = stack().await;
    let (engine, key, asked, other) = two_customers(&s, "14155550166", "Thanks, got it!", "14155550177").await;
    assert!(engine.send_reaction(&key, &other, "👍").unwrap_err().to_string().contains("not in this conversation"));
    assert!(engine.send_reaction(&key, &asked, "ok").unwrap_err().to_string().contains("one emoji"));

    engine.send_reaction(&key, &asked, "❤️").unwrap();
    eventually(15, "our ❤️ on the customer's message", || async {
        (business_reactions(&engine, &key, &asked).await == ["❤️"]).then_some(())
    })
    .await;
    let summary = engine.store().lock().unwrap().conversation(&key, now()).unwrap().unwrap();
    assert!(matches!(summary.owner, coexist_core::rules::Owner::Api { .. }), "reacting is acting: {:?}", summary.owner);
    engine.send_reaction(&key, &asked, "").unwrap();
    eventually(15, "the reaction taken back", || async { business_reactions(&engine, &key, &asked).await.is_empty().then_some(()) }).await;
    s.demo.shutdown().await;
}

#[tokio::test]
async fn typing_shows_the_customer_typing_at_most_every_twenty_seconds_and_only_in_the_window() {
    let s = stack().await;
    let (engine, _) = s.engine("inbox", SyncMode::LongPoll);
    s.customer_says("14155550188", "Hal", "first", None).await;
    let latest = s.customer_says("14155550188", "Hal", "and a second thing", None).await;
    s.customer_says("14155550199", "Ida", "old", Some(now() - 25 * 3600)).await;
    let key = s.conversation("14155550188");
    let closed = s.conversation("14155550199");
    sync_until_conversation(&engine, &key).await;
    sync_until_conversation(&engine, &closed).await;

    engine.typing(&key).unwrap();
    let marks = eventually(15, "typing… at Meta", || async {
        let marks = s.demo.sandbox.sandbox().read_marks();
        (!marks.is_empty()).then_some(marks)
    })
    .await;
    assert_eq!((marks[0].message_id.as_str(), marks[0].typing), (latest.as_str(), true), "on the latest message");
    engine.typing(&key).unwrap();
    engine.typing(&closed).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.demo.sandbox.sandbox().read_marks().len(), 1, "not again within 20 s, and never outside the window");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn free_text_outside_the_window_is_refused_locally() {
    let s = stack().await;
    let (engine, _) = s.engine("inbox", SyncMode::LongPoll);
    let key = s.conversation("14155550133");
    s.customer_says("14155550133", "Chloe", "old message", Some(now() - 25 * 3600)).await;
    sync_until_conversation(&engine, &key).await;

    let err = engine.send_text(&key, "are you there?", None).unwrap_err();
    assert!(matches!(err, EngineError::WindowClosed(_)), "{err}");
    assert!(err.to_string().contains("template"), "{err}");
    // Never written: refused too.
    let stranger = s.conversation("14155550999");
    assert!(matches!(engine.send_text(&stranger, "hi", None).unwrap_err(), EngineError::WindowClosed(_)));
    // Nothing was queued, nothing reached Meta.
    assert!(engine.store().lock().unwrap().outbox_ready(10).unwrap().is_empty());
    assert_eq!(engine.drain_outbox(Duration::from_secs(1)).await.unwrap().sent, 0);
    assert!(s.sent().await.is_empty());
    s.demo.shutdown().await;
}

#[tokio::test]
async fn template_send_is_checked_then_delivered() {
    let s = stack().await;
    let (engine, _) = s.engine("inbox", SyncMode::LongPoll);
    engine.sync_once().await.unwrap(); // templates were synced by the demo setup
    let key = s.conversation("14155550144");

    let mut params = TemplateParams { body_positional: vec!["Ana".into()], ..Default::default() };
    let err = engine.send_template(&key, "order_update", "en_US", &params).unwrap_err();
    assert!(err.to_string().contains("needs 2 parameter(s)"), "{err}");
    let err = engine.send_template(&key, "no_such_template", "en_US", &params).unwrap_err();
    assert!(err.to_string().contains("sync templates"), "{err}");

    params.body_positional.push("#1042".into());
    let item = engine.send_template(&key, "order_update", "en_US", &params).unwrap();
    assert_eq!(engine.drain_outbox(Duration::from_secs(10)).await.unwrap().sent, 1);
    let wamid = engine.store().lock().unwrap().outbox_item(&item.idempotency_key).unwrap().unwrap().wamid.unwrap();
    let sent = s.sent().await;
    let rec = sent.iter().find(|r| r["wamid"] == wamid.as_str()).expect("the sandbox accepted it");
    assert_eq!(rec["type"], "template");
    assert_eq!(rec["rendered"].as_str().map(|r| r.contains("Hi Ana, your order #1042")), Some(true), "{rec}");

    eventually(15, "the delivered status", || async {
        engine.sync_once().await.unwrap();
        let store = engine.store().lock().unwrap();
        store
            .messages(&key, None, 10)
            .unwrap()
            .iter()
            .find(|m| m.wamid == wamid && m.status.is_some_and(|st| st >= StatusKind::Delivered))
            .map(|_| ())
    })
    .await;
    s.demo.shutdown().await;
}

#[tokio::test]
async fn an_item_left_sending_by_a_crash_is_resent_with_its_key_and_sent_once() {
    let s = stack().await;
    let db = s.dir.path().join("crash.db");
    let key = s.conversation("14155550155");
    s.customer_says("14155550155", "Dee", "hi", None).await;
    let idempotency_key;
    {
        let (engine, _) = s.engine_at(&db, SyncMode::LongPoll);
        sync_until_conversation(&engine, &key).await;
        let item = engine.send_text(&key, "sent just before the crash", None).unwrap();
        idempotency_key = item.idempotency_key.clone();
        // The worker took it and the bridge sent it, then the desktop died before recording that.
        engine.store().lock().unwrap().outbox_mark_sending(&idempotency_key).unwrap();
        engine.client().send(&key.phone_number_id, &item.message, &idempotency_key).await.unwrap();
    }
    let (engine, _) = s.engine_at(&db, SyncMode::LongPoll);
    let left = engine.store().lock().unwrap().outbox_item(&idempotency_key).unwrap().unwrap();
    assert_eq!(left.state, OutboxState::Sending);
    let report = engine.drain_outbox(Duration::from_secs(10)).await.unwrap();
    assert_eq!(report.sent, 1);
    let item = engine.store().lock().unwrap().outbox_item(&idempotency_key).unwrap().unwrap();
    assert_eq!(item.state, OutboxState::Sent);
    assert!(item.attempts >= 2, "{item:?}");

    let sent = s.sent().await;
    let ours: Vec<_> = sent.iter().filter(|r| r["biz_opaque_callback_data"] == idempotency_key.as_str()).collect();
    assert_eq!(ours.len(), 1, "Meta must see the message once: {sent:?}");
    assert_eq!(Some(ours[0]["wamid"].as_str().unwrap()), item.wamid.as_deref());
    s.demo.shutdown().await;
}

#[tokio::test]
async fn notifications_are_decided_once_per_message_and_never_for_echoes() {
    let s = stack().await;
    let db = s.dir.path().join("shared.db");
    // Two engines on the same inbox file (the app and the CLI) both sync the same events.
    let (a, notes_a) = s.engine_at(&db, SyncMode::LongPoll);
    let (b, notes_b) = s.engine_at(&db, SyncMode::LongPoll);
    let key = s.conversation("14155550166");
    s.customer_says("14155550166", "Eve", "first", None).await;
    s.customer_says("14155550166", "Eve", "second", None).await;
    s.app_says("14155550166", "answered from the phone").await;
    eventually(15, "three messages", || async {
        a.sync_once().await.unwrap();
        b.sync_once().await.unwrap();
        let n = a.store().lock().unwrap().messages(&key, None, 10).unwrap().len();
        (n == 3).then_some(())
    })
    .await;
    // An old message replayed (another desktop's history) does not notify either.
    s.customer_says("14155550177", "Old", "from yesterday", Some(now() - 20 * 3600)).await;
    sync_until_conversation(&a, &s.conversation("14155550177")).await;
    b.sync_once().await.unwrap();

    let mut all = notes_a.take();
    all.extend(notes_b.take());
    all.sort();
    assert_eq!(all, vec![("Eve".to_string(), "first".to_string()), ("Eve".to_string(), "second".to_string())]);
    s.demo.shutdown().await;
}

/// Back online after a while: the messages that came meanwhile arrive in one batch and show as
/// one notification naming their senders; the next message on its own shows as itself.
#[tokio::test]
async fn a_burst_of_new_messages_notifies_once_naming_the_senders() {
    let s = stack().await;
    let (engine, notes) = s.engine("inbox", SyncMode::LongPoll);
    let burst = [("14155550301", "Ana"), ("14155550301", "Ana"), ("14155550302", "Ben"), ("14155550303", "Cleo"), ("14155550304", "Dan")];
    for (number, name) in burst {
        s.customer_says(number, name, "while you were away", None).await;
    }
    eventually(15, "the bridge to hold the burst", || async {
        let page = engine.client().events(0, 1000, 0).await.unwrap();
        let n = page.events.iter().filter(|e| e.payload.to_string().contains("while you were away")).count();
        (n == burst.len()).then_some(())
    })
    .await;
    engine.sync_once().await.unwrap();
    let shown = notes.take_shown();
    assert_eq!(shown.iter().map(|n| (n.title.as_str(), n.body.as_str())).collect::<Vec<_>>(), vec![("5 new messages", "From Ana, Ben, Cleo and 1 other")]);
    assert_eq!(shown[0].about, None, "a burst is about several conversations: a click opens none");

    s.customer_says("14155550301", "Ana", "one more thing", None).await;
    eventually(15, "Ana's next message", || async {
        engine.sync_once().await.unwrap();
        (notes.count() > 0).then_some(())
    })
    .await;
    let shown = notes.take_shown();
    assert_eq!(shown.iter().map(|n| (n.title.as_str(), n.body.as_str())).collect::<Vec<_>>(), vec![("Ana", "one more thing")]);
    assert_eq!(shown[0].about.as_ref(), Some(&s.conversation("14155550301")), "a click opens Ana's conversation");
    engine.sync_once().await.unwrap();
    assert!(notes.take().is_empty(), "each message is claimed once, the burst's included");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn a_closing_window_on_an_unanswered_conversation_warns_once() {
    let s = stack().await;
    let (engine, notes) = s.engine("inbox", SyncMode::LongPoll);
    let almost_a_day = now() - 23 * 3600 - 30 * 60;
    s.customer_says("14155550188", "Gil", "still there?", Some(almost_a_day)).await;
    s.customer_says("14155550189", "Hal", "answered already", Some(almost_a_day)).await;
    s.app_says("14155550189", "yes, on it").await;
    s.customer_says("14155550190", "Ivo", "muted by the agent", Some(almost_a_day)).await;
    engine.mute(&s.conversation("14155550190"), None).unwrap();
    // Let the bridge hold all three webhooks before the desktop syncs (the echo included).
    eventually(15, "the echo at the bridge", || async {
        let page = engine.client().events(0, 1000, 0).await.unwrap();
        page.events.iter().any(|e| e.payload.to_string().contains("smb_message_echoes")).then_some(())
    })
    .await;
    sync_until_conversation(&engine, &s.conversation("14155550188")).await;
    sync_until_conversation(&engine, &s.conversation("14155550189")).await;
    engine.check_closing_windows().unwrap();
    engine.check_closing_windows().unwrap();
    engine.sync_once().await.unwrap();

    let shown = notes.take();
    assert_eq!(shown.len(), 1, "only Gil's window, once (the old messages themselves do not notify; Ivo is muted): {shown:?}");
    assert_eq!(shown[0].0, "Gil is waiting for an answer");
    assert!(shown[0].1.contains("closes in 30 min") || shown[0].1.contains("closes in 29 min"), "{shown:?}");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn a_send_that_meta_fails_later_notifies_this_desktop_once() {
    let s = stack().await;
    let (engine, notes) = s.engine("inbox", SyncMode::LongPoll);
    let (colleague, colleague_notes) = s.engine("colleague", SyncMode::LongPoll);
    s.customer_says("14155550611", "Kim", "hi", None).await;
    let key = s.conversation("14155550611");
    sync_until_conversation(&engine, &key).await;
    notes.take();
    s.control("/sandbox/customers/unreachable", serde_json::json!({"wa_id": "14155550611", "unreachable": true})).await;
    let item = engine.send_text(&key, "this will not arrive", None).unwrap();
    assert_eq!(engine.drain_outbox(Duration::from_secs(10)).await.unwrap().sent, 1, "Meta accepts it first");
    eventually(15, "the failed status", || async {
        engine.sync_once().await.unwrap();
        let it = engine.store().lock().unwrap().outbox_item(&item.idempotency_key).unwrap().unwrap();
        (it.delivery_status == Some(StatusKind::Failed)).then_some(())
    })
    .await;
    engine.sync_once().await.unwrap();
    colleague.sync_once().await.unwrap();
    let shown = notes.take();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].0, "Message to Kim failed");
    let theirs = colleague_notes.take();
    assert!(theirs.iter().all(|(t, _)| !t.contains("failed")), "a colleague is not told about my send: {theirs:?}");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn an_admin_writes_a_template_meta_reviews_it_and_the_team_can_send_it_once_approved() {
    let s = stack().await;
    let (engine, notes) = s.engine("inbox", SyncMode::LongPoll);
    let bridge_db = s.dir.path().join(coexist_engine::demo::BRIDGE_DB);
    let root = coexist_bridge::admin::add_user(&bridge_db, "root", coexist_bridge::Role::Admin).unwrap();
    let admin = coexist_engine::BridgeClient::new(&s.demo.bridge_url, &root);
    let pnid = s.demo.phone_number_id.clone();
    let draft = coexist_core::TemplateDraft {
        name: "refund_sent".into(),
        language: "en_US".into(),
        category: "UTILITY".into(),
        header: Some("Refund".into()),
        body: "Hi {{1}}, your refund of {{2}} is on its way.".into(),
        examples: vec!["Ana".into(), "$20".into()],
        footer: None,
    };

    let refused = admin.admin_submit_template(&pnid, &coexist_core::TemplateDraft { examples: vec![], ..draft.clone() }).await.unwrap_err();
    assert!(refused.to_string().contains("an example for each"), "{refused}");
    let agent = coexist_engine::BridgeClient::new(&s.demo.bridge_url, &s.demo.token);
    assert!(matches!(agent.admin_submit_template(&pnid, &draft).await, Err(coexist_engine::admin::AdminError::NotAdmin(_))));

    let submitted = admin.admin_submit_template(&pnid, &draft).await.unwrap();
    assert_eq!(submitted.template["status"], "PENDING");
    let review = |engine: &coexist_engine::Engine| -> Option<String> {
        let store = engine.store().lock().unwrap();
        store.template_reviews(&pnid).unwrap().into_iter().find(|t| t.name == "refund_sent").map(|t| t.status)
    };
    eventually(15, "the pending template in the inbox", || async {
        engine.sync_once().await.unwrap();
        (review(&engine).as_deref() == Some("PENDING")).then_some(())
    })
    .await;
    assert!(engine.store().lock().unwrap().templates(&pnid).unwrap().iter().all(|t| t.name != "refund_sent"), "not sendable while pending");

    s.control("/sandbox/templates/status", serde_json::json!({"name": "refund_sent", "language": "en_US", "event": "APPROVED"})).await;
    eventually(15, "Meta's approval in the inbox", || async {
        engine.sync_once().await.unwrap();
        (review(&engine).as_deref() == Some("APPROVED")).then_some(())
    })
    .await;
    let said: Vec<_> = notes.take().into_iter().filter(|(title, _)| title.starts_with("Template ")).collect();
    assert_eq!(said, [("Template refund_sent (en_US)".to_string(), "It is approved: the team can send it now.".to_string())], "once");
    engine.sync_once().await.unwrap();
    assert!(notes.take().iter().all(|(title, _)| !title.starts_with("Template ")), "not twice");
    let reject = serde_json::json!({"name": "holiday_hours", "language": "en_US", "event": "REJECTED", "reason": "INVALID_FORMAT"});
    s.control("/sandbox/templates/status", reject).await;
    let said = eventually(15, "the rejection notified", || async {
        engine.sync_once().await.unwrap();
        notes.take().into_iter().find(|(title, _)| title == "Template holiday_hours (en_US)")
    })
    .await;
    assert_eq!(said.1, "It was rejected by Meta: fix it and submit it again (Admin → Templates). Meta's reason: INVALID_FORMAT.");
    let key = s.conversation("14155550177");
    let params = TemplateParams { body_positional: vec!["Ana".into(), "$20".into()], ..Default::default() };
    engine.send_template(&key, "refund_sent", "en_US", &params).unwrap();
    let report = engine.drain_outbox(Duration::from_secs(10)).await.unwrap();
    assert_eq!(report.sent, 1, "Meta takes the approved template: {report:?}");
    s.demo.shutdown().await;
}
