//! What the engine tells the UI. The UI subscribes to a broadcast channel and re-reads the store
//! for what changed; it never polls.

use coexist_core::ConversationKey;
use serde::{Deserialize, Serialize};

/// Capacity of the broadcast channel. A UI that falls this far behind gets `Lagged` and should
/// simply reload its current view.
pub const EVENT_CAPACITY: usize = 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// Conversation list rows and/or timelines changed (new messages, statuses incl. delivered /
    /// read, edits, reactions). Reload those rows / open timelines.
    ConversationsChanged { list: Vec<ConversationKey>, timelines: Vec<ConversationKey> },
    /// Templates, number settings, account state or history progress of these numbers changed.
    NumbersChanged { phone_number_ids: Vec<String> },
    /// A new inbound customer message (never history, never an echo).
    NewInbound { conversation: ConversationKey, wamid: String, sender: String, preview: String },
    /// An outbox item moved (queued -> sending -> sent / failed), or Meta's statuses moved a sent
    /// message on (delivered, read, failed); `idempotency_key` links it to the outbox item.
    SendState {
        idempotency_key: String,
        conversation: ConversationKey,
        state: SendState,
        wamid: Option<String>,
        /// Plain words for the agent when failed or held back.
        detail: Option<String>,
    },
    /// The customer service window of an unanswered conversation closes within the hour.
    WindowClosing { conversation: ConversationKey, expires_at: i64 },
    Connection { state: ConnectionState },
    /// The team's quick replies changed.
    QuickRepliesChanged,
    /// A teammate is writing to this conversation's customer (until about `until_ms`).
    TeammateWriting { conversation: ConversationKey, agent: String, until_ms: i64 },
    /// Relay entries the store could not understand (kept, listed under problems).
    Problems { seqs: Vec<i64> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    Queued,
    Sending,
    /// Meta accepted it (and later: its `sent` status).
    Sent,
    /// From Meta's status webhooks.
    Delivered,
    Read,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Online,
    /// Connected and applying a backlog: `applied` of its `total` entries are in.
    CatchingUp { applied: u64, total: u64 },
    /// Not connected; `reason` says why in plain words.
    Offline { reason: String },
    /// Waiting `delay_ms` before attempt number `attempt`.
    Reconnecting { attempt: u32, delay_ms: u64 },
}
