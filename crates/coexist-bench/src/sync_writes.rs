//! The desktop sync's SQLite writes alone: the rows a backlog's apply wrote, written again into a
//! fresh inbox with the same statements, every value built beforehand.
//!
//! Applying a backlog parses each entry, folds the rules and builds rows (on two threads), then
//! writes. This measures the writing part by itself: the relay log's row, the lookup of the wamid
//! before the insert (dedupe), the message's insert with its indexes, and per transaction the
//! search index and the conversations' rows. No parsing, no rules: a floor under the sync's time,
//! so that the sync can be read against what its own writes cost on the same machine.

use std::path::Path;
use std::time::{Duration, Instant};

use coexist_store::statements::{INDEX_NEW_MESSAGES, INSERT_MESSAGE, LOG_ENTRY, MESSAGE_COLUMNS, MESSAGE_STORED, SAVE_CONVERSATION};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

/// A conversation's columns as the store writes them at the end of a transaction
/// ([`SAVE_CONVERSATION`] takes the id, the state to the preview, then two more).
const CONVERSATION_COLUMNS: &str = "id, phone_number_id, contact, state, owner, owner_agent, window_expires_at, \
                                    window_open_until, window_closed_by_meta, unread, last_activity, preview_wamid, \
                                    preview, waiting_since";

/// Where the time of the writes went, summed over the transactions.
#[derive(Default)]
pub struct WriteTimes {
    /// Per entry: the log row, the wamid lookup, the message insert.
    pub entries: Duration,
    /// The search index, one statement per transaction.
    pub search_index: Duration,
    /// The touched conversations' rows.
    pub conversations: Duration,
    pub commit: Duration,
}

impl WriteTimes {
    pub fn total(&self) -> Duration {
        self.entries + self.search_index + self.conversations + self.commit
    }
}

/// Rewrite what `applied` holds into a new inbox at `fresh`, `batch` relay entries per transaction.
pub fn rewrite(applied: &Path, fresh: &Path, batch: usize) -> anyhow::Result<WriteTimes> {
    let source = Connection::open(applied)?;
    let messages = rows(&source, &format!("SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY id"))?;
    let log = rows(&source, "SELECT seq, kind, received_at_ms FROM events ORDER BY seq")?;
    let conversations = rows(&source, &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY id"))?;
    anyhow::ensure!(messages.len() == log.len(), "the backlog has one message per relay entry");
    let in_id_order = conversations.iter().enumerate().all(|(i, row)| row[0] == Value::Integer(i as i64 + 1));
    anyhow::ensure!(in_id_order, "conversation ids are 1..n, in the order created");
    drop(source);

    coexist_store::Store::open(fresh)?; // the schema, as the app creates it
    let mut conn = Connection::open(fresh)?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 40000;",
    )?;
    let mut created = vec![false; conversations.len() + 1];
    let mut times = WriteTimes::default();
    for start in (0..messages.len()).step_by(batch) {
        let end = (start + batch).min(messages.len());
        let t = Instant::now();
        let tx = conn.transaction()?;
        let indexed_upto: i64 = tx.query_row("SELECT coalesce(max(id), 0) FROM messages", [], |r| r.get(0))?;
        let touched = write_entries(&tx, &log[start..end], &messages[start..end], &conversations, &mut created)?;
        let t = lap(&mut times.entries, t);
        tx.prepare_cached(INDEX_NEW_MESSAGES)?.execute([indexed_upto])?;
        let t = lap(&mut times.search_index, t);
        write_conversations(&tx, &conversations, &touched)?;
        let t = lap(&mut times.conversations, t);
        tx.commit()?;
        lap(&mut times.commit, t);
    }
    Ok(times)
}

/// Add the time since `since` to `total`; returns now.
fn lap(total: &mut Duration, since: Instant) -> Instant {
    let now = Instant::now();
    *total += now - since;
    now
}

