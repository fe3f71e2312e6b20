//! Starting the engine for the chosen mode and keeping what must live as long as the app.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use coexist_engine::{Engine, EngineConfig, EngineTasks, Notifier};
use serde::Serialize;

use crate::config::{AppConfig, Mode};
use crate::token_store::ConnectionOrigin;

/// What the app runs on. Managed as Tauri state; commands reach the engine through it.
pub struct Backend {
    pub engine: Engine,
    /// A second connection, for the UI's queries only: a large batch being synced never makes
    /// the list, a thread or a search wait.
    reader: std::sync::Mutex<coexist_store::Store>,
    info: tokio::sync::Mutex<AppInfo>,
    /// The latest `inbox:sync` payload (see [`AppInfo::sync`]).
    last_sync: std::sync::Mutex<Option<serde_json::Value>>,
    /// Sync, outbox and window-clock tasks: stopped when the app exits (dropped).
    _tasks: EngineTasks,
    /// Demo mode: the in-process sandbox and bridge (they serve while this lives).
    _demo: Option<coexist_engine::demo::DemoHandle>,
}

/// What the UI shows about the session (`app_info`).
#[derive(Clone, Debug, Serialize)]
pub struct AppInfo {
    /// `bridge` or `demo`.
    pub mode: &'static str,
    /// The agent the token belongs to (as the bridge says).
    pub agent: String,
    pub bridge_url: String,
    pub data_dir: PathBuf,
    /// The latest `inbox:sync` payload, for a UI that subscribed after it was emitted.
    pub sync: Option<serde_json::Value>,
    /// Where the bridge connection came from (the environment, the app's sign-in, or the demo).
    pub connection: ConnectionOrigin,
    /// Why a saved connection could not be used, when the app fell back to the demo.
    pub notice: Option<String>,
}

pub const INBOX_FILE: &str = "inbox.db";
/// How long `app_info` waits for the bridge to say who we are.
const ME_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Open the local inbox in `data_dir`, connect to the bridge (or start the demo), and start the
/// engine's background tasks. Must run inside the async runtime.
pub async fn start(
    config: &AppConfig,
    data_dir: &Path,
    notifier: Arc<dyn Notifier>,
) -> anyhow::Result<Backend> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory {}: {e}",
            data_dir.display()
        )
    })?;
    let (url, token, inbox, mode, demo) = match &config.mode {
        Mode::Bridge { url, token } => (
            url.clone(),
            token.clone(),
            claim_inbox(data_dir, url)?,
            "bridge",
            None,
        ),
        Mode::Demo => {
            let demo = coexist_engine::demo::start_demo(data_dir).await?;
            (
                demo.bridge_url.clone(),
                demo.token.clone(),
                demo.inbox_path.clone(),
                "demo",
                Some(demo),
            )
        }
    };
    let engine = Engine::open(&inbox, EngineConfig::new(url.clone(), token), notifier)
        .map_err(|e| anyhow::anyhow!("cannot open the local inbox {}: {e}", inbox.display()))?;
    let reader = coexist_store::Store::open_reader(&inbox)
        .map_err(|e| anyhow::anyhow!("cannot read the local inbox {}: {e}", inbox.display()))?;
    let agent = match tokio::time::timeout(ME_TIMEOUT, engine.client().me()).await {
        Ok(Ok(me)) => me.name,
        Ok(Err(e)) => {
            // Offline or refused: the app still opens on the local inbox; the sync loop retries
            // and its status (shown in the UI) says why it cannot connect.
            tracing::warn!(error = %e, "could not ask the bridge who we are");
            String::new()
        }
        Err(_) => {
            tracing::warn!("the bridge did not say who we are in time; starting offline");
            String::new()
        }
    };
    engine.set_agent(&agent);
    let tasks = engine.start();
    spawn_template_sync(engine.clone());
    Ok(Backend {
        engine,
        reader: std::sync::Mutex::new(reader),
        info: tokio::sync::Mutex::new(AppInfo {
            mode,
            agent,
            bridge_url: url,
            data_dir: data_dir.to_path_buf(),
            sync: None,
            connection: if config.is_demo() { ConnectionOrigin::Demo } else { ConnectionOrigin::Env },
            notice: None,
        }),
        last_sync: std::sync::Mutex::new(None),
        _tasks: tasks,
        _demo: demo,
    })
}

