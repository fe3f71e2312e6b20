//! Webhook bodies shaped exactly like Meta's: `{"object":"whatsapp_business_account","entry":[{
//! "id": WABA_ID, "changes":[{"field": ..., "value": {...}}]}]}`.

use serde_json::{json, Map, Value};

use crate::state::NumberState;

/// The outer envelope for one change.
pub fn envelope(waba_id: &str, field: &str, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}]
    })
}

/// The envelope WABA-level fields use (`account_update`, `message_template_status_update`):
/// the entry carries a `time`, the value has no number metadata.
pub fn envelope_timed(waba_id: &str, time: i64, field: &str, value: Value) -> Value {
    json!({
        "entry": [{"id": waba_id, "time": time, "changes": [{"value": value, "field": field}]}],
        "object": "whatsapp_business_account"
    })
}

/// `messaging_product` + `metadata` every number-level value starts with.
pub fn number_value(number: &NumberState) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("messaging_product".into(), json!("whatsapp"));
    m.insert(
        "metadata".into(),
        json!({
            "display_phone_number": number.spec.display_digits(),
            "phone_number_id": number.spec.phone_number_id,
        }),
    );
    m
}

/// A `messages` webhook: a customer wrote in.
pub fn inbound(number: &NumberState, wa_id: &str, name: Option<&str>, message: Value) -> Value {
    let mut v = number_value(number);
    let profile = match name {
        Some(n) => json!({"name": n}),
        None => json!({}),
    };
    v.insert(
        "contacts".into(),
        json!([{"profile": profile, "wa_id": wa_id}]),
    );
    v.insert("messages".into(), json!([message]));
    envelope(&number.waba_id, "messages", Value::Object(v))
}

/// A `messages` webhook carrying one status of an outbound message.
pub fn status(number: &NumberState, status: Value) -> Value {
    let mut v = number_value(number);
    v.insert("statuses".into(), json!([status]));
    envelope(&number.waba_id, "messages", Value::Object(v))
}

/// An `smb_message_echoes` webhook: the Business App sent, edited or revoked a message.
pub fn echo(number: &NumberState, echo: Value) -> Value {
    let mut v = number_value(number);
    v.insert("message_echoes".into(), json!([echo]));
    envelope(&number.waba_id, "smb_message_echoes", Value::Object(v))
}

/// One `history` chunk.
pub fn history_chunk(
    number: &NumberState,
    phase: i64,
    chunk_order: i64,
    progress: i64,
    threads: Vec<Value>,
) -> Value {
    let mut v = number_value(number);
    v.insert(
        "history".into(),
        json!([{"metadata": {"phase": phase, "chunk_order": chunk_order, "progress": progress}, "threads": threads}]),
    );
    envelope(&number.waba_id, "history", Value::Object(v))
}

/// The follow-up `history` webhook that carries a recent media message's contents.
pub fn history_media(number: &NumberState, message: Value) -> Value {
    let mut v = number_value(number);
    v.insert("messages".into(), json!([message]));
    envelope(&number.waba_id, "history", Value::Object(v))
}

/// The `history` webhook sent when the business declined to share its chat history.
pub fn history_declined(number: &NumberState) -> Value {
    let mut v = number_value(number);
    v.insert(
        "history".into(),
        json!([{"errors": [{
            "code": 2593109,
            "title": "History sync is turned off by the business from the WhatsApp Business App",
            "message": "History sync is turned off by the business from the WhatsApp Business App",
            "error_data": {"details": "History sharing is turned off by the business"}
        }]}]),
    );
    envelope(&number.waba_id, "history", Value::Object(v))
}

/// An `smb_app_state_sync` webhook (the Business App's contacts).
pub fn state_sync(number: &NumberState, items: Vec<Value>) -> Value {
    let mut v = number_value(number);
    v.insert("state_sync".into(), Value::Array(items));
    envelope(&number.waba_id, "smb_app_state_sync", Value::Object(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NumberSpec;

    #[test]
    fn number_level_envelope_is_metas() {
        let n = NumberState {
            spec: NumberSpec::default_coexistence(),
            waba_id: "W".into(),
            connected: true,
        };
        let b = inbound(&n, "15551234567", Some("Ana"), json!({"id": "wamid.x"}));
        assert_eq!(b["object"], "whatsapp_business_account");
        assert_eq!(b["entry"][0]["id"], "W");
        let change = &b["entry"][0]["changes"][0];
        assert_eq!(change["field"], "messages");
        assert_eq!(change["value"]["messaging_product"], "whatsapp");
        assert_eq!(
            change["value"]["metadata"]["display_phone_number"],
            "15555550100"
        );
        assert_eq!(
            change["value"]["metadata"]["phone_number_id"],
            "110200300400501"
        );
        assert_eq!(change["value"]["contacts"][0]["profile"]["name"], "Ana");
    }
}
