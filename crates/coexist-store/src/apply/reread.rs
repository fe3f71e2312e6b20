//! What an earlier version kept but could not read, read again by this one when the inbox opens:
//! messages it showed as unsupported (their JSON is kept for this) and the relay entries it could
//! not parse (problems, kept "for a later version"). A version that learns a message type, or no
//! longer crashes on an entry, then shows what the customer sent instead of leaving the old
//! placeholder in the thread for good.

use coexist_core::webhook::WebhookError;
use coexist_core::{ContactKey, ConversationKey, MessageBody, RelayEvent, RelayKind};
use rusqlite::{params, Connection};
use serde_json::Value;

use super::{pipeline, Batch, ConversationCache};
use crate::error::Result;

/// What one pass read that the version before could not.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Reread {
    pub messages: usize,
    pub entries: usize,
}

/// Read both again, in one batch.
pub(crate) fn reread_kept(conn: &Connection, cache: &mut ConversationCache) -> Result<Reread> {
    let messages = unsupported_messages(conn)?;
    let entries = problem_entries(conn)?;
    if messages.is_empty() && entries.is_empty() {
        return Ok(Reread::default());
    }
    let mut batch = Batch::new(conn, cache)?;
    let mut done = Reread::default();
    for kept in messages {
        if let Some(body) = body_now(&kept.raw) {
            batch.reread(&kept.wamid, &kept.conversation, &body)?;
            done.messages += 1;
        }
    }
    for ev in &entries {
        if apply_if_readable(&mut batch, ev)? {
            done.entries += 1;
        }
    }
    batch.finish()?;
    Ok(done)
}

struct KeptMessage {
    wamid: String,
    conversation: ConversationKey,
    raw: String,
}

const UNSUPPORTED_MESSAGES: &str = "SELECT m.wamid, c.phone_number_id, c.contact, m.raw
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.kind = 'unsupported' AND m.edited_at IS NULL AND m.revoked_at IS NULL
      AND json_valid(m.raw) AND json_extract(m.raw, '$.type') IS NOT 'unsupported'
    ORDER BY m.id";

const PROBLEM_ENTRIES: &str =
    "SELECT seq, kind, received_at_ms, payload FROM events WHERE parse_error IS NOT NULL AND kind IN (?1, ?2) ORDER BY seq";

/// Messages stored as unsupported with Meta's JSON kept, but not the ones Meta itself calls
/// `unsupported` (no version reads those: Meta did not send their content), nor edited or
/// revoked ones (their body is no longer the one the JSON holds).
fn unsupported_messages(conn: &Connection) -> Result<Vec<KeptMessage>> {
    let mut select = conn.prepare(UNSUPPORTED_MESSAGES)?;
    let rows = select.query_map([], |r| {
        Ok(KeptMessage {
            wamid: r.get(0)?,
            conversation: ConversationKey { phone_number_id: r.get(1)?, contact: ContactKey(r.get(2)?) },
            raw: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The body this version reads from a kept message, when it reads one. A reaction stays as it
/// was: it would belong in the reactions, not in the thread.
fn body_now(raw: &str) -> Option<MessageBody> {
    let raw: Value = serde_json::from_str(raw).ok()?;
    let kind = raw.get("type").and_then(Value::as_str).unwrap_or("unknown");
    let errors: Vec<WebhookError> = raw.get("errors").and_then(|e| serde_json::from_value(e.clone()).ok()).unwrap_or_default();
    let body = std::panic::catch_unwind(|| coexist_core::parse_body(kind, &raw, &errors)).ok()?;
    (!matches!(body, MessageBody::Unsupported { .. } | MessageBody::Reaction { .. })).then_some(body)
}

/// Problem entries of the kinds whose events do not depend on the order they are applied in
/// (messages and statuses: ordered by Meta's timestamps, deduplicated by wamid). A team entry
/// (an assignment, a label...) is "the last one applied wins": applied now, after later ones,
/// it would undo them, so it stays a problem.
fn problem_entries(conn: &Connection) -> Result<Vec<RelayEvent>> {
    let mut select = conn.prepare(PROBLEM_ENTRIES)?;
    let rows = select.query_map(params![RelayKind::Webhook.name(), RelayKind::Outbound.name()], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (seq, kind, received_at_ms, payload) = row?;
        let (Some(kind), Ok(payload)) = (RelayKind::from_name(&kind), serde_json::value::RawValue::from_string(payload)) else {
            continue;
        };
        entries.push(RelayEvent { seq, kind, received_at_ms, payload, unknown_kind: None });
    }
    Ok(entries)
}

/// Apply a problem entry this version parses; it is then no longer a problem.
fn apply_if_readable(batch: &mut Batch, ev: &RelayEvent) -> Result<bool> {
    let prepared = pipeline::prepare(ev);
    let Ok(events) = &prepared.parsed else { return Ok(false) };
    batch.seq = Some(ev.seq);
    batch.received_at_ms = Some(ev.received_at_ms);
    for event in events {
        batch.apply(event)?;
    }
    batch
        .conn
        .prepare_cached("UPDATE events SET parse_error = NULL, payload = ?2 WHERE seq = ?1")?
        .execute(params![ev.seq, prepared.payload.unwrap_or_default()])?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    /// Every open asks: it must cost an index lookup, not a scan of millions of messages.
    #[test]
    fn finding_what_to_read_again_uses_indexes() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::wamid_key::register(&conn).unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        let plan = |sql: &str| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let messages = plan(super::UNSUPPORTED_MESSAGES);
        assert!(messages.contains("USING INDEX messages_unsupported"), "{messages}");
        let entries = plan(&super::PROBLEM_ENTRIES.replace("?1", "'webhook'").replace("?2", "'outbound'"));
        assert!(entries.contains("USING INDEX events_problems"), "{entries}");
    }
}
