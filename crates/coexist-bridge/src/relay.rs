//! Relaying the event log to desktops: long-poll `GET /v1/events` and SSE `GET /v1/stream`.
//!
//! Both resume strictly after a seq the client already has. Seqs are gap-free and committed
//! in order by the single writer, so "everything with seq > after, ascending" never skips or
//! repeats an event across reconnects. Waiting uses the writer's `watch` of the last seq,
//! subscribed *before* querying so a commit between query and wait still wakes us; a 1 s
//! re-check also picks up events another process (the CLI) appended to the same file.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use coexist_core::RelayEvent;
use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::server::AppState;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
const RECHECK: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
    #[serde(default)]
    wait: f64,
}

#[derive(Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<RelayEvent>,
    /// Pass as `after` next time: the last seq returned, or `after` when there was none.
    pub next: i64,
    /// The newest seq in the log when the page was read: `last_seq - next` entries are still to
    /// come (a desktop catching up shows its progress with it).
    pub last_seq: i64,
}

/// `GET /v1/events?after=SEQ&limit=N&wait=SECONDS`.
pub async fn events(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<EventsQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    if q.after < 0 || !q.wait.is_finite() || q.wait < 0.0 {
        return Err(ApiError::bad_request("after and wait must be zero or positive"));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let wait = Duration::from_secs_f64(q.wait.min(state.config.max_long_poll.as_secs_f64()));
    let deadline = Instant::now() + wait;
    let mut seq_rx = state.writer.subscribe();
    let mut shutdown = state.shutdown.clone();
    loop {
        seq_rx.borrow_and_update();
        let events = state.db.events_after(q.after, limit).await?;
        let now = Instant::now();
        if !events.is_empty() || now >= deadline || *shutdown.borrow() {
            let next = events.last().map_or(q.after, |e| e.seq);
            state.metrics.relayed(events.iter().map(|e| e.received_at_ms), next);
            // From the file, not the writer's watch: another process (the CLI) may append too.
            let last_seq = state.db.last_seq().await?.max(next);
            return Ok(Json(EventsPage { events, next, last_seq }));
        }
        let nap = (deadline - now).min(RECHECK);
        tokio::select! {
            _ = seq_rx.changed() => {}
            _ = shutdown.changed() => {}
            _ = tokio::time::sleep(nap) => {}
        }
    }
}

#[derive(Deserialize)]
pub struct StreamQuery {
    #[serde(default)]
    after: i64,
}

/// `GET /v1/stream?after=SEQ` as Server-Sent Events: `id` = seq, `data` = the RelayEvent JSON.
/// A `Last-Event-ID` header (sent by EventSource on reconnect) takes precedence over `after`.
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let after = match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|s| *s >= 0)
            .ok_or_else(|| ApiError::bad_request("Last-Event-ID must be a seq (a non-negative integer)"))?,
        None => q.after,
    };
    if after < 0 {
        return Err(ApiError::bad_request("after must be zero or positive"));
    }
    Ok(Sse::new(event_stream(state, caller, after)).keep_alive(KeepAlive::default()))
}

/// Still allowed to read? A revoked token ends its open streams within about a second.
async fn still_allowed(state: &AppState, caller: &Caller) -> bool {
    matches!(state.db.user_by_token_hash(&caller.token_hash).await, Ok(Some(_)))
}

fn event_stream(state: AppState, caller: Caller, mut after: i64) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    async_stream::stream! {
        let mut seq_rx = state.writer.subscribe();
        let mut presence_rx = state.presence.subscribe();
        let mut shutdown = state.shutdown.clone();
        let mut checked = Instant::now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            if checked.elapsed() >= RECHECK {
                if !still_allowed(&state, &caller).await {
                    tracing::info!(name = %caller.name, "token revoked; closing its event stream");
                    break;
                }
                checked = Instant::now();
            }
            seq_rx.borrow_and_update();
            let events = match state.db.events_after(after, MAX_LIMIT).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "SSE stream could not read the event log; closing it");
                    break;
                }
            };
            if events.is_empty() {
                tokio::select! {
                    _ = seq_rx.changed() => {}
                    _ = shutdown.changed() => {}
                    _ = tokio::time::sleep(RECHECK) => {}
                    notice = presence_rx.recv() => {
                        // Lagged: the skipped notices are stale anyway.
                        if let Ok(notice) = notice {
                            let data = serde_json::to_string(&notice).expect("Presence serializes");
                            yield Ok(SseEvent::default().event("presence").data(data));
                        }
                    }
                }
                continue;
            }
            for ev in &events {
                let data = serde_json::to_string(ev).expect("RelayEvent serializes");
                yield Ok(SseEvent::default().id(ev.seq.to_string()).data(data));
            }
            after = events.last().map_or(after, |e| e.seq);
            state.metrics.relayed(events.iter().map(|e| e.received_at_ms), after);
        }
    }
}
