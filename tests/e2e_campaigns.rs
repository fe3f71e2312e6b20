//! End-to-end for the campaigns panel: the real app binary under Xvfb, driven by tauri-driver +
//! WebKitWebDriver, against the real sandbox and bridge in this process. A CSV with a duplicate
//! and bad rows (one of them markup) is checked (ETA shown first), started, paused, resumed and
//! finished; the sandbox must have each recipient exactly once. A second campaign's template
//! has an image header, uploaded from the desktop.
//!
//! Run: `xvfb-run -a dbus-run-session -- cargo test -p coexist-inbox --test e2e_campaigns`
//! Screenshot: target/e2e/campaigns.png.

#[allow(dead_code)]
mod e2e_support;

use std::collections::HashMap;
use std::time::Duration;

use e2e_support::{harness, session::AppSession, stack::Stack, ui::Ui};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);
const RECIPIENTS: u64 = 120;
const BASE: u64 = 14_155_570_000;
const PHOTO: &[u8] = include_bytes!("../crates/coexist-sandbox/assets/photo.png");

impl Ui {
    /// The campaign row's state (`data-state`) and its counts line.
    async fn row(&self, what: &str, cond: &str) -> Value {
        self.wait(what, &format!("const r = document.querySelector('[data-testid=campaign-row]'); if (!r) return null; \
            const state = r.dataset.state; const counts = r.querySelector('[data-testid=campaign-counts]').innerText; \
            return ({cond}) ? {{state, counts}} : null;"), vec![]).await
    }
}


#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn campaigns_panel_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, WAIT).await;
    let result = tokio::time::timeout(Duration::from_secs(240), scenario(&app.ui, &stack)).await;
    app.close().await;
    stack.shutdown().await;
    result.expect("the campaigns scenario took longer than 4 minutes");
}

async fn scenario(ui: &Ui, stack: &Stack) {
    ui.wait("the app to start", "return document.body.dataset.ready === 'true' || null", vec![]).await;
    ui.click("open-campaigns").await;
    // Reopen until the first sync brought the number (the panel asks again on each open).
    let option = ui.wait("order_update offered", "document.querySelector('[data-testid=open-campaigns]').click(); \
        const o = [...document.querySelectorAll('[data-testid=campaign-template] option')].find(o => o.textContent === 'order_update (en_US)'); \
        return o ? o.value : null", vec![]).await;
    ui.fill("campaign-template", option.as_str().unwrap()).await;
    ui.fill("campaign-name", "e2e spring").await;
    ui.fill("campaign-format", "csv").await;
    let mut csv = String::from("phone,1,2\n");
    for i in 0..RECIPIENTS {
        csv.push_str(&format!("+{},Customer {i},#{i}\n", BASE + i));
    }
    csv.push_str(&format!("{},Again,#dup\n", BASE + 7)); // line 122: duplicate of line 9
    csv.push_str("<img id=pwned src=x onerror=alert(1)>,X,#x\n"); // line 123: not a number
    csv.push_str(&format!("{},OnlyOne\n", BASE + 999)); // line 124: a field short
    ui.fill("campaign-recipients", &csv).await;

    // Checked first: the ETA at the number's cap, the duplicate, the bad rows (as text).
    ui.click("campaign-check").await;
    let eta = ui.wait("the ETA", "const e = document.querySelector('[data-testid=campaign-eta]'); return e ? e.innerText : null", vec![]).await;
    let eta = eta.as_str().unwrap();
    assert!(eta.contains("120 recipients at 20 msg/s") && eta.contains("6 s at the cap") && eta.contains("1% guard"), "{eta}");
    let plan = ui.js("return document.querySelector('[data-testid=campaign-plan]').innerText", vec![]).await;
    let plan = plan.as_str().unwrap();
    assert!(plan.contains("1 duplicate") && plan.contains("line 122") && plan.contains("first on line 9"), "{plan}");
    assert!(plan.contains("line 123") && plan.contains("<img id=pwned") && plan.contains("line 124"), "{plan}");
    assert_eq!(ui.js("return document.getElementById('pwned') === null", vec![]).await, json!(true));

    // Bad rows refuse the start until skipped.
    ui.click("campaign-start").await;
    let err = ui.wait("the refusal", "const e = document.querySelector('[data-testid=campaign-error]'); return e && !e.hidden ? e.innerText : null", vec![]).await;
    assert!(err.as_str().unwrap().contains("--skip-invalid"), "{err}");
    ui.js("document.querySelector('[data-testid=campaign-skip-invalid]').checked = true; return true", vec![]).await;
    ui.click("campaign-check").await;
    ui.click("campaign-start").await;

    // Running: pause it, see it hold, resume it, see it finish.
    ui.row("the campaign running", "state === 'running'").await;
    ui.click("campaign-pause").await;
    ui.row("the campaign paused", "state === 'paused'").await;
    let sent_at_pause = sends(stack).await.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = sends(stack).await.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(held, sends(stack).await.len(), "nothing goes out while paused");
    assert!(held < RECIPIENTS as usize, "paused before the end ({sent_at_pause} / {held})");
    ui.click("campaign-resume").await;
    let done = ui.row("every recipient delivered", "state === 'done' && counts.startsWith('120/120 accepted')").await;
    assert!(done["counts"].as_str().unwrap().contains("failed 0"), "{done}");

    let counts = sends(stack).await;
    assert_eq!(counts.len(), RECIPIENTS as usize);
    assert!(counts.values().all(|n| *n == 1), "each recipient exactly once: {counts:?}");

    campaign_with_an_uploaded_header(ui, stack).await;

    if let Ok(png) = ui.c.screenshot().await {
        let path = harness::screenshot_path("campaigns.png");
        let _ = std::fs::write(&path, png);
    }
    let errors = ui.js("return window.coexistErrors || []", vec![]).await;
    assert_eq!(errors, json!([]), "no uncaught errors or CSP violations");
}

