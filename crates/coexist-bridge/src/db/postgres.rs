//! The Postgres backend: the same tables, meanings and answers as [`super::sqlite`], on a server a
//! team already runs, backs up and watches.
//!
//! Order: every append batch is one transaction that first takes `LOCK TABLE events IN EXCLUSIVE
//! MODE`. That lock conflicts with itself and with the row locks of writes, but not with plain
//! SELECTs, so writers (even several bridge processes on one database) take turns while readers go
//! on. Under it `MAX(seq) + 1` is the next seq: seqs are gap-free, a failed item (its savepoint
//! rolled back) takes its seq with it, and a batch commits before the next one takes a seq, so a
//! reader resuming after a cursor never skips one. A SEQUENCE would do none of this: rolled-back
//! numbers are burnt, and transactions holding numbers commit in any order. Each bridge wakes its
//! long-polls and streams on its own commits; another bridge's events reach them at the relay's
//! 1 s re-check ([`crate::relay`]).
//!
//! Durability: a commit returns once the server has flushed it to its WAL on disk, with Postgres's
//! default `synchronous_commit = on` (and with any other setting but `off`). [`PostgresDb::connect`]
//! warns when the server runs with `off`, where a crash can lose the last commits it acknowledged.
//!
//! Connections: a [`deadpool_postgres`] pool. TLS as the URL's `sslmode` asks (`prefer`, the
//! default, uses it when the server offers it; `require` insists; `disable` never), as libpq does:
//! encrypted, but the server's certificate is not checked unless `COEXIST_DATABASE_CA` names the
//! PEM file of the CA that signed it (a managed Postgres publishes one). Then the certificate and
//! the host name are checked, and a server that fails either is refused.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coexist_core::{NumberSettings, RelayEvent, RelayKind};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use postgres_native_tls::MakeTlsConnector;
use tokio_postgres::{IsolationLevel, Row};

use super::shared::{self, QUARANTINE_PREVIEW};
use super::{Append, Appended, Database, DbError, Quarantined, SendRecord, StoredSend, User};
use crate::auth::Role;

