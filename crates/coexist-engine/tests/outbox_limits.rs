//! The outbox against a counting fake bridge (a real HTTP server on loopback): the local rate
//! limiter's cap, throttling (130429 / 131056) and permanent refusals.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use coexist_core::{ContactKey, ConversationKey};
use coexist_engine::{CollectingNotifier, Engine, EngineConfig};
use coexist_store::{NewOutboxItem, OutboxState};
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Fake {
    /// (arrival, idempotency key, recipient)
    hits: Arc<Mutex<Vec<(Instant, String, String)>>>,
    /// Answers to give before accepting, by recipient: (status, body).
    scripted: Arc<Mutex<Vec<(String, u16, Value)>>>,
}

async fn send(State(f): State<Fake>, Path(_id): Path<String>, headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let to = body["to"].as_str().unwrap_or_default().to_string();
    let mut hits = f.hits.lock().unwrap();
    hits.push((Instant::now(), key, to.clone()));
    let mut scripted = f.scripted.lock().unwrap();
    if let Some(pos) = scripted.iter().position(|(r, _, _)| *r == to) {
        let (_, status, body) = scripted.remove(pos);
        return (StatusCode::from_u16(status).unwrap(), Json(body));
    }
    (StatusCode::OK, Json(json!({ "wamid": format!("wamid.fake{}", hits.len()) })))
}

async fn events() -> Json<Value> {
    Json(json!({"events": [], "next": 0}))
}

async fn fake_bridge() -> (String, Fake) {
    let fake = Fake::default();
    let app = Router::new()
        .route("/v1/numbers/{id}/messages", post(send))
        .route("/v1/events", get(events))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, fake)
}

fn engine(url: &str, dir: &tempfile::TempDir) -> (Engine, CollectingNotifier) {
    let notes = CollectingNotifier::default();
    let e = Engine::open(&dir.path().join("inbox.db"), EngineConfig::new(url, "t"), Arc::new(notes.clone())).unwrap();
    (e, notes)
}

/// Queue directly in the store (bypassing the window check, which is tested elsewhere).
fn queue(engine: &Engine, to: &str, text: &str) -> String {
    let key = uuid::Uuid::new_v4().to_string();
    let item = NewOutboxItem {
        idempotency_key: key.clone(),
        phone_number_id: "pn1".into(),
        to: to.into(),
        contact: ContactKey(to.into()),
        message: json!({"messaging_product":"whatsapp","to":to,"type":"text","text":{"body":text}}),
        campaign: None,
    };
    engine.store().lock().unwrap().outbox_enqueue(item).unwrap();
    key
}

#[tokio::test]
async fn the_number_cap_is_never_exceeded_in_any_second() {
    let (url, fake) = fake_bridge().await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = engine(&url, &dir);
    for i in 0..50 {
        queue(&engine, &format!("1555000{i:04}"), "hello");
    }
    let report = engine.drain_outbox(Duration::from_secs(30)).await.unwrap();
    assert_eq!(report.sent, 50, "{report:?}");
    let hits = fake.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 50);
    // An unknown number gets the Coexistence cap: 20 per second, in every sliding second.
    for (i, (t, _, _)) in hits.iter().enumerate() {
        let in_window = hits[i..].iter().take_while(|(u, _, _)| *u < *t + Duration::from_secs(1)).count();
        assert!(in_window <= 20, "{in_window} sends within one second");
    }
}

#[tokio::test]
async fn throttled_sends_stay_queued_and_go_later_with_the_same_key() {
    let (url, fake) = fake_bridge().await;
    fake.scripted.lock().unwrap().push((
        "15550001".into(),
        400,
        json!({"error": {"code": 130429, "message": "Rate limit hit"}, "reason": "cap", "what_to_do": "wait"}),
    ));
    let dir = tempfile::tempdir().unwrap();
    let (engine, notes) = engine(&url, &dir);
    let key = queue(&engine, "15550001", "hello");
    let report = engine.drain_outbox(Duration::from_secs(10)).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let hits = fake.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 2, "one throttled try, one accepted");
    assert!(hits.iter().all(|(_, k, _)| *k == key), "the retry reuses the key");
    assert!(hits[1].0 - hits[0].0 >= Duration::from_millis(400), "it backed off");
    assert_eq!(engine.store().lock().unwrap().outbox_item(&key).unwrap().unwrap().state, OutboxState::Sent);
    assert_eq!(notes.count(), 0);
}

