//! The bridge's Postgres goes away mid-traffic and comes back: webhooks are refused while it is
//! gone (Meta retries anything but a 200), the bridge takes them again once it is back without a
//! restart, and every webhook answered 200 is in the log, seqs gap-free.
//!
//! The outage is a TCP proxy between the bridge and Postgres that drops every connection and
//! refuses new ones, as a network partition or a server restart does.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Forwards connections to `upstream` while `up`; `cut` drops every open one.
struct Partition {
    addr: String,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Partition {
    async fn start(upstream: String) -> Partition {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (up, open) = (Arc::new(AtomicBool::new(true)), Arc::new(Mutex::new(Vec::<AbortHandle>::new())));
        let (accept_up, accept_open) = (up.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accept_open.lock().unwrap().push(task.abort_handle());
            }
        });
        Partition { addr, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn heal(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `postgres://user:pw@host:port/db` with `host:port` replaced by `addr`.
fn through(url: &str, addr: &str) -> String {
    let (credentials, rest) = url.rsplit_once('@').unwrap();
    let database = rest.split_once('/').unwrap().1;
    format!("{credentials}@{addr}/{database}")
}

async fn post(http: &reqwest::Client, base: &str, n: u64) -> u16 {
    let body = webhook_body(n);
    let signature = coexist_bridge::sign_webhook(SECRET, body.as_bytes());
    match http.post(format!("{base}/webhook")).header("x-hub-signature-256", signature).body(body).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_wait_out_a_postgres_outage_and_none_answered_200_is_lost() {
    let Some(db) = ScratchPostgres::create("outage").await else { return };
    let upstream = db.url.rsplit_once('@').unwrap().1.split_once('/').unwrap().0.to_string();
    let partition = Partition::start(upstream).await;
    let mut config = coexist_bridge::BridgeConfig::new(through(&db.url, &partition.addr));
    config.app_secret = SECRET.into();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bridge = coexist_bridge::start(config, listener).await.unwrap();
    let base = format!("http://{}", bridge.addr);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut answered = Vec::new();
    let mut n = 0;

    for _ in 0..20 {
        n += 1;
        assert_eq!(post(&http, &base, n).await, 200, "before the outage");
        answered.push(n);
    }

    partition.cut();
    let mut refused = 0;
    for _ in 0..10 {
        n += 1;
        match post(&http, &base, n).await {
            200 => answered.push(n),
            status => {
                assert!(status >= 500, "a webhook that could not be stored is refused with a 5xx, so Meta retries: {status}");
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "Postgres was gone: something must have been refused");

    partition.heal();
    let back = tokio::time::Instant::now();
    loop {
        n += 1;
        if post(&http, &base, n).await == 200 {
            answered.push(n);
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(30), "the bridge took no webhook 30 s after Postgres came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for _ in 0..10 {
        n += 1;
        assert_eq!(post(&http, &base, n).await, 200, "after the outage");
        answered.push(n);
    }

    // Read the log back (straight from Postgres, past the proxy).
    let token = coexist_bridge::admin::add_user(db.url.as_str(), "auditor", coexist_bridge::Role::Manager).unwrap();
    let page: Value = http.get(format!("{base}/v1/events?limit=1000")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let events = page["events"].as_array().unwrap();
    let stored: HashSet<String> = events
        .iter()
        .filter_map(|e| e["payload"].pointer("/entry/0/changes/0/value/messages/0/id")?.as_str().map(str::to_string))
        .collect();
    let lost: Vec<_> = answered.iter().filter(|n| !stored.contains(&format!("wamid.in.{n}"))).collect();
    assert!(lost.is_empty(), "answered 200 but not in the log: {lost:?}");
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "seqs stay gap-free across the outage");
    eprintln!("{} answered 200, {refused} refused during the outage, back after {:?}", answered.len(), back.elapsed());
    bridge.shutdown().await;
    db.drop_database().await;
}
