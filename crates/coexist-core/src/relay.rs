//! What the bridge relays to desktops: `GET /v1/events` answers `{"events":[RelayEvent...],"next":SEQ}`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::event::Timestamp;

/// One entry of the bridge's event log, as relayed to every desktop.
#[derive(Clone, Debug, Serialize)]
pub struct RelayEvent {
    /// Strictly increasing, gap-free per bridge. Clients resume with `after=seq`.
    pub seq: i64,
    pub kind: RelayKind,
    /// When the bridge accepted it, in Unix milliseconds (arrival; never used for ordering messages).
    pub received_at_ms: i64,
    /// `Webhook`: Meta's webhook body as received. `Outbound`: an [`OutboundRecord`].
    /// `Templates`: a [`TemplateCatalog`]. `Number`: a [`crate::NumberSettings`].
    /// `Assignment`: an [`Assignment`]. `Note`: a [`TeamNote`]. `Done`: a [`DoneMark`].
    /// `QuickReply`: a [`QuickReply`]. `Label`: a [`LabelMark`]. `Block`: a [`BlockMark`].
    ///
    /// Kept as the JSON text it came as, parsed only when applied: a backlog waiting in memory
    /// costs well under 1 KB an entry this way, ~9 KB as parsed JSON trees.
    pub payload: Box<RawValue>,
    /// The kind's name when this build does not know it (`kind` is then `Unknown`): a desktop
    /// keeps it, so that the version that knows it applies the entry (see the store).
    #[serde(skip)]
    pub unknown_kind: Option<String>,
}

/// Read with the kind's name kept when it is not one this build knows (borrowed, so a known kind
/// costs no allocation).
impl<'de> Deserialize<'de> for RelayEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire<'a> {
            seq: i64,
            #[serde(borrow)]
            kind: std::borrow::Cow<'a, str>,
            received_at_ms: i64,
            payload: Box<RawValue>,
        }
        let wire = Wire::deserialize(deserializer)?;
        let known = RelayKind::from_name(&wire.kind);
        Ok(RelayEvent {
            seq: wire.seq,
            kind: known.unwrap_or(RelayKind::Unknown),
            received_at_ms: wire.received_at_ms,
            payload: wire.payload,
            unknown_kind: known.is_none().then(|| wire.kind.into_owned()),
        })
    }
}

impl RelayEvent {
    /// An entry whose payload is `payload` as JSON.
    pub fn new(seq: i64, kind: RelayKind, received_at_ms: i64, payload: &impl Serialize) -> Self {
        let payload = serde_json::value::to_raw_value(payload).expect("a relay payload serializes as JSON");
        RelayEvent { seq, kind, received_at_ms, payload, unknown_kind: None }
    }

    /// The payload, parsed.
    pub fn payload_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(self.payload.get())
    }
}

/// Entries are equal when their JSON texts are (as relayed, the same entry has the same text).
impl PartialEq for RelayEvent {
    fn eq(&self, other: &Self) -> bool {
        (self.seq, self.kind, self.received_at_ms, self.payload.get()) == (other.seq, other.kind, other.received_at_ms, other.payload.get())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayKind {
    Webhook,
    Outbound,
    Templates,
    Number,
    Assignment,
    Note,
    Done,
    QuickReply,
    Label,
    Block,
    /// A kind this build does not know (a newer bridge): kept in the log, not projected,
    /// instead of failing the whole relay page.
    #[serde(other)]
    Unknown,
}

impl RelayKind {
    /// Every kind this build reads.
    pub const KNOWN: [RelayKind; 10] = [
        RelayKind::Webhook,
        RelayKind::Outbound,
        RelayKind::Templates,
        RelayKind::Number,
        RelayKind::Assignment,
        RelayKind::Note,
        RelayKind::Done,
        RelayKind::QuickReply,
        RelayKind::Label,
        RelayKind::Block,
    ];

    /// The kind's name, as entries carry it and the logs keep it.
    pub fn name(self) -> &'static str {
        match self {
            RelayKind::Webhook => "webhook",
            RelayKind::Outbound => "outbound",
            RelayKind::Templates => "templates",
            RelayKind::Number => "number",
            RelayKind::Assignment => "assignment",
            RelayKind::Note => "note",
            RelayKind::Done => "done",
            RelayKind::QuickReply => "quick_reply",
            RelayKind::Label => "label",
            RelayKind::Block => "block",
            RelayKind::Unknown => "unknown",
        }
    }

    /// The kind named `name`, if this build knows it.
    pub fn from_name(name: &str) -> Option<RelayKind> {
        RelayKind::KNOWN.into_iter().find(|k| k.name() == name)
    }
}

/// Who on the team handles a conversation: set by an agent or an admin through the bridge,
/// relayed so that every desktop shows the same. `assignee: None` hands it back to the team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub phone_number_id: String,
    /// The conversation's contact key, as the desktops know it.
    pub contact: String,
    pub assignee: Option<String>,
    /// Who made the change.
    pub by: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
}

/// A teammate finished with a conversation (`done`), or took it up again. A customer writing
/// after the mark (in relay order: what the team had seen) opens it again by itself; so does
/// the clock at `until_ms` (snoozed: done until then).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoneMark {
    pub phone_number_id: String,
    pub contact: String,
    pub done: bool,
    /// Snoozed: back on the queues at this time (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
    pub by: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
}

