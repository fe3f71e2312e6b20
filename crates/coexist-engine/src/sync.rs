//! The sync loop: relay events from the bridge into the local store, from the store's cursor.
//!
//! Every batch goes through `Store::apply_relay_batch` (one transaction, idempotent per seq),
//! so a crash or a dropped connection never loses or doubles anything: we always resume from
//! the cursor the store committed. Reconnects back off exponentially with jitter.

use std::sync::Arc;
use std::time::Duration;

use coexist_core::{ConversationKey, Presence, RelayEvent};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::backoff::Backoff;
use crate::catch_up::{CatchUp, SHOW_PROGRESS_OVER};
use crate::client::{EventsPage, StreamItem};
use crate::decide;
use crate::events::{ConnectionState, EngineEvent};
use crate::shared::{now_secs, Shared};
use crate::EngineError;

/// How to follow the bridge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// `GET /v1/events?wait=..` in a loop: works through any proxy.
    LongPoll,
    /// `GET /v1/stream` (Server-Sent Events): lowest latency.
    #[default]
    Stream,
}

#[derive(Clone, Debug)]
pub struct SyncConfig {
    pub mode: SyncMode,
    /// Relay entries per long-poll page (the bridge serves at most 1,000).
    pub page_size: u32,
    /// Long-poll wait, seconds.
    pub wait_secs: u32,
    /// The most relay entries applied in one transaction. Live traffic goes in as it arrives;
    /// a backlog (pulled as pages, also in stream mode, before the stream is followed) is
    /// gathered up to this many, because each transaction rewrites the index pages its
    /// conversations share (see `coexist_store::BACKLOG_BATCH`).
    pub max_batch: usize,
    /// Backlogs of more entries than this are announced as `ConnectionState::CatchingUp`.
    pub show_progress_over: i64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            mode: SyncMode::Stream,
            page_size: 1_000,
            wait_secs: 25,
            max_batch: coexist_store::BACKLOG_BATCH,
            show_progress_over: SHOW_PROGRESS_OVER,
        }
    }
}

/// What one `sync_once` did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    pub applied: usize,
    pub cursor: i64,
    pub new_inbound: usize,
    pub problems: Vec<i64>,
}

#[derive(Clone)]
pub struct Syncer {
    shared: Arc<Shared>,
    config: SyncConfig,
}

impl Syncer {
    pub(crate) fn new(shared: Arc<Shared>, config: SyncConfig) -> Self {
        Syncer { shared, config }
    }

    /// Pull everything the bridge has after our cursor, apply it, and return (the CLI's `sync --once`).
    pub async fn sync_once(&self) -> Result<SyncReport, EngineError> {
        self.drain(None).await
    }

    /// Apply pages from our cursor until the bridge has nothing newer, gathered into large
    /// batches. In the sync loop (`live`), also mark the bridge reachable and announce a large
    /// backlog's progress.
    async fn drain(&self, mut live: Option<(&mut Backoff, &mut Option<ConnectionState>)>) -> Result<SyncReport, EngineError> {
        let mut report = SyncReport { cursor: self.shared.store().cursor()?, ..Default::default() };
        let mut catch_up: Option<CatchUp> = None;
        loop {
            let page = self.shared.client.events(report.cursor, self.config.page_size, 0).await?;
            let catch_up =
                catch_up.get_or_insert_with(|| CatchUp::new(report.cursor, page.last_seq, self.config.show_progress_over));
            if let Some((backoff, state)) = live.as_mut() {
                self.online(backoff, state);
            }
            if page.events.is_empty() {
                return Ok(report);
            }
            let (events, last_seq) = self.gather(page).await?;
            catch_up.extend(last_seq);
            if let Some((_, state)) = live.as_mut() {
                self.set_state(state, catch_up.state(report.cursor));
            }
            let applied = self.apply(events).await?;
            report.applied += applied.applied;
            report.new_inbound += applied.new_inbound.len();
            report.problems.extend(applied.problems.iter().copied());
            report.cursor = applied.cursor;
            if let Some((_, state)) = live.as_mut() {
                self.set_state(state, catch_up.state(report.cursor));
            }
        }
    }

    /// Follow the bridge forever (abort the task to stop). Publishes connection state changes.
    pub async fn run(&self) {
        let mut backoff = Backoff::reconnect();
        let mut last_state: Option<ConnectionState> = None;
        loop {
            let result = match self.config.mode {
                SyncMode::LongPoll => self.follow_long_poll(&mut backoff, &mut last_state).await,
                SyncMode::Stream => self.follow_stream(&mut backoff, &mut last_state).await,
            };
            let reason = match result {
                Ok(()) => "the bridge closed the connection".to_string(),
                Err(e) => e.to_string(),
            };
            tracing::warn!(%reason, "sync interrupted");
            self.set_state(&mut last_state, ConnectionState::Offline { reason });
            let delay = backoff.next_delay();
            let attempt = backoff.attempts();
            self.set_state(&mut last_state, ConnectionState::Reconnecting { attempt, delay_ms: delay.as_millis() as u64 });
            tokio::time::sleep(delay).await;
        }
    }

