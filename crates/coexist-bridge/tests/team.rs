//! The team's own changes: `GET /v1/team`, assigning a conversation, and notes. Relayed to every
//! desktop in the event log; Meta never hears of them.

mod common;

use common::*;
use coexist_core::NumberMode;
use serde_json::{json, Value};

const CONTACT: &str = "15550100";

/// PUT `body` to one of a conversation's team routes (`assignee`, `done`, `labels`) as `token`.
async fn put_team(h: &Harness, token: &str, number: &str, contact: &str, route: &str, body: &Value) -> (u16, Value) {
    let path = format!("/v1/numbers/{number}/conversations/{contact}/{route}");
    let resp = h.http.put(h.url(&path)).bearer_auth(token).json(body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn assign(h: &Harness, token: &str, number: &str, contact: &str, body: &Value) -> (u16, Value) {
    put_team(h, token, number, contact, "assignee", body).await
}

async fn note(h: &Harness, token: &str, contact: &str, body: &Value) -> (u16, Value) {
    let path = format!("/v1/numbers/{NUMBER}/conversations/{contact}/notes");
    let resp = h.http.post(h.url(&path)).bearer_auth(token).json(body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_team_lists_who_can_answer_for_any_role() {
    let h = Harness::start(None, |_| {}).await;
    let (status, team) = h.get_json("/v1/team", &h.manager).await;
    assert_eq!(status, 200);
    let names: Vec<(&str, &str)> =
        team.as_array().unwrap().iter().map(|m| (m["name"].as_str().unwrap(), m["role"].as_str().unwrap())).collect();
    assert!(names.contains(&("ana", "agent")) && names.contains(&("root", "admin")), "{team}");
    assert!(!names.iter().any(|(_, role)| *role == "manager"), "managers review, they are not assigned: {team}");
    assert!(team.to_string().find("token").is_none(), "no token or hash in the list: {team}");
    h.shutdown().await;
}

#[tokio::test]
async fn an_assignment_is_relayed_to_every_desktop_and_never_reaches_meta() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let before = h.events(0).await.len();

    let (status, answer) = assign(&h, &h.agent, NUMBER, CONTACT, &json!({"assignee": " root "})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["assignment"]["assignee"], "root");
    assert_eq!(answer["assignment"]["by"], "ana", "the token says who, not the body");
    let (status, answer) = assign(&h, &h.admin, NUMBER, CONTACT, &json!({"assignee": null})).await;
    assert_eq!(status, 200, "{answer}");

    let events = h.events(0).await;
    let relayed: Vec<&Value> = events[before..].iter().collect();
    assert_eq!(relayed.len(), 2);
    assert_eq!(relayed[0]["kind"], "assignment");
    assert_eq!(relayed[0]["payload"]["contact"], CONTACT);
    assert_eq!(relayed[0]["payload"]["assignee"], "root");
    assert_eq!(relayed[1]["payload"]["assignee"], Value::Null);
    assert_eq!(relayed[1]["seq"], answer["seq"]);
    assert!(g.calls().is_empty(), "Meta never heard of it");
    h.shutdown().await;
}

#[tokio::test]
async fn assignments_are_refused_with_words_that_say_what_to_do() {
    let h = Harness::start(None, |_| {}).await;
    let to_agent = json!({"assignee": "ana"});
    let (status, answer) = assign(&h, &h.agent, NUMBER, CONTACT, &to_agent).await;
    assert_eq!(status, 404, "not a number of this bridge: {answer}");
    h.add_number(NumberMode::Coexistence, 20);
    assert_eq!(assign(&h, &h.manager, NUMBER, CONTACT, &to_agent).await.0, 403, "managers do not assign");
    let (status, answer) = assign(&h, &h.agent, NUMBER, CONTACT, &json!({"assignee": "zoe"})).await;
    assert_eq!(status, 400);
    assert!(answer.to_string().contains("GET /v1/team"), "{answer}");
    let (status, answer) = assign(&h, &h.agent, NUMBER, CONTACT, &json!({"assignee": "max"})).await;
    assert_eq!(status, 400);
    assert!(answer.to_string().contains("max is a manager"), "{answer}");
    assert_eq!(assign(&h, &h.agent, NUMBER, CONTACT, &json!({"to": "ana"})).await.0, 400, "a body without assignee");
    assert_eq!(assign(&h, &h.agent, NUMBER, "1555%3Cb%3E", &to_agent).await.0, 400, "a contact that is not one");
    assert_eq!(h.events(0).await.iter().filter(|e| e["kind"] == "assignment").count(), 0, "nothing refused was relayed");
    h.shutdown().await;
}

#[tokio::test]
async fn notes_are_relayed_as_written_by_whoever_wrote_them() {
    let h = Harness::start(None, |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let text = "  <img src=x onerror=alert(1)> VIP, call after 5  ";
    let (status, answer) = note(&h, &h.manager, CONTACT, &json!({"text": text})).await;
    assert_eq!(status, 201, "managers leave notes too: {answer}");
    assert_eq!(answer["note"]["author"], "max");
    let events = h.events(0).await;
    let relayed = events.iter().find(|e| e["kind"] == "note").expect("the note is relayed");
    assert_eq!(relayed["payload"]["text"], text.trim(), "kept as written (it is shown as text)");
    assert_eq!(relayed["payload"]["contact"], CONTACT);

    let (status, answer) = note(&h, &h.agent, CONTACT, &json!({"text": " \n "})).await;
    assert_eq!(status, 400);
    assert!(answer.to_string().contains("empty"), "{answer}");
    assert_eq!(note(&h, &h.agent, CONTACT, &json!({"text": "x".repeat(4097)})).await.0, 400);
    assert_eq!(note(&h, "not-a-token", CONTACT, &json!({"text": "hi"})).await.0, 401);
    assert_eq!(h.events(0).await.iter().filter(|e| e["kind"] == "note").count(), 1, "only the one note");
    h.shutdown().await;
}

#[tokio::test]
async fn done_is_relayed_and_only_agents_and_admins_mark_it() {
    let h = Harness::start(None, |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "done", &json!({"done": true})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(put_team(&h, &h.admin, NUMBER, CONTACT, "done", &json!({"done": false})).await.0, 200);
    assert_eq!(put_team(&h, &h.manager, NUMBER, CONTACT, "done", &json!({"done": true})).await.0, 403);
    let soon = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 3_600_000;
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "done", &json!({"done": true, "until_ms": soon})).await;
    assert_eq!((status, answer["done"]["until_ms"].as_i64()), (200, Some(soon)), "{answer}");
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "done", &json!({"done": true, "until_ms": 1_000})).await;
    assert!(status == 400 && answer.to_string().contains("past"), "{answer}");
    assert_eq!(put_team(&h, &h.agent, NUMBER, CONTACT, "done", &json!({"done": false, "until_ms": soon})).await.0, 400);
    assert_eq!(put_team(&h, &h.agent, NUMBER, CONTACT, "done", &json!({"done": true, "until_ms": soon + 400 * 86_400_000i64})).await.0, 400);
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "done", &json!({"done": "yes"})).await;
    assert_eq!(status, 400);
    assert!(answer.to_string().contains("take the conversation up again"), "{answer}");
    let relayed: Vec<Value> = h.events(0).await.into_iter().filter(|e| e["kind"] == "done").map(|e| e["payload"].clone()).collect();
    assert_eq!(relayed.len(), 3);
    assert_eq!((relayed[0]["done"].clone(), relayed[0]["by"].clone()), (json!(true), json!("ana")));
    assert_eq!((relayed[1]["done"].clone(), relayed[1]["by"].clone()), (json!(false), json!("root")));
    assert!(relayed[0].get("until_ms").is_none() && relayed[2]["until_ms"].is_i64());
    h.shutdown().await;
}

#[tokio::test]
async fn a_label_is_relayed_as_one_name_and_only_agents_and_admins_set_it() {
    let h = Harness::start(None, |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "labels", &json!({"label": "  VIP   customer ", "on": true})).await;
    assert_eq!((status, answer["label"]["label"].clone()), (200, json!("VIP customer")), "{answer}");
    assert_eq!(put_team(&h, &h.admin, NUMBER, CONTACT, "labels", &json!({"label": "VIP customer", "on": false})).await.0, 200);
    assert_eq!(put_team(&h, &h.manager, NUMBER, CONTACT, "labels", &json!({"label": "VIP", "on": true})).await.0, 403);
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "labels", &json!({"label": " ", "on": true})).await;
    assert!(status == 400 && answer.to_string().contains("needs a name"), "{answer}");
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "labels", &json!({"label": "x".repeat(40), "on": true})).await;
    assert!(status == 400 && answer.to_string().contains("at most 32"), "{answer}");
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "labels", &json!({"label": "VIP"})).await;
    assert!(status == 400 && answer.to_string().contains("take it off"), "says what to send: {answer}");
    let relayed: Vec<Value> = h.events(0).await.into_iter().filter(|e| e["kind"] == "label").map(|e| e["payload"].clone()).collect();
    assert_eq!(relayed.len(), 2, "only what was taken");
    assert_eq!((relayed[0]["on"].clone(), relayed[0]["by"].clone()), (json!(true), json!("ana")));
    assert_eq!((relayed[1]["on"].clone(), relayed[1]["by"].clone(), relayed[1]["contact"].clone()), (json!(false), json!("root"), json!(CONTACT)));
    h.shutdown().await;
}

