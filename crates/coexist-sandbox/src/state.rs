//! The sandbox's memory: numbers, customers (window + ownership), what was sent, templates, payment.
//!
//! The rules are the product's (and Meta's): only an inbound customer message opens or extends the
//! customer-service window (24 h, 72 h when the customer came from a referral); Business App echoes,
//! API sends and history never do; the last side to reply (API or App) owns the conversation.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::config::{NumberSpec, SandboxConfig};
use crate::templates::{default_catalog, Template};

pub const DAY: i64 = 24 * 60 * 60;
/// The customer-service window after an inbound message.
pub const WINDOW: i64 = DAY;
/// The window after an inbound message that carries a `referral` (free entry point).
pub const REFERRAL_WINDOW: i64 = 3 * DAY;

/// Who replied last to a customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Unowned,
    Api,
    App,
}

/// One customer of one number.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Customer {
    pub phone_number_id: String,
    pub wa_id: String,
    pub name: Option<String>,
    /// Unix seconds of the newest inbound message.
    pub last_inbound_at: Option<i64>,
    /// Unix seconds when the customer-service window closes.
    pub window_until: Option<i64>,
    /// Whether the window came from a referral (free entry point, 72 h).
    pub referral_window: bool,
    pub owner: Owner,
    /// Simulates a number that cannot receive messages: sends fail with 131026.
    pub unreachable: bool,
}

impl Customer {
    fn new(phone_number_id: &str, wa_id: &str) -> Self {
        Customer {
            phone_number_id: phone_number_id.into(),
            wa_id: wa_id.into(),
            name: None,
            last_inbound_at: None,
            window_until: None,
            referral_window: false,
            owner: Owner::Unowned,
            unreachable: false,
        }
    }

    pub fn window_open(&self, now: i64) -> bool {
        self.window_until.map(|until| now < until).unwrap_or(false)
    }

    /// An inbound message at `ts` opens or extends the window; an older (backdated) message
    /// never shortens a window a newer one opened.
    pub fn record_inbound(&mut self, ts: i64, referral: bool) {
        let until = ts + if referral { REFERRAL_WINDOW } else { WINDOW };
        if self.window_until.map(|u| until >= u).unwrap_or(true) {
            self.window_until = Some(until);
            self.referral_window = referral;
        }
        self.last_inbound_at = Some(self.last_inbound_at.map_or(ts, |t| t.max(ts)));
    }
}

/// The outcome of an accepted Graph send.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Outcome {
    /// Accepted and going through sent → delivered (→ read).
    Delivered,
    /// Accepted with a 200 but failing asynchronously with this Meta code.
    Failed { code: i64 },
}

/// One send the Graph API accepted (HTTP 200), for `GET /sandbox/sent`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SentRecord {
    pub wamid: String,
    pub phone_number_id: String,
    /// `to` as the client wrote it, and the normalized `wa_id` Meta answered with.
    pub to: String,
    pub wa_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Template sends: the header and body with parameters filled in.
    pub rendered: Option<String>,
    pub biz_opaque_callback_data: Option<String>,
    pub accepted_at: i64,
    pub outcome: Outcome,
    /// The request body exactly as received.
    pub request: Value,
}

/// An inbound message the business marked read (`"status": "read"`), for `GET /sandbox/read`:
/// the customer now sees blue ticks on it and on every earlier message of the chat.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadMark {
    pub phone_number_id: String,
    pub wa_id: String,
    pub message_id: String,
    /// With a typing indicator: the customer saw "typing…".
    pub typing: bool,
}

/// A message the Business App sent (so it can later be edited or revoked).
#[derive(Clone, Debug, PartialEq)]
pub struct AppMessage {
    pub phone_number_id: String,
    pub wa_id: String,
    pub revoked: bool,
}

/// The users one number has blocked (`POST /{phone_number_id}/block_users`), in the order they
/// were blocked: the order `GET .../block_users` lists them. The set answers "is this customer
/// blocked?" on every send and inbound message without walking up to 64,000 entries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Blocklist {
    order: Vec<String>,
    members: HashSet<String>,
}