/// Schema versions, oldest first: version N is `MIGRATIONS[N - 1]`. Never edit one that shipped;
/// append a new one. Mirrors the SQLite schema; `payload` stays TEXT (not JSONB) so a webhook
/// body is relayed byte for byte as Meta sent it.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE events (
    seq            BIGINT PRIMARY KEY,
    kind           TEXT   NOT NULL,
    received_at_ms BIGINT NOT NULL,
    payload        TEXT   NOT NULL,
    body_hash      TEXT   UNIQUE
);
CREATE TABLE quarantine (
    id             BIGSERIAL PRIMARY KEY,
    body_hash      TEXT   NOT NULL UNIQUE,
    received_at_ms BIGINT NOT NULL,
    reason         TEXT   NOT NULL,
    body           BYTEA  NOT NULL
);
CREATE TABLE users (
    name          TEXT   PRIMARY KEY,
    role          TEXT   NOT NULL,
    token_hash    TEXT   NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE numbers (
    phone_number_id TEXT PRIMARY KEY,
    settings        TEXT NOT NULL
);
CREATE TABLE sends (
    idempotency_key TEXT    PRIMARY KEY,
    phone_number_id TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    agent           TEXT    NOT NULL,
    status          INTEGER NOT NULL,
    answer          TEXT    NOT NULL,
    seq             BIGINT,
    created_at_ms   BIGINT  NOT NULL
);
"#, shared::TEAM_BY_KIND_INDEX, shared::WEBHOOKS_BY_META_TIME];

/// Key of the transaction-level advisory lock that migrations run under, so two bridges starting
/// at once on a new database migrate one after the other ("coexist" in ASCII).
const MIGRATION_LOCK: i64 = 0x0063_6f65_7869_7374;

/// How long one connection attempt may take before it counts as unreachable (when the URL does not
/// say `connect_timeout`): a firewalled host would otherwise hang for minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections per bridge: the writer holds one, readers (event pages, token lookups) share the
/// rest. Postgres allows 100 by default, so several bridges fit on one server.
const POOL_SIZE: usize = 16;

/// Postgres event log. Cheap to clone (the pool and the server's description are shared).
#[derive(Clone)]
pub struct PostgresDb {
    pool: Pool,
    /// Where the pool connects, for errors: hosts, database and user, never the password.
    server: Arc<str>,
    /// See [`Database::last_seq_at_commit`].
    seq_at_commit: Arc<AtomicI64>,
    /// See [`shared::HAS_HASHES_OF_OLD`].
    has_hashes_of_old: bool,
}

impl PostgresDb {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, or
    /// libpq's `key=value` form), checks that a connection works, and migrates the schema.
    /// A server that cannot be reached or turns us away gives [`DbError::PostgresConnect`], which
    /// says where and what to check.
    pub async fn connect(url: &str) -> Result<PostgresDb, DbError> {
        Self::connect_checking(url, std::env::var_os(CA_ENV).map(PathBuf::from).as_deref()).await
    }

    /// As [`connect`](Self::connect), checking the server's certificate against the CA in `ca`
    /// (a PEM file) when given.
    pub async fn connect_checking(url: &str, ca: Option<&Path>) -> Result<PostgresDb, DbError> {
        let config = parse_url(url)?;
        let tls = tls_connector(ca)?;
        let db = PostgresDb {
            server: describe_server(&config).into(),
            pool: build_pool(config, tls)?,
            seq_at_commit: Arc::new(AtomicI64::new(0)),
            has_hashes_of_old: false,
        };
        let mut client = db.client().await?;
        migrate(&mut client).await.map_err(|e| db.migration_failed(e))?;
        warn_unless_durable(&client).await?;
        db.seq_at_commit.store(last_seq_of(&client).await?, Ordering::Release);
        let has_hashes_of_old = client.query_one(shared::HAS_HASHES_OF_OLD, &[]).await?.try_get(0)?;
        Ok(PostgresDb { has_hashes_of_old, ..db })
    }

    /// A pooled connection; failing to make one says where and what to check.
    async fn client(&self) -> Result<Object, DbError> {
        let unreachable = |e| DbError::PostgresConnect { at: self.server.to_string(), reason: pool_reason(e) };
        self.pool.get().await.map_err(unreachable)
    }

    /// A statement that failed while migrating, with what to grant when it was a permission.
    fn migration_failed(&self, e: DbError) -> DbError {
        let DbError::Postgres(e) = e else { return e };
        let mut reason = describe(&e);
        if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
            reason += "; the user in the database URL must own the database (CREATE DATABASE ... OWNER ...) or be \
                       allowed to create tables in its schema (as its owner: GRANT CREATE ON SCHEMA public TO ...)";
        }
        DbError::PostgresMigration { at: self.server.to_string(), reason }
    }
}

/// Shows where it connects, never the password.
impl std::fmt::Debug for PostgresDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresDb({})", self.server)
    }
}

/// Parses the URL, refusing one without a host (tokio-postgres would only say so at connect), and
/// bounds connection attempts unless the URL says otherwise.
fn parse_url(url: &str) -> Result<tokio_postgres::Config, DbError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| DbError::PostgresUrl(describe(&e)))?;
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        return Err(DbError::PostgresUrl("it names no host".into()));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        // Shows in pg_stat_activity, for the DBA wondering who holds these connections.
        config.application_name("coexist-bridge");
    }
    Ok(config)
}

/// `127.0.0.1:5432 (database "coexist", user "ana")`: what to check when connecting fails.
fn describe_server(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let mut hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) => format!("{name}:{}", port(i)),
            Host::Unix(dir) => format!("{}/.s.PGSQL.{}", dir.display(), port(i)),
        })
        .collect();
    if hosts.is_empty() {
        hosts = config.get_hostaddrs().iter().enumerate().map(|(i, addr)| format!("{addr}:{}", port(i))).collect();
    }
    let mut out = hosts.join(", ");
    let details: Vec<String> = [("database", config.get_dbname()), ("user", config.get_user())]
        .into_iter()
        .filter_map(|(what, value)| value.map(|v| format!("{what} {v:?}")))
        .collect();
    if !details.is_empty() {
        out += &format!(" ({})", details.join(", "));
    }
    out
}

/// The PEM file of the CA whose certificates the bridge accepts from Postgres.
pub const CA_ENV: &str = "COEXIST_DATABASE_CA";

