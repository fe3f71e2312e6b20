//! Where the app gets its messages from, decided once at startup from the environment (or, when
//! it names no bridge, from the app's own sign-in: see `connection` and `token_store`).
//!
//! `COEXIST_BRIDGE_URL` + `COEXIST_TOKEN` connect to a real bridge. Without them the app runs in
//! demo mode: a simulated WhatsApp (sandbox) and a bridge started in-process, so anyone can try the
//! inbox without a Meta account. `COEXIST_DATA_DIR` moves the local inbox (default: Tauri's app
//! data dir).

use std::path::PathBuf;

pub const ENV_BRIDGE_URL: &str = "COEXIST_BRIDGE_URL";
pub const ENV_TOKEN: &str = "COEXIST_TOKEN";
pub const ENV_DATA_DIR: &str = "COEXIST_DATA_DIR";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A bridge the team runs; the token identifies the agent.
    Bridge { url: String, token: String },
    /// Sandbox + bridge in this process.
    Demo,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppConfig {
    pub mode: Mode,
    /// `None`: use Tauri's app data dir.
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{ENV_BRIDGE_URL} is set but {ENV_TOKEN} is not: set both to connect to a bridge, or neither to try the demo")]
    MissingToken,
    #[error("{ENV_TOKEN} is set but {ENV_BRIDGE_URL} is not: set both to connect to a bridge, or neither to try the demo")]
    MissingUrl,
    #[error("{ENV_BRIDGE_URL}={0:?} is not an http:// or https:// URL")]
    BadUrl(String),
}

/// `COEXIST_DATA_DIR`, when set (the app's data dir otherwise).
pub fn data_dir_from_env() -> Option<PathBuf> {
    std::env::var(ENV_DATA_DIR).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).map(PathBuf::from)
}

impl AppConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The same as [`AppConfig::from_env`] over any lookup (testable without touching the process env).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let nonempty = |name| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mode = match (nonempty(ENV_BRIDGE_URL), nonempty(ENV_TOKEN)) {
            (Some(url), Some(token)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::BadUrl(url));
                }
                Mode::Bridge {
                    url: url.trim_end_matches('/').to_string(),
                    token,
                }
            }
            (Some(_), None) => return Err(ConfigError::MissingToken),
            (None, Some(_)) => return Err(ConfigError::MissingUrl),
            (None, None) => Mode::Demo,
        };
        Ok(AppConfig {
            mode,
            data_dir: nonempty(ENV_DATA_DIR).map(PathBuf::from),
        })
    }

    pub fn is_demo(&self) -> bool {
        self.mode == Mode::Demo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<AppConfig, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AppConfig::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn nothing_set_is_demo_in_default_dir() {
        assert_eq!(
            cfg(&[]).unwrap(),
            AppConfig {
                mode: Mode::Demo,
                data_dir: None
            }
        );
    }

    #[test]
    fn url_and_token_connect_to_a_bridge() {
        let c = cfg(&[
            (ENV_BRIDGE_URL, "http://127.0.0.1:8080/"),
            (ENV_TOKEN, "tok"),
            (ENV_DATA_DIR, "/tmp/x"),
        ])
        .unwrap();
        assert_eq!(
            c.mode,
            Mode::Bridge {
                url: "http://127.0.0.1:8080".into(),
                token: "tok".into()
            }
        );
        assert_eq!(c.data_dir, Some(PathBuf::from("/tmp/x")));
        assert!(!c.is_demo());
    }

    #[test]
    fn half_configured_is_an_error_not_a_silent_demo() {
        assert_eq!(
            cfg(&[(ENV_BRIDGE_URL, "http://x")]),
            Err(ConfigError::MissingToken)
        );
        assert_eq!(cfg(&[(ENV_TOKEN, "t")]), Err(ConfigError::MissingUrl));
        assert_eq!(
            cfg(&[(ENV_BRIDGE_URL, "x"), (ENV_TOKEN, "t")]),
            Err(ConfigError::BadUrl("x".into()))
        );
    }

    #[test]
    fn blank_values_count_as_unset() {
        assert_eq!(
            cfg(&[(ENV_BRIDGE_URL, " "), (ENV_TOKEN, "")]).unwrap().mode,
            Mode::Demo
        );
    }
}
