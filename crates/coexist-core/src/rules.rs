//! The inbox's rules, all in one place, as pure functions over [`Event`]s.
//!
//! Everything here is order-independent: a conversation's state is a set of maxima
//! (latest reply, latest inbound message, latest "window closed" failure, furthest window
//! expiry), so applying the same events in any order, any number of times, gives the same
//! state. Ties on Meta's timestamp are broken by the wamid (plain string order), which is
//! arbitrary but deterministic; every desktop therefore agrees.
//!
//! # Ownership — who answers this conversation
//! The side of the **latest business reply** (by Meta timestamp, then wamid) owns the
//! conversation: [`Owner::Api`] with the agent who sent it through Coexist, or [`Owner::App`]
//! when someone answered from the WhatsApp Business App on the phone (an echo). A conversation
//! nobody has answered is [`Owner::Unowned`]. Ownership switches back and forth freely: an App
//! reply after an agent's reply hands it to the App and vice versa.
//! - Inbound customer messages never change the owner (the customer writing again does not
//!   mean someone else should answer).
//! - `history` messages never count as replies, even when the business sent them: they are
//!   the past, imported at onboarding, and nobody on the team chose to take the conversation.
//! - Any business message counts, including reactions and messages that later fail: the
//!   person chose to act in this conversation.
//! - Edits and revokes do not count (they change an existing reply, they are not a new one).
//!
//! # The customer service window — when free-form messages may be sent
//! Only an inbound message from the customer ([`Side::Customer`], except Meta's `system`
//! notices such as "changed their number") opens or extends the window:
//! it lasts [`WINDOW_SECS`] (24 h) from that message's Meta timestamp. When the message
//! carries a `referral` (the customer came from a click-to-WhatsApp ad or a Facebook Page
//! call-to-action, Meta's "free entry point"), the window lasts [`FREE_ENTRY_WINDOW_SECS`]
//! (72 h in total). Echoes (App replies), API sends, history and statuses never open or
//! extend it.
//!
//! What Meta's documentation says (checked for this rule): a free entry point (FEP) starts
//! when the customer writes from a click-to-WhatsApp ad or a Page call-to-action *and* the
//! business replies within 24 h; from that reply, every message is free for 72 h. Several
//! providers' guides add that free-form (non-template) messages still need the 24 h customer
//! service window. Our product rule is simpler and errs on the side of letting agents type: a
//! `referral` message keeps the window open 72 h from that message. If Meta disagrees on a
//! send, the 131047 rule below closes the window at once, so the agent is told to use a
//! template instead.
//! A failed status with error **131047** ("Re-engagement message": Meta says the window is
//! closed) closes the window whatever our clock says, until a strictly newer inbound customer
//! message (by Meta timestamp) reopens it. An inbound message with the same second as the
//! failure does not reopen it (we cannot tell which came first, and Meta was the one who knew).
//!
//! # Statuses — how far an outbound message got
//! `sent < delivered < read`; `failed` is terminal and keeps its error code and details.
//! Status never goes backwards. A status may arrive before its message (webhooks race); its
//! state is per wamid ([`MessageStatus`]), independent of the message, so the store keeps it
//! and shows it once the message arrives. Each kind remembers when it was first reached.
//!
//! # Dedupe
//! Messages are identified by wamid; statuses by (wamid, status kind) — see [`dedupe_key`].
//! Meta retries webhooks, and the bridge may relay a webhook twice; applying a duplicate is
//! harmless here (maxima), but the store must not insert a second row.
//!
//! # Edits and revokes
//! An edit replaces a message's body when it is newer (Meta timestamp) than the last edit
//! applied; a revoke is terminal (a revoked message stays revoked, later edits are ignored);
//! either may arrive before its message and is applied when the message arrives — see
//! [`edit_applies`]. Neither changes ownership, the window, or unread.
//!
//! # Unread
//! An inbound customer message is unread when it is newer (by Meta timestamp, strictly) than
//! both the latest business reply (any side, including the App) and the agent's read mark:
//! see [`ConversationState::unread_threshold`] and [`counts_as_unread`]. History and Meta's
//! `system` notices never count.
//!
//! # Read receipts — the customer's blue ticks
//! When an agent's read mark newly covers the latest inbound customer message, that message is
//! marked read at Meta ([`ConversationState::read_receipt`]); Meta marks every earlier message of
//! the conversation read with it. Only live customer messages (never history) and only within
//! Meta's [`READ_RECEIPT_MAX_AGE_SECS`] (30 days; older ones Meta refuses). A conversation
//! answered from the phone needs none from us: the Business App sent its own.
//!
//! # Order
//! Messages are shown by Meta timestamp; ties by arrival (the bridge's relay sequence) — see
//! [`order_key`]. Arrival is never used to decide ownership or the window.

