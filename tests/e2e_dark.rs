//! The desktop's dark preference (here GTK_THEME=Adwaita:dark, as a dark desktop theme sets it)
//! turns the inbox dark, in the real app under Xvfb, and every pairing of text and background an
//! agent reads stays legible (WCAG contrast, measured on the computed colours; the light theme's
//! are checked the same way in `e2e`).
//! Screenshot: target/e2e/dark.png.

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use e2e_support::harness;
use e2e_support::session::{AppSession, Desktop};
use serde_json::json;

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
    ui.assert_legible("dark").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(harness::screenshot_path("dark.png"), ui.c.screenshot().await.unwrap()).unwrap();
    assert_eq!(ui.js("return window.coexistErrors", vec![]).await, json!([]));
    app.close().await;
}
