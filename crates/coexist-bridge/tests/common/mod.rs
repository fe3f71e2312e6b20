//! Test harness: a real bridge on 127.0.0.1:0 over a temp SQLite file, and a tiny fake Graph API.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use coexist_bridge::{admin, BridgeConfig, RunningBridge, Role};
use coexist_core::{NumberMode, NumberSettings};
use serde_json::{json, Value};

pub const SECRET: &str = "test-app-secret";
pub const VERIFY: &str = "test-verify-token";
pub const ACCESS: &str = "EAAG-test-access-token";
pub const NUMBER: &str = "106540352242922";
pub const WABA: &str = "102290129340398";

pub struct Harness {
    pub bridge: Option<RunningBridge>,
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub base: String,
    pub http: reqwest::Client,
    pub admin: String,
    pub agent: String,
    pub manager: String,
}

impl Harness {
    /// A bridge with one admin, agent and manager, talking to `graph_url`.
    pub async fn start(graph_url: Option<String>, tweak: impl FnOnce(&mut BridgeConfig)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bridge.db");
        let mut config = BridgeConfig::new(&db);
        config.app_secret = SECRET.into();
        config.verify_token = VERIFY.into();
        config.access_token = ACCESS.into();
        config.graph_url = graph_url.unwrap_or_else(|| "http://127.0.0.1:9".into());
        config.retry_base_delay = Duration::from_millis(20);
        config.retry_max_delay = Duration::from_millis(100);
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bridge = coexist_bridge::start(config, listener).await.unwrap();
        let base = format!("http://{}", bridge.addr);
        Harness {
            admin: admin::add_user(&db, "root", Role::Admin).unwrap(),
            agent: admin::add_user(&db, "ana", Role::Agent).unwrap(),
            manager: admin::add_user(&db, "max", Role::Manager).unwrap(),
            bridge: Some(bridge),
            dir,
            db,
            base,
            http: reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap(),
        }
    }

    pub fn add_number(&self, mode: NumberMode, tier_mps: u32) {
        admin::add_number(
            &self.db,
            NumberSettings {
                phone_number_id: NUMBER.into(),
                waba_id: WABA.into(),
                display_number: "+14155550100".into(),
                mode,
                tier_mps,
            },
        )
        .unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_webhook(&self, body: &str) -> reqwest::Response {
        self.http
            .post(self.url("/webhook"))
            .header("x-hub-signature-256", coexist_bridge::sign_webhook(SECRET, body.as_bytes()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn events(&self, after: i64) -> Vec<Value> {
        let (s, page) = self.get_json(&format!("/v1/events?after={after}&limit=1000"), &self.agent).await;
        assert_eq!(s, 200, "{page}");
        page["events"].as_array().unwrap().clone()
    }

    pub async fn send(&self, token: &str, key: Option<&str>, message: &Value) -> (u16, Value) {
        let mut req = self.http.post(self.url(&format!("/v1/numbers/{NUMBER}/messages"))).bearer_auth(token).json(message);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn shutdown(mut self) {
        if let Some(b) = self.bridge.take() {
            b.shutdown().await;
        }
    }
}

/// A `messages` webhook Meta would send, unique by `n`.
pub fn webhook_body(n: u64) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "14155550100", "phone_number_id": NUMBER},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "15551234567"}],
            "messages": [{"from": "15551234567", "id": format!("wamid.in.{n}"), "timestamp": "1700000000",
                          "type": "text", "text": {"body": format!("hello {n}")}}]
        }}]}]
    })
    .to_string()
}

pub fn text_message(to: &str, text: &str) -> Value {
    json!({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}})
}

/// One call the fake Graph API received.
#[derive(Clone, Debug)]
pub struct Call {
    pub at: Instant,
    pub path: String,
    pub body: Value,
    pub auth: Option<String>,
}

#[derive(Default)]
pub struct FakeState {
    pub calls: Mutex<Vec<Call>>,
    /// Answers for the next `/messages` calls; empty means success.
    pub script: Mutex<VecDeque<(u16, Value)>>,
    pub templates: Mutex<Vec<Value>>,
    /// The number's block list, as the fake's block and unblock calls left it.
    pub blocked: Mutex<Vec<String>>,
    pub page_size: AtomicU64,
    pub addr: Mutex<String>,
    counter: AtomicU64,
    /// Artificial latency per send, to make concurrent duplicates overlap.
    pub delay_ms: AtomicU64,
    /// How many upcoming sends stall for 5 s (to trigger the bridge's timeout).
    pub stall_next: AtomicU64,
}

impl FakeState {
    /// Keep the call, with the token it came with.
    fn record(&self, at: Instant, path: String, headers: &HeaderMap, body: Value) {
        let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
        self.calls.lock().unwrap().push(Call { at, path, body, auth });
    }

    /// The next scripted answer, if any.
    fn scripted(&self) -> Option<(StatusCode, Json<Value>)> {
        let (status, answer) = self.script.lock().unwrap().pop_front()?;
        Some((StatusCode::from_u16(status).unwrap(), Json(answer)))
    }
}

pub struct FakeGraph {
    pub url: String,
    pub state: Arc<FakeState>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let state = Arc::new(FakeState::default());
        state.page_size.store(2, Ordering::SeqCst);
        let app = Router::new()
            .route("/{version}/{id}/messages", post(fake_send))
            .route("/{version}/{waba}/message_templates", get(fake_templates).post(fake_create_template))
            .route("/{version}/{id}/block_users", post(fake_block).delete(fake_block).get(fake_blocked))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        *state.addr.lock().unwrap() = url.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeGraph { url, state }
    }

    pub fn script(&self, answers: Vec<(u16, Value)>) {
        self.state.script.lock().unwrap().extend(answers);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    pub fn sends(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.path.ends_with("/messages")).collect()
    }
}

