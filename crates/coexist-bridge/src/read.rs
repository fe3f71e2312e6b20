//! `POST /v1/numbers/{phone_number_id}/read` with `{"message_id": WAMID}`: mark a customer's
//! message read at Meta, through the bridge's token. The customer then sees blue ticks on it and
//! on every earlier message of the chat. With `"typing": true` the customer also sees "typing…"
//! until the reply arrives or 25 s pass (Meta's typing indicator).
//!
//! Not a message: no Idempotency-Key, nothing recorded, no throughput slot. Marking a message
//! read twice is harmless, and read marks do not count against the number's messages per second.
//! A bridge with read receipts off (`BridgeConfig::read_receipts`) answers without calling Meta.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::limiter::Departure;
use crate::server::AppState;

/// A wamid is ~60 characters; anything far longer is not one.
const MAX_WAMID_LEN: usize = 200;

#[derive(Deserialize)]
struct ReadRequest {
    message_id: String,
    #[serde(default)]
    typing: bool,
}

pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(phone_number_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_send()?;
    crate::send::require_access_token(&state)?;
    crate::send::known_number(&state, &phone_number_id).await?;
    let read = parse(&body)?;
    if !state.config.read_receipts {
        return Ok(Json(json!({"success": false, "skipped": "read receipts are off on this bridge (COEXIST_READ_RECEIPTS)"})).into_response());
    }
    let mut request = json!({"messaging_product": "whatsapp", "status": "read", "message_id": read.message_id});
    if read.typing {
        request["typing_indicator"] = json!({"type": "text"});
    }
    let unlimited = || async { Departure::unlimited() };
    match state.graph.send_message(&phone_number_id, &request, unlimited, &state.metrics).await {
        Ok(reply) => Ok(crate::send::meta_answer(reply)),
        Err(e) => Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, format!("{e}; the message is not marked read, try again later"))),
    }
}

fn parse(body: &[u8]) -> Result<ReadRequest, ApiError> {
    let mut request: ReadRequest = crate::json_body::parse(body, r#"{"message_id": "wamid…"}, the customer message to mark read"#)?;
    request.message_id = request.message_id.trim().to_string();
    let id = &request.message_id;
    if id.is_empty() || id.len() > MAX_WAMID_LEN || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request("message_id must be the wamid of a message the customer sent"));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_one_wamid() {
        let read = parse(br#"{"message_id":" wamid.A= "}"#).unwrap();
        assert_eq!((read.message_id.as_str(), read.typing), ("wamid.A=", false));
        assert!(parse(br#"{"message_id":"wamid.A","typing":true}"#).unwrap().typing);
        assert!(parse(b"{}").is_err());
        assert!(parse(br#"{"message_id":""}"#).is_err());
        assert!(parse(br#"{"message_id":"wamid <script>"}"#).is_err());
        assert!(parse(format!(r#"{{"message_id":"{}"}}"#, "w".repeat(201)).as_bytes()).is_err());
    }
}
