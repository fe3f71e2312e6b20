//! The managers' commands (as `Backend` methods) against a real engine, local inbox, bridge and
//! sandbox: metrics, filtered search, a hit in context, history progress, exports.

mod app_support;

use std::time::Duration;

use coexist_core::{ContactKey, ConversationKey, Side};
use coexist_engine::export::ExportFormat;
use coexist_engine::CollectingNotifier;
use coexist_inbox::backend::Backend;
use coexist_inbox::manager::SearchForm;
use coexist_store::MetricsQuery;
use serde_json::json;
use app_support::stack::{Stack, AGENT};
use app_support::{backend_on, eventually, now};



fn form(text: &str) -> SearchForm {
    SearchForm { text: text.into(), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_view_over_the_real_stack() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.unwrap();
    let notifier = CollectingNotifier::default();
    let data_dir = dir.path().join("app");
    let b: Backend = backend_on(&stack, &stack.token, &data_dir, &notifier).await;
    let pnid = stack.sandbox.phone_number_id.clone();
    let key = |c: &str| ConversationKey { phone_number_id: pnid.clone(), contact: ContactKey::from_wa_id(c) };
    let t = now();

    // Olga wrote 30 h ago and nobody answered; Ana asks 10 min ago, the phone answers, then an agent.
    stack.customer_says("15551230003", "Olga", "Open on Sunday?", Some(t - 30 * 3600)).await.unwrap();
    stack.customer_says("15551230001", "Ana", "Where is my refund?", Some(t - 600)).await.unwrap();
    eventually("Ana's message", || b.open_conversation(&key("15551230001")).ok()).await;
    stack.app_replies("15551230001", "Refund sent from the phone").await.unwrap();
    eventually("the App reply", || {
        b.messages(&key("15551230001"), None, None).unwrap().messages.iter().any(|m| m.side == Side::App).then_some(())
    })
    .await;
    b.send_text(&key("15551230001"), "And the invoice ships today", None).unwrap();
    eventually("the API reply stored", || {
        b.messages(&key("15551230001"), None, None).unwrap().messages.iter().any(|m| m.side == Side::Api).then_some(())
    })
    .await;

    // Metrics over the last three days.
    let q = MetricsQuery { phone_number_id: Some(pnid.clone()), from_ts: t - 3 * 86_400, to_ts: t + 3600, utc_offset_secs: 0 };
    let m = b.metrics(&q).unwrap();
    let total = |f: fn(&coexist_store::DayReplies) -> i64| m.replies_per_day.iter().map(f).sum::<i64>();
    assert_eq!((total(|d| d.customer), total(|d| d.api), total(|d| d.app)), (2, 1, 1));
    // One row per UTC day the range touches, empty days included (4, or 5 when the hour after now is tomorrow).
    let days = (q.to_ts.div_euclid(86_400) - q.from_ts.div_euclid(86_400) + 1) as usize;
    assert_eq!(m.replies_per_day.len(), days, "{:?}", m.replies_per_day);
    let app = &m.first_response[1];
    assert_eq!((app.side, app.answered), (Some(Side::App), 1));
    let waited = app.median_secs.unwrap();
    assert!((600..3600).contains(&waited), "the App answered ~10 min after Ana wrote: {waited}");
    assert_eq!(m.first_response[0].answered, 0, "the agent's message came after the App had answered");
    assert_eq!(m.expired_unanswered.total, 1);
    assert_eq!(m.expired_unanswered.windows[0].conversation, key("15551230003"));
    assert_eq!(m.expired_unanswered.windows[0].expired_at, t - 6 * 3600);
    assert!(b.metrics(&MetricsQuery { from_ts: t, to_ts: t - 1, ..q.clone() }).unwrap_err().contains("ends before"));

    // Search with every filter.
    assert_eq!(b.search_messages(&form("refund")).unwrap().len(), 2);
    let only = |f: SearchForm| b.search_messages(&f).unwrap().iter().map(|h| h.side).collect::<Vec<_>>();
    assert_eq!(only(SearchForm { side: Some("customer".into()), ..form("refund") }), vec![Side::Customer]);
    assert_eq!(only(SearchForm { side: Some("app".into()), ..form("refund") }), vec![Side::App]);
    assert_eq!(only(SearchForm { side: Some("history".into()), ..form("refund") }), vec![]);
    assert_eq!(only(SearchForm { contact: Some("+1 555 123 0001".into()), ..form("refund") }).len(), 2);
    assert_eq!(only(SearchForm { contact: Some("15551230003".into()), ..form("refund") }).len(), 0);
    assert_eq!(only(SearchForm { agent: Some(AGENT.into()), ..form("invoice") }), vec![Side::Api]);
    assert_eq!(only(SearchForm { agent: Some("nobody".into()), ..form("invoice") }).len(), 0);
    assert_eq!(only(SearchForm { phone_number_id: Some("other".into()), ..form("refund") }).len(), 0);
    assert_eq!(only(SearchForm { from_ts: Some(t - 700), to_ts: Some(t - 500), ..form("refund") }), vec![Side::Customer]);
    assert!(b.search_messages(&SearchForm { side: Some("robot".into()), ..form("x") }).unwrap_err().contains("unknown side"));

    // A hit opens in context: the page holds it and everything newer.
    let hit = &b.search_messages(&SearchForm { side: Some("customer".into()), ..form("refund") }).unwrap()[0];
    let ctx = b.message_context(&hit.wamid).unwrap();
    assert_eq!(ctx.conversation, key("15551230001"));
    let wamids: Vec<&str> = ctx.page.messages.iter().map(|m| m.wamid.as_str()).collect();
    assert_eq!(wamids.len(), 3);
    assert_eq!(wamids[0], hit.wamid);
    assert!(b.message_context("wamid.unknown").unwrap_err().contains("no longer"));

    // Exports land in <data dir>/exports, CSV with a header row, JSON as an array.
    let csv = b.export_conversation(&key("15551230001"), ExportFormat::Csv).await.unwrap();
    assert_eq!(csv.path.parent().unwrap(), data_dir.join("exports"));
    let text = std::fs::read_to_string(&csv.path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "phone_number_id,contact,contact_name,wamid,timestamp,time,side,agent,status,text");
    assert_eq!((csv.rows, lines.len()), (3, 4));
    assert!(lines[1].ends_with(",customer,,,Where is my refund?"), "{}", lines[1]);
    let json_export = b.export_search(&form("refund"), ExportFormat::Json).await.unwrap();
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_export.path).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert!(b.export_search(&form("zebra"), ExportFormat::Csv).await.unwrap_err().contains("nothing to export"));
    assert!(b.export_conversation(&key("19999999999"), ExportFormat::Csv).await.is_err());

    // The team's notes are searched with the same filters, open in context, and export with the hits.
    b.add_note(&key("15551230001"), "Refund approved by <b>ops</b>").await.unwrap();
    let note = eventually("the note searchable", || b.search_notes(&form("approved")).unwrap().into_iter().next()).await;
    assert_eq!((note.conversation.clone(), note.author.as_str()), (key("15551230001"), AGENT));
    assert_eq!(b.search_notes(&SearchForm { agent: Some("nobody".into()), ..form("refund") }).unwrap().len(), 0);
    assert_eq!(b.search_notes(&SearchForm { side: Some("customer".into()), ..form("refund") }).unwrap().len(), 0);
    assert!(b.search_notes(&form("  ")).unwrap().is_empty());
    let ctx = b.note_context(note.seq).unwrap();
    assert_eq!((ctx.conversation.clone(), ctx.seq), (key("15551230001"), note.seq));
    assert_eq!(ctx.page.messages.len(), 3, "the note is the newest: the page holds the messages before it");
    assert!(ctx.page.notes.iter().any(|n| n.seq == note.seq && n.text == "Refund approved by <b>ops</b>"));
    assert!(b.note_context(note.seq + 1000).unwrap_err().contains("not in the local inbox"));
    let with_note = b.export_search(&form("refund"), ExportFormat::Json).await.unwrap();
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&with_note.path).unwrap()).unwrap();
    let sides: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["side"].as_str().unwrap()).collect();
    assert_eq!(sides, ["note", "app", "customer"], "newest first, the note with the messages");

    // History import: progress shows; imported messages never notify, never count as unread,
    // never open a window, never count in the metrics.
    notifier.take();
    assert!(b.history_progress().unwrap().is_empty());
    stack
        .control(
            "/sandbox/history",
            json!({"threads": [{"wa_id": "15551230009", "messages": [
                {"from_business": false, "text": "old refund question", "timestamp": t - 3600},
                {"from_business": true, "text": "old refund answer", "timestamp": t - 3500}
            ]}]}),
        )
        .await
        .unwrap();
    let progress = eventually("history progress", || {
        b.history_progress().unwrap().into_iter().find(|p| p.imported_messages == 2)
    })
    .await;
    assert_eq!(progress.phone_number_id, pnid);
    let old = b.open_conversation(&key("15551230009")).unwrap();
    assert_eq!(old.unread, 0);
    assert!(matches!(old.window, coexist_core::rules::WindowState::Closed { .. }));
    assert_eq!(b.metrics(&q).unwrap().replies_per_day, m.replies_per_day);
    assert_eq!(only(SearchForm { side: Some("history".into()), ..form("refund") }).len(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(notifier.count(), 0, "history never notifies");

    drop(b);
    stack.shutdown().await;
}
