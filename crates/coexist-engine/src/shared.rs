//! What the sync loop, the outbox worker and the engine's commands share.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use coexist_store::Store;
use tokio::sync::{broadcast, Notify};

use crate::client::BridgeClient;
use crate::events::EngineEvent;
use crate::notify::Notifier;

/// The store behind a mutex: SQLite calls are short and never held across an `.await`.
pub type SharedStore = Arc<Mutex<Store>>;

pub(crate) struct Shared {
    pub client: BridgeClient,
    pub store: SharedStore,
    pub events: broadcast::Sender<EngineEvent>,
    pub notifier: Arc<dyn Notifier>,
    /// Wakes the outbox worker: something was queued or retried, or the bridge came back.
    pub outbox_wake: Notify,
    /// Bumped each time the sync loop (re)connects: the outbox then lifts its "bridge offline" hold.
    pub online_epoch: AtomicU64,
    /// The agent this desktop is, once the bridge said (see `Engine::set_agent`).
    pub agent: std::sync::RwLock<Option<String>>,
    /// Until when (Unix ms) ended snoozes were looked for; 0 before the first look.
    pub snoozes_checked_ms: std::sync::atomic::AtomicI64,
}

impl Shared {
    /// Lock the store. A panic in another holder does not make the data unusable (every write
    /// is one SQLite transaction), so a poisoned lock is taken over.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tell the UI. Nobody listening is fine (the CLI).
    pub fn publish(&self, event: EngineEvent) {
        let _ = self.events.send(event);
    }
}

/// Now, Unix seconds (Meta's clock unit).
pub(crate) fn now_secs() -> i64 {
    now_ms() / 1000
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
