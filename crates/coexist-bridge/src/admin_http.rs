//! The `/v1` routes for people and numbers (admins), and what every role may read.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use coexist_core::NumberSettings;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{self, Caller, Role};
use crate::db::{Append, Appended, Quarantined, User};
use crate::error::ApiError;
use crate::numbers::NumberInput;
use crate::server::AppState;

/// `GET /v1/me`: who the token belongs to.
pub async fn me(caller: Caller) -> Json<Caller> {
    Json(caller)
}

/// `GET /v1/numbers` (any role) and `GET /v1/admin/numbers` (admins).
pub async fn numbers(State(state): State<AppState>, _caller: Caller) -> Result<Json<Vec<NumberSettings>>, ApiError> {
    Ok(Json(state.db.numbers().await?))
}

pub async fn admin_numbers(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<NumberSettings>>, ApiError> {
    caller.require_admin()?;
    Ok(Json(state.db.numbers().await?))
}

/// `POST /v1/admin/numbers`: add a number (201 with `{"number":..,"seq":..}`).
pub async fn add_number(State(state): State<AppState>, caller: Caller, body: axum::body::Bytes) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let input: NumberInput = parse(&body)?;
    let settings = input.into_settings().map_err(ApiError::bad_request)?;
    let seq = save_number(&state, settings.clone(), true).await?;
    Ok((StatusCode::CREATED, Json(json!({"number": settings, "seq": seq}))).into_response())
}

/// `PUT /v1/admin/numbers/{id}`: replace a number's settings.
pub async fn edit_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let mut value: Value = parse(&body)?;
    // The path names the number; a body without the id is fine, a different id is not.
    match value.get("phone_number_id") {
        None => {
            value["phone_number_id"] = Value::String(id.clone());
        }
        Some(v) if v.as_str() == Some(id.as_str()) => {}
        Some(_) => return Err(ApiError::bad_request("phone_number_id in the body differs from the one in the path")),
    }
    let input: NumberInput =
        serde_json::from_value(value).map_err(|e| ApiError::bad_request(format!("invalid number: {e}")))?;
    let settings = input.into_settings().map_err(ApiError::bad_request)?;
    let seq = save_number(&state, settings.clone(), false).await?;
    Ok(Json(json!({"number": settings, "seq": seq})))
}

async fn save_number(state: &AppState, settings: NumberSettings, create: bool) -> Result<i64, ApiError> {
    let item = Append::Number { settings, create, received_at_ms: crate::now_ms() };
    match state.writer.append(item).await? {
        Appended::Event { seq, .. } => Ok(seq),
        other => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected storage result {other:?}"))),
    }
}

#[derive(Deserialize)]
pub struct NewUser {
    name: String,
    role: Role,
}

/// `GET /v1/admin/users`.
pub async fn users(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<User>>, ApiError> {
    caller.require_admin()?;
    Ok(Json(state.db.users().await?))
}

/// `POST /v1/admin/users` `{"name","role"}` → 201 `{"name","role","token"}` (the token, once).
pub async fn add_user(State(state): State<AppState>, caller: Caller, body: axum::body::Bytes) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let new: NewUser = parse(&body)?;
    auth::validate_name(&new.name).map_err(ApiError::bad_request)?;
    let token = auth::new_token();
    state.db.add_user(&new.name, new.role, &auth::token_hash(&token)).await?;
    tracing::info!(name = %new.name, role = new.role.as_str(), by = %caller.name, "user added");
    Ok((StatusCode::CREATED, Json(json!({"name": new.name, "role": new.role, "token": token}))).into_response())
}

/// `DELETE /v1/admin/users/{name}`: revoke (204), 404 if unknown.
pub async fn revoke_user(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    if state.db.revoke_user(&name).await? {
        let handed_back = crate::team::hand_back(state.db.assignments().await?, &name, &caller.name, crate::now_ms());
        let conversations = handed_back.len();
        for item in handed_back {
            state.writer.append(item).await?;
        }
        tracing::info!(%name, by = %caller.name, conversations, "user revoked; their conversations are the team's again");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no user named {name:?}")))
    }
}

#[derive(Deserialize)]
pub struct Limit {
    limit: Option<usize>,
}

/// `GET /v1/admin/quarantine?limit=N`: signed webhooks that did not parse, newest first.
pub async fn quarantine(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<Limit>,
) -> Result<Json<Vec<Quarantined>>, ApiError> {
    caller.require_admin()?;
    Ok(Json(state.db.quarantined(q.limit.unwrap_or(100).clamp(1, 1000)).await?))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    crate::json_body::parse(body, "a JSON object as API.md shows")
}
