//! Meta's WhatsApp Business Account webhook, as serde types.
//!
//! The envelope is `{"object": "whatsapp_business_account", "entry": [{"id": WABA_ID,
//! "changes": [{"field": FIELD, "value": {...}}]}]}`. Each field has its own `value` shape,
//! modelled below after Meta's webhook reference (`messages`, `smb_message_echoes`, `history`,
//! `smb_app_state_sync`, `message_template_status_update`, `account_update`).
//!
//! These types are deliberately lenient: ids and timestamps are accepted as strings or numbers
//! (Meta sends timestamps as strings; test tools often send numbers), every list defaults to
//! empty, unknown fields are ignored (the raw JSON is kept on the normalized events). A message's
//! contents (`"<type>": {...}`) are read separately, by type, in [`crate::body`].

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A string Meta sometimes sends as a number (ids, phone numbers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FlexString(pub String);

impl<'de> Deserialize<'de> for FlexString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(FlexString(s)),
            Value::Number(n) => Ok(FlexString(n.to_string())),
            other => Err(D::Error::custom(format!("expected a string or a number, found {}", kind(&other)))),
        }
    }
}

/// An integer Meta sometimes sends as a string (timestamps, `phase`, `progress`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FlexInt(pub i64);

impl<'de> Deserialize<'de> for FlexInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        flex_int(&value).map(FlexInt).ok_or_else(|| {
            D::Error::custom(format!("expected a whole number (or a string of digits), found {}", kind(&value)))
        })
    }
}

pub(crate) fn flex_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 9.0e15).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// A word for a JSON value's type, for error messages (never the value itself: it may be hostile).
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope

/// The outer webhook body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// `whatsapp_business_account` for everything this crate models.
    pub object: String,
    pub entry: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id (Meta's dashboard test sends `"0"`).
    #[serde(default)]
    pub id: FlexString,
    /// Present on some fields (e.g. `account_update`): Unix seconds.
    #[serde(default)]
    pub time: Option<FlexInt>,
    pub changes: Vec<Change>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    /// Read per field below; kept raw so an unknown field loses nothing.
    #[serde(default)]
    pub value: Value,
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// `value.metadata`: which business number this is about.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub display_phone_number: Option<FlexString>,
    pub phone_number_id: FlexString,
}

/// `value.contacts[]`: who wrote, with their profile name. `wa_id` is the phone number;
/// `user_id` is the business-scoped user id (BSUID), sent when Meta hides the phone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookContact {
    #[serde(default)]
    pub profile: Option<Profile>,
    #[serde(default)]
    pub wa_id: Option<FlexString>,
    #[serde(default)]
    pub user_id: Option<FlexString>,
    #[serde(default)]
    pub parent_user_id: Option<FlexString>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// One error as webhooks carry it (`errors[]` on statuses, messages, history, or the value).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookError {
    #[serde(default)]
    pub code: FlexInt,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_data: Option<ErrorData>,
    #[serde(default)]
    pub href: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorData {
    #[serde(default)]
    pub details: Option<String>,
}

impl WebhookError {
    pub fn to_meta_error(&self) -> crate::MetaError {
        crate::MetaError {
            code: self.code.0,
            title: self.title.clone(),
            message: self.message.clone(),
            details: self.error_data.as_ref().and_then(|d| d.details.clone()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// messages / smb_message_echoes / history message objects

/// The value of a `messages` change (inbound messages and statuses).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesValue {
    #[serde(default)]
    pub messaging_product: Option<String>,
    pub metadata: Metadata,
    #[serde(default)]
    pub contacts: Vec<Value>,
    /// Each read on its own so one odd message never hides the others.
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub statuses: Vec<Value>,
    #[serde(default)]
    pub errors: Vec<WebhookError>,
}

/// The value of an `smb_message_echoes` change: messages the business sent from the App.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EchoesValue {
    pub metadata: Metadata,
    #[serde(default)]
    pub message_echoes: Vec<Value>,
}

/// The common header of a message object (inbound, echo, or history). The contents are
/// under the key named by `type` (e.g. `"text": {"body": ...}`) and read by [`crate::body`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookMessage {
    pub id: FlexString,
    #[serde(default)]
    pub from: Option<FlexString>,
    /// BSUID of the sender when Meta hides the phone.
    #[serde(default)]
    pub from_user_id: Option<FlexString>,
    /// Echoes and business-sent history messages: the customer.
    #[serde(default)]
    pub to: Option<FlexString>,
    #[serde(default)]
    pub to_user_id: Option<FlexString>,
    pub timestamp: FlexInt,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub context: Option<Context>,
    /// Click-to-WhatsApp ad / Page call-to-action the customer came from.
    #[serde(default)]
    pub referral: Option<Value>,
    #[serde(default)]
    pub errors: Vec<WebhookError>,
    /// `history` only: the message's delivery status at sync time.
    #[serde(default)]
    pub history_context: Option<HistoryContext>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The wamid this message replies to (or, for a reaction, reacts to).
    #[serde(default)]
    pub id: Option<FlexString>,
    #[serde(default)]
    pub from: Option<FlexString>,
    #[serde(default)]
    pub forwarded: Option<bool>,
    #[serde(default)]
    pub frequently_forwarded: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryContext {
    #[serde(default)]
    pub status: Option<String>,
}

/// `edit` contents (`type: "edit"`, on `messages` for customers and `smb_message_echoes` for the App).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EditContent {
    #[serde(default)]
    pub original_message_id: Option<FlexString>,
    /// The new message: `{"type": "text", "text": {...}}` like any message's contents.
    #[serde(default)]
    pub message: Option<Value>,
}

/// `revoke` contents (`type: "revoke"`): the sender deleted a message for everyone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RevokeContent {
    #[serde(default)]
    pub original_message_id: Option<FlexString>,
}

