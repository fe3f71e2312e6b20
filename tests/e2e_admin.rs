//! End-to-end for the admins' panel: the real app binary under Xvfb on a private D-Bus session
//! (no Secret Service there: the keyring is unavailable, and the app must say so, not crash),
//! driven by tauri-driver + WebKitWebDriver, against the real sandbox and bridge in this process.
//!
//! It checks number health and the country rule, adds and revokes a teammate, writes a template
//! for Meta's review and sees it approved, lists the blocked
//! customers (blocked in Coexist or on the phone) and unblocks one, and shows a quarantined
//! webhook as text.
//!
//! Run: `xvfb-run -a dbus-run-session -- cargo test -p coexist-inbox --test e2e_admin`
//! Screenshot: target/e2e/admin.png.

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use coexist_bridge::Role;
use e2e_support::{harness, session::AppSession, stack::Stack, ui::Ui};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);
const APP_SECRET: &str = "e2e-app-secret";

impl Ui {
    async fn loaded(&self) {
        self.wait("the admin section to load", "return document.querySelector('[data-testid=admin-body]')?.dataset.loaded === 'true' || null", vec![]).await;
    }
}


#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admin_panel_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    let admin_token = coexist_bridge::admin::add_user(dir.path().join("bridge.db"), "root", Role::Admin).unwrap();
    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &admin_token, WAIT).await;
    let result = tokio::time::timeout(Duration::from_secs(180), scenario(&app.ui, &stack, &admin_token)).await;
    app.close().await;
    stack.shutdown().await;
    result.expect("the admin scenario took longer than 3 minutes");
}

/// Templates: the admin writes one (an example field per variable, a live preview), is told in
/// words what Meta would refuse, submits it, sees it in review, and approved once Meta says so.
async fn templates(ui: &Ui, stack: &Stack) {
    ui.click("admin-tab-templates").await;
    ui.loaded().await;
    ui.fill("template-name", "refund_sent").await;
    let body = ui.c.find(fantoccini::Locator::Css("[data-testid=template-body]")).await.unwrap();
    body.send_keys("{{1}}, your refund is on its way.").await.unwrap();
    ui.wait("one example field", "return document.querySelectorAll('[data-testid=template-example]').length === 1 || null", vec![]).await;
    ui.c.find(fantoccini::Locator::Css("[data-testid=template-example]")).await.unwrap().send_keys("Ana").await.unwrap();
    let preview = ui.js("return document.querySelector('[data-testid=template-preview]').textContent", vec![]).await;
    assert_eq!(preview, json!("Ana, your refund is on its way."));
    ui.click("template-submit").await;
    let error = ui.wait("Meta's rule, in words", "const e = document.querySelector('[data-testid=template-error]'); return e && !e.hidden ? e.textContent : null", vec![]).await;
    assert!(error.as_str().unwrap().contains("cannot start or end with a variable"), "{error}");

    ui.js("const b = document.querySelector('[data-testid=template-body]'); b.value = 'Hi ' + b.value; b.dispatchEvent(new Event('input')); return true", vec![]).await;
    assert_eq!(ui.js("return document.querySelector('[data-testid=template-example]').value", vec![]).await, json!("Ana"), "the example stays");
    ui.click("template-submit").await;
    let row = "const r = document.querySelector('[data-testid=template-row][data-name=refund_sent]'); if (r) return r.dataset.status; \
               const e = document.querySelector('[data-testid=template-error]'); return e && !e.hidden ? 'error: ' + e.textContent : null";
    assert_eq!(ui.wait("the template in review", row, vec![]).await, json!("PENDING"));
    assert!(stack.sandbox.sandbox().templates().iter().any(|t| t.name == "refund_sent" && t.status == "PENDING"), "submitted to Meta");

    let approve = json!({"name": "refund_sent", "language": "en_US", "event": "APPROVED"});
    stack.control("/sandbox/templates/status", approve).await.unwrap();
    let start = std::time::Instant::now();
    loop {
        ui.click("admin-tab-templates").await;
        ui.loaded().await;
        if ui.js(row, vec![]).await == json!("APPROVED") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "Meta's approval never showed");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if let Ok(Ok(png)) = tokio::time::timeout(Duration::from_secs(15), ui.c.screenshot()).await {
        let _ = std::fs::write(harness::screenshot_path("admin-templates.png"), png);
    }
}

