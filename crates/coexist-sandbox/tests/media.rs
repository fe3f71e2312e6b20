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

/// Every kind a customer sends is a real file behind its id, with the hash its webhook announced.
#[tokio::test]
async fn voice_notes_videos_stickers_and_documents_are_served_too() {
    let h = start().await;
    for (kind, magic_at, magic) in [("audio", 0, &b"OggS"[..]), ("video", 4, b"ftyp"), ("sticker", 8, b"WEBP"), ("document", 0, b"%PDF")] {
        let (status, sent) = h.control("/sandbox/customers/messages", json!({"from": "15551230041", "type": kind})).await;
        assert_eq!(status, 200, "{sent}");
        let hook = h.wait_for(kind, |v| v["entry"][0]["changes"][0]["value"]["messages"][0]["type"] == kind).await;
        let media = hook["entry"][0]["changes"][0]["value"]["messages"][0][kind].clone();
        let meta: Value = get(&h, &h.url(&format!("/v21.0/{}", media["id"].as_str().unwrap())), Some(TOKEN)).await.json().await.unwrap();
        let bytes = get(&h, meta["url"].as_str().unwrap(), Some(TOKEN)).await.bytes().await.unwrap();
        assert_eq!(&bytes[magic_at..magic_at + magic.len()], magic, "{kind}");
        assert_eq!(hex::encode(Sha256::digest(&bytes)), media["sha256"].as_str().unwrap(), "{kind}: the webhook's hash is the file's");
    }
}

fn upload_form(mime: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    let file = reqwest::multipart::Part::bytes(bytes).file_name("upload.bin").mime_str(mime).unwrap();
    reqwest::multipart::Form::new().text("messaging_product", "whatsapp").text("type", mime.to_string()).part("file", file)
}

async fn upload(h: &Harness, phone_number_id: &str, token: &str, form: reqwest::multipart::Form) -> (u16, Value) {
    let resp = h.http.post(h.url(&format!("/v21.0/{phone_number_id}/media"))).bearer_auth(token).multipart(form).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// The business uploads a file and gets a media id; the id then serves the same bytes, as
/// Meta serves an uploaded file.
#[tokio::test]
async fn an_uploaded_file_gets_a_media_id_that_serves_its_bytes() {
    let h = start().await;
    let pnid = h.sandbox.phone_number_id.clone();
    let pdf = b"%PDF-1.4 an invoice".to_vec();
    let (status, answer) = upload(&h, &pnid, TOKEN, upload_form("application/pdf", pdf.clone())).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["id"].as_str().unwrap();
    assert!(id.chars().all(|c| c.is_ascii_digit()), "{id}");

    let meta: Value = get(&h, &h.url(&format!("/v21.0/{id}")), Some(TOKEN)).await.json().await.unwrap();
    assert_eq!(meta["mime_type"], "application/pdf");
    assert_eq!(meta["file_size"], pdf.len());
    let file = get(&h, meta["url"].as_str().unwrap(), Some(TOKEN)).await;
    assert_eq!(file.bytes().await.unwrap().to_vec(), pdf);
}

fn details(answer: &Value) -> &str {
    answer["error"]["error_data"]["details"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn uploads_meta_refuses() {
    let h = start().await;
    let pnid = h.sandbox.phone_number_id.clone();
    let (status, bad_token) = upload(&h, &pnid, "wrong", upload_form("image/png", vec![1; 10])).await;
    assert_eq!((status, bad_token["error"]["code"].as_i64()), (401, Some(190)), "{bad_token}");
    let (status, gif) = upload(&h, &pnid, TOKEN, upload_form("image/gif", vec![1; 10])).await;
    assert_eq!((status, gif["error"]["code"].as_i64()), (400, Some(100)), "{gif}");
    let (_, big) = upload(&h, &pnid, TOKEN, upload_form("image/png", vec![1; 5 * 1024 * 1024 + 1])).await;
    assert!(details(&big).contains("at most"), "{big}");
    let (_, unknown) = upload(&h, "999", TOKEN, upload_form("image/png", vec![1; 10])).await;
    assert_eq!(unknown["error"]["code"], 100, "{unknown}");
    let no_product = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(vec![1]).mime_str("image/png").unwrap());
    let (_, missing) = upload(&h, &pnid, TOKEN, no_product).await;
    assert!(details(&missing).contains("messaging_product"), "{missing}");
    let no_file = reqwest::multipart::Form::new().text("messaging_product", "whatsapp").text("type", "image/png");
    let (_, missing) = upload(&h, &pnid, TOKEN, no_file).await;
    assert!(details(&missing).contains("file"), "{missing}");
}
