//! Shared by the tests that drive the app's commands (as `Backend` methods) without a window:
//! the real sandbox and bridge ([`stack`]), a backend on them, and waiting for what arrives.
#![allow(dead_code)] // each test file uses part of it

#[path = "../e2e_support/stack.rs"]
pub mod stack;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coexist_engine::CollectingNotifier;
use coexist_inbox::backend::{self, Backend};
use coexist_inbox::config::{AppConfig, Mode};
use stack::Stack;

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Poll `check` until it gives a value (20 s at most).
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The app's backend on `stack`'s bridge as the holder of `token`, its inbox in `data_dir`.
pub async fn backend_on(stack: &Stack, token: &str, data_dir: &Path, notifier: &CollectingNotifier) -> Backend {
    let config = AppConfig { mode: Mode::Bridge { url: stack.bridge_url(), token: token.into() }, data_dir: None };
    backend::start(&config, data_dir, Arc::new(notifier.clone())).await.expect("the backend starts")
}
