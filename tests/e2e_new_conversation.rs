//! Writing first, in the real app under Xvfb: the agent opens *New conversation*, a number that
//! is not a phone number is refused in words, a customer who never wrote opens as a new,
//! empty conversation whose composer is the template picker (the window never opened); a note
//! left before anyone wrote lists it with no messages yet; the template goes out, is delivered,
//! and the conversation is owned by the API.
//!
//! Run: `xvfb-run -a dbus-run-session -- cargo test -p coexist-inbox --test e2e_new_conversation`

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use e2e_support::stack::Stack;
use e2e_support::{session::AppSession, ui::Ui};
use serde_json::json;

const DORA: &str = "15551230088";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_writes_first_with_a_template() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, Duration::from_secs(30)).await;
    let result = tokio::time::timeout(Duration::from_secs(120), scenario(&app.ui, &stack)).await;
    app.close().await;
    stack.shutdown().await;
    result.expect("writing first took longer than 2 minutes");
}

async fn scenario(ui: &Ui, stack: &Stack) {
    ui.wait("the app to start", "return document.body.dataset.ready === 'true' || null", vec![]).await;
    // Escape puts the form away; the button brings it back.
    ui.click("new-conversation").await;
    ui.c.find(fantoccini::Locator::Css("[data-testid=new-conversation-phone]")).await.unwrap().send_keys(&fantoccini::key::Key::Escape).await.unwrap();
    ui.wait("the form put away by Escape", "return document.querySelector('[data-testid=new-conversation-form]').hidden || null", vec![]).await;
    ui.click("new-conversation").await;
    ui.wait("the business number offered", "return document.querySelector('[data-testid=new-conversation-number]').value || null", vec![]).await;
    let set_phone = "const i = document.querySelector('[data-testid=new-conversation-phone]'); i.value = arguments[0]; return true";

    ui.js(set_phone, vec![json!("<b>555</b>")]).await;
    ui.click("new-conversation-open").await;
    let refused = ui.wait("the refusal", "const e = document.querySelector('[data-testid=new-conversation-error]'); return e.hidden ? null : e.textContent", vec![]).await;
    assert!(refused.as_str().unwrap().contains("country code"), "{refused}");

    ui.js(set_phone, vec![json!("+1 555 123 0088")]).await;
    ui.click("new-conversation-open").await;
    ui.wait("Dora's conversation open", "const h = document.querySelector('[data-testid=conv-head]'); return !h.hidden && h.dataset.contact === arguments[0] || null", vec![json!(DORA)]).await;
    // Nameless: the number is her title, once (not again beside it).
    let title = ui.js("return ['conv-name', 'conv-number'].map(id => document.querySelector(`[data-testid=${id}]`).textContent)", vec![]).await;
    assert_eq!(title, json!([format!("+{DORA}"), ""]));
    assert_eq!(ui.js("return document.querySelector('[data-testid=new-conversation-form]').hidden", vec![]).await, json!(true), "the form closes");
    assert_eq!(ui.js("return document.querySelectorAll('#thread [data-testid=message]').length", vec![]).await, json!(0), "nobody wrote yet");
    let note = ui.wait("the template picker", "return document.querySelector('[data-testid=composer]').dataset.mode === 'template' && document.querySelector('[data-testid=window-closed-note]')?.textContent || null", vec![]).await;
    assert!(note.as_str().unwrap().contains("has not written yet"), "{note}");

    // A note before anyone wrote: every desktop lists the conversation, with no messages yet.
    ui.click("add-note").await;
    ui.js("document.querySelector('[data-testid=note-input]').value = arguments[0]; return true", vec![json!("Calling Dora about her order first")]).await;
    ui.click("note-save").await;
    let preview = ui.wait("Dora listed before any message", "const li = document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`); return li?.querySelector('[data-testid=preview]').textContent || null", vec![json!(DORA)]).await;
    assert_eq!(preview, json!("No messages yet"));

    ui.wait("hello_world offered", "const b = document.querySelector('[data-testid=template-option][data-name=hello_world]'); if (!b) return null; b.click(); return true", vec![]).await;
    ui.wait("hello_world selected", "return document.querySelector('[data-testid=template-selected]')?.textContent.startsWith('hello_world') || null", vec![]).await;
    ui.click("send-template").await;
    let sent = ui.wait("the template delivered", "const rows = [...document.querySelectorAll('#thread [data-testid=message][data-side=api]')]; const r = rows[rows.length - 1]; return r && ['delivered', 'read'].includes(r.dataset.status) ? r.dataset.type : null", vec![]).await;
    assert_eq!(sent, json!("template"));
    let owner = ui.wait("Dora in the list, owned by the API", "const li = document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`); return li?.querySelector('[data-testid=owner-badge]')?.dataset.owner || null", vec![json!(DORA)]).await;
    assert_eq!(owner, json!("api"));
    let preview = ui.js("return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=preview]`).textContent", vec![json!(DORA)]).await;
    assert_ne!(preview, json!("No messages yet"), "the template is its first message");
    let graph = stack.sent().await.unwrap();
    assert!(
        graph["sent"].as_array().unwrap().iter().any(|r| r["request"]["to"] == DORA && r["request"]["type"] == "template"),
        "Meta was asked to send the template to Dora: {graph}"
    );
    let clean = ui.js("return { errors: window.coexistErrors }", vec![]).await;
    assert_eq!(clean, json!({"errors": []}), "no script error");
}
