//! The desktop's local SQLite inbox.
//!
//! The bridge's relay log is applied here ([`Store::apply_relay_batch`]): every entry is kept
//! as received in an append-only `events` table, and the projections the UI reads
//! (conversations, messages, statuses, templates, numbers ...) are updated in the same
//! transaction, with coexist-core's rules deciding ownership, window and statuses. Applying is
//! idempotent: a seq already applied is skipped, a wamid already stored does nothing.
//!
//! Also here: full-text search (FTS5), the persistent outbox, and the notification ledger.
//! The UI queries through [`Store::open_reader`], a second connection that never waits for a
//! batch being written.
//!
//! Speed and durability (a 1,000,000-entry backlog: `cargo run --release -p coexist-store
//! --example backlog`):
//! - a backlog comes in batches of up to [`BACKLOG_BATCH`] entries (the engine gathers full
//!   relay pages): each batch rewrites the index pages its conversations share once;
//! - a batch is one transaction with `synchronous = NORMAL` (relay data can be fetched again;
//!   the cursor rolls back with it); outbox, read marks and the ledger are fully durable;
//! - batches of 64+ entries are parsed on a second thread while the first writes
//!   (apply/pipeline.rs), and after every ~4,000 entries of such batches the WAL is
//!   checkpointed on a background connection;
//! - conversations' rules state stays cached between batches (dropped when another connection
//!   writes the file), and the search index is filled once per batch.
//!
//! Times are Unix seconds (Meta's) except fields named `_ms`. Every string from a customer is
//! stored as received; previews, snippets and names handed to the UI are plain text with
//! control characters removed — render them as text, never as HTML.

mod apply;
mod context;
mod campaigns;
mod drafts;
mod error;
mod explain;
mod metrics;
mod mutes;
mod notify;
mod outbox;
mod queries;
mod schema;
mod search;
mod settings;
mod wamid_key;
pub mod text;
mod views;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coexist_core::{Event, RelayEvent};
use rusqlite::Connection;

pub use apply::statements;
pub use apply::{ApplyReport, AssignmentChange, FailedMessage, NewInbound, NewNote, StatusChange, TemplateReviewed};
pub use campaigns::{
    Campaign, CampaignCounts, CampaignFailureGroup, CampaignState, FeedReport, NewCampaign, NewCampaignRecipient, PARKED_AT_MS,
};
pub use context::{MessagePosition, NotePosition};
pub use drafts::{Draft, MAX_DRAFT_CHARS};
pub use error::{Result, StoreError};
pub use metrics::{
    DayCount, DayReplies, ExpiredWindow, ExpiredWindows, FailureCount, Metrics, MetricsQuery, ResponseTimeStat, TemplateUse, Workload,
};
pub use outbox::{NewOutboxItem, OutboxItem, OutboxState};
pub use views::*;

/// How long a write waits for another connection (e.g. the CLI) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The local inbox. One per database file; not `Sync` (wrap in a mutex to share).
pub struct Store {
    conn: Connection,
    /// Conversations' rules state between batches (see apply::conversations).
    conversations: apply::ConversationCache,
    /// A second connection that copies the WAL into the database on a background thread after
    /// large batches, while the next one is written (a PASSIVE checkpoint never blocks the
    /// writer); `None` if it could not be opened.
    checkpointer: Option<Arc<Mutex<Connection>>>,
    /// Entries of large batches to apply before the next background checkpoint (see
    /// [`CHECKPOINT_AFTER`]).
    entries_until_checkpoint: usize,
}

/// The relay entries worth applying in one transaction when catching up a backlog: each
/// transaction rewrites the index pages its conversations share (the timeline index, the
/// conversation rows), so 20,000 entries at a time apply about half again as fast as 1,000
/// (`cargo run --release -p coexist-bench -- --only sync`), and 50,000 a fifth faster again,
/// while one transaction still takes well under a second. Memory bounds it: the backlog example
/// (a million entries) peaks at 297 MB at 50,000 (178 MB at 20,000, 483 MB at 100,000), the
/// entries waiting as JSON text and only ~1,000 of them parsed at a time.
pub const BACKLOG_BATCH: usize = 50_000;

/// The page size of a new inbox file (an existing one keeps its own: SQLite cannot change it in
/// WAL mode). Rows of a few hundred bytes and the index entries of random conversations fill
/// 4 KiB pages fast; at 16 KiB a backlog applies 10–15 % faster (backlog example, 300k inbound
/// events, alternating builds: ~100k → ~110k events/s; 8, 32 and 64 KiB measured too).
pub const PAGE_SIZE: u32 = 16_384;

/// Checkpoint after about this many entries, not after every batch: a page rewritten by
/// consecutive small batches (a busy conversation, an index page) is then copied into the
/// database once. Every batch of a backlog ([`BACKLOG_BATCH`]) is past it: waiting longer
/// lets the WAL reach `wal_autocheckpoint`, and the writer then checkpoints itself, ~20 %
/// slower overall (measured with the backlog example: every 4,000 entries is best at 1,000 per
/// batch, every batch at 20,000).
const CHECKPOINT_AFTER: usize = 4_000;

