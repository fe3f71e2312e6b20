//! The embedded SQLite backend.
//!
//! Durability: WAL with `synchronous=FULL`. In WAL mode FULL fsyncs the WAL at every commit, so
//! a transaction that returned is on disk and survives a process kill *and* a power cut
//! (NORMAL would survive `kill -9` but could lose the last commits on power loss). The fsync
//! cost is paid once per batch thanks to group commit ([`crate::writer`]), not once per webhook.
//! Readers never block the writer (WAL), and `BEGIN IMMEDIATE` plus a busy timeout serializes
//! us against a CLI (`coexist-bridge number add`) writing to the same file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use coexist_core::{NumberSettings, RelayEvent, RelayKind};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

use super::shared::{self, QUARANTINE_PREVIEW};
use super::{Append, Appended, Database, DbError, Quarantined, SendRecord, StoredSend, User};
use crate::auth::Role;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    received_at_ms INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    body_hash      TEXT    UNIQUE
);
CREATE TABLE quarantine (
    id             INTEGER PRIMARY KEY,
    body_hash      TEXT    NOT NULL UNIQUE,
    received_at_ms INTEGER NOT NULL,
    reason         TEXT    NOT NULL,
    body           BLOB    NOT NULL
);
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE numbers (
    phone_number_id TEXT PRIMARY KEY,
    settings        TEXT NOT NULL
);
CREATE TABLE sends (
    idempotency_key TEXT PRIMARY KEY,
    phone_number_id TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    agent           TEXT    NOT NULL,
    status          INTEGER NOT NULL,
    answer          TEXT    NOT NULL,
    seq             INTEGER,
    created_at_ms   INTEGER NOT NULL
);
"#, shared::TEAM_BY_KIND_INDEX, shared::WEBHOOKS_BY_META_TIME];


/// SQLite event log. Cheap to clone; one connection for appends, a small pool for the rest.
#[derive(Clone)]
pub struct SqliteDb {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    pool: Arc<Mutex<Vec<Connection>>>,
    /// See [`Database::last_seq_at_commit`].
    seq_at_commit: Arc<AtomicI64>,
    /// See [`shared::HAS_HASHES_OF_OLD`].
    has_hashes_of_old: bool,
}

