//! The team's own changes to a conversation: who handles it, whether it is done, its labels, and
//! notes for each other; and, not stored, who is writing to the customer right now.
//! They are relayed to every desktop like Meta's webhooks (so all agents see the same, and a
//! desktop that was off catches up), and never reach Meta or the customer.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use coexist_core::{Assignment, DoneMark, LabelMark, Presence, RelayKind, TeamNote};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::{Caller, Role};
use crate::db::{Append, Appended};
use crate::error::ApiError;
use crate::server::AppState;

/// Presence notices an event stream may be behind by before it skips the oldest (they are
/// only worth anything for seconds).
pub const PRESENCE_BACKLOG: usize = 256;
/// How long "writing" lasts without another notice: a desktop sends one at most every 20 s
/// while its agent types.
pub const PRESENCE_FOR_MS: i64 = 25_000;

/// Longer than any phone number or business-scoped user id.
const MAX_CONTACT_LEN: usize = 64;
/// A note is for a few sentences; as long as a WhatsApp text.
pub const MAX_NOTE_CHARS: usize = 4096;

/// Someone a conversation can be assigned to.
#[derive(Debug, Serialize)]
pub struct Member {
    pub name: String,
    pub role: Role,
}

/// `GET /v1/team`: who can answer customers (agents and admins), for any role.
pub async fn members(State(state): State<AppState>, _caller: Caller) -> Result<Json<Vec<Member>>, ApiError> {
    let users = state.db.users().await?;
    Ok(Json(users.into_iter().filter(|u| u.role.can_send()).map(|u| Member { name: u.name, role: u.role }).collect()))
}

/// `PUT /v1/numbers/{id}/conversations/{contact}/assignee` with `{"assignee": NAME}` (or
/// `null` to hand the conversation back to the team). Agents and admins.
pub async fn assign(State(state): State<AppState>, caller: Caller, at: TeamConversation, body: Bytes) -> Result<Json<Value>, ApiError> {
    caller.require_send()?;
    let assignee = match assignee_in(&body)? {
        None => None,
        Some(name) => Some(teammate(&state, name).await?),
    };
    let TeamConversation { phone_number_id, contact } = at;
    let assignment = Assignment { phone_number_id, contact, assignee, by: caller.name, at_ms: crate::now_ms() };
    let seq = append(&state, RelayKind::Assignment, &assignment, assignment.at_ms).await?;
    Ok(Json(json!({"assignment": assignment, "seq": seq})))
}

/// `{"assignee": NAME}`, or `{"assignee": null}` to unassign: the key is required (a body that
/// forgot it must not hand a conversation back to the team).
fn assignee_in(body: &[u8]) -> Result<Option<String>, ApiError> {
    const HINT: &str = r#"{"assignee": "name"}, or {"assignee": null} to unassign"#;
    let wrong = |why: String| ApiError::bad_request(format!("send {HINT} ({why})"));
    let value: Value = crate::json_body::parse(body, HINT)?;
    match value.get("assignee") {
        Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => Ok(Some(name.trim().to_string())),
        Some(other) => Err(wrong(format!("assignee is {other}"))),
        None => Err(wrong("no assignee in the body".into())),
    }
}

