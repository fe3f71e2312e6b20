//! Shared pieces of the cross-crate suites: a real bridge on loopback, signed posts, and a desktop
//! store synced from the bridge over HTTP.
#![allow(dead_code)]

use std::path::Path;

use coexist_bridge::{BridgeConfig, RunningBridge, Role};
use coexist_core::RelayEvent;
use coexist_store::Store;
use serde_json::{json, Value};

pub const SECRET: &str = "test-app-secret";
pub const PHONE: &str = "106540352242922";

pub struct Bridge {
    pub running: RunningBridge,
    pub url: String,
    pub token: String,
    pub http: reqwest::Client,
}

pub async fn start_bridge(dir: &Path) -> Bridge {
    let db = dir.join("bridge.db");
    let token = coexist_bridge::admin::add_user(&db, "root", Role::Admin).expect("add admin");
    let mut config = BridgeConfig::new(&db);
    config.app_secret = SECRET.into();
    config.verify_token = "verify".into();
    config.access_token = "graph-token".into();
    config.graph_url = "http://127.0.0.1:9".into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let running = coexist_bridge::start(config, listener).await.expect("start bridge");
    let url = format!("http://{}", running.addr);
    Bridge { running, url, token, http: reqwest::Client::new() }
}

impl Bridge {
    /// POSTs `body` to /webhook signed with `signature` (None: no header) and returns the status.
    pub async fn post_webhook(&self, body: Vec<u8>, signature: Option<String>) -> u16 {
        let mut req = self.http.post(format!("{}/webhook", self.url)).header("content-type", "application/json");
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        req.body(body).send().await.expect("post webhook").status().as_u16()
    }

    pub async fn post_signed(&self, body: Vec<u8>) -> u16 {
        let sig = coexist_bridge::sign_webhook(SECRET, &body);
        self.post_webhook(body, Some(sig)).await
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.http.get(format!("{}{path}", self.url)).bearer_auth(&self.token).send().await.expect("get");
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.expect("json")
    }

    /// Every relay entry after `after`, page by page.
    pub async fn events_after(&self, mut after: i64) -> Vec<RelayEvent> {
        let mut all = Vec::new();
        loop {
            let page = self.get_json(&format!("/v1/events?after={after}&limit=500&wait=0")).await;
            let events: Vec<RelayEvent> = serde_json::from_value(page["events"].clone()).expect("relay events");
            if events.is_empty() {
                return all;
            }
            after = events.last().expect("non-empty").seq;
            all.extend(events);
        }
    }

    /// Syncs a desktop store from the bridge, as the desktop engine does.
    pub async fn sync_into(&self, store: &mut Store) {
        let events = self.events_after(store.cursor().expect("cursor")).await;
        for chunk in events.chunks(100) {
            store.apply_relay_batch(chunk).expect("apply batch");
        }
    }
}

/// A `messages` webhook with one customer text message.
pub fn inbound_text(wamid: &str, from: &str, name: &str, timestamp: i64, text: &str) -> Vec<u8> {
    envelope("messages", json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE},
        "contacts": [{"profile": {"name": name}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": timestamp.to_string(), "type": "text", "text": {"body": text}}]
    }))
}

/// An `smb_message_echoes` webhook: the Business App on the phone replied.
pub fn app_echo(wamid: &str, to: &str, timestamp: i64, text: &str) -> Vec<u8> {
    envelope("smb_message_echoes", json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE},
        "message_echoes": [{"from": "15550100", "to": to, "id": wamid, "timestamp": timestamp.to_string(), "type": "text", "text": {"body": text}}]
    }))
}

/// A `statuses` webhook for an outbound message.
pub fn status(wamid: &str, recipient: &str, status: &str, timestamp: i64) -> Vec<u8> {
    envelope("messages", json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE},
        "statuses": [{"id": wamid, "status": status, "timestamp": timestamp.to_string(), "recipient_id": recipient}]
    }))
}

pub fn envelope(field: &str, value: Value) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": field, "value": value}]}]})
        .to_string()
        .into_bytes()
}
