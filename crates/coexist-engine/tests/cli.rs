//! The `coexist` binary against the REAL bridge and sandbox (started in this test process).

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn coexist(s: &Stack, db: &Path, args: &[&str]) -> Out {
    coexist_as(s, &s.demo.token, db, args).await
}

async fn coexist_as(s: &Stack, token: &str, db: &Path, args: &[&str]) -> Out {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_coexist"))
        .args(args)
        .env("COEXIST_BRIDGE_URL", &s.demo.bridge_url)
        .env("COEXIST_TOKEN", token)
        .env("COEXIST_DB", db)
        .output()
        .await
        .expect("the binary runs");
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn sync_list_send_search_and_export_from_the_terminal() {
    let s = stack().await;
    let db = s.dir.path().join("cli.db");
    let pnid = s.demo.phone_number_id.clone();
    let asked = s.customer_says("14155550401", "Ana\u{1b}[31m Silva", "Do you have the linen shirt in M?", None).await;
    let key = s.conversation("14155550401");
    eventually(15, "the webhook at the bridge", || async {
        let page = s.http.get(format!("{}/v1/events?after=0", s.demo.bridge_url)).bearer_auth(&s.demo.token).send().await.ok()?;
        let v: Value = page.json().await.ok()?;
        v["events"].as_array()?.iter().any(|e| e["payload"].to_string().contains("linen shirt")).then_some(())
    })
    .await;

    let out = coexist(&s, &db, &["sync", "--once"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("1 new messages"), "{}", out.stdout);

    let out = coexist(&s, &db, &["list", "--filter", "unread"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("14155550401"), "{}", out.stdout);
    assert!(!out.stdout.contains('\u{1b}'), "customer text must not reach the terminal raw: {:?}", out.stdout);

    let out = coexist(&s, &db, &["send", "text", &pnid, "14155550401", "Yes! Reserving one for you."]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("Sent as wamid"), "{}", out.stdout);

    let out = coexist(&s, &db, &["send", "text", &pnid, "14155550999", "hello stranger"]).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("template"), "{}", out.stderr);

    let out = coexist(&s, &db, &["send", "template", &pnid, "14155550999", "order_update", "--param", "Ana", "--param", "#1042"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("Sent as wamid"), "{}", out.stdout);

    let out = coexist(&s, &db, &["search", "linen"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("[linen]"), "{}", out.stdout);

    let csv_path = s.dir.path().join("hits.csv");
    let out = coexist(&s, &db, &["export", "--search", "linen", "--format", "csv", "--out", csv_path.to_str().unwrap()]).await;
    assert!(out.ok, "{}", out.stderr);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].iter().any(|c| c.contains("linen shirt")), "{rows:?}");

    let json_path = s.dir.path().join("conv.json");
    let conv = format!("{}:{}", key.phone_number_id, key.contact.as_str());
    let out = coexist(&s, &db, &["export", "--conversation", &conv, "--format", "json", "--out", json_path.to_str().unwrap()]).await;
    assert!(out.ok, "{}", out.stderr);
    let v: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2, "the customer's message and our reply: {v:#}");
    assert_eq!(rows[0]["side"], "customer");
    assert_eq!(rows[1]["side"], "api");
    assert_eq!(rows[1]["text"], "Yes! Reserving one for you.");

    let out = coexist(&s, &db, &["show", &pnid, "14155550401"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("Reserving one"), "{}", out.stdout);
    assert!(out.stdout.lines().any(|l| l.contains("linen shirt") && l.ends_with(&asked)), "each message ends with its wamid: {}", out.stdout);

    // A reply quoting that message; a wamid of no message here is refused before anything is queued.
    let out = coexist(&s, &db, &["send", "text", &pnid, "14155550401", "That one, yes.", "--reply-to", &asked]).await;
    assert!(out.ok, "{}", out.stderr);
    let sent = s.sent().await;
    assert!(sent.iter().any(|r| r["request"]["context"]["message_id"] == asked.as_str()), "{sent:?}");
    let out = coexist(&s, &db, &["send", "text", &pnid, "14155550401", "Which?", "--reply-to", "wamid.nope"]).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("not in this conversation"), "{}", out.stderr);

    // Reply buttons: a title over Meta's twenty characters is refused in words; good ones go.
    let out = coexist(&s, &db, &["send", "buttons", &pnid, "14155550401", "Gift wrap?", "--button", "Yes please, with a card"]).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("button 1 is 23 characters"), "{}", out.stderr);
    let out = coexist(&s, &db, &["send", "buttons", &pnid, "14155550401", "Gift wrap?", "--button", "Yes", "--button", "No"]).await;
    assert!(out.ok, "{}", out.stderr);
    let sent = s.sent().await;
    assert!(sent.iter().any(|r| r["request"]["interactive"]["action"]["buttons"][1]["reply"]["title"] == "No"), "{sent:?}");
    s.demo.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error() {
    let s = stack().await;
    let db = s.dir.path().join("cli.db");
    let out = coexist(&s, &db, &["export", "--conversation", "no-colon", "--format", "csv", "--out", "/dev/null"]).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("PHONE_NUMBER_ID:CONTACT"), "{}", out.stderr);
    let out = coexist(&s, &db, &["show", "1", "2"]).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("sync --once"), "{}", out.stderr);
    s.demo.shutdown().await;
}

