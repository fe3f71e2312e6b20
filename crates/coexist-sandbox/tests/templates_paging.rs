//! `GET /{version}/{waba_id}/message_templates` pages like Meta's.

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn walking_next_links_visits_every_template_once() {
    let h = start().await;
    let first = h
        .get(&format!(
            "/v21.0/{}/message_templates?limit=3",
            h.sandbox.waba_id
        ))
        .await;
    assert_eq!(first["data"].as_array().unwrap().len(), 3);
    assert!(first["paging"]["cursors"]["before"].is_string());
    assert!(first["paging"]["cursors"]["after"].is_string());
    assert!(first["paging"].get("previous").is_none());

    let mut seen = HashSet::new();
    let mut page = first.clone();
    let mut pages = 0;
    loop {
        pages += 1;
        for t in page["data"].as_array().unwrap() {
            for key in [
                "name",
                "language",
                "status",
                "category",
                "components",
                "id",
                "parameter_format",
            ] {
                assert!(t.get(key).is_some(), "template lacks {key}: {t}");
            }
            assert!(
                seen.insert((
                    t["name"].as_str().unwrap().to_string(),
                    t["language"].as_str().unwrap().to_string()
                )),
                "duplicate {t}"
            );
        }
        let Some(next) = page["paging"]["next"].as_str() else {
            break;
        };
        page = h
            .http
            .get(next)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert!(pages < 20, "paging does not end");
    }
    let all = h
        .get(&format!(
            "/v21.0/{}/message_templates?limit=100",
            h.sandbox.waba_id
        ))
        .await;
    assert_eq!(seen.len(), all["data"].as_array().unwrap().len());
    assert!(all["paging"].get("next").is_none());
    assert!(seen.contains(&("hello_world".to_string(), "en_US".to_string())));
    assert!(pages >= 3);

    // the second page links back to the first
    let second = h
        .http
        .get(first["paging"]["next"].as_str().unwrap())
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let prev = h
        .http
        .get(second["paging"]["previous"].as_str().unwrap())
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(prev["data"], first["data"]);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn filters_fields_and_bad_cursor() {
    let h = start().await;
    let approved = h
        .get(&format!(
            "/v21.0/{}/message_templates?status=APPROVED&fields=name,language",
            h.sandbox.waba_id
        ))
        .await;
    let data = approved["data"].as_array().unwrap();
    assert!(data
        .iter()
        .all(|t| t.get("components").is_none() && t.get("id").is_some()));
    assert!(
        !data.iter().any(|t| t["name"] == "holiday_hours"),
        "PENDING template filtered out"
    );
    let r = h
        .http
        .get(h.url(&format!(
            "/v21.0/{}/message_templates?after=!!",
            h.sandbox.waba_id
        )))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let numbers = h
        .get(&format!("/v21.0/{}/phone_numbers", h.sandbox.waba_id))
        .await;
    assert_eq!(numbers["data"][0]["id"], h.sandbox.phone_number_id);
    assert_eq!(numbers["data"][0]["throughput"]["level"], "COEXISTENCE");
    h.sandbox.shutdown().await;
}

/// POST the template `body` to the WABA's `message_templates`; (HTTP status, answer).
async fn submit(h: &Harness, body: Value) -> (u16, Value) {
    let r = h
        .http
        .post(h.url(&format!("/v21.0/{}/message_templates", h.sandbox.waba_id)))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_submitted_template_is_pending_until_approved_then_listed_and_sendable() {
    let h = start().await;
    let template = serde_json::json!({
        "name": "delivery_slot", "language": "en_US", "category": "utility",
        "components": [{"type": "BODY", "text": "Your delivery is on {{1}}.", "example": {"body_text": [["Monday"]]}}]
    });
    let (status, answer) = submit(&h, template.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["status"].as_str(), answer["category"].as_str()), (Some("PENDING"), Some("UTILITY")));
    let id = answer["id"].as_str().expect("an id").to_string();

    let (status, again) = submit(&h, template).await;
    assert_eq!(status, 400);
    assert_eq!(again["error"]["code"], 100);
    assert!(again["error"]["error_data"]["details"].as_str().unwrap().contains("already exists"), "{again}");

    let listed = h.get(&format!("/v21.0/{}/message_templates?name=delivery_slot", h.sandbox.waba_id)).await;
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert_eq!(listed["data"][0]["status"], "PENDING");
    let send = serde_json::json!({"messaging_product": "whatsapp", "to": "15551230077", "type": "template",
        "template": {"name": "delivery_slot", "language": {"code": "en_US"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "Monday"}]}]}});
    let (status, refused) = h.send(send.clone()).await;
    assert_ne!(status, 200, "a pending template cannot be sent");
    assert_eq!(refused["error"]["code"], 132001, "{refused}");

    let (status, _) = h
        .control("/sandbox/templates/status", serde_json::json!({"name": "delivery_slot", "language": "en_US", "event": "APPROVED"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(h.send(send).await.0, 200, "approved, it sends");
}

#[tokio::test]
async fn a_malformed_template_is_refused_with_what_to_fix() {
    let h = start().await;
    let body = |name: &str, category: &str, components: Value| {
        serde_json::json!({"name": name, "language": "en_US", "category": category, "components": components})
    };
    let good_body = serde_json::json!([{"type": "BODY", "text": "Hello"}]);
    let cases = [
        (body("Has Spaces", "UTILITY", good_body.clone()), "lowercase"),
        (body("ok_name", "PROMO", good_body.clone()), "category"),
        (body("ok_name", "UTILITY", serde_json::json!([{"type": "FOOTER", "text": "x"}])), "BODY"),
        (serde_json::json!({"language": "en_US", "category": "UTILITY", "components": good_body}), "name"),
        (body("ok_name", "UTILITY", serde_json::json!([{"type": "BODY", "text": "{{1}}, hello", "example": {"body_text": [["Ana"]]}}])), "start or end"),
        (body("ok_name", "UTILITY", serde_json::json!([{"type": "BODY", "text": "Hello {{1}}", "example": {"body_text": [["Ana"]]}}])), "start or end"),
        (body("ok_name", "UTILITY", serde_json::json!([{"type": "BODY", "text": "Hello {{2}}!", "example": {"body_text": [["Ana"]]}}])), "in sequence"),
        (body("ok_name", "UTILITY", serde_json::json!([{"type": "BODY", "text": "Hello {{1}}!"}])), "one example per variable"),
    ];
    for (template, hint) in cases {
        let (status, answer) = submit(&h, template.clone()).await;
        assert_eq!(status, 400, "{template}");
        let details = answer["error"]["error_data"]["details"].as_str().unwrap_or_default();
        assert!(details.contains(hint), "{template}: {answer}");
    }
}
