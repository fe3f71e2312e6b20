//! Shared helpers: the REAL sandbox and the REAL bridge started in-process on loopback
//! (through `coexist_engine::demo`), and engines over fresh SQLite files.
#![allow(dead_code)]

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use coexist_core::{ContactKey, ConversationKey};
use coexist_engine::demo::{start_demo_with, DemoHandle, DemoOptions};
use coexist_engine::{CollectingNotifier, Engine, EngineConfig, SyncMode};
use serde_json::{json, Value};

pub struct Stack {
    pub demo: DemoHandle,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

/// A quiet demo stack (no scripted scenario), fast statuses.
pub async fn stack() -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions { scenario: None, ..Default::default() };
    let demo = start_demo_with(dir.path(), options).await.expect("demo stack starts");
    Stack { demo, dir, http: reqwest::Client::new() }
}

impl Stack {
    pub fn engine(&self, name: &str, mode: SyncMode) -> (Engine, CollectingNotifier) {
        self.engine_at(&self.dir.path().join(format!("{name}.db")), mode)
    }

    pub fn engine_at(&self, db: &Path, mode: SyncMode) -> (Engine, CollectingNotifier) {
        self.engine_with(db, |config| config.sync.mode = mode)
    }

    /// An engine whose sync settings `adjust` changes (after the tests' defaults).
    pub fn engine_with(&self, db: &Path, adjust: impl FnOnce(&mut EngineConfig)) -> (Engine, CollectingNotifier) {
        let notifier = CollectingNotifier::default();
        let mut config = EngineConfig::new(&self.demo.bridge_url, &self.demo.token);
        config.sync.wait_secs = 2;
        adjust(&mut config);
        let engine = Engine::open(db, config, Arc::new(notifier.clone())).expect("engine opens");
        (engine, notifier)
    }

    pub fn conversation(&self, contact: &str) -> ConversationKey {
        ConversationKey { phone_number_id: self.demo.phone_number_id.clone(), contact: ContactKey(contact.to_string()) }
    }

    /// A customer writes (emits a signed `messages` webhook to the bridge). Returns the wamid.
    pub async fn customer_says(&self, from: &str, name: &str, text: &str, timestamp: Option<i64>) -> String {
        let mut body = json!({"from": from, "name": name, "type": "text", "text": text});
        if let Some(ts) = timestamp {
            body["timestamp"] = json!(ts);
        }
        let v = self.control("/sandbox/customers/messages", body).await;
        v["wamid"].as_str().expect("sandbox answers a wamid").to_string()
    }

    /// The Business App on the phone replies (an `smb_message_echoes` webhook).
    pub async fn app_says(&self, to: &str, text: &str) -> Value {
        self.control("/sandbox/app/messages", json!({"to": to, "text": text})).await
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let resp = self.http.post(format!("{}{path}", self.demo.sandbox_url)).json(&body).send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path} answered {status}: {v}");
        v
    }

    /// Every Graph send the sandbox accepted.
    pub async fn sent(&self) -> Vec<Value> {
        let v: Value = self.http.get(format!("{}/sandbox/sent", self.demo.sandbox_url)).send().await.unwrap().json().await.unwrap();
        v["sent"].as_array().cloned().unwrap_or_default()
    }
}

/// Poll `check` until it returns Some, or panic after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {secs}s waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sync until the conversation exists in the engine's store.
pub async fn sync_until_conversation(engine: &Engine, key: &ConversationKey) {
    eventually(15, "the conversation to reach the inbox", || async {
        engine.sync_once().await.expect("sync works");
        let store = engine.store().lock().unwrap();
        store.conversation(key, now()).unwrap().map(|_| ())
    })
    .await
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
