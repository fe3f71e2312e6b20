//! The team's quick replies: saved answers an agent types as `/shortcut` in the composer (as in
//! the WhatsApp Business App). Each change is a relay entry, so every desktop has them, offline
//! too. Agents and admins keep them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use coexist_core::{QuickReply, RelayKind};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::server::AppState;

/// As long as the Business App allows.
pub const MAX_SHORTCUT_CHARS: usize = 24;
/// A quick reply is sent as a text: WhatsApp's limit.
pub const MAX_TEXT_CHARS: usize = 4096;

#[derive(Deserialize)]
struct SaveRequest {
    text: String,
}

/// `PUT /v1/quick-replies/{shortcut}` with `{"text": ...}`: add or replace it.
pub async fn save(State(state): State<AppState>, caller: Caller, Path(shortcut): Path<String>, body: Bytes) -> Result<Json<Value>, ApiError> {
    caller.require_send()?;
    let shortcut = shortcut_of(&shortcut).map_err(ApiError::bad_request)?;
    let request: SaveRequest = crate::json_body::parse(&body, r#"{"text": "..."}, the answer the shortcut stands for"#)?;
    let text = crate::team::trimmed_text(&request.text, "the quick reply", "write the answer it stands for", MAX_TEXT_CHARS)
        .map_err(ApiError::bad_request)?;
    record(&state, QuickReply { shortcut, text: Some(text), by: caller.name, at_ms: crate::now_ms() }).await
}

/// `DELETE /v1/quick-replies/{shortcut}`.
pub async fn remove(State(state): State<AppState>, caller: Caller, Path(shortcut): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require_send()?;
    let shortcut = shortcut_of(&shortcut).map_err(ApiError::bad_request)?;
    record(&state, QuickReply { shortcut, text: None, by: caller.name, at_ms: crate::now_ms() }).await
}

async fn record(state: &AppState, reply: QuickReply) -> Result<Json<Value>, ApiError> {
    let seq = crate::team::append(state, RelayKind::QuickReply, &reply, reply.at_ms).await?;
    Ok(Json(json!({"quick_reply": reply, "seq": seq})))
}

/// `/Thanks` and `thanks` are the same shortcut: lowercase, without the slash.
fn shortcut_of(raw: &str) -> Result<String, String> {
    let shortcut = raw.trim().trim_start_matches('/').to_lowercase();
    let valid = (1..=MAX_SHORTCUT_CHARS).contains(&shortcut.chars().count())
        && shortcut.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(shortcut)
    } else {
        Err(format!("a shortcut is 1 to {MAX_SHORTCUT_CHARS} letters, digits, - or _ (agents type it after / in the reply box)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortcut_is_one_short_word_however_it_is_typed() {
        assert_eq!(shortcut_of(" /Thanks ").unwrap(), "thanks");
        assert_eq!(shortcut_of("hours_2-weekend").unwrap(), "hours_2-weekend");
        assert_eq!(shortcut_of("horário").unwrap(), "horário", "agents write in their language");
        for bad in ["", "/", "two words", "<b>", &"x".repeat(25)] {
            assert!(shortcut_of(bad).is_err(), "{bad:?}");
        }
    }
}
