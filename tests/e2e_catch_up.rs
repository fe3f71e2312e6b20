//! Catching up, in the real app: a bridge holding 100,000 updates the desktop has never seen (as
//! after days offline, or a first sign-in on a busy bridge). The header says how far the backlog
//! is ("Catching up: 20,000 of 100,013 updates"), the list fills in while it goes, and the header
//! then says "Connected" with every conversation in the list.
//!
//! Run: `xvfb-run -a dbus-run-session -- cargo test -p coexist-inbox --test e2e_catch_up`

#[allow(dead_code)]
mod e2e_support;

use std::path::Path;
use std::time::Duration;

use e2e_support::{harness, session::AppSession, stack::Stack};
use serde_json::json;

const UPDATES: i64 = 100_000;
const CUSTOMERS: i64 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_backlog_shows_its_progress_then_connected() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    append_backlog(&dir.path().join("bridge.db"), &stack.sandbox.phone_number_id);

    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, Duration::from_secs(120)).await;
    let ui = &app.ui;
    let progress = ui
        .wait("the header to say it is catching up", "const s = document.querySelector('[data-testid=sync-state]'); return s.dataset.state === 'catching_up' ? s.textContent : null", vec![])
        .await;
    std::fs::write(harness::screenshot_path("catching-up.png"), ui.c.screenshot().await.unwrap()).unwrap();
    let progress = progress.as_str().unwrap().to_string();
    let seen_at = std::time::Instant::now();
    let numbers: Vec<i64> = progress
        .trim_start_matches("Catching up: ")
        .trim_end_matches(" updates")
        .split(" of ")
        .map(|n| n.replace(',', "").parse().unwrap_or_else(|_| panic!("numbers in {progress:?}")))
        .collect();
    assert!(numbers[1] >= UPDATES && numbers[0] < numbers[1], "{progress:?}");

    ui.wait("Connected", "const s = document.querySelector('[data-testid=sync-state]'); return s.dataset.state === 'connected' && s.textContent === 'Connected' || null", vec![]).await;
    eprintln!("e2e: saw {progress:?}; connected {:.1} s later", seen_at.elapsed().as_secs_f64());
    // The customer of the backlog's last message comes first once the list has reloaded.
    let newest = format!("Customer {}", (UPDATES - 1) % CUSTOMERS);
    ui.wait("the newest customer at the top", "const n = document.querySelector('[data-testid=conversation-item] [data-testid=conversation-name]'); return n && n.textContent === arguments[0] || null", vec![json!(newest)]).await;
    let listed = ui.js("return document.querySelectorAll('[data-testid=conversation-item]').length", vec![]).await;
    assert!(listed.as_i64().unwrap() >= 50, "the list is filled: {listed}");
    app.close().await;
    stack.shutdown().await;
}

/// Append `UPDATES` customer messages to the bridge's log, as another process writing the same
/// file would (the bridge serves what it finds there): two days old, so none of them notifies.
fn append_backlog(db: &Path, phone_number_id: &str) {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let tx = conn.transaction().unwrap();
    let first: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM events", [], |r| r.get(0)).unwrap();
    let t0 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 2 * 86_400;
    {
        let mut insert = tx.prepare("INSERT INTO events (seq, kind, received_at_ms, payload) VALUES (?1, 'webhook', ?2, ?3)").unwrap();
        for i in 0..UPDATES {
            let from = format!("1555020{:04}", i % CUSTOMERS);
            let value = json!({
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15555550100", "phone_number_id": phone_number_id},
                "contacts": [{"profile": {"name": format!("Customer {}", i % CUSTOMERS)}, "wa_id": from}],
                "messages": [{"from": from, "id": format!("wamid.backlog.{i}"), "timestamp": (t0 + i).to_string(),
                              "type": "text", "text": {"body": format!("Backlog message {i}")}}]
            });
            let payload = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": value}]}]});
            insert.execute(rusqlite::params![first + i, t0 * 1000, payload.to_string()]).unwrap();
        }
    }
    tx.commit().unwrap();
}
