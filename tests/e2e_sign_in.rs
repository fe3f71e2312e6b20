//! Signing in from the app, for real: on a desktop with gnome-keyring's Secret Service, the demo's
//! banner signs in to a bridge and the app restarts on it; the next start signs in by itself
//! from the saved bridge and the keyring; "Sign out" forgets both, and the next start is the demo;
//! a saved bridge without its token starts the demo with a notice saying why.
//!
//! Run: `cargo test -p coexist-inbox --test e2e_sign_in` (needs gnome-keyring; scripts/setup.sh
//! installs it).

#[allow(dead_code)]
mod e2e_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use e2e_support::session::{AppSession, Desktop};
use e2e_support::stack::{Stack, AGENT};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_from_the_demo_then_start_signed_in_then_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    let desktop = Desktop::with_keyring(&dir.path().join("home")).await;
    let data_dir = dir.path().join("app-data");
    let saved_file = data_dir.join("connection.json");

    // 1. The demo signs in through its banner, then restarts itself on the bridge.
    let demo = AppSession::open(&desktop, dir.path(), Vec::new(), WAIT).await;
    demo.ui.wait("the demo to start", "return document.body.dataset.mode === 'demo' || null", vec![]).await;
    demo.ui
        .js("document.querySelector('[data-testid=open-connect]').click(); \
             document.querySelector('[data-testid=connect-url]').value = arguments[0]; \
             document.querySelector('[data-testid=connect-token]').value = arguments[1]; \
             document.querySelector('[data-testid=connect-submit]').click(); return true",
            vec![json!(stack.bridge_url()), json!(stack.token)])
        .await;
    eventually("the connection to be saved", || saved_file.exists());
    let saved: Value = serde_json::from_slice(&std::fs::read(&saved_file).unwrap()).unwrap();
    assert_eq!(saved, json!({"bridge_url": stack.bridge_url()}), "only the URL is in the file");
    assert_eq!(keyring_token(&desktop, &stack.bridge_url()).as_deref(), Some(stack.token.as_str()), "the token is in the keyring");
    demo.close().await;
    drop(demo);
    stop_apps_using(&data_dir);

    // 2. A plain start (no COEXIST_* but the data dir) signs in by itself.
    let signed_in = AppSession::open(&desktop, dir.path(), Vec::new(), WAIT).await;
    let ui = &signed_in.ui;
    ui.wait("the app on the bridge", "return document.body.dataset.ready === 'true' && document.body.dataset.mode === 'bridge' || null", vec![]).await;
    let agent = ui.wait("the agent's name", "return document.querySelector('[data-testid=agent-name]').textContent || null", vec![]).await;
    assert!(agent.as_str().unwrap().contains(AGENT), "{agent}");
    assert_eq!(ui.js("return document.querySelector('[data-testid=banner-connect]') === null", vec![]).await, true);

    // 3. Sign out (confirmed by a second click): the token and the saved bridge are forgotten.
    ui.click("sign-out").await;
    ui.wait("the confirmation", "return document.querySelector('[data-testid=sign-out]').dataset.confirm === 'true' || null", vec![]).await;
    ui.js("document.querySelector('[data-testid=sign-out]').click(); return true", vec![]).await;
    eventually("the saved connection to be forgotten", || !saved_file.exists());
    assert_eq!(keyring_token(&desktop, &stack.bridge_url()), None, "the token is gone from the keyring");
    signed_in.close().await;
    drop(signed_in);
    stop_apps_using(&data_dir);

    // 4. A saved bridge whose token is no longer in the keyring: the demo starts, and says why.
    std::fs::write(&saved_file, json!({"bridge_url": stack.bridge_url()}).to_string()).unwrap();
    let fallback = AppSession::open(&desktop, dir.path(), Vec::new(), WAIT).await;
    let notice = fallback.ui.wait("the notice", "return document.querySelector('[data-testid=connect-notice]')?.textContent || null", vec![]).await;
    let notice = notice.as_str().unwrap();
    assert!(notice.contains(&stack.bridge_url()) && notice.contains("Connect again"), "{notice}");
    assert_eq!(fallback.ui.js("return document.body.dataset.mode", vec![]).await, "demo");
    fallback.close().await;
    drop(fallback);
    stop_apps_using(&data_dir);
    stack.shutdown().await;
}

fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The token the app keeps for `url`, read back through the Secret Service like any client.
fn keyring_token(desktop: &Desktop, url: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "coexist-inbox", "username", url])
        .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus_address)
        .output()
        .expect("secret-tool runs (apt-get install libsecret-tools)");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!token.is_empty()).then_some(token)
}

/// The app restarts itself outside WebDriver's reach: stop every instance using `data_dir`.
fn stop_apps_using(data_dir: &Path) {
    let needle = format!("COEXIST_DATA_DIR={}", data_dir.display());
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let is_app = std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "coexist-inbox");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if is_app && environ.split(|b| *b == 0).any(|var| var == needle.as_bytes()) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}
