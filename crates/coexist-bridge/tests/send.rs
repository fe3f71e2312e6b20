//! The send relay against a fake Graph API: idempotency, retries, Meta errors, the rate cap.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use coexist_core::NumberMode;
use serde_json::json;

#[tokio::test]
async fn a_send_is_relayed_with_the_bridge_token_and_recorded() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let (s, answer) = h.send(&h.agent, Some("key-1"), &text_message("15551234567", "hi")).await;
    assert_eq!(s, 200, "{answer}");
    assert_eq!(answer["wamid"], "wamid.out.0");
    let calls = g.sends();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/v21.0/{NUMBER}/messages"));
    assert_eq!(calls[0].auth.as_deref(), Some(format!("Bearer {ACCESS}").as_str()));
    assert_eq!(calls[0].body["biz_opaque_callback_data"], "key-1");
    // Recorded as an Outbound event with the agent's name, at the seq we were told.
    let events = h.events(0).await;
    let out = events.iter().find(|e| e["kind"] == "outbound").unwrap();
    assert_eq!(out["seq"], answer["seq"]);
    let record: coexist_core::OutboundRecord = serde_json::from_value(out["payload"].clone()).unwrap();
    assert_eq!(record.agent, "ana");
    assert_eq!(record.wamid, "wamid.out.0");
    assert_eq!(record.idempotency_key, "key-1");
    assert_eq!(record.to, "15551234567");
    assert_eq!(record.wa_id.as_deref(), Some("15551234567"));
    h.shutdown().await;
}

#[tokio::test]
async fn the_same_key_makes_one_graph_call_even_concurrently() {
    let g = FakeGraph::start().await;
    g.state.delay_ms.store(150, Ordering::SeqCst);
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Standard, 80);
    let msg = text_message("15551234567", "once");
    let answers = futures::future::join_all((0..8).map(|_| h.send(&h.agent, Some("dup-key"), &msg))).await;
    let again = h.send(&h.agent, Some("dup-key"), &msg).await;
    assert_eq!(g.sends().len(), 1, "one Graph call for one key");
    for a in answers.iter().chain([&again]) {
        assert_eq!(a, &answers[0]);
        assert_eq!(a.0, 200);
    }
    assert_eq!(h.events(0).await.iter().filter(|e| e["kind"] == "outbound").count(), 1);
    // The key reused for another message is refused, not silently replayed.
    let (s, body) = h.send(&h.agent, Some("dup-key"), &text_message("15551234567", "other")).await;
    assert_eq!(s, 422, "{body}");
    // No key: 400.
    assert_eq!(h.send(&h.agent, None, &msg).await.0, 400);
    assert_eq!(g.sends().len(), 1);
    h.shutdown().await;
}

/// A desktop killed mid-send drops its connection while Graph is answering; it retries with the
/// same key when it comes back. The first send must still be finished and recorded, so the
/// retry gets its answer instead of sending the message a second time.
#[tokio::test]
async fn a_client_that_hangs_up_mid_send_gets_the_same_send_on_retry() {
    let g = FakeGraph::start().await;
    g.state.delay_ms.store(400, Ordering::SeqCst);
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let msg = text_message("15551234567", "once only");
    let hung_up = h
        .http
        .post(h.url(&format!("/v1/numbers/{NUMBER}/messages")))
        .bearer_auth(&h.agent)
        .header("idempotency-key", "hang-up")
        .json(&msg)
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(hung_up.is_err(), "the client gave up before Graph answered");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, answer) = h.send(&h.agent, Some("hang-up"), &msg).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(g.sends().len(), 1, "the retry got the first send's answer");
    assert_eq!(answer["wamid"], "wamid.out.0");
    assert_eq!(h.events(0).await.iter().filter(|e| e["kind"] == "outbound").count(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn retries_5xx_and_130429_then_succeeds() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    g.script(vec![
        (500, json!({"error": {"message": "An unknown error occurred", "code": 1}})),
        (400, json!({"error": {"message": "(#130429) Rate limit hit", "code": 130429}})),
        (503, json!({"error": {"message": "Service temporarily unavailable", "code": 2}})),
    ]);
    let (s, answer) = h.send(&h.agent, Some("retry-1"), &text_message("15551234567", "hi")).await;
    assert_eq!(s, 200, "{answer}");
    assert_eq!(g.sends().len(), 4);
    // Every attempt carries the same callback data.
    assert!(g.sends().iter().all(|c| c.body["biz_opaque_callback_data"] == "retry-1"));
    h.shutdown().await;
}

#[tokio::test]
async fn timeouts_are_retried() {
    let g = FakeGraph::start().await;
    g.state.stall_next.store(2, Ordering::SeqCst);
    let h = Harness::start(Some(g.url.clone()), |c| c.graph_timeout = Duration::from_millis(300)).await;
    h.add_number(NumberMode::Coexistence, 20);
    let (s, answer) = h.send(&h.agent, Some("slow"), &text_message("1555", "hi")).await;
    assert_eq!(s, 200, "{answer}");
    assert_eq!(g.sends().len(), 3, "two timed-out attempts, then success");
    h.shutdown().await;
}

#[tokio::test]
async fn retries_are_bounded_and_transient_failures_are_not_stored() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |c| c.graph_attempts = 3).await;
    h.add_number(NumberMode::Coexistence, 20);
    let err = json!({"error": {"message": "(#130429) Rate limit hit", "code": 130429, "fbtrace_id": "Az"}});
    g.script(vec![(400, err.clone()), (400, err.clone()), (400, err.clone())]);
    let (s, answer) = h.send(&h.agent, Some("k"), &text_message("1555", "hi")).await;
    assert_eq!(s, 400);
    assert_eq!(answer["error"], err["error"]);
    assert!(answer["reason"].as_str().unwrap().contains("throughput"), "{answer}");
    assert_eq!(g.sends().len(), 3);
    // Not stored: the same key may retry later and now succeeds.
    let (s, answer) = h.send(&h.agent, Some("k"), &text_message("1555", "hi")).await;
    assert_eq!(s, 200, "{answer}");
    assert_eq!(g.sends().len(), 4);
    h.shutdown().await;
}

