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
