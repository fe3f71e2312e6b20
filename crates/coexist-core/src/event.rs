//! The one normalized event type every other crate speaks.
//!
//! Webhooks (`messages`, `statuses`, `smb_message_echoes`, `history`, ...) and the bridge's own
//! records (an API send, a template catalog, a number's settings) all become [`Event`]s.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Meta's timestamp: seconds since the Unix epoch. Ordering always uses this, never arrival.
pub type Timestamp = i64;

/// Who a conversation is with. Meta's `wa_id` (the phone number) when known; when Meta hides the
/// number it sends a business-scoped `user_id`, which we key as `user:<id>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContactKey(pub String);

impl ContactKey {
    pub fn from_wa_id(wa_id: &str) -> Self {
        ContactKey(wa_id.to_string())
    }
    pub fn from_user_id(user_id: &str) -> Self {
        ContactKey(format!("user:{user_id}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A conversation is one business number talking to one contact.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConversationKey {
    pub phone_number_id: String,
    pub contact: ContactKey,
}

/// Where a message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The customer wrote to the business (a `messages` webhook).
    Customer,
    /// Sent through Coexist (the Cloud API), by an agent.
    Api,
    /// Sent from the WhatsApp Business App on the phone (an `smb_message_echoes` webhook).
    App,
    /// Imported by a `history` sync at onboarding. Never opens a window, never notifies, never unread.
    History,
}

/// One message, inbound or outbound, of any type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub wamid: String,
    pub conversation: ConversationKey,
    pub side: Side,
    /// For `Side::History`: whether the business sent it (true) or the customer (false).
    pub from_business: bool,
    pub timestamp: Timestamp,
    pub body: MessageBody,
    /// The wamid this message quotes (Meta's `context.id`).
    pub reply_to: Option<String>,
    /// Set when the customer came from a free entry point (click-to-WhatsApp ad): +72 h window.
    pub referral: Option<Value>,
    /// The agent who sent it (`Side::Api` only).
    pub agent: Option<String>,
    /// The idempotency key of an API send, echoed back by Meta as `biz_opaque_callback_data`.
    pub idempotency_key: Option<String>,
    /// The message object exactly as Meta sent it.
    pub raw: Value,
}

/// What a message says, by type. Anything we do not model is `Unsupported` with its reason;
/// the raw JSON is always on [`Message::raw`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageBody {
    Text { body: String },
    Image { media: Media },
    Document { media: Media },
    Audio { media: Media, voice: bool },
    Video { media: Media },
    Sticker { media: Media },
    Location { latitude: f64, longitude: f64, name: Option<String>, address: Option<String> },
    Contacts { names: Vec<String> },
    /// A reaction to another message; an empty emoji removes the reaction.
    Reaction { message_id: String, emoji: String },
    /// A reply to interactive buttons or a list.
    Interactive { reply_id: String, title: String },
    /// Choices offered by the business (reply buttons, or a list's rows) under a text; the
    /// customer's tap comes back as an `Interactive` reply quoting it.
    Choices { body: String, choices: Vec<String> },
    /// A quick-reply button on a template.
    Button { text: String, payload: Option<String> },
    Order { catalog_id: Option<String>, items: usize, text: Option<String> },
    System { body: String },
    /// An outbound template send (API) as recorded by the bridge.
    Template { name: String, language: String, rendered: Option<String> },
    /// A type the Cloud API does not deliver, or one we do not know. `reason` is plain words.
    Unsupported { type_name: String, reason: String },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Media {
    pub id: Option<String>,
    pub link: Option<String>,
    pub mime_type: Option<String>,
    pub caption: Option<String>,
    pub filename: Option<String>,
}

/// Delivery status of an outbound message. Ordered: `Sent < Delivered < Read`; `Failed` is terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// One error as Meta reports it (`errors[]` on a status, or a Graph API error body).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetaError {
    pub code: i64,
    pub title: Option<String>,
    pub message: Option<String>,
    pub details: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub wamid: String,
    pub conversation: ConversationKey,
    pub status: StatusKind,
    pub timestamp: Timestamp,
    pub errors: Vec<MetaError>,
    pub biz_opaque_callback_data: Option<String>,
    /// `conversation` and `pricing` objects as Meta sent them.
    pub conversation_info: Option<Value>,
    pub pricing: Option<Value>,
}

/// A contact's name and identifiers (`contacts[]` on a webhook, or `smb_app_state_sync`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactProfile {
    pub phone_number_id: String,
    pub contact: ContactKey,
    pub name: Option<String>,
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
}

/// An approved (or pending, rejected, ...) message template of a WABA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: Option<String>,
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: Option<String>,
    /// Meta's `components` array (header, body, footer, buttons) as-is.
    pub components: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberMode {
    Coexistence,
    Standard,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberSettings {
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_number: String,
    pub mode: NumberMode,
    /// Messages per second: 20 for coexistence; the tier (80 default, up to 1000) for standard.
    pub tier_mps: u32,
}

/// Everything that can happen, normalized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Message(Message),
    /// The Business App user edited a message they sent (an `smb_message_echoes` edit).
    MessageEdited { wamid: String, conversation: ConversationKey, timestamp: Timestamp, body: MessageBody },
    /// The Business App user deleted (revoked) a message for everyone.
    MessageRevoked { wamid: String, conversation: ConversationKey, timestamp: Timestamp },
    Status(StatusUpdate),
    Contact(ContactProfile),
    /// A `history` webhook's progress (phase, chunk, percent), or its error.
    HistoryProgress { phone_number_id: String, phase: Option<i64>, chunk_order: Option<i64>, progress: Option<i64>, error: Option<MetaError> },
    TemplateStatus { waba_id: String, template_id: Option<String>, name: String, language: String, status: String, reason: Option<String> },
    TemplatesSynced { phone_number_id: String, waba_id: String, templates: Vec<Template> },
    /// `account_update` (e.g. `PARTNER_REMOVED`, offboarding, reconnection) kept as-is.
    /// (`event` is serialized as `account_event`: `event` is this enum's tag.)
    AccountUpdate {
        waba_id: String,
        phone_number_id: Option<String>,
        #[serde(rename = "account_event")]
        event: String,
        raw: Value,
    },
    Number(NumberSettings),
    /// A conversation was assigned to a teammate (`assignee`), or handed back to the team (`None`).
    Assigned { conversation: ConversationKey, assignee: Option<String>, by: String, at_ms: i64 },
    /// A teammate marked the conversation done (or not done any more), or snoozed it until
    /// `until_ms`.
    Done { conversation: ConversationKey, done: bool, until_ms: Option<i64>, by: String, at_ms: i64 },
    /// A teammate put `label` on the conversation (`on`) or took it off.
    Labeled { conversation: ConversationKey, label: String, on: bool, by: String, at_ms: i64 },
    /// A teammate blocked the customer on this number (`blocked`), or unblocked them.
    Blocked { conversation: ConversationKey, blocked: bool, by: String, at_ms: i64 },
    /// The team saved a quick reply under `shortcut` (`text: None`: removed it).
    QuickReply(crate::QuickReply),
    /// A teammate's note on a conversation; `seq` is its relay entry, which identifies it.
    Note { seq: i64, conversation: ConversationKey, author: String, text: String, at_ms: i64 },
    /// A change whose field we do not model, kept whole so nothing is lost.
    Unknown { field: String, raw: Value },
}
