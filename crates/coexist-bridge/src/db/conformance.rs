//! One conformance suite for every [`Database`] backend: each check below runs against SQLite (a
//! file in a temporary directory) and against Postgres (a database of its own), so that callers
//! cannot tell the backends apart. Test names: `db::conformance::{sqlite,postgres}::CHECK`.
//!
//! The Postgres half needs a server: set `COEXIST_TEST_POSTGRES` to a superuser URL such as
//! `postgres://coexist:coexist@127.0.0.1:5432/postgres` (`scripts/test-postgres.sh` starts one and
//! prints it). Each test creates `coexist_test_<random>` there and drops it at the end, even when
//! the check failed. Unset, the Postgres half is skipped (and says so), unless
//! `COEXIST_REQUIRE_POSTGRES=1` (`scripts/test.sh` sets both), when it fails.

use std::future::Future;
use std::panic::{resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coexist_core::{Assignment, NumberMode, NumberSettings, OutboundRecord, RelayKind, TemplateCatalog};
use futures::FutureExt;
use serde_json::{json, Value};

use super::postgres::{describe, PostgresDb};
use super::shared::QUARANTINE_PREVIEW;
use super::sqlite::SqliteDb;
use super::{Append, Appended, Database, DbError, SendRecord};
use crate::auth::Role;

/// The checks, each run once per backend (a `#[tokio::test]` in `sqlite` and one in `postgres`).
macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(&super::Store::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(store) = super::Store::postgres().await else { return };
                    let outcome = super::catch(super::$check(&store)).await;
                    store.finish(outcome).await;
                }
            )*
        }
    };
}

conformance!(
    seqs_are_gap_free_and_redelivery_is_stored_once,
    quarantine_listing_shows_a_prefix_of_big_bodies,
    users_are_added_once_found_by_token_listed_and_revoked,
    numbers_are_created_once_and_replaced_only_when_they_exist,
    a_send_answer_is_stored_once_per_idempotency_key,
    events_are_paged_after_a_cursor_with_a_limit,
    the_log_survives_a_reopen,
    the_seq_at_a_commit_includes_another_handles_appends,
    concurrent_batches_from_two_handles_get_gap_free_seqs_readers_never_skip,
);

// ---------------------------------------------------------------------------------------------
// The checks.

