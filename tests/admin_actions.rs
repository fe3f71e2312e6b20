//! The admin panel's commands (as `Backend` methods) against a real engine, local inbox, bridge
//! and sandbox — everything but the window.

mod app_support;


use coexist_bridge::Role;
use coexist_core::{ContactKey, ConversationKey, NumberMode};
use coexist_engine::admin::{NumberEdit, NumberInput};
use coexist_engine::{BridgeClient, CollectingNotifier};
use coexist_inbox::actions::TemplateSend;
use coexist_inbox::admin_actions::{AppActivity, Connection, NumberStatus};
use coexist_inbox::backend::Backend;
use coexist_inbox::token_store::{TokenSource, TokenStatus};
use serde_json::json;
use app_support::stack::Stack;
use app_support::{backend_on, eventually, now};

/// The stack's app secret (tests/e2e_support/stack.rs), to sign a webhook the bridge will quarantine.
const APP_SECRET: &str = "e2e-app-secret";
const DAY: i64 = 86_400;



struct Setup {
    stack: Stack,
    admin: Backend,
    dir: tempfile::TempDir,
}

fn token_status() -> TokenStatus {
    TokenStatus { source: TokenSource::Env, keyring_unavailable: Some("no keyring in tests".into()), remembered: false, can_remember: false }
}

async fn backend_for(stack: &Stack, token: &str, dir: &std::path::Path) -> Backend {
    backend_on(stack, token, dir, &CollectingNotifier::default()).await
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.unwrap();
    // The running bridge sees users added to its database at once.
    let token = coexist_bridge::admin::add_user(dir.path().join("bridge.db"), "root", Role::Admin).unwrap();
    let admin = backend_for(&stack, &token, &dir.path().join("admin-app")).await;
    Setup { stack, admin, dir }
}