use serde::{Deserialize, Serialize};

use crate::event::{ConversationKey, Event, Message, MessageBody, MetaError, Side, StatusKind, StatusUpdate, Timestamp};

/// The customer service window: 24 hours after the customer's last message.
pub const WINDOW_SECS: i64 = 24 * 60 * 60;
/// The free entry point window (customer came from a click-to-WhatsApp ad): 72 hours in total.
pub const FREE_ENTRY_WINDOW_SECS: i64 = 72 * 60 * 60;
/// Meta's error code for "more than 24 hours have passed since the customer last replied".
pub const WINDOW_CLOSED_ERROR: i64 = 131047;
/// Meta marks an incoming message read only within 30 days of receiving it.
pub const READ_RECEIPT_MAX_AGE_SECS: i64 = 30 * 24 * 60 * 60;

/// Who answers a conversation: the side of the latest business reply.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "owner", rename_all = "snake_case")]
pub enum Owner {
    /// Nobody on the business side has replied yet.
    Unowned,
    /// An agent answered through Coexist (the Cloud API).
    Api { agent: String },
    /// Someone answered from the WhatsApp Business App on the phone.
    App,
}

/// Whether a free-form (non-template) message may be sent now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WindowState {
    Open { expires_at: Timestamp, remaining_secs: i64 },
    Closed { reason: ClosedReason },
}

/// Why the window is closed, so the UI can say it plainly (see [`ClosedReason::describe`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClosedReason {
    /// The customer has never written (that we know of).
    NeverOpened,
    /// 24 h (or 72 h) passed since the customer's last message.
    Expired { at: Timestamp },
    /// Meta refused a message with 131047: the window is closed whatever our clock says.
    RejectedByMeta { at: Timestamp },
}

impl ClosedReason {
    /// Plain words for the agent, with what to do.
    pub fn describe(&self) -> String {
        match self {
            ClosedReason::NeverOpened => {
                "The customer has not written yet. Start with an approved template.".to_string()
            }
            ClosedReason::Expired { .. } => {
                "More than 24 hours have passed since the customer last wrote. Send an approved template instead."
                    .to_string()
            }
            ClosedReason::RejectedByMeta { .. } => {
                "Meta says the 24-hour window is closed. Send an approved template; the window reopens when the customer writes."
                    .to_string()
            }
        }
    }
}

/// A point in a conversation's timeline: Meta timestamp, ties broken by wamid.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Mark {
    pub timestamp: Timestamp,
    pub wamid: String,
}

impl Mark {
    pub fn new(timestamp: Timestamp, wamid: &str) -> Self {
        Mark { timestamp, wamid: wamid.to_string() }
    }
}

/// The latest business reply and who sent it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReplyMark {
    pub at: Mark,
    pub owner: Owner,
}

/// Everything the rules need to know about one conversation, as maxima (see the module doc).
/// Serializable so the store can persist it per conversation; [`ConversationState::apply`] is
/// O(1), idempotent and commutative.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Latest inbound customer message.
    #[serde(default)]
    pub last_inbound: Option<Mark>,
    /// Furthest expiry any inbound customer message gives (24 h, or 72 h with a referral).
    #[serde(default)]
    pub window_expires_at: Option<Timestamp>,
    /// Latest business reply (API or App; never history).
    #[serde(default)]
    pub last_reply: Option<ReplyMark>,
    /// Latest 131047 failure.
    #[serde(default)]
    pub window_rejected: Option<Mark>,
    /// Latest message of any side (history included): for sorting the conversation list.
    #[serde(default)]
    pub last_message: Option<Mark>,
    /// The agent read everything up to this Meta timestamp (set locally, see [`Self::mark_read`]).
    #[serde(default)]
    pub read_mark: Option<Timestamp>,
}

