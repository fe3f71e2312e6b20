//! Does a signed webhook body parse? Bodies that don't are quarantined, not relayed.
//!
//! "Parses" means exactly what desktops will do with it: `coexist_core::check_webhook` refuses
//! what `coexist_core::parse_webhook` refuses (strict envelope, tolerant inside) without reading
//! the messages, so nothing is relayed that a desktop cannot read.

use serde_json::Value;

/// A webhook body that parses.
#[derive(Debug, PartialEq)]
pub struct Checked {
    /// The body, as Meta sent it.
    pub text: String,
    /// See [`meta_time`].
    pub meta_time: i64,
}

/// `Ok` when `body` is a readable Meta webhook; otherwise why not, in words.
pub fn check(body: &[u8]) -> Result<Checked, String> {
    let value = coexist_core::check_webhook(body).map_err(|e| format!("not a Meta webhook: {e}"))?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| "not a Meta webhook: the body is not UTF-8".to_string())?;
    Ok(Checked { text, meta_time: meta_time(&value) })
}

/// Meta's time of a webhook, in seconds: the latest `time` of its entries and `timestamp` of
/// the messages, statuses and echoes it holds; 0 when it holds none.
///
/// Read from the body alone, so a redelivery (the same body) has the same. The SQLite log
/// finds redeliveries by this time and the body's hash (db/sqlite.rs): new webhooks carry
/// times near now, so a batch's keys land together at the end of that index instead of one
/// page each all over it. Stored: its meaning must not change.
pub fn meta_time(webhook: &Value) -> i64 {
    let entries = webhook.get("entry").and_then(Value::as_array).into_iter().flatten();
    entries
        .flat_map(|entry| {
            let changes = entry.get("changes").and_then(Value::as_array).into_iter().flatten();
            let stamped = changes.flat_map(|change| {
                ["messages", "statuses", "message_echoes"]
                    .into_iter()
                    .filter_map(|list| change.get("value")?.get(list)?.as_array())
                    .flatten()
                    .filter_map(|item| item.get("timestamp"))
            });
            entry.get("time").into_iter().chain(stamped)
        })
        .filter_map(seconds)
        .max()
        .unwrap_or(0)
}

/// Meta writes times as numbers or as strings of digits.
fn seconds(time: &Value) -> Option<i64> {
    match time {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_pass_and_garbage_does_not() {
        let ok = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"a":1}}]}]}"#;
        assert_eq!(check(ok).unwrap(), Checked { text: String::from_utf8(ok.to_vec()).unwrap(), meta_time: 0 });
        assert!(check(b"not json").unwrap_err().contains("not a Meta webhook"));
        assert!(check(br#"{"object":"x"}"#).is_err());
        assert!(check(br#"{"object":"whatsapp_business_account","entry":"nope"}"#).is_err());
    }

    #[test]
    fn the_meta_time_is_the_latest_time_meta_wrote() {
        let messages = json!({"entry": [{"changes": [{"field": "messages", "value": {
            "messages": [{"timestamp": "1764000005"}, {"timestamp": "1764000003"}],
            "statuses": [{"timestamp": "1764000009"}]
        }}]}]});
        assert_eq!(meta_time(&messages), 1_764_000_009);
        let echoes = json!({"entry": [{"changes": [{"field": "smb_message_echoes", "value": {"message_echoes": [{"timestamp": 1764000100}]}}]}]});
        assert_eq!(meta_time(&echoes), 1_764_000_100);
        let template = json!({"entry": [{"time": 1764000200, "changes": [{"field": "message_template_status_update", "value": {}}]}]});
        assert_eq!(meta_time(&template), 1_764_000_200);
        let odd = json!({"entry": [{"time": "soon", "changes": [{"value": {"messages": [{"timestamp": null}]}}]}]});
        assert_eq!(meta_time(&odd), 0);
        assert_eq!(meta_time(&json!({"a": 1})), 0);
    }
}