fn row(rows: &[NumberStatus], id: &str) -> Option<NumberStatus> {
    rows.iter().find(|r| r.health.phone_number_id == id).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_tell_admins_from_agents() {
    let s = setup().await;
    let session = s.admin.admin_session(token_status()).await;
    assert_eq!((session.name.as_str(), session.role.as_str(), session.is_admin), ("root", "admin", true));
    assert_eq!(session.token.keyring_unavailable.as_deref(), Some("no keyring in tests"));

    let agent = backend_for(&s.stack, &s.stack.token, &s.dir.path().join("agent-app")).await;
    let session = agent.admin_session(token_status()).await;
    assert_eq!((session.role.as_str(), session.is_admin), ("agent", false));
    let refused = agent.admin_users().await.unwrap_err();
    assert!(refused.starts_with("this needs an admin token"), "{refused}");
    assert!(agent.admin_add_number(&NumberInput {
        phone_number_id: "7001".into(), waba_id: "1".into(), display_number: "+14155550177".into(), mode: NumberMode::Standard, tier_mps: None,
    }).await.unwrap_err().contains("admin token"));
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_add_edit_and_the_country_rule() {
    let s = setup().await;
    let nigeria = NumberInput {
        phone_number_id: "7002".into(),
        waba_id: "2210".into(),
        display_number: "+2348012345678".into(),
        mode: NumberMode::Coexistence,
        tier_mps: None,
    };
    let refused = s.admin.admin_add_number(&nigeria).await.unwrap_err();
    assert!(refused.contains("Nigeria") && refused.contains("standard"), "{refused}");

    let standard = NumberInput { mode: NumberMode::Standard, tier_mps: Some(120), ..nigeria };
    let saved = s.admin.admin_add_number(&standard).await.unwrap();
    assert_eq!(saved.number.tier_mps, 120);
    let listed = s.admin.admin_numbers().await.unwrap();
    assert_eq!(listed.len(), 2, "the sandbox's number and the new one: {listed:?}");
    // The change is pulled into this inbox at once: the health panel shows mode and cap.
    let r = row(&s.admin.admin_number_health().unwrap(), "7002").expect("the new number in the health panel");
    assert_eq!((r.health.mode.clone(), r.tier_mps), (Some(NumberMode::Standard), Some(120)));
    assert_eq!(r.app_activity, AppActivity::NotApplicable);

    let edit = NumberEdit { tier_mps: Some(300), ..Default::default() };
    assert_eq!(s.admin.admin_edit_number("7002", &edit).await.unwrap().number.tier_mps, 300);
    assert_eq!(row(&s.admin.admin_number_health().unwrap(), "7002").unwrap().tier_mps, Some(300));
    let to_coex = NumberEdit { mode: Some(NumberMode::Coexistence), ..Default::default() };
    let refused = s.admin.admin_edit_number("7002", &to_coex).await.unwrap_err();
    assert!(refused.contains("Nigeria"), "an edit meets the same rule: {refused}");
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_health_reminders_connection_and_payment_failures() {
    let s = setup().await;
    let pnid = s.stack.sandbox.phone_number_id.clone();
    let health = |b: &Backend| row(&b.admin_number_health().unwrap(), &pnid);
    let first = eventually("the sandbox number in the inbox", || health(&s.admin)).await;
    assert_eq!(first.tier_mps, Some(20));
    assert!(matches!(first.app_activity, AppActivity::Unknown { .. }), "{:?}", first.app_activity);
    assert_eq!(first.connection, Connection::Connected);

    // A customer writes, so the Business App has someone to answer.
    s.stack.customer_says("15551239001", "Ivo", "hello", None).await.unwrap();
    let reply_at = |days: i64| json!({"to": "15551239001", "text": "from the phone", "timestamp": now() - days * DAY - 60});
    s.stack.control("/sandbox/app/messages", reply_at(14)).await.unwrap();
    let urgent = eventually("the day-13 warning", || match health(&s.admin)?.app_activity {
        a @ AppActivity::Urgent { .. } => Some(a),
        _ => None,
    })
    .await;
    assert!(matches!(urgent, AppActivity::Urgent { days: 14, .. }), "{urgent:?}");
    s.stack.control("/sandbox/app/messages", reply_at(11)).await.unwrap();
    eventually("the day-10 reminder", || matches!(health(&s.admin)?.app_activity, AppActivity::Reminder { days: 11, .. }).then_some(())).await;
    s.stack.app_replies("15551239001", "again, today").await.unwrap();
    eventually("no reminder after today's use", || matches!(health(&s.admin)?.app_activity, AppActivity::Ok { days: 0, .. }).then_some(())).await;

    s.stack.control("/sandbox/account_update", json!({"event": "ACCOUNT_OFFBOARDED"})).await.unwrap();
    eventually("offboarded", || (health(&s.admin)?.connection == Connection::Offboarded).then_some(())).await;
    s.stack.control("/sandbox/account_update", json!({"event": "ACCOUNT_RECONNECTED"})).await.unwrap();
    eventually("reconnected", || (health(&s.admin)?.connection == Connection::Reconnected).then_some(())).await;

    // A template while the payment method is broken fails at Meta with 131042.
    s.stack.control("/sandbox/payment", json!({"valid": false})).await.unwrap();
    let key = ConversationKey { phone_number_id: pnid.clone(), contact: ContactKey::from_wa_id("15551239002") };
    let template: TemplateSend =
        serde_json::from_value(json!({"name": "order_update", "language": "en_US", "params": {"body_positional": ["Ivo", "#9"]}})).unwrap();
    s.admin.templates(&pnid).await.unwrap();
    s.admin.send_template(&key, &template).unwrap();
    let failures = eventually("the 131042 failure in the panel", || {
        let f = health(&s.admin)?.health.recent_payment_failures;
        (!f.is_empty()).then_some(f)
    })
    .await;
    assert_eq!(failures[0].contact.as_str(), "15551239002");
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_add_revoke_and_the_quarantine() {
    let s = setup().await;
    let added = s.admin.admin_add_user(" lia ", "manager").await.unwrap();
    assert_eq!((added.name.as_str(), added.role.as_str()), ("lia", "manager"));
    let lia = BridgeClient::new(s.stack.bridge_url(), &added.token);
    assert_eq!(lia.me().await.unwrap().role, "manager");
    let users = s.admin.admin_users().await.unwrap();
    assert!(users.iter().any(|u| u.name == "lia"), "{users:?}");
    assert!(s.admin.admin_add_user("bad name", "agent").await.unwrap_err().contains("not a valid name"));
    assert!(s.admin.admin_add_user("lia", "agent").await.is_err(), "names are unique");

    s.admin.admin_revoke_user("lia").await.unwrap();
    assert!(lia.me().await.is_err(), "a revoked token is refused at once");
    assert!(s.admin.admin_revoke_user("lia").await.unwrap_err().contains("no user"), "already gone");

    assert!(s.admin.admin_quarantine(None).await.unwrap().is_empty());
    let body = br#"{"object":"whatsapp_business_account","entry":"<img src=x onerror=alert(1)>"}"#.to_vec();
    let status = reqwest::Client::new()
        .post(format!("{}/webhook", s.stack.bridge_url()))
        .header("x-hub-signature-256", coexist_bridge::sign_webhook(APP_SECRET, &body))
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let q = s.admin.admin_quarantine(Some(5)).await.unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].body.as_bytes(), body.as_slice(), "the raw body, for the panel to show as text");
    s.stack.shutdown().await;
}
