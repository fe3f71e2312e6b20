//! `Engine`: one desktop's connection to one bridge and one local inbox. The Tauri app and the
//! CLI both drive it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coexist_core::rules::WindowState;
use coexist_core::ConversationKey;
use coexist_store::{NewOutboxItem, OutboxItem, Store, StoreError};
use tokio::sync::{broadcast, Notify};
use tokio::task::JoinHandle;

use crate::attachment::{self, OutgoingFile};
use crate::client::BridgeClient;
use crate::compose::{self, ComposeError, TemplateParams};
use crate::error::ClientError;
use crate::events::{EngineEvent, SendState, EVENT_CAPACITY};
use crate::limiter::SendLimiter;
use crate::notify::Notifier;
use crate::outbox::{DrainReport, OutboxWorker};
use crate::reply_buttons;
use crate::shared::{now_secs, Shared, SharedStore};
use crate::sync::{SyncConfig, SyncReport, Syncer, CLOSING_CHECK_EVERY};

/// Everything that can go wrong in an engine command, in words for the agent.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bridge(#[from] ClientError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// A file could not be uploaded (the bridge or Meta refused it, or is unreachable).
    #[error("the file was not uploaded: {0}")]
    Upload(crate::error::SendError),
    /// Free text is refused locally while the 24 h window is closed.
    #[error("the 24-hour window is closed: {0} Use `send template` (an approved template) instead of free text.")]
    WindowClosed(String),
    /// What the agent entered cannot be used as is; the words say why.
    #[error("{0}")]
    Invalid(String),
    /// A background step panicked or was cancelled (a bug; the data is safe, retry).
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub bridge_url: String,
    pub token: String,
    pub sync: SyncConfig,
}

impl EngineConfig {
    pub fn new(bridge_url: impl Into<String>, token: impl Into<String>) -> Self {
        EngineConfig { bridge_url: bridge_url.into(), token: token.into(), sync: SyncConfig::default() }
    }
}

/// Cheap to clone; all clones drive the same engine.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    syncer: Syncer,
    outbox: Arc<OutboxWorker>,
    /// When "typing…" last went to each conversation's customer.
    typing_sent: Arc<Mutex<HashMap<ConversationKey, Instant>>>,
}

/// Meta shows "typing…" for 25 s (or until the reply): sent again at most this often.
pub const TYPING_EVERY: Duration = Duration::from_secs(20);

/// The engine's background tasks (sync, outbox, closing-window clock). Dropping it stops them.
pub struct EngineTasks {
    handles: Vec<JoinHandle<()>>,
}

impl EngineTasks {
    pub fn stop(self) {}
}

impl Drop for EngineTasks {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

impl Engine {
    /// Open (or create) the local inbox at `db_path` and connect to the bridge lazily.
    pub fn open(db_path: &Path, config: EngineConfig, notifier: Arc<dyn Notifier>) -> Result<Engine, EngineError> {
        let store = Store::open(db_path)?;
        Ok(Engine::with_store(Arc::new(Mutex::new(store)), config, notifier))
    }

    pub fn with_store(store: SharedStore, config: EngineConfig, notifier: Arc<dyn Notifier>) -> Engine {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let shared = Arc::new(Shared {
            client: BridgeClient::new(config.bridge_url, config.token),
            store,
            events,
            notifier,
            outbox_wake: Notify::new(),
            online_epoch: Default::default(),
            agent: Default::default(),
            snoozes_checked_ms: Default::default(),
        });
        let syncer = Syncer::new(shared.clone(), config.sync);
        let outbox = Arc::new(OutboxWorker::new(shared.clone(), Arc::new(SendLimiter::default())));
        Engine { shared, syncer, outbox, typing_sent: Default::default() }
    }

    /// Start following the bridge and draining the outbox in background tasks.
    pub fn start(&self) -> EngineTasks {
        let syncer = self.syncer.clone();
        let outbox = self.outbox.clone();
        let shared = self.shared.clone();
        let clock = async move {
            let mut tick = tokio::time::interval(CLOSING_CHECK_EVERY);
            loop {
                tick.tick().await;
                let shared = shared.clone();
                let checked = tokio::task::spawn_blocking(move || crate::decide::on_clock(&shared, now_secs())).await;
                if let Ok(Err(e)) = checked {
                    tracing::warn!(error = %e, "closing-window check failed");
                }
            }
        };
        EngineTasks {
            handles: vec![
                tokio::spawn(async move { syncer.run().await }),
                tokio::spawn(async move { outbox.run().await }),
                tokio::spawn(clock),
                tokio::spawn(crate::campaign::runner::run(self.shared.clone())),
            ],
        }
    }

