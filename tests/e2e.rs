//! End-to-end: the real app binary under Xvfb, on a private D-Bus session with a fake
//! notification server, driven by tauri-driver + WebKitWebDriver, against the real sandbox and
//! bridge started in this process.
//!
//! Run: `cargo test --test e2e` (needs Xvfb, dbus-daemon, WebKitWebDriver and tauri-driver; the
//! test fails saying what to install when one is missing). Screenshot: target/e2e/inbox.png.

#[allow(dead_code)] // each e2e file uses part of the support code
mod e2e_support;

use std::path::PathBuf;
use std::time::Duration;

use e2e_support::{
    harness, notifications,
    session::AppSession,
    stack::{Stack, AGENT},
    ui::Ui,
};
use fantoccini::{key::Key, Locator};
use serde_json::{json, Value};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const WAIT: Duration = Duration::from_secs(30);

/// Helpers over this inbox's `data-testid`s.
impl Ui {
    async fn wait_row(&self, what: &str, contact: &str, cond: &str) -> Value {
        let script =
            format!("{ROW_JS_FN} const r = row(arguments[0]); return r && ({cond}) ? r : null;");
        self.wait(what, &script, vec![json!(contact)]).await
    }

    /// How many message rows of the open thread are in the DOM (it is virtualized).
    async fn thread_rows(&self) -> u64 {
        self.js("return document.querySelectorAll('#thread [data-testid=message]').length", vec![]).await.as_u64().unwrap()
    }

    async fn open(&self, contact: &str) {
        self.js(
            "const li = [...document.querySelectorAll('[data-testid=conversation-item]')].find(e => e.dataset.contact === arguments[0]); li.click(); return true;",
            vec![json!(contact)],
        )
        .await;
        self.wait("the conversation to open", "return document.querySelector('[data-testid=conversation-view] [data-testid=conv-head]')?.dataset.contact === arguments[0] || null", vec![json!(contact)]).await;
    }

    async fn testid(&self, id: &str) -> fantoccini::elements::Element {
        self.c
            .find(Locator::Css(&format!("[data-testid={id}]")))
            .await
            .unwrap_or_else(|e| panic!("no [data-testid={id}]: {e}"))
    }
}

