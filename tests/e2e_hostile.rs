//! Hostile input in the real webview: script-bearing text in every field the app shows — profile
//! names, bodies, captions, file names, locations, contact cards, button titles, quotes, the raw
//! JSON of an unsupported message, search hits, template texts, and the desktop notification —
//! must be shown as inert text. Every payload would set `window.__pwned` or create an element
//! with an id starting `pwn` if it ever became markup.
//!
//! Run: `xvfb-run -a dbus-run-session -- cargo test -p coexist-inbox --test e2e_hostile`

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use e2e_support::{session::AppSession, stack::Stack, ui::Ui};
use serde_json::{json, Value};

const MALLORY: &str = "15551239001";
const OLD: &str = "15551239002";
const NAME: &str = "<svg id=pwn1 onload=window.__pwned=1>Mallory";
const TEXT: &str = "<img id=pwn2 src=x onerror=window.__pwned=2>";
const CAPTION: &str = "<img id=pwn3 src=x onerror=window.__pwned=3>";
const FILE_NAME: &str = "<img id=pwn4 src=x onerror=window.__pwned=4>.pdf";
const DOC_CAPTION: &str = "<iframe id=pwn5 src=javascript:window.__pwned=5></iframe>";
const PLACE: &str = "<a id=pwn6 href=javascript:window.__pwned=6>Shop</a>";
const ADDRESS: &str = "<marquee id=pwn7>Street</marquee>";
const CONTACT: &str = "<img id=pwn8 src=x onerror=window.__pwned=8>";
const TEMPLATE_BODY: &str = "Hello {{1}} <img id=pwn9 src=x onerror=window.__pwned=9>";
const TEMPLATE_HEADER: &str = "<b id=pwn10>Header</b>";
const TEMPLATE_FOOTER: &str = "<script id=pwn11>window.__pwned=11</script>";
const TEMPLATE_BUTTON: &str = "<u id=pwn12>Yes</u>";
const BUTTON_TITLE: &str = "<b id=pwn13>Yes please</b>";
const REPLY: &str = "<i id=pwn14>about that</i>";
const RAW: &str = "<img id=pwn15 src=x onerror=window.__pwned=15>";
const LIVE_TEXT: &str = "<img id=pwn16 src=x onerror=window.__pwned=16>";
/// Pasted into the reply box from anywhere, kept as a draft, shown in the list.
const DRAFT: &str = "<img id=pwn17 src=x onerror=window.__pwned=17>";

/// Nothing became markup or ran: no `pwn*` element anywhere, `window.__pwned` never set, no
/// script error or CSP violation recorded by the page.
const INERT_JS: &str = "return { elements: document.querySelectorAll('[id^=pwn]').length, pwned: window.__pwned ?? null, errors: window.coexistErrors }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_text_is_inert_everywhere_the_app_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    hostile_template(&stack).await;
    hostile_conversation(&stack).await;
    stack.customer_says(OLD, "Olga", "Still there?", Some(now() - 25 * 3600)).await.unwrap();

    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, Duration::from_secs(30)).await;
    let result = tokio::time::timeout(Duration::from_secs(180), scenario(&app.ui)).await;
    // One more message while the app is up: notified on its own, its text in the body.
    stack.customer_says(MALLORY, NAME, LIVE_TEXT, None).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !app.notified.all().iter().any(|n| n.body.contains("pwn16")) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let notified = app.notified.all();
    app.close().await;
    stack.shutdown().await;
    result.expect("the hostile-input scenario took longer than 3 minutes");

    // The eight messages that came before the app started arrive as one burst: one notification
    // naming the sender, whose name is markup.
    let burst = notified.iter().find(|n| n.summary.ends_with("new messages")).expect("one notification for the burst");
    assert!(burst.body.contains("&lt;svg id=pwn1") && !burst.body.contains('<'), "markup escaped for the server: {}", burst.body);
    let live = notified.iter().find(|n| n.body.contains("pwn16")).expect("a notification for the live hostile message");
    assert!(live.body.contains("&lt;img id=pwn16") && !live.body.contains('<'), "markup escaped for the server: {}", live.body);
}

