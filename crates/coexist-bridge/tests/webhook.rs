//! Meta's endpoint: handshake, signatures, size limit, quarantine, redelivery.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn handshake_answers_the_challenge_only_for_the_right_token() {
    let h = Harness::start(None, |_| {}).await;
    let ok = h
        .http
        .get(h.url(&format!("/webhook?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444")))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        &format!("hub.mode=unsubscribe&hub.verify_token={VERIFY}&hub.challenge=1"),
        "hub.mode=subscribe&hub.challenge=1",
    ] {
        let r = h.http.get(h.url(&format!("/webhook?{query}"))).send().await.unwrap();
        assert_eq!(r.status(), 403, "{query}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn only_correctly_signed_webhooks_are_stored() {
    let h = Harness::start(None, |_| {}).await;
    let body = webhook_body(1);
    // Missing signature.
    let r = h.http.post(h.url("/webhook")).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Signed with another secret, and a signature of another body.
    for sig in [coexist_bridge::sign_webhook("not-the-secret", body.as_bytes()), coexist_bridge::sign_webhook(SECRET, b"{}"), "sha256=nothex".into()] {
        let r = h.http.post(h.url("/webhook")).header("x-hub-signature-256", sig).body(body.clone()).send().await.unwrap();
        assert_eq!(r.status(), 401);
    }
    assert!(h.events(0).await.is_empty(), "nothing unsigned may be stored");
    // Correct.
    assert_eq!(h.post_webhook(&body).await.status(), 200);
    let events = h.events(0).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["kind"], "webhook");
    assert_eq!(events[0]["payload"], serde_json::from_str::<Value>(&body).unwrap());
    // What desktops do with it: the relayed entry reads back as the customer's message.
    let relayed: coexist_core::RelayEvent = serde_json::from_value(events[0].clone()).unwrap();
    let parsed = coexist_core::events_from_relay(&relayed).unwrap();
    assert!(
        parsed.iter().any(|e| matches!(e, coexist_core::Event::Message(m) if m.wamid == "wamid.in.1")),
        "{parsed:?}"
    );
    let health = h.http.get(h.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok last_seq=1\n");
    let metrics = h.http.get(h.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("coexist_bridge_webhooks_refused_total{reason=\"signature_missing\"} 1"), "{metrics}");
    assert!(metrics.contains("coexist_bridge_webhooks_refused_total{reason=\"signature_invalid\"} 3"), "{metrics}");
    assert!(metrics.contains("coexist_bridge_webhooks_accepted_total{outcome=\"stored\"} 1"), "{metrics}");
    assert!(metrics.contains("coexist_bridge_event_log_last_seq 1"), "{metrics}");
    assert!(metrics.contains("coexist_bridge_relay_events_served_total 1"), "{metrics}");
    h.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_and_are_not_stored() {
    let h = Harness::start(None, |c| c.body_limit = 64 * 1024).await;
    let big = format!("{{\"object\":\"x\",\"pad\":\"{}\"}}", "a".repeat(100 * 1024));
    let r = h.post_webhook(&big).await;
    assert_eq!(r.status(), 413);
    // Chunked (no Content-Length) is cut off too.
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(big.clone().into_bytes())]);
    let r = h
        .http
        .post(h.url("/webhook"))
        .header("x-hub-signature-256", coexist_bridge::sign_webhook(SECRET, big.as_bytes()))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(h.events(0).await.is_empty());
    // Just under the limit is fine.
    assert_eq!(h.post_webhook(&webhook_body(7)).await.status(), 200);
    h.shutdown().await;
}

#[tokio::test]
async fn default_limit_is_8_mib() {
    let h = Harness::start(None, |_| {}).await;
    let big = "x".repeat(8 * 1024 * 1024 + 1);
    assert_eq!(h.post_webhook(&big).await.status(), 413);
    h.shutdown().await;
}

#[tokio::test]
async fn signed_garbage_is_quarantined_answered_200_and_listed_for_admins() {
    let h = Harness::start(None, |_| {}).await;
    for body in ["this is not json <script>", r#"{"object":"whatsapp_business_account","entry":"nope"}"#] {
        assert_eq!(h.post_webhook(body).await.status(), 200);
    }
    assert!(h.events(0).await.is_empty(), "quarantined bodies are not relayed");
    let (s, list) = h.get_json("/v1/admin/quarantine", &h.admin).await;
    assert_eq!(s, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["body"], "this is not json <script>");
    assert_eq!(list[1]["truncated"], false);
    assert_eq!(list[1]["size"], 25);
    assert!(list[1]["reason"].as_str().unwrap().contains("not a Meta webhook"), "{}", list[1]);
    // Not for agents.
    assert_eq!(h.get_json("/v1/admin/quarantine", &h.agent).await.0, 403);
    h.shutdown().await;
}

#[tokio::test]
async fn a_redelivered_webhook_is_stored_once() {
    let h = Harness::start(None, |_| {}).await;
    let body = webhook_body(42);
    let sends = (0..5).map(|_| h.post_webhook(&body));
    for r in futures::future::join_all(sends).await {
        assert_eq!(r.status(), 200);
    }
    assert_eq!(h.post_webhook(&webhook_body(43)).await.status(), 200);
    let events = h.events(0).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events.iter().map(|e| e["seq"].as_i64().unwrap()).collect::<Vec<_>>(), vec![1, 2]);
    h.shutdown().await;
}
