//! The team's layer in the real app under Xvfb: a teammate (Ben, through the bridge) assigns a
//! conversation to this desktop's agent and leaves a note; the list says "→ you", the desktop
//! notifies once, the note sits in the thread as inert text. Then the agent hands the
//! conversation back from the "Assigned" menu, leaves a note from the app and marks it done; Ben's
//! side of the bridge sees all three, the customer nothing. Cleo writing again reopens it; a
//! snooze puts it under Done with its time. Ben's quick reply comes up when the agent types "/"
//! and goes in with Enter, Cleo's name filled in (not sent); the agent adds and removes one of
//! their own. Marked unread, it waits under Unread until opened. Ben
//! writing to Cleo shows live in the agent's window. Searching finds Ben's note and opens it in
//! the thread, and finds Cleo by her number. Labels: Ben's shows on Cleo's row, the agent adds
//! one from the header, lists one label's conversations and takes Ben's off. The agent blocks
//! Cleo (through Meta) and unblocks her. Waiting lists who wrote last, longest waiting first.
//!
//! Run: `xvfb-run -a dbus-run-session -- cargo test -p coexist-inbox --test e2e_team`

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use coexist_bridge::Role;
use e2e_support::stack::{Stack, AGENT};
use e2e_support::{session::AppSession, ui::Ui};
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::{json, Value};

const CLEO: &str = "15551238001";
const NOTE: &str = "<img id=pwn1 src=x onerror=window.__pwned=1> refund approved, @ana call her";

/// Ben, another agent, talking to the bridge directly.
struct Teammate {
    http: reqwest::Client,
    base: String,
    token: String,
    number: String,
}

impl Teammate {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/v1/numbers/{}/conversations/{CLEO}/{path}", self.base, self.number);
        let resp = self.http.request(method, url).bearer_auth(&self.token).json(&body).send().await.unwrap();
        assert!(resp.status().is_success(), "the bridge refused Ben's {path}: {}", resp.text().await.unwrap_or_default());
        resp.json().await.unwrap()
    }

    async fn call_empty(&self, path: &str) {
        let url = format!("{}/v1/numbers/{}/conversations/{CLEO}/{path}", self.base, self.number);
        let resp = self.http.post(url).bearer_auth(&self.token).send().await.unwrap();
        assert!(resp.status().is_success(), "the bridge refused Ben's {path}");
    }

    async fn relayed(&self, kind: &str) -> Vec<Value> {
        let page: Value = self.http.get(format!("{}/v1/events?after=0", self.base)).bearer_auth(&self.token).send().await.unwrap().json().await.unwrap();
        page["events"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).map(|e| e["payload"].clone()).collect()
    }
}

const LABEL: &str = "<b id=pwn3>VIP</b>";

/// Search by keyboard alone: / goes to the box, ↓ steps into the results, Enter opens one; Ctrl+K
/// from the composer comes back, and Esc empties the box (the list returns).
async fn keyboard_search(ui: &Ui) {
    let focused = "return document.activeElement?.dataset.testid ?? null";
    ui.c.find(Locator::Css("[data-testid=conversation-list]")).await.unwrap().send_keys("/").await.unwrap();
    assert_eq!(ui.wait("the search box focused by /", focused, vec![]).await, json!("search"));
    let search = ui.c.find(Locator::Css("[data-testid=search]")).await.unwrap();
    search.send_keys("approved").await.unwrap();
    ui.wait("the note among the results", "return document.querySelector('[data-testid=search-note-hit]') ? true : null", vec![]).await;
    search.send_keys(&Key::Down).await.unwrap();
    assert_eq!(ui.wait("the first result focused", focused, vec![]).await, json!("search-note-hit"));
    ui.c.active_element().await.unwrap().send_keys(&Key::Enter).await.unwrap();
    ui.wait("the note highlighted in its thread", "return document.querySelector('#thread [data-testid=note].highlight') ? true : null", vec![]).await;

    let reply = "return document.querySelector('[data-testid=composer-text]').value";
    let before = ui.js(reply, vec![]).await;
    let composer = ui.c.find(Locator::Css("[data-testid=composer-text]")).await.unwrap();
    composer.send_keys(&format!("{}k", Key::Control)).await.unwrap();
    assert_eq!(ui.wait("the search box focused by Ctrl+K", focused, vec![]).await, json!("search"));
    assert_eq!(ui.js(reply, vec![]).await, before, "nothing typed into the reply");
    search.send_keys("zzz").await.unwrap();
    ui.wait("the results shown", "return document.querySelector('[data-testid=conversation-list]').hidden || null", vec![]).await;
    search.send_keys(&Key::Escape).await.unwrap();
    ui.wait("the box emptied and the list back", "return document.querySelector('[data-testid=search]').value === '' && !document.querySelector('[data-testid=conversation-list]').hidden || null", vec![]).await;
}

