//! Scenarios: deterministic per seed, and they do what their names say.

mod common;

use common::*;
use serde_json::{json, Value};

async fn run(h: &Harness, name: &str, seed: u64, at: i64) -> Value {
    let (s, v) = h
        .control(
            "/sandbox/scenario",
            json!({"name": name, "seed": seed, "now": at, "pace": 0}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

/// Bodies of every emitted webhook, exactly as sent.
async fn bodies(h: &Harness) -> Vec<String> {
    h.get("/sandbox/webhooks").await["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["body"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn same_seed_same_webhooks_different_seed_different() {
    let at = now() - 60;
    let mut runs = Vec::new();
    for seed in [7u64, 7, 8] {
        let h = start().await;
        for name in ["busy-shop", "onboarding", "window-expires", "demo"] {
            run(&h, name, seed, at).await;
        }
        let emitted = bodies(&h).await;
        // everything emitted was delivered, signed, byte-identical to the log
        let last = emitted.len();
        h.wait_for("all webhooks", |_| {
            h.inbox.raw.lock().unwrap().len() == last
        })
        .await;
        assert_eq!(*h.inbox.raw.lock().unwrap(), emitted);
        runs.push(emitted);
        h.sandbox.shutdown().await;
    }
    assert!(runs[0].len() > 40);
    assert_eq!(runs[0], runs[1], "same seed, same payloads");
    assert_ne!(runs[0], runs[2], "another seed, other payloads");
}

#[tokio::test]
async fn in_process_run_scenario_matches_the_http_route() {
    let at = now() - 60;
    let a = start().await;
    let report = a
        .sandbox
        .run_scenario_with(coexist_sandbox::ScenarioRequest {
            name: "busy-shop".into(),
            seed: 11,
            now: Some(at),
            pace: Some(0.0),
            wait: None,
        })
        .await
        .unwrap();
    assert!(report.steps > 40);
    let b = start().await;
    let v = run(&b, "busy-shop", 11, at).await;
    assert_eq!(v["wamids"], json!(report.wamids));
    assert_eq!(bodies(&a).await, bodies(&b).await);
    // a rerun on the same sandbox gets fresh ids instead of duplicates
    let again = run(&b, "busy-shop", 11, at).await;
    assert_ne!(again["wamids"], v["wamids"]);
    a.sandbox.shutdown().await;
    b.sandbox.shutdown().await;
}

#[tokio::test]
async fn window_expires_leaves_one_window_open_and_one_closed() {
    let h = start().await;
    run(&h, "window-expires", 5, now()).await;
    let convs = h.get("/sandbox/conversations").await;
    let list = convs["conversations"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    let t = now();
    let open: Vec<&Value> = list
        .iter()
        .filter(|c| c["window_until"].as_i64().unwrap() > t)
        .collect();
    let closed: Vec<&Value> = list
        .iter()
        .filter(|c| c["window_until"].as_i64().unwrap() <= t)
        .collect();
    assert_eq!((open.len(), closed.len()), (2, 1), "{convs}");
    let (_, ok) = h
        .send(text(open[0]["wa_id"].as_str().unwrap(), "still in time"))
        .await;
    h.status_of(ok["messages"][0]["id"].as_str().unwrap(), "delivered")
        .await;
    let (_, late) = h
        .send(text(closed[0]["wa_id"].as_str().unwrap(), "too late"))
        .await;
    assert_eq!(
        h.status_of(late["messages"][0]["id"].as_str().unwrap(), "failed")
            .await["errors"][0]["code"],
        131047
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn onboarding_sends_contacts_and_history_to_100_percent() {
    let h = start().await;
    run(&h, "onboarding", 2, now()).await;
    h.wait_for("history done", |w| {
        value_of(w)["history"][0]["metadata"]["progress"] == 100
    })
    .await;
    let fields: Vec<String> = h
        .received()
        .iter()
        .map(|w| field_of(w).to_string())
        .collect();
    assert_eq!(fields[0], "account_update");
    assert_eq!(fields[1], "smb_app_state_sync");
    assert!(fields.iter().filter(|f| *f == "history").count() >= 3);
    let (s, e) = h
        .control("/sandbox/scenario", json!({"name": "no-such", "seed": 1}))
        .await;
    assert_eq!(s, 400);
    assert!(e["error"].as_str().unwrap().contains("busy-shop"));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn cli_serves_and_plays_a_scenario() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let (url, inbox) = receiver().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_coexist-sandbox"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--webhook-url",
            &url,
            "--app-secret",
            SECRET,
            "--access-token",
            TOKEN,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for _ in 0..4 {
        printed.push(lines.next().unwrap().unwrap());
    }
    let base = printed[0].rsplit(' ').next().unwrap().to_string();
    assert!(printed[1].starts_with("phone_number_id "));
    assert!(printed[2].starts_with("waba_id "));
    let numbers: Value = reqwest::get(format!("{base}/sandbox/numbers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        numbers["numbers"][0]["phone_number_id"],
        printed[1].split(' ').nth(1).unwrap()
    );
    assert_eq!(numbers["numbers"][0]["mode"], "coexistence");
    assert_eq!(numbers["numbers"][0]["tier_mps"], 20);

    let out = Command::new(env!("CARGO_BIN_EXE_coexist-sandbox"))
        .args([
            "scenario", "demo", "--seed", "4", "--url", &base, "--pace", "0",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["name"], "demo");
    for _ in 0..500 {
        if inbox.bodies.lock().unwrap().len() >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(inbox.bodies.lock().unwrap().len() >= 6);
    assert_eq!(
        inbox
            .bad_signatures
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