fn keep_max<T: Ord>(slot: &mut Option<T>, candidate: T) -> bool {
    match slot {
        Some(current) if *current >= candidate => false,
        _ => {
            *slot = Some(candidate);
            true
        }
    }
}

impl ConversationState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fold one event in. Returns whether anything changed. Events of other conversations
    /// should not be passed (the store routes by [`conversation_of`]); they are applied as-is.
    pub fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::Message(m) => self.apply_message(m),
            Event::Status(s) => self.apply_status(s),
            _ => false,
        }
    }

    fn apply_message(&mut self, m: &Message) -> bool {
        let mark = Mark::new(m.timestamp, &m.wamid);
        let mut changed = keep_max(&mut self.last_message, mark.clone());
        match m.side {
            Side::Customer if !is_customer_writing(m) => {}
            Side::Customer => {
                changed |= keep_max(&mut self.last_inbound, mark);
                let expiry = m.timestamp.saturating_add(window_length(m));
                changed |= keep_max(&mut self.window_expires_at, expiry);
            }
            Side::Api | Side::App => {
                let owner = owner_of_reply(m);
                changed |= keep_max(&mut self.last_reply, ReplyMark { at: mark, owner });
            }
            Side::History => {}
        }
        changed
    }

    fn apply_status(&mut self, s: &StatusUpdate) -> bool {
        if closes_window(s) {
            keep_max(&mut self.window_rejected, Mark::new(s.timestamp, &s.wamid))
        } else {
            false
        }
    }

    /// The agent read the conversation up to `timestamp` (Meta time of the newest message shown).
    pub fn mark_read(&mut self, timestamp: Timestamp) -> bool {
        keep_max(&mut self.read_mark, timestamp)
    }

    /// The customer message to mark read at Meta when the agent reads up to `timestamp` (call
    /// before [`Self::mark_read`]): the latest inbound customer message, when this mark newly
    /// covers it, nobody answered it from the phone (the Business App marks what it shows read
    /// itself; a reply through the API does not) and Meta still accepts it at `now`.
    pub fn read_receipt(&self, timestamp: Timestamp, now: Timestamp) -> Option<&Mark> {
        let inbound = self.last_inbound.as_ref()?;
        let covered = inbound.timestamp <= timestamp;
        let read_here = self.read_mark.is_some_and(|t| t >= inbound.timestamp);
        let read_on_phone =
            self.last_reply.as_ref().is_some_and(|r| r.owner == Owner::App && r.at.timestamp >= inbound.timestamp);
        let already = read_here || read_on_phone;
        let recent = now.saturating_sub(inbound.timestamp) < READ_RECEIPT_MAX_AGE_SECS;
        (covered && !already && recent).then_some(inbound)
    }

    /// When the customer's unanswered message was written (Meta time), if they wrote last: no
    /// business reply (API or App; history does not count) came after their latest message.
    pub fn waiting_since(&self) -> Option<Timestamp> {
        let inbound = self.last_inbound.as_ref()?;
        match &self.last_reply {
            Some(reply) if reply.at >= *inbound => None,
            _ => Some(inbound.timestamp),
        }
    }

    /// Who answers this conversation now.
    pub fn owner(&self) -> Owner {
        self.last_reply.as_ref().map(|r| r.owner.clone()).unwrap_or(Owner::Unowned)
    }

    /// Whether a free-form message may be sent at `now` (Unix seconds).
    pub fn window(&self, now: Timestamp) -> WindowState {
        let (Some(inbound), Some(expires_at)) = (&self.last_inbound, self.window_expires_at) else {
            return WindowState::Closed { reason: ClosedReason::NeverOpened };
        };
        if let Some(rejected) = &self.window_rejected {
            if rejected.timestamp >= inbound.timestamp {
                return WindowState::Closed { reason: ClosedReason::RejectedByMeta { at: rejected.timestamp } };
            }
        }
        if now < expires_at {
            WindowState::Open { expires_at, remaining_secs: expires_at.saturating_sub(now) }
        } else {
            WindowState::Closed { reason: ClosedReason::Expired { at: expires_at } }
        }
    }

    /// Inbound customer messages strictly newer than this Meta timestamp are unread
    /// (`None`: every inbound customer message is unread).
    pub fn unread_threshold(&self) -> Option<Timestamp> {
        let reply = self.last_reply.as_ref().map(|r| r.at.timestamp);
        reply.max(self.read_mark)
    }

    /// Merge another state of the same conversation (e.g. two desktops' views). Commutative.
    pub fn merge(&mut self, other: &ConversationState) -> bool {
        let mut changed = false;
        if let Some(v) = other.last_inbound.clone() {
            changed |= keep_max(&mut self.last_inbound, v);
        }
        if let Some(v) = other.window_expires_at {
            changed |= keep_max(&mut self.window_expires_at, v);
        }
        if let Some(v) = other.last_reply.clone() {
            changed |= keep_max(&mut self.last_reply, v);
        }
        if let Some(v) = other.window_rejected.clone() {
            changed |= keep_max(&mut self.window_rejected, v);
        }
        if let Some(v) = other.last_message.clone() {
            changed |= keep_max(&mut self.last_message, v);
        }
        if let Some(v) = other.read_mark {
            changed |= keep_max(&mut self.read_mark, v);
        }
        changed
    }
}

