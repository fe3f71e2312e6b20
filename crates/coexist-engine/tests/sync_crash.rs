//! kill -9 of the desktop engine mid-sync: the `coexist` binary is killed at random moments while
//! it applies a backlog, then resumes. Its inbox must end exactly as a clean, uninterrupted sync
//! of the same bridge: no relay event lost, none applied twice.

mod common;

use std::path::Path;
use std::time::Duration;

use coexist_store::{ConversationFilter, Store};
use common::*;
use serde_json::{json, Value};

const CUSTOMERS: u64 = 40;
const WEBHOOKS: u64 = 500;
const PER_WEBHOOK: u64 = 4;

fn sync_command(s: &Stack, db: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_coexist"));
    // Small pages and batches: many commits to be killed between and during.
    cmd.args(["sync", "--once", "--mode", "long-poll", "--page-size", "10", "--max-batch", "10"])
        .env("COEXIST_BRIDGE_URL", &s.demo.bridge_url)
        .env("COEXIST_TOKEN", &s.demo.token)
        .env("COEXIST_DB", db)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd
}

/// The relay cursor a running sync has committed so far (0 before its first commit), read
/// without writing to the file.
fn committed_cursor(db: &Path) -> i64 {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let Ok(conn) = rusqlite::Connection::open_with_flags(db, flags) else { return 0 };
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| r.get(0)).unwrap_or(0)
}

async fn sync_to_the_end(s: &Stack, db: &Path) {
    let status = sync_command(s, db).status().await.expect("the binary runs");
    assert!(status.success(), "a full sync into {} failed", db.display());
}

/// Customers' messages, then Business App answers to some of them.
async fn fill_backlog(s: &Stack) {
    let t0 = now() - 3_600;
    for w in 0..WEBHOOKS {
        let messages: Vec<Value> = (0..PER_WEBHOOK)
            .map(|i| {
                let n = w * PER_WEBHOOK + i;
                let from = (14_155_560_000 + n % CUSTOMERS).to_string();
                json!({"from": from, "name": format!("Customer {}", n % CUSTOMERS), "type": "text",
                       "text": format!("message {n}"), "timestamp": t0 + n as i64})
            })
            .collect();
        s.control("/sandbox/customers/batch", json!({ "messages": messages })).await;
        if w % 25 == 0 {
            s.app_says(&(14_155_560_000 + w % CUSTOMERS).to_string(), &format!("answer {w}")).await;
        }
    }
}

/// Everything a user sees at `now`: each conversation's row and its whole timeline.
fn inbox(db: &Path, now: i64) -> (i64, Value) {
    let store = Store::open(db).unwrap();
    store.check_integrity().expect("the file is sound after the kills");
    let rows = store.conversations(&ConversationFilter { limit: 1_000, ..Default::default() }, now).unwrap();
    let threads: Vec<Value> = rows
        .iter()
        .map(|row| {
            let messages = store.messages(&row.conversation, None, 1_000).unwrap();
            json!({"row": row, "messages": messages})
        })
        .collect();
    (store.cursor().unwrap(), Value::Array(threads))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_sync_the_inbox_ends_as_a_clean_sync_would() {
    let s = stack().await;
    fill_backlog(&s).await;
    tokio::time::sleep(Duration::from_secs(2)).await; // the echoes' statuses settle
    let crashed = s.dir.path().join("crashed.db");

    let mut killed_with_work_left = 0;
    for round in 0..6 {
        let before = committed_cursor(&crashed);
        let mut child = sync_command(&s, &crashed).spawn().expect("the binary runs");
        // Once it has committed something, kill it a few milliseconds later: between pages or
        // in the middle of one.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while committed_cursor(&crashed) == before && child.try_wait().unwrap().is_none() {
            assert!(std::time::Instant::now() < deadline, "the sync made no progress in 30 s");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(7 * round)).await;
        if child.try_wait().unwrap().is_some() {
            break; // it caught up before the kill
        }
        child.kill().await.expect("SIGKILL");
        let after = committed_cursor(&crashed);
        assert!(after >= before, "the cursor went back from {before} to {after}");
        eprintln!("round {round}: killed at cursor {after} (was {before})");
        killed_with_work_left += 1;
    }
    assert!(killed_with_work_left >= 4, "the syncs finished before they could be killed; grow the backlog");
    sync_to_the_end(&s, &crashed).await;

    let clean = s.dir.path().join("clean.db");
    sync_to_the_end(&s, &clean).await;
    sync_to_the_end(&s, &crashed).await; // anything that arrived meanwhile

    let at = now();
    let (crashed_cursor, crashed_inbox) = inbox(&crashed, at);
    let (clean_cursor, clean_inbox) = inbox(&clean, at);
    assert_eq!(crashed_cursor, clean_cursor, "both synced to the bridge's last event");
    let threads = clean_inbox.as_array().unwrap();
    assert_eq!(threads.len() as u64, CUSTOMERS);
    let messages: usize = threads.iter().map(|t| t["messages"].as_array().unwrap().len()).sum();
    assert_eq!(messages as u64, WEBHOOKS * PER_WEBHOOK + WEBHOOKS / 25, "every message once");
    assert!(crashed_inbox == clean_inbox, "the killed-and-resumed inbox differs from a clean sync");
    s.demo.shutdown().await;
}
