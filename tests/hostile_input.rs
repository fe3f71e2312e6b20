//! Hostile input through the real bridge into a real desktop store: every bad body gets a clear
//! answer and nothing is lost; customer text is kept byte for byte (the webview renders it as text,
//! see the e2e suite); search input is never SQL or FTS syntax.

mod common;

use coexist_core::ConversationKey;
use coexist_store::{SearchQuery, Store};
use common::*;

#[tokio::test]
async fn unsigned_and_wrongly_signed_webhooks_are_refused_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = start_bridge(dir.path()).await;
    let body = inbound_text("wamid.A1", "15551230001", "Ana", 1_764_000_000, "hi");

    assert_eq!(bridge.post_webhook(body.clone(), None).await, 401);
    assert_eq!(bridge.post_webhook(body.clone(), Some("sha256=00".into())).await, 401);
    let other_secret = coexist_bridge::sign_webhook("not-the-secret", &body);
    assert_eq!(bridge.post_webhook(body.clone(), Some(other_secret)).await, 401);
    assert!(bridge.events_after(0).await.is_empty(), "a refused webhook must not be stored");

    assert_eq!(bridge.post_signed(body).await, 200);
    assert_eq!(bridge.events_after(0).await.len(), 1);
}

#[tokio::test]
async fn oversized_body_is_refused_with_413() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = start_bridge(dir.path()).await;
    let big = format!("{{\"object\":\"whatsapp_business_account\",\"pad\":\"{}\"}}", "x".repeat(9 * 1024 * 1024));
    assert_eq!(bridge.post_signed(big.into_bytes()).await, 413);
    assert!(bridge.events_after(0).await.is_empty());
}

#[tokio::test]
async fn signed_bodies_that_do_not_parse_are_quarantined_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = start_bridge(dir.path()).await;
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let invalid_utf8 = b"{\"object\":\"whatsapp_business_account\",\"entry\":[\"\xff\xfe\"]}".to_vec();
    let valid = inbound_text("wamid.T1", "15551230001", "Ana", 1_764_000_000, "hello");
    let truncated = valid[..valid.len() / 2].to_vec();

    for body in [nested, invalid_utf8, truncated] {
        assert_eq!(bridge.post_signed(body).await, 200, "Meta must not redeliver a signed body forever");
    }
    let quarantine = bridge.get_json("/v1/admin/quarantine").await;
    let listed = quarantine.as_array().or_else(|| quarantine["items"].as_array()).expect("a list of quarantined bodies");
    assert_eq!(listed.len(), 3, "each bad body is listed for admins: {quarantine}");

    // The bridge keeps working for good bodies afterwards.
    assert_eq!(bridge.post_signed(valid).await, 200);
    let mut store = Store::open(dir.path().join("desk.db")).unwrap();
    bridge.sync_into(&mut store).await;
    let key = ConversationKey { phone_number_id: PHONE.into(), contact: coexist_core::ContactKey::from_wa_id("15551230001") };
    assert_eq!(store.messages(&key, None, 50).unwrap().len(), 1);
}

#[tokio::test]
async fn script_bearing_customer_text_is_kept_verbatim_and_search_input_is_inert() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = start_bridge(dir.path()).await;
    let payload = "<img src=x onerror=alert(1)><script>alert('x')</script>";
    let name = "<b onmouseover=alert(2)>Mallory</b>";
    let body = inbound_text("wamid.X1", "15551230009", name, 1_764_000_000, payload);
    assert_eq!(bridge.post_signed(body).await, 200);

    let mut store = Store::open(dir.path().join("desk.db")).unwrap();
    bridge.sync_into(&mut store).await;
    let key = ConversationKey { phone_number_id: PHONE.into(), contact: coexist_core::ContactKey::from_wa_id("15551230009") };
    let messages = store.messages(&key, None, 50).unwrap();
    let shown = serde_json::to_string(&messages).unwrap();
    assert!(shown.contains("onerror=alert(1)"), "the text is kept, to be rendered as text: {shown}");
    let summary = store.conversation(&key, 1_764_000_100).unwrap().expect("conversation");
    assert_eq!(summary.contact_name.as_deref(), Some(name));

    for hostile in ["\"", "*", "NEAR(", "'; DROP TABLE messages; --", "a OR b AND NOT c", "col:x", "^", "((", "\u{0}"] {
        let query = SearchQuery { text: hostile.into(), ..Default::default() };
        store.search(&query).unwrap_or_else(|e| panic!("search for {hostile:?} failed: {e}"));
    }
    let hits = store.search(&SearchQuery { text: "onerror".into(), ..Default::default() }).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(store.messages(&key, None, 50).unwrap().len(), 1, "nothing dropped by a hostile query");
}