/// How long the window a customer message opens lasts: 72 h with a `referral`, else 24 h.
pub fn window_length(m: &Message) -> i64 {
    if m.referral.as_ref().is_some_and(|r| !r.is_null()) {
        FREE_ENTRY_WINDOW_SECS
    } else {
        WINDOW_SECS
    }
}

/// The owner a business reply makes. History and customer messages make none
/// (they are `Unowned` here, but [`ConversationState::apply`] never records them as replies).
pub fn owner_of_reply(m: &Message) -> Owner {
    match m.side {
        Side::Api => Owner::Api { agent: m.agent.clone().unwrap_or_else(|| "unknown agent".to_string()) },
        Side::App => Owner::App,
        Side::Customer | Side::History => Owner::Unowned,
    }
}

/// Whether an inbound message is the customer actually writing. Meta's `system` messages
/// (e.g. "the customer changed their number") are notices, not the customer writing: they
/// neither open the window nor count as unread.
pub fn is_customer_writing(m: &Message) -> bool {
    m.side == Side::Customer && !matches!(m.body, MessageBody::System { .. })
}

/// Whether a message counts as a business reply for ownership and unread.
pub fn is_business_reply(m: &Message) -> bool {
    matches!(m.side, Side::Api | Side::App)
}

/// Whether this status says Meta considers the window closed (failed with 131047).
pub fn closes_window(s: &StatusUpdate) -> bool {
    s.status == StatusKind::Failed && s.errors.iter().any(|e| e.code == WINDOW_CLOSED_ERROR)
}

/// Whether `msg` counts as unread given the conversation's [`ConversationState::unread_threshold`].
/// Only inbound customer messages count; history never does.
pub fn counts_as_unread(msg: &Message, threshold: Option<Timestamp>) -> bool {
    // (a `match`, not `Option::is_none_or`: the workspace's rust-version is 1.80)
    is_customer_writing(msg)
        && match threshold {
            None => true,
            Some(t) => msg.timestamp > t,
        }
}

/// Whether an edit at `edit_ts` replaces the body of a message last edited at `last_edit`
/// (`None`: never edited) and possibly `revoked`. Equal timestamps: the edit applies (Meta
/// does not send two edits of one message in the same second with different text).
pub fn edit_applies(last_edit: Option<Timestamp>, revoked: bool, edit_ts: Timestamp) -> bool {
    match last_edit {
        _ if revoked => false,
        None => true,
        Some(t) => edit_ts >= t,
    }
}

/// The display order of messages: Meta timestamp, then arrival (the relay sequence).
pub fn order_key(timestamp: Timestamp, arrival_seq: i64) -> (Timestamp, i64) {
    (timestamp, arrival_seq)
}