/// Ben labels Cleo from his side; the agent adds one from the header, lists the label's
/// conversations from the Label menu, and takes Ben's off. Cleo's conversation is open.
async fn labels(ui: &Ui, ben: &Teammate) {
    let cleo_row = "document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`)";
    ui.click("filter-all").await;
    ben.call(reqwest::Method::PUT, "labels", json!({"label": " Wholesale ", "on": true})).await;
    let row = ui.wait("Ben's label on Cleo's row", &format!("const r = {cleo_row}; return r && r.querySelector('[data-testid=row-label]') ? [...r.querySelectorAll('[data-testid=row-label]')].map(l => l.textContent) : null"), vec![json!(CLEO)]).await;
    assert_eq!(row, json!(["Wholesale"]));

    ui.click("label-add").await;
    let input = ui.c.find(fantoccini::Locator::Css("[data-testid=label-input]")).await.unwrap();
    input.send_keys(&format!("{LABEL}{}", Key::Enter)).await.unwrap();
    let header = ui.wait("both labels in the header", "const l = [...document.querySelectorAll('[data-testid=conv-label]')].map(c => c.dataset.label); return l.length === 2 ? l : null", vec![]).await;
    assert_eq!(header, json!([LABEL, "Wholesale"]), "alphabetically, as text");
    std::fs::write(e2e_support::harness::screenshot_path("labels.png"), ui.c.screenshot().await.unwrap()).unwrap();
    let mine = ben.relayed("label").await;
    assert_eq!((mine[1]["label"].as_str(), mine[1]["by"].as_str(), mine[1]["on"].as_bool()), (Some(LABEL), Some(AGENT), Some(true)));

    // Search within a label: the team's labels are offered in the search filters.
    let offered = ui.js("return [...document.querySelectorAll('[data-testid=search-label] option')].map(o => o.value)", vec![]).await;
    assert_eq!(offered, json!(["", LABEL, "Wholesale"]));
    ui.js("const l = document.querySelector('[data-testid=search-label]'); l.value = 'Wholesale'; const s = document.querySelector('[data-testid=search]'); s.value = 'refund'; s.dispatchEvent(new Event('input')); return true", vec![]).await;
    let hits = ui.wait("refund within Wholesale", "const h = [...document.querySelectorAll('[data-testid=search-hit], [data-testid=search-note-hit]')]; return h.length ? h.length : null", vec![]).await;
    assert!(hits.as_u64().unwrap() >= 2, "Cleo's message and Ben's note: {hits}");
    ui.js("const l = document.querySelector('[data-testid=search-label]'); l.value = ''; const s = document.querySelector('[data-testid=search]'); s.value = ''; s.dispatchEvent(new Event('input')); return true", vec![]).await;

    ui.js("const m = document.querySelector('[data-testid=label-filter]'); m.value = 'Wholesale'; m.dispatchEvent(new Event('change')); return true", vec![]).await;
    let listed = ui.wait("only Wholesale's conversations", "const rows = [...document.querySelectorAll('[data-testid=conversation-item]')]; return document.querySelector('[data-testid=filter-all]').getAttribute('aria-pressed') === 'false' && rows.length ? rows.map(r => r.dataset.contact) : null", vec![]).await;
    assert_eq!(listed, json!([CLEO]));
    let menu = ui.js("return [...document.querySelectorAll('[data-testid=label-filter] option')].map(o => o.textContent)", vec![]).await;
    assert_eq!(menu, json!(["Label…", format!("{LABEL} (1)"), "Wholesale (1)"]), "the team's labels, counted");

    ui.js("document.querySelector('[data-testid=conv-label][data-label=Wholesale] [data-testid=label-remove]').click(); return true", vec![]).await;
    ui.wait("Wholesale off: nobody carries it now", "const e = document.querySelector('[data-testid=list-empty]'); return !e.hidden && !document.querySelector('[data-testid=conversation-item]') || null", vec![]).await;
    let header = ui.wait("one label left in the header", "const l = [...document.querySelectorAll('[data-testid=conv-label]')].map(c => c.dataset.label); return l.length === 1 ? l : null", vec![]).await;
    assert_eq!(header, json!([LABEL]));
    ui.click("filter-all").await;
    ui.wait("All again, the menu set back", "return document.querySelector('[data-testid=label-filter]').value === '' && document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? true : null", vec![json!(CLEO)]).await;
}