    /// Changes for the UI (conversations, new messages, send states, connection).
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.shared.events.subscribe()
    }

    /// The local inbox, for queries (lock briefly; never across an `.await`).
    pub fn store(&self) -> &SharedStore {
        &self.shared.store
    }

    pub fn client(&self) -> &BridgeClient {
        &self.shared.client
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    pub fn syncer(&self) -> &Syncer {
        &self.syncer
    }

    /// Pull everything new once (no background task needed).
    pub async fn sync_once(&self) -> Result<SyncReport, EngineError> {
        self.syncer.sync_once().await
    }

    /// Send what is queued, waiting for rate limits up to `max_wait` (the CLI; the app uses `start`).
    pub async fn drain_outbox(&self, max_wait: Duration) -> Result<DrainReport, EngineError> {
        self.outbox.drain(max_wait).await
    }

    /// Warn about unanswered conversations whose window closes within the hour (also runs every minute under `start`).
    pub fn check_closing_windows(&self) -> Result<usize, EngineError> {
        Ok(crate::decide::closing_windows(&self.shared, now_secs())?)
    }

    /// Put snoozed conversations whose time came back on the lists, notified (also runs every
    /// minute under `start`).
    pub fn check_snoozes(&self) -> Result<(), EngineError> {
        Ok(crate::decide::snoozes_ended(&self.shared, now_secs())?)
    }

    /// The agent read the conversation, everything in it so far: its unread count drops and, when
    /// the mark newly covers the customer's latest message, that message is marked read at Meta
    /// in the background (the customer's blue ticks; core rules, read receipts). A receipt that
    /// cannot go (offline, Meta refused) is logged, not retried: marking a later message read
    /// covers the earlier ones.
    pub fn mark_read(&self, conversation: &ConversationKey) -> Result<(), EngineError> {
        let receipt = {
            let mut store = self.shared.store();
            // Up to the newest message too: this desktop's clock may run behind Meta's.
            let now = now_secs();
            let newest = store.conversation(conversation, now)?.and_then(|c| c.last_activity).unwrap_or(now);
            store.mark_read(conversation, now.max(newest))?
        };
        if let Some(wamid) = receipt {
            self.read_at_meta(conversation, wamid, false);
        }
        Ok(())
    }

    /// Show the conversation as unread again on this desktop, until it is read again (local:
    /// nothing goes to Meta or the team).
    pub fn mark_unread(&self, conversation: &ConversationKey) -> Result<(), EngineError> {
        self.shared.store().mark_unread(conversation)?;
        self.shared.publish(EngineEvent::ConversationsChanged { list: vec![conversation.clone()], timelines: Vec::new() });
        Ok(())
    }

    /// Keep the agent's unsent reply to this conversation on this desktop (empty: none); local
    /// only, like a read mark: a draft is personal, and survives a restart.
    pub fn save_draft(&self, conversation: &ConversationKey, text: &str) -> Result<(), EngineError> {
        Ok(self.shared.store().save_draft(conversation, text)?)
    }

    /// Mute the conversation's notifications on this desktop until `until_ms` (Unix ms; `None`:
    /// until unmuted). Personal, like a draft: the team is not told.
    pub fn mute(&self, conversation: &ConversationKey, until_ms: Option<i64>) -> Result<(), EngineError> {
        self.shared.store().mute(conversation, until_ms)?;
        self.redraw_row(conversation);
        Ok(())
    }

    /// Notifications of the conversation again.
    pub fn unmute(&self, conversation: &ConversationKey) -> Result<(), EngineError> {
        self.shared.store().unmute(conversation)?;
        self.redraw_row(conversation);
        Ok(())
    }

    fn redraw_row(&self, conversation: &ConversationKey) {
        self.shared.publish(EngineEvent::ConversationsChanged { list: vec![conversation.clone()], timelines: Vec::new() });
    }

    /// The agent is typing a reply: the teammates see who is writing to this customer, and the
    /// customer sees "typing…" (and their latest message read) until the reply arrives or 25 s
    /// pass — the customer only while the window is open (a reply can follow). At most every
    /// [`TYPING_EVERY`] per conversation; best effort, like read receipts.
    pub fn typing(&self, conversation: &ConversationKey) -> Result<(), EngineError> {
        {
            let mut sent = self.typing_sent.lock().unwrap_or_else(|p| p.into_inner());
            if sent.get(conversation).is_some_and(|at| at.elapsed() < TYPING_EVERY) {
                return Ok(());
            }
            sent.insert(conversation.clone(), Instant::now());
        }
        self.tell_team_writing(conversation);
        if self.require_open_window(conversation).is_err() {
            return Ok(());
        }
        if let Some(latest) = self.shared.store().last_inbound(conversation)? {
            self.read_at_meta(conversation, latest.wamid, true);
        }
        Ok(())
    }

    /// Every teammate's desktop shows that this agent is writing to the customer (background).
    fn tell_team_writing(&self, conversation: &ConversationKey) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (client, conversation) = (self.client().clone(), conversation.clone());
        runtime.spawn(async move {
            if let Err(e) = client.presence(&conversation).await {
                tracing::debug!(error = %e, "the team was not told who is writing");
            }
        });
    }

