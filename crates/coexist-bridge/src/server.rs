//! Wiring: the router, the shared state, start and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header::CONTENT_TYPE, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::config::BridgeConfig;
use crate::db::Database;
use crate::graph::Graph;
use crate::idempotency::KeyLocks;
use crate::limiter::Limiters;
use crate::metrics::Metrics;
use crate::writer::Writer;
use crate::{admin_http, block, media, quick_replies, read, relay, send, team, templates, webhook};

/// Everything a handler needs. One reference count to clone: axum clones it for every request.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub config: Arc<BridgeConfig>,
    pub db: Arc<dyn Database>,
    pub writer: Writer,
    pub graph: Graph,
    pub limiters: Arc<Limiters>,
    pub key_locks: Arc<KeyLocks>,
    pub metrics: Arc<Metrics>,
    /// Flips to true on shutdown: long-polls answer and SSE streams end, so the server can
    /// finish in-flight requests and stop.
    pub shutdown: watch::Receiver<bool>,
    /// Who is writing to which customer now, for every open event stream (not stored).
    pub presence: tokio::sync::broadcast::Sender<coexist_core::Presence>,
}

/// A bridge serving in a background task.
pub struct RunningBridge {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl RunningBridge {
    /// Stops accepting connections, finishes in-flight requests (ends streams), drains the
    /// writer, and returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        self.wait().await;
    }

    /// Waits until the server stops (after [`RunningBridge::shutdown`] or a fatal error).
    pub async fn wait(self) {
        if let Err(e) = self.server.await {
            tracing::error!(error = %e, "server task failed");
        }
        if tokio::time::timeout(Duration::from_secs(10), self.writer).await.is_err() {
            tracing::warn!("event log writer did not stop within 10 s");
        }
    }

    /// A handle that triggers shutdown from elsewhere (e.g. a signal handler).
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Opens the event log at `config.database` (SQLite or Postgres) and serves on `listener`.
pub async fn start(config: BridgeConfig, listener: TcpListener) -> Result<RunningBridge> {
    let db = config.database.open().await?;
    tracing::info!(database = %config.database, "event log open");
    start_with_db(config, db, listener).await
}

/// Serves with any [`Database`] backend.
pub async fn start_with_db(config: BridgeConfig, db: Arc<dyn Database>, listener: TcpListener) -> Result<RunningBridge> {
    let missing = config.missing_secrets();
    if !missing.is_empty() {
        tracing::warn!(missing = ?missing, "bridge starts without some secrets; those features will refuse requests");
    }
    let addr = listener.local_addr()?;
    let last_seq = db.last_seq().await.context("reading the event log")?;
    let (writer, writer_task) = Writer::spawn(db.clone(), last_seq);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let state = AppState(Arc::new(Shared {
        graph: Graph::new(&config)?,
        limiters: Arc::new(Limiters::new(config.limiter_guard)),
        config: Arc::new(config),
        db,
        writer,
        key_locks: Arc::new(KeyLocks::default()),
        metrics: Arc::new(Metrics::default()),
        shutdown: shutdown_rx.clone(),
        presence: tokio::sync::broadcast::channel(crate::team::PRESENCE_BACKLOG).0,
    }));
    if let (Some(every), false) = (state.config.block_check, state.config.access_token.is_empty()) {
        crate::block::check_periodically(state.clone(), every);
    }
    let app = router(state);
    let mut stop = shutdown_rx;
    let server = tokio::spawn(async move {
        let signal = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(signal).await {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    tracing::info!(%addr, last_seq, "coexist-bridge serving");
    Ok(RunningBridge { addr, shutdown: shutdown_tx, server, writer: writer_task })
}

pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/me", get(admin_http::me))
        .route("/numbers", get(admin_http::numbers))
        .route("/events", get(relay::events))
        .route("/stream", get(relay::stream))
        .route("/numbers/{id}/messages", post(send::send))
        .route("/numbers/{id}/read", post(read::mark_read))
        .route("/team", get(team::members))
        .route("/quick-replies/{shortcut}", put(quick_replies::save).delete(quick_replies::remove))
        .route("/numbers/{id}/conversations/{contact}/assignee", put(team::assign))
        .route("/numbers/{id}/conversations/{contact}/notes", post(team::add_note))
        .route("/numbers/{id}/conversations/{contact}/done", put(team::mark_done))
        .route("/numbers/{id}/conversations/{contact}/labels", put(team::label))
        .route("/numbers/{id}/conversations/{contact}/blocked", put(block::set_blocked))
        .route("/numbers/{id}/conversations/{contact}/presence", post(team::presence))
        .route("/numbers/{id}/blocked", get(block::list_blocked))
        .route("/numbers/{id}/templates", post(templates::submit))
        .route("/numbers/{id}/templates/sync", post(templates::sync))
        .route("/media/{id}", get(media::get))
        .route("/numbers/{id}/media", post(media::upload).layer(DefaultBodyLimit::max(media::MAX_MEDIA_BYTES)))
        .route("/admin/users", get(admin_http::users).post(admin_http::add_user))
        .route("/admin/users/{name}", delete(admin_http::revoke_user))
        .route("/admin/numbers", get(admin_http::admin_numbers).post(admin_http::add_number))
        .route("/admin/numbers/{id}", put(admin_http::edit_number))
        .route("/admin/quarantine", get(admin_http::quarantine));
    Router::new()
        .route("/webhook", get(webhook::verify).post(webhook::receive))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .nest("/v1", v1)
        // Spans name the method and path only: the query may hold hub.verify_token.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.last_seq().await {
        Ok(seq) => (StatusCode::OK, format!("ok last_seq={seq}\n")),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("event log unavailable: {e}\n")),
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let last_seq = *state.writer.subscribe().borrow();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(last_seq, state.writer.stats()))
}
