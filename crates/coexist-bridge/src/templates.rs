//! The number's message templates at Meta: `POST /v1/numbers/{id}/templates/sync` relays the
//! WABA's whole catalog as one `Templates` event, and `POST /v1/numbers/{id}/templates` submits a
//! new template for Meta's review (admins), then relays the catalog with it (`PENDING`). Later
//! `message_template_status_update` webhooks are relayed like any webhook, so desktops keep the
//! catalog current between syncs.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use coexist_core::{NumberSettings, TemplateCatalog, TemplateDraft};
use serde_json::json;

use crate::auth::Caller;
use crate::db::{Append, Appended};
use crate::error::ApiError;
use crate::server::AppState;

pub async fn sync(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require_send()?;
    crate::send::require_access_token(&state)?;
    let number = crate::send::known_number(&state, &id).await?;
    Ok(match relay_catalog(&state, number).await? {
        Ok((seq, count)) => Json(json!({"seq": seq, "templates": count})).into_response(),
        Err(refusal) => refusal,
    })
}

/// Submit `TemplateDraft` JSON for Meta's review: checked first by the rules Meta applies at once
/// (a 400 that says what to change), then created at Meta; answers Meta's `{id, status,
/// category}` and the seq of the catalog relayed with it. Admins only.
pub async fn submit(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let draft: TemplateDraft = crate::json_body::parse(&body, r#"{"name", "language", "category", "body", "examples": [...], "header"?, "footer"?}"#)?;
    draft.check().map_err(ApiError::bad_request)?;
    crate::send::require_access_token(&state)?;
    let number = crate::send::known_number(&state, &id).await?;
    let reply = state.graph.create_template(&number.waba_id, &draft.to_graph(), &state.metrics).await.map_err(unreachable)?;
    if !reply.is_success() {
        return Ok(crate::send::meta_refusal(reply));
    }
    let created = reply.body;
    Ok(match relay_catalog(&state, number).await? {
        Ok((seq, _)) => Json(json!({"template": created, "seq": seq})).into_response(),
        // Created at Meta all the same: the next sync brings it.
        Err(_) => Json(json!({"template": created, "seq": null})).into_response(),
    })
}

/// Fetch the number's whole catalog and relay it: `Ok((seq, templates))`, or Meta's refusal as
/// the answer to give.
async fn relay_catalog(state: &AppState, number: NumberSettings) -> Result<Result<(i64, usize), Response>, ApiError> {
    let templates = match state.graph.templates(&number.waba_id, &state.metrics).await.map_err(unreachable)? {
        Ok(t) => t,
        Err(reply) => return Ok(Err(crate::send::meta_refusal(reply))),
    };
    let count = templates.len();
    let catalog = TemplateCatalog { phone_number_id: number.phone_number_id, waba_id: number.waba_id, templates };
    match state.writer.append(Append::Templates { catalog, received_at_ms: crate::now_ms() }).await? {
        Appended::Event { seq, .. } => Ok(Ok((seq, count))),
        other => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected storage result {other:?}"))),
    }
}

fn unreachable(e: crate::graph::Unreachable) -> ApiError {
    ApiError::new(StatusCode::GATEWAY_TIMEOUT, format!("{e}; try again later"))
}