// ---------------------------------------------------------------------------------------------
// statuses

/// `value.statuses[]`: how far an outbound message got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookStatus {
    pub id: FlexString,
    /// `sent`, `delivered`, `read`, `failed` (others, e.g. `deleted`, are kept raw).
    pub status: String,
    pub timestamp: FlexInt,
    #[serde(default)]
    pub recipient_id: Option<FlexString>,
    #[serde(default)]
    pub recipient_user_id: Option<FlexString>,
    #[serde(default)]
    pub conversation: Option<Value>,
    #[serde(default)]
    pub pricing: Option<Value>,
    #[serde(default)]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    pub errors: Vec<WebhookError>,
}

// ---------------------------------------------------------------------------------------------
// history

/// The value of a `history` change: chat history shared at Coexistence onboarding.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryValue {
    pub metadata: Metadata,
    #[serde(default)]
    pub history: Vec<HistoryChunk>,
    /// The business declined to share its history (e.g. code 2593109).
    #[serde(default)]
    pub errors: Vec<WebhookError>,
    /// A follow-up with the contents of a recent media message (sent within 14 days of
    /// onboarding) that the chunks listed as `media_placeholder`; same wamid.
    #[serde(default)]
    pub messages: Vec<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryChunk {
    #[serde(default)]
    pub metadata: Option<HistoryMetadata>,
    #[serde(default)]
    pub threads: Vec<HistoryThread>,
    #[serde(default)]
    pub errors: Vec<WebhookError>,
}

/// Phases 0 (day 0–1), 1 (day 1–90), 2 (day 90–180); chunks may arrive out of order;
/// `progress` 100 means the sync is complete.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryMetadata {
    #[serde(default)]
    pub phase: Option<FlexInt>,
    #[serde(default)]
    pub chunk_order: Option<FlexInt>,
    #[serde(default)]
    pub progress: Option<FlexInt>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryThread {
    /// The customer's phone number.
    #[serde(default)]
    pub id: Option<FlexString>,
    #[serde(default)]
    pub messages: Vec<Value>,
}

// ---------------------------------------------------------------------------------------------
// smb_app_state_sync

/// The value of an `smb_app_state_sync` change: the App's address book.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StateSyncValue {
    pub metadata: Metadata,
    #[serde(default)]
    pub state_sync: Vec<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StateSyncItem {
    /// `contact` (the only type Meta documents).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub contact: Option<StateSyncContact>,
    /// `add` (added or edited) or `remove`.
    #[serde(default)]
    pub action: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StateSyncContact {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub phone_number: Option<FlexString>,
    #[serde(default)]
    pub user_id: Option<FlexString>,
}

// ---------------------------------------------------------------------------------------------
// message_template_status_update, account_update

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateStatusValue {
    /// `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `PENDING_DELETION`, ...
    pub event: String,
    #[serde(default)]
    pub message_template_id: Option<FlexString>,
    #[serde(default)]
    pub message_template_name: Option<String>,
    #[serde(default)]
    pub message_template_language: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountUpdateValue {
    /// `PARTNER_REMOVED`, `ACCOUNT_OFFBOARDED`, `ACCOUNT_RECONNECTED`, `ACCOUNT_RESTRICTION`, ...
    pub event: String,
    /// The display phone number concerned, when the event is about one number.
    #[serde(default)]
    pub phone_number: Option<FlexString>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flex_types_accept_strings_and_numbers() {
        let s: FlexString = serde_json::from_value(json!(123)).unwrap();
        assert_eq!(s.0, "123");
        let i: FlexInt = serde_json::from_value(json!("1739321024")).unwrap();
        assert_eq!(i.0, 1739321024);
        let i: FlexInt = serde_json::from_value(json!(17.0)).unwrap();
        assert_eq!(i.0, 17);
        assert!(serde_json::from_value::<FlexInt>(json!("soon")).is_err());
        assert!(serde_json::from_value::<FlexInt>(json!(1e300)).is_err());
        assert!(serde_json::from_value::<FlexString>(json!({})).is_err());
    }
}
