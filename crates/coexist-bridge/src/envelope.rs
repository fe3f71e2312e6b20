//! Does a signed webhook body parse? Bodies that don't are quarantined, not relayed.
//!
//! TODO(core): switch to `coexist_core::parse_webhook` once it lands; until then this checks
//! the envelope Meta always sends: `{"object": .., "entry": [{"changes": [{"field", "value"}]}]}`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Envelope {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

/// `Ok` when `body` is a Meta webhook envelope; otherwise why not, in words.
pub fn check(body: &[u8]) -> Result<(), String> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| format!("not a Meta webhook envelope: {e}"))?;
    if env.object.is_empty() {
        return Err("not a Meta webhook envelope: `object` is empty".into());
    }
    for (i, entry) in env.entry.iter().enumerate() {
        for (j, change) in entry.changes.iter().enumerate() {
            if change.field.is_empty() || change.value.is_null() {
                return Err(format!("entry[{i}].changes[{j}] has no field or value"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn envelopes_pass_and_garbage_does_not() {
        let ok = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"a":1}}]}]}"#;
        assert!(check(ok).is_ok());
        assert!(check(b"not json").is_err());
        assert!(check(br#"{"object":"x"}"#).is_err());
        assert!(check(br#"{"object":"x","entry":[{"changes":[{"field":"messages"}]}]}"#).is_err());
    }
}