impl Backend {
    /// The session info as known now (no network).
    pub async fn info(&self) -> AppInfo {
        let mut info = self.info.lock().await.clone();
        info.sync = self
            .last_sync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        info
    }

    /// [`Backend::info`], first asking the bridge for the agent's name (briefly) if it was not
    /// reachable at startup.
    pub async fn refresh_info(&self) -> AppInfo {
        let unknown = self.info.lock().await.agent.is_empty();
        if unknown {
            let me = tokio::time::timeout(ME_TIMEOUT, self.engine.client().me()).await;
            if let Ok(Ok(me)) = me {
                self.engine.set_agent(&me.name);
                self.info.lock().await.agent = me.name;
            }
        }
        self.info().await
    }

    /// Say where the connection came from (decided before the backend started).
    pub fn set_connection(&self, origin: ConnectionOrigin, notice: Option<String>) {
        let mut info = self.info.try_lock().expect("set before any command runs");
        info.connection = origin;
        info.notice = notice;
    }

    /// Remember the connection state the UI was last told.
    pub fn set_sync(&self, payload: serde_json::Value) {
        *self.last_sync.lock().unwrap_or_else(|p| p.into_inner()) = Some(payload);
    }

    /// The local inbox for queries, on the second connection; writes go through
    /// [`Backend::store`].
    pub fn reader(&self) -> std::sync::MutexGuard<'_, coexist_store::Store> {
        self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The local inbox (a short lock; never held across an `.await`).
    pub fn store(&self) -> std::sync::MutexGuard<'_, coexist_store::Store> {
        self.engine
            .store()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Beside the inbox: the URL of the bridge it was synced from. Its cursor and conversations mean
/// nothing to another bridge, so signing in elsewhere starts a fresh inbox.
pub const INBOX_OWNER_FILE: &str = "inbox.bridge";

/// The inbox file for `url`: the existing one if it came from this bridge (or predates the
/// owner file); otherwise the old one is moved aside (kept, never deleted) and a new one starts.
fn claim_inbox(data_dir: &Path, url: &str) -> anyhow::Result<PathBuf> {
    let inbox = data_dir.join(INBOX_FILE);
    let owner = data_dir.join(INBOX_OWNER_FILE);
    let previous = std::fs::read_to_string(&owner).ok().map(|s| s.trim().to_string());
    if let Some(previous) = previous.filter(|p| p != url && inbox.exists()) {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let aside = data_dir.join(format!("inbox-{stamp}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", inbox.display()));
            if from.exists() {
                std::fs::rename(&from, format!("{}{suffix}", aside.display()))?;
            }
        }
        tracing::warn!(%previous, now = %url, kept = %aside.display(), "the local inbox belongs to another bridge; starting a new one");
    }
    std::fs::write(&owner, url)?;
    Ok(inbox)
}

/// Ask the bridge to fetch every number's templates from Meta; they arrive through the relay.
fn spawn_template_sync(engine: Engine) {
    tauri::async_runtime::spawn(async move {
        match engine.client().numbers().await {
            Ok(numbers) => {
                for n in numbers {
                    if let Err(e) = engine.client().sync_templates(&n.phone_number_id).await {
                        tracing::warn!(number = %n.phone_number_id, error = %e, "template sync failed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not list the numbers for template sync"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inbox_is_only_resumed_against_its_own_bridge() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(claim_inbox(d, "https://a.example").unwrap(), d.join(INBOX_FILE));
        std::fs::write(d.join(INBOX_FILE), "a's inbox").unwrap();
        claim_inbox(d, "https://a.example").unwrap();
        assert_eq!(std::fs::read_to_string(d.join(INBOX_FILE)).unwrap(), "a's inbox", "same bridge: resumed");

        claim_inbox(d, "https://b.example").unwrap();
        assert!(!d.join(INBOX_FILE).exists(), "another bridge starts a new inbox");
        let kept: Vec<_> = std::fs::read_dir(d).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("inbox-")).collect();
        assert_eq!(kept.len(), 1, "the old inbox is kept aside: {kept:?}");
        assert_eq!(std::fs::read_to_string(d.join(INBOX_OWNER_FILE)).unwrap(), "https://b.example");
    }
}