/// A template whose every text is markup, submitted through the Graph API and approved.
async fn hostile_template(stack: &Stack) {
    let waba = stack.sandbox.waba_id.clone();
    let components = json!([
        {"type": "HEADER", "format": "TEXT", "text": TEMPLATE_HEADER},
        {"type": "BODY", "text": TEMPLATE_BODY, "example": {"body_text": [["Ana"]]}},
        {"type": "FOOTER", "text": TEMPLATE_FOOTER},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": TEMPLATE_BUTTON}]}
    ]);
    let body = json!({"name": "hostile_texts", "language": "en_US", "category": "UTILITY", "components": components});
    stack.graph_post(&format!("/{waba}/message_templates"), body).await.expect("template submitted");
    let approve = json!({"name": "hostile_texts", "language": "en_US", "event": "APPROVED"});
    stack.control("/sandbox/templates/status", approve).await.expect("template approved");
}

async fn hostile_conversation(stack: &Stack) {
    let says = |kind: &str, content: Value| json!({"from": MALLORY, "name": NAME, "type": kind, "content": content});
    let first = stack.customer_says(MALLORY, NAME, TEXT, None).await.unwrap();
    let messages = [
        says("image", json!({"id": "7001", "mime_type": "image/jpeg", "sha256": "aa", "caption": CAPTION})),
        says("document", json!({"id": "7002", "mime_type": "application/pdf", "sha256": "bb", "filename": FILE_NAME, "caption": DOC_CAPTION})),
        says("location", json!({"latitude": 38.7223, "longitude": -9.1393, "name": PLACE, "address": ADDRESS})),
        says("contacts", json!([{"name": {"formatted_name": CONTACT, "first_name": "Eve"}, "phones": [{"phone": "+1 555 0100", "type": "CELL", "wa_id": "15550100"}]}])),
        says("interactive", json!({"type": "button_reply", "button_reply": {"id": "b1", "title": BUTTON_TITLE}})),
        says("unsupported", json!({"note": RAW})),
        json!({"from": MALLORY, "name": NAME, "type": "text", "text": REPLY, "reply_to": first}),
    ];
    for message in messages {
        stack.control("/sandbox/customers/messages", message).await.expect("customer message");
    }
}