#[tokio::test]
async fn meta_errors_pass_through_with_reason_and_are_final() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let meta = json!({"error": {
        "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
        "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed"},
        "fbtrace_id": "AbC"}});
    g.script(vec![(400, meta.clone())]);
    let (s, answer) = h.send(&h.agent, Some("late"), &text_message("1555", "hello?")).await;
    assert_eq!(s, 400);
    assert_eq!(answer["error"], meta["error"], "Meta's body as-is");
    assert!(!answer["reason"].as_str().unwrap().is_empty());
    assert!(!answer["what_to_do"].as_str().unwrap().is_empty());
    assert_eq!(g.sends().len(), 1, "a final error is not retried");
    // Stored under the key: replayed without calling Meta again.
    assert_eq!(h.send(&h.agent, Some("late"), &text_message("1555", "hello?")).await, (s, answer));
    assert_eq!(g.sends().len(), 1);
    assert!(h.events(0).await.iter().all(|e| e["kind"] != "outbound"));
    h.shutdown().await;
}

#[tokio::test]
async fn retry_later_errors_are_not_replayed() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    g.script(vec![(400, json!({"error": {"message": "(#131056) Pair rate limit hit", "code": 131056}}))]);
    let msg = text_message("1555", "hi");
    let (s, answer) = h.send(&h.agent, Some("pair"), &msg).await;
    assert_eq!(s, 400);
    assert!(!answer["reason"].as_str().unwrap().is_empty());
    assert_eq!(g.sends().len(), 1, "131056 is not retried at once");
    let (s, _) = h.send(&h.agent, Some("pair"), &msg).await;
    assert_eq!(s, 200, "the same key later calls Meta again");
    assert_eq!(g.sends().len(), 2);
    h.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_graph_gives_504_after_bounded_retries() {
    // Nothing listens on port 9.
    let h = Harness::start(Some("http://127.0.0.1:9".into()), |c| c.graph_attempts = 2).await;
    h.add_number(NumberMode::Coexistence, 20);
    let (s, body) = h.send(&h.agent, Some("x"), &text_message("1555", "hi")).await;
    assert_eq!(s, 504, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("same Idempotency-Key"));
    h.shutdown().await;
}

#[tokio::test]
async fn unknown_numbers_and_bad_bodies_are_refused() {
    let h = Harness::start(None, |_| {}).await;
    assert_eq!(h.send(&h.agent, Some("a"), &text_message("1555", "hi")).await.0, 404);
    h.add_number(NumberMode::Coexistence, 20);
    assert_eq!(h.send(&h.agent, Some("a"), &json!({"type": "text"})).await.0, 400);
    assert_eq!(h.send(&h.agent, Some("a"), &json!([1, 2])).await.0, 400);
    h.shutdown().await;
}

/// 200 concurrent sends on a Coexistence number: Meta must never see more than 20 in any
/// 1-second window (measured where Meta would measure: at the fake Graph server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_sends_never_exceed_the_cap_in_any_second() {
    let g = FakeGraph::start().await;
    // The fake stamps a send when its handler runs. On a starved CPU (a release build beside the
    // tests) that can be hundreds of ms after the send left: the jittery link `limiter_guard` is
    // there for. Sends answered sooner are spaced by their answers, as with the default.
    let h = Harness::start(Some(g.url.clone()), |c| c.limiter_guard = Duration::from_millis(500)).await;
    h.add_number(NumberMode::Coexistence, 20);
    // Two agents share the one limiter.
    let bob = coexist_bridge::admin::add_user(&h.db, "bob", coexist_bridge::Role::Agent).unwrap();
    let sends = (0..200).map(|i| {
        let token = if i % 2 == 0 { h.agent.clone() } else { bob.clone() };
        let h = &h;
        async move { h.send(&token, Some(&format!("burst-{i}")), &text_message("15551234567", &format!("m{i}"))).await }
    });
    for (s, body) in futures::future::join_all(sends).await {
        assert_eq!(s, 200, "{body}");
    }
    let mut at: Vec<_> = g.sends().iter().map(|c| c.at).collect();
    assert_eq!(at.len(), 200);
    at.sort();
    let mut busiest = 0;
    for (i, start) in at.iter().enumerate() {
        let in_window = at[i..].iter().take_while(|t| t.duration_since(*start) < Duration::from_secs(1)).count();
        busiest = busiest.max(in_window);
    }
    assert!(busiest <= 20, "{busiest} sends reached Meta within one second (cap 20)");
    let rate = 199.0 / (at[199] - at[0]).as_secs_f64();
    eprintln!("busiest 1-second window: {busiest} sends (cap 20); {rate:.2} sends/s overall");
    let metrics = h.http.get(h.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("coexist_bridge_sends_total{outcome=\"accepted\"} 200"), "{metrics}");
    h.shutdown().await;
}