    /// Mark `wamid` read at Meta (with "typing…" when `typing`) in the background.
    fn read_at_meta(&self, conversation: &ConversationKey, wamid: String, typing: bool) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let client = self.client().clone();
        let number = conversation.phone_number_id.clone();
        runtime.spawn(async move {
            match client.mark_read(&number, &wamid, typing).await {
                Ok(()) => tracing::debug!(wamid, typing, "marked read at Meta"),
                Err(e) => tracing::info!(error = %e, wamid, "the customer's message was not marked read at Meta"),
            }
        });
    }

    /// Queue a free-form text, as a reply quoting the conversation's message `reply_to` when
    /// given. Refused locally (nothing queued) while the window is closed.
    pub fn send_text(&self, conversation: &ConversationKey, text: &str, reply_to: Option<&str>) -> Result<OutboxItem, EngineError> {
        self.require_open_window(conversation)?;
        self.check_quote(conversation, reply_to)?;
        let message = compose::text_message(&conversation.contact, text)?;
        self.enqueue(conversation, compose::replying_to(message, reply_to))
    }

    /// Queue `text` with choices the customer can tap (`titles`: 1 to 3 go as reply buttons, up to
    /// 10 as a list), checked against Meta's limits; a free-form message, so it needs the open
    /// window like a text.
    pub fn send_buttons(
        &self,
        conversation: &ConversationKey,
        text: &str,
        titles: &[String],
        reply_to: Option<&str>,
    ) -> Result<OutboxItem, EngineError> {
        self.require_open_window(conversation)?;
        self.check_quote(conversation, reply_to)?;
        let message = reply_buttons::buttons_message(&conversation.contact, text, titles)?;
        self.enqueue(conversation, compose::replying_to(message, reply_to))
    }

    /// React to the conversation's message `wamid` with one emoji (`""` takes the reaction
    /// back). A reaction is a free-form message to Meta: it needs the open window.
    pub fn send_reaction(&self, conversation: &ConversationKey, wamid: &str, emoji: &str) -> Result<OutboxItem, EngineError> {
        self.require_open_window(conversation)?;
        self.check_quote(conversation, Some(wamid))?;
        let message = compose::reaction_message(&conversation.contact, wamid, emoji)?;
        self.enqueue(conversation, message)
    }

    /// Send a file (with an optional caption): checked against Meta's types and sizes, uploaded
    /// through the bridge, then queued like a text. Like free text it needs the open window.
    /// The upload needs the bridge now; an agent offline hears so at once (nothing is queued).
    /// `reply_to` quotes a message of the conversation, as for a text.
    pub async fn send_file(
        &self,
        conversation: &ConversationKey,
        file: OutgoingFile,
        caption: &str,
        reply_to: Option<&str>,
    ) -> Result<OutboxItem, EngineError> {
        self.require_open_window(conversation)?;
        self.require_not_blocked(conversation)?;
        let kind = file.kind()?;
        attachment::check_caption(kind, caption)?;
        self.check_quote(conversation, reply_to)?;
        let name = file.base_name().to_string();
        let media_id = self.upload_file(&conversation.phone_number_id, file).await?;
        let message = attachment::media_message(&conversation.contact, kind, &name, &media_id, caption)?;
        self.enqueue(conversation, compose::replying_to(message, reply_to))
    }

    /// Check a file against Meta's types and sizes and upload it for `phone_number_id`; the
    /// media id names it in a message or a template's media header (`TemplateParams::header_media_id`).
    pub async fn upload_file(&self, phone_number_id: &str, file: OutgoingFile) -> Result<String, EngineError> {
        file.kind()?;
        let name = file.base_name().to_string();
        self.client().upload_media(phone_number_id, &name, &file.mime_type, file.bytes).await.map_err(EngineError::Upload)
    }

    /// Queue an approved template, checked against the template's components first.
    pub fn send_template(
        &self,
        conversation: &ConversationKey,
        name: &str,
        language: &str,
        params: &TemplateParams,
    ) -> Result<OutboxItem, EngineError> {
        let templates = self.shared.store().templates(&conversation.phone_number_id)?;
        let template = templates.iter().find(|t| t.name == name && t.language == language).ok_or_else(|| {
            ComposeError::UnknownTemplate { name: name.to_string(), language: language.to_string() }
        })?;
        let message = compose::template_message(&conversation.contact, template, params)?;
        self.enqueue(conversation, message)
    }

    /// Send again, as a new message with a new key, a text or file that Meta accepted and then
    /// failed (the first key is spent: Meta took it). A file goes by the same media id (Meta
    /// keeps uploads 30 days). Like any free-form message it needs the open window; a template
    /// goes again from the picker, with its parameters checked anew.
    pub fn send_again(&self, conversation: &ConversationKey, message: &serde_json::Value) -> Result<OutboxItem, EngineError> {
        match message.get("type").and_then(serde_json::Value::as_str) {
            Some("text" | "image" | "document" | "audio" | "video" | "interactive") => {
                self.require_open_window(conversation)?;
                self.enqueue(conversation, message.clone())
            }
            _ => Err(ComposeError::NotResendable.into()),
        }
    }

    /// Try a failed item again, with its original key (so it still cannot go out twice).
    pub fn retry(&self, idempotency_key: &str) -> Result<OutboxItem, EngineError> {
        let item = self.shared.store().outbox_retry(idempotency_key)?;
        self.publish_state(&item, SendState::Queued);
        self.shared.outbox_wake.notify_one();
        Ok(item)
    }

    /// A reply may only quote (and a reaction only answer) a message of its own conversation.
    fn check_quote(&self, conversation: &ConversationKey, reply_to: Option<&str>) -> Result<(), EngineError> {
        match reply_to {
            Some(wamid) if !self.shared.store().has_message(conversation, wamid)? => Err(ComposeError::QuoteNotHere.into()),
            _ => Ok(()),
        }
    }

    fn require_open_window(&self, conversation: &ConversationKey) -> Result<(), EngineError> {
        let summary = self.shared.store().conversation(conversation, now_secs())?;
        match summary.map(|s| (s.window, s.window_explanation)) {
            Some((WindowState::Open { .. }, _)) => Ok(()),
            Some((WindowState::Closed { reason }, explanation)) => {
                Err(EngineError::WindowClosed(explanation.unwrap_or_else(|| reason.describe())))
            }
            None => Err(EngineError::WindowClosed(coexist_core::rules::ClosedReason::NeverOpened.describe())),
        }
    }

    /// Meta refuses every message to a customer the team blocked; say so before queueing one.
    fn require_not_blocked(&self, conversation: &ConversationKey) -> Result<(), EngineError> {
        match self.shared.store().conversation(conversation, now_secs())?.and_then(|s| s.blocked_by) {
            Some(by) => Err(EngineError::Invalid(format!("{by} blocked this customer on this number; unblock them to message them"))),
            None => Ok(()),
        }
    }

    fn enqueue(&self, conversation: &ConversationKey, message: serde_json::Value) -> Result<OutboxItem, EngineError> {
        self.require_not_blocked(conversation)?;
        let item = NewOutboxItem {
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            phone_number_id: conversation.phone_number_id.clone(),
            to: conversation.contact.as_str().to_string(),
            contact: conversation.contact.clone(),
            message,
            campaign: None,
        };
        let item = self.shared.store().outbox_enqueue(item)?;
        self.publish_state(&item, SendState::Queued);
        self.shared.outbox_wake.notify_one();
        Ok(item)
    }

    fn publish_state(&self, item: &OutboxItem, state: SendState) {
        self.shared.publish(EngineEvent::SendState {
            idempotency_key: item.idempotency_key.clone(),
            conversation: item.conversation.clone(),
            state,
            wamid: item.wamid.clone(),
            detail: None,
        });
    }
}
