//! Coexist bridge: the team's cloud webhook bridge.
//!
//! Meta webhooks (HMAC-verified) are committed durably to an event log before the 200, and
//! relayed to desktops by long-poll (`/v1/events`) and SSE (`/v1/stream`) with gap-free seqs.
//! Agents' sends go through `/v1/numbers/{id}/messages`: the bridge alone holds the access
//! token, applies one rate limit per number for all agents, retries transient failures, and
//! makes every send idempotent. See `API.md` for the HTTP API.
//!
//! In-process use (desktop demo, tests):
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let mut config = coexist_bridge::BridgeConfig::new("/tmp/bridge.db");
//! config.app_secret = "secret".into();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let bridge = coexist_bridge::start(config, listener).await?;
//! let token = coexist_bridge::admin::add_user("/tmp/bridge.db", "ana", coexist_bridge::Role::Agent)?;
//! println!("http://{} {token}", bridge.addr);
//! bridge.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin;
mod admin_http;
pub mod auth;
mod block;
pub mod config;
pub mod database;
pub mod db;
mod envelope;
mod error;
pub mod graph;
mod idempotency;
mod json_body;
mod media;
mod quick_replies;
mod read;
pub mod limiter;
pub mod metrics;
pub mod numbers;
pub mod relay;
mod send;
pub mod server;
mod templates;
mod team;
pub mod webhook;
pub mod writer;

pub use auth::Role;
pub use config::BridgeConfig;
pub use database::DatabaseLocation;
pub use db::{postgres::PostgresDb, sqlite::SqliteDb, Database};
pub use numbers::NumberInput;
pub use relay::EventsPage;
pub use server::{start, start_with_db, RunningBridge};
pub use webhook::sign as sign_webhook;

use sha2::{Digest, Sha256};

/// Now in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
