//! The bridge this desktop signs in to when it starts without `COEXIST_BRIDGE_URL`: chosen in the
//! app's "Connect to your team's bridge" form and kept as [`FILE`] in the data directory. Only
//! the URL is in the file; the token is in the OS keyring under that URL (see `token_store`).
//!
//! [`connect`] checks the URL and token with the bridge before keeping anything, so a typo never
//! leaves the app unable to start; [`disconnect`] forgets both, and the next start is the demo.

use std::path::{Path, PathBuf};
use std::time::Duration;

use coexist_engine::{BridgeClient, ClientError};
use serde::{Deserialize, Serialize};

use crate::token_store::{TokenVault, VaultError};

pub const FILE: &str = "connection.json";
/// How long the sign-in check waits for the bridge.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedConnection {
    pub bridge_url: String,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The saved connection, if any. A damaged file is reported in the log and ignored (the app then
/// starts as the demo and the user can connect again).
pub fn load(data_dir: &Path) -> Option<SavedConnection> {
    let text = std::fs::read_to_string(path(data_dir)).ok()?;
    match serde_json::from_str::<SavedConnection>(&text) {
        Ok(saved) => Some(saved),
        Err(e) => {
            tracing::warn!(file = %path(data_dir).display(), error = %e, "ignoring a damaged saved connection");
            None
        }
    }
}

/// Write the file whole or not at all (a temporary file renamed over it).
fn save(data_dir: &Path, saved: &SavedConnection) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let tmp = data_dir.join(format!("{FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(saved).expect("serializes"))?;
    std::fs::rename(tmp, path(data_dir))
}

fn clear(data_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path(data_dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `https://bridge.example.com/` → `https://bridge.example.com`; anything but http(s) is refused.
pub fn normalize_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(url.to_string()),
        _ => Err(format!("{url:?} is not a bridge address: give it as https://bridge.example.com")),
    }
}

/// Sign in: the bridge must accept `token`, the keyring must keep it, then the URL is saved.
/// Returns the agent's name as the bridge knows it. Nothing is kept when any step fails.
pub async fn connect(
    data_dir: &Path,
    url: &str,
    token: &str,
    open_vault: impl Fn(&str) -> Result<Box<dyn TokenVault>, VaultError>,
) -> Result<String, String> {
    let url = normalize_url(url)?;
    let token = token.trim();
    if token.is_empty() {
        return Err("Paste the token your admin gave you (`coexist-bridge add-user` prints it).".into());
    }
    let me = match tokio::time::timeout(CHECK_TIMEOUT, BridgeClient::new(&url, token).me()).await {
        Ok(Ok(me)) => me,
        Ok(Err(ClientError::Auth(_))) => return Err("The bridge refused this token: check it, or ask your admin for a new one.".into()),
        Ok(Err(e)) => return Err(format!("Could not sign in to {url}: {e}")),
        Err(_) => return Err(format!("{url} did not answer within {} s: check the address and your network.", CHECK_TIMEOUT.as_secs())),
    };
    let keep = open_vault(&url).and_then(|vault| vault.save(token));
    if let Err(e) = keep {
        return Err(format!(
            "{e}, so the token cannot be remembered. Start the app with COEXIST_BRIDGE_URL and COEXIST_TOKEN set instead."
        ));
    }
    save(data_dir, &SavedConnection { bridge_url: url }).map_err(|e| format!("cannot save the connection in {}: {e}", data_dir.display()))?;
    Ok(me.name)
}

/// Sign out: forget the saved token (when the keyring answers) and the saved URL.
pub fn disconnect(data_dir: &Path, open_vault: impl Fn(&str) -> Result<Box<dyn TokenVault>, VaultError>) -> Result<(), String> {
    if let Some(saved) = load(data_dir) {
        if let Err(e) = open_vault(&saved.bridge_url).and_then(|vault| vault.forget()) {
            tracing::warn!(error = %e, "the saved token could not be removed from the keyring");
        }
    }
    clear(data_dir).map_err(|e| format!("cannot remove {}: {e}", path(data_dir).display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_trimmed() {
        assert_eq!(normalize_url(" https://bridge.example.com/ ").unwrap(), "https://bridge.example.com");
        assert_eq!(normalize_url("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        for bad in ["bridge.example.com", "ftp://x", "https://", ""] {
            assert!(normalize_url(bad).unwrap_err().contains("https://bridge.example.com"), "{bad}");
        }
    }

    #[test]
    fn a_saved_connection_round_trips_and_a_damaged_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), None);
        let saved = SavedConnection { bridge_url: "https://b.example".into() };
        save(dir.path(), &saved).unwrap();
        assert_eq!(load(dir.path()), Some(saved));
        std::fs::write(dir.path().join(FILE), "{not json").unwrap();
        assert_eq!(load(dir.path()), None);
        clear(dir.path()).unwrap();
        clear(dir.path()).unwrap();
        assert!(!dir.path().join(FILE).exists());
    }
}
