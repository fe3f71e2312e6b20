//! The send rate limiter: agents sending at full speed through the bridge to a coexistence number,
//! counted at the receiving (Graph) server per 1-second window.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{extract::State, routing::post, Json, Router};
use coexist_core::{NumberMode, NumberSettings};
use serde_json::{json, Value};

use crate::report::Report;

const CAP: u32 = 20;
const SENDERS: usize = 8;
const PHONE: &str = "106540352242922";

pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let seconds = if quick { 10 } else { 60 };
    let dir = crate::webhook::tempfile_dir()?;
    let arrivals = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let graph = start_counting_graph(arrivals.clone()).await?;
    let db = dir.join("limiter-bridge.db");
    coexist_bridge::admin::add_number(&db, NumberSettings {
        phone_number_id: PHONE.into(),
        waba_id: "102290129340398".into(),
        display_number: "+15550100".into(),
        mode: NumberMode::Coexistence,
        tier_mps: CAP,
    })?;
    let token = coexist_bridge::admin::add_user(&db, "bench-agent", coexist_bridge::Role::Agent)?;
    let bridge = crate::bridge::start_with_graph(&db, "secret", &format!("http://{graph}")).await?;

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let client = reqwest::Client::new();
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (client, token) = (client.clone(), token.clone());
        senders.push(tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < deadline {
                let body = json!({"messaging_product": "whatsapp", "to": format!("1555{s:03}{n:04}"), "type": "text", "text": {"body": "hi"}});
                let _ = client
                    .post(format!("http://{bridge}/v1/numbers/{PHONE}/messages"))
                    .bearer_auth(&token)
                    .header("idempotency-key", format!("bench-{s}-{n}"))
                    .json(&body)
                    .send()
                    .await;
                n += 1;
            }
        }));
    }
    for s in senders {
        s.await?;
    }
    let arrivals = arrivals.lock().expect("arrivals").clone();
    let (rate, worst) = measure(&arrivals);
    report.row(
        &format!("rate limiter: {seconds} s at the coexistence cap, {SENDERS} concurrent senders through the bridge"),
        format!("{rate:.2} msg/s achieved ({:.1} % of cap); busiest 1-s window: {worst}", rate / CAP as f64 * 100.0),
        format!("cap: {CAP} msg/s"),
        "≥ 99 % of the cap, no 1-s window over it",
        rate >= CAP as f64 * 0.99 && worst <= CAP as usize,
    );
    report.note(
        "The bridge's limiter lets a send leave one second after the send `cap` places before it was answered by \
         Graph (or 50 ms after it left, when unanswered): no second at the receiver can hold more than `cap`, and \
         the rate is `cap` per 1 s + round trip."
            .into(),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Average rate between the first and last arrival, and the most arrivals in any sliding 1-s window.
fn measure(arrivals: &[Instant]) -> (f64, usize) {
    if arrivals.len() < 2 {
        return (0.0, arrivals.len());
    }
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    let span = sorted[sorted.len() - 1] - sorted[0];
    let rate = (sorted.len() - 1) as f64 / span.as_secs_f64();
    let mut worst = 0;
    let mut lo = 0;
    for hi in 0..sorted.len() {
        while sorted[hi] - sorted[lo] >= Duration::from_secs(1) {
            lo += 1;
        }
        worst = worst.max(hi - lo + 1);
    }
    (rate, worst)
}

async fn start_counting_graph(arrivals: Arc<Mutex<Vec<Instant>>>) -> anyhow::Result<std::net::SocketAddr> {
    let app = Router::new()
        .route("/{version}/{phone}/messages", post(graph_send))
        .with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

async fn graph_send(State(arrivals): State<Arc<Mutex<Vec<Instant>>>>, Json(body): Json<Value>) -> Json<Value> {
    let n = {
        let mut a = arrivals.lock().expect("arrivals");
        a.push(Instant::now());
        a.len()
    };
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": body["to"], "wa_id": body["to"]}],
        "messages": [{"id": format!("wamid.bench{n}")}]
    }))
}