const MIA: &str = "15551239001";
const LEO: &str = "15551239002";

/// Blocked: Mia, blocked from Coexist by root, and Leo, blocked on the phone (Meta's list alone
/// knows him), both listed with who blocked them; Unblock on Leo's row unblocks him at Meta.
async fn blocked(ui: &Ui, stack: &Stack, admin_token: &str) {
    stack.customer_says(MIA, "<b id=pwn4>Mia</b>", "cheap followers", None).await.unwrap();
    stack.customer_says(LEO, "Leo", "cheap followers too", None).await.unwrap();
    let pnid = &stack.sandbox.phone_number_id;
    let resp = reqwest::Client::new()
        .put(format!("{}/v1/numbers/{pnid}/conversations/{MIA}/blocked", stack.bridge_url()))
        .bearer_auth(admin_token)
        .json(&json!({"blocked": true}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let on_the_phone = json!({"messaging_product": "whatsapp", "block_users": [{"user": LEO}]});
    let (status, _) = stack.sandbox.sandbox().block_users(pnid, &on_the_phone).unwrap();
    assert_eq!(status.as_u16(), 200);
    ui.wait("Mia blocked in the inbox", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=blocked-tag]`) ? true : null", vec![json!(MIA)]).await;

    ui.click("admin-tab-blocked").await;
    ui.loaded().await;
    let rows = ui.wait("the block list", "const r = [...document.querySelectorAll('[data-testid=blocked-row]')].map(e => [...e.querySelectorAll('td')].slice(0, 2).map(t => t.textContent)); return r.length === 2 ? r : null", vec![]).await;
    assert_eq!(rows, json!([[format!("<b id=pwn4>Mia</b> (+{MIA})"), "root"], [format!("Leo (+{LEO})"), "someone outside Coexist"]]), "Meta's order, named as the inbox knows them");
    assert_eq!(ui.js("return document.getElementById('pwn4')", vec![]).await, serde_json::Value::Null, "a name is text");

    ui.js("document.querySelector(`[data-testid=blocked-row][data-contact='${arguments[0]}'] [data-testid=blocked-unblock-admin]`).click(); return true", vec![json!(LEO)]).await;
    ui.wait("Leo off the list", "const r = [...document.querySelectorAll('[data-testid=blocked-row]')].map(e => e.dataset.contact); return document.querySelector('[data-testid=admin-body]').dataset.loaded === 'true' && r.length === 1 ? r : null", vec![]).await;
    assert!(!stack.sandbox.sandbox().is_blocked(pnid, LEO), "unblocked at Meta");
}

async fn scenario(ui: &Ui, stack: &Stack, admin_token: &str) {
    ui.wait("the app to start", "return (document.body.dataset.ready === 'true' && document.body.dataset.adminReady === 'true') || null", vec![]).await;

    // No Secret Service on this private bus: said plainly, the session goes on with the env token.
    let notice = ui.wait("the token notice", "const n = document.getElementById('session-notice'); return n && !n.hidden ? n.innerText : null", vec![]).await;
    let notice = notice.as_str().unwrap();
    let unavailable = ui.js("return !!document.querySelector('[data-testid=keyring-unavailable]')", vec![]).await;
    if unavailable == json!(true) {
        assert!(notice.contains("keyring is unavailable") && notice.contains("this session only"), "{notice}");
    } else {
        assert!(notice.contains("Remember this bridge token"), "a working keyring offers to remember: {notice}");
    }

    // A quarantined webhook whose body is markup.
    let body = br#"{"object":"whatsapp_business_account","entry":"<img id=pwned src=x onerror=alert(1)>"}"#.to_vec();
    let status = reqwest::Client::new()
        .post(format!("{}/webhook", stack.bridge_url()))
        .header("x-hub-signature-256", coexist_bridge::sign_webhook(APP_SECRET, &body))
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    ui.click("open-admin").await;
    ui.loaded().await;
    // Number health: the sandbox's Coexistence number, 20 msg/s, no Business App use seen yet.
    let health = ui.wait("the health row", "const r = document.querySelector('[data-testid=health-row]'); return r ? r.innerText : null", vec![]).await;
    let health = health.as_str().unwrap();
    assert!(health.contains("Coexistence") && health.contains("20 msg/s"), "{health}");
    assert!(health.contains("Connected") && health.contains("13–14 days"), "{health}");

    // The country rule, shown in the form.
    ui.fill("number-id", "880001").await;
    ui.fill("number-waba", "2210").await;
    ui.fill("number-display", "+2348012345678").await;
    ui.fill("number-mode", "coexistence").await;
    ui.click("number-submit").await;
    let error = ui.wait("the country refusal", "const e = document.querySelector('[data-testid=number-error]'); return e && !e.hidden ? e.textContent : null", vec![]).await;
    assert!(error.as_str().unwrap().contains("Nigeria"), "{error}");
    ui.fill("number-mode", "standard").await;
    ui.fill("number-tier", "150").await;
    ui.click("number-submit").await;
    ui.wait("the new number listed", "return [...document.querySelectorAll('[data-testid=number-row]')].some(r => r.dataset.number === '880001' && r.innerText.includes('150 msg/s')) || null", vec![]).await;

    // People: add (the token shown once), then revoke.
    ui.click("admin-tab-people").await;
    ui.loaded().await;
    ui.fill("user-name", "zoe").await;
    ui.fill("user-role", "agent").await;
    ui.click("user-submit").await;
    let token = ui.wait("the new token", "const e = document.querySelector('[data-testid=new-token]'); return e ? e.value : null", vec![]).await;
    let token = token.as_str().unwrap().to_string();
    assert!(token.starts_with("cxb_"), "{token}");
    assert!(ui.js("return !!document.querySelector('[data-testid=copy-token]')", vec![]).await == json!(true));
    let zoe = coexist_engine::BridgeClient::new(stack.bridge_url(), &token);
    assert_eq!(zoe.me().await.unwrap().name, "zoe");
    ui.wait("zoe listed", "return [...document.querySelectorAll('[data-testid=user-row]')].some(r => r.dataset.name === 'zoe') || null", vec![]).await;
    let revoke = "const r = [...document.querySelectorAll('[data-testid=user-row]')].find(r => r.dataset.name === 'zoe'); if (!r) return null; r.querySelector('[data-testid=user-revoke]').click(); return true;";
    ui.js(revoke, vec![]).await; // arms
    ui.js(revoke, vec![]).await; // confirms
    ui.wait("zoe gone", "return (document.querySelector('[data-testid=admin-body]').dataset.loaded === 'true' && ![...document.querySelectorAll('[data-testid=user-row]')].some(r => r.dataset.name === 'zoe')) || null", vec![]).await;
    assert!(zoe.me().await.is_err(), "the revoked token no longer works");

    templates(ui, stack).await;
    blocked(ui, stack, admin_token).await;

    // Quarantine: the raw body as text, never as markup.
    ui.click("admin-tab-quarantine").await;
    ui.loaded().await;
    let shown = ui.wait("the quarantined body", "const e = document.querySelector('[data-testid=quarantine-body]'); return e ? e.textContent : null", vec![]).await;
    assert!(shown.as_str().unwrap().contains("<img id=pwned"), "{shown}");
    eprintln!("e2e_admin: checking the body stayed text");
    assert_eq!(ui.js("return document.getElementById('pwned') === null && document.querySelectorAll('[data-testid=quarantine-body] *').length === 0", vec![]).await, json!(true));

    let errors = ui.js("return window.coexistErrors || []", vec![]).await;
    assert_eq!(errors, json!([]), "no uncaught errors or CSP violations");
    eprintln!("e2e_admin: all checks passed; taking the screenshot");
    // The screenshot is a convenience: bounded, and not a failure when WebKit cannot take it.
    if let Ok(Ok(png)) = tokio::time::timeout(Duration::from_secs(15), ui.c.screenshot()).await {
        let path = harness::screenshot_path("admin.png");
        let _ = std::fs::write(&path, png);
    }
}
