//! What the queries return: serde-serializable structs the Tauri UI and the CLI render.
//! Field names say what they hold; times are Unix seconds (Meta time) unless named `_ms`.

use coexist_core::rules::{MessageStatus, Owner, WindowState};
use coexist_core::{ContactKey, ConversationKey, MessageBody, NumberMode, Side, StatusKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which conversations to list. `Default` lists everything, newest first, 100 at a time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConversationFilter {
    /// Only this business number.
    pub phone_number_id: Option<String>,
    /// Only this agent's conversations: assigned to them, or unassigned and last answered by
    /// them through the API.
    pub only_mine: Option<String>,
    /// Only conversations nobody on the team is assigned to.
    pub unassigned: bool,
    /// Only conversations marked done (`Some(true)`) or only the others (`Some(false)`).
    pub done: Option<bool>,
    /// Only conversations last answered from the WhatsApp Business App.
    pub app_owned: bool,
    /// Only conversations whose window is open and closes within this many seconds.
    pub window_closing_within_secs: Option<i64>,
    /// Only conversations with unread customer messages, or marked unread.
    pub unread_only: bool,
    /// Only conversations carrying this label.
    pub label: Option<String>,
    /// Only conversations whose customer wrote last (not blocked), longest waiting first.
    pub waiting: bool,
    /// Page size; 0 means the default (100).
    pub limit: u32,
    pub offset: u32,
}

/// One row of the conversation list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub conversation: ConversationKey,
    /// The contact's WhatsApp profile name when known (customer text: render as text only).
    pub contact_name: Option<String>,
    /// Who answers: the side of the latest business reply (core rules).
    pub owner: Owner,
    /// The agent when the API owns it (same as in `owner`, flat for easy rendering).
    pub owner_agent: Option<String>,
    /// Whether a free-form message may be sent at the `now` the query was given.
    pub window: WindowState,
    /// Plain words for a closed window, with what to do (`None` when open).
    pub window_explanation: Option<String>,
    /// Unread inbound customer messages.
    pub unread: i64,
    /// The customer wrote last: their latest message is newer than the latest business reply
    /// (API or App; history does not count).
    pub unanswered: bool,
    /// When they wrote that unanswered message (Meta time, Unix seconds): waiting since then.
    pub waiting_since: Option<i64>,
    /// Meta timestamp of the latest message of any side.
    pub last_activity: Option<i64>,
    /// Plain text of the latest message (control characters removed, truncated).
    pub preview: Option<String>,
    pub number_mode: Option<NumberMode>,
    pub display_number: Option<String>,
    /// The teammate who handles it (`None`: the whole team).
    pub assignee: Option<String>,
    /// A teammate marked it done and the customer has not written since (nor has its snooze
    /// ended, at the `now` the query was given).
    pub done: bool,
    /// Snoozed: back on the queues at this time (Unix milliseconds), while `done`.
    pub snoozed_until_ms: Option<i64>,
    /// This desktop's agent marked it unread (until it is read again).
    pub marked_unread: bool,
    /// The team's labels on it, alphabetically (team text: render as text only).
    pub labels: Vec<String>,
    /// The teammate who blocked this customer on this number: while set, the customer cannot
    /// write to the number and nobody can message them (Meta refuses).
    pub blocked_by: Option<String>,
    /// This desktop's agent muted its notifications (its messages still count as unread).
    pub muted: bool,
    /// Muted until then (Unix ms); `None` while muted: until unmuted.
    pub muted_until_ms: Option<i64>,
}

/// A template and where Meta's review of it stands (`PENDING`, `APPROVED`, `REJECTED`, `PAUSED`...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateReview {
    pub name: String,
    pub language: String,
    pub category: Option<String>,
    pub status: String,
    /// Meta's reason with a rejection or a pause (`INVALID_FORMAT`, ...).
    pub reason: Option<String>,
}

/// A label the team uses, with how many conversations carry it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelCount {
    pub label: String,
    pub conversations: i64,
}

/// One of the team's quick replies (team text: render as text only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuickReplyView {
    /// Typed after `/` in the composer.
    pub shortcut: String,
    pub text: String,
    pub updated_by: String,
}

/// A teammate's note on a conversation (never sent to the customer; render as text only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteView {
    /// The relay entry it came in: identifies the note.
    pub seq: i64,
    pub author: String,
    pub text: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
}

/// A delivery failure in plain words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureView {
    pub code: i64,
    /// Meta's own title/message/details, as sent.
    pub meta_title: Option<String>,
    pub meta_message: Option<String>,
    pub meta_details: Option<String>,
    /// What happened, in plain words (coexist_core::explain_meta_error).
    pub reason: String,
    /// What the agent should do about it.
    pub what_to_do: String,
}

/// A reaction shown under a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReactionView {
    pub emoji: String,
    /// `customer` or `business`.
    pub by: String,
    pub timestamp: i64,
    /// Why Meta did not deliver the business's reaction (a `failed` status on it).
    pub failure: Option<FailureView>,
}