/// The agent blocks Cleo from the header (asked first, in the page): Meta holds the block (her
/// next message never arrives), the composer says who blocked her, the row says Blocked, Ben's
/// side of the bridge sees it; Unblock from the composer brings the reply box back. Blocking
/// Dora, silent for two days, is refused by Meta in words.
async fn block(ui: &Ui, ben: &Teammate, stack: &Stack) {
    ui.click("block-customer").await;
    let question = ui.wait("the question before blocking", "const q = document.querySelector('[data-testid=block-confirm]'); return q.hidden ? null : q.querySelector('[data-testid=block-question]').textContent", vec![]).await;
    assert!(question.as_str().unwrap().starts_with("Block Cleo? They will not be able to write to this number"), "{question}");
    ui.click("block-confirm-no").await;
    assert_eq!(ui.js("return document.querySelector('[data-testid=block-confirm]').hidden", vec![]).await, json!(true), "Cancel blocks nobody");
    assert!(ben.relayed("block").await.is_empty());

    ui.click("block-customer").await;
    ui.click("block-confirm-yes").await;
    let notice = ui.wait("the composer to say Cleo is blocked", "const n = document.querySelector('[data-testid=blocked-notice]'); return n ? n.textContent : null", vec![]).await;
    assert!(notice.as_str().unwrap().starts_with(&format!("Blocked by {AGENT}. This customer cannot write")), "{notice}");
    assert_eq!(ui.js("return document.querySelector('[data-testid=composer-text]')", vec![]).await, Value::Null, "no reply box");
    ui.wait("Blocked on Cleo's row", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=blocked-tag]`) ? true : null", vec![json!(CLEO)]).await;
    assert_eq!(ui.js("return document.querySelector('[data-testid=block-customer]').textContent", vec![]).await, json!("Unblock"));
    let marks = ben.relayed("block").await;
    assert_eq!((marks[0]["blocked"].as_bool(), marks[0]["by"].as_str()), (Some(true), Some(AGENT)));
    let refused = stack.customer_says(CLEO, "Cleo", "Hello??", None).await.unwrap_err().to_string();
    assert!(refused.contains("409"), "Meta holds the block: {refused}");
    std::fs::write(e2e_support::harness::screenshot_path("blocked.png"), ui.c.screenshot().await.unwrap()).unwrap();

    ui.click("blocked-unblock").await;
    ui.wait("the reply box back", "return document.querySelector('[data-testid=composer-text]') ? true : null", vec![]).await;
    assert_eq!(ben.relayed("block").await.last().unwrap()["blocked"], json!(false));
    ui.wait("Blocked off Cleo's row", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=blocked-tag]`) ? null : true", vec![json!(CLEO)]).await;

    // Dora last wrote two days ago: Meta refuses, and the agent reads why.
    let two_days_ago = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 2 * 86_400;
    stack.customer_says(DORA, "Dora", "Thanks for everything", Some(two_days_ago)).await.unwrap();
    ui.wait("Dora's row", "const r = document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`); if (!r) return null; r.click(); return true", vec![json!(DORA)]).await;
    ui.wait("Dora open", "return document.querySelector('[data-testid=conv-head]').dataset.contact === arguments[0] || null", vec![json!(DORA)]).await;
    ui.click("block-customer").await;
    ui.click("block-confirm-yes").await;
    let toast = ui.wait("Meta's refusal", "const t = document.querySelector('[data-testid=toast]'); return !t.hidden && t.textContent.startsWith('Could not block') ? t.textContent : null", vec![]).await;
    assert!(toast.as_str().unwrap().contains("only customers who wrote to it in the last 24 hours"), "{toast}");
    assert_eq!(ui.js("return document.querySelector('[data-testid=block-customer]').textContent", vec![]).await, json!("Block"), "not blocked");
    assert_eq!(ui.js("return document.querySelector('[data-testid=block-confirm]').hidden", vec![]).await, json!(false), "the question stays, to try again or cancel");
    ui.click("block-confirm-no").await;
    ui.wait("Cleo's row", "const r = document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`); if (!r) return null; r.click(); return true", vec![json!(CLEO)]).await;
    ui.wait("Cleo open again", "return document.querySelector('[data-testid=conv-head]').dataset.contact === arguments[0] || null", vec![json!(CLEO)]).await;
}

