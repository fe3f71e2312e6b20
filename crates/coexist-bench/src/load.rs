//! A loopback load generator: signed webhook POSTs from many concurrent connections.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderValue};
use hyper_util::rt::TokioIo;
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

/// Posts `total` signed webhooks to `url` from `concurrency` connections; counts 200s.
///
/// Each worker holds one keep-alive HTTP/1.1 connection (hyper's own client connection, no pool)
/// and sends prebuilt, presigned requests: the generator shares the 2 cores with the server it
/// measures, so it does as little per request as it can (a general client such as reqwest
/// parses the URL and builds its headers anew on every request: a fifth of the machine).
pub async fn post_webhooks(url: &str, secret: &str, total: usize, concurrency: usize) -> LoadResult {
    let url: hyper::Uri = url.parse().expect("a valid URL");
    let addr = format!("{}:{}", url.host().expect("a host"), url.port_u16().unwrap_or(80));
    // The request line carries the path only, as a browser's or Meta's does.
    let uri: hyper::Uri = url.path_and_query().map_or("/", |p| p.as_str()).parse().expect("a valid path");
    let bodies: Arc<Vec<(Bytes, HeaderValue)>> = Arc::new(
        (0..total)
            .map(|i| {
                let body = webhook_body(i);
                let signature = HeaderValue::from_str(&sign(secret, &body)).expect("hex is a valid header");
                (Bytes::from(body), signature)
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(post_from_one_connection(addr.clone(), uri.clone(), bodies.clone(), next.clone())))
        .collect();
    let mut result = LoadResult { ok: 0, failed: 0, elapsed: Duration::ZERO, latencies: Vec::new() };
    for worker in workers {
        let (ok, failed, latencies) = worker.await.expect("worker");
        result.ok += ok;
        result.failed += failed;
        result.latencies.extend(latencies);
    }
    result.elapsed = start.elapsed();
    result
}

/// One worker: takes the next body until none is left. A failed connection counts every body it
/// would have sent as failed.
async fn post_from_one_connection(
    addr: String,
    uri: hyper::Uri,
    bodies: Arc<Vec<(Bytes, HeaderValue)>>,
    next: Arc<AtomicUsize>,
) -> (usize, usize, Vec<Duration>) {
    let (mut ok, mut failed, mut latencies) = (0, 0, Vec::new());
    let host = HeaderValue::from_str(&addr).expect("host:port is a valid header");
    let mut sender = match connect(&addr).await {
        Ok(sender) => Some(sender),
        Err(e) => {
            eprintln!("load generator: cannot connect to {addr}: {e}");
            None
        }
    };
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((body, signature)) = bodies.get(i) else { break };
        let Some(conn) = sender.as_mut() else {
            failed += 1;
            continue;
        };
        let request = hyper::Request::post(uri.clone())
            .header(header::HOST, host.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-hub-signature-256", signature.clone())
            .body(Full::new(body.clone()))
            .expect("a valid request");
        let t = Instant::now();
        let answered = async {
            conn.ready().await?;
            let response = conn.send_request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        };
        match answered.await {
            Ok(status) if status.is_success() => {
                ok += 1;
                latencies.push(t.elapsed());
            }
            Ok(_) => failed += 1,
            Err(_) => {
                failed += 1;
                sender = connect(&addr).await.ok();
            }
        }
    }
    (ok, failed, latencies)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: &str) -> std::io::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    Ok(sender)
}
