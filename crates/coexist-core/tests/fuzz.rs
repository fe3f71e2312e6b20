//! Fuzz-style properties: no input ever panics; a well-formed envelope never fails, whatever
//! is inside it. Failures found by proptest are kept in tests/regressions/*.proptest-regressions
//! (replayed first on every run); hand-kept inputs in tests/regressions/*.json|*.bin are
//! replayed by `regressions_replay`.

use std::fs;
use std::path::Path;

use coexist_core::*;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map, Value};

const KEYS: &[&str] = &[
    "object", "entry", "id", "changes", "field", "value", "metadata", "phone_number_id", "display_phone_number",
    "contacts", "profile", "name", "wa_id", "user_id", "messages", "from", "from_user_id", "to", "timestamp", "type",
    "text", "body", "image", "audio", "voice", "caption", "context", "referral", "errors", "code", "title",
    "error_data", "details", "statuses", "status", "recipient_id", "recipient_user_id", "conversation", "pricing",
    "biz_opaque_callback_data", "message_echoes", "edit", "revoke", "original_message_id", "message", "history",
    "threads", "history_context", "phase", "chunk_order", "progress", "state_sync", "contact", "full_name",
    "first_name", "phone_number", "action", "event", "message_template_id", "message_template_name",
    "message_template_language", "reason", "unsupported", "reaction", "emoji", "message_id", "interactive",
    "button_reply", "list_reply", "location", "latitude", "longitude", "order", "product_items", "template",
    "language", "wamid", "agent", "idempotency_key", "templates", "waba_id", "mode", "tier_mps", "display_number",
];

const WORDS: &[&str] = &[
    "whatsapp_business_account", "messages", "smb_message_echoes", "history", "smb_app_state_sync",
    "message_template_status_update", "account_update", "text", "image", "audio", "unsupported", "unknown", "edit",
    "revoke", "reaction", "interactive", "button_reply", "location", "system", "template", "sent", "delivered",
    "read", "failed", "add", "remove", "contact", "voice", "1739321024", "16505551234", "+1 650-555-1234", "",
    "PARTNER_REMOVED", "APPROVED", "wamid.X", "coexistence",
];

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(KEYS).prop_map(str::to_string), 1 => ".{0,8}"]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..8).prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn arb_field() -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(&WORDS[1..7]).prop_map(str::to_string), 1 => ".{0,10}"]
}

fn envelope(changes: Vec<(String, Value)>) -> Value {
    let changes: Vec<Value> = changes.into_iter().map(|(field, value)| json!({"field": field, "value": value})).collect();
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": changes}]})
}

fn no_panic_everywhere(value: &Value) {
    let _ = parse_webhook_value(value);
    let _ = parse_webhook(&serde_json::to_vec(value).unwrap());
    for kind in [RelayKind::Webhook, RelayKind::Outbound, RelayKind::Templates, RelayKind::Number] {
        let _ = events_from_relay(&RelayEvent::new(1, kind, 0, &value));
    }
}

/// The parser reads parts in place; reading them by copying (the plain way) must give the same
/// events, or the same error.
/// And the bridge's check refuses exactly what the parser refuses, with the same error.
fn assert_reads_as_copying(bytes: &[u8]) {
    let parsed = parse_webhook(bytes);
    assert_eq!(parsed, parse_webhook_by_copying(bytes), "{}", String::from_utf8_lossy(bytes));
    assert_eq!(check_webhook(bytes).map(|_| ()), parsed.map(|_| ()), "{}", String::from_utf8_lossy(bytes));
}

fn assert_round_trips(events: &[Event]) {
    for e in events {
        let json = serde_json::to_string(e).expect("events serialize");
        let _: Event = serde_json::from_str(&json).expect("events deserialize");
    }
}

fn fixtures() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<Value> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .map(|p| serde_json::from_slice(&fs::read(p).unwrap()).unwrap())
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}

/// Every JSON path (as pointer) inside `v`.
fn pointers(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{prefix}/{i}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        _ => {}
    }
}