/// How far one outbound message got, folded from its status updates in any order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageStatus {
    /// The furthest status reached (`Failed` beats everything and is terminal).
    #[serde(default)]
    pub status: Option<StatusKind>,
    /// When each status was first reached (Meta time).
    #[serde(default)]
    pub sent_at: Option<Timestamp>,
    #[serde(default)]
    pub delivered_at: Option<Timestamp>,
    #[serde(default)]
    pub read_at: Option<Timestamp>,
    #[serde(default)]
    pub failed_at: Option<Timestamp>,
    /// The errors of the failure (the latest failed status's, deterministically).
    #[serde(default)]
    pub errors: Vec<MetaError>,
}

fn keep_min(slot: &mut Option<Timestamp>, candidate: Timestamp) -> bool {
    match slot {
        Some(current) if *current <= candidate => false,
        _ => {
            *slot = Some(candidate);
            true
        }
    }
}

/// A total order on error lists, so that which failure's errors we keep never depends on arrival.
fn errors_key(errors: &[MetaError]) -> String {
    serde_json::to_string(errors).unwrap_or_default()
}

impl MessageStatus {
    /// Fold one status update in (any order, duplicates harmless). Returns whether it changed.
    pub fn apply(&mut self, update: &StatusUpdate) -> bool {
        let mut changed = keep_max(&mut self.status, update.status);
        let ts = update.timestamp;
        changed |= match update.status {
            StatusKind::Sent => keep_min(&mut self.sent_at, ts),
            StatusKind::Delivered => keep_min(&mut self.delivered_at, ts),
            StatusKind::Read => keep_min(&mut self.read_at, ts),
            StatusKind::Failed => self.apply_failure(update),
        };
        changed
    }

    fn apply_failure(&mut self, update: &StatusUpdate) -> bool {
        let newer = match self.failed_at {
            None => true,
            Some(at) if update.timestamp != at => update.timestamp > at,
            Some(_) => errors_key(&update.errors) > errors_key(&self.errors),
        };
        if newer {
            self.failed_at = Some(update.timestamp);
            self.errors = update.errors.clone();
        }
        newer
    }

    /// Whether the message failed (terminal).
    pub fn is_failed(&self) -> bool {
        self.status == Some(StatusKind::Failed)
    }
}

/// Fold a status into an optional current state (the store's row may not exist yet).
pub fn fold_status(current: Option<MessageStatus>, update: &StatusUpdate) -> MessageStatus {
    let mut s = current.unwrap_or_default();
    s.apply(update);
    s
}

/// What identifies an event for deduplication.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DedupeKey {
    Message { wamid: String },
    Status { wamid: String, status: StatusKind },
}

/// The dedupe key of an event; `None` for events that are idempotent upserts anyway
/// (contacts, templates, numbers, edits, revokes, ...).
pub fn dedupe_key(event: &Event) -> Option<DedupeKey> {
    match event {
        Event::Message(m) => Some(DedupeKey::Message { wamid: m.wamid.clone() }),
        Event::Status(s) => Some(DedupeKey::Status { wamid: s.wamid.clone(), status: s.status }),
        _ => None,
    }
}

