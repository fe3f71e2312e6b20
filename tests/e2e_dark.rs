//! The desktop's dark preference (here GTK_THEME=Adwaita:dark, as a dark desktop theme sets it)
//! turns the inbox dark, in the real app under Xvfb, and every pairing of text and background an
//! agent reads stays legible (WCAG contrast, measured on the computed colours).
//! Screenshot: target/e2e/dark.png.

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use e2e_support::harness;
use e2e_support::session::{AppSession, Desktop};
use serde_json::json;

/// The contrast of the text of `selector` against the first opaque background behind it.
const CONTRAST_JS: &str = r#"
const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const el = document.querySelector(arguments[0]);
if (!el) return null;
let bg = el;
while (bg && (() => { const c = rgb(getComputedStyle(bg).backgroundColor); return c.length === 4 && c[3] === 0; })()) bg = bg.parentElement;
const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(getComputedStyle(bg || document.documentElement).backgroundColor))];
return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dark_desktop_gets_a_dark_legible_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let desktop = Desktop::start().await;
    let env = vec![("GTK_THEME".to_string(), "Adwaita:dark".to_string())];
    let app = AppSession::open(&desktop, dir.path(), env, Duration::from_secs(30)).await;
    let ui = &app.ui;
    ui.wait("the app to start", "return document.body.dataset.ready === 'true' || null", vec![]).await;
    assert_eq!(ui.js("return matchMedia('(prefers-color-scheme: dark)').matches", vec![]).await, json!(true));
    // The demo's first customer writes in; her conversation opens.
    ui.wait("a conversation to open", "const li = document.querySelector('[data-testid=conversation-item]'); if (!li) return null; li.click(); return true", vec![]).await;
    ui.wait("its thread", "return document.querySelector('#thread [data-testid=message-text]') ? true : null", vec![]).await;

    let background = ui.js("return getComputedStyle(document.documentElement).backgroundColor", vec![]).await;
    assert_eq!(background, json!("rgb(21, 24, 29)"), "the page is dark");
    for (what, selector, least) in [
        ("a contact's name in the list", "[data-testid=conversation-name]", 4.5),
        ("a preview in the list", "[data-testid=preview]", 4.5),
        ("a message in the thread", "#thread [data-testid=message-text]", 4.5),
        ("the chosen filter", ".filter[aria-pressed=true]", 4.5),
        ("the Send button", "[data-testid=send-text]", 4.5),
        ("a banner", ".banner", 4.5),
        ("the window countdown", "[data-testid=window-countdown]", 4.5),
    ] {
        let ratio = ui.wait(what, CONTRAST_JS, vec![json!(selector)]).await.as_f64().unwrap();
        assert!(ratio >= least, "{what} ({selector}) is hard to read on the dark theme: contrast {ratio:.2} < {least}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(harness::screenshot_path("dark.png"), ui.c.screenshot().await.unwrap()).unwrap();
    assert_eq!(ui.js("return window.coexistErrors", vec![]).await, json!([]));
    app.close().await;
}