async fn scenario(ui: &Ui) {
    ui.wait("the app to start", "return document.body.dataset.ready === 'true' || null", vec![]).await;
    let name = ui
        .wait("Mallory's conversation", "const li = document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`); return li ? li.querySelector('[data-testid=conversation-name]').textContent : null", vec![json!(MALLORY)])
        .await;
    assert_eq!(name, NAME, "the profile name is shown as text in the list");
    open(ui, MALLORY).await;
    ui.wait("all eight messages", "return document.querySelectorAll('#thread [data-testid=message]').length >= 8 || null", vec![]).await;
    let thread = ui.js("return document.getElementById('thread').innerText", vec![]).await;
    let thread = thread.as_str().unwrap();
    for shown in [TEXT, CAPTION, FILE_NAME, DOC_CAPTION, PLACE, ADDRESS, CONTACT, BUTTON_TITLE, REPLY] {
        assert!(thread.contains(shown), "{shown:?} is shown as text in the thread:\n{thread}");
    }
    let raw = ui.js("return document.querySelector('#thread [data-testid=message-unsupported] details pre').textContent", vec![]).await;
    assert!(raw.as_str().unwrap().contains("pwn15"), "the unsupported message's raw JSON is there to open: {raw}");
    assert!(thread.matches(TEXT).count() >= 2, "the quote repeats the first message as text");
    assert_inert(ui, "the thread").await;

    // Replying to it names the customer and the message, as text, above the reply box.
    ui.js("[...document.querySelectorAll('#thread [data-side=customer]')].find(r => r.innerText.includes('pwn2')).querySelector('[data-testid=message-reply]').click(); return true", vec![]).await;
    let bar = ui.wait("the reply bar", "const b = document.querySelector('[data-testid=reply-bar]'); return b && !b.hidden ? b.innerText : null", vec![]).await;
    assert!(bar.as_str().unwrap().contains(NAME) && bar.as_str().unwrap().contains(TEXT), "{bar}");
    assert_inert(ui, "the reply bar").await;
    ui.js("document.querySelector('[data-testid=reply-cancel]').click(); return document.querySelector('[data-testid=reply-bar]').hidden", vec![]).await;

    // The document saved under the customer's file name: as a plain file in one folder.
    ui.js("[...document.querySelectorAll('#thread [data-testid=message-media]')].find(c => c.textContent.includes('pwn4')).querySelector('[data-testid=media-save]').click(); return true", vec![]).await;
    let saved = ui.wait("the document to be saved", "return [...document.querySelectorAll('#thread [data-testid=media-status]')].map(s => s.dataset.path).find(Boolean) || null", vec![]).await;
    let saved = std::path::PathBuf::from(saved.as_str().unwrap());
    assert_eq!(saved.file_name().unwrap().to_str().unwrap(), FILE_NAME, "the name, as text, in the chosen folder");
    assert!(std::fs::read(&saved).unwrap().starts_with(b"%PDF"), "the sandbox's PDF, byte for byte");
    std::fs::remove_file(&saved).unwrap();
    ui.js("document.querySelector('#thread [data-testid=media-show]').click(); return true", vec![]).await;
    ui.wait("the photo to be drawn", "const i = document.querySelector('#thread [data-testid=media-preview]'); return i && i.complete && i.naturalWidth > 0 || null", vec![]).await;
    assert_inert(ui, "the thread with its photo").await;

    ui.js("const s = document.querySelector('[data-testid=search]'); s.value = 'pwn3'; s.dispatchEvent(new Event('input')); return true", vec![]).await;
    let hit = ui.wait("a search hit for the caption", "const h = document.querySelector('[data-testid=search-hit]'); return h ? h.textContent : null", vec![]).await;
    assert!(hit.as_str().unwrap().contains("pwn3"), "{hit}");
    assert_inert(ui, "search hits").await;
    // Found by name: the script-bearing profile name is a person row, as text.
    ui.js("const s = document.querySelector('[data-testid=search]'); s.value = 'mallory'; s.dispatchEvent(new Event('input')); return true", vec![]).await;
    let person = ui.wait("Mallory among the people", "const p = document.querySelector(`[data-testid=search-person][data-contact='${arguments[0]}']`); return p ? p.querySelector('.conv-name').textContent : null", vec![json!(MALLORY)]).await;
    assert_eq!(person, NAME);
    assert_inert(ui, "people found").await;
    ui.js("const s = document.querySelector('[data-testid=search]'); s.value = ''; s.dispatchEvent(new Event('input')); return true", vec![]).await;
    ui.js("const t = document.querySelector('[data-testid=composer-text]'); t.value = arguments[0]; t.dispatchEvent(new Event('input')); return true", vec![json!(DRAFT)]).await;

    open(ui, OLD).await;
    let draft = ui.wait("Mallory's draft in the list", "const p = document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=preview]`); \
        return p && p.querySelector('[data-testid=draft-tag]') ? p.textContent : null", vec![json!(MALLORY)]).await;
    assert_eq!(draft, json!(format!("Draft: {DRAFT}")));
    assert_inert(ui, "a draft in the list").await;
    ui.wait("the template picker", "return document.querySelector('[data-testid=composer]').dataset.mode === 'template' && document.querySelector('[data-testid=template-option][data-name=hostile_texts]') ? true : null", vec![]).await;
    ui.js("document.querySelector('[data-testid=template-option][data-name=hostile_texts]').click(); return true", vec![]).await;
    ui.wait("the template preview", "return document.querySelector('[data-testid=template-preview]')?.textContent.includes('pwn9') || null", vec![]).await;
    let picker = ui.js("return document.querySelector('[data-testid=composer]').innerText", vec![]).await;
    let picker = picker.as_str().unwrap();
    for shown in ["<img id=pwn9 src=x onerror=window.__pwned=9>", TEMPLATE_HEADER, TEMPLATE_FOOTER, TEMPLATE_BUTTON] {
        assert!(picker.contains(shown), "{shown:?} is shown as text in the template picker:\n{picker}");
    }
    assert_inert(ui, "the template picker").await;
}

async fn open(ui: &Ui, contact: &str) {
    ui.js("document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`).click(); return true", vec![json!(contact)]).await;
    ui.wait("the conversation to open", "return document.querySelector('[data-testid=conversation-view] [data-testid=conv-head]')?.dataset.contact === arguments[0] || null", vec![json!(contact)]).await;
}

async fn assert_inert(ui: &Ui, where_: &str) {
    // Give any onerror/onload a moment to fire, had markup slipped through.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let inert = ui.js(INERT_JS, vec![]).await;
    assert_eq!(inert, json!({"elements": 0, "pwned": null, "errors": []}), "markup came alive, or a script failed, in {where_}");
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
