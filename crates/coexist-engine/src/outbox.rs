//! The outbox worker: drains the store's persistent outbox through the local rate limiter to the
//! bridge.
//!
//! Never twice: every item carries the idempotency key chosen when it was queued; an item left
//! `sending` by a crash is sent again with the SAME key and the bridge answers from its record
//! instead of calling Meta again.
//!
//! Order: items go oldest first; when one item of a conversation must wait (pair limit, throttle)
//! every later item of that conversation waits too, while other conversations go on.
//!
//! Holding back: offline / 5xx -> everything waits (backoff with jitter); 130429 -> the number
//! waits; 131056 -> the conversation waits. Held items stay queued (never "failed"); only a
//! refusal that retrying cannot fix marks an item failed (the agent may `retry` it).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coexist_core::NumberMode;
use coexist_store::{OutboxItem, OutboxState};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::decide;
use crate::error::SendError;
use crate::events::{EngineEvent, SendState};
use crate::limiter::{SendLimiter, PAIR_PERIOD};
use crate::shared::{now_ms, Shared};
use crate::EngineError;

/// Items read from the store per pass.
const PASS_SIZE: u32 = 200;
/// With nothing to do, look again this often (scheduled retries become due by the clock).
const IDLE_RECHECK: Duration = Duration::from_secs(15);
/// How long everything waits after the bridge refused our token (an admin must act).
const AUTH_HOLD: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum HoldKey {
    All,
    Number(String),
    Pair(String, String),
}

/// What a drain did (the CLI prints it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DrainReport {
    pub sent: usize,
    pub failed: usize,
    /// Items still waiting (held back or rate limited) when the drain stopped.
    pub waiting: usize,
}

struct PassResult {
    sent: usize,
    failed: usize,
    waiting: usize,
    /// The earliest moment a waiting item may go.
    next_due: Option<Instant>,
}

pub struct OutboxWorker {
    shared: Arc<Shared>,
    limiter: Arc<SendLimiter>,
    holds: Mutex<HashMap<HoldKey, Instant>>,
    offline_backoff: Mutex<Backoff>,
    throttle_backoff: Mutex<Backoff>,
    /// The `online_epoch` last seen; a change means the bridge is reachable again.
    seen_epoch: AtomicU64,
}

impl OutboxWorker {
    pub(crate) fn new(shared: Arc<Shared>, limiter: Arc<SendLimiter>) -> Self {
        OutboxWorker {
            shared,
            limiter,
            holds: Mutex::new(HashMap::new()),
            offline_backoff: Mutex::new(Backoff::new(Duration::from_millis(200), Duration::from_secs(30))),
            throttle_backoff: Mutex::new(Backoff::new(Duration::from_secs(1), Duration::from_secs(60))),
            seen_epoch: AtomicU64::new(0),
        }
    }