/// Per entry: its log row, the wamid lookup, the message (and its conversation's row the first
/// time). Returns the conversations touched.
fn write_entries(
    tx: &Connection,
    log: &[Vec<Value>],
    messages: &[Vec<Value>],
    conversations: &[Vec<Value>],
    created: &mut [bool],
) -> anyhow::Result<Vec<usize>> {
    let mut logged = tx.prepare_cached(LOG_ENTRY)?;
    let mut stored = tx.prepare_cached(MESSAGE_STORED)?;
    let mut conversation = tx.prepare_cached("INSERT INTO conversations (id, phone_number_id, contact) VALUES (?1, ?2, ?3)")?;
    let mut insert = tx.prepare_cached(INSERT_MESSAGE)?;
    // Every entry of the backlog is wholly projected: the log keeps no payload.
    let projected = Value::Text(String::new());
    let mut touched = Vec::new();
    let mut seen = vec![false; created.len()];
    for (entry, message) in log.iter().zip(messages) {
        logged.execute(params_from_iter(entry.iter().chain([&projected])))?;
        let found: bool = stored.query_row([&message[1], &message[0]], |r| r.get(0))?;
        anyhow::ensure!(!found, "a message of the backlog is stored twice");
        let Value::Integer(id) = message[2] else { anyhow::bail!("a message without its conversation") };
        let id = usize::try_from(id)?;
        if !created[id] {
            let row = &conversations[id - 1];
            conversation.execute([&row[0], &row[1], &row[2]])?;
            created[id] = true;
        }
        if !seen[id] {
            seen[id] = true;
            touched.push(id);
        }
        insert.execute(params_from_iter(message))?;
    }
    touched.sort_unstable();
    Ok(touched)
}

/// Each touched conversation's row, with the statement the store writes it with.
fn write_conversations(tx: &Connection, conversations: &[Vec<Value>], touched: &[usize]) -> anyhow::Result<()> {
    let mut update = tx.prepare_cached(SAVE_CONVERSATION)?;
    let reopen = Value::Integer(1);
    for &id in touched {
        let row = &conversations[id - 1];
        let (id, columns, waiting_since) = (&row[0], &row[3..13], &row[13]);
        let values = std::iter::once(id).chain(columns).chain([&reopen, waiting_since]);
        update.execute(params_from_iter(values))?;
    }
    Ok(())
}

fn rows(conn: &Connection, sql: &str) -> anyhow::Result<Vec<Vec<Value>>> {
    let mut stmt = conn.prepare(sql)?;
    let width = stmt.column_count();
    let rows = stmt.query_map([], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>())?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(path: &Path, sql: &str) -> Vec<Vec<Value>> {
        rows(&Connection::open(path).unwrap(), sql).unwrap()
    }

    /// The floor is only a floor if it writes what the sync wrote: the same messages, conversations
    /// and search index, found by the same queries.
    #[test]
    fn the_rewrite_holds_what_the_sync_wrote() {
        let dir = crate::webhook::tempfile_dir().unwrap();
        let (applied, fresh) = (dir.join("applied.db"), dir.join("fresh.db"));
        let mut store = coexist_store::Store::open(&applied).unwrap();
        for start in (0..3_000).step_by(1_000) {
            store.apply_relay_batch(&crate::sync::batch_over(start, 1_000, 200)).unwrap();
        }
        drop(store);

        let times = rewrite(&applied, &fresh, 1_000).unwrap();
        assert!(times.entries > Duration::ZERO && times.search_index > Duration::ZERO);

        let messages = format!("SELECT id, {MESSAGE_COLUMNS} FROM messages ORDER BY id");
        assert_eq!(dump(&fresh, &messages).len(), 3_000);
        assert_eq!(dump(&fresh, &messages), dump(&applied, &messages));
        let conversations = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY id");
        assert_eq!(dump(&fresh, &conversations), dump(&applied, &conversations));
        let log = "SELECT seq, kind, received_at_ms, payload FROM events ORDER BY seq";
        assert_eq!(dump(&fresh, log), dump(&applied, log));
        let search = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'order' ORDER BY rowid";
        let found = dump(&fresh, search);
        assert!(!found.is_empty());
        assert_eq!(found, dump(&applied, search));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
