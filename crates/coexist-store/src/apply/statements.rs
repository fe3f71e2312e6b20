//! The statements applying a backlog writes with, named so that the benchmark measuring those
//! writes alone (coexist-bench's `sync_writes`) runs the very same ones.

/// [`MESSAGE_COLUMNS`] as a literal, for `concat!`.
macro_rules! message_columns {
    () => {
        "wamid, wamid_key, conversation_id, side, from_business, ts, kind, body, raw, text, \
         reply_to, referral, agent, idempotency_key, relay_seq"
    };
}

/// The columns of a new message, in the order of [`INSERT_MESSAGE`]'s parameters.
pub const MESSAGE_COLUMNS: &str = message_columns!();

/// A relay entry in the log: seq, kind, received_at_ms, payload (empty when wholly projected).
pub const LOG_ENTRY: &str = "INSERT OR IGNORE INTO events (seq, kind, received_at_ms, payload) VALUES (?1, ?2, ?3, ?4)";

/// Whether a wamid is stored: its key, then the wamid itself (see wamid_key.rs).
pub const MESSAGE_STORED: &str = "SELECT EXISTS (SELECT 1 FROM messages WHERE wamid_key = ?1 AND wamid = ?2)";

/// A new message, its values in the order of [`MESSAGE_COLUMNS`].
pub const INSERT_MESSAGE: &str = concat!(
    "INSERT INTO messages (",
    message_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
);

/// The search index's rows for every message with an id above ?1, in one statement (one FTS5
/// flush per batch instead of one per message).
pub const INDEX_NEW_MESSAGES: &str =
    "INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages WHERE id > ?1 AND text IS NOT NULL";

/// A conversation's row: id, state, owner, owner_agent, window_expires_at, window_open_until,
/// window_closed_by_meta, unread, last_activity, preview_wamid and preview (each kept when
/// NULL), whether the customer reopened it, waiting_since.
pub const SAVE_CONVERSATION: &str = "UPDATE conversations SET state = ?2, owner = ?3, owner_agent = ?4, window_expires_at = ?5,
         window_open_until = ?6, window_closed_by_meta = ?7, unread = ?8, last_activity = ?9,
         preview_wamid = coalesce(?10, preview_wamid), preview = coalesce(?11, preview),
         done_at_ms = CASE WHEN ?12 THEN NULL ELSE done_at_ms END,
         done_until_ms = CASE WHEN ?12 THEN NULL ELSE done_until_ms END,
         waiting_since = ?13
     WHERE id = ?1";
