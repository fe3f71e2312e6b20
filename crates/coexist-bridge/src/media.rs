//! `GET /v1/media/{media_id}`: a file a customer sent (photo, document, voice note ...), fetched
//! from Meta with the bridge's token, so desktops never hold it. Anyone signed in may fetch.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::server::AppState;

/// WhatsApp's largest file (a document) is 100 MB.
pub const MAX_MEDIA_BYTES: usize = 100 * 1024 * 1024;

pub async fn get(State(state): State<AppState>, _caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    crate::send::require_access_token(&state)?;
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::bad_request("a media id is Meta's numeric id, from the message's media object (`image.id`, `document.id`, ...)"));
    }
    match state.graph.media(&id, MAX_MEDIA_BYTES, &state.metrics).await {
        Ok(Ok(file)) => Ok((
            [(header::CONTENT_TYPE, file.mime_type), (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string())],
            file.bytes,
        )
            .into_response()),
        Ok(Err(reply)) => {
            let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
            Ok((status, Json(crate::send::with_explanation(reply.body))).into_response())
        }
        Err(e) => Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, format!("{e}; try again later"))),
    }
}
