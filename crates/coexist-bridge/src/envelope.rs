//! Does a signed webhook body parse? Bodies that don't are quarantined, not relayed.
//!
//! "Parses" means exactly what desktops will do with it: `coexist_core::check_webhook` refuses
//! what `coexist_core::parse_webhook` refuses (strict envelope, tolerant inside) without reading
//! the messages, so nothing is relayed that a desktop cannot read.

/// A webhook body that parses.
#[derive(Debug, PartialEq)]
pub struct Checked {
    /// The body, as Meta sent it.
    pub text: String,
    /// Meta's time of it ([`coexist_core::webhook_time`]): redeliveries are found by it and
    /// the body's hash (db/shared.rs, migration 3).
    pub meta_time: i64,
}

/// `Ok` when `body` is a readable Meta webhook; otherwise why not, in words.
pub fn check(body: &[u8]) -> Result<Checked, String> {
    let value = coexist_core::check_webhook(body).map_err(|e| format!("not a Meta webhook: {e}"))?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| "not a Meta webhook: the body is not UTF-8".to_string())?;
    Ok(Checked { text, meta_time: coexist_core::webhook_time(&value) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_pass_and_garbage_does_not() {
        let ok = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","time":1764000000,"changes":[{"field":"messages","value":{"a":1}}]}]}"#;
        let checked = Checked { text: String::from_utf8(ok.to_vec()).unwrap(), meta_time: 1_764_000_000 };
        assert_eq!(check(ok).unwrap(), checked);
        assert!(check(b"not json").unwrap_err().contains("not a Meta webhook"));
        assert!(check(br#"{"object":"x"}"#).is_err());
        assert!(check(br#"{"object":"whatsapp_business_account","entry":"nope"}"#).is_err());
    }
}
