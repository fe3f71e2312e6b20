//! A loopback load generator: signed webhook POSTs from many concurrent connections.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::{Rng, SeedableRng};
use sha2::Sha256;

pub struct LoadResult {
    pub ok: usize,
    pub failed: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut v = self.latencies.clone();
        v.sort();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1000.0
    }
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A realistic inbound `messages` webhook (about 600 bytes) with a unique wamid, from one of 5,000 customers.
pub fn webhook_body(i: usize) -> Vec<u8> {
    webhook_for(i, 5_000)
}

const WORDS: [&str; 16] = [
    "order", "refund", "blue", "delivery", "invoice", "tuesday", "size", "exchange",
    "address", "payment", "discount", "warranty", "broken", "thanks", "tracking", "store",
];

/// Message `i` of a backlog spread over `customers` conversations, its text varied for search.
///
/// Shaped like real traffic, not like a loop counter: each message comes from a customer drawn
/// at random (a backlog interleaves conversations; taking them in turn would walk the store's
/// indexes in key order) and has a wamid like Meta's (the customer's number, then a random id,
/// from the sandbox's generator), so wamids do not arrive in sorted order either.
pub fn webhook_for(i: usize, customers: usize) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
    let customer = rng.gen_range(0..customers);
    let wa_id = format!("1555{customer:07}");
    let wamid = coexist_sandbox::ids::IdGen::new(i as u64).wamid(&wa_id, coexist_sandbox::ids::Direction::Inbound);
    let text = format!(
        "Hello! About my {} and the {} — {} please, the {} one. Ref {i}",
        WORDS[i % 16], WORDS[(i / 16) % 16], WORDS[(i / 256) % 16], WORDS[(i / 7) % 16]
    );
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550100", "phone_number_id": "106540352242922"},
                    "contacts": [{"profile": {"name": format!("Customer {customer}")}, "wa_id": wa_id}],
                    "messages": [{
                        "from": wa_id,
                        "id": wamid,
                        "timestamp": (1_764_000_000 + i as i64).to_string(),
                        "text": {"body": text},
                        "type": "text"
                    }]
                }
            }]
        }]
    })
    .to_string()
    .into_bytes()
}

/// Posts `total` signed webhooks to `url` from `concurrency` workers; counts 200s.
pub async fn post_webhooks(url: &str, secret: &str, total: usize, concurrency: usize) -> LoadResult {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    let bodies: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..total).map(|i| {
            let b = webhook_body(i);
            let s = sign(secret, &b);
            (b, s)
        }).collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, bodies, next, url) = (client.clone(), bodies.clone(), next.clone(), url.to_string());
        workers.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut lat) = (0, 0, Vec::new());
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    break;
                }
                let (body, sig) = &bodies[i];
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sig)
                    .body(body.clone())
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        ok += 1;
                        lat.push(t.elapsed());
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed, lat)
        }));
    }
    let mut result = LoadResult { ok: 0, failed: 0, elapsed: Duration::ZERO, latencies: Vec::new() };
    for w in workers {
        let (ok, failed, lat) = w.await.expect("worker");
        result.ok += ok;
        result.failed += failed;
        result.latencies.extend(lat);
    }
    result.elapsed = start.elapsed();
    result
}
