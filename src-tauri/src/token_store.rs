//! Where the desktop keeps its bridge token between sessions: the OS keyring (Secret Service on
//! Linux), entry service [`SERVICE`], user = the bridge URL. Never a plain file.
//!
//! Startup ([`startup`]): `COEXIST_TOKEN` wins (and the UI offers to remember it); without it the
//! keyring entry for `COEXIST_BRIDGE_URL` is used. Where no Secret Service runs (CI, Xvfb
//! sessions) nothing crashes: the token from the environment is used for this session only and
//! the UI says that the keyring is unavailable.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::{AppConfig, ConfigError, Mode, ENV_BRIDGE_URL, ENV_TOKEN};

/// The keyring entry's service name.
pub const SERVICE: &str = "coexist-inbox";
/// A keyring that does not answer in this time (e.g. waiting on an unlock prompt) counts as unavailable.
pub const KEYRING_DEADLINE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// No keyring service, locked, or not answering: the token cannot be kept between sessions.
    #[error("the system keyring is unavailable ({0})")]
    Unavailable(String),
    #[error("the system keyring refused the token: {0}")]
    Failed(String),
}

/// One saved token (for one bridge URL). A trait so the startup logic is testable.
pub trait TokenVault: Send + Sync {
    /// `Ok(None)`: the keyring works but holds no token for this bridge.
    fn load(&self) -> Result<Option<String>, VaultError>;
    fn save(&self, token: &str) -> Result<(), VaultError>;
    /// Remove the saved token (no error when there is none).
    fn forget(&self) -> Result<(), VaultError>;
}

/// The OS keyring through the `keyring` crate. Every call runs on a helper thread with a
/// deadline, so a keyring stuck on a prompt never freezes the app. Clones share the entry.
#[derive(Clone)]
pub struct KeyringVault {
    entry: Arc<keyring::Entry>,
}

impl KeyringVault {
    /// The entry for `bridge_url` in the default store (Secret Service on Linux).
    pub fn for_bridge(bridge_url: &str) -> Result<KeyringVault, VaultError> {
        keyring::Entry::new(SERVICE, bridge_url)
            .map(KeyringVault::from_entry)
            .map_err(classify)
    }

    pub fn from_entry(entry: keyring::Entry) -> KeyringVault {
        KeyringVault {
            entry: Arc::new(entry),
        }
    }

    /// The underlying entry (tests reach the mock credential through it).
    pub fn entry(&self) -> &keyring::Entry {
        &self.entry
    }

    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<keyring::Result<T>, VaultError> {
        let entry = self.entry.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("keyring".into())
            .spawn(move || {
                let _ = tx.send(f(&entry));
            })
            .map_err(|e| VaultError::Unavailable(format!("cannot start a keyring thread: {e}")))?;
        rx.recv_timeout(KEYRING_DEADLINE).map_err(|_| {
            VaultError::Unavailable(format!(
                "it did not answer within {} s; is it locked?",
                KEYRING_DEADLINE.as_secs()
            ))
        })
    }
}