#[tokio::test]
async fn quick_replies_are_saved_and_removed_through_the_relay() {
    let h = Harness::start(None, |_| {}).await;
    let call = |method: reqwest::Method, token: String, shortcut: &'static str, body: Option<Value>| {
        let request = h.http.request(method, h.url(&format!("/v1/quick-replies/{shortcut}"))).bearer_auth(token);
        let request = match body {
            Some(b) => request.json(&b),
            None => request,
        };
        async move {
            let resp = request.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, answer) = call(reqwest::Method::PUT, h.agent.clone(), "Thanks", Some(json!({"text": " Thank you for writing! "}))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["quick_reply"]["shortcut"], "thanks");
    assert_eq!(call(reqwest::Method::DELETE, h.admin.clone(), "thanks", None).await.0, 200);
    assert_eq!(call(reqwest::Method::PUT, h.manager.clone(), "hours", Some(json!({"text": "9 to 5"}))).await.0, 403);
    let (status, answer) = call(reqwest::Method::PUT, h.agent.clone(), "two%20words", Some(json!({"text": "x"}))).await;
    assert_eq!(status, 400);
    assert!(answer.to_string().contains("after / in the reply box"), "{answer}");
    assert_eq!(call(reqwest::Method::PUT, h.agent.clone(), "hours", Some(json!({"text": ""}))).await.0, 400);

    let relayed: Vec<Value> = h.events(0).await.into_iter().filter(|e| e["kind"] == "quick_reply").map(|e| e["payload"].clone()).collect();
    assert_eq!(relayed.len(), 2, "only what was taken: {relayed:?}");
    assert_eq!((relayed[0]["text"].clone(), relayed[0]["by"].clone()), (json!("Thank you for writing!"), json!("ana")));
    assert_eq!((relayed[1]["text"].clone(), relayed[1]["by"].clone()), (Value::Null, json!("root")));
    h.shutdown().await;
}

