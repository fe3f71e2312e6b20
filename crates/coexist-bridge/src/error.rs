//! The bridge's own HTTP errors: `{"error":{"message":..,"type":"bridge"}}`, shaped like Meta's
//! error bodies so a client reads `error.message` the same way for both.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::db::DbError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            DbError::NotFound(m) => ApiError::not_found(m),
            DbError::Closed => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            other => {
                tracing::error!(error = %other, "storage error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{other}; the request was not stored, retry it"))
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": {"message": self.message, "type": "bridge"}}))).into_response()
    }
}
