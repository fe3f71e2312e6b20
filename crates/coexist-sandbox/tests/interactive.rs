//! Interactive reply buttons and lists through the real HTTP interface: Meta's rules on the Graph
//! send, a customer tapping through `POST /sandbox/customers/tap`, and `auto_tap`.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn buttons(to: &str) -> Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "interactive",
    "interactive": {
        "type": "button",
        "header": {"type": "text", "text": "Your order #1042"},
        "body": {"text": "When should we deliver it?"},
        "footer": {"text": "Sandbox Shop"},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": "slot-morning", "title": "Morning"}},
            {"type": "reply", "reply": {"id": "slot-evening", "title": "Evening"}}
        ]}
    }})
}

fn list(to: &str) -> Value {
    json!({"messaging_product": "whatsapp", "to": to, "type": "interactive",
    "interactive": {
        "type": "list",
        "body": {"text": "Which shipping option do you prefer?"},
        "action": {"button": "Shipping options", "sections": [
            {"title": "Fast", "rows": [{"id": "express", "title": "Express", "description": "Next day"}]},
            {"title": "Cheap", "rows": [{"id": "ground", "title": "Ground"}]}
        ]}
    }})
}

/// The inbound message that answers `wamid` (its `context.id`).
async fn reply_to(h: &Harness, wamid: &str) -> Value {
    let w = h
        .wait_for(&format!("the customer's reply to {wamid}"), |w| {
            value_of(w)["messages"][0]["context"]["id"] == wamid
        })
        .await;
    assert_eq!(field_of(&w), "messages");
    value_of(&w)["messages"][0].clone()
}

