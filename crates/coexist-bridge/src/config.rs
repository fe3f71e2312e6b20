//! The bridge's configuration. Secrets come from the environment or a TOML file and are never
//! logged: `Debug` prints them as `<redacted>`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::database::DatabaseLocation;

pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_GRAPH_VERSION: &str = "v21.0";
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct BridgeConfig {
    /// The event log: an SQLite file or a Postgres database.
    pub database: DatabaseLocation,
    /// Meta app secret: the HMAC key of `X-Hub-Signature-256`.
    pub app_secret: String,
    /// What Meta must send as `hub.verify_token` in the subscription handshake.
    pub verify_token: String,
    /// The Graph API access token. Only the bridge holds it; agents never see it.
    pub access_token: String,
    /// Graph API base URL without version, e.g. `https://graph.facebook.com`.
    pub graph_url: String,
    pub graph_version: String,
    /// Largest accepted webhook body in bytes (default 8 MiB); larger gets 413.
    pub body_limit: usize,
    /// Timeout of one Graph API call.
    pub graph_timeout: Duration,
    /// Attempts per Graph call, the first included (retries on 5xx, timeouts, 130429).
    pub graph_attempts: u32,
    /// First retry delay; doubles each retry, capped at `retry_max_delay`.
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    /// How long after a send leaves the limiter assumes it arrived at Meta when no answer came
    /// back sooner (see `limiter`): a send waits until the send `cap` before it has been answered,
    /// or is this old, plus one second. Default 50 ms; raise it over a jittery WAN.
    pub limiter_guard: Duration,
    /// Longest `wait` a long-poll may ask for.
    pub max_long_poll: Duration,
    /// Whether agents' read marks (and "typing…") reach customers. Off, a team keeps its
    /// customers' ticks grey until it answers (`COEXIST_READ_RECEIPTS=off`).
    pub read_receipts: bool,
    /// How often each number's block list is read from Meta, so blocks made on the phone reach
    /// every desktop (`None`: only when someone opens a block list). Default 30 minutes;
    /// `COEXIST_BLOCK_CHECK_MINUTES=0` turns it off.
    pub block_check: Option<Duration>,
}

impl BridgeConfig {
    /// Defaults with empty secrets (fill them in before serving Meta).
    pub fn new(database: impl Into<DatabaseLocation>) -> Self {
        BridgeConfig {
            database: database.into(),
            app_secret: String::new(),
            verify_token: String::new(),
            access_token: String::new(),
            graph_url: DEFAULT_GRAPH_URL.into(),
            graph_version: DEFAULT_GRAPH_VERSION.into(),
            body_limit: DEFAULT_BODY_LIMIT,
            graph_timeout: Duration::from_secs(15),
            graph_attempts: 5,
            retry_base_delay: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(4),
            limiter_guard: Duration::from_millis(50),
            max_long_poll: Duration::from_secs(60),
            read_receipts: true,
            block_check: Some(Duration::from_secs(30 * 60)),
        }
    }

    /// Reads an optional TOML file, then lets the environment (`COEXIST_APP_SECRET`,
    /// `COEXIST_VERIFY_TOKEN`, `COEXIST_ACCESS_TOKEN`, `COEXIST_GRAPH_URL`,
    /// `COEXIST_GRAPH_VERSION`, `COEXIST_BODY_LIMIT`, `COEXIST_LIMITER_GUARD_MS`,
    /// `COEXIST_READ_RECEIPTS`, `COEXIST_BLOCK_CHECK_MINUTES`) override it.
    pub fn load(database: impl Into<DatabaseLocation>, file: Option<&Path>) -> Result<Self> {
        let mut config = BridgeConfig::new(database);
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
            let file: FileConfig =
                toml::from_str(&text).with_context(|| format!("config file {} is not valid", path.display()))?;
            config.apply(file);
        }
        config.apply(FileConfig::from_env()?);
        Ok(config)
    }

    fn apply(&mut self, f: FileConfig) {
        let set = |dst: &mut String, src: Option<String>| {
            if let Some(v) = src {
                *dst = v;
            }
        };
        set(&mut self.app_secret, f.app_secret);
        set(&mut self.verify_token, f.verify_token);
        set(&mut self.access_token, f.access_token);
        set(&mut self.graph_url, f.graph_url.map(|u| u.trim_end_matches('/').to_string()));
        set(&mut self.graph_version, f.graph_version);
        if let Some(limit) = f.body_limit {
            self.body_limit = limit;
        }
        if let Some(ms) = f.limiter_guard_ms {
            self.limiter_guard = Duration::from_millis(ms);
        }
        if let Some(on) = f.read_receipts {
            self.read_receipts = on;
        }
        if let Some(minutes) = f.block_check_minutes {
            self.block_check = (minutes > 0).then(|| Duration::from_secs(minutes * 60));
        }
    }

    /// What is missing to serve Meta, in words.
    pub fn missing_secrets(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.app_secret.is_empty() {
            missing.push("COEXIST_APP_SECRET (Meta app secret, to verify webhook signatures)");
        }
        if self.verify_token.is_empty() {
            missing.push("COEXIST_VERIFY_TOKEN (the token you typed into Meta's webhook setup)");
        }
        if self.access_token.is_empty() {
            missing.push("COEXIST_ACCESS_TOKEN (a system-user access token, for sends and templates)");
        }
        missing
    }
}

