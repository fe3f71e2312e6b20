//! One app under test, set up the same way for every end-to-end file: a private X server, a
//! private D-Bus with the fake notification server, tauri-driver, and a WebDriver session on the
//! real app binary pointed at a bridge with a token. Dropping it stops everything.
#![allow(dead_code)] // not every e2e test binary uses it

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::harness::{self, LogOnPanic, Proc};
use super::notifications::{self, Recorder};
use super::ui::Ui;

pub struct AppSession {
    pub ui: Ui,
    /// Every notification the app showed.
    pub notified: Recorder,
    /// Where the app keeps its local inbox (`COEXIST_DATA_DIR`).
    pub data_dir: PathBuf,
    // Kept alive for the session; the log is printed if the test panics.
    _log_on_panic: LogOnPanic,
    _driver: Proc,
    _notifications: zbus::Connection,
    _bus: Proc,
    _x: Proc,
}

impl AppSession {
    /// Start the app against `bridge_url` as the holder of `token`, its data under `dir`.
    pub async fn launch(dir: &Path, bridge_url: &str, token: &str, patience: Duration) -> AppSession {
        let connection = vec![("COEXIST_BRIDGE_URL".into(), bridge_url.into()), ("COEXIST_TOKEN".into(), token.into())];
        Self::start(dir, connection, patience).await
    }

    /// Start the app with no bridge configured: its sandbox (demo) mode.
    pub async fn launch_demo(dir: &Path, patience: Duration) -> AppSession {
        Self::start(dir, Vec::new(), patience).await
    }

    async fn start(dir: &Path, connection: Vec<(String, String)>, patience: Duration) -> AppSession {
        let tools = harness::tools();
        let (x, display) = harness::start_xvfb(&tools.xvfb).expect("Xvfb");
        let (bus, bus_address) = harness::start_dbus(&tools.dbus_daemon).expect("dbus-daemon");
        let (notifications, notified) = notifications::serve(&bus_address).await.expect("fake notification server");
        let data_dir = dir.join("app-data");
        let mut env: Vec<(String, String)> = vec![
            ("DISPLAY".into(), display),
            ("DBUS_SESSION_BUS_ADDRESS".into(), bus_address),
            ("COEXIST_DATA_DIR".into(), data_dir.display().to_string()),
            ("RUST_LOG".into(), "info".into()),
        ];
        env.extend(connection);
        let log = dir.join("tauri-driver.log");
        let log_on_panic = LogOnPanic(log.clone());
        let (driver, port) = harness::start_tauri_driver(&tools, &env, &log).expect("tauri-driver");
        let app = PathBuf::from(env!("CARGO_BIN_EXE_coexist-inbox"));
        // WebKitWebDriver can stall creating a session on a loaded machine: bounded, never a hang.
        let client = tokio::time::timeout(Duration::from_secs(120), harness::connect(port, &app))
            .await
            .expect("no WebDriver session on the app within 2 minutes")
            .expect("WebDriver session on the app");
        AppSession {
            ui: Ui { c: client, patience },
            notified,
            data_dir,
            _log_on_panic: log_on_panic,
            _driver: driver,
            _notifications: notifications,
            _bus: bus,
            _x: x,
        }
    }

    /// End the WebDriver session (bounded: a dead browser would make it wait forever).
    pub async fn close(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.ui.c.clone().close()).await;
    }
}
