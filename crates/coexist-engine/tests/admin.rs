//! The admin client and `coexist admin` against the REAL bridge, started in this test process.

use coexist_bridge::{BridgeConfig, RunningBridge, Role};
use coexist_core::NumberMode;
use coexist_engine::admin::{AdminError, NumberEdit, NumberInput};
use coexist_engine::{BridgeClient, ClientError};

const SECRET: &str = "admin-test-secret";

struct Bridge {
    running: RunningBridge,
    url: String,
    admin: String,
    manager: String,
    _dir: tempfile::TempDir,
}

async fn bridge() -> Bridge {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bridge.db");
    let admin = coexist_bridge::admin::add_user(&db, "root", Role::Admin).unwrap();
    let manager = coexist_bridge::admin::add_user(&db, "mia", Role::Manager).unwrap();
    let mut config = BridgeConfig::new(&db);
    config.app_secret = SECRET.into();
    config.verify_token = "verify".into();
    config.access_token = "graph-token".into();
    config.graph_url = "http://127.0.0.1:9".into();
    let running = coexist_bridge::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await.unwrap();
    let url = format!("http://{}", running.addr);
    Bridge { running, url, admin, manager, _dir: dir }
}

fn number(id: &str, display: &str, mode: NumberMode, tier: Option<u32>) -> NumberInput {
    NumberInput { phone_number_id: id.into(), waba_id: "2210".into(), display_number: display.into(), mode, tier_mps: tier }
}

#[tokio::test]
async fn coexistence_refusal_for_nigeria_and_south_africa_carries_the_reason() {
    let b = bridge().await;
    let admin = BridgeClient::new(&b.url, &b.admin);
    for (display, country) in [("+2348012345678", "Nigeria"), ("+27821234567", "South Africa")] {
        let err = admin.admin_add_number(&number("3001", display, NumberMode::Coexistence, None)).await.unwrap_err();
        match &err {
            AdminError::Refused { status: 400, message } => {
                assert!(message.contains(country), "{message}");
                assert!(message.contains("standard"), "the refusal suggests the way out: {message}");
            }
            other => panic!("expected a 400 refusal, got {other:?}"),
        }
        assert!(err.to_string().contains(country), "Display carries the reason: {err}");
    }
    assert!(admin.admin_numbers().await.unwrap().is_empty(), "nothing was stored");
    // The same Nigerian number as a standard Cloud API number is fine.
    let saved = admin.admin_add_number(&number("3001", "+2348012345678", NumberMode::Standard, None)).await.unwrap();
    assert_eq!((saved.number.mode, saved.number.tier_mps), (NumberMode::Standard, 80));
    b.running.shutdown().await;
}

#[tokio::test]
async fn a_manager_token_is_told_it_needs_an_admin_token() {
    let b = bridge().await;
    let manager = BridgeClient::new(&b.url, &b.manager);
    let err = manager.admin_users().await.unwrap_err();
    assert!(matches!(err, AdminError::NotAdmin(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("this needs an admin token"), "{text}");
    assert!(text.contains("only admins"), "the bridge's words are kept: {text}");
    assert!(matches!(manager.admin_add_user("eve", "admin").await, Err(AdminError::NotAdmin(_))));
    assert!(matches!(manager.admin_quarantine(10).await, Err(AdminError::NotAdmin(_))));
    b.running.shutdown().await;
}

#[tokio::test]
async fn add_then_revoke_a_person_round_trip() {
    let b = bridge().await;
    let admin = BridgeClient::new(&b.url, &b.admin);
    let zoe = admin.admin_add_user("zoe", "agent").await.unwrap();
    assert_eq!((zoe.name.as_str(), zoe.role.as_str()), ("zoe", "agent"));
    assert!(zoe.token.starts_with("cxb_"), "{}", zoe.token);
    let users = admin.admin_users().await.unwrap();
    assert!(users.iter().any(|u| u.name == "zoe" && u.role == "agent"), "{users:?}");
    assert!(!serde_json::to_string(&users).unwrap().contains(&zoe.token), "tokens are never listed");

    let as_zoe = BridgeClient::new(&b.url, &zoe.token);
    assert_eq!(as_zoe.me().await.unwrap().name, "zoe");
    // An agent is valid but not an admin: 403, not 401.
    assert!(matches!(as_zoe.admin_users().await, Err(AdminError::NotAdmin(_))));

    let again = admin.admin_add_user("zoe", "manager").await.unwrap_err();
    assert!(matches!(again, AdminError::Refused { status: 409, .. }), "{again:?}");

    admin.admin_revoke_user("zoe").await.unwrap();
    assert!(matches!(as_zoe.me().await, Err(ClientError::Auth(_))), "the revoked token gets 401");
    let err = as_zoe.admin_users().await.unwrap_err();
    assert!(matches!(err, AdminError::BadToken(_)), "{err:?}");
    assert!(err.to_string().contains("revoked"), "{err}");

    let unknown = admin.admin_revoke_user("nobody").await.unwrap_err();
    assert!(matches!(unknown, AdminError::Refused { status: 404, .. }), "{unknown:?}");
    assert!(matches!(admin.admin_revoke_user("../x").await, Err(AdminError::Invalid(_))));
    b.running.shutdown().await;
}

#[tokio::test]
async fn numbers_are_added_and_edited_with_mode_and_tier() {
    let b = bridge().await;
    let admin = BridgeClient::new(&b.url, &b.admin);
    let saved = admin.admin_add_number(&number("4001", "+14155550100", NumberMode::Standard, Some(250))).await.unwrap();
    assert_eq!(saved.number.tier_mps, 250);
    assert!(saved.seq > 0);

    let edited = admin.admin_edit_number("4001", &NumberEdit { tier_mps: Some(500), ..Default::default() }).await.unwrap();
    assert_eq!((edited.number.mode.clone(), edited.number.tier_mps), (NumberMode::Standard, 500));
    assert!(edited.seq > saved.seq, "an edit is a new relay event");

    let coex = NumberEdit { mode: Some(NumberMode::Coexistence), ..Default::default() };
    let edited = admin.admin_edit_number("4001", &coex).await.unwrap();
    assert_eq!((edited.number.mode, edited.number.tier_mps), (NumberMode::Coexistence, 20), "Coexistence caps at 20");

    let too_fast = NumberEdit { tier_mps: Some(80), ..Default::default() };
    let err = admin.admin_edit_number("4001", &too_fast).await.unwrap_err();
    assert!(err.to_string().contains("20 messages per second"), "{err}");
    let listed = admin.admin_numbers().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].tier_mps, 20, "a refused edit changes nothing");

    let err = admin.admin_edit_number("9999", &too_fast).await.unwrap_err();
    assert!(err.to_string().contains("add it first"), "{err}");
    let dup = admin.admin_add_number(&number("4001", "+14155550100", NumberMode::Standard, None)).await.unwrap_err();
    assert!(matches!(dup, AdminError::Refused { status: 409, .. }), "{dup:?}");
    b.running.shutdown().await;
}

