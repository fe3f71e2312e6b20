//! The notification ledger: a desktop notification is shown at most once per thing, even
//! across restarts and when the same message is relayed twice.

use rusqlite::params;

use crate::apply::now_ms;
use crate::{Result, Store};

impl Store {
    /// Claim the right to notify about `key` (e.g. kind `"message"`, key the wamid).
    /// `true` only the first time; every later claim returns `false`.
    pub fn notification_claim(&mut self, kind: &str, key: &str) -> Result<bool> {
        self.durable_write(|conn| {
            let mut insert =
                conn.prepare_cached("INSERT OR IGNORE INTO notifications (kind, key, claimed_at_ms) VALUES (?1, ?2, ?3)")?;
            Ok(insert.execute(params![kind, key, now_ms()])? == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn a_claim_succeeds_once_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        let mut store = Store::open(&path).unwrap();
        assert!(store.notification_claim("message", "wamid.A").unwrap());
        assert!(!store.notification_claim("message", "wamid.A").unwrap());
        assert!(store.notification_claim("failed", "wamid.A").unwrap(), "kinds are separate");
        drop(store);
        let mut store = Store::open(&path).unwrap();
        assert!(!store.notification_claim("message", "wamid.A").unwrap());
    }
}