impl SqliteDb {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DbError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = connect(&path)?;
        let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
        migrations.to_latest(&mut conn)?;
        let seq = last_seq_of(&conn)?;
        let has_hashes_of_old = conn.query_row(shared::HAS_HASHES_OF_OLD, [], |r| r.get(0))?;
        Ok(SqliteDb {
            path,
            writer: Arc::new(Mutex::new(conn)),
            pool: Arc::new(Mutex::new(Vec::new())),
            seq_at_commit: Arc::new(AtomicI64::new(seq)),
            has_hashes_of_old,
        })
    }

    /// Runs `f` on a pooled connection (opened on demand, returned after use).
    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, DbError>) -> Result<T, DbError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let out = f(&mut conn);
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
        out
    }

    /// Appends a batch in one `BEGIN IMMEDIATE` transaction with a savepoint per item.
    pub fn append_batch_sync(&self, items: Vec<Append>) -> Result<Vec<Result<Appended, DbError>>, DbError> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            // Webhooks, nearly every append, skip the savepoint (two statements SQLite parses
            // each time): their one write cannot fail for a reason of their own (a failure there
            // is the database's, and fails the batch), as on Postgres.
            if let Append::Webhook { body, body_hash, meta_time, received_at_ms } = item {
                let key = (meta_time, body_hash.as_str());
                results.push(Ok(append_webhook(&tx, &body, key, received_at_ms, self.has_hashes_of_old)?));
                continue;
            }
            let mut sp = tx.savepoint()?;
            let result = append_one(&sp, item, self.has_hashes_of_old);
            if result.is_ok() {
                sp.commit()?;
            } else {
                sp.rollback()?;
            }
            results.push(result);
        }
        let seq = last_seq_of(&tx)?;
        tx.commit()?;
        self.seq_at_commit.store(seq, Ordering::Release);
        Ok(results)
    }

    pub fn events_after_sync(&self, after: i64, limit: usize) -> Result<Vec<RelayEvent>, DbError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, kind, received_at_ms, payload FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, kind, received_at_ms, payload) = row?;
                out.push(shared::event(seq, &kind, received_at_ms, payload)?);
            }
            Ok(out)
        })
    }

    pub fn last_seq_sync(&self) -> Result<i64, DbError> {
        self.with_conn(|c| last_seq_of(c))
    }

    pub fn add_user_sync(&self, name: &str, role: Role, token_hash: &str) -> Result<(), DbError> {
        self.with_conn(|c| {
            let exists: bool =
                c.query_row("SELECT EXISTS(SELECT 1 FROM users WHERE name = ?1)", [name], |r| r.get(0))?;
            if exists {
                return Err(shared::user_exists(name));
            }
            c.execute(
                "INSERT INTO users (name, role, token_hash, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![name, role.as_str(), token_hash, crate::now_ms()],
            )?;
            Ok(())
        })
    }

    pub fn users_sync(&self) -> Result<Vec<User>, DbError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare("SELECT name, role, created_at_ms FROM users ORDER BY name")?;
            let rows = stmt.query_map([], user_from_row)?.collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(to_user).collect()
        })
    }

    /// Deletes the user; `false` if there was none.
    pub fn revoke_user_sync(&self, name: &str) -> Result<bool, DbError> {
        self.with_conn(|c| Ok(c.execute("DELETE FROM users WHERE name = ?1", [name])? > 0))
    }

    /// The payload of every entry of `kind` (not webhooks: see [`Database::payloads_of`]).
    pub fn payloads_of_sync(&self, kind: RelayKind) -> Result<Vec<String>, DbError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached("SELECT payload FROM events WHERE kind = ?1 AND kind <> 'webhook' ORDER BY seq")?;
            let payloads = stmt.query_map([kind.name()], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
            Ok(payloads)
        })
    }

    pub fn number_sync(&self, id: &str) -> Result<Option<NumberSettings>, DbError> {
        self.with_conn(|c| {
            let json: Option<String> = c
                .query_row("SELECT settings FROM numbers WHERE phone_number_id = ?1", [id], |r| r.get(0))
                .optional()?;
            Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
        })
    }
}

