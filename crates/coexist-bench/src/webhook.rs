//! Bridge webhook intake: signed POSTs answered 200 after a durable commit, beside a bare axum handler
//! that only checks the signature and appends the body to SQLite with group commit.

use std::net::SocketAddr;
use std::path::Path;

use axum::{extract::State, http::{HeaderMap, StatusCode}, routing::post, Router};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::load::{post_webhooks, LoadResult};
use crate::report::Report;

const SECRET: &str = "bench-app-secret";
const CONCURRENCY: usize = 64;

/// Runs of each server, interleaved; the median run of each is reported (a shared 2-core
/// machine varies by a third from one minute to the next).
const ROUNDS: usize = 3;

pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let total = if quick { 5_000 } else { 60_000 };
    let rounds = if quick { 1 } else { ROUNDS };
    let dir = tempfile_dir()?;
    let (mut bare_runs, mut deduping_runs, mut real_runs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let bare_addr = start_bare_server(&dir.join(format!("bare-{round}.db")), Dedupe::No).await?;
        bare_runs.push(post_webhooks(&format!("http://{bare_addr}/webhook"), SECRET, total, CONCURRENCY).await);
        let deduping_addr = start_bare_server(&dir.join(format!("deduping-{round}.db")), Dedupe::ByBodyHash).await?;
        deduping_runs.push(post_webhooks(&format!("http://{deduping_addr}/webhook"), SECRET, total, CONCURRENCY).await);
        let bridge_addr = crate::bridge::start(&dir.join(format!("bridge-{round}.db")), SECRET).await?;
        real_runs.push(post_webhooks(&format!("http://{bridge_addr}/webhook"), SECRET, total, CONCURRENCY).await);
    }
    let (bare, deduping, real) = (median_run(bare_runs), median_run(deduping_runs), median_run(real_runs));

    let met = real.per_second() >= 20_000.0 && real.percentile_ms(0.99) < 20.0 && real.failed == 0;
    report.row(
        &format!("bridge: signed webhook POSTs answered 200 after a durable commit ({total} requests, {CONCURRENCY} connections; median of {rounds} runs)"),
        describe(&real),
        format!("bare axum + HMAC + SQLite group commit: {}", describe(&bare)),
        "≥ 20,000/s, p99 < 20 ms",
        met,
    );
    report.note(format!(
        "The bridge stores a webhook once: a redelivery of the same body (Meta retries until it gets a 200, for up \
         to 7 days) answers with the seq stored the first time. Found by the body's SHA-256 alone, as the bridge did \
         until its migration 3, the hashes land all over the index, so each webhook of a batch dirties a page of its \
         own that the commit writes and syncs: the same bare handler with that one unique index added (and its \
         lookup before each insert) runs {} ({:.0} % of the bare handler). The bridge keys it by Meta's time first \
         (times come nearly in order, so a batch's keys land together at the end of the index) and runs at {:.0} % of \
         the bare handler; the rest of its gap is the envelope check, the writer's hand-off to a blocking thread and \
         its own columns. The load generator shares the 2 cores with the server: one keep-alive HTTP/1.1 connection \
         per worker (hyper), requests built and signed before the clock starts.",
        describe(&deduping),
        100.0 * deduping.per_second() / bare.per_second(),
        100.0 * real.per_second() / bare.per_second(),
    ));
    if let Ok(admin_url) = std::env::var(POSTGRES_ENV) {
        let on_postgres = postgres_intake(&admin_url, total).await?;
        report.note(format!(
            "The bridge with its log in Postgres (`{POSTGRES_ENV}` set: a Postgres server on this machine, a fresh \
             database), {total} requests, {CONCURRENCY} connections, one run: {}; the SQLite bridge above: {}.",
            describe(&on_postgres),
            describe(&real)
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A superuser URL of a Postgres server: when set, the bridge's intake is measured on it too.
const POSTGRES_ENV: &str = "COEXIST_BENCH_POSTGRES";

/// The real bridge's intake with its log in a fresh database on the server at `admin_url`.
async fn postgres_intake(admin_url: &str, total: usize) -> anyhow::Result<LoadResult> {
    let name = format!("coexist_bench_{}", std::process::id());
    let (admin, connection) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await?;
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
    let bridge_addr = crate::bridge::start(format!("{base}/{name}"), SECRET).await?;
    let result = post_webhooks(&format!("http://{bridge_addr}/webhook"), SECRET, total, CONCURRENCY).await;
    // The bridge keeps running until the process ends: FORCE closes its connections.
    admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).await?;
    Ok(result)
}

/// The run with the median rate (its latencies are reported with it).
fn median_run(mut runs: Vec<LoadResult>) -> LoadResult {
    runs.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    runs.swap_remove(runs.len() / 2)
}

fn describe(r: &LoadResult) -> String {
    format!(
        "{:.0}/s, p50 {:.2} ms, p99 {:.2} ms{}",
        r.per_second(),
        r.percentile_ms(0.50),
        r.percentile_ms(0.99),
        if r.failed > 0 { format!(", {} failed", r.failed) } else { String::new() }
    )
}

pub fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("coexist-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A body to append (with its hash when the server dedupes), and who to tell once committed.
type Append = (Bytes, Option<String>, oneshot::Sender<()>);

/// Whether the bare server stores a body once, as the bridge did before its migration 3.
#[derive(Clone, Copy, PartialEq)]
enum Dedupe {
    No,
    /// A unique index on the body's SHA-256, looked up before each insert.
    ByBodyHash,
}

/// The limit: verify the signature, append the body, answer after the group's commit. Nothing
/// else (with [`Dedupe::ByBodyHash`], also what the bridge did to store a redelivery once).
async fn start_bare_server(db: &Path, dedupe: Dedupe) -> anyhow::Result<SocketAddr> {
    let (tx, rx) = mpsc::channel::<Append>(4096);
    let conn = rusqlite::Connection::open(db)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, body BLOB NOT NULL, body_hash TEXT UNIQUE);",
    )?;
    std::thread::spawn(move || group_commit_writer(conn, rx));
    let app = Router::new().route("/webhook", post(bare_handler)).with_state((tx, dedupe));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

async fn bare_handler(
    State((tx, dedupe)): State<(mpsc::Sender<Append>, Dedupe)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(sig) = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()) else {
        return StatusCode::UNAUTHORIZED;
    };
    let Some(Ok(sig)) = sig.strip_prefix("sha256=").map(hex::decode) else {
        return StatusCode::UNAUTHORIZED;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(&body);
    if mac.verify_slice(&sig).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let hash = (dedupe == Dedupe::ByBodyHash).then(|| hex::encode(Sha256::digest(&body)));
    let (done, committed) = oneshot::channel();
    if tx.send((body, hash, done)).await.is_err() || committed.await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::OK
}

fn group_commit_writer(mut conn: rusqlite::Connection, mut rx: mpsc::Receiver<Append>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < 1024 {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let tx = conn.transaction().expect("begin");
        {
            let mut stored = tx.prepare_cached("SELECT 1 FROM log WHERE body_hash = ?1").expect("prepare");
            let mut insert = tx.prepare_cached("INSERT INTO log (body, body_hash) VALUES (?1, ?2)").expect("prepare");
            for (body, hash, _) in &batch {
                if let Some(hash) = hash {
                    if stored.exists([hash]).expect("lookup") {
                        continue;
                    }
                }
                insert.execute(rusqlite::params![body.as_ref(), hash]).expect("insert");
            }
        }
        tx.commit().expect("commit");
        for (_, _, done) in batch {
            let _ = done.send(());
        }
    }
}
