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
    /// The WCAG contrast ratio of `selector`'s text on its background (waiting for it to show).
    pub async fn contrast(&self, what: &str, selector: &str) -> f64 {
        self.wait(what, CONTRAST_JS, vec![json!(selector)]).await.as_f64().expect("a ratio")
    }

    /// Every text of [`LEGIBLE`] keeps WCAG AA contrast (4.5:1) in the `theme` shown now (an open
    /// conversation with a reply box, a banner).
    pub async fn assert_legible(&self, theme: &str) {
        for (what, selector) in LEGIBLE {
            let ratio = self.contrast(what, selector).await;
            assert!(ratio >= 4.5, "{what} ({selector}) is hard to read on the {theme} theme: contrast {ratio:.2} < 4.5");
        }
    }

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

/// Texts an agent reads all day, each on its own background.
pub const LEGIBLE: [(&str, &str); 7] = [
    ("a contact's name in the list", "[data-testid=conversation-name]"),
    ("a preview in the list", "[data-testid=preview]"),
    ("a message in the thread", "#thread [data-testid=message-text]"),
    ("the chosen filter", ".filter[aria-pressed=true]"),
    ("the Send button", "[data-testid=send-text]"),
    ("a banner", ".banner"),
    ("the window countdown", "[data-testid=window-countdown]"),
];

/// The contrast ratio (WCAG) of the text of `arguments[0]` against the first opaque background
/// behind it, from the computed colours.
const CONTRAST_JS: &str = r#"
const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const el = document.querySelector(arguments[0]);
if (!el) return null;
let bg = el;
while (bg && (() => { const c = rgb(getComputedStyle(bg).backgroundColor); return c.length === 4 && c[3] < 0.5; })()) bg = bg.parentElement;
const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(getComputedStyle(bg || document.documentElement).backgroundColor))];
return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
"#;
