//! The app's commands (as `Backend` methods) against a real engine, local inbox, bridge and
//! sandbox — everything but the window. The e2e test covers the same through the UI.

mod app_support;

use std::sync::Arc;
use std::time::Duration;

use coexist_core::rules::{ClosedReason, WindowState};
use coexist_core::{ContactKey, ConversationKey, Side};
use coexist_engine::CollectingNotifier;
use coexist_inbox::actions::TemplateSend;
use coexist_inbox::backend::{self, Backend};
use coexist_inbox::config::{AppConfig, Mode};
use coexist_store::OutboxState;
use serde_json::json;
use app_support::stack::{Stack, AGENT};
use app_support::{backend_on, eventually, now};



struct Setup {
    stack: Stack,
    backend: Backend,
    notifier: CollectingNotifier,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.unwrap();
    let notifier = CollectingNotifier::default();
    let backend = backend_on(&stack, &stack.token, &dir.path().join("app"), &notifier).await;
    Setup {
        stack,
        backend,
        notifier,
        _dir: dir,
    }
}

fn key(s: &Setup, contact: &str) -> ConversationKey {
    ConversationKey {
        phone_number_id: s.stack.sandbox.phone_number_id.clone(),
        contact: ContactKey::from_wa_id(contact),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_commands_over_the_real_stack() {
    let s = setup().await;
    let info = s.backend.info().await;
    assert_eq!((info.mode, info.agent.as_str()), ("bridge", AGENT));
    assert!(
        info.data_dir.join(backend::INBOX_FILE).exists(),
        "the inbox lives in the data dir"
    );

    // A customer writes: listed, unread, unowned, window open; filters agree; one notification.
    let ana = key(&s, "15551230001");
    let asked = s
        .stack
        .customer_says("15551230001", "Ana", "Where is my parcel?", None)
        .await
        .unwrap();
    eventually("Ana's conversation", || {
        s.backend.open_conversation(&ana).ok()
    })
    .await;
    let list = s.backend.list_conversations("all").await.unwrap();
    assert_eq!(list[0].conversation, ana);
    assert_eq!(list[0].unread, 1);
    assert_eq!(
        s.backend.list_conversations("unread").await.unwrap().len(),
        1
    );
    assert!(s
        .backend
        .list_conversations("app")
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .backend
        .list_conversations("mine")
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .backend
        .list_conversations("bogus")
        .await
        .unwrap_err()
        .contains("unknown filter"));
    eventually("the notification", || {
        (s.notifier.count() == 1).then_some(())
    })
    .await;
    assert_eq!(
        s.notifier.take(),
        vec![("Ana".to_string(), "Where is my parcel?".to_string())]
    );

    // mark_read clears the unread count, and marks Ana's message read at Meta (her blue ticks).
    s.backend.mark_read(&ana).unwrap();
    assert_eq!(s.backend.open_conversation(&ana).unwrap().unread, 0);
    let marks = eventually("the read mark at Meta", || {
        let marks = s.stack.sandbox.sandbox().read_marks();
        (!marks.is_empty()).then_some(marks)
    })
    .await;
    assert_eq!((marks[0].message_id.as_str(), marks[0].wa_id.as_str()), (asked.as_str(), "15551230001"));
    s.backend.mark_read(&ana).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.stack.sandbox.sandbox().read_marks().len(), 1, "read once: nothing new to mark");

    // A reply is pending at once, then stored, owned by us, and delivered.
    let item = s.backend.send_text(&ana, "It ships today", None).unwrap();
    assert_eq!(item.state, OutboxState::Queued);
    let page = s.backend.messages(&ana, None, None).unwrap();
    assert!(
        page.pending
            .iter()
            .any(|p| p.idempotency_key == item.idempotency_key)
            || page
                .messages
                .iter()
                .any(|m| m.idempotency_key.as_deref() == Some(item.idempotency_key.as_str())),
        "the send shows at once: {page:?}"
    );
    eventually("the reply delivered", || {
        let page = s.backend.messages(&ana, None, None).unwrap();
        let m = page.messages.iter().find(|m| m.side == Side::Api)?;
        (page.pending.is_empty()
            && matches!(
                m.status,
                Some(coexist_core::StatusKind::Delivered | coexist_core::StatusKind::Read)
            ))
        .then_some(())
    })
    .await;
    assert_eq!(s.backend.list_conversations("mine").await.unwrap().len(), 1);

    // Search, templates, number health.
    let hits = s.backend.search("parcel").unwrap();
    assert_eq!(hits.len(), 1);
    assert!(s.backend.search("   ").unwrap().is_empty());
    let templates = s.backend.templates(&ana.phone_number_id).await.unwrap();
    assert!(
        templates
            .iter()
            .any(|t| t.name == "order_update" && t.language == "en_US"),
        "{templates:?}"
    );
    let health = s.backend.number_health().unwrap();
    assert_eq!(health.len(), 1);
    assert!(!health[0].offboarded);

    // A closed window refuses free text in plain words; a template goes.
    let olga = key(&s, "15551230003");
    s.stack
        .customer_says(
            "15551230003",
            "Olga",
            "Open Sunday?",
            Some(now() - 25 * 3600),
        )
        .await
        .unwrap();
    eventually("Olga's conversation", || {
        s.backend.open_conversation(&olga).ok()
    })
    .await;
    let refused = s.backend.send_text(&olga, "Yes", None).unwrap_err();
    assert!(refused.contains("24-hour window is closed"), "{refused}");
    let bad = TemplateSend {
        name: "order_update".into(),
        language: "en_US".into(),
        params: Default::default(),
    };
    assert!(
        s.backend
            .send_template(&olga, &bad)
            .unwrap_err()
            .contains("order_update"),
        "missing parameters are refused"
    );
    let good: TemplateSend =
        serde_json::from_value(json!({"name": "order_update", "language": "en_US", "params": {"body_positional": ["Olga", "#7"]}}))
            .unwrap();
    s.backend.send_template(&olga, &good).unwrap();
    eventually("the template stored", || {
        s.backend
            .messages(&olga, None, None)
            .unwrap()
            .messages
            .iter()
            .any(|m| m.side == Side::Api)
            .then_some(())
    })
    .await;

    // Retry: an unknown key is explained, not ignored.
    assert!(s
        .backend
        .retry_send("no-such-key")
        .unwrap_err()
        .contains("cannot be retried"));

    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_pages_walk_back_without_gaps_or_repeats() {
    let s = setup().await;
    let vic = key(&s, "15551230004");
    let start = now() - 10 * 86400;
    let history: Vec<_> = (1..=120)
        .map(|i| json!({ "from_business": i % 2 == 0, "text": format!("line {i}"), "timestamp": start + i * 60, "status": "READ" }))
        .collect();
    s.stack
        .control(
            "/sandbox/history",
            json!({ "threads": [{ "wa_id": "15551230004", "messages": history }] }),
        )
        .await
        .unwrap();
    eventually("the whole history", || {
        (s.backend
            .messages(&vic, None, Some(500))
            .map(|p| p.messages.len())
            .unwrap_or(0)
            == 120)
            .then_some(())
    })
    .await;

    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s.backend.messages(&vic, before, Some(50)).unwrap();
        let texts: Vec<String> = page
            .messages
            .iter()
            .filter_map(|m| m.text.clone())
            .collect();
        seen.splice(0..0, texts);
        let oldest = &page.messages[0];
        before = Some((oldest.timestamp, oldest.arrival));
        if !page.has_more {
            break;
        }
    }
    let expected: Vec<String> = (1..=120).map(|i| format!("line {i}")).collect();
    assert_eq!(seen, expected, "pages cover the thread once, oldest first");
    assert_eq!(s.notifier.count(), 0, "history never notifies");
    s.stack.shutdown().await;
}

/// An unreachable bridge does not stop the app: it opens on the local inbox, offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_offline_when_the_bridge_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        mode: Mode::Bridge {
            url: "http://127.0.0.1:9".into(),
            token: "t".into(),
        },
        data_dir: None,
    };
    let backend = backend::start(&config, dir.path(), Arc::new(CollectingNotifier::default()))
        .await
        .unwrap();
    let mut events = backend.engine.subscribe();
    assert_eq!(backend.refresh_info().await.agent, "", "nobody to ask");
    assert!(backend.list_conversations("all").await.unwrap().is_empty());
    let offline = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = events.recv().await.unwrap();
            if let Some(coexist_inbox::events::UiEvent::Sync {
                state: "offline",
                detail,
            }) = coexist_inbox::events::to_ui(&e)
            {
                return detail;
            }
        }
    })
    .await
    .expect("an offline status for the UI");
    assert!(offline.unwrap().starts_with("Offline: "));
}

