//! Roles (401/403 matrix), people management, numbers and their country rule, templates.

mod common;

use common::*;
use coexist_core::NumberMode;
use serde_json::{json, Value};

async fn call(h: &Harness, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> u16 {
    let mut req = h.http.request(method.parse().unwrap(), h.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.header("idempotency-key", "matrix").send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_v1_route_checks_token_and_role() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let number = json!({"phone_number_id": "555", "waba_id": "777", "display_number": "+5511912345678", "mode": "standard"});
    // (method, path, body, allowed roles: agent, manager, admin)
    let routes: Vec<(&str, String, Option<Value>, [bool; 3])> = vec![
        ("GET", "/v1/me".into(), None, [true, true, true]),
        ("GET", "/v1/numbers".into(), None, [true, true, true]),
        ("GET", "/v1/events".into(), None, [true, true, true]),
        ("POST", format!("/v1/numbers/{NUMBER}/messages"), Some(text_message("1555", "hi")), [true, false, true]),
        ("POST", format!("/v1/numbers/{NUMBER}/templates/sync"), None, [true, false, true]),
        ("POST", format!("/v1/numbers/{NUMBER}/templates"), Some(json!({})), [false, false, true]),
        ("GET", format!("/v1/numbers/{NUMBER}/blocked"), None, [true, false, true]),
        ("GET", "/v1/admin/users".into(), None, [false, false, true]),
        ("POST", "/v1/admin/users".into(), Some(json!({"name": "new", "role": "agent"})), [false, false, true]),
        ("DELETE", "/v1/admin/users/nobody".into(), None, [false, false, true]),
        ("GET", "/v1/admin/numbers".into(), None, [false, false, true]),
        ("POST", "/v1/admin/numbers".into(), Some(number.clone()), [false, false, true]),
        ("PUT", "/v1/admin/numbers/555".into(), Some(number.clone()), [false, false, true]),
        ("GET", "/v1/admin/quarantine".into(), None, [false, false, true]),
    ];
    for (method, path, body, allowed) in &routes {
        assert_eq!(call(&h, method, path, None, body.clone()).await, 401, "{method} {path} without token");
        assert_eq!(call(&h, method, path, Some("cxb_bogus"), body.clone()).await, 401, "{method} {path} bad token");
        for (token, ok) in [&h.agent, &h.manager, &h.admin].into_iter().zip(allowed) {
            let s = call(&h, method, path, Some(token), body.clone()).await;
            if *ok {
                assert!(s != 401 && s != 403, "{method} {path}: allowed role got {s}");
            } else {
                assert_eq!(s, 403, "{method} {path}: forbidden role got {s}");
            }
        }
    }
    // /v1/stream too (only status; the stream stays open).
    let r = h.http.get(h.url("/v1/stream")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    h.shutdown().await;
}

#[tokio::test]
async fn admins_add_and_revoke_people() {
    let h = Harness::start(None, |_| {}).await;
    let r = h.http.post(h.url("/v1/admin/users")).bearer_auth(&h.admin).json(&json!({"name": "zoe", "role": "manager"})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    let (s, me) = h.get_json("/v1/me", &token).await;
    assert_eq!((s, me), (200, json!({"name": "zoe", "role": "manager"})));
    let (_, users) = h.get_json("/v1/admin/users", &h.admin).await;
    let names: Vec<_> = users.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["ana", "max", "root", "zoe"]);
    assert!(!users.to_string().contains(&token), "tokens are never listed");
    // Duplicate name, bad name, bad role.
    for body in [json!({"name": "zoe", "role": "agent"}), json!({"name": "a b", "role": "agent"}), json!({"name": "q", "role": "boss"})] {
        let r = h.http.post(h.url("/v1/admin/users")).bearer_auth(&h.admin).json(&body).send().await.unwrap();
        assert!(r.status() == 409 || r.status() == 400, "{body}: {}", r.status());
    }
    let r = h.http.delete(h.url("/v1/admin/users/zoe")).bearer_auth(&h.admin).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(h.get_json("/v1/me", &token).await.0, 401, "a revoked token stops working");
    let r = h.http.delete(h.url("/v1/admin/users/zoe")).bearer_auth(&h.admin).send().await.unwrap();
    assert_eq!(r.status(), 404);
    h.shutdown().await;
}

#[tokio::test]
async fn numbers_are_checked_and_every_change_is_an_event() {
    let h = Harness::start(None, |_| {}).await;
    let post = |body: Value| {
        let req = h.http.post(h.url("/v1/admin/numbers")).bearer_auth(&h.admin).json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    for (number, country) in [("+2348031234567", "Nigeria"), ("+27821234567", "South Africa")] {
        let (s, body) = post(json!({"phone_number_id": "1", "waba_id": "2", "display_number": number, "mode": "coexistence"})).await;
        assert_eq!(s, 400);
        assert!(body["error"]["message"].as_str().unwrap().contains(country), "{body}");
    }
    assert!(h.events(0).await.is_empty(), "a refused number appends nothing");
    let (s, body) = post(json!({"phone_number_id": "1", "waba_id": "2", "display_number": "+27821234567", "mode": "standard"})).await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["number"]["tier_mps"], 80);
    let (s, _) = post(json!({"phone_number_id": "1", "waba_id": "2", "display_number": "+27821234567", "mode": "standard"})).await;
    assert_eq!(s, 409);
    let r = h
        .http
        .put(h.url("/v1/admin/numbers/1"))
        .bearer_auth(&h.admin)
        .json(&json!({"waba_id": "2", "display_number": "+27821234567", "mode": "standard", "tier_mps": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = h.http.put(h.url("/v1/admin/numbers/404")).bearer_auth(&h.admin)
        .json(&json!({"waba_id": "2", "display_number": "+15550001", "mode": "standard"})).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let events = h.events(0).await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["kind"] == "number"));
    let settings: coexist_core::NumberSettings = serde_json::from_value(events[1]["payload"].clone()).unwrap();
    assert_eq!(settings.tier_mps, 1000);
    let (_, numbers) = h.get_json("/v1/numbers", &h.manager).await;
    assert_eq!(numbers[0]["tier_mps"], 1000);
    // The library refuses the same way.
    let err = coexist_bridge::admin::add_number(&h.db, coexist_core::NumberSettings {
        phone_number_id: "9".into(), waba_id: "2".into(), display_number: "+2348031234567".into(),
        mode: NumberMode::Coexistence, tier_mps: 20,
    }).unwrap_err();
    assert!(err.to_string().contains("Nigeria"));
    h.shutdown().await;
}

#[tokio::test]
async fn template_sync_follows_every_page_into_one_event() {
    let g = FakeGraph::start().await;
    *g.state.templates.lock().unwrap() = (0..7)
        .map(|i| json!({"id": format!("t{i}"), "name": format!("tpl_{i}"), "language": "en_US", "status": "APPROVED",
                        "category": "UTILITY", "components": [{"type": "BODY", "text": "Hi {{1}}"}]}))
        .collect();
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let r = h.http.post(h.url(&format!("/v1/numbers/{NUMBER}/templates/sync"))).bearer_auth(&h.agent).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["templates"], 7);
    let calls = g.calls();
    assert_eq!(calls.len(), 4, "pages of 2: 2+2+2+1");
    assert!(calls.iter().all(|c| c.path.starts_with(&format!("/v21.0/{WABA}/message_templates"))));
    assert!(calls.iter().all(|c| c.auth.as_deref() == Some(&format!("Bearer {ACCESS}")[..])));
    let events = h.events(0).await;
    let tpl = events.iter().find(|e| e["kind"] == "templates").unwrap();
    assert_eq!(tpl["seq"], body["seq"]);
    let catalog: coexist_core::TemplateCatalog = serde_json::from_value(tpl["payload"].clone()).unwrap();
    assert_eq!(catalog.waba_id, WABA);
    assert_eq!(catalog.phone_number_id, NUMBER);
    let names: Vec<_> = catalog.templates.iter().map(|t| t["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, (0..7).map(|i| format!("tpl_{i}")).collect::<Vec<_>>());
    // A template status webhook is relayed like any webhook.
    let status = json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field": "message_template_status_update",
        "value": {"event": "REJECTED", "message_template_id": 3, "message_template_name": "tpl_3", "message_template_language": "en_US", "reason": "INVALID_FORMAT"}}]}]});
    assert_eq!(h.post_webhook(&status.to_string()).await.status(), 200);
    assert_eq!(h.events(0).await.last().unwrap()["payload"], status);
    h.shutdown().await;
}

