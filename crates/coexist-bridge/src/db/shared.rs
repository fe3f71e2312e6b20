//! What every backend does the same way once a row is read or before one is written: turning
//! columns into the trait's types, and the words of the conflicts they refuse. One copy, so
//! SQLite and Postgres cannot drift apart (the conformance suite checks what they return).

use coexist_core::{RelayEvent, RelayKind};
use serde_json::value::RawValue;
use serde_json::Value;

use super::{DbError, Quarantined, StoredSend, User};
use crate::auth::Role;

/// Bytes of each quarantined body shown in the admin listing: bodies can be MiBs each, so the
/// listing carries a prefix and the full size.
pub(crate) const QUARANTINE_PREVIEW: usize = 64 * 1024;

/// Migration 2 of both backends, the same SQL in each: the team's entries by kind (assignments on
/// a revoke, blocks when the block list is read), without a scan of the whole log. Webhooks,
/// nearly every row, stay out: intake pays nothing.
pub(crate) const TEAM_BY_KIND_INDEX: &str = "CREATE INDEX events_team_by_kind ON events(kind, seq) WHERE kind <> 'webhook';";

/// Migration 3 of both backends: webhooks are found again (a redelivery) by Meta's time
/// ([`coexist_core::webhook_time`]) and their hash, no longer by the hash alone. A hash is
/// random: each webhook of a batch landed on a page of `body_hash`'s index of its own, which the
/// commit wrote and synced (BENCHMARKS.md measures a bare handler with that one index beside
/// the bridge). Meta's times come nearly in order, so new keys land together at the end of this one.
/// Rows stored before keep their `body_hash`, still looked up when there are any
/// ([`HAS_HASHES_OF_OLD`]); new rows leave it NULL.
pub(crate) const WEBHOOKS_BY_META_TIME: &str = "
ALTER TABLE events ADD COLUMN meta_time BIGINT;
ALTER TABLE events ADD COLUMN digest TEXT;
CREATE UNIQUE INDEX events_webhooks_by_meta_time ON events(meta_time, digest) WHERE digest IS NOT NULL;
";

/// Whether the log holds webhooks stored before migration 3, found by `body_hash` alone. Read
/// once at open: rows written since never set it.
pub(crate) const HAS_HASHES_OF_OLD: &str = "SELECT EXISTS (SELECT 1 FROM events WHERE body_hash IS NOT NULL)";

/// A kind read back from the log: one this build wrote.
pub(crate) fn kind_from_str(s: &str) -> Result<RelayKind, DbError> {
    RelayKind::from_name(s).ok_or_else(|| DbError::Conflict(format!("unknown event kind {s:?} in the database")))
}

/// An `events` row. The payload is kept as the JSON text it was stored as (a webhook body exactly
/// as Meta sent it), not parsed.
pub(crate) fn event(seq: i64, kind: &str, received_at_ms: i64, payload: String) -> Result<RelayEvent, DbError> {
    Ok(RelayEvent {
        seq,
        kind: kind_from_str(kind)?,
        received_at_ms,
        payload: RawValue::from_string(payload)?,
        unknown_kind: None,
    })
}

/// A `users` row (`name`, `role`, `created_at_ms`).
pub(crate) fn user(name: String, role: &str, created_at_ms: i64) -> Result<User, DbError> {
    let role = role.parse::<Role>().map_err(DbError::Conflict)?;
    Ok(User { name, role, created_at_ms })
}

/// A `sends` row's answer, as the first request with its idempotency key got it.
pub(crate) fn stored_send(
    phone_number_id: String,
    request_hash: String,
    status: u16,
    answer: &str,
) -> Result<StoredSend, DbError> {
    Ok(StoredSend { phone_number_id, request_hash, status, answer: serde_json::from_str(answer)? })
}

/// A `quarantine` row read with a prefix of its body (`prefix`) and the body's full `size`.
pub(crate) fn quarantined(
    id: i64,
    received_at_ms: i64,
    reason: String,
    body_hash: String,
    prefix: &[u8],
    size: i64,
) -> Quarantined {
    let size = usize::try_from(size).unwrap_or(0);
    Quarantined {
        id,
        received_at_ms,
        reason,
        body_hash,
        size,
        truncated: size > prefix.len(),
        body: String::from_utf8_lossy(prefix).into_owned(),
    }
}

/// Payloads of one kind read as its type, oldest first. Entries that do not read are skipped: the
/// desktops list them as problems, and one bad entry must not hide every other one.
pub(crate) fn readable<T: serde::de::DeserializeOwned>(payloads: &[String]) -> Vec<T> {
    payloads.iter().filter_map(|p| serde_json::from_str(p).ok()).collect()
}

/// An accepted send's answer carries the seq of its `Outbound` event, so the agent's desktop can
/// tell its own message when it comes back through the relay.
pub(crate) fn answer_with_seq(answer: &mut Value, seq: i64) {
    if let Value::Object(map) = answer {
        map.insert("seq".into(), Value::from(seq));
    }
}

pub(crate) fn user_exists(name: &str) -> DbError {
    DbError::Conflict(format!("a user named {name:?} already exists; revoke them first or pick another name"))
}

/// Adding (`create`) a number that exists, or replacing one that does not, is refused with what
/// to do instead.
pub(crate) fn check_number(phone_number_id: &str, create: bool, exists: bool) -> Result<(), DbError> {
    if create && exists {
        return Err(DbError::Conflict(format!(
            "number {phone_number_id} already exists; edit it with PUT /v1/admin/numbers/{phone_number_id}"
        )));
    }
    if !create && !exists {
        return Err(DbError::NotFound(format!(
            "no number {phone_number_id}; add it first with POST /v1/admin/numbers"
        )));
    }
    Ok(())
}
