//! A customer's photo and document, fetched through the REAL bridge from the REAL sandbox: the
//! desktop gets the bytes Meta has, without ever holding the access token.

mod common;

use std::time::Duration;

use coexist_core::MessageBody;
use coexist_engine::{EngineError, OutgoingFile};
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

const PHOTO: &[u8] = include_bytes!("../../coexist-sandbox/assets/photo.png");

/// An engine on the stack, and a customer who just wrote in: the window is open.
async fn open_window(s: &Stack, engine: &str, contact: &str, name: &str, says: &str) -> (coexist_engine::Engine, coexist_core::ConversationKey) {
    let (engine, _) = s.engine(engine, coexist_engine::SyncMode::LongPoll);
    s.customer_says(contact, name, says, None).await;
    let key = s.conversation(contact);
    sync_until_conversation(&engine, &key).await;
    (engine, key)
}

/// An agent sends a photo with a caption and a document: uploaded through the bridge, sent by
/// media id, shown in the thread as the business's, and the customer's copy is the same bytes.
#[tokio::test]
async fn an_agent_sends_a_photo_and_a_document() {
    let s = stack().await;
    let (engine, key) = open_window(&s, "send-media", "14155550177", "Dora", "can you send the invoice?").await;

    let photo = OutgoingFile { name: "/home/agent/Pictures/shelf.png".into(), mime_type: "image/png".into(), bytes: PHOTO.to_vec() };
    let pdf = OutgoingFile { name: "Invoice 7.pdf".into(), mime_type: "application/pdf".into(), bytes: b"%PDF-1.4 invoice 7".to_vec() };
    let asked = engine.store().lock().unwrap().last_inbound(&key).unwrap().expect("Dora wrote").wamid;
    let photo_item = engine.send_file(&key, photo, "Here is the shelf", None).await.unwrap();
    let pdf_item = engine.send_file(&key, pdf, "", Some(&asked)).await.unwrap();
    assert_eq!(engine.drain_outbox(Duration::from_secs(10)).await.unwrap().sent, 2);

    let sent = s.sent().await;
    let request = |item: &coexist_store::OutboxItem| -> Value {
        sent.iter().find(|r| r["biz_opaque_callback_data"] == item.idempotency_key.as_str()).expect("sent to Meta")["request"].clone()
    };
    let image = request(&photo_item)["image"].clone();
    assert_eq!(image["caption"], "Here is the shelf");
    let document = request(&pdf_item)["document"].clone();
    assert_eq!(document["filename"], "Invoice 7.pdf");
    assert_eq!(request(&pdf_item)["context"]["message_id"], asked.as_str(), "the invoice answers Dora's question");
    assert!(request(&photo_item).get("context").is_none());
    let on_meta = engine.client().media(image["id"].as_str().unwrap()).await.unwrap();
    assert_eq!((on_meta.mime_type.as_str(), on_meta.bytes.as_slice()), ("image/png", PHOTO), "the customer gets the bytes the agent picked");

    let thread = eventually(15, "both files in the thread", || async {
        engine.sync_once().await.unwrap();
        let msgs = engine.store().lock().unwrap().messages(&key, None, 10).unwrap();
        (msgs.iter().filter(|m| m.from_business).count() == 2).then_some(msgs)
    })
    .await;
    let shown: Vec<&MessageBody> = thread.iter().filter(|m| m.from_business).map(|m| &m.body).collect();
    assert!(matches!(shown[0], MessageBody::Image { media } if media.id == image["id"].as_str().map(String::from)), "{shown:?}");
    assert!(matches!(shown[1], MessageBody::Document { media } if media.filename.as_deref() == Some("Invoice 7.pdf")), "{shown:?}");
    s.demo.shutdown().await;
}

