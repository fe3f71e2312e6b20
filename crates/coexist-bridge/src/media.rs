//! Files, through the bridge's token so desktops never hold it:
//! - `GET /v1/media/{media_id}`: a file a customer sent (photo, document, voice note ...),
//!   fetched from Meta. Anyone signed in may fetch.
//! - `POST /v1/numbers/{id}/media?filename=NAME`: a file an agent sends, uploaded to Meta for
//!   that number (the body is the file, its `Content-Type` the file's type). Meta's answer
//!   `{"id": MEDIA_ID}` is what the message then names. Agents and admins only.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

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

#[derive(Deserialize)]
pub struct UploadQuery {
    filename: Option<String>,
}

pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(phone_number_id): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_send()?;
    crate::send::require_access_token(&state)?;
    crate::send::known_number(&state, &phone_number_id).await?;
    let mime_type = file_type(&headers)?;
    if body.is_empty() {
        return Err(ApiError::bad_request("the file is empty; send its bytes as the request body"));
    }
    let file_name = query.filename.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "file".to_string());
    match state.graph.upload_media(&phone_number_id, &file_name, mime_type, body, &state.metrics).await {
        Ok(reply) => Ok(crate::send::meta_answer(reply)),
        Err(e) => Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, format!("{e}; nothing was sent, try again later"))),
    }
}

/// The file's type, from the request's `Content-Type` (Meta needs it, and checks it).
fn file_type(headers: &HeaderMap) -> Result<HeaderValue, ApiError> {
    let value = headers.get(header::CONTENT_TYPE).cloned().unwrap_or(HeaderValue::from_static(""));
    let text = value.to_str().unwrap_or_default();
    let well_formed = text.split_once('/').is_some_and(|(a, b)| !a.trim().is_empty() && !b.trim().is_empty());
    if !well_formed || text.starts_with("multipart/") {
        return Err(ApiError::bad_request(
            "send the file itself as the body, with its type as Content-Type (for example image/png or application/pdf)",
        ));
    }
    Ok(value)
}
