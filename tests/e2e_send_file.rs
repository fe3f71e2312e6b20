//! An agent sends a photo with a caption from the real app: picked in the composer (the page's
//! own file input, filled as a drop or a file dialog fills it), its bytes through the app's raw
//! command body, the bridge and the sandbox's Graph upload, sent by media id, then shown in the
//! thread and drawn from Meta's copy. A type WhatsApp cannot send is refused in words, a pasted
//! screenshot is attached like a picked file, and a file name made of markup stays text. With the
//! window closed, a template's image header is a file uploaded from the desktop, not a link.
//!
//! Run: `xvfb-run -a dbus-run-session -- cargo test -p coexist-inbox --test e2e_send_file`
//! Screenshot: target/e2e/send-file.png (the chip and the caption, before sending).

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use base64::Engine as _;
use e2e_support::{harness, session::AppSession, stack::Stack, ui::Ui};
use serde_json::{json, Value};

const CUSTOMER: &str = "15551238001";
/// Wrote 25 hours ago: the window is closed, only a template goes.
const LAPSED: &str = "15551238002";
const PHOTO: &[u8] = include_bytes!("../crates/coexist-sandbox/assets/photo.png");
const PHOTO_NAME: &str = "<img id=pwn1 src=x onerror=window.__pwned=1>.png";
const CAPTION: &str = "Here is the shelf — 3rd row 👋";
const COMPOSER_FILE: &str = "[data-testid=composer-file]";

/// Paste a file into the reply box, as the clipboard does with a screenshot.
const PASTE_JS: &str = r#"
const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
const dt = new DataTransfer();
dt.items.add(new File([bytes], arguments[1], { type: arguments[2] }));
document.querySelector('[data-testid=composer-text]').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
return true;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_sends_a_photo_from_the_composer() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    stack.customer_says(CUSTOMER, "Gus", "Can you send me a photo of the shelf?", None).await.unwrap();
    let day_ago = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 25 * 3600;
    stack.customer_says(LAPSED, "Hana", "Tell me about the next sale", Some(day_ago)).await.unwrap();
    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, Duration::from_secs(30)).await;
    let result = tokio::time::timeout(Duration::from_secs(180), scenario(&app.ui)).await;
    let sent = stack.sent().await.unwrap();
    app.close().await;
    stack.shutdown().await;
    result.expect("the send-a-file scenario took longer than 3 minutes");

    let sent = sent["sent"].as_array().unwrap();
    let images: Vec<&Value> = sent.iter().filter(|r| r["request"]["type"] == "image").collect();
    assert_eq!(images.len(), 1, "one photo reached Meta, the refused GIF none: {sent:?}");
    assert_eq!(images[0]["request"]["image"]["caption"], CAPTION);
    let sale = sent.iter().find(|r| r["request"]["template"]["name"] == "spring_sale").expect("the template reached Meta");
    let header = &sale["request"]["template"]["components"][0]["parameters"][0];
    assert!(header["image"]["id"].as_str().is_some_and(|id| !id.is_empty()), "the header names the uploaded photo: {sale}");
    assert!(header["image"].get("link").is_none(), "{sale}");
}