const DORA: &str = "15551238002";

/// Waiting lists the customers who wrote last, longest waiting first (Dora, two days; then Cleo),
/// each row saying for how long; the agent's reply takes Cleo off. Cleo's conversation is open.
async fn waiting(ui: &Ui) {
    ui.click("filter-waiting").await;
    // Under All, Cleo (latest activity) comes first: Dora first says the Waiting list is shown.
    let rows = ui.wait("Dora, then Cleo, under Waiting", "const r = [...document.querySelectorAll('[data-testid=conversation-item]')].map(e => { const t = e.querySelector('[data-testid=waiting-tag]'); return [e.dataset.contact, t?.textContent, t?.dataset.long]; }); return r.length === 2 && r[0][0] === arguments[0] ? r : null", vec![json!(DORA)]).await;
    assert_eq!((rows[0][2].as_str(), rows[1][2].as_str()), (Some("true"), Some("false")), "two days stand out, a minute does not");
    assert!(rows[0][1].as_str().unwrap().starts_with("Waiting 2 d "), "{rows}");
    assert_eq!(rows[1][0], json!(CLEO), "{rows}");
    assert!(rows[1][1].as_str().unwrap().starts_with("Waiting "), "{rows}");
    std::fs::write(e2e_support::harness::screenshot_path("waiting.png"), ui.c.screenshot().await.unwrap()).unwrap();
    ui.c.find(Locator::Css("[data-testid=composer-text]")).await.unwrap().send_keys("Your refund went out this morning.").await.unwrap();
    ui.click("send-text").await;
    ui.wait("Cleo answered, off Waiting", "const r = [...document.querySelectorAll('[data-testid=conversation-item]')].map(e => e.dataset.contact); return r.length === 1 ? r : null", vec![]).await;
    ui.click("filter-all").await;
}

const ETA: &str = "<b id=pwn2>Orders</b> ship within 2 days, {first_name}.";

