//! The outbox: messages an agent asked to send, kept on disk until Meta accepted them.
//!
//! Crash-safe by construction: an item is written (fully durable) before any send; a crash
//! while `sending` leaves it `sending`, and [`Store::outbox_ready`] hands it out again with
//! the same idempotency key, which the bridge deduplicates. When the relay later shows the
//! send (an Outbound entry, or a status whose `biz_opaque_callback_data` is the key), the item
//! is marked sent whatever state it was in (reconciliation, see `apply`).

use coexist_core::{ContactKey, ConversationKey, StatusKind};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::apply::now_ms;
use crate::error::{decode, Result, StoreError};
use crate::Store;

/// What the engine asks to send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewOutboxItem {
    /// Unique per intended message; enqueueing the same key twice returns the first item.
    pub idempotency_key: String,
    pub phone_number_id: String,
    /// The recipient as addressed (`to` of the Graph API call).
    pub to: String,
    /// The conversation's contact (usually the same digits as `to`).
    pub contact: ContactKey,
    /// The Graph API message JSON (`type`, `text`/`template`/...).
    pub message: Value,
    /// Set for bulk sends (campaigns), so they can be listed and paced together.
    pub campaign: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent.
    Queued,
    /// Handed to the sender (or left so by a crash: it will be retried).
    Sending,
    /// Meta accepted it (`wamid` is set).
    Sent,
    /// Refused; retried at `next_attempt_at_ms` when set, otherwise permanent until
    /// [`Store::outbox_retry`].
    Failed,
}