fn last_seq_of(c: &Connection) -> Result<i64, DbError> {
    Ok(c.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")?.query_row([], |r| r.get(0))?)
}

fn connect(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Inserts one event at `MAX(seq) + 1`: inside the single writer transaction this is gap-free
/// (a rolled-back savepoint takes its seq with it). `key` is a webhook's (Meta's time, hash).
fn insert_event(
    c: &Connection,
    kind: RelayKind,
    received_at_ms: i64,
    payload: &str,
    key: Option<(i64, &str)>,
) -> Result<i64, DbError> {
    let seq: i64 = c.prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM events")?.query_row([], |r| r.get(0))?;
    let (meta_time, digest) = key.unzip();
    c.prepare_cached("INSERT INTO events (seq, kind, received_at_ms, payload, meta_time, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![seq, kind.name(), received_at_ms, payload, meta_time, digest])?;
    Ok(seq)
}

/// A webhook, once: a redelivery (same body, so same `key`: Meta's time and the body's hash)
/// answers with the seq stored the first time, also when that was before migration 3.
fn append_webhook(
    c: &Connection,
    body: &str,
    key: (i64, &str),
    received_at_ms: i64,
    has_hashes_of_old: bool,
) -> Result<Appended, DbError> {
    let (meta_time, digest) = key;
    let mut existing: Option<i64> = c
        .prepare_cached("SELECT seq FROM events WHERE meta_time = ?1 AND digest = ?2")?
        .query_row(params![meta_time, digest], |r| r.get(0))
        .optional()?;
    if existing.is_none() && has_hashes_of_old {
        existing = c.prepare_cached("SELECT seq FROM events WHERE body_hash = ?1")?.query_row([digest], |r| r.get(0)).optional()?;
    }
    if let Some(seq) = existing {
        return Ok(Appended::Event { seq, duplicate: true });
    }
    let seq = insert_event(c, RelayKind::Webhook, received_at_ms, body, Some(key))?;
    Ok(Appended::Event { seq, duplicate: false })
}

fn append_one(c: &Connection, item: Append, has_hashes_of_old: bool) -> Result<Appended, DbError> {
    match item {
        Append::Webhook { body, body_hash, meta_time, received_at_ms } => {
            append_webhook(c, &body, (meta_time, &body_hash), received_at_ms, has_hashes_of_old)
        }
        Append::Quarantine { body, body_hash, reason, received_at_ms } => {
            let existing: Option<i64> = c
                .query_row("SELECT id FROM quarantine WHERE body_hash = ?1", [&body_hash], |r| r.get(0))
                .optional()?;
            if let Some(id) = existing {
                return Ok(Appended::Quarantined { id, duplicate: true });
            }
            c.execute(
                "INSERT INTO quarantine (body_hash, received_at_ms, reason, body) VALUES (?1, ?2, ?3, ?4)",
                params![body_hash, received_at_ms, reason, body],
            )?;
            Ok(Appended::Quarantined { id: c.last_insert_rowid(), duplicate: false })
        }
        Append::Number { settings, create, received_at_ms } => {
            let json = serde_json::to_string(&settings)?;
            let exists: bool = c.query_row(
                "SELECT EXISTS(SELECT 1 FROM numbers WHERE phone_number_id = ?1)",
                [&settings.phone_number_id],
                |r| r.get(0),
            )?;
            shared::check_number(&settings.phone_number_id, create, exists)?;
            c.execute(
                "INSERT INTO numbers (phone_number_id, settings) VALUES (?1, ?2)
                 ON CONFLICT(phone_number_id) DO UPDATE SET settings = excluded.settings",
                params![settings.phone_number_id, json],
            )?;
            let seq = insert_event(c, RelayKind::Number, received_at_ms, &json, None)?;
            Ok(Appended::Event { seq, duplicate: false })
        }
        Append::Templates { catalog, received_at_ms } => {
            let json = serde_json::to_string(&catalog)?;
            let seq = insert_event(c, RelayKind::Templates, received_at_ms, &json, None)?;
            Ok(Appended::Event { seq, duplicate: false })
        }
        Append::Team { kind, payload, received_at_ms } => {
            let seq = insert_event(c, kind, received_at_ms, &payload.to_string(), None)?;
            Ok(Appended::Event { seq, duplicate: false })
        }
        Append::Send(record) => append_send(c, *record),
    }
}

fn append_send(c: &Connection, record: SendRecord) -> Result<Appended, DbError> {
    if let Some(stored) = send_answer(c, &record.idempotency_key)? {
        return Ok(Appended::Send(stored));
    }
    let mut answer = record.answer;
    let mut seq = None;
    if let Some(outbound) = &record.outbound {
        let json = serde_json::to_string(outbound)?;
        let s = insert_event(c, RelayKind::Outbound, record.received_at_ms, &json, None)?;
        shared::answer_with_seq(&mut answer, s);
        seq = Some(s);
    }
    c.execute(
        "INSERT INTO sends (idempotency_key, phone_number_id, request_hash, agent, status, answer, seq, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            record.idempotency_key,
            record.phone_number_id,
            record.request_hash,
            record.agent,
            record.status,
            serde_json::to_string(&answer)?,
            seq,
            record.received_at_ms
        ],
    )?;
    Ok(Appended::Send(StoredSend {
        phone_number_id: record.phone_number_id,
        request_hash: record.request_hash,
        status: record.status,
        answer,
    }))
}

fn send_answer(c: &Connection, key: &str) -> Result<Option<StoredSend>, DbError> {
    let row: Option<(String, String, u16, String)> = c
        .query_row(
            "SELECT phone_number_id, request_hash, status, answer FROM sends WHERE idempotency_key = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    row.map(|(phone_number_id, request_hash, status, answer)| {
        shared::stored_send(phone_number_id, request_hash, status, &answer)
    })
    .transpose()
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn to_user((name, role, created_at_ms): (String, String, i64)) -> Result<User, DbError> {
    shared::user(name, &role, created_at_ms)
}

/// Runs blocking SQLite work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DbError> + Send + 'static,
) -> Result<T, DbError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| DbError::Task(e.to_string()))?
}

