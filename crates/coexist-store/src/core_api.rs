//! TEMPORARY: coexist-core's parser and error explanations are being written; until they land
//! these stand-ins let the store compile. Replaced by re-exports of the real functions.

pub(crate) struct ErrorExplanation {
    pub reason: String,
    pub what_to_do: String,
}

pub(crate) fn explain_meta_error(code: i64) -> ErrorExplanation {
    ErrorExplanation { reason: format!("Meta error {code}"), what_to_do: String::new() }
}

pub(crate) fn events_from_relay(_ev: &coexist_core::RelayEvent) -> Result<Vec<coexist_core::Event>, String> {
    Err("parser not available yet".into())
}