#[tokio::test]
async fn a_throttled_item_waits_queued_and_its_delay_survives_a_restart() {
    let (url, fake) = fake_bridge().await;
    fake.scripted.lock().unwrap().push((
        "15550004".into(),
        400,
        json!({"error": {"code": 131056, "message": "Pair rate limit hit"}}),
    ));
    let dir = tempfile::tempdir().unwrap();
    {
        let (engine, _) = engine(&url, &dir);
        let key = queue(&engine, "15550004", "hello");
        // A short drain: the pair hold (6 s) outlasts it.
        let report = engine.drain_outbox(Duration::from_millis(300)).await.unwrap();
        assert_eq!(report.sent, 0, "{report:?}");
        let item = engine.store().lock().unwrap().outbox_item(&key).unwrap().unwrap();
        assert_eq!(item.state, OutboxState::Queued, "{item:?}");
        assert!(item.next_attempt_at_ms.is_some_and(|t| t > item.updated_at_ms + 4000), "{item:?}");
    }
    // A restarted desktop does not hammer the customer: the item is not ready yet.
    let (engine, _) = engine(&url, &dir);
    assert!(engine.store().lock().unwrap().outbox_ready(10).unwrap().is_empty());
    assert_eq!(fake.hits.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_meta_refusal_fails_the_item_notifies_once_and_retry_reuses_the_key() {
    let (url, fake) = fake_bridge().await;
    fake.scripted.lock().unwrap().push((
        "15550002".into(),
        400,
        json!({"error": {"code": 131026, "message": "Message undeliverable"}, "reason": "Not on WhatsApp.", "what_to_do": "Check the number."}),
    ));
    let dir = tempfile::tempdir().unwrap();
    let (engine, notes) = engine(&url, &dir);
    let key = queue(&engine, "15550002", "hello");
    let other = queue(&engine, "15550003", "unaffected");
    let report = engine.drain_outbox(Duration::from_secs(5)).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 1), "{report:?}");
    let item = engine.store().lock().unwrap().outbox_item(&key).unwrap().unwrap();
    assert_eq!(item.state, OutboxState::Failed);
    assert_eq!(item.error_code, Some(131026));
    assert!(item.error_message.as_deref().unwrap().contains("Check the number."), "{item:?}");
    assert_eq!(engine.store().lock().unwrap().outbox_item(&other).unwrap().unwrap().state, OutboxState::Sent);
    let shown = notes.take();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].0.contains("+15550002"), "{shown:?}");

    // Retry (the fake accepts now): same key, sent, no new notification.
    engine.retry(&key).unwrap();
    engine.drain_outbox(Duration::from_secs(5)).await.unwrap();
    assert_eq!(engine.store().lock().unwrap().outbox_item(&key).unwrap().unwrap().state, OutboxState::Sent);
    let keys: Vec<String> = fake.hits.lock().unwrap().iter().filter(|(_, _, to)| to == "15550002").map(|(_, k, _)| k.clone()).collect();
    assert_eq!(keys, vec![key.clone(), key]);
    assert_eq!(notes.count(), 0);
}

#[tokio::test]
async fn free_text_to_an_unknown_conversation_is_refused_before_the_outbox() {
    let (url, fake) = fake_bridge().await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = engine(&url, &dir);
    let key = ConversationKey { phone_number_id: "pn1".into(), contact: ContactKey("15550009".into()) };
    assert!(engine.send_text(&key, "hi", None).is_err());
    engine.drain_outbox(Duration::from_secs(1)).await.unwrap();
    assert!(fake.hits.lock().unwrap().is_empty());
}