/// TLS for the connections: checking the server against `ca` when given, else encrypting only
/// (libpq's `sslmode=require`: a self-signed certificate, such as Debian's default one, is fine).
fn tls_connector(ca: Option<&Path>) -> Result<MakeTlsConnector, DbError> {
    let mut builder = native_tls::TlsConnector::builder();
    match ca {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| DbError::PostgresTls(format!("could not read the CA file {} ({CA_ENV}): {e}", path.display())))?;
            let certificate = native_tls::Certificate::from_pem(&pem)
                .map_err(|e| DbError::PostgresTls(format!("{} ({CA_ENV}) is not a PEM certificate: {e}", path.display())))?;
            builder.add_root_certificate(certificate);
        }
        None => {
            builder.danger_accept_invalid_certs(true).danger_accept_invalid_hostnames(true);
        }
    }
    let connector = builder.build().map_err(|e| DbError::PostgresTls(format!("could not set up TLS: {e}")))?;
    Ok(MakeTlsConnector::new(connector))
}

fn build_pool(config: tokio_postgres::Config, tls: MakeTlsConnector) -> Result<Pool, DbError> {
    // Fast recycling: a connection the server closed is seen as closed and replaced; no test
    // query on every checkout.
    let manager = Manager::from_config(config, tls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        // Covers the whole handshake, which `connect_timeout` (the TCP connect only) does not.
        .create_timeout(Some(CONNECT_TIMEOUT + Duration::from_secs(5)))
        .build()
        .map_err(|e| DbError::Task(format!("could not set up the Postgres connection pool: {e}")))
}

fn pool_reason(e: PoolError) -> String {
    match e {
        PoolError::Backend(e) => describe(&e),
        PoolError::Timeout(_) => "no answer in time".into(),
        other => other.to_string(),
    }
}

/// A tokio-postgres error in words: the server's own message (with its detail and hint) for a
/// database error, else the error and its causes (tokio-postgres alone says only "db error").
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return [Some(db.message()), db.detail(), db.hint()].into_iter().flatten().collect::<Vec<_>>().join("; ");
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        out += &format!(": {cause}");
        source = cause.source();
    }
    out
}

/// Brings the schema to the latest version in one transaction, under an advisory lock so that two
/// bridges starting at once do not both create the tables. `bridge_schema` keeps one row per
/// applied version.
async fn migrate(client: &mut Object) -> Result<(), DbError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS bridge_schema (version INTEGER PRIMARY KEY, applied_at_ms BIGINT NOT NULL)",
    )
    .await?;
    let current: i32 = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM bridge_schema", &[]).await?.try_get(0)?;
    let known = MIGRATIONS.len() as i32;
    if current > known {
        return Err(DbError::SchemaTooNew { found: current.into(), known: known.into() });
    }
    for (version, sql) in (1i32..).zip(MIGRATIONS).skip(current as usize) {
        tx.batch_execute(sql).await?;
        tx.execute("INSERT INTO bridge_schema (version, applied_at_ms) VALUES ($1, $2)", &[&version, &crate::now_ms()])
            .await?;
        tracing::info!(version, "migrated the Postgres schema");
    }
    tx.commit().await?;
    Ok(())
}

/// Only `synchronous_commit = off` acknowledges commits that a server crash can lose: say so
/// loudly rather than override a DBA's setting (which may be a stronger, replicated one).
async fn warn_unless_durable(client: &Object) -> Result<(), DbError> {
    let setting: String = client.query_one("SELECT current_setting('synchronous_commit')", &[]).await?.try_get(0)?;
    if setting == "off" {
        tracing::warn!(
            "Postgres runs with synchronous_commit = off: a server crash can lose the last events the bridge \
             acknowledged; set it on for the bridge's user (ALTER ROLE ... SET synchronous_commit = on)"
        );
    }
    Ok(())
}

/// Runs `sql` (prepared once per connection, then cached) and returns its rows.
async fn query(c: &impl GenericClient, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, DbError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

async fn query_opt(c: &impl GenericClient, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, DbError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&statement, params).await?)
}

async fn last_seq_of(c: &impl GenericClient) -> Result<i64, DbError> {
    Ok(query_one(c, "SELECT COALESCE(MAX(seq), 0) FROM events", &[]).await?.try_get(0)?)
}

async fn query_one(c: &impl GenericClient, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, DbError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_one(&statement, params).await?)
}

