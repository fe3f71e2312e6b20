//! The emitter (signed, ordered, retried, never dropped) and every webhook kind's shape.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn webhooks_are_signed_with_the_app_secret() {
    let h = start().await;
    h.customer_says("15551240001", "hi", None).await;
    h.wait_for("the message", |w| field_of(w) == "messages")
        .await;
    assert_eq!(h.inbox.bad_signatures.load(Ordering::SeqCst), 0);
    let raw = h.inbox.raw.lock().unwrap()[0].clone();
    assert_eq!(
        coexist_sandbox::signature(SECRET, raw.as_bytes()).len(),
        "sha256=".len() + 64
    );
    assert_ne!(
        coexist_sandbox::signature("other-secret", raw.as_bytes()),
        coexist_sandbox::signature(SECRET, raw.as_bytes())
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn failing_receiver_gets_retries_in_order_until_it_accepts() {
    let h = start().await;
    h.inbox.fail_next.store(4, Ordering::SeqCst);
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(
            h.customer_says("15551240002", &format!("message {i}"), None)
                .await,
        );
    }
    let last = sent.last().unwrap().clone();
    h.wait_for("the last message", |w| {
        value_of(w)["messages"][0]["id"] == last.as_str()
    })
    .await;
    let got: Vec<String> = h
        .received()
        .iter()
        .map(|w| {
            value_of(w)["messages"][0]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(got, sent, "delivered in order, none lost, none twice");
    let log = h.get("/sandbox/webhooks").await;
    assert_eq!(
        log["webhooks"][0]["attempts"], 5,
        "first webhook: 4 failures then success"
    );
    assert!(log["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["delivered"] == true));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn without_a_url_webhooks_wait_and_are_delivered_once_one_is_set() {
    let (url, inbox) = receiver().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sb = coexist_sandbox::start(config(), listener).await.unwrap();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/sandbox/customers/messages", sb.url()))
        .json(&json!({"from":"15551240003","text":"anyone?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(inbox.bodies.lock().unwrap().is_empty());
    let r = http
        .post(format!("{}/sandbox/webhook", sb.url()))
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    for _ in 0..200 {
        if !inbox.bodies.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(inbox.bodies.lock().unwrap().len(), 1);
    let r = http
        .post(format!("{}/sandbox/webhook", sb.url()))
        .json(&json!({"url": "not a url"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn every_customer_message_type_arrives_like_metas() {
    let h = start().await;
    let target = h.customer_says("15551240004", "first", None).await;
    for kind in [
        "text",
        "image",
        "document",
        "audio",
        "video",
        "sticker",
        "location",
        "contacts",
        "reaction",
        "interactive",
        "button",
        "order",
        "unsupported",
    ] {
        let (s, v) = h
            .control("/sandbox/customers/messages", json!({"from":"15551240004","name":"Rui","type":kind,"text":"hello","reply_to":target}))
            .await;
        assert_eq!(s, 200, "{kind}: {v}");
        let wamid = v["wamid"].as_str().unwrap().to_string();
        let w = h
            .wait_for(kind, |w| value_of(w)["messages"][0]["id"] == wamid.as_str())
            .await;
        assert_eq!(w["object"], "whatsapp_business_account");
        assert_eq!(w["entry"][0]["id"], h.sandbox.waba_id);
        let value = value_of(&w);
        assert_eq!(value["messaging_product"], "whatsapp");
        assert_eq!(
            value["metadata"]["phone_number_id"],
            h.sandbox.phone_number_id
        );
        assert_eq!(value["contacts"][0]["wa_id"], "15551240004");
        assert_eq!(value["contacts"][0]["profile"]["name"], "Rui");
        let m = &value["messages"][0];
        assert_eq!(m["type"], kind);
        assert!(m["timestamp"].is_string());
        assert!(m.get(kind).is_some(), "{kind}: {m}");
    }
    let (s, e) = h
        .control(
            "/sandbox/customers/messages",
            json!({"from":"not-a-number","text":"x"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(e["error"].as_str().unwrap().contains("from must be"));
    let (s, _) = h
        .control(
            "/sandbox/customers/messages",
            json!({"from":"15551240004","text":"x","timestamp": now() + 3600}),
        )
        .await;
    assert_eq!(s, 400, "future timestamps are refused");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn app_replies_edits_and_revokes_are_echoes_and_the_app_owns() {
    let h = start().await;
    h.customer_says("15551240005", "hi", None).await;
    let (s, v) = h
        .control(
            "/sandbox/app/messages",
            json!({"to":"15551240005","text":"Hello from the phone"}),
        )
        .await;
    assert_eq!(s, 200);
    let original = v["wamid"].as_str().unwrap().to_string();
    let echo = h
        .wait_for("echo", |w| field_of(w) == "smb_message_echoes")
        .await;
    let e = &value_of(&echo)["message_echoes"][0];
    assert_eq!(e["from"], "15555550100");
    assert_eq!(e["to"], "15551240005");
    assert_eq!(e["type"], "text");
    assert_eq!(e["text"]["body"], "Hello from the phone");
    assert_eq!(
        h.get("/sandbox/conversations").await["conversations"][0]["owner"],
        "app"
    );

    let (s, _) = h
        .control(
            "/sandbox/app/edit",
            json!({"wamid": original, "text":"Hello (edited)"}),
        )
        .await;
    assert_eq!(s, 200);
    let edit = h
        .wait_for("edit echo", |w| {
            value_of(w)["message_echoes"][0]["type"] == "edit"
        })
        .await;
    let ed = &value_of(&edit)["message_echoes"][0]["edit"];
    assert_eq!(ed["original_message_id"], original.as_str());
    assert_eq!(ed["message"]["text"]["body"], "Hello (edited)");

    let (s, _) = h
        .control("/sandbox/app/revoke", json!({"wamid": original}))
        .await;
    assert_eq!(s, 200);
    let rv = h
        .wait_for("revoke echo", |w| {
            value_of(w)["message_echoes"][0]["type"] == "revoke"
        })
        .await;
    assert_eq!(
        value_of(&rv)["message_echoes"][0]["revoke"]["original_message_id"],
        original.as_str()
    );
    let (s, _) = h
        .control("/sandbox/app/revoke", json!({"wamid": original}))
        .await;
    assert_eq!(s, 409, "already revoked");
    let (s, _) = h
        .control(
            "/sandbox/app/edit",
            json!({"wamid": "wamid.nope", "text": "x"}),
        )
        .await;
    assert_eq!(s, 404);

    // an API reply takes ownership back
    let (s, _) = h.send(text("15551240005", "API here")).await;
    assert_eq!(s, 200);
    assert_eq!(
        h.get("/sandbox/conversations").await["conversations"][0]["owner"],
        "api"
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn history_contacts_account_and_template_updates() {
    let h = start().await;
    let (s, v) = h
        .control("/sandbox/history", json!({"seed": 3, "chunk_size": 4}))
        .await;
    assert_eq!(s, 200, "{v}");
    let n = v["webhooks"].as_u64().unwrap() as usize;
    h.wait_for("the last history chunk", |w| {
        value_of(w)["history"][0]["metadata"]["progress"] == 100
    })
    .await;
    let history: Vec<_> = h
        .received()
        .into_iter()
        .filter(|w| field_of(w) == "history")
        .collect();
    assert!(history.len() >= n - 1);
    let first = &value_of(&history[0])["history"][0];
    assert_eq!(first["metadata"]["phase"], 0);
    assert_eq!(first["metadata"]["chunk_order"], 1);
    let msg = &first["threads"][0]["messages"][0];
    assert!(msg["history_context"]["status"].is_string());

    let (s, _) = h
        .control("/sandbox/history", json!({"declined": true}))
        .await;
    assert_eq!(s, 200);
    h.wait_for("declined history", |w| {
        value_of(w)["history"][0]["errors"][0]["code"] == 2593109
    })
    .await;

    let (s, v) = h.control("/sandbox/contacts", json!({"contacts":[{"phone_number":"15551240006","full_name":"Pablo Morales","first_name":"Pablo"},{"phone_number":"15551240007","action":"remove"}]})).await;
    assert_eq!((s, v["contacts"].as_u64()), (200, Some(2)));
    let sync = h
        .wait_for("state sync", |w| field_of(w) == "smb_app_state_sync")
        .await;
    let items = &value_of(&sync)["state_sync"];
    assert_eq!(items[0]["type"], "contact");
    assert_eq!(items[0]["contact"]["full_name"], "Pablo Morales");
    assert_eq!(items[1]["action"], "remove");

    // offboarding: sends fail with 133010 until reconnection
    let (s, _) = h
        .control(
            "/sandbox/account_update",
            json!({"event":"PARTNER_REMOVED"}),
        )
        .await;
    assert_eq!(s, 200);
    let au = h
        .wait_for("account update", |w| field_of(w) == "account_update")
        .await;
    assert_eq!(value_of(&au)["event"], "PARTNER_REMOVED");
    assert!(au["entry"][0]["time"].is_i64());
    let hello = json!({"messaging_product":"whatsapp","to":"15551240008","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}});
    let (s, e) = h.send(hello.clone()).await;
    assert_eq!((s, e["error"]["code"].as_i64()), (400, Some(133010)));
    h.control(
        "/sandbox/account_update",
        json!({"event":"ACCOUNT_RECONNECTED"}),
    )
    .await;
    assert_eq!(h.send(hello).await.0, 200);
    let (s, _) = h
        .control("/sandbox/account_update", json!({"event":"lower case"}))
        .await;
    assert_eq!(s, 400);

    // a PENDING template becomes sendable once approved
    let holiday = json!({"messaging_product":"whatsapp","to":"15551240008","type":"template","template":{"name":"holiday_hours","language":{"code":"en_US"},
        "components":[{"type":"body","parameters":[{"type":"text","text":"Monday"}]}]}});
    assert_eq!(h.send(holiday.clone()).await.1["error"]["code"], 132001);
    let (s, _) = h
        .control(
            "/sandbox/templates/status",
            json!({"name":"holiday_hours","language":"en_US","event":"APPROVED"}),
        )
        .await;
    assert_eq!(s, 200);
    let ts = h
        .wait_for("template status", |w| {
            field_of(w) == "message_template_status_update"
        })
        .await;
    assert_eq!(value_of(&ts)["message_template_name"], "holiday_hours");
    assert_eq!(value_of(&ts)["event"], "APPROVED");
    assert_eq!(h.send(holiday.clone()).await.0, 200);
    h.control(
        "/sandbox/templates/status",
        json!({"name":"holiday_hours","language":"en_US","event":"PAUSED","reason":"NONE"}),
    )
    .await;
    assert_eq!(h.send(holiday).await.1["error"]["code"], 132015);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn batched_messages_share_one_webhook_and_duplicates_are_byte_identical() {
    let h = start().await;
    let (s, v) = h
        .control(
            "/sandbox/customers/batch",
            json!({"messages": [{"from":"15551240010","name":"A","text":"one"},{"from":"15551240011","name":"B","type":"image"}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let wamids = v["wamids"].as_array().unwrap().clone();
    assert_eq!(wamids.len(), 2);
    let w = h
        .wait_for("batch", |w| {
            w["entry"][0]["changes"].as_array().map(|c| c.len()) == Some(2)
        })
        .await;
    for (k, change) in w["entry"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(change["field"], "messages");
        assert_eq!(change["value"]["messages"][0]["id"], wamids[k]);
    }
    // a batch with one bad message emits nothing
    let before = h.get("/sandbox/webhooks").await["webhooks"]
        .as_array()
        .unwrap()
        .len();
    let (s, _) = h
        .control(
            "/sandbox/customers/batch",
            json!({"messages": [{"from":"15551240012","text":"ok"},{"from":"x","text":"bad"}]}),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        h.get("/sandbox/webhooks").await["webhooks"]
            .as_array()
            .unwrap()
            .len(),
        before
    );

    let (s, r) = h
        .control("/sandbox/webhooks/redeliver", json!({"wamid": wamids[1]}))
        .await;
    assert_eq!(s, 200, "{r}");
    let last = r["seq"].as_u64().unwrap() as usize;
    h.wait_for("the duplicate", |_| {
        h.inbox.raw.lock().unwrap().len() >= last
    })
    .await;
    let raw = h.inbox.raw.lock().unwrap().clone();
    assert_eq!(raw[last - 1], raw[0], "a redelivery is the same bytes");
    let (s, _) = h
        .control(
            "/sandbox/webhooks/redeliver",
            json!({"wamid": "wamid.never"}),
        )
        .await;
    assert_eq!(s, 404);
    h.sandbox.shutdown().await;
}
