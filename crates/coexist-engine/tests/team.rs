//! Two agents' desktops on the REAL bridge and sandbox: one assigns a conversation to the other
//! and leaves a note; both desktops show the same, the other agent is notified once, and the
//! customer never sees any of it.

mod common;

use std::sync::Arc;

use coexist_bridge::Role;
use coexist_engine::{CollectingNotifier, Engine, EngineConfig, EngineError, SyncMode};
use coexist_store::ConversationFilter;
use common::*;

/// A second agent, Ben, with his own token and inbox file on the same bridge.
fn ben(s: &Stack) -> (Engine, CollectingNotifier) {
    let bridge_db = s.dir.path().join(coexist_engine::demo::BRIDGE_DB);
    let token = coexist_bridge::admin::add_user(&bridge_db, "ben", Role::Agent).unwrap();
    let notifier = CollectingNotifier::default();
    let mut config = EngineConfig::new(&s.demo.bridge_url, token);
    config.sync.mode = SyncMode::LongPoll;
    let engine = Engine::open(&s.dir.path().join("ben.db"), config, Arc::new(notifier.clone())).unwrap();
    engine.set_agent("ben");
    (engine, notifier)
}

fn assignee(engine: &Engine, key: &coexist_core::ConversationKey) -> Option<String> {
    engine.store().lock().unwrap().conversation(key, now()).unwrap().unwrap().assignee
}