async fn quick_replies(ui: &Ui, ben: &Teammate) {
    let url = format!("{}/v1/quick-replies/eta", ben.base);
    let resp = ben.http.put(url).bearer_auth(&ben.token).json(&json!({"text": ETA})).send().await.unwrap();
    assert!(resp.status().is_success());
    let input = ui.c.find(fantoccini::Locator::Css("[data-testid=composer-text]")).await.unwrap();
    input.send_keys("When? /e").await.unwrap();
    let offered = ui.wait("/eta offered", "const o = document.querySelector('[data-testid=quick-option]'); return o ? o.dataset.shortcut + ' ' + o.textContent : null", vec![]).await;
    assert_eq!(offered, json!(format!("eta /eta{ETA}")), "offered as text");
    input.send_keys(&Key::Enter).await.unwrap();
    let typed = ui.wait("the answer in the reply box", "const t = document.querySelector('[data-testid=composer-text]').value; return t.includes('ship') ? t : null", vec![]).await;
    let filled = ETA.replace("{first_name}", "Cleo");
    assert_eq!(typed, json!(format!("When? {filled}")), "Enter put the answer in, in place of /e, with Cleo's name");
    assert_eq!(ui.js("return document.querySelector('[data-testid=quick-suggest]').hidden", vec![]).await, json!(true));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ui.js("return document.querySelectorAll('#thread [data-side=api]').length", vec![]).await, json!(0), "Enter chose, it did not send");

    // The agent keeps one of their own, then removes it.
    ui.js("const t = document.querySelector('[data-testid=composer-text]'); t.value = '/'; t.dispatchEvent(new Event('input')); return true", vec![]).await;
    ui.click("quick-manage").await;
    ui.wait("the quick replies panel", "const p = document.querySelector('[data-testid=quick-panel]'); return p && !p.hidden && document.querySelector('[data-testid=quick-row]') ? true : null", vec![]).await;
    ui.js("document.querySelector('[data-testid=quick-shortcut]').value = 'Bye'; document.querySelector('[data-testid=quick-text]').value = 'Have a nice day!'; return true", vec![]).await;
    ui.click("quick-save").await;
    ui.wait("/bye listed", "return document.querySelector('[data-testid=quick-row][data-shortcut=bye]') ? true : null", vec![]).await;
    let relayed = ben.relayed("quick_reply").await;
    assert_eq!(relayed.last().unwrap()["text"], "Have a nice day!");
    assert_eq!(relayed.last().unwrap()["by"], AGENT);
    ui.js("document.querySelector('[data-testid=quick-row][data-shortcut=bye] [data-testid=quick-remove]').click(); return true", vec![]).await;
    ui.wait("/bye gone", "return document.querySelector('[data-testid=quick-row][data-shortcut=bye]') ? null : true", vec![]).await;
    std::fs::write(e2e_support::harness::screenshot_path("quick-replies.png"), ui.c.screenshot().await.unwrap()).unwrap();
    ui.click("quick-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_teammate_assigns_and_notes_and_the_agent_answers_in_kind() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path()).await.expect("sandbox + bridge");
    let ben = Teammate {
        http: reqwest::Client::new(),
        base: stack.bridge_url(),
        token: coexist_bridge::admin::add_user(dir.path().join("bridge.db"), "ben", Role::Agent).unwrap(),
        number: stack.sandbox.phone_number_id.clone(),
    };
    stack.customer_says(CLEO, "Cleo", "Any news on my refund?", None).await.unwrap();

    let app = AppSession::launch(dir.path(), &stack.bridge_url(), &stack.token, Duration::from_secs(30)).await;
    let result = tokio::time::timeout(Duration::from_secs(180), scenario(&app.ui, &ben, &stack)).await;
    let notified = app.notified.all();
    app.close().await;
    stack.shutdown().await;
    result.expect("the team scenario took longer than 3 minutes");
    let assigned: Vec<_> = notified.iter().filter(|n| n.summary.contains("is yours now")).collect();
    assert_eq!(assigned.len(), 1, "notified once: {:?}", notified.iter().map(|n| &n.summary).collect::<Vec<_>>());
    assert_eq!(assigned[0].summary, "Cleo is yours now");
    assert_eq!(assigned[0].body, "ben assigned this conversation to you.");
    let mentioned: Vec<_> = notified.iter().filter(|n| n.summary == "ben mentioned you").collect();
    assert_eq!(mentioned.len(), 1, "the note names @ana: notified once");
    assert_eq!(mentioned[0].body, "Cleo: &lt;img id=pwn1 src=x onerror=window.__pwned=1&gt; refund approved, @ana call her", "escaped for servers that read markup");
}

