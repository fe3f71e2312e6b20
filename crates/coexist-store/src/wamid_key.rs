//! The compact key messages and statuses are found by.
//!
//! A wamid is a ~60-character string in no useful order (Meta's hold the customer's number and
//! then a random id), so a unique index on it is large and a backlog inserts all over it: every
//! batch dirtied most of its pages, and at 1M messages that index alone halved the sync rate.
//! Messages and statuses are indexed by a 32-bit hash of their wamid instead (about a fifth of
//! the entry size); lookups say `wamid_key = wamid_key(?1) AND wamid = ?1`, the second test
//! settling the rare keys two wamids share. Uniqueness is kept by the writers (apply/messages.rs,
//! apply/statuses.rs), which look the wamid up this way before they insert.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

/// The index key of a wamid: the first 32 bits of its SHA-256 (stable across versions and
/// machines: it is stored).
pub fn wamid_key(wamid: &str) -> i64 {
    let digest = Sha256::digest(wamid.as_bytes());
    i64::from(u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]))
}

/// Make `wamid_key(text)` callable from SQL on this connection (the migration that added the
/// key fills it with this too). NULL gives NULL, like SQLite's own functions.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("wamid_key", 1, flags, |ctx| match ctx.get_raw(0) {
        ValueRef::Null => Ok(None),
        value => {
            let wamid = value.as_str().map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?;
            Ok(Some(wamid_key(wamid)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_stable_and_the_same_in_sql() {
        // Stored keys must never change meaning: this value is pinned.
        let wamid = "wamid.HBgLMTU1NTAxMDAwMDAVAgASGBQzQTg5QzQxMjM0NTY3ODkwQUIA";
        let key = wamid_key(wamid);
        assert_eq!(key, 4_265_227_584);
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let in_sql: i64 = conn.query_row("SELECT wamid_key(?1)", [wamid], |r| r.get(0)).unwrap();
        assert_eq!(in_sql, key);
        assert_ne!(wamid_key("wamid.a"), wamid_key("wamid.b"));
    }

    #[test]
    fn a_key_that_is_not_text_is_an_error_and_null_stays_null() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        assert!(conn.query_row("SELECT wamid_key(x'00ff')", [], |r| r.get::<_, i64>(0)).is_err());
        assert_eq!(conn.query_row("SELECT wamid_key(NULL)", [], |r| r.get::<_, Option<i64>>(0)).unwrap(), None);
    }
}
