//! Blocking a customer: `PUT /v1/numbers/{id}/conversations/{contact}/blocked` with
//! `{"blocked": true}` (or `false` to unblock); `GET /v1/numbers/{id}/blocked` lists them.
//! Unlike the team's other marks this one reaches Meta (its Block Users API): the customer can no
//! longer write to the number and nobody can message them. The bridge relays a `block` entry
//! only once Meta took it, so every desktop shows what Meta enforces.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use coexist_core::{BlockMark, RelayKind};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::graph::Reply;
use crate::server::AppState;
use crate::team::TeamConversation;

#[derive(Deserialize)]
struct BlockRequest {
    blocked: bool,
}

/// Agents and admins. Meta's refusal (a customer who has not written in the last 24 hours, a
/// full block list) comes back with Meta's status (502 for the bridge's own token), its body
/// under `meta`, and the reason in plain words as `error.message`.
pub async fn set_blocked(State(state): State<AppState>, caller: Caller, at: TeamConversation, body: Bytes) -> Result<Response, ApiError> {
    caller.require_send()?;
    let request: BlockRequest = crate::json_body::parse(&body, r#"{"blocked": true}, or false to unblock"#)?;
    crate::send::require_access_token(&state)?;
    let TeamConversation { phone_number_id, contact } = at;
    let reply = state
        .graph
        .block_user(&phone_number_id, &contact, request.blocked, &state.metrics)
        .await
        .map_err(|e| ApiError::new(StatusCode::GATEWAY_TIMEOUT, format!("{e}; nothing was changed, try again later")))?;
    if !reply.is_success() {
        return Ok(refused(&reply, &contact, request.blocked));
    }
    let mark = BlockMark { phone_number_id, contact, blocked: request.blocked, by: caller.name, at_ms: crate::now_ms() };
    let seq = crate::team::append(&state, RelayKind::Block, &mark, mark.at_ms).await?;
    Ok(Json(json!({"block": mark, "seq": seq})).into_response())
}

/// Meta's answer kept whole under `meta`; `error.message` says why in words. A refusal about
/// this one customer carries its code in `block_users.failed_users[0].errors[0]`, anything
/// else (a bad token, a throttled call) in `error`.
fn refused(reply: &Reply, contact: &str, block: bool) -> Response {
    let code = reply
        .body
        .pointer("/block_users/failed_users/0/errors/0/code")
        .and_then(|c| c.as_i64().or_else(|| c.as_str()?.parse().ok()))
        .or_else(|| reply.error_code());
    let verb = if block { "block" } else { "unblock" };
    let message = match code {
        Some(code) => {
            let e = coexist_core::explain_block_error(code);
            format!("Meta did not {verb} {contact}: {} ({code}). {}.", e.reason, e.what_to_do)
        }
        None => format!("Meta did not {verb} {contact} and gave no error code; try again later"),
    };
    let status = crate::send::upstream_status(reply.status);
    let body: Value = json!({"error": {"message": message, "type": "meta", "code": code}, "meta": reply.body});
    (status, Json(body)).into_response()
}

/// `GET /v1/numbers/{id}/blocked`: the number's block list as Meta keeps it (customers blocked
/// outside Coexist included): `{"phone_number_id", "blocked": [wa_id...]}`. Agents and admins.
pub async fn list_blocked(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require_send()?;
    crate::send::require_access_token(&state)?;
    let number = crate::send::known_number(&state, &id).await?;
    match state.graph.blocked_users(&number.phone_number_id, &state.metrics).await {
        Ok(Ok(blocked)) => Ok(Json(json!({"phone_number_id": number.phone_number_id, "blocked": blocked})).into_response()),
        Ok(Err(reply)) => Ok(crate::send::meta_refusal(reply)),
        Err(e) => Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, format!("{e}; try again later"))),
    }
}