#[tokio::test]
async fn quarantined_webhooks_are_listed_with_their_raw_bodies() {
    let b = bridge().await;
    let body = b"<script>alert(1)</script> not a webhook".to_vec();
    let resp = reqwest::Client::new()
        .post(format!("{}/webhook", b.url))
        .header("x-hub-signature-256", coexist_bridge::sign_webhook(SECRET, &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "Meta must not retry an unparseable body");
    let admin = BridgeClient::new(&b.url, &b.admin);
    let q = admin.admin_quarantine(10).await.unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].body.as_bytes(), body.as_slice(), "the raw body as received");
    assert_eq!(q[0].size, body.len());
    assert!(!q[0].reason.is_empty());
    b.running.shutdown().await;
}

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn coexist(b: &Bridge, token: &str, args: &[&str]) -> Out {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_coexist"))
        .arg("admin")
        .args(args)
        .env("COEXIST_BRIDGE_URL", &b.url)
        .env("COEXIST_TOKEN", token)
        // Admin commands never open a local inbox: point it somewhere that cannot be created.
        .env("COEXIST_DB", "/nonexistent-dir/inbox.db")
        .output()
        .await
        .expect("the binary runs");
    Out { ok: out.status.success(), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
}

#[tokio::test]
async fn the_cli_admin_commands() {
    let b = bridge().await;
    let out = coexist(&b, &b.admin, &["add-user", "lia", "--role", "agent"]).await;
    assert!(out.ok, "{}", out.stderr);
    let token = out.stdout.trim().to_string();
    assert!(token.starts_with("cxb_") && !token.contains(' '), "only the token on stdout: {:?}", out.stdout);
    assert_eq!(BridgeClient::new(&b.url, &token).me().await.unwrap().name, "lia");

    let out = coexist(&b, &b.admin, &["users"]).await;
    assert!(out.ok && out.stdout.contains("lia") && out.stdout.contains("mia"), "{} {}", out.stdout, out.stderr);

    let args = ["add-number", "--phone-number-id", "5001", "--waba-id", "2210", "--display-number", "+2348012345678", "--mode", "coexistence"];
    let out = coexist(&b, &b.admin, &args).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("Nigeria") && out.stderr.contains("standard"), "{}", out.stderr);

    let args = ["add-number", "--phone-number-id", "5001", "--waba-id", "2210", "--display-number", "+14155550100", "--mode", "standard", "--tier", "120"];
    let out = coexist(&b, &b.admin, &args).await;
    assert!(out.ok, "{}", out.stderr);
    let out = coexist(&b, &b.admin, &["edit-number", "5001", "--tier", "300"]).await;
    assert!(out.ok && out.stdout.contains("300 msg/s"), "{} {}", out.stdout, out.stderr);
    let out = coexist(&b, &b.admin, &["numbers"]).await;
    assert!(out.ok && out.stdout.contains("5001") && out.stdout.contains("standard"), "{}", out.stdout);

    let out = coexist(&b, &b.manager, &["users"]).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("this needs an admin token"), "{}", out.stderr);

    let out = coexist(&b, &b.admin, &["revoke", "lia"]).await;
    assert!(out.ok, "{}", out.stderr);
    let out = coexist(&b, &token, &["users"]).await;
    assert!(!out.ok && out.stderr.contains("revoked"), "{}", out.stderr);

    let out = coexist(&b, &b.admin, &["quarantine"]).await;
    assert!(out.ok && out.stdout.contains("empty"), "{}", out.stdout);
    b.running.shutdown().await;
}
