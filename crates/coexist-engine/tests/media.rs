//! A customer's photo and document, fetched through the REAL bridge from the REAL sandbox: the
//! desktop gets the bytes Meta has, without ever holding the access token.

mod common;

use common::*;
use serde_json::{json, Value};

async fn media_of(s: &Stack, kind: &str) -> Value {
    s.control("/sandbox/customers/messages", json!({"from": "15551230050", "type": kind, "text": "see attached"})).await;
    let webhooks = s.http.get(format!("{}/sandbox/webhooks", s.demo.sandbox_url)).send().await.unwrap().json::<Value>().await.unwrap();
    let all = webhooks["webhooks"].as_array().unwrap();
    all.iter()
        .rev()
        .find_map(|w| {
            let m = w["payload"]["entry"][0]["changes"][0]["value"]["messages"][0].clone();
            (m["type"] == kind).then(|| m[kind].clone())
        })
        .expect("the webhook with the media")
}

#[tokio::test]
async fn photos_and_documents_come_through_the_bridge_byte_for_byte() {
    let s = stack().await;
    let (engine, _) = s.engine("media", coexist_engine::SyncMode::LongPoll);
    for kind in ["image", "document"] {
        let media = media_of(&s, kind).await;
        let file = engine.client().media(media["id"].as_str().unwrap()).await.expect("the file");
        assert_eq!(file.mime_type, media["mime_type"].as_str().unwrap());
        assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&file.bytes)), media["sha256"].as_str().unwrap(), "{kind}: the bytes Meta hashed");
    }
    let unknown = engine.client().media("12345").await.unwrap_err();
    assert!(unknown.to_string().contains("12345") || unknown.to_string().contains("does not exist"), "{unknown}");
    let bad = engine.client().media("../admin").await.unwrap_err();
    assert!(bad.to_string().contains("numeric"), "{bad}");
    let direct = s.http.get(format!("{}/v1/media/abc", s.demo.bridge_url)).bearer_auth(&s.demo.token).send().await.unwrap();
    assert_eq!(direct.status(), 400, "the bridge checks the id itself too");
    s.demo.shutdown().await;
}
