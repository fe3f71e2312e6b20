//! The app's sign-in against a real bridge: the token is checked with the bridge before anything
//! is kept; then the URL is saved and the token is in the vault, and the next start signs in
//! with them. Signing out forgets both.

mod app_support;

use std::sync::{Arc, Mutex};

use coexist_inbox::config::Mode;
use coexist_inbox::connection::{self, SavedConnection};
use coexist_inbox::token_store::{startup_with_saved, ConnectionOrigin, TokenVault, VaultError};
use app_support::stack::{Stack, AGENT};

/// A vault in memory; `None` inside makes it behave like a missing keyring service.
#[derive(Clone, Default)]
struct MemoryVault {
    token: Arc<Mutex<Option<String>>>,
    unavailable: bool,
}

impl TokenVault for MemoryVault {
    fn load(&self) -> Result<Option<String>, VaultError> {
        self.check()?;
        Ok(self.token.lock().unwrap().clone())
    }
    fn save(&self, token: &str) -> Result<(), VaultError> {
        self.check()?;
        *self.token.lock().unwrap() = Some(token.to_string());
        Ok(())
    }
    fn forget(&self) -> Result<(), VaultError> {
        self.check()?;
        *self.token.lock().unwrap() = None;
        Ok(())
    }
}

impl MemoryVault {
    fn check(&self) -> Result<(), VaultError> {
        match self.unavailable {
            true => Err(VaultError::Unavailable("no Secret Service on this bus".into())),
            false => Ok(()),
        }
    }

    fn opener(&self) -> impl Fn(&str) -> Result<Box<dyn TokenVault>, VaultError> {
        let vault = self.clone();
        move |_url| Ok(Box::new(vault.clone()) as Box<dyn TokenVault>)
    }
}

#[tokio::test]
async fn signing_in_checks_the_token_then_keeps_url_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.unwrap();
    let data = dir.path().join("app");
    let vault = MemoryVault::default();

    let refused = connection::connect(&data, &stack.bridge_url(), "cxb_wrong", vault.opener()).await.unwrap_err();
    assert!(refused.contains("refused this token"), "{refused}");
    let typo = connection::connect(&data, "bridge.example.com", &stack.token, vault.opener()).await.unwrap_err();
    assert!(typo.contains("https://bridge.example.com"), "{typo}");
    let closed = connection::connect(&data, "http://127.0.0.1:9", &stack.token, vault.opener()).await.unwrap_err();
    assert!(closed.contains("127.0.0.1:9"), "{closed}");
    let no_keyring = MemoryVault { unavailable: true, ..Default::default() };
    let unkept = connection::connect(&data, &stack.bridge_url(), &stack.token, no_keyring.opener()).await.unwrap_err();
    assert!(unkept.contains("cannot be remembered") && unkept.contains("COEXIST_TOKEN"), "{unkept}");
    assert_eq!(connection::load(&data), None, "nothing kept after a failed sign-in");
    assert_eq!(*vault.token.lock().unwrap(), None);

    let url = format!("{}/", stack.bridge_url());
    let agent = connection::connect(&data, &url, &stack.token, vault.opener()).await.unwrap();
    assert_eq!(agent, AGENT);
    let saved = connection::load(&data).expect("the URL is saved");
    assert_eq!(saved, SavedConnection { bridge_url: stack.bridge_url() });
    assert_eq!(vault.token.lock().unwrap().as_deref(), Some(stack.token.as_str()));

    let next = startup_with_saved(|_| None, Some(saved), vault.opener()).unwrap();
    assert_eq!(next.origin, ConnectionOrigin::Saved);
    assert_eq!(next.config.mode, Mode::Bridge { url: stack.bridge_url(), token: stack.token.clone() });

    connection::disconnect(&data, vault.opener()).unwrap();
    assert_eq!(connection::load(&data), None);
    assert_eq!(*vault.token.lock().unwrap(), None, "signing out forgets the token");
    let after = startup_with_saved(|_| None, connection::load(&data), vault.opener()).unwrap();
    assert_eq!(after.origin, ConnectionOrigin::Demo);
    stack.shutdown().await;
}