#[tokio::test]
async fn a_customer_taps_a_reply_button_and_the_business_gets_metas_button_reply() {
    let h = start().await;
    h.customer_says("15551260001", "can you deliver?", None)
        .await;
    let (s, v) = h.send(buttons("15551260001")).await;
    assert_eq!(s, 200, "{v}");
    let sent = v["messages"][0]["id"].as_str().unwrap().to_string();

    let (s, v) = h
        .control(
            "/sandbox/customers/tap",
            json!({"wamid": sent, "button": 1}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let tap = v["wamid"].as_str().unwrap().to_string();
    let m = reply_to(&h, &sent).await;
    assert_eq!(m["id"], tap.as_str());
    assert_eq!(m["from"], "15551260001");
    assert_eq!(m["type"], "interactive");
    assert_eq!(
        m["interactive"],
        json!({"type": "button_reply", "button_reply": {"id": "slot-evening", "title": "Evening"}})
    );
    assert_eq!(
        m["context"],
        json!({"from": "15555550100", "id": sent.as_str()})
    );
    assert_eq!(h.inbox.bad_signatures.load(Ordering::SeqCst), 0);

    // the tap is a customer message: the business can mark it read
    let (s, _) = h
        .send(json!({"messaging_product": "whatsapp", "status": "read", "message_id": tap}))
        .await;
    assert_eq!(s, 200);

    // `button` defaults to the first; a list's rows count across sections
    let (s, _) = h
        .control("/sandbox/customers/tap", json!({"wamid": sent}))
        .await;
    assert_eq!(s, 200);
    let (_, v) = h.send(list("15551260001")).await;
    let menu = v["messages"][0]["id"].as_str().unwrap().to_string();
    let (s, _) = h
        .control(
            "/sandbox/customers/tap",
            json!({"wamid": menu, "button": 1}),
        )
        .await;
    assert_eq!(s, 200);
    let m = reply_to(&h, &menu).await;
    assert_eq!(
        m["interactive"],
        json!({"type": "list_reply", "list_reply": {"id": "ground", "title": "Ground"}})
    );

    // refusals say what is wrong
    let (s, e) = h
        .control(
            "/sandbox/customers/tap",
            json!({"wamid": sent, "button": 2}),
        )
        .await;
    assert_eq!(s, 404);
    assert!(e["error"].as_str().unwrap().contains("no button 2"), "{e}");
    let (s, _) = h
        .control("/sandbox/customers/tap", json!({"wamid": "wamid.nope"}))
        .await;
    assert_eq!(s, 404);
    let (s, e) = h.control("/sandbox/customers/tap", json!({})).await;
    assert_eq!(s, 400, "{e}");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_tap_opens_the_window_a_failed_message_cannot_be_tapped() {
    let h = start().await;
    // 25 h ago: the window is closed, so a free-form send fails with 131047
    h.customer_says("15551260002", "old", Some(now() - 25 * 3600))
        .await;
    let (_, v) = h.send(buttons("15551260002")).await;
    let unseen = v["messages"][0]["id"].as_str().unwrap().to_string();
    h.status_of(&unseen, "failed").await;
    let (s, e) = h
        .control("/sandbox/customers/tap", json!({"wamid": unseen}))
        .await;
    assert_eq!(s, 409, "{e}");

    // once the customer writes again, a tap is a customer message like any other: it extends
    // the window
    h.customer_says("15551260002", "hello again", None).await;
    let (_, v) = h.send(buttons("15551260002")).await;
    let seen = v["messages"][0]["id"].as_str().unwrap().to_string();
    let before = h.get("/sandbox/conversations").await["conversations"][0]["window_until"]
        .as_i64()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (s, _) = h
        .control("/sandbox/customers/tap", json!({"wamid": seen}))
        .await;
    assert_eq!(s, 200);
    let after = h.get("/sandbox/conversations").await["conversations"][0]["window_until"]
        .as_i64()
        .unwrap();
    assert!(after > before, "the tap extends the window");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn meta_rules_refuse_bad_buttons_with_131009_and_details() {
    let h = start().await;
    let mut long = buttons("15551260003");
    long["interactive"]["action"]["buttons"][0]["reply"]["title"] =
        json!("Tomorrow morning, early");
    let (s, e) = h.send(long).await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["code"], 131009);
    assert_eq!(
        e["error"]["message"],
        "(#131009) Parameter value is not valid"
    );
    assert_eq!(
        e["error"]["error_data"]["details"],
        "Button title length invalid. Max length is 20"
    );
    let mut twins = buttons("15551260003");
    twins["interactive"]["action"]["buttons"][1]["reply"]["title"] = json!("Morning");
    let (s, e) = h.send(twins).await;
    assert_eq!(
        (s, e["error"]["error_data"]["details"].as_str()),
        (400, Some("Button titles must be unique"))
    );
    let mut many = list("15551260003");
    let rows: Vec<Value> = (0..10)
        .map(|i| json!({"id": format!("r{i}"), "title": format!("Row {i}")}))
        .collect();
    many["interactive"]["action"]["sections"][1]["rows"] = json!(rows);
    let (s, e) = h.send(many).await;
    assert_eq!(
        (s, e["error"]["error_data"]["details"].as_str()),
        (
            400,
            Some("Rows count invalid. Max count is 10 in all sections")
        )
    );
    assert!(
        h.get("/sandbox/sent").await["sent"]
            .as_array()
            .unwrap()
            .is_empty(),
        "refused sends are not recorded"
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn auto_tap_answers_delivered_buttons_and_lists_with_the_first_choice() {
    let mut config = config();
    config.auto_tap = Some(Duration::from_millis(30));
    let h = start_with(config).await;
    h.customer_says("15551260004", "hi", None).await;
    let (_, v) = h.send(list("15551260004")).await;
    let menu = v["messages"][0]["id"].as_str().unwrap().to_string();
    let m = reply_to(&h, &menu).await;
    assert_eq!(
        m["interactive"],
        json!({"type": "list_reply", "list_reply": {"id": "express", "title": "Express", "description": "Next day"}})
    );
    // the customer read it before tapping
    let position = |pred: &dyn Fn(&Value) -> bool| h.received().iter().position(pred).unwrap();
    let read = position(&|w| {
        let s = &value_of(w)["statuses"][0];
        s["id"] == menu.as_str() && s["status"] == "read"
    });
    let tapped = position(&|w| value_of(w)["messages"][0]["context"]["id"] == menu.as_str());
    assert!(read < tapped);

    let (_, v) = h.send(buttons("15551260004")).await;
    let sent = v["messages"][0]["id"].as_str().unwrap().to_string();
    let m = reply_to(&h, &sent).await;
    assert_eq!(m["interactive"]["button_reply"]["id"], "slot-morning");

    // nothing to tap on a text; a failed message is never tapped
    let (_, v) = h.send(text("15551260004", "thanks!")).await;
    let thanks = v["messages"][0]["id"].as_str().unwrap().to_string();
    let (_, v) = h.send(buttons("15551260005")).await;
    let unseen = v["messages"][0]["id"].as_str().unwrap().to_string();
    h.status_of(&thanks, "read").await;
    h.status_of(&unseen, "failed").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let replies = h
        .received()
        .iter()
        .filter(|w| {
            let c = &value_of(w)["messages"][0]["context"]["id"];
            *c == thanks.as_str() || *c == unseen.as_str()
        })
        .count();
    assert_eq!(replies, 0);
    h.sandbox.shutdown().await;
}