/// The conversation an event belongs to, if any.
pub fn conversation_of(event: &Event) -> Option<&ConversationKey> {
    match event {
        Event::Message(m) => Some(&m.conversation),
        Event::Status(s) => Some(&s.conversation),
        Event::MessageEdited { conversation, .. } | Event::MessageRevoked { conversation, .. } => Some(conversation),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ContactKey, MessageBody};
    use serde_json::Value;

    fn conv() -> ConversationKey {
        ConversationKey { phone_number_id: "1".into(), contact: ContactKey::from_wa_id("16505551234") }
    }

    fn msg(wamid: &str, side: Side, ts: Timestamp) -> Message {
        Message {
            wamid: wamid.into(),
            conversation: conv(),
            side,
            from_business: side != Side::Customer,
            timestamp: ts,
            body: MessageBody::Text { body: "x".into() },
            reply_to: None,
            referral: None,
            agent: if side == Side::Api { Some("ana".into()) } else { None },
            idempotency_key: None,
            raw: Value::Null,
        }
    }

    fn status(wamid: &str, kind: StatusKind, ts: Timestamp, code: Option<i64>) -> StatusUpdate {
        StatusUpdate {
            wamid: wamid.into(),
            conversation: conv(),
            status: kind,
            timestamp: ts,
            errors: code
                .map(|code| vec![MetaError { code, title: None, message: None, details: Some("d".into()) }])
                .unwrap_or_default(),
            biz_opaque_callback_data: None,
            conversation_info: None,
            pricing: None,
        }
    }

    fn state(events: &[Event]) -> ConversationState {
        let mut s = ConversationState::new();
        for e in events {
            s.apply(e);
        }
        s
    }

    const T: Timestamp = 1_700_000_000;

    #[test]
    fn latest_business_reply_owns_and_switches_back_and_forth() {
        let inbound = Event::Message(msg("in", Side::Customer, T));
        let api = Event::Message(msg("api", Side::Api, T + 10));
        let app = Event::Message(msg("app", Side::App, T + 20));
        let later_inbound = Event::Message(msg("in2", Side::Customer, T + 30));
        assert_eq!(state(std::slice::from_ref(&inbound)).owner(), Owner::Unowned);
        assert_eq!(state(&[inbound.clone(), api.clone()]).owner(), Owner::Api { agent: "ana".into() });
        assert_eq!(state(&[inbound.clone(), api.clone(), app.clone()]).owner(), Owner::App);
        // The customer writing again changes nothing.
        assert_eq!(state(&[api.clone(), app.clone(), later_inbound]).owner(), Owner::App);
        let api_again = Event::Message(msg("api2", Side::Api, T + 40));
        assert_eq!(state(&[app, api_again, api]).owner(), Owner::Api { agent: "ana".into() });
    }

    #[test]
    fn history_never_owns() {
        let mut h = msg("h", Side::History, T + 100);
        h.from_business = true;
        assert_eq!(state(&[Event::Message(h)]).owner(), Owner::Unowned);
    }

    #[test]
    fn window_opens_24h_from_inbound_and_only_inbound() {
        let s = state(&[Event::Message(msg("in", Side::Customer, T))]);
        assert_eq!(s.window(T + 3600), WindowState::Open { expires_at: T + WINDOW_SECS, remaining_secs: WINDOW_SECS - 3600 });
        assert_eq!(s.window(T + WINDOW_SECS), WindowState::Closed { reason: ClosedReason::Expired { at: T + WINDOW_SECS } });
        for side in [Side::Api, Side::App, Side::History] {
            let s = state(&[Event::Message(msg("x", side, T))]);
            assert_eq!(s.window(T), WindowState::Closed { reason: ClosedReason::NeverOpened });
        }
        // A business reply after the inbound does not extend it.
        let s = state(&[Event::Message(msg("in", Side::Customer, T)), Event::Message(msg("a", Side::App, T + 20 * 3600))]);
        assert_eq!(s.window(T + WINDOW_SECS + 1), WindowState::Closed { reason: ClosedReason::Expired { at: T + WINDOW_SECS } });
    }

    #[test]
    fn system_notices_do_not_open_the_window_or_count_unread() {
        let mut sys = msg("sys", Side::Customer, T);
        sys.body = MessageBody::System { body: "changed number".into() };
        assert_eq!(state(&[Event::Message(sys.clone())]).window(T), WindowState::Closed { reason: ClosedReason::NeverOpened });
        assert!(!counts_as_unread(&sys, None));
    }

    #[test]
    fn referral_gives_72_hours() {
        let mut m = msg("in", Side::Customer, T);
        m.referral = Some(serde_json::json!({"source_type": "ad"}));
        let s = state(&[Event::Message(m)]);
        assert_eq!(s.window(T + 71 * 3600), WindowState::Open { expires_at: T + FREE_ENTRY_WINDOW_SECS, remaining_secs: 3600 });
    }

    #[test]
    fn the_customer_waits_from_their_latest_message_until_any_business_reply_in_meta_time() {
        let asked = Event::Message(msg("in", Side::Customer, T));
        assert_eq!(state(&[]).waiting_since(), None, "nobody wrote");
        assert_eq!(state(std::slice::from_ref(&asked)).waiting_since(), Some(T));
        let again = Event::Message(msg("in2", Side::Customer, T + 30));
        assert_eq!(state(&[again.clone(), asked.clone()]).waiting_since(), Some(T + 30), "since their latest message, whatever the arrival order");
        for side in [Side::Api, Side::App] {
            let reply = Event::Message(msg("out", side, T + 60));
            assert_eq!(state(&[asked.clone(), reply.clone()]).waiting_since(), None, "{side:?} answered");
            assert_eq!(state(&[reply, asked.clone(), again.clone()]).waiting_since(), None, "a reply arriving first still answers");
        }
        let history = Event::Message(msg("old", Side::History, T + 60));
        assert_eq!(state(&[asked.clone(), history]).waiting_since(), Some(T), "history is no reply");
        let earlier_reply = Event::Message(msg("out", Side::Api, T - 60));
        assert_eq!(state(&[asked, earlier_reply]).waiting_since(), Some(T), "a reply before the question answers nothing");
    }

    #[test]
    fn error_131047_closes_until_a_newer_inbound() {
        let inbound = Event::Message(msg("in", Side::Customer, T));
        let failed = Event::Status(status("api", StatusKind::Failed, T + 60, Some(WINDOW_CLOSED_ERROR)));
        let s = state(&[inbound.clone(), failed.clone()]);
        assert_eq!(s.window(T + 120), WindowState::Closed { reason: ClosedReason::RejectedByMeta { at: T + 60 } });
        // Same second: still closed. Newer: open again.
        let same = Event::Message(msg("in2", Side::Customer, T + 60));
        assert!(matches!(state(&[inbound.clone(), failed.clone(), same]).window(T + 120), WindowState::Closed { .. }));
        let newer = Event::Message(msg("in3", Side::Customer, T + 61));
        assert_eq!(
            state(&[newer, failed.clone(), inbound]).window(T + 120),
            WindowState::Open { expires_at: T + 61 + WINDOW_SECS, remaining_secs: 61 + WINDOW_SECS - 120 }
        );
        // Other failures do not close it.
        let other = Event::Status(status("api", StatusKind::Failed, T + 60, Some(131026)));
        assert!(matches!(state(&[Event::Message(msg("in", Side::Customer, T)), other]).window(T + 120), WindowState::Open { .. }));
    }

    #[test]
    fn statuses_only_move_forward_and_failed_is_terminal() {
        let mut s = MessageStatus::default();
        assert!(s.apply(&status("w", StatusKind::Read, T + 3, None)));
        // A late "delivered" records when it was delivered, but the message stays read.
        s.apply(&status("w", StatusKind::Delivered, T + 2, None));
        assert_eq!(s.status, Some(StatusKind::Read));
        assert_eq!(s.delivered_at, Some(T + 2));
        s.apply(&status("w", StatusKind::Sent, T + 1, None));
        assert_eq!(s.status, Some(StatusKind::Read));
        assert_eq!(s.sent_at, Some(T + 1));
        // Duplicates change nothing.
        assert!(!s.apply(&status("w", StatusKind::Sent, T + 1, None)));

        let mut f = fold_status(None, &status("w", StatusKind::Failed, T + 5, Some(131026)));
        f.apply(&status("w", StatusKind::Read, T + 6, None));
        assert!(f.is_failed());
        assert_eq!(f.errors[0].code, 131026);
        assert_eq!(f.errors[0].details.as_deref(), Some("d"));
    }

    #[test]
    fn a_read_receipt_goes_once_for_the_latest_customer_message() {
        let mut s = state(&[Event::Message(msg("in1", Side::Customer, T)), Event::Message(msg("in2", Side::Customer, T + 5))]);
        assert_eq!(s.read_receipt(T + 4, T + 60), None, "the mark does not reach the latest message yet");
        assert_eq!(s.read_receipt(T + 60, T + 60).map(|m| m.wamid.as_str()), Some("in2"), "the latest covers the earlier");
        s.mark_read(T + 60);
        assert_eq!(s.read_receipt(T + 70, T + 70), None, "already marked read");
        s.apply(&Event::Message(msg("in3", Side::Customer, T + 80)));
        assert_eq!(s.read_receipt(T + 90, T + 90).map(|m| m.wamid.as_str()), Some("in3"), "a new message is due again");
    }

    #[test]
    fn no_read_receipt_after_a_phone_reply_for_history_or_past_thirty_days() {
        let replied = state(&[Event::Message(msg("in", Side::Customer, T)), Event::Message(msg("app", Side::App, T + 10))]);
        assert_eq!(replied.read_receipt(T + 60, T + 60), None, "the phone that replied marked it read");
        let api = state(&[Event::Message(msg("in", Side::Customer, T)), Event::Message(msg("api", Side::Api, T + 10))]);
        assert!(api.read_receipt(T + 60, T + 60).is_some(), "a reply through the API marks nothing read");
        let history = state(&[Event::Message(msg("old", Side::History, T))]);
        assert_eq!(history.read_receipt(T + 60, T + 60), None, "history is never receipted");
        let old = state(&[Event::Message(msg("in", Side::Customer, T))]);
        assert_eq!(old.read_receipt(T + READ_RECEIPT_MAX_AGE_SECS, T + READ_RECEIPT_MAX_AGE_SECS), None, "Meta refuses after 30 days");
        assert!(old.read_receipt(T + READ_RECEIPT_MAX_AGE_SECS - 1, T + READ_RECEIPT_MAX_AGE_SECS - 1).is_some());
    }

    #[test]
    fn unread_counts_inbound_after_reply_or_read_mark() {
        let mut s = state(&[Event::Message(msg("in", Side::Customer, T)), Event::Message(msg("a", Side::Api, T + 10))]);
        assert_eq!(s.unread_threshold(), Some(T + 10));
        assert!(!counts_as_unread(&msg("in", Side::Customer, T), s.unread_threshold()));
        assert!(counts_as_unread(&msg("in2", Side::Customer, T + 11), s.unread_threshold()));
        assert!(!counts_as_unread(&msg("h", Side::History, T + 11), s.unread_threshold()));
        s.mark_read(T + 20);
        assert!(!counts_as_unread(&msg("in2", Side::Customer, T + 11), s.unread_threshold()));
        assert!(!s.mark_read(T + 5), "the read mark never goes back");
        assert!(counts_as_unread(&msg("in", Side::Customer, T), None));
    }

    #[test]
    fn edits_latest_wins_revoke_is_terminal() {
        assert!(edit_applies(None, false, T));
        assert!(edit_applies(Some(T), false, T + 1));
        assert!(!edit_applies(Some(T + 1), false, T));
        assert!(!edit_applies(None, true, T + 100));
    }

    #[test]
    fn dedupe_keys_and_order() {
        let m = Event::Message(msg("w1", Side::Customer, T));
        assert_eq!(dedupe_key(&m), Some(DedupeKey::Message { wamid: "w1".into() }));
        let s = Event::Status(status("w1", StatusKind::Read, T, None));
        assert_eq!(dedupe_key(&s), Some(DedupeKey::Status { wamid: "w1".into(), status: StatusKind::Read }));
        assert!(order_key(T, 9) < order_key(T + 1, 1));
        assert!(order_key(T, 1) < order_key(T, 2));
        assert_eq!(conversation_of(&m), Some(&conv()));
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut s = state(&[Event::Message(msg("in", Side::Customer, T)), Event::Message(msg("a", Side::Api, T + 1))]);
        s.mark_read(T + 2);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ConversationState>(&json).unwrap(), s);
        // An empty object (older rows) reads as the empty state.
        assert_eq!(serde_json::from_str::<ConversationState>("{}").unwrap(), ConversationState::default());
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let s = state(&[Event::Message(msg("in", Side::Customer, i64::MAX - 5))]);
        assert!(matches!(s.window(i64::MIN), WindowState::Open { remaining_secs: i64::MAX, .. }));
        let s = state(&[Event::Message(msg("in", Side::Customer, i64::MIN))]);
        assert!(matches!(s.window(0), WindowState::Closed { .. }));
    }
}
