//! How a sandbox is set up: credentials, the webhook target, the seed, its numbers and timings.

use std::time::Duration;

use serde::Serialize;

/// Whether a number is shared with the WhatsApp Business App (coexistence) or API-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberMode {
    Coexistence,
    Standard,
}

/// One business phone number of the sandbox's WABA.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumberSpec {
    pub phone_number_id: String,
    /// As people write it, e.g. `+1 555 555 0100`. Webhook metadata carries the digits only.
    pub display_number: String,
    pub verified_name: String,
    pub mode: NumberMode,
    /// Messages per second the number may send: 20 for coexistence (fixed by Meta), 80+ standard.
    pub tier_mps: u32,
}

impl NumberSpec {
    /// The default coexistence number (`+1 555 555 0100`, 20 mps).
    pub fn default_coexistence() -> Self {
        NumberSpec {
            phone_number_id: "110200300400501".into(),
            display_number: "+1 555 555 0100".into(),
            verified_name: "Sandbox Shop".into(),
            mode: NumberMode::Coexistence,
            tier_mps: 20,
        }
    }

    /// The digits Meta puts in `metadata.display_phone_number` and in echoes' `from`.
    pub fn display_digits(&self) -> String {
        self.display_number
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect()
    }
}

/// Delays between an accepted send and its `sent`, `delivered` and `read` statuses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatusDelays {
    pub sent: Duration,
    pub delivered: Duration,
    pub read: Duration,
}

/// Everything `start` needs. `SandboxConfig::new(app_secret, access_token)` gives sane defaults.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Where webhooks are POSTed. `None` queues them until one is set (they are never dropped).
    pub webhook_url: Option<String>,
    /// Signs every webhook body (`X-Hub-Signature-256`), as the Meta app secret does.
    pub app_secret: String,
    /// The only bearer token the Graph routes accept.
    pub access_token: String,
    /// Seeds every generated id, so runs are reproducible.
    pub seed: u64,
    pub waba_id: String,
    pub numbers: Vec<NumberSpec>,
    /// Pair rate (business number → one customer): one message per `pair_period` sustained, with
    /// bursts of up to `pair_burst` that borrow from the future (Meta documents 1 per 6 s and a
    /// burst of up to 45). Exceeding it answers 131056.
    pub pair_period: Duration,
    pub pair_burst: u32,
    pub status_delays: StatusDelays,
    /// Whether accepted sends go on to `read` (customers who read everything) or stop at `delivered`.
    pub auto_read: bool,
    /// When set, the customer taps the first reply button (or list row) of every delivered
    /// interactive `button`/`list` message this long after `delivered` (and after `read`), so the
    /// try-it demo answers itself. `None` (the default): only `POST /sandbox/customers/tap` taps.
    pub auto_tap: Option<Duration>,
    /// Deliver `read` before `delivered`, as Meta sometimes does, to prove the client only moves
    /// statuses forward. Off by default.
    pub statuses_out_of_order: bool,
    /// Webhook delivery retry backoff: first wait, doubled per failure up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl SandboxConfig {
    pub fn new(app_secret: impl Into<String>, access_token: impl Into<String>) -> Self {
        SandboxConfig {
            webhook_url: None,
            app_secret: app_secret.into(),
            access_token: access_token.into(),
            seed: 1,
            waba_id: "120200300400502".into(),
            numbers: vec![NumberSpec::default_coexistence()],
            pair_period: Duration::from_secs(6),
            pair_burst: 45,
            status_delays: StatusDelays {
                sent: Duration::from_millis(20),
                delivered: Duration::from_millis(150),
                read: Duration::from_millis(600),
            },
            auto_read: true,
            auto_tap: None,
            statuses_out_of_order: false,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(10),
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig::new("sandbox-app-secret", "sandbox-access-token")
    }
}
