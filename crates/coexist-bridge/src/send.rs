//! The send relay: `POST /v1/numbers/{phone_number_id}/messages`.
//!
//! Agents never hold the access token: they send Graph message JSON here with an
//! `Idempotency-Key`; the bridge stamps `biz_opaque_callback_data` with the key (so Meta's status
//! webhooks carry it back), waits for the number's rate-limit slot, calls Graph (retrying
//! transient failures), records an accepted send as an `Outbound` event, and stores the answer
//! under the key: the same key again gets the same answer without a second Graph call.
//! Transient failures (5xx, timeouts, 130429 after every retry) and "retry later" Meta errors
//! are NOT stored, so the client may retry them with the same key: Meta refused, so nothing
//! was sent and calling again cannot double-send.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use coexist_core::OutboundRecord;
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::db::{Append, Appended, SendRecord, StoredSend};
use crate::error::ApiError;
use crate::graph::Reply;
use crate::metrics::Metrics;
use crate::numbers::{self, COEXISTENCE_MPS};
use crate::server::AppState;

const MAX_KEY_LEN: usize = 200;

pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    Path(phone_number_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_send()?;
    require_access_token(&state)?;
    let key = idempotency_key(&headers)?;
    let message = parse_message(&body)?;
    let number = known_number(&state, &phone_number_id).await?;
    // The send goes on as its own task: a client that hangs up (a desktop killed mid-send)
    // cancels this handler, and a send cancelled between Graph's answer and its record would
    // go out a second time when the client retries with the same key.
    let relay = tokio::spawn(relay(state, caller.name, phone_number_id, key, message, number));
    relay.await.map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the send stopped unexpectedly: {e}")))?
}

/// Send once per key: the stored answer when there is one, else call Graph and record.
async fn relay(
    state: AppState,
    agent: String,
    phone_number_id: String,
    key: String,
    mut message: Map<String, Value>,
    number: coexist_core::NumberSettings,
) -> Result<Response, ApiError> {
    let request_hash = crate::sha256_hex(format!("{phone_number_id}\n{}", Value::Object(message.clone())).as_bytes());
    let _key_guard = state.key_locks.lock(&key).await;
    if let Some(stored) = state.db.send_answer(&key).await? {
        return replay(&state, stored, &phone_number_id, &request_hash);
    }

    message.insert("biz_opaque_callback_data".into(), Value::String(key.clone()));
    let message = Value::Object(message);
    let cap = match number.mode {
        coexist_core::NumberMode::Coexistence => COEXISTENCE_MPS,
        coexist_core::NumberMode::Standard => number.tier_mps,
    };
    let m = &state.metrics;
    let slot = || state.limiters.until_ready(&phone_number_id, cap, m);
    let reply = match state.graph.send_message(&phone_number_id, &message, slot, m).await {
        Ok(reply) => reply,
        Err(unreachable) => {
            Metrics::inc(&m.sends_failed);
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("{unreachable}; nothing is known to be sent — retry later with the same Idempotency-Key"),
            ));
        }
    };
    let record = SendRecord {
        idempotency_key: key.clone(),
        phone_number_id: phone_number_id.clone(),
        request_hash,
        agent,
        status: reply.status,
        answer: Value::Null,
        outbound: None,
        received_at_ms: crate::now_ms(),
    };
    if reply.is_success() {
        accepted(&state, record, &message, reply).await
    } else {
        refused(&state, record, reply).await
    }
}

/// Meta accepted: record the Outbound event and the answer `{"wamid", "seq"}`.
async fn accepted(state: &AppState, mut record: SendRecord, message: &Value, reply: Reply) -> Result<Response, ApiError> {
    let wamid = reply.body.pointer("/messages/0/id").and_then(Value::as_str).map(str::to_string);
    let Some(wamid) = wamid else {
        Metrics::inc(&state.metrics.sends_failed);
        return Err(ApiError::new(StatusCode::BAD_GATEWAY, format!("Meta accepted the send but returned no message id: {}", reply.body)));
    };
    record.outbound = Some(OutboundRecord {
        phone_number_id: record.phone_number_id.clone(),
        to: message.get("to").and_then(Value::as_str).unwrap_or_default().to_string(),
        wa_id: reply.body.pointer("/contacts/0/wa_id").and_then(Value::as_str).map(str::to_string),
        wamid: wamid.clone(),
        agent: record.agent.clone(),
        idempotency_key: record.idempotency_key.clone(),
        timestamp: crate::now_ms() / 1000,
        message: message.clone(),
    });
    record.answer = json!({ "wamid": wamid });
    match state.writer.append(Append::Send(Box::new(record))).await {
        Ok(Appended::Send(stored)) => {
            Metrics::inc(&state.metrics.sends_accepted);
            Ok(answer(stored.status, stored.answer))
        }
        Ok(other) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected storage result {other:?}"))),
        Err(e) => {
            tracing::error!(error = %e, wamid, "Meta accepted a send that could not be recorded");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Meta accepted the message (wamid {wamid}) but the bridge could not record it: {e}. Do not resend it."),
            ))
        }
    }
}

/// Meta errors after which the *same* message can succeed later (throughput, pair rate limit,
/// Meta-side hiccups, the bridge's token, the account's payment). Nothing was sent, so they
/// are not stored under the key: the client's retry with the same key calls Meta again.
const RETRY_LATER_CODES: &[i64] = &[1, 2, 4, 190, 80007, 130429, 131000, 131042, 131056];