#[tokio::test]
async fn an_admin_submits_a_template_for_review_and_the_catalog_with_it_is_relayed() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let submit = |token: String, draft: Value| {
        let (http, url) = (h.http.clone(), h.url(&format!("/v1/numbers/{NUMBER}/templates")));
        async move {
            let r = http.post(url).bearer_auth(token).json(&draft).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let draft = json!({"name": "order_shipped", "language": "en_US", "category": "UTILITY",
                       "body": "Hi {{1}}, your order ships today.", "examples": ["Ana"], "footer": "Thanks!"});

    let (status, answer) = submit(h.admin.clone(), json!({"name": "order_shipped", "language": "en_US", "category": "UTILITY",
                                                          "body": "{{1}}, your order ships today.", "examples": ["Ana"]})).await;
    assert_eq!(status, 400);
    assert!(answer["error"]["message"].as_str().unwrap().contains("cannot start or end with a variable"), "{answer}");
    assert!(g.calls().is_empty(), "refused before Meta");

    let (status, answer) = submit(h.admin.clone(), draft.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["template"]["status"], "PENDING");
    let created = g.calls().into_iter().find(|c| c.path.starts_with("POST ")).unwrap();
    assert_eq!(created.body["components"][0], json!({"type": "BODY", "text": "Hi {{1}}, your order ships today.", "example": {"body_text": [["Ana"]]}}));
    assert_eq!(created.auth.as_deref(), Some(&format!("Bearer {ACCESS}")[..]));
    let events = h.events(0).await;
    let catalog = events.iter().rev().find(|e| e["kind"] == "templates").unwrap();
    assert_eq!(catalog["seq"], answer["seq"]);
    assert_eq!(catalog["payload"]["templates"][0]["name"], "order_shipped", "desktops see it pending");

    g.script(vec![(400, json!({"error": {"message": "(#100) Invalid parameter", "code": 100, "error_data": {"details": "Content in this language already exists"}}}))]);
    let (status, answer) = submit(h.admin.clone(), draft).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["error_data"]["details"], "Content in this language already exists", "Meta's refusal, kept whole: {answer}");
    assert!(answer["what_to_do"].is_string(), "{answer}");
    h.shutdown().await;
}