#[tokio::test]
async fn sync_follows_live_and_prints_new_messages() {
    use tokio::io::AsyncBufReadExt;
    let s = stack().await;
    let db = s.dir.path().join("follow.db");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_coexist"))
        .args(["sync", "--mode", "long-poll"])
        .env("COEXIST_BRIDGE_URL", &s.demo.bridge_url)
        .env("COEXIST_TOKEN", &s.demo.token)
        .env("COEXIST_DB", &db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    s.customer_says("14155550701", "Lia", "are you there?", None).await;
    let line = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with('←') {
                return line;
            }
        }
        panic!("the follower exited");
    })
    .await
    .expect("the new message is printed");
    assert!(line.contains("Lia") && line.contains("are you there?"), "{line}");
    child.kill().await.unwrap();
    s.demo.shutdown().await;
}

/// `coexist send file`: the type from the extension (or `--type`), checked, uploaded, sent.
#[tokio::test]
async fn a_file_is_sent_from_the_terminal() {
    let s = stack().await;
    let db = s.dir.path().join("cli.db");
    let pnid = s.demo.phone_number_id.clone();
    s.customer_says("14155550402", "Bea", "Could you send the price list?", None).await;
    eventually(15, "the conversation in the CLI's inbox", || async {
        let out = coexist(&s, &db, &["sync", "--once"]).await;
        out.stdout.contains("1 new messages").then_some(())
    })
    .await;

    let pdf = s.dir.path().join("Price list.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 prices").unwrap();
    let out = coexist(&s, &db, &["send", "file", &pnid, "14155550402", pdf.to_str().unwrap(), "--caption", "Our prices"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("Sent as wamid"), "{}", out.stdout);
    let sent = s.sent().await;
    let document = sent.iter().find(|r| r["request"]["type"] == "document").expect("the document reached Meta")["request"]["document"].clone();
    assert_eq!((document["filename"].as_str(), document["caption"].as_str()), (Some("Price list.pdf"), Some("Our prices")));

    let unknown = s.dir.path().join("notes.qqq7");
    std::fs::write(&unknown, b"?").unwrap();
    let out = coexist(&s, &db, &["send", "file", &pnid, "14155550402", unknown.to_str().unwrap()]).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("notes.qqq7") && out.stderr.contains("could not tell"), "{}", out.stderr);
    let out = coexist(&s, &db, &["send", "file", &pnid, "14155550402", unknown.to_str().unwrap(), "--type", "text/plain"]).await;
    assert!(out.ok, "--type names what the extension does not: {}", out.stderr);
    s.demo.shutdown().await;
}