/// A template header's file must be of the header's kind; the right one gets a media id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_file_is_checked_against_the_header_then_uploaded() {
    use coexist_inbox::attach::HeaderFile;
    let s = setup().await;
    let pnid = s.stack.sandbox.phone_number_id.clone();
    let header = |name: &str, mime: &str, kind: &str| HeaderFile { phone_number_id: pnid.clone(), name: name.into(), mime_type: mime.into(), kind: kind.into() };
    let wrong = s.backend.upload_header_file(header("terms.pdf", "application/pdf", "image"), b"%PDF-1.4".to_vec()).await.unwrap_err();
    assert!(wrong.contains("takes image files") && wrong.contains("terms.pdf"), "{wrong}");
    let id = s.backend.upload_header_file(header("terms.pdf", "application/pdf", "document"), b"%PDF-1.4".to_vec()).await.unwrap();
    assert!(!id.is_empty() && id.chars().all(|c| c.is_ascii_digit()), "{id}");
    s.stack.shutdown().await;
}

/// Meta's clock ahead of this desktop's: opening the conversation still reads its newest message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_stamped_ahead_of_this_clock_is_read_when_opened() {
    let s = setup().await;
    let ana = key(&s, "15551230001");
    let ahead = s
        .stack
        .customer_says("15551230001", "Ana", "Sent a minute from now, by this clock", Some(now() + 60))
        .await
        .unwrap();
    let opened = eventually("Ana's conversation", || s.backend.open_conversation(&ana).ok()).await;
    assert_eq!(opened.unread, 1);
    s.backend.mark_read(&ana).unwrap();
    assert_eq!(s.backend.open_conversation(&ana).unwrap().unread, 0, "read up to the newest message shown");
    eventually("the read mark at Meta", || {
        s.stack.sandbox.sandbox().read_marks().iter().any(|r| r.message_id == ahead).then_some(())
    })
    .await;
}