    async fn follow_long_poll(&self, backoff: &mut Backoff, state: &mut Option<ConnectionState>) -> Result<(), EngineError> {
        loop {
            let cursor = self.drain(Some((&mut *backoff, &mut *state))).await?.cursor;
            // Caught up: wait for what comes next.
            let page = self.shared.client.events(cursor, self.config.page_size, self.config.wait_secs).await?;
            if !page.events.is_empty() {
                let (events, _) = self.gather(page).await?;
                self.apply(events).await?;
            }
        }
    }

    async fn follow_stream(&self, backoff: &mut Backoff, state: &mut Option<ConnectionState>) -> Result<(), EngineError> {
        // A backlog goes in faster as pages gathered into large batches than as the stream's
        // trickle (whatever arrived while the last batch was applied): drain it first.
        let cursor = self.drain(Some((backoff, state))).await?.cursor;
        let stream = self.shared.client.stream(cursor).await?;
        let mut batches = Box::pin(stream.ready_chunks(self.config.max_batch.max(1)));
        while let Some(chunk) = batches.next().await {
            let mut events = Vec::with_capacity(chunk.len());
            let mut broke = None;
            for item in chunk {
                match item {
                    Ok(StreamItem::Relay(ev)) => events.push(ev),
                    Ok(StreamItem::Presence(notice)) => self.teammate_writing(notice),
                    Err(e) => {
                        broke = Some(e);
                        break;
                    }
                }
            }
            if !events.is_empty() {
                self.apply(events).await?;
            }
            if let Some(e) = broke {
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// A teammate is writing to a customer: the UI says so (not this agent's own notice).
    fn teammate_writing(&self, notice: Presence) {
        let me = self.shared.agent.read().unwrap_or_else(|p| p.into_inner()).clone();
        if me.as_deref() == Some(notice.agent.as_str()) {
            return;
        }
        let conversation = ConversationKey { contact: coexist_core::contact_key(&notice.contact), phone_number_id: notice.phone_number_id };
        self.shared.publish(EngineEvent::TeammateWriting { conversation, agent: notice.agent, until_ms: notice.until_ms });
    }

    fn online(&self, backoff: &mut Backoff, state: &mut Option<ConnectionState>) {
        backoff.reset();
        if let Some(ConnectionState::Online | ConnectionState::CatchingUp { .. }) = state {
            return;
        }
        // The bridge is back: held sends may go now.
        self.shared.online_epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.shared.outbox_wake.notify_one();
        self.set_state(state, ConnectionState::Online);
    }

    fn set_state(&self, last: &mut Option<ConnectionState>, next: ConnectionState) {
        if last.as_ref() != Some(&next) {
            *last = Some(next.clone());
            self.shared.publish(EngineEvent::Connection { state: next });
        }
    }

    /// `first` and the pages after it, fetched without waiting while they come back full, up to
    /// `max_batch` entries: a backlog goes into the store in few large transactions. Also the
    /// newest seq the bridge reported.
    async fn gather(&self, first: EventsPage) -> Result<(Vec<RelayEvent>, i64), EngineError> {
        let page_size = self.config.page_size as usize;
        let mut full = first.events.len() >= page_size;
        let (mut events, mut next, mut last_seq) = (first.events, first.next, first.last_seq);
        while full && events.len() + page_size <= self.config.max_batch {
            let page = self.shared.client.events(next, self.config.page_size, 0).await?;
            full = page.events.len() >= page_size;
            (next, last_seq) = (page.next, last_seq.max(page.last_seq));
            events.extend(page.events);
        }
        Ok((events, last_seq))
    }

    /// Apply one batch, publish what changed, notify, and check closing windows. Runs on the
    /// blocking pool: SQLite and the desktop's notification service may take a while, and the
    /// UI's async runtime must not wait for them.
    async fn apply(&self, events: Vec<RelayEvent>) -> Result<coexist_store::ApplyReport, EngineError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || apply_batch(&shared, &events))
            .await
            .map_err(|e| EngineError::Internal(format!("applying a batch stopped: {e}")))?
    }
}

fn apply_batch(shared: &Shared, events: &[RelayEvent]) -> Result<coexist_store::ApplyReport, EngineError> {
    let report = shared.store().apply_relay_batch(events)?;
    let now = now_secs();
    decide::after_batch(shared, &report, now)?;
    if !report.conversations_touched.is_empty() {
        decide::closing_windows(shared, now)?;
    }
    if !report.outbox_reconciled.is_empty() {
        shared.outbox_wake.notify_one();
    }
    Ok(report)
}

/// How often the closing-window check runs without any new event (windows close by the clock).
pub const CLOSING_CHECK_EVERY: Duration = Duration::from_secs(60);