fn config(file: &'static str) -> ProptestConfig {
    ProptestConfig { cases: 384, failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))), ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config("tests/regressions/fuzz.proptest-regressions"))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_webhook(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(value in arb_json()) {
        no_panic_everywhere(&value);
        assert_reads_as_copying(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn mutated_envelopes_read_as_copying(pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), replacement in arb_json()) {
        // Anywhere in the body, the envelope included: each shape the in-place reading declines
        // must fall back to the plain one.
        let all = fixtures();
        let mut body = all[pick.index(all.len())].clone();
        let mut paths = vec![String::new()];
        pointers(&body, String::new(), &mut paths);
        let path = &paths[at.index(paths.len())];
        *body.pointer_mut(path).unwrap() = replacement;
        assert_reads_as_copying(&serde_json::to_vec(&body).unwrap());
    }

    #[test]
    fn well_formed_envelopes_never_fail(changes in prop::collection::vec((arb_field(), arb_json()), 0..4)) {
        let body = envelope(changes);
        let events = parse_webhook_value(&body);
        prop_assert!(events.is_ok(), "{:?}", events);
        let events = events.unwrap();
        assert_round_trips(&events);
        // The bytes path and the relay path agree with the value path (compared on the value
        // the bytes decode to: serde_json's float printing/parsing is not an exact round trip).
        let bytes = serde_json::to_vec(&body).unwrap();
        let decoded: Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(parse_webhook(&bytes).unwrap(), parse_webhook_value(&decoded).unwrap());
        // Relayed as text, as the bridge relays it: the same as the bytes.
        let relayed = RelayEvent::new(3, RelayKind::Webhook, 0, &body);
        prop_assert_eq!(events_from_relay(&relayed).unwrap(), parse_webhook(&bytes).unwrap());
    }

    #[test]
    fn mutated_fixtures_never_fail(pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), replacement in arb_json()) {
        let all = fixtures();
        let mut body = all[pick.index(all.len())].clone();
        let mut paths = Vec::new();
        pointers(&body["entry"][0]["changes"][0]["value"], "/entry/0/changes/0/value".to_string(), &mut paths);
        if !paths.is_empty() {
            let path = &paths[at.index(paths.len())];
            *body.pointer_mut(path).unwrap() = replacement;
        }
        let events = parse_webhook_value(&body);
        prop_assert!(events.is_ok(), "{:?}", events);
        assert_round_trips(&events.unwrap());
        assert_reads_as_copying(&serde_json::to_vec(&body).unwrap());
    }

    #[test]
    fn corrupted_fixture_bytes_never_panic(pick in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let all = fixtures();
        let mut bytes = serde_json::to_vec(&all[pick.index(all.len())]).unwrap();
        for (i, b) in flips {
            let n = bytes.len();
            bytes[i.index(n)] = b;
        }
        assert_reads_as_copying(&bytes);
    }
}

#[test]
fn fixtures_read_as_copying() {
    for body in fixtures() {
        assert_reads_as_copying(&serde_json::to_vec(&body).unwrap());
    }
}

/// Hand-kept inputs: every file in tests/regressions/ that is `.json` or `.bin` must not panic;
/// files named `ok-*.json` must parse (well-formed envelopes); `err-*` must be refused.
#[test]
fn regressions_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut replayed = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !(name.ends_with(".json") || name.ends_with(".bin")) {
            continue;
        }
        let bytes = fs::read(&path).unwrap();
        assert_reads_as_copying(&bytes);
        let result = parse_webhook(&bytes);
        match (&result, name.starts_with("ok-"), name.starts_with("err-")) {
            (Ok(events), _, false) => assert_round_trips(events),
            (Err(e), true, _) => panic!("{name}: {e}"),
            (Ok(_), _, true) => panic!("{name} should be refused"),
            (Err(e), false, _) => assert!(!e.to_string().is_empty()),
        }
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            no_panic_everywhere(&value);
        }
        replayed += 1;
    }
    assert!(replayed >= 5, "only {replayed} regression inputs");
}

#[test]
fn deeply_nested_json_is_refused_not_crashed() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(parse_webhook(deep.as_bytes()), Err(ParseError::Json { .. })));
}