/// A teammate put a label on a conversation (`on`) or took it off. Labels sort the team's
/// conversations ("VIP", "Refund", "Wholesale"); every desktop shows the same, and the inbox
/// lists one label's conversations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelMark {
    pub phone_number_id: String,
    pub contact: String,
    /// As [`label_name`] made it.
    pub label: String,
    pub on: bool,
    pub by: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
}

/// The team blocked a customer on one number (`blocked`), or unblocked them: recorded by the bridge
/// only after Meta's Block Users API took it. While blocked the customer cannot write to the
/// number and nobody on the team can message them; every desktop shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockMark {
    pub phone_number_id: String,
    pub contact: String,
    pub blocked: bool,
    pub by: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
}

/// Longest label, in characters: a chip in the list, not a sentence.
pub const MAX_LABEL_CHARS: usize = 32;

/// A label as typed, made one: spaces trimmed and runs of them made one, so "VIP " and "VIP"
/// are the same label. Refused in words when empty, too long or holding control characters.
pub fn label_name(typed: &str) -> Result<String, String> {
    let name = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("a label needs a name".into());
    }
    if name.chars().count() > MAX_LABEL_CHARS {
        return Err(format!("a label is at most {MAX_LABEL_CHARS} characters; \"{name}\" is longer"));
    }
    if name.chars().any(char::is_control) {
        return Err("a label cannot hold control characters".into());
    }
    Ok(name)
}

/// One of the team's saved answers (`/thanks` → "Thank you for …"), typed as its shortcut in the
/// composer. `text: None` removes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuickReply {
    pub shortcut: String,
    pub text: Option<String>,
    pub by: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
}

/// A teammate is writing to this customer (until about `until_ms`): sent on the event stream as
/// it happens (`event: presence`), never stored, so two agents do not answer one customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    pub phone_number_id: String,
    pub contact: String,
    pub agent: String,
    pub until_ms: i64,
}

/// A note the team keeps on a conversation. Never sent to the customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamNote {
    pub phone_number_id: String,
    pub contact: String,
    pub author: String,
    /// What the author wrote (team text: still rendered as text only).
    pub text: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
}

/// A message the bridge sent to the Graph API for an agent and Meta accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboundRecord {
    pub phone_number_id: String,
    /// The recipient as the agent addressed it (`to`), and Meta's answer `contacts[0].wa_id`.
    pub to: String,
    pub wa_id: Option<String>,
    pub wamid: String,
    pub agent: String,
    pub idempotency_key: String,
    /// When the bridge got Meta's answer, Unix seconds.
    pub timestamp: Timestamp,
    /// The Graph API message JSON the agent sent.
    pub message: Value,
}

/// The templates of a WABA fetched from `/{waba_id}/message_templates` (every page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateCatalog {
    pub phone_number_id: String,
    pub waba_id: String,
    /// Meta's template objects as-is (`name`, `language`, `status`, `category`, `components`, `id`).
    pub templates: Vec<Value>,
}

/// A signed webhook body the bridge could not parse: kept there (never relayed) for admins to
/// look at (`GET /v1/admin/quarantine`). `body` is raw text from the internet: show it as text
/// only. At most the first 64 KiB of it (`truncated` then says so), invalid UTF-8 replaced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuarantinedWebhook {
    pub id: i64,
    pub received_at_ms: i64,
    pub reason: String,
    pub body_hash: String,
    pub size: usize,
    pub body: String,
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_reads_by_its_wire_name_and_an_unknown_one_keeps_its_name() {
        for kind in RelayKind::KNOWN {
            let wire = serde_json::to_value(kind).unwrap();
            assert_eq!(wire, kind.name(), "serde and name() agree");
            assert_eq!(RelayKind::from_name(kind.name()), Some(kind));
        }
        let entry: RelayEvent = serde_json::from_str(r#"{"seq": 4, "kind": "label", "received_at_ms": 9, "payload": {"a": 1}}"#).unwrap();
        assert_eq!((entry.kind, entry.unknown_kind), (RelayKind::Label, None));
        let entry: RelayEvent = serde_json::from_str(r#"{"seq": 5, "kind": "poll_vote", "received_at_ms": 9, "payload": {"a": 1}}"#).unwrap();
        assert_eq!((entry.kind, entry.unknown_kind.as_deref()), (RelayKind::Unknown, Some("poll_vote")));
        assert_eq!(entry.payload.get(), r#"{"a": 1}"#, "kept as it came");
        let page: Vec<RelayEvent> = serde_json::from_slice(br#"[{"seq": 6, "kind": "bl\u006fck", "received_at_ms": 9, "payload": null}]"#).unwrap();
        assert_eq!(page[0].kind, RelayKind::Block, "an escaped name reads too");
    }

    #[test]
    fn a_label_is_its_words_once_spaced_and_refused_in_words_when_it_cannot_be_one() {
        assert_eq!(label_name("  VIP   customer "), Ok("VIP customer".to_string()));
        assert_eq!(label_name("Café ☕"), Ok("Café ☕".to_string()));
        assert!(label_name(" \t ").unwrap_err().contains("needs a name"));
        assert!(label_name(&"x".repeat(33)).unwrap_err().contains("at most 32"));
        assert_eq!(label_name(&"é".repeat(32)).map(|l| l.chars().count()), Ok(32), "characters, not bytes");
        assert!(label_name("a\u{7}b").unwrap_err().contains("control"));
    }
}
