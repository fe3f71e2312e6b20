//! The app under test, set up the same way for every end-to-end file. A [`Desktop`] is a private
//! X server and D-Bus session (with the fake notification server, and optionally a real Secret
//! Service); an [`AppSession`] is tauri-driver and a WebDriver session on the real app binary
//! in it. Dropping them stops everything.
#![allow(dead_code)] // not every e2e test binary uses it

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::harness::{self, LogOnPanic, Proc};
use super::notifications::{self, Recorder};
use super::ui::Ui;

pub struct Desktop {
    pub display: String,
    pub bus_address: String,
    /// Every notification an app on this desktop showed.
    pub notified: Recorder,
    _keyring: Option<Proc>,
    _notifications: zbus::Connection,
    _bus: Proc,
    x: std::sync::Mutex<Proc>,
}

impl Desktop {
    /// No Secret Service: the app must say its keyring is unavailable and go on.
    pub async fn start() -> Desktop {
        Self::with_keyring_in(None).await
    }

    /// With gnome-keyring's Secret Service, unlocked, its files under `home`.
    pub async fn with_keyring(home: &Path) -> Desktop {
        Self::with_keyring_in(Some(home)).await
    }

    async fn with_keyring_in(home: Option<&Path>) -> Desktop {
        let tools = harness::tools();
        let (x, display) = harness::start_xvfb(&tools.xvfb).expect("Xvfb");
        let (bus, bus_address) = harness::start_dbus(&tools.dbus_daemon).expect("dbus-daemon");
        let (notifications, notified) = notifications::serve(&bus_address).await.expect("fake notification server");
        let keyring = home.map(|home| harness::start_keyring(&bus_address, home).expect("gnome-keyring"));
        Desktop { display, bus_address, notified, _keyring: keyring, _notifications: notifications, _bus: bus, x: x.into() }
    }

    /// The X server, started again on the same display if it ended since the last app (once,
    /// in CI, an app could not open the display after the one before it was killed with -9):
    /// what it said before it ended is printed, and the test goes on.
    fn ensure_x(&self) {
        let mut x = self.x.lock().unwrap_or_else(|p| p.into_inner());
        let Some(status) = x.exited() else { return };
        let log = std::fs::read_to_string(harness::xvfb_log(&self.display)).unwrap_or_default();
        eprintln!("Xvfb on {} ended ({status}); starting it again. It said:\n{log}", self.display);
        *x = harness::restart_xvfb(&harness::tools().xvfb, &self.display).expect("Xvfb again");
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(harness::xvfb_log(&self.display));
    }
}

pub struct AppSession {
    pub ui: Ui,
    /// Every notification the app showed.
    pub notified: Recorder,
    /// Where the app keeps its local inbox (`COEXIST_DATA_DIR`).
    pub data_dir: PathBuf,
    /// The X display the app's window is on.
    pub display: String,
    // Kept alive for the session; the log is printed if the test panics.
    _log_on_panic: LogOnPanic,
    _driver: Proc,
    _desktop: Option<Desktop>,
}

impl AppSession {
    /// Start the app against `bridge_url` as the holder of `token`, its data under `dir`.
    pub async fn launch(dir: &Path, bridge_url: &str, token: &str, patience: Duration) -> AppSession {
        let connection = vec![("COEXIST_BRIDGE_URL".into(), bridge_url.into()), ("COEXIST_TOKEN".into(), token.into())];
        let desktop = Desktop::start().await;
        let mut session = Self::open(&desktop, dir, connection, patience).await;
        session._desktop = Some(desktop);
        session
    }

    /// Start the app with no bridge configured: its sandbox (demo) mode.
    pub async fn launch_demo(dir: &Path, patience: Duration) -> AppSession {
        let desktop = Desktop::start().await;
        let mut session = Self::open(&desktop, dir, Vec::new(), patience).await;
        session._desktop = Some(desktop);
        session
    }

    /// Start the app on `desktop` (which outlives it) with only `env` beyond the basics.
    pub async fn open(desktop: &Desktop, dir: &Path, env: Vec<(String, String)>, patience: Duration) -> AppSession {
        desktop.ensure_x();
        let tools = harness::tools();
        let data_dir = dir.join("app-data");
        let mut all: Vec<(String, String)> = vec![
            ("DISPLAY".into(), desktop.display.clone()),
            ("DBUS_SESSION_BUS_ADDRESS".into(), desktop.bus_address.clone()),
            ("COEXIST_DATA_DIR".into(), data_dir.display().to_string()),
            ("RUST_LOG".into(), "info".into()),
        ];
        all.extend(env);
        let log = dir.join(format!("tauri-driver-{}.log", harness::free_port()));
        let log_on_panic = LogOnPanic(log.clone());
        let (driver, port) = harness::start_tauri_driver(&tools, &all, &log).expect("tauri-driver");
        let app = PathBuf::from(env!("CARGO_BIN_EXE_coexist-inbox"));
        // WebKitWebDriver can stall creating a session on a loaded machine: bounded, never a hang.
        let client = tokio::time::timeout(Duration::from_secs(120), harness::connect(port, &app))
            .await
            .expect("no WebDriver session on the app within 2 minutes")
            .expect("WebDriver session on the app");
        AppSession {
            ui: Ui { c: client, patience },
            notified: desktop.notified.clone(),
            data_dir,
            display: desktop.display.clone(),
            _log_on_panic: log_on_panic,
            _driver: driver,
            _desktop: None,
        }
    }

    /// End the WebDriver session (bounded: a dead browser would make it wait forever).
    pub async fn close(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.ui.c.clone().close()).await;
    }
}
