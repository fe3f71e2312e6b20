//! Does a signed webhook body parse? Bodies that don't are quarantined, not relayed.
//!
//! "Parses" means exactly what desktops will do with it: `coexist_core::check_webhook` refuses
//! what `coexist_core::parse_webhook` refuses (strict envelope, tolerant inside) without reading
//! the messages, so nothing is relayed that a desktop cannot read.

/// `Ok(text)` when `body` is a readable Meta webhook; otherwise why not, in words.
pub fn check(body: &[u8]) -> Result<String, String> {
    coexist_core::check_webhook(body).map_err(|e| format!("not a Meta webhook: {e}"))?;
    String::from_utf8(body.to_vec()).map_err(|_| "not a Meta webhook: the body is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn envelopes_pass_and_garbage_does_not() {
        let ok = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"a":1}}]}]}"#;
        assert!(check(ok).is_ok());
        assert!(check(b"not json").unwrap_err().contains("not a Meta webhook"));
        assert!(check(br#"{"object":"x"}"#).is_err());
        assert!(check(br#"{"object":"whatsapp_business_account","entry":"nope"}"#).is_err());
    }
}
