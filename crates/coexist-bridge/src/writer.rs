//! Group commit: one writer task owns every append to the event log.
//!
//! Requests send their [`Append`] over a channel and await a oneshot. The task takes everything
//! queued at that moment (up to [`MAX_BATCH`]) and commits it in ONE transaction — one fsync
//! for the whole burst — then answers each request. A webhook is answered 200 only after its
//! batch's commit returned, so every 200 is durable. After each commit the task publishes the
//! new last seq on a `watch` channel, which wakes long-polls and SSE streams.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::db::{Append, Appended, Database, DbError};

/// Upper bound on one transaction, so a flood cannot make one commit arbitrarily slow.
pub const MAX_BATCH: usize = 256;

struct Job {
    item: Append,
    reply: oneshot::Sender<Result<Appended, DbError>>,
}

/// Handle to the writer task. Cloning is cheap; the task stops when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    last_seq: watch::Receiver<i64>,
    stats: Arc<WriterStats>,
}

/// How well group commit is batching: `appends / batches` items per fsync.
#[derive(Default, Debug)]
pub struct WriterStats {
    pub batches: AtomicU64,
    pub appends: AtomicU64,
}

impl Writer {
    /// Starts the writer task over `db`, whose current last seq is `last_seq`.
    pub fn spawn(db: Arc<dyn Database>, last_seq: i64) -> (Writer, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let (seq_tx, seq_rx) = watch::channel(last_seq);
        let stats = Arc::new(WriterStats::default());
        let task = tokio::spawn(run(db, rx, seq_tx, stats.clone()));
        (Writer { tx, last_seq: seq_rx, stats }, task)
    }

    /// Appends durably; returns once the item's batch has committed.
    pub async fn append(&self, item: Append) -> Result<Appended, DbError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job { item, reply }).await.map_err(|_| DbError::Closed)?;
        answer.await.map_err(|_| DbError::Closed)?
    }

    /// The last committed seq, updated after every commit.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.last_seq.clone()
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }
}

async fn run(db: Arc<dyn Database>, mut rx: mpsc::Receiver<Job>, seq_tx: watch::Sender<i64>, stats: Arc<WriterStats>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (items, replies): (Vec<_>, Vec<_>) = jobs.drain(..).map(|j| (j.item, j.reply)).unzip();
        let size = items.len();
        let outcome = db.append_batch(items).await;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.appends.fetch_add(size as u64, Ordering::Relaxed);
        // Publish the new last seq before answering, so anyone told "stored" can already see it.
        // Read back rather than compute: this also picks up events a CLI appended to the file
        // (inside the batch's transaction; after a failed batch, asked again).
        let last_seq = match &outcome {
            Ok(_) => Ok(db.last_seq_at_commit()),
            Err(_) => db.last_seq().await,
        };
        match last_seq {
            Ok(seq) => {
                seq_tx.send_if_modified(|cur| {
                    let changed = seq > *cur;
                    if changed {
                        *cur = seq;
                    }
                    changed
                });
            }
            Err(e) => tracing::error!(error = %e, "could not read the last seq after a commit"),
        }
        match outcome {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, size, "event log batch failed; nothing of it was stored");
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(DbError::Batch(msg.clone())));
                }
            }
        }
        tracing::debug!(size, "committed batch");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sqlite::SqliteDb;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_get_distinct_gap_free_seqs() {
        let dir = tempfile::tempdir().unwrap();
        let db: Arc<dyn Database> = Arc::new(SqliteDb::open(dir.path().join("w.db")).unwrap());
        let (writer, task) = Writer::spawn(db.clone(), 0);
        let mut handles = Vec::new();
        for i in 0..300 {
            let w = writer.clone();
            handles.push(tokio::spawn(async move {
                let body = format!(r#"{{"i":{i}}}"#);
                let hash = crate::sha256_hex(body.as_bytes());
                w.append(Append::Webhook { body, body_hash: hash, meta_time: 0, received_at_ms: 0 }).await.unwrap()
            }));
        }
        let mut seqs = Vec::new();
        for h in handles {
            match h.await.unwrap() {
                Appended::Event { seq, duplicate: false } => seqs.push(seq),
                other => panic!("unexpected {other:?}"),
            }
        }
        seqs.sort();
        assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
        assert_eq!(*writer.subscribe().borrow(), 300);
        let stats = writer.stats();
        assert_eq!(stats.appends.load(Ordering::Relaxed), 300);
        // Group commit: concurrent appends shared transactions (fsyncs).
        assert!(stats.batches.load(Ordering::Relaxed) < 300, "{stats:?}");
        drop(writer);
        task.await.unwrap();
    }
}
