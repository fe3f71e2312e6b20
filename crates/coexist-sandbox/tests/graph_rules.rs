//! Meta's rules with Meta's codes, through the real HTTP interface.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn send_in_window_gets_metas_success_body_and_statuses() {
    let h = start().await;
    h.customer_says("15551230001", "hi there", None).await;
    let mut body = text("+1 555-123-0001", "Hello Ana!");
    body["biz_opaque_callback_data"] = json!("idem-42");
    let (status, v) = h.send(body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["messaging_product"], "whatsapp");
    assert_eq!(v["contacts"][0]["input"], "+1 555-123-0001");
    assert_eq!(v["contacts"][0]["wa_id"], "15551230001");
    let wamid = v["messages"][0]["id"].as_str().unwrap();
    assert!(wamid.starts_with("wamid.HBg"), "{wamid}");

    let sent = h.status_of(wamid, "sent").await;
    assert_eq!(sent["recipient_id"], "15551230001");
    assert_eq!(sent["biz_opaque_callback_data"], "idem-42");
    assert_eq!(sent["pricing"]["category"], "service");
    assert_eq!(sent["pricing"]["billable"], false);
    assert!(sent["conversation"]["id"].is_string());
    assert!(sent["conversation"]["expiration_timestamp"].is_string());
    let delivered = h.status_of(wamid, "delivered").await;
    assert_eq!(delivered["biz_opaque_callback_data"], "idem-42");
    h.status_of(wamid, "read").await;

    // statuses arrive in order sent < delivered < read
    let order: Vec<String> = h
        .received()
        .iter()
        .filter(|w| value_of(w)["statuses"][0]["id"] == wamid)
        .map(|w| {
            value_of(w)["statuses"][0]["status"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(order, vec!["sent", "delivered", "read"]);

    let sent_log = h.get("/sandbox/sent").await;
    assert_eq!(sent_log["sent"][0]["wamid"], wamid);
    assert_eq!(sent_log["sent"][0]["outcome"]["state"], "delivered");
    let convs = h.get("/sandbox/conversations").await;
    assert_eq!(convs["conversations"][0]["owner"], "api");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn free_form_outside_the_window_is_accepted_then_fails_131047() {
    let h = start().await;
    // never wrote in
    let (status, v) = h.send(text("15551230002", "hello?")).await;
    assert_eq!(status, 200, "Meta accepts it synchronously: {v}");
    let failed = h
        .status_of(v["messages"][0]["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(failed["errors"][0]["code"], 131047);
    assert_eq!(failed["errors"][0]["title"], "Re-engagement message");
    assert!(failed["errors"][0]["error_data"]["details"]
        .as_str()
        .unwrap()
        .contains("24 hours"));

    // last message 25 h ago: closed; 23 h 59 m ago: open
    h.customer_says("15551230003", "old", Some(now() - 25 * 3600))
        .await;
    h.customer_says(
        "15551230004",
        "recent-ish",
        Some(now() - (23 * 3600 + 59 * 60)),
    )
    .await;
    let (_, closed) = h.send(text("15551230003", "x")).await;
    let (_, open) = h.send(text("15551230004", "x")).await;
    assert_eq!(
        h.status_of(closed["messages"][0]["id"].as_str().unwrap(), "failed")
            .await["errors"][0]["code"],
        131047
    );
    h.status_of(open["messages"][0]["id"].as_str().unwrap(), "delivered")
        .await;

    // a template needs no window
    let (status, t) = h.send(json!({"messaging_product":"whatsapp","to":"15551230003","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}})).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["messages"][0]["message_status"], "accepted");
    h.status_of(t["messages"][0]["id"].as_str().unwrap(), "delivered")
        .await;
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn echoes_never_open_the_window_but_referrals_give_72h() {
    let h = start().await;
    let (s, _) = h
        .control(
            "/sandbox/app/messages",
            json!({"to": "15551230005", "text": "Hi from the phone"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, v) = h.send(text("15551230005", "following up")).await;
    assert_eq!(
        h.status_of(v["messages"][0]["id"].as_str().unwrap(), "failed")
            .await["errors"][0]["code"],
        131047
    );

    let (s, r) = h
        .control(
            "/sandbox/customers/messages",
            json!({"from": "15551230006", "type": "text", "text": "saw your ad", "timestamp": now() - 70 * 3600,
                   "referral": {"source_type": "ad", "source_id": "1", "source_url": "https://fb.me/x"}}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let (_, v) = h.send(text("15551230006", "thanks for writing")).await;
    let sent = h
        .status_of(v["messages"][0]["id"].as_str().unwrap(), "sent")
        .await;
    assert_eq!(sent["pricing"]["category"], "referral_conversion");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn templates_unknown_wrong_params_named_and_payment() {
    let h = start().await;
    let tpl = |name: &str, lang: &str, components: serde_json::Value| {
        json!({"messaging_product":"whatsapp","to":"15551230007","type":"template",
               "template":{"name":name,"language":{"code":lang},"components":components}})
    };
    let (s, e) = h.send(tpl("no_such_template", "en_US", json!([]))).await;
    assert_eq!(s, 404);
    assert_eq!(e["error"]["code"], 132001);
    let (s, e) = h.send(tpl("order_update", "fr", json!([]))).await;
    assert_eq!((s, e["error"]["code"].as_i64()), (404, Some(132001)));

    let (s, e) = h
        .send(tpl(
            "order_update",
            "en_US",
            json!([{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]),
        ))
        .await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["code"], 132000);
    assert_eq!(e["error"]["type"], "OAuthException");
    assert!(e["error"]["error_data"]["details"]
        .as_str()
        .unwrap()
        .contains("(1)"));
    assert_eq!(e["error"]["error_data"]["messaging_product"], "whatsapp");
    assert!(e["error"]["fbtrace_id"].as_str().unwrap().len() > 10);
    assert!(e["error"]["error_subcode"].is_i64());

    let (s, ok) = h
        .send(tpl(
            "appointment_reminder",
            "en_US",
            json!([{"type":"body","parameters":[
            {"type":"text","parameter_name":"customer_name","text":"Ana"},
            {"type":"text","parameter_name":"time","text":"3pm"}]}]),
        ))
        .await;
    assert_eq!(s, 200, "{ok}");
    let sent = h.get("/sandbox/sent").await;
    assert!(sent["sent"][0]["rendered"]
        .as_str()
        .unwrap()
        .contains("Hi Ana, this is a reminder of your appointment at 3pm."));

    let (s, _) = h.control("/sandbox/payment", json!({"valid": false})).await;
    assert_eq!(s, 200);
    let body = tpl(
        "order_update",
        "en_US",
        json!([{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"#7"}]}]),
    );
    let (s, v) = h.send(body.clone()).await;
    assert_eq!(s, 200, "payment problems arrive asynchronously: {v}");
    let failed = h
        .status_of(v["messages"][0]["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(failed["errors"][0]["code"], 131042);
    h.control("/sandbox/payment", json!({"valid": true})).await;
    let (_, v) = h.send(body).await;
    h.status_of(v["messages"][0]["id"].as_str().unwrap(), "delivered")
        .await;
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_token_is_190_with_401() {
    let h = start().await;
    for auth in [Some("Bearer wrong"), None] {
        let mut req = h
            .http
            .post(h.messages_url())
            .json(&text("15551230008", "x"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], 190);
        assert_eq!(e["error"]["type"], "OAuthException");
    }
    let r = h
        .http
        .get(h.url(&format!("/v21.0/{}/message_templates", h.sandbox.waba_id)))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_number_and_malformed_bodies() {
    let h = start().await;
    let r = h
        .http
        .post(h.url("/v21.0/999/messages"))
        .bearer_auth(TOKEN)
        .json(&text("15551230009", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], 100);
    assert_eq!(e["error"]["error_subcode"], 33);
    assert_eq!(e["error"]["type"], "GraphMethodException");

    let r = h
        .http
        .post(h.messages_url())
        .bearer_auth(TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let (s, e) = h
        .send(json!({"to": "15551230009", "type": "text", "text": {"body": "x"}}))
        .await;
    assert_eq!((s, e["error"]["code"].as_i64()), (400, Some(100)));
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("messaging_product"));
    assert!(
        h.get("/sandbox/sent").await["sent"]
            .as_array()
            .unwrap()
            .is_empty(),
        "rejected sends are not recorded"
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn mark_as_read_needs_a_received_message() {
    let h = start().await;
    let wamid = h.customer_says("15551230010", "hello", None).await;
    let (s, v) = h
        .send(json!({"messaging_product":"whatsapp","status":"read","message_id": wamid}))
        .await;
    assert_eq!((s, v), (200, json!({"success": true})));
    let read = h.get("/sandbox/read").await;
    assert_eq!(read["read"], json!([{"phone_number_id": h.sandbox.phone_number_id, "wa_id": "15551230010", "message_id": wamid, "typing": false}]));
    let typing = json!({"messaging_product":"whatsapp","status":"read","message_id": wamid, "typing_indicator": {"type": "text"}});
    assert_eq!(h.send(typing).await, (200, json!({"success": true})));
    assert_eq!(h.get("/sandbox/read").await["read"][1]["typing"], true, "read, and typing… shown");
    let (s, v) = h
        .send(json!({"messaging_product":"whatsapp","status":"read","message_id": wamid, "typing_indicator": {"type": "audio"}}))
        .await;
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(131009)));
    let (s, v) = h
        .send(json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.unknown"}))
        .await;
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(131009)), "Meta's code for an id it did not deliver");
    assert_eq!(h.get("/sandbox/read").await["read"].as_array().unwrap().len(), 2, "a refused mark is not recorded");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn throughput_over_20_mps_is_130429() {
    let h = start().await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let http = h.http.clone();
        let url = h.messages_url();
        tasks.push(tokio::spawn(async move {
            let body = json!({"messaging_product":"whatsapp","to": format!("1555200{i:04}"),"type":"template",
                              "template":{"name":"hello_world","language":{"code":"en_US"}}});
            let r = http.post(url).bearer_auth(TOKEN).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for t in tasks {
        let (s, v) = t.await.unwrap();
        match (s, v["error"]["code"].as_i64()) {
            (200, _) => ok += 1,
            (400, Some(130429)) => {
                limited += 1;
                assert_eq!(v["error"]["message"], "(#130429) Rate limit hit");
            }
            other => panic!("unexpected answer {other:?}: {v}"),
        }
    }
    assert!(
        ok >= 20,
        "the first 20 in a second fit the coexistence cap ({ok} accepted)"
    );
    assert!(limited > 0, "100 sends at once exceed 20 mps");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn pair_rate_is_131056_per_recipient() {
    let mut c = config();
    c.pair_burst = 3;
    let h = start_with(c).await;
    h.customer_says("15551230011", "hi", None).await;
    h.customer_says("15551230012", "hi", None).await;
    for i in 0..3 {
        let (s, v) = h.send(text("15551230011", &format!("msg {i}"))).await;
        assert_eq!(s, 200, "burst message {i}: {v}");
    }
    let (s, e) = h.send(text("15551230011", "one too many")).await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["code"], 131056);
    let (s, _) = h
        .send(text("15551230012", "another customer is fine"))
        .await;
    assert_eq!(s, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn media_and_reaction_sends() {
    let h = start().await;
    let wamid = h.customer_says("15551230013", "photo please", None).await;
    let (s, v) = h.send(json!({"messaging_product":"whatsapp","to":"15551230013","type":"image","image":{"link":"https://example.com/a.jpg","caption":"here"}})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.send(json!({"messaging_product":"whatsapp","to":"15551230013","type":"document","document":{"link":"https://example.com/a.pdf","filename":"a.pdf"}})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.send(json!({"messaging_product":"whatsapp","to":"15551230013","type":"reaction","reaction":{"message_id": wamid,"emoji":"👍"}})).await;
    assert_eq!(s, 200, "{v}");
    let (s, e) = h
        .send(json!({"messaging_product":"whatsapp","to":"15551230013","type":"image","image":{}}))
        .await;
    assert_eq!((s, e["error"]["code"].as_i64()), (400, Some(100)));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn unreachable_customer_fails_131026_after_a_200() {
    let h = start().await;
    h.customer_says("15551230014", "hi", None).await;
    let (s, _) = h
        .control(
            "/sandbox/customers/unreachable",
            json!({"wa_id": "15551230014"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = h.send(text("15551230014", "are you there?")).await;
    assert_eq!(s, 200);
    let failed = h
        .status_of(v["messages"][0]["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(failed["errors"][0]["code"], 131026);
    h.control(
        "/sandbox/customers/unreachable",
        json!({"wa_id": "15551230014", "unreachable": false}),
    )
    .await;
    let (_, v) = h.send(text("15551230014", "now?")).await;
    h.status_of(v["messages"][0]["id"].as_str().unwrap(), "delivered")
        .await;
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn statuses_can_be_configured_to_arrive_out_of_order() {
    let mut c = config();
    c.statuses_out_of_order = true;
    let h = start_with(c).await;
    h.customer_says("15551230015", "hi", None).await;
    let (_, v) = h.send(text("15551230015", "hello")).await;
    let wamid = v["messages"][0]["id"].as_str().unwrap().to_string();
    h.status_of(&wamid, "delivered").await;
    let order: Vec<String> = h
        .received()
        .iter()
        .filter(|w| value_of(w)["statuses"][0]["id"] == wamid.as_str())
        .map(|w| {
            value_of(w)["statuses"][0]["status"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(order, vec!["sent", "read", "delivered"]);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn brazilian_ninth_digit_resolves_to_the_known_wa_id() {
    let h = start().await;
    h.customer_says("551187654321", "oi", None).await;
    let (s, v) = h.send(text("+55 11 98765-4321", "Olá!")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["contacts"][0]["input"], "+55 11 98765-4321");
    assert_eq!(
        v["contacts"][0]["wa_id"], "551187654321",
        "Meta answers with the real id"
    );
    let st = h
        .status_of(v["messages"][0]["id"].as_str().unwrap(), "delivered")
        .await;
    assert_eq!(st["recipient_id"], "551187654321");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn hostile_customer_strings_arrive_exactly_and_safely() {
    let h = start().await;
    let nasty = "<script>alert('x')</script> \"quoted\" \\ back\u{0}slash 🙂 \u{202e}rtl";
    let (s, v) = h
        .control(
            "/sandbox/customers/messages",
            json!({"from": "15551230016", "name": nasty, "text": nasty}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let w = h
        .wait_for("the hostile message", |w| {
            value_of(w)["messages"][0]["id"] == v["wamid"]
        })
        .await;
    assert_eq!(value_of(&w)["messages"][0]["text"]["body"], nasty);
    assert_eq!(value_of(&w)["contacts"][0]["profile"]["name"], nasty);
    let (s, _) = h
        .control(
            "/sandbox/customers/messages",
            json!({"from": "15551230016", "name": "x".repeat(300), "text": "hi"}),
        )
        .await;
    assert_eq!(s, 400, "absurd names are refused with a reason");
    let r = h
        .http
        .post(h.url("/sandbox/customers/messages"))
        .body("{\"from\": 12")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.json::<serde_json::Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("request body"));
    h.sandbox.shutdown().await;
}
