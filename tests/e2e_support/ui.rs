//! A WebDriver session on the app's page, with the few moves the panel tests make: run a script,
//! wait for a condition (failing with the page's text), click and fill by `data-testid`.
#![allow(dead_code)] // not every e2e test binary uses it

use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::{json, Value};

pub struct Ui {
    pub c: Client,
    /// How long `wait` tries before failing.
    pub patience: Duration,
}

impl Ui {
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.c.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs `script` until it returns something other than null/false, and returns that.
    pub async fn wait(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        eprintln!("e2e: waiting for {what}");
        let start = Instant::now();
        let mut last = Value::Null;
        while start.elapsed() < self.patience {
            last = self.js(script, args.clone()).await;
            if !matches!(last, Value::Null | Value::Bool(false)) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let body = self.js("return document.body.innerText", vec![]).await;
        panic!("timed out waiting for {what}; last = {last}\n--- page text ---\n{}", body.as_str().unwrap_or_default());
    }

    /// Clicks the first enabled `[data-testid=ID]`, waiting for it to appear.
    pub async fn click(&self, testid: &str) {
        self.wait(&format!("[data-testid={testid}] to click"),
            "const e = document.querySelector(`[data-testid=${arguments[0]}]`); if (!e || e.disabled) return null; e.click(); return true;",
            vec![json!(testid)]).await;
    }

    pub async fn fill(&self, testid: &str, value: &str) {
        self.js("const e = document.querySelector(`[data-testid=${arguments[0]}]`); e.value = arguments[1]; e.dispatchEvent(new Event('change')); return true;",
            vec![json!(testid), json!(value)]).await;
    }
}