/// The team commands: who can be assigned, assigning (Mine and Unassigned follow), and notes
/// shown with the thread's newest page only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_is_assigned_and_noted_from_the_app() {
    let s = setup().await;
    let cleo = key(&s, "15551230009");
    s.stack.customer_says("15551230009", "Cleo", "Where is my refund?", None).await.unwrap();
    let listed = |filter: &'static str| {
        let backend = &s.backend;
        async move { backend.list_conversations(filter).await.unwrap().into_iter().map(|c| c.conversation).collect::<Vec<_>>() }
    };
    let start = std::time::Instant::now();
    while !listed("unassigned").await.contains(&cleo) {
        assert!(start.elapsed() < Duration::from_secs(20), "Cleo's conversation never listed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listed("mine").await.is_empty());

    let team = s.backend.team().await.unwrap();
    assert!(team.iter().any(|m| m.name == AGENT), "{team:?}");
    s.backend.assign(&cleo, Some(AGENT)).await.unwrap();
    assert_eq!(listed("mine").await, vec![cleo.clone()], "applied before the command answers");
    assert!(listed("unassigned").await.is_empty());
    let summary = s.backend.list_conversations("all").await.unwrap().remove(0);
    assert_eq!(summary.assignee.as_deref(), Some(AGENT));

    s.backend.add_note(&cleo, "Refund left on Monday; <b>not</b> a chargeback").await.unwrap();
    let page = s.backend.messages(&cleo, None, Some(50)).unwrap();
    assert_eq!(page.notes.len(), 1);
    assert_eq!((page.notes[0].author.as_str(), page.notes[0].text.as_str()), (AGENT, "Refund left on Monday; <b>not</b> a chargeback"));
    let oldest = &page.messages[0];
    let older = s.backend.messages(&cleo, Some((oldest.timestamp, oldest.arrival)), Some(50)).unwrap();
    assert!(older.notes.is_empty(), "each note on one page only");
    // Cleo writes again: a search hit on her first message opens in context with the note
    // that came between the two.
    let first = oldest.wamid.clone();
    s.stack.customer_says("15551230009", "Cleo", "Any news?", Some(now() + 60)).await.unwrap();
    eventually("Cleo's second message", || (s.backend.messages(&cleo, None, Some(50)).ok()?.messages.len() == 2).then_some(())).await;
    let context = s.backend.message_context(&first).unwrap();
    assert_eq!(context.page.notes.len(), 1, "the note between the two messages is in the context page");
    assert!(s.backend.add_note(&cleo, "   ").await.unwrap_err().contains("empty"));
    assert!(s.backend.assign(&cleo, Some("nobody-here")).await.unwrap_err().contains("nobody-here"));

    s.backend.assign(&cleo, None).await.unwrap();
    assert_eq!(listed("unassigned").await, vec![cleo]);
    s.stack.shutdown().await;
}

/// An agent writes first: a customer who never wrote opens as a new conversation (not stored,
/// window never opened), a template starts it, and it is listed, owned by the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_starts_a_conversation_with_a_template() {
    let s = setup().await;
    let pnid = s.stack.sandbox.phone_number_id.clone();
    let fresh = eventually("the number known", || s.backend.start_conversation(&pnid, "+1 (555) 123-0077").ok()).await;
    assert_eq!(fresh.conversation, key(&s, "15551230077"));
    assert!(matches!(fresh.window, WindowState::Closed { reason: ClosedReason::NeverOpened }), "{:?}", fresh.window);
    assert!(fresh.window_explanation.unwrap().contains("template"));
    assert!(s.backend.open_conversation(&fresh.conversation).is_err(), "nothing stored before a send");
    assert!(s.backend.list_conversations("all").await.unwrap().is_empty());
    let empty = s.backend.messages(&fresh.conversation, None, None).unwrap();
    assert!(empty.messages.is_empty() && empty.notes.is_empty() && !empty.has_more, "an empty thread, not an error");
    for typed in ["12", "+1 555 12a 0077", "user:abc", "1234567890123456"] {
        let refused = s.backend.start_conversation(&pnid, typed).unwrap_err();
        assert!(refused.contains("phone number"), "{typed:?}: {refused}");
    }
    let elsewhere = s.backend.start_conversation("999", "+15551230077").unwrap_err();
    assert!(elsewhere.contains("not one of this inbox's business numbers"), "{elsewhere}");
    assert!(s.backend.send_text(&fresh.conversation, "Hi!", None).unwrap_err().contains("window"));

    // The picker asks for the number's templates first (fetched from Meta when none are known yet).
    assert!(s.backend.templates(&pnid).await.unwrap().iter().any(|t| t.name == "hello_world"));
    let hello: TemplateSend = serde_json::from_value(json!({"name": "hello_world", "language": "en_US"})).unwrap();
    s.backend.send_template(&fresh.conversation, &hello).unwrap();
    let listed = eventually("the conversation listed, owned by the API", || {
        s.backend.open_conversation(&fresh.conversation).ok().filter(|c| c.owner_agent.is_some())
    })
    .await;
    assert_eq!(listed.owner_agent.as_deref(), Some(AGENT));
    assert!(matches!(listed.window, WindowState::Closed { .. }), "our template does not open the window");
    let again = s.backend.start_conversation(&pnid, "15551230077").unwrap();
    assert_eq!(again.last_activity, listed.last_activity, "typed again, it is the stored conversation");
    s.stack.shutdown().await;
}

/// Unsent replies are kept by the app (the writer's file, read back through the reader), each
/// conversation its own, and refused in words past the limit; nothing of them reaches the bridge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsent_replies_are_kept_per_conversation() {
    let s = setup().await;
    let (ana, ben) = (key(&s, "15551230001"), key(&s, "15551230005"));
    s.backend.save_draft(&ana, "Let me check with the warehouse").unwrap();
    s.backend.save_draft(&ben, "Your refund is").unwrap();
    s.backend.save_draft(&ben, "").unwrap();
    let drafts = s.backend.drafts().unwrap();
    assert_eq!(drafts.len(), 1, "{drafts:?}");
    assert_eq!((&drafts[0].conversation, drafts[0].text.as_str()), (&ana, "Let me check with the warehouse"));

    let refused = s.backend.save_draft(&ana, &"x".repeat(coexist_store::MAX_DRAFT_CHARS + 1)).unwrap_err();
    assert!(refused.to_string().contains("at most"), "{refused}");
    assert_eq!(s.backend.drafts().unwrap()[0].text, "Let me check with the warehouse");
    assert!(s.stack.sandbox.sandbox().sent().is_empty(), "a draft is never sent");
}
