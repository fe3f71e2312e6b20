//! Delivery statuses, folded per wamid with the core rules (forward only, failed terminal).

use coexist_core::rules::{closes_window, fold_status, MessageStatus};
use coexist_core::{Event, StatusKind, StatusUpdate};
use rusqlite::{params, OptionalExtension};

use super::messages::now_ms;
use super::{Batch, FailedMessage, StatusChange};
use crate::error::{decode, Result};
use crate::views::status_name;
use crate::wamid_key::wamid_key;

/// Meta's error code for a payment problem on the WABA (no valid payment method, ...).
pub const PAYMENT_ERROR: i64 = 131042;

impl Batch<'_> {
    pub(super) fn status(&mut self, event: &Event, s: &StatusUpdate) -> Result<()> {
        let key = wamid_key(&s.wamid);
        let current = self.load_status(key, &s.wamid)?;
        let was_failed = current.as_ref().is_some_and(MessageStatus::is_failed);
        let before = current.clone();
        let folded = fold_status(current, s);
        if before.as_ref() != Some(&folded) {
            self.save_status(key, s, &folded, before.is_some())?;
            self.timeline_touched(&s.conversation);
        }
        if let (Some(now), true) = (folded.status, before.as_ref().and_then(|b| b.status) != folded.status) {
            self.report.statuses.push(StatusChange {
                wamid: s.wamid.clone(),
                conversation: s.conversation.clone(),
                status: now,
                idempotency_key: s.biz_opaque_callback_data.clone(),
                error: folded.errors.first().cloned(),
            });
        }
        if folded.is_failed() && !was_failed {
            self.report.failed.push(FailedMessage {
                wamid: s.wamid.clone(),
                conversation: s.conversation.clone(),
                error_code: folded.errors.first().map(|e| e.code),
            });
        }
        if s.status == StatusKind::Failed && s.errors.iter().any(|e| e.code == PAYMENT_ERROR) {
            self.payment_failure(s)?;
        }
        if closes_window(s) {
            let conv = self.conversations.get(self.conn, &s.conversation)?;
            if conv.state.apply(event) {
                conv.dirty = true;
            }
        }
        if let Some(key) = s.biz_opaque_callback_data.as_deref() {
            self.link_outbox(key, &s.wamid)?;
        }
        Ok(())
    }

    fn load_status(&self, key: i64, wamid: &str) -> Result<Option<MessageStatus>> {
        let mut select = self.conn.prepare_cached("SELECT state FROM statuses WHERE wamid_key = ?1 AND wamid = ?2")?;
        let json: Option<String> = select.query_row(params![key, wamid], |r| r.get(0)).optional()?;
        json.map(|j| decode("message status", &j)).transpose()
    }

    /// Write the folded status: the stored row updated when there is one (`stored`), else a
    /// new row. Details a later status leaves out (callback data, pricing) are kept.
    fn save_status(&self, key: i64, s: &StatusUpdate, state: &MessageStatus, stored: bool) -> Result<()> {
        let sql = if stored {
            "UPDATE statuses SET status = ?4, state = ?5, error_code = ?6, error_title = ?7, error_message = ?8,
                 error_details = ?9, callback_data = coalesce(?10, callback_data),
                 conversation_info = coalesce(?11, conversation_info), pricing = coalesce(?12, pricing),
                 updated_ts = max(?13, updated_ts)
             WHERE wamid_key = ?14 AND wamid = ?1"
        } else {
            "INSERT INTO statuses (wamid, phone_number_id, contact, status, state, error_code, error_title, error_message,
                 error_details, callback_data, conversation_info, pricing, updated_ts, wamid_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        };
        let error = state.errors.first();
        let current = state.status.unwrap_or(s.status);
        self.conn.prepare_cached(sql)?.execute(params![
            s.wamid,
            s.conversation.phone_number_id,
            s.conversation.contact.as_str(),
            status_name(current),
            serde_json::to_string(state).expect("MessageStatus serializes"),
            error.map(|e| e.code),
            error.and_then(|e| e.title.clone()),
            error.and_then(|e| e.message.clone()),
            error.and_then(|e| e.details.clone()),
            s.biz_opaque_callback_data,
            s.conversation_info.as_ref().map(|v| v.to_string()),
            s.pricing.as_ref().map(|v| v.to_string()),
            s.timestamp,
            key
        ])?;
        Ok(())
    }

    fn payment_failure(&mut self, s: &StatusUpdate) -> Result<()> {
        let details = s.errors.iter().find(|e| e.code == PAYMENT_ERROR).and_then(|e| e.details.clone().or(e.message.clone()));
        let mut insert = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO payment_failures (wamid, phone_number_id, contact, ts, details) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        insert.execute(params![
            s.wamid,
            s.conversation.phone_number_id,
            s.conversation.contact.as_str(),
            s.timestamp,
            details
        ])?;
        let pnid = s.conversation.phone_number_id.clone();
        self.touch_number(&pnid);
        Ok(())
    }

    /// A status carrying our idempotency key (`biz_opaque_callback_data`) proves Meta accepted
    /// the outbox item: link its wamid and mark it sent (covers a crash between send and mark).
    fn link_outbox(&mut self, key: &str, wamid: &str) -> Result<()> {
        let mut update = self.conn.prepare_cached(
            "UPDATE outbox SET state = 'sent', wamid = ?2, error_code = NULL, error_message = NULL,
                 next_attempt_at_ms = NULL, updated_at_ms = ?3
             WHERE idempotency_key = ?1 AND (state <> 'sent' OR wamid IS NULL)",
        )?;
        if update.execute(params![key, wamid, now_ms()])? > 0 {
            self.report.outbox_reconciled.push(key.to_string());
        }
        Ok(())
    }
}
