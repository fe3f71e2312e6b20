//! Blocking a customer: `PUT /v1/numbers/{id}/conversations/{contact}/blocked` with
//! `{"blocked": true}` (or `false` to unblock); `GET /v1/numbers/{id}/blocked` lists them.
//! Unlike the team's other marks this one reaches Meta (its Block Users API): the customer can no
//! longer write to the number and nobody can message them. The bridge relays a `block` entry
//! only once Meta took it, so every desktop shows what Meta enforces.

use std::time::Duration;

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
/// Meta sends no webhook for a block made on the phone's Business App, so this is where the team
/// learns of one: the log is brought in line with Meta's list ([`outside_changes`]) and every
/// desktop's rows show what Meta enforces.
pub async fn list_blocked(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require_send()?;
    crate::send::require_access_token(&state)?;
    let number = crate::send::known_number(&state, &id).await?;
    let asked_at_ms = crate::now_ms();
    match state.graph.blocked_users(&number.phone_number_id, &state.metrics).await {
        Ok(Ok(blocked)) => {
            reconcile(&state, &number.phone_number_id, &blocked, asked_at_ms).await?;
            Ok(Json(json!({"phone_number_id": number.phone_number_id, "blocked": blocked})).into_response())
        }
        Ok(Err(reply)) => Ok(crate::send::meta_refusal(reply)),
        Err(e) => Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, format!("{e}; try again later"))),
    }
}

/// Bring the log's blocks on `number` in line with Meta's list, read at `asked_at_ms`.
async fn reconcile(state: &AppState, number: &str, blocked: &[String], asked_at_ms: i64) -> Result<(), ApiError> {
    let log = state.db.blocks().await?;
    for mark in outside_changes(number, &log, blocked, asked_at_ms) {
        crate::team::append(state, RelayKind::Block, &mark, mark.at_ms).await?;
    }
    Ok(())
}

/// Meta sends no webhook when a customer is blocked on the phone: without this, a block made
/// there would reach the desktops only when someone opened a block list. Every `every`, each
/// number's list is read and the log brought in line with it. Stops at shutdown.
pub fn check_periodically(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            tokio::select! {
                _ = check_every_number(&state) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    })
}

async fn check_every_number(state: &AppState) {
    let numbers = match state.db.numbers().await {
        Ok(numbers) => numbers,
        Err(e) => return tracing::warn!(error = %e, "block lists not checked: the numbers could not be read"),
    };
    for number in numbers {
        let id = &number.phone_number_id;
        let asked_at_ms = crate::now_ms();
        let outcome = match state.graph.blocked_users(id, &state.metrics).await {
            Ok(Ok(blocked)) => reconcile(state, id, &blocked, asked_at_ms).await.map_err(|e| e.message),
            Ok(Err(reply)) => Err(format!("Meta answered {}: {}", reply.status, reply.body)),
            Err(e) => Err(e.to_string()),
        };
        if let Err(why) = outcome {
            tracing::warn!(number = %id, error = %why, "block list not checked; trying again at the next check");
        }
    }
}

/// Who blocked (or unblocked) a customer when the change was not made through Coexist: on the
/// phone's Business App, or another tool. No user name holds a space, so it is never a teammate's.
pub const OUTSIDE_COEXIST: &str = "someone outside Coexist";

/// The marks that bring the log's blocks on `number` in line with Meta's list (`meta`, asked at
/// `asked_at_ms`): a customer Meta lists that the log has not blocked, and one the log has
/// blocked that Meta no longer lists. A customer whose last mark is as recent as the question is
/// left alone: a teammate's block or unblock may have crossed it.
fn outside_changes(number: &str, log: &[BlockMark], meta: &[String], asked_at_ms: i64) -> Vec<BlockMark> {
    let mut latest: std::collections::BTreeMap<&str, &BlockMark> = std::collections::BTreeMap::new();
    for mark in log.iter().filter(|m| m.phone_number_id == number) {
        latest.insert(&mark.contact, mark);
    }
    let listed: std::collections::BTreeSet<&str> = meta.iter().map(String::as_str).collect();
    let contacts: std::collections::BTreeSet<&str> = latest.keys().copied().chain(listed.iter().copied()).collect();
    contacts
        .into_iter()
        .filter(|contact| !matches!(latest.get(contact), Some(m) if m.at_ms >= asked_at_ms))
        .filter(|contact| latest.get(contact).is_some_and(|m| m.blocked) != listed.contains(contact))
        .map(|contact| BlockMark {
            phone_number_id: number.to_string(),
            contact: contact.to_string(),
            blocked: listed.contains(contact),
            by: OUTSIDE_COEXIST.to_string(),
            at_ms: crate::now_ms(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(contact: &str, blocked: bool, at_ms: i64) -> BlockMark {
        BlockMark { phone_number_id: "1".into(), contact: contact.into(), blocked, by: "ana".into(), at_ms }
    }

    #[test]
    fn the_log_follows_metas_list_for_changes_made_outside_coexist() {
        let log = vec![
            mark("111", true, 10),  // blocked by ana, still on Meta's list: nothing to do
            mark("222", true, 10),  // blocked by ana, unblocked on the phone since
            mark("333", true, 10),
            mark("333", false, 20), // blocked then unblocked by ana, blocked on the phone since
            mark("555", true, 99),  // ana blocked them as the list was being read: left alone
            BlockMark { phone_number_id: "other".into(), ..mark("666", true, 10) },
        ];
        let meta: Vec<String> = ["111", "333", "444"].map(String::from).to_vec();
        let changes = outside_changes("1", &log, &meta, 50);
        let got: Vec<(&str, bool, &str)> = changes.iter().map(|m| (m.contact.as_str(), m.blocked, m.by.as_str())).collect();
        assert_eq!(got, [("222", false, OUTSIDE_COEXIST), ("333", true, OUTSIDE_COEXIST), ("444", true, OUTSIDE_COEXIST)]);
        assert!(changes.iter().all(|m| m.phone_number_id == "1"));
        assert!(crate::auth::validate_name(OUTSIDE_COEXIST).is_err(), "never a teammate's name");
    }
}