async fn scenario(ui: &Ui) {
    ui.wait("the app to start", "return document.body.dataset.ready === 'true' || null", vec![]).await;
    ui.wait("Gus's conversation", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? true : null", vec![json!(CUSTOMER)]).await;
    ui.js("document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`).click(); return true", vec![json!(CUSTOMER)]).await;
    ui.wait("the text composer", "return document.querySelector('[data-testid=attach-file]') ? true : null", vec![]).await;

    // A GIF: WhatsApp cannot send it, and the agent is told which files it can.
    ui.pick_file(COMPOSER_FILE, b"GIF89a tiny", "party.gif", "image/gif").await;
    ui.click("send-text").await;
    let refused = ui.wait("the GIF to be refused", "const e = document.querySelector('[data-testid=composer-error]'); return e && !e.hidden ? e.textContent : null", vec![]).await;
    assert!(refused.as_str().unwrap().contains("cannot send") && refused.as_str().unwrap().contains("PNG"), "{refused}");
    ui.click("attachment-remove").await;

    // A screenshot pasted into the reply box is attached as if picked.
    let screenshot = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG tiny");
    ui.js(PASTE_JS, vec![json!(screenshot), json!("screenshot.png"), json!("image/png")]).await;
    let pasted = ui.wait("the pasted screenshot's chip", "const c = document.querySelector('[data-testid=attachment]'); return c && !c.hidden ? c.querySelector('[data-testid=attachment-name]').textContent : null", vec![]).await;
    assert_eq!(pasted, "📎 screenshot.png");
    ui.click("attachment-remove").await;

    // The photo: its markup name shown as text in the chip, the caption typed, sent.
    ui.pick_file(COMPOSER_FILE, PHOTO, PHOTO_NAME, "image/png").await;
    let chip = ui.wait("the chip naming the file", "const c = document.querySelector('[data-testid=attachment]'); return c && !c.hidden ? c.querySelector('[data-testid=attachment-name]').textContent : null", vec![]).await;
    assert_eq!(chip, format!("📎 {PHOTO_NAME}"));
    ui.fill("composer-text", CAPTION).await;
    if let Ok(png) = ui.c.screenshot().await {
        let _ = std::fs::write(harness::screenshot_path("send-file.png"), png);
    }
    ui.click("send-text").await;

    let sent = ui.wait("our photo to be accepted by Meta", r#"
        const rows = [...document.querySelectorAll('#thread [data-testid=message]')].filter(r => r.dataset.side === 'api' && r.dataset.type === 'image');
        const r = rows[rows.length - 1];
        return r && r.dataset.wamid ? { status: r.dataset.status, text: r.innerText } : null;"#, vec![]).await;
    assert!(sent["text"].as_str().unwrap().contains(CAPTION), "{sent}");
    assert!(ui.js("return document.querySelector('[data-testid=attachment]').hidden", vec![]).await.as_bool().unwrap(), "the chip is cleared after the send");

    // Drawn from Meta's copy, through the bridge: the bytes the agent picked.
    ui.js("const rows = [...document.querySelectorAll('#thread [data-testid=message][data-side=api]')]; rows[rows.length - 1].querySelector('[data-testid=media-show]').click(); return true", vec![]).await;
    let drawn = ui.wait("our photo to be drawn", "const i = document.querySelector('#thread [data-side=api] [data-testid=media-preview]'); return i && i.complete && i.naturalWidth > 0 ? i.naturalWidth : null", vec![]).await;
    assert_eq!(drawn, 320, "the sandbox's 320-pixel photo, uploaded and fetched back");
    tokio::time::sleep(Duration::from_millis(300)).await; // had markup slipped through, its onerror fires
    let inert = ui.js("return { elements: document.querySelectorAll('[id^=pwn]').length, pwned: window.__pwned ?? null, errors: window.coexistErrors }", vec![]).await;
    assert_eq!(inert, json!({"elements": 0, "pwned": null, "errors": []}), "the file name stayed text");

    template_with_an_uploaded_header(ui).await;
}

/// The window is closed: a template with an image header, the image uploaded from the desktop
/// instead of a public link.
async fn template_with_an_uploaded_header(ui: &Ui) {
    ui.js("document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`).click(); return true", vec![json!(LAPSED)]).await;
    ui.wait("the template picker", "return document.querySelector('[data-testid=template-option][data-name=spring_sale]') ? true : null", vec![]).await;
    ui.js("document.querySelector('[data-testid=template-option][data-name=spring_sale]').click(); return true", vec![]).await;
    ui.wait("the header upload", "return document.querySelector('[data-testid=header-file]') ? true : null", vec![]).await;
    ui.js("const i = document.querySelector(`[data-param='${arguments[0]}']`); i.value = arguments[1]; i.dispatchEvent(new Event('input')); return true", vec![json!("body.1"), json!("Hana")]).await;
    ui.js("const i = document.querySelector(`[data-param='${arguments[0]}']`); i.value = arguments[1]; i.dispatchEvent(new Event('input')); return true", vec![json!("body.2"), json!("20%")]).await;
    ui.pick_file("[data-testid=header-file]", PHOTO, "sale.png", "image/png").await;
    let status = ui.wait("the header photo uploaded", "const s = document.querySelector('[data-testid=header-file-status]'); return s && s.textContent.includes('uploaded') ? s.textContent : null", vec![]).await;
    assert_eq!(status, "📎 sale.png uploaded");
    ui.click("send-template").await;
    ui.wait("the template accepted by Meta", r#"
        const rows = [...document.querySelectorAll('#thread [data-testid=message]')].filter(r => r.dataset.side === 'api' && r.dataset.type === 'template');
        return rows.some(r => r.dataset.wamid) || null;"#, vec![]).await;
}