#[test]
fn the_cli_adds_people_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let bin = env!("CARGO_BIN_EXE_coexist-bridge");
    let out = std::process::Command::new(bin).args(["user", "add", "ana", "--role", "agent", "--db"]).arg(&db).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("cxb_"));
    let out = std::process::Command::new(bin).args(["user", "list", "--db"]).arg(&db).output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "ana\tagent\n");
    let out = std::process::Command::new(bin).args(["user", "revoke", "ana", "--db"]).arg(&db).output().unwrap();
    assert!(out.status.success());
    let out = std::process::Command::new(bin).args(["user", "revoke", "ana", "--db"]).arg(&db).output().unwrap();
    assert!(!out.status.success(), "revoking twice says there is no such user");
    let out = std::process::Command::new(bin).args(["user", "list", "--db"]).arg(&db).output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "");
    let out = std::process::Command::new(bin)
        .args(["number", "add", "--phone-number-id", "1", "--waba-id", "2", "--display-number", "+2348031234567", "--mode", "coexistence", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nigeria"));
    let out = std::process::Command::new(bin)
        .args(["number", "add", "--phone-number-id", "1", "--waba-id", "2", "--display-number", "+14155550100", "--mode", "standard", "--tier", "250", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = coexist_bridge::SqliteDb::open(&db).unwrap();
    let events = db.events_after_sync(0, 10).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload_value().unwrap()["tier_mps"], 250);
}