impl std::fmt::Debug for BridgeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &str| if s.is_empty() { "<unset>" } else { "<redacted>" };
        f.debug_struct("BridgeConfig")
            .field("database", &self.database)
            .field("app_secret", &redact(&self.app_secret))
            .field("verify_token", &redact(&self.verify_token))
            .field("access_token", &redact(&self.access_token))
            .field("graph_url", &self.graph_url)
            .field("graph_version", &self.graph_version)
            .field("body_limit", &self.body_limit)
            .field("read_receipts", &self.read_receipts)
            .field("block_check", &self.block_check)
            .finish_non_exhaustive()
    }
}

/// The TOML file's keys (all optional), also filled from the environment.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
    pub access_token: Option<String>,
    pub graph_url: Option<String>,
    pub graph_version: Option<String>,
    pub body_limit: Option<usize>,
    /// See `BridgeConfig::limiter_guard`.
    pub limiter_guard_ms: Option<u64>,
    /// See `BridgeConfig::read_receipts`.
    pub read_receipts: Option<bool>,
    /// See `BridgeConfig::block_check` (0: off).
    pub block_check_minutes: Option<u64>,
}

impl FileConfig {
    fn from_env() -> Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let body_limit = match var("COEXIST_BODY_LIMIT") {
            Some(v) => Some(v.parse().with_context(|| format!("COEXIST_BODY_LIMIT={v:?} is not a number of bytes"))?),
            None => None,
        };
        let limiter_guard_ms = match var("COEXIST_LIMITER_GUARD_MS") {
            Some(v) => Some(v.parse().with_context(|| format!("COEXIST_LIMITER_GUARD_MS={v:?} is not a number of milliseconds"))?),
            None => None,
        };
        let read_receipts = match var("COEXIST_READ_RECEIPTS").as_deref() {
            None => None,
            Some("on" | "true" | "1") => Some(true),
            Some("off" | "false" | "0") => Some(false),
            Some(v) => anyhow::bail!("COEXIST_READ_RECEIPTS={v:?}: say on or off"),
        };
        let block_check_minutes = match var("COEXIST_BLOCK_CHECK_MINUTES") {
            Some(v) => Some(v.parse().with_context(|| format!("COEXIST_BLOCK_CHECK_MINUTES={v:?} is not a number of minutes (0 turns the check off)"))?),
            None => None,
        };
        Ok(FileConfig {
            limiter_guard_ms,
            read_receipts,
            block_check_minutes,
            app_secret: var("COEXIST_APP_SECRET"),
            verify_token: var("COEXIST_VERIFY_TOKEN"),
            access_token: var("COEXIST_ACCESS_TOKEN"),
            graph_url: var("COEXIST_GRAPH_URL"),
            graph_version: var("COEXIST_GRAPH_VERSION"),
            body_limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let mut c = BridgeConfig::new("x.db");
        c.app_secret = "s3cr3t-app".into();
        c.access_token = "EAAtoken".into();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t-app") && !shown.contains("EAAtoken"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn toml_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.toml");
        std::fs::write(&path, "app_secret = \"abc\"\ngraph_url = \"http://127.0.0.1:9/\"\n").unwrap();
        let mut c = BridgeConfig::new("x.db");
        c.apply(toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap());
        assert_eq!(c.app_secret, "abc");
        assert_eq!(c.graph_url, "http://127.0.0.1:9");
        assert!(toml::from_str::<FileConfig>("app_secrt = 1").is_err());
        c.apply(toml::from_str("read_receipts = false").unwrap());
        assert!(!c.read_receipts);
        assert_eq!(c.block_check, Some(Duration::from_secs(1800)), "every 30 minutes unless told");
        c.apply(toml::from_str("block_check_minutes = 5").unwrap());
        assert_eq!(c.block_check, Some(Duration::from_secs(300)));
        c.apply(toml::from_str("block_check_minutes = 0").unwrap());
        assert_eq!(c.block_check, None, "0 turns it off");
    }
}
