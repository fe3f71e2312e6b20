//! kill -9 durability: every webhook answered 200 is in the event log after a restart, with the
//! log in an SQLite file and in Postgres.

mod common;

use std::collections::HashSet;
use std::ffi::OsStr;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts the real binary on `db` (a file or a Postgres URL); returns it and its base URL (read
/// from its first stdout line).
async fn spawn_bridge(db: impl AsRef<OsStr>) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coexist-bridge"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .env("COEXIST_APP_SECRET", SECRET)
        .env("COEXIST_VERIFY_TOKEN", VERIFY)
        .env("COEXIST_ACCESS_TOKEN", ACCESS)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await.unwrap().unwrap().unwrap();
    let url = line.rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_answered_200_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    survives_kill_9(dir.path().join("bridge.db").to_str().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_answered_200_survives_kill_9_in_postgres() {
    let Some(db) = ScratchPostgres::create("durability").await else { return };
    survives_kill_9(&db.url).await;
    db.drop_database().await;
}

async fn survives_kill_9(db: &str) {
    let (mut child, url) = spawn_bridge(db).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();

    // 64 concurrent senders fire webhooks non-stop until the bridge dies under them.
    let answered = Arc::new(Mutex::new(Vec::new()));
    let ok_count = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (http, url, answered, ok_count, failed, next) =
            (http.clone(), url.clone(), answered.clone(), ok_count.clone(), failed.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst) as u64;
                let body = webhook_body(n);
                let r = http
                    .post(format!("{url}/webhook"))
                    .header("x-hub-signature-256", coexist_bridge::sign_webhook(SECRET, body.as_bytes()))
                    .body(body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        answered.lock().unwrap().push(format!("wamid.in.{n}"));
                        ok_count.fetch_add(1, Ordering::SeqCst);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
            }
        }));
    }
    // Mid-burst: once some are answered, SIGKILL (no chance to flush anything).
    while ok_count.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let answered: Vec<String> = answered.lock().unwrap().clone();
    assert!(answered.len() >= 300);
    assert!(failed.load(Ordering::SeqCst) > 0, "the kill must land mid-burst");
    eprintln!(
        "{} webhooks answered 200 before the kill; {} sent in total",
        answered.len(),
        next.load(Ordering::SeqCst)
    );

    // Restart on the same file and read everything back through the relay.
    let (mut child, url) = spawn_bridge(db).await;
    let token = coexist_bridge::admin::add_user(db, "auditor", coexist_bridge::Role::Manager).unwrap();
    let mut after = 0;
    let mut seqs = Vec::new();
    let mut stored = HashSet::new();
    loop {
        let page: Value = http
            .get(format!("{url}/v1/events?after={after}&limit=1000"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        for e in events {
            seqs.push(e["seq"].as_i64().unwrap());
            let id = e["payload"].pointer("/entry/0/changes/0/value/messages/0/id").unwrap().as_str().unwrap();
            assert!(stored.insert(id.to_string()), "{id} stored twice");
        }
        after = page["next"].as_i64().unwrap();
    }
    let missing: Vec<_> = answered.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(missing.is_empty(), "answered 200 but lost after kill -9: {missing:?}");
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "seqs stay gap-free across the crash");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bridge.db");
    let (mut child, url) = spawn_bridge(&db).await;
    let token = coexist_bridge::admin::add_user(&db, "ana", coexist_bridge::Role::Agent).unwrap();
    let http = reqwest::Client::new();
    // A long-poll in flight when the signal arrives is answered, not cut.
    let poll = {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        tokio::spawn(async move { http.get(format!("{url}/v1/events?wait=60")).bearer_auth(token).send().await.map(|r| r.status().as_u16()) })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("exits after SIGTERM").unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(poll.await.unwrap().unwrap(), 200);
}