#[tokio::test]
async fn an_assignment_and_a_note_reach_every_desktop_and_notify_the_assignee_once() {
    let s = stack().await;
    let (ana, ana_notes) = s.engine("ana", SyncMode::LongPoll);
    ana.set_agent(coexist_engine::demo::DEMO_AGENT);
    let (ben, ben_notes) = ben(&s);
    s.customer_says("14155550111", "Ana Silva", "My parcel is late", None).await;
    let key = s.conversation("14155550111");
    sync_until_conversation(&ana, &key).await;
    sync_until_conversation(&ben, &key).await;
    ben_notes.take();
    ana_notes.take();

    let team: Vec<String> = ana.team().await.unwrap().into_iter().map(|m| m.name).collect();
    assert!(team.contains(&"ben".to_string()) && team.contains(&coexist_engine::demo::DEMO_AGENT.to_string()), "{team:?}");

    ana.assign(&key, Some("ben")).await.unwrap();
    assert_eq!(assignee(&ana, &key).as_deref(), Some("ben"), "the agent who assigned sees it at once");
    ben.sync_once().await.unwrap();
    assert_eq!(assignee(&ben, &key).as_deref(), Some("ben"));
    let mine = ConversationFilter { only_mine: Some("ben".into()), ..Default::default() };
    assert_eq!(ben.store().lock().unwrap().conversations(&mine, now()).unwrap().len(), 1, "in Ben's Mine");
    assert_eq!(ben_notes.take(), vec![("Ana Silva is yours now".to_string(), "demo-agent assigned this conversation to you.".to_string())]);
    ben.sync_once().await.unwrap();
    assert!(ben_notes.take().is_empty(), "once");
    assert!(ana_notes.take().is_empty(), "not the one who assigned it");

    ana.add_note(&key, "  Refund approved by finance, @Ben tell her today ").await.unwrap();
    ben.sync_once().await.unwrap();
    let notes = ben.store().lock().unwrap().notes(&key, None, None).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!((notes[0].author.as_str(), notes[0].text.as_str()), ("demo-agent", "Refund approved by finance, @Ben tell her today"));
    assert_eq!(
        ben_notes.take(),
        vec![("demo-agent mentioned you".to_string(), "Ana Silva: Refund approved by finance, @Ben tell her today".to_string())]
    );
    ben.add_note(&key, "@ben to self: done by 5").await.unwrap();
    ana.add_note(&key, "no mention of anyone").await.unwrap();
    ben.sync_once().await.unwrap();
    assert!(ben_notes.take().is_empty(), "not his own note, not a note without @ben");

    // Ben hands it back, then takes it himself: nobody is notified of their own change.
    ben.assign(&key, None).await.unwrap();
    ana.sync_once().await.unwrap();
    assert_eq!(assignee(&ana, &key), None);
    ben.assign(&key, Some("ben")).await.unwrap();
    assert_eq!(assignee(&ben, &key).as_deref(), Some("ben"));
    assert!(ben_notes.take().is_empty() && ana_notes.take().is_empty());
    assert!(s.sent().await.is_empty(), "the customer got nothing of it");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn a_note_or_an_assignment_that_cannot_be_taken_says_why() {
    let s = stack().await;
    let (ana, _) = s.engine("ana", SyncMode::LongPoll);
    s.customer_says("14155550111", "Ana Silva", "hi", None).await;
    let key = s.conversation("14155550111");
    sync_until_conversation(&ana, &key).await;

    let empty = ana.add_note(&key, " \n ").await.unwrap_err();
    assert!(matches!(empty, EngineError::Invalid(_)) && empty.to_string().contains("empty"), "{empty}");
    let long = ana.add_note(&key, &"x".repeat(4097)).await.unwrap_err();
    assert!(long.to_string().contains("4096"), "{long}");
    let nobody = ana.assign(&key, Some("zoe")).await.unwrap_err();
    assert!(nobody.to_string().contains("zoe") && nobody.to_string().contains("/v1/team"), "{nobody}");
    ana.sync_once().await.unwrap();
    assert_eq!(assignee(&ana, &key), None);
    assert!(ana.store().lock().unwrap().notes(&key, None, None).unwrap().is_empty());
    s.demo.shutdown().await;
}

#[tokio::test]
async fn done_reaches_every_desktop_and_the_customer_writing_reopens_it_everywhere() {
    let s = stack().await;
    let (ana, _) = s.engine("ana", SyncMode::LongPoll);
    let (ben, _) = ben(&s);
    s.customer_says("14155550111", "Ana Silva", "Thanks, all good now", None).await;
    let key = s.conversation("14155550111");
    sync_until_conversation(&ana, &key).await;
    let done = |engine: &Engine| engine.store().lock().unwrap().conversation(&key, now()).unwrap().unwrap().done;

    ana.mark_done(&key, true, None).await.unwrap();
    ben.sync_once().await.unwrap();
    assert!(done(&ana) && done(&ben));
    s.customer_says("14155550111", "Ana Silva", "Actually, one more thing", None).await;
    eventually(15, "the new message at Ben's", || async {
        ben.sync_once().await.unwrap();
        (!done(&ben)).then_some(())
    })
    .await;
    ana.sync_once().await.unwrap();
    assert!(!done(&ana), "open again on every desktop");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn a_snoozed_conversation_comes_back_by_the_clock_notified_once() {
    let s = stack().await;
    let (ana, notes) = s.engine("ana", SyncMode::LongPoll);
    s.customer_says("14155550111", "Ana Silva", "Call me back in a bit", None).await;
    let key = s.conversation("14155550111");
    sync_until_conversation(&ana, &key).await;
    notes.take();
    let until_ms = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64) + 1_500;
    ana.mark_done(&key, true, Some(until_ms)).await.unwrap();
    let summary = |engine: &Engine| engine.store().lock().unwrap().conversation(&key, now()).unwrap().unwrap();
    assert!(summary(&ana).done, "snoozed");
    assert_eq!(summary(&ana).snoozed_until_ms, Some(until_ms));
    ana.check_snoozes().unwrap();
    assert!(notes.take().is_empty(), "not yet");

    // The clock reads whole seconds: the end is seen within a second of it.
    tokio::time::sleep(std::time::Duration::from_millis(2_600)).await;
    let mut events = ana.subscribe();
    ana.check_snoozes().unwrap();
    assert!(!summary(&ana).done, "back on the queues");
    assert_eq!(notes.take(), vec![("Ana Silva is back".to_string(), "The snooze ended: the conversation is on the queues again.".to_string())]);
    let event = events.try_recv().expect("the list is told");
    assert!(matches!(event, coexist_engine::EngineEvent::ConversationsChanged { list, .. } if list == vec![key.clone()]));
    ana.check_snoozes().unwrap();
    assert!(notes.take().is_empty(), "once");
    s.demo.shutdown().await;
}

/// The next `TeammateWriting` Ana's engine publishes, if one comes within `wait`.
async fn next_writing(events: &mut tokio::sync::broadcast::Receiver<coexist_engine::EngineEvent>, wait: std::time::Duration) -> Option<(coexist_core::ConversationKey, String, i64)> {
    tokio::time::timeout(wait, async {
        loop {
            match events.recv().await {
                Ok(coexist_engine::EngineEvent::TeammateWriting { conversation, agent, until_ms }) => return (conversation, agent, until_ms),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teammate_typing_shows_on_the_other_desktops_live_not_on_their_own() {
    let s = stack().await;
    let (ana, _) = s.engine_with(&s.dir.path().join("ana.db"), |c| c.sync.mode = SyncMode::Stream);
    ana.set_agent(coexist_engine::demo::DEMO_AGENT);
    let (ben, _) = ben(&s);
    s.customer_says("14155550111", "Ana Silva", "Hello?", None).await;
    let key = s.conversation("14155550111");
    sync_until_conversation(&ana, &key).await;
    sync_until_conversation(&ben, &key).await;
    let mut ana_events = ana.subscribe();
    let _tasks = ana.start();

    // Until Ana's stream is open, a notice reaches nobody: say it until she hears one.
    let start = std::time::Instant::now();
    while next_writing(&mut ana_events, std::time::Duration::from_millis(300)).await.is_none() {
        assert!(start.elapsed() < std::time::Duration::from_secs(15), "Ana's stream never heard Ben");
        ben.client().presence(&key).await.unwrap();
    }
    // Ben types: Ana's desktop says so, for the next seconds.
    ben.typing(&key).unwrap();
    let (conversation, agent, until_ms) = next_writing(&mut ana_events, std::time::Duration::from_secs(5)).await.expect("Ana hears Ben typing");
    assert_eq!((conversation, agent.as_str()), (key.clone(), "ben"));
    assert!(until_ms > now() * 1000, "for the next seconds");
    // Ana typing is not news to Ana.
    ana.typing(&key).unwrap();
    assert!(next_writing(&mut ana_events, std::time::Duration::from_secs(1)).await.is_none());
    s.demo.shutdown().await;
}

/// The try-it mode shows the team's side: Sam keeps quick replies and hands Ben over with a
/// note that mentions the demo's agent (notified).
#[tokio::test]
async fn the_demo_has_a_teammate() {
    let dir = tempfile::tempdir().unwrap();
    let demo = coexist_engine::demo::start_demo(dir.path()).await.unwrap();
    let notifier = coexist_engine::CollectingNotifier::default();
    let engine = Engine::open(&demo.inbox_path, EngineConfig::new(&demo.bridge_url, &demo.token), Arc::new(notifier.clone())).unwrap();
    engine.set_agent(coexist_engine::demo::DEMO_AGENT);
    let ben = coexist_core::ConversationKey { phone_number_id: demo.phone_number_id.clone(), contact: coexist_core::ContactKey::from_wa_id("447700900222") };
    eventually(40, "Ben handed over with a note", || async {
        engine.sync_once().await.unwrap();
        let store = engine.store().lock().unwrap();
        let handed = store.conversation(&ben, now()).unwrap().is_some_and(|c| c.assignee.as_deref() == Some("demo-agent"));
        (handed && !store.notes(&ben, None, None).unwrap().is_empty()).then_some(())
    })
    .await;
    let shortcuts: Vec<String> = engine.store().lock().unwrap().quick_replies().unwrap().into_iter().map(|q| q.shortcut).collect();
    assert_eq!(shortcuts, ["hours", "ship"]);
    let shown: Vec<String> = notifier.take().into_iter().map(|(title, _)| title).collect();
    assert!(shown.contains(&"Ben Okafor is yours now".to_string()) && shown.contains(&"sam mentioned you".to_string()), "{shown:?}");
    demo.shutdown().await;
}

fn blocked_by(engine: &Engine, key: &coexist_core::ConversationKey) -> Option<String> {
    engine.store().lock().unwrap().conversation(key, now()).unwrap().unwrap().blocked_by
}

#[tokio::test]
async fn blocking_a_customer_goes_through_meta_reaches_every_desktop_and_stops_sends_until_unblocked() {
    let s = stack().await;
    let (ana, _) = s.engine("ana", SyncMode::LongPoll);
    let (ben, _) = ben(&s);
    s.customer_says("14155550122", "Spammer", "BUY CHEAP FOLLOWERS", None).await;
    let key = s.conversation("14155550122");
    sync_until_conversation(&ana, &key).await;
    sync_until_conversation(&ben, &key).await;

    ana.set_blocked(&key, true).await.unwrap();
    assert_eq!(blocked_by(&ana, &key).as_deref(), Some(coexist_engine::demo::DEMO_AGENT), "the agent who blocked sees it at once");
    ben.sync_once().await.unwrap();
    assert_eq!(blocked_by(&ben, &key).as_deref(), Some(coexist_engine::demo::DEMO_AGENT), "and so does the team");

    let listed = ben.blocked_customers(&key.phone_number_id).await.unwrap();
    let expected = coexist_engine::BlockedCustomer {
        contact: "14155550122".into(),
        name: Some("Spammer".into()),
        blocked_by: Some(coexist_engine::demo::DEMO_AGENT.into()),
    };
    assert_eq!(listed, [expected], "Meta's block list, named as the inbox knows them");

    let refused = ben.send_text(&key, "hello?", None).unwrap_err();
    assert!(matches!(&refused, EngineError::Invalid(m) if m.contains("blocked this customer")), "{refused}");
    let resp = s
        .http
        .post(format!("{}/sandbox/customers/messages", s.demo.sandbox_url))
        .json(&serde_json::json!({"from": "14155550122", "type": "text", "text": "hello??"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409, "Meta holds the block: a blocked customer's message never reaches the business");

    ben.set_blocked(&key, false).await.unwrap();
    ana.sync_once().await.unwrap();
    assert_eq!(blocked_by(&ana, &key), None);
    assert!(ana.blocked_customers(&key.phone_number_id).await.unwrap().is_empty());
    ana.send_text(&key, "Sorry, we got it wrong", None).unwrap();
    let report = ana.drain_outbox(std::time::Duration::from_secs(10)).await.unwrap();
    assert_eq!(report.sent, 1, "Meta takes messages to them again: {report:?}");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn meta_refusing_to_block_a_customer_silent_for_a_day_is_said_in_words_and_changes_nothing() {
    let s = stack().await;
    let (ana, _) = s.engine("ana", SyncMode::LongPoll);
    s.customer_says("14155550133", "Old Customer", "thanks!", Some(now() - 2 * 86_400)).await;
    let key = s.conversation("14155550133");
    sync_until_conversation(&ana, &key).await;

    let refused = ana.set_blocked(&key, true).await.unwrap_err().to_string();
    assert!(refused.contains("only customers who wrote to it in the last 24 hours"), "{refused}");
    assert_eq!(blocked_by(&ana, &key), None);
    s.demo.shutdown().await;
}