/// `POST /v1/numbers/{id}/conversations/{contact}/presence`: the caller is writing to this
/// customer. Every open event stream gets it as `event: presence` (204; nothing stored).
pub async fn presence(State(state): State<AppState>, caller: Caller, at: TeamConversation) -> Result<StatusCode, ApiError> {
    caller.require_send()?;
    let TeamConversation { phone_number_id, contact } = at;
    let notice = Presence { phone_number_id, contact, agent: caller.name, until_ms: crate::now_ms() + PRESENCE_FOR_MS };
    // No stream open is not an error: nobody else is looking.
    let _ = state.presence.send(notice);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct DoneRequest {
    done: bool,
    #[serde(default)]
    until_ms: Option<i64>,
}

/// A snooze is for hours or days, not for ever: a year at most.
const MAX_SNOOZE_MS: i64 = 366 * 86_400_000;

/// `PUT /v1/numbers/{id}/conversations/{contact}/done` with `{"done": true}` (or `false` to take
/// it up again; `"until_ms"` snoozes it until then). Agents and admins. The customer writing
/// again opens it by itself.
pub async fn mark_done(State(state): State<AppState>, caller: Caller, at: TeamConversation, body: Bytes) -> Result<Json<Value>, ApiError> {
    caller.require_send()?;
    let request: DoneRequest = crate::json_body::parse(&body, r#"{"done": true}, or false to take the conversation up again"#)?;
    let at_ms = crate::now_ms();
    let until_ms = match request.until_ms {
        Some(_) if !request.done => return Err(ApiError::bad_request("until_ms snoozes a conversation: send it with \"done\": true")),
        Some(until) if until <= at_ms => return Err(ApiError::bad_request("until_ms is past; snooze until a later time")),
        Some(until) if until - at_ms > MAX_SNOOZE_MS => return Err(ApiError::bad_request("snooze for a year at most")),
        until => until,
    };
    let TeamConversation { phone_number_id, contact } = at;
    let mark = DoneMark { phone_number_id, contact, done: request.done, until_ms, by: caller.name, at_ms };
    let seq = append(&state, RelayKind::Done, &mark, mark.at_ms).await?;
    Ok(Json(json!({"done": mark, "seq": seq})))
}

#[derive(Deserialize)]
struct LabelRequest {
    label: String,
    on: bool,
}

/// `PUT /v1/numbers/{id}/conversations/{contact}/labels` with `{"label": "VIP", "on": true}` (or
/// `false` to take it off). Agents and admins. The label is kept as `coexist_core::label_name`
/// makes it (spaces trimmed); a name it refuses is a 400 that says why.
pub async fn label(State(state): State<AppState>, caller: Caller, at: TeamConversation, body: Bytes) -> Result<Json<Value>, ApiError> {
    caller.require_send()?;
    let request: LabelRequest = crate::json_body::parse(&body, r#"{"label": "VIP", "on": true}, or false to take it off"#)?;
    let label = coexist_core::label_name(&request.label).map_err(ApiError::bad_request)?;
    let TeamConversation { phone_number_id, contact } = at;
    let mark = LabelMark { phone_number_id, contact, label, on: request.on, by: caller.name, at_ms: crate::now_ms() };
    let seq = append(&state, RelayKind::Label, &mark, mark.at_ms).await?;
    Ok(Json(json!({"label": mark, "seq": seq})))
}

#[derive(Deserialize)]
struct NoteRequest {
    text: String,
}

/// `POST /v1/numbers/{id}/conversations/{contact}/notes` with `{"text": ...}`: 201. Any role
/// (managers leave notes for the agents too).
pub async fn add_note(State(state): State<AppState>, caller: Caller, at: TeamConversation, body: Bytes) -> Result<Response, ApiError> {
    let request: NoteRequest = crate::json_body::parse(&body, r#"{"text": "..."}, the note for the team"#)?;
    let text = trimmed_text(&request.text, "the note", "write something for the team", MAX_NOTE_CHARS).map_err(ApiError::bad_request)?;
    let TeamConversation { phone_number_id, contact } = at;
    let note = TeamNote { phone_number_id, contact, author: caller.name, text, at_ms: crate::now_ms() };
    let seq = append(&state, RelayKind::Note, &note, note.at_ms).await?;
    Ok((StatusCode::CREATED, Json(json!({"note": note, "seq": seq}))).into_response())
}

/// Team text as kept (a note, a quick reply): surrounding blank space trimmed; never empty
/// (`empty_hint` says what to write), at most `max` characters. `what` names it.
pub(crate) fn trimmed_text(text: &str, what: &str, empty_hint: &str, max: usize) -> Result<String, String> {
    let text = text.trim();
    match text.chars().count() {
        0 => Err(format!("{what} is empty; {empty_hint}")),
        n if n > max => Err(format!("{what} is {n} characters; keep it to {max}")),
        _ => Ok(text.to_string()),
    }
}

/// The conversation a team route names (`/numbers/{id}/conversations/{contact}/…`): a number of
/// this bridge, and a contact that looks like one (a conversation the bridge has never seen may
/// still be named: its customer may be about to write).
pub struct TeamConversation {
    pub(crate) phone_number_id: String,
    pub(crate) contact: String,
}

impl FromRequestParts<AppState> for TeamConversation {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path((phone_number_id, contact)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("the path names a number and a contact ({e})")))?;
        crate::send::known_number(state, &phone_number_id).await?;
        let contact = contact.trim().to_string();
        let plausible = !contact.is_empty()
            && contact.len() <= MAX_CONTACT_LEN
            && contact.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
        if !plausible {
            return Err(ApiError::bad_request("the conversation's contact must be the customer's WhatsApp id (digits) as the inbox shows it"));
        }
        Ok(TeamConversation { phone_number_id, contact })
    }
}

async fn teammate(state: &AppState, name: String) -> Result<String, ApiError> {
    let users = state.db.users().await?;
    match users.iter().find(|u| u.name == name) {
        Some(user) if user.role.can_send() => Ok(name),
        Some(user) => Err(ApiError::bad_request(format!("{name} is a {}: assign conversations to agents or admins", user.role.as_str()))),
        None => Err(ApiError::bad_request(format!("nobody named {name:?} is on this bridge; GET /v1/team lists who can be assigned"))),
    }
}

/// When `revoked` leaves the team, the conversations they still held go back to the whole team
/// (not left with someone who can no longer answer): one entry each, made `by` whoever revoked.
pub(crate) fn hand_back(assignments: Vec<Assignment>, revoked: &str, by: &str, at_ms: i64) -> Vec<Append> {
    let mut latest: std::collections::HashMap<(String, String), Option<String>> = std::collections::HashMap::new();
    for a in assignments {
        latest.insert((a.phone_number_id, a.contact), a.assignee);
    }
    let mut held: Vec<(String, String)> =
        latest.into_iter().filter(|(_, assignee)| assignee.as_deref() == Some(revoked)).map(|(key, _)| key).collect();
    held.sort();
    held.into_iter()
        .map(|(phone_number_id, contact)| {
            let back = Assignment { phone_number_id, contact, assignee: None, by: by.to_string(), at_ms };
            let payload = serde_json::to_value(back).expect("a record of plain fields serializes");
            Append::Team { kind: RelayKind::Assignment, payload, received_at_ms: at_ms }
        })
        .collect()
}

pub(crate) async fn append(state: &AppState, kind: RelayKind, record: &impl Serialize, at_ms: i64) -> Result<i64, ApiError> {
    let payload = serde_json::to_value(record).expect("a record of plain fields serializes");
    match state.writer.append(Append::Team { kind, payload, received_at_ms: at_ms }).await? {
        Appended::Event { seq, .. } => Ok(seq),
        other => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected storage result {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_trimmed_never_empty_and_bounded() {
        let note = |text: &str| trimmed_text(text, "the note", "write something for the team", MAX_NOTE_CHARS);
        assert_eq!(note("  call back at 5 \n").unwrap(), "call back at 5");
        assert_eq!(note(" \n\t").unwrap_err(), "the note is empty; write something for the team");
        assert!(note(&"é".repeat(MAX_NOTE_CHARS)).is_ok());
        assert_eq!(note(&"é".repeat(MAX_NOTE_CHARS + 1)).unwrap_err(), "the note is 4097 characters; keep it to 4096");
    }
}