impl Store {
    /// Open (or create) the inbox at `path` and bring its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let mut conn = connect(path.as_ref())?;
        schema::migrate(&mut conn)?;
        let mut conversations = apply::ConversationCache::default();
        // Best effort: the inbox opens all the same, and the next open tries again.
        match relaxed_write(&mut conn, |conn| apply::reapply_newly_known(conn, &mut conversations)) {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "applied relay entries of kinds the previous version could not read"),
            Err(e) => {
                conversations.clear();
                tracing::warn!(error = %e, "relay entries of kinds the previous version could not read are not applied yet");
            }
        }
        match relaxed_write(&mut conn, |conn| apply::reread_kept(conn, &mut conversations)) {
            Ok(done) if done == Default::default() => {}
            Ok(done) => tracing::info!(messages = done.messages, entries = done.entries, "read what the previous version could not"),
            Err(e) => {
                conversations.clear();
                tracing::warn!(error = %e, "what the previous version could not read is not read yet");
            }
        }
        let checkpointer = Connection::open(path.as_ref())
            .map_err(|e| tracing::warn!(error = %e, "no background checkpoints; the writer will do them"))
            .ok()
            .map(|c| Arc::new(Mutex::new(c)));
        Ok(Store { conn, conversations, checkpointer, entries_until_checkpoint: CHECKPOINT_AFTER })
    }

    /// A second handle on an inbox that another `Store` opened (and migrated) and writes, for
    /// the UI's queries: its own SQLite connection, so a batch being applied never makes a
    /// query wait (a WAL reader sees the last committed state). Not `query_only`: search
    /// tokenizes the query in a temp table. A write through it would still be correct (the
    /// writer notices other connections' writes), only no longer free of waiting.
    pub fn open_reader(path: impl AsRef<Path>) -> Result<Store> {
        let conn = connect(path.as_ref())?;
        Ok(Store { conn, conversations: apply::ConversationCache::default(), checkpointer: None, entries_until_checkpoint: CHECKPOINT_AFTER })
    }

    /// Apply relay entries in ONE transaction. Entries whose seq is already stored are
    /// skipped; entries that cannot be parsed are stored as problems (see [`Store::problems`]);
    /// the cursor advances to the highest seq seen.
    pub fn apply_relay_batch(&mut self, batch: &[RelayEvent]) -> Result<ApplyReport> {
        let cache = &mut self.conversations;
        let result = relaxed_write(&mut self.conn, |conn| apply::apply_relay(conn, cache, batch));
        if result.is_err() {
            self.conversations.clear();
        } else if batch.len() >= apply::PIPELINE_MIN {
            self.entries_until_checkpoint = self.entries_until_checkpoint.saturating_sub(batch.len());
            if self.entries_until_checkpoint == 0 {
                self.entries_until_checkpoint = CHECKPOINT_AFTER;
                self.checkpoint_in_background();
            }
        }
        result
    }

    /// Copy the WAL into the database on another thread; skipped if one is still running.
    fn checkpoint_in_background(&self) {
        let Some(checkpointer) = self.checkpointer.clone() else { return };
        let spawned = std::thread::Builder::new().name("checkpoint".into()).spawn(move || {
            let Ok(conn) = checkpointer.try_lock() else { return };
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::debug!(error = %e, "background checkpoint skipped");
            }
        });
        if let Err(e) = spawned {
            tracing::debug!(error = %e, "no checkpoint thread; SQLite checkpoints on its own");
        }
    }

    /// Apply normalized events directly (tests, imports): no relay log, no cursor change.
    pub fn apply_events(&mut self, events: &[Event]) -> Result<ApplyReport> {
        let cache = &mut self.conversations;
        let result = relaxed_write(&mut self.conn, |conn| apply::apply_events(conn, cache, events));
        if result.is_err() {
            self.conversations.clear();
        }
        result
    }

    /// The highest relay seq applied: resume the relay with `after = cursor`.
    pub fn cursor(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Check the file: SQLite's own integrity check and the search index against the
    /// messages. `Err(StoreError::Invalid)` says what is wrong (remove the file to resync).
    pub fn check_integrity(&self) -> Result<()> {
        let verdict: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict != "ok" {
            return Err(StoreError::Invalid(format!("the inbox database is damaged ({verdict}); remove it to resync from the bridge")));
        }
        self.conn
            .execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')", [])
            .map_err(|e| StoreError::Invalid(format!("the search index is out of step with the messages ({e}); remove the file to resync")))?;
        Ok(())
    }

    /// Run `f` in one fully durable transaction.
    fn durable_write<T>(&mut self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        in_transaction(&mut self.conn, f)
    }
}

/// Run `f` in one transaction with `synchronous = NORMAL`: relay data can be fetched again,
/// so a power cut may lose the last batches (the cursor goes back with them, the file stays
/// consistent) but no batch pays an fsync. Local-only writes (outbox, read marks, the
/// notification ledger) run with `FULL` (see [`Store::durable_write`]).
fn relaxed_write<T>(conn: &mut Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let result = in_transaction(conn, f);
    conn.pragma_update(None, "synchronous", "FULL")?;
    result
}

fn in_transaction<T>(conn: &mut Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

/// Open and configure a connection; errors name the file.
fn connect(path: &Path) -> Result<Connection> {
    let open_error = |source| StoreError::Open { path: path.display().to_string(), source };
    let conn = Connection::open(path).map_err(open_error)?;
    configure(&conn).map_err(|e| match e {
        StoreError::Sqlite(source) => open_error(source),
        other => other,
    })?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        tracing::warn!(mode, "SQLite refused WAL mode; the inbox will work but readers may wait on writers");
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 64 MiB of page cache: a backlog touches the same index pages over and over.
    conn.pragma_update(None, "cache_size", -65_536)?;
    // Large batches checkpoint on a second thread (apply::apply_relay); the writer itself only
    // checkpoints when the WAL passes ~160 MB. A backlog batch on random conversations writes
    // tens of MB of index pages: at ~40 MB the writer stopped to checkpoint mid-batch (−15 %).
    conn.pragma_update(None, "wal_autocheckpoint", 40_000)?;
    // After a large backlog, give the disk back: the WAL file is truncated to 64 MB.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    conn.set_prepared_statement_cache_capacity(128);
    wamid_key::register(conn)?;
    Ok(())
}