/// Runs `sql` (prepared and cached) and returns how many rows it changed.
async fn execute(c: &impl GenericClient, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, DbError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.execute(&statement, params).await?)
}

/// Inserts one event at `MAX(seq) + 1` and returns its seq: under the batch's table lock this is
/// gap-free (a rolled-back savepoint takes its seq with it).
async fn insert_event(c: &impl GenericClient, kind: RelayKind, received_at_ms: i64, payload: &str) -> Result<i64, DbError> {
    let row = query_one(
        c,
        "INSERT INTO events (seq, kind, received_at_ms, payload)
         SELECT COALESCE(MAX(seq), 0) + 1, $1::TEXT, $2::BIGINT, $3::TEXT FROM events
         RETURNING seq",
        &[&kind.name(), &received_at_ms, &payload],
    )
    .await?;
    Ok(row.try_get(0)?)
}

/// A webhook body at the next seq, or the seq it already has (a redelivery: same body, so same
/// `key`, Meta's time and the body's hash; also when stored before migration 3), in one
/// statement: under the batch's table lock nobody else can insert the same body between its two
/// halves. `HAVING` drops the aggregate's one row when the body is already there.
async fn append_webhook(
    c: &impl GenericClient,
    body: &str,
    key: (i64, &str),
    received_at_ms: i64,
    has_hashes_of_old: bool,
) -> Result<Appended, DbError> {
    let (meta_time, digest) = key;
    let row = query_one(
        c,
        "WITH existing AS (
                  SELECT seq FROM events WHERE meta_time = $5 AND digest = $3
                  UNION ALL SELECT seq FROM events WHERE $6 AND body_hash = $3),
              inserted AS (
                  INSERT INTO events (seq, kind, received_at_ms, payload, meta_time, digest)
                  SELECT COALESCE(MAX(seq), 0) + 1, $4::TEXT, $1::BIGINT, $2::TEXT, $5::BIGINT, $3::TEXT FROM events
                  HAVING NOT EXISTS (SELECT 1 FROM existing)
                  RETURNING seq)
         SELECT seq, FALSE FROM inserted UNION ALL (SELECT seq, TRUE FROM existing LIMIT 1)",
        &[&received_at_ms, &body, &digest, &RelayKind::Webhook.name(), &meta_time, &has_hashes_of_old],
    )
    .await?;
    Ok(Appended::Event { seq: row.try_get(0)?, duplicate: row.try_get(1)? })
}

async fn append_one(c: &impl GenericClient, item: Append, has_hashes_of_old: bool) -> Result<Appended, DbError> {
    match item {
        Append::Webhook { body, body_hash, meta_time, received_at_ms } => {
            append_webhook(c, &body, (meta_time, &body_hash), received_at_ms, has_hashes_of_old).await
        }
        Append::Quarantine { body, body_hash, reason, received_at_ms } => {
            if let Some(row) = query_opt(c, "SELECT id FROM quarantine WHERE body_hash = $1", &[&body_hash]).await? {
                return Ok(Appended::Quarantined { id: row.try_get(0)?, duplicate: true });
            }
            let row = query_one(
                c,
                "INSERT INTO quarantine (body_hash, received_at_ms, reason, body) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&body_hash, &received_at_ms, &reason, &body],
            )
            .await?;
            Ok(Appended::Quarantined { id: row.try_get(0)?, duplicate: false })
        }
        Append::Number { settings, create, received_at_ms } => {
            let json = serde_json::to_string(&settings)?;
            let id = &settings.phone_number_id;
            let sql = "SELECT EXISTS(SELECT 1 FROM numbers WHERE phone_number_id = $1)";
            let exists: bool = query_one(c, sql, &[id]).await?.try_get(0)?;
            shared::check_number(id, create, exists)?;
            execute(
                c,
                "INSERT INTO numbers (phone_number_id, settings) VALUES ($1, $2)
                 ON CONFLICT (phone_number_id) DO UPDATE SET settings = excluded.settings",
                &[id, &json],
            )
            .await?;
            let seq = insert_event(c, RelayKind::Number, received_at_ms, &json).await?;
            Ok(Appended::Event { seq, duplicate: false })
        }
        Append::Templates { catalog, received_at_ms } => {
            let json = serde_json::to_string(&catalog)?;
            let seq = insert_event(c, RelayKind::Templates, received_at_ms, &json).await?;
            Ok(Appended::Event { seq, duplicate: false })
        }
        Append::Team { kind, payload, received_at_ms } => {
            let seq = insert_event(c, kind, received_at_ms, &payload.to_string()).await?;
            Ok(Appended::Event { seq, duplicate: false })
        }
        Append::Send(record) => append_send(c, *record).await,
    }
}

