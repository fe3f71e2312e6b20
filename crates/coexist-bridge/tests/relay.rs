//! Relay to desktops: long-poll wakes on new events; SSE resumes exactly once.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use serde_json::Value;

#[tokio::test]
async fn long_poll_returns_at_once_when_there_is_nothing_and_wait_is_zero() {
    let h = Harness::start(None, |_| {}).await;
    let (s, page) = h.get_json("/v1/events?after=0", &h.agent).await;
    assert_eq!(s, 200);
    assert_eq!(page, serde_json::json!({"events": [], "next": 0, "last_seq": 0}));
    assert_eq!(h.get_json("/v1/events?after=-1", &h.agent).await.0, 400);
    h.shutdown().await;
}

#[tokio::test]
async fn long_poll_wakes_on_a_new_event() {
    let h = Harness::start(None, |_| {}).await;
    h.post_webhook(&webhook_body(1)).await;
    let url = h.url("/v1/events?after=1&wait=60");
    let (http, token) = (h.http.clone(), h.manager.clone());
    let started = Instant::now();
    let poll = tokio::spawn(async move { http.get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poll.is_finished(), "the long-poll must wait while there is nothing new");
    assert_eq!(h.post_webhook(&webhook_body(2)).await.status(), 200);
    let page = poll.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "woke by the event, not by the timeout");
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    assert_eq!(page["events"][0]["seq"], 2);
    assert_eq!(page["next"], 2);
    h.shutdown().await;
}

#[tokio::test]
async fn paging_with_next_visits_every_event_once() {
    let h = Harness::start(None, |_| {}).await;
    for n in 0..25 {
        h.post_webhook(&webhook_body(n)).await;
    }
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let (_, page) = h.get_json(&format!("/v1/events?after={after}&limit=7"), &h.agent).await;
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            assert_eq!(page["next"], after);
            break;
        }
        seen.extend(events.iter().map(|e| e["seq"].as_i64().unwrap()));
        after = page["next"].as_i64().unwrap();
        assert_eq!(page["last_seq"], 25, "every page says how far the log goes");
    }
    assert_eq!(seen, (1..=25).collect::<Vec<_>>());
    h.shutdown().await;
}

/// Reads SSE events (id, data) from a response until `n` are collected.
async fn read_sse(resp: reqwest::Response, n: usize) -> Vec<(i64, Value)> {
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    while out.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("SSE event within 30 s")
            .expect("stream open")
            .unwrap();
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut id, mut data) = (None, String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().parse::<i64>().unwrap());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if let Some(id) = id {
                let value: Value = serde_json::from_str(&data).unwrap();
                assert_eq!(value["seq"], id, "SSE id is the seq");
                out.push((id, value));
            }
        }
    }
    out
}

#[tokio::test]
async fn sse_resumes_exactly_once_across_reconnects() {
    let h = Harness::start(None, |_| {}).await;
    // A concurrent burst while a reader connects, disconnects mid-way, and reconnects.
    let burst = {
        let bodies: Vec<String> = (0..60).map(webhook_body).collect();
        let h2 = (h.http.clone(), h.base.clone());
        tokio::spawn(async move {
            let posts = bodies.iter().map(|b| {
                h2.0.post(format!("{}/webhook", h2.1))
                    .header("x-hub-signature-256", coexist_bridge::sign_webhook(SECRET, b.as_bytes()))
                    .body(b.clone())
                    .send()
            });
            for r in futures::future::join_all(posts).await {
                assert_eq!(r.unwrap().status(), 200);
            }
        })
    };
    let first = h.http.get(h.url("/v1/stream?after=0")).bearer_auth(&h.agent).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut got = read_sse(first, 17).await; // dropped here: the client disconnects
    let last = got.last().unwrap().0;
    // Reconnect as EventSource does, with Last-Event-ID (and a stale ?after that must lose).
    let second = h
        .http
        .get(h.url("/v1/stream?after=0"))
        .header("last-event-id", last.to_string())
        .bearer_auth(&h.agent)
        .send()
        .await
        .unwrap();
    let remaining = 60 - got.len();
    got.extend(read_sse(second, remaining).await);
    burst.await.unwrap();
    assert_eq!(got.iter().map(|(id, _)| *id).collect::<Vec<_>>(), (1..=60).collect::<Vec<_>>());
    // And with ?after only.
    let third = h.http.get(h.url("/v1/stream?after=58")).bearer_auth(&h.agent).send().await.unwrap();
    let tail = read_sse(third, 2).await;
    assert_eq!(tail.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![59, 60]);
    // A garbage Last-Event-ID is refused, not treated as 0.
    let bad = h.http.get(h.url("/v1/stream")).header("last-event-id", "x").bearer_auth(&h.agent).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    h.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_long_polls() {
    let h = Harness::start(None, |_| {}).await;
    let stream = h.http.get(h.url("/v1/stream")).bearer_auth(&h.agent).send().await.unwrap();
    let (http, url, token) = (h.http.clone(), h.url("/v1/events?wait=60"), h.agent.clone());
    let poll = tokio::spawn(async move { http.get(url).bearer_auth(token).send().await.unwrap().status() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::time::timeout(Duration::from_secs(20), h.shutdown()).await.expect("graceful shutdown finishes");
    assert_eq!(poll.await.unwrap(), 200, "the in-flight long-poll was answered");
    drop(stream);
}

#[tokio::test]
async fn revoking_a_user_closes_their_open_stream() {
    let h = Harness::start(None, |_| {}).await;
    let token = coexist_bridge::admin::add_user(&h.db, "leaver", coexist_bridge::Role::Agent).unwrap();
    h.post_webhook(&webhook_body(1)).await;
    let resp = h.http.get(h.url("/v1/stream")).bearer_auth(&token).send().await.unwrap();
    let mut stream = resp.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("id: 1"));
    let r = h.http.delete(h.url("/v1/admin/users/leaver")).bearer_auth(&h.admin).send().await.unwrap();
    assert_eq!(r.status(), 204);
    // The stream ends (keep-alives aside) instead of relaying more to a revoked token.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the revoked stream stayed open");
    h.shutdown().await;
}