#[tokio::test]
async fn presence_reaches_open_event_streams_and_is_never_stored() {
    let h = Harness::start(None, |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let last = h.events(0).await.len();
    let mut stream = h
        .http
        .get(h.url("/v1/stream?after=999999"))
        .bearer_auth(&h.agent)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    let presence = |token: String| {
        let url = h.url(&format!("/v1/numbers/{NUMBER}/conversations/{CONTACT}/presence"));
        let http = h.http.clone();
        async move { http.post(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(presence(h.manager.clone()).await, 403, "managers do not answer customers");
    // The stream may not be listening yet: say it until it is heard.
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains("event: presence") {
        assert!(std::time::Instant::now() < deadline, "no presence on the stream: {seen:?}");
        assert_eq!(presence(h.admin.clone()).await, 204);
        if let Ok(Some(chunk)) = tokio::time::timeout(std::time::Duration::from_millis(300), stream.chunk()).await.map(|c| c.unwrap()) {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    let data = seen.split("event: presence").nth(1).unwrap().lines().find(|l| l.starts_with("data:")).unwrap();
    let notice: Value = serde_json::from_str(data.trim_start_matches("data:").trim()).unwrap();
    assert_eq!((notice["agent"].as_str(), notice["contact"].as_str()), (Some("root"), Some(CONTACT)));
    assert!(notice["until_ms"].as_i64().unwrap() > 0);
    assert_eq!(h.events(0).await.len(), last, "nothing stored, nothing in the log");
    h.shutdown().await;
}

#[tokio::test]
async fn a_revoked_agent_s_conversations_go_back_to_the_team() {
    let h = Harness::start(None, |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    coexist_bridge::admin::add_user(&h.db, "ben", coexist_bridge::Role::Agent).unwrap();
    for (contact, assignee) in [("15550001", "ana"), ("15550002", "ana"), ("15550002", "root"), ("15550003", "ben")] {
        let (status, _) = assign(&h, &h.admin, NUMBER, contact, &json!({"assignee": assignee})).await;
        assert_eq!(status, 200);
    }
    let handed_back = |events: &[Value], from: usize| -> Vec<(String, String)> {
        events[from..]
            .iter()
            .filter(|e| e["kind"] == "assignment" && e["payload"]["assignee"].is_null())
            .map(|e| (e["payload"]["contact"].as_str().unwrap().to_string(), e["payload"]["by"].as_str().unwrap().to_string()))
            .collect()
    };

    // As the admin: ana's token stops working.
    let log = || async { h.get_json("/v1/events?after=0", &h.admin).await.1["events"].as_array().unwrap().clone() };
    let before = log().await.len();
    let resp = h.http.delete(h.url("/v1/admin/users/ana")).bearer_auth(&h.admin).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let events = log().await;
    assert_eq!(handed_back(&events, before), vec![("15550001".to_string(), "root".to_string())], "not the one root took over");

    // From the command line too.
    coexist_bridge::admin::revoke_user(&h.db, "ben").unwrap();
    let after = log().await;
    assert_eq!(handed_back(&after, events.len()), vec![("15550003".to_string(), "admin".to_string())]);
    h.shutdown().await;
}

async fn set_blocked(h: &Harness, token: &str, blocked: bool) -> (u16, Value) {
    put_team(h, token, NUMBER, CONTACT, "blocked", &json!({"blocked": blocked})).await
}

#[tokio::test]
async fn a_block_reaches_meta_first_and_is_relayed_only_once_meta_took_it() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let before = h.events(0).await.len();

    let (status, answer) = set_blocked(&h, &h.agent, true).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["block"]["blocked"].as_bool(), answer["block"]["by"].as_str()), (Some(true), Some("ana")));
    let (status, answer) = set_blocked(&h, &h.admin, false).await;
    assert_eq!(status, 200, "{answer}");

    let calls = g.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].path.starts_with("POST /") && calls[0].path.ends_with(&format!("/{NUMBER}/block_users")), "{}", calls[0].path);
    assert!(calls[1].path.starts_with("DELETE /"), "unblocking is a DELETE: {}", calls[1].path);
    assert_eq!(calls[0].body, json!({"messaging_product": "whatsapp", "block_users": [{"user": CONTACT}]}));
    assert_eq!(calls[0].auth.as_deref(), Some(format!("Bearer {ACCESS}").as_str()), "the bridge's token, never the desktop's");

    let events = h.events(0).await;
    let relayed: Vec<&Value> = events[before..].iter().collect();
    assert_eq!(relayed.len(), 2);
    assert_eq!(relayed[0]["kind"], "block");
    assert_eq!((relayed[0]["payload"]["contact"].as_str(), relayed[0]["payload"]["blocked"].as_bool()), (Some(CONTACT), Some(true)));
    assert_eq!((relayed[1]["payload"]["blocked"].as_bool(), relayed[1]["payload"]["by"].as_str()), (Some(false), Some("root")));
    h.shutdown().await;
}

#[tokio::test]
async fn meta_refusing_a_block_is_said_in_words_and_nothing_is_relayed() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let before = h.events(0).await.len();
    let refusal = json!({
        "messaging_product": "whatsapp",
        "block_users": {"failed_users": [{"input": CONTACT, "wa_id": CONTACT, "errors": [{
            "message": "Re-engagement required", "code": 131047,
            "error_data": {"details": "User has not messaged in the last 24 hours"}}]}]},
        "error": {"message": "(#139100) Failed to block/unblock users", "type": "OAuthException", "code": 139100,
                  "error_data": {"details": "Failed to block some users, see the block_users response list for details"}}
    });
    g.script(vec![(400, refusal.clone()), (401, json!({"error": {"message": "Invalid OAuth access token", "code": 190}}))]);

    let (status, answer) = set_blocked(&h, &h.agent, true).await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("only customers who wrote to it in the last 24 hours") && message.contains("131047"), "{message}");
    assert_eq!(answer["meta"], refusal, "Meta's answer is kept whole");

    let (status, answer) = set_blocked(&h, &h.agent, true).await;
    assert_eq!(status, 502, "the bridge's token failing is not the desktop's sign-in: {answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("access token"), "{answer}");

    assert_eq!(h.events(0).await.len(), before, "nothing relayed for a block Meta refused");
    h.shutdown().await;
}

/// Nobody needs to open a block list: the bridge reads each number's list every
/// `block_check` and brings the log in line with it, an unblock on the phone too, each once.
#[tokio::test]
async fn blocks_made_on_the_phone_reach_the_log_by_the_periodic_check() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |c| c.block_check = Some(std::time::Duration::from_millis(100))).await;
    h.add_number(NumberMode::Coexistence, 20);
    g.state.blocked.lock().unwrap().push("15559990001".into()); // blocked on the phone
    let blocks = |events: Vec<Value>| -> Vec<(String, bool, String)> {
        events
            .iter()
            .filter(|e| e["kind"] == "block")
            .map(|e| {
                let p = &e["payload"];
                (p["contact"].as_str().unwrap().into(), p["blocked"].as_bool().unwrap(), p["by"].as_str().unwrap().into())
            })
            .collect()
    };
    let outside = "someone outside Coexist".to_string();
    let wait_for = |n: usize| {
        let h = &h;
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let found = blocks(h.events(0).await);
                if found.len() >= n || std::time::Instant::now() > deadline {
                    return found;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(wait_for(1).await, [("15559990001".to_string(), true, outside.clone())]);
    g.state.blocked.lock().unwrap().clear(); // unblocked on the phone
    let found = wait_for(2).await;
    assert_eq!(found[1..], [("15559990001".to_string(), false, outside.clone())]);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(blocks(h.events(0).await).len(), 2, "checked again and again: nothing more");
    assert!(g.calls().iter().filter(|c| c.path.contains("/block_users")).count() >= 3, "{:?}", g.calls());
    h.shutdown().await;
}

/// Meta sends no webhook for a block made on the phone: reading the block list brings the log in
/// line with it, once, and an unblock made on the phone the same way.
#[tokio::test]
async fn blocks_made_on_the_phone_reach_the_log_when_the_list_is_read() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let (status, _) = set_blocked(&h, &h.agent, true).await;
    assert_eq!(status, 200);
    g.state.blocked.lock().unwrap().push("15559990001".into()); // blocked on the phone
    let before = h.events(0).await.len();

    let list = |h: &Harness| {
        let (http, url, token) = (h.http.clone(), h.url(&format!("/v1/numbers/{NUMBER}/blocked")), h.agent.clone());
        async move { http.get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let answer = list(&h).await;
    assert_eq!(answer["blocked"], json!([CONTACT, "15559990001"]), "{answer}");
    let relayed: Vec<Value> = h.events(0).await[before..].iter().map(|e| e["payload"].clone()).collect();
    assert_eq!(relayed.len(), 1, "only the phone's block is new: {relayed:?}");
    assert_eq!((relayed[0]["contact"].as_str(), relayed[0]["blocked"].as_bool()), (Some("15559990001"), Some(true)));
    assert_eq!(relayed[0]["by"], "someone outside Coexist");
    list(&h).await;
    assert_eq!(h.events(0).await.len(), before + 1, "read again: nothing more");

    g.state.blocked.lock().unwrap().retain(|b| b != CONTACT); // unblocked on the phone
    list(&h).await;
    let last = h.events(0).await.pop().unwrap();
    assert_eq!((last["payload"]["contact"].as_str(), last["payload"]["blocked"].as_bool()), (Some(CONTACT), Some(false)));
    h.shutdown().await;
}

#[tokio::test]
async fn managers_cannot_block_and_a_body_without_blocked_is_refused_before_meta() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    let (status, _) = set_blocked(&h, &h.manager, true).await;
    assert_eq!(status, 403);
    let (status, answer) = put_team(&h, &h.agent, NUMBER, CONTACT, "blocked", &json!({"block": "yes"})).await;
    assert_eq!(status, 400);
    assert!(answer["error"]["message"].as_str().unwrap().contains(r#"{"blocked": true}"#), "{answer}");
    let (status, _) = put_team(&h, &h.agent, "999", CONTACT, "blocked", &json!({"blocked": true})).await;
    assert_eq!(status, 404, "a number not on the bridge");
    assert!(g.calls().is_empty(), "Meta never asked: {:?}", g.calls());
    h.shutdown().await;
}

#[tokio::test]
async fn the_block_list_is_read_from_meta_every_page_of_it() {
    let g = FakeGraph::start().await;
    let h = Harness::start(Some(g.url.clone()), |_| {}).await;
    h.add_number(NumberMode::Coexistence, 20);
    for contact in ["15550101", "15550102", "15550103"] {
        let (status, answer) = put_team(&h, &h.agent, NUMBER, contact, "blocked", &json!({"blocked": true})).await;
        assert_eq!(status, 200, "{answer}");
    }
    put_team(&h, &h.admin, NUMBER, "15550102", "blocked", &json!({"blocked": false})).await;
    // One blocked outside Coexist (on the phone, say): Meta's list is the truth.
    g.state.blocked.lock().unwrap().push("15550199".into());

    let (status, list) = h.get_json(&format!("/v1/numbers/{NUMBER}/blocked"), &h.agent).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["blocked"], json!(["15550101", "15550103", "15550199"]), "two pages of two, followed");
    let pages = g.calls().iter().filter(|c| c.path.contains("/block_users?")).count();
    assert_eq!(pages, 2);

    let (status, _) = h.get_json(&format!("/v1/numbers/{NUMBER}/blocked"), &h.manager).await;
    assert_eq!(status, 403, "managers review; they neither block nor list");
    let (status, _) = h.get_json("/v1/numbers/999/blocked", &h.agent).await;
    assert_eq!(status, 404);
    h.shutdown().await;
}