#[tokio::test]
async fn a_conversation_is_assigned_and_noted_from_the_terminal() {
    let s = stack().await;
    let db = s.dir.path().join("cli.db");
    let pnid = s.demo.phone_number_id.clone();
    s.customer_says("14155550402", "Bo", "Is my order on its way?", None).await;
    eventually(15, "the message in the local inbox", || async {
        coexist(&s, &db, &["sync", "--once"]).await.stdout.contains("1 new messages").then_some(())
    })
    .await;

    let out = coexist(&s, &db, &["team"]).await;
    assert!(out.ok && out.stdout.contains("demo-agent (agent)"), "{} {}", out.stdout, out.stderr);
    let out = coexist(&s, &db, &["quick-reply", "set", "/Eta", "Orders ship within 2 days."]).await;
    assert!(out.ok && out.stdout.contains("/eta"), "{} {}", out.stdout, out.stderr);
    let out = coexist(&s, &db, &["quick-reply", "list"]).await;
    assert!(out.stdout.contains("/eta") && out.stdout.contains("Orders ship within 2 days.") && out.stdout.contains("by demo-agent"), "{}", out.stdout);
    assert!(coexist(&s, &db, &["quick-reply", "remove", "eta"]).await.ok);
    assert!(coexist(&s, &db, &["quick-reply", "list"]).await.stdout.contains("no quick replies yet"));
    let out = coexist(&s, &db, &["quick-reply", "set", "two words", "x"]).await;
    assert!(!out.ok && out.stderr.contains("one word"), "{}", out.stderr);
    let out = coexist(&s, &db, &["list", "--filter", "unassigned"]).await;
    assert!(out.stdout.contains("14155550402"), "{}", out.stdout);
    let out = coexist(&s, &db, &["list", "--filter", "waiting"]).await;
    assert!(out.stdout.contains("14155550402"), "Bo wrote last: {}", out.stdout);

    let out = coexist(&s, &db, &["assign", &pnid, "14155550402", "--to", "demo-agent"]).await;
    assert!(out.ok, "{}", out.stderr);
    let out = coexist(&s, &db, &["note", &pnid, "14155550402", "Courier says Friday"]).await;
    assert!(out.ok, "{}", out.stderr);
    let out = coexist(&s, &db, &["show", &pnid, "14155550402"]).await;
    assert!(out.stdout.contains("assigned to: demo-agent"), "{}", out.stdout);
    assert!(out.stdout.contains("(note by demo-agent at ") && out.stdout.contains("Courier says Friday"), "{}", out.stdout);
    let out = coexist(&s, &db, &["search", "courier"]).await;
    assert!(out.stdout.contains("note by demo-agent: [Courier] says Friday"), "notes are searched too: {}", out.stdout);
    let out = coexist(&s, &db, &["label", &pnid, "14155550402", " Wholesale  order "]).await;
    assert!(out.ok && out.stdout.contains("labelled"), "{} {}", out.stdout, out.stderr);
    let out = coexist(&s, &db, &["list", "--label", "Wholesale order"]).await;
    assert!(out.stdout.contains("14155550402") && out.stdout.contains("[Wholesale order]"), "one name, listed: {}", out.stdout);
    let out = coexist(&s, &db, &["label", &pnid, "14155550402", "Wholesale order", "--remove"]).await;
    assert!(out.ok, "{}", out.stderr);
    let out = coexist(&s, &db, &["list", "--label", "Wholesale order"]).await;
    assert!(out.stdout.contains("no conversations match"), "{}", out.stdout);
    let out = coexist(&s, &db, &["block", &pnid, "14155550402"]).await;
    assert!(out.ok && out.stdout.contains("blocked 14155550402"), "{} {}", out.stdout, out.stderr);
    let out = coexist(&s, &db, &["show", &pnid, "14155550402"]).await;
    assert!(out.stdout.contains("— blocked by demo-agent"), "{}", out.stdout);
    let out = coexist(&s, &db, &["block", &pnid, "14155550402", "--unblock"]).await;
    assert!(out.ok && out.stdout.contains("unblocked"), "{} {}", out.stdout, out.stderr);
    let out = coexist(&s, &db, &["show", &pnid, "14155550402"]).await;
    assert!(!out.stdout.contains("blocked by"), "{}", out.stdout);
    let out = coexist(&s, &db, &["label", &pnid, "14155550402", "   "]).await;
    assert!(!out.ok && out.stderr.contains("needs a name"), "refused before the bridge: {}", out.stderr);
    let out = coexist(&s, &db, &["search", "555-0402"]).await;
    assert!(out.stdout.starts_with("person 14155550402 "), "people by number, first: {}", out.stdout);
    let out = coexist(&s, &db, &["search", "555-0402", "--agent", "demo-agent"]).await;
    assert!(!out.stdout.contains("person "), "a filter on messages finds no people: {}", out.stdout);
    let out = coexist(&s, &db, &["list", "--filter", "mine"]).await;
    assert!(out.stdout.contains("14155550402"), "assigned to me, though I never answered: {}", out.stdout);
    let out = coexist(&s, &db, &["list", "--filter", "unassigned"]).await;
    assert!(!out.stdout.contains("14155550402"), "{}", out.stdout);

    let out = coexist(&s, &db, &["assign", &pnid, "14155550402"]).await;
    assert!(!out.ok && out.stderr.contains("--nobody"), "to whom? {}", out.stderr);
    let out = coexist(&s, &db, &["assign", &pnid, "14155550402", "--to", "nobody-here"]).await;
    assert!(!out.ok && out.stderr.contains("/v1/team"), "{}", out.stderr);
    let out = coexist(&s, &db, &["assign", &pnid, "14155550402", "--nobody"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(coexist(&s, &db, &["show", &pnid, "14155550402"]).await.stdout.contains("assigned to: nobody"));

    let out = coexist(&s, &db, &["done", &pnid, "14155550402"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(coexist(&s, &db, &["show", &pnid, "14155550402"]).await.stdout.contains("— done"));
    assert!(coexist(&s, &db, &["list", "--filter", "done"]).await.stdout.contains("14155550402"));
    assert!(!coexist(&s, &db, &["list", "--filter", "unassigned"]).await.stdout.contains("14155550402"), "done is off the queues");
    let out = coexist(&s, &db, &["done", &pnid, "14155550402", "--undo"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(!coexist(&s, &db, &["list", "--filter", "done"]).await.stdout.contains("14155550402"));
    s.demo.shutdown().await;
}

#[tokio::test]
async fn an_admin_submits_a_template_from_the_terminal() {
    let s = stack().await;
    let db = s.dir.path().join("cli.db");
    let pnid = s.demo.phone_number_id.clone();
    let bridge_db = s.dir.path().join(coexist_engine::demo::BRIDGE_DB);
    let root = coexist_bridge::admin::add_user(&bridge_db, "root", coexist_bridge::Role::Admin).unwrap();
    let submit = ["admin", "submit-template", &pnid, "--name", "stock_back", "--body", "Good news {{1}}: it is back in stock."];
    let out = coexist_as(&s, &root, &db, &submit).await;
    assert!(!out.ok && out.stderr.contains("an example for each"), "refused before the bridge: {}", out.stderr);
    let with_example = [&submit[..], &["--example", "Ana", "--category", "marketing"]].concat();
    let out = coexist_as(&s, &root, &db, &with_example).await;
    assert!(out.ok && out.stdout.contains("stock_back (en_US) sent to Meta for review: PENDING"), "{} {}", out.stdout, out.stderr);
    let out = coexist(&s, &db, &with_example).await;
    assert!(!out.ok && out.stderr.contains("admin"), "an agent's token is not an admin's: {}", out.stderr);
    s.demo.shutdown().await;
}
