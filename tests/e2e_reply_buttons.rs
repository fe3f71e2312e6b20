//! An agent sends reply buttons from the real app: *Buttons* under the reply box takes up to three
//! titles, two that say the same are refused in words (nothing sent), the message reaches Meta as
//! an interactive reply-buttons message and shows in the thread with its choices (a title made of
//! markup stays text); the customer's tap (the sandbox's control route, as Meta's webhook) comes
//! back into the thread quoting the question it answers. Four choices go as a list, and the
//! customer's pick from it comes back the same way.
//!
//! Run: `xvfb-run -a dbus-run-session -- cargo test -p coexist-inbox --test e2e_reply_buttons`
//! Screenshots: target/e2e/reply-buttons.png (the thread after the customer's tap),
//! reply-buttons-list.png (four choices typed, before they go as a list).

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use e2e_support::{harness, session::AppSession, stack::Stack, ui::Ui};
use serde_json::{json, Value};

const CUSTOMER: &str = "15551238101";
const QUESTION: &str = "We can deliver on Saturday morning. Does that suit you?";
/// Eighteen characters of markup: a button title is at most twenty.
const MARKUP_TITLE: &str = "<i id=pwn3>No</i>";
/// Four choices: a list, whose rows take up to twenty-four characters.
const SLOTS: [&str; 4] = ["9:00", "11:00", "14:00", "Saturday afternoon 16h"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_sends_reply_buttons_and_sees_the_customers_tap() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    stack.customer_says(CUSTOMER, "Iris", "When can you deliver?", None).await.unwrap();
    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, Duration::from_secs(30)).await;
    let result = tokio::time::timeout(Duration::from_secs(120), scenario(&app.ui, &stack)).await;
    let sent = stack.sent().await.unwrap();
    app.close().await;
    stack.shutdown().await;
    result.expect("the reply-buttons scenario took longer than 2 minutes");

    let sent = sent["sent"].as_array().unwrap();
    let interactive: Vec<&Value> = sent.iter().filter(|r| r["request"]["type"] == "interactive").collect();
    assert_eq!(interactive.len(), 2, "the buttons and the list reached Meta, the refused one not: {sent:?}");
    let rows = &interactive[1]["request"]["interactive"]["action"]["sections"][0]["rows"];
    assert_eq!(rows.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap()).collect::<Vec<_>>(), SLOTS);
    let request = &interactive[0]["request"]["interactive"];
    assert_eq!(request["body"]["text"], QUESTION);
    let titles: Vec<&str> = request["action"]["buttons"].as_array().unwrap().iter().map(|b| b["reply"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Yes, Saturday", MARKUP_TITLE]);
}

async fn scenario(ui: &Ui, stack: &Stack) {
    ui.wait("the app to start", "return document.body.dataset.ready === 'true' || null", vec![]).await;
    ui.wait("Iris's conversation", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? true : null", vec![json!(CUSTOMER)]).await;
    ui.js("document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`).click(); return true", vec![json!(CUSTOMER)]).await;
    ui.click("buttons-toggle").await;
    ui.wait("the buttons editor", "const e = document.querySelector('[data-testid=buttons-editor]'); return e && !e.hidden ? true : null", vec![]).await;

    // Two buttons that say the same: refused in words, nothing leaves.
    ui.fill("composer-text", QUESTION).await;
    fill_titles(ui, &["Yes", "Yes "]).await;
    ui.click("send-text").await;
    let refused = ui.wait("the twin titles refused", "const e = document.querySelector('[data-testid=composer-error]'); return e && !e.hidden ? e.textContent : null", vec![]).await;
    assert!(refused.as_str().unwrap().contains("both say \"Yes\""), "{refused}");

    fill_titles(ui, &["Yes, Saturday", MARKUP_TITLE]).await;
    ui.click("send-text").await;
    let offered = ui.wait("the buttons accepted by Meta, with their choices", r#"
        const r = [...document.querySelectorAll('#thread [data-testid=message][data-type=choices]')].find(r => r.dataset.wamid);
        return r ? { wamid: r.dataset.wamid, text: r.querySelector('[data-testid=message-text]').textContent,
                     choices: [...r.querySelectorAll('[data-testid=message-choice]')].map(c => c.textContent) } : null;"#, vec![]).await;
    assert_eq!(offered["text"], QUESTION);
    assert_eq!(offered["choices"], json!(["Yes, Saturday", MARKUP_TITLE]), "titles shown as typed, markup as text");
    assert!(ui.js("return document.querySelector('[data-testid=buttons-editor]').hidden", vec![]).await.as_bool().unwrap(), "the editor closes after the send");

    // The customer taps the first button: Meta's webhook, into the thread, quoting the question.
    stack.control("/sandbox/customers/tap", json!({ "wamid": offered["wamid"], "button": 0 })).await.unwrap();
    let tap = ui.wait("the customer's tap", r#"
        const r = [...document.querySelectorAll('#thread [data-testid=message][data-type=interactive]')].pop();
        const q = r && r.querySelector('[data-testid=message-quote]');
        return r && q ? { text: r.querySelector('.bubble > p').textContent, quote: q.textContent } : null;"#, vec![]).await;
    assert_eq!(tap["text"], "Chose: Yes, Saturday");
    assert!(tap["quote"].as_str().unwrap().contains("Saturday morning"), "{tap}");
    if let Ok(png) = ui.c.screenshot().await {
        let _ = std::fs::write(harness::screenshot_path("reply-buttons.png"), png);
    }

    // Four choices: "+ Add a choice" opens a fourth field, and they go as a list.
    ui.fill("composer-text", "Which time on Saturday?").await;
    ui.click("buttons-toggle").await;
    ui.click("button-add").await;
    fill_titles(ui, &SLOTS).await;
    if let Ok(png) = ui.c.screenshot().await {
        let _ = std::fs::write(harness::screenshot_path("reply-buttons-list.png"), png);
    }
    ui.click("send-text").await;
    let listed = ui.wait("the list accepted by Meta", r#"
        const r = [...document.querySelectorAll('#thread [data-testid=message][data-type=choices]')].filter(r => r.dataset.wamid)[1];
        return r ? { wamid: r.dataset.wamid, choices: [...r.querySelectorAll('[data-testid=message-choice]')].map(c => c.textContent) } : null;"#, vec![]).await;
    assert_eq!(listed["choices"], json!(SLOTS));
    assert_eq!(ui.js("return document.querySelectorAll('[data-testid=button-title]').length", vec![]).await, json!(3), "back to three fields");
    stack.control("/sandbox/customers/tap", json!({ "wamid": listed["wamid"], "button": 3 })).await.unwrap();
    ui.wait("the customer's pick from the list", r#"
        return [...document.querySelectorAll('#thread [data-testid=message][data-type=interactive]')]
          .some(r => r.querySelector('.bubble > p').textContent === 'Chose: ' + arguments[0]) || null;"#, vec![json!(SLOTS[3])]).await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    let inert = ui.js("return { elements: document.querySelectorAll('[id^=pwn]').length, errors: window.coexistErrors }", vec![]).await;
    assert_eq!(inert, json!({"elements": 0, "errors": []}), "the markup title stayed text");
}

async fn fill_titles(ui: &Ui, titles: &[&str]) {
    ui.js("const inputs = document.querySelectorAll('[data-testid=button-title]');
           inputs.forEach((input, i) => { input.value = arguments[0][i] || ''; input.dispatchEvent(new Event('input')); }); return true",
        vec![json!(titles)]).await;
}