/// Waits until the app's window (on X `display`) has `title`, as a taskbar reads it.
async fn wait_title(display: &str, title: &str) {
    let start = std::time::Instant::now();
    loop {
        let titles = harness::window_titles(display);
        if titles.iter().any(|t| t == title) {
            return;
        }
        assert!(start.elapsed() < WAIT, "no window titled {title:?}; the windows: {titles:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const ROW_JS_FN: &str = r#"
function row(contact) {
  const li = [...document.querySelectorAll('[data-testid=conversation-item]')].find(e => e.dataset.contact === contact);
  if (!li) return null;
  const q = (t) => li.querySelector(`[data-testid=${t}]`);
  return { owner: q('owner-badge').dataset.owner, badge: q('owner-badge').textContent,
    countdown: q('window-countdown').textContent, state: q('window-countdown').dataset.state,
    expires: q('window-countdown').dataset.expiresAt, unread: q('unread-count') ? q('unread-count').textContent : null,
    preview: q('preview').textContent, name: q('conversation-name').textContent, muted: Boolean(q('muted-mark')) };
}"#;
/// The last message row of the open thread with `selector` inside, as {status, type, text}.
const LAST_MESSAGE_JS: &str = r#"
const rows = [...document.querySelectorAll('#thread [data-testid=message]')].filter(r => r.dataset.side === arguments[0]);
const r = rows[rows.length - 1];
if (!r) return null;
return { status: r.dataset.status, type: r.dataset.type, text: r.innerText, wamid: r.dataset.wamid };
"#;

/// One app under WebDriver at a time (each test starts its own X server, bus and driver, but
/// two WebKit apps at once only slow each other down on a small machine).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_inbox_end_to_end() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, WAIT).await;
    let result = tokio::time::timeout(
        Duration::from_secs(240),
        scenario(&app.ui, &stack, &app.notified, &app.data_dir, &app.display),
    )
    .await;
    app.close().await;
    stack.shutdown().await;
    result.expect("the e2e scenario took longer than 4 minutes");
}

async fn scenario(
    ui: &Ui,
    stack: &Stack,
    notified: &notifications::Recorder,
    data_dir: &std::path::Path,
    display: &str,
) {
    ui.wait(
        "the app to start",
        "return document.body.dataset.ready === 'true' || null",
        vec![],
    )
    .await;
    // The app really connected to OUR bridge (env passed through tauri-driver) and keeps its
    // inbox where COEXIST_DATA_DIR says.
    let agent = ui
        .js(
            "return document.querySelector('[data-testid=agent-name]').textContent",
            vec![],
        )
        .await;
    assert!(
        agent.as_str().unwrap_or_default().contains(AGENT),
        "agent name shown: {agent}"
    );
    assert!(
        ui.js(
            "return document.querySelector('[data-testid=banner-demo]') === null",
            vec![]
        )
        .await
            == json!(true),
        "no demo banner when connected to a bridge"
    );
    ui.wait(
        "the group-chat caveat for the coexistence number",
        "return document.querySelector('[data-testid=banner-groups]')?.textContent || null",
        vec![],
    )
    .await;

    // 1. An inbound message appears as New with a live countdown.
    let ana = "15551230001";
    let hello = stack
        .customer_says(ana, "Ana Lima", "Hello, is my order ready?", None)
        .await
        .unwrap();
    let row = ui
        .wait_row("Ana's conversation as New", ana, "r.owner === 'new'")
        .await;
    assert_eq!(row["badge"], "New");
    assert_eq!(row["state"], "open");
    let countdown = row["countdown"].as_str().unwrap();
    assert!(
        ["24 h 0 m left", "23 h 59 m left", "23 h 58 m left"].contains(&countdown),
        "a fresh 24 h window: {countdown}"
    );
    assert_eq!(row["unread"], "1");
    assert_eq!(row["name"], "Ana Lima");
    // The window's title counts the unread conversations (the taskbar shows it).
    wait_title(display, "(1) Coexist Inbox").await;
    assert!(
        data_dir
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(false),
        "the inbox lives in COEXIST_DATA_DIR"
    );

    // 2. Opening it marks Ana's message read at Meta (her blue ticks); a reply from the app,
    // quoting her message, turns the badge to API (with the agent's name).
    ui.open(ana).await;
    let divider = ui.wait("where Ana's unread messages start", "const d = document.querySelector('#thread [data-testid=unread-divider]'); \
        return d ? { text: d.textContent, above: d.closest('[data-testid=message]').querySelector('[data-testid=message-text]').textContent } : null", vec![]).await;
    assert_eq!(divider, json!({"text": "1 unread message", "above": "Hello, is my order ready?"}));
    let opened = std::time::Instant::now();
    while !stack.sandbox.sandbox().read_marks().iter().any(|r| r.message_id == hello) {
        assert!(opened.elapsed() < Duration::from_secs(20), "Ana's message was not marked read at Meta");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_title(display, "Coexist Inbox").await;
    ui.wait("Reply on Ana's message", "const b = document.querySelector('#thread [data-side=customer] [data-testid=message-reply]'); if (!b) return null; b.click(); return true", vec![]).await;
    let replying = ui.wait("the reply bar", "const b = document.querySelector('[data-testid=reply-bar]'); return b && !b.hidden ? b.textContent : null", vec![]).await;
    assert!(replying.as_str().unwrap().contains("Replying to Ana Lima") && replying.as_str().unwrap().contains("Hello, is my order ready?"), "{replying}");
    let input = ui.testid("composer-text").await;
    input.send_keys("Yes! It ships today.").await.unwrap();
    std::fs::write(harness::screenshot_path("reply.png"), ui.c.screenshot().await.unwrap()).unwrap();
    ui.testid("send-text").await.click().await.unwrap();
    let typed = std::time::Instant::now();
    while !stack.sandbox.sandbox().read_marks().iter().any(|r| r.message_id == hello && r.typing) {
        assert!(typed.elapsed() < Duration::from_secs(20), "Ana never saw \"typing…\" while the agent typed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let quoted = ui.wait("the quote above the reply", "const q = document.querySelector('#thread [data-side=api] [data-testid=message-quote]'); return q ? q.textContent : null", vec![]).await;
    assert!(quoted.as_str().unwrap().contains("Hello, is my order ready?"), "{quoted}");
    assert_eq!(ui.js("return document.querySelector('[data-testid=reply-bar]').hidden", vec![]).await, json!(true), "the reply bar closes once sent");
    let row = ui
        .wait_row(
            "Ana's conversation owned by the API",
            ana,
            "r.owner === 'api'",
        )
        .await;
    assert_eq!(row["badge"], format!("API · {AGENT}"));
    let expires_before = row["expires"].clone();
    let mine = ui.wait("the reply to be delivered", &format!("const m = (()=>{{{LAST_MESSAGE_JS}}})(); return m && ['delivered','read'].includes(m.status) ? m : null"), vec![json!("api")]).await;
    assert!(mine["text"]
        .as_str()
        .unwrap()
        .contains("Yes! It ships today."));
    assert!(
        mine["text"].as_str().unwrap().contains("via API"),
        "sender and origin shown: {mine}"
    );
    let sent = stack.sent().await.unwrap();
    assert!(
        sent["sent"].as_array().unwrap().iter().any(|r| r["request"]["context"]["message_id"] == hello.as_str()),
        "Meta was asked to quote Ana's message: {sent}"
    );
    // The agent reacts 👍 to Ana's message: the reaction shows on it once Meta took it.
    ui.wait("React on Ana's message", "const b = document.querySelector('#thread [data-side=customer] [data-testid=message-react]'); if (!b) return null; b.click(); return true", vec![]).await;
    ui.wait("the reaction palette", "return document.querySelector('#thread [data-side=customer] [data-testid=react-palette]:not([hidden])') ? true : null", vec![]).await;
    std::fs::write(harness::screenshot_path("react.png"), ui.c.screenshot().await.unwrap()).unwrap();
    ui.wait("the 👍 in the palette", "const b = document.querySelector('#thread [data-side=customer] [data-testid=react-palette]:not([hidden]) [data-emoji=\"👍\"]'); if (!b) return null; b.click(); return true", vec![]).await;
    let reacted = ui.wait("our 👍 on Ana's message", "const r = document.querySelector('#thread [data-side=customer] [data-testid=message-reactions]'); return r && r.textContent.includes('👍') ? r.textContent : null", vec![]).await;
    assert_eq!(reacted, json!("👍"), "one reaction, ours");
    // Ana can no longer be reached: our ❤️ fails at Meta, and its chip says so, why and what to do;
    // the 👍 she still sees stays.
    stack.control("/sandbox/customers/unreachable", json!({"wa_id": ana, "unreachable": true})).await.unwrap();
    ui.wait("React on Ana's message again", "const b = document.querySelector('#thread [data-side=customer] [data-testid=message-react]'); if (!b) return null; b.click(); return true", vec![]).await;
    ui.wait("the ❤️ in the palette", "const b = document.querySelector(`#thread [data-side=customer] [data-testid=react-palette]:not([hidden]) [data-emoji='${arguments[0]}']`); if (!b) return null; b.click(); return true", vec![json!("❤️")]).await;
    let failed = ui.wait("our ❤️ marked failed", "const r = document.querySelector('#thread [data-side=customer] [data-testid=reaction-failed]'); return r ? { text: r.textContent, title: r.title } : null", vec![]).await;
    assert_eq!(failed["text"], json!("❤️!"));
    assert!(failed["title"].as_str().unwrap().starts_with("Your reaction did not reach the customer: "), "{failed}");
    let shown = ui.js("return document.querySelector('#thread [data-side=customer] [data-testid=message-reactions]').textContent", vec![]).await;
    assert_eq!(shown, json!("👍❤️!"), "the 👍 Ana still sees, beside the ❤️ that failed");
    stack.control("/sandbox/customers/unreachable", json!({"wa_id": ana, "unreachable": false})).await.unwrap();

    // 3. A Business App echo turns it to App and leaves the window untouched.
    // Meta timestamps are whole seconds and coexist-core breaks same-second ties by wamid, so
    // let the clock move past the API reply's second: the echo is then unambiguously later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    stack.app_replies(ana, "Sent from the phone").await.unwrap();
    let row = ui
        .wait_row(
            "Ana's conversation owned by the App",
            ana,
            "r.owner === 'app'",
        )
        .await;
    assert_eq!(row["badge"], "App");
    assert_eq!(
        row["expires"], expires_before,
        "an echo must not move the window"
    );
    let echo = ui
        .wait(
            "the echo in the thread",
            &format!("return (()=>{{{LAST_MESSAGE_JS}}})()"),
            vec![json!("app")],
        )
        .await;
    assert!(echo["text"].as_str().unwrap().contains("Business App"));
    // An unsent reply waits in Ana's composer while the agent looks at other conversations.
    let draft = "Let me check with the warehouse";
    ui.testid("composer-text").await.send_keys(draft).await.unwrap();

    // 4. Hostile text is shown as text.
    let eve = "15551230002";
    let hostile = "<img src=x onerror=alert(1)>";
    stack
        .customer_says(eve, "Eve <b>bold</b>", hostile, None)
        .await
        .unwrap();
    ui.wait_row("Eve's conversation", eve, "true").await;
    ui.open(eve).await;
    let shown = ui.wait("the hostile message", "const t = document.querySelector('#thread [data-testid=message-text]'); return t ? t.textContent : null", vec![]).await;
    assert_eq!(shown, hostile);
    let imgs = ui
        .js("return document.querySelectorAll('img, b').length", vec![])
        .await;
    assert_eq!(imgs, 0, "customer markup must never become elements");
    assert_eq!(
        ui.js(
            "return document.querySelector('[data-testid=conv-name]').textContent",
            vec![]
        )
        .await,
        "Eve <b>bold</b>"
    );

    // 5. A long imported history: only the rows near the viewport are in the DOM, and scrolling
    //    up loads older pages until the first message shows.
    let vic = "15551230004";
    let start_ts = now() - 30 * 86400;
    let history: Vec<Value> = (1..=150)
        .map(|i| json!({ "from_business": i % 3 == 0, "text": format!("History line {i}"), "timestamp": start_ts + i * 60, "status": "READ" }))
        .collect();
    stack
        .control(
            "/sandbox/history",
            json!({ "threads": [{ "wa_id": vic, "messages": history }] }),
        )
        .await
        .unwrap();
    ui.wait_row(
        "Vic's imported conversation",
        vic,
        "r.preview.includes('History line 150')",
    )
    .await;
    ui.open(vic).await;
    ui.wait("the newest history line", "return [...document.querySelectorAll('#thread [data-testid=message-text]')].some(t => t.textContent === 'History line 150') || null", vec![]).await;
    let rendered = ui.thread_rows().await;
    assert!(
        rendered > 0 && rendered < 60,
        "virtualized: {rendered} of 150 rows in the DOM"
    );
    assert_eq!(
        ui.js(
            "return document.querySelector('#thread [data-testid=message-origin]').textContent",
            vec![]
        )
        .await,
        "imported history"
    );
    ui.wait(
        "older pages to load while scrolling up",
        "const t = document.getElementById('thread'); t.scrollTop = 0; t.dispatchEvent(new Event('scroll')); \
         return [...document.querySelectorAll('#thread [data-testid=message-text]')].some(x => x.textContent === 'History line 1') || null",
        vec![],
    )
    .await;
    let rendered = ui.thread_rows().await;
    assert!(
        rendered < 60,
        "still virtualized at the top: {rendered} rows"
    );
    // A month ago is named by its date, above the first message; times in the thread are clock
    // times (the divider says the day).
    let first = ui.js("const r = document.querySelector('#thread [data-testid=message]'); \
        return { divider: r.querySelector('[data-testid=day-divider]')?.textContent ?? null, time: r.querySelector('time').textContent, \
                 year: String(new Date(arguments[0] * 1000).getFullYear()) }", vec![json!(start_ts)]).await;
    let divider = first["divider"].as_str().expect("a divider above the first message");
    assert!(divider.contains(first["year"].as_str().unwrap()), "a dated divider: {first}");
    assert!(first["time"].as_str().unwrap().contains(':'), "a clock time: {first}");
    // Vic writes while the agent reads a month back: the thread stays where it is and offers the
    // new message one click away. (Backdated 2 h: not notified, so the count below holds.)
    stack.customer_says(vic, "Vic", "Is the blue one still in stock?", Some(now() - 2 * 3600)).await.unwrap();
    let jump = ui.wait("the new-message button", "const b = document.querySelector('[data-testid=jump-newest]'); return b && !b.hidden ? b.textContent : null", vec![]).await;
    assert_eq!(jump, json!("↓ 1 new message"));
    assert!(ui.js("return document.getElementById('thread').scrollTop", vec![]).await.as_f64().unwrap() < 400.0, "still reading the top");
    ui.click("jump-newest").await;
    ui.wait("the new message in view, the button gone", "const t = [...document.querySelectorAll('#thread [data-testid=message-text]')].find(e => e.textContent === 'Is the blue one still in stock?'); \
        const r = t && t.getBoundingClientRect(), v = document.getElementById('thread').getBoundingClientRect(); \
        return t && r.bottom <= v.bottom + 1 && r.top >= v.top && document.querySelector('[data-testid=jump-newest]').hidden || null", vec![]).await;

    // Every type is rendered (or a labelled placeholder), reactions sit under their message, a
    // quoted reply shows what it quotes, an unknown type keeps its raw JSON. (Backdated 2 h:
    // older than MAX_NOTIFY_AGE_SECS, so they do not disturb the notification count below.)
    let max = "15551230005";
    let t0 = now() - 2 * 3600;
    let first = stack
        .customer_says(max, "Max", "Which size fits me?", Some(t0))
        .await
        .unwrap();
    let say = |body: Value| stack.control("/sandbox/customers/messages", body);
    say(json!({ "from": max, "name": "Max", "type": "image", "text": "My photo", "timestamp": t0 + 1 })).await.unwrap();
    say(json!({ "from": max, "name": "Max", "type": "location", "timestamp": t0 + 2 }))
        .await
        .unwrap();
    say(json!({ "from": max, "name": "Max", "type": "reaction", "text": "👍", "reply_to": first, "timestamp": t0 + 3 })).await.unwrap();
    say(json!({ "from": max, "name": "Max", "type": "text", "text": "About this one", "reply_to": first, "timestamp": t0 + 4 })).await.unwrap();
    say(json!({ "from": max, "name": "Max", "type": "unsupported", "timestamp": t0 + 5 }))
        .await
        .unwrap();
    ui.wait_row(
        "Max's conversation",
        max,
        "r.preview.includes('not supported')",
    )
    .await;
    ui.open(max).await;
    let types = ui.wait("Max's messages", "const t = [...document.querySelectorAll('#thread [data-testid=message]')].map(r => r.dataset.type); return t.length >= 5 ? t : null", vec![]).await;
    assert_eq!(
        types,
        json!(["text", "image", "location", "text", "unsupported"]),
        "reactions are not rows of their own"
    );
    let media = ui
        .js(
            "return document.querySelector('#thread [data-testid=message-media]').textContent",
            vec![],
        )
        .await;
    assert!(
        media.as_str().unwrap().contains("Photo") && media.as_str().unwrap().contains("My photo"),
        "{media}"
    );
    // The photo itself comes through the bridge on demand and is drawn in the thread.
    ui.js("document.querySelector('#thread [data-testid=media-show]').click(); return true", vec![]).await;
    let drawn = ui.wait("the photo to be drawn", "const i = document.querySelector('#thread [data-testid=media-preview]'); return i && i.complete && i.naturalWidth > 0 ? { w: i.naturalWidth, src: i.src.slice(0, 22) } : null", vec![]).await;
    assert_eq!(drawn, json!({"w": 320, "src": "data:image/png;base64,"}));
    assert_eq!(
        ui.js(
            "return document.querySelector('#thread [data-testid=message-reactions]').textContent",
            vec![]
        )
        .await,
        "👍"
    );
    let quote = ui
        .js(
            "return document.querySelector('#thread [data-testid=message-quote]').textContent",
            vec![],
        )
        .await;
    assert!(
        quote.as_str().unwrap().contains("Which size fits me?"),
        "{quote}"
    );
    let unknown = ui.js("const u = document.querySelector('#thread [data-testid=message-unsupported]'); return { text: u.textContent, raw: u.querySelector('details pre').textContent }", vec![]).await;
    assert!(
        unknown["raw"].as_str().unwrap().contains("131051"),
        "raw JSON kept: {unknown}"
    );
    ui.js("document.querySelector('#thread [data-testid=message-unsupported] details').open = true; return true", vec![]).await;
    std::fs::write(
        harness::screenshot_path("message-types.png"),
        ui.c.screenshot().await.unwrap(),
    )
    .unwrap();

    // Filters and search.
    ui.testid("filter-app").await.click().await.unwrap();
    ui.wait("the App-owned filter", "const n = [...document.querySelectorAll('[data-testid=conversation-item]')].map(li => li.dataset.contact); return n.length === 1 && n[0] === arguments[0] || null", vec![json!(ana)]).await;
    ui.testid("filter-all").await.click().await.unwrap();
    ui.wait(
        "all conversations again",
        "return document.querySelectorAll('[data-testid=conversation-item]').length === 4 || null",
        vec![],
    )
    .await;
    ui.testid("search").await.send_keys("fits").await.unwrap();
    let hit = ui.wait("a search hit", "const h = document.querySelector('[data-testid=search-hit]'); return h ? h.textContent : null", vec![]).await;
    assert!(
        hit.as_str().unwrap().contains("Max") && hit.as_str().unwrap().contains("fits"),
        "{hit}"
    );
    ui.js("const s = document.querySelector('[data-testid=search]'); s.value = ''; s.dispatchEvent(new Event('input')); return true", vec![]).await;
    ui.wait(
        "the inbox back",
        "return !document.getElementById('conversation-list').hidden || null",
        vec![],
    )
    .await;

    // Keyboard: ↑/↓ move through the inbox, Enter opens.
    let items = "[...document.querySelectorAll('[data-testid=conversation-item]')]";
    let names = ui.js(&format!("return {items}.map(li => li.querySelector('[data-testid=conversation-name]').textContent)"), vec![]).await;
    let active = ui
        .js(
            &format!("return {items}.findIndex(li => li.getAttribute('aria-selected') === 'true')"),
            vec![],
        )
        .await
        .as_i64()
        .unwrap();
    let (key, target) = if active > 0 {
        (Key::Up, active - 1)
    } else {
        (Key::Down, active + 1)
    };
    ui.testid("conversation-list")
        .await
        .send_keys(&(key + &*Key::Enter))
        .await
        .unwrap();
    let expected = names[target as usize].clone();
    ui.wait("the keyboard-chosen conversation to open", "return document.querySelector('[data-testid=conv-name]').textContent === arguments[0] || null", vec![expected]).await;
    // Alt+↓/↑ opens the next/previous conversation from anywhere, a text field included.
    let (alt_key, alt_target) = if (target as usize) + 1 < names.as_array().unwrap().len() { (Key::Down, target + 1) } else { (Key::Up, target - 1) };
    ui.testid("search").await.send_keys(&format!("{}{}", Key::Alt, alt_key)).await.unwrap();
    let expected = names[alt_target as usize].clone();
    ui.wait("the neighbouring conversation opened by Alt+arrow", "return document.querySelector('[data-testid=conv-name]').textContent === arguments[0] || null", vec![expected]).await;
    assert_eq!(ui.js("return document.querySelector('[data-testid=search]').value", vec![]).await, json!(""), "nothing typed into the search box");

    // 6. An expired window: the composer becomes the template picker; a template send is delivered.
    let old = "15551230003";
    stack
        .customer_says(
            old,
            "Olga",
            "Are you open on Sunday?",
            Some(now() - 25 * 3600),
        )
        .await
        .unwrap();
    let row = ui.wait_row("Olga's conversation", old, "true").await;
    assert_eq!(row["countdown"], "Closed — template only");
    assert_eq!(row["state"], "closed");
    ui.open(old).await;
    ui.wait_row(
        "Olga's message marked read on opening",
        old,
        "r.unread === null",
    )
    .await;
    ui.wait("the template picker", "return document.querySelector('[data-testid=composer]').dataset.mode === 'template' && document.querySelector('[data-testid=template-picker]') ? true : null", vec![]).await;
    assert_eq!(
        ui.js(
            "return document.querySelector('[data-testid=composer-text]')",
            vec![]
        )
        .await,
        Value::Null,
        "no free text when closed"
    );
    ui.wait(
        "approved templates",
        "return document.querySelectorAll('[data-testid=template-option]').length || null",
        vec![],
    )
    .await;
    let picker = harness::screenshot_path("template-picker.png");
    ui.testid("template-search")
        .await
        .send_keys("order")
        .await
        .unwrap();
    let options = ui.js("return [...document.querySelectorAll('[data-testid=template-option]')].map(b => b.dataset.name + '/' + b.dataset.language)", vec![]).await;
    assert!(
        options
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o.as_str().unwrap().starts_with("order_update/")),
        "search filters: {options}"
    );
    ui.js("[...document.querySelectorAll('[data-testid=template-option]')].find(b => b.dataset.language === 'en_US').click(); return true", vec![]).await;
    // Validation before send: nothing filled -> errors, nothing sent.
    ui.testid("send-template").await.click().await.unwrap();
    let errors = ui.wait("validation errors", "const e = document.querySelector('[data-testid=template-errors]'); return e && !e.hidden ? e.textContent : null", vec![]).await;
    assert!(errors.as_str().unwrap().contains("required"), "{errors}");
    ui.c.find(Locator::Css("[data-param='body.1']"))
        .await
        .unwrap()
        .send_keys("Olga")
        .await
        .unwrap();
    ui.c.find(Locator::Css("[data-param='body.2']"))
        .await
        .unwrap()
        .send_keys("#2001")
        .await
        .unwrap();
    let preview = ui
        .js(
            "return document.querySelector('[data-testid=template-preview]').textContent",
            vec![],
        )
        .await;
    std::fs::write(&picker, ui.c.screenshot().await.unwrap()).unwrap();
    assert!(
        preview
            .as_str()
            .unwrap()
            .contains("Hi Olga, your order #2001 has shipped"),
        "live preview: {preview}"
    );
    ui.testid("send-template").await.click().await.unwrap();
    // The thread says each day once, above its first message: yesterday's question (25 h ago:
    // "Yesterday", or a weekday just after midnight), then today's template.
    let days = ui.wait("a divider for each day", "const d = [...document.querySelectorAll('#thread [data-testid=day-divider]')].map(e => e.textContent); return d.length === 2 ? d : null", vec![]).await;
    assert_eq!(days[1], "Today", "{days}");
    assert!(!["Today", ""].contains(&days[0].as_str().unwrap()), "{days}");
    let sent = ui.wait("the template to be delivered", &format!("const m = (()=>{{{LAST_MESSAGE_JS}}})(); return m && m.type === 'template' && ['delivered','read'].includes(m.status) ? m : null"), vec![json!("api")]).await;
    assert!(
        sent["text"].as_str().unwrap().contains("order_update"),
        "{sent}"
    );
    let graph = stack.sent().await.unwrap();
    assert!(
        graph.to_string().contains("order_update"),
        "the sandbox got the template send: {graph}"
    );

    // 6b. Template sends failing for payment (131042): the message says why in plain words and
    //     a banner sends the agent to Meta Business Manager -> Payment Settings.
    stack
        .control("/sandbox/payment", json!({ "valid": false }))
        .await
        .unwrap();
    ui.js("const s = document.querySelector('[data-testid=template-search]'); s.value = 'hello'; s.dispatchEvent(new Event('input')); return true", vec![]).await;
    ui.js("document.querySelector('[data-testid=template-option][data-name=hello_world]').click(); return true", vec![]).await;
    ui.wait("hello_world selected", "return document.querySelector('[data-testid=template-selected]')?.textContent.startsWith('hello_world') || null", vec![]).await;
    ui.testid("send-template").await.click().await.unwrap();
    let failed = ui.wait("the template to fail for payment", &format!("const m = (()=>{{{LAST_MESSAGE_JS}}})(); return m && m.status === 'failed' ? m : null"), vec![json!("api")]).await;
    assert!(
        failed["text"].as_str().unwrap().contains("131042"),
        "the Meta code is shown: {failed}"
    );
    let banner = ui
        .wait(
            "the payment banner",
            "return document.querySelector('[data-testid=banner-payment]')?.textContent || null",
            vec![],
        )
        .await;
    assert!(
        banner
            .as_str()
            .unwrap()
            .contains("Meta Business Manager → Payment Settings"),
        "{banner}"
    );
    stack
        .control("/sandbox/payment", json!({ "valid": true }))
        .await
        .unwrap();

    // Main screen screenshot (a conversation open, several in the list), with Ana's draft back.
    ui.open(ana).await;
    let kept = ui.wait("Ana's draft", "const t = document.querySelector('[data-testid=composer-text]'); return t && t.value ? t.value : null", vec![]).await;
    assert_eq!(kept, json!(draft), "the unsent reply was kept for Ana");
    ui.assert_legible("light").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let path = harness::screenshot_path("inbox.png");
    std::fs::write(&path, ui.c.screenshot().await.unwrap()).unwrap();

    // 7. Notifications on the session bus: one per fresh inbound customer message; none for the
    //    echo, our own sends, or the message backdated 25 h (older than the engine's
    //    MAX_NOTIFY_AGE_SECS: it shows as unread instead of popping up); plus one for the send that
    //    failed for payment.
    let inbound = ["Hello, is my order ready?", hostile];
    let start = std::time::Instant::now();
    loop {
        let all = notified.all();
        let count = |needle: &str| {
            all.iter()
                .filter(|n| {
                    n.body.contains(needle)
                        || n.body
                            .contains(&needle.replace('<', "&lt;").replace('>', "&gt;"))
                })
                .count()
        };
        if inbound.iter().all(|t| count(t) >= 1) || start.elapsed() > Duration::from_secs(10) {
            for t in inbound {
                assert_eq!(count(t), 1, "one notification for {t:?}; got {all:?}");
            }
            assert_eq!(
                count("Sent from the phone"),
                0,
                "no notification for an echo: {all:?}"
            );
            assert_eq!(
                count("Are you open on Sunday?"),
                0,
                "no notification for a 25 h old message: {all:?}"
            );
            let failures: Vec<_> = all
                .iter()
                .filter(|n| n.summary.contains("failed"))
                .collect();
            // Olga's send (131042, payment) and our ❤️ to Ana (131026, unreachable): once each.
            assert_eq!(
                failures.len(),
                2,
                "one notification for each failed send: {all:?}"
            );
            assert!(
                failures.iter().any(|n| n.summary.contains("Olga") && !n.body.is_empty()),
                "{all:?}"
            );
            assert!(
                failures.iter().any(|n| n.summary.contains("Ana") && !n.body.is_empty()),
                "{all:?}"
            );
            assert_eq!(
                all.len(),
                inbound.len() + 2,
                "nothing else notified: {all:?}"
            );
            assert_eq!(
                count("ships today"),
                0,
                "no notification for our own send: {all:?}"
            );
            assert!(all.iter().all(|n| n.app_name == "Coexist Inbox"), "{all:?}");
            assert!(
                all.iter().any(|n| n.summary == "Ana Lima"),
                "the sender is named: {all:?}"
            );
            assert!(
                all.iter().any(|n| n.summary == "Eve <b>bold</b>"),
                "summaries are plain text: {all:?}"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // No uncaught script error and no CSP violation during all of the above.
    assert_eq!(
        ui.js("return window.coexistErrors", vec![]).await,
        json!([])
    );

    // Ana's unsent reply is the app's, not the page's: after a reload (the page starts afresh,
    // as after a restart) her row says "Draft: …" and her composer has it back. Sent, it is gone.
    // Eve's reply is typed the instant before: the page going away writes it.
    ui.open(eve).await;
    ui.js("const t = document.querySelector('[data-testid=composer-text]'); t.value = 'One moment please'; t.dispatchEvent(new Event('input')); \
           window.beforeReload = true; setTimeout(() => location.reload(), 0); return true", vec![]).await;
    ui.wait("the reloaded inbox", "return !window.beforeReload && document.body.dataset.ready === 'true' || null", vec![]).await;
    let row = ui.wait_row("Ana's row marks her draft", ana, "r.preview.startsWith('Draft: ')").await;
    assert_eq!(row["preview"], json!(format!("Draft: {draft}")));
    let row = ui.wait_row("Eve's row marks the draft typed just before", eve, "r.preview.startsWith('Draft: ')").await;
    assert_eq!(row["preview"], json!("Draft: One moment please"));
    ui.open(ana).await;
    let kept = ui.wait("Ana's draft after the reload", "const t = document.querySelector('[data-testid=composer-text]'); return t && t.value ? t.value : null", vec![]).await;
    assert_eq!(kept, json!(draft));
    ui.testid("composer-text").await.send_keys(" and come back to you.").await.unwrap();
    ui.click("send-text").await;
    ui.wait("the draft sent", "return document.querySelector('[data-testid=composer-text]')?.value === '' || null", vec![]).await;
    // Near WhatsApp's 4,096 characters the reply box counts down, then says by how much it is over.
    let type_js = "const t = document.querySelector('[data-testid=composer-text]'); t.value = 'x'.repeat(arguments[0]); t.dispatchEvent(new Event('input')); \
                   const c = document.querySelector('[data-testid=chars-left]'); return c.hidden ? null : c.textContent";
    assert_eq!(ui.js(type_js, vec![json!(100)]).await, Value::Null, "no count far from the limit");
    assert_eq!(ui.js(type_js, vec![json!(4000)]).await, json!("96 characters left"));
    assert_eq!(ui.js(type_js, vec![json!(4100)]).await, json!("4 characters over WhatsApp's 4,096"));
    ui.click("send-text").await;
    let refused = ui.wait("the send refused", "const e = document.querySelector('[data-testid=composer-error]'); return e && !e.hidden ? e.textContent : null", vec![]).await;
    assert!(refused.as_str().unwrap().contains("at most 4,096 characters"), "{refused}");
    assert_eq!(ui.js(type_js, vec![json!(0)]).await, Value::Null);
    ui.open(eve).await;
    ui.wait_row("Ana's row without a draft", ana, "r.preview.includes('come back to you') && !r.preview.startsWith('Draft: ')").await;
    assert_eq!(ui.js("return window.coexistErrors", vec![]).await, json!([]));

    // A click on the notification of Ana's first message (shown long ago) opens her conversation
    // over Eve's, from the Reports view.
    let ana_notified = notified.all().into_iter().find(|n| n.body.contains("Hello, is my order ready?")).expect("Ana's notification");
    assert!(ana_notified.actions.chunks(2).any(|pair| pair[0] == "default"), "a click on it is offered: {:?}", ana_notified.actions);
    ui.click("view-reports").await;
    notified.click(ana_notified.id).await;
    let head = "const h = document.querySelector('[data-testid=conv-head]'); return !h.hidden && h.dataset.contact === arguments[0] && document.querySelector('[data-testid=view-inbox]').getAttribute('aria-pressed') === 'true' || null";
    ui.wait("Ana's conversation opened by her notification", head, vec![json!(ana)]).await;

    // Muted for 8 hours: Ana's next message is in the list, unread, and pops nothing up; unmuted,
    // the one after does.
    ui.js("const m = document.querySelector('[data-testid=mute]'); m.value = '8h'; m.dispatchEvent(new Event('change')); return true", vec![]).await;
    ui.wait_row("Ana's row marked muted", ana, "r.muted").await;
    assert_eq!(ui.js("return document.querySelector('[data-testid=unmute]').hidden", vec![]).await, json!(false));
    stack.customer_says(ana, "Ana Lima", "Muted question", None).await.unwrap();
    ui.wait("Ana's muted message in the thread", "return [...document.querySelectorAll('#thread [data-testid=message-text]')].some(m => m.textContent === 'Muted question') || null", vec![]).await;
    ui.click("unmute").await;
    ui.wait_row("Ana's row no longer muted", ana, "!r.muted").await;
    stack.customer_says(ana, "Ana Lima", "Unmuted question", None).await.unwrap();
    let start = std::time::Instant::now();
    while !notified.all().iter().any(|n| n.body.contains("Unmuted question")) {
        assert!(start.elapsed() < Duration::from_secs(15), "the unmuted message never notified");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!notified.all().iter().any(|n| n.body.contains("Muted question")), "nothing for the muted one");

    // 8. The number is offboarded: a banner says so plainly.
    stack
        .control(
            "/sandbox/account_update",
            json!({ "event": "ACCOUNT_OFFBOARDED" }),
        )
        .await
        .unwrap();
    let banner = ui
        .wait(
            "the offboarded banner",
            "return document.querySelector('[data-testid=banner-offboarded]')?.textContent || null",
            vec![],
        )
        .await;
    assert!(
        banner
            .as_str()
            .unwrap()
            .contains("disconnected from the Cloud API"),
        "{banner}"
    );
}

/// Without COEXIST_BRIDGE_URL the app runs the demo (sandbox + bridge in-process) and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_mode_says_it_is_a_sandbox() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let app = AppSession::launch_demo(dir.path(), WAIT).await;
    let ui = &app.ui;
    ui.wait(
        "the app to start",
        "return document.body.dataset.ready === 'true' || null",
        vec![],
    )
    .await;
    let banner = ui
        .wait(
            "the demo banner",
            "return document.querySelector('[data-testid=banner-demo]')?.textContent || null",
            vec![],
        )
        .await;
    assert_eq!(banner, "Sandbox mode — simulated WhatsApp, no Meta account");
    // Signing in to a bridge from the demo: a bridge that cannot be reached is said plainly, and
    // the app stays as it was (nothing saved, no restart).
    ui.js("document.querySelector('[data-testid=open-connect]').click(); \
           document.querySelector('[data-testid=connect-url]').value = 'http://127.0.0.1:9'; \
           document.querySelector('[data-testid=connect-token]').value = 'cxb_anything'; \
           document.querySelector('[data-testid=connect-submit]').click(); return true", vec![]).await;
    let refused = ui.wait("the sign-in error", "const e = document.querySelector('[data-testid=connect-error]'); return e && !e.hidden ? e.textContent : null", vec![]).await;
    assert!(refused.as_str().unwrap().contains("Could not sign in to http://127.0.0.1:9"), "{refused}");
    assert!(!app.data_dir.join("connection.json").exists(), "a failed sign-in saves nothing");
    assert_eq!(
        ui.js("return document.body.dataset.mode", vec![]).await,
        "demo"
    );
    // The strict CSP is really enforced (and violations are recorded): an inline style is refused.
    ui.js("document.getElementById('app').setAttribute('style', 'outline: 1px solid red'); return true", vec![]).await;
    let errors = ui
        .wait(
            "the CSP violation report",
            "return window.coexistErrors.length ? window.coexistErrors : null",
            vec![],
        )
        .await;
    assert!(errors.to_string().contains("CSP: style-src"), "{errors}");
    // The demo scenario plays simulated customers into the inbox.
    ui.wait(
        "demo conversations",
        "return document.querySelectorAll('[data-testid=conversation-item]').length || null",
        vec![],
    )
    .await;
    let path = harness::screenshot_path("demo.png");
    std::fs::write(&path, ui.c.screenshot().await.unwrap()).unwrap();
    app.close().await;
}

/// The managers' view: Reports draws the seeded history, a search hit opens in context, and a
/// conversation exports to a CSV file a spreadsheet can open. Screenshot: target/e2e/reports.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn managers_reports_end_to_end() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, WAIT).await;
    let result = tokio::time::timeout(
        Duration::from_secs(180),
        reports_scenario(&app.ui, &stack, &app.data_dir),
    )
    .await;
    app.close().await;
    stack.shutdown().await;
    result.expect("the reports scenario took longer than 3 minutes");
}

async fn reports_scenario(ui: &Ui, stack: &Stack, data_dir: &std::path::Path) {
    ui.wait("the app to start", "return document.body.dataset.ready === 'true' || null", vec![])
        .await;
    // Seeded history: two customers 3 and 2 days ago never answered (their windows expired),
    // Max wrote a minute ago and the phone answered.
    let t = now();
    stack.customer_says("15551230001", "Ana", "Is the shop open?", Some(t - 3 * 86_400)).await.unwrap();
    stack.customer_says("15551230003", "Olga", "Refund please", Some(t - 2 * 86_400)).await.unwrap();
    stack.customer_says("15551230005", "Max", "Where is my parcel?", Some(t - 60)).await.unwrap();
    ui.wait_row("Max's message", "15551230005", "true").await;
    stack.app_replies("15551230005", "Your parcel ships today").await.unwrap();
    ui.wait_row("the App reply", "15551230005", "r.preview.includes('ships today')").await;

    // Reports: 7 day bars (the default range), 4 stacked segments (customer ×3 days, App ×1).
    ui.testid("view-reports").await.click().await.unwrap();
    ui.wait("the report", "return document.querySelector('[data-testid=reports-view]').dataset.loaded === 'true' || null", vec![]).await;
    let replies = ui
        .js(
            r#"const c = document.querySelector('[data-testid=chart-replies] svg');
               return { bars: c.querySelectorAll('[data-testid=bar]').length,
                        segments: [...c.querySelectorAll('[data-testid=bar-segment]')].map(r => r.dataset.series).sort(),
                        conversationHidden: document.querySelector('[data-testid=conversation-view]').hidden };"#,
            vec![],
        )
        .await;
    assert_eq!(
        replies,
        json!({ "bars": 7, "segments": ["app", "customer", "customer", "customer"], "conversationHidden": true })
    );
    let expired = ui.js("return document.querySelector('[data-testid=chart-expired] h3').textContent", vec![]).await;
    assert_eq!(expired, "Windows expired unanswered: 2");
    let app_row = ui
        .js("return [...document.querySelectorAll('[data-testid=response-table] tbody tr')].map(r => r.innerText.split('\\t')[1])", vec![])
        .await;
    assert_eq!(app_row, json!(["0", "1", "1"]), "API none, App one, all one");
    let workload = ui
        .js("return [...document.querySelectorAll('[data-testid=workload-row]')].map(r => [...r.cells].map(c => c.textContent))", vec![])
        .await;
    assert_eq!(workload, json!([["Nobody (the whole team)", "3", "2"]]), "three open conversations nobody took; the phone answered Max");
    let errors = ui.js("return window.coexistErrors", vec![]).await;
    assert_eq!(errors, json!([]), "no script errors or CSP violations");
    let path = harness::screenshot_path("reports.png");
    std::fs::write(&path, ui.c.screenshot().await.unwrap()).unwrap();

    // A filtered search hit opens its conversation scrolled to that message, highlighted.
    ui.testid("view-inbox").await.click().await.unwrap();
    ui.js(
        "document.querySelector('[data-testid=search-filters]').open = true;
         const side = document.querySelector('[data-testid=search-side]'); side.value = 'customer';
         const s = document.querySelector('[data-testid=search]'); s.value = 'refund'; s.dispatchEvent(new Event('input')); return true;",
        vec![],
    )
    .await;
    let hits = ui.wait("one search hit", "const h = document.querySelectorAll('[data-testid=search-hit]'); return h.length === 1 ? h.length : null", vec![]).await;
    assert_eq!(hits, json!(1));
    ui.testid("search-hit").await.click().await.unwrap();
    let shown = ui
        .wait("the hit highlighted in its thread", "const m = document.querySelector('#thread .msg.highlight'); return m ? m.innerText : null", vec![])
        .await;
    assert!(shown.as_str().unwrap().contains("Refund please"), "{shown}");

    // Export Max's conversation to CSV: header row, one row per message, in <data dir>/exports.
    ui.open("15551230005").await;
    ui.testid("export-conversation-csv").await.click().await.unwrap();
    let path = ui.wait("the export path", "return document.querySelector('[data-testid=export-result]').textContent || null", vec![]).await;
    let path = PathBuf::from(path.as_str().unwrap());
    assert_eq!(path.parent().unwrap(), data_dir.join("exports"));
    let csv = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "phone_number_id,contact,contact_name,wamid,timestamp,time,side,agent,status,text");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].ends_with(",customer,,,Where is my parcel?"), "{csv}");
    assert!(lines[2].contains(",app,") && lines[2].ends_with("Your parcel ships today"), "{csv}");
}