impl OutboxState {
    fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> OutboxState {
        match s {
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "failed" => OutboxState::Failed,
            _ => OutboxState::Queued,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub idempotency_key: String,
    pub conversation: ConversationKey,
    pub to: String,
    pub message: Value,
    /// One plain line describing the message (text body, template name, media type).
    pub preview: String,
    pub campaign: Option<String>,
    pub state: OutboxState,
    /// How many times it was handed to the sender.
    pub attempts: i64,
    pub wamid: Option<String>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    /// When a failed item may be retried (Unix ms); `None` for a permanent failure.
    pub next_attempt_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// Delivery status from Meta's status webhooks, once sent.
    pub delivery_status: Option<StatusKind>,
}

const ITEM_COLUMNS: &str = "SELECT o.idempotency_key, o.phone_number_id, o.contact, o.recipient, o.message, o.campaign,
        o.state, o.attempts, o.wamid, o.error_code, o.error_message, o.next_attempt_at_ms, o.created_at_ms,
        o.updated_at_ms, s.status
    FROM outbox o LEFT JOIN statuses s ON s.wamid_key = wamid_key(o.wamid) AND s.wamid = o.wamid";

fn item_from_row(row: &Row<'_>) -> rusqlite::Result<Result<OutboxItem>> {
    let message: String = row.get(4)?;
    let message = match decode("outbox message", &message) {
        Ok(m) => m,
        Err(e) => return Ok(Err(e)),
    };
    let state: String = row.get(6)?;
    let status: Option<String> = row.get(14)?;
    Ok(Ok(OutboxItem {
        idempotency_key: row.get(0)?,
        conversation: ConversationKey { phone_number_id: row.get(1)?, contact: ContactKey(row.get(2)?) },
        to: row.get(3)?,
        preview: message_preview(&message),
        message,
        campaign: row.get(5)?,
        state: OutboxState::parse(&state),
        attempts: row.get(7)?,
        wamid: row.get(8)?,
        error_code: row.get(9)?,
        error_message: row.get(10)?,
        next_attempt_at_ms: row.get(11)?,
        created_at_ms: row.get(12)?,
        updated_at_ms: row.get(13)?,
        delivery_status: status.and_then(|s| serde_json::from_value(Value::String(s)).ok()),
    }))
}

/// A plain line for a Graph API message JSON (customer-visible text: sanitized, truncated).
pub(crate) fn message_preview(message: &Value) -> String {
    let kind = message.get("type").and_then(Value::as_str).unwrap_or("message");
    let text = match kind {
        "text" => message.pointer("/text/body").and_then(Value::as_str).map(str::to_string),
        "template" => message.pointer("/template/name").and_then(Value::as_str).map(|n| format!("Template: {n}")),
        "interactive" => message.pointer("/interactive/body/text").and_then(Value::as_str).map(str::to_string),
        other => {
            let caption = message.pointer(&format!("/{other}/caption")).and_then(Value::as_str);
            Some(match caption {
                Some(c) => format!("{other}: {c}"),
                None => other.to_string(),
            })
        }
    };
    let text = text.unwrap_or_else(|| kind.to_string());
    crate::text::truncate(crate::text::sanitize(&text).trim(), crate::text::PREVIEW_CHARS)
}

fn get_item(conn: &Connection, key: &str) -> Result<Option<OutboxItem>> {
    let sql = format!("{ITEM_COLUMNS} WHERE o.idempotency_key = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_row([key], item_from_row).optional()?.transpose()
}

fn require_item(conn: &Connection, key: &str) -> Result<OutboxItem> {
    get_item(conn, key)?.ok_or_else(|| {
        StoreError::NotFound(format!("no outbox item with idempotency key {key:?}; it may never have been queued"))
    })
}

fn list(conn: &Connection, where_clause: &str, params: impl rusqlite::Params) -> Result<Vec<OutboxItem>> {
    let sql = format!("{ITEM_COLUMNS} {where_clause}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, item_from_row)?;
    rows.map(|r| r?).collect()
}

impl Store {
    /// Queue a message, durably. The same idempotency key twice returns the existing item
    /// unchanged (a double click or a retried command never sends twice).
    pub fn outbox_enqueue(&mut self, item: NewOutboxItem) -> Result<OutboxItem> {
        if item.idempotency_key.trim().is_empty() {
            return Err(StoreError::Invalid("an outbox item needs a non-empty idempotency key".into()));
        }
        self.durable_write(|conn| {
            let now = now_ms();
            let mut insert = conn.prepare_cached(
                "INSERT OR IGNORE INTO outbox (idempotency_key, phone_number_id, recipient, contact, message, campaign,
                     state, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7)",
            )?;
            insert.execute(params![
                item.idempotency_key,
                item.phone_number_id,
                item.to,
                item.contact.as_str(),
                item.message.to_string(),
                item.campaign,
                now
            ])?;
            require_item(conn, &item.idempotency_key)
        })
    }

    /// Items to send now (Unix ms clock): queued ones (whose `next_attempt_at_ms`, if any, has
    /// come), `sending` ones left by a crash, and failed ones whose retry time has come;
    /// oldest first.
    pub fn outbox_ready(&self, limit: u32) -> Result<Vec<OutboxItem>> {
        self.outbox_ready_at(limit, now_ms())
    }

    /// [`Store::outbox_ready`] at a given time (Unix ms), for tests and schedulers.
    pub fn outbox_ready_at(&self, limit: u32, now_ms: i64) -> Result<Vec<OutboxItem>> {
        list(
            &self.conn,
            "WHERE (o.state = 'queued' AND (o.next_attempt_at_ms IS NULL OR o.next_attempt_at_ms <= ?1))
                OR o.state = 'sending'
                OR (o.state = 'failed' AND o.next_attempt_at_ms IS NOT NULL AND o.next_attempt_at_ms <= ?1)
             ORDER BY o.id LIMIT ?2",
            params![now_ms, limit],
        )
    }

    /// One item by key.
    pub fn outbox_item(&self, key: &str) -> Result<Option<OutboxItem>> {
        get_item(&self.conn, key)
    }

    /// The sender took the item (counts an attempt). A sent item stays sent.
    pub fn outbox_mark_sending(&mut self, key: &str) -> Result<OutboxItem> {
        self.outbox_transition(
            key,
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at_ms = ?2
             WHERE idempotency_key = ?1 AND state <> 'sent'",
            params![key, now_ms()],
        )
    }

    /// Meta accepted the item as `wamid`.
    pub fn outbox_mark_sent(&mut self, key: &str, wamid: &str) -> Result<OutboxItem> {
        self.outbox_transition(
            key,
            "UPDATE outbox SET state = 'sent', wamid = ?2, error_code = NULL, error_message = NULL,
                 next_attempt_at_ms = NULL, updated_at_ms = ?3
             WHERE idempotency_key = ?1",
            params![key, wamid, now_ms()],
        )
    }

    /// The send failed with Meta's `code` (or none for network errors) and a message for the
    /// agent. `retry_at_ms` (Unix ms) schedules a retry; `None` makes it permanent until
    /// [`Store::outbox_retry`]. A sent item stays sent (the relay already confirmed it).
    pub fn outbox_mark_failed(&mut self, key: &str, code: Option<i64>, message: &str, retry_at_ms: Option<i64>) -> Result<OutboxItem> {
        self.outbox_transition(
            key,
            "UPDATE outbox SET state = 'failed', error_code = ?2, error_message = ?3, next_attempt_at_ms = ?4,
                 updated_at_ms = ?5
             WHERE idempotency_key = ?1 AND state <> 'sent'",
            params![key, code, message, retry_at_ms, now_ms()],
        )
    }

    /// A send that did not go out (bridge unreachable, rate limited): back to `queued`, not
    /// before `not_before_ms` (Unix ms; `None`: right away). Only a `sending` item moves; the
    /// key, attempts and wamid are kept, so the agent sees "queued", never a false failure.
    pub fn outbox_requeue(&mut self, key: &str, not_before_ms: Option<i64>) -> Result<OutboxItem> {
        self.outbox_transition(
            key,
            "UPDATE outbox SET state = 'queued', next_attempt_at_ms = ?2, updated_at_ms = ?3
             WHERE idempotency_key = ?1 AND state = 'sending'",
            params![key, not_before_ms, now_ms()],
        )
    }

    /// The agent asks to try a failed item again now.
    pub fn outbox_retry(&mut self, key: &str) -> Result<OutboxItem> {
        self.outbox_transition(
            key,
            "UPDATE outbox SET state = 'queued', next_attempt_at_ms = NULL, updated_at_ms = ?2
             WHERE idempotency_key = ?1 AND state = 'failed'",
            params![key, now_ms()],
        )
    }

    /// Items of a conversation not yet in its timeline (queued, sending, failed, or sent but
    /// not yet relayed back), oldest first: the UI shows them after the messages.
    pub fn outbox_for_conversation(&self, key: &ConversationKey) -> Result<Vec<OutboxItem>> {
        list(
            &self.conn,
            "WHERE o.phone_number_id = ?1 AND o.contact = ?2
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.wamid_key = wamid_key(o.wamid) AND m.wamid = o.wamid)
             ORDER BY o.id",
            params![key.phone_number_id, key.contact.as_str()],
        )
    }

    /// Items of a campaign, oldest first.
    pub fn outbox_for_campaign(&self, campaign: &str) -> Result<Vec<OutboxItem>> {
        list(&self.conn, "WHERE o.campaign = ?1 ORDER BY o.id", params![campaign])
    }

    fn outbox_transition(&mut self, key: &str, sql: &str, params: impl rusqlite::Params) -> Result<OutboxItem> {
        self.durable_write(|conn| {
            let changed = conn.prepare_cached(sql)?.execute(params)?;
            let item = require_item(conn, key)?;
            if changed == 0 {
                tracing::debug!(key, state = item.state.as_str(), "outbox transition did not apply");
            }
            Ok(item)
        })
    }
}