/// Stores a send's answer once per idempotency key: a key already stored returns its first answer.
async fn append_send(c: &impl GenericClient, record: SendRecord) -> Result<Appended, DbError> {
    if let Some(stored) = send_answer(c, &record.idempotency_key).await? {
        return Ok(Appended::Send(stored));
    }
    let mut answer = record.answer;
    let mut seq = None;
    if let Some(outbound) = &record.outbound {
        let json = serde_json::to_string(outbound)?;
        let s = insert_event(c, RelayKind::Outbound, record.received_at_ms, &json).await?;
        shared::answer_with_seq(&mut answer, s);
        seq = Some(s);
    }
    execute(
        c,
        "INSERT INTO sends (idempotency_key, phone_number_id, request_hash, agent, status, answer, seq, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &record.idempotency_key,
            &record.phone_number_id,
            &record.request_hash,
            &record.agent,
            &i32::from(record.status),
            &serde_json::to_string(&answer)?,
            &seq,
            &record.received_at_ms,
        ],
    )
    .await?;
    Ok(Appended::Send(StoredSend {
        phone_number_id: record.phone_number_id,
        request_hash: record.request_hash,
        status: record.status,
        answer,
    }))
}

async fn send_answer(c: &impl GenericClient, key: &str) -> Result<Option<StoredSend>, DbError> {
    let sql = "SELECT phone_number_id, request_hash, status, answer FROM sends WHERE idempotency_key = $1";
    let Some(row) = query_opt(c, sql, &[&key]).await? else { return Ok(None) };
    let status: i32 = row.try_get(2)?;
    let status = u16::try_from(status)
        .map_err(|_| DbError::Conflict(format!("stored send {key:?} has an impossible HTTP status {status}")))?;
    let answer: &str = row.try_get(3)?;
    shared::stored_send(row.try_get(0)?, row.try_get(1)?, status, answer).map(Some)
}

fn to_user(row: &Row) -> Result<User, DbError> {
    shared::user(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)
}