async fn fake_send(
    State(s): State<Arc<FakeState>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let at = Instant::now();
    s.record(at, format!("/{version}/{id}/messages"), &headers, body.clone());
    if s.stall_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if let Some(scripted) = s.scripted() {
        return scripted;
    }
    let n = s.counter.fetch_add(1, Ordering::SeqCst);
    let to = body["to"].as_str().unwrap_or_default().to_string();
    (
        StatusCode::OK,
        Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": format!("wamid.out.{n}")}]})),
    )
}

/// Meta's Block Users API: answers from the script, else blocks (or unblocks) everyone asked.
/// The call is recorded with its method in front of the path (`POST /v21.0/…/block_users`).
async fn fake_block(
    State(s): State<Arc<FakeState>>,
    method: axum::http::Method,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    s.record(Instant::now(), format!("{method} /{version}/{id}/block_users"), &headers, body.clone());
    if let Some(scripted) = s.scripted() {
        return scripted;
    }
    let users: Vec<Value> =
        body["block_users"].as_array().unwrap().iter().map(|u| json!({"input": u["user"], "wa_id": u["user"]})).collect();
    let mut blocked = s.blocked.lock().unwrap();
    for u in &users {
        let wa_id = u["wa_id"].as_str().unwrap().to_string();
        blocked.retain(|b| *b != wa_id);
        if method == axum::http::Method::POST {
            blocked.push(wa_id);
        }
    }
    let list = if method == axum::http::Method::POST { "added_users" } else { "removed_users" };
    (StatusCode::OK, Json(json!({"messaging_product": "whatsapp", "block_users": {list: users}})))
}

async fn fake_templates(
    State(s): State<Arc<FakeState>>,
    Path((version, waba)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let all = s.templates.lock().unwrap().clone();
    Json(paged(&s, &format!("/{version}/{waba}/message_templates"), &headers, &q, all))
}

/// `POST /{version}/{waba}/message_templates`: answers from the script, else takes the template
/// into the catalog as `PENDING`.
async fn fake_create_template(
    State(s): State<Arc<FakeState>>,
    Path((version, waba)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    s.record(Instant::now(), format!("POST /{version}/{waba}/message_templates"), &headers, body.clone());
    if let Some(scripted) = s.scripted() {
        return scripted;
    }
    let mut templates = s.templates.lock().unwrap();
    let id = format!("9{}", templates.len());
    let mut created = body.clone();
    created["id"] = json!(id);
    created["status"] = json!("PENDING");
    templates.push(created);
    (StatusCode::OK, Json(json!({"id": id, "status": "PENDING", "category": body["category"]})))
}

/// `GET /{version}/{id}/block_users`: the block list, paged like the templates.
async fn fake_blocked(
    State(s): State<Arc<FakeState>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let all = s.blocked.lock().unwrap().iter().map(|w| json!({"messaging_product": "whatsapp", "wa_id": w})).collect();
    Json(paged(&s, &format!("/{version}/{id}/block_users"), &headers, &q, all))
}

/// One page of `all` at `path` (`page_size` items, cursors `curN`, a `next` link while there is
/// more); the call is recorded with its cursor.
fn paged(s: &FakeState, path: &str, headers: &HeaderMap, q: &std::collections::HashMap<String, String>, all: Vec<Value>) -> Value {
    let after = q.get("after").map(String::as_str).unwrap_or("");
    s.record(Instant::now(), format!("{path}?{after}"), headers, Value::Null);
    let size = s.page_size.load(Ordering::SeqCst) as usize;
    let start: usize = q.get("after").map(|a| a.trim_start_matches("cur").parse().unwrap()).unwrap_or(0);
    let end = (start + size).min(all.len());
    let mut paging = json!({"cursors": {"before": format!("cur{start}"), "after": format!("cur{end}")}});
    if end < all.len() {
        let addr = s.addr.lock().unwrap().clone();
        paging["next"] = json!(format!("{addr}{path}?limit={size}&after=cur{end}"));
    }
    json!({"data": all[start..end].to_vec(), "paging": paging})
}

/// A fresh database of its own on the Postgres server the test script starts
/// (`COEXIST_TEST_POSTGRES`, a superuser URL). `None` (the Postgres half skipped, said on stderr)
/// when the variable is unset, unless `COEXIST_REQUIRE_POSTGRES=1`: then it panics.
pub struct ScratchPostgres {
    pub url: String,
    admin_url: String,
    name: String,
}

impl ScratchPostgres {
    pub async fn create(purpose: &str) -> Option<ScratchPostgres> {
        let Ok(admin_url) = std::env::var("COEXIST_TEST_POSTGRES") else {
            assert!(
                std::env::var("COEXIST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "COEXIST_TEST_POSTGRES is unset: run ./scripts/test-postgres.sh and export the URL it prints"
            );
            eprintln!("skipped the Postgres half: set COEXIST_TEST_POSTGRES (./scripts/test-postgres.sh prints it)");
            return None;
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("coexist_{purpose}_{}_{nanos}", std::process::id());
        Self::admin(&admin_url).await.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
        let base = admin_url.rsplit_once('/').expect("a URL ending in /database").0;
        Some(ScratchPostgres { url: format!("{base}/{name}"), admin_url, name })
    }

    /// Best effort: a test that failed leaves its database for a look.
    pub async fn drop_database(self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = Self::admin(&self.admin_url).await.batch_execute(&sql).await;
    }

    async fn admin(url: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("the test Postgres server");
        tokio::spawn(connection);
        client
    }
}