/// What Meta would refuse is refused before anything is uploaded, in words that say what to do.
#[tokio::test]
async fn files_meta_cannot_take_are_refused_before_upload() {
    let s = stack().await;
    let (engine, key) = open_window(&s, "refuse-media", "14155550178", "Eli", "hi").await;
    let file = |name: &str, mime: &str, len: usize| OutgoingFile { name: name.into(), mime_type: mime.into(), bytes: vec![7; len] };

    let gif = engine.send_file(&key, file("a.gif", "image/gif", 10), "", None).await.unwrap_err();
    assert!(gif.to_string().contains("cannot send") && gif.to_string().contains("PNG"), "{gif}");
    let big = engine.send_file(&key, file("big.jpg", "image/jpeg", 6 * 1024 * 1024), "", None).await.unwrap_err();
    assert!(big.to_string().contains("at most 5 MB"), "{big}");
    let voice = engine.send_file(&key, file("v.mp3", "audio/mpeg", 10), "listen", None).await.unwrap_err();
    assert!(voice.to_string().contains("without a caption"), "{voice}");
    let stranger = s.conversation("14155550999");
    let closed = engine.send_file(&stranger, file("p.png", "image/png", 10), "", None).await.unwrap_err();
    assert!(matches!(closed, EngineError::WindowClosed(_)), "{closed}");
    let elsewhere = engine.send_file(&key, file("p.png", "image/png", 10), "", Some("wamid.elsewhere")).await.unwrap_err();
    assert!(elsewhere.to_string().contains("not in this conversation"), "{elsewhere}");
    assert!(engine.store().lock().unwrap().outbox_ready(10).unwrap().is_empty(), "nothing queued");

    // The bridge passes Meta's own refusal on, explained (a type the desktop would not even try).
    let direct = s
        .http
        .post(format!("{}/v1/numbers/{}/media", s.demo.bridge_url, key.phone_number_id))
        .bearer_auth(&s.demo.token)
        .header("content-type", "image/gif")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 400);
    let answer: Value = direct.json().await.unwrap();
    assert_eq!(answer["error"]["code"], 100, "{answer}");
    s.demo.shutdown().await;
}

/// Meta accepted a photo and then failed it (the customer was unreachable): sent again as a new
/// message by the same media id, no second upload; a template is not resent this way.
#[tokio::test]
async fn a_file_meta_failed_after_accepting_is_sent_again_by_its_media_id() {
    let s = stack().await;
    let (engine, key) = open_window(&s, "send-again", "14155550179", "Ivo", "photo please").await;
    s.control("/sandbox/customers/unreachable", json!({"wa_id": "14155550179", "unreachable": true})).await;
    let photo = OutgoingFile { name: "shelf.png".into(), mime_type: "image/png".into(), bytes: PHOTO.to_vec() };
    let first = engine.send_file(&key, photo, "the shelf", None).await.unwrap();
    assert_eq!(engine.drain_outbox(Duration::from_secs(10)).await.unwrap().sent, 1, "Meta accepts it first");
    let failed = eventually(15, "the failed status", || async {
        engine.sync_once().await.unwrap();
        let it = engine.store().lock().unwrap().outbox_item(&first.idempotency_key).unwrap().unwrap();
        (it.delivery_status == Some(coexist_core::StatusKind::Failed)).then_some(it)
    })
    .await;

    s.control("/sandbox/customers/unreachable", json!({"wa_id": "14155550179", "unreachable": false})).await;
    let again = engine.send_again(&key, &failed.message).unwrap();
    assert_ne!(again.idempotency_key, first.idempotency_key, "a new message: Meta spent the first key");
    assert_eq!(engine.drain_outbox(Duration::from_secs(10)).await.unwrap().sent, 1);
    let ids: Vec<Value> = s.sent().await.iter().filter(|r| r["request"]["type"] == "image").map(|r| r["request"]["image"].clone()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], ids[1], "the same media id and caption, no second upload");

    let template = json!({"type": "template", "template": {"name": "order_update"}});
    assert!(engine.send_again(&key, &template).unwrap_err().to_string().contains("from the picker"));
    s.demo.shutdown().await;
}