#[async_trait]
impl Database for PostgresDb {
    /// One transaction under the events table lock, a savepoint per item (see the module doc).
    async fn append_batch(&self, items: Vec<Append>) -> Result<Vec<Result<Appended, DbError>>, DbError> {
        let mut client = self.client().await?;
        // READ COMMITTED whatever the server's default: each statement after the lock must see what
        // the writer before us committed (REPEATABLE READ would compute MAX(seq) from a stale
        // snapshot).
        let mut tx = client.build_transaction().isolation_level(IsolationLevel::ReadCommitted).start().await?;
        tx.batch_execute("LOCK TABLE events IN EXCLUSIVE MODE").await?;
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            // Webhooks, nearly every append, take one round trip instead of four: their statement
            // cannot fail for a reason of their own (a failure there is the server's, and fails
            // the batch), so they need no savepoint.
            if let Append::Webhook { body, body_hash, meta_time, received_at_ms } = item {
                let key = (meta_time, body_hash.as_str());
                results.push(Ok(append_webhook(&tx, &body, key, received_at_ms, self.has_hashes_of_old).await?));
                continue;
            }
            let sp = tx.savepoint("item").await?;
            let result = append_one(&sp, item, self.has_hashes_of_old).await;
            if result.is_ok() {
                sp.commit().await?;
            } else {
                sp.rollback().await?;
            }
            results.push(result);
        }
        let seq = last_seq_of(&tx).await?;
        tx.commit().await?;
        self.seq_at_commit.store(seq, Ordering::Release);
        Ok(results)
    }

    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<RelayEvent>, DbError> {
        let c = self.client().await?;
        let sql = "SELECT seq, kind, received_at_ms, payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";
        let rows = query(&c, sql, &[&after, &i64::try_from(limit).unwrap_or(i64::MAX)]).await?;
        rows.iter()
            .map(|r| shared::event(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
            .collect()
    }

    async fn last_seq(&self) -> Result<i64, DbError> {
        last_seq_of(&self.client().await?).await
    }

    fn last_seq_at_commit(&self) -> i64 {
        self.seq_at_commit.load(Ordering::Acquire)
    }

    async fn quarantined(&self, limit: usize) -> Result<Vec<Quarantined>, DbError> {
        let c = self.client().await?;
        // Bodies can be MiBs each: list a prefix, with the full size.
        let sql = "SELECT id, received_at_ms, reason, body_hash, substring(body from 1 for $2::INTEGER),
                          octet_length(body)::BIGINT
                   FROM quarantine ORDER BY id DESC LIMIT $1";
        let rows = query(&c, sql, &[&i64::try_from(limit).unwrap_or(i64::MAX), &(QUARANTINE_PREVIEW as i32)]).await?;
        rows.iter()
            .map(|r| {
                let (prefix, size): (&[u8], i64) = (r.try_get(4)?, r.try_get(5)?);
                Ok(shared::quarantined(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, prefix, size))
            })
            .collect()
    }

    /// One statement, so two admins adding the same name at once get the same refusal (a check
    /// then an insert would let the second one fail on the key instead).
    async fn add_user(&self, name: &str, role: Role, token_hash: &str) -> Result<(), DbError> {
        let c = self.client().await?;
        let added = execute(
            &c,
            "INSERT INTO users (name, role, token_hash, created_at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &role.as_str(), &token_hash, &crate::now_ms()],
        )
        .await?;
        if added == 0 {
            return Err(shared::user_exists(name));
        }
        Ok(())
    }

    async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>, DbError> {
        let c = self.client().await?;
        let sql = "SELECT name, role, created_at_ms FROM users WHERE token_hash = $1";
        query_opt(&c, sql, &[&token_hash]).await?.as_ref().map(to_user).transpose()
    }

    /// By name in byte order (`COLLATE "C"`), as SQLite sorts, whatever the database's collation.
    async fn users(&self) -> Result<Vec<User>, DbError> {
        let c = self.client().await?;
        let rows = query(&c, r#"SELECT name, role, created_at_ms FROM users ORDER BY name COLLATE "C""#, &[]).await?;
        rows.iter().map(to_user).collect()
    }

    async fn revoke_user(&self, name: &str) -> Result<bool, DbError> {
        let c = self.client().await?;
        Ok(execute(&c, "DELETE FROM users WHERE name = $1", &[&name]).await? > 0)
    }

    async fn payloads_of(&self, kind: RelayKind) -> Result<Vec<String>, DbError> {
        let c = self.client().await?;
        let sql = "SELECT payload FROM events WHERE kind = $1 AND kind <> 'webhook' ORDER BY seq";
        let rows = query(&c, sql, &[&kind.name()]).await?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<Vec<String>, _>>()?)
    }

    /// By id in byte order, as SQLite sorts.
    async fn numbers(&self) -> Result<Vec<NumberSettings>, DbError> {
        let c = self.client().await?;
        let rows = query(&c, r#"SELECT settings FROM numbers ORDER BY phone_number_id COLLATE "C""#, &[]).await?;
        rows.iter().map(|r| Ok(serde_json::from_str(r.try_get(0)?)?)).collect()
    }

    async fn number(&self, phone_number_id: &str) -> Result<Option<NumberSettings>, DbError> {
        let c = self.client().await?;
        let sql = "SELECT settings FROM numbers WHERE phone_number_id = $1";
        let Some(row) = query_opt(&c, sql, &[&phone_number_id]).await? else { return Ok(None) };
        Ok(Some(serde_json::from_str(row.try_get(0)?)?))
    }

    async fn send_answer(&self, idempotency_key: &str) -> Result<Option<StoredSend>, DbError> {
        let c = self.client().await?;
        send_answer(&c, idempotency_key).await
    }
}

#[cfg(test)]
mod tests {
    //! What only Postgres has: connecting, and migrations shared by bridges. The behaviour common to
    //! both backends is in the conformance suite (`super::super::conformance`).

    use super::*;
    use crate::db::conformance::{catch, plain_client, server_url, test_server, TestDatabase};

    #[tokio::test]
    async fn a_closed_port_gives_an_error_that_says_where_and_what_to_check() {
        // Bound then closed: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let err = PostgresDb::connect(&format!("postgres://ana:s3cret-pw@127.0.0.1:{port}/coexist")).await.unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, DbError::PostgresConnect { .. }), "{message}");
        let at = format!(r#"at 127.0.0.1:{port} (database "coexist", user "ana")"#);
        assert!(message.contains(&at), "{message}");
        assert!(message.contains("refused") && message.contains("COEXIST_DATABASE_URL"), "{message}");
        assert!(!message.contains("s3cret-pw"), "never the password: {message}");
    }

    #[tokio::test]
    async fn a_url_that_does_not_parse_is_refused_without_repeating_it() {
        for url in ["postgres://ana:s3cret-pw@db:notaport/coexist", "postgres://ana:s3cret-pw@/coexist"] {
            let err = PostgresDb::connect(url).await.unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, DbError::PostgresUrl(_)), "{message}");
            assert!(message.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE"), "{message}");
            assert!(!message.contains("s3cret-pw"), "never the password: {message}");
        }
    }

    /// Whether the session of a pooled connection is encrypted.
    async fn encrypted(db: &PostgresDb) -> bool {
        let client = db.client().await.unwrap();
        let row = client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await.unwrap();
        row.get(0)
    }

    #[tokio::test]
    async fn tls_is_used_as_the_url_asks_with_a_self_signed_certificate_accepted() {
        let Some(database) = TestDatabase::create().await else { return };
        let url = database.url.clone();
        let outcome = catch(async move {
            // The test server is Debian's, with TLS on and its self-signed "snakeoil" certificate.
            let required = PostgresDb::connect_checking(&format!("{url}?sslmode=require"), None).await.unwrap();
            assert!(encrypted(&required).await, "sslmode=require encrypts");
            let plain = PostgresDb::connect_checking(&format!("{url}?sslmode=disable"), None).await.unwrap();
            assert!(!encrypted(&plain).await, "sslmode=disable does not");
        });
        database.finish(outcome.await).await;
    }

    #[tokio::test]
    async fn with_a_ca_the_servers_certificate_and_name_are_checked() {
        let Some(database) = TestDatabase::create().await else { return };
        let url = format!("{}?sslmode=require", database.url);
        let outcome = catch(async move {
            let missing = PostgresDb::connect_checking(&url, Some(Path::new("/nonexistent/ca.pem"))).await.unwrap_err();
            assert!(missing.to_string().contains(CA_ENV), "{missing}");
            // The server's own certificate as the CA: it is signed, but for the machine's name, not 127.0.0.1.
            let snakeoil = Path::new("/etc/ssl/certs/ssl-cert-snakeoil.pem");
            let refused = PostgresDb::connect_checking(&url, Some(snakeoil)).await.unwrap_err();
            assert!(matches!(refused, DbError::PostgresConnect { .. }), "{refused}");
            assert!(refused.to_string().contains("certificate"), "says why: {refused}");
        });
        database.finish(outcome.await).await;
    }

    #[tokio::test]
    async fn a_wrong_password_gives_an_error_that_says_what_to_check() {
        let Some(server) = test_server() else { return };
        let url = server_url(&server, Some(("", "not-the-password")), "postgres");
        let err = PostgresDb::connect(&url).await.unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, DbError::PostgresConnect { .. }), "{message}");
        assert!(message.contains("password authentication failed"), "{message}");
        assert!(message.contains("the user and password in the database URL"), "{message}");
        assert!(!message.contains("not-the-password"), "never the password: {message}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bridges_starting_at_once_migrate_once() {
        let Some(test) = TestDatabase::create().await else { return };
        let outcome = catch(async {
            let starts = (0..4).map(|_| {
                let url = test.url.clone();
                tokio::spawn(async move { PostgresDb::connect(&url).await })
            });
            for started in futures::future::join_all(starts).await {
                started.unwrap().unwrap();
            }
            let client = plain_client(&test.url).await.unwrap();
            let rows = client.query("SELECT version FROM bridge_schema ORDER BY version", &[]).await.unwrap();
            let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
            assert_eq!(versions, (1..=MIGRATIONS.len() as i32).collect::<Vec<_>>());
        })
        .await;
        test.finish(outcome).await;
    }

    #[tokio::test]
    async fn a_user_that_may_not_create_tables_is_told_what_to_grant() {
        let Some(test) = TestDatabase::create().await else { return };
        let server = test_server().unwrap();
        // Roles belong to the whole server: a random name, dropped after.
        let role = format!("coexist_test_{:016x}", rand::random::<u64>());
        let admin = plain_client(&server).await.unwrap();
        admin.batch_execute(&format!("CREATE ROLE {role} LOGIN PASSWORD 'pw'")).await.unwrap();
        let outcome = catch(async {
            // The default since Postgres 15; said here so the test means the same on older servers.
            let owner = plain_client(&test.url).await.unwrap();
            owner.batch_execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC").await.unwrap();
            let url = server_url(&server, Some((&role, "pw")), &test.name);
            let err = PostgresDb::connect(&url).await.unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, DbError::PostgresMigration { .. }), "{message}");
            assert!(message.contains("permission denied") && message.contains("GRANT CREATE ON SCHEMA"), "{message}");
        })
        .await;
        // The database first: dropping it ends the role's sessions.
        test.drop_database().await;
        if let Err(e) = admin.batch_execute(&format!("DROP ROLE IF EXISTS {role}")).await {
            eprintln!("could not drop the test role {role}: {}", describe(&e));
        }
        outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    }

    #[tokio::test]
    async fn a_schema_from_a_newer_bridge_is_refused() {
        let Some(test) = TestDatabase::create().await else { return };
        let outcome = catch(async {
            drop(PostgresDb::connect(&test.url).await.unwrap());
            let client = plain_client(&test.url).await.unwrap();
            client.execute("INSERT INTO bridge_schema (version, applied_at_ms) VALUES (99, 0)", &[]).await.unwrap();
            let err = PostgresDb::connect(&test.url).await.unwrap_err();
            assert!(matches!(err, DbError::SchemaTooNew { found: 99, .. }), "{err}");
            assert!(err.to_string().contains("run the newer coexist-bridge"), "{err}");
        })
        .await;
        test.finish(outcome).await;
    }

    #[tokio::test]
    async fn webhooks_stored_before_migration_3_are_still_found_by_their_hash() {
        let Some(test) = TestDatabase::create().await else { return };
        let outcome = catch(async {
            let old_body = r#"{"entry":[{"time":1764000000}]}"#;
            let client = plain_client(&test.url).await.unwrap();
            client
                .batch_execute("CREATE TABLE bridge_schema (version INTEGER PRIMARY KEY, applied_at_ms BIGINT NOT NULL)")
                .await
                .unwrap();
            for (version, sql) in (1i32..).zip(&MIGRATIONS[..2]) {
                client.batch_execute(sql).await.unwrap();
                client.execute("INSERT INTO bridge_schema (version, applied_at_ms) VALUES ($1, 0)", &[&version]).await.unwrap();
            }
            let hash = crate::sha256_hex(old_body.as_bytes());
            client
                .execute("INSERT INTO events (seq, kind, received_at_ms, payload, body_hash) VALUES (1, 'webhook', 1, $1, $2)", &[&old_body, &hash])
                .await
                .unwrap();
            let db = PostgresDb::connect(&test.url).await.unwrap();
            assert!(db.has_hashes_of_old);
            let webhook = |body: &str, meta_time| Append::Webhook {
                body: body.into(),
                body_hash: crate::sha256_hex(body.as_bytes()),
                meta_time,
                received_at_ms: 1,
            };
            let new_body = r#"{"entry":[{"time":1764000100}]}"#;
            let batch = vec![webhook(old_body, 1_764_000_000), webhook(new_body, 1_764_000_100), webhook(new_body, 1_764_000_100)];
            let appended: Vec<Appended> = db.append_batch(batch).await.unwrap().into_iter().map(Result::unwrap).collect();
            assert_eq!(
                appended,
                vec![
                    Appended::Event { seq: 1, duplicate: true },
                    Appended::Event { seq: 2, duplicate: false },
                    Appended::Event { seq: 2, duplicate: true },
                ]
            );
            let rows = client.query("SELECT body_hash FROM events ORDER BY seq", &[]).await.unwrap();
            let hashes: Vec<Option<String>> = rows.iter().map(|r| r.get(0)).collect();
            assert_eq!(hashes, vec![Some(hash), None], "new rows leave the old index alone");
        })
        .await;
        test.finish(outcome).await;
    }
}
