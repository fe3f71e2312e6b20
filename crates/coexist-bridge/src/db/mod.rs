//! Storage behind one trait, so the HTTP layer never knows which database it talks to.
//!
//! Like atuin's server `Database` trait: SQLite ([`sqlite::SqliteDb`], WAL) is the embedded
//! default, nothing to run beside the bridge; Postgres ([`postgres::PostgresDb`]) is for a team
//! that already runs, backs up and watches a Postgres server, or runs several bridges on one
//! database. Both keep the same tables with the same meanings, and one conformance suite
//! (`conformance.rs`) runs the same checks against each, so callers cannot tell them apart.
//! All writes that create relay events go through [`Database::append_batch`], which the
//! group-commit writer ([`crate::writer`]) calls with every append that arrived concurrently.

pub mod postgres;
mod shared;
pub mod sqlite;

#[cfg(test)]
mod conformance;

use async_trait::async_trait;
use coexist_core::{Assignment, BlockMark, NumberSettings, OutboundRecord, RelayEvent, RelayKind, TemplateCatalog};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Role;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// A whole batch failed (e.g. the disk is full); every request in it gets this.
    #[error("the event log could not commit: {0}")]
    Batch(String),
    #[error("the event log writer has stopped (the bridge is shutting down)")]
    Closed,
    #[error("database task failed: {0}")]
    Task(String),
    /// A Postgres statement failed; the text is the server's message (and its detail and hint).
    #[error("Postgres error: {}", postgres::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection to Postgres could be made: the server is down or unreachable, or it turned us
    /// away (wrong password, unknown user or database, pg_hba.conf). `at` names the server, never
    /// the password.
    #[error(
        "could not connect to Postgres at {at}: {reason}; check the address, the user and password in the \
         database URL (--db or COEXIST_DATABASE_URL), and that the server is running and lets this host in"
    )]
    PostgresConnect { at: String, reason: String },
    /// Connected, but the bridge's tables could not be created or updated (most often: the user
    /// may not create tables there, the default on Postgres 15+ for a database it does not own).
    #[error("could not create or update the bridge's tables in Postgres at {at}: {reason}")]
    PostgresMigration { at: String, reason: String },
    /// The Postgres URL does not parse. The text says which part; the URL itself is not repeated,
    /// since it holds the password.
    #[error(
        "the Postgres URL (--db or COEXIST_DATABASE_URL) is not usable ({0}): write it as \
         postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    )]
    PostgresUrl(String),
    /// TLS to Postgres could not be set up (an unreadable CA file, ...).
    #[error("{0}")]
    PostgresTls(String),
    /// The database was migrated by a newer bridge: running an older one on it could misread it.
    #[error(
        "the database's schema is version {found} but this coexist-bridge knows only up to {known}: \
         run the newer coexist-bridge that migrated it, or point this one at another database"
    )]
    SchemaTooNew { found: i64, known: i64 },
}

/// One thing to append durably. Each item commits atomically with the rest of its batch
/// (one database transaction), but fails on its own (a savepoint per item).
#[derive(Debug)]
pub enum Append {
    /// A signed webhook body that parsed. Stored once per `body_hash` (redeliveries dedupe);
    /// `meta_time` is [`crate::envelope::meta_time`] of it.
    Webhook { body: String, body_hash: String, meta_time: i64, received_at_ms: i64 },
    /// A signed webhook body that did not parse: kept for admins, never relayed.
    Quarantine { body: Vec<u8>, body_hash: String, reason: String, received_at_ms: i64 },
    /// Add (`create = true`, fails if it exists) or replace a number, plus a `Number` event.
    Number { settings: NumberSettings, create: bool, received_at_ms: i64 },
    /// A WABA's full template catalog as a `Templates` event.
    Templates { catalog: TemplateCatalog, received_at_ms: i64 },
    /// The team's own change to a conversation (an `Assignment`, `Note`, `Done` or `QuickReply` entry), relayed as is.
    Team { kind: RelayKind, payload: Value, received_at_ms: i64 },
    /// A definitive answer to a send, stored under its idempotency key. When Meta accepted it,
    /// `outbound` becomes an `Outbound` event and the answer gets its `seq`.
    Send(Box<SendRecord>),
}

#[derive(Debug, Clone)]
pub struct SendRecord {
    pub idempotency_key: String,
    pub phone_number_id: String,
    /// sha256 of the number and message, to refuse a key reused for a different message.
    pub request_hash: String,
    pub agent: String,
    pub status: u16,
    pub answer: Value,
    pub outbound: Option<OutboundRecord>,
    pub received_at_ms: i64,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    /// A relay event exists at `seq`; `duplicate` when it was already there (redelivery).
    Event { seq: i64, duplicate: bool },
    Quarantined { id: i64, duplicate: bool },
    Send(StoredSend),
}

/// A send answer as stored under its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSend {
    pub phone_number_id: String,
    pub request_hash: String,
    pub status: u16,
    pub answer: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub created_at_ms: i64,
}

/// A signed webhook body that did not parse, for admins to look at (the relay contract's type).
pub use coexist_core::QuarantinedWebhook as Quarantined;

#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// Append every item in one durable transaction; returns one result per item, in order.
    /// `Err` means nothing of the batch was committed.
    async fn append_batch(&self, items: Vec<Append>) -> Result<Vec<Result<Appended, DbError>>, DbError>;
    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<RelayEvent>, DbError>;
    /// The highest committed seq (0 when empty).
    async fn last_seq(&self) -> Result<i64, DbError>;
    /// The highest seq when this handle's last `append_batch` committed, read inside that
    /// transaction (so with every append committed before it, another process's too); before
    /// any, the highest seq at open. The writer publishes it after each batch without another
    /// trip to the database.
    fn last_seq_at_commit(&self) -> i64;
    async fn quarantined(&self, limit: usize) -> Result<Vec<Quarantined>, DbError>;
    async fn add_user(&self, name: &str, role: Role, token_hash: &str) -> Result<(), DbError>;
    async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>, DbError>;
    async fn users(&self) -> Result<Vec<User>, DbError>;
    /// Deletes the user (their token stops working at once). `false` if there was none.
    async fn revoke_user(&self, name: &str) -> Result<bool, DbError>;
    /// The payload of every entry of `kind`, oldest first: the team's kinds, read through an index
    /// that leaves webhooks out (asked for webhooks, it answers none).
    async fn payloads_of(&self, kind: RelayKind) -> Result<Vec<String>, DbError>;
    /// Every `Assignment` entry of the log, oldest first.
    async fn assignments(&self) -> Result<Vec<Assignment>, DbError> {
        Ok(shared::readable(&self.payloads_of(RelayKind::Assignment).await?))
    }
    /// Every `Block` entry of the log, oldest first.
    async fn blocks(&self) -> Result<Vec<BlockMark>, DbError> {
        Ok(shared::readable(&self.payloads_of(RelayKind::Block).await?))
    }
    async fn numbers(&self) -> Result<Vec<NumberSettings>, DbError>;
    async fn number(&self, phone_number_id: &str) -> Result<Option<NumberSettings>, DbError>;
    async fn send_answer(&self, idempotency_key: &str) -> Result<Option<StoredSend>, DbError>;
}
