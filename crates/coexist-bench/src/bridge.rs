//! Starts the real bridge in-process for the benchmarks.

use std::net::SocketAddr;

use coexist_bridge::{BridgeConfig, DatabaseLocation};

/// The bridge on `db` (an SQLite file or a Postgres URL).
pub async fn start(db: impl Into<DatabaseLocation>, app_secret: &str) -> anyhow::Result<SocketAddr> {
    start_with_graph(db, app_secret, "http://127.0.0.1:9").await
}

pub async fn start_with_graph(db: impl Into<DatabaseLocation>, app_secret: &str, graph_url: &str) -> anyhow::Result<SocketAddr> {
    let mut config = BridgeConfig::new(db);
    config.app_secret = app_secret.into();
    config.verify_token = "bench".into();
    config.access_token = "bench-token".into();
    config.graph_url = graph_url.into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let running = coexist_bridge::start(config, listener).await?;
    let addr = running.addr;
    // The bridge runs until the process ends.
    std::mem::forget(running);
    Ok(addr)
}