/// The team's routes (assignments, done, notes, quick replies) take the same hostile bodies as
/// the webhook: each is refused in words, and nothing reaches the log; a script-bearing note is
/// kept byte for byte (the webview shows it as text, see tests/e2e_team.rs).
#[tokio::test]
async fn hostile_bodies_on_the_team_routes_are_refused_and_nothing_is_relayed() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = start_bridge(dir.path()).await;
    let number = coexist_core::NumberSettings {
        phone_number_id: PHONE.into(),
        waba_id: "102290129340398".into(),
        display_number: "+15550100".into(),
        mode: coexist_core::NumberMode::Coexistence,
        tier_mps: 20,
    };
    coexist_bridge::admin::add_number(dir.path().join("bridge.db"), number).unwrap();
    let conversation = format!("/v1/numbers/{PHONE}/conversations/15551230001");
    let routes = [
        (reqwest::Method::PUT, format!("{conversation}/assignee")),
        (reqwest::Method::PUT, format!("{conversation}/done")),
        (reqwest::Method::POST, format!("{conversation}/notes")),
        (reqwest::Method::PUT, "/v1/quick-replies/thanks".to_string()),
    ];
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let oversized = format!("{{\"text\":\"{}\"}}", "x".repeat(3 * 1024 * 1024)).into_bytes();
    let call = |method: reqwest::Method, path: String, token: &str, body: Vec<u8>| {
        let request = bridge.http.request(method, format!("{}{path}", bridge.url)).bearer_auth(token).header("content-type", "application/json");
        async move { request.body(body).send().await.unwrap() }
    };
    for (method, path) in &routes {
        let refusals: [(&[u8], u16); 6] = [
            (b"{\"text\": \"\xff\xfe\", \"assignee\": \"\xff\", \"done\": true}", 400),
            (b"{\"text\": \"cut sho", 400),
            (&nested, 400),
            (b"{\"text\": 5, \"assignee\": 5, \"done\": \"yes\"}", 400),
            (b"", 400),
            (&oversized, 413),
        ];
        for (body, expected) in refusals {
            let resp = call(method.clone(), path.clone(), &bridge.token, body.to_vec()).await;
            let status = resp.status().as_u16();
            let words = resp.text().await.unwrap_or_default();
            assert_eq!(status, expected, "{method} {path} with {} bytes: {words}", body.len());
            if status == 400 {
                assert!(words.contains("send {"), "the refusal says what to send: {words}");
            }
        }
        let wrong_token = call(method.clone(), path.clone(), "cxb_not-a-token", b"{\"text\":\"hi\"}".to_vec()).await;
        assert_eq!(wrong_token.status().as_u16(), 401);
    }
    let odd_contact = call(reqwest::Method::POST, format!("/v1/numbers/{PHONE}/conversations/%3Cscript%3E/notes"), &bridge.token, b"{\"text\":\"hi\"}".to_vec()).await;
    assert_eq!(odd_contact.status().as_u16(), 400);
    let unknown_number = call(reqwest::Method::POST, "/v1/numbers/999/conversations/15551230001/notes".into(), &bridge.token, b"{\"text\":\"hi\"}".to_vec()).await;
    assert_eq!(unknown_number.status().as_u16(), 404);
    let logged: Vec<String> = bridge.events_after(0).await.iter().map(|e| format!("{:?}", e.kind)).collect();
    assert_eq!(logged, ["Number"], "nothing refused reached the log");

    let script = "<img src=x onerror=alert(1)> \u{202e}evil\u{202c} 'DROP TABLE notes;-- \"quoted\"";
    let accepted = call(reqwest::Method::POST, format!("{conversation}/notes"), &bridge.token, serde_json::to_vec(&serde_json::json!({"text": script})).unwrap()).await;
    assert_eq!(accepted.status().as_u16(), 201);
    let mut store = Store::open(dir.path().join("inbox.db")).unwrap();
    bridge.sync_into(&mut store).await;
    let key = ConversationKey { phone_number_id: PHONE.into(), contact: coexist_core::ContactKey::from_wa_id("15551230001") };
    assert_eq!(store.notes(&key, None, None).unwrap()[0].text, script, "kept byte for byte");
}