impl TokenVault for KeyringVault {
    fn load(&self) -> Result<Option<String>, VaultError> {
        match self.call(|e| e.get_password())? {
            Ok(token) if !token.trim().is_empty() => Ok(Some(token.trim().to_string())),
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    fn save(&self, token: &str) -> Result<(), VaultError> {
        let token = token.to_string();
        self.call(move |e| e.set_password(&token))?.map_err(classify)
    }

    fn forget(&self) -> Result<(), VaultError> {
        match self.call(|e| e.delete_credential())? {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

fn classify(e: keyring::Error) -> VaultError {
    match e {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            VaultError::Unavailable(inner.to_string())
        }
        other => VaultError::Failed(other.to_string()),
    }
}

/// Where this session's token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// `COEXIST_TOKEN`.
    Env,
    /// The keyring entry for the bridge URL.
    Keyring,
    /// The in-process demo's own token (never stored).
    Demo,
}

/// What the UI shows about the token (`token_status`). Never carries the token itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenStatus {
    pub source: TokenSource,
    /// `None`: the keyring works. `Some(why)`: the token is for this session only.
    pub keyring_unavailable: Option<String>,
    /// The keyring holds exactly this session's token.
    pub remembered: bool,
    /// Offer "remember this token" (env token, keyring works, not saved yet).
    pub can_remember: bool,
}

/// The session's token and how it is kept. Managed as Tauri state.
pub struct TokenSession {
    bridge_url: String,
    token: String,
    vault: Option<Box<dyn TokenVault>>,
    status: std::sync::Mutex<TokenStatus>,
}

impl TokenSession {
    pub fn demo() -> TokenSession {
        TokenSession {
            bridge_url: String::new(),
            token: String::new(),
            vault: None,
            status: std::sync::Mutex::new(TokenStatus {
                source: TokenSource::Demo,
                keyring_unavailable: None,
                remembered: false,
                can_remember: false,
            }),
        }
    }

    pub fn bridge_url(&self) -> &str {
        &self.bridge_url
    }

    pub fn status(&self) -> TokenStatus {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_status(&self, f: impl FnOnce(&mut TokenStatus)) -> TokenStatus {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s);
        s.clone()
    }

    /// Save this session's token in the keyring for next time.
    pub fn remember(&self) -> Result<TokenStatus, String> {
        let vault = self.vault.as_ref().ok_or_else(|| {
            "the demo's token is new every time; there is nothing to remember".to_string()
        })?;
        match vault.save(&self.token) {
            Ok(()) => Ok(self.set_status(|s| {
                s.remembered = true;
                s.can_remember = false;
                s.keyring_unavailable = None;
            })),
            Err(e @ VaultError::Unavailable(_)) => {
                self.set_status(|s| {
                    s.keyring_unavailable = Some(e.to_string());
                    s.can_remember = false;
                });
                Err(format!("{e}: the token is used for this session only; set COEXIST_TOKEN again next time"))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Remove the saved token (this session keeps working).
    pub fn forget(&self) -> Result<TokenStatus, String> {
        let vault = self
            .vault
            .as_ref()
            .ok_or_else(|| "the demo stores no token".to_string())?;
        vault.forget().map_err(|e| e.to_string())?;
        Ok(self.set_status(|s| {
            s.remembered = false;
            s.can_remember = s.source == TokenSource::Env;
        }))
    }
}

/// The app's configuration with its token resolved, or a plain sentence saying what to do.
/// `open_vault` gives the vault for a bridge URL (the keyring in the app, a mock in tests).
pub fn startup(
    get: impl Fn(&str) -> Option<String>,
    open_vault: impl Fn(&str) -> Result<Box<dyn TokenVault>, VaultError>,
) -> Result<(AppConfig, TokenSession), String> {
    match AppConfig::from_lookup(&get) {
        Ok(config) => {
            let session = match &config.mode {
                Mode::Demo => TokenSession::demo(),
                Mode::Bridge { url, token } => {
                    env_session(url, token, open_vault(url))
                }
            };
            Ok((config, session))
        }
        Err(ConfigError::MissingToken) => {
            let url = get(ENV_BRIDGE_URL).unwrap_or_default().trim().trim_end_matches('/').to_string();
            let vault = open_vault(&url).map_err(|e| no_token(&url, Some(&e)))?;
            let token = match vault.load() {
                Ok(Some(token)) => token,
                Ok(None) => return Err(no_token(&url, None)),
                Err(e) => return Err(no_token(&url, Some(&e))),
            };
            let config = AppConfig::from_lookup(|name| {
                if name == ENV_TOKEN {
                    Some(token.clone())
                } else {
                    get(name)
                }
            })
            .map_err(|e| e.to_string())?;
            let status = TokenStatus {
                source: TokenSource::Keyring,
                keyring_unavailable: None,
                remembered: true,
                can_remember: false,
            };
            Ok((
                config,
                TokenSession {
                    bridge_url: url,
                    token,
                    vault: Some(vault),
                    status: std::sync::Mutex::new(status),
                },
            ))
        }
        Err(other) => Err(other.to_string()),
    }
}

/// A token from `COEXIST_TOKEN`: see whether the keyring works and already holds it.
fn env_session(
    url: &str,
    token: &str,
    vault: Result<Box<dyn TokenVault>, VaultError>,
) -> TokenSession {
    let (vault, loaded) = match vault {
        Ok(v) => {
            let loaded = v.load();
            (Some(v), loaded)
        }
        Err(e) => (None, Err(e)),
    };
    let status = match &loaded {
        Ok(saved) => TokenStatus {
            source: TokenSource::Env,
            keyring_unavailable: None,
            remembered: saved.as_deref() == Some(token),
            can_remember: saved.as_deref() != Some(token),
        },
        Err(e) => {
            tracing::warn!(error = %e, "keyring unavailable; the token from {ENV_TOKEN} is used for this session only");
            TokenStatus {
                source: TokenSource::Env,
                keyring_unavailable: Some(e.to_string()),
                remembered: false,
                can_remember: false,
            }
        }
    };
    TokenSession {
        bridge_url: url.to_string(),
        token: token.to_string(),
        vault,
        status: std::sync::Mutex::new(status),
    }
}

fn no_token(url: &str, keyring: Option<&VaultError>) -> String {
    match keyring {
        Some(e) => format!(
            "{e}, so no saved token for {url} can be read. Set {ENV_TOKEN} to your bridge token to sign in for this session."
        ),
        None => format!(
            "No token for {url} is saved in the system keyring. Set {ENV_TOKEN} to your bridge token (ask an admin for one); \
             the app can then remember it in the keyring."
        ),
    }
}

/// Where this session's bridge connection came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionOrigin {
    /// `COEXIST_BRIDGE_URL` (with `COEXIST_TOKEN` or a saved token).
    Env,
    /// The app's own sign-in (see `connection`): a saved URL and its keyring token.
    Saved,
    Demo,
}

/// What the app starts on.
pub struct Startup {
    pub config: AppConfig,
    pub token: TokenSession,
    pub origin: ConnectionOrigin,
    /// Why a saved connection could not be used (the app then starts as the demo).
    pub notice: Option<String>,
}

/// The environment wins; without it, the connection saved by the app's sign-in (its token from
/// the keyring); without that, the demo. A saved connection that no longer works starts the demo
/// with a notice instead of refusing to start.
pub fn startup_with_saved(
    get: impl Fn(&str) -> Option<String>,
    saved: Option<crate::connection::SavedConnection>,
    open_vault: impl Fn(&str) -> Result<Box<dyn TokenVault>, VaultError>,
) -> Result<Startup, String> {
    let env_set = [ENV_BRIDGE_URL, ENV_TOKEN].iter().any(|n| get(n).is_some_and(|v| !v.trim().is_empty()));
    let Some(saved) = saved.filter(|_| !env_set) else {
        let (config, token) = startup(&get, &open_vault)?;
        let origin = if config.is_demo() { ConnectionOrigin::Demo } else { ConnectionOrigin::Env };
        return Ok(Startup { config, token, origin, notice: None });
    };
    let url = saved.bridge_url;
    let with_saved_url = |name: &str| if name == ENV_BRIDGE_URL { Some(url.clone()) } else { get(name) };
    match startup(with_saved_url, &open_vault) {
        Ok((config, token)) => Ok(Startup { config, token, origin: ConnectionOrigin::Saved, notice: None }),
        Err(why) => {
            tracing::warn!(%url, %why, "the saved bridge connection cannot be used; starting the demo");
            let (config, token) = startup(&get, &open_vault)?;
            let notice = Some(format!("Could not sign in to {url} again: {why} Connect again to use it."));
            Ok(Startup { config, token, origin: ConnectionOrigin::Demo, notice })
        }
    }
}

/// The OS keyring's entry for a bridge URL, as a vault.
pub fn keyring_vault(url: &str) -> Result<Box<dyn TokenVault>, VaultError> {
    KeyringVault::for_bridge(url).map(|v| Box::new(v) as Box<dyn TokenVault>)
}

/// The app's startup: the real environment, the connection saved in `data_dir`, the OS keyring.
pub fn startup_from_env(data_dir: &std::path::Path) -> Result<Startup, String> {
    startup_with_saved(|name| std::env::var(name).ok(), crate::connection::load(data_dir), keyring_vault)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring::mock::MockCredential;
    use std::collections::HashMap;

    const URL: &str = "https://bridge.example.com";

    fn mock_vault() -> KeyringVault {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        KeyringVault::for_bridge(URL).unwrap()
    }

    fn fail_next(vault: &KeyringVault, e: keyring::Error) {
        let mock: &MockCredential = vault.entry().get_credential().downcast_ref().unwrap();
        mock.set_error(e);
    }

    fn unavailable() -> keyring::Error {
        keyring::Error::NoStorageAccess("org.freedesktop.secrets was not provided by any .service files".into())
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    /// `open_vault` for startup: the given vault, once.
    fn opener(vault: KeyringVault) -> impl Fn(&str) -> Result<Box<dyn TokenVault>, VaultError> {
        let cell = std::sync::Mutex::new(Some(vault));
        move |url| {
            assert_eq!(url, URL, "the keyring entry's user is the bridge URL");
            Ok(Box::new(cell.lock().unwrap().take().expect("opened once")) as Box<dyn TokenVault>)
        }
    }

    #[test]
    fn save_load_forget_round_trip() {
        let vault = mock_vault();
        assert_eq!(vault.load(), Ok(None), "nothing saved yet is not an error");
        vault.save("cxb_abc").unwrap();
        assert_eq!(vault.load(), Ok(Some("cxb_abc".into())));
        vault.forget().unwrap();
        assert_eq!(vault.load(), Ok(None));
        vault.forget().unwrap();
    }

    #[test]
    fn a_missing_secret_service_is_unavailable_not_a_crash() {
        let vault = mock_vault();
        fail_next(&vault, unavailable());
        assert!(matches!(vault.load(), Err(VaultError::Unavailable(_))));
        fail_next(&vault, keyring::Error::PlatformFailure("no session bus".into()));
        assert!(matches!(vault.save("t"), Err(VaultError::Unavailable(_))));
        fail_next(&vault, keyring::Error::BadEncoding(vec![0xff]));
        assert!(matches!(vault.load(), Err(VaultError::Failed(_))));
    }

    #[test]
    fn env_token_is_used_and_can_be_remembered() {
        let vault = mock_vault();
        let (config, session) = startup(env(&[(ENV_BRIDGE_URL, URL), (ENV_TOKEN, "cxb_env")]), opener(vault)).unwrap();
        assert_eq!(config.mode, Mode::Bridge { url: URL.into(), token: "cxb_env".into() });
        let s = session.status();
        assert_eq!((s.source, s.remembered, s.can_remember), (TokenSource::Env, false, true));
        assert_eq!(s.keyring_unavailable, None);
        let s = session.remember().unwrap();
        assert!(s.remembered && !s.can_remember);
        assert_eq!(session.vault.as_ref().unwrap().load(), Ok(Some("cxb_env".into())));
        let s = session.forget().unwrap();
        assert!(!s.remembered && s.can_remember);
        assert_eq!(session.vault.as_ref().unwrap().load(), Ok(None));
    }

    #[test]
    fn env_token_already_saved_shows_as_remembered() {
        let vault = mock_vault();
        vault.save("cxb_env").unwrap();
        let (_, session) = startup(env(&[(ENV_BRIDGE_URL, URL), (ENV_TOKEN, "cxb_env")]), opener(vault)).unwrap();
        assert!(session.status().remembered);
        assert!(!session.status().can_remember);
    }

    #[test]
    fn without_env_token_the_keyring_entry_signs_in() {
        let vault = mock_vault();
        vault.save("cxb_saved").unwrap();
        let (config, session) = startup(env(&[(ENV_BRIDGE_URL, "https://bridge.example.com/")]), opener(vault)).unwrap();
        assert_eq!(config.mode, Mode::Bridge { url: URL.into(), token: "cxb_saved".into() });
        assert_eq!(session.status().source, TokenSource::Keyring);
        assert!(session.status().remembered);
    }

    #[test]
    fn no_keyring_with_env_token_runs_for_this_session_only() {
        let vault = mock_vault();
        fail_next(&vault, unavailable());
        let (config, session) = startup(env(&[(ENV_BRIDGE_URL, URL), (ENV_TOKEN, "cxb_env")]), opener(vault)).unwrap();
        assert!(!config.is_demo());
        let s = session.status();
        assert!(s.keyring_unavailable.as_deref().unwrap().starts_with("the system keyring is unavailable"), "{s:?}");
        assert!(!s.can_remember && !s.remembered);
    }

    #[test]
    fn no_keyring_and_no_env_token_says_what_to_do() {
        let vault = mock_vault();
        fail_next(&vault, unavailable());
        let err = startup(env(&[(ENV_BRIDGE_URL, URL)]), opener(vault)).err().unwrap();
        assert!(err.contains("keyring is unavailable") && err.contains("Set COEXIST_TOKEN"), "{err}");
        let err = startup(env(&[(ENV_BRIDGE_URL, URL)]), opener(mock_vault())).err().unwrap();
        assert!(err.contains("No token for https://bridge.example.com is saved"), "{err}");
    }

    #[test]
    fn a_keyring_that_cannot_save_keeps_the_session_running() {
        let vault = mock_vault();
        let same_entry = vault.clone();
        let (_, session) = startup(env(&[(ENV_BRIDGE_URL, URL), (ENV_TOKEN, "cxb_env")]), opener(vault)).unwrap();
        fail_next(&same_entry, unavailable());
        let err = session.remember().unwrap_err();
        assert!(err.contains("for this session only"), "{err}");
        let s = session.status();
        assert!(s.keyring_unavailable.is_some() && !s.can_remember && !s.remembered, "{s:?}");
        assert_eq!(session.bridge_url(), URL);
    }

    #[test]
    fn demo_mode_touches_no_keyring() {
        let (config, session) = startup(env(&[]), |_| panic!("the demo must not open the keyring")).unwrap();
        assert!(config.is_demo());
        assert_eq!(session.status().source, TokenSource::Demo);
        assert!(session.remember().is_err());
    }

    fn saved() -> Option<crate::connection::SavedConnection> {
        Some(crate::connection::SavedConnection { bridge_url: URL.into() })
    }

    #[test]
    fn a_saved_connection_signs_in_with_its_keyring_token() {
        let vault = mock_vault();
        vault.save("cxb_saved").unwrap();
        let s = startup_with_saved(env(&[]), saved(), opener(vault)).unwrap();
        assert_eq!(s.origin, ConnectionOrigin::Saved);
        assert_eq!(s.config.mode, Mode::Bridge { url: URL.into(), token: "cxb_saved".into() });
        assert_eq!((s.token.status().source, s.notice), (TokenSource::Keyring, None));
    }

    #[test]
    fn the_environment_wins_over_a_saved_connection() {
        let s = startup_with_saved(env(&[(ENV_BRIDGE_URL, URL), (ENV_TOKEN, "cxb_env")]), saved(), opener(mock_vault())).unwrap();
        assert_eq!(s.origin, ConnectionOrigin::Env);
        assert_eq!(s.config.mode, Mode::Bridge { url: URL.into(), token: "cxb_env".into() });
    }

    #[test]
    fn a_saved_connection_without_its_token_starts_the_demo_and_says_why() {
        let s = startup_with_saved(env(&[]), saved(), opener(mock_vault())).unwrap();
        assert_eq!(s.origin, ConnectionOrigin::Demo);
        assert!(s.config.is_demo());
        let notice = s.notice.expect("a notice");
        assert!(notice.contains(URL) && notice.contains("Connect again"), "{notice}");
    }
}