impl Blocklist {
    pub fn contains(&self, wa_id: &str) -> bool {
        self.members.contains(wa_id)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Block `wa_id` at the end of the list; false if it was already there (blocking again keeps
    /// the original position, as a second block changes nothing).
    pub fn insert(&mut self, wa_id: &str) -> bool {
        if !self.members.insert(wa_id.to_string()) {
            return false;
        }
        self.order.push(wa_id.to_string());
        true
    }

    /// Unblock `wa_id`; false if it was not blocked.
    pub fn remove(&mut self, wa_id: &str) -> bool {
        if !self.members.remove(wa_id) {
            return false;
        }
        self.order.retain(|w| w != wa_id);
        true
    }

    /// The blocked wa_ids, oldest block first.
    pub fn users(&self) -> &[String] {
        &self.order
    }
}

/// A number plus its live flags.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumberState {
    #[serde(flatten)]
    pub spec: NumberSpec,
    pub waba_id: String,
    /// False after offboarding (`PARTNER_REMOVED`, `ACCOUNT_OFFBOARDED`) until `ACCOUNT_RECONNECTED`.
    pub connected: bool,
}

#[derive(Debug)]
pub struct State {
    pub waba_id: String,
    pub numbers: Vec<NumberState>,
    pub customers: HashMap<(String, String), Customer>,
    pub sent: Vec<SentRecord>,
    pub app_messages: HashMap<String, AppMessage>,
    /// Inbound wamid → (phone_number_id, wa_id), so mark-as-read can be checked.
    pub inbound: HashMap<String, (String, String)>,
    /// Every mark-as-read accepted, in order.
    pub read: Vec<ReadMark>,
    pub templates: Vec<Template>,
    pub payment_valid: bool,
    /// Media ids customers sent → their mime type (served when there is a sample, see `media`).
    pub media: HashMap<String, String>,
    /// Files the business uploaded (`POST /{phone_number_id}/media`), by media id.
    pub uploads: HashMap<String, crate::media::Upload>,
    /// Each number's block list, by phone_number_id (absent: nobody blocked yet).
    pub blocklists: HashMap<String, Blocklist>,
}

impl State {
    pub fn new(config: &SandboxConfig) -> Self {
        State {
            waba_id: config.waba_id.clone(),
            numbers: config
                .numbers
                .iter()
                .map(|spec| NumberState {
                    spec: spec.clone(),
                    waba_id: config.waba_id.clone(),
                    connected: true,
                })
                .collect(),
            customers: HashMap::new(),
            sent: Vec::new(),
            app_messages: HashMap::new(),
            inbound: HashMap::new(),
            read: Vec::new(),
            templates: default_catalog(),
            payment_valid: true,
            media: HashMap::new(),
            uploads: HashMap::new(),
            blocklists: HashMap::new(),
        }
    }

    pub fn number(&self, phone_number_id: &str) -> Option<&NumberState> {
        self.numbers
            .iter()
            .find(|n| n.spec.phone_number_id == phone_number_id)
    }

    /// The number a control request means: the one named, or the first.
    pub fn number_or_default(&self, phone_number_id: Option<&str>) -> Option<&NumberState> {
        match phone_number_id {
            Some(id) => self.number(id),
            None => self.numbers.first(),
        }
    }

    pub fn customer_mut(&mut self, phone_number_id: &str, wa_id: &str) -> &mut Customer {
        self.customers
            .entry((phone_number_id.to_string(), wa_id.to_string()))
            .or_insert_with(|| Customer::new(phone_number_id, wa_id))
    }

    pub fn customer(&self, phone_number_id: &str, wa_id: &str) -> Option<&Customer> {
        self.customers
            .get(&(phone_number_id.to_string(), wa_id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_opens_24h_and_referral_72h() {
        let mut c = Customer::new("p", "1");
        assert!(!c.window_open(100));
        c.record_inbound(100, false);
        assert!(c.window_open(100 + WINDOW - 1));
        assert!(!c.window_open(100 + WINDOW));
        c.record_inbound(200, true);
        assert!(c.window_open(200 + REFERRAL_WINDOW - 1));
        assert!(!c.window_open(200 + REFERRAL_WINDOW));
    }

    #[test]
    fn backdated_message_never_shortens_window() {
        let mut c = Customer::new("p", "1");
        c.record_inbound(1_000_000, false);
        c.record_inbound(1_000_000 - 2 * DAY, false);
        assert_eq!(c.window_until, Some(1_000_000 + WINDOW));
        assert_eq!(c.last_inbound_at, Some(1_000_000));
    }
}