async fn seqs_are_gap_free_and_redelivery_is_stored_once(store: &Store) {
    let db = store.open().await;
    let results = db
        .append_batch(vec![
            webhook(r#"{"a":1}"#),
            // Fails (number does not exist yet): must not burn a seq.
            Append::Number { settings: number("1", "+15550001"), create: false, received_at_ms: 1 },
            webhook(r#"{"a":1}"#),
            webhook(r#"{"a":2}"#),
        ])
        .await
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap(), &Appended::Event { seq: 1, duplicate: false });
    assert!(matches!(results[1], Err(DbError::NotFound(_))), "{:?}", results[1]);
    assert_eq!(results[2].as_ref().unwrap(), &Appended::Event { seq: 1, duplicate: true });
    assert_eq!(results[3].as_ref().unwrap(), &Appended::Event { seq: 2, duplicate: false });
    let events = db.events_after(0, 10).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(events[1].payload_value().unwrap(), json!({"a": 2}));
    // Meta redelivering it later, in another batch, is still stored once.
    let again = db.append_batch(vec![webhook(r#"{"a":2}"#)]).await.unwrap();
    assert_eq!(again[0].as_ref().unwrap(), &Appended::Event { seq: 2, duplicate: true });
    assert_eq!(db.last_seq().await.unwrap(), 2);
}

async fn quarantine_listing_shows_a_prefix_of_big_bodies(store: &Store) {
    let db = store.open().await;
    let big = vec![b'x'; 100 * 1024];
    let results = db
        .append_batch(vec![quarantine(big.clone()), quarantine(b"bad \xff".to_vec()), quarantine(big)])
        .await
        .unwrap();
    let results: Vec<Appended> = results.into_iter().map(Result::unwrap).collect();
    let Appended::Quarantined { id: big_id, duplicate: false } = results[0] else { panic!("{results:?}") };
    assert!(matches!(results[1], Appended::Quarantined { duplicate: false, .. }), "{results:?}");
    assert_eq!(results[2], Appended::Quarantined { id: big_id, duplicate: true }, "stored once per body");

    let list = db.quarantined(10).await.unwrap();
    assert_eq!(list.len(), 2);
    // Newest first; invalid UTF-8 shown replaced.
    assert_eq!((list[0].body.as_str(), list[0].size, list[0].truncated), ("bad \u{fffd}", 5, false));
    assert_eq!(list[0].reason, "bad");
    assert_eq!(list[1].id, big_id);
    assert_eq!(list[1].size, 100 * 1024);
    assert!(list[1].truncated);
    assert_eq!(list[1].body.len(), QUARANTINE_PREVIEW);
    assert_eq!(db.quarantined(1).await.unwrap().len(), 1);
    assert_eq!(db.last_seq().await.unwrap(), 0, "quarantine is not relayed");
}

async fn users_are_added_once_found_by_token_listed_and_revoked(store: &Store) {
    let db = store.open().await;
    db.add_user("ana", Role::Agent, "hash-ana").await.unwrap();
    db.add_user("Bob", Role::Admin, "hash-bob").await.unwrap();
    let err = db.add_user("ana", Role::Manager, "hash-other").await.unwrap_err();
    let expected = r#"a user named "ana" already exists; revoke them first or pick another name"#;
    assert!(matches!(&err, DbError::Conflict(m) if m == expected), "{err}");
    assert_eq!(db.user_by_token_hash("hash-other").await.unwrap(), None, "the refused add left nothing");

    let ana = db.user_by_token_hash("hash-ana").await.unwrap().unwrap();
    assert_eq!((ana.name.as_str(), ana.role), ("ana", Role::Agent));
    assert!(ana.created_at_ms > 0);
    let users: Vec<_> = db.users().await.unwrap().into_iter().map(|u| (u.name, u.role)).collect();
    // Byte order ("B" < "a"), whatever the database's collation.
    assert_eq!(users, [("Bob".to_string(), Role::Admin), ("ana".to_string(), Role::Agent)]);

    assert!(db.revoke_user("ana").await.unwrap());
    assert!(!db.revoke_user("ana").await.unwrap(), "nobody left to revoke");
    assert_eq!(db.user_by_token_hash("hash-ana").await.unwrap(), None, "a revoked token stops working");
    db.add_user("ana", Role::Manager, "hash-ana-2").await.unwrap();
    assert_eq!(db.users().await.unwrap().len(), 2);
}

async fn numbers_are_created_once_and_replaced_only_when_they_exist(store: &Store) {
    let db = store.open().await;
    let add = |settings, create| Append::Number { settings, create, received_at_ms: 3 };
    let results = db
        .append_batch(vec![
            add(number("2", "+15550002"), true),
            add(number("10", "+15550010"), true),
            add(number("2", "+15559999"), true),
            add(number("3", "+15550003"), false),
            add(number("2", "+15550022"), false),
        ])
        .await
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap(), &Appended::Event { seq: 1, duplicate: false });
    assert_eq!(results[1].as_ref().unwrap(), &Appended::Event { seq: 2, duplicate: false });
    let conflict = "number 2 already exists; edit it with PUT /v1/admin/numbers/2";
    assert!(matches!(&results[2], Err(DbError::Conflict(m)) if m == conflict), "{:?}", results[2]);
    let missing = "no number 3; add it first with POST /v1/admin/numbers";
    assert!(matches!(&results[3], Err(DbError::NotFound(m)) if m == missing), "{:?}", results[3]);
    assert_eq!(results[4].as_ref().unwrap(), &Appended::Event { seq: 3, duplicate: false });

    assert_eq!(db.number("2").await.unwrap(), Some(number("2", "+15550022")));
    assert_eq!(db.number("3").await.unwrap(), None);
    let ids: Vec<_> = db.numbers().await.unwrap().into_iter().map(|n| n.phone_number_id).collect();
    assert_eq!(ids, ["10", "2"], "byte order");
    let events = db.events_after(0, 10).await.unwrap();
    assert!(events.iter().all(|e| e.kind == RelayKind::Number && e.received_at_ms == 3));
    assert_eq!(events[2].payload_value().unwrap(), serde_json::to_value(number("2", "+15550022")).unwrap());
}

async fn a_send_answer_is_stored_once_per_idempotency_key(store: &Store) {
    let db = store.open().await;
    append_ok(&*db, webhook(r#"{"before":1}"#)).await;
    let accepted = json!({"messages": [{"id": "wamid.1"}]});
    let Appended::Send(first) = append_ok(&*db, send("key-1", 200, accepted.clone(), true)).await else { panic!() };
    // The outbound event got seq 2, and the answer carries it.
    assert_eq!(first.answer, json!({"messages": [{"id": "wamid.1"}], "seq": 2}));
    assert_eq!((first.status, first.phone_number_id.as_str(), first.request_hash.as_str()), (200, "1", "hash-key-1"));
    let events = db.events_after(1, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].seq, events[0].kind), (2, RelayKind::Outbound));
    assert_eq!(events[0].payload_value().unwrap(), serde_json::to_value(outbound("key-1")).unwrap());

    // A retry with the same key gets the first answer, whatever it carries now, and no new event.
    let retry = append_ok(&*db, send("key-1", 500, json!({"error": "late"}), true)).await;
    assert_eq!(retry, Appended::Send(first.clone()));
    assert_eq!(db.last_seq().await.unwrap(), 2);
    assert_eq!(db.send_answer("key-1").await.unwrap(), Some(first));

    // A refused send keeps its answer, without an event or a seq.
    let refused = json!({"error": {"message": "bad number"}});
    let Appended::Send(second) = append_ok(&*db, send("key-2", 400, refused.clone(), false)).await else { panic!() };
    assert_eq!((second.status, &second.answer), (400, &refused));
    assert_eq!(db.send_answer("key-2").await.unwrap(), Some(second));
    assert_eq!(db.last_seq().await.unwrap(), 2);
    assert_eq!(db.send_answer("key-unknown").await.unwrap(), None);

    // The same key twice in one batch: stored once too.
    let both = db.append_batch(vec![send("key-3", 200, accepted.clone(), true), send("key-3", 200, accepted, true)]);
    let both: Vec<Appended> = both.await.unwrap().into_iter().map(Result::unwrap).collect();
    assert_eq!(both[0], both[1]);
    assert_eq!(db.last_seq().await.unwrap(), 3);
}

async fn events_are_paged_after_a_cursor_with_a_limit(store: &Store) {
    let db = store.open().await;
    assert_eq!(db.last_seq().await.unwrap(), 0, "an empty log");
    assert!(db.events_after(0, 10).await.unwrap().is_empty());
    assert!(db.append_batch(Vec::new()).await.unwrap().is_empty());
    let assignment = Assignment {
        phone_number_id: "1".into(),
        contact: "15551234".into(),
        assignee: Some("ana".into()),
        by: "bob".into(),
        at_ms: 7,
    };
    // Spaces kept: a webhook body is relayed byte for byte.
    let bodies: Vec<String> = (0..5).map(|i| format!(r#"{{ "n" : {i} }}"#)).collect();
    let mut batch: Vec<Append> = bodies.iter().map(|b| webhook(b)).collect();
    let templates = vec![json!({"name": "hi"})];
    let catalog = TemplateCatalog { phone_number_id: "1".into(), waba_id: "2".into(), templates };
    batch.push(Append::Templates { catalog, received_at_ms: 6 });
    let payload = serde_json::to_value(&assignment).unwrap();
    batch.push(Append::Team { kind: RelayKind::Assignment, payload, received_at_ms: 7 });
    // Unreadable as an assignment: relayed all the same, skipped by `assignments()`.
    batch.push(Append::Team { kind: RelayKind::Assignment, payload: json!({"not": "one"}), received_at_ms: 8 });
    assert!(db.append_batch(batch).await.unwrap().iter().all(Result::is_ok));

    let mut pages = Vec::new();
    let mut cursor = 0;
    loop {
        let page = db.events_after(cursor, 3).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        pages.push(page.iter().map(|e| e.seq).collect::<Vec<_>>());
    }
    assert_eq!(pages, [vec![1, 2, 3], vec![4, 5, 6], vec![7, 8]]);
    let events = db.events_after(0, 100).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| (e.kind, e.received_at_ms)).collect();
    let mut expected = vec![(RelayKind::Webhook, 1); 5];
    expected.extend([(RelayKind::Templates, 6), (RelayKind::Assignment, 7), (RelayKind::Assignment, 8)]);
    assert_eq!(kinds, expected);
    assert_eq!(events[0].payload.get(), bodies[0]);
    assert!(db.events_after(8, 3).await.unwrap().is_empty());
    assert!(db.events_after(0, 0).await.unwrap().is_empty());
    assert_eq!(db.assignments().await.unwrap(), [assignment]);
}

async fn the_log_survives_a_reopen(store: &Store) {
    let db = store.open().await;
    db.append_batch(vec![webhook(r#"{"a":1}"#), webhook(r#"{"a":2}"#)]).await.unwrap();
    db.add_user("ana", Role::Agent, "hash-ana").await.unwrap();
    drop(db);
    // A restarted bridge (for Postgres: a new pool on the same database; migrations run again).
    let db = store.open().await;
    assert_eq!(db.last_seq().await.unwrap(), 2);
    assert!(db.user_by_token_hash("hash-ana").await.unwrap().is_some());
    let results = db.append_batch(vec![webhook(r#"{"a":1}"#), webhook(r#"{"a":3}"#)]).await.unwrap();
    assert_eq!(results[0].as_ref().unwrap(), &Appended::Event { seq: 1, duplicate: true });
    assert_eq!(results[1].as_ref().unwrap(), &Appended::Event { seq: 3, duplicate: false });
    let seqs: Vec<_> = db.events_after(0, 10).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

/// What the writer publishes after a batch: the last seq as the batch's transaction saw it,
/// another handle's appends before it included; at open, the log's.
async fn the_seq_at_a_commit_includes_another_handles_appends(store: &Store) {
    let db = store.open().await;
    assert_eq!(db.last_seq_at_commit(), 0);
    db.append_batch(vec![webhook(r#"{"a":1}"#), webhook(r#"{"a":2}"#)]).await.unwrap();
    assert_eq!(db.last_seq_at_commit(), 2);
    let other = store.open().await;
    assert_eq!(other.last_seq_at_commit(), 2, "read at open");
    other.append_batch(vec![webhook(r#"{"a":3}"#)]).await.unwrap();
    assert_eq!(db.last_seq_at_commit(), 2, "not this handle's commit");
    db.append_batch(vec![webhook(r#"{"a":1}"#)]).await.unwrap();
    assert_eq!(db.last_seq_at_commit(), 3, "a batch of one redelivery still reads the other's append");
}

/// Two handles on one store (two bridges on one database, or a bridge and the CLI) append batches
/// at once while a reader follows the log as a desktop does.
async fn concurrent_batches_from_two_handles_get_gap_free_seqs_readers_never_skip(store: &Store) {
    const TASKS: usize = 20;
    const PER_TASK: usize = 50;
    let total = (TASKS * PER_TASK) as i64;
    let handles = [store.open().await, store.open().await];
    let reader = tokio::spawn(follow(handles[0].clone(), total));
    let writers: Vec<_> = (0..TASKS)
        .map(|t| {
            let db = handles[t % 2].clone();
            tokio::spawn(async move {
                let batch = (0..PER_TASK).map(|i| webhook(&format!(r#"{{"t":{t},"i":{i}}}"#))).collect();
                db.append_batch(batch).await.unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for writer in writers {
        let batch: Vec<i64> = writer
            .await
            .unwrap()
            .into_iter()
            .map(|r| match r.unwrap() {
                Appended::Event { seq, duplicate: false } => seq,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        // A batch is one transaction: nobody else's seq lands inside it.
        assert!(batch.windows(2).all(|w| w[1] == w[0] + 1), "{batch:?}");
        seqs.extend(batch);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    reader.await.unwrap();
    assert_eq!(handles[1].last_seq().await.unwrap(), total);
}

/// Pages through the log after a cursor until `until`, failing if a page ever starts past the
/// cursor + 1: that seq would have committed after a higher one, and a desktop would skip it for good.
async fn follow(db: Arc<dyn Database>, until: i64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut cursor = 0;
    while cursor < until {
        let page = db.events_after(cursor, 64).await.unwrap();
        for event in &page {
            assert_eq!(event.seq, cursor + 1, "a reader after seq {cursor} was handed {}", event.seq);
            cursor = event.seq;
        }
        if page.is_empty() {
            assert!(Instant::now() < deadline, "the log stopped at seq {cursor} of {until}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the checks append.

fn webhook(body: &str) -> Append {
    let meta_time = coexist_core::webhook_time(&serde_json::from_str(body).unwrap_or_default());
    Append::Webhook { body: body.into(), body_hash: crate::sha256_hex(body.as_bytes()), meta_time, received_at_ms: 1 }
}

fn quarantine(body: Vec<u8>) -> Append {
    Append::Quarantine { body_hash: crate::sha256_hex(&body), body, reason: "bad".into(), received_at_ms: 1 }
}

fn number(id: &str, display: &str) -> NumberSettings {
    NumberSettings {
        phone_number_id: id.into(),
        waba_id: "2".into(),
        display_number: display.into(),
        mode: NumberMode::Standard,
        tier_mps: 80,
    }
}

fn outbound(key: &str) -> OutboundRecord {
    OutboundRecord {
        phone_number_id: "1".into(),
        to: "15551234".into(),
        wa_id: Some("15551234".into()),
        wamid: "wamid.1".into(),
        agent: "ana".into(),
        idempotency_key: key.into(),
        timestamp: 1_700_000_000,
        message: json!({"type": "text", "text": {"body": "hi"}}),
    }
}

/// A send's answer; `accepted` ones carry the outbound record that becomes an event.
fn send(key: &str, status: u16, answer: Value, accepted: bool) -> Append {
    Append::Send(Box::new(SendRecord {
        idempotency_key: key.into(),
        phone_number_id: "1".into(),
        request_hash: format!("hash-{key}"),
        agent: "ana".into(),
        status,
        answer,
        outbound: accepted.then(|| outbound(key)),
        received_at_ms: 2,
    }))
}

async fn append_ok(db: &dyn Database, item: Append) -> Appended {
    db.append_batch(vec![item]).await.unwrap().pop().unwrap().unwrap()
}

// ---------------------------------------------------------------------------------------------
// The stores the checks run on.

/// A fresh, empty store of one backend.
enum Store {
    Sqlite { path: PathBuf, _dir: tempfile::TempDir },
    Postgres(TestDatabase),
}

impl Store {
    fn sqlite() -> Store {
        let dir = tempfile::tempdir().unwrap();
        Store::Sqlite { path: dir.path().join("bridge.db"), _dir: dir }
    }

    /// `None` when the Postgres half is skipped (see the module doc).
    async fn postgres() -> Option<Store> {
        TestDatabase::create().await.map(Store::Postgres)
    }

    /// A new handle on this store, as a restarted (or a second) bridge opens it.
    async fn open(&self) -> Arc<dyn Database> {
        match self {
            Store::Sqlite { path, .. } => Arc::new(SqliteDb::open(path).unwrap()),
            Store::Postgres(test) => Arc::new(PostgresDb::connect(&test.url).await.unwrap()),
        }
    }

    /// Removes the store, then fails as the check did.
    async fn finish(self, outcome: std::thread::Result<()>) {
        match self {
            Store::Postgres(test) => test.finish(outcome).await,
            Store::Sqlite { .. } => outcome.unwrap_or_else(|panic| resume_unwind(panic)),
        }
    }
}

/// Runs a check to the end, keeping its panic for after the clean-up.
pub(crate) async fn catch(check: impl Future<Output = ()>) -> std::thread::Result<()> {
    AssertUnwindSafe(check).catch_unwind().await
}

/// The test server's superuser URL, or `None` (after saying so) when the Postgres half is skipped.
pub(crate) fn test_server() -> Option<String> {
    if let Some(url) = std::env::var("COEXIST_TEST_POSTGRES").ok().filter(|u| !u.trim().is_empty()) {
        return Some(url);
    }
    if std::env::var("COEXIST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!(
            "COEXIST_REQUIRE_POSTGRES=1 but COEXIST_TEST_POSTGRES is not set: set it to a Postgres superuser URL \
             such as postgres://coexist:coexist@127.0.0.1:5432/postgres (scripts/test-postgres.sh starts a server \
             and prints one)"
        );
    }
    // Once, and past the test harness's capture (which would show it only for a failed test).
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let note = "COEXIST_TEST_POSTGRES is not set: the bridge's Postgres database tests are skipped\n";
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    });
    None
}

/// `server` (a `postgres://` URL) with another database, and another login if given (`user` empty:
/// the same user with another password).
pub(crate) fn server_url(server: &str, login: Option<(&str, &str)>, database: &str) -> String {
    let (scheme, rest) = server.split_once("://").expect("COEXIST_TEST_POSTGRES must be a postgres:// URL");
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = match (login, authority.rsplit_once('@')) {
        (None, _) => authority.to_string(),
        (Some((user, password)), Some((credentials, host))) => {
            let user = if user.is_empty() { credentials.split(':').next().unwrap_or(credentials) } else { user };
            format!("{user}:{password}@{host}")
        }
        (Some(_), None) => panic!("COEXIST_TEST_POSTGRES needs a user:password@ for this test"),
    };
    format!("{scheme}://{authority}/{database}{query}")
}

/// A plain tokio-postgres connection (not the bridge's pool), for setting tests up.
pub(crate) async fn plain_client(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A database of one test's own on the test server: created empty, dropped by
/// [`TestDatabase::drop_database`].
pub(crate) struct TestDatabase {
    server: String,
    pub(crate) name: String,
    /// The URL the bridge connects with.
    pub(crate) url: String,
}

impl TestDatabase {
    /// `None` when the Postgres half is skipped.
    pub(crate) async fn create() -> Option<TestDatabase> {
        let server = test_server()?;
        let name = format!("coexist_test_{:016x}", rand::random::<u64>());
        let created = match plain_client(&server).await {
            Ok(admin) => admin.batch_execute(&format!("CREATE DATABASE {name}")).await,
            Err(e) => Err(e),
        };
        if let Err(e) = created {
            let why = describe(&e);
            panic!("could not create the test database {name} with COEXIST_TEST_POSTGRES (a superuser URL?): {why}");
        }
        Some(TestDatabase { url: server_url(&server, None, &name), server, name })
    }

    /// Drops the database, then fails as the check did (see [`catch`]).
    pub(crate) async fn finish(self, outcome: std::thread::Result<()>) {
        self.drop_database().await;
        outcome.unwrap_or_else(|panic| resume_unwind(panic))
    }

    /// Best effort: a database left behind is only clutter, named `coexist_test_*`.
    pub(crate) async fn drop_database(self) {
        // FORCE (Postgres 13+) ends the connections a failed check left open.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = match plain_client(&self.server).await {
            Ok(admin) => admin.batch_execute(&sql).await,
            Err(e) => Err(e),
        };
        if let Err(e) = dropped {
            eprintln!("could not drop the test database {}: {}", self.name, describe(&e));
        }
    }
}
