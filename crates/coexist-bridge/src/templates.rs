//! `POST /v1/numbers/{id}/templates/sync`: the WABA's whole template catalog as one
//! `Templates` event. Later `message_template_status_update` webhooks are relayed like any
//! webhook, so desktops keep the catalog current between syncs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use coexist_core::TemplateCatalog;
use serde_json::json;

use crate::auth::Caller;
use crate::db::{Append, Appended};
use crate::error::ApiError;
use crate::server::AppState;

pub async fn sync(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require_send()?;
    crate::send::require_access_token(&state)?;
    let number = state
        .db
        .number(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("number {id} is not on this bridge")))?;
    let templates = match state.graph.templates(&number.waba_id, &state.metrics).await {
        Ok(Ok(t)) => t,
        Ok(Err(reply)) => {
            let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
            return Ok((status, Json(crate::send::with_explanation(reply.body))).into_response());
        }
        Err(e) => return Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, format!("{e}; try the sync again later"))),
    };
    let count = templates.len();
    let catalog = TemplateCatalog { phone_number_id: number.phone_number_id, waba_id: number.waba_id, templates };
    match state.writer.append(Append::Templates { catalog, received_at_ms: crate::now_ms() }).await? {
        Appended::Event { seq, .. } => Ok(Json(json!({"seq": seq, "templates": count})).into_response()),
        other => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected storage result {other:?}"))),
    }
}
