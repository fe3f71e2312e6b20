//! Meta's Block Users API (`/{version}/{phone_number_id}/block_users`) and what a block does to
//! sends and to the customer's messages, through the real HTTP interface.

mod common;

use common::*;
use serde_json::{json, Value};

fn users(list: &[&str]) -> Value {
    let items: Vec<Value> = list.iter().map(|u| json!({ "user": u })).collect();
    json!({"messaging_product": "whatsapp", "block_users": items})
}

impl Harness {
    fn block_url(&self) -> String {
        self.url(&format!(
            "/v21.0/{}/block_users",
            self.sandbox.phone_number_id
        ))
    }

    /// `POST` (block) or `DELETE` (unblock) with the right token; returns (HTTP status, body).
    async fn block_call(&self, method: reqwest::Method, body: Value) -> (u16, Value) {
        let r = self
            .http
            .request(method, self.block_url())
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn block(&self, list: &[&str]) -> (u16, Value) {
        self.block_call(reqwest::Method::POST, users(list)).await
    }

    async fn unblock(&self, list: &[&str]) -> (u16, Value) {
        self.block_call(reqwest::Method::DELETE, users(list)).await
    }

    /// GET a URL (relative to the sandbox, or a `paging.next` link) with the right token.
    async fn get_abs(&self, url: &str) -> Value {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            self.url(url)
        };
        let r = self.http.get(url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.json().await.unwrap()
    }

    fn webhooks_emitted(&self) -> usize {
        self.sandbox.sandbox().webhooks().len()
    }
}

fn template(to: &str) -> Value {
    json!({"messaging_product":"whatsapp","to":to,"type":"template",
           "template":{"name":"hello_world","language":{"code":"en_US"}}})
}

fn failed_error(v: &Value, i: usize) -> &Value {
    &v["block_users"]["failed_users"][i]["errors"][0]
}

#[tokio::test]
async fn blocking_needs_a_message_in_the_last_24_hours() {
    let h = start().await;
    h.customer_says("15551240001", "hi", None).await;
    let (s, v) = h.block(&["+1 555-124-0001"]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"messaging_product": "whatsapp", "block_users": {"added_users": [
            {"input": "+1 555-124-0001", "wa_id": "15551240001"}]}})
    );
    let (s, again) = h.block(&["15551240001"]).await;
    assert_eq!(s, 200, "blocking twice is fine: {again}");

    h.customer_says("15551240002", "old", Some(now() - 25 * 3600))
        .await;
    let (s, v) = h.block(&["15551240002"]).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["messaging_product"], "whatsapp");
    assert_eq!(v["block_users"]["added_users"], json!([]));
    assert_eq!(
        v["block_users"]["failed_users"][0],
        json!({"input": "15551240002", "wa_id": "15551240002", "errors": [{
            "message": "Re-engagement required", "code": 131047,
            "error_data": {"details": "User has not messaged in the last 24 hours"}}]})
    );
    let e = &v["error"];
    assert_eq!(e["code"], 139100);
    assert_eq!(e["message"], "(#139100) Failed to block/unblock users");
    assert_eq!(e["type"], "OAuthException");
    assert_eq!(
        e["error_data"]["details"],
        "Failed to block some users, see the block_users response list for details"
    );
    assert!(e["fbtrace_id"].as_str().unwrap().len() > 10);

    // one that wrote, one that never did, one that is not a number: a mixed answer
    h.customer_says("15551240003", "hi", Some(now() - (23 * 3600 + 59 * 60)))
        .await;
    let (s, v) = h
        .block(&["15551240003", "15551240004", "not-a-number"])
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["block_users"]["added_users"],
        json!([{"input": "15551240003", "wa_id": "15551240003"}])
    );
    assert_eq!(failed_error(&v, 0)["code"], 131047);
    assert_eq!(v["block_users"]["failed_users"][0]["wa_id"], "15551240004");
    assert_eq!(failed_error(&v, 1)["code"], 131047);
    assert!(
        v["block_users"]["failed_users"][1].get("wa_id").is_none(),
        "no wa_id for an invalid number: {v}"
    );
    let list = h
        .get(&format!("/v21.0/{}/block_users", h.sandbox.phone_number_id))
        .await;
    let blocked: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["wa_id"].as_str().unwrap())
        .collect();
    assert_eq!(blocked, vec!["15551240001", "15551240003"]);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn self_block_is_131021() {
    let h = start().await;
    let own = h.sandbox.display_number.clone();
    let (s, v) = h.block(&[&own]).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(failed_error(&v, 0)["code"], 131021);
    assert_eq!(failed_error(&v, 0)["message"], "Self block");
    assert_eq!(
        failed_error(&v, 0)["error_data"]["details"],
        "Failed to block self phone number"
    );
    assert_eq!(v["error"]["code"], 139100);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn whole_request_errors_come_first() {
    let h = start().await;
    h.customer_says("15551240010", "hi", None).await;
    let mut many: Vec<String> = (0..1000).map(|i| format!("1555300{i:04}")).collect();
    many.push("15551240010".into());
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let (s, v) = h.block(&refs).await;
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(130429)), "{v}");
    assert_eq!(v["error"]["message"], "(#130429) Rate limit hit");
    assert!(
        v.get("block_users").is_none(),
        "the whole request is refused"
    );
    assert!(!h
        .sandbox
        .sandbox()
        .is_blocked(&h.sandbox.phone_number_id, "15551240010"));

    let post = reqwest::Method::POST;
    let (s, v) = h
        .block_call(
            post.clone(),
            json!({"block_users": [{"user": "15551240010"}]}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(100)));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("messaging_product"));
    let (s, v) = h
        .block_call(post.clone(), json!({"messaging_product": "whatsapp"}))
        .await;
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(100)));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("block_users"));
    for bad in [
        json!({"messaging_product": "whatsapp", "block_users": "15551240010"}),
        json!({"messaging_product": "whatsapp", "block_users": [{"phone": "15551240010"}]}),
        json!({"messaging_product": "whatsapp", "block_users": [{"user": 15551240010u64}]}),
    ] {
        let (s, v) = h.block_call(post.clone(), bad.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_i64()),
            (400, Some(100)),
            "{bad}: {v}"
        );
    }
    let (s, v) = h
        .block_call(
            post.clone(),
            json!({"messaging_product": "sms", "block_users": []}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(131009)));
    let (s, v) = h.block(&[]).await;
    assert_eq!((s, &v["block_users"]["added_users"]), (200, &json!([])));

    for method in [
        reqwest::Method::POST,
        reqwest::Method::DELETE,
        reqwest::Method::GET,
    ] {
        let r = h
            .http
            .request(method.clone(), h.block_url())
            .bearer_auth("wrong")
            .json(&users(&["15551240010"]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{method}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], 190);
    }
    let r = h
        .http
        .post(h.url("/v21.0/999/block_users"))
        .bearer_auth(TOKEN)
        .json(&users(&["15551240010"]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        (
            e["error"]["code"].as_i64(),
            e["error"]["error_subcode"].as_i64()
        ),
        (Some(100), Some(33))
    );
    assert_eq!(e["error"]["type"], "GraphMethodException");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_blocked_customer_cannot_be_messaged_and_cannot_write_in() {
    let h = start().await;
    let wamid = h.customer_says("15551240020", "you again", None).await;
    assert_eq!(h.block(&["15551240020"]).await.0, 200);

    for body in [text("15551240020", "hello?"), template("+1 555 124 0020")] {
        let (s, e) = h.send(body).await;
        assert_eq!((s, e["error"]["code"].as_i64()), (400, Some(131026)), "{e}");
        assert_eq!(e["error"]["message"], "(#131026) Message undeliverable");
        assert!(e["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("block list"));
    }
    assert!(
        h.get("/sandbox/sent").await["sent"]
            .as_array()
            .unwrap()
            .is_empty(),
        "refused sends are not recorded"
    );
    let read = json!({"messaging_product": "whatsapp", "status": "read", "message_id": wamid});
    assert_eq!(h.send(read).await, (200, json!({"success": true})));

    let before = h.webhooks_emitted();
    let (s, v) = h
        .control(
            "/sandbox/customers/messages",
            json!({"from": "15551240020", "text": "let me in"}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let why = v["error"].as_str().unwrap();
    assert!(
        why.contains("blocked") && why.contains(&h.sandbox.phone_number_id),
        "{why}"
    );
    let (s, _) = h
        .control(
            "/sandbox/customers/batch",
            json!({"messages": [{"from": "15551240021", "text": "hi"}, {"from": "15551240020", "text": "me too"}]}),
        )
        .await;
    assert_eq!(s, 409, "a batch is checked as a whole");
    assert_eq!(h.webhooks_emitted(), before, "nothing reaches the business");

    // other customers are unaffected
    h.customer_says("15551240021", "hi", None).await;
    let (s, v) = h.send(text("15551240021", "hello")).await;
    assert_eq!(s, 200, "{v}");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_list_pages_and_unblocking_restores_everything() {
    let h = start().await;
    let people = ["15551240030", "15551240031", "15551240032"];
    for p in people {
        h.customer_says(p, "hi", None).await;
    }
    assert_eq!(h.block(&people).await.0, 200);

    let first = h
        .get(&format!(
            "/v21.0/{}/block_users?limit=1",
            h.sandbox.phone_number_id
        ))
        .await;
    assert_eq!(
        first["data"],
        json!([{"messaging_product": "whatsapp", "wa_id": "15551240030"}])
    );
    assert!(first["paging"]["cursors"]["before"].is_string());
    assert!(first["paging"].get("previous").is_none());
    let mut seen = vec![first["data"][0]["wa_id"].clone()];
    let mut page = first.clone();
    while let Some(next) = page["paging"]["next"].as_str() {
        page = h.get_abs(next).await;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["wa_id"].clone()),
        );
        assert!(seen.len() <= 3, "paging does not end");
    }
    assert_eq!(seen, people.map(Value::from).to_vec());
    assert!(page["paging"]["previous"].is_string());
    let after = first["paging"]["cursors"]["after"].as_str().unwrap();
    let by_cursor = h
        .get_abs(&format!(
            "/v21.0/{}/block_users?limit=2&after={after}",
            h.sandbox.phone_number_id
        ))
        .await;
    assert_eq!(by_cursor["data"][1]["wa_id"], "15551240032");

    // unblocking someone who never wrote (no 24-hour rule) or is not blocked is fine
    let (s, v) = h
        .unblock(&[
            "15551240030",
            "+1 555 124 0031",
            "15551240032",
            "15551249999",
        ])
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["block_users"]["removed_users"][1],
        json!({"input": "+1 555 124 0031", "wa_id": "15551240031"})
    );
    assert_eq!(
        v["block_users"]["removed_users"].as_array().unwrap().len(),
        4
    );
    let list = h
        .get(&format!("/v21.0/{}/block_users", h.sandbox.phone_number_id))
        .await;
    assert_eq!(list, json!({"data": []}));
    let (s, v) = h.unblock(&["nope"]).await;
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(139100)));
    assert_eq!(failed_error(&v, 0)["code"], 131009);

    let (s, v) = h.send(text("15551240030", "welcome back")).await;
    assert_eq!(s, 200, "{v}");
    let wamid = h.customer_says("15551240031", "thanks", None).await;
    h.wait_for("the unblocked customer's message", |w| {
        value_of(w)["messages"][0]["id"] == wamid.as_str()
    })
    .await;
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn scenarios_skip_blocked_customers() {
    let h = start().await;
    // `demo` always has Ana (14155550111) write twice
    h.customer_says("14155550111", "before the demo", None)
        .await;
    assert_eq!(h.block(&["14155550111"]).await.0, 200);
    let report = h
        .sandbox
        .run_scenario_with(coexist_sandbox::ScenarioRequest {
            name: "demo".into(),
            seed: 1,
            now: None,
            pace: Some(0.0),
            wait: Some(true),
        })
        .await
        .expect("a block does not stop a scenario");
    assert_eq!(report.skipped.len(), 2, "{report:?}");
    assert!(!report.wamids.iter().any(|w| report.skipped.contains(w)));
    let emitted = h.sandbox.sandbox().webhooks();
    for skipped in &report.skipped {
        assert!(!emitted.iter().any(|w| w.body.contains(skipped.as_str())));
    }
    h.sandbox.shutdown().await;

    // busy-shop: the customer who opens its batch is blocked; the batch and its redelivery go on
    let at = now();
    let steps = coexist_sandbox::scenario::plan("busy-shop", 5, at).unwrap();
    let Some(coexist_sandbox::scenario::Step::Batch(batch)) = steps
        .iter()
        .find(|s| matches!(s, coexist_sandbox::scenario::Step::Batch(_)))
    else {
        panic!("busy-shop has a batch");
    };
    let h = start().await;
    h.customer_says(&batch[0].from, "hi", None).await;
    assert_eq!(h.block(&[&batch[0].from]).await.0, 200);
    let report = h
        .sandbox
        .run_scenario_with(coexist_sandbox::ScenarioRequest {
            name: "busy-shop".into(),
            seed: 5,
            now: Some(at),
            pace: Some(0.0),
            wait: Some(true),
        })
        .await
        .expect("a block does not stop a scenario");
    assert!(
        report.skipped.contains(batch[0].id.as_ref().unwrap()),
        "{report:?}"
    );
    assert!(report.wamids.contains(batch[1].id.as_ref().unwrap()));
    h.sandbox.shutdown().await;
}