async fn scenario(ui: &Ui, ben: &Teammate, stack: &Stack) {
    ui.wait("the app to start", "return document.body.dataset.ready === 'true' || null", vec![]).await;
    ui.click("filter-unassigned").await;
    ui.wait("Cleo under Unassigned", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? true : null", vec![json!(CLEO)]).await;

    ben.call(reqwest::Method::PUT, "assignee", json!({"assignee": AGENT})).await;
    ben.call(reqwest::Method::POST, "notes", json!({"text": NOTE})).await;
    ui.wait("Cleo to leave Unassigned", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? null : true", vec![json!(CLEO)]).await;
    ui.click("filter-mine").await;
    let tag = ui.wait("Cleo in Mine, marked as mine", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=assignee]`)?.textContent || null", vec![json!(CLEO)]).await;
    assert_eq!(tag, json!("→ you"));

    ui.js("document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`).click(); return true", vec![json!(CLEO)]).await;
    let note = ui.wait("Ben's note in the thread", "const n = document.querySelector('#thread [data-testid=note]'); return n ? { author: n.querySelector('[data-testid=note-author]').textContent, text: n.querySelector('[data-testid=note-text]').textContent } : null", vec![]).await;
    assert_eq!(note, json!({"author": "ben", "text": NOTE}), "the note is shown as its text");
    let order = ui.js("return [...document.querySelectorAll('#thread .rows > article')].map(a => a.dataset.testid)", vec![]).await;
    assert_eq!(order, json!(["message", "note"]), "the note after Cleo's message, by time");
    assert_eq!(ui.js("return document.querySelector('[data-testid=conv-assignee]').value", vec![]).await, json!(AGENT));
    assert_eq!(ui.js("return document.querySelector('[data-testid=assigned-hint]').hidden", vec![]).await, json!(true), "no warning on one's own");
    // Ben starts writing to Cleo: said above the composer, live (until the stream hears it,
    // say it again).
    let start = std::time::Instant::now();
    let writing = loop {
        ben.call_empty("presence").await;
        let shown = ui.js("const e = document.querySelector('[data-testid=writing-hint]'); return e.hidden ? null : e.textContent", vec![]).await;
        if !shown.is_null() {
            break shown;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "Ben writing never showed");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(writing, json!("ben is writing to this customer now."));
    std::fs::write(e2e_support::harness::screenshot_path("team-note.png"), ui.c.screenshot().await.unwrap()).unwrap();

    // Ben takes it: the agent is warned before answering over him.
    ben.call(reqwest::Method::PUT, "assignee", json!({"assignee": "ben"})).await;
    let hint = ui.wait("the warning that Ben handles it", "const e = document.querySelector('[data-testid=assigned-hint]'); return e.hidden ? null : e.textContent", vec![]).await;
    assert_eq!(hint, json!("ben handles this conversation. A reply from you goes out all the same."));

    // The agent hands it back to the team, and leaves a note of their own.
    ui.js("const s = document.querySelector('[data-testid=conv-assignee]'); s.value = ''; s.dispatchEvent(new Event('change')); return true", vec![]).await;
    ui.wait("Cleo to leave Mine", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? null : true", vec![json!(CLEO)]).await;
    ui.click("add-note").await;
    ui.js("document.querySelector('[data-testid=note-input]').value = arguments[0]; return true", vec![json!("Called her back, waiting on the bank")]).await;
    ui.click("note-save").await;
    ui.wait("the agent's note in the thread", "return [...document.querySelectorAll('#thread [data-testid=note-text]')].some(n => n.textContent === arguments[0]) || null", vec![json!("Called her back, waiting on the bank")]).await;
    assert_eq!(ui.js("return document.querySelector('[data-testid=note-form]').hidden", vec![]).await, json!(true), "the form closes once saved");

    // Done: off the queues, under Done, until Cleo writes again. (Cleo is in no list shown
    // now: the header follows her all the same.)
    // A click too many is undone from the toast; done again, it stays done.
    ui.click("mark-done").await;
    ui.wait("the Reopen button", "return document.querySelector('[data-testid=mark-done]').dataset.done === 'true' || null", vec![]).await;
    ui.click("toast-action").await;
    ui.wait("Cleo open again, undone", "return document.querySelector('[data-testid=mark-done]').dataset.done === 'false' || null", vec![]).await;
    let marks = ben.relayed("done").await;
    assert_eq!((marks[marks.len() - 2]["done"].clone(), marks[marks.len() - 1]["done"].clone()), (json!(true), json!(false)), "undo is a mark of its own, relayed");
    ui.click("mark-done").await;
    ui.wait("the Reopen button", "return document.querySelector('[data-testid=mark-done]').dataset.done === 'true' || null", vec![]).await;
    ui.click("filter-done").await;
    let tag = ui.wait("Cleo under Done", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=done-tag]`)?.textContent || null", vec![json!(CLEO)]).await;
    assert_eq!(tag, json!("Done"));
    assert_eq!(ben.relayed("done").await.last().unwrap()["by"], AGENT);
    stack.customer_says(CLEO, "Cleo", "One more question", None).await.unwrap();
    ui.wait("Cleo to leave Done", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? null : true", vec![json!(CLEO)]).await;
    ui.wait("Mark done again in the header", "return document.querySelector('[data-testid=mark-done]').dataset.done === 'false' || null", vec![]).await;

    // Snoozed for an hour: under Done with its time, then taken up again at once.
    ui.js("const s = document.querySelector('[data-testid=snooze]'); s.value = '1h'; s.dispatchEvent(new Event('change')); return true", vec![]).await;
    let tag = ui.wait("Cleo snoozed under Done", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=done-tag]`)?.textContent || null", vec![json!(CLEO)]).await;
    assert!(tag.as_str().unwrap().starts_with("Snoozed · "), "{tag}");
    let snooze = ben.relayed("done").await.last().cloned().unwrap();
    let length = snooze["until_ms"].as_i64().unwrap() - snooze["at_ms"].as_i64().unwrap();
    assert!((3_590_000..=3_600_000).contains(&length), "an hour from when it was asked: {snooze}");
    ui.click("mark-done").await;
    ui.wait("Cleo to leave Done once reopened", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? null : true", vec![json!(CLEO)]).await;

    quick_replies(ui, ben).await;

    // Marked unread: the conversation closes, and waits under Unread with a dot until opened.
    ui.click("mark-unread").await;
    ui.wait("the conversation to close", "return document.querySelector('#empty-state').hidden ? null : true", vec![]).await;
    ui.click("filter-unread").await;
    ui.wait("Cleo under Unread, marked", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}'] [data-testid=marked-unread]`) ? true : null", vec![json!(CLEO)]).await;
    ui.js("document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`).click(); return true", vec![json!(CLEO)]).await;
    ui.wait("Cleo read again, off Unread", "return document.querySelector(`[data-testid=conversation-item][data-contact='${arguments[0]}']`) ? null : true", vec![json!(CLEO)]).await;

    // Search finds the team's notes too, as text, and opens one highlighted where it sits.
    ui.js("const s = document.querySelector('[data-testid=search]'); s.value = 'approved'; s.dispatchEvent(new Event('input')); return true", vec![]).await;
    let hit = ui.wait("Ben's note as a search hit", "const h = document.querySelector('[data-testid=search-note-hit]'); return h ? h.textContent : null", vec![]).await;
    let hit = hit.as_str().unwrap();
    assert!(hit.contains("Note · ben") && hit.contains("refund approved"), "{hit}");
    ui.click("search-note-hit").await;
    let shown = ui.wait("the note highlighted in its thread", "const n = document.querySelector('#thread [data-testid=note].highlight'); return n ? n.querySelector('[data-testid=note-text]').textContent : null", vec![]).await;
    assert_eq!(shown, json!(NOTE));

    // Search finds people too: the end of Cleo's number, as typed, opens her conversation.
    ui.click("view-reports").await;
    ui.js("const s = document.querySelector('[data-testid=search]'); s.value = '123-8001'; s.dispatchEvent(new Event('input')); return true", vec![]).await;
    let person = ui.wait("Cleo among the people", "const p = [...document.querySelectorAll('[data-testid=search-person]')]; return p.length ? p.map(e => e.dataset.contact) : null", vec![]).await;
    assert_eq!(person, json!([CLEO]), "only the number that holds those digits");
    assert_eq!(ui.js("return document.querySelector('[data-testid=list-empty]').hidden", vec![]).await, json!(true), "no 'no conversations' under the results");
    std::fs::write(e2e_support::harness::screenshot_path("people.png"), ui.c.screenshot().await.unwrap()).unwrap();
    ui.click("search-person").await;
    ui.wait("Cleo's conversation open in the inbox", "const h = document.querySelector('[data-testid=conv-head]'); return !h.hidden && h.dataset.contact === arguments[0] && document.querySelector('[data-testid=view-inbox]').getAttribute('aria-pressed') === 'true' || null", vec![json!(CLEO)]).await;
    assert_eq!(ui.js("return document.querySelector('[data-testid=search]').value", vec![]).await, json!(""), "the search is put away");
    keyboard_search(ui).await;

    labels(ui, ben).await;
    block(ui, ben, stack).await;
    waiting(ui).await;

    let assignments = ben.relayed("assignment").await;
    assert_eq!(assignments.last().unwrap()["assignee"], Value::Null);
    assert_eq!(assignments.last().unwrap()["by"], AGENT);
    let notes = ben.relayed("note").await;
    assert_eq!(notes.len(), 2);
    assert_eq!((notes[1]["author"].as_str(), notes[1]["text"].as_str()), (Some(AGENT), Some("Called her back, waiting on the bank")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let inert = ui.js("return { elements: document.querySelectorAll('[id^=pwn]').length, pwned: window.__pwned ?? null, errors: window.coexistErrors }", vec![]).await;
    assert_eq!(inert, json!({"elements": 0, "pwned": null, "errors": []}), "the note stayed text; no script error");
}