/// Meta refused: pass its body and status through, plus plain words. Final refusals (about
/// the message itself, e.g. 131047 outside the window) are stored and replayed.
async fn refused(state: &AppState, mut record: SendRecord, reply: Reply) -> Result<Response, ApiError> {
    let retry_later = reply.error_code().is_some_and(|c| RETRY_LATER_CODES.contains(&c));
    let body = with_explanation(reply.body);
    if reply.transient || retry_later {
        Metrics::inc(&state.metrics.sends_failed);
        return Ok(answer(reply.status, body));
    }
    Metrics::inc(&state.metrics.sends_meta_error);
    record.answer = body.clone();
    match state.writer.append(Append::Send(Box::new(record))).await {
        Ok(Appended::Send(stored)) => Ok(answer(stored.status, stored.answer)),
        Ok(_) | Err(_) => Ok(answer(reply.status, body)),
    }
}

/// The number a send or an upload names, when this bridge serves it.
pub async fn known_number(state: &AppState, phone_number_id: &str) -> Result<coexist_core::NumberSettings, ApiError> {
    numbers::check_id("phone_number_id", phone_number_id).map_err(ApiError::bad_request)?;
    state.db.number(phone_number_id).await?.ok_or_else(|| {
        ApiError::not_found(format!("number {phone_number_id} is not on this bridge; an admin adds it with POST /v1/admin/numbers"))
    })
}

/// Without an access token every Graph call would fail with Meta's 190; say so up front.
pub fn require_access_token(state: &AppState) -> Result<(), ApiError> {
    if state.config.access_token.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the bridge has no Graph access token; its admin must set COEXIST_ACCESS_TOKEN and restart it",
        ));
    }
    Ok(())
}

/// The status to answer a desktop with for Meta's refusal of a call the bridge made: Meta's own,
/// except a 401/403, which is about the bridge's access token (502), not the desktop's sign-in.
pub fn upstream_status(meta_status: u16) -> StatusCode {
    match StatusCode::from_u16(meta_status) {
        Ok(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) | Err(_) => StatusCode::BAD_GATEWAY,
        Ok(status) => status,
    }
}

/// Meta's refusal of a call other than a send, for the desktop: [`upstream_status`] and
/// Meta's body [`with_explanation`].
pub fn meta_refusal(reply: crate::graph::Reply) -> Response {
    (upstream_status(reply.status), Json(with_explanation(reply.body))).into_response()
}

/// Meta's error body as-is plus `reason` and `what_to_do` (from the error code).
pub fn with_explanation(body: Value) -> Value {
    let mut map = match body {
        Value::Object(map) => map,
        other => Map::from_iter([("error".to_string(), other)]),
    };
    if let Some(code) = crate::graph::meta_error_code(&Value::Object(map.clone())) {
        let e = coexist_core::explain_meta_error(code);
        map.insert("reason".into(), Value::String(e.reason));
        map.insert("what_to_do".into(), Value::String(e.what_to_do));
    } else {
        map.insert("reason".into(), Value::String("Meta refused the request without an error code.".into()));
        map.insert("what_to_do".into(), Value::String("Read Meta's answer above; retry later if it looks temporary.".into()));
    }
    Value::Object(map)
}

fn replay(state: &AppState, stored: StoredSend, phone_number_id: &str, request_hash: &str) -> Result<Response, ApiError> {
    if stored.phone_number_id != phone_number_id || stored.request_hash != request_hash {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this Idempotency-Key was already used for a different message; use a new key for a new message",
        ));
    }
    Metrics::inc(&state.metrics.sends_replayed);
    Ok(answer(stored.status, stored.answer))
}

/// Meta's answer passed on with its status: as-is on success, with plain words on an error.
pub fn meta_answer(reply: Reply) -> Response {
    let body = if reply.is_success() { reply.body } else { with_explanation(reply.body) };
    answer(reply.status, body)
}

fn answer(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    (status, Json(body)).into_response()
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| ApiError::bad_request("missing Idempotency-Key header: send a unique key per message (e.g. a UUID) and reuse it on retries"))?;
    let key = key.to_str().map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(format!("Idempotency-Key must be 1-{MAX_KEY_LEN} visible ASCII characters")));
    }
    Ok(key.to_string())
}

fn parse_message(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body must be Graph message JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request("the body must be a JSON object (Graph message JSON)"));
    };
    match map.get("to") {
        Some(Value::String(to)) if !to.trim().is_empty() => Ok(map),
        _ => Err(ApiError::bad_request("the message needs a `to` (the customer's phone number or wa_id)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_errors_get_plain_words_and_keep_their_body() {
        let body = json!({"error": {"message": "Re-engagement message", "code": 131047, "fbtrace_id": "A"}});
        let out = with_explanation(body.clone());
        assert_eq!(out["error"], body["error"]);
        assert!(out["reason"].as_str().unwrap().contains("24 hours"));
        assert!(out["what_to_do"].as_str().unwrap().contains("template"));
    }

    #[test]
    fn keys_and_messages_are_checked() {
        let mut h = HeaderMap::new();
        assert!(idempotency_key(&h).is_err());
        h.insert("idempotency-key", "a b".parse().unwrap());
        assert!(idempotency_key(&h).is_err());
        h.insert("idempotency-key", "k-1".parse().unwrap());
        assert_eq!(idempotency_key(&h).unwrap(), "k-1");
        assert!(parse_message(b"[1]").is_err());
        assert!(parse_message(br#"{"type":"text"}"#).is_err());
        assert!(parse_message(br#"{"to":"1555","type":"text"}"#).is_ok());
    }
}
