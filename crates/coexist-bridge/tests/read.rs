//! `POST /v1/numbers/{id}/read`: a customer message marked read at Meta with the bridge's token.

mod common;

use common::*;
use coexist_core::NumberMode;
use serde_json::{json, Value};

async fn mark_read(h: &Harness, token: &str, number: &str, body: &Value) -> (u16, Value) {
    let resp = h.http.post(h.url(&format!("/v1/numbers/{number}/read"))).bearer_auth(token).json(body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_read_mark_is_relayed_with_the_bridge_token_and_not_recorded() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    g.script(vec![(200, json!({"success": true}))]);
    let before = h.events(0).await.len();
    let (s, answer) = mark_read(&h, &h.agent, NUMBER, &json!({"message_id": "wamid.IN1"})).await;
    assert_eq!((s, answer), (200, json!({"success": true})));
    let calls = g.sends();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/v21.0/{NUMBER}/messages"));
    assert_eq!(calls[0].auth.as_deref(), Some(format!("Bearer {ACCESS}").as_str()));
    assert_eq!(calls[0].body, json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}));
    assert_eq!(h.events(0).await.len(), before, "a read mark is not a message: nothing for the relay");
    g.script(vec![(200, json!({"success": true}))]);
    let (s, _) = mark_read(&h, &h.agent, NUMBER, &json!({"message_id": "wamid.IN1", "typing": true})).await;
    assert_eq!(s, 200);
    assert_eq!(g.sends()[1].body["typing_indicator"], json!({"type": "text"}), "typing… with the read mark");
    h.shutdown().await;
}

#[tokio::test]
async fn a_bridge_with_read_receipts_off_never_tells_meta() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |c| c.read_receipts = false).await;
    h.add_number(NumberMode::Coexistence, 20);
    let (s, answer) = mark_read(&h, &h.agent, NUMBER, &json!({"message_id": "wamid.IN1", "typing": true})).await;
    assert_eq!(s, 200, "not the desktop's error: the team chose it");
    assert_eq!(answer["success"], false);
    assert!(answer["skipped"].as_str().unwrap().contains("COEXIST_READ_RECEIPTS"), "{answer}");
    assert!(g.sends().is_empty(), "Meta never heard of it");
    h.shutdown().await;
}

#[tokio::test]
async fn meta_refusals_pass_through_with_plain_words() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let meta = json!({"error": {"message": "(#131009) Parameter value is not valid", "code": 131009, "fbtrace_id": "A"}});
    g.script(vec![(400, meta.clone())]);
    let (s, answer) = mark_read(&h, &h.agent, NUMBER, &json!({"message_id": "wamid.OLD"})).await;
    assert_eq!(s, 400);
    assert_eq!(answer["error"], meta["error"]);
    assert!(!answer["what_to_do"].as_str().unwrap().is_empty());
    h.shutdown().await;
}

#[tokio::test]
async fn only_agents_and_admins_mark_read_and_only_a_wamid_of_a_known_number() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    let body = json!({"message_id": "wamid.IN1"});
    assert_eq!(mark_read(&h, &h.agent, NUMBER, &body).await.0, 404, "not a number of this bridge");
    h.add_number(NumberMode::Coexistence, 20);
    assert_eq!(mark_read(&h, &h.manager, NUMBER, &body).await.0, 403, "managers read history, they do not answer");
    assert_eq!(mark_read(&h, &h.agent, NUMBER, &json!({"id": "wamid.IN1"})).await.0, 400);
    assert_eq!(mark_read(&h, &h.agent, NUMBER, &json!({"message_id": ""})).await.0, 400);
    assert!(g.sends().is_empty(), "nothing refused reached Meta");
    assert_eq!(mark_read(&h, &h.admin, NUMBER, &body).await.0, 200);
    h.shutdown().await;
}