    /// Drain forever (abort the task to stop). Wakes on new items, on reconnect, and by the clock.
    pub async fn run(&self) {
        loop {
            let next_due = match self.pass().await {
                Ok(p) if p.sent + p.failed > 0 => continue,
                Ok(p) => p.next_due.or_else(|| self.earliest_hold()),
                Err(e) => {
                    tracing::error!(error = %e, "outbox pass failed");
                    Some(Instant::now() + Duration::from_secs(2))
                }
            };
            let until = next_due.unwrap_or_else(|| Instant::now() + IDLE_RECHECK).min(Instant::now() + IDLE_RECHECK);
            tokio::select! {
                _ = self.shared.outbox_wake.notified() => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// Send what can go until nothing is ready or `max_wait` has passed (the CLI).
    pub async fn drain(&self, max_wait: Duration) -> Result<DrainReport, EngineError> {
        let deadline = Instant::now() + max_wait;
        let mut report = DrainReport::default();
        loop {
            let p = self.pass().await?;
            report.sent += p.sent;
            report.failed += p.failed;
            report.waiting = p.waiting;
            let next_due = p.next_due.or_else(|| self.earliest_hold());
            match next_due {
                None if p.waiting == 0 => return Ok(report),
                Some(due) if due < deadline => tokio::time::sleep_until(due).await,
                _ if p.sent + p.failed > 0 => {}
                _ => return Ok(report),
            }
        }
    }

    /// One pass over the ready items, oldest first.
    async fn pass(&self) -> Result<PassResult, EngineError> {
        self.lift_offline_hold_if_reconnected();
        self.refresh_caps()?;
        let items = self.shared.store().outbox_ready(PASS_SIZE)?;
        let mut result = PassResult { sent: 0, failed: 0, waiting: 0, next_due: None };
        let mut waiting_pairs: HashSet<(String, String)> = HashSet::new();
        for item in items {
            let pnid = item.conversation.phone_number_id.clone();
            let pair = (pnid.clone(), item.to.clone());
            if waiting_pairs.contains(&pair) {
                result.waiting += 1;
                continue;
            }
            let wait_until = self.held_until(&pnid, &item.to).or_else(|| {
                self.limiter.try_pair(&pnid, &item.to).err().map(|wait| Instant::now() + wait)
            });
            if let Some(until) = wait_until {
                waiting_pairs.insert(pair);
                result.waiting += 1;
                result.next_due = Some(result.next_due.map_or(until, |d| d.min(until)));
                continue;
            }
            self.limiter.until_number_ready(&pnid).await;
            match self.send_item(&item).await? {
                SendState::Sent => result.sent += 1,
                SendState::Failed => result.failed += 1,
                _ => {
                    waiting_pairs.insert(pair);
                    result.waiting += 1;
                    if let Some(until) = self.held_until(&pnid, &item.to) {
                        result.next_due = Some(result.next_due.map_or(until, |d| d.min(until)));
                    }
                }
            }
        }
        Ok(result)
    }

    fn lift_offline_hold_if_reconnected(&self) {
        let epoch = self.shared.online_epoch.load(Ordering::SeqCst);
        if self.seen_epoch.swap(epoch, Ordering::SeqCst) != epoch {
            self.holds.lock().expect("holds lock").remove(&HoldKey::All);
            self.offline_backoff.lock().expect("backoff lock").reset();
        }
    }

    /// Set each number's cap from the store: 20 mps for Coexistence, the tier for standard.
    fn refresh_caps(&self) -> Result<(), EngineError> {
        for n in self.shared.store().numbers()? {
            let cap = match n.mode {
                NumberMode::Coexistence => crate::limiter::DEFAULT_MPS,
                NumberMode::Standard => n.tier_mps,
            };
            self.limiter.set_number_cap(&n.phone_number_id, cap);
        }
        Ok(())
    }

    /// Send one item with its key; returns the state it ended in.
    async fn send_item(&self, item: &OutboxItem) -> Result<SendState, EngineError> {
        let key = &item.idempotency_key;
        let current = self.shared.store().outbox_mark_sending(key)?;
        if current.state == OutboxState::Sent {
            return Ok(SendState::Sent); // the relay confirmed it meanwhile
        }
        self.publish(item, SendState::Sending, None, None);
        let pnid = &item.conversation.phone_number_id;
        match self.shared.client.send(pnid, &item.message, key).await {
            Ok(accepted) => {
                self.shared.store().outbox_mark_sent(key, &accepted.wamid)?;
                self.offline_backoff.lock().expect("backoff lock").reset();
                self.throttle_backoff.lock().expect("backoff lock").reset();
                self.publish(item, SendState::Sent, Some(accepted.wamid), None);
                Ok(SendState::Sent)
            }
            Err(e) => self.send_failed(item, e),
        }
    }

    fn send_failed(&self, item: &OutboxItem, e: SendError) -> Result<SendState, EngineError> {
        let pnid = item.conversation.phone_number_id.clone();
        let hold = match &e {
            SendError::Offline(_) => Some((HoldKey::All, self.offline_backoff.lock().expect("backoff lock").next_delay())),
            SendError::Auth(_) => Some((HoldKey::All, AUTH_HOLD)),
            SendError::Throttled { code: 131056, retry_after, .. } => {
                Some((HoldKey::Pair(pnid, item.to.clone()), retry_after.unwrap_or(PAIR_PERIOD)))
            }
            SendError::Throttled { retry_after, .. } => {
                let delay = self.throttle_backoff.lock().expect("backoff lock").next_delay();
                Some((HoldKey::Number(pnid), retry_after.unwrap_or(delay)))
            }
            SendError::Meta { .. } | SendError::Rejected(_) => None,
        };
        let detail = e.to_string();
        if let Some((hold_key, delay)) = hold {
            tracing::info!(key = %item.idempotency_key, ?delay, error = %detail, "send held back");
            let until = Instant::now() + delay;
            self.requeue(&item.idempotency_key, &hold_key, delay)?;
            self.holds.lock().expect("holds lock").insert(hold_key, until);
            self.publish(item, SendState::Queued, None, Some(format!("Waiting to send: {detail}")));
            return Ok(SendState::Queued);
        }
        let code = match &e {
            SendError::Meta { code, .. } => Some(*code),
            _ => None,
        };
        self.shared.store().outbox_mark_failed(&item.idempotency_key, code, &detail, None)?;
        self.publish(item, SendState::Failed, None, Some(detail.clone()));
        decide::failed_send(&self.shared, &item.idempotency_key, &item.conversation, &detail)?;
        Ok(SendState::Failed)
    }

    /// Put a held item back to `queued` (it did not go out). A throttle's delay is stored (it
    /// survives a restart); an outage's is only held in memory, so the item goes as soon as
    /// the sync loop sees the bridge again.
    fn requeue(&self, key: &str, hold: &HoldKey, delay: Duration) -> Result<(), EngineError> {
        let not_before = match hold {
            HoldKey::All => None,
            HoldKey::Number(_) | HoldKey::Pair(..) => Some(now_ms() + delay.as_millis() as i64),
        };
        self.shared.store().outbox_requeue(key, not_before)?;
        Ok(())
    }

    /// When the soonest hold ends (items scheduled for later are not in `outbox_ready` yet).
    fn earliest_hold(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut holds = self.holds.lock().expect("holds lock");
        holds.retain(|_, until| *until > now);
        holds.values().min().copied()
    }

    /// The latest hold over this item (everything, its number, or its conversation), if still on.
    fn held_until(&self, pnid: &str, to: &str) -> Option<Instant> {
        let now = Instant::now();
        let mut holds = self.holds.lock().expect("holds lock");
        holds.retain(|_, until| *until > now);
        [HoldKey::All, HoldKey::Number(pnid.to_string()), HoldKey::Pair(pnid.to_string(), to.to_string())]
            .iter()
            .filter_map(|k| holds.get(k).copied())
            .max()
    }

    fn publish(&self, item: &OutboxItem, state: SendState, wamid: Option<String>, detail: Option<String>) {
        self.shared.publish(EngineEvent::SendState {
            idempotency_key: item.idempotency_key.clone(),
            conversation: item.conversation.clone(),
            state,
            wamid,
            detail,
        });
    }
}