/// The message a reply quotes, shortened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotedMessage {
    pub wamid: String,
    /// `None` (with `preview`) when the quoted message is not in the local inbox (yet).
    pub side: Option<Side>,
    pub preview: Option<String>,
}

/// One message of a conversation's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub wamid: String,
    pub side: Side,
    pub from_business: bool,
    /// Meta timestamp.
    pub timestamp: i64,
    /// Arrival order (ties on `timestamp` are shown in this order); use with `timestamp` as
    /// the `before` cursor of the next page.
    pub arrival: i64,
    pub body: MessageBody,
    /// Plain text of the body (control characters removed); `None` for media without caption.
    pub text: Option<String>,
    pub agent: Option<String>,
    pub idempotency_key: Option<String>,
    pub reply_to: Option<String>,
    pub quoted: Option<QuotedMessage>,
    pub referral: Option<Value>,
    /// Latest delivery status (outbound only).
    pub status: Option<StatusKind>,
    pub status_detail: Option<MessageStatus>,
    pub failure: Option<FailureView>,
    pub reactions: Vec<ReactionView>,
    pub edited: bool,
    pub edited_at: Option<i64>,
    pub revoked: bool,
    pub revoked_at: Option<i64>,
    /// The message object exactly as Meta sent it when its body is `Unsupported`; `Null` for
    /// a message the body models (the bridge keeps every webhook as received).
    pub raw: Value,
}

/// What to search for. `text` is plain user input: it is never FTS or SQL syntax.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    pub text: String,
    pub phone_number_id: Option<String>,
    pub contact: Option<ContactKey>,
    pub agent: Option<String>,
    pub side: Option<Side>,
    pub from_ts: Option<i64>,
    pub to_ts: Option<i64>,
    /// Only in conversations carrying this label.
    pub label: Option<String>,
    /// 0 means the default (50).
    pub limit: u32,
}

/// A piece of a search snippet; `matched` pieces are the words found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    pub text: String,
    pub matched: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub wamid: String,
    pub conversation: ConversationKey,
    pub contact_name: Option<String>,
    pub side: Side,
    pub agent: Option<String>,
    pub timestamp: i64,
    pub snippet: Vec<SnippetPart>,
}

/// A team note that matches a search (see [`crate::Store::search_notes`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteHit {
    /// The relay entry it came in: identifies the note.
    pub seq: i64,
    pub conversation: ConversationKey,
    pub contact_name: Option<String>,
    pub author: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
    pub snippet: Vec<SnippetPart>,
}

/// How a business number is doing: is the phone still used, is it still connected, can it pay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberHealth {
    pub phone_number_id: String,
    pub display_number: Option<String>,
    pub mode: Option<NumberMode>,
    /// Meta time of the latest Business App echo (coexistence numbers).
    pub last_app_activity_at: Option<i64>,
    /// Seconds since then, given `now`.
    pub secs_since_app_activity: Option<i64>,
    /// The Cloud API companion was offboarded / the partner removed, and not reconnected since.
    pub offboarded: bool,
    /// The latest account_update event concerning the number (e.g. `ACCOUNT_OFFBOARDED`).
    pub last_account_event: Option<String>,
    /// Payment failures (131042) in the last 7 days before `now`, newest first.
    pub recent_payment_failures: Vec<PaymentFailure>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentFailure {
    pub wamid: String,
    pub contact: ContactKey,
    pub timestamp: i64,
    pub details: Option<String>,
}

/// A relay entry that could not be understood: stored whole, listed, never dropped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub seq: i64,
    pub kind: String,
    pub received_at_ms: i64,
    pub error: String,
    pub payload: Value,
}

/// Where the onboarding history import of a number stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryProgress {
    pub phone_number_id: String,
    pub phase: Option<i64>,
    pub chunk_order: Option<i64>,
    /// Percent, as Meta reports it.
    pub progress: Option<i64>,
    pub error: Option<FailureView>,
    /// History messages imported into the local inbox so far.
    pub imported_messages: i64,
    /// How many history progress updates arrived.
    pub updates: i64,
}

/// Wire names of the enums stored as TEXT.
pub(crate) fn side_name(side: Side) -> &'static str {
    match side {
        Side::Customer => "customer",
        Side::Api => "api",
        Side::App => "app",
        Side::History => "history",
    }
}

pub(crate) fn parse_side(name: &str) -> Side {
    match name {
        "api" => Side::Api,
        "app" => Side::App,
        "history" => Side::History,
        _ => Side::Customer,
    }
}

pub(crate) fn status_name(status: StatusKind) -> &'static str {
    match status {
        StatusKind::Sent => "sent",
        StatusKind::Delivered => "delivered",
        StatusKind::Read => "read",
        StatusKind::Failed => "failed",
    }
}

pub(crate) fn mode_name(mode: &NumberMode) -> &'static str {
    match mode {
        NumberMode::Coexistence => "coexistence",
        NumberMode::Standard => "standard",
    }
}

pub(crate) fn parse_mode(name: &str) -> NumberMode {
    match name {
        "coexistence" => NumberMode::Coexistence,
        _ => NumberMode::Standard,
    }
}
