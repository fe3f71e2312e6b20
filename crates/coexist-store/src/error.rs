//! The store's one error type. Every variant says what to do about it.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The database file could not be opened or set up.
    #[error("could not open the local inbox at {path}: {source}. Check that the folder exists and is writable")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },

    /// SQLite itself failed (disk full, file locked by another program, corrupt file ...).
    #[error("the local inbox database failed: {0}. Check that the disk is not full and that no other Coexist window holds the file")]
    Sqlite(#[from] rusqlite::Error),

    /// The schema could not be brought up to date.
    #[error("could not upgrade the local inbox database: {0}. The file may come from a newer Coexist version; update the app or remove the file to resync from the bridge")]
    Migration(#[from] rusqlite_migration::Error),

    /// A value stored by this crate could not be read back (only a damaged file does this).
    #[error("the local inbox database holds an unreadable value ({what}): {source}. Remove the file to resync from the bridge")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// The caller asked for something that does not exist (e.g. an unknown outbox key).
    #[error("{0}")]
    NotFound(String),

    /// The caller passed something the store refuses (e.g. an empty idempotency key).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Decode JSON this crate wrote itself; failure means the file is damaged.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(what: &'static str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|source| StoreError::Corrupt { what, source })
}
