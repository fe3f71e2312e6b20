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

    /// Put a file in the `<input type=file>` at `selector`, as the file dialog does, and fire
    /// its `change` (WebDriver's own file upload is not offered by WebKitWebDriver).
    pub async fn pick_file(&self, selector: &str, bytes: &[u8], name: &str, mime: &str) {
        use base64::Engine as _;
        let script = r#"
            const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], arguments[1], { type: arguments[2] }));
            const input = document.querySelector(arguments[3]);
            input.files = dt.files;
            input.dispatchEvent(new Event('change'));
            return true;"#;
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.js(script, vec![json!(data), json!(name), json!(mime), json!(selector)]).await;
    }

    pub async fn fill(&self, testid: &str, value: &str) {
        self.js("const e = document.querySelector(`[data-testid=${arguments[0]}]`); e.value = arguments[1]; e.dispatchEvent(new Event('change')); return true;",
            vec![json!(testid), json!(value)]).await;
    }
}
