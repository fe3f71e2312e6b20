//! JSON request bodies of the `/v1` routes. JSON is UTF-8 text: a body that is not is refused
//! whole, even when the bad bytes sit in a field the route ignores (serde skips unknown fields
//! without reading them, so it would let them through).

use crate::error::ApiError;

/// `body` as a `T`; a refusal says what to send (`hint`) and what was wrong.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8], hint: &str) -> Result<T, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request(format!("send {hint} (the body is not UTF-8 text)")))?;
    serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("send {hint} ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Done {
        #[allow(dead_code)]
        done: bool,
    }

    #[test]
    fn invalid_utf8_is_refused_even_in_an_ignored_field() {
        assert!(parse::<Done>(b"{\"done\": true}", "x").is_ok());
        assert!(parse::<Done>(b"{\"done\": true, \"other\": \"\xff\"}", "{\"done\": true}").is_err());
        assert!(serde_json::from_slice::<Done>(b"{\"done\": true, \"other\": \"\xff\"}").is_ok(), "what serde alone lets through");
    }
}
