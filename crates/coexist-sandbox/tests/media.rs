//! Media a customer sends can be fetched as on Meta: metadata by media id, then the bytes from its
//! URL with the access token.

mod common;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

async fn get(h: &Harness, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = h.http.get(url);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_photo_is_fetched_by_id_then_url_with_the_token() {
    let h = start().await;
    let (status, sent) = h.control("/sandbox/customers/messages", json!({"from": "15551230040", "type": "image", "text": "my receipt"})).await;
    assert_eq!(status, 200, "{sent}");
    let hook = h.wait_for("the image webhook", |v| v["entry"][0]["changes"][0]["value"]["messages"][0]["type"] == "image").await;
    let image = hook["entry"][0]["changes"][0]["value"]["messages"][0]["image"].clone();
    let id = image["id"].as_str().unwrap();

    let meta: Value = get(&h, &h.url(&format!("/v21.0/{id}")), Some(TOKEN)).await.json().await.unwrap();
    assert_eq!(meta["id"], id);
    assert_eq!(meta["mime_type"], image["mime_type"]);
    assert_eq!(meta["sha256"], image["sha256"], "the webhook's hash is the file's");
    let url = meta["url"].as_str().unwrap();

    let refused = get(&h, url, None).await;
    assert_eq!(refused.status(), 401);
    let file = get(&h, url, Some(TOKEN)).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "image/png");
    let bytes = file.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, meta["file_size"].as_u64().unwrap());
    assert_eq!(hex::encode(Sha256::digest(&bytes)), meta["sha256"].as_str().unwrap());

    let unknown: Value = get(&h, &h.url("/v21.0/999000111"), Some(TOKEN)).await.json().await.unwrap();
    assert_eq!(unknown["error"]["code"], 100, "{unknown}");
}
