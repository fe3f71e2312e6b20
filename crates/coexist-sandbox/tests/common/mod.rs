//! Test harness: a sandbox on 127.0.0.1:0 wired to a small axum receiver that verifies every
//! webhook's `X-Hub-Signature-256` and can be told to fail.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use coexist_sandbox::{RunningSandbox, SandboxConfig};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

pub const SECRET: &str = "test-app-secret";
pub const TOKEN: &str = "test-token";

#[derive(Default)]
pub struct Inbox {
    pub bodies: Mutex<Vec<Value>>,
    pub raw: Mutex<Vec<String>>,
    /// Requests whose signature did not verify (should stay 0).
    pub bad_signatures: AtomicUsize,
    /// Answer HTTP 500 to this many requests before accepting.
    pub fail_next: AtomicUsize,
    pub requests: AtomicUsize,
}

fn verify(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inbox.requests.fetch_add(1, Ordering::SeqCst);
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !verify(SECRET, &body, sig) {
        inbox.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    if inbox.fail_next.load(Ordering::SeqCst) > 0 {
        inbox.fail_next.fetch_sub(1, Ordering::SeqCst);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    inbox
        .raw
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into_owned());
    inbox
        .bodies
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).expect("webhook body is JSON"));
    StatusCode::OK
}

pub struct Harness {
    pub sandbox: RunningSandbox,
    pub inbox: Arc<Inbox>,
    pub http: reqwest::Client,
}

pub async fn receiver() -> (String, Arc<Inbox>) {
    let inbox = Arc::new(Inbox::default());
    let app = Router::new()
        .route("/webhook", post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/webhook"), inbox)
}

pub fn config() -> SandboxConfig {
    let mut c = SandboxConfig::new(SECRET, TOKEN);
    c.status_delays.sent = Duration::from_millis(5);
    c.status_delays.delivered = Duration::from_millis(20);
    c.status_delays.read = Duration::from_millis(40);
    c.retry_initial = Duration::from_millis(20);
    c.retry_max = Duration::from_millis(200);
    c
}

pub async fn start_with(mut config: SandboxConfig) -> Harness {
    let (url, inbox) = receiver().await;
    config.webhook_url = Some(url);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = coexist_sandbox::start(config, listener).await.unwrap();
    Harness {
        sandbox,
        inbox,
        http: reqwest::Client::new(),
    }
}

pub async fn start() -> Harness {
    start_with(config()).await
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sandbox.url(), path)
    }

    pub fn messages_url(&self) -> String {
        self.url(&format!("/v21.0/{}/messages", self.sandbox.phone_number_id))
    }

    /// POST a Graph send with the right token; returns (HTTP status, body).
    pub async fn send(&self, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.messages_url())
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A customer writes in; returns the wamid.
    pub async fn customer_says(&self, from: &str, text: &str, timestamp: Option<i64>) -> String {
        let mut body =
            serde_json::json!({"from": from, "name": "Ana", "type": "text", "text": text});
        if let Some(ts) = timestamp {
            body["timestamp"] = ts.into();
        }
        let (status, v) = self.control("/sandbox/customers/messages", body).await;
        assert_eq!(status, 200, "{v}");
        v["wamid"].as_str().unwrap().to_string()
    }

    /// Received webhook bodies so far.
    pub fn received(&self) -> Vec<Value> {
        self.inbox.bodies.lock().unwrap().clone()
    }

    /// Wait (up to 10 s) until a received webhook satisfies `pred`; returns it.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) = self.received().into_iter().find(|v| pred(v)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; got {:#?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Wait for the status `status` of message `wamid`; returns the status object.
    pub async fn status_of(&self, wamid: &str, status: &str) -> Value {
        let v = self
            .wait_for(&format!("{status} status of {wamid}"), |v| {
                let s = &v["entry"][0]["changes"][0]["value"]["statuses"][0];
                s["id"] == wamid && s["status"] == status
            })
            .await;
        v["entry"][0]["changes"][0]["value"]["statuses"][0].clone()
    }
}

pub fn value_of(webhook: &Value) -> &Value {
    &webhook["entry"][0]["changes"][0]["value"]
}

pub fn field_of(webhook: &Value) -> &str {
    webhook["entry"][0]["changes"][0]["field"]
        .as_str()
        .unwrap_or("")
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn text(to: &str, body: &str) -> Value {
    serde_json::json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": {"body": body}})
}