#[async_trait]
impl Database for SqliteDb {
    async fn append_batch(&self, items: Vec<Append>) -> Result<Vec<Result<Appended, DbError>>, DbError> {
        let db = self.clone();
        blocking(move || db.append_batch_sync(items)).await
    }

    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<RelayEvent>, DbError> {
        let db = self.clone();
        blocking(move || db.events_after_sync(after, limit)).await
    }

    async fn last_seq(&self) -> Result<i64, DbError> {
        let db = self.clone();
        blocking(move || db.last_seq_sync()).await
    }

    fn last_seq_at_commit(&self) -> i64 {
        self.seq_at_commit.load(Ordering::Acquire)
    }

    async fn quarantined(&self, limit: usize) -> Result<Vec<Quarantined>, DbError> {
        let db = self.clone();
        blocking(move || {
            db.with_conn(|c| {
                // Bodies can be MiBs each: list a prefix, with the full size.
                let mut stmt = c.prepare(
                    "SELECT id, received_at_ms, reason, body_hash, substr(body, 1, ?2), length(body)
                     FROM quarantine ORDER BY id DESC LIMIT ?1",
                )?;
                let rows = stmt.query_map(params![limit as i64, QUARANTINE_PREVIEW as i64], |r| {
                    let body: Vec<u8> = r.get(4)?;
                    Ok(shared::quarantined(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, &body, r.get(5)?))
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
        })
        .await
    }

    async fn add_user(&self, name: &str, role: Role, token_hash: &str) -> Result<(), DbError> {
        let (db, name, token_hash) = (self.clone(), name.to_string(), token_hash.to_string());
        blocking(move || db.add_user_sync(&name, role, &token_hash)).await
    }

    async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>, DbError> {
        let (db, hash) = (self.clone(), token_hash.to_string());
        blocking(move || {
            db.with_conn(|c| {
                let row = c
                    .prepare_cached("SELECT name, role, created_at_ms FROM users WHERE token_hash = ?1")?
                    .query_row([&hash], user_from_row)
                    .optional()?;
                row.map(to_user).transpose()
            })
        })
        .await
    }

    async fn users(&self) -> Result<Vec<User>, DbError> {
        let db = self.clone();
        blocking(move || db.users_sync()).await
    }

    async fn revoke_user(&self, name: &str) -> Result<bool, DbError> {
        let (db, name) = (self.clone(), name.to_string());
        blocking(move || db.revoke_user_sync(&name)).await
    }

    async fn payloads_of(&self, kind: RelayKind) -> Result<Vec<String>, DbError> {
        let db = self.clone();
        blocking(move || db.payloads_of_sync(kind)).await
    }

    async fn numbers(&self) -> Result<Vec<NumberSettings>, DbError> {
        let db = self.clone();
        blocking(move || {
            db.with_conn(|c| {
                let mut stmt = c.prepare("SELECT settings FROM numbers ORDER BY phone_number_id")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
                Ok(rows.iter().map(|j| serde_json::from_str(j)).collect::<Result<Vec<_>, _>>()?)
            })
        })
        .await
    }

    async fn number(&self, phone_number_id: &str) -> Result<Option<NumberSettings>, DbError> {
        let (db, id) = (self.clone(), phone_number_id.to_string());
        blocking(move || db.number_sync(&id)).await
    }

    async fn send_answer(&self, idempotency_key: &str) -> Result<Option<StoredSend>, DbError> {
        let (db, key) = (self.clone(), idempotency_key.to_string());
        blocking(move || db.with_conn(|c| send_answer(c, &key))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The steps of `sql`'s query plan on a new log, with `params` bound.
    fn plan(sql: &str, params: impl rusqlite::Params) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(dir.path().join("plan.db")).unwrap();
        db.with_conn(|c| {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt.query_map(params, |r| r.get::<_, String>(3))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .unwrap()
    }

    #[test]
    fn the_teams_entries_are_read_by_index_not_by_a_scan_of_the_log() {
        let plan = plan("SELECT payload FROM events WHERE kind = ?1 AND kind <> 'webhook' ORDER BY seq", ["block"]);
        assert!(plan.iter().any(|step| step.contains("events_team_by_kind")), "{plan:?}");
        assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "read in seq order: {plan:?}");
    }

    #[test]
    fn a_redelivery_is_looked_up_by_meta_time_and_hash_through_the_index() {
        let plan = plan("SELECT seq FROM events WHERE meta_time = ?1 AND digest = ?2", params![1, "x"]);
        assert!(plan.iter().any(|step| step.contains("events_webhooks_by_meta_time")), "{plan:?}");
    }

    #[test]
    fn hashes_of_old_are_looked_for_at_open_through_their_index() {
        let plan = plan(shared::HAS_HASHES_OF_OLD, []);
        assert!(plan.iter().any(|step| step.contains("USING COVERING INDEX sqlite_autoindex_events")), "{plan:?}");
    }

    fn webhook(body: &str, meta_time: i64) -> Append {
        Append::Webhook { body: body.into(), body_hash: crate::sha256_hex(body.as_bytes()), meta_time, received_at_ms: 1 }
    }

    fn appended(db: &SqliteDb, items: Vec<Append>) -> Vec<Appended> {
        db.append_batch_sync(items).unwrap().into_iter().map(Result::unwrap).collect()
    }

    #[test]
    fn webhooks_stored_before_migration_3_are_still_found_by_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let old_body = r#"{"entry":[{"time":1764000000}]}"#;
        {
            let mut conn = connect(&path).unwrap();
            Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect()).to_version(&mut conn, 2).unwrap();
            conn.execute(
                "INSERT INTO events (seq, kind, received_at_ms, payload, body_hash) VALUES (1, 'webhook', 1, ?1, ?2)",
                params![old_body, crate::sha256_hex(old_body.as_bytes())],
            )
            .unwrap();
        }
        let db = SqliteDb::open(&path).unwrap();
        assert!(db.has_hashes_of_old);
        let new_body = r#"{"entry":[{"time":1764000100}]}"#;
        assert_eq!(
            appended(&db, vec![webhook(old_body, 1_764_000_000), webhook(new_body, 1_764_000_100), webhook(new_body, 1_764_000_100)]),
            vec![
                Appended::Event { seq: 1, duplicate: true },
                Appended::Event { seq: 2, duplicate: false },
                Appended::Event { seq: 2, duplicate: true },
            ]
        );
        let hashes: Vec<Option<String>> = db
            .with_conn(|c| Ok(c.prepare("SELECT body_hash FROM events ORDER BY seq")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?))
            .unwrap();
        assert_eq!(hashes, vec![Some(crate::sha256_hex(old_body.as_bytes())), None], "new rows leave the old index alone");
        // A log started at migration 3 has no hashes of old to look up.
        assert!(!SqliteDb::open(dir.path().join("new.db")).unwrap().has_hashes_of_old);
    }
}
