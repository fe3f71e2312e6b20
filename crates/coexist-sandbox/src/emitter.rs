//! Webhook delivery: one ordered background queue that signs each body with the app secret
//! (`X-Hub-Signature-256: sha256=<hex hmac>`) and retries the head of the queue with exponential
//! backoff while the receiver fails. Nothing is ever dropped: with no URL configured, webhooks
//! wait until one is set.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// `sha256=<hex>` of the HMAC-SHA256 of `body` keyed with `secret`, as Meta signs webhooks.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One emitted webhook and how its delivery is going (`GET /sandbox/webhooks`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookRecord {
    pub seq: u64,
    pub field: String,
    /// The exact bytes POSTed (and signed).
    pub body: String,
    pub delivered: bool,
    pub attempts: u32,
    pub last_error: Option<String>,
}

struct Job {
    seq: u64,
    body: String,
}

/// The queue's handle. Cheap to clone.
#[derive(Clone)]
pub struct Emitter {
    tx: mpsc::UnboundedSender<Job>,
    log: Arc<Mutex<Vec<WebhookRecord>>>,
    url: watch::Sender<Option<String>>,
}

/// Retry timing for failed deliveries.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Emitter {
    /// Start the delivery worker. Abort the returned handle to stop it.
    pub fn start(
        url: Option<String>,
        secret: String,
        backoff: Backoff,
    ) -> (Emitter, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (url_tx, url_rx) = watch::channel(url);
        let worker = Worker {
            rx,
            log: log.clone(),
            url: url_rx,
            secret,
            backoff,
            client: reqwest::Client::new(),
        };
        let handle = tokio::spawn(worker.run());
        (
            Emitter {
                tx,
                log,
                url: url_tx,
            },
            handle,
        )
    }

    /// Queue a webhook body. Order of calls is order of delivery.
    pub fn emit(&self, body: &Value) -> u64 {
        let field = body["entry"][0]["changes"][0]["field"]
            .as_str()
            .unwrap_or("unknown")
            .to_string();
        self.emit_text(field, body.to_string())
    }

    /// Queue exact bytes again (Meta delivers at least once: duplicates happen).
    pub fn redeliver(&self, seq: u64) -> Option<u64> {
        let record = self
            .log
            .lock()
            .expect("webhook log poisoned")
            .get(seq.checked_sub(1)? as usize)
            .cloned()?;
        Some(self.emit_text(record.field, record.body))
    }

    fn emit_text(&self, field: String, text: String) -> u64 {
        let seq = {
            let mut log = self.log.lock().expect("webhook log poisoned");
            let seq = log.len() as u64 + 1;
            log.push(WebhookRecord {
                seq,
                field,
                body: text.clone(),
                delivered: false,
                attempts: 0,
                last_error: None,
            });
            seq
        };
        if self.tx.send(Job { seq, body: text }).is_err() {
            tracing::warn!(seq, "webhook worker stopped; webhook kept in the log only");
        }
        seq
    }

    /// Point deliveries at a new URL (or pause them with `None`).
    pub fn set_url(&self, url: Option<String>) {
        self.url.send_replace(url);
    }

    pub fn url(&self) -> Option<String> {
        self.url.borrow().clone()
    }

    /// Every webhook emitted so far, with delivery state.
    pub fn log(&self) -> Vec<WebhookRecord> {
        self.log.lock().expect("webhook log poisoned").clone()
    }
}

struct Worker {
    rx: mpsc::UnboundedReceiver<Job>,
    log: Arc<Mutex<Vec<WebhookRecord>>>,
    url: watch::Receiver<Option<String>>,
    secret: String,
    backoff: Backoff,
    client: reqwest::Client,
}

impl Worker {
    async fn run(mut self) {
        while let Some(job) = self.rx.recv().await {
            self.deliver(job).await;
        }
    }

    /// Deliver one webhook, retrying until the receiver answers 2xx.
    async fn deliver(&mut self, job: Job) {
        let sig = signature(&self.secret, job.body.as_bytes());
        let mut wait = self.backoff.initial;
        loop {
            let url = match self.current_url().await {
                Some(u) => u,
                None => return,
            };
            let result = self
                .client
                .post(&url)
                .header("content-type", "application/json")
                .header("user-agent", "facebookexternalua")
                .header("x-hub-signature-256", &sig)
                .body(job.body.clone())
                .timeout(Duration::from_secs(15))
                .send()
                .await;
            let error = match result {
                Ok(resp) if resp.status().is_success() => None,
                Ok(resp) => Some(format!("receiver answered HTTP {}", resp.status().as_u16())),
                Err(e) => Some(format!("could not reach receiver: {e}")),
            };
            self.record(job.seq, error.clone());
            match error {
                None => return,
                Some(e) => {
                    tracing::debug!(seq = job.seq, error = %e, retry_in_ms = wait.as_millis() as u64, "webhook delivery failed");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(self.backoff.max);
                }
            }
        }
    }

    /// The configured URL, waiting while none is set. `None` only when the sandbox is gone.
    async fn current_url(&mut self) -> Option<String> {
        loop {
            if let Some(u) = self.url.borrow_and_update().clone() {
                return Some(u);
            }
            if self.url.changed().await.is_err() {
                return None;
            }
        }
    }

    fn record(&self, seq: u64, error: Option<String>) {
        let mut log = self.log.lock().expect("webhook log poisoned");
        if let Some(r) = log.get_mut(seq as usize - 1) {
            r.attempts += 1;
            r.delivered = error.is_none();
            r.last_error = error;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_known_hmac() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog")
        assert_eq!(
            signature("key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