/// A template with an image header: the image uploaded from the desktop once, its media id in
/// every recipient's message.
async fn campaign_with_an_uploaded_header(ui: &Ui, stack: &Stack) {
    let option = ui.wait("spring_sale offered", "const o = [...document.querySelectorAll('[data-testid=campaign-template] option')].find(o => o.textContent === 'spring_sale (en_US)'); return o ? o.value : null", vec![]).await;
    ui.fill("campaign-template", option.as_str().unwrap()).await;
    ui.wait("the header field", "const r = document.querySelector('[data-testid=campaign-header]'); return r && !r.hidden || null", vec![]).await;
    ui.fill("campaign-name", "e2e sale with a photo").await;
    ui.fill("campaign-format", "list").await;
    ui.fill("campaign-recipients", "+14155579001\n+14155579002").await;
    ui.fill("campaign-params", "friend | 20%").await;
    ui.pick_file("[data-testid=campaign-header] [data-testid=header-file]", PHOTO, "sale.png", "image/png").await;
    ui.wait("the photo uploaded", "const s = document.querySelector('[data-testid=campaign-header] [data-testid=header-file-status]'); return s && s.textContent.includes('uploaded') || null", vec![]).await;
    ui.click("campaign-check").await;
    ui.click("campaign-start").await;
    let deadline = std::time::Instant::now() + WAIT;
    let sales = loop {
        let sent = stack.sent().await.unwrap();
        let sales: Vec<Value> = sent["sent"].as_array().unwrap().iter().filter(|r| r["request"]["template"]["name"] == "spring_sale").cloned().collect();
        if sales.len() >= 2 || std::time::Instant::now() > deadline {
            break sales;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(sales.len(), 2, "both recipients got the sale: {sales:?}");
    let ids: Vec<&Value> = sales.iter().map(|r| &r["request"]["template"]["components"][0]["parameters"][0]["image"]["id"]).collect();
    assert!(ids[0].as_str().is_some_and(|id| !id.is_empty()) && ids[0] == ids[1], "one upload, named in each: {sales:?}");
}

/// Campaign sends the sandbox accepted, per recipient.
async fn sends(stack: &Stack) -> HashMap<String, usize> {
    let sent = stack.sent().await.unwrap();
    let mut counts = HashMap::new();
    for rec in sent["sent"].as_array().unwrap() {
        if rec["biz_opaque_callback_data"].as_str().is_some_and(|k| k.starts_with("campaign:")) {
            *counts.entry(rec["to"].as_str().unwrap().to_string()).or_insert(0) += 1;
        }
    }
    counts
}
